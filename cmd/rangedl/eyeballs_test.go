//go:build linux

package main

import (
	"bytes"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
	"golang.org/x/sys/unix"
)

// blackhole listens on 127.0.0.1:port with a backlog of 0 and never accepts, and fills that
// backlog: further connects get no answer at all (the kernel drops their SYNs), as with an
// address whose route is dead.
func blackhole(t *testing.T, port int) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1) // past the TIME_WAIT of a server closed there
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("cannot bind 127.0.0.1:%d for the dead address: %v", port, err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	// Not waited for: a connect of rangedl's may have filled the backlog first (its SYN then
	// in the queue), and this one would wait out the kernel's SYN retries.
	filler, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC|unix.SOCK_NONBLOCK, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(filler) })
	if err := unix.Connect(filler, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil && err != unix.EINPROGRESS {
		t.Fatal(err)
	}
}

// TestHappyEyeballs: a name whose first address never answers (IPv4 here) still downloads via
// the next one (IPv6), which is tried 250 ms later instead of after the connect timeout.
func TestHappyEyeballs(t *testing.T) {
	s := startServer(t, server.Config{Addr: "[::1]:0", Seed: 61})
	port := netip.MustParseAddrPort(s.Addr()).Port()
	blackhole(t, int(port))
	url := fmt.Sprintf("http://dual.test:%d/4M", port)
	start := time.Now()
	r := rangedl(t, "-p", "-n", "2", "--resolve", fmt.Sprintf("dual.test:%d:127.0.0.1,::1", port), "--trace", "trace.json", "-o", "f", url)
	elapsed := time.Since(start)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 61, 4<<20)
	evs := readTrace(t, filepath.Join(r.out, "trace.json"))
	var opens []string
	var second float64
	for _, e := range evs {
		if e.Event == "open" {
			opens = append(opens, e.Addr)
			if len(opens) == 2 {
				second = e.T
			}
		}
	}
	if len(opens) < 2 || !strings.HasPrefix(opens[0], "127.0.0.1:") || !strings.HasPrefix(opens[1], "[::1]:") {
		t.Fatalf("connections opened to %v; want 127.0.0.1 first, then ::1", opens)
	}
	if second < 0.2 || second > 1 {
		t.Errorf("the second address was tried after %.3fs; want about 0.25s", second)
	}
	lost := false
	for _, e := range evs {
		lost = lost || (e.Event == "close" && e.Conn == 1 && e.Reason == "another address connected first")
	}
	if !lost {
		t.Error("the attempt to the dead address was not closed when ::1 won")
	}
	for _, a := range opens[2:] {
		if !strings.HasPrefix(a, "[::1]:") {
			t.Errorf("a later connection went to %s; want the address that worked", a)
		}
	}
	t.Logf("second attempt after %.3fs; whole run %v", second, elapsed)
}

// TestHappyEyeballsList: in a list of more files than --max-per-host, each file's attempt at
// the dead address leaves room for its attempt at the next one. Held to the limit, the 16
// attempts at the dead address filled it, and the files waited out the connect timeout. A
// single download counts only the connection that won.
func TestHappyEyeballsList(t *testing.T) {
	dir, port := deadFirst(t, server.Config{Seed: 62}, 20)
	start := time.Now()
	r := rangedlIn(t, dir, "-q", "--connect-timeout", "20s", "--resolve", fmt.Sprintf("dual.test:%d:127.0.0.1,::1", port), "-i", "list")
	if elapsed := time.Since(start); r.code != 0 || elapsed > 10*time.Second {
		t.Fatalf("exit %d after %v; want 0, well before the connect timeout (20s)\n%s", r.code, elapsed, r.stderr)
	}
	for i := range 20 {
		checkFile(t, filepath.Join(r.out, fmt.Sprintf("f%d", i)), 62, 1000)
	}
	// One connection carried the download: the attempt that lost is none (it said 2).
	r = rangedlIn(t, dir, "-n", "1", "--resolve", fmt.Sprintf("dual.test:%d:127.0.0.1,::1", port), "-o", "one", fmt.Sprintf("http://dual.test:%d/1000", port))
	if r.code != 0 || !strings.HasSuffix(r.stderr, ", 1 connection\n") {
		t.Errorf("one connection: exit %d, stderr %q; want 0, a line ending in %q", r.code, r.stderr, ", 1 connection")
	}
}

// TestHappyEyeballsRemembered: a list's file goes first to the address its server was last
// reached at. Racing the addresses afresh, each file from a server that closes every
// connection (so none is parked for the next) waited 250 ms for its attempt at the dead
// address first: 40 files one at a time took 10.2 s.
func TestHappyEyeballsRemembered(t *testing.T) {
	const files = 40
	dir, port := deadFirst(t, server.Config{Seed: 62, NoKeepAlive: true}, files)
	start := time.Now()
	r := rangedlIn(t, dir, "-q", "-j", "1", "--resolve", fmt.Sprintf("dual.test:%d:127.0.0.1,::1", port), "-i", "list")
	if elapsed := time.Since(start); r.code != 0 || elapsed > files*attemptDelay/2 {
		t.Fatalf("exit %d after %v; want 0, in well under the %v that %d races at the dead address take\n%s", r.code, elapsed, files*attemptDelay, files, r.stderr)
	}
	for i := range files {
		checkFile(t, filepath.Join(r.out, fmt.Sprintf("f%d", i)), 62, 1000)
	}
}

// attemptDelay is how long an attempt at one address has before the next is tried beside it
// (loop's attemptDelay, which the test cannot see).
const attemptDelay = 250 * time.Millisecond

// deadFirst starts a server of cfg on ::1, makes 127.0.0.1 at its port a dead address, and
// writes a list of files entries of 1000 bytes from dual.test, saved as f0, f1... (for
// --resolve dual.test:PORT:127.0.0.1,::1). It returns the list's directory and the port.
func deadFirst(t *testing.T, cfg server.Config, files int) (string, uint16) {
	cfg.Addr = "[::1]:0"
	s := startServer(t, cfg)
	port := netip.MustParseAddrPort(s.Addr()).Port()
	blackhole(t, int(port))
	var list strings.Builder
	for i := range files {
		fmt.Fprintf(&list, "http://dual.test:%d/1000\n  out=f%d\n", port, i)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "list"), []byte(list.String()), 0o666); err != nil {
		t.Fatal(err)
	}
	return dir, port
}

// TestAddressFailover: the address every connection went to goes dead in the middle of the
// download (its server gone, its connects unanswered). New connections go to the name's next
// address. Before, they all went on to the dead one, whose connect timeouts used up the
// retries: exit 3 while the other address served the file (a netns review).
func TestAddressFailover(t *testing.T) {
	const size = 32 << 20
	a, err := server.Start(server.Config{Addr: "127.0.0.1:0", Seed: 62, Rate: 2 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	port := int(netip.MustParseAddrPort(a.Addr()).Port())
	b := startServer(t, server.Config{Addr: fmt.Sprintf("[::1]:%d", port), Seed: 62, Rate: 2 << 20})
	dir := t.TempDir()
	cmd := exec.Command(binary, "-p", "-n", "4", "--connect-timeout", "1s", "--stall-timeout", "2s",
		"--resolve", fmt.Sprintf("two.test:%d:127.0.0.1,::1", port), "--trace", "trace.json", "-o", "f", fmt.Sprintf("http://two.test:%d/32M", port))
	var stderr bytes.Buffer
	cmd.Dir, cmd.Stderr = dir, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	awaitBody(t, a, cmd, 4<<20)
	a.Close()
	blackhole(t, port)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%v\n%s", err, stderr.String())
		}
	case <-time.After(runTimeout):
		cmd.Process.Kill()
		t.Fatalf("still running after %v", runTimeout)
	}
	checkFile(t, filepath.Join(dir, "f"), 62, size)
	if b.Stats().BodyBytes == 0 {
		t.Error("nothing came from ::1")
	}
	if evs := readTrace(t, filepath.Join(dir, "trace.json")); count(evs, "address") == 0 {
		t.Error("no address event in the trace")
	}
}
