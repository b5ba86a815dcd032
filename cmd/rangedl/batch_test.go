package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"

	"github.com/rangedl/rangedl/bench/server"
)

func TestListReader(t *testing.T) {
	in := "# comment\n\nhttp://a/1\thttp://b/1\n  out=x\n\tdir=d\n" +
		"http://a/2\n  checksum=sha-256=" + strings.Repeat("AB", 32) + "\n" +
		"  bogus=1\nhttp://a/3"
	r := newListReader(strings.NewReader(in))
	e, err := r.next()
	if err != nil || e.line != 3 || strings.Join(e.urls, " ") != "http://a/1 http://b/1" || e.out != "x" || e.dir != "d" {
		t.Fatalf("entry 1: %+v, %v", e, err)
	}
	if _, err := r.next(); err == nil || err.Error() != `line 8: unknown option "bogus" (known: out, dir, checksum)` {
		t.Fatalf("entry 2: got %v; want the unknown option named with its line", err)
	}
	e, err = r.next()
	if err != nil || e.line != 9 || e.urls[0] != "http://a/3" {
		t.Fatalf("entry 3 (no newline at the end): %+v, %v", e, err)
	}
	if _, err := r.next(); err.Error() != "EOF" {
		t.Fatalf("after the last: %v; want EOF", err)
	}
}

// TestBatch runs a list through rangedl: small files, a redirect, a mirror that works after
// one that refuses, a checksum that matches and one that does not, a name used twice, a 404
// and a host that refuses connections. Every saved file is checked by SHA-256, every failure
// is reported, --failed lists exactly the failures, and the exit code is the first failure's.
func TestBatch(t *testing.T) {
	s := startServer(t, server.Config{Seed: 71})
	moved := startServer(t, server.Config{Faults: []server.Fault{{Kind: server.Redirect, Target: s.URL("/3K.txt")}}})
	var list strings.Builder
	const n = 150
	for i := range n {
		fmt.Fprintf(&list, "%s\n  out=f%03d\n", s.URL(fmt.Sprintf("/%d", 1000+i)), i)
	}
	good := fmt.Sprintf("%x", server.Sum(71, 2048))
	fmt.Fprintf(&list, "# special cases\n")
	fmt.Fprintf(&list, "%s\n  dir=sub\n", moved.URL("/x/moved.txt"))
	fmt.Fprintf(&list, "http://127.0.0.1:1/a.bin\t%s\n  out=mirrored\n", s.URL("/5K"))
	fmt.Fprintf(&list, "%s\n  out=checked\n  checksum=sha-256=%s\n", s.URL("/2K"), good)
	fmt.Fprintf(&list, "%s\n  out=corrupt\n  checksum=sha-256=%s\n", s.URL("/2K"), strings.Repeat("0", 64))
	fmt.Fprintf(&list, "%s\n  out=f000\n", s.URL("/7K"))
	fmt.Fprintf(&list, "%s\n", s.URL("/nothing-here"))
	fmt.Fprintf(&list, "http://127.0.0.1:1/refused.bin\n")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "list"), []byte(list.String()), 0o666)

	r := runIn(t, dir, plainBinary, "-i", "list", "-d", "out", "--failed", "failed.txt", "-n", "2")
	if r.code != exitIntegrity {
		t.Errorf("exit %d; want %d (the first failure: the checksum)", r.code, exitIntegrity)
	}
	for i := range n {
		checkFile(t, filepath.Join(dir, "out", fmt.Sprintf("f%03d", i)), 71, int64(1000+i))
	}
	checkFile(t, filepath.Join(dir, "out", "sub", "moved.txt"), 71, 3<<10)
	checkFile(t, filepath.Join(dir, "out", "mirrored"), 71, 5<<10)
	checkFile(t, filepath.Join(dir, "out", "checked"), 71, 2<<10)
	if _, err := os.Stat(filepath.Join(dir, "out", "corrupt")); err == nil {
		t.Error("the file with the wrong checksum was kept")
	}
	for _, want := range []string{
		`rangedl: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n`,
		`rangedl: out/corrupt: checksum mismatch: got sha-256=` + good + `, want sha-256=0{64}; the file was removed\n`,
		`rangedl: out/f000 already exists; use -c to continue it, --overwrite to replace it, or -o to choose another name\n`,
		`rangedl: HTTP 404 Not Found from http://127\.0\.0\.1:\d+/nothing-here\n`,
		`rangedl: 157 files: 153 saved, 4 failed; \S+ \S+ in \S+\n$`,
	} {
		if !regexp.MustCompile(want).MatchString(r.stderr) {
			t.Errorf("stderr lacks %s", want)
		}
	}
	failed, _ := os.ReadFile(filepath.Join(dir, "failed.txt"))
	rd := newListReader(bytes.NewReader(failed))
	var urls []string
	for {
		e, err := rd.next()
		if err != nil {
			break
		}
		urls = append(urls, e.urls[0])
	}
	want := []string{s.URL("/2K"), s.URL("/7K"), s.URL("/nothing-here"), "http://127.0.0.1:1/refused.bin"}
	if strings.Join(urls, " ") != strings.Join(want, " ") {
		t.Errorf("--failed lists %v; want %v\n%s", urls, want, failed)
	}
	if !strings.Contains(string(failed), "  out=corrupt\n  checksum=sha-256=") {
		t.Errorf("--failed lost the options:\n%s", failed)
	}
}

// TestListReaderStreams reads a list of a million entries from a generator: the heap after the
// last entry is what it was after the first ten thousand (the list is never held).
func TestListReaderStreams(t *testing.T) {
	const entries = 1_000_000
	pr, pw := io.Pipe()
	go func() {
		w := bufio.NewWriter(pw)
		for i := range entries {
			fmt.Fprintf(w, "http://127.0.0.1:8080/%d\n  out=f%d\n", i, i)
		}
		w.Flush()
		pw.Close()
	}()
	r := newListReader(pr)
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var early uint64
	for i := 0; ; i++ {
		if i == 10_000 {
			early = heap()
		}
		if _, err := r.next(); err == io.EOF {
			if i != entries {
				t.Fatalf("read %d entries; want %d", i, entries)
			}
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	if late := heap(); late > early+1<<20 {
		t.Errorf("heap %d bytes after a million entries, %d after ten thousand: the list is being kept", late, early)
	}
}

func TestFileLimit(t *testing.T) {
	r := runIn(t, t.TempDir(), "sh", "-c", `ulimit -n 64 && exec "$0" "$@"`, binary, "-n", "100", "-o", "f", "http://127.0.0.1:1/x")
	want := "rangedl: -n 100 needs 116 open files, and the limit is 64 (ulimit -n)\n"
	if r.code != exitUsage || r.stderr != want {
		t.Errorf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitUsage, want)
	}
}
