//go:build linux

package main

import (
	"fmt"
	"net/netip"
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
	if err := unix.Bind(fd, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
		t.Skipf("cannot bind 127.0.0.1:%d for the dead address: %v", port, err)
	}
	if err := unix.Listen(fd, 0); err != nil {
		t.Fatal(err)
	}
	filler, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(filler) })
	if err := unix.Connect(filler, &unix.SockaddrInet4{Port: port, Addr: [4]byte{127, 0, 0, 1}}); err != nil {
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
