package loop

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/rangedl/rangedl/reorder"
)

// piece is a byte range [start, end) of the file and how often fetching it has failed.
type piece struct {
	start, end int64
	attempts   int
	notBefore  time.Time // earliest retry (backoff)
	bare       bool      // asked for without a Range: the probe of a server that refused its range (see badStatus)
}

func (p piece) len() int64 { return p.end - p.start }

// tailPiece is the smallest piece cut by the guided share: the last pieces decide how far
// apart the connections finish, and at 10 MiB/s a 256 KiB piece is 25 ms. (Smaller pieces
// would cost more in request round trips than they save.)
const tailPiece = 256 << 10

// unknownEnd is the end of the single piece of a response whose length is not known.
const unknownEnd = math.MaxInt64

// sched hands out pieces. Until the first response tells the size there is only the probe, a
// ranged request for the head of the file (or, when resuming, for the first missing byte).
// Afterwards pieces are cut front to back from the unassigned gaps (one gap, [probe end,
// total), unless a resumed download has holes), each a share of what is left (see Loop.ways),
// capped by the piece size and never below tailPiece. Failed remainders go to a retry list and
// are handed out first, after their backoff.
type sched struct {
	total    int64   // -1 until known
	todo     []piece // unassigned ranges, in file order
	left     int64   // bytes in todo
	maxPiece int64
	from     int64 // where the probe starts
	fromEnd  int64 // where the gap it starts ends (a resumed download's), or 0 if unknown
	probed   bool
	retry    []piece // oldest first
}

// probe returns the first request's range: one minimum piece, so the first connection does not
// own a large share of a file whose size nobody knows yet. The server clamps it to the file's size.
func (s *sched) probe() piece {
	s.probed = true
	end := s.from + min(MinPieceSize, math.MaxInt64-s.from) // no wrapping round past 2^63-1
	if s.fromEnd > 0 {
		end = min(end, s.fromEnd)
	}
	return piece{start: s.from, end: end}
}

// learn records the file size from the first response, and the gaps nobody fetches yet: those
// of [0, total) that are neither in have nor in got (the probe's range). A download that
// cannot be split (no ranges, unknown length) passes got = [0, total): nothing more to cut.
func (s *sched) learn(total int64, have *reorder.RangeSet, got piece) {
	s.total = total
	if total == unknownEnd {
		return
	}
	var all reorder.RangeSet
	for _, r := range have.Ranges() {
		all.Add(r)
	}
	all.Add(reorder.Range{Start: got.start, End: got.end})
	for _, r := range all.Missing(total) {
		s.todo = append(s.todo, piece{start: r.Start, end: r.End})
		s.left += r.Len()
	}
}

// take returns the next piece that may start at now: a retry whose backoff has passed, or else
// (when tail is true) a new piece cut from the unassigned gaps, one of ways shares of what is
// left but no smaller than least. Without tail only the retry nearest the start of the file is
// handed out, once due: a stream's writer waits for that one.
func (s *sched) take(now time.Time, tail bool, ways int, least int64) (piece, bool) {
	if !tail {
		i := s.first()
		if i < 0 || now.Before(s.retry[i].notBefore) {
			return piece{}, false
		}
		p := s.retry[i]
		s.retry = append(s.retry[:i], s.retry[i+1:]...)
		return p, true
	}
	for i, p := range s.retry {
		if !now.Before(p.notBefore) {
			s.retry = append(s.retry[:i], s.retry[i+1:]...)
			return p, true
		}
	}
	if s.total < 0 {
		if s.probed {
			return piece{}, false // only the probe until the size is known
		}
		return s.probe(), true
	}
	if len(s.todo) == 0 {
		return piece{}, false
	}
	gap := &s.todo[0]
	size := min(s.maxPiece, max(s.left/int64(ways), least), gap.len())
	p := piece{start: gap.start, end: gap.start + size}
	gap.start = p.end
	s.left -= size
	if gap.len() == 0 {
		s.todo = s.todo[1:]
	}
	return p, true
}

// giveBack re-queues the unfinished part of a piece and returns how long it waits. A failed
// attempt waits for an exponential backoff with jitter, or atLeast if that is longer (a
// server's Retry-After); a piece returned through no fault of the server (a stale keep-alive
// connection, an eviction) goes again at once.
func (s *sched) giveBack(p piece, failed bool, now time.Time, atLeast time.Duration) time.Duration {
	if p.len() <= 0 {
		return 0
	}
	var wait time.Duration
	if failed {
		p.attempts++
		wait = max(backoff(p.attempts), atLeast)
		p.notBefore = now.Add(wait)
	}
	s.retry = append(s.retry, p)
	return wait
}

// first returns the index of the retry nearest the start of the file, or -1.
func (s *sched) first() int {
	f := -1
	for i, p := range s.retry {
		if f < 0 || p.start < s.retry[f].start {
			f = i
		}
	}
	return f
}

// pending reports whether any work is waiting, now or after a backoff.
func (s *sched) pending() bool {
	return len(s.retry) > 0 || (s.total < 0 && !s.probed) || s.left > 0
}

// wake returns when the earliest delayed retry becomes ready (zero if none is delayed).
func (s *sched) wake() time.Time {
	var t time.Time
	for _, p := range s.retry {
		if t.IsZero() || p.notBefore.Before(t) {
			t = p.notBefore
		}
	}
	return t
}

// tally counts failures in a row, those of things under way together once: a failure of
// something started before the last one was counted fails with it. Counted one by one, the 8
// connects of -n 8 that a link going down failed together used up --retries 5 at once, and a
// server at its limit of 4 closing the 60 others that -n 64 had opened made its backoff 8 s.
type tally struct {
	n  int       // failures counted since the last reset (n = 0)
	at time.Time // when the last of them was counted
}

// add counts the failure, noticed at now, of something started at started, unless it fails
// with the last one counted, and reports whether it counted.
func (t *tally) add(now, started time.Time) bool {
	if !started.After(t.at) {
		return false
	}
	t.n++
	t.at = now
	return true
}

// backoff is 250 ms doubled per attempt, capped at 8 s, with ±25% jitter so that many
// connections failing together do not come back together. Attempt 0 or less (a failure that
// was not counted) waits as the first does.
func backoff(attempt int) time.Duration {
	d := 250 * time.Millisecond << min(max(attempt-1, 0), 5)
	return d - d/4 + rand.N(d/2+1)
}

// ready reports whether work is there now for n connections waiting for it: retries whose
// backoff has passed, plus (when tail is true) the unassigned tail counted in tail pieces.
func (s *sched) ready(now time.Time, n int, tail bool) bool {
	if !tail {
		i := s.first()
		return n <= 1 && i >= 0 && !now.Before(s.retry[i].notBefore)
	}
	k := 0
	for _, p := range s.retry {
		if !now.Before(p.notBefore) {
			k++
		}
	}
	switch {
	case s.total < 0 && !s.probed:
		k++
	case s.left > 0:
		k += int(min((s.left+tailPiece-1)/tailPiece, int64(n)))
	}
	return k >= n
}
