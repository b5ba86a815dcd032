package main

import (
	"runtime"
	"testing"
	"time"
)

func TestParseSpawnReport(t *testing.T) {
	u, err := parseSpawnReport("1500000000 400000000 100000000 2048 0\n")
	if err != nil {
		t.Fatal(err)
	}
	wantRSS := int64(2048) << 10
	if runtime.GOOS == "darwin" {
		wantRSS = 2048
	}
	if u.wall != 1500*time.Millisecond || u.cpu != 500*time.Millisecond || u.maxRSS != wantRSS || u.status != 0 {
		t.Errorf("got %+v; want 1.5s wall, 0.5s CPU, %d bytes, status 0", u, wantRSS)
	}
	if u, err := parseSpawnReport("1 2 3 4 -9"); err != nil || u.status != -9 {
		t.Errorf("signal: got %+v, %v; want status -9", u, err)
	}
	for _, bad := range []string{"", "1 2 3 4", "1 2 3 4 5 6", "a b c d e", "exec-error: /x: no such file"} {
		if _, err := parseSpawnReport(bad); err == nil {
			t.Errorf("parseSpawnReport(%q): got no error", bad)
		}
	}
	if _, err := parseSpawnReport("exec-error: /x: no such file"); err == nil || err.Error() != "/x: no such file" {
		t.Errorf("exec-error: got %v; want the message", err)
	}
}

func TestStatusString(t *testing.T) {
	if got := statusString(3); got != "exit status 3" {
		t.Errorf("got %q", got)
	}
	if got := statusString(-9); got != "killed by signal 9" {
		t.Errorf("got %q", got)
	}
}

func TestParseProcStatus(t *testing.T) {
	status := "Name:\trangedl\nVmPeak:\t 1300000 kB\nVmHWM:\t   20480 kB\nVmRSS:\t   10240 kB\nThreads:\t5\n"
	rss, hwm, ok := parseProcStatus(status)
	if !ok || rss != 10<<20 || hwm != 20<<20 {
		t.Errorf("got %d, %d, %v; want %d, %d, true", rss, hwm, ok, 10<<20, 20<<20)
	}
	// A zombie's status has no Vm lines.
	if _, _, ok := parseProcStatus("Name:\trangedl\nState:\tZ (zombie)\n"); ok {
		t.Errorf("zombie: got ok; want not ok")
	}
}

func TestTailWriter(t *testing.T) {
	var w tailWriter
	w.Write([]byte("first\nsecond line\n\n"))
	if got := w.lastLine(); got != "second line" {
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
}
