package nginx

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
)

// startOrSkip starts nginx for cfg, or skips the test when nginx is not
// installed.
func startOrSkip(t *testing.T, cfg Config) *Server {
	t.Helper()
	if _, err := Binary(); err != nil {
		t.Skipf("nginx not installed: %v", err)
	}
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// testFile writes n deterministic bytes to dir/name and returns them.
func testFile(t *testing.T, dir, name string, n int) []byte {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i*7 + i>>8)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

func TestRangedGet(t *testing.T) {
	root := t.TempDir()
	data := testFile(t, root, "1M.bin", 1<<20)
	s := startOrSkip(t, Config{
		Root: root,
		Locations: []Location{
			{Prefix: "/"},
			{Prefix: "/slow/", LimitRate: "10m"},
		},
	})
	if !strings.HasPrefix(s.URL("/x"), "http://127.0.0.1:") {
		t.Fatalf("URL = %q; want http://127.0.0.1:PORT/x", s.URL("/x"))
	}

	tests := []struct {
		path         string
		rng          string
		wantStatus   int
		wantRange    string
		wantFrom, to int // expected body: data[wantFrom:to]
	}{
		{"/1M.bin", "bytes=100-199", http.StatusPartialContent, "bytes 100-199/1048576", 100, 200},
		{"/1M.bin", "bytes=-10", http.StatusPartialContent, "bytes 1048566-1048575/1048576", 1<<20 - 10, 1 << 20},
		{"/1M.bin", "bytes=1048000-", http.StatusPartialContent, "bytes 1048000-1048575/1048576", 1048000, 1 << 20},
		{"/slow/1M.bin", "bytes=0-65535", http.StatusPartialContent, "bytes 0-65535/1048576", 0, 65536},
		{"/1M.bin", "", http.StatusOK, "", 0, 1 << 20},
	}
	for _, tt := range tests {
		t.Run(tt.path+" "+tt.rng, func(t *testing.T) {
			req, err := http.NewRequest("GET", s.URL(tt.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.StatusCode; got != tt.wantStatus {
				t.Errorf("status: got %v; want %v", got, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Range"); got != tt.wantRange {
				t.Errorf("Content-Range: got %q; want %q", got, tt.wantRange)
			}
			if got := resp.Header.Get("Content-Type"); got != "application/octet-stream" {
				t.Errorf("Content-Type: got %q; want application/octet-stream", got)
			}
			if !bytes.Equal(body, data[tt.wantFrom:tt.to]) {
				t.Errorf("body: got %d bytes, not data[%d:%d]", len(body), tt.wantFrom, tt.to)
			}
		})
	}
}

// TestLimitRate checks that limit_rate is in force under its prefix: past
// the allowance nginx grants every request up front (one second's worth,
// see the package documentation), 10 MiB/s cannot deliver 12 MiB in less
// than about 0.2 s.
func TestLimitRate(t *testing.T) {
	root := t.TempDir()
	testFile(t, root, "12M.bin", 12<<20)
	s := startOrSkip(t, Config{Root: root, Locations: []Location{{Prefix: "/slow/", LimitRate: "10m"}}})

	get := func(path string) time.Duration {
		t.Helper()
		start := time.Now()
		resp, err := http.Get(s.URL(path))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if n, err := io.Copy(io.Discard, resp.Body); err != nil || n != 12<<20 {
			t.Fatalf("GET %s: %d bytes, %v; want %d bytes", path, n, err, 12<<20)
		}
		return time.Since(start)
	}
	if d := get("/slow/12M.bin"); d < 150*time.Millisecond {
		t.Errorf("/slow/12M.bin took %v; want at least 150ms at 10 MiB/s", d)
	}
	// Root is still served, unlimited, outside the prefix.
	get("/12M.bin")
}

// testCert returns a fresh CA's certificate pool and a certificate it
// issued for hosts, valid now.
func testCert(t *testing.T, hosts ...string) (*x509.CertPool, *TLS) {
	t.Helper()
	ca, err := server.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	certPEM, keyPEM, err := ca.Issue(hosts, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca.PEM) {
		t.Fatal("CA certificate not accepted")
	}
	return pool, &TLS{CertPEM: certPEM, KeyPEM: keyPEM}
}

// TestTLS fetches ranges over https with a client that trusts only the
// test CA, and checks that the server speaks HTTP/1.1 even to a client
// that offers HTTP/2.
func TestTLS(t *testing.T) {
	root := t.TempDir()
	data := testFile(t, root, "3M.bin", 3<<20+5)
	pool, cert := testCert(t, "127.0.0.1")
	s := startOrSkip(t, Config{
		Root:      root,
		Locations: []Location{{Prefix: "/"}, {Prefix: "/slow/", LimitRate: "10m"}},
		TLS:       cert,
	})
	if got, want := s.URL("/x"), "https://"+s.Addr()+"/x"; got != want || !strings.HasPrefix(got, "https://127.0.0.1:") {
		t.Fatalf("URL = %q; want %q on 127.0.0.1", got, want)
	}
	if got := s.Scheme(); got != "https" {
		t.Errorf("Scheme: got %q; want %q", got, "https")
	}

	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		tr := &http.Transport{
			TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: version, MaxVersion: version},
			// Offer h2 as browsers and curl do: nginx must still
			// answer in HTTP/1.1.
			ForceAttemptHTTP2: true,
		}
		t.Cleanup(tr.CloseIdleConnections)
		client := &http.Client{Transport: tr}
		for _, tt := range []struct {
			path       string
			rng        string
			wantRange  string
			wantFrom   int
			wantTo     int
			wantStatus int
		}{
			{"/3M.bin", "bytes=1000000-2000000", "bytes 1000000-2000000/3145733", 1000000, 2000001, http.StatusPartialContent},
			{"/3M.bin", "bytes=-5", "bytes 3145728-3145732/3145733", 3 << 20, 3<<20 + 5, http.StatusPartialContent},
			{"/slow/3M.bin", "bytes=0-65535", "bytes 0-65535/3145733", 0, 65536, http.StatusPartialContent},
			{"/3M.bin", "", "", 0, len(data), http.StatusOK},
		} {
			name := fmt.Sprintf("%s %s %s", tls.VersionName(version), tt.path, tt.rng)
			req, err := http.NewRequest("GET", s.URL(tt.path), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.rng != "" {
				req.Header.Set("Range", tt.rng)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("%s: status: got %v; want %v", name, resp.StatusCode, tt.wantStatus)
			}
			if got := resp.Header.Get("Content-Range"); got != tt.wantRange {
				t.Errorf("%s: Content-Range: got %q; want %q", name, got, tt.wantRange)
			}
			if !bytes.Equal(body, data[tt.wantFrom:tt.wantTo]) {
				t.Errorf("%s: body: got %d bytes, not data[%d:%d]", name, len(body), tt.wantFrom, tt.wantTo)
			}
			if resp.Proto != "HTTP/1.1" {
				t.Errorf("%s: protocol: got %q; want HTTP/1.1", name, resp.Proto)
			}
			if resp.TLS == nil || resp.TLS.Version != version {
				t.Errorf("%s: TLS state %+v; want version %s", name, resp.TLS, tls.VersionName(version))
			} else if p := resp.TLS.NegotiatedProtocol; p != "" && p != "http/1.1" {
				t.Errorf("%s: ALPN chose %q; want http/1.1 or none", name, p)
			}
		}
	}

	// A client that trusts only the system's roots refuses the
	// certificate: the test CA is not trusted by accident.
	resp, err := http.Get(s.URL("/3M.bin"))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("GET with the system roots: got %v; want a certificate error", resp.Status)
	}
	var unknown x509.UnknownAuthorityError
	if !errors.As(err, &unknown) {
		t.Errorf("GET with the system roots: got %v; want %T", err, unknown)
	}
	// TLS 1.1 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11}}}
	if resp, err := old.Get(s.URL("/3M.bin")); err == nil {
		resp.Body.Close()
		t.Errorf("GET over TLS 1.1: got %v; want a handshake error", resp.Status)
	}
}

// TestTLSWrongCertificate checks that Start refuses a key that is not the
// certificate's before it runs nginx.
func TestTLSWrongCertificate(t *testing.T) {
	_, a := testCert(t, "127.0.0.1")
	_, b := testCert(t, "127.0.0.1")
	for _, tt := range []struct {
		name string
		tls  *TLS
	}{
		{"empty", &TLS{}},
		{"no key", &TLS{CertPEM: a.CertPEM}},
		{"mismatched key", &TLS{CertPEM: a.CertPEM, KeyPEM: b.KeyPEM}},
		{"not PEM", &TLS{CertPEM: []byte("cert"), KeyPEM: []byte("key")}},
	} {
		s, err := Start(Config{Root: t.TempDir(), TLS: tt.tls})
		if err == nil {
			s.Close()
		}
		if !errors.Is(err, ErrConfig) {
			t.Errorf("%s: Start: got %v; want %v", tt.name, err, ErrConfig)
		}
	}
}

func TestCloseRemovesDir(t *testing.T) {
	if _, err := Binary(); err != nil {
		t.Skipf("nginx not installed: %v", err)
	}
	s, err := Start(Config{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(s.dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("temp dir after Close: got %v; want %v", err, os.ErrNotExist)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: got %v; want %v", err, nil)
	}
	if _, err := http.Get(s.URL("/")); err == nil {
		t.Errorf("GET after Close: got %v; want an error", err)
	}
}

func TestStartRejects(t *testing.T) {
	root := t.TempDir()
	file := filepath.Join(root, "f")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		cfg  Config
	}{
		{"empty root", Config{}},
		{"root is a file", Config{Root: file}},
		{"root missing", Config{Root: filepath.Join(root, "missing")}},
		{"root with $", Config{Root: root + "/$x"}},
		{"root with quote", Config{Root: root + `/"`}},
		{"prefix without slash", Config{Root: root, Locations: []Location{{Prefix: "slow"}}}},
		{"prefix without trailing slash", Config{Root: root, Locations: []Location{{Prefix: "/slow"}}}},
		{"prefix with space", Config{Root: root, Locations: []Location{{Prefix: "/a b/"}}}},
		{"prefix with brace", Config{Root: root, Locations: []Location{{Prefix: "/a{/"}}}},
		{"dot-dot prefix", Config{Root: root, Locations: []Location{{Prefix: "/../"}}}},
		{"duplicate prefix", Config{Root: root, Locations: []Location{{Prefix: "/"}, {Prefix: "/"}}}},
		{"bad rate", Config{Root: root, Locations: []Location{{Prefix: "/", LimitRate: "10 m"}}}},
		{"rate injection", Config{Root: root, Locations: []Location{{Prefix: "/", LimitRate: "1; }"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Start validates before it looks for nginx, so this runs
			// without nginx too.
			s, err := Start(tt.cfg)
			if err == nil {
				s.Close()
			}
			if !errors.Is(err, ErrConfig) {
				t.Errorf("Start: got %v; want %v", err, ErrConfig)
			}
		})
	}
}

func TestRender(t *testing.T) {
	conf := render(confParams{
		Root:      "/srv/files",
		Locations: []Location{{Prefix: "/"}, {Prefix: "/slow/", LimitRate: "10m"}},
		Dir:       "/tmp/x",
		Port:      4242,
		Without:   map[string]bool{"uwsgi": true},
	})
	for _, want := range []string{
		"daemon off;",
		"master_process off;",
		`pid "/tmp/x/nginx.pid";`,
		"sendfile on;",
		"keepalive_requests 10000;",
		"access_log off;",
		"listen 127.0.0.1:4242;",
		`root "/srv/files";`,
		"location /slow/ {\n            alias \"/srv/files/\";\n            limit_rate 10m;\n        }",
		`client_body_temp_path "/tmp/x/client_body";`,
		`proxy_temp_path "/tmp/x/proxy";`,
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if strings.Contains(conf, "uwsgi_temp_path") {
		t.Errorf("config has uwsgi_temp_path for a build without uwsgi:\n%s", conf)
	}
	// Exactly one listen directive, on loopback.
	if got := strings.Count(conf, "listen "); got != 1 {
		t.Errorf("listen directives: got %v; want %v", got, 1)
	}
	if strings.Contains(conf, "ssl") {
		t.Errorf("config without TLS mentions ssl:\n%s", conf)
	}
}

func TestRenderTLS(t *testing.T) {
	conf := render(confParams{
		Root:      "/srv/files",
		Locations: []Location{{Prefix: "/"}},
		Dir:       "/tmp/x",
		Port:      4243,
		CertFile:  "/tmp/x/cert.pem",
		KeyFile:   "/tmp/x/key.pem",
	})
	for _, want := range []string{
		"listen 127.0.0.1:4243 ssl;",
		`ssl_certificate "/tmp/x/cert.pem";`,
		`ssl_certificate_key "/tmp/x/key.pem";`,
		"ssl_protocols TLSv1.2 TLSv1.3;",
	} {
		if !strings.Contains(conf, want) {
			t.Errorf("config lacks %q:\n%s", want, conf)
		}
	}
	if got := strings.Count(conf, "listen "); got != 1 {
		t.Errorf("listen directives: got %v; want %v", got, 1)
	}
	if strings.Contains(conf, "http2") {
		t.Errorf("config enables HTTP/2:\n%s", conf)
	}
}

func TestWithoutModules(t *testing.T) {
	v := "configure arguments: --prefix=/x --without-http_proxy_module --with-threads --without-http_scgi_module --without-mail_pop3_module"
	got := withoutModules(v)
	want := map[string]bool{"proxy": true, "scgi": true}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("withoutModules: got %v; want %v", got, want)
	}
}

func TestTail(t *testing.T) {
	var tl tail
	big := strings.Repeat("a", tailSize) + "end"
	fmt.Fprint(&tl, "start")
	fmt.Fprint(&tl, big)
	if got := tl.String(); len(got) != tailSize || !strings.HasSuffix(got, "end") {
		t.Errorf("tail: got %d bytes ending %q; want %d bytes ending %q", len(got), got[len(got)-3:], tailSize, "end")
	}
}
