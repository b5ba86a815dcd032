package server

import (
	"testing"
	"time"
)

func TestParseRange(t *testing.T) {
	const I, P, U = rangeIgnore, rangePartial, rangeUnsatisfiable
	tests := []struct {
		h       string
		size    int64
		want    byteRange
		outcome rangeOutcome
	}{
		{"bytes=0-0", 100, byteRange{0, 0}, P},
		{"bytes=0-99", 100, byteRange{0, 99}, P},
		{"bytes=10-19", 100, byteRange{10, 19}, P},
		{"bytes=10-1000", 100, byteRange{10, 99}, P},   // last-pos clamped
		{"bytes=10-", 100, byteRange{10, 99}, P},       // open-ended
		{"bytes=99-", 100, byteRange{99, 99}, P},       // last byte
		{"bytes=-10", 100, byteRange{90, 99}, P},       // suffix
		{"bytes=-1000", 100, byteRange{0, 99}, P},      // suffix longer than the file
		{"BYTES=1-2", 100, byteRange{1, 2}, P},         // unit is case-insensitive
		{"bytes= 1-2 ,", 100, byteRange{1, 2}, P},      // OWS and empty list elements
		{"bytes=1-2,5-6", 100, byteRange{1, 2}, P},     // first range served
		{"bytes=200-300,5-6", 100, byteRange{5, 6}, P}, // first satisfiable one
		{"bytes=0-99999999999999999999", 100, byteRange{0, 99}, P},
		{"bytes=-99999999999999999999", 100, byteRange{0, 99}, P},
		{"bytes=100-", 100, byteRange{}, U},
		{"bytes=100-200", 100, byteRange{}, U},
		{"bytes=99999999999999999999-", 100, byteRange{}, U},
		{"bytes=-0", 100, byteRange{}, U},
		{"bytes=0-0", 0, byteRange{}, U}, // nothing is satisfiable on an empty file
		{"bytes=0-", 0, byteRange{}, U},
		{"bytes=-5", 0, byteRange{}, U},
		{"bytes=200-300,300-", 100, byteRange{}, U},
		{"", 100, byteRange{}, I},
		{"bytes", 100, byteRange{}, I},
		{"bytes=", 100, byteRange{}, I},
		{"bytes=,", 100, byteRange{}, I},
		{"items=0-1", 100, byteRange{}, I},
		{"bytes=5-4", 100, byteRange{}, I},     // last-pos < first-pos: invalid
		{"bytes=0-1,5-4", 100, byteRange{}, I}, // one invalid spec spoils the header
		{"bytes=a-b", 100, byteRange{}, I},
		{"bytes=1", 100, byteRange{}, I},
		{"bytes=--1", 100, byteRange{}, I},
		{"bytes=1-2-3", 100, byteRange{}, I},
		{"bytes=+1-2", 100, byteRange{}, I},
		{"bytes=1 -2", 100, byteRange{}, I},
	}
	for _, tt := range tests {
		got, outcome := parseRange(tt.h, tt.size)
		if got != tt.want || outcome != tt.outcome {
			t.Errorf("parseRange(%q, %d): got %v, %v; want %v, %v", tt.h, tt.size, got, outcome, tt.want, tt.outcome)
		}
	}
}

func TestIfRangeMatches(t *testing.T) {
	mod := time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)
	const etag = `"1-400"`
	tests := []struct {
		v    string
		want bool
	}{
		{`"1-400"`, true},
		{`"2-400"`, false},
		{`W/"1-400"`, false}, // weak comparison never matches (RFC 9110 §13.1.5)
		{`"1-400`, false},
		{"Mon, 01 Jan 2024 00:00:00 GMT", true},
		{"Monday, 01-Jan-24 00:00:00 GMT", true}, // obsolete RFC 850 form still parses
		{"Mon, 01 Jan 2024 00:00:01 GMT", false},
		{"Sun, 31 Dec 2023 23:59:59 GMT", false},
		{"yesterday", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := ifRangeMatches(tt.v, etag, mod); got != tt.want {
			t.Errorf("ifRangeMatches(%q): got %v; want %v", tt.v, got, tt.want)
		}
	}
}

// FuzzParseRange checks that parseRange never panics and that every range
// it returns lies inside the representation.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-0", "bytes=-5", "bytes=5-", "bytes=1-2,3-4", "bytes=9223372036854775807-", "bytes= ,0-"} {
		f.Add(s, int64(100))
		f.Add(s, int64(0))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		r, outcome := parseRange(h, size)
		switch outcome {
		case rangePartial:
			if r.start < 0 || r.start > r.end || r.end >= size {
				t.Fatalf("parseRange(%q, %d): got %v; want 0 ≤ start ≤ end < size", h, size, r)
			}
		case rangeIgnore, rangeUnsatisfiable:
			if r != (byteRange{}) {
				t.Fatalf("parseRange(%q, %d): got %v with outcome %v; want the zero range", h, size, r, outcome)
			}
		default:
			t.Fatalf("parseRange(%q, %d): unknown outcome %v", h, size, outcome)
		}
	})
}
