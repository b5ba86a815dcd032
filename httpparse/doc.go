// Package httpparse is an incremental, allocation-free parser for HTTP/1.1
// responses (RFC 9112 message syntax, RFC 9110 semantics), written for an
// event loop that reads nonblocking sockets into a buffer it reuses.
//
// The parser knows nothing of sockets: bytes go in, a parsed head and body
// slices come out. It imports only the standard library.
//
// # Contract
//
// Consumption: every byte handed to Head is consumed. Input may be split
// anywhere, down to one byte per call, and parsing resumes where it
// stopped; the caller never re-presents old bytes. A header line that
// straddles two calls is copied into a fixed array inside the Parser; a
// line that is complete in the current slice is parsed in place.
//
// Slice lifetimes: the data returned by Body is a sub-slice of the b passed
// to that call (payload is never copied) and is valid as long as b. The
// slices returned by Response methods (ETag, Location, ...) alias the
// Response and are valid until the next Reset or Head call.
//
// Strictness: anything ambiguous about message framing is an error (two
// Content-Length values, Content-Length with Transfer-Encoding, a transfer
// coding other than chunked, obs-fold, a bare CR), as is anything over the
// named limits (MaxHeaderBytes, MaxLineLength, ...). After an error the
// Parser returns that error until Reset; the caller drops the connection.
// Two leniencies: a bare LF ends a line of the head or the trailer (RFC 9112
// §2.2; a line of chunked framing needs its CRLF), and empty lines
// before a status line (a stray CRLF after the body before) are ignored,
// counted against MaxHeaderBytes. The second is §2.2's rule for a server
// reading a request-line, applied to a client reading a status line.
//
// Allocation: none per response. A Parser is about 21 KB; keep one per
// connection.
//
// # Example
//
// One response on a keep-alive connection, with buf refilled from the
// socket whenever a call asks for more:
//
//	var p httpparse.Parser // or p.Reset() for the next request
//	p.NoBody = method == "HEAD"
//	n, err := p.Head(buf) // repeat with new bytes while err == httpparse.ErrNeedMore
//	// check p.Resp.Status, p.Resp.Range, p.Resp.ETag() ... before any body byte is used
//	buf = buf[n:]
//	for {
//		data, n, done, err := p.Body(buf) // with new bytes once buf is used up
//		write(data)
//		buf = buf[n:]
//		if done {
//			break // buf now starts the next response; p.Reset() before its Head
//		}
//	}
//	// on read() == 0: err := p.EOF() (nil ends a close-delimited body)
package httpparse
