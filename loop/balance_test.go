package loop

import (
	"errors"
	"net/netip"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeConn makes a working connection with a full rate window at rate bytes per second.
func fakeConn(id int, p piece, off int64, rate float64) *conn {
	c := &conn{fd: id, id: id, state: body, piece: p, reqEnd: p.end, off: off}
	if rate >= 0 {
		c.tick = rateTicks
		for i := range c.ticks {
			c.ticks[i] = int64(rate * housekeepingEvery.Seconds())
		}
	}
	return c
}

func loopWith(conns ...*conn) *Loop {
	l := &Loop{job: Job{Connections: len(conns), MaxRetries: DefaultMaxRetries}, r: &Reactor{}, host: &host{}}
	l.with(conns...)
	return l
}

// with makes conns l's connections, entered in its reactor's descriptor table.
func (l *Loop) with(conns ...*conn) {
	for _, c := range conns {
		c.owner, c.host = l, l.host
		for c.fd >= len(l.r.fds) {
			l.r.fds = append(l.r.fds, nil)
		}
		l.r.fds[c.fd] = c
		l.conns = append(l.conns, c)
	}
}

func TestPartialSlot(t *testing.T) {
	l := loopWith()
	l.now = time.Now()
	l.lastSample = l.now.Add(-housekeepingEvery)
	c := &conn{state: body, bodyStart: l.now.Add(-housekeepingEvery * 3 / 4), got: 3 << 20}
	young := &conn{fd: 1, state: body, bodyStart: l.now.Add(-housekeepingEvery / 4), got: 1 << 20} // a quarter of a slot
	head := &conn{fd: 2, state: head, tick: 2, ticks: [rateTicks]int64{1 << 20, 1 << 20}}
	l.with(c, young, head)
	l.sample()
	// 3 MiB in three quarters of a slot is 4 MiB per slot.
	if got, want := c.rate(1), float64(4<<20)/housekeepingEvery.Seconds(); got != want {
		t.Fatalf("rate after a partial slot = %v; want %v (scaled to a whole slot)", got, want)
	}
	if young.tick != 0 || young.got != 1<<20 {
		t.Errorf("a body present for a quarter of the slot was sampled (tick %d, got %d); want it kept for the next", young.tick, young.got)
	}
	if head.tick != 2 {
		t.Errorf("a connection waiting for a head was sampled or reset (tick %d); want its window frozen", head.tick)
	}
}

func TestRateWindow(t *testing.T) {
	l := loopWith()
	l.now = time.Now()
	l.lastSample = l.now.Add(-housekeepingEvery)
	c := &conn{state: body, bodyStart: l.now.Add(-time.Second)}
	l.with(c)
	perTick := func(n int64) float64 { return float64(n) / housekeepingEvery.Seconds() }
	for i := range rateTicks {
		if c.rate(rateTicks) != -1 {
			t.Fatalf("rate after %d samples = %v; want -1 (window not full)", i, c.rate(rateTicks))
		}
		c.got = int64(i+1) << 20
		l.sample()
		l.now = l.now.Add(housekeepingEvery)
		// Samples of 1, 2, ... i+1 MiB so far: rate(1) averages them all.
		if got, want := c.rate(1), perTick(int64((i+1)*(i+2)/2)<<20)/float64(i+1); got != want {
			t.Fatalf("rate(1) after %d samples = %v; want their average, %v", i+1, got, want)
		}
	}
	if got, want := c.rate(rateTicks), perTick(10<<20)/rateTicks; got != want {
		t.Fatalf("rate = %v; want %v", got, want)
	}
	c.got = 0
	l.sample() // the oldest sample (1 MiB) leaves the window
	l.now = l.now.Add(housekeepingEvery)
	if got, want := c.rate(rateTicks), perTick(9<<20)/rateTicks; got != want {
		t.Fatalf("rate after the window moved = %v; want %v", got, want)
	}
	c.state = idle // a pause in the work restarts the window
	l.sample()
	if c.rate(1) != -1 {
		t.Fatalf("rate after idling = %v; want -1", c.rate(1))
	}
}

// TestStealProportional: a fast thief takes most of a straggler's range, so both are expected
// to finish together; the straggler is cut, and nothing is lost or doubled.
func TestStealProportional(t *testing.T) {
	slow := fakeConn(1, piece{start: 0, end: 8 << 20}, 1<<20, 160<<10)
	peers := []*conn{slow, fakeConn(2, piece{start: 8 << 20, end: 9 << 20}, 9<<20-1000, 8<<20),
		fakeConn(3, piece{start: 9 << 20, end: 10 << 20}, 10<<20-1000, 8<<20)}
	l := loopWith(peers...)
	thief := &conn{fd: 4, id: 4, state: idle}
	l.with(thief)
	if !l.steal(thief) {
		t.Fatal("no steal from a 7 MiB straggler")
	}
	if slow.piece.end != thief.piece.start || thief.piece.end != 8<<20 {
		t.Fatalf("victim %+v, thief %+v; want them to meet and the thief to end at 8 MiB", slow.piece, thief.piece)
	}
	kept := slow.piece.end - slow.off
	if want := int64(7<<20) * (160 << 10) / (160<<10 + 8<<20); kept < want-1 || kept > want+1 {
		t.Fatalf("straggler keeps %d bytes; want about %d (its share by rate)", kept, want)
	}
	if slow.reqEnd != 8<<20 {
		t.Fatalf("victim reqEnd %d; the request asked for 8 MiB and its response is checked against that", slow.reqEnd)
	}
}

// TestStealRoundTrip: the thief's split counts its round trip, in which the victim goes on. At
// 1.2 s round trips and 1 MiB/s a connection, a victim with 768 KiB to go was stolen from,
// and the thief's part came 1.2 s after the victim ended. Nor is such a range duplicated.
func TestStealRoundTrip(t *testing.T) {
	const rate = 1 << 20
	for _, tc := range []struct {
		rest int64
		keep int64 // -1: no steal
	}{
		{768 << 10, -1},
		{4 << 20, (4<<20 + rate*6/5) / 2}, // both end 2.6 s from now
	} {
		victim := fakeConn(1, piece{start: 0, end: tc.rest}, 0, rate)
		l := loopWith(victim, fakeConn(2, piece{start: tc.rest, end: tc.rest + 1<<20}, tc.rest+1<<20-1000, rate),
			fakeConn(3, piece{start: tc.rest + 1<<20, end: tc.rest + 2<<20}, tc.rest+2<<20-1000, rate))
		thief := &conn{fd: 4, id: 4, state: idle, wait: 1200 * time.Millisecond}
		l.with(thief)
		switch stole := l.steal(thief); {
		case tc.keep < 0 && stole:
			t.Errorf("%d bytes to go at 1 MiB/s: stole %+v; want no steal with a 1.2 s round trip", tc.rest, thief.piece)
		case tc.keep < 0 && l.duplicate(thief):
			t.Errorf("%d bytes to go at 1 MiB/s: duplicated; want no copy, which could not come first", tc.rest)
		case tc.keep >= 0 && (!stole || victim.piece.end < tc.keep-1 || victim.piece.end > tc.keep+1):
			t.Errorf("%d bytes to go at 1 MiB/s: the victim keeps %d (stole %v); want %d", tc.rest, victim.piece.end, stole, tc.keep)
		}
	}
}

// TestPieceRoundTrip: no piece is smaller than what its connection brings in a round trip.
// With smaller ones a pipelined request is answered only after the piece before it has ended:
// at 1.2 s round trips and 1 MiB/s, 256 KiB pieces left a connection idle for most of each.
func TestPieceRoundTrip(t *testing.T) {
	c := fakeConn(1, piece{}, 0, 1<<20)
	c.state, c.wait = idle, 1200*time.Millisecond
	l := loopWith(c)
	l.job.Connections = 8
	l.sched = sched{total: 32 << 20, maxPiece: 64 << 20, probed: true, todo: []piece{{start: 28 << 20, end: 32 << 20}}, left: 4 << 20}
	p, ok := l.sched.take(l.now, true, l.ways(c), l.least(c))
	if want := int64(1<<20) * 6 / 5; !ok || p.len() < want-1 || p.len() > want+1 {
		t.Fatalf("piece %+v; want %d bytes, 1.2 s at 1 MiB/s (the share of what is left is 4 MiB/%d)", p, want, l.ways(c))
	}
	c.wait = time.Millisecond // on loopback: the share of what is left, as before
	if p, _ := l.sched.take(l.now, true, l.ways(c), l.least(c)); p.len() != tailPiece {
		t.Fatalf("piece %+v at 1 ms round trips; want the share of what is left, %d bytes", p, tailPiece)
	}
}

func TestStealTooSmall(t *testing.T) {
	l := loopWith(fakeConn(1, piece{start: 0, end: 100 << 10}, 0, -1))
	thief := &conn{fd: 2, id: 2, state: idle}
	l.with(thief)
	if l.steal(thief) {
		t.Fatalf("stole %+v from a 100 KiB range; want no split below 2×%d", thief.piece, stealMin)
	}
	// Nothing to split, but the range will take long at its rate: the end game duplicates it.
	if l.duplicate(thief) {
		t.Fatal("duplicated a range whose rate is not known yet")
	}
	l.conns[0].tick = rateTicks // rate 0: stalled
	if !l.duplicate(thief) || thief.piece != (piece{start: 0, end: 100 << 10}) || thief.dup != l.conns[0] || l.conns[0].dup != thief {
		t.Fatalf("duplicate: thief %+v dup %v; want a linked copy of [0,100K)", thief.piece, thief.dup)
	}
}

// TestNoCopyWithoutPeers: a range whose own pace says it will take long is not copied while no
// connection's rate is known: no telling that a copy would come first. A stream to a slow reader
// is so: its connections, paused for the writer, sample nothing, and their averages count the
// pauses. Such copies fetched 64 MiB at -n 256 as 99–105 MB.
func TestNoCopyWithoutPeers(t *testing.T) {
	v := fakeConn(1, piece{start: 0, end: 4 << 20}, 64<<10, -1)
	l := loopWith(v)
	l.now = time.Now()
	v.bodyStart = l.now.Add(-10 * time.Second) // 6.4 KiB/s on average: 10 minutes to go
	if eta, ok := v.eta(l.now); !ok || eta < time.Minute {
		t.Fatalf("eta %v, %v; want a long one", eta, ok)
	}
	thief := &conn{fd: 2, id: 2, state: idle}
	l.with(thief)
	if l.duplicate(thief) {
		t.Errorf("copied %+v with no peer's rate known", thief.piece)
	}
}

// realFD gives c a descriptor the loop may close: a duplicate of one end of a socket pair.
func realFD(t *testing.T, p *poller, c *conn) *conn {
	a, _ := newPair(t)
	fd, err := unix.Dup(a)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) }) // EBADF once the loop has closed it
	c.fd = fd
	if err := p.add(fd, evRead); err != nil {
		t.Fatal(err)
	}
	return c
}

// straggling returns a download at now of four connections, slow at 100 KiB/s and three at
// 8 MiB/s, slow's head having come wait after its request.
func straggling(t *testing.T, now time.Time, wait time.Duration) (l *Loop, slow *conn) {
	p := newTestPoller(t)
	slow = realFD(t, p, fakeConn(1, piece{start: 0, end: 8 << 20}, 1<<20, 100<<10))
	slow.wait = wait
	l = loopWith(slow,
		realFD(t, p, fakeConn(2, piece{start: 8 << 20, end: 16 << 20}, 9<<20, 8<<20)),
		realFD(t, p, fakeConn(3, piece{start: 16 << 20, end: 24 << 20}, 17<<20, 8<<20)),
		realFD(t, p, fakeConn(4, piece{start: 24 << 20, end: 32 << 20}, 25<<20, 8<<20)))
	l.now, l.r.poll, l.stats, l.live = now, p, new(Stats), 4
	return l, slow
}

func TestEvictStraggler(t *testing.T) {
	now := time.Now()
	l, slow := straggling(t, now, 0)
	l.evict()
	if slow.owner != nil || l.evictions != 1 || l.live != 3 {
		t.Fatalf("straggler still open (evictions %d, live %d)", l.evictions, l.live)
	}
	got, ok := l.sched.take(now, true, 8, tailPiece)
	if !ok || got.start != 1<<20 || got.end != 8<<20 || got.attempts != 0 {
		t.Fatalf("re-queued %+v, %v; want [1M,8M) at once, not counted as a failure", got, ok)
	}
	l.evict() // at most one per evictEvery
	if l.evictions != 1 {
		t.Fatalf("evictions %d within %v; want 1", l.evictions, evictEvery)
	}
}

// TestEvictLongRoundTrip: on a long round trip a rate window of 1 s is two round trips, in which
// a connection in TCP's slow start, or one waiting out a retransmission timeout, looks like a
// straggler. It is evicted only once it has been slow for slowFor of its round trips. Before,
// on a 500 ms link, fresh connections were evicted in turn.
func TestEvictLongRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		wait        time.Duration
		evictAtOnce bool
	}{{400 * time.Millisecond, false}, {time.Millisecond, true}} {
		now := time.Now()
		l, slow := straggling(t, now, tc.wait)
		l.evict()
		if evicted := slow.owner == nil; evicted != tc.evictAtOnce {
			t.Fatalf("round trip %v, slow for the 1 s window: evicted %v; want %v", tc.wait, evicted, tc.evictAtOnce)
		}
		l.now = now.Add(2500 * time.Millisecond) // slow for 3.5 s: more than 8 round trips of 400 ms
		l.evict()
		if slow.owner != nil {
			t.Fatalf("round trip %v, slow for 3.5 s: not evicted", tc.wait)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		v    string
		want time.Duration
	}{
		{"", 0}, {"0", 0}, {"3", 3 * time.Second}, {"120", maxRetryAfter}, {"-1", 0}, {"soon", 0},
		{"4294967296", maxRetryAfter}, {"99999999999999999999999", maxRetryAfter}, // were no wait at all
		{"Sun, 22 Nov 2026 08:00:10 GMT", 10 * time.Second}, {"Sun, 22 Nov 2026 07:00:00 GMT", 0},
	} {
		if got := retryAfter([]byte(tc.v), now); got != tc.want {
			t.Errorf("retryAfter(%q) = %v; want %v", tc.v, got, tc.want)
		}
	}
}

// TestConnectsFailTogether: connects that were under way together and fail together (a link
// that went down) count as one failed attempt. Counted one by one, the 8 connects of -n 8 used
// up --retries 5 at once.
func TestConnectsFailTogether(t *testing.T) {
	l := loopWith()
	start := time.Now()
	l.job.MaxRetries, l.everConnected, l.stats = 5, true, new(Stats)
	l.now = start.Add(15 * time.Second)
	for range 8 {
		l.connectFailed(start, errors.New("connect timed out after 15s"))
	}
	if l.err != nil || l.connectFails.n != 1 {
		t.Fatalf("8 connects that failed together: err %v, %d failures counted; want 1 and no error", l.err, l.connectFails.n)
	}
	for i := range 5 { // one at a time from now on: each counts
		l.now = l.now.Add(20 * time.Second)
		l.connectFailed(l.now.Add(-15*time.Second), errors.New("connect timed out after 15s"))
		if got := l.err != nil; got != (i == 4) {
			t.Fatalf("after %d more: err %v", i+1, l.err)
		}
	}
}

// TestShedTogether: a server at its limit closes every connection over it that -n opened
// together. That is one refusal: new connections wait out the first backoff, not the 8 s cap
// that counting each of the 60 made (-n 64 to a server taking 4, -o -: 32 MiB took 8 to 11 s
// in 6 runs of 12, where the rest took 1.1 to 1.3 s). A connection opened after it counts again.
func TestShedTogether(t *testing.T) {
	l := loopWith()
	start := time.Unix(1000, 0)
	l.now = start.Add(20 * time.Millisecond)
	l.host.open = 64
	for range 60 {
		l.host.open-- // closed by the caller
		l.shed(&conn{started: start})
	}
	first := 250 * time.Millisecond * 5 / 4 // the longest backoff(1): 250 ms ±25%
	if h := l.host; h.fails.n != 1 || h.limit != 4 || h.after.Sub(l.now) > first {
		t.Fatalf("60 connections closed together: %d failures, limit %d, backoff %v; want 1, 4, at most %v",
			h.fails.n, h.limit, h.after.Sub(l.now), first)
	}
	opened := l.host.after
	l.now = opened.Add(10 * time.Millisecond)
	l.shed(&conn{started: opened})
	if l.host.fails.n != 2 {
		t.Fatalf("a connection opened after the backoff and closed: %d failures; want 2", l.host.fails.n)
	}
}

// TestOutageRestoresConnections: connects that get no answer (a dead path, not a refusing
// server) leave one connection probing, and the first connect that works brings the rest back
// at once. Taken for refusals, they came back one per quiet spell, and the server's backoff
// counted each of the 8 timeouts: after an 18 s outage the first connect waited 9 s more, and
// a 64 MiB download took 43 s where 28 s did (a netns with the link down from 3 s to 21 s).
// The server's backoff counts the failures of all its downloads together, as one when they
// were under way together (TestShedTogether). A connect that timed out after the server took it
// (a TLS handshake, a proxy's CONNECT) is the server's slowness.
func TestOutageRestoresConnections(t *testing.T) {
	for _, tc := range []struct {
		err        error
		afterwards int // connections wanted once a connect works again
	}{
		{connectTimeout{15 * time.Second, connecting}, 8},
		{os.NewSyscallError("connect", unix.EHOSTUNREACH), 8},
		{os.NewSyscallError("connect", unix.ECONNREFUSED), 1},
		{connectTimeout{15 * time.Second, handshaking}, 1},
	} {
		l := loopWith()
		l.job.Connections, l.target, l.everConnected, l.stats = 8, 8, true, new(Stats)
		l.now = time.Now()
		other := loopWith() // another download from the same server
		other.host, other.job, other.target, other.everConnected, other.stats, other.now = l.host, l.job, 8, true, new(Stats), l.now
		for range 8 {
			l.connectFailed(l.now.Add(-time.Second), tc.err)
			other.connectFailed(l.now.Add(-time.Second), tc.err)
		}
		if l.err != nil || l.target != 1 || l.host.fails.n != 1 {
			t.Fatalf("%v: after 8 failed connects: err %v, target %d, server failures %d; want no error, 1, 1",
				tc.err, l.err, l.target, l.host.fails.n)
		}
		c := &conn{armed: evRead} // assign leaves it idle: there is no work in this test
		l.with(c)
		l.connecting = 1
		l.ready(c)
		if l.target != tc.afterwards {
			t.Errorf("%v: a connect worked again: %d connections wanted; want %d", tc.err, l.target, tc.afterwards)
		}
	}
}

// TestBackToBackRate: a connection serving short responses back to back is sampled at the rate
// its bodies arrive at. Before, a slot in which the current response was under half a slot old
// was skipped but its bytes carried over, and the next slot's bytes were scaled by the age of
// its last response alone: 200 ms responses at 4 MiB/s read as 44 MiB/s, which made
// healthy peers look like stragglers.
func TestBackToBackRate(t *testing.T) {
	const rate = 4 << 20 // bytes per second while a body arrives
	const bodyFor, headFor = 200 * time.Millisecond, 30 * time.Millisecond
	c := &conn{state: body}
	l := loopWith(c)
	start := time.Now()
	l.now, l.lastSample, c.bodyStart = start, start, start
	phase := start // when the current body, or wait for a head, began
	var samples []float64
	for step := time.Millisecond; step <= 3*time.Second; step += time.Millisecond {
		l.now = start.Add(step)
		switch {
		case c.state == body:
			c.got += rate / 1000
			if l.now.Sub(phase) >= bodyFor {
				l.endBody(c)
				c.state, phase = head, l.now
			}
		case l.now.Sub(phase) >= headFor:
			c.state, c.bodyStart, phase = body, l.now, l.now
		}
		if step%housekeepingEvery == 0 {
			before := c.tick
			l.sample()
			if c.tick > before {
				samples = append(samples, float64(c.ticks[(c.tick-1)%rateTicks])/housekeepingEvery.Seconds())
			}
		}
	}
	if len(samples) < 8 {
		t.Fatalf("%d samples in 3 s; want one for most of the 12 slots", len(samples))
	}
	for i, r := range samples {
		if r < rate*0.9 || r > rate*1.1 {
			t.Errorf("sample %d: %.2f MiB/s; want %.2f ± 10%%", i, r/(1<<20), float64(rate)/(1<<20))
		}
	}
}

// TestOverdueAfterShortBody: a connection whose last body took less than half a slot, and whose
// next head never comes, samples nothing once that head is overdue. The short body's slot was
// carried forward at every sample, and the head never counted as overdue.
func TestOverdueAfterShortBody(t *testing.T) {
	c := &conn{state: head, got: 1 << 20, busy: 60 * time.Millisecond, wait: 20 * time.Millisecond}
	l := loopWith(c)
	start := time.Now()
	c.since, l.lastSample = start, start
	for l.now = start; l.now.Sub(start) <= 2*time.Second; l.now = l.now.Add(housekeepingEvery) {
		l.sample()
	}
	if c.tick == 0 || c.ticks[(c.tick-1)%rateTicks] != 0 {
		t.Errorf("%d samples, the last %d bytes; want a sample of 0 for the overdue head", c.tick, c.ticks[max(c.tick-1, 0)%rateTicks])
	}
}

// TestDeadAddressRace: while the addresses of a server are raced (Happy Eyeballs), an address
// with no route does not hold up the next one with a backoff.
func TestDeadAddressRace(t *testing.T) {
	l := loopWith()
	l.job.Addrs = []netip.AddrPort{netip.MustParseAddrPort("[2001:db8::1]:80"), netip.MustParseAddrPort("127.0.0.1:80")}
	l.nextAddr, l.now, l.stats = 1, time.Now(), new(Stats)
	l.host.ever = true
	l.connectFailed(l.now, os.NewSyscallError("connect", unix.ENETUNREACH))
	if l.err != nil || !l.host.room(l.now) {
		t.Fatalf("after the first address failed: err %v, server open to connects %v; want no error and true", l.err, l.host.room(l.now))
	}
}

// TestRaceBesideLimit: an attempt at the next address may start beside one under way when the
// server's limit is reached (the two hold one place: the loser is closed), but not while the
// server is backed off, and the first attempt needs room as any connection does.
func TestRaceBesideLimit(t *testing.T) {
	l := loopWith()
	l.job.Addrs = []netip.AddrPort{netip.MustParseAddrPort("127.0.0.1:80"), netip.MustParseAddrPort("[::1]:80")}
	l.now = time.Now()
	l.host.limit, l.host.open = 1, 1
	if l.mayTryNext() {
		t.Error("a first attempt with the server at its limit")
	}
	l.nextAddr, l.connecting, l.lastAttempt = 1, 1, l.now.Add(-attemptDelay)
	if !l.mayTryNext() {
		t.Error("no attempt at the next address beside one under way, at the server's limit")
	}
	l.host.after = l.now.Add(time.Second)
	if l.mayTryNext() {
		t.Error("an attempt at the next address while the server is backed off")
	}
	l.host.after, l.lastAttempt = time.Time{}, l.now.Add(-attemptDelay/2)
	if l.mayTryNext() {
		t.Error("an attempt at the next address before attemptDelay")
	}
}

// TestHostRecoversAfterWait: a host's lowered limit grows back one connection per quiet spell,
// counted from when connections may open again, not from the refusal: a Retry-After longer
// than several spells used to end with the limit back at 6, and 6 connects at once.
func TestHostRecoversAfterWait(t *testing.T) {
	start := time.Unix(1000, 0)
	h := &host{}
	h.refused(start, start.Add(-time.Second), 30*time.Second) // a 503 with Retry-After: 30
	if h.limit != 1 {
		t.Fatalf("limit after the refusal: %d; want 1", h.limit)
	}
	for now := start; !now.After(start.Add(30 * time.Second)); now = now.Add(250 * time.Millisecond) {
		h.recover(now, 8)
	}
	if h.limit != 1 {
		t.Fatalf("limit when the wait is over: %d; want 1", h.limit)
	}
	h.recover(h.after.Add(quietSpell), 8)
	if h.limit != 2 {
		t.Fatalf("limit a quiet spell later: %d; want 2", h.limit)
	}
}
