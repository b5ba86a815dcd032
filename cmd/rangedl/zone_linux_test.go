package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
	"golang.org/x/sys/unix"
)

// A netns is a network namespace of a test's own, in which lo is up and also has the
// link-local address fe80::1: the one place a test may reach an address that needs a zone.
// Its functions run on a thread that lives in the namespace, so the sockets they open and the
// processes they start are in it too.
type netns struct{ do chan func() }

// newNetns makes one, or skips the test where that takes a privilege the test lacks.
func newNetns(t *testing.T) *netns {
	t.Helper()
	ns := &netns{do: make(chan func())}
	ready := make(chan error)
	go func() {
		// Never unlocked: the thread ends with this goroutine, and the namespace with it.
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_NEWNET); err != nil {
			ready <- fmt.Errorf("unshare: %v", err)
			return
		}
		for _, args := range [][]string{{"link", "set", "lo", "up"}, {"-6", "addr", "add", "fe80::1/64", "dev", "lo"}} {
			if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
				ready <- fmt.Errorf("ip %s: %v %s", strings.Join(args, " "), err, out)
				return
			}
		}
		ready <- nil
		for f := range ns.do {
			f()
		}
	}()
	if err := <-ready; err != nil {
		t.Skipf("no network namespace of the test's own: %v", err)
	}
	t.Cleanup(func() { close(ns.do) })
	return ns
}

// run calls f in the namespace.
func (ns *netns) run(f func()) {
	done := make(chan struct{})
	ns.do <- func() { f(); close(done) }
	<-done
}

// start starts cmd in the namespace.
func (ns *netns) start(cmd *exec.Cmd) (err error) {
	ns.run(func() { err = cmd.Start() })
	return err
}

// TestIPv6Zone downloads from a link-local address, which only its zone makes reachable, and
// checks that the zone, which names an interface of this machine, never reaches the server.
func TestIPv6Zone(t *testing.T) {
	ns := newNetns(t)
	ca, caFile := testCA(t)
	tc, err := ca.ServerConfigFor([]string{"fe80::1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	start := func(cfg server.Config) (s *server.Server) {
		ns.run(func() { s, err = server.Start(cfg) })
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}
	plain := start(server.Config{Addr: "[fe80::1%lo]:0", Seed: 61})
	secure := start(server.Config{Addr: "[fe80::1%lo]:0", Seed: 61, TLS: tc})
	// No proxy can reach a link of this machine: neither of these is used.
	viaProxies := func(cmd *exec.Cmd) error {
		cmd.Env = append(os.Environ(), "http_proxy=http://127.0.0.1:1", "https_proxy=http://127.0.0.1:1")
		return ns.start(cmd)
	}
	const size = 3<<20 + 5
	path := fmt.Sprintf("/%d", size)
	for _, tt := range []struct {
		url   string
		start func(*exec.Cmd) error
		flags []string
	}{
		{plain.URL(path), ns.start, nil},                                      // the zone by name: [fe80::1%25lo]
		{strings.Replace(plain.URL(path), "%25lo", "%251", 1), ns.start, nil}, // by index: a new namespace's lo is 1
		{secure.URL(path), ns.start, nil},                                     // the certificate is for fe80::1, without a zone
		{plain.URL(path), viaProxies, nil},
		{secure.URL(path), ns.start, []string{"--proxy", "127.0.0.1:1"}},
	} {
		dir := t.TempDir()
		args := append([]string{"-q", "--cacert", caFile, "-n", "3", "-s", "1M", "-o", "f", tt.url}, tt.flags...)
		r := startIn(t, dir, tt.start, binary, args...)
		if r.code != 0 {
			t.Fatalf("%v: exit %d\n%s", args, r.code, r.stderr)
		}
		checkFile(t, filepath.Join(dir, "f"), 61, size)
	}
	for _, s := range []*server.Server{plain, secure} {
		_, port, _ := strings.Cut(s.Addr(), "]:")
		reqs := s.Requests()
		if len(reqs) < 3 {
			t.Errorf("%s: %d requests; want 3 or more", s.Addr(), len(reqs))
		}
		for _, req := range reqs {
			if got, want := req.Header.Get("Host"), "[fe80::1]:"+port; got != want {
				t.Errorf("%s: Host %q; want %q", s.Addr(), got, want)
			}
		}
	}
	// Without its zone the address cannot be reached (connect: invalid argument, exit 3, as
	// it was): that is said before any connect.
	url := strings.Replace(plain.URL(path), "%25lo", "", 1)
	r := startIn(t, t.TempDir(), ns.start, binary, "-o", "f", url)
	want := fmt.Sprintf("rangedl: bad URL %q: host \"fe80::1\": a link-local address takes a zone that names the interface, as in http://[fe80::1%%25eth0]/\n", url)
	if r.code != exitUsage || r.stderr != want {
		t.Errorf("%s: exit %d, %q; want exit %d, %q", url, r.code, r.stderr, exitUsage, want)
	}
}
