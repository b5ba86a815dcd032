package measure

import (
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestParseReport(t *testing.T) {
	tests := []struct {
		line    string
		want    Usage
		wantErr string
	}{
		{"1500000000 200000000 300000000 4096 0\n", Usage{Wall: 1500 * time.Millisecond, CPU: 500 * time.Millisecond, MaxRSS: rssBytes(4096)}, ""},
		{"1500000000 400000000 100000000 2048 0\n", Usage{Wall: 1500 * time.Millisecond, CPU: 500 * time.Millisecond, MaxRSS: rssBytes(2048)}, ""},
		{"1 0 0 1 3", Usage{Wall: 1, MaxRSS: rssBytes(1), Status: 3}, ""},
		{"1 0 0 1 -9", Usage{Wall: 1, MaxRSS: rssBytes(1), Status: -9}, ""},
		{"1 2 3 4 -9", Usage{Wall: 1, CPU: 5, MaxRSS: rssBytes(4), Status: -9}, ""},
		{"exec-error: /x: no such file or directory\n", Usage{}, "/x: no such file or directory"},
		{"", Usage{}, "no measurement from spawn"},
		{"1 2 3", Usage{}, "no measurement from spawn"},
		{"1 2 3 4", Usage{}, "no measurement from spawn"},
		{"1 2 3 4 5 6", Usage{}, "no measurement from spawn"},
		{"a b c d e", Usage{}, "no measurement from spawn"},
	}
	for _, tt := range tests {
		got, err := parseReport(tt.line)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseReport(%q): got error %v; want one containing %q", tt.line, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("parseReport(%q): got %+v, %v; want %+v", tt.line, got, err, tt.want)
		}
	}
	// The exec-error message is passed on as it is.
	if _, err := parseReport("exec-error: /x: no such file"); err == nil || err.Error() != "/x: no such file" {
		t.Errorf("exec-error: got %v; want the message", err)
	}
}

func TestRSSBytes(t *testing.T) {
	want := int64(2048) << 10
	if runtime.GOOS == "darwin" {
		want = 2048
	}
	if got := rssBytes(2048); got != want {
		t.Errorf("rssBytes(2048): got %d; want %d", got, want)
	}
}

func TestStatusString(t *testing.T) {
	if got := StatusString(3); got != "exit status 3" {
		t.Errorf("got %q", got)
	}
	if got := StatusString(-9); got != "killed by signal 9" {
		t.Errorf("got %q", got)
	}
}

func TestCleanEnv(t *testing.T) {
	t.Setenv("http_proxy", "http://proxy:3128")
	t.Setenv("CURL_HOME", "/somewhere")
	env := strings.Join(CleanEnv("/run/1"), "\n")
	if strings.Contains(env, "proxy") || strings.Contains(env, "CURL_HOME") {
		t.Errorf("CleanEnv passes the caller's variables on:\n%s", env)
	}
	if !strings.Contains(env, "HOME=/run/1") {
		t.Errorf("CleanEnv: HOME is not the run directory:\n%s", env)
	}
}

func TestTailWriter(t *testing.T) {
	var w TailWriter
	if got := w.LastLine(); got != "" {
		t.Errorf("nothing written: got %q; want \"\"", got)
	}
	w.Write([]byte("first\nsecond line\n\n"))
	if got := w.LastLine(); got != "second line" {
		t.Errorf("got %q; want %q", got, "second line")
	}
	big := make([]byte, 3*tailSize)
	for i := range big {
		big[i] = 'x'
	}
	w.Write(big)
	if len(w.b) != tailSize {
		t.Errorf("kept %d bytes; want %d", len(w.b), tailSize)
	}
	// Not shortened: the harnesses clip it themselves.
	if got := w.LastLine(); len(got) != tailSize {
		t.Errorf("LastLine: got %d bytes; want all %d", len(got), tailSize)
	}
}
