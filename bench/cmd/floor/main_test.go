//go:build linux

package main

import (
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangedl/rangedl/bench/server"
)

func writeList(t *testing.T, lines []string) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "list")
	if err := os.WriteFile(name, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// TestFiles checks every file against the served content, with and without pipelining, on
// fewer connections than files so that each connection is reused.
func TestFiles(t *testing.T) {
	srv, err := server.Start(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	sizes := []int64{16 << 10, 0, 1, 100 << 10, 70 << 10} // 100 KiB spans reads; 70 KiB more than the buffer
	var lines []string
	for i := range 60 {
		lines = append(lines, srv.URL(fmt.Sprintf("/d%d/%d", i, sizes[i%len(sizes)])))
	}
	list := writeList(t, lines)
	for _, depth := range []int{1, 4} {
		dir := t.TempDir()
		n, err := run(list, dir, 3, depth)
		if err != nil || n != len(lines) {
			t.Fatalf("-k %d: %d files, %v; want %d", depth, n, err, len(lines))
		}
		for i := range lines {
			got, err := os.ReadFile(filepath.Join(dir, fmt.Sprint(i+1)))
			if err != nil {
				t.Fatal(err)
			}
			if sha256.Sum256(got) != server.Sum(1, sizes[i%len(sizes)]) {
				t.Errorf("-k %d: file %d: wrong content (%d bytes)", depth, i+1, len(got))
			}
		}
	}
	if got, want := srv.Stats().Conns, int64(6); got != want {
		t.Errorf("%d connections; want %d (3 per run)", got, want)
	}
}

func TestErrors(t *testing.T) {
	srv, err := server.Start(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	chunked, err := server.Start(server.Config{Chunked: true})
	if err != nil {
		t.Fatal(err)
	}
	defer chunked.Close()
	tests := []struct {
		lines []string
		want  string
	}{
		{[]string{srv.URL("/1K"), srv.URL("/big.bin")}, `/big.bin: "HTTP/1.1 404 Not Found"`},
		{[]string{chunked.URL("/1K")}, "/1K: no Content-Length"},
		{[]string{srv.URL("/1K"), "http://localhost:1/1K"}, "want http:// URLs of one IP address and port"},
		{[]string{srv.URL("/1K"), "http://127.0.0.1:1/1K"}, "want http:// URLs of one IP address and port"},
	}
	for _, tt := range tests {
		_, err := run(writeList(t, tt.lines), t.TempDir(), 2, 2)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v; want an error containing %q", tt.lines, err, tt.want)
		}
	}
}
