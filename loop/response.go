package loop

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/rangedl/rangedl/httpparse"
)

// accept checks a response head before one byte of its body may be written (the rule in
// DESIGN.md). It returns false when the response was refused; the connection is then gone.
func (l *Loop) accept(c *conn) bool {
	if c.probe {
		return l.acceptFirst(c)
	}
	r := &c.p.Resp
	switch r.Status {
	case 206:
	case 200:
		// We sent If-Range: a 200 means the file changed. Without a validator it means the
		// server stopped honouring ranges. Either way its bytes do not belong in this file.
		l.close(c)
		l.fail(errorf(KindIntegrity, nil, "%s answered a range request with the whole file (HTTP 200): the file changed on the server, or it stopped honouring ranges", l.job.URL))
		return false
	default:
		l.badStatus(c)
		return false
	}
	want := piece{start: c.piece.start, end: c.reqEnd} // what was asked, even if a steal cut it since
	if !r.HasRange || r.Range.Start != want.start || r.Range.End != want.end-1 || r.Range.Total != l.sched.total {
		l.pieceFailed(c, KindIntegrity, nil, fmt.Sprintf("asked for bytes %d-%d/%d, server sent %s",
			want.start, want.end-1, l.sched.total, rangeString(r)))
		return false
	}
	if r.ContentLength >= 0 && r.ContentLength != want.len() {
		l.pieceFailed(c, KindIntegrity, nil, fmt.Sprintf("Content-Length %d disagrees with Content-Range %s", r.ContentLength, rangeString(r)))
		return false
	}
	// A 206 carries the validators a 200 would (RFC 9110 §15.3.7): one that is missing or
	// different means another version of the file, and so does another content coding.
	if !sameValidator(l.etag, r.ETag()) || !sameValidator(l.lastMod, r.LastModified()) || !bytes.Equal(l.encoding, r.ContentEncoding()) {
		l.close(c)
		l.fail(errorf(KindIntegrity, nil, "the file changed on the server during the download (ETag %q, was %q; Last-Modified %q, was %q; Content-Encoding %q, was %q)",
			r.ETag(), l.etag, r.LastModified(), l.lastMod, r.ContentEncoding(), l.encoding))
		return false
	}
	return true
}

// acceptFirst handles the answer to the first request, which tells the size and whether the
// server does ranges at all.
func (l *Loop) acceptFirst(c *conn) bool {
	r := &c.p.Resp
	switch {
	case r.Status == 206:
		total := r.Range.Total
		if !r.HasRange || r.Range.Start != 0 || total < 0 || r.Range.End != min(c.piece.end, total)-1 {
			l.pieceFailed(c, KindIntegrity, nil, fmt.Sprintf("asked for bytes 0-%d, server sent %s", c.piece.end-1, rangeString(r)))
			return false
		}
		if r.ContentLength >= 0 && r.ContentLength != r.Range.End+1 {
			l.pieceFailed(c, KindIntegrity, nil, fmt.Sprintf("Content-Length %d disagrees with Content-Range %s", r.ContentLength, rangeString(r)))
			return false
		}
		c.piece.end = r.Range.End + 1
		c.reqEnd = c.piece.end // the server clamped the probe to the file: nothing was stolen
		l.ranged = true
		l.target = l.job.Connections
		l.sched.learn(total, c.piece.end)
	case r.Status == 200:
		// The server ignores ranges (or the length is unknown): keep streaming this response.
		end := r.ContentLength
		if r.Body != httpparse.BodyLength {
			end = unknownEnd
		}
		c.piece = piece{start: 0, end: end}
		c.reqEnd = end
		l.sched.learn(end, end)
		if l.job.Connections > 1 && !l.noticed {
			l.noticed = true
			if end == unknownEnd {
				l.job.Notice("the server did not say how long the file is; downloading over one connection")
			} else {
				l.job.Notice("the server does not support ranges; downloading over one connection")
			}
		}
	case r.Status == 416 && r.HasRange && r.Range.Start < 0 && r.Range.Total == 0:
		// RFC 9110 §15.5.17: no range of an empty file is satisfiable. The body is an error
		// page: read and dropped.
		c.drain = true
		l.ranged = true
		l.sched.learn(0, 0)
	default:
		l.badStatus(c)
		return false
	}
	c.probe = false
	l.etag = bytes.Clone(r.ETag())
	l.lastMod = bytes.Clone(r.LastModified())
	l.encoding = bytes.Clone(r.ContentEncoding())
	// If-Range takes a strong entity tag, or else a date (RFC 9110 §13.1.5).
	switch {
	case len(l.etag) > 0 && !bytes.HasPrefix(l.etag, []byte("W/")):
		l.ifRange = l.etag
	case len(l.lastMod) > 0:
		l.ifRange = l.lastMod
	}
	if total := l.sched.total; total != unknownEnd {
		l.stats.Total.Store(total)
	}
	if l.ranged && len(l.ifRange) == 0 && l.job.Connections > 1 {
		l.job.Notice("the server sends no ETag or Last-Modified: a change of the file during the download cannot be detected")
	}
	if l.job.Stream != nil {
		l.out = newStream(l.job.Stream, l.target)
		return true
	}
	if !l.created {
		// --overwrite: the old file goes only now that a new version is on its way.
		if err := l.file.Truncate(0); err != nil {
			l.close(c)
			l.fail(errorf(KindIO, err, "cannot truncate %s", l.job.Output))
			return false
		}
	}
	l.out = newFile(l.file, l.target)
	return true
}

// badStatus handles an error status: retried when the server may recover (RFC 9110 §15.5.9,
// §15.6), fatal otherwise.
func (l *Loop) badStatus(c *conn) {
	r := &c.p.Resp
	what := fmt.Sprintf("HTTP %d %s", r.Status, r.Reason())
	switch {
	case r.Status >= 300 && r.Status < 400 && len(r.Location()) > 0:
		l.close(c)
		l.fail(errorf(KindHTTP, nil, "%s from %s: redirect to %s (redirects are not followed yet)", what, l.job.URL, r.Location()))
	case r.Status == 429 || r.Status == 503:
		// The server asks for less (RFC 6585 §4, RFC 9110 §15.6.4): one connection fewer from
		// now on, and the retry waits at least as long as Retry-After says.
		if t := max(1, min(l.target, l.live)-1); t != l.target {
			l.target = t
			l.trace.note("target", c, int64(l.target), 0, what)
		}
		l.trouble = l.now
		l.requeue(c, KindHTTP, nil, what, retryAfter(r.RetryAfter(), l.now))
	case r.Status == 408 || r.Status == 500 || r.Status == 502 || r.Status == 504:
		l.pieceFailed(c, KindHTTP, nil, what)
	default:
		l.close(c)
		l.fail(errorf(KindHTTP, nil, "%s from %s", what, l.job.URL))
	}
}

// rangeString describes a response's Content-Range for messages.
func rangeString(r *httpparse.Response) string {
	switch {
	case !r.HasRange:
		return fmt.Sprintf("HTTP %d without Content-Range", r.Status)
	case r.Range.Start < 0:
		return fmt.Sprintf("bytes */%d", r.Range.Total)
	case r.Range.Total < 0:
		return fmt.Sprintf("bytes %d-%d/*", r.Range.Start, r.Range.End)
	}
	return fmt.Sprintf("bytes %d-%d/%d", r.Range.Start, r.Range.End, r.Range.Total)
}

// maxRetryAfter caps how long a Retry-After can hold a piece back: a server asking for an hour
// gets a minute, and the retries (bounded) end the download if it keeps refusing.
const maxRetryAfter = time.Minute

// retryAfter parses a Retry-After value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
func retryAfter(v []byte, now time.Time) time.Duration {
	if len(v) == 0 {
		return 0
	}
	if secs, err := strconv.ParseUint(string(v), 10, 32); err == nil {
		return min(time.Duration(secs)*time.Second, maxRetryAfter)
	}
	if t, err := time.Parse(httpDate, string(v)); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// httpDate is the IMF-fixdate layout of RFC 9110 §5.6.7.
const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"
