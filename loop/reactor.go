package loop

import (
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// A Reactor is the event loop that downloads run in: the poller, the table of descriptors,
// the read buffers, and the servers they talk to. One goroutine runs it; every download in it
// (a Loop) is driven from that goroutine, so a list of files shares one loop, and a keep-alive
// connection one download no longer needs serves the next download from the same server
// without a new handshake.
//
// A Loop made by New has a reactor of its own, which its Run drives on the calling goroutine.
// Loops made by Reactor.New share the reactor: Reactor.Run drives them all, and each Loop's Run
// only hands the download over and waits for its result.
type Reactor struct {
	poll *poller
	evs  []event
	fds  []*conn // fds[fd] is the connection on fd, nil when none
	pipe *Loop   // the download whose stream's pipe the poller watches, if any (Loop.watchPipe)
	rbuf []byte
	pbuf []byte // https: decrypted bytes, one TLS record at a time

	now        time.Time
	nextChores time.Time
	running    []*Loop              // downloads under way, oldest first
	hosts      map[string]*host     // servers in use, by hostKey
	reached    map[string]reachedAt // the address each server was last reached at (see reach)
	parked     int                  // parked connections, over all hosts
	maxPerHost int                  // connections to one server at once, by all downloads; 0: no limit
	seats      int                  // downloads at work at once (see seat); 0: no limit
	seated     int                  // downloads with a seat
	waiting    atomic.Int64         // downloads waiting, seatless (see seat), for Waiting
	waited     chan struct{}        // a value when a download has started to wait (see Waited)

	mu       sync.Mutex
	incoming []*Loop // handed over by Run on other goroutines, started by the loop
	closed   bool    // Close was called: no more downloads will come
	stopping atomic.Bool
}

// MaxParked bounds the keep-alive connections parked in a reactor, over all servers: each
// holds a descriptor, and a list of many servers must not run out of them.
const MaxParked = 64

// poolIdle is how long a parked keep-alive connection waits for a download that wants it.
// Servers close idle connections after a while (nginx: 75 s); ours go well before.
const poolIdle = 15 * time.Second

// NewReactor opens a reactor whose downloads open at most maxPerHost connections to one server
// at once (0: no limit beyond each download's Job.Connections), and of which at most seats work
// at once (0: no limit). A download with no connection open that waits out a backoff (its
// server's, or its own retry's), or for a connection to a server that asked for fewer, works
// at nothing: it gives up its seat to the next (see Waiting).
func NewReactor(maxPerHost, seats int) (*Reactor, error) {
	p, err := newPoller()
	if err != nil {
		return nil, errorf(KindIO, err, "event loop")
	}
	return &Reactor{
		poll:       p,
		evs:        make([]event, 128),
		rbuf:       make([]byte, readBufSize),
		pbuf:       make([]byte, tlsRecordSize),
		hosts:      make(map[string]*host),
		maxPerHost: maxPerHost,
		seats:      seats,
		waited:     make(chan struct{}, 1),
	}, nil
}

// Waiting returns how many of the reactor's downloads wait, seatless: out a backoff, or for a
// connection to a server that asked for fewer. A caller that hands over the downloads of a
// list can hand that many more than the seats, so that the files of other servers go on
// meanwhile; Waited tells it when the count has grown.
// Both are safe to call from any goroutine.
func (r *Reactor) Waiting() int {
	return int(r.waiting.Load())
}

// Waited returns a channel that gets a value when downloads have started to wait.
func (r *Reactor) Waited() <-chan struct{} {
	return r.waited
}

// New prepares a download that runs in r: its Run hands it to r.Run, which must be running (on
// another goroutine), and waits for the result.
func (r *Reactor) New(job Job) (*Loop, error) {
	return newLoop(job, r, false)
}

// Run drives the reactor's downloads until Close was called and none is left, and then closes
// the reactor. Call it once, on a goroutine of its own.
func (r *Reactor) Run() {
	r.run(nil)
}

// Close says that no more downloads will come: Run returns when the last one has ended.
func (r *Reactor) Close() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.poll.wake()
}

// Stop interrupts every download of the reactor, and the ones handed to it later: each ends
// with an error of KindInterrupted. It is safe to call from any goroutine, more than once.
func (r *Reactor) Stop() {
	r.stopping.Store(true)
	r.poll.wake()
}

// hand gives l to the reactor's goroutine.
func (r *Reactor) hand(l *Loop) {
	r.mu.Lock()
	r.incoming = append(r.incoming, l)
	r.mu.Unlock()
	r.poll.wake()
}

// run is the loop. With only set, it drives that one download and returns when it has ended
// (the download's own reactor); otherwise it runs until Close.
func (r *Reactor) run(only *Loop) {
	r.now = time.Now()
	r.nextChores = r.now.Add(housekeepingEvery)
	if only != nil {
		r.start(only)
	}
	for {
		r.reap()
		if only != nil && only.ended {
			break
		}
		if only == nil && !r.admit() {
			break
		}
		r.seat()
		for _, l := range r.running {
			if l.seated {
				l.fill()
			}
		}
		n, err := r.poll.wait(r.evs, r.timeout())
		r.now = time.Now()
		for _, l := range r.running {
			l.now = r.now
			if err != nil {
				l.fail(errorf(KindIO, err, "event loop"))
			}
		}
		for _, ev := range r.evs[:n] {
			if ev.fd != wakeFD {
				r.dispatch(ev)
			}
		}
		r.reap() // a download that has just ended is neither interrupted nor timed out
		r.interrupt()
		for _, l := range r.running {
			l.throttle()
		}
		if !r.now.Before(r.nextChores) {
			r.chores()
		}
	}
	for _, h := range r.hosts {
		for len(h.idle) > 0 {
			r.closeParked(h.idle[0])
		}
	}
	r.poll.close()
}

// admit starts the downloads handed over since the last batch. It reports false when the
// reactor is closed and has nothing left to do.
func (r *Reactor) admit() bool {
	r.mu.Lock()
	in := r.incoming
	r.incoming = nil
	closed := r.closed
	r.mu.Unlock()
	for _, l := range in {
		r.start(l)
	}
	return !closed || len(r.running) > 0
}

// start puts l among the running downloads.
func (r *Reactor) start(l *Loop) {
	l.now = r.now
	l.begin()
	key := hostKey(&l.job)
	h := r.hosts[key]
	if h == nil {
		h = &host{key: key, limit: r.maxPerHost}
		r.hosts[key] = h
	}
	h.users++
	l.host = h
	if a, ok := r.lastReached(key); ok {
		l.job.Addrs = tryFirst(l.job.Addrs, a)
	}
	r.running = append(r.running, l)
	if r.stopping.Load() || l.stopping.Load() {
		l.fail(errorf(KindInterrupted, nil, "interrupted"))
	}
}

// Reactor.reached is bounded: a list of many servers must not grow it without end, and an
// address is forgotten reachedKeep after the last connection to it, so that a preferred path
// that comes back is tried again (RFC 8305 §4 lets a client remember the winner for a while).
const (
	maxReached  = 4096
	reachedKeep = 10 * time.Minute
)

// reachedAt is an address a server was reached at, and when.
type reachedAt struct {
	addr netip.AddrPort
	at   time.Time
}

// reach remembers that the server of key was reached at a: its next download tries a first.
// Racing the addresses afresh, each file from a server with a dead first address waited for
// its attempt there (250 ms) whenever no connection was parked for it (TestHappyEyeballsRemembered).
func (r *Reactor) reach(key string, a netip.AddrPort) {
	if r.reached == nil {
		r.reached = make(map[string]reachedAt)
	}
	if _, ok := r.reached[key]; !ok && len(r.reached) >= maxReached {
		for k := range r.reached {
			delete(r.reached, k) // any one
			break
		}
	}
	r.reached[key] = reachedAt{a, r.now}
}

// lastReached returns the address the server of key was last reached at, unless that was
// reachedKeep ago or more.
func (r *Reactor) lastReached(key string) (netip.AddrPort, bool) {
	a, ok := r.reached[key]
	return a.addr, ok && r.now.Sub(a.at) < reachedKeep
}

// tryFirst returns addrs with a first, if it is one of them, and the families alternating
// after it (interleave).
func tryFirst(addrs []netip.AddrPort, a netip.AddrPort) []netip.AddrPort {
	i := slices.Index(addrs, a)
	if i <= 0 {
		return addrs
	}
	return interleave(append([]netip.AddrPort{a}, slices.Delete(slices.Clone(addrs), i, i+1)...))
}

// reap ends the downloads that are complete or have failed.
func (r *Reactor) reap() {
	r.running = slices.DeleteFunc(r.running, func(l *Loop) bool {
		if !l.fin && l.err == nil {
			return false
		}
		if l.seated {
			r.seated--
		}
		if l.waits {
			r.waiting.Add(-1) // before finish: the caller's Run may look as soon as it returns
		}
		l.finish()
		if l.host.users--; l.host.unused(r.now) {
			delete(r.hosts, l.host.key)
		}
		return true
	})
}

// seat takes the seats of the downloads with no connection open that wait out a backoff
// (Loop.waiting) or for a connection to a server whose limit is lowered (Loop.queued), and
// gives the free seats to the others, oldest first. Only a seated download opens connections
// (fill). Files of a server that sheds load thus hold up no other server's: before seats, 16
// files at -j 16 waiting out a Retry-After of 10 s, retried, held a list's next server back
// for 50 s, and afterwards, at the server's lowered limit, until each had had its turn.
//
// Files waiting for a connection at the reactor's own limit (maxPerHost) keep their seats, as
// -j counts them: a list of one server's big files fills that limit with two of them at -n 8,
// and the other files, seatless, would have the list read 256 entries ahead for nothing.
func (r *Reactor) seat() {
	for _, h := range r.hosts {
		h.spare = len(r.running) // one each, as many as could ask
		if h.limit != r.maxPerHost {
			h.spare = len(h.idle) + max(h.limit-h.open, 0)
		}
	}
	more := false
	for _, l := range r.running {
		switch w := l.waiting() || l.queued(); {
		case w && !l.waits:
			l.waits, more = true, true
			r.waiting.Add(1)
			if l.seated {
				l.seated = false
				r.seated--
			}
		case !w && l.waits:
			l.waits = false
			r.waiting.Add(-1)
		}
	}
	for _, l := range r.running {
		if !l.seated && !l.waits && (r.seats == 0 || r.seated < r.seats) {
			l.seated = true
			r.seated++
		}
	}
	if more {
		select {
		case r.waited <- struct{}{}:
		default: // told already
		}
	}
}

// interrupt fails the downloads that were asked to stop.
func (r *Reactor) interrupt() {
	all := r.stopping.Load()
	for _, l := range r.running {
		if all || l.stopping.Load() {
			l.fail(errorf(KindInterrupted, nil, "interrupted"))
		}
	}
}

// dispatch hands one readiness event to the download that owns the connection. A parked
// connection has no owner: anything happening on it (the server closing it, mostly) ends it.
func (r *Reactor) dispatch(ev event) {
	if r.pipe != nil && ev.fd == r.pipe.out.pipe {
		r.pipe.pipeRoom()
		return
	}
	if ev.fd >= len(r.fds) {
		return
	}
	c := r.fds[ev.fd]
	switch {
	case c == nil:
		// closed earlier in this batch (new descriptors are made only by fill, after it)
	case c.owner == nil:
		r.closeParked(c)
	case c.owner.fin || c.owner.err != nil:
		// The download has ended, and reap closes or parks its connections: not this one if
		// it has something to say (the server closing it, or bytes nobody asked for). That it
		// can be written says nothing: kqueue reports that as an event of its own, which may
		// follow the one that ended the download in the same batch.
		c.stray = c.stray || ev.ev&(evRead|evError) != 0
	default:
		c.owner.dispatch(c, ev.ev)
	}
}

// chores runs every download's housekeeping and closes parked connections that waited too
// long.
func (r *Reactor) chores() {
	r.nextChores = r.now.Add(housekeepingEvery)
	for _, l := range r.running {
		l.chores()
	}
	for _, h := range r.hosts {
		for len(h.idle) > 0 && r.now.Sub(h.idle[0].since) > poolIdle {
			r.closeParked(h.idle[0])
		}
		h.recover(r.now, r.maxPerHost)
		if h.unused(r.now) {
			delete(r.hosts, h.key)
		}
	}
}

// timeout is how long the poller may sleep: until the earliest thing any download waits for.
func (r *Reactor) timeout() time.Duration {
	next := r.nextChores
	for _, l := range r.running {
		if l.fin || l.err != nil {
			return 0
		}
		if t := l.wakeAt(); t.Before(next) {
			next = t
		}
	}
	return max(time.Until(next), 0)
}

// add registers a new socket for ev.
func (r *Reactor) add(c *conn, ev events) error {
	if err := r.poll.add(c.fd, ev); err != nil {
		return err
	}
	for c.fd >= len(r.fds) {
		r.fds = append(r.fds, nil)
	}
	r.fds[c.fd] = c
	c.armed = ev
	return nil
}

// drop closes c's socket. Its owner, if any, has let go of it already.
func (r *Reactor) drop(c *conn) {
	if r.fds[c.fd] != c {
		return
	}
	r.poll.del(c.fd)
	unix.Close(c.fd)
	r.fds[c.fd] = nil
	c.owner = nil
	if c.host != nil {
		c.host.open--
	}
	if c.tls != nil {
		c.tls.abandon()
	}
}

// host is what the downloads from one server share: the connections open to it, the idle
// keep-alive ones parked for the next download, and how many it takes right now.
//
// A server that refuses connections, resets them or answers 503 or 429 gets fewer at once
// (limit) and none before a backoff (after); after a quiet spell the limit grows again, one
// connection at a time.
type host struct {
	key   string
	users int       // running downloads from it
	open  int       // connections to it, set up, working or parked
	idle  []*conn   // parked keep-alive connections, oldest first
	limit int       // most connections at once; 0: no limit
	spare int       // connections its downloads could have at this turn of the loop (see seat)
	after time.Time // no new connection before this
	fails tally     // refusals and dead connects since the last connection that worked
	ever  bool      // a connection to it has worked
	quiet time.Time // the last refusal
}

// hostKey names the server a job's connections go to: a parked connection serves only a job
// with the same key. TLS settings are taken to be the same for one name (one configuration per
// server name, given by the caller).
func hostKey(j *Job) string {
	tls := "http"
	if j.TLS != nil {
		tls = "https " + j.TLS.ServerName
	}
	return tls + " " + j.Host + " " + j.Proxy + " " + j.Tunnel
}

// unused reports whether nothing refers to h any more: no download, no connection, no
// backoff to remember.
func (h *host) unused(now time.Time) bool {
	return h.users == 0 && h.open == 0 && !now.Before(h.after)
}

// room reports whether a new connection to h may open now.
func (h *host) room(now time.Time) bool {
	return (h.limit == 0 || h.open < h.limit) && !now.Before(h.after)
}

// park keeps c, a keep-alive connection between requests that its owner has let go of, for
// the next download from its server. It reports false when MaxParked are parked already.
func (r *Reactor) park(c *conn) bool {
	if r.parked >= MaxParked {
		return false
	}
	c.owner, c.since = nil, r.now
	c.host.idle = append(c.host.idle, c)
	r.parked++
	return true
}

// closeParked takes c out of the parked connections and closes it.
func (r *Reactor) closeParked(c *conn) {
	h := c.host
	if i := slices.Index(h.idle, c); i >= 0 {
		h.idle = slices.Delete(h.idle, i, i+1)
		r.parked--
	}
	r.drop(c)
}

// adopt gives l the most recently parked connection to its server, or returns nil.
func (r *Reactor) adopt(l *Loop) *conn {
	h := l.host
	if len(h.idle) == 0 {
		return nil
	}
	c := h.idle[len(h.idle)-1]
	h.idle = h.idle[:len(h.idle)-1]
	r.parked--
	c.owner = l
	return c
}

// refused notes that h refused a connection, or asked for less (503, 429), for something
// started at started (a connect, a request): no more connections than are open now (the caller
// has closed the one refused), and no new one before the backoff, or the server's own wait,
// has passed.
func (h *host) refused(now, started time.Time, atLeast time.Duration) {
	h.fails.add(now, started)
	h.quiet = now
	if h.limit == 0 || h.open < h.limit {
		h.limit = max(h.open, 1)
	}
	h.after = now.Add(max(backoff(h.fails.n), atLeast))
}

// unreachable notes that a connect to h, started at started, got no answer: its path is down.
// That says nothing about how many connections h takes, so the limit stays; none opens before
// the backoff.
func (h *host) unreachable(now, started time.Time) {
	h.fails.add(now, started)
	h.after = now.Add(backoff(h.fails.n))
}

// worked notes a response that worked.
func (h *host) worked() {
	h.ever, h.fails.n = true, 0
}

// recover raises a lowered limit by one after a quiet spell, up to want; with want 0 (no
// limit of the reactor's own) the limit goes at once. The spell starts when connections may
// open again: a Retry-After of 30 s is no quiet spell, and the limit must not stand at 6
// when it ends.
func (h *host) recover(now time.Time, want int) {
	if h.limit != want && now.Sub(later(h.quiet, h.after)) >= quietSpell {
		h.limit++
		if want == 0 || h.limit > want {
			h.limit = want
		}
		h.quiet = now
	}
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
