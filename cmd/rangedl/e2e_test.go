package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"golang.org/x/sys/unix"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rangedl/rangedl/bench/server"
)

// These tests run the real rangedl binary against the project's test server on loopback and
// check the output file's SHA-256 against the served content, the exit code and the message.

// Built once by TestMain: binary with the race detector (unless RANGEDL_E2E_NORACE is set),
// plainBinary without it, for measuring memory.
var binary, plainBinary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "rangedl-e2e")
	if err != nil {
		panic(err)
	}
	binary, plainBinary = filepath.Join(dir, "rangedl-race"), filepath.Join(dir, "rangedl")
	if os.Getenv("RANGEDL_E2E_NORACE") != "" {
		binary = plainBinary
	}
	for _, b := range []string{plainBinary, binary} {
		args := []string{"build", "-o", b, "."}
		if b != plainBinary {
			args = []string{"build", "-race", "-o", b, "."}
		}
		if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
			fmt.Fprintf(os.Stderr, "building rangedl: %v\n%s", err, out)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func startServer(t *testing.T, cfg server.Config) *server.Server {
	t.Helper()
	s, err := server.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

type result struct {
	code   int
	stderr string
	out    string // output file path
}

// runTimeout bounds every run: a hang is a failure of its own test, not the suite's timeout.
const runTimeout = 2 * time.Minute

// rangedl runs the binary in a fresh directory with args and waits for it.
func rangedl(t *testing.T, args ...string) result {
	t.Helper()
	return rangedlIn(t, t.TempDir(), args...)
}

// rangedlIn runs the binary in dir with args and waits for it.
func rangedlIn(t *testing.T, dir string, args ...string) result {
	t.Helper()
	return runIn(t, dir, binary, args...)
}

// runIn runs a command in dir and waits for it.
func runIn(t *testing.T, dir, name string, args ...string) result {
	t.Helper()
	return startIn(t, dir, (*exec.Cmd).Start, name, args...)
}

// startIn runs a command in dir, started by start, and waits for it.
func startIn(t *testing.T, dir string, start func(*exec.Cmd) error, name string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := start(cmd)
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() != nil {
		t.Fatalf("rangedl %v: still running after %v\n%s", args, runTimeout, stderr.String())
	}
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{code: code, stderr: stderr.String(), out: dir}
}

// awaitBody waits until s has sent n body bytes to the rangedl that cmd runs, and kills it and
// fails the test if that takes longer than runTimeout.
func awaitBody(t *testing.T, s *server.Server, cmd *exec.Cmd, n int64) {
	t.Helper()
	for deadline := time.Now().Add(runTimeout); s.Stats().BodyBytes < n; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("%d of %d body bytes sent in %v", s.Stats().BodyBytes, n, runTimeout)
		}
	}
}

// checkFile asserts that path holds exactly the first size bytes of the content for seed.
func checkFile(t *testing.T, path string, seed uint64, size int64) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(data)) != size {
		t.Fatalf("%s: size %d; want %d", path, len(data), size)
	}
	if got, want := sha256.Sum256(data), server.Sum(seed, size); got != want {
		t.Fatalf("%s: sha256 %x; want %x", path, got, want)
	}
}

func TestDownloadSizes(t *testing.T) {
	s := startServer(t, server.Config{Seed: 7})
	sizes := []int64{0, 1, 1<<20 + 1, 7<<20 + 13, 40 << 20} // 40 MiB: larger than every buffer
	for _, n := range []string{"1", "32"} {
		for _, size := range sizes {
			t.Run(fmt.Sprintf("n=%s/size=%d", n, size), func(t *testing.T) {
				r := rangedl(t, "-n", n, "-o", "f.bin", s.URL(fmt.Sprintf("/%d.bin", size)))
				if r.code != 0 {
					t.Fatalf("exit %d; want 0\n%s", r.code, r.stderr)
				}
				checkFile(t, filepath.Join(r.out, "f.bin"), 7, size)
				if !regexp.MustCompile(`^(rangedl: warning: 32 connections to one server is a lot; most servers are happier with 16 or fewer\n)?rangedl: saved f\.bin: [0-9.]+ (B|KiB|MiB) in \S+ \(\S+ \S+/s\), \d+ connections?\n$`).MatchString(r.stderr) {
					t.Errorf("stderr %q; want one summary line", r.stderr)
				}
			})
		}
	}
}

// TestBytesFetchedOnce checks that a clean download asks for every byte exactly once.
func TestBytesFetchedOnce(t *testing.T) {
	s := startServer(t, server.Config{Seed: 3})
	const size = 30<<20 + 5
	r := rangedl(t, "-n", "8", "-q", s.URL(fmt.Sprintf("/%d.bin", size)))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing (-q)", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, fmt.Sprintf("%d.bin", size)), 3, size)
	if got := s.Stats().BodyBytes; got != size {
		t.Errorf("server sent %d body bytes; want %d", got, size)
	}
	if got := s.Stats().Conns; got > 8 {
		t.Errorf("server saw %d connections; want at most 8 (keep-alive)", got)
	}
	for _, req := range s.Requests() {
		if req.Header.Get("Accept-Encoding") != "identity" || req.Range == "" {
			t.Errorf("request %d: Accept-Encoding %q, Range %q; want identity and a range", req.Seq, req.Header.Get("Accept-Encoding"), req.Range)
		}
		if req.Seq > 1 && req.IfRange == "" {
			t.Errorf("request %d has no If-Range", req.Seq)
		}
	}
}

// TestSlowToAnswer: a server that waits before each answer and then sends it at once is asked
// for big pieces, pipelined: each request costs the wait. Its connections had no speed (each
// answer came whole within a sample), so pieces shrank to 256 KiB, one request at a time: 16
// MiB took 8 requests at -n 1 and 38 at -n 8, and 6-8 s at a wait of 1 s (a hunt; curl 1.1 s).
func TestSlowToAnswer(t *testing.T) {
	for _, tc := range []struct {
		n        string
		requests int64 // at most
	}{{"1", 3}, {"8", 17}} {
		s := startServer(t, server.Config{Seed: 5, Latency: 300 * time.Millisecond})
		r := rangedl(t, "-n", tc.n, "-q", s.URL("/16M"))
		if r.code != 0 || r.stderr != "" {
			t.Fatalf("-n %s: exit %d, stderr %q; want 0 and nothing", tc.n, r.code, r.stderr)
		}
		checkFile(t, filepath.Join(r.out, "16M"), 5, 16<<20)
		if got := s.Stats().Requests; got > tc.requests {
			t.Errorf("-n %s: %d requests; want at most %d", tc.n, got, tc.requests)
		}
	}
}

// TestNoRangesStartsOver: a response from a server that ignores ranges that breaks off is
// fetched again from its first byte, up to --retries times; it failed at once, --retries or
// not (a hunt). With no retry left, the advice is --overwrite: -c cannot continue it.
func TestNoRangesStartsOver(t *testing.T) {
	const once = `rangedl: the server does not support ranges; downloading over one connection\n`
	const broke = `rangedl: no data for 300ms \(bytes 1048576-4194303 of \S+/4M\); the server does not support ranges, so it cannot be resumed`
	for _, tc := range []struct {
		retries string
		code    int
		stderr  string
	}{
		{"5", 0, `^` + once + broke + `; starting over in 250ms \(attempt 2 of 6\)\n` + once + `rangedl: saved f: 4\.0 MiB in .*, single stream\n$`},
		{"0", 3, `^` + once + broke + `\nrangedl: f is incomplete: 1\.0 MiB were written before the error; use --overwrite to download it again\n$`},
	} {
		s := startServer(t, server.Config{Seed: 6, NoRanges: true, Faults: []server.Fault{{Kind: server.Stall, Request: 1, Bytes: 1 << 20}}})
		r := rangedl(t, "-p", "--stall-timeout", "300ms", "--retries", tc.retries, "-o", "f", s.URL("/4M"))
		if r.code != tc.code || !regexp.MustCompile(tc.stderr).MatchString(r.stderr) {
			t.Fatalf("--retries %s: exit %d, stderr\n%s\nwant exit %d, stderr matching\n%s", tc.retries, r.code, r.stderr, tc.code, tc.stderr)
		}
		if tc.code == 0 {
			checkFile(t, filepath.Join(r.out, "f"), 6, 4<<20)
		}
	}
	// A stream is not started over: what it wrote stays written (a review saw 1 MiB + 4 MiB
	// on standard output, exit 0).
	s := startServer(t, server.Config{Seed: 6, NoRanges: true, Faults: []server.Fault{{Kind: server.Stall, Request: 1, Bytes: 1 << 20}}})
	dir := t.TempDir()
	r := runIn(t, dir, "sh", "-c", `"$0" "$@" > out`, binary, "-q", "--stall-timeout", "300ms", "-o", "-", s.URL("/4M"))
	out, _ := os.ReadFile(filepath.Join(dir, "out"))
	if want := `^rangedl: no data for 300ms \(bytes 1048576-4194303 of \S+/4M\); the server does not support ranges, so it cannot be resumed\n`; r.code != exitNetwork || !regexp.MustCompile(want).MatchString(r.stderr) || len(out) != 1<<20 {
		t.Fatalf("-o -: exit %d, %d bytes out, stderr %q; want %d, the first MiB, and %s", r.code, len(out), r.stderr, exitNetwork, want)
	}
}

// TestEmptyWhole: an empty file that comes as a 200 of no body (Apache's, lighttpd's and
// busybox's answer to a range of it) is saved without the notice that the server "does not
// support ranges" (a hunt).
func TestEmptyWhole(t *testing.T) {
	s := startServer(t, server.Config{NoRanges: true})
	r := rangedl(t, "-p", "-o", "f", s.URL("/0"))
	if want := regexp.MustCompile(`^rangedl: saved f: 0 B in \S+ \(0 B/s\), 1 connection, single stream\n$`); r.code != 0 || !want.MatchString(r.stderr) {
		t.Fatalf("exit %d, stderr %q; want 0 and %s", r.code, r.stderr, want)
	}
	checkFile(t, filepath.Join(r.out, "f"), 0, 0)
}

// TestListNotice: in a list, a notice about an entry starts with its URL, as a failure's line
// does; before, "the server does not support ranges" did not say which file it was about.
func TestListNotice(t *testing.T) {
	s := startServer(t, server.Config{Seed: 11, NoRanges: true})
	urls := []string{s.URL("/5M"), s.URL("/6M")}
	r := rangedl(t, "-n", "8", "-p", "-d", "out", urls[0], urls[1])
	if r.code != 0 {
		t.Fatalf("exit %d; want 0\n%s", r.code, r.stderr)
	}
	for i, u := range urls {
		checkFile(t, filepath.Join(r.out, "out", fmt.Sprintf("%dM", 5+i)), 11, int64(5+i)<<20)
		if want := "rangedl: " + u + ": the server does not support ranges; downloading over one connection\n"; !strings.Contains(r.stderr, want) {
			t.Errorf("stderr %q lacks %q", r.stderr, want)
		}
	}
}

func TestServerVariants(t *testing.T) {
	const size = 5<<20 + 3
	for _, tc := range []struct {
		name   string
		cfg    server.Config
		notice string
	}{
		{"no-ranges", server.Config{NoRanges: true}, "rangedl: the server does not support ranges; downloading over one connection\n"},
		{"chunked", server.Config{Chunked: true}, ""},
		{"chunked-no-ranges", server.Config{Chunked: true, NoRanges: true}, "rangedl: the server did not say how long the file is; downloading over one connection\n"},
		{"no-keepalive", server.Config{NoKeepAlive: true}, ""},
		{"close-delimited", server.Config{CloseDelimited: true}, ""},
		{"close-delimited-no-ranges", server.Config{CloseDelimited: true, NoRanges: true}, "rangedl: the server did not say how long the file is; downloading over one connection\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.cfg.Seed = 11
			s := startServer(t, tc.cfg)
			r := rangedl(t, "-n", "8", "-o", "out", s.URL(fmt.Sprintf("/%d", size)))
			if r.code != 0 {
				t.Fatalf("exit %d; want 0\n%s", r.code, r.stderr)
			}
			checkFile(t, filepath.Join(r.out, "out"), 11, size)
			if !strings.HasPrefix(r.stderr, tc.notice+"rangedl: saved out:") {
				t.Errorf("stderr %q; want it to start with %q", r.stderr, tc.notice)
			}
			if got := s.Stats().BodyBytes; got != size {
				t.Errorf("server sent %d body bytes; want %d", got, size)
			}
		})
	}
}

// TestRecovers checks that a piece that fails once is fetched again and the file is still right.
func TestRecovers(t *testing.T) {
	const size = 12 << 20
	for _, f := range []server.Fault{
		{Kind: server.ResetAfter, Request: 3, Bytes: 100 << 10},
		{Kind: server.ShortBody, Request: 2, Bytes: 1000},
		{Kind: server.WrongContentRange, Request: 2},
		{Kind: server.Status503, Request: 4, RetryAfter: 0},
		{Kind: server.ResetAfter, Request: 1, Bytes: -1},
		{Kind: server.HugeHeaders, Request: 3},
	} {
		t.Run(f.Kind.String(), func(t *testing.T) {
			s := startServer(t, server.Config{Seed: 5, Faults: []server.Fault{f}})
			evs := tracedDownload(t, s, 5, size, fmt.Sprintf("/%d", size), "-n", "4")
			if count(evs, "retry") == 0 {
				t.Errorf("no retry in the trace: the fault did not fire, or was not noticed")
			}
		})
	}
}

// TestFailures checks the exit code and the exact message of each kind of failure.
func TestFailures(t *testing.T) {
	s := startServer(t, server.Config{Seed: 9})
	always := func(f server.Fault) *server.Server {
		return startServer(t, server.Config{Seed: 9, Faults: []server.Fault{f}})
	}
	wrong := always(server.Fault{Kind: server.WrongContentRange, Request: 0})
	changed := always(server.Fault{Kind: server.ChangeContent, Request: 3})
	ignores := always(server.Fault{Kind: server.IgnoreRange, Request: 3})
	unavailable := always(server.Fault{Kind: server.Status503, RetryAfter: 0})
	moved := always(server.Fault{Kind: server.Redirect, Target: "/elsewhere"})
	laterMoved := startServer(t, server.Config{Faults: []server.Fault{{Kind: server.Redirect, Request: 3, Target: "/elsewhere"}}})
	for _, tc := range []struct {
		name string
		args []string
		code int
		msg  string // a regexp for the whole of stderr
	}{
		{"no url", nil, 2, `^rangedl: no URL given; see rangedl -h\n$`}, // one line (was two)
		{"bad flag, one line", []string{"--frobnicate", "http://a/x"}, 2, `^rangedl: flag provided but not defined: -frobnicate; see rangedl -h\n$`},
		// A bad value is one error before any download, not one per URL (as it was).
		{"small -s, three urls", []string{"-s", "1K", "-d", "d", "http://a/x", "http://a/y", "http://a/z"}, 2, `^rangedl: -s "1K": the smallest piece is 1M\n$`},
		{"bad --proxy, two urls", []string{"--proxy", "http://127.0.0.1:0", "-d", "d", "http://a/x", "http://a/y"}, 2, `^rangedl: --proxy "http://127\.0\.0\.1:0": bad port "0"\n$`},
		{"bad --file-allocation, two urls", []string{"--file-allocation", "x", "-d", "d", "http://a/x", "http://a/y"}, 2, `^rangedl: --file-allocation [^\n]*\n$`},
		{"--failed with one url", []string{"--failed", "f", "http://a/x"}, 2, `^rangedl: --failed lists the failed entries of several URLs or -i: with one URL, the exit code says it\n$`},
		{"two urls", []string{"http://127.0.0.1:1/x", "http://127.0.0.1:1/y"}, 3,
			`^rangedl: http://127\.0\.0\.1:1/[xy]: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n` +
				`rangedl: http://127\.0\.0\.1:1/[xy]: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n` +
				`rangedl: 2 files: 0 saved, 2 failed; 0 B in \S+\n$`},
		// A list's failure line names its URL, and never with a password in it.
		{"two urls with a password", []string{"http://u:secret@127.0.0.1:1/x", "http://u:secret@127.0.0.1:1/y"}, 3,
			`^rangedl: http://u:xxxxx@127\.0\.0\.1:1/[xy]: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n` +
				`rangedl: http://u:xxxxx@127\.0\.0\.1:1/[xy]: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n` +
				`rangedl: 2 files: 0 saved, 2 failed; 0 B in \S+\n$`},
		{"':' and '@' in a query", []string{"http://127.0.0.1:1/x?t=10:00&to=a@b", "http://127.0.0.1:1/y?t=10:00&to=a@b"}, 3,
			`^rangedl: http://127\.0\.0\.1:1/[xy]\?t=10:00&to=a@b: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n` +
				`rangedl: http://127\.0\.0\.1:1/[xy]\?t=10:00&to=a@b: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n` +
				`rangedl: 2 files: 0 saved, 2 failed; 0 B in \S+\n$`},
		{"--user without a ':'", []string{"--user", "s3cret", "http://a/x"}, 2,
			`^rangedl: --user: want USER:PASSWORD \(no ':' in the value, which is not shown: it may be a secret\)\n$`},
		{"-o with two urls", []string{"-o", "f", "http://127.0.0.1:1/x", "http://127.0.0.1:1/y"}, 2,
			`^rangedl: -o names one file: with several URLs or -i, use -d DIR \(and out= in the list\)\n`},
		// Refused before a request: a file cut short by a name too long for its record
		// failed after one (exit 6).
		{"-o too long", []string{"-o", "d/" + strings.Repeat("b", 240), "http://a/x"}, 2,
			`^rangedl: -o d/b{240}: a name of 240 bytes leaves no room for its control file \(FILE\.rangedl\.reserve: a name may have 239 bytes at most\)\n$`},
		{"bad -n", []string{"-n", "0", "http://a/x"}, 2, `^rangedl: -n 0: connections must be 1\.\.256\n`},
		{"bad -j", []string{"-j", "0", "http://a/x", "http://a/y"}, 2, `^rangedl: -j 0: files at once must be 1\.\.1024\n`},
		{"bad --max-per-host", []string{"--max-per-host", "300", "-i", "list"}, 2, `^rangedl: --max-per-host 300: must be 1\.\.256\n`},
		// Seconds, as curl takes them; a bad value names the flag as -h does (a hunt: it was
		// 'invalid value "5" for flag -connect-timeout: parse error').
		{"seconds for a duration", []string{"--connect-timeout", "1.5", "-o", "x", "http://127.0.0.1:1/x"}, 3, `^rangedl: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n$`},
		{"bad duration", []string{"--save-interval", "5x", "http://a/x"}, 2, `^rangedl: --save-interval "5x": want a duration such as 30s or 1m30s, or seconds; see rangedl -h\n$`},
		{"bad number", []string{"-j", "http://a/x", "http://a/y"}, 2, `^rangedl: -j "http://a/x": not a number; see rangedl -h\n$`},
		{"bad -s", []string{"-s", "12Q", "http://a/x"}, 2, `^rangedl: -s "12Q": want a positive size such as 4M\n$`},
		{"small -s", []string{"-s", "100K", "http://a/x"}, 2, `^rangedl: -s "100K": the smallest piece is 1M\n$`},
		{"scheme", []string{"ftp://a/x"}, 2, `^rangedl: bad URL "ftp://a/x": only http:// and https:// URLs are supported\n$`},
		{"bad port", []string{"http://a:99999/x"}, 2, `^rangedl: bad URL "http://a:99999/x": bad port "99999"\n$`},
		{"IPv6 zone of no interface", []string{"http://[fe80::1%25nosuch0]/x"}, 2, // was a nil-pointer panic
			`^rangedl: bad URL "http://\[fe80::1%25nosuch0\]/x": host "fe80::1%nosuch0": no network interface "nosuch0"\n$`},
		{"IPv6 zone of no index", []string{"http://[fe80::1%25999999]/x"}, 2,
			`^rangedl: bad URL "http://\[fe80::1%25999999\]/x": host "fe80::1%999999": no network interface "999999"\n$`},
		{"% in a name", []string{"http://a%25b/x"}, 2,
			`^rangedl: bad URL "http://a%25b/x": host "a%b": a % in a host is only for an IPv6 zone, as in \[fe80::1%25eth0\]\n$`},
		{"IPv6 zone of a global address", []string{"http://[2001:db8::1%251]/x"}, 2,
			`^rangedl: bad URL "http://\[2001:db8::1%251\]/x": host "2001:db8::1%1": a zone is only for a link-local address \(fe80::/10\)\n$`},
		{"IPv6 zone of an IPv4 address", []string{"http://[::ffff:127.0.0.1%251]/x"}, 2,
			`^rangedl: bad URL "http://\[::ffff:127\.0\.0\.1%251\]/x": host "::ffff:127\.0\.0\.1%1": a % in a host is only for an IPv6 zone, as in \[fe80::1%25eth0\]\n$`},
		{"IPv6 zone of no interface in --resolve", []string{"--resolve", "a:80:fe80::1%nosuch0", "http://a/x"}, 2,
			`^rangedl: --resolve "a:80:fe80::1%nosuch0": "fe80::1%nosuch0": no network interface "nosuch0"\n$`},
		{"IPv6 zone of no interface in --proxy", []string{"--proxy", "http://[fe80::1%25nosuch0]:3128", "http://a/x"}, 2,
			`^rangedl: --proxy "http://\[fe80::1%25nosuch0\]:3128": host "fe80::1%nosuch0": no network interface "nosuch0"\n$`},
		{"non-ASCII host", []string{"http://bücher.example/x"}, 2,
			`^rangedl: bad URL "http://bücher\.example/x": host "bücher\.example": a host name must be ASCII; give its xn-- form\n$`},
		{"password in a bad URL", []string{"http://u:secret@a:99999/x"}, 2, `^rangedl: bad URL "http://u:xxxxx@a:99999/x": bad port "99999"\n$`},
		{"password in an unparsable URL", []string{"http://u:secret@a b/x"}, 2,
			`^rangedl: bad URL "http://u:xxxxx@a b/x": cannot be parsed\n$`},
		{"password with a '#' in an unparsable URL", []string{"http://bob:se#cret@a/x"}, 2,
			`^rangedl: bad URL "http://bob:xxxxx@a/x": cannot be parsed\n$`},
		{"empty --save-bytes", []string{"--save-bytes=", "http://a/x"}, 2, `^rangedl: --save-bytes "": want a positive size such as 4M\n$`},
		{"not found", []string{"-o", "x", s.URL("/nothing-here")}, 4, `^rangedl: HTTP 404 Not Found from http://127\.0\.0\.1:\d+/nothing-here\n$`},
		{"refused", []string{"-o", "x", "http://127.0.0.1:1/x"}, 3, `^rangedl: cannot connect to 127\.0\.0\.1:1: connect: connection refused\n$`},
		{"wrong range", []string{"-o", "x", "--retries", "2", wrong.URL("/3M")}, 5,
			`^rangedl: asked for bytes 0-1048575, server sent bytes \d+-\d+/3145728 \(bytes 0-1048575 of http://127\.0\.0\.1:\d+/3M\), 3 attempts\n$`},
		{"changed", []string{"-n", "2", "-o", "x", changed.URL("/8M")}, 5, // If-Range makes it a 200
			`^rangedl: http://127\.0\.0\.1:\d+/8M answered a range request with the whole file \(HTTP 200\): the remote file changed, or the server stopped honouring ranges\nrangedl: x is incomplete \(.* of it is saved\); use -c --restart-if-changed to download the new version\n$`},
		{"200 to a range", []string{"-n", "2", "-o", "x", ignores.URL("/8M")}, 5,
			`^rangedl: http://127\.0\.0\.1:\d+/8M answered a range request with the whole file \(HTTP 200\): the remote file changed, or the server stopped honouring ranges\nrangedl: x is incomplete \(.* of it is saved\); use -c --restart-if-changed to download the new version\n$`},
		{"redirect of a later piece", []string{"-n", "2", "-o", "x", laterMoved.URL("/8M")}, 4,
			`^rangedl: HTTP 302 Found \(bytes \d+-\d+ of http://127\.0\.0\.1:\d+/8M\): a redirect in the middle of a download is not followed\nrangedl: x is incomplete \(.* of it is saved\); run the same command with -c to continue\n$`},
		{"503, no retries", []string{"-o", "x", "--retries", "0", unavailable.URL("/1M")}, 4, // was "1 attempts"
			`^rangedl: HTTP 503 Service Unavailable \(bytes 0-1048575 of http://127\.0\.0\.1:\d+/1M\), 1 attempt\n$`},
		{"503 forever", []string{"-o", "x", "--retries", "1", unavailable.URL("/1M")}, 4,
			`^rangedl: HTTP 503 Service Unavailable \(bytes 0-1048575 of http://127\.0\.0\.1:\d+/1M\), 2 attempts\n$`},
		{"redirect to itself", []string{"-o", "x", moved.URL("/1M")}, 4,
			`^rangedl: redirect loop: http://127\.0\.0\.1:\d+/elsewhere redirects back to http://127\.0\.0\.1:\d+/elsewhere\n$`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rangedl(t, tc.args...)
			if r.code != tc.code || !regexp.MustCompile(tc.msg).MatchString(r.stderr) {
				t.Fatalf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, tc.code, tc.msg)
			}
		})
	}
}

// TestWrongBytesNeverWritten: a server that always sends the wrong range leaves no byte of it
// in the file.
func TestWrongBytesNeverWritten(t *testing.T) {
	s := startServer(t, server.Config{Seed: 2, Faults: []server.Fault{{Kind: server.WrongContentRange, Request: 2}, {Kind: server.WrongContentRange, Request: 3}}})
	r := rangedl(t, "-n", "1", "-s", "1M", "-o", "x", s.URL("/3M"))
	if r.code != 0 {
		t.Fatalf("exit %d; want 0\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "x"), 2, 3<<20)
}

func TestExistingOutput(t *testing.T) {
	s := startServer(t, server.Config{Seed: 4})
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := os.WriteFile(path, []byte("precious"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(binary, "-o", path, s.URL("/2M"))
	out, err := cmd.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 {
		t.Fatalf("err %v; want exit 2", err)
	}
	if want := "rangedl: " + path + " already exists; use -c to continue it, --overwrite to replace it, or -o to choose another name\n"; string(out) != want {
		t.Errorf("stderr %q; want %q", out, want)
	}
	if got, _ := os.ReadFile(path); string(got) != "precious" {
		t.Errorf("existing file changed to %q", got)
	}
	if s.Stats().Requests != 0 {
		t.Errorf("server saw %d requests; want none", s.Stats().Requests)
	}
	if out, err := exec.Command(binary, "-q", "--overwrite", "-o", path, s.URL("/2M")).CombinedOutput(); err != nil {
		t.Fatalf("--overwrite: %v\n%s", err, out)
	}
	checkFile(t, path, 4, 2<<20)
}

func TestDefaultOutputName(t *testing.T) {
	s := startServer(t, server.Config{Seed: 6})
	r := rangedl(t, "-q", s.URL("/dir/2K.data?latency=0s"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "2K.data"), 6, 2<<10)
}

// goroutines starts a throttled download, asks the Go runtime for a goroutine dump (SIGQUIT)
// in the middle of it, and counts the goroutines.
func goroutines(t *testing.T, s *server.Server, conns string, extra ...string) int {
	t.Helper()
	cmd := exec.Command(binary, append([]string{"-n", conns, "-q", "-o", "x", s.URL("/64M")}, extra...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "GOTRACEBACK=all")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until every connection has sent a request (so an https handshake is over), then a
	// little more.
	deadline := time.Now().Add(20 * time.Second)
	var want int64
	fmt.Sscan(conns, &want)
	for s.Stats().Requests < want && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if got := s.Stats().Requests; got < want {
		cmd.Process.Kill()
		t.Fatalf("server saw %d requests; want %d before counting", got, want)
	}
	time.Sleep(200 * time.Millisecond)
	cmd.Process.Signal(syscall.SIGQUIT)
	cmd.Wait()
	// Count the program's goroutines; the runtime's own (GC workers come and go with the heap)
	// are created by package runtime, and goroutine 0 is the signal-handling thread.
	n := 0
	for _, block := range strings.Split(stderr.String(), "\n\n") {
		if strings.HasPrefix(block, "goroutine ") && !strings.HasPrefix(block, "goroutine 0 ") &&
			!strings.Contains(block, "\ncreated by runtime.") {
			n++
		}
	}
	if n == 0 {
		t.Fatalf("no goroutine dump in %q", stderr.String())
	}
	t.Logf("-n %s: %d goroutines counted in:\n%s", conns, n, stderr.String())
	return n
}

func TestNoGoroutinePerConnection(t *testing.T) {
	one := goroutines(t, startServer(t, server.Config{Rate: 1 << 20}), "1")
	many := goroutines(t, startServer(t, server.Config{Rate: 1 << 20}), "64")
	if one != many {
		t.Errorf("goroutines: %d at -n 1, %d at -n 64; want the same", one, many)
	}
	t.Logf("goroutines: %d at -n 1 and at -n 64", one)
}

// TestInterruptUnreadStdout: SIGTERM ends a stream whose reader has stopped reading, with exit
// 130, though the loop is blocked in its write and cannot see the signal: before, only a
// second signal (or the reader's end) did. A second signal ends it at once, and says so.
func TestInterruptUnreadStdout(t *testing.T) {
	for _, signals := range []int{1, 2} {
		t.Run(strconv.Itoa(signals), func(t *testing.T) { interruptUnreadStdout(t, signals) })
	}
}

func interruptUnreadStdout(t *testing.T, signals int) {
	s := startServer(t, server.Config{Seed: 9})
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close() // open and never read: the pipe fills, and the rest waits for it
	cmd := exec.Command(binary, "-q", "-o", "-", s.URL("/64M"))
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = w, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	// Until the server sends no more: the pipe is full (rangedl asks for one of 1 MiB, which
	// the first MiB sent did not always fill), and so are the buffer and the sockets.
	awaitBody(t, s, cmd, 1<<20)
	for sent := int64(-1); s.Stats().BodyBytes != sent; time.Sleep(300 * time.Millisecond) {
		sent = s.Stats().BodyBytes
	}
	cmd.Process.Signal(syscall.SIGTERM)
	want := "rangedl: interrupted (standard output was not being read)\n"
	if signals == 2 {
		time.Sleep(sameSignal + 200*time.Millisecond) // not the same signal delivered twice
		cmd.Process.Signal(syscall.SIGTERM)
		want = "rangedl: interrupted again: stopped at once\n"
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
			t.Fatalf("err %v; want exit 130\n%s", err, stderr.String())
		}
		if stderr.String() != want {
			t.Fatalf("stderr %q; want %q", stderr.String(), want)
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("still running 30 s after SIGTERM")
	}
}

// TestInterrupt: SIGINT stops the download cleanly, keeps what arrived and says how to go on.
// The same SIGINT delivered twice at once (timeout(1) signals the child, then its process
// group) is one interrupt: before, the second ended rangedl at once, silently, with exit 130.
// TestSignalBeforeTheLoop: a SIGTERM while rangedl reads a long --cacert, before any download
// can stop cleanly, waits for the download to begin and stops it: exit 130, one line, and no
// file. It killed rangedl outright (exit 143), and a little later it left an empty output that
// the same command then refused as existing.
func TestSignalBeforeTheLoop(t *testing.T) {
	ca, err := server.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "ca.pem"), bytes.Repeat(ca.PEM, 20000), 0o666); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, server.Config{Seed: 33})
	url := strings.Replace(s.URL("/1000"), "http://", "https://", 1)
	r := startIn(t, dir, func(cmd *exec.Cmd) error {
		if err := cmd.Start(); err != nil {
			return err
		}
		time.Sleep(200 * time.Millisecond) // rangedl's main is running; the CAs take longer
		return cmd.Process.Signal(syscall.SIGTERM)
	}, binary, "--cacert", "ca.pem", "-o", "f", url)
	if r.code != exitInterrupted || r.stderr != "rangedl: interrupted\n" {
		t.Fatalf("exit %d, stderr %q; want %d, interrupted", r.code, r.stderr, exitInterrupted)
	}
	if _, err := os.Lstat(filepath.Join(dir, "f")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("f: %v; want no file", err)
	}
}

func TestInterrupt(t *testing.T) {
	for _, signals := range []int{1, 2} {
		t.Run(strconv.Itoa(signals), func(t *testing.T) { interrupt(t, signals) })
	}
}

func interrupt(t *testing.T, signals int) {
	s := startServer(t, server.Config{Seed: 8, Rate: 2 << 20})
	cmd := exec.Command(binary, "-n", "4", "-o", "x", s.URL("/64M"))
	cmd.Dir = t.TempDir()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	awaitBody(t, s, cmd, 2<<20)
	for range signals {
		cmd.Process.Signal(os.Interrupt)
	}
	err := cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 130 {
		t.Fatalf("err %v; want exit 130", err)
	}
	if !regexp.MustCompile(`^rangedl: interrupted\nrangedl: x is incomplete \([0-9.]+ MiB of it is saved\); run the same command with -c to continue\n$`).MatchString(stderr.String()) {
		t.Errorf("stderr %q", stderr.String())
	}
	// What was written is the served content: every byte is the served one or still a hole
	// (zeros), and at least a MiB of it arrived.
	data, _ := os.ReadFile(filepath.Join(cmd.Dir, "x"))
	want := make([]byte, len(data))
	server.Fill(8, 0, want)
	var good int
	for off := 0; off < len(data); off++ {
		if data[off] == want[off] {
			good++
		} else if data[off] != 0 {
			t.Fatalf("byte %d is %#x; want %#x or a hole", off, data[off], want[off])
		}
	}
	if good < 1<<20 {
		t.Errorf("only %d bytes written before the interrupt", good)
	}
	if s.Stats().Conns == 0 {
		t.Error("no connection")
	}
}

// TestNotRegular: an output that exists and is not a regular file is refused before it is
// opened, with a line that says what to do instead: before, --overwrite -o /dev/null failed on
// the truncate after writing /dev/null.rangedl, and -c -o FIFO waited for a reader forever.
func TestNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := unix.Mkfifo(fifo, 0o666); err != nil {
		t.Fatal(err)
	}
	const device = "not a regular file; to write to it, use -o - and redirect standard output"
	dangling := filepath.Join(dir, "link")
	if err := os.Symlink("missing", dangling); err != nil {
		t.Fatal(err)
	}
	cycle := filepath.Join(dir, "loop")
	if err := os.Symlink("loop", cycle); err != nil {
		t.Fatal(err)
	}
	const nowhere = " is a symbolic link to missing, which leads to no file; remove the link, or give the name of the file to create"
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-o", "/dev/null"}, exitUsage, "/dev/null is " + device},
		{[]string{"-c", "-o", fifo}, exitUsage, fifo + " is " + device}, // was exit 6, one mistake with two codes
		{[]string{"--overwrite", "-o", fifo}, exitUsage, fifo + " is " + device},
		{[]string{"-o", dir}, exitUsage, dir + " is a directory; use -d " + dir + " to save into it"},
		{[]string{"--overwrite", "-o", dir}, exitUsage, dir + " is a directory; use -d " + dir + " to save into it"},
		// Followed, the link would make a file that a failed download does not remove: it
		// removes the name it was given.
		{[]string{"-o", dangling}, exitUsage, dangling + nowhere},
		{[]string{"--overwrite", "-o", dangling}, exitUsage, dangling + nowhere},
		{[]string{"-c", "-o", dangling}, exitUsage, dangling + nowhere},
		{[]string{"--overwrite", "-o", cycle}, exitUsage, cycle + " is a symbolic link to loop, which cannot be followed (too many levels of symbolic links)"},
	} {
		r := rangedl(t, append(tc.args, "http://127.0.0.1:1/x")...)
		if want := "rangedl: " + tc.want + "\n"; r.code != tc.code || !strings.HasPrefix(r.stderr, want) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", tc.args, r.code, r.stderr, tc.code, want)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.rangedl*")); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
	if _, err := os.Lstat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the dangling link's file was created (%v)", err)
	}
}

// readStdoutThenClose starts rangedl -q -o - url and reads n bytes of its standard output,
// which the caller then closes, as a reader that goes away does.
func readStdoutThenClose(t *testing.T, url string, n int) (*exec.Cmd, io.Closer, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(plainBinary, "-q", "-o", "-", url)
	stderr := new(bytes.Buffer)
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(out, make([]byte, n)); err != nil {
		t.Fatal(err)
	}
	return cmd, out, stderr
}

// TestStdoutClosed: a reader of -o - that goes away early (| head -c 100) gets rangedl one line
// and exit 6, not a silent death by SIGPIPE (exit 141, as the Go runtime does by default).
func TestStdoutClosed(t *testing.T) {
	s := startServer(t, server.Config{Seed: 17})
	cmd, out, stderr := readStdoutThenClose(t, s.URL("/8M"), 100)
	out.Close()
	cmd.Wait()
	want := regexp.MustCompile(`^rangedl: writing standard output at byte \d+: broken pipe\n$`)
	if code := cmd.ProcessState.ExitCode(); code != exitIO || !want.MatchString(stderr.String()) {
		t.Errorf("exit %d (%v), stderr %q; want %d, %s", code, cmd.ProcessState, stderr.String(), exitIO, want)
	}
}

// TestPipelineInterrupted: Ctrl-C on rangedl -o - URL | reader signals the reader too, which
// may be gone before rangedl sees its own signal. The broken pipe is then the interrupt's: exit
// 130 and the interrupt's line, not exit 6. Here the reader goes first, and the signal follows
// it at once.
func TestPipelineInterrupted(t *testing.T) {
	s := startServer(t, server.Config{Seed: 18})
	for i := range 5 {
		cmd, out, stderr := readStdoutThenClose(t, s.URL("/64M"), 1<<20)
		out.Close()
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
		if code := cmd.ProcessState.ExitCode(); code != exitInterrupted || stderr.String() != "rangedl: interrupted\n" {
			t.Fatalf("run %d: exit %d, stderr %q; want %d, interrupted", i, code, stderr.String(), exitInterrupted)
		}
	}
}

// TestStdoutBackPressure: writing to standard output, bytes must leave in order. When the
// connection holding the next bytes is slow (a straggler), the others would race ahead and fill
// memory; rangedl instead stops reading them while its buffer is full. The output is checked
// in order, and peak memory stays far below the file size, with 256 connections too, each of
// which could read 256 KiB in one round of events.
func TestStdoutBackPressure(t *testing.T) {
	for _, tc := range []struct {
		n, buffer, limit int // connections, the buffer's bound and the peak allowed, in MiB
	}{{8, 8, 32}, {256, 16, 36}} { // 43-45 MiB at 256 while one round of events could read 256 KiB per connection
		n := tc.n
		t.Run(fmt.Sprintf("-n %d", n), func(t *testing.T) {
			s := startServer(t, server.Config{Seed: 12, Straggler: 1, StragglerRate: 4 << 20})
			const size = 64 << 20
			cmd := exec.Command(plainBinary, "-n", fmt.Sprint(n), "-q", "-o", "-", s.URL("/64M"))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			peak := watchPeakRSS(cmd.Process.Pid)
			if err := cmd.Wait(); err != nil {
				t.Fatalf("%v\n%s", err, stderr.String())
			}
			if got, want := sha256.Sum256(stdout.Bytes()), server.Sum(12, size); stdout.Len() != size || got != want {
				t.Fatalf("stdout: %d bytes, sha256 %x; want %d, %x", stdout.Len(), got, size, want)
			}
			rss := peak() >> 20
			t.Logf("peak RSS %d MiB for %d MiB with a straggler holding the cursor", rss, size>>20)
			if rss > int64(tc.limit) {
				t.Errorf("peak RSS %d MiB; want at most %d (the buffer is bounded at %d MiB)", rss, tc.limit, tc.buffer)
			}
		})
	}
}

// watchPeakRSS polls the high-water mark of a running process's resident memory (VmHWM in
// /proc/PID/status) and returns a function giving the last value seen, in bytes. The rusage of
// wait4 cannot be used: Go starts children with CLONE_VM, and exec records the parent's memory
// high-water mark as the child's ru_maxrss, so a large test process hides a small child.
func watchPeakRSS(pid int) func() int64 {
	var peak atomic.Int64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
			if err != nil {
				return // exited (or not Linux)
			}
			if m := regexp.MustCompile(`(?m)^VmHWM:\s+(\d+) kB$`).FindSubmatch(status); m != nil {
				var kb int64
				fmt.Sscan(string(m[1]), &kb)
				peak.Store(max(peak.Load(), kb<<10))
			}
			select {
			case <-stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		return peak.Load()
	}
}

// TestNoEmptyFileLeft: a download that fails before writing a byte leaves no file behind, both
// when it fails before the output exists and after the first head created it.
func TestNoEmptyFileLeft(t *testing.T) {
	for _, bytes := range []int64{-1, 0} { // reset before the head; reset right after it
		s := startServer(t, server.Config{Faults: []server.Fault{{Kind: server.ResetAfter, Bytes: bytes}}})
		r := rangedl(t, "--retries", "1", "-o", "x", s.URL("/4M"))
		want := `^rangedl: connection (lost|closed early) \(bytes \d+-\d+ of http://127\.0\.0\.1:\d+/4M\), 2 (attempts|times in a row)(: read: connection reset by peer)?\n$`
		if r.code != 3 || !regexp.MustCompile(want).MatchString(r.stderr) {
			t.Fatalf("reset after %d: exit %d, stderr %q; want 3 and %q", bytes, r.code, r.stderr, want)
		}
		if _, err := os.Stat(filepath.Join(r.out, "x")); !os.IsNotExist(err) {
			t.Errorf("reset after %d: output file: %v; want it absent", bytes, err)
		}
	}
}

// TestSmallUsage: -V and -h print on standard output (`rangedl -V | cat` showed nothing); an
// existing --trace file is a usage mistake with a way out (it was exit 6, "file exists"); an
// absolute -o is not put under -d (it was saved as DIR/abs/path).
func TestSmallUsage(t *testing.T) {
	for _, args := range [][]string{{"-V"}, {"-h"}} {
		out, err := exec.Command(binary, args...).Output()
		if err != nil || !strings.HasPrefix(string(out), map[string]string{"-V": "rangedl ", "-h": "usage: rangedl"}[args[0]]) {
			t.Errorf("%v: stdout %q, %v", args, out, err)
		}
	}
	s := startServer(t, server.Config{Seed: 3})
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.json")
	os.WriteFile(trace, nil, 0o666)
	r := rangedlIn(t, dir, "-q", "--trace", "t.json", "-o", "x", s.URL("/1K"))
	if want := "rangedl: --trace t.json already exists; use --overwrite to replace it, or another name\n"; r.code != exitUsage || r.stderr != want {
		t.Errorf("existing trace: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitUsage, want)
	}
	abs := filepath.Join(dir, "abs")
	if r := rangedlIn(t, dir, "-q", "-d", "sub", "-o", abs, s.URL("/1K")); r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	checkFile(t, abs, 3, 1<<10)
}

// TestStopAndContinue: a rangedl stopped (SIGSTOP, Ctrl-Z) for longer than --stall-timeout
// reads what its connections received meanwhile before it judges them. It could fail every
// connection for "no data" as soon as it was continued, its bytes unread in the sockets: exit
// 3 at --retries 0 (4 of 9 runs by hand, one stop each), a retry used up for each piece
// otherwise. Three stops make that likely here.
func TestStopAndContinue(t *testing.T) {
	const size = 48 << 20
	s := startServer(t, server.Config{Seed: 47, Rate: 2 << 20})
	dir := t.TempDir()
	cmd := exec.Command(plainBinary, "-q", "-n", "8", "--stall-timeout", "1s", "--retries", "0", "-o", "f", s.URL("/48M"))
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.After(runTimeout)
	for i := range 3 {
		for s.Stats().BodyBytes < int64(i+1)*8<<20 {
			select {
			case err := <-done:
				t.Fatalf("%v before stop %d; want exit 0 at the end\n%s", err, i+1, stderr.String())
			case <-deadline:
				t.Fatalf("%d of %d body bytes sent in %v", s.Stats().BodyBytes, size, runTimeout)
			case <-time.After(20 * time.Millisecond):
			}
		}
		time.Sleep(time.Duration(100+i*70) * time.Millisecond) // not just as bytes come
		cmd.Process.Signal(syscall.SIGSTOP)
		time.Sleep(2 * time.Second)
		cmd.Process.Signal(syscall.SIGCONT)
	}
	if err := <-done; err != nil {
		t.Fatalf("%v after three stops of 2 s; want exit 0\n%s", err, stderr.String())
	}
	checkFile(t, filepath.Join(dir, "f"), 47, size)
}

// TestTerminalResumedRate: a resumed download's bar ends with the rate of this run, as the
// summary line gives it. pb's own divides every byte the bar counts, the 3 MiB saved before
// too, by the time: 5.07 MiB/s on the bar for 1.0 MiB/s in the summary.
func TestTerminalResumedRate(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("no script(1) to make a terminal")
	}
	s := startServer(t, server.Config{Seed: 34, Rate: 1 << 20})
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), content(34, 0, 3<<20), 0o666)
	cmd := exec.Command("script", "-qec", fmt.Sprintf("stty cols 120; TERM=xterm %s -n 1 -c -o f %s", binary, s.URL("/4M")), "/dev/null")
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v\n%q", err, out)
	}
	rate := regexp.MustCompile(`([0-9.]+) (KiB|MiB)/s`)
	perSecond := func(line string) float64 {
		m := rate.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("no rate in %q", line)
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		if m[2] == "KiB" {
			f /= 1024
		}
		return f
	}
	var bar, summary string
	for _, line := range strings.Split(strings.ReplaceAll(string(out), "\r\n", "\n"), "\n") {
		switch seen := line[strings.LastIndexByte(line, '\r')+1:]; {
		case strings.HasPrefix(seen, "rangedl: saved f"):
			summary = seen
		case strings.Contains(seen, "/s "):
			bar = seen // the bar's last drawing
		}
	}
	if summary == "" || bar == "" {
		t.Fatalf("no bar or no summary in\n%q", out)
	}
	if b, s := perSecond(bar), perSecond(summary); b > 1.4*s || b < s/1.4 {
		t.Errorf("the bar ends at %.2f MiB/s, the summary says %.2f\n%s\n%s", b, s, bar, summary)
	}
	checkFile(t, filepath.Join(dir, "f"), 34, 4<<20)
}

// drawings runs cmdline in a terminal of cols columns (script(1) makes one) and returns what
// each redraw of the bar drew, the messages' lines left out, and all of the output.
func drawings(t *testing.T, dir string, cols int, cmdline string) ([]string, string) {
	t.Helper()
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("no script(1) to make a terminal")
	}
	cmd := exec.Command("script", "-qec", fmt.Sprintf("stty cols %d; TERM=xterm %s", cols, cmdline), "/dev/null")
	cmd.Dir = dir
	out, _ := cmd.Output()
	var bars []string
	for _, d := range strings.FieldsFunc(string(out), func(r rune) bool { return r == '\r' || r == '\n' }) {
		if !strings.Contains(d, "rangedl: ") && strings.TrimSpace(d) != "" {
			bars = append(bars, d)
		}
	}
	return bars, string(out)
}

// TestTerminalBars: what the bars draw (a hunt). A file left incomplete never reads 100%
// (pb's percent and counters rounded 1 GiB less 3000 bytes up to "1.00 GiB ... 100.00%"); a
// stall shows as one (pb's speed still read 1.2 MiB/s, "ETA 4s", after 6 s without a byte);
// a file of unknown length has no ETA (it went negative); a list's bar is cut to a narrow
// terminal (each redraw left a row behind).
func TestTerminalBars(t *testing.T) {
	s := startServer(t, server.Config{Seed: 35, Faults: []server.Fault{{Kind: server.Stall, Request: 1, Bytes: 1<<20 - 100}}})
	dir := t.TempDir()
	bars, out := drawings(t, dir, 100, fmt.Sprintf("%s -n 1 --retries 0 --stall-timeout 2500ms -o f %s", binary, s.URL("/1M")))
	if len(bars) == 0 || !slices.ContainsFunc(bars, func(b string) bool { return strings.Contains(b, "0 B/s ETA ?") }) ||
		!strings.HasPrefix(bars[len(bars)-1], "1023.9 KiB / 1.0 MiB [") || !strings.Contains(bars[len(bars)-1], "] 99.9% ") ||
		strings.Contains(out, "100.0%") {
		t.Errorf("a stall 100 bytes before the end: want a drawing with \"0 B/s ETA ?\", the last one at 1023.9 KiB and 99.9%%, none at 100.0%%; got\n%q", bars)
	}

	s = startServer(t, server.Config{Seed: 35, Rate: 1 << 20})
	bars, _ = drawings(t, dir, 100, fmt.Sprintf("%s -o g '%s'", binary, s.URL("/1M?chunked=1&noranges=1")))
	if len(bars) == 0 || slices.ContainsFunc(bars, func(b string) bool { return strings.Contains(b, "ETA") }) {
		t.Errorf("an unknown length: want drawings without an ETA; got\n%q", bars)
	}

	s = startServer(t, server.Config{Seed: 35, Rate: 4 << 20})
	writeList(t, dir, s.URL("/1M")+"\n"+s.URL("/2M")+"\n"+s.URL("/nope")+"\n")
	bars, _ = drawings(t, dir, 20, fmt.Sprintf("%s -j 2 -n 2 -d d -i list", binary))
	if len(bars) == 0 || slices.ContainsFunc(bars, func(b string) bool { return utf8.RuneCountInString(b) > 20 }) {
		t.Errorf("a list at 20 columns: want drawings of 20 at most; got\n%q", bars)
	}

	// A trace to the terminal (--trace /dev/stderr) draws no bar, which its lines wrote over.
	bars, _ = drawings(t, dir, 100, fmt.Sprintf("%s -n 2 --overwrite --trace /dev/stderr -o h %s", binary, s.URL("/2M")))
	if !slices.ContainsFunc(bars, func(b string) bool { return strings.Contains(b, `"event":"done"`) }) ||
		slices.ContainsFunc(bars, func(b string) bool { return strings.Contains(b, " conns") }) {
		t.Errorf("--trace /dev/stderr: want the trace and no bar; got\n%q", bars)
	}

	// A list's bytes are those it received: a file complete already counted whole.
	os.Mkdir(filepath.Join(dir, "e"), 0o777)
	os.WriteFile(filepath.Join(dir, "e", "4M"), content(35, 0, 4<<20), 0o666)
	bars, _ = drawings(t, dir, 100, fmt.Sprintf("%s -c -d e %s %s", binary, s.URL("/4M"), s.URL("/1000")))
	if len(bars) == 0 || !strings.HasPrefix(bars[len(bars)-1], "2/2 files 1000 B ") {
		t.Errorf("-c of a complete file and one of 1000 B: want the last drawing at 1000 B; got\n%q", bars)
	}
}

// TestTerminalLines: on a terminal (script(1) makes one), every message starts a line of its
// own, only the download's answer starts a bar (each redirect's hop left an empty bar's line),
// and TERM=dumb, which cannot redraw a line, gets no bar and no escape sequence (a list's lines
// began with one).
func TestTerminalLines(t *testing.T) {
	if _, err := exec.LookPath("script"); err != nil {
		t.Skip("no script(1) to make a terminal")
	}
	for _, term := range []string{"xterm", "dumb"} {
		s := startServer(t, server.Config{Seed: 34, Rate: 8 << 20, Latency: 150 * time.Millisecond, Faults: []server.Fault{
			{Kind: server.Redirect, Request: 1, Target: "/2048K"}, {Kind: server.Redirect, Request: 2, Target: "/2M"}}})
		dir := t.TempDir()
		cmdline := fmt.Sprintf("stty cols 100; export TERM=%s; %s -o f %s && %s -d d %s %s", term, binary, s.URL("/3M"), binary, s.URL("/1M"), s.URL("/1000"))
		cmd := exec.Command("script", "-qec", cmdline, "/dev/null")
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%s: %v\n%q", term, err, out)
		}
		text := strings.ReplaceAll(string(out), "\r\n", "\n")
		bars := 0
		for _, line := range strings.Split(text, "\n") {
			// What stays on the screen: the text after the line's last carriage return.
			seen := strings.TrimPrefix(line[strings.LastIndexByte(line, '\r')+1:], "\x1b[K")
			switch {
			case seen == "", strings.HasPrefix(seen, "rangedl: "):
			case strings.Contains(seen, "/s "):
				bars++ // a bar's last drawing
			default:
				t.Errorf("%s: line %q", term, line)
			}
		}
		switch {
		case term == "xterm" && bars != 2:
			t.Errorf("%s: %d bars' lines; want 2 (the download's, the list's)\n%q", term, bars, out)
		case term == "dumb" && (bars != 0 || strings.Contains(text, "\x1b")):
			t.Errorf("%s: %d bars' lines; want none, and no escape sequence\n%q", term, bars, out)
		}
		checkFile(t, filepath.Join(dir, "f"), 34, 2<<20)
	}
}
