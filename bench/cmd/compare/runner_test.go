package main

import (
	"crypto/sha256"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/internal/harness"
	"github.com/rangedl/rangedl/bench/internal/measure"
)

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

// buildSpawn builds internal/spawn (measure.SpawnPkg) once for the tests that run tools.
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
		spawnErr = harness.GoBuild(t.Context(), spawnBin, measure.SpawnPkg)
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
