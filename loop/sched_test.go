package loop

import (
	"math"
	"testing"
	"time"

	"github.com/rangedl/rangedl/reorder"
)

// TestSchedCoversFile checks that the pieces handed out tile the file exactly, shrink toward
// the end, and respect the bounds.
func TestSchedCoversFile(t *testing.T) {
	now := time.Now()
	for _, tc := range []struct {
		total, maxPiece int64
		conns           int
	}{
		{0, 64 << 20, 8}, {1, 64 << 20, 8}, {1<<20 + 1, 64 << 20, 1}, {1 << 30, 64 << 20, 8},
		{256 << 20, 64 << 20, 16}, {100<<20 + 7, 1 << 20, 3},
	} {
		s := sched{total: -1, maxPiece: tc.maxPiece}
		p, ok := s.take(now, true, 2*tc.conns, tailPiece)
		if !ok || p.start != 0 || p.end != MinPieceSize {
			t.Fatalf("probe = %+v, %v; want [0,%d)", p, ok, MinPieceSize)
		}
		if _, ok := s.take(now, true, 2*tc.conns, tailPiece); ok {
			t.Fatal("a second piece before the size is known")
		}
		first := min(tc.total, MinPieceSize)
		s.learn(tc.total, new(reorder.RangeSet), piece{start: 0, end: first})
		next, last := first, int64(1<<62)
		for {
			p, ok := s.take(now, true, 2*tc.conns, tailPiece)
			if !ok {
				break
			}
			if p.start != next || p.len() <= 0 || p.len() > tc.maxPiece {
				t.Fatalf("total %d: piece %+v after %d; want contiguous, 1..%d bytes", tc.total, p, next, tc.maxPiece)
			}
			if p.len() > last {
				t.Fatalf("total %d: piece %+v longer than the one before (%d)", tc.total, p, last)
			}
			if p.len() < tailPiece && p.end != tc.total {
				t.Fatalf("total %d: piece %+v below the minimum and not the last", tc.total, p)
			}
			next, last = p.end, p.len()
		}
		if next != tc.total || s.pending() {
			t.Fatalf("total %d: pieces end at %d, pending %v", tc.total, next, s.pending())
		}
	}
}

// TestSchedResumes checks that a resumed download probes at its first missing byte and then
// fetches exactly the holes: nothing it has, nothing twice.
func TestSchedResumes(t *testing.T) {
	const M = 1 << 20
	now := time.Now()
	var have reorder.RangeSet
	have.Add(reorder.Range{Start: 0, End: 3 * M})
	have.Add(reorder.Range{Start: 3*M + 100<<10, End: 6 * M})
	have.Add(reorder.Range{Start: 9*M + 5, End: 10 * M})
	s := sched{total: -1, maxPiece: 64 << 20, from: 3 * M, fromEnd: 3*M + 100<<10}
	p, ok := s.take(now, true, 4, tailPiece)
	if !ok || p.start != 3*M || p.end != 3*M+100<<10 {
		t.Fatalf("probe = %+v, %v; want [3M,3M+100K): the first gap only", p, ok)
	}
	s.learn(10*M, &have, p)
	got := have
	got.Add(reorder.Range{Start: p.start, End: p.end})
	for {
		p, ok := s.take(now, true, 4, tailPiece)
		if !ok {
			break
		}
		r := reorder.Range{Start: p.start, End: p.end}
		for _, h := range got.Ranges() {
			if r.Start < h.End && h.Start < r.End {
				t.Fatalf("piece %+v overlaps %+v, which is there already", p, h)
			}
		}
		got.Add(r)
	}
	if got.Size() != 10*M || s.pending() {
		t.Fatalf("after every piece: %v, pending %v; want [0,10M)", got.String(), s.pending())
	}
}

func TestSchedRetryBackoff(t *testing.T) {
	now := time.Now()
	s := sched{total: -1, maxPiece: 64 << 20}
	s.learn(10<<20, new(reorder.RangeSet), piece{start: 0, end: 10 << 20}) // everything handed out already
	s.giveBack(piece{start: 5, end: 10}, true, now, 0)
	if _, ok := s.take(now, true, 8, tailPiece); ok {
		t.Fatal("a failed piece came back before its backoff")
	}
	if w := s.wake(); w.Sub(now) < 180*time.Millisecond || w.Sub(now) > 320*time.Millisecond {
		t.Fatalf("first backoff %v; want 250ms ±25%%", w.Sub(now))
	}
	p, ok := s.take(s.wake(), true, 8, tailPiece)
	if !ok || p.start != 5 || p.end != 10 || p.attempts != 1 {
		t.Fatalf("retry = %+v, %v; want [5,10) attempt 1", p, ok)
	}
	s.giveBack(piece{start: 7, end: 9}, false, now, 0) // a stale keep-alive: at once, no penalty
	if p, ok := s.take(now, true, 8, tailPiece); !ok || p.attempts != 0 {
		t.Fatalf("stale retry = %+v, %v; want immediate, attempt 0", p, ok)
	}
}

// TestBackoffBounds: also for attempt 0, an uncounted failure (a connect that failed with
// others, after a connect that worked reset the count), which panicked: a negative shift.
func TestBackoffBounds(t *testing.T) {
	for a := 0; a < 12; a++ {
		base := 250 * time.Millisecond << min(max(a-1, 0), 5)
		for range 50 {
			if d := backoff(a); d < base-base/4 || d > base+base/4 {
				t.Fatalf("backoff(%d) = %v; want %v ±25%%", a, d, base)
			}
		}
	}
}

func TestWriteSizes(t *testing.T) {
	for _, tc := range []struct{ n, block, buffered int }{
		{1, 256 << 10, 8 << 20}, {16, 256 << 10, 8 << 20}, {32, 256 << 10, 8 << 20},
		{64, 128 << 10, 8 << 20}, {128, 64 << 10, 8 << 20}, {256, 64 << 10, 16 << 20},
	} {
		if b, m := writeSizes(tc.n); b != tc.block || m != tc.buffered {
			t.Errorf("writeSizes(%d) = %d, %d; want %d, %d", tc.n, b, m, tc.block, tc.buffered)
		}
	}
}

// TestProbeNearTheLargestOffset: a probe that starts within a piece of the largest offset ends
// there at most. Its end wrapped round: "Range: bytes=9223372036854774806--9223372036853728235"
// for a -c of a file 1000 bytes short of 2^63-2 (a review).
func TestProbeNearTheLargestOffset(t *testing.T) {
	for _, fromEnd := range []int64{0, math.MaxInt64 - 1} {
		s := sched{from: math.MaxInt64 - 1000, fromEnd: fromEnd}
		if p := s.probe(); p.end <= p.start {
			t.Errorf("gap ending at %d: probe [%d, %d); want an end past its start", fromEnd, p.start, p.end)
		}
	}
}
