package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangedl/rangedl/bench/nginx"
)

// TestSmoke runs both scenarios end to end at toy sizes on loopback: 20
// files from nginx with every installed tool, and 2000 URLs from the test
// server. It takes a few seconds, mostly building rangedl.
func TestSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds rangedl and runs downloads")
	}
	bin := filepath.Join(t.TempDir(), "rangedl")
	if out, err := exec.Command("go", "build", "-o", bin, rangedlPkg).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	t.Run("files", func(t *testing.T) {
		if _, err := nginx.Binary(); err != nil {
			t.Skip(err)
		}
		md, log, code := runHarness(t, "-files", "20", "-rounds", "1", "-rangedl", bin)
		if code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", code, log, md)
		}
		for _, name := range []string{"rangedl", "wget2", "curl", "aria2c"} {
			_, err := exec.LookPath(name)
			want := "| " + name + " | 1/1 | "
			if name != "rangedl" && err != nil {
				want = "| " + name + " | absent |"
			}
			if !strings.Contains(md, want) {
				t.Errorf("report lacks %q:\n%s", want, md)
			}
		}
	})

	t.Run("files-wrong", func(t *testing.T) {
		if _, err := nginx.Binary(); err != nil {
			t.Skip(err)
		}
		// A "downloader" that exits 0 and saves nothing must fail, never count.
		fake := filepath.Join(t.TempDir(), "fake")
		if err := os.WriteFile(fake, []byte("#!/bin/sh\nexit 0\n"), 0o755); err != nil {
			t.Fatal(err)
		}
		md, log, code := runHarness(t, "-files", "20", "-rounds", "1", "-tools", "rangedl", "-rangedl", fake)
		if code != exitFail {
			t.Errorf("exit %d; want %d\n%s", code, exitFail, log)
		}
		for _, want := range []string{"| rangedl | 0/1 | – |", "FAILED: 20 missing (f00000, f00001, f00002, …)"} {
			if !strings.Contains(md, want) {
				t.Errorf("report lacks %q:\n%s", want, md)
			}
		}
	})

	t.Run("million", func(t *testing.T) {
		out := filepath.Join(t.TempDir(), "r", "million.md")
		md, log, code := runHarness(t, "-million", "-murls", "2000", "-rangedl", bin, "-out", out)
		if code != exitOK {
			t.Fatalf("exit %d\n%s\n%s", code, log, md)
		}
		for _, want := range []string{"| result | ok |", "| \"saved\" lines | 2000 of 2000 |", "| files on disk | 2000 of 2000 |",
			"| content checked (SHA-256) | 4 files", "| missing, unexpected or wrong files | none |"} {
			if !strings.Contains(md, want) {
				t.Errorf("report lacks %q:\n%s", want, md)
			}
		}
		if b, err := os.ReadFile(out); err != nil || string(b) != md {
			t.Errorf("-out: got %d bytes, %v; want the report", len(b), err)
		}
	})
}

// runHarness runs the command with args in a fresh work directory and
// returns the report, the log and the exit code.
func runHarness(t *testing.T, args ...string) (md, log string, code int) {
	t.Helper()
	work := t.TempDir()
	var stdout, stderr bytes.Buffer
	code = run(context.Background(), append([]string{"batchbench", "-work", work}, args...), &stdout, &stderr)
	if left, _ := os.ReadDir(work); len(left) != 0 {
		t.Errorf("left %d entries in the work directory", len(left))
	}
	return stdout.String(), stderr.String(), code
}
