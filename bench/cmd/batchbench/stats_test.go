package main

import (
	"math"
	"testing"
	"time"
)

// steady returns n arrival times, one every step.
func steady(n int, step time.Duration) []time.Duration {
	ts := make([]time.Duration, n)
	for i := range ts {
		ts[i] = time.Duration(i+1) * step
	}
	return ts
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func TestWindowRate(t *testing.T) {
	ts := steady(100, 10*time.Millisecond) // 100 files/s throughout
	tests := []struct {
		from, to int
		want     float64
		ok       bool
	}{
		{0, 100, 100, true},
		{0, 10, 100, true}, // measured from the start
		{90, 100, 100, true},
		{50, 51, 100, true}, // one line: from the line before it
		{0, 0, 0, false},
		{5, 3, 0, false},
		{0, 101, 0, false},
		{-1, 3, 0, false},
	}
	for _, tt := range tests {
		got, ok := windowRate(ts, tt.from, tt.to)
		if ok != tt.ok || !near(got, tt.want) {
			t.Errorf("windowRate(%d, %d): got %v, %v; want %v, %v", tt.from, tt.to, got, ok, tt.want, tt.ok)
		}
	}
	// Lines that arrive together take no time: no rate.
	if _, ok := windowRate([]time.Duration{time.Second, time.Second}, 1, 2); ok {
		t.Errorf("windowRate over zero time: got ok; want not ok")
	}
}

func TestEdges(t *testing.T) {
	// 1000 lines: the first 900 at 1000 files/s, the last 100 at 500 files/s.
	var ts []time.Duration
	at := time.Duration(0)
	for i := range 1000 {
		if i < 900 {
			at += time.Millisecond
		} else {
			at += 2 * time.Millisecond
		}
		ts = append(ts, at)
	}
	first, last, ok := edges(ts)
	if !ok || !near(first, 1000) || !near(last, 500) {
		t.Errorf("edges: got %v, %v, %v; want 1000, 500, true", first, last, ok)
	}
	if _, _, ok := edges(steady(9, time.Millisecond)); ok {
		t.Errorf("edges of 9 lines: got ok; want too few")
	}
	if first, last, ok := edges(steady(10, time.Millisecond)); !ok || !near(first, 1000) || !near(last, 1000) {
		t.Errorf("edges of 10 lines: got %v, %v, %v; want 1000, 1000, true", first, last, ok)
	}
}

func TestTenths(t *testing.T) {
	ts := steady(1005, time.Millisecond)
	got := tenths(ts)
	if len(got) != 10 {
		t.Fatalf("got %d tenths; want 10", len(got))
	}
	next := 0
	for i, w := range got {
		if w.from != next || w.to <= w.from {
			t.Errorf("tenth %d: [%d, %d) does not follow %d", i, w.from, w.to, next)
		}
		next = w.to
		if !near(w.rate, 1000) || w.end != ts[w.to-1] {
			t.Errorf("tenth %d: rate %v, end %v; want 1000, %v", i, w.rate, w.end, ts[w.to-1])
		}
	}
	if next != len(ts) {
		t.Errorf("tenths cover %d lines; want %d", next, len(ts))
	}
	if got := tenths(steady(3, time.Millisecond)); len(got) != 3 {
		t.Errorf("tenths of 3 lines: got %d windows; want 3", len(got))
	}
	if got := tenths(nil); len(got) != 0 {
		t.Errorf("tenths of nothing: got %d windows; want 0", len(got))
	}
}
