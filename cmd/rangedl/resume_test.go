package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
	"github.com/rangedl/rangedl/loop"
	"github.com/rangedl/rangedl/reorder"
)

// These tests stop rangedl in every way it can be stopped (SIGKILL at random moments, a full
// disk, a changed remote file, a damaged control file) and check that -c then finishes a
// byte-identical file, or refuses with the documented message and leaves the file alone.

// etagOf and lastModOf are the bench server's validators for content seed and size.
func etagOf(seed uint64, size int64) string {
	return `"` + strconv.FormatUint(seed, 16) + "-" + strconv.FormatInt(size, 16) + `"`
}

const lastModOf1 = "Mon, 01 Jan 2024 00:00:00 GMT" // Last-Modified before any Rewrite

// content returns the served bytes [off, off+n) for seed.
func content(seed uint64, off, n int64) []byte {
	b := make([]byte, n)
	server.Fill(seed, off, b)
	return b
}

// partial writes a partial download into dir: f holds the served bytes in have (and 0xAA
// garbage everywhere else, which must never survive), and f.rangedl records have as durable.
func partial(t *testing.T, dir, url string, seed uint64, size int64, have []reorder.Range) {
	t.Helper()
	data := bytes.Repeat([]byte{0xAA}, int(size))
	for _, r := range have {
		server.Fill(seed, r.Start, data[r.Start:r.End])
	}
	if err := os.WriteFile(filepath.Join(dir, "f"), data, 0o666); err != nil {
		t.Fatal(err)
	}
	ctl := reorder.Control{URL: url, FinalURL: url, Size: size, ETag: etagOf(seed, size),
		LastModified: lastModOf1, PieceSize: 64 << 20, Durable: have}
	b, err := ctl.MarshalText()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "f.rangedl"), b, 0o666); err != nil {
		t.Fatal(err)
	}
}

func noControlFile(t *testing.T, dir string) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dir, "f.rangedl")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("control file after a complete download: %v", err)
	}
}

// TestResumeFetchesOnlyTheHoles: -c asks for exactly the bytes the control file does not
// record, with If-Range on every request, and overwrites whatever else the file held.
func TestResumeFetchesOnlyTheHoles(t *testing.T) {
	const M = 1 << 20
	const size = 10*M + 3
	s := startServer(t, server.Config{Seed: 11})
	url := s.URL(fmt.Sprintf("/%d", size))
	// The first hole (100 KiB) is smaller than the first request would be: it is clamped.
	have := []reorder.Range{{Start: 0, End: 3 * M}, {Start: 3*M + 100<<10, End: 6 * M}, {Start: 9*M + 5, End: 10 * M}}
	dir := t.TempDir()
	partial(t, dir, url, 11, size, have)
	r := rangedlIn(t, dir, "-c", "-n", "4", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("exit %d; want 0\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 11, size)
	noControlFile(t, dir)
	var had int64
	for _, h := range have {
		had += h.Len()
	}
	if got := s.Stats().BodyBytes; got != size-had {
		t.Errorf("server sent %d body bytes; want exactly the %d missing", got, size-had)
	}
	for _, req := range s.Requests() {
		if req.IfRange != etagOf(11, size) {
			t.Errorf("request %q had If-Range %q; want %q", req.Range, req.IfRange, etagOf(11, size))
		}
	}
	if !regexp.MustCompile(`^rangedl: saved f: 10\.0 MiB in \S+ \(\S+ \S+/s\), \d connections?, continued from 6\.9 MiB\n$`).MatchString(r.stderr) {
		t.Errorf("stderr %q; want the summary with 'continued from 6.9 MiB'", r.stderr)
	}
}

// TestResumeFromLength: with no control file, -c continues from the file's length (wget -c),
// a complete file is left alone, and a file longer than the remote one is refused.
func TestResumeFromLength(t *testing.T) {
	const size = 6<<20 + 1
	s := startServer(t, server.Config{Seed: 12})
	url := s.URL(fmt.Sprintf("/%d", size))
	dir := t.TempDir()
	const prefix = 3<<20 + 7
	if err := os.WriteFile(filepath.Join(dir, "f"), content(12, 0, prefix), 0o666); err != nil {
		t.Fatal(err)
	}
	r := rangedlIn(t, dir, "-q", "-c", "-n", "3", "-o", "f", url)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d; want 0 and nothing (-q)\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 12, size)
	noControlFile(t, dir)
	if got := s.Stats().BodyBytes; got != size-prefix+1 {
		t.Errorf("server sent %d body bytes; want exactly the %d missing, and the last on disk (for the size)", got, size-prefix)
	}

	r = rangedlIn(t, dir, "-c", "-o", "f", url)
	if r.code != 0 || r.stderr != "rangedl: f is complete already (6.0 MiB)\n" {
		t.Fatalf("second -c: exit %d, stderr %q; want 0 and 'complete already'", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 12, size)

	long := filepath.Join(t.TempDir(), "f")
	os.WriteFile(long, content(12, 0, size+1), 0o666)
	r = rangedlIn(t, filepath.Dir(long), "-c", "-o", "f", url)
	want := fmt.Sprintf("rangedl: cannot continue f: the remote file changed (%s is 6291457 bytes long now, and f has 6291458)\n"+
		"rangedl: f was left as it was; use -c --restart-if-changed to download the new version\n", url)
	if r.code != exitIntegrity || r.stderr != want {
		t.Fatalf("longer file: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitIntegrity, want)
	}
}

// TestResumeWithNothing: -c with neither file simply downloads (so -c is safe in any script).
func TestResumeWithNothing(t *testing.T) {
	s := startServer(t, server.Config{Seed: 13})
	r := rangedl(t, "-q", "-c", "-o", "f", s.URL("/3M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 13, 3<<20)
	noControlFile(t, r.out)
}

// TestResumeRemoteChanged: a remote file that changed since the partial download is refused
// before a byte of it is written; --restart-if-changed downloads the new version instead.
func TestResumeRemoteChanged(t *testing.T) {
	const size = 4 << 20
	s := startServer(t, server.Config{Seed: 14})
	url := s.URL("/4M")
	dir := t.TempDir()
	partial(t, dir, url, 14, size, []reorder.Range{{Start: 0, End: 1 << 20}})
	before, _ := os.ReadFile(filepath.Join(dir, "f"))
	ctlBefore, _ := os.ReadFile(filepath.Join(dir, "f.rangedl"))
	seed := s.Rewrite()

	r := rangedlIn(t, dir, "-c", "-o", "f", url)
	want := fmt.Sprintf("rangedl: cannot continue f: the remote file changed (%s answered with the whole file (HTTP 200) instead of bytes 1048576-)\n"+
		"rangedl: f was left as it was; use -c --restart-if-changed to download the new version\n", url)
	if r.code != exitIntegrity || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitIntegrity, want)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "f"))
	ctlAfter, _ := os.ReadFile(filepath.Join(dir, "f.rangedl"))
	if !bytes.Equal(before, after) || !bytes.Equal(ctlBefore, ctlAfter) {
		t.Fatal("the refused resume changed the file or its control file")
	}

	r = rangedlIn(t, dir, "-c", "--restart-if-changed", "-p", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("--restart-if-changed: exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), seed, size)
	noControlFile(t, dir)
	if !regexp.MustCompile(`^rangedl: cannot continue f: the remote file changed \(.*\); starting over \(--restart-if-changed\)\nrangedl: saved f: 4\.0 MiB in .*\n$`).MatchString(r.stderr) {
		t.Errorf("stderr %q; want the restart notice, then the summary", r.stderr)
	}
}

// TestResumeSizeChanged: a server without If-Range support shows the change by the size.
func TestResumeSizeChanged(t *testing.T) {
	s := startServer(t, server.Config{Seed: 15})
	url := s.URL("/5M")
	dir := t.TempDir()
	// The record says the file was 6 MiB with these validators: the server now has 5 MiB.
	partial(t, dir, url, 15, 6<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
	ctl, _ := reorder.ReadControl(filepath.Join(dir, "f.rangedl"))
	ctl.ETag = etagOf(15, 5<<20) // same validator, different size: a lying or careless server
	b, _ := ctl.MarshalText()
	os.WriteFile(filepath.Join(dir, "f.rangedl"), b, 0o666)
	r := rangedlIn(t, dir, "-c", "-o", "f", url)
	want := "rangedl: cannot continue f: the remote file changed (size 5242880, was 6291456)\n" +
		"rangedl: f was left as it was; use -c --restart-if-changed to download the new version\n"
	if r.code != exitIntegrity || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitIntegrity, want)
	}
}

// TestBadControlFiles: a control file that is damaged, foreign, of another version, or
// without its data file is refused with a message that says which and what to do.
func TestBadControlFiles(t *testing.T) {
	s := startServer(t, server.Config{Seed: 16})
	url := s.URL("/2M")
	good := func(dir string) { partial(t, dir, url, 16, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}}) }
	cases := []struct {
		name  string
		setup func(dir string)
		want  string
	}{
		{"zero-filled", func(dir string) {
			good(dir)
			os.WriteFile(filepath.Join(dir, "f.rangedl"), make([]byte, 300), 0o666)
		}, `rangedl: f.rangedl: not a usable rangedl control file: it does not start with "rangedl-control"; use --overwrite to start over`},
		{"truncated", func(dir string) {
			good(dir)
			b, _ := os.ReadFile(filepath.Join(dir, "f.rangedl"))
			os.WriteFile(filepath.Join(dir, "f.rangedl"), b[:len(b)/2], 0o666)
		}, `rangedl: f.rangedl: not a usable rangedl control file: truncated (no checksum line); use --overwrite to start over`},
		{"flipped byte", func(dir string) {
			good(dir)
			b, _ := os.ReadFile(filepath.Join(dir, "f.rangedl"))
			b[40] ^= 4
			os.WriteFile(filepath.Join(dir, "f.rangedl"), b, 0o666)
		}, `rangedl: f.rangedl: not a usable rangedl control file: damaged (checksum mismatch); use --overwrite to start over`},
		{"foreign", func(dir string) {
			partial(t, dir, "http://example.com/other", 16, 2<<20, nil)
		}, `rangedl: f.rangedl belongs to a download of http://example.com/other, not ` + url + `; choose another -o, or use --overwrite to start over`},
		{"record deleted", func(dir string) {
			good(dir)
			os.Rename(filepath.Join(dir, "f.rangedl"), filepath.Join(dir, "f.rangedl.reserve"))
		}, `rangedl: f is a partial download whose record f.rangedl is missing; use --overwrite to start over`},
		{"no data file", func(dir string) {
			good(dir)
			os.Remove(filepath.Join(dir, "f"))
		}, `rangedl: f.rangedl records a partial download, but f is missing; use --overwrite to start over`},
		{"data file cut short", func(dir string) {
			good(dir)
			os.Truncate(filepath.Join(dir, "f"), 1000)
		}, `rangedl: f is shorter (1000 bytes) than f.rangedl says was written; use --overwrite to start over`},
		{"data file lengthened", func(dir string) { // its end would have stayed in the file
			good(dir)
			os.Truncate(filepath.Join(dir, "f"), 2<<20+1000)
		}, `rangedl: f is longer (2098152 bytes) than the file f.rangedl records (2097152); use --overwrite to start over`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(dir)
			r := rangedlIn(t, dir, "-c", "-o", "f", url)
			if r.code != exitIO || r.stderr != tc.want+"\n" {
				t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitIO, tc.want)
			}
		})
	}
	if n := s.Stats().Requests; n != 0 {
		t.Errorf("the server got %d requests; a refused control file must stop rangedl before any", n)
	}
}

// TestPartialNeedsContinue: without -c a partial download is not touched, and the message
// says how to go on.
func TestPartialNeedsContinue(t *testing.T) {
	s := startServer(t, server.Config{Seed: 17})
	url := s.URL("/2M")
	dir := t.TempDir()
	partial(t, dir, url, 17, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
	r := rangedlIn(t, dir, "-o", "f", url)
	want := "rangedl: f is a partial download (see f.rangedl); use -c to continue it, or --overwrite to start over\n"
	if r.code != exitUsage || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitUsage, want)
	}
	r = rangedlIn(t, dir, "-q", "--overwrite", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("--overwrite: exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 17, 2<<20)
	noControlFile(t, dir)
}

// TestControlFileAlone: a control file whose data file is gone describes nothing; without -c
// a new download goes ahead, and its own record replaces the old one (and goes at the end).
func TestControlFileAlone(t *testing.T) {
	s := startServer(t, server.Config{Seed: 19})
	url := s.URL("/2M")
	dir := t.TempDir()
	partial(t, dir, url, 19, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
	if err := os.Remove(filepath.Join(dir, "f")); err != nil {
		t.Fatal(err)
	}
	r := rangedlIn(t, dir, "-q", "-o", "f", url)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 19, 2<<20)
	noControlFile(t, dir)
}

// TestOneWriterPerFile: a second rangedl on the same output waits for nobody: it exits at once.
func TestOneWriterPerFile(t *testing.T) {
	s := startServer(t, server.Config{Seed: 18, Rate: 1 << 20})
	url := s.URL("/64M")
	dir := t.TempDir()
	first := exec.Command(plainBinary, "-q", "-n", "2", "-o", "f", url)
	first.Dir = dir
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Process.Kill()
	waitFor(t, func() bool { _, err := os.Stat(filepath.Join(dir, "f.rangedl")); return err == nil })
	r := rangedlIn(t, dir, "-c", "-o", "f", url)
	want := "rangedl: f is being downloaded by another rangedl process\n"
	if r.code != exitIO || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitIO, want)
	}
	first.Process.Signal(syscall.SIGTERM)
	if err := first.Wait(); err == nil || first.ProcessState.ExitCode() != exitInterrupted {
		t.Fatalf("first rangedl: %v; want exit %d", err, exitInterrupted)
	}
	if _, err := os.Stat(filepath.Join(dir, "f")); err != nil {
		t.Fatalf("the refused second rangedl removed the first one's file: %v", err)
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 30s")
		}
	}
}

// TestInterruptThenContinue: SIGINT records the progress; -c finishes from there.
func TestInterruptThenContinue(t *testing.T) {
	const size = 32 << 20
	s := startServer(t, server.Config{Seed: 19, Rate: 4 << 20})
	url := s.URL("/32M")
	dir := t.TempDir()
	cmd := exec.Command(binary, "-p", "-n", "4", "-o", "f", url)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	cmd.Process.Signal(os.Interrupt)
	cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit %d; want %d\n%s", code, exitInterrupted, stderr.String())
	}
	if !regexp.MustCompile(`^rangedl: interrupted\nrangedl: f is incomplete \([0-9.]+ MiB of it is saved\); run the same command with -c to continue\n$`).MatchString(stderr.String()) {
		t.Fatalf("stderr %q; want 'interrupted' and how to continue", stderr.String())
	}
	ctl, err := reorder.ReadControl(filepath.Join(dir, "f.rangedl"))
	if err != nil {
		t.Fatal(err)
	}
	checkDurable(t, dir, 19, ctl)
	var saved int64
	for _, r := range ctl.Durable {
		saved += r.Len()
	}
	sent := s.Stats().BodyBytes
	r := rangedlIn(t, dir, "-q", "-c", "-n", "4", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("-c: exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 19, size)
	if got := s.Stats().BodyBytes - sent; got != size-saved {
		t.Errorf("-c fetched %d bytes; want exactly the %d not saved", got, size-saved)
	}
}

// checkDurable asserts that every range the control file calls durable holds the served bytes.
func checkDurable(t *testing.T, dir string, seed uint64, ctl *reorder.Control) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "f"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ctl.Durable {
		if r.End > int64(len(data)) || !bytes.Equal(data[r.Start:r.End], content(seed, r.Start, r.Len())) {
			t.Fatalf("f.rangedl calls bytes %d-%d durable, but f does not hold them", r.Start, r.End-1)
		}
	}
}

// TestKillResume kills rangedl with SIGKILL at random moments, again and again, and resumes
// with -c each time, until the file is complete: its SHA-256 must match every time, every
// control file left behind must claim only bytes that are on disk, and the bytes fetched
// twice must stay within what one save interval plus the buffers can hold per kill.
// RANGEDL_KILLS sets the number of kills (make soak runs many more).
func TestKillResume(t *testing.T) {
	kills := 24
	if v := os.Getenv("RANGEDL_KILLS"); v != "" {
		var err error
		if kills, err = strconv.Atoi(v); err != nil {
			t.Fatalf("RANGEDL_KILLS=%q", v)
		}
	}
	const rate = 4 << 20 // per connection
	const saveEvery = 100 * time.Millisecond
	scenarios := []struct {
		size  int64
		conns int
		alloc string
	}{
		{8<<20 + 3, 1, "falloc"}, {24 << 20, 4, "trunc"}, {40<<20 + 1, 16, "none"}, {48 << 20, 8, "falloc"},
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("random seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	s := startServer(t, server.Config{Seed: 20, Rate: rate})
	killed := 0
	for round := 0; killed < kills; round++ {
		sc := scenarios[round%len(scenarios)]
		url := s.URL(fmt.Sprintf("/%d", sc.size))
		dir := t.TempDir()
		sent := s.Stats().BodyBytes
		k := 0
		for {
			delay := time.Duration(rng.Int64N(int64(600 * time.Millisecond)))
			cmd := exec.Command(plainBinary, "-q", "-c", "-n", strconv.Itoa(sc.conns), "--file-allocation", sc.alloc,
				"--save-interval", saveEvery.String(), "-o", "f", url)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			timer := time.AfterFunc(delay, func() { cmd.Process.Kill() })
			cmd.Wait()
			timer.Stop()
			if ws := cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() {
				if code := ws.ExitStatus(); code != 0 {
					t.Fatalf("size %d -n %d: exit %d after %d kills\n%s", sc.size, sc.conns, code, k, stderr.String())
				}
				break
			}
			k++
			if ctl, err := reorder.ReadControl(filepath.Join(dir, "f.rangedl")); err == nil {
				checkDurable(t, dir, 20, ctl)
			} else if !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("after kill %d: %v", k, err)
			}
			if k > 500 {
				t.Fatalf("size %d -n %d: no progress after %d kills", sc.size, sc.conns, k)
			}
		}
		killed += k
		checkFile(t, filepath.Join(dir, "f"), 20, sc.size)
		noControlFile(t, dir)
		// Per kill, what the server sent but no record claimed: per connection, what arrives
		// in one save interval (plus time for the sync itself), its partial block in the
		// reorder buffer (256 KiB) and its last read (256 KiB); and 1 MiB for the sockets.
		perKill := int64(sc.conns)*(rate*int64(saveEvery+300*time.Millisecond)/int64(time.Second)+512<<10) + 1<<20
		waste := s.Stats().BodyBytes - sent - sc.size
		t.Logf("size %d -n %d %s: %d kills, %d bytes fetched twice (bound %d)", sc.size, sc.conns, sc.alloc, k, waste, int64(k)*perKill)
		if waste > int64(k)*perKill {
			t.Errorf("size %d -n %d: %d bytes fetched twice over %d kills; want at most %d per kill", sc.size, sc.conns, waste, k, perKill)
		}
	}
}

// TestFileSizeLimit runs rangedl under RLIMIT_FSIZE, which fails writes past the limit with
// EFBIG as a full disk fails them with ENOSPC. With falloc the failure comes before the
// download starts; without allocation it comes mid-download, the progress is kept, and -c
// finishes the file once the limit is gone.
func TestFileSizeLimit(t *testing.T) {
	const size = 16 << 20
	s := startServer(t, server.Config{Seed: 21})
	url := s.URL("/16M")
	limited := func(dir string, args ...string) result {
		// ulimit -f counts 512-byte blocks in sh (POSIX): 16384 blocks = 8 MiB.
		return runIn(t, dir, "sh", append([]string{"-c", `ulimit -f 16384 && exec "$0" "$@"`, binary}, args...)...)
	}

	dir := t.TempDir()
	r := limited(dir, "-o", "f", url)
	want := "rangedl: f (16777216 bytes) is larger than a file may be there (a limit of its filesystem, or ulimit -f): fallocate: file too large\n"
	if r.code != exitIO || r.stderr != want {
		t.Fatalf("falloc: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitIO, want)
	}
	if n := s.Stats().Requests; n != 1 {
		t.Errorf("falloc: %d requests; want only the first (the failure comes before the download)", n)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("falloc: %d files left behind; want none", len(ents))
	}

	r = limited(dir, "-p", "--file-allocation", "none", "-o", "f", url)
	if r.code != exitIO || !regexp.MustCompile(`^rangedl: writing f at byte \d+: file too large\n`+
		`rangedl: f is incomplete \([0-9.]+ [KM]iB of it is saved\); run the same command with -c to continue\n$`).MatchString(r.stderr) {
		t.Fatalf("none: exit %d, stderr %q; want %d and how to continue", r.code, r.stderr, exitIO)
	}
	ctl, err := reorder.ReadControl(filepath.Join(dir, "f.rangedl"))
	if err != nil {
		t.Fatal(err)
	}
	checkDurable(t, dir, 21, ctl)
	r = rangedlIn(t, dir, "-q", "-c", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("-c: exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 21, size)
	noControlFile(t, dir)
}

// TestDiskFull fills a real filesystem: a 10 MiB tmpfs mounted in a mount namespace of the
// test's own (unshare -m, or unshare -rm without root). It is skipped where namespaces are
// not allowed; TestFileSizeLimit covers the same paths with EFBIG.
func TestDiskFull(t *testing.T) {
	const size = 8 << 20
	s := startServer(t, server.Config{Seed: 22})
	url := s.URL("/8M")
	mnt, out := t.TempDir(), t.TempDir()
	stderr := inTmpfs(t, "10m", `
head -c 4194304 /dev/zero > filler
"$BIN" -o f "$URL"; echo "falloc exit $?" >&2
"$BIN" -p --file-allocation none -o f "$URL"; echo "none exit $?" >&2
rm filler
"$BIN" -q -c -o f "$URL"; echo "resume exit $?" >&2
cp f "$OUT/f"
ls -a >&2
`, "MNT="+mnt, "OUT="+out, "URL="+url)
	want := regexp.MustCompile(`^rangedl: not enough room for f \(8388608 bytes\): fallocate: no space left on device\n` +
		`falloc exit 6\n` +
		`rangedl: writing f at byte \d+: no space left on device\n` +
		`rangedl: f is incomplete \([0-9.]+ MiB of it is saved\); run the same command with -c to continue\n` +
		`none exit 6\n` +
		`resume exit 0\n` +
		`\.\n\.\.\nf\n$`)
	if !want.MatchString(stderr) {
		t.Fatalf("got\n%s\nwant it to match\n%s", stderr, want)
	}
	checkFile(t, filepath.Join(out, "f"), 22, size)
}

// TestDiskFullAtFirstWrite: with --file-allocation none on a disk with room for the record
// and no more, the first write fails, and nothing was written: the file goes, with its
// record, and no advice to continue it. Both were left, the file empty, and the same command
// was then refused as a partial download (a review).
func TestDiskFullAtFirstWrite(t *testing.T) {
	s := startServer(t, server.Config{Seed: 22})
	stderr := inTmpfs(t, "4m", `
dd if=/dev/zero of=filler bs=4k count=$(( $(stat -f -c %a .) - 1 )) 2>/dev/null
"$BIN" -q -n 4 --file-allocation none -o f "$URL"; echo "exit $?" >&2
ls -a >&2
`, "MNT="+t.TempDir(), "URL="+s.URL("/8M"))
	if want := "rangedl: writing f at byte 0: no space left on device\nexit 6\n.\n..\nfiller\n"; stderr != want {
		t.Fatalf("got\n%s\nwant\n%s", stderr, want)
	}
}

// TestContinueCompleteSparse: -c on a file as long as the remote one, with no record, finds it
// complete however few of its blocks are on the disk (a sparse copy): nothing is written, so
// no room is asked for. The whole file was allocated, and on a disk too small for it that
// failed: "not enough room" and "incomplete: 8.0 MiB were written", exit 6 (a review).
func TestContinueCompleteSparse(t *testing.T) {
	s := startServer(t, server.Config{Seed: 22})
	stderr := inTmpfs(t, "4m", `
truncate -s 8388608 f
"$BIN" -c -o f "$URL"; echo "exit $?" >&2
`, "MNT="+t.TempDir(), "URL="+s.URL("/8M"))
	if want := "rangedl: f is complete already (8.0 MiB)\nexit 0\n"; stderr != want {
		t.Fatalf("got\n%s\nwant\n%s", stderr, want)
	}
}

// inTmpfs runs script with sh in a mount namespace of its own, in a tmpfs of the given size
// mounted on $MNT (which env must set), with $BIN the rangedl binary, and returns what it wrote
// to standard error. The test is skipped where no tmpfs can be mounted.
func inTmpfs(t *testing.T, size, script string, env ...string) string {
	t.Helper()
	script = "set -u\nmount -t tmpfs -o size=" + size + ` rangedl-test "$MNT" || exit 99
cd "$MNT"
` + script
	args := []string{"-m", "sh", "-c", script}
	if os.Geteuid() != 0 {
		args = append([]string{"-r"}, args...)
	}
	cmd := exec.Command("unshare", args...)
	cmd.Env = append(append(os.Environ(), "BIN="+binary), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 99 || errors.Is(err, exec.ErrNotFound) ||
		(err != nil && bytes.Contains(stderr.Bytes(), []byte("unshare failed"))) {
		t.Skipf("cannot mount a tmpfs here: %v\n%s", err, stderr.String())
	}
	if err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	return stderr.String()
}

// TestContinueOnFullDisk: a list's -c on a full disk leaves every file as it was: one complete
// already is saved (it needs no record), and one whose new record cannot be written keeps its
// old record and says how much of it is saved. Such files were removed: a complete file, and a
// partial one with its progress.
func TestContinueOnFullDisk(t *testing.T) {
	s := startServer(t, server.Config{Seed: 23, Faults: []server.Fault{{Kind: server.ShortBody, Request: 2, Bytes: 512 << 10}}})
	a, b := s.URL("/1000"), s.URL("/2M")
	mnt, out := t.TempDir(), t.TempDir()
	stderr := inTmpfs(t, "8m", `
"$BIN" -q -j 1 -n 1 --retries 0 "$A" "$B" 2>/dev/null; echo "first exit $?" >&2
head -c 16777216 /dev/zero > filler 2>/dev/null
"$BIN" -p -j 1 -n 1 -c "$A" "$B"; echo "full exit $?" >&2
ls -a >&2
rm filler
"$BIN" -q -c "$A" "$B"; echo "resume exit $?" >&2
cp 1000 2M "$OUT"
ls -a >&2
`, "MNT="+mnt, "OUT="+out, "A="+a, "B="+b)
	want := regexp.MustCompile(`^first exit 3\n` +
		`rangedl: 1000 is complete already \(1000 B\)\n` +
		`rangedl: ` + regexp.QuoteMeta(b) + `: cannot start 2M: saving 2M.rangedl: write 2M.rangedl.tmp: no space left on device\n` +
		`rangedl: 2M is incomplete \(512.0 KiB of it is saved\); run the same command with -c to continue\n` +
		`rangedl: 2 files: 1 saved, 1 failed; [^\n]*\n` +
		`full exit 6\n` +
		`\.\n\.\.\n1000\n2M\n2M\.rangedl\nfiller\n` +
		`resume exit 0\n` +
		`\.\n\.\.\n1000\n2M\n$`)
	if !want.MatchString(stderr) {
		t.Fatalf("got\n%s\nwant it to match\n%s", stderr, want)
	}
	checkFile(t, filepath.Join(out, "1000"), 23, 1000)
	checkFile(t, filepath.Join(out, "2M"), 23, 2<<20)
}

// TestResumeFilledXFS: -c of a file that fallocate filled, on an XFS disk with less free room
// than the file, finishes. It was "not enough room" however often it was run: XFS refuses a
// fallocate over blocks it has already when the free room is less than the range (a hunt).
// Root only, with mkfs.xfs (make test installs xfsprogs as root).
func TestResumeFilledXFS(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, for a loop device")
	}
	if _, err := exec.LookPath("mkfs.xfs"); err != nil {
		t.Skip("no mkfs.xfs (xfsprogs)")
	}
	const size = 160 << 20 // of the 236 MiB a 300 MiB XFS has free: more than what is left after it
	s := startServer(t, server.Config{Seed: 25, Faults: []server.Fault{{Kind: server.ShortBody, Request: 1, Bytes: 512 << 10}}})
	url := s.URL(fmt.Sprint("/", size))
	stderr := inTmpfs(t, "400m", `
truncate -s 300M img && mkfs.xfs -q -f img && mkdir fs && mount -o loop img fs && cd fs || exit 99
trap 'cd /; umount "$MNT/fs"' EXIT
"$BIN" -q -n 1 --retries 0 "$URL" 2>/dev/null; echo "first exit $?" >&2
"$BIN" -q -c "$URL"; echo "resume exit $?" >&2
sha256sum `+fmt.Sprint(size)+` >&2
`, "MNT="+t.TempDir(), "URL="+url)
	sum := server.Sum(25, size)
	if want := fmt.Sprintf("first exit 3\nresume exit 0\n%x  %d\n", sum[:], size); stderr != want {
		t.Fatalf("got\n%s\nwant\n%s", stderr, want)
	}
}

// TestFullDiskBtrfs: on btrfs, which writes a block that was written before to a new one, the
// last save after ENOSPC lands, and what its record claims is there. It claimed nothing ("0 B
// of it is saved", with 80 MB on disk): the reserve was written with zeros, and writing the
// record over them needed a block the full disk did not have (a hunt). Root only, with
// mkfs.btrfs (make test installs btrfs-progs as root).
func TestFullDiskBtrfs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root, for a loop device")
	}
	if _, err := exec.LookPath("mkfs.btrfs"); err != nil {
		t.Skip("no mkfs.btrfs (btrfs-progs)")
	}
	const size = 200 << 20 // of the 79 MiB a 160 MiB btrfs has free
	s := startServer(t, server.Config{Seed: 26})
	url, out := s.URL(fmt.Sprint("/", size)), t.TempDir()
	stderr := inTmpfs(t, "300m", `
truncate -s 160M img && mkfs.btrfs -q -f img >/dev/null 2>&1 && mkdir fs && mount -o loop img fs && cd fs || exit 99
trap 'cd /; umount "$MNT/fs"' EXIT
"$BIN" -p --file-allocation none "$URL"; echo "exit $?" >&2
cp `+fmt.Sprint(size)+`* "$OUT"
`, "MNT="+t.TempDir(), "URL="+url, "OUT="+out)
	want := regexp.MustCompile(fmt.Sprintf(`^rangedl: writing %d at byte \d+: no space left on device\n`+
		`rangedl: %d is incomplete \((\d+)\.\d MiB of it is saved\); run the same command with -c to continue\nexit 6\n$`, size, size))
	m := want.FindStringSubmatch(stderr)
	if m == nil {
		t.Fatalf("got\n%s\nwant it to match\n%s", stderr, want)
	}
	if saved, _ := strconv.Atoi(m[1]); saved < 32 {
		t.Errorf("%s MiB saved; want most of the 79 MiB the disk had", m[1])
	}
	ctl, err := reorder.ReadControl(filepath.Join(out, fmt.Sprint(size)+loop.ControlSuffix))
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(out, fmt.Sprint(size)))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range ctl.Durable {
		if r.End > int64(len(data)) || !bytes.Equal(data[r.Start:r.End], content(26, r.Start, r.Len())) {
			t.Fatalf("the record claims %v, which the file does not hold", r)
		}
	}
}

// TestResumeWeakRecord: a record whose ETag was weak (Apache's, for a file changed less than a
// second before the download) continues from a server that now sends the same ETag strong:
// the two are compared weakly (RFC 9110 §8.8.3.2). It was "changed" for ever, exit 5 (a hunt).
func TestResumeWeakRecord(t *testing.T) {
	const size = 4 << 20
	s := startServer(t, server.Config{Seed: 27})
	url := s.URL(fmt.Sprint("/", size))
	dir := t.TempDir()
	partial(t, dir, url, 27, size, []reorder.Range{{Start: 0, End: 1 << 20}})
	ctl, err := reorder.ReadControl(filepath.Join(dir, "f.rangedl"))
	if err != nil {
		t.Fatal(err)
	}
	ctl.ETag = "W/" + ctl.ETag
	b, _ := ctl.MarshalText()
	os.WriteFile(filepath.Join(dir, "f.rangedl"), b, 0o666)
	if r := rangedlIn(t, dir, "-q", "-c", "-o", "f", url); r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 27, size)
}

// TestResumeServerIgnoresRanges: a server that answers 200 to a range request cannot continue
// anything; that is said as it is (not as a changed file), and nothing is written.
func TestResumeServerIgnoresRanges(t *testing.T) {
	s := startServer(t, server.Config{Seed: 23, NoRanges: true})
	url := s.URL("/2M")
	for _, tc := range []struct {
		name  string
		setup func(dir string)
		asked string // from the length, the last byte on disk is asked for again: it gives the size
	}{
		{"from the length", func(dir string) { os.WriteFile(filepath.Join(dir, "f"), content(23, 0, 1<<20), 0o666) }, "1048575"},
		{"from the record", func(dir string) { partial(t, dir, url, 23, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}}) }, "1048576"},
	} {
		dir := t.TempDir()
		tc.setup(dir)
		before, _ := os.ReadFile(filepath.Join(dir, "f"))
		r := rangedlIn(t, dir, "-c", "-o", "f", url)
		want := "rangedl: cannot continue f: " + url + " ignores ranges (it answered HTTP 200 to a request for bytes " + tc.asked + "-); use --overwrite to download it again\n"
		if r.code != exitHTTP || r.stderr != want {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tc.name, r.code, r.stderr, exitHTTP, want)
		}
		if after, _ := os.ReadFile(filepath.Join(dir, "f")); !bytes.Equal(before, after) {
			t.Errorf("%s: the file changed", tc.name)
		}
	}
}

// TestOverwriteDropsOldRecord: --overwrite of a partial download, from a server without
// ranges (so no new record is kept), leaves no old record behind.
func TestOverwriteDropsOldRecord(t *testing.T) {
	s := startServer(t, server.Config{Seed: 24, NoRanges: true})
	url := s.URL("/2M")
	dir := t.TempDir()
	partial(t, dir, url, 24, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
	os.WriteFile(filepath.Join(dir, "f.rangedl.reserve"), make([]byte, 4096), 0o666)
	r := rangedlIn(t, dir, "-q", "--overwrite", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 24, 2<<20)
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("%d files; want only f", len(ents))
	}
}

// TestRefusedLeavesNoTrace: a download refused before it starts (its output exists) leaves no
// --trace file behind, so the same command with -c, which the refusal suggests, can make it.
func TestRefusedLeavesNoTrace(t *testing.T) {
	const size = 1<<20 + 3
	s := startServer(t, server.Config{Seed: 14})
	url := s.URL(fmt.Sprintf("/%d", size))
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "f"), content(14, 0, 1000), 0o666); err != nil {
		t.Fatal(err)
	}
	r := rangedlIn(t, dir, "-q", "--trace", "t.jsonl", "-o", "f", url)
	if r.code != exitUsage {
		t.Fatalf("exit %d; want %d (f exists)\n%s", r.code, exitUsage, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "t.jsonl")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("after the refusal, t.jsonl: %v; want it not there", err)
	}
	r = rangedlIn(t, dir, "-q", "-c", "--trace", "t.jsonl", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("-c: exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 14, size)
	if st, err := os.Stat(filepath.Join(dir, "t.jsonl")); err != nil || st.Size() == 0 {
		t.Fatalf("the trace of the -c run: %v, %v; want it written", st, err)
	}
}

// TestDirSingle: -d makes its directory for a single download too, as for a list.
func TestDirSingle(t *testing.T) {
	s := startServer(t, server.Config{Seed: 15})
	dir := t.TempDir()
	r := rangedlIn(t, dir, "-q", "-d", "new/sub", s.URL("/70000"))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "new", "sub", "70000"), 15, 70000)
}

// TestResumeCannotConnect: a -c that fails before its first answer leaves the file and its
// record as they were, and says so, with what to do, as any failure with a partial file does.
func TestResumeCannotConnect(t *testing.T) {
	s := startServer(t, server.Config{Seed: 24, Faults: []server.Fault{{Kind: server.ShortBody, Bytes: 512 << 10}}})
	dir := t.TempDir()
	r := rangedlIn(t, dir, "-q", "--retries", "0", "-n", "1", "-o", "f", s.URL("/4M"))
	if r.code != exitNetwork {
		t.Fatalf("first run: exit %d; want %d\n%s", r.code, exitNetwork, r.stderr)
	}
	s.Close()
	r = rangedlIn(t, dir, "-c", "-o", "f", s.URL("/4M"))
	if want := "rangedl: f is incomplete (512.0 KiB of it is saved); run the same command with -c to continue\n"; r.code != exitNetwork || !strings.HasSuffix(r.stderr, want) {
		t.Fatalf("-c with the server gone: exit %d\n%s\nwant %d, ending %q", r.code, r.stderr, exitNetwork, want)
	}
}

// TestResumeErrorStatus: a -c answered with an error status, or a redirect that is refused,
// before its first answer is taken leaves the file and its record as they were, and says so,
// with what to do, as a -c that cannot connect does. A failure whose message names another
// command (a flag to add) does not also say to run the same one.
func TestResumeErrorStatus(t *testing.T) {
	ca, _ := testCA(t)
	trusted, err := ca.ServerConfigFor([]string{"127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	fault := func(f server.Fault) server.Config { return server.Config{Seed: 25, Faults: []server.Fault{f}} }
	for _, tc := range []struct {
		name   string
		cfg    server.Config
		args   []string
		code   int
		advice bool
	}{
		{"404", fault(server.Fault{Kind: server.NotFound}), nil, exitHTTP, true},
		{"503", fault(server.Fault{Kind: server.Status503, RetryAfter: -1}), nil, exitHTTP, true},
		{"redirect loop", fault(server.Fault{Kind: server.RedirectLoop}), nil, exitHTTP, true},
		{"redirects past --max-redirects", fault(server.Fault{Kind: server.Redirect, Target: "/elsewhere"}), []string{"--max-redirects", "0"}, exitHTTP, false},
		{"certificate not trusted", server.Config{Seed: 25, TLS: trusted}, nil, exitTLS, false},
	} {
		s := startServer(t, tc.cfg)
		url := s.URL("/2M")
		dir := t.TempDir()
		partial(t, dir, url, 25, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
		before, _ := os.ReadFile(filepath.Join(dir, "f"))
		record, _ := os.ReadFile(filepath.Join(dir, "f.rangedl"))
		r := rangedlIn(t, dir, append([]string{"-c", "--retries", "0", "-o", "f", url}, tc.args...)...)
		const advice = "rangedl: f is incomplete (1.0 MiB of it is saved); run the same command with -c to continue\n"
		lines := 1
		if tc.advice {
			lines = 2
		}
		if r.code != tc.code || strings.HasSuffix(r.stderr, advice) != tc.advice || strings.Count(r.stderr, "\n") != lines {
			t.Errorf("%s: exit %d\n%s\nwant %d, the line %q: %v", tc.name, r.code, r.stderr, tc.code, advice, tc.advice)
		}
		after, _ := os.ReadFile(filepath.Join(dir, "f"))
		recordAfter, _ := os.ReadFile(filepath.Join(dir, "f.rangedl"))
		if !bytes.Equal(before, after) || !bytes.Equal(record, recordAfter) {
			t.Errorf("%s: the file or its record changed", tc.name)
		}
	}
}

// TestResumeNoAddress: a -c whose server has no address to connect to (a name that does not
// resolve; here an IPv4 address under -6, which needs no DNS) leaves the file and its record
// as they were, and says so, as a -c that cannot connect does. A record of another URL, or one
// its file contradicts, is not said to be continued.
func TestResumeNoAddress(t *testing.T) {
	const url = "http://127.0.0.1:9/2M"
	const saved = "rangedl: f is incomplete (1.0 MiB of it is saved); run the same command with -c to continue\n"
	for _, tc := range []struct {
		name   string
		record string // the URL the record is of
		size   int64  // of the file
		want   string
	}{
		{"kept", url, 2 << 20, "rangedl: 127.0.0.1 has no IPv6 address\n" + saved},
		{"another URL's record", "http://127.0.0.1:9/other", 2 << 20, "rangedl: 127.0.0.1 has no IPv6 address\n"},
		{"file shorter than its record", url, 512 << 10, "rangedl: 127.0.0.1 has no IPv6 address\n"},
	} {
		dir := t.TempDir()
		partial(t, dir, tc.record, 26, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
		if err := os.Truncate(filepath.Join(dir, "f"), tc.size); err != nil {
			t.Fatal(err)
		}
		r := rangedlIn(t, dir, "-6", "-c", "-o", "f", url)
		if r.code != exitNetwork || r.stderr != tc.want {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tc.name, r.code, r.stderr, exitNetwork, tc.want)
		}
	}
}

// TestOverwriteEmptiesFirst: a download that keeps no record (here, from a server without
// ranges) empties --overwrite's old file, durably, before it removes the old record. In the
// other order a crash between the two left the old partial file, at its full length, without
// its record, and -c took it for complete. The crash is stood in for by a record that cannot
// be removed (a directory with a file in it): the old content must be gone already.
func TestOverwriteEmptiesFirst(t *testing.T) {
	s := startServer(t, server.Config{Seed: 24, NoRanges: true})
	url := s.URL("/2M")
	dir := t.TempDir()
	partial(t, dir, url, 24, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
	record := filepath.Join(dir, "f.rangedl")
	if err := os.Remove(record); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(record, "in"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := rangedlIn(t, dir, "-q", "--overwrite", "-o", "f", url)
	if want := "cannot remove f.rangedl"; r.code != exitIO || !strings.Contains(r.stderr, want) {
		t.Fatalf("exit %d\n%s\nwant %d and %q", r.code, r.stderr, exitIO, want)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || len(b) != 0 {
		t.Fatalf("f after the failure: %d bytes, %v; want it empty, its old content gone before the record", len(b), err)
	}
}

// TestTraceIsOutput: --trace naming the output by another spelling (an absolute path, a link
// to its directory, a link to the file) is refused before anything is written, with or
// without --overwrite; before, the trace's lines went into the "saved" file.
func TestTraceIsOutput(t *testing.T) {
	s := startServer(t, server.Config{Seed: 31})
	url := s.URL("/100000")
	dir := t.TempDir()
	if err := os.Symlink(".", filepath.Join(dir, "here")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("y", filepath.Join(dir, "to-y")); err != nil {
		t.Fatal(err)
	}
	old := []byte("old content\n")
	for _, trace := range []string{filepath.Join(dir, "y"), "here/y", "to-y"} {
		for _, flags := range [][]string{{"--overwrite"}, nil} {
			if err := os.WriteFile(filepath.Join(dir, "y"), old, 0o644); err != nil {
				t.Fatal(err)
			}
			args := append(append([]string{"-q"}, flags...), "--trace", trace, "-o", "y", url)
			r := rangedlIn(t, dir, args...)
			want := "rangedl: --trace " + trace + ": that is the output file, or its record\n"
			if r.code != exitUsage || r.stderr != want {
				t.Errorf("%q: exit %d, stderr %q; want %d, %q", args, r.code, r.stderr, exitUsage, want)
			}
			if b, _ := os.ReadFile(filepath.Join(dir, "y")); !bytes.Equal(b, old) {
				t.Errorf("%q: y holds %d bytes %.40q; want its old content", args, len(b), b)
			}
		}
	}
}

// TestTraceLinks: a --trace that leads elsewhere is written there and left in place; one that
// leads nowhere, or to a name the download is about to use, is refused before anything is
// made. A link to /dev/null was removed after the download (its size is 0: "nothing traced"),
// a link to the output not made yet got the trace and then the download's bytes with it ("saved",
// exit 0), and a trace named as the record was replaced by it.
func TestTraceLinks(t *testing.T) {
	s := startServer(t, server.Config{Seed: 32})
	url := s.URL("/100000")
	for _, tc := range []struct {
		links      [][2]string // name, target
		args       []string
		code       int
		stderr     string
		kept, gone []string
	}{
		{[][2]string{{"null", "/dev/null"}}, []string{"--overwrite", "--trace", "null", "-o", "f"}, 0, "", []string{"null", "f"}, nil},
		{[][2]string{{"to-f", "f"}}, []string{"--overwrite", "--trace", "to-f", "-o", "f"}, exitUsage,
			"rangedl: --trace to-f is a symbolic link that leads to no file; give another name\n", []string{"to-f"}, []string{"f"}},
		{[][2]string{{"to-t", "t"}}, []string{"--overwrite", "--trace", "t", "-o", "to-t"}, exitUsage,
			"rangedl: --trace t: that is the output file, or its record\n", []string{"to-t"}, []string{"t"}},
		{nil, []string{"--trace", "f.rangedl", "-o", "f"}, exitUsage,
			"rangedl: --trace f.rangedl: that is the output file, or its record\n", nil, []string{"f", "f.rangedl"}},
		{[][2]string{{"t", "/dev/null"}}, []string{"-c", "--trace", "t", "-o", "f"}, exitUsage,
			"rangedl: --trace t already exists; remove it, or give another name\n", []string{"t"}, []string{"f"}},
	} {
		dir := t.TempDir()
		for _, l := range tc.links {
			if err := os.Symlink(l[1], filepath.Join(dir, l[0])); err != nil {
				t.Fatal(err)
			}
		}
		r := rangedlIn(t, dir, append(append([]string{"-q"}, tc.args...), url)...)
		if r.code != tc.code || r.stderr != tc.stderr {
			t.Errorf("%q: exit %d, stderr %q; want %d, %q", tc.args, r.code, r.stderr, tc.code, tc.stderr)
		}
		for _, name := range tc.kept {
			if _, err := os.Lstat(filepath.Join(dir, name)); err != nil {
				t.Errorf("%q: %v; want %s kept", tc.args, err, name)
			}
		}
		for _, name := range tc.gone {
			if _, err := os.Lstat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%q: %s is there (%v); want nothing made", tc.args, name, err)
			}
		}
	}
	if _, err := os.Stat("/dev/null"); err != nil {
		t.Fatal(err)
	}
}

// TestResumeRecordOfNothing: -c with a record that claims no bytes, beside a file longer than
// the record's size (an --overwrite killed after its first record, before it emptied the old
// file), downloads the file from the start; it used to be refused as "longer" (exit 6).
func TestResumeRecordOfNothing(t *testing.T) {
	s := startServer(t, server.Config{Seed: 24})
	url := s.URL("/2M")
	dir := t.TempDir()
	partial(t, dir, url, 24, 2<<20, nil)
	if err := os.Truncate(filepath.Join(dir, "f"), 3<<20); err != nil {
		t.Fatal(err)
	}
	r := rangedlIn(t, dir, "-q", "-c", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 24, 2<<20)
	noControlFile(t, dir)
}

// TestResumeInterruptedEarly: a -c interrupted before its first answer keeps the file and its
// record, and says what to do, as one that cannot connect does; it used to say only
// "interrupted".
func TestResumeInterruptedEarly(t *testing.T) {
	s := startServer(t, server.Config{Seed: 24, Latency: 5 * time.Second})
	url := s.URL("/2M")
	dir := t.TempDir()
	partial(t, dir, url, 24, 2<<20, []reorder.Range{{Start: 0, End: 1 << 20}})
	cmd := exec.Command(plainBinary, "-c", "-o", "f", url)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for s.Stats().Requests == 0 {
		time.Sleep(10 * time.Millisecond)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	want := "rangedl: f is incomplete (1.0 MiB of it is saved); run the same command with -c to continue\n"
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitInterrupted || !strings.HasSuffix(stderr.String(), want) {
		t.Fatalf("err %v, stderr %q; want exit %d, ending %q", err, stderr.String(), exitInterrupted, want)
	}
	if ctl, err := reorder.ReadControl(filepath.Join(dir, "f.rangedl")); err != nil || !reflect.DeepEqual(ctl.Durable, []reorder.Range{{Start: 0, End: 1 << 20}}) {
		t.Errorf("record after the interrupt: %v; want bytes 0-1048575, as it was", err)
	}
}

// TestResumeChangedWithoutRanges: a 200 to a resumed request that contradicts the record (the
// recorded validators on another size; no validator recorded, and another size; a weak ETag,
// which If-Range cannot carry, that is not the one recorded) is a changed remote file, exit 5,
// which --restart-if-changed downloads again. It was taken for a server that ignores ranges
// (exit 4), which --restart-if-changed does not start over.
func TestResumeChangedWithoutRanges(t *testing.T) {
	s := startServer(t, server.Config{Seed: 45, NoRanges: true})
	url := s.URL("/2M")
	for _, tc := range []struct {
		name          string
		size          int64
		etag, lastMod string
	}{
		{"the recorded validators, another size", 3 << 20, etagOf(45, 2<<20), lastModOf1},
		{"no validator recorded, another size", 3 << 20, "", ""},
		{"another weak ETag", 2 << 20, `W/"other"`, ""},
	} {
		dir := t.TempDir()
		partial(t, dir, url, 45, tc.size, []reorder.Range{{Start: 0, End: 1 << 20}})
		ctl, _ := reorder.ReadControl(filepath.Join(dir, "f.rangedl"))
		ctl.ETag, ctl.LastModified = tc.etag, tc.lastMod
		b, _ := ctl.MarshalText()
		os.WriteFile(filepath.Join(dir, "f.rangedl"), b, 0o666)
		r := rangedlIn(t, dir, "-c", "-o", "f", url)
		want := "rangedl: cannot continue f: the remote file changed (" + url + " answered with the whole file (HTTP 200) instead of bytes 1048576-)\n" +
			"rangedl: f was left as it was; use -c --restart-if-changed to download the new version\n"
		if r.code != exitIntegrity || r.stderr != want {
			t.Errorf("%s: exit %d, stderr %q; want %d, %q", tc.name, r.code, r.stderr, exitIntegrity, want)
			continue
		}
		if r = rangedlIn(t, dir, "-q", "-c", "--restart-if-changed", "-o", "f", url); r.code != exitOK {
			t.Errorf("%s, --restart-if-changed: exit %d; want 0\n%s", tc.name, r.code, r.stderr)
			continue
		}
		checkFile(t, filepath.Join(dir, "f"), 45, 2<<20)
		noControlFile(t, dir)
	}
}

// TestResumeCompleteWholeRange: -c of a file as long as the remote one, from a server that
// answers 200 with a Content-Range of the whole file, is complete (exit 0), as it is without
// the Content-Range; it was refused as a server that ignores ranges (exit 4).
func TestResumeCompleteWholeRange(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	body := content(46, 0, 1000)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				if _, err := http.ReadRequest(bufio.NewReader(c)); err == nil {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Range: bytes 0-999/1000\r\nContent-Length: 1000\r\n\r\n")
					c.Write(body)
				}
			}()
		}
	}()
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), body, 0o666)
	r := rangedlIn(t, dir, "-c", "-o", "f", "http://"+ln.Addr().String()+"/f")
	if want := "rangedl: f is complete already (1000 B)\n"; r.code != exitOK || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want 0, %q", r.code, r.stderr, want)
	}
	checkFile(t, filepath.Join(dir, "f"), 46, 1000)
}

// TestRecordLeft: a file completed in a directory made read-only meanwhile cannot lose its
// record (an immutable directory: root ignores permission bits). The file is whole and synced,
// and one line says so and what to delete: no "incomplete" line, and in a list no next mirror,
// which could only fail the same way. A -c, once the directory can be written, removes it. In
// an append-only directory the saves after it fail too, and leave their temporary file: the
// line names it as well.
func TestRecordLeft(t *testing.T) {
	const size = 4 << 20
	s := startServer(t, server.Config{Seed: 31, Rate: 1 << 20})
	url := s.URL("/4M")
	lines := map[string]string{
		"single": "rangedl: f is complete and synced; delete its record by hand (f.rangedl, f.rangedl.reserve), which rangedl cannot remove: operation not permitted\n",
		"list": "rangedl: " + url + ": d/4M is complete and synced; delete its record by hand (d/4M.rangedl, d/4M.rangedl.reserve), which rangedl cannot remove: operation not permitted\n" +
			"rangedl: 1 file: 0 saved, 1 failed; ",
		"append-only": "rangedl: f is complete and synced; delete its record by hand (f.rangedl, f.rangedl.reserve, f.rangedl.tmp), which rangedl cannot remove: operation not permitted\n",
	}
	for name, args := range map[string][]string{
		"single":      {"-p", "-n", "2", "-o", "f", url},
		"list":        {"-p", "-n", "2", "-d", "d", "-i", "../list"},
		"append-only": {"-p", "-n", "2", "-o", "f", url},
	} {
		t.Run(name, func(t *testing.T) {
			attr := "i"
			if name == "append-only" {
				attr = "a"
			}
			dir := filepath.Join(t.TempDir(), "d")
			if err := os.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			os.WriteFile(filepath.Join(dir, "../list"), []byte(url+"\t"+url+"?rate=2000000\n"), 0o666)
			cmd := exec.Command(binary, args...)
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			out := filepath.Join(dir, "f")
			if name == "list" {
				out = filepath.Join(dir, "d", "4M")
			}
			waitFor(t, func() bool { _, err := os.Stat(out + ".rangedl"); return err == nil })
			locked := filepath.Dir(out)
			if b, err := exec.Command("chattr", "+"+attr, locked).CombinedOutput(); err != nil {
				cmd.Process.Kill()
				cmd.Wait()
				t.Skipf("cannot set a directory's attribute %s here: %v %s", attr, err, b)
			}
			t.Cleanup(func() { exec.Command("chattr", "-"+attr, locked).Run() })
			cmd.Wait()
			got := stderr.String()
			if name == "list" { // the summary's time varies
				got = got[:min(len(got), len(lines[name]))]
			}
			if code := cmd.ProcessState.ExitCode(); code != exitIO || got != lines[name] {
				t.Fatalf("exit %d, stderr\n%s\nwant %d and\n%s", code, stderr.String(), exitIO, lines[name])
			}
			checkFile(t, out, 31, size)
			if err := exec.Command("chattr", "-"+attr, locked).Run(); err != nil {
				t.Fatal(err)
			}
			if r := rangedlIn(t, dir, append([]string{"-q", "-c"}, args[1:]...)...); r.code != 0 {
				t.Fatalf("-c: exit %d\n%s", r.code, r.stderr)
			}
			checkFile(t, out, 31, size)
			for _, name := range []string{".rangedl", ".rangedl.reserve", ".rangedl.tmp"} {
				if _, err := os.Lstat(out + name); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("after -c, %s: %v; want it removed", filepath.Base(out+name), err)
				}
			}
		})
	}
}
