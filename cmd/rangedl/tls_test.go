package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
	"github.com/rangedl/rangedl/reorder"
)

// testCA makes a CA for the test and writes its certificate where --cacert can read it.
func testCA(t *testing.T) (*server.TestCA, string) {
	t.Helper()
	ca, err := server.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(path, ca.PEM, 0o666); err != nil {
		t.Fatal(err)
	}
	return ca, path
}

func startTLSServer(t *testing.T, ca *server.TestCA, cfg server.Config) *server.Server {
	t.Helper()
	tc, err := ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	cfg.TLS = tc
	return startServer(t, cfg)
}

func TestHTTPS(t *testing.T) {
	ca, caFile := testCA(t)
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0"} {
		s := startTLSServer(t, ca, server.Config{Addr: addr, Seed: 31})
		const size = 40<<20 + 3
		url := s.URL(fmt.Sprintf("/%d", size))
		r := rangedl(t, "-q", "--cacert", caFile, "-n", "8", "-o", "f", url)
		if r.code != 0 {
			t.Fatalf("%s: exit %d\n%s", url, r.code, r.stderr)
		}
		checkFile(t, filepath.Join(r.out, "f"), 31, size)
		if got := s.Stats().BodyBytes; got != size {
			t.Errorf("%s: server sent %d body bytes; want %d", url, got, size)
		}
	}
}

func TestHTTPSRefused(t *testing.T) {
	ca, caFile := testCA(t)
	s := startTLSServer(t, ca, server.Config{Seed: 32})
	url := s.URL("/1M")
	r := rangedl(t, "-o", "f", url)
	want := "rangedl: the certificate of " + s.Addr() + " is not signed by a trusted authority; use --cacert FILE to trust its CA, or -k to skip the check\n"
	if r.code != exitTLS || r.stderr != want {
		t.Fatalf("no --cacert: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitTLS, want)
	}
	if ents, _ := os.ReadDir(r.out); len(ents) != 0 {
		t.Errorf("files left after a refused certificate: %d", len(ents))
	}

	r = rangedl(t, "-k", "-p", "-o", "f", url)
	if r.code != 0 || !regexp.MustCompile(`^rangedl: warning: -k: the server's certificate is not checked; anyone on the path can read and change the download\nrangedl: saved f: `).MatchString(r.stderr) {
		t.Fatalf("-k: exit %d, stderr %q; want 0 with the warning", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 32, 1<<20)

	// A list says it once, not once per file.
	r = rangedl(t, "-k", "-p", "-d", "d", s.URL("/a/1M"), s.URL("/b/2M"), s.URL("/c/3M"))
	if n := strings.Count(r.stderr, "warning: -k"); r.code != 0 || n != 1 {
		t.Fatalf("-k, a list of three: exit %d, %d warnings; want 0 and one\n%s", r.code, n, r.stderr)
	}

	plain := startServer(t, server.Config{})
	r = rangedl(t, "-o", "f", strings.Replace(plain.URL("/1M"), "http://", "https://", 1))
	if want := "rangedl: " + plain.Addr() + " does not answer in TLS (is it a plain http:// server?)\n"; r.code != exitTLS || r.stderr != want {
		t.Errorf("https to an http server: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitTLS, want)
	}

	now := time.Now()
	for _, tc := range []struct {
		name        string
		hosts       []string
		from, until time.Time
		want        string
	}{
		{"wrong name", []string{"example.com"}, now.Add(-time.Hour), now.Add(time.Hour),
			`^rangedl: the certificate of 127\.0\.0\.1:\d+ is for another name \(\[example\.com\]\)\n$`},
		{"expired", []string{"127.0.0.1"}, now.Add(-48 * time.Hour), now.Add(-24 * time.Hour),
			`^rangedl: the certificate of 127\.0\.0\.1:\d+ has expired or is not valid yet \(current time .* is after .*\)\n$`},
	} {
		cfg, err := ca.ServerConfigFor(tc.hosts, tc.from, tc.until)
		if err != nil {
			t.Fatal(err)
		}
		s := startServer(t, server.Config{TLS: cfg})
		r := rangedl(t, "--cacert", caFile, "-o", "f", s.URL("/1M"))
		if r.code != exitTLS || !regexp.MustCompile(tc.want).MatchString(r.stderr) {
			t.Errorf("%s: exit %d, stderr %q; want %d, %s", tc.name, r.code, r.stderr, exitTLS, tc.want)
		}
	}
}

// TestHTTPSResume: -c over https fetches exactly the missing bytes.
func TestHTTPSResume(t *testing.T) {
	ca, caFile := testCA(t)
	s := startTLSServer(t, ca, server.Config{Seed: 33})
	const size = 8 << 20
	url := s.URL("/8M")
	dir := t.TempDir()
	partial(t, dir, url, 33, size, []reorder.Range{{Start: 0, End: 3 << 20}, {Start: 4 << 20, End: 5 << 20}})
	r := rangedlIn(t, dir, "-q", "-c", "--cacert", caFile, "-n", "4", "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(dir, "f"), 33, size)
	if got := s.Stats().BodyBytes; got != size-4<<20 {
		t.Errorf("server sent %d body bytes; want exactly the %d missing", got, size-4<<20)
	}
}

func TestHTTPSNoGoroutinePerConnection(t *testing.T) {
	ca, caFile := testCA(t)
	one := goroutines(t, startTLSServer(t, ca, server.Config{Rate: 1 << 20}), "1", "--cacert", caFile)
	many := goroutines(t, startTLSServer(t, ca, server.Config{Rate: 1 << 20}), "64", "--cacert", caFile)
	if one != many {
		t.Errorf("goroutines over https: %d at -n 1, %d at -n 64; want the same", one, many)
	}
	t.Logf("goroutines over https: %d at -n 1 and at -n 64", one)
}

// TestSetupTimeout: a server that accepts and never answers the TLS handshake fails the
// download after --connect-timeout, however short --stall-timeout is, and the line says it
// was the handshake (it said "connect timed out", which had worked).
func TestSetupTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	start := time.Now()
	r := rangedl(t, "--stall-timeout", "500ms", "--connect-timeout", "1500ms", "-o", "f", "https://"+ln.Addr().String()+"/x")
	want := "rangedl: cannot connect to " + ln.Addr().String() + ": TLS handshake timed out after 1.5s\n"
	if r.code != exitNetwork || r.stderr != want {
		t.Fatalf("exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitNetwork, want)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v", d)
	}
}
