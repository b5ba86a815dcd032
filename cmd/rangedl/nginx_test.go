package main

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/rangedl/rangedl/bench/nginx"
	"github.com/rangedl/rangedl/bench/server"
)

// TestNginx downloads from a real nginx on loopback (make interop). Without nginx it is
// skipped, unless RANGEDL_INTEROP is set, which makes a missing nginx a failure.
func TestNginx(t *testing.T) {
	if _, err := nginx.Binary(); err != nil {
		if os.Getenv("RANGEDL_INTEROP") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	root := t.TempDir()
	sizes := []int64{0, 1, 5<<20 + 3, 64 << 20}
	for _, size := range sizes {
		data := make([]byte, size)
		server.Fill(1, 0, data)
		if err := os.WriteFile(filepath.Join(root, fmt.Sprint(size)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	ng, err := nginx.Start(nginx.Config{Root: root, Locations: []nginx.Location{
		{Prefix: "/"}, {Prefix: "/slow/", LimitRate: "8m"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ng.Close() })
	for _, n := range []string{"1", "8", "32"} {
		for _, size := range sizes {
			for _, prefix := range []string{"/", "/slow/"} {
				if prefix == "/slow/" && (size > 8<<20 || n == "32") {
					continue // keep the throttled runs short
				}
				t.Run(fmt.Sprintf("n=%s%s%d", n, prefix, size), func(t *testing.T) {
					r := rangedl(t, "-n", n, "-o", "f", ng.URL(prefix+fmt.Sprint(size)))
					if r.code != 0 {
						t.Fatalf("exit %d\n%s", r.code, r.stderr)
					}
					checkFile(t, filepath.Join(r.out, "f"), 1, size)
				})
			}
		}
	}
	t.Run("not found", func(t *testing.T) {
		r := rangedl(t, "-o", "f", ng.URL("/missing"))
		if want := "rangedl: HTTP 404 Not Found from " + ng.URL("/missing") + "\n"; r.code != 4 || r.stderr != want {
			t.Fatalf("exit %d, stderr %q; want 4, %q", r.code, r.stderr, want)
		}
	})
}
