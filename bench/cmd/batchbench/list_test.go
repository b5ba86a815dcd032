package main

import (
	"bufio"
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestEntry(t *testing.T) {
	tests := []struct {
		i    int
		want string
	}{
		{0, "U\n  out=f0000000\n  dir=d000\n"},
		{999, "U\n  out=f0000999\n  dir=d000\n"},
		{1000, "U\n  out=f0001000\n  dir=d001\n"},
		{999_999, "U\n  out=f0999999\n  dir=d999\n"},
		{1_000_000, "U\n  out=f1000000\n  dir=d1000\n"},
	}
	for _, tt := range tests {
		if got := string(appendEntry(nil, "U", tt.i)); got != tt.want {
			t.Errorf("appendEntry(%d): got %q; want %q", tt.i, got, tt.want)
		}
		if got := "U\n  out=" + entryName(tt.i) + "\n  dir=" + entryDir(tt.i) + "\n"; got != tt.want {
			t.Errorf("entryName, entryDir(%d): got %q; want %q", tt.i, got, tt.want)
		}
	}
}

func TestParseEntryName(t *testing.T) {
	for _, i := range []int{0, 7, 999_999, 12_345_678} {
		if got, ok := parseEntryName(entryName(i)); !ok || got != i {
			t.Errorf("parseEntryName(%q): got %d, %v; want %d", entryName(i), got, ok, i)
		}
	}
	for _, name := range []string{"", "f", "f123", "g0000001", "f000000x", "f-000001", "f00000001", "f0000001.tmp"} {
		if i, ok := parseEntryName(name); ok {
			t.Errorf("parseEntryName(%q): got %d; want not a name", name, i)
		}
	}
}

func TestWriteList(t *testing.T) {
	const n = 2500
	var b bytes.Buffer
	if err := writeList(&b, "http://127.0.0.1:1/1024", n); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(&b)
	i := 0
	for ; sc.Scan(); i++ {
		if got := sc.Text(); got != "http://127.0.0.1:1/1024" {
			t.Fatalf("entry %d: got URL line %q", i, got)
		}
		sc.Scan()
		if got, want := sc.Text(), "  out="+entryName(i); got != want {
			t.Fatalf("entry %d: got %q; want %q", i, got, want)
		}
		sc.Scan()
		if got, want := sc.Text(), "  dir="+entryDir(i); got != want {
			t.Fatalf("entry %d: got %q; want %q", i, got, want)
		}
	}
	if i != n {
		t.Errorf("got %d entries; want %d", i, n)
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

var errClosed = errors.New("closed")

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		k := w.n
		w.n = 0
		return k, errClosed
	}
	w.n -= len(p)
	return len(p), nil
}

func TestWriteListStopsOnError(t *testing.T) {
	if err := writeList(&failAfter{n: 100 << 10}, "http://127.0.0.1:1/1024", 1_000_000); !errors.Is(err, errClosed) {
		t.Errorf("got %v; want %v", err, errClosed)
	}
}

func TestFileNames(t *testing.T) {
	if got := fileNames(3); strings.Join(got, ",") != "f00000,f00001,f00002" {
		t.Errorf("fileNames(3): got %q", got)
	}
	got := fileNames(123_457)
	if got[0] != "f000000" || got[123_456] != "f123456" {
		t.Errorf("fileNames(123457): got %q … %q; want f000000 … f123456", got[0], got[123_456])
	}
}
