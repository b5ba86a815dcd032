package loop

import (
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/rangedl/rangedl/httpparse"
)

// connState is where a connection is in its request/response cycle.
//
//	connecting ──connect ok──▶ [tunneling ─▶] [handshaking ─▶] sending ──request written──▶ head
//	                                                          ▲                          │
//	                                                          │                     head valid
//	                                                          │                          ▼
//	                                                          └── next piece ◀─────── body
//	                                                       (keep-alive)   idle ◀─ no work ┘
type connState uint8

const (
	connecting  connState = iota // nonblocking connect in flight; waiting for writable
	tunneling                    // https through a proxy: CONNECT sent, waiting for its answer
	handshaking                  // https: the TLS handshake runs (tls.go)
	sending                      // request partly written; waiting for writable
	head                         // request sent; parsing the response head
	body                         // head accepted; body bytes go to the file
	idle                         // keep-alive connection with nothing to fetch
)

func (s connState) String() string {
	return [...]string{"connecting", "tunneling", "handshaking", "sending", "head", "body", "idle"}[s]
}

// conn is one HTTP/1.1 connection. Only the reactor's goroutine touches it.
type conn struct {
	fd      int
	id      int            // 1-based, in opening order, for messages
	addr    int            // index in Job.Addrs
	to      netip.AddrPort // where it is connected (to a parked connection's next owner)
	owner   *Loop          // the download it works for; nil once closed, or while parked
	host    *host          // the server it goes to (through the proxy, if one)
	state   connState
	armed   events    // interest currently registered with the poller
	paused  bool      // not reading: the stream writer is behind (back-pressure)
	pace    float64   // its speed when it was paused, bytes/s; -1: not known (see rescue)
	held    bool      // paused in its current response: its average is not its speed (see eta)
	resumed time.Time // when it was last resumed after a pause; body time counts from then
	last    float64   // the average speed of its last complete response, bytes/s; 0: none yet
	since   time.Time // last progress: connect started, request sent, head complete, body bytes arrived
	started time.Time // when the connect started (the connect timeout counts from here)
	reused  bool      // served a response before: a close before any byte is a stale keep-alive
	stray   bool      // an event came after its download had ended: it is closed, not parked

	tls     *tlsConn // nil for plain HTTP
	p       httpparse.Parser
	req     []byte // request bytes, reused from piece to piece
	sent    int    // bytes of req written
	piece   piece  // what this connection is fetching; a steal may lower piece.end
	reqEnd  int64  // end of the range the request asked for (the response is checked against it)
	probe   bool   // piece was requested before the size was known
	off     int64  // file offset of the next body byte
	drain   bool   // the body is not file content (416): read and drop it
	noReuse bool   // not reused: the server answered before all of the request was sent, or sent bytes after its response
	tail    bool   // the piece is complete; only the chunked body's last chunk is still to come
	dup     *conn  // in the end game, the other connection fetching the same range (both ways)

	// Pipelining (see Loop.pipeline): the piece whose request went out while the current
	// response was arriving (zero if none), and whether the current response's request went
	// out so; its head's delay is then no round trip, and wait keeps the last one.
	next      piece
	pipelined bool

	// Throughput over a moving window (see balance.go): body bytes not sampled yet, the time
	// they took that bodyTime does not add itself (bodies that ended, slots carried over), and
	// the last rateTicks samples, one per housekeeping tick.
	got       int64
	busy      time.Duration
	ticks     [rateTicks]int64
	tick      int           // samples taken since the window last restarted
	bodyStart time.Time     // when the current response's head was accepted
	wait      time.Duration // how long after its request that head came: a round trip and the server's time
	slowSince time.Time     // since when its rate has been far below its peers' (see evict); zero if it is not
}

// settingUp reports whether c is still being set up: connecting, tunnelling or in the TLS
// handshake. Such a connection has no piece yet.
func (c *conn) settingUp() bool {
	return c.state == connecting || c.state == tunneling || c.state == handshaking
}

// connectRequest builds the CONNECT that asks a proxy for a tunnel to j.Tunnel.
func (c *conn) connectRequest(j *Job) {
	b := c.req[:0]
	b = append(b, "CONNECT "...)
	b = append(b, j.Tunnel...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, j.Tunnel...)
	b = append(b, "\r\nUser-Agent: "...)
	b = append(b, j.UserAgent...)
	b = append(b, "\r\n"...)
	if j.ProxyAuth != "" {
		b = append(b, "Proxy-Authorization: "...)
		b = append(b, j.ProxyAuth...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.req, c.sent = b, 0
	c.p.Reset()
	c.p.Tunnel = true // a 2xx to CONNECT has no body: the tunnel starts right after the head
}

// appendHost appends the Host field's value: j.Host without an IPv6 zone, which names an
// interface of this machine and means nothing to the server (RFC 6874 §4: a client must
// remove it).
func appendHost(b []byte, host string) []byte {
	if strings.HasPrefix(host, "[") {
		if zone, end := strings.IndexByte(host, '%'), strings.IndexByte(host, ']'); zone > 0 && zone < end {
			return append(append(b, host[:zone]...), host[end:]...)
		}
	}
	return append(b, host...)
}

// request builds the GET for c.piece into c.req and readies c for its response.
func (c *conn) request(j *Job, ifRange []byte) {
	c.build(j, ifRange, c.piece)
	c.begin(false)
}

// build writes the GET for p into c.req, reusing its memory. Every request is a ranged GET
// (RFC 9110 §14.2), even the first: a HEAD costs a round trip and is often mishandled.
// If-Range (RFC 9110 §13.1.5) makes a changed file answer 200, which is caught before a byte
// of it is written.
func (c *conn) build(j *Job, ifRange []byte, p piece) {
	b := c.req[:0]
	b = append(b, "GET "...)
	b = append(b, j.Target...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = appendHost(b, j.Host)
	b = append(b, "\r\nUser-Agent: "...)
	b = append(b, j.UserAgent...)
	b = append(b, "\r\nAccept-Encoding: identity\r\n"...)
	for _, h := range j.Header {
		b = append(b, h...)
		b = append(b, "\r\n"...)
	}
	if !p.bare {
		b = append(b, "Range: bytes="...)
		b = strconv.AppendInt(b, p.start, 10)
		b = append(b, '-')
		b = strconv.AppendInt(b, p.end-1, 10)
		b = append(b, "\r\n"...)
	}
	if len(ifRange) > 0 && !p.bare {
		b = append(b, "If-Range: "...)
		b = append(b, ifRange...)
		b = append(b, "\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.req, c.sent = b, 0
}

// begin readies c for the response to the request for c.piece; pipelined says that request
// went out while the response before it was still arriving.
func (c *conn) begin(pipelined bool) {
	c.reqEnd, c.off, c.pipelined = c.piece.end, c.piece.start, pipelined
	c.drain, c.noReuse, c.held = false, false, false
	c.p.Reset()
}
