package loop

import (
	"math"
	"slices"
	"time"

	"github.com/rangedl/rangedl/reorder"
)

// Connection evaluation and dynamic scheduling: no straggler holds the download hostage.
//
// Every connection's throughput is sampled at each housekeeping tick over a moving window of
// rateTicks ticks (1 s). Eviction judges after judgeTicks samples; the end game's estimates
// start sooner, from a response's own average once it is quickRate old. Three mechanisms use it:
//
//   - Work stealing. A connection that finds no unassigned piece takes the back part of the
//     largest range still in flight. The split is proportional to the two connections' rates
//     and counts the thief's round trip, so both are expected to finish together (an even
//     split when a rate is not known yet).
//     The victim's request is shortened by closing its connection when it reaches the new end,
//     not by letting it run on: running on would waste the whole stolen part, closing wastes
//     only the bytes already in flight (the socket's buffers) and one reconnect, and at that
//     point the victim would have needed a new request anyway.
//   - End game. When nothing is left worth splitting, an idle connection duplicates the range
//     expected to finish last, if its copy could come first. Whichever copy arrives first is
//     kept (the reorder buffer keeps the first copy of a byte; both copies were checked
//     against the same validators) and the other connection is closed.
//   - Eviction. A connection far below the median of its peers (or not moving at all) while
//     it still holds a second or more of work is closed, and its unfinished range goes back
//     to the queue at once for a fresh connection. At most one eviction per evictEvery, and a
//     bounded number in all, so a uniformly slow server does not cause churn.
const (
	rateTicks  = 4        // the window: rateTicks × housekeepingEvery = 1 s
	stealMin   = 64 << 10 // neither part of a split is smaller than this
	stealAfter = 200 * time.Millisecond
	dupAfter   = 300 * time.Millisecond
	quickRate  = 100 * time.Millisecond // a response this old has a first estimate of its rate
	judgeTicks = 2                      // samples (500 ms) before a connection is judged
	evictRatio = 5                      // evict below median / evictRatio
	evictEvery = time.Second
	// slowFor is how many of its round trips a connection must stay far below its peers before
	// it is evicted. The rate window (1 s) is two round trips on a 500 ms link: a new
	// connection still in TCP's slow start, or one waiting out a retransmission timeout after
	// a random loss, looked like a straggler, and its replacement started over from slow start
	// (17 evictions and 1.48× the time on a 500 ms, 3% loss link; a netns review).
	slowFor = 8
)

// rate returns c's throughput in bytes per second over its last samples (the whole window
// once it is full), or -1 with fewer than minTicks samples.
func (c *conn) rate(minTicks int) float64 {
	k := min(c.tick, rateTicks)
	if k < max(minTicks, 1) {
		return -1
	}
	var sum int64
	for i := range k {
		sum += c.ticks[(c.tick-1-i)%rateTicks]
	}
	return float64(sum) / (time.Duration(k) * housekeepingEvery).Seconds()
}

// speed is c's throughput in bytes per second: from its samples, or before the first one from
// the current response's average once it is quickRate old; -1 when it cannot tell yet.
func (c *conn) speed(now time.Time) float64 {
	r := c.rate(1)
	if r < 0 && c.state == body {
		if age := now.Sub(c.bodyStart); age >= quickRate {
			r = float64(c.off-c.piece.start) / age.Seconds()
		}
	}
	return r
}

// guess is c's speed (see speed), or else its last complete response's average: a response
// that comes whole in less than a sample (a server slow to answer, fast to send) leaves its
// connection with no speed of its own, for ever. Pieces cut and pipelined by the speed were
// then cut small and asked for one at a time, each after the server's wait: 16 MiB from a
// server that waits 1 s before each answer took 6.1 s at -n 8 and 8.1 s at -n 1 (curl: 1.1 s).
func (c *conn) guess(now time.Time) float64 {
	if r := c.speed(now); r >= 0 || c.last <= 0 {
		return r
	}
	return c.last
}

// eta estimates how long c needs for the rest of its piece (see speed); ok is false when it
// cannot tell yet. A connection that has not moved at all takes forever.
//
// A connection held back (paused) in its current response has no average to go by: the time it
// was held counts in it, and shows a connection that waits for the writer as a straggler. Only
// its samples, taken while it was free to read, say how fast it is. (Stolen from and copied,
// ranges whose bytes were already in the socket buffers came again: 64 MiB at -n 256 to a
// reader of 8 MiB/s fetched 72-105 MB.)
func (c *conn) eta(now time.Time) (d time.Duration, ok bool) {
	r := c.speed(now)
	if c.held {
		r = c.rate(1)
	}
	switch {
	case r < 0:
		return 0, false
	case r == 0:
		return math.MaxInt64, true
	}
	return time.Duration(float64(c.remaining()) / r * float64(time.Second)), true
}

// active reports whether c holds work: a request sent or being sent, or a body arriving.
func (c *conn) active() bool {
	return (c.state == sending || c.state == head || c.state == body) && !c.paused
}

// working reports whether c has a response under way, or awaited (paused or not).
func (c *conn) working() bool { return c.state == head || c.state == body }

// remaining is how many bytes of c's piece have not arrived on c.
func (c *conn) remaining() int64 { return c.piece.end - c.off }

// sample closes one window slot for every connection that received a body in it. The sample is
// the bytes over the time spent receiving bodies, scaled to a whole slot: the round trips
// between pieces (request sent, head awaited) are not slowness. A head overdue (see overdue)
// is: each slot it is awaited in samples nothing, so that eviction and the end game see a
// connection that does not move. (Left to the stall timeout, a lost request kept its range
// for 30 s while the peers sat idle: TestLostRequest.) A slot with less than half of it in
// bodies is carried into the next, its bytes and its time together (carrying the bytes alone
// read 200 ms responses back to back at 4 MiB/s as 44 MiB/s: TestBackToBackRate). A
// connection that stops working (idle, connecting, paused for back-pressure) starts its
// window again.
func (l *Loop) sample() {
	from := l.lastSample
	l.lastSample = l.now
	for _, c := range l.conns {
		switch {
		case c.owner != l:
		case !c.active():
			c.tick, c.got, c.busy = 0, 0, 0
		case c.overdue(l.now):
			// Before the carried slot: a body shorter than half a slot, carried into the
			// next, kept a lost request from ever counting as overdue (TestLostRequest at
			// 16 MiB/s took the 30 s stall timeout).
			c.ticks[c.tick%rateTicks] = 0
			c.tick++
			c.got, c.busy = 0, 0
		case c.state == body || c.busy > 0:
			busy := c.bodyTime(from, l.now)
			if busy < housekeepingEvery/2 {
				c.busy = busy
				continue
			}
			c.ticks[c.tick%rateTicks] = int64(float64(c.got) * float64(housekeepingEvery) / float64(busy))
			c.tick++
			c.got, c.busy = 0, 0
		}
	}
}

// overdue reports whether c has waited for a head for four of its round trips (as its last
// head took), and a second at least: a server rarely pauses that long before a range of a file
// it has been serving; a lost request, or a flow that died, waits for ever.
func (c *conn) overdue(now time.Time) bool {
	return c.state == head && c.wait > 0 && now.Sub(c.since) > max(4*c.wait, time.Second)
}

// bodyTime is how long c has spent receiving bodies since from (the last sample): in responses
// that have ended, and in the current one until its piece is complete.
func (c *conn) bodyTime(from, now time.Time) time.Duration {
	d := c.busy
	if c.state == body && !c.tail {
		start := c.bodyStart
		if start.Before(from) {
			start = from
		}
		if start.Before(c.resumed) {
			start = c.resumed // held back until then: see pause
		}
		d += now.Sub(start)
	}
	return d
}

// endBody notes that c's piece is complete: the time its body took counts in the next sample.
func (l *Loop) endBody(c *conn) {
	c.busy = c.bodyTime(l.lastSample, l.now)
}

// median returns the median rate of the working connections with judgeTicks samples, and how
// many there are.
func (l *Loop) median() (float64, int) {
	l.rates = l.rates[:0]
	for _, c := range l.conns {
		if c.owner == l && c.active() {
			if r := c.rate(judgeTicks); r >= 0 {
				l.rates = append(l.rates, r)
			}
		}
	}
	if len(l.rates) == 0 {
		return -1, 0
	}
	return middle(l.rates), len(l.rates)
}

// middle sorts rates and returns the one in the middle.
func middle(rates []float64) float64 {
	slices.Sort(rates)
	return rates[len(rates)/2]
}

// steal gives the idle connection c the back part of the largest range in flight, if its
// connection is known to need more than stealAfter, and more than c's round trip, for it
// (sooner, a new request would gain nothing and cost the victim its connection). The split
// counts c's round trip, in which the victim goes on: at 1.2 s round trips, thieves that did
// not waited for parts their victims would have finished first. A connection that has
// pipelined its next request is left alone: its piece ends within about a round trip.
func (l *Loop) steal(c *conn) bool {
	var v *conn
	for _, o := range l.conns {
		if o.owner == l && o != c && o.active() && o.dup == nil && o.next.len() == 0 && (v == nil || o.remaining() > v.remaining()) {
			v = o
		}
	}
	if v == nil || v.remaining() < 2*stealMin {
		return false
	}
	if eta, ok := v.eta(l.now); !ok || eta < max(stealAfter, c.wait) {
		return false
	}
	rest := v.remaining()
	keep := rest / 2
	rt, _ := l.median() // the thief is expected to do what its peers do
	if rv := v.rate(1); rv >= 0 && rt > 0 {
		// Both are to end together: the victim's keep at rv, and after the thief's round
		// trip the rest at rt.
		keep = int64(rv * (float64(rest) + rt*c.wait.Seconds()) / (rv + rt))
	}
	if keep > rest-stealMin {
		return false // the thief's round trip is about all the victim needs
	}
	keep = max(keep, stealMin)
	mid := v.off + keep
	c.piece = piece{start: mid, end: v.piece.end}
	v.piece.end = mid
	l.trace.event("steal", c, v, c.piece, 0)
	return true
}

// duplicate gives the idle connection c a copy of the range expected to finish last, if the
// copy could come first: after c's round trip, at its peers' rate.
func (l *Loop) duplicate(c *conn) bool {
	var v *conn
	var worst time.Duration
	for _, o := range l.conns {
		if o.owner != l || o == c || !o.active() || o.dup != nil || o.next.len() > 0 || o.remaining() <= 0 {
			continue
		}
		if eta, ok := o.eta(l.now); ok && eta > worst {
			v, worst = o, eta
		}
	}
	if v == nil || worst < max(dupAfter, c.wait) || v.piece.attempts >= l.job.MaxRetries {
		return false // a copy is an attempt too: none for a range with no retry left
	}
	// Without its peers' rate there is no telling that a copy could come first (with their
	// rate 0, all stalled, any copy could). Unknown rates were taken for a yes: a stream to a
	// slow reader, whose paused connections sample nothing, copied ranges that were only
	// waiting for the writer, and 64 MiB at -n 256 fetched 99–105 MB.
	switch rt, _ := l.median(); {
	case rt < 0:
		return false
	case rt > 0 && c.wait.Seconds()+float64(v.remaining())/rt >= worst.Seconds():
		return false
	}
	c.piece = piece{start: v.off, end: v.piece.end, attempts: v.piece.attempts}
	c.dup, v.dup = v, c
	l.trace.event("duplicate", c, v, c.piece, 0)
	return true
}

// evict closes one connection (the first found) that is far below the median of its peers
// (see evictIfSlow).
func (l *Loop) evict() {
	if !l.mayEvict() {
		return
	}
	med, n := l.median()
	if n < 3 || med <= 0 {
		return
	}
	for _, c := range l.conns {
		if c.owner == l && c.active() && c.dup == nil && l.evictIfSlow(c, med, time.Second) {
			return
		}
	}
}

// mayEvict reports whether an eviction may come now: at most one per evictEvery, and 2n+4 in
// all, so a uniformly slow server causes no churn.
func (l *Loop) mayEvict() bool {
	return !l.now.Before(l.nextEvict) && l.evictions < 2*l.job.Connections+4
}

// evictIfSlow evicts c if it is far below med, has been for slowFor of its round trips, and
// would take at least soon to finish its piece, and reports whether it did.
func (l *Loop) evictIfSlow(c *conn, med float64, soon time.Duration) bool {
	r := c.rate(judgeTicks)
	if r < 0 || r >= med/evictRatio || (r > 0 && float64(c.remaining())/r < soon.Seconds()) {
		c.slowSince = time.Time{}
		return false // too young to judge, fast enough, or about to finish anyway
	}
	if c.slowSince.IsZero() {
		c.slowSince = l.now.Add(-time.Duration(min(c.tick, rateTicks)) * housekeepingEvery) // slow over the whole window
	}
	if l.now.Sub(c.slowSince) < slowFor*c.wait {
		return false // slow for too few of its round trips yet
	}
	l.evictions++
	l.nextEvict = l.now.Add(evictEvery)
	l.trace.evict(c, r, med)
	l.release(c, false, 0)
	return true
}

// rescue evicts the connection a full stream waits for when it straggles behind the speeds
// the others had when they were paused. With them all paused, evict has no working peers to
// compare it with, holdStall sees that it moves, and the whole stream would go at its pace (a
// 64 KiB/s connection among 8 MiB/s ones made 32 MiB take 34 s instead of under 1 s): its
// range goes back to the queue, and the paused connection furthest ahead gives up its slot for
// a fresh one to fetch it (fill). The limits are evict's.
func (l *Loop) rescue() {
	if !l.starved() || !l.mayEvict() {
		return
	}
	var head *conn
	l.rates = l.rates[:0]
	for _, c := range l.conns {
		switch {
		case c.owner != l:
		case c.paused:
			if c.pace >= 0 {
				l.rates = append(l.rates, c.pace)
			}
		case c.active() && (head == nil || c.piece.start < head.piece.start):
			head = c // the one whose piece holds the writer's cursor
		}
	}
	if head == nil || head.dup != nil || len(l.rates) < 3 {
		return
	}
	// About to finish is sooner than a new connection at the others' speed would: a stream's
	// pieces are small, and the next one waits for the same straggler. Left alone whenever it
	// had less than a second to go, one of 1 MiB/s among 8 of 8 MiB/s made 128 MiB take 8.8 s.
	// A new connection's connect, TLS handshake and request take about four round trips.
	if med := middle(l.rates); med > 0 {
		l.evictIfSlow(head, med, 4*head.wait+time.Duration(float64(head.remaining())/med*float64(time.Second)))
	}
}

// superseded closes the partner of a duplicated range once the range is complete.
func (l *Loop) superseded(c *conn) {
	d := c.dup
	if d == nil {
		return
	}
	c.dup, d.dup = nil, nil
	if d.owner == l && d.remaining() > 0 && l.have.Contains(reorder.Range{Start: d.off, End: d.piece.end}) {
		l.trace.event("lost", d, c, piece{start: d.off, end: d.piece.end}, 0)
		l.close(d)
	}
}

// quietSpell is how long without failures or refusals before a lowered connection count
// grows again, one connection at a time: a burst of 503s or a refused connect must not leave
// the rest of the download on fewer connections (aria2 never reopens them).
const quietSpell = 5 * time.Second

// recover raises the wanted connections by one after a quiet spell.
func (l *Loop) recover() {
	if l.target < l.job.Connections && l.now.Sub(l.trouble) >= quietSpell {
		l.target++
		l.trouble = l.now
		l.trace.note("target", nil, int64(l.target), 0, "quiet for "+quietSpell.String())
	}
}
