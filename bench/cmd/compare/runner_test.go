package main

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestParseReport(t *testing.T) {
	tests := []struct {
		line    string
		want    spawnReport
		wantErr string
	}{
		{"1500000000 200000000 300000000 4096 0\n", spawnReport{wall: 1500 * time.Millisecond, cpu: 500 * time.Millisecond, maxRSS: rssBytes(4096)}, ""},
		{"1 0 0 1 3", spawnReport{wall: 1, maxRSS: rssBytes(1), status: 3}, ""},
		{"1 0 0 1 -9", spawnReport{wall: 1, maxRSS: rssBytes(1), status: -9}, ""},
		{"exec-error: /x: no such file or directory\n", spawnReport{}, "/x: no such file or directory"},
		{"", spawnReport{}, "no measurement from spawn"},
		{"1 2 3", spawnReport{}, "no measurement from spawn"},
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
}

func TestVerify(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte("hello"), 0o644)
	sum := sha256.Sum256([]byte("hello"))
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("hellO"), 0o644)

	tests := []struct {
		name, path string
		size       int64
		wantErr    string
	}{
		{"ok", good, 5, ""},
		{"short", good, 6, "output has 5 bytes, want 6"},
		{"wrong bytes", bad, 5, "SHA-256 mismatch"},
		{"missing", filepath.Join(dir, "none"), 5, "no output file"},
	}
	for _, tt := range tests {
		err := verify(tt.path, tt.size, sum)
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.wantErr {
			t.Errorf("%s: verify: got %q; want %q", tt.name, got, tt.wantErr)
		}
	}
}

var (
	spawnOnce sync.Once
	spawnBin  string
	spawnErr  error
)

// buildSpawn builds internal/spawn once for the tests that run tools.
func buildSpawn(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command to build internal/spawn")
	}
	spawnOnce.Do(func() {
		dir, err := os.MkdirTemp("", "compare-test-")
		if err != nil {
			spawnErr = err
			return
		}
		spawnBin = filepath.Join(dir, "spawn")
		spawnErr = goBuild(t.Context(), spawnBin, spawnPkg)
	})
	if spawnErr != nil {
		t.Fatal(spawnErr)
	}
	return spawnBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if spawnBin != "" {
		os.RemoveAll(filepath.Dir(spawnBin))
	}
	os.Exit(code)
}

// shTool is a "downloader" that runs a shell script in its directory.
func shTool(script string) installed {
	return installed{
		tool: tool{name: "sh", args: func(int, string, string, string, string) []string { return []string{"-c", script} }},
		path: "/bin/sh",
	}
}

func TestRunOne(t *testing.T) {
	spawn := buildSpawn(t)
	sum := sha256.Sum256([]byte("hello"))
	tests := []struct {
		name     string
		script   string
		timeout  time.Duration
		wantFail string // "" for a successful run
	}{
		{"ok", "printf hello > out.bin", 10 * time.Second, ""},
		{"wrong bytes", "printf hellO > out.bin", 10 * time.Second, "SHA-256 mismatch"},
		{"no file", "true", 10 * time.Second, "no output file"},
		{"exit status", "printf hello > out.bin; echo 'oops: it broke' >&2; exit 3", 10 * time.Second, "exit status 3: oops: it broke"},
		{"signal", "kill -9 $$", 10 * time.Second, "killed by signal 9"},
		// sleep is the shell's child: only killing the process group
		// ends the run at the timeout.
		{"timeout", "sleep 30; printf hello > out.bin", 300 * time.Millisecond, "timeout after 300ms"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := job{
				tool:    shTool(tt.script),
				dir:     filepath.Join(t.TempDir(), "run"),
				size:    5,
				sum:     sum,
				timeout: tt.timeout,
			}
			start := time.Now()
			r := runOne(t.Context(), spawn, j)
			if r.fail != tt.wantFail {
				t.Errorf("fail: got %q; want %q", r.fail, tt.wantFail)
			}
			if d := time.Since(start); d > tt.timeout+time.Second {
				t.Errorf("runOne took %v; want at most the timeout %v plus 1s", d, tt.timeout)
			}
			if _, err := os.Stat(j.dir); !os.IsNotExist(err) {
				t.Errorf("run directory after the run: got %v; want it removed", err)
			}
			if tt.wantFail == "" && (r.wall <= 0 || r.maxRSS <= 0) {
				t.Errorf("measurement: got wall %v, RSS %d; want both positive", r.wall, r.maxRSS)
			}
		})
	}
}

func TestCleanEnv(t *testing.T) {
	t.Setenv("http_proxy", "http://proxy:3128")
	t.Setenv("CURL_HOME", "/somewhere")
	env := strings.Join(cleanEnv("/run/1"), "\n")
	if strings.Contains(env, "proxy") || strings.Contains(env, "CURL_HOME") {
		t.Errorf("cleanEnv passes the caller's variables on:\n%s", env)
	}
	if !strings.Contains(env, "HOME=/run/1") {
		t.Errorf("cleanEnv: HOME is not the run directory:\n%s", env)
	}
}
