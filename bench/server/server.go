package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Sentinel errors. Errors returned by this package wrap one of these, so
// callers can branch with errors.Is.
var (
	ErrNotLoopback = errors.New("server: address is not a loopback address")
	ErrConfig      = errors.New("server: invalid config")
	ErrBadSize     = errors.New("server: invalid size")
	ErrBadFault    = errors.New("server: invalid fault")
)

// Config describes how the server behaves. The zero value is a well-behaved
// server on 127.0.0.1 with a random port. Fields marked "query" can be
// overridden per request with a query parameter (see the package
// documentation).
type Config struct {
	Addr           string        // default "127.0.0.1:0"; must be a loopback address
	Seed           uint64        // content seed (0 means the default, 1)
	NoRanges       bool          // ignore Range: always 200 with the whole body (query: noranges)
	Chunked        bool          // no Content-Length; Transfer-Encoding: chunked (query: chunked)
	NoKeepAlive    bool          // Connection: close on every response (query: nokeepalive)
	CloseDelimited bool          // 200/206 with neither Content-Length nor chunked; body ends at close (query: close)
	Rate           int64         // per-connection cap in bytes/s, token bucket; 0 = unlimited (query: rate)
	Latency        time.Duration // delay before the first byte of each response (query: latency)
	Straggler      int           // 1-based index of the accepted connection that is slow (0 = none)
	StragglerRate  int64         // that connection's cap in bytes/s (0 means 64 KiB/s)
	MaxConns       int           // refuse (close at once) connections beyond this many open (0 = no cap)
	TLS            *tls.Config   // serve https with this configuration (see TestCA); nil: http
	Faults         []Fault       // scheduled misbehaviour, matched against the GET number
	NoLog          bool          // keep no request log (Requests returns nothing): for millions of requests
}

// defaultStragglerRate is the straggler's cap when Config.StragglerRate is 0:
// slow enough to stand out against any unthrottled loopback connection.
const defaultStragglerRate = 64 << 10

// Stats are totals since Start.
type Stats struct {
	Conns     int64 // connections accepted and served (refused ones are not counted)
	Requests  int64 // requests received, any method, including ones answered with an error
	BodyBytes int64 // response body bytes written to sockets (headers and chunk framing excluded)
}

// Request is one entry of the request log.
type Request struct {
	Method  string
	Path    string      // URL path, without the query
	Query   string      // raw query, without '?'
	Range   string      // Range header field value, "" if absent
	IfRange string      // If-Range header field value, "" if absent
	Header  http.Header // all request header fields (a copy)
	Conn    int         // 1-based index of the connection it arrived on, in accept order
	Seq     int         // 1-based GET number that Fault.Request matches; 0 for other methods
}

// Server is a running test server. Its methods are safe for concurrent use.
type Server struct {
	cfg  Config
	ln   *listener
	http *http.Server
	addr string

	conns     atomic.Int64
	requests  atomic.Int64
	gets      atomic.Int64
	bodyBytes atomic.Int64
	// seedShift is how many ChangeContent faults have fired: the current
	// content seed is cfg.Seed + seedShift.
	seedShift atomic.Uint64

	mu       sync.Mutex
	log      []Request
	closed   bool
	handlers sync.WaitGroup // running ServeHTTP calls, so Close can wait for them

	// ctx is the base of every request context and is cancelled by Close,
	// so every wait in a handler (latency, rate, stall) ends at Close even
	// on a connection net/http no longer tracks.
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	closeErr  error
	serveErr  chan error
}

// Start validates cfg, listens on its loopback address and serves until
// Close. It returns an error wrapping ErrNotLoopback if cfg.Addr is not a
// loopback address and ErrConfig (or ErrBadFault) if cfg is inconsistent.
func Start(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Seed == 0 {
		cfg.Seed = 1
	}
	if cfg.StragglerRate == 0 {
		cfg.StragglerRate = defaultStragglerRate
	}
	cfg.Faults = append([]Fault(nil), cfg.Faults...) // the caller may reuse its slice
	if err := validate(&cfg); err != nil {
		return nil, err
	}
	host, _, err := net.SplitHostPort(cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %q: %v", ErrConfig, cfg.Addr, err)
	}
	if ip, err := netip.ParseAddr(host); err != nil || !(ip.IsLoopback() || onLoopback(ip)) {
		// Only IP literals: a name (even "localhost") could resolve to
		// anything, and an empty host means every interface.
		return nil, fmt.Errorf("%w: %q", ErrNotLoopback, cfg.Addr)
	}
	inner, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("server: listen: %w", err)
	}

	// The host as given, with the port chosen: the kernel does not report the
	// zone of a listener on a link-local address.
	port := inner.Addr().(*net.TCPAddr).Port
	s := &Server{
		cfg:      cfg,
		addr:     net.JoinHostPort(host, strconv.Itoa(port)),
		serveErr: make(chan error, 1),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.ln = &listener{Listener: inner, s: s}
	s.http = &http.Server{
		Handler:     http.HandlerFunc(s.serve),
		BaseContext: func(net.Listener) context.Context { return s.ctx },
		ConnContext: func(ctx context.Context, c net.Conn) context.Context {
			return context.WithValue(ctx, connKey{}, c)
		},
		// net/http logs client disconnects and hijack notices; in a fault
		// injector those are the point, not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { s.serveErr <- s.http.Serve(s.ln) }()
	return s, nil
}

func validate(cfg *Config) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, args...)...)
	}
	switch {
	case cfg.Chunked && cfg.CloseDelimited:
		return bad("Chunked and CloseDelimited are exclusive")
	case cfg.Rate < 0, cfg.StragglerRate < 0:
		return bad("negative rate")
	case cfg.Latency < 0:
		return bad("negative latency")
	case cfg.Straggler < 0, cfg.MaxConns < 0:
		return bad("negative Straggler or MaxConns")
	}
	for i, f := range cfg.Faults {
		switch {
		case !f.Kind.valid():
			return fmt.Errorf("%w: Faults[%d]: unknown kind %d", ErrBadFault, i, int(f.Kind))
		case f.Request < 0:
			return fmt.Errorf("%w: Faults[%d]: negative Request", ErrBadFault, i)
		case strings.ContainsAny(f.Target, "\x00\r\n"):
			return fmt.Errorf("%w: Faults[%d]: control character in Target", ErrBadFault, i)
		}
	}
	return nil
}

// onLoopback reports whether ip is a link-local IPv6 address whose zone
// names a loopback interface ([fe80::1%lo], in a network namespace of a
// test's own): it is reached only through that interface.
func onLoopback(ip netip.Addr) bool {
	if !ip.Is6() || !ip.IsLinkLocalUnicast() || ip.Zone() == "" {
		return false
	}
	ifi, err := net.InterfaceByName(ip.Zone())
	return err == nil && ifi.Flags&net.FlagLoopback != 0
}

// URL returns "http://" (or "https://") + Addr() + path, with a zone's '%'
// escaped as a URL needs it (RFC 6874).
func (s *Server) URL(path string) string {
	addr := strings.Replace(s.addr, "%", "%25", 1)
	if s.cfg.TLS != nil {
		return "https://" + addr + path
	}
	return "http://" + addr + path
}

// Addr returns the listening address as host:port, with the host as given:
// "127.0.0.1:41234", "[::1]:41234" or "[fe80::1%lo]:41234".
func (s *Server) Addr() string { return s.addr }

// Rewrite replaces the content, as a ChangeContent fault does: from now on
// every file is that of the next seed, with a new ETag and Last-Modified. It
// returns the new seed (for Sum).
func (s *Server) Rewrite() uint64 {
	return s.seedOf(s.seedShift.Add(1))
}

// seedOf is the content seed after shift changes (Start made cfg.Seed non-zero).
func (s *Server) seedOf(shift uint64) uint64 { return s.cfg.Seed + shift }

// Stats returns the counters since Start.
func (s *Server) Stats() Stats {
	return Stats{
		Conns:     s.conns.Load(),
		Requests:  s.requests.Load(),
		BodyBytes: s.bodyBytes.Load(),
	}
}

// Requests returns a copy of the request log, in arrival order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.log...)
}

// Close stops the server: it closes the listener and every connection,
// wakes stalled and sleeping handlers and waits for them to return. It is
// safe to call more than once; later calls return the first call's result.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		s.cancel()
		s.closeErr = s.http.Close()
		// http.Server.Close forgets hijacked connections; ours are closed
		// by the handler that hijacked them, which the wait below covers.
		s.handlers.Wait()
		if err := <-s.serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}

// enter registers a running handler; it reports false once Close has begun,
// so no handler starts after Close waits.
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

// connKey is the context key under which ConnContext stores the *conn.
type connKey struct{}

// listener wraps the TCP listener to number connections (for Straggler and
// the request log) and to refuse those beyond MaxConns.
type listener struct {
	net.Listener
	s    *Server
	open atomic.Int64 // connections accepted and not yet closed
}

func (l *listener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if max := l.s.cfg.MaxConns; max > 0 && l.open.Load() >= int64(max) {
			// Refuse by closing before reading anything: the client sees
			// EOF (or a reset if its request already arrived).
			c.Close()
			continue
		}
		l.open.Add(1)
		n := l.s.conns.Add(1)
		if cfg := l.s.cfg.TLS; cfg != nil {
			// The handshake runs on the first read, in the connection's own goroutine.
			c = tls.Server(c, cfg)
		}
		tc := &conn{Conn: c, ln: l, index: int(n)}
		if l.s.cfg.Straggler == int(n) {
			tc.straggler = true
		}
		return tc, nil
	}
}

// conn is a served connection: its number, whether it is the straggler,
// and its rate limiter, which persists across keep-alive responses.
type conn struct {
	net.Conn
	ln        *listener
	index     int
	straggler bool
	lim       limiter
	closeOnce sync.Once
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.closeOnce.Do(func() { c.ln.open.Add(-1) })
	return err
}
