package server

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

func TestParseSize(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"0", 0, true},
		{"1", 1, true},
		{"1048577", 1048577, true},
		{"1K", 1 << 10, true},
		{"200K", 200 << 10, true},
		{"256M", 256 << 20, true},
		{"1G", 1 << 30, true},
		{"100G", 100 << 30, true},
		{"007", 7, true},
		{"9223372036854775807", 1<<63 - 1, true},
		{"9223372036854775808", 0, false},
		{"8589934591G", 8589934591 << 30, true},
		{"8589934592G", 0, false},
		{"99999999999999999999", 0, false},
		{"", 0, false},
		{"K", 0, false},
		{"-1", 0, false},
		{"+1", 0, false},
		{"1k", 0, false},
		{"1.5M", 0, false},
		{"1 K", 0, false},
		{"1KK", 0, false},
		{"1T", 0, false},
	}
	for _, tt := range tests {
		got, err := ParseSize(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseSize(%q): got %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrBadSize) {
			t.Errorf("ParseSize(%q): got error %v; want one wrapping ErrBadSize", tt.in, err)
		}
	}
}

func TestSizeFromPath(t *testing.T) {
	tests := []struct {
		path string
		want int64
		ok   bool
	}{
		{"/0.bin", 0, true},
		{"/1.bin", 1, true},
		{"/1048577", 1048577, true},
		{"/256M.bin", 256 << 20, true},
		{"/1G.iso", 1 << 30, true},
		{"/a/b/c/10K.tar.gz", 10 << 10, true},
		{"/x/5.my-file_v2", 5, true},
		{"/", 0, false},
		{"", 0, false},
		{"/big.bin", 0, false},
		{"/1.5G", 0, false},
		{"/1.", 0, false},
		{"/1.b!n", 0, false},
		{"/-1", 0, false},
		{"/10/", 0, false},
		{"/1Kb", 0, false},
	}
	for _, tt := range tests {
		got, ok := sizeFromPath(tt.path)
		if got != tt.want || ok != tt.ok {
			t.Errorf("sizeFromPath(%q): got %d, %v; want %d, %v", tt.path, got, ok, tt.want, tt.ok)
		}
	}
}

// FuzzParseSize checks that ParseSize never panics, accepts only its
// grammar, and agrees with strconv on plain numbers.
func FuzzParseSize(f *testing.F) {
	for _, s := range []string{"0", "1K", "256M", "1G", "9223372036854775807", "99999999999999999999G", "-", "1.5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := ParseSize(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("ParseSize(%q): got %d; want ≥ 0", s, n)
		}
		digits := strings.TrimRight(s, "KMG")
		if len(s)-len(digits) > 1 {
			t.Fatalf("ParseSize(%q): accepted two suffixes", s)
		}
		v, perr := strconv.ParseUint(digits, 10, 64)
		if perr != nil || digits[0] == '+' {
			t.Fatalf("ParseSize(%q): got %d; want an error (digits %q: %v)", s, n, digits, perr)
		}
		if digits == s && int64(v) != n {
			t.Fatalf("ParseSize(%q): got %d; want %d", s, n, v)
		}
	})
}
