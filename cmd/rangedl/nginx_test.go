package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/nginx"
	"github.com/rangedl/rangedl/bench/server"
)

// needNginx skips the test when nginx is not installed, unless RANGEDL_INTEROP is set (make
// interop), which makes a missing nginx a failure.
func needNginx(t *testing.T) {
	t.Helper()
	if _, err := nginx.Binary(); err != nil {
		if os.Getenv("RANGEDL_INTEROP") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
}

// nginxSizes are the files nginxFiles writes: empty, one byte, odd, and larger than every buffer.
var nginxSizes = []int64{0, 1, 5<<20 + 3, 64 << 20}

// nginxLocations serves the files at full speed under / and at 8 MiB/s per request under /slow/.
var nginxLocations = []nginx.Location{{Prefix: "/"}, {Prefix: "/slow/", LimitRate: "8m"}}

// nginxFiles writes the content of seed 1 in nginxSizes into a new directory, one file per size
// named by it, and returns the directory.
func nginxFiles(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	for _, size := range nginxSizes {
		data := make([]byte, size)
		server.Fill(1, 0, data)
		if err := os.WriteFile(filepath.Join(root, fmt.Sprint(size)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// nginxMatrix downloads every file at -n 1, 8 and 32 (and the small ones throttled), with
// args, and checks each by SHA-256.
func nginxMatrix(t *testing.T, ng *nginx.Server, args ...string) {
	for _, n := range []string{"1", "8", "32"} {
		for _, size := range nginxSizes {
			for _, prefix := range []string{"/", "/slow/"} {
				if prefix == "/slow/" && (size > 8<<20 || n == "32") {
					continue // keep the throttled runs short
				}
				t.Run(fmt.Sprintf("n=%s%s%d", n, prefix, size), func(t *testing.T) {
					r := rangedl(t, append(append([]string(nil), args...), "-n", n, "-o", "f", ng.URL(prefix+fmt.Sprint(size)))...)
					if r.code != 0 {
						t.Fatalf("exit %d\n%s", r.code, r.stderr)
					}
					checkFile(t, filepath.Join(r.out, "f"), 1, size)
				})
			}
		}
	}
}

// TestNginx downloads from a real nginx on loopback (make interop). Without nginx it is
// skipped, unless RANGEDL_INTEROP is set, which makes a missing nginx a failure.
func TestNginx(t *testing.T) {
	needNginx(t)
	ng, err := nginx.Start(nginx.Config{Root: nginxFiles(t), Locations: nginxLocations})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ng.Close() })
	nginxMatrix(t, ng)
	t.Run("not found", func(t *testing.T) {
		r := rangedl(t, "-o", "f", ng.URL("/missing"))
		if want := "rangedl: HTTP 404 Not Found from " + ng.URL("/missing") + "\n"; r.code != 4 || r.stderr != want {
			t.Fatalf("exit %d, stderr %q; want 4, %q", r.code, r.stderr, want)
		}
	})
}

// TestNginxHTTPS downloads from a real nginx over https (OpenSSL on the server side, TLS 1.2
// and 1.3, HTTP/1.1 only), with a certificate for 127.0.0.1 from a test CA given with
// --cacert, and checks that without --cacert the certificate is refused (exit 7) before a
// file is made. Same gate as TestNginx.
func TestNginxHTTPS(t *testing.T) {
	needNginx(t)
	ca, caFile := testCA(t)
	now := time.Now()
	certPEM, keyPEM, err := ca.Issue([]string{"127.0.0.1"}, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ng, err := nginx.Start(nginx.Config{Root: nginxFiles(t), Locations: nginxLocations,
		TLS: &nginx.TLS{CertPEM: certPEM, KeyPEM: keyPEM}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ng.Close() })
	if !strings.HasPrefix(ng.URL("/"), "https://127.0.0.1:") {
		t.Fatalf("nginx URL %q; want https://127.0.0.1:PORT/", ng.URL("/"))
	}
	nginxMatrix(t, ng, "--cacert", caFile)

	url := ng.URL(fmt.Sprintf("/%d", 5<<20+3))
	t.Run("without --cacert", func(t *testing.T) {
		r := rangedl(t, "-n", "8", "-o", "f", url)
		prefix := "rangedl: the certificate of " + ng.Addr() + " "
		if r.code != exitTLS || !strings.HasPrefix(r.stderr, prefix) {
			t.Fatalf("exit %d, stderr %q; want %d and a message starting %q", r.code, r.stderr, exitTLS, prefix)
		}
		if ents, _ := os.ReadDir(r.out); len(ents) != 0 {
			t.Errorf("files left after a refused certificate: %d", len(ents))
		}
	})
	t.Run("-k", func(t *testing.T) {
		r := rangedl(t, "-k", "-n", "8", "-o", "f", url)
		if r.code != 0 {
			t.Fatalf("exit %d\n%s", r.code, r.stderr)
		}
		checkFile(t, filepath.Join(r.out, "f"), 1, 5<<20+3)
	})
}
