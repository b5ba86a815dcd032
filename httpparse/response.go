package httpparse

import "bytes"

// BodyKind is the message framing chosen by the head (RFC 9112 §6.3).
type BodyKind uint8

const (
	BodyNone    BodyKind = iota // 1xx (skipped anyway), 204, 304, a 2xx to CONNECT, or the caller set NoBody
	BodyLength                  // Content-Length: N (N may be 0)
	BodyChunked                 // Transfer-Encoding: chunked (the final and only coding)
	BodyClose                   // neither: the body runs until the peer closes (RFC 9112 §6.3 rule 8)
)

// String returns the kind's name, for logs and test output.
func (k BodyKind) String() string {
	switch k {
	case BodyNone:
		return "none"
	case BodyLength:
		return "length"
	case BodyChunked:
		return "chunked"
	case BodyClose:
		return "close"
	}
	return "invalid"
}

// ContentRange is a parsed Content-Range header (RFC 9110 §14.4), "bytes"
// unit only.
type ContentRange struct {
	Start, End int64 // inclusive; both -1 for the unsatisfied form "bytes */TOTAL"
	Total      int64 // -1 when the complete length is "*"
}

// maxReason is how much of the reason phrase is kept. Nothing depends on
// the phrase (RFC 9112 §4: a client SHOULD ignore it); it is for messages.
const maxReason = 128

// Bits of Response.have: which kept values were present.
const (
	haveETag = 1 << iota
	haveLastModified
	haveLocation
	haveRetryAfter
	haveContentEncoding
)

// Response is a parsed response head. The values behind the accessor
// methods are copied into fixed arrays so they stay valid after the input
// buffer is reused; the slices the accessors return alias the Response and
// are valid until the next Reset or Head call on the Parser that owns it.
type Response struct {
	Major, Minor  int      // HTTP/Major.Minor; only 1.0 and 1.1 are accepted
	Status        int      // 100..999 (three digits)
	ContentLength int64    // the Content-Length value, -1 when absent; kept for BodyNone (a HEAD's advertised size)
	Body          BodyKind // framing of the body that follows
	// KeepAlive reports whether the connection may carry another request
	// after this response: HTTP/1.1 unless "Connection: close", HTTP/1.0
	// only with "Connection: keep-alive", never for BodyClose.
	KeepAlive bool
	HasRange  bool         // a valid Content-Range header was present
	Range     ContentRange // valid when HasRange

	have               uint8
	reasonLen          uint8
	etagLen            uint16
	lastModifiedLen    uint16
	retryAfterLen      uint16
	contentEncodingLen uint16
	locationLen        uint16

	reason          [maxReason]byte
	etag            [MaxValueLength]byte
	lastModified    [MaxValueLength]byte
	retryAfter      [MaxValueLength]byte
	contentEncoding [MaxValueLength]byte
	location        [MaxLocationLength]byte
}

// reset clears the scalar fields; the arrays are left alone because the
// lengths and the have bits say what is in them.
func (r *Response) reset() {
	r.Major, r.Minor, r.Status = 0, 0, 0
	r.ContentLength = -1
	r.Body = BodyNone
	r.KeepAlive = false
	r.HasRange = false
	r.Range = ContentRange{}
	r.have = 0
	r.reasonLen = 0
}

// Reason returns the reason phrase, truncated to 128 bytes. It may be
// empty; clients must not act on it (RFC 9112 §4).
func (r *Response) Reason() []byte { return r.reason[:r.reasonLen] }

// ETag returns the ETag field value as received (quotes and any W/ prefix
// included), or nil when absent.
func (r *Response) ETag() []byte { return r.value(haveETag, r.etag[:r.etagLen]) }

// LastModified returns the Last-Modified field value, or nil when absent.
func (r *Response) LastModified() []byte {
	return r.value(haveLastModified, r.lastModified[:r.lastModifiedLen])
}

// Location returns the Location field value, or nil when absent.
func (r *Response) Location() []byte { return r.value(haveLocation, r.location[:r.locationLen]) }

// RetryAfter returns the Retry-After field value, or nil when absent.
func (r *Response) RetryAfter() []byte {
	return r.value(haveRetryAfter, r.retryAfter[:r.retryAfterLen])
}

// ContentEncoding returns the Content-Encoding field value, or nil when
// absent. Several Content-Encoding lines are combined into one list with
// ", " (RFC 9110 §5.3), so a coding hidden in a second line is not missed.
func (r *Response) ContentEncoding() []byte {
	return r.value(haveContentEncoding, r.contentEncoding[:r.contentEncodingLen])
}

func (r *Response) value(bit uint8, v []byte) []byte {
	if r.have&bit == 0 {
		return nil
	}
	return v
}

// keepSingleton stores the value of a field that must appear once (ETag,
// Last-Modified, Location, Retry-After). An identical repetition is
// harmless; a different one makes the field ambiguous, and a validator
// that could be either of two values cannot protect a download, so it is
// rejected.
func (r *Response) keepSingleton(bit uint8, dst []byte, n *uint16, v []byte) error {
	if len(v) > len(dst) {
		return ErrValueTooLong
	}
	if r.have&bit != 0 {
		if !bytes.Equal(dst[:*n], v) {
			return ErrBadHeader
		}
		return nil
	}
	r.have |= bit
	*n = uint16(copy(dst, v))
	return nil
}

// keepList stores a list-valued field (Content-Encoding), appending
// repeated lines as RFC 9110 §5.3 allows a recipient to combine them.
func (r *Response) keepList(bit uint8, dst []byte, n *uint16, v []byte) error {
	if r.have&bit == 0 {
		if len(v) > len(dst) {
			return ErrValueTooLong
		}
		r.have |= bit
		*n = uint16(copy(dst, v))
		return nil
	}
	if len(v) == 0 {
		return nil // an empty line adds no list element
	}
	m := int(*n)
	if m > 0 {
		if m+2+len(v) > len(dst) {
			return ErrValueTooLong
		}
		m += copy(dst[m:], ", ")
	} else if len(v) > len(dst) {
		return ErrValueTooLong
	}
	*n = uint16(m + copy(dst[m:], v))
	return nil
}
