package loop

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/rangedl/rangedl/httpparse"
	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// readBufSize is the size of the reactor's one read buffer. Every read lands there and is parsed
// and copied into the reorder buffer before the next read, so no connection owns a read buffer
// of its own and memory does not grow with the number of connections.
const readBufSize = 256 << 10

// tlsRecordSize is the most plaintext one TLS record holds (RFC 8446 §5.1); tls.Conn.Read
// returns at most one record's worth.
const tlsRecordSize = 16 << 10

// housekeepingEvery is how often timeouts are checked.
const housekeepingEvery = 250 * time.Millisecond

// lastChunkWait is how long a connection whose piece is complete waits for the last chunk of
// its chunked body, or for all of a page nobody reads (a redirect's, a 416's; counted from its
// head), before it is closed instead of used again.
const lastChunkWait = 500 * time.Millisecond

// holdStall is the stall timeout of the connection a full stream buffer waits for.
const holdStall = 2 * time.Second

// Loop is one download, driven by its reactor's goroutine (see Reactor). Nothing in it is safe
// for use from other goroutines except Run, once, and Stop.
type Loop struct {
	job     Job
	r       *Reactor
	own     bool    // r is this download's own reactor, which Run drives
	seated  bool    // it has one of the reactor's seats: it may open connections (see Reactor.seat)
	waits   bool    // it waits, seatless (see waiting and queued), counted in the reactor's Waiting
	host    *host   // the server, shared with the reactor's other downloads from it
	conns   []*conn // this download's connections; closed ones (owner no longer l) until fill drops them
	ended   bool    // finish has run: res and err are final
	res     Result
	settled chan struct{} // closed when the download has ended (a shared reactor's)

	live       int // open connections
	connecting int // of which still being set up: connect, tunnel, TLS handshake (settingUp)
	opened     int // connections ever opened
	peak       int // most set up at once (live - connecting): the summary's count
	target     int // connections wanted: 1 until the size is known, then Job.Connections
	addr       int // index in Job.Addrs that new connections use (once one has worked)

	nextAddr    int       // until a connect works: the next address to try (Happy Eyeballs)
	lastAttempt time.Time // when the last of those attempts started

	sched        sched
	out          *output
	ranged       bool             // the file is fetched in ranges over many connections
	redo         bool             // the failure asks for another command (--overwrite, a proxy's password): not the same one with -c
	restart      bool             // the failure broke off a response that ignored ranges (see Result.Restartable)
	dated        bool             // If-Range has carried a date (see dateRefused)
	refusedDates int              // 200s to requests with it, from the same file
	closing      bool             // every response so far closed its connection: each piece costs one (see ways)
	small        bool             // a small file of a list, written whole at the end (Job.Small)
	have         reorder.RangeSet // body bytes accepted (a duplicated range arrives twice, counts once)
	done         int64            // have.Size(), or the bytes of a stream of unknown length
	fin          bool             // every byte is in
	err          *Error
	redirected   *Error // the first answer was a redirect: the error once its page is read
	trace        *tracer

	rates      []float64 // scratch for the median rate
	nextEvict  time.Time // no eviction before this
	evictions  int
	trouble    time.Time // the last failure or refusal; connections come back after a quiet spell
	lastSample time.Time // when sample last ran

	etag, lastMod, ifRange []byte      // validators of the first response; If-Range value
	encoding               []byte      // its Content-Encoding, which every response must repeat
	file                   *outFile    // the output, opened by New (nil for a stream)
	created                bool        // New made the file (it did not exist): it may be removed
	emptied                bool        // emptyOld truncated the file that was there
	from                   resumePoint // what was on disk when the download started

	connectFails  tally     // failed connects in a row
	refusals      tally     // 429s and 503s with no body byte between them
	refusedDone   int64     // done then: a byte since resets the count
	failures      tally     // counted failures of pieces with no body byte between them (see inARow)
	failedDone    int64     // done then
	everConnected bool      // some connect ever succeeded
	connectAfter  time.Time // no new connection before this (after failed connects)
	restore       int       // the target to go back to once a connect works after the path went dead; 0: none
	noticed       bool      // the single-stream notice was given
	noPipeline    bool      // a pipelined request went unanswered: requests wait for the response before them

	start, now time.Time
	stopping   atomic.Bool
	stats      *Stats
}

// New prepares a download with a reactor of its own. It opens the output and the poller but no
// connection: Run does that.
func New(job Job) (*Loop, error) {
	return newLoop(job, nil, true)
}

// newLoop prepares a download in r, or in a reactor of its own when own is set.
func newLoop(job Job, r *Reactor, own bool) (*Loop, error) {
	if len(job.Addrs) == 0 {
		return nil, errors.New("loop: no address to connect to")
	}
	job.Connections = min(max(job.Connections, 1), MaxConnections)
	job.Addrs = interleave(job.Addrs)
	switch {
	case job.Stream != nil:
		job.PieceSize = MinPieceSize // a narrow window of pieces in flight; see throttle
	case job.PieceSize == 0:
		job.PieceSize = 64 << 20
	}
	job.PieceSize = max(job.PieceSize, MinPieceSize)
	if job.ConnectTimeout == 0 {
		job.ConnectTimeout = DefaultConnectTimeout
	}
	if job.StallTimeout == 0 {
		job.StallTimeout = DefaultStallTimeout
	}
	switch {
	case job.MaxRetries == 0:
		job.MaxRetries = DefaultMaxRetries
	case job.MaxRetries < 0:
		job.MaxRetries = 0
	}
	if job.UserAgent == "" {
		job.UserAgent = "rangedl/" + Version
	}
	if job.Notice == nil {
		job.Notice = func(string) {}
	}
	if job.Stats == nil {
		job.Stats = new(Stats)
	}
	if job.SaveEvery <= 0 {
		job.SaveEvery = DefaultSaveEvery
	}
	if job.SaveBytes <= 0 {
		job.SaveBytes = DefaultSaveBytes
	}
	var file *outFile
	var created bool
	var from resumePoint
	if job.Stream == nil {
		var err error
		if file, created, from, err = openOutput(&job); err != nil {
			return nil, err
		}
	}
	if own {
		var err error
		if r, err = NewReactor(0, 0); err != nil {
			if file != nil {
				file.Close()
				if created {
					os.Remove(job.Output)
				}
			}
			return nil, err
		}
	}
	l := &Loop{
		file:    file,
		created: created,
		from:    from,
		job:     job,
		r:       r,
		own:     own,
		settled: make(chan struct{}),
		target:  1,
		sched:   sched{total: -1, maxPiece: job.PieceSize},
		stats:   job.Stats,
	}
	l.stats.Total.Store(-1)
	l.resume()
	return l, nil
}

// resume starts from what is on disk: those ranges are had already, the probe asks for the
// first missing byte, and with a control file If-Range carries its validator from the first
// request on, so a changed file answers 200 and nothing of it is written.
func (l *Loop) resume() {
	for _, r := range l.from.have() {
		l.have.Add(r)
	}
	l.done = l.have.Size()
	l.stats.Done.Store(l.done)
	l.stats.Resumed.Store(l.done)
	ctl := l.from.ctl
	if ctl == nil {
		// From the last byte on disk, not the first missing one: a complete file then gets a
		// 206 of that byte, whose Content-Range gives the size. For bytes past the end, Apache
		// and lighttpd answer 416 without the size, which left "complete already" a failure.
		l.sched.from = max(l.from.length-1, 0)
		return
	}
	if l.done > 0 {
		l.ifRange = ifRangeValue([]byte(ctl.ETag), []byte(ctl.LastModified))
		l.dated = isDate(l.ifRange)
	}
	missing := l.have.Missing(ctl.Size)
	if len(missing) == 0 {
		// Every byte was durable already (the last run ended before it could remove the
		// control file): nothing to fetch; closeOutput finishes the file.
		l.sched.learn(ctl.Size, &l.have, piece{})
		l.out = newFile(l.file, 1, l.from.have())
		if err := l.out.keepJournal(l.job.Output+ControlSuffix, *ctl, &l.job, time.Now()); err != nil {
			l.fail(errorf(KindIO, err, "cannot resume %s", l.job.Output))
		}
		l.fin = true
		return
	}
	l.sched.from, l.sched.fromEnd = missing[0].Start, missing[0].End
}

// interleave orders addresses by alternating families, starting with the first address's
// (RFC 8305 §4), keeping the resolver's order within each family.
func interleave(addrs []netip.AddrPort) []netip.AddrPort {
	var same, other []netip.AddrPort
	for _, a := range addrs {
		if a.Addr().Is6() == addrs[0].Addr().Is6() {
			same = append(same, a)
		} else {
			other = append(other, a)
		}
	}
	out := make([]netip.AddrPort, 0, len(addrs))
	for i := 0; i < len(same) || i < len(other); i++ {
		if i < len(same) {
			out = append(out, same[i])
		}
		if i < len(other) {
			out = append(out, other[i])
		}
	}
	return out
}

// Stop asks a running download to end: connections are closed, what has arrived is written,
// and Run returns an error of KindInterrupted. It is safe to call from any goroutine, more than
// once.
func (l *Loop) Stop() {
	l.stopping.Store(true)
	l.r.poll.wake()
}

// Run downloads the file and returns when it is complete or has failed. A download with a
// reactor of its own runs it on the calling goroutine; one made by Reactor.New is handed to
// that reactor's Run, and Run here waits for its result.
func (l *Loop) Run() (Result, error) {
	if l.own {
		// A panic (a bug) ends rangedl, but not the commands that may share its pipe.
		defer func() {
			if l.out != nil {
				l.out.unpipe()
			}
		}()
		l.r.run(l)
	} else {
		l.r.hand(l)
		<-l.settled
		l.settle()
	}
	if l.err != nil {
		return l.res, l.err
	}
	return l.res, nil
}

// begin starts the download's clock; the reactor calls it when the download joins it.
func (l *Loop) begin() {
	l.start = l.now
	l.trace = newTracer(l.job.Trace, l.start)
}

// finish ends the download on the reactor's goroutine: its idle keep-alive connections are
// parked for the next download from the server, and the others closed. The output is left to
// settle: here for a download with a reactor of its own, and in a shared reactor on the
// goroutine waiting in Run, so that the final sync of one file holds up no other download.
func (l *Loop) finish() {
	l.closeConns()
	l.ended = true
	if l.own {
		l.settle()
	}
	close(l.settled)
}

// recorded reports whether the output keeps a control file that records its progress.
func (l *Loop) recorded() bool {
	return l.out != nil && l.out.journal != nil && l.out.journal.Records()
}

// settle completes the output, or leaves it resumable, and makes the result final.
func (l *Loop) settle() {
	kept := l.closeOutput()
	res := Result{Size: l.done, Elapsed: time.Since(l.start), Connections: l.peak, Ranged: l.ranged, Resumed: l.from.size(), Unsynced: kept && l.small && l.err == nil,
		Restartable: l.restart && l.err != nil && l.job.Stream == nil} // what a stream wrote stays written
	switch {
	case !kept:
	case l.recorded():
		res.Saved = l.out.journal.Recorded()
	case l.out != nil && l.job.Stream == nil:
		res.Saved = l.out.buf.Written().Size()
	}
	// A file complete but for the record it could not remove (closeOutput) is not resumable.
	res.Resumable = kept && l.err != nil && l.recorded() && (l.done > 0 || !l.created) && !errors.As(l.err, new(*reorder.RecordLeftError))
	if l.err != nil && (l.out == nil || l.out.journal == nil && !l.emptied) && l.from.ctl != nil && !l.redo {
		switch {
		case l.err.Kind == KindNetwork, l.err.Kind == KindInterrupted, l.err.Kind == KindHTTP, l.out != nil:
			// A resume that ended before its first answer was taken: it could not reach the
			// server, was interrupted, or was answered with an error status (or a redirect,
			// which the caller may refuse); or one whose new record could not be written (a
			// full disk). The record it found is as it was, and the same command may do
			// better later. (A file that changed, a server that contradicts itself, a
			// certificate not trusted and a local failure have advice of their own.)
			res.Saved, res.Resumable = l.from.size(), true
		}
	}
	l.res = res
}

// dispatch handles one readiness event on c. Order matters: for a connecting socket, writable
// means the connect has settled and SO_ERROR says how. For a connected one, reading comes
// first: bytes that arrived before a reset or a close are still valid and still ours. kqueue
// may report the read and write sides of one fd as two events; both land here.
func (l *Loop) dispatch(c *conn, ev events) {
	if c.state == connecting {
		if ev&(evWrite|evError) != 0 {
			l.connected(c)
		}
		return
	}
	if ev&(evRead|evError) != 0 {
		l.read(c)
	}
	if ev&evWrite == 0 || c.owner != l {
		return
	}
	switch {
	case c.state == sending || c.state == tunneling:
		l.send(c)
	case c.tls != nil:
		l.flushTLS(c)
	case c.next.len() > 0 && c.sent < len(c.req):
		l.push(c) // the rest of a pipelined request
	}
}

// fill opens connections while there is work for them and gives work to idle ones. It runs
// after each batch of events, so a descriptor closed in a batch is never reused within it.
func (l *Loop) fill() {
	if l.fin || l.err != nil {
		return
	}
	l.conns = slices.DeleteFunc(l.conns, func(c *conn) bool { return c.owner != l })
	for _, c := range l.conns {
		if c.owner == l && c.state == idle {
			l.assign(c)
		}
	}
	if l.starved() && l.allPaused() && l.sched.ready(l.now, 1, false) {
		// Every connection waits for the writer, and the writer waits for a piece that failed
		// and is due again: the paused connection furthest ahead gives its slot (and its
		// piece, back to the queue) so that the missing piece can be fetched.
		var far *conn
		for _, c := range l.conns {
			if c.owner == l && (far == nil || c.piece.start > far.piece.start) {
				far = c
			}
		}
		l.trace.note("preempt", far, 0, 0, "the writer waits for a retried piece")
		l.release(far, false, 0)
	}
	if !l.everConnected {
		if l.live > 0 || !l.adopt() {
			l.race()
		}
		return
	}
	for l.live < l.target && l.sched.ready(l.now, l.connecting+1, !l.holding()) && !l.now.Before(l.connectAfter) {
		if l.adopt() {
			continue
		}
		if !l.host.room(l.now) || !l.open() {
			return
		}
	}
}

// adopt puts a keep-alive connection that another download from the server has parked to
// work for this one: no connect, no handshake. It reports false when none is parked.
func (l *Loop) adopt() bool {
	c := l.r.adopt(l)
	if c == nil {
		return false
	}
	if !l.everConnected {
		if i := slices.Index(l.job.Addrs, c.to); i >= 0 {
			l.addr = i // where new connections go too
		}
		l.everConnected = true
	}
	c.since, c.reused = l.now, true
	c.tick, c.got, c.busy, c.dup, c.paused = 0, 0, 0, nil, false
	l.enlist(c)
	l.trace.note("adopt", c, 0, 0, "a keep-alive connection another download parked")
	l.pathBack(c)
	l.assign(c)
	return true
}

// attemptDelay is how long a connect attempt has before the next address is tried beside it
// (RFC 8305 §5 recommends 250 ms).
const attemptDelay = 250 * time.Millisecond

// race connects to the server's addresses until one works ("Happy Eyeballs", RFC 8305): the
// first attempt goes to the first address, and the next address is tried when the attempts
// before it have failed, or have not connected within attemptDelay; they run side by side, and
// the first to connect decides the address every later connection uses. (New interleaves the
// address families, so a dead IPv6 path costs 250 ms, not a connect timeout.)
func (l *Loop) race() {
	for l.mayTryNext() {
		l.addr, l.lastAttempt = l.nextAddr, l.now
		l.nextAddr++
		l.open()
		if l.everConnected {
			return
		}
	}
}

// mayTryNext reports whether race may start an attempt at the next address now. Only the first
// attempt needs room under the server's limit: the next ones run beside it, and all but the
// first to connect are closed then. Held to the limit too, a list's files, as many as
// --max-per-host, filled it with attempts at a dead address and waited out the timeout.
func (l *Loop) mayTryNext() bool {
	switch {
	case l.nextAddr >= len(l.job.Addrs) || l.err != nil:
		return false
	case l.connecting == 0:
		return l.host.room(l.now)
	default:
		return l.now.Sub(l.lastAttempt) >= attemptDelay && !l.now.Before(l.host.after)
	}
}

// holding reports whether the stream's buffer is full, or has not been a quarter free since
// (see throttle): then no new piece further ahead is handed out, only the retry nearest the
// start (the writer waits for it).
func (l *Loop) holding() bool {
	return l.job.Stream != nil && l.out != nil && (l.out.full || l.out.buf.Room() == 0)
}

// starved reports whether the stream's full buffer waits for the bytes at its cursor: it holds,
// and its pipe has room. While the pipe is full, the writer waits for the reader, and the
// connections paused are no sign of a piece gone missing (taken for one, each connection in
// turn gave its slot up for a new one: 2183 connections for 16 MiB while a reader paused 3 s).
func (l *Loop) starved() bool {
	return l.holding() && !l.out.buf.Blocked()
}

// waiting reports whether the download has no connection open and may open none before a time
// to come: the end of its server's backoff, of its own after failed connects, or of its pieces'
// retry waits. Until then it has nothing to do.
func (l *Loop) waiting() bool {
	if l.live > 0 || l.fin || l.err != nil {
		return false
	}
	return l.now.Before(l.host.after) || l.now.Before(l.connectAfter) ||
		!l.sched.ready(l.now, 1, true) && l.sched.wake().After(l.now)
}

// queued reports whether the download has no connection open and its server none to give it:
// none parked, and as many open as its lowered limit allows, working for other downloads. It
// waits for one of them to come free. The oldest downloads take the spare ones (host.spare)
// first.
func (l *Loop) queued() bool {
	if l.live > 0 || l.fin || l.err != nil {
		return false
	}
	if l.host.spare > 0 {
		l.host.spare--
		return false
	}
	return true
}

// allPaused reports whether every open connection is paused by back-pressure.
func (l *Loop) allPaused() bool {
	for _, c := range l.conns {
		if c.owner == l && !c.paused {
			return false
		}
	}
	return l.live > 0
}

// open starts one connection; false when it could not even start (the failure is handled).
func (l *Loop) open() bool {
	to := l.job.Addrs[l.addr]
	fd, err := dial(to)
	if err != nil {
		l.connectFailed(l.now, err)
		return false
	}
	c := &conn{fd: fd, addr: l.addr, to: to, owner: l, host: l.host, state: connecting, since: l.now, started: l.now}
	if err := l.r.add(c, evWrite); err != nil {
		unix.Close(fd)
		l.fail(errorf(KindIO, err, "event loop"))
		return false
	}
	l.host.open++
	l.connecting++
	l.enlist(c)
	return true
}

// enlist counts c, a connection new to this download (opened, or adopted from the reactor's
// parked ones), among its live connections, and gives it its number.
func (l *Loop) enlist(c *conn) {
	l.opened++
	c.id = l.opened
	l.conns = append(l.conns, c)
	l.live++
	l.peak = max(l.peak, l.live-l.connecting) // an adopted one is set up; an opened one not yet
	l.stats.Conns.Store(int64(l.live))
	l.trace.open(c)
}

func (l *Loop) connected(c *conn) {
	if err := connectResult(c.fd); err != nil {
		l.setupFailed(c, err)
		return
	}
	switch {
	case l.job.Tunnel != "":
		c.state, c.since = tunneling, l.now
		c.connectRequest(&l.job)
		l.send(c)
	case l.job.TLS != nil:
		l.startTLS(c)
	default:
		l.ready(c)
	}
}

// startTLS begins the TLS handshake on a connected (or tunnelled) socket.
func (l *Loop) startTLS(c *conn) {
	c.state, c.since = handshaking, l.now
	c.tls = newTLSConn(l.job.TLS)
	l.handshake(c)
}

// tunneled handles the proxy's answer to CONNECT: 2xx opens the tunnel (RFC 9110 §9.3.6),
// anything else is the proxy's refusal.
func (l *Loop) tunneled(c *conn, rest []byte) {
	r := &c.p.Resp
	switch {
	case r.Status >= 200 && r.Status < 300 && len(rest) == 0:
		l.startTLS(c)
	case r.Status >= 200 && r.Status < 300:
		l.setupFailed(c, fmt.Errorf("proxy %s sent bytes after its CONNECT answer", l.job.Proxy))
	case r.Status == 407:
		l.close(c)
		l.failProxyAuth()
	case l.everConnected || l.host.ever || r.Status == 429 || r.Status == 503:
		// The proxy asks to come back later, or has opened a tunnel to the server before
		// (for this download, or another of a list): then a refusal is its limit on
		// connections (squid's maxconn answers 403). Either is met as a server's refused
		// connect is: fewer connections, and a backoff of at least its Retry-After.
		wait := retryAfter(r.RetryAfter(), l.now)
		l.setupFailed(c, fmt.Errorf("%w: %s", errTunnelRefused, statusText(r)))
		l.host.after = later(l.host.after, l.now.Add(wait))
	default:
		l.close(c)
		l.fail(errorf(KindHTTP, nil, "proxy %s refused to connect to %s: %s", l.job.Proxy, l.job.Tunnel, statusText(r)))
	}
}

// errTunnelRefused is the setup failure of a connection whose CONNECT the proxy refused, in a
// way that may pass (see tunneled).
var errTunnelRefused = errors.New("the proxy refused the tunnel")

// dialName names what connections connect to: the server, or the proxy.
func (l *Loop) dialName() string {
	if l.job.Proxy != "" {
		return "proxy " + l.job.Proxy
	}
	return l.job.Host
}

// ready puts a connection that is fully set up (connected, and for https through the
// handshake) to work.
func (l *Loop) ready(c *conn) {
	l.connecting--
	if !l.everConnected {
		// The race's winner decides the address; the attempts still under way lost (they
		// would only hold a slot, and their timeouts would count against the server).
		l.addr = c.addr
		for _, o := range l.conns {
			if o.owner == l && o != c && o.settingUp() {
				l.trace.note("close", o, 0, 0, "another address connected first")
				l.close(o)
			}
		}
	}
	l.everConnected, l.connectFails.n = true, 0
	l.r.reach(l.host.key, c.to)
	l.peak = max(l.peak, l.live-l.connecting)
	if c.wait == 0 {
		// Until its first head, its setup's time stands for its round trip (see overdue): a
		// first request lost was never overdue, and kept its range to the stall timeout.
		c.wait = max(l.now.Sub(c.started), 1)
	}
	// The server is there; whether it serves is for a response to show (worked, in
	// responseDone). A server that closes every connection before answering still takes
	// them, and its backoff must grow with each close.
	l.host.ever = true
	l.pathBack(c)
	c.since = l.now
	l.trace.event("connected", c, nil, piece{}, 0)
	l.assign(c)
}

// pathBack restores the connections wanted before the path went dead, once c, a new connection
// or a parked one, shows that it is back: they come back at once, not one per quiet spell (that
// pace is for a server that refuses them).
func (l *Loop) pathBack(c *conn) {
	if l.restore > 0 {
		l.target, l.restore = max(l.target, l.restore), 0
		l.trace.note("target", c, int64(l.target), 0, "a connection works again")
	}
}

// setupFailed closes c, which failed before it could carry a request (its connect, proxy
// tunnel or TLS handshake), and decides what that means (connectFailed).
func (l *Loop) setupFailed(c *conn, err error) {
	l.close(c)
	l.connectFailed(c.started, err)
}

// connectFailed decides what a failed connect means (one started at started). Before any
// connect has worked, the next address is tried, and when none is left the download fails.
// Later, fewer connections are wanted, and a new one waits for a backoff. Connects started
// before the last failure was counted fail with it, in the same outage: they are not attempts
// of their own. Counted one by one, the 8 connects of -n 8 timing out together used up
// --retries at once, and -n 8 gave up on a link down for 18 s that -n 1 waited out.
//
// A refused connect is the server's pressure: the connections come back one per quiet spell.
// A connect that got no answer (pathDown) says nothing about the server: fewer connections
// probe the path, and the first that works brings the others back (pathBack). Taken for
// refusals, an 18 s outage left a download of 8 connections on one, then two, three...: 43 s
// where 28 s do (README, Server pressure).
func (l *Loop) connectFailed(started time.Time, err error) {
	counted := l.connectFails.add(l.now, started)
	dead := pathDown(err)
	refused := errors.Is(err, errTunnelRefused)
	kind := KindNetwork
	if refused {
		kind = KindHTTP // the proxy's answer: exit 4, as a status from the server is
	}
	if !l.everConnected {
		switch {
		case l.nextAddr < len(l.job.Addrs) || l.connecting > 0:
			// race tries the next address, or another attempt may still work
		case (l.host.ever || refused) && l.connectFails.n <= l.job.MaxRetries:
			// The server has taken connections (from this download's neighbours), or the
			// proxy asks to come back: busy, or out of reach for now, not gone. The race
			// starts again after the server's backoff.
			l.backOff(dead, started)
			l.nextAddr = 0
			l.trace.note("backoff", nil, int64(l.host.fails.n), 0, "connect failed: "+err.Error())
		default:
			l.fail(errorf(kind, err, "cannot connect to %s", l.dialName()))
		}
		return
	}
	if l.live == 0 && l.connectFails.n > l.job.MaxRetries {
		l.fail(errorf(kind, err, "cannot connect to %s (%s)", l.dialName(), attempts(l.connectFails.n)))
		return
	}
	switch {
	case !dead:
		l.restore = 0
	case l.restore == 0:
		l.restore = l.target
	}
	if dead && counted && len(l.job.Addrs) > 1 {
		// The address the race chose does not answer: new connections go to the name's
		// next one. (Its addresses serve the same file, as a -c, whose race may choose
		// another, takes them to; every response is checked against the validators.)
		from := l.job.Addrs[l.addr]
		l.addr = (l.addr + 1) % len(l.job.Addrs)
		l.trace.note("address", nil, 0, 0, fmt.Sprintf("%v does not answer; now %v", from, l.job.Addrs[l.addr]))
	}
	l.backOff(dead, started)
	l.target = max(1, l.live)
	l.connectAfter = l.now.Add(backoff(l.connectFails.n))
	l.trouble = l.now
	l.trace.note("target", nil, int64(l.target), 0, "connect failed: "+err.Error())
}

// backOff gives the server a backoff for a failed connect, one started at started.
func (l *Loop) backOff(dead bool, started time.Time) {
	if dead {
		l.host.unreachable(l.now, started)
	} else {
		l.host.refused(l.now, started, 0)
	}
}

// pathDown reports whether a failed connect got no answer at all from the server (a timeout,
// or a router saying it cannot be reached), rather than a refusal from it.
func pathDown(err error) bool {
	var t interface{ Timeout() bool }
	return errors.As(err, &t) && t.Timeout() || errors.Is(err, unix.EHOSTUNREACH) || errors.Is(err, unix.ENETUNREACH)
}

// connectTimeout is the error of a connect (with its TLS handshake, and a proxy's CONNECT)
// not done within Job.ConnectTimeout.
type connectTimeout struct {
	after time.Duration
	stage connState // where it was: connecting, tunneling or handshaking
}

// Error names the stage: a TLS handshake that never ended was reported as a connect, which
// had worked (a hunt; curl says "SSL connection timeout").
func (e connectTimeout) Error() string {
	what := "connect"
	switch e.stage {
	case tunneling:
		what = "proxy tunnel (CONNECT)"
	case handshaking:
		what = "TLS handshake"
	}
	return fmt.Sprintf("%s timed out after %v", what, e.after)
}

// Timeout reports whether nothing answered at all (see pathDown): a stage after the TCP
// connect had the server (or the proxy) there, and too slow.
func (e connectTimeout) Timeout() bool { return e.stage == connecting }

// assign gives c its next piece and sends the request, or leaves it idle. With nothing left to
// hand out, c helps the slowest: it steals part of a range in flight, or duplicates one
// (balance.go).
func (l *Loop) assign(c *conn) {
	p, ok := l.sched.take(l.now, !l.holding(), l.ways(c), l.least(c))
	switch {
	case ok:
		c.piece = p
	case l.ranged && !l.holding() && !l.sched.pending() && (l.steal(c) || l.duplicate(c)):
	default:
		c.state = idle
		l.arm(c, evRead) // a server closing an idle connection is noticed and tidied
		return
	}
	c.probe = l.sched.total < 0
	c.request(&l.job, l.ifRange)
	c.state = sending
	l.trace.event("request", c, nil, c.piece, 0)
	l.send(c)
}

// ways is how many shares of what is left c's new piece is cut from (sched.take). Twice the
// connections, as a rule: pieces shrink toward the end (guided), so the connections run out of
// work at nearly the same time, and a piece costs one request on a kept-alive connection.
// Against a server that closes after each response a piece costs a connection, a handshake and
// a slow start, so what is left goes in equal parts to the connections without a piece, c
// among them (as axel does): guided pieces made 60 connections for 64 MiB at 500 ms round
// trips, and took 33 s where axel took 10.3 s (README, Pieces).
func (l *Loop) ways(c *conn) int {
	if !l.closing {
		return 2 * l.job.Connections
	}
	n := l.target
	for _, o := range l.conns {
		if o.owner == l && o != c && o.active() {
			n--
		}
	}
	return max(n, 1)
}

// least is the smallest piece worth a request on c: tailPiece, or what c brings in one of its
// round trips if that is more. With smaller pieces the answer to a pipelined request (see
// pipeline) comes only after the piece before it has ended, and the connection idles between.
func (l *Loop) least(c *conn) int64 {
	return max(tailPiece, int64(c.guess(l.now)*c.wait.Seconds()))
}

func (l *Loop) send(c *conn) {
	if c.tls != nil {
		l.sendTLS(c)
		return
	}
	switch err := l.write(c); {
	case err == unix.EAGAIN:
		l.arm(c, evWrite)
		return
	case err != nil:
		// A server that answers before it has read all of the request (a 431 for a header
		// too big, say) and closes makes the write fail. What it sent is read first: its
		// answer is the better error (see feed).
		if l.read(c); c.owner == l && c.state == sending {
			l.lost(c, os.NewSyscallError("write", err))
		}
		return
	}
	if c.state != tunneling {
		c.state = head
	}
	c.since = l.now
	l.arm(c, evRead)
}

// write writes what is left of c's request; EAGAIN when the socket takes no more for now.
func (l *Loop) write(c *conn) error {
	for c.sent < len(c.req) {
		n, err := unix.Write(c.fd, c.req[c.sent:])
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		}
		c.sent += n
	}
	return nil
}

// read does one read per readiness event (the level-triggered budget) and parses it at once.
func (l *Loop) read(c *conn) {
	limit := l.readLimit(c)
	switch {
	case limit == 0 && c.paused:
		// Paused, it hears only of an error or a hang-up, which epoll reports whatever the
		// interest: left unread it came back at every turn, and the loop spun until the buffer
		// had room (2.1 s of CPU for a reset in a reader's pause of 2 s). What it holds goes.
		l.lost(c, soError(c.fd, "read"))
		return
	case limit == 0:
		l.pause(c)
		return
	}
	for {
		n, err := unix.Read(c.fd, l.r.rbuf[:limit])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
		case err != nil:
			l.lost(c, os.NewSyscallError("read", err))
		case n == 0 && c.tls != nil && c.state == body && c.p.Resp.Body == httpparse.BodyClose:
			// Over TLS a body that ends when the connection does ends at the server's
			// close_notify (decrypt). A bare FIN is not authenticated: anyone on the path
			// can send one, and cut the file short (RFC 8446 §6.1).
			l.pieceFailed(c, KindNetwork, nil, "connection closed without a TLS close_notify: the end of the body cannot be trusted")
		case n == 0:
			l.eof(c)
		case c.tls != nil:
			l.moved(c)
			l.readTLS(c, l.r.rbuf[:n])
		default:
			l.moved(c)
			l.feed(c, l.r.rbuf[:n])
		}
		return
	}
}

// moved restarts c's stall timer for bytes that arrived on it, unless they are part of a head
// or the last chunk of a complete piece: those must come whole within their time (see chores),
// however they trickle. Interim answers ("100 Continue") are part of the head.
func (l *Loop) moved(c *conn) {
	if c.state != head && !c.tail {
		c.since = l.now
	}
}

// feed runs bytes from the socket through the parser: head, then body, then (keep-alive) the
// next request. A response is validated before one byte of its body is written.
func (l *Loop) feed(c *conn, b []byte) {
	for len(b) > 0 && c.owner == l {
		if l.err != nil {
			// Bytes after the download has ended (after a redirect's page, in a TLS record
			// of their own): nobody asked for them, so the connection is not used again.
			l.close(c)
			return
		}
		switch c.state {
		case tunneling:
			n, err := c.p.Head(b)
			switch {
			case err == httpparse.ErrNeedMore:
			case err != nil:
				l.setupFailed(c, fmt.Errorf("proxy %s: bad answer to CONNECT: %w", l.job.Proxy, err))
			default:
				l.tunneled(c, b[n:])
			}
			return
		case head:
			n, err := c.p.Head(b)
			b = b[n:]
			if err != nil {
				if err != httpparse.ErrNeedMore {
					l.pieceFailed(c, KindNetwork, err, "bad response")
				}
				return
			}
			l.trace.event("head", c, nil, piece{}, c.p.Resp.Status)
			first := c.probe
			if !l.accept(c) {
				return
			}
			if !c.pipelined {
				c.wait = l.now.Sub(c.since) // since is still the request's (see moved)
			}
			l.closing = !c.p.Resp.KeepAlive && (first || l.closing)
			c.state, c.bodyStart, c.since = body, l.now, l.now
			if len(b) == 0 {
				// A body that is empty by its head (204, Content-Length: 0) ends here.
				l.body(c, nil)
			}
		case body:
			b = l.body(c, b) // the next response's bytes, when its request was pipelined
		case sending:
			// The server answered before it read all of the request (a 431 for a header
			// too big, say). The answer is to this request and is read as one; the rest
			// of the request is not sent, and the connection is not used again.
			c.state, c.noReuse = head, true
			l.arm(c, evRead)
		default:
			// Bytes on an idle connection (a server's 408 before it closes, say): nothing of
			// ours is at stake; the connection is simply not used again.
			l.close(c)
			return
		}
	}
}

// body passes the body bytes in b to the file, up to the end of the response. It returns the
// bytes after the end: the head of the next response when its request was pipelined.
func (l *Loop) body(c *conn, b []byte) []byte {
	for {
		data, n, done, err := c.p.Body(b)
		b = b[n:]
		if err != nil {
			l.pieceFailed(c, KindNetwork, err, "bad response body")
			return nil
		}
		if len(data) > 0 && !l.deliver(c, data) {
			return nil
		}
		switch {
		case done:
			next := c.next.len() > 0
			if !next && len(bytes.TrimLeft(b, "\r\n")) > 0 {
				// Bytes nobody asked for after a response complete by its own framing: the
				// response is kept, the connection is trusted no further. Empty lines (a
				// stray CRLF after a chunked body) are harmless: the parser skips them
				// before a status line too.
				c.noReuse = true
			}
			l.responseDone(c)
			if !next || c.owner != l {
				return nil
			}
			return b
		case c.off == c.piece.end && (c.reqEnd > c.piece.end || c.p.Resp.Body == httpparse.BodyClose):
			// The piece is complete but the response goes on: it was stolen from (the rest
			// belongs to another connection now), or it only ends when the server closes.
			if c.reqEnd > c.piece.end {
				l.trace.event("cut", c, nil, c.piece, 0)
			}
			l.close(c)
			l.pieceDone(c)
			return nil
		case c.off == c.piece.end && len(b) == 0 && c.p.Resp.Body == httpparse.BodyChunked && !c.tail:
			// All of the piece is here; only the last chunk is to come. The piece is done
			// now: the connection waits a moment for the last chunk (see chores) to be
			// used again, and nothing else waits for it.
			l.endBody(c)
			c.tail, c.since = true, l.now
			l.pieceDone(c)
			return nil
		case len(b) == 0:
			l.pipeline(c)
			return nil
		}
	}
}

// pipeline sends the request for c's next piece while the current response is still arriving
// (RFC 9112 §9.3.2), once what is left of it would take at most one and a half round trips:
// the next response then follows this one at once, instead of a round trip later (README,
// Pipelining). Only a kept-alive response of known length to a piece nobody shares goes on
// so, and none after a pipelined request went unanswered (see chores). Not to a stream: the
// pipelined piece waits behind the one before it, and the writer may need it first.
func (l *Loop) pipeline(c *conn) {
	if c.next.len() > 0 || l.noPipeline || !l.ranged || l.job.Stream != nil || c.dup != nil || c.noReuse ||
		c.reqEnd != c.piece.end || !c.p.Resp.KeepAlive || c.p.Resp.Body != httpparse.BodyLength {
		return
	}
	if r := c.guess(l.now); r <= 0 || float64(c.remaining()) > 1.5*r*c.wait.Seconds() {
		return
	}
	p, ok := l.sched.take(l.now, !l.holding(), l.ways(c), l.least(c))
	if !ok {
		return
	}
	c.next = p
	c.build(&l.job, l.ifRange, p)
	l.trace.event("pipeline", c, nil, p, 0)
	if c.tls == nil {
		l.push(c)
		return
	}
	if _, err := c.tls.tc.Write(c.req); err != nil {
		c.noReuse = true // the read side sees why
	}
	c.sent = len(c.req)
	l.flushTLS(c)
}

// push writes a pipelined request, or as much of it as the socket takes (the rest when it is
// writable). A connection that cannot take it is not used again; the read side sees why.
func (l *Loop) push(c *conn) {
	ev := evRead
	switch err := l.write(c); {
	case err == unix.EAGAIN:
		ev |= evWrite
	case err != nil:
		c.noReuse = true
		c.sent = len(c.req)
	}
	l.arm(c, ev)
}

// advance makes c's pipelined piece its current one: its request is out, its response next.
// If the socket has not taken all of the request yet, the rest goes when it is writable.
func (l *Loop) advance(c *conn) {
	c.piece, c.next = c.next, piece{}
	c.begin(true)
	c.state, c.since = head, l.now
	if c.sent < len(c.req) {
		c.state = sending
		l.arm(c, evWrite)
	}
}

// deliver hands validated body bytes to the reorder buffer.
func (l *Loop) deliver(c *conn, data []byte) bool {
	if c.drain {
		return true
	}
	if want := c.remaining(); int64(len(data)) > want {
		if c.reqEnd == c.piece.end {
			l.pieceFailed(c, KindIntegrity, nil, "server sent more bytes than the range holds")
			return false
		}
		data = data[:want] // stolen from: the bytes past the new end are someone else's
	}
	if err := l.out.buf.Push(c.off, data); err != nil {
		l.writeFailed(err)
		return false
	}
	if l.job.Stream != nil {
		l.writerHeld()
	}
	if err := l.out.checkpoint(l.now); err != nil {
		l.fail(errorf(KindIO, err, "recording the progress of %s", l.job.Output))
		return false
	}
	n := int64(len(data))
	if c.piece.end == unknownEnd {
		l.done += n
	} else {
		l.have.Add(reorder.Range{Start: c.off, End: c.off + n})
		l.done = l.have.Size()
	}
	c.off += n
	c.got += n
	l.stats.Done.Store(l.done)
	return true
}

// writerHeld makes up for a write to the stream that blocked (a reader that pauses): no
// connection was read while the loop waited, so that time does not count against them. The
// clock moves on, and every connection's timers (stall, connect, rate) by as much; without this,
// a piece requested just after a pause of the reader looked as old as the pause, and failed
// as stalled at the next chores.
func (l *Loop) writerHeld() {
	now := time.Now()
	held := now.Sub(l.now)
	if held < time.Second {
		return
	}
	l.now = now
	for _, c := range l.conns {
		if c.owner == l {
			c.since = c.since.Add(held)
			c.started = c.started.Add(held)
			c.bodyStart = c.bodyStart.Add(held)
		}
	}
}

// pieceDone records that c's piece is complete, and closes the other copy of a duplicated range.
func (l *Loop) pieceDone(c *conn) {
	l.trace.event("done", c, nil, c.piece, 0)
	if d := l.now.Sub(c.bodyStart); d > 0 && !c.drain {
		c.last = float64(c.piece.len()) / d.Seconds()
	}
	l.superseded(c)
	l.fin = l.fin || l.complete()
}

// complete reports whether every byte of a file of known size has been accepted.
func (l *Loop) complete() bool {
	return l.sched.total != unknownEnd && l.done == l.sched.total
}

// responseDone ends a response: the piece is complete, and a keep-alive connection asks for
// the next one on the same socket.
func (l *Loop) responseDone(c *conn) {
	switch {
	case l.redirected != nil:
		if c.noReuse {
			l.close(c)
		} else {
			c.state = idle // for the next download from the server (closeConns)
		}
		l.fail(l.redirected)
		return
	case c.drain:
		l.fin = true // the 416 of an empty file: nothing more to fetch
		return
	case c.piece.end == unknownEnd:
		l.fin = true // a stream of unknown length ended cleanly
		l.stats.Total.Store(l.done)
		return
	case c.off != c.piece.end:
		// Only a chunked or close-delimited 206 can end early; a length-delimited one is
		// held to its Content-Length by the parser.
		l.pieceFailed(c, KindNetwork, nil, "response ended early")
		return
	}
	c.reused = true
	l.host.worked()
	l.endBody(c)
	if !c.tail {
		l.pieceDone(c)
	}
	c.tail = false // the last chunk came: the connection is as good as any
	switch {
	case !c.p.Resp.KeepAlive || c.noReuse:
		l.close(c) // fill opens a fresh one if there is work left
	case l.fin:
		c.state = idle // parked for the next download from the server (finish)
	case c.next.len() > 0:
		l.advance(c)
	default:
		l.assign(c)
	}
}

// eof handles the server closing the connection.
func (l *Loop) eof(c *conn) {
	switch c.state {
	case tunneling:
		l.setupFailed(c, fmt.Errorf("proxy %s closed the connection before answering CONNECT", l.job.Proxy))
	case handshaking:
		l.setupFailed(c, fmt.Errorf("TLS handshake with %s: connection closed", l.job.Host))
	case idle:
		l.close(c) // an idle keep-alive connection timed out at the server: fine
	case head:
		if l.stale(c) {
			return
		}
		l.pieceFailed(c, KindNetwork, nil, "connection closed before the response")
		l.shed(c)
	case body:
		if err := c.p.EOF(); err != nil {
			l.pieceFailed(c, KindNetwork, nil, "connection closed early")
			return
		}
		l.responseDone(c)
		if c.owner == l {
			l.close(c)
		}
	default:
		l.pieceFailed(c, KindNetwork, nil, "connection closed")
	}
}

// lost handles a read or write error (reset, broken pipe).
func (l *Loop) lost(c *conn, err error) {
	switch c.state {
	case idle:
		l.close(c)
		return
	case tunneling, handshaking:
		l.setupFailed(c, fmt.Errorf("connecting to %s: %w", l.job.Host, err))
		return
	}
	if l.stale(c) || l.resetPipelined(c, err) {
		return
	}
	l.pieceFailed(c, KindNetwork, err, "connection lost")
	l.shed(c)
}

// resetPipelined handles a connection reset while a request was pipelined on it: the server
// closed the connection as idle once it had sent the response (nginx's keepalive_timeout),
// before the request came, and the reset that answered the request threw away what of the
// response had not been read yet. The race is ours, not a failure of the server or the path:
// the rest of the piece and the pipelined one go back at once, without counting an attempt,
// and the download pipelines no more (each reset can lose a socket buffer of bytes).
func (l *Loop) resetPipelined(c *conn, err error) bool {
	if c.next.len() == 0 || !errors.Is(err, unix.ECONNRESET) {
		return false
	}
	l.noPipeline = true
	l.trace.note("close", c, 0, 0, "reset after a pipelined request: the server had closed the connection as idle")
	l.release(c, false, 0)
	return true
}

// shed notes a server shedding load: a new connection (c, closed now) was closed or reset
// before a byte of its first answer, as a server does at its connection limit or with a full
// accept queue. The server gets no more connections than it has, and a backoff, shared by
// every download from it.
func (l *Loop) shed(c *conn) {
	if !c.reused && !c.p.Started() {
		l.restore = 0 // the server is there, and says it has too many
		l.host.refused(l.now, c.started, 0)
		l.trace.note("backoff", c, int64(l.host.fails.n), 0, "the server closed a new connection before answering")
	}
}

// stale handles a reused keep-alive connection that the server closed (or reset) just as we
// sent the next request, before a byte of the answer: a race every HTTP client meets, not the
// server's failure. The piece goes back at once, without counting an attempt.
func (l *Loop) stale(c *conn) bool {
	if !c.reused || c.p.Started() || (c.state != sending && c.state != head) {
		return false
	}
	l.trace.note("close", c, 0, 0, "stale keep-alive connection")
	l.release(c, false, 0)
	return true
}

// pieceFailed closes c and gives back the unfinished part of its piece for a retry, unless it
// has failed too often or cannot be resumed (the server does not do ranges).
func (l *Loop) pieceFailed(c *conn, k Kind, cause error, what string) {
	l.requeue(c, k, cause, what, 0)
}

// progressed is how much of its piece an attempt must have brought for its failure not to
// count against the piece's retries: the server works, something on the way cuts connections.
const progressed = 64 << 10

// requeue is pieceFailed with a least wait before the retry (a server's Retry-After).
func (l *Loop) requeue(c *conn, k Kind, cause error, what string, atLeast time.Duration) {
	if !c.drain && c.off-c.piece.start >= progressed {
		// Not counted: giveBack's count of this failure brings the piece to none (reset to
		// 0, it counted as the first). --retries 0 still fails at once, as it says.
		c.piece.attempts = -1
	}
	rest := c.unfinished()
	switch {
	case l.redirected != nil:
		l.close(c) // the page broke off: the redirect is said all the same
		l.fail(l.redirected)
	case c.drain:
		// The 416's error page broke off, but the 416 said all there was to say: the file
		// is complete (see Loop.accept). Its range is past the end; asking again would fail.
		l.trace.note("close", c, 0, 0, what)
		l.close(c)
		l.fin = true
	case rest.len() <= 0 || l.covered(c):
		if rest.len() > 0 {
			// The other copy carries on, and this failure with it: uncounted, a chain of
			// copies of a range that never comes ran until the idle connections did.
			c.dup.piece.attempts = max(c.dup.piece.attempts, rest.attempts+1)
		}
		l.trace.note("close", c, 0, 0, what)
		l.release(c, false, 0) // nothing is lost: only the connection goes
	case !l.ranged && !c.probe:
		l.close(c)
		l.restart = true
		l.fail(errorf(k, cause, "%s (%s of %s); the server does not support ranges, so it cannot be resumed", what, rangeText(rest), l.job.URL))
	case rest.attempts >= l.job.MaxRetries || l.job.MaxRetries == 0:
		l.close(c)
		l.fail(errorf(k, cause, "%s (%s of %s), %s", what, rangeText(rest), l.job.URL, attempts(max(rest.attempts+1, 1))))
	case l.inARow(c):
		l.close(c)
		l.fail(errorf(k, cause, "%s (%s of %s), %d times in a row", what, rangeText(rest), l.job.URL, l.failures.n))
	default:
		wait := l.release(c, true, atLeast)
		l.trace.note("retry", c, int64(max(rest.attempts+1, 1)), wait, what)
		l.trouble = l.now
	}
}

// inARow counts c's failure against the whole download, and reports whether the server has
// failed too often to go on, as refused does for 429s and 503s: --retries + 1 failures with no
// body byte between them (those of requests sent together count once). Only each piece's own
// retries were counted, and a server gone silent after its first answer went round the pieces
// one attempt at a time: at --stall-timeout 3s, 36 s to fail at -n 1 where 18 s were due.
func (l *Loop) inARow(c *conn) bool {
	if l.done != l.failedDone {
		l.failures.n, l.failedDone = 0, l.done
	}
	l.failures.add(l.now, c.since)
	return l.failures.n > l.job.MaxRetries
}

// unfinished is the part of c's piece that has not arrived on c.
func (c *conn) unfinished() piece {
	rest := c.piece
	if !c.drain {
		rest.start = c.off
	}
	return rest
}

// covered reports whether the other copy of a duplicated range will bring what c has not.
func (l *Loop) covered(c *conn) bool {
	d := c.dup
	return d != nil && d.owner == l && d.piece.end >= c.piece.end
}

// release closes c and gives its unfinished part back to the queue, unless the other copy of a
// duplicated range still brings it. It returns how long the part waits.
func (l *Loop) release(c *conn, failed bool, atLeast time.Duration) time.Duration {
	rest, covered := c.unfinished(), l.covered(c)
	l.close(c)
	if d := c.dup; d != nil {
		c.dup, d.dup = nil, nil
	}
	if covered || rest.len() <= 0 {
		l.fin = l.fin || l.complete()
		return 0
	}
	return l.sched.giveBack(rest, failed, l.now, atLeast)
}

func attempts(n int) string {
	if n == 1 {
		return "1 attempt"
	}
	return strconv.Itoa(n) + " attempts"
}

func rangeText(p piece) string {
	s := "bytes " + strconv.FormatInt(p.start, 10) + "-"
	if p.end != unknownEnd {
		s += strconv.FormatInt(p.end-1, 10)
	}
	return s
}

// close forgets a connection and closes its socket. A piece whose request was pipelined on it
// goes back to the queue: no byte of it has come.
func (l *Loop) close(c *conn) {
	if c.owner != l {
		return
	}
	if c.next.len() > 0 {
		l.sched.giveBack(c.next, false, l.now, 0)
		c.next = piece{}
	}
	l.live--
	if c.settingUp() {
		l.connecting--
	}
	l.r.drop(c)
	l.stats.Conns.Store(int64(l.live))
}

// arm sets the poller interest of c to ev.
func (l *Loop) arm(c *conn, ev events) {
	if c.armed == ev {
		return
	}
	if err := l.r.poll.mod(c.fd, ev); err != nil {
		l.fail(errorf(KindIO, err, "event loop"))
		return
	}
	c.armed = ev
}

// readLimit is how many bytes c may read now. Writing a stream, a connection whose piece lies
// ahead of the writer (or any, while the pipe is full) reads no more than the room left in the
// buffer: throttle pauses such connections once the buffer is full, but only after a round of
// events, in which each of -n connections could otherwise have read a whole read buffer.
func (l *Loop) readLimit(c *conn) int {
	// Only a response can be held back: an idle connection must still hear its close.
	if l.job.Stream == nil || l.out == nil || !c.working() || c.piece.start <= l.out.buf.Cursor() && !l.out.buf.Blocked() {
		return len(l.r.rbuf)
	}
	return min(len(l.r.rbuf), l.out.buf.Room())
}

// throttle applies back-pressure when writing a stream. The writer needs bytes in offset order;
// while the reorder buffer is full, connections whose pieces lie wholly ahead of the writer's
// cursor stop reading (their read interest is removed), their kernel buffers fill, and TCP
// flow control slows their senders. Memory stays bounded however fast the network is. The
// connection whose piece holds the cursor reads on, so the writer progresses, unless the
// pipe it writes to is full: then it stops too, until the pipe has room (watchPipe).
func (l *Loop) throttle() {
	if l.job.Stream == nil || l.out == nil {
		return
	}
	o := l.out
	room := o.buf.Room()
	if room < o.resumeAt && !o.buf.Blocked() {
		// Write out what is contiguous at the cursor, a partial block too: held, the bytes
		// the writer needs next would wait for the block to fill.
		if err := o.buf.Flush(); err != nil {
			l.writeFailed(err)
			return
		}
		room = o.buf.Room()
	}
	o.full = room == 0 || o.full && room < o.resumeAt
	cur, blocked := o.buf.Cursor(), o.buf.Blocked()
	l.watchPipe(blocked)
	// Paused connections read again once a quarter of the buffer is free (resuming them all
	// for every 64 KiB a full pipe took made 27,000 epoll_ctl calls of 58,000 for 512 MiB
	// into sha256sum), or at any room when the writer waits for a piece that no connection
	// holds: one of them must end its piece and take it.
	resumeAt := o.resumeAt
	if !blocked && !slices.ContainsFunc(l.conns, func(c *conn) bool { return c.owner == l && c.working() && c.piece.start <= cur }) {
		resumeAt = 1
	}
	for _, c := range l.conns {
		if c.owner != l || !c.working() {
			continue
		}
		switch waits := c.piece.start > cur || blocked; {
		case room == 0 && waits && !c.paused:
			l.pause(c)
		case c.paused && (!waits || room >= resumeAt):
			c.paused = false
			c.since = l.now // the pause was ours, not a stall
			c.resumed = l.now
			l.arm(c, evRead)
		}
	}
}

// watchPipe has the poller watch the stream's pipe for room while the buffer waits for it,
// and only then: a pipe has room most of the time, and the poller would say so at every turn.
func (l *Loop) watchPipe(want bool) {
	o := l.out
	if o == nil || o.pipe < 0 || (l.r.pipe == l) == want {
		return
	}
	var err error
	if want {
		err = l.r.poll.add(o.pipe, evWrite)
		l.r.pipe = l
	} else {
		err = l.r.poll.del(o.pipe)
		l.r.pipe = nil
	}
	if err != nil {
		l.fail(errorf(KindIO, err, "writing %s", l.job.Output))
	}
}

// pipeRoom writes what waits for the stream's pipe, now that it has room.
func (l *Loop) pipeRoom() {
	if err := l.out.buf.Flush(); err != nil {
		l.writeFailed(err)
	}
}

// pause stops reading from c (back-pressure) until throttle resumes it.
func (l *Loop) pause(c *conn) {
	c.paused = true
	if c.held {
		// Paused before in this response: its average counts those pauses, and fell towards
		// the writer's pace at each one (a straggler's, which rescue then took for the norm:
		// 32 MiB in 35 s). Only samples taken since it was resumed say more.
		if r := c.rate(1); r >= 0 {
			c.pace = r
		}
	} else {
		c.pace = c.speed(l.now)
		switch age := l.now.Sub(c.bodyStart); {
		case c.pace >= 0:
		case c.state == body && age >= quickRate/4:
			// Not quickRate old yet (a fast connection fills its share of the buffer
			// sooner): a rough average, enough to tell a connection evictRatio times slower.
			c.pace = float64(c.off-c.piece.start) / age.Seconds()
		case c.last > 0:
			// Paused waiting for its head, or as its body began: its last response's
			// average. With small pieces every peer may be paused so, and rescue, with no
			// pace to compare with, left the stream at the pace of a 64 KiB/s straggler
			// (16 MiB in 16 s).
			c.pace = c.last
		}
	}
	// Its rate window starts again, as for any connection that stops working (see sample),
	// and from when it is resumed: a connection held for most of a slot, and resumed as the
	// slot ended, sampled a slot's body time with nothing read in it, a rate of 0.
	c.held = true
	c.tick, c.got, c.busy = 0, 0, 0
	l.arm(c, 0)
}

// chores records the progress when a save is due, samples throughput, evicts a straggler
// (evict, rescue), lets the wanted connections grow again (recover), and checks timeouts.
func (l *Loop) chores() {
	// What the trace holds goes out every tick: a second signal, or a stream's reader that
	// stopped, ends the program without the flush at the end of Run (its error sticks, and
	// that flush reports it).
	l.trace.flush()
	if l.out != nil {
		if err := l.out.checkpoint(l.now); err != nil {
			l.fail(errorf(KindIO, err, "recording the progress of %s", l.job.Output))
		}
	}
	l.sample()
	if l.ranged && !l.small { // a small file has its one connection (Job.Small)
		l.evict()
		l.rescue()
		l.recover()
	}
	for _, c := range l.conns {
		if c.owner != l || l.err != nil {
			continue
		}
		idleFor := l.now.Sub(c.since)
		switch {
		case c.settingUp():
			// The connect timeout covers the whole setup (TCP, CONNECT, TLS), counted from the
			// start: a handshake that trickles bytes does not get to last forever.
			if l.now.Sub(c.started) > l.job.ConnectTimeout {
				l.setupFailed(c, connectTimeout{l.job.ConnectTimeout, c.state})
			}
		case c.tail && idleFor > lastChunkWait:
			l.pieceFailed(c, KindNetwork, nil, "no last chunk") // the piece is done: only the connection goes
		case c.drain && l.now.Sub(c.bodyStart) > lastChunkWait:
			// A page nobody reads (a redirect's, a 416's) that is not over: the connection
			// goes, and what its head said stands. Each byte of it counts as progress, so
			// the stall timeout never came for one that trickles without end.
			l.pieceFailed(c, KindNetwork, nil, "the page after the head did not end")
		case c.state == head && !c.paused && idleFor > l.job.StallTimeout:
			// A server that drops pipelined requests (it should not: RFC 9112 §9.3.2) costs
			// a stall timeout on each connection that had pipelined one, not one per piece.
			l.noPipeline = l.noPipeline || c.pipelined
			l.pieceFailed(c, KindNetwork, nil, fmt.Sprintf("no response for %v", l.job.StallTimeout))
		case c.state != idle && !c.paused && idleFor > l.job.StallTimeout:
			l.pieceFailed(c, KindNetwork, nil, fmt.Sprintf("no data for %v", l.job.StallTimeout))
		case l.holding() && c.active() && idleFor > holdStall:
			// Everyone else is paused waiting for this connection's bytes, so there are no
			// peers to compare it with, and waiting the full stall timeout would stop the
			// whole stream.
			l.pieceFailed(c, KindNetwork, nil, fmt.Sprintf("no data for %v while the output waits for it", holdStall))
		}
	}
}

// wakeAt is when the download next has something to do without an event: a retry due, a
// backoff over, the next attempt of the race. It is at most one housekeeping tick away.
func (l *Loop) wakeAt() time.Time {
	next := l.now.Add(housekeepingEvery)
	if t := l.sched.wake(); t.After(l.now) && t.Before(next) {
		next = t // a retry to come (one already due waits for a free connection, whose freeing wakes us)
	}
	if !l.connectAfter.IsZero() && l.connectAfter.After(l.now) && l.connectAfter.Before(next) {
		next = l.connectAfter
	}
	if t := l.lastAttempt.Add(attemptDelay); !l.everConnected && l.nextAddr < len(l.job.Addrs) && t.After(l.now) && t.Before(next) {
		next = t // the next attempt of the race
	}
	if t := l.host.after; t.After(l.now) && t.Before(next) {
		next = t // the server's backoff
	}
	return next
}

// writeFailed fails the download for an error writing its output. A refused write names the
// first byte not written and the system's reason: "writing f at byte 4194304: no space left on
// device", or for -o - whose reader went away, "writing standard output at byte 65536: broken
// pipe".
func (l *Loop) writeFailed(err error) {
	var we *reorder.WriteError
	if !errors.As(err, &we) {
		l.fail(errorf(KindIO, err, "writing %s", l.job.Output))
		return
	}
	cause := we.Err
	var pe *os.PathError
	if errors.As(cause, &pe) && pe.Op == "write" {
		cause = pe.Err // "write f: ...": the message names the output already
	}
	l.fail(errorf(KindIO, cause, "writing %s at byte %d", l.job.Output, we.Off))
}

// fail records the first fatal error; the loop stops after the current event.
func (l *Loop) fail(e *Error) {
	if l.err == nil {
		l.err = e
	}
}

// closeConns parks the idle keep-alive connections of a download that is complete, or that a
// redirect sends elsewhere, and closes every other.
func (l *Loop) closeConns() {
	for _, c := range l.conns {
		switch {
		case c.owner != l:
		case (l.fin && l.err == nil || l.err != nil && l.err == l.redirected) && c.state == idle && !c.paused && !c.stray && c.armed == evRead && l.r.park(c):
			l.live-- // parked: the server closing it is noticed, and it is closed
		default:
			l.close(c)
		}
	}
	l.stats.Conns.Store(0)
}

// closeOutput writes out what has arrived and closes the file. After a failure the partial
// file is kept (the caller reports how much it holds), unless nothing was written to it, or it
// is a small file, or a file of a list without a record: then it is removed, and kept is false.
func (l *Loop) closeOutput() (kept bool) {
	if l.err == nil && l.created && l.small && l.out != nil {
		// A small file is written here, in one piece: one that cannot be written (a full
		// disk, a file size limit) goes as if nothing had arrived, not left short.
		if err := l.out.buf.Flush(); err != nil {
			l.writeFailed(err)
		}
	}
	kept = true
	// In a list, a file that no record describes (its server ignores ranges), made by us or
	// truncated for us (prepareFile, --overwrite): a failed entry leaves none (Job.Small). A
	// file whose first record could not be written is neither, and is left as it was.
	unrecorded := l.job.Small && !l.recorded() && (l.created || l.emptied)
	switch {
	case l.err != nil && (l.created && (l.small || l.wroteNothing()) || unrecorded):
		// Made by us, and nothing in it, or a small file (written in one piece or not at
		// all), or unrecorded: leave no file (or record of it) behind. The names go while
		// the lock is still held, so no other rangedl can open them in between.
		kept = false
		// Unchecked: what a failure leaves is a record without its file (it describes
		// nothing), or the file with its record.
		reorder.RemoveFile(l.job.Output, l.job.Output+ControlSuffix)
		if l.out != nil {
			l.out.discard()
		} else {
			l.file.Close()
		}
	case l.out != nil:
		l.watchPipe(false)
		err := l.out.close(l.fin && l.err == nil)
		if left := new(reorder.RecordLeftError); errors.As(err, &left) {
			l.fail(&Error{Kind: KindIO, Err: left, Msg: fmt.Sprintf("%s is complete and synced; delete its record by hand (%s), which rangedl cannot remove", l.job.Output, strings.Join(left.Left, ", "))})
		} else if err != nil {
			l.writeFailed(err)
		}
	case l.file != nil:
		l.file.Close()
	}
	l.trace.note("finish", nil, l.done, 0, errString(l.err))
	if err := l.trace.flush(); err != nil {
		l.job.Notice("writing the trace: " + err.Error())
	}
	return kept
}

// wroteNothing reports whether the file got none of the bytes: none arrived, or none of those
// that did could be written (a full disk at the first write, with --file-allocation none). It
// flushes the buffer: what it holds is written now, or the write error that stuck says that
// nothing can be.
func (l *Loop) wroteNothing() bool {
	return l.done == 0 || l.out != nil && l.out.buf.Written().Size() == 0 && l.out.buf.Flush() != nil
}

// sameValidator reports whether a validator of a later response agrees with the first one's:
// when the first response had it, every later one must repeat it exactly.
func sameValidator(first, now []byte) bool {
	return len(first) == 0 || bytes.Equal(first, now)
}

func errString(e *Error) string {
	if e == nil {
		return ""
	}
	return e.Error()
}
