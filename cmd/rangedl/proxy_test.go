package main

import (
	"encoding/base64"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangedl/rangedl/bench/proxy"
	"github.com/rangedl/rangedl/bench/server"
)

func startProxy(t *testing.T, cfg proxy.Config) *proxy.Proxy {
	t.Helper()
	p, err := proxy.Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

// TestProxyHTTP: plain http through a proxy sends absolute-form requests to it.
func TestProxyHTTP(t *testing.T) {
	s := startServer(t, server.Config{Seed: 51})
	p := startProxy(t, proxy.Config{User: "u", Pass: "pw"})
	url := s.URL("/8M")
	r := rangedl(t, "-q", "-n", "4", "--proxy", p.URL("u", "pw"), "-o", "f", url)
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 51, 8<<20)
	reqs := p.Requests()
	auth := "Basic " + base64.StdEncoding.EncodeToString([]byte("u:pw"))
	if len(reqs) == 0 || len(reqs) != len(s.Requests()) {
		t.Fatalf("proxy saw %d requests, server %d; want all through the proxy", len(reqs), len(s.Requests()))
	}
	for _, req := range reqs {
		if req.Method != "GET" || req.Target != url || req.Auth != auth {
			t.Errorf("proxy got %s %s (auth %q); want GET %s with %q", req.Method, req.Target, req.Auth, url, auth)
		}
	}
	for _, req := range s.Requests() {
		if req.Header.Get("Proxy-Authorization") != "" {
			t.Error("the server got the proxy's credentials")
		}
	}
}

// TestProxyHTTPS: https through a proxy tunnels every connection with CONNECT.
func TestProxyHTTPS(t *testing.T) {
	ca, caFile := testCA(t)
	s := startTLSServer(t, ca, server.Config{Seed: 52})
	p := startProxy(t, proxy.Config{})
	r := rangedl(t, "-q", "-n", "4", "--cacert", caFile, "--proxy", p.URL("", ""), "-o", "f", s.URL("/8M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 52, 8<<20)
	reqs := p.Requests()
	if len(reqs) == 0 || int64(len(reqs)) != s.Stats().Conns {
		t.Fatalf("proxy saw %d CONNECTs, server %d connections; want one per connection", len(reqs), s.Stats().Conns)
	}
	for _, req := range reqs {
		if req.Method != "CONNECT" || req.Target != s.Addr() {
			t.Errorf("proxy got %s %s; want CONNECT %s", req.Method, req.Target, s.Addr())
		}
	}
}

// TestProxyTunnelLimit: a proxy that opens two tunnels at a time and answers 503 to the next
// CONNECT, as one that limits each client does. Once a tunnel has worked, the refusals mean
// fewer connections, not the end of the download. Before, the first 503 failed it (exit 4,
// "refused to connect").
func TestProxyTunnelLimit(t *testing.T) {
	ca, caFile := testCA(t)
	s := startTLSServer(t, ca, server.Config{Seed: 54})
	p := startProxy(t, proxy.Config{MaxTunnels: 2})
	r := rangedl(t, "-q", "-n", "8", "--cacert", caFile, "--proxy", p.URL("", ""), "-o", "f", s.URL("/16M?rate=4M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 54, 16<<20)
	if p.Refused() == 0 {
		t.Error("no CONNECT was refused: the test tests nothing")
	}
	// A list: the files after the first meet the limit at their first tunnel.
	refused := p.Refused()
	dir := t.TempDir()
	var list strings.Builder
	for i := range 8 {
		fmt.Fprintf(&list, "%s\n", s.URL(fmt.Sprintf("/d%d/1M?rate=2M", i)))
		fmt.Fprintf(&list, "  out=f%d\n", i)
	}
	writeList(t, dir, list.String())
	r = rangedlIn(t, dir, "-q", "-j", "4", "-n", "2", "--cacert", caFile, "--proxy", p.URL("", ""), "-i", "list")
	if r.code != 0 {
		t.Fatalf("list: exit %d\n%s", r.code, r.stderr)
	}
	for i := range 8 {
		checkFile(t, filepath.Join(dir, fmt.Sprintf("f%d", i)), 54, 1<<20)
	}
	if p.Refused() == refused {
		t.Error("list: no CONNECT was refused: the test tests nothing")
	}
}

func TestProxyRefusals(t *testing.T) {
	s := startServer(t, server.Config{Seed: 53})
	ca, caFile := testCA(t)
	ts := startTLSServer(t, ca, server.Config{Seed: 53})
	p := startProxy(t, proxy.Config{User: "u", Pass: "pw"})
	r := rangedl(t, "--cacert", caFile, "--proxy", p.URL("", ""), "-o", "f", ts.URL("/1M"))
	want := "rangedl: proxy " + strings.TrimPrefix(p.URL("", ""), "http://") + " wants a user and password (HTTP 407): give them in the proxy URL, http://USER:PASS@" + strings.TrimPrefix(p.URL("", ""), "http://") + "\n"
	if r.code != exitHTTP || r.stderr != want {
		t.Errorf("CONNECT without credentials: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitHTTP, want)
	}
	r = rangedl(t, "--proxy", p.URL("", ""), "-o", "f", s.URL("/1M"))
	if r.code != exitHTTP || r.stderr != want {
		t.Errorf("GET without credentials: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitHTTP, want)
	}
	r = rangedl(t, "--cacert", caFile, "--proxy", p.URL("u", "wrong"), "-o", "f", ts.URL("/1M"))
	if want := "rangedl: proxy " + strings.TrimPrefix(p.URL("", ""), "http://") + " refused the user and password given (HTTP 407)\n"; r.code != exitHTTP || r.stderr != want {
		t.Errorf("a wrong password: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitHTTP, want)
	}
	// A 407 through a tunnel is the origin's, not the proxy's (whose credentials worked).
	origin407 := startTLSServer(t, ca, server.Config{Seed: 53, Faults: []server.Fault{{Kind: server.AuthRequired407}}})
	r = rangedl(t, "--cacert", caFile, "--proxy", p.URL("u", "pw"), "-o", "f", origin407.URL("/1M"))
	if want := "rangedl: HTTP 407 Proxy Authentication Required from " + origin407.URL("/1M") + "\n"; r.code != exitHTTP || r.stderr != want {
		t.Errorf("407 from the origin: exit %d, stderr %q; want %d, %q", r.code, r.stderr, exitHTTP, want)
	}
	r = rangedl(t, "--proxy", "socks5://127.0.0.1:1", "-o", "f", s.URL("/1M"))
	if r.code != exitUsage || r.stderr != "rangedl: --proxy \"socks5://127.0.0.1:1\": only http:// proxies are supported\n" {
		t.Errorf("socks5: exit %d, stderr %q", r.code, r.stderr)
	}
	r = rangedl(t, "--proxy", "http://127.0.0.1:", "-o", "f", s.URL("/1M")) // was a panic
	if r.code != exitNetwork || r.stderr != "rangedl: cannot connect to proxy 127.0.0.1:1080: connect: connection refused\n" {
		t.Errorf("proxy URL with an empty port: exit %d, stderr %q", r.code, r.stderr)
	}
	r = rangedl(t, "--proxy", "http://u:secret@127.0.0.1:84838", "-o", "f", s.URL("/1M")) // was port 19302
	if r.code != exitUsage || r.stderr != "rangedl: --proxy \"http://u:xxxxx@127.0.0.1:84838\": bad port \"84838\"\n" {
		t.Errorf("proxy port out of range: exit %d, stderr %q", r.code, r.stderr)
	}
	t.Setenv("http_proxy", "http://u:secret@127.0.0.1:1:2")
	r = rangedl(t, "-o", "f", "http://example.com/x")
	if r.code != exitUsage || r.stderr != "rangedl: http_proxy \"http://u:xxxxx@127.0.0.1:1:2\": cannot be parsed\n" {
		t.Errorf("a proxy URL that does not parse: exit %d, stderr %q", r.code, r.stderr)
	}
	r = rangedl(t, "--proxy", "127.0.0.1:1", "-o", "f", s.URL("/1M"))
	if r.code != exitNetwork || r.stderr != "rangedl: cannot connect to proxy 127.0.0.1:1: connect: connection refused\n" {
		t.Errorf("proxy down: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestProxyEnvironment: http_proxy is used, no_proxy exempts a host, and loopback hosts never
// go to a proxy from the environment.
func TestProxyEnvironment(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		host string
		want bool
	}{
		{map[string]string{"http_proxy": "http://p:1"}, "example.com", true},
		{map[string]string{"HTTP_PROXY": "p:1"}, "example.com", true},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "example.com"}, "www.example.com", false},
		{map[string]string{"http_proxy": "http://p:1", "NO_PROXY": ".example.com"}, "example.com", false},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "10.0.0.0/8"}, "10.1.2.3", false},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "example.com:8080"}, "example.com", true},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "*"}, "example.com", false},
		{map[string]string{"http_proxy": "http://p:1"}, "127.0.0.1", false},
		{map[string]string{"https_proxy": "http://p:1"}, "example.com", false},               // http URL
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "2.3"}, "10.1.2.3", true}, // was a suffix match
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "10.1.2.3"}, "10.1.2.3", false},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "10.0.0.0/8"}, "[::ffff:10.1.2.3]", false},        // dialled as 10.1.2.3 (was proxied)
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "[::ffff:10.1.2.3]"}, "[::ffff:10.1.2.3]", false}, // the entry in IPv6 form too (was proxied)
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "::ffff:10.1.2.3"}, "10.1.2.3", false},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "::ffff:10.0.0.0/104"}, "10.1.2.3", false},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "::ffff:10.0.0.0/104"}, "11.1.2.3", true},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "::/0"}, "10.1.2.3", true}, // every IPv6 address is no IPv4 one
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "[::2]"}, "[::2]", false},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "example.com"}, "10.1.2.3", true},
		{map[string]string{"http_proxy": "http://p:1"}, "LOCALHOST", false},
		{map[string]string{"http_proxy": "http://p:1"}, "localhost.", false},
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "x.test"}, "x.test.", false}, // a final dot: the same host (was proxied)
		{map[string]string{"http_proxy": "http://p:1", "no_proxy": "x.test."}, "a.x.test", false},
	} {
		for _, k := range []string{"http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "no_proxy", "NO_PROXY"} {
			t.Setenv(k, tc.env[k])
		}
		u, _ := parseURL("http://" + tc.host + "/x")
		p, err := proxyFor(u, options{})
		if err != nil || (p != nil) != tc.want {
			t.Errorf("env %v, host %s: proxy %v, %v; want proxied=%v", tc.env, tc.host, p, err, tc.want)
		}
	}
	// --proxy "" means no proxy, whatever the environment says (curl's convention): it was
	// taken for no --proxy at all.
	t.Setenv("http_proxy", "http://p:1")
	for _, args := range [][]string{{"--proxy", ""}, {"--proxy="}} {
		opt, urls, err := parseArgs(append(args, "http://example.com/x"))
		if err != nil {
			t.Fatal(err)
		}
		u, _ := parseURL(urls[0])
		if p, err := proxyFor(u, opt); p != nil || err != nil {
			t.Errorf("%q with http_proxy set: proxy %v, %v; want none", args, p, err)
		}
	}
}

// TestProxyConnectFraming: a proxy whose 2xx answer to CONNECT carries framing fields (two
// Content-Lengths and chunked) still opens the tunnel: a client must ignore them (RFC 9110
// §9.3.6). They made every connect fail before.
func TestProxyConnectFraming(t *testing.T) {
	ca, caFile := testCA(t)
	s := startTLSServer(t, ca, server.Config{Seed: 53})
	p := startProxy(t, proxy.Config{ConnectFraming: true})
	r := rangedl(t, "-q", "-n", "2", "--cacert", caFile, "--proxy", p.URL("", ""), "-o", "f", s.URL("/2M"))
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	checkFile(t, filepath.Join(r.out, "f"), 53, 2<<20)
}
