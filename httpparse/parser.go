package httpparse

import (
	"bytes"
	"errors"
)

// Hard limits. Every one of them is checked while bytes arrive, so a peer
// can never make the parser hold or scan more than these bounds.
const (
	// MaxHeaderBytes bounds a head: status line + all header lines + final
	// CRLF, line terminators included. Interim 1xx heads that precede the
	// final one count against the same budget, so an endless stream of 103
	// responses is bounded too. The trailer section of a chunked body has
	// a budget of its own of the same size.
	MaxHeaderBytes = 64 << 10
	// MaxLineLength bounds any single line (status, header, chunk-size,
	// trailer), its CRLF (or bare LF) included.
	MaxLineLength = 8 << 10
	// MaxHeaders bounds the header field lines of one head; trailer
	// sections are counted separately against the same limit.
	MaxHeaders = 128
	// MaxChunkSizeDigits bounds the hex digits of a chunk-size, leading
	// zeros included (Go's net/http/internal/chunked.go uses the same 16).
	MaxChunkSizeDigits = 16
	// MaxValueLength bounds the ETag, Last-Modified, Retry-After and
	// Content-Encoding values the Response keeps.
	MaxValueLength = 1024
	// MaxLocationLength bounds the kept Location value. A header line
	// cannot exceed MaxLineLength, so in practice the line limit is hit
	// first; the constant sizes the Response's array.
	MaxLocationLength = 8 << 10
)

// ErrNeedMore is not a failure: Head consumed all of its input and needs
// more bytes to finish the head.
var ErrNeedMore = errors.New("httpparse: need more input")

// Failures. After any of them the parser is poisoned: every later call
// returns the same error until Reset. The caller drops the connection, since
// the framing of whatever follows cannot be trusted.
var (
	ErrUnexpectedEOF       = errors.New("httpparse: connection closed before the message was complete")
	ErrUpgrade             = errors.New("httpparse: 101 Switching Protocols is not supported")
	ErrBadStatusLine       = errors.New("httpparse: malformed status line")
	ErrBadVersion          = errors.New("httpparse: unsupported HTTP version (only 1.0 and 1.1)")
	ErrBadHeader           = errors.New("httpparse: malformed header field")
	ErrLineTooLong         = errors.New("httpparse: line too long")
	ErrHeadersTooLarge     = errors.New("httpparse: header section too large")
	ErrTooManyHeaders      = errors.New("httpparse: too many header fields")
	ErrBadContentLength    = errors.New("httpparse: invalid Content-Length")
	ErrBadContentRange     = errors.New("httpparse: invalid Content-Range")
	ErrBadTransferEncoding = errors.New("httpparse: unsupported Transfer-Encoding (only chunked)")
	ErrLengthAndChunked    = errors.New("httpparse: both Content-Length and Transfer-Encoding present")
	ErrBadChunk            = errors.New("httpparse: malformed chunked encoding")
	ErrValueTooLong        = errors.New("httpparse: header value too long to keep")
	ErrCallOrder           = errors.New("httpparse: method called in the wrong state (missing Reset?)")
)

// state is where the parser stands in the byte stream of one response.
// The zero value is stateStart, so a zero Parser is ready to use.
type state uint8

const (
	stateStart      state = iota // nothing consumed since Reset
	stateStatusLine              // inside a status line
	stateHeaderLine              // inside the header section
	stateBodyNone                // head done, no body follows
	stateBodyLength              // counting down Content-Length bytes
	stateBodyClose               // everything until EOF is body
	stateChunkSize               // inside a chunk-size [ext] line
	stateChunkData               // inside chunk data
	stateChunkCR                 // expecting the CR after chunk data
	stateChunkLF                 // expecting the LF after that CR
	stateTrailer                 // inside the trailer section
	stateDone                    // body complete; only Reset leaves this state
)

// Parser is an incremental HTTP/1.1 response parser for one connection.
// It is about 21 KB (a line buffer and the fixed value areas of Resp) and
// never allocates: keep one per connection and Reset it between responses.
type Parser struct {
	// Resp is the parsed head, valid once Head returned nil and until the
	// next Reset or Head call.
	Resp Response
	// NoBody is set by the caller, after Reset and before Head, when the
	// request was HEAD: the response never carries a body, whatever its
	// headers say (RFC 9112 §6.3 rule 1).
	NoBody bool
	// Tunnel is set by the caller, after Reset and before Head, when the
	// request was CONNECT. A 2xx answer has no body (rule 2), and its
	// Content-Length and Transfer-Encoding fields are ignored, as RFC 9110
	// §9.3.6 tells a client to: the tunnel starts right after the head. Any
	// other answer is framed by its fields, as any response is.
	Tunnel bool

	state    state
	err      error // sticky failure
	received bool  // a line other than an ignored empty one was read since Reset (for EOF)

	// Head bookkeeping.
	headBytes int // bytes of this response's head(s) consumed so far
	fields    int // field lines in the current head or trailer section

	// Framing seen in the header section; turned into Resp.Body at the end.
	chunked    bool
	connClose  bool
	connKeep   bool
	haveLength bool

	// Body bookkeeping: bytes still owed by Content-Length or by the
	// current chunk.
	remaining int64

	// line accumulates a line that straddles two calls. Bytes are copied
	// here only when the line is not complete inside the caller's slice;
	// a complete line is parsed in place. Since every byte is consumed
	// once and searched for LF once, nothing is ever rescanned.
	lineLen int
	line    [MaxLineLength]byte
}

// Reset makes p ready for the next response on the same connection. It
// clears NoBody and Tunnel: set them again afterwards if the next request
// is a HEAD or a CONNECT.
// Reset is cheap: it touches a few words, not the fixed arrays.
func (p *Parser) Reset() {
	p.state = stateStart
	p.err = nil
	p.received = false
	p.NoBody = false
	p.Tunnel = false
	p.lineLen = 0
}

// Head consumes status-line and header bytes from b.
//
//   - err == nil: the final (non-1xx) head is complete, p.Resp is valid and
//     b[n:] starts the body (or the next response).
//   - err == ErrNeedMore: all of b was consumed (n == len(b)); call again
//     with the next bytes.
//   - any other error: the response is malformed and the connection must
//     be dropped.
//
// Interim 1xx responses (100, 102, 103, ...) are consumed and skipped;
// 101 returns ErrUpgrade since rangedl never asks for an upgrade.
func (p *Parser) Head(b []byte) (n int, err error) {
	if p.err != nil {
		return 0, p.err
	}
	switch p.state {
	case stateStart:
		p.headBytes = 0
		p.beginHead()
	case stateStatusLine, stateHeaderLine:
	default:
		return 0, ErrCallOrder
	}
	for n < len(b) {
		line, k, err := p.nextLine(b[n:], MaxHeaderBytes-p.headBytes, ErrHeadersTooLarge)
		line, _ = cutCR(line)
		n += k
		p.headBytes += k
		if err == errPartial {
			return n, ErrNeedMore
		}
		if err != nil {
			return n, p.fail(err)
		}
		if p.state == stateStatusLine && len(line) == 0 {
			// An empty line before a status line is ignored, as RFC 9112 §2.2 has a server
			// do before a request-line: a stray CRLF after the body before, which may come
			// in a later read than that body. The head's byte budget bounds how many.
			continue
		}
		p.received = true
		if p.state == stateStatusLine {
			if err := p.statusLine(line); err != nil {
				return n, p.fail(err)
			}
			p.state = stateHeaderLine
			continue
		}
		if len(line) > 0 {
			if err := p.fieldLine(line, false); err != nil {
				return n, p.fail(err)
			}
			continue
		}
		// The empty line ends the head (RFC 9112 §2.1).
		if p.Resp.Status < 200 {
			// Interim response: forget it and read the next head from
			// the same bytes. The byte budget is shared (see
			// MaxHeaderBytes).
			p.beginHead()
			continue
		}
		if err := p.endHead(); err != nil {
			return n, p.fail(err)
		}
		return n, nil
	}
	return n, ErrNeedMore
}

// EOF tells the parser the peer closed the connection. It returns nil when
// the close ends a close-delimited body, when the response was already
// complete, or when nothing was received since Reset but empty lines (an
// idle keep-alive connection closed by the server). It returns ErrUnexpectedEOF
// when a head, a length-delimited body or a chunked body was cut short
// (RFC 9112 §8), and the sticky error if the parser had already failed.
func (p *Parser) EOF() error {
	if p.err != nil {
		return p.err
	}
	switch p.state {
	case stateStart, stateStatusLine, stateHeaderLine:
		if !p.Started() {
			return nil
		}
	case stateBodyNone, stateDone:
		return nil
	case stateBodyLength:
		if p.remaining == 0 {
			return nil
		}
	case stateBodyClose:
		// RFC 9112 §6.3 rule 8: the close is the end of the body.
		p.state = stateDone
		return nil
	}
	return p.fail(ErrUnexpectedEOF)
}

// fail makes err sticky and returns it.
func (p *Parser) fail(err error) error {
	p.err = err
	return err
}

// beginHead prepares for a status line: a new final response or the one
// after an interim 1xx. headBytes is deliberately kept (see MaxHeaderBytes).
func (p *Parser) beginHead() {
	p.state = stateStatusLine
	p.fields = 0
	p.chunked = false
	p.connClose = false
	p.connKeep = false
	p.haveLength = false
	p.remaining = 0
	p.Resp.reset()
}

// endHead turns the framing headers of a final head into Resp.Body and
// Resp.KeepAlive and moves to the matching body state.
func (p *Parser) endHead() error {
	r := &p.Resp
	if p.chunked && p.haveLength {
		// RFC 9112 §6.3 rule 3: such a message "ought to be handled as an
		// error"; it is the classic request-smuggling shape. Be strict.
		return ErrLengthAndChunked
	}
	switch {
	case p.NoBody || p.tunnelOpen() || r.Status == 204 || r.Status == 304:
		// RFC 9112 §6.3 rules 1 and 2. (1xx never gets here.)
		// ContentLength keeps the advertised value: for HEAD it is the
		// size the matching GET would send.
		r.Body = BodyNone
		p.state = stateBodyNone
	case p.chunked:
		r.Body = BodyChunked
		p.state = stateChunkSize
	case p.haveLength:
		r.Body = BodyLength
		p.remaining = r.ContentLength
		p.state = stateBodyLength
	default:
		r.Body = BodyClose
		p.state = stateBodyClose
	}
	// RFC 9112 §9.3: HTTP/1.1 defaults to persistent connections, HTTP/1.0
	// needs an explicit keep-alive. A close-delimited body ends the
	// connection whatever the headers say.
	if r.Minor == 1 {
		r.KeepAlive = !p.connClose
	} else {
		r.KeepAlive = p.connKeep && !p.connClose
	}
	if r.Body == BodyClose {
		r.KeepAlive = false
	}
	p.lineLen = 0
	return nil
}

// Started reports whether any of a response has arrived since Reset: anything but the empty
// lines Head skips before a status line. A keep-alive connection that the server closes before
// it started an answer was closed while idle, as far as the server knew.
func (p *Parser) Started() bool {
	// Past the head, or a line other than an empty one read, or begun (more than its CR).
	return p.received || p.lineLen > 1 || p.lineLen == 1 && p.line[0] != '\r'
}

// errPartial is nextLine's internal "line not finished" signal.
var errPartial = errors.New("httpparse: partial line")

// nextLine returns the next line of b without its LF, and k, the bytes of b
// it consumed. The line's CR, if any, is left for the caller: in the head
// and the trailer a bare LF ends a line too (RFC 9112 §2.2; see cutCR), in
// chunked framing it does not (see Parser.Body). A CR anywhere else is
// left in the line for the caller to reject.
//
// When b holds no LF, all of b is appended to p.line and err is errPartial.
// The returned line aliases b when the whole line was inside b (the fast
// path) and p.line otherwise; either way it is valid until the next call.
//
// Limits are checked on the bytes themselves, not on how they were split:
// the line (terminator included) may not exceed MaxLineLength and the bytes
// consumed may not exceed room, which overflows with roomErr. If both are
// crossed, whichever comes first in the byte stream wins (the line limit
// on a tie), so the error never depends on where the input was split.
func (p *Parser) nextLine(b []byte, room int, roomErr error) (line []byte, k int, err error) {
	lineRoom := MaxLineLength - p.lineLen
	window := min(len(b), lineRoom, room)
	i := bytes.IndexByte(b[:window], '\n')
	if i < 0 {
		if window < len(b) {
			// Byte number window+1 would cross a limit and is not the LF.
			if lineRoom <= room {
				return nil, window, ErrLineTooLong
			}
			return nil, window, roomErr
		}
		p.lineLen += copy(p.line[p.lineLen:], b)
		return nil, len(b), errPartial
	}
	if p.lineLen == 0 {
		line = b[:i]
	} else {
		n := p.lineLen + copy(p.line[p.lineLen:], b[:i])
		line = p.line[:n]
		p.lineLen = 0
	}
	return line, i + 1, nil
}

// cutCR returns line without the CR of its CRLF, and whether it had one. A
// line of the head or of the trailer may end in a bare LF (RFC 9112 §2.2); a
// line of chunked framing may not (see Parser.Body).
func cutCR(line []byte) ([]byte, bool) {
	if k := len(line) - 1; k >= 0 && line[k] == '\r' {
		return line[:k], true
	}
	return line, false
}
