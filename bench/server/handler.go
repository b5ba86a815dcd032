package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
)

// framing is how a 200/206 body is delimited (RFC 9112 §6.3).
type framing int

const (
	framingLength  framing = iota // Content-Length
	framingChunked                // Transfer-Encoding: chunked
	framingClose                  // neither: the body ends when the connection closes
)

// options are the Config fields a request may override with its query.
type options struct {
	noRanges    bool
	noKeepAlive bool
	framing     framing
	rate        int64
	latency     time.Duration
}

func (s *Server) defaultOptions() options {
	o := options{
		noRanges:    s.cfg.NoRanges,
		noKeepAlive: s.cfg.NoKeepAlive,
		rate:        s.cfg.Rate,
		latency:     s.cfg.Latency,
	}
	switch {
	case s.cfg.Chunked:
		o.framing = framingChunked
	case s.cfg.CloseDelimited:
		o.framing = framingClose
	}
	return o
}

// parseOptions applies the query parameters documented in doc.go on top of
// the server's Config. Unknown parameters are an error: a typo in a
// benchmark URL should fail loudly, not measure the wrong thing.
func (s *Server) parseOptions(rawQuery string) (options, error) {
	o := s.defaultOptions()
	if rawQuery == "" {
		return o, nil
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return o, err
	}
	var chunked, closeDelim *bool
	for key, vals := range q {
		v := vals[len(vals)-1]
		var b bool
		switch key {
		case "noranges", "nokeepalive", "chunked", "close":
			if b, err = strconv.ParseBool(v); err != nil {
				return o, fmt.Errorf("%s=%q: want 1 or 0", key, v)
			}
		}
		switch key {
		case "noranges":
			o.noRanges = b
		case "nokeepalive":
			o.noKeepAlive = b
		case "chunked":
			chunked = &b
		case "close":
			closeDelim = &b
		case "rate":
			n, ok := parseSize(v)
			if !ok {
				return o, fmt.Errorf("rate=%q: want bytes per second like 10M", v)
			}
			o.rate = n
		case "latency":
			d, err := time.ParseDuration(v)
			if err != nil || d < 0 {
				return o, fmt.Errorf("latency=%q: want a duration like 50ms", v)
			}
			o.latency = d
		default:
			return o, fmt.Errorf("unknown query parameter %q", key)
		}
	}
	if chunked != nil && closeDelim != nil && *chunked && *closeDelim {
		return o, errors.New("chunked=1 and close=1 are exclusive")
	}
	// An explicit "1" selects that framing; an explicit "0" turns off only
	// the framing it names.
	for _, sel := range []struct {
		p *bool
		f framing
	}{{chunked, framingChunked}, {closeDelim, framingClose}} {
		switch {
		case sel.p == nil:
		case *sel.p:
			o.framing = sel.f
		case o.framing == sel.f:
			o.framing = framingLength
		}
	}
	return o, nil
}

// faultPlan is what the faults matching one GET request ask for.
type faultPlan struct {
	change      bool   // ChangeContent
	status      *Fault // first of Status503, Status429, NotFound, Forbidden, AuthRequired407, Redirect, RedirectLoop
	huge        bool   // HugeHeaders
	ignoreRange bool   // IgnoreRange
	wrongRange  bool   // WrongContentRange
	body        *Fault // first of ResetAfter, ShortBody, Stall
}

func (s *Server) planFaults(seq int) faultPlan {
	var p faultPlan
	if seq == 0 {
		return p // not a GET
	}
	for i := range s.cfg.Faults {
		f := &s.cfg.Faults[i]
		if f.Request != 0 && f.Request != seq {
			continue
		}
		switch f.Kind {
		case ChangeContent:
			p.change = true
		case HugeHeaders:
			p.huge = true
		case IgnoreRange:
			p.ignoreRange = true
		case WrongContentRange:
			p.wrongRange = true
		case Status503, Status429, NotFound, Forbidden, AuthRequired407, Redirect, RedirectLoop:
			if p.status == nil {
				p.status = f
			}
		case ResetAfter, ShortBody, Stall:
			if p.body == nil {
				p.body = f
			}
		}
	}
	return p
}

// loopPrefix starts every path that RedirectLoop sends clients to: a GET
// or HEAD of any path under it answers 302 with Location set to itself.
const loopPrefix = "/loop/"

// serve is the server's only handler. Order: count and log, apply the
// query, wait out the latency, then either a fault that replaces the
// response or the file response (which other faults shape or cut short).
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		return
	}
	defer s.handlers.Done()
	ctx := r.Context()
	c, _ := ctx.Value(connKey{}).(*conn)
	seq := s.record(r, c)

	opt, err := s.parseOptions(r.URL.RawQuery)
	if err != nil {
		http.Error(w, "bad query: "+err.Error(), http.StatusBadRequest)
		return
	}
	if opt.latency > 0 && sleep(ctx, opt.latency) != nil {
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if opt.noKeepAlive {
		w.Header().Set("Connection", "close")
	}
	if strings.HasPrefix(r.URL.Path, loopPrefix) {
		redirect(w, r.URL.RequestURI())
		return
	}

	plan := s.planFaults(seq)
	// The content version is fixed here, once, so a ChangeContent firing
	// on a concurrent request cannot switch this response halfway.
	shift := s.seedShift.Load()
	if plan.change {
		shift = s.seedShift.Add(1)
	}
	if f := plan.status; f != nil {
		switch f.Kind {
		case Status503, Status429:
			if f.RetryAfter >= 0 {
				w.Header().Set("Retry-After", strconv.Itoa(f.RetryAfter))
			}
			code := http.StatusServiceUnavailable
			if f.Kind == Status429 {
				code = http.StatusTooManyRequests
			}
			http.Error(w, http.StatusText(code), code)
		case NotFound:
			http.NotFound(w, r)
		case Forbidden:
			http.Error(w, "403 forbidden: the signature has expired", http.StatusForbidden)
		case AuthRequired407:
			http.Error(w, "407 from the origin", http.StatusProxyAuthRequired)
		case Redirect:
			target := f.Target
			if target == "" {
				target = r.URL.RequestURI()
			}
			redirect(w, target)
		case RedirectLoop:
			redirect(w, loopPrefix+strings.TrimPrefix(r.URL.RequestURI(), "/"))
		}
		return
	}

	size, ok := sizeFromPath(r.URL.Path)
	if !ok {
		http.NotFound(w, r)
		return
	}
	s.serveFile(w, r, c, size, shift, opt, plan)
}

// record counts the request, numbers it if it is a GET and appends it to
// the log; all under one lock so the log order is the numbering order.
func (s *Server) record(r *http.Request, c *conn) (seq int) {
	if s.cfg.NoLog {
		s.requests.Add(1)
		if r.Method == http.MethodGet {
			seq = int(s.gets.Add(1))
		}
		return seq
	}
	h := r.Header.Clone()
	if r.Host != "" {
		h.Set("Host", r.Host) // net/http moves Host out of the header map
	}
	entry := Request{
		Method:  r.Method,
		Path:    r.URL.Path,
		Query:   r.URL.RawQuery,
		Range:   r.Header.Get("Range"),
		IfRange: r.Header.Get("If-Range"),
		Header:  h,
	}
	if c != nil {
		entry.Conn = c.index
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests.Add(1)
	if r.Method == http.MethodGet {
		seq = int(s.gets.Add(1))
	}
	entry.Seq = seq
	s.log = append(s.log, entry)
	return seq
}

// redirect answers 302 Found (RFC 9110 §15.4.3) with a short page, as nginx does: a client
// that keeps the connection reads it first.
func redirect(w http.ResponseWriter, location string) {
	w.Header().Set("Location", location)
	w.Header().Set("Content-Type", "text/html")
	w.WriteHeader(http.StatusFound)
	w.Write([]byte(redirectPage))
}

const redirectPage = "<html><head><title>302 Found</title></head><body><h1>302 Found</h1></body></html>\n"

// baseModTime is Last-Modified of the initial content; each ChangeContent
// moves it one hour later, so date validators change along with the ETag.
var baseModTime = time.Date(2024, time.January, 1, 0, 0, 0, 0, time.UTC)

// serveFile sends the synthetic file of the given size, in content version
// shift (the number of ChangeContent faults so far): 200, 206 or 416 with
// the representation headers, then the body (GET only).
func (s *Server) serveFile(w http.ResponseWriter, r *http.Request, c *conn, size int64, shift uint64, opt options, plan faultPlan) {
	seed := s.cfg.Seed + shift
	etag := `"` + strconv.FormatUint(seed, 16) + "-" + strconv.FormatInt(size, 16) + `"`
	// The modulo keeps the date within ~120 years of 2024 after any number
	// of changes; http.TimeFormat needs a four-digit year.
	modTime := baseModTime.Add(time.Duration(shift%(1<<20)) * time.Hour)

	h := w.Header()
	h.Set("ETag", etag)
	h.Set("Last-Modified", modTime.Format(http.TimeFormat))
	h.Set("Content-Type", "application/octet-stream")
	if !opt.noRanges {
		h.Set("Accept-Ranges", "bytes")
	}
	if plan.huge {
		for _, name := range hugeNames {
			h[name] = []string{hugeValue}
		}
	}

	// Pre-header body faults: no status line at all.
	if f := plan.body; f != nil && f.Bytes < 0 {
		cut(r.Context(), w, f.Kind)
		return
	}

	status := http.StatusOK
	body := byteRange{start: 0, end: size - 1}
	total := size
	// If-Range is evaluated before Range and only when Range is present
	// (RFC 9110 §13.2.2 step 5); a non-matching validator means "send it
	// all", never 412.
	if rh := r.Header.Get("Range"); rh != "" && !opt.noRanges && !plan.ignoreRange {
		if ir := r.Header.Get("If-Range"); ir == "" || ifRangeMatches(ir, etag, modTime) {
			switch rng, outcome := parseRange(rh, size); outcome {
			case rangePartial:
				status, body = http.StatusPartialContent, rng
			case rangeUnsatisfiable:
				// RFC 9110 §15.5.17: 416 carries the current length.
				h.Set("Content-Range", "bytes */"+strconv.FormatInt(size, 10))
				w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
				return
			}
		}
	}
	if plan.wrongRange && size > 0 {
		// Serve a neighbouring range of the same length (the body matches
		// the header), so only a client that checks Content-Range against
		// its request notices. If the whole file was asked for there is no
		// neighbour; lie about the total instead.
		status = http.StatusPartialContent
		switch {
		case body.end+1 < size:
			body = byteRange{body.start + 1, body.end + 1}
		case body.start > 0:
			body = byteRange{body.start - 1, body.end - 1}
		default:
			total = size + 1
		}
	}
	if status == http.StatusPartialContent {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", body.start, body.end, total))
	}
	n := body.length() // 0 for an empty file
	switch opt.framing {
	case framingLength:
		h.Set("Content-Length", strconv.FormatInt(n, 10))
	case framingChunked:
		// Setting the field ourselves stops net/http from computing a
		// Content-Length for short bodies; it then does the chunking.
		h.Set("Transfer-Encoding", "chunked")
	case framingClose:
		// net/http's spelling of "no framing": it drops the field, sends
		// Connection: close and ends the body by closing (RFC 9112 §6.3
		// rule 8).
		h.Set("Transfer-Encoding", "identity")
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return
	}

	rate := opt.rate
	if c != nil && c.straggler && (rate == 0 || s.cfg.StragglerRate < rate) {
		rate = s.cfg.StragglerRate
	}
	limit := n
	if f := plan.body; f != nil {
		limit = min(f.Bytes, n)
	}
	rc := http.NewResponseController(w)
	if err := s.writeBody(r.Context(), w, rc, c, seed, body.start, limit, rate); err != nil {
		return
	}
	if f := plan.body; f != nil {
		if rc.Flush() == nil {
			cut(r.Context(), w, f.Kind)
		}
	}
}

// cut ends a response the way a body fault asks: reset, close, or stall and
// then close. A stall keeps the handler (and so net/http's read of the
// connection, which cancels ctx when the client hangs up) alive until the
// client or Close ends it; hijacking first would stop that read.
func cut(ctx context.Context, w http.ResponseWriter, kind FaultKind) {
	rc := http.NewResponseController(w)
	if kind == Stall {
		<-ctx.Done()
	}
	nc, _, err := rc.Hijack()
	if err != nil {
		return
	}
	if kind == ResetAfter {
		resetConn(nc)
		return
	}
	nc.Close()
}

// resetConn aborts nc: with SO_LINGER set to 0, close(2) discards unsent
// data and sends RST instead of FIN, so the peer's next read fails with
// ECONNRESET.
func resetConn(nc net.Conn) {
	var tc *net.TCPConn
	switch c := nc.(type) {
	case *conn:
		inner := c.Conn
		if t, ok := inner.(*tls.Conn); ok {
			inner = t.NetConn()
		}
		tc, _ = inner.(*net.TCPConn)
	case *net.TCPConn:
		tc = c
	}
	if tc != nil {
		tc.SetLinger(0) // best effort: on failure the close below is a FIN
	}
	nc.Close()
}

// Slices for unthrottled writes: large enough that syscall overhead is small
// next to the copy, small enough to stay in cache between Fill and write.
const fastSlice = 64 << 10

var bufPool = sync.Pool{New: func() any { b := make([]byte, fastSlice); return &b }}

// writeBody writes n content bytes starting at offset off, flushing each
// slice so that BodyBytes counts bytes handed to the socket rather than
// left in net/http's buffers, and so that a rate-limited client sees a
// steady stream. (A slice that net/http buffered but could not flush is
// still counted: the only imprecision, on connections that just failed.)
// With rate > 0 every slice first waits on the connection's token bucket.
func (s *Server) writeBody(ctx context.Context, w http.ResponseWriter, rc *http.ResponseController, c *conn, seed uint64, off, n int64, rate int64) error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	slice := fastSlice
	var lim *limiter
	if rate > 0 {
		slice = sliceFor(rate)
		if c != nil {
			lim = &c.lim
		} else {
			lim = new(limiter)
		}
	}
	for sent := int64(0); sent < n; {
		k := int(min(int64(slice), n-sent))
		if lim != nil {
			if err := lim.wait(ctx, k, rate); err != nil {
				return err
			}
		}
		Fill(seed, off+sent, buf[:k])
		// Count before writing: a client may see the bytes (and a test
		// read Stats) before this goroutine runs again after the write.
		// If the write fails, take back what the socket did not accept.
		s.bodyBytes.Add(int64(k))
		m, err := w.Write(buf[:k])
		if m < k {
			s.bodyBytes.Add(int64(m - k))
		}
		if err == nil {
			err = rc.Flush()
		}
		if err != nil {
			return err
		}
		sent += int64(m)
	}
	return nil
}

// sleep waits for d or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// HugeHeaders adds hugeCount fields of hugeValueLen bytes each: 100 × (1 KiB
// value + name and framing) is just over 100 KiB, past the 64 KiB and
// 80 KiB header limits common in clients and proxies, while each line stays
// far below typical per-line limits.
const (
	hugeCount    = 100
	hugeValueLen = 1 << 10
)

var (
	hugeNames = func() []string {
		names := make([]string, hugeCount)
		for i := range names {
			names[i] = fmt.Sprintf("X-Padding-%03d", i)
		}
		return names
	}()
	hugeValue = strings.Repeat("abcdefghijklmnopqrstuvwxyz0123456789", hugeValueLen/36+1)[:hugeValueLen]
)
