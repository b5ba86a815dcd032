package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
	"github.com/rangedl/rangedl/bench/timeline"
)

// End-to-end tests of connection evaluation and dynamic scheduling (issue 4): each run must
// finish with the right SHA-256, the --trace file must show the decision that rescued it, and
// the server's counters bound how many body bytes were fetched twice.

func readTrace(t *testing.T, path string) []timeline.Event {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	evs, err := timeline.Read(f)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) == 0 || evs[len(evs)-1].Event != "finish" {
		t.Fatalf("trace has %d events and does not end with finish", len(evs))
	}
	return evs
}

func count(evs []timeline.Event, names ...string) int {
	n := 0
	for _, e := range evs {
		for _, name := range names {
			if e.Event == name {
				n++
			}
		}
	}
	return n
}

// tracedDownload runs rangedl with --trace against s and checks the file; it returns the trace.
func tracedDownload(t *testing.T, s *server.Server, seed uint64, size int64, path string, args ...string) []timeline.Event {
	t.Helper()
	r := rangedl(t, append(args, "-o", "out", "--trace", "trace.jsonl", s.URL(path))...)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "out"), seed, size)
	return readTrace(t, filepath.Join(r.out, "trace.jsonl"))
}

func wasted(s *server.Server, size int64) int64 { return s.Stats().BodyBytes - size }

// TestStraggler: one connection at 1/50th of the others' speed. Without stealing, eviction and
// duplication it would hold its first piece (4 MiB at 160 KiB/s: 25 s) while the rest of the
// file takes about a second.
func TestStraggler(t *testing.T) {
	const size = 64 << 20
	s := startServer(t, server.Config{Seed: 21, Rate: 8 << 20, Straggler: 2, StragglerRate: 160 << 10})
	evs := tracedDownload(t, s, 21, size, "/64M", "-n", "8")
	if count(evs, "steal", "evict", "duplicate") == 0 {
		t.Errorf("no steal, evict or duplicate in the trace")
	}
	if fin := evs[len(evs)-1].T; fin > 10 {
		t.Errorf("finished after %.1fs; the straggler held the download hostage", fin)
	}
	if w := wasted(s, size); w > 8<<20 {
		t.Errorf("%d body bytes fetched twice; want at most 8 MiB", w)
	}
	t.Logf("%d steals, %d evictions, %d duplicates, %d bytes fetched twice, %.2fs",
		count(evs, "steal"), count(evs, "evict"), count(evs, "duplicate"), wasted(s, size), evs[len(evs)-1].T)
}

// TestStreamStraggler: with -o -, the connections ahead of the writer are paused (back-pressure),
// so the slow one the writer waits for has no working peers to be compared with. It is judged
// against what the paused ones did before they paused, and evicted before it ends its first
// piece (1 MiB at 64 KiB/s: 16 s; at its pace the whole stream took 34 s). With 16 MiB the
// pieces are small, and the peers were paused waiting for a head or as a body began, with no
// speed of their own yet: their last response's counts (no eviction, 16 s, before). A
// straggler of 1 MiB/s ends each 1 MiB piece within a second, and was left alone as about to
// finish, piece after piece (no eviction; 128 MiB took 8.8 s, and takes 2.4): it must be
// evicted at all, the others fast enough (32 MiB/s) that it is slow by far even on a loaded
// machine.
func TestStreamStraggler(t *testing.T) {
	for _, tc := range []struct {
		size, rate, straggler int64
		first                 bool // evicted before it ends a piece
	}{{16 << 20, 8 << 20, 64 << 10, true}, {32 << 20, 8 << 20, 64 << 10, true}, {32 << 20, 32 << 20, 1 << 20, false}} {
		s := startServer(t, server.Config{Seed: 25, Rate: tc.rate, Straggler: 3, StragglerRate: tc.straggler})
		dir := t.TempDir()
		cmd := exec.Command(binary, "-q", "-n", "8", "-o", "-", "--trace", "trace.jsonl", s.URL(fmt.Sprintf("/%d", tc.size)))
		cmd.Dir = dir
		h := sha256.New()
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = h, &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
		if want := server.Sum(25, tc.size); !bytes.Equal(h.Sum(nil), want[:]) {
			t.Fatalf("%d bytes: standard output is not the file", tc.size)
		}
		evs := readTrace(t, filepath.Join(dir, "trace.jsonl"))
		if tc.first {
			evictedFirst(t, evs)
		} else if !slices.ContainsFunc(evs, func(e timeline.Event) bool { return e.Event == "evict" }) {
			t.Fatalf("a straggler of %d B/s: no eviction in the trace (%.1fs)", tc.straggler, evs[len(evs)-1].T)
		}
	}
	// The same into a reader that starts 0.5 s late, and then takes at most 10 MiB/s (64 KiB
	// every 6 ms): paused connections wait
	// in the buffer's band between full and a quarter free, and the writer for the straggler.
	// Rescue looked only at a full buffer, and paused connections' paces fell towards the
	// stream's at each pause: no eviction, 35 s.
	s := startServer(t, server.Config{Seed: 25, Rate: 8 << 20, Straggler: 3, StragglerRate: 64 << 10})
	dir := t.TempDir()
	cmd := exec.Command(binary, "-q", "-n", "8", "-o", "-", "--trace", "trace.jsonl", s.URL("/33554432"))
	cmd.Dir = dir
	readSlowly(t, cmd, slowReader{delay: 500 * time.Millisecond, each: 6 * time.Millisecond}).check(t, 25, 32<<20)
	evictedFirst(t, readTrace(t, filepath.Join(dir, "trace.jsonl")))
}

// evictedFirst fails the test unless the trace has an eviction, of a connection that had not
// ended a piece before it.
func evictedFirst(t *testing.T, evs []timeline.Event) {
	t.Helper()
	evicted := -1
	for _, e := range evs {
		if e.Event == "evict" {
			evicted = e.Conn
			break
		}
	}
	if evicted < 0 {
		t.Fatalf("no eviction in the trace (%.1fs)", evs[len(evs)-1].T)
	}
	for _, e := range evs {
		if e.Event == "evict" {
			break
		}
		if e.Event == "done" && e.Conn == evicted {
			t.Fatalf("connection %d ended a piece (at %.1fs) before it was evicted", evicted, e.T)
		}
	}
}

// TestStreamSlowReader: -o - into a reader that starts late and then reads at 8 MiB/s. The
// connections wait for the reader, not the reader for them: none is a straggler, and no byte
// is fetched twice. Blocking writes to the pipe held up the whole loop, and connections held
// back (paused) were judged by averages that counted the pause, or sampled as they resumed
// with nothing read: their ranges, already in the socket buffers, were stolen and fetched
// again (0.4-3.4 MB more than the 16 MiB in 5 runs; 64 MiB at -n 256 fetched 72-105 MB).
func TestStreamSlowReader(t *testing.T) {
	s := startServer(t, server.Config{Seed: 26})
	r := readSlowly(t, exec.Command(binary, "-q", "-n", "64", "-o", "-", s.URL("/16M")), slowReader{delay: 500 * time.Millisecond, rate: 8 << 20})
	r.check(t, 26, 16<<20)
	if w := wasted(s, 16<<20); w > 0 {
		t.Errorf("%d body bytes fetched twice; want none", w)
	}
}

// TestStreamReaderPausesAfterReset: a connection reset while the reader pauses (a full pipe)
// fails at once, and its piece waits for a connection. Two ways to get that wrong, both seen:
// the connections, all paused for the pipe, were taken for connections waiting for a missing
// piece, and each in turn gave its slot up for a new one (2183 connections for 16 MiB); and a
// paused connection's reset, left unread, was reported at every turn, the loop spinning until
// the buffer had room.
func TestStreamReaderPausesAfterReset(t *testing.T) {
	for _, tc := range []struct {
		rate    int64
		request int
	}{{0, 5}, {4 << 20, 12}} { // the second is reset when its connection is paused
		f := server.Fault{Kind: server.ResetAfter, Request: tc.request, Bytes: 512 << 10}
		s := startServer(t, server.Config{Seed: 27, Rate: tc.rate, Faults: []server.Fault{f}})
		cmd := exec.Command(binary, "-q", "-n", "8", "-o", "-", s.URL("/16M"))
		r := readSlowly(t, cmd, slowReader{pauseAfter: 1 << 20, pause: 2 * time.Second})
		r.check(t, 27, 16<<20)
		if n := s.Stats().Conns; n > 10 {
			t.Errorf("request %d reset: %d connections; want 8 and its replacement", f.Request, n)
		}
		u := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		if cpu := time.Duration(u.Utime.Nano() + u.Stime.Nano()); cpu > time.Second {
			t.Errorf("request %d reset: %v of CPU for 16 MiB, most of it in a 2 s pause", f.Request, cpu)
		}
	}
}

// slowReader reads a pipe as a slow program would: after delay, at rate bytes/s (0: as fast as
// it comes) or with a pause of each after every read of 64 KiB, and once it has read
// pauseAfter bytes (0: never), it stops for pause.
type slowReader struct {
	delay      time.Duration
	rate       int64
	each       time.Duration
	pauseAfter int64
	pause      time.Duration
}

// readResult is what a slowReader read.
type readResult struct {
	sum []byte
	n   int64
}

// readSlowly runs cmd with its standard output a pipe that r reads.
func readSlowly(t *testing.T, cmd *exec.Cmd, r slowReader) readResult {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = pw, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	time.Sleep(r.delay)
	h, start := sha256.New(), time.Now()
	buf := make([]byte, 64<<10)
	var n int64
	paused := r.pauseAfter == 0
	for {
		k, err := pr.Read(buf)
		h.Write(buf[:k])
		n += int64(k)
		if err != nil {
			break
		}
		if !paused && n >= r.pauseAfter {
			paused = true
			time.Sleep(r.pause)
			start = start.Add(r.pause)
		}
		if r.rate > 0 {
			time.Sleep(time.Until(start.Add(time.Duration(n) * time.Second / time.Duration(r.rate))))
		}
		time.Sleep(r.each)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return readResult{h.Sum(nil), n}
}

// check fails the test unless what was read is the server's file of size bytes.
func (r readResult) check(t *testing.T, seed uint64, size int64) {
	t.Helper()
	if want := server.Sum(seed, size); r.n != size || !bytes.Equal(r.sum, want[:]) {
		t.Fatalf("%d bytes on standard output are not the file of %d", r.n, size)
	}
}

// TestStalledConnection: one response stops after 200 KiB and never continues. Its peers keep
// going, so the stalled connection is evicted or its range is taken over, well before the
// 30 s stall timeout.
func TestStalledConnection(t *testing.T) {
	const size = 48 << 20
	s := startServer(t, server.Config{Seed: 22, Rate: 8 << 20, Faults: []server.Fault{{Kind: server.Stall, Request: 4, Bytes: 200 << 10}}})
	evs := tracedDownload(t, s, 22, size, "/48M", "-n", "6")
	if count(evs, "steal", "evict", "duplicate") == 0 {
		t.Errorf("no steal, evict or duplicate in the trace")
	}
	if fin := evs[len(evs)-1].T; fin > 20 {
		t.Errorf("finished after %.1fs; want well before the 30s stall timeout", fin)
	}
	if w := wasted(s, size); w > 8<<20 {
		t.Errorf("%d body bytes fetched twice; want at most 8 MiB", w)
	}
}

// TestLostRequest: a later request of a connection gets no answer at all (lost, or its flow
// died between two responses). Its rate was that of its last body, so it looked healthy and
// held its range until the 30 s stall timeout while its peers sat idle (a netns review: 32 s
// for 64 MiB that takes 2.9 s). A head overdue by four of its round trips (a second at least)
// now counts as no progress, and a peer takes the range over.
//
// At 16 MiB/s a connection's last body before the lost request took under half a sampling
// slot, which was carried forward for ever: the head never counted as overdue (30 s). The 3rd
// request, a connection's first, had no round trip to be overdue by (30 s).
func TestLostRequest(t *testing.T) {
	const size = 48 << 20
	for _, tc := range []struct {
		rate    int64
		request int
	}{{8 << 20, 14}, {16 << 20, 14}, {8 << 20, 3}} {
		s := startServer(t, server.Config{Seed: 24, Rate: tc.rate, Faults: []server.Fault{{Kind: server.Stall, Request: tc.request, Bytes: -1}}})
		evs := tracedDownload(t, s, 24, size, "/48M", "-n", "6")
		if count(evs, "evict", "duplicate") == 0 {
			t.Errorf("%+v: no evict or duplicate in the trace", tc)
		}
		if fin := evs[len(evs)-1].T; fin > 20 {
			t.Errorf("%+v: finished after %.1fs; want well before the 30s stall timeout", tc, fin)
		}
	}
}

// TestStallTimeout: with one connection there are no peers to compare with; the stall timeout
// fails the piece and the retry resumes from the last byte received.
func TestStallTimeout(t *testing.T) {
	const size = 3 << 20
	s := startServer(t, server.Config{Seed: 23, Faults: []server.Fault{{Kind: server.Stall, Request: 2, Bytes: 100 << 10}}})
	evs := tracedDownload(t, s, 23, size, "/3M", "-n", "1", "--stall-timeout", "500ms")
	retried := false
	for _, e := range evs {
		retried = retried || (e.Event == "retry" && e.Reason == "no data for 500ms")
	}
	if !retried {
		t.Errorf("no retry for the stall in the trace")
	}
	if w := wasted(s, size); w != 0 {
		t.Errorf("%d body bytes fetched twice; want 0 (the retry starts where the stall stopped)", w)
	}
}

// TestRetryAfter503: a 503 with Retry-After lowers the number of connections and delays the
// retry by at least what the server asked.
func TestRetryAfter503(t *testing.T) {
	const size = 24 << 20
	s := startServer(t, server.Config{Seed: 24, Rate: 16 << 20, Faults: []server.Fault{{Kind: server.Status503, Request: 3, RetryAfter: 1}}})
	evs := tracedDownload(t, s, 24, size, "/24M", "-n", "4")
	var lowered, waited bool
	for _, e := range evs {
		lowered = lowered || (e.Event == "target" && e.N < 4 && strings.HasPrefix(e.Reason, "HTTP 503"))
		waited = waited || (e.Event == "retry" && e.Wait >= 1 && strings.HasPrefix(e.Reason, "HTTP 503"))
	}
	if !lowered || !waited {
		t.Errorf("trace: connections lowered below 4 %v, retry after >= 1s %v; want both", lowered, waited)
	}
}

// TestConnectionLimit: a server that closes every connection beyond its third as soon as it
// is accepted. rangedl takes the early closes as the server shedding load: it stops at the
// connections the server keeps, instead of reconnecting over and over.
func TestConnectionLimit(t *testing.T) {
	const size = 32 << 20
	s := startServer(t, server.Config{Seed: 26, MaxConns: 3, Rate: 8 << 20})
	evs := tracedDownload(t, s, 26, size, "/32M", "-n", "8")
	opened, backoffs := 0, 0
	for _, e := range evs {
		switch e.Event {
		case "open":
			opened++
		case "backoff":
			backoffs++
		}
	}
	t.Logf("%d connections opened, %d backoffs", opened, backoffs)
	if opened > 2*8 || backoffs == 0 {
		t.Errorf("%d connections opened, %d backoffs; want at most %d (the -n 8 tried once, then the server's 3), and a backoff", opened, backoffs, 2*8)
	}
}

// TestStdoutRetry: writing to standard output, the piece the writer needs next fails. The
// other connections fill the buffer and pause; the failed piece must still be fetched again.
func TestStdoutRetry(t *testing.T) {
	const size = 48 << 20
	s := startServer(t, server.Config{Seed: 25, Faults: []server.Fault{{Kind: server.ResetAfter, Request: 2, Bytes: 300 << 10}}})
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "-n", "8", "-q", "-o", "-", s.URL("/48M"))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if got, want := sha256.Sum256(stdout.Bytes()), server.Sum(25, size); stdout.Len() != size || got != want {
		t.Fatalf("stdout: %d bytes, sha256 %x; want %d, %x", stdout.Len(), got, size, want)
	}
}

// streamOK runs rangedl -o - against s and checks standard output; it returns the trace.
func streamOK(t *testing.T, s *server.Server, seed uint64, size int64, path string) []timeline.Event {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "-n", "8", "-q", "-o", "-", "--trace", "trace.jsonl", s.URL(path))
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if got, want := sha256.Sum256(stdout.Bytes()), server.Sum(seed, size); int64(stdout.Len()) != size || got != want {
		t.Fatalf("stdout: %d bytes, sha256 %x; want %d, %x", stdout.Len(), got, size, want)
	}
	return readTrace(t, filepath.Join(dir, "trace.jsonl"))
}

// TestStdoutTwoFailures: two pieces fail, the one the writer needs and one further on. With
// every connection paused behind a full buffer, the piece the writer needs must still be
// fetched first (a paused connection gives up its slot for it). This hung before.
func TestStdoutTwoFailures(t *testing.T) {
	const size = 48 << 20
	for range 3 { // the order in which the two retries come due varies with the backoff jitter
		s := startServer(t, server.Config{Seed: 26, Faults: []server.Fault{
			{Kind: server.ResetAfter, Request: 2, Bytes: 64 << 10}, {Kind: server.ResetAfter, Request: 3, Bytes: 1 << 10}}})
		streamOK(t, s, 26, size, "/48M")
	}
}

// TestStdoutStall: the connection the writer waits for stalls. Every other connection is
// paused, so there are no peers to compare it with; it is given up after a short stall
// timeout instead of the full 30 s.
func TestStdoutStall(t *testing.T) {
	const size = 48 << 20
	s := startServer(t, server.Config{Seed: 27, Faults: []server.Fault{{Kind: server.Stall, Request: 3, Bytes: 200 << 10}}})
	evs := streamOK(t, s, 27, size, "/48M")
	if fin := evs[len(evs)-1].T; fin > 15 {
		t.Errorf("finished after %.1fs; want well before the 30s stall timeout", fin)
	}
}

// TestOverwriteKeptOnEarlyFailure: with --overwrite, a download that fails before a byte
// arrives must not remove the file it was going to replace.
func TestOverwriteKeptOnEarlyFailure(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "keep.bin")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(binary, "--overwrite", "-o", path, "http://127.0.0.1:1/x").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 3 {
		t.Fatalf("err %v, output %q; want exit 3", err, out)
	}
	if got, err := os.ReadFile(path); err != nil || string(got) != "old" {
		t.Errorf("the file --overwrite was to replace: %q, %v; want it untouched", got, err)
	}
}
