package main

import (
	"crypto/sha256"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rangedl/rangedl/bench/server"
)

func TestWriteRoot(t *testing.T) {
	dir := t.TempDir()
	names := fileNames(4)
	sums, err := writeRoot(dir, names, 1000)
	if err != nil {
		t.Fatal(err)
	}
	// File i is bytes [i×size, (i+1)×size) of the content stream.
	stream := make([]byte, 4000)
	server.Fill(filesSeed, 0, stream)
	for i, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if want := stream[i*1000 : (i+1)*1000]; string(b) != string(want) {
			t.Errorf("%s: wrong content", name)
		}
		if sha256.Sum256(b) != sums[i] {
			t.Errorf("%s: sum does not match the content", name)
		}
	}
	if sums[0] == sums[1] {
		t.Errorf("two files have the same content")
	}
}

func TestVerifyDir(t *testing.T) {
	const size = 100
	names := fileNames(5)
	tests := []struct {
		name   string
		change func(dir string)
		want   string
	}{
		{"exact", func(string) {}, ""},
		{"missing", func(dir string) {
			os.Remove(filepath.Join(dir, "f00001"))
			os.Remove(filepath.Join(dir, "f00003"))
		}, "2 missing (f00001, f00003)"},
		{"unexpected", func(dir string) {
			os.WriteFile(filepath.Join(dir, ".wget-hsts"), nil, 0o644)
			os.Mkdir(filepath.Join(dir, "127.0.0.1"), 0o755)
		}, "2 unexpected (.wget-hsts, 127.0.0.1/)"},
		{"short", func(dir string) {
			os.Truncate(filepath.Join(dir, "f00002"), size-1)
		}, "1 wrong size (f00002)"},
		{"wrong content", func(dir string) {
			os.WriteFile(filepath.Join(dir, "f00004"), make([]byte, size), 0o644)
		}, "1 wrong SHA-256 (f00004)"},
		{"renamed", func(dir string) {
			os.Rename(filepath.Join(dir, "f00000"), filepath.Join(dir, "f00000.1"))
		}, "1 unexpected (f00000.1); 1 missing (f00000)"},
		{"directory", func(dir string) {
			os.Remove(filepath.Join(dir, "f00002"))
			os.Mkdir(filepath.Join(dir, "f00002"), 0o755)
		}, "1 not a regular file (f00002)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			sums, err := writeRoot(dir, names, size)
			if err != nil {
				t.Fatal(err)
			}
			tt.change(dir)
			if got := verifyDir(dir, names, size, sums); got != tt.want {
				t.Errorf("got %q; want %q", got, tt.want)
			}
		})
	}
	if got := verifyDir(filepath.Join(t.TempDir(), "none"), names, size, nil); !strings.HasPrefix(got, "cannot list the output") {
		t.Errorf("no directory: got %q", got)
	}
}

func TestProblemsString(t *testing.T) {
	var p problems
	if p.String() != "" || p.total() != 0 {
		t.Errorf("empty: got %q, %d", p.String(), p.total())
	}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		p.add("missing", n)
	}
	p.add("unexpected", "x")
	if got, want := p.String(), "5 missing (a, b, c, …); 1 unexpected (x)"; got != want {
		t.Errorf("got %q; want %q", got, want)
	}
	if p.total() != 6 {
		t.Errorf("total: got %d; want 6", p.total())
	}
}

// writeTree lays out n files of the million scenario under root as rangedl
// would, each with content.
func writeTree(t *testing.T, root string, n int, content []byte) {
	t.Helper()
	for i := range n {
		dir := filepath.Join(root, entryDir(i))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, entryName(i)), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestVerifyTree(t *testing.T) {
	const n, size = 2100, 64
	content := make([]byte, size)
	server.Fill(millionSeed, 0, content)
	want := server.Sum(millionSeed, size)

	root := t.TempDir()
	writeTree(t, root, n, content)
	onDisk, sampled, p := verifyTree(root, n, size, want)
	// Sampled: 0, 997, 1994 and the last, 2099.
	if onDisk != n || sampled != 4 || p.total() != 0 {
		t.Errorf("intact: got %d on disk, %d sampled, %q; want %d, 4, none", onDisk, sampled, p.String(), n)
	}

	os.Remove(filepath.Join(root, "d001", "f0001500"))
	os.WriteFile(filepath.Join(root, "d000", "f0000997"), make([]byte, size), 0o644) // sampled: caught
	os.WriteFile(filepath.Join(root, "d000", "f0000998"), make([]byte, size), 0o644) // not sampled: unseen
	os.WriteFile(filepath.Join(root, "d000", "f0000999"), nil, 0o644)                // not sampled, but empty
	os.WriteFile(filepath.Join(root, "d002", "f0002099"), content[:size-1], 0o644)   // the last one
	os.WriteFile(filepath.Join(root, "d002", "f0002099.rangedl"), nil, 0o644)        // leftover
	os.WriteFile(filepath.Join(root, "d001", "f0000005"), content, 0o644)            // in the wrong directory
	os.Mkdir(filepath.Join(root, "d003"), 0o755)                                     // beyond the list
	onDisk, sampled, p = verifyTree(root, n, size, want)
	if onDisk != n-1 || sampled != 4 {
		t.Errorf("damaged: got %d on disk, %d sampled; want %d, 4", onDisk, sampled, n-1)
	}
	got := p.String()
	for _, s := range []string{"1 wrong SHA-256 (d000/f0000997)", "1 missing (d001/f0001500)", "2 wrong size (d000/f0000999, d002/f0002099)",
		"3 unexpected (d003, d001/f0000005, d002/f0002099.rangedl)"} {
		if !strings.Contains(got, s) {
			t.Errorf("damaged: got %q; want it to contain %q", got, s)
		}
	}
	if p.total() != 7 {
		t.Errorf("damaged: got %d problems; want 7", p.total())
	}
}

func TestCreateProbe(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "probe")
	if d := createProbe(dir); d <= 0 {
		t.Fatalf("createProbe: %v; want a time per file", d)
	}
	if ents, err := os.ReadDir(dir); err != nil || len(ents) != probeFiles {
		t.Fatalf("%d files in the probe's directory (%v); want %d", len(ents), err, probeFiles)
	}
	if d := createProbe(dir); d != 0 {
		t.Errorf("createProbe into an existing directory: %v; want 0 (a fresh directory only)", d)
	}
}
