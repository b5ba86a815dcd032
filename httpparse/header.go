package httpparse

import "math"

// Character classes as 256-entry tables: one load per byte, no branches on
// ranges in the hot loops.
var (
	// tchar (RFC 9110 §5.6.2): the characters of a token, so of a field
	// name.
	isTchar = makeTable("!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
	// field-vchar plus SP and HTAB (RFC 9110 §5.5), which is also the
	// alphabet of a reason-phrase (RFC 9112 §4): VCHAR, obs-text, SP,
	// HTAB. Everything else is a control character, CR and NUL included,
	// and is rejected (RFC 9110 §5.5: "a recipient ... MUST either reject
	// the message or replace each of those characters with SP").
	isFieldChar = func() (t [256]bool) {
		for c := 0x20; c < 0x100; c++ {
			t[c] = c != 0x7f
		}
		t['\t'] = true
		return t
	}()
)

func makeTable(chars string) (t [256]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// statusLine parses
//
//	status-line = HTTP-version SP status-code SP [ reason-phrase ]
//
// (RFC 9112 §4). It also accepts "HTTP/1.1 200" with no SP after the code,
// which some servers send: the reason phrase carries nothing.
func (p *Parser) statusLine(line []byte) error {
	r := &p.Resp
	// HTTP-version = "HTTP/" DIGIT "." DIGIT, case-sensitive (RFC 9112 §2.3).
	if len(line) < 9 || string(line[:5]) != "HTTP/" ||
		!isDigit(line[5]) || line[6] != '.' || !isDigit(line[7]) || line[8] != ' ' {
		return ErrBadStatusLine
	}
	r.Major, r.Minor = int(line[5]-'0'), int(line[7]-'0')
	if r.Major != 1 || r.Minor > 1 {
		return ErrBadVersion
	}
	// status-code = 3DIGIT; a first digit of 0 is no class at all.
	if len(line) < 12 || line[9] < '1' || line[9] > '9' || !isDigit(line[10]) || !isDigit(line[11]) {
		return ErrBadStatusLine
	}
	r.Status = int(line[9]-'0')*100 + int(line[10]-'0')*10 + int(line[11]-'0')
	reason := line[12:]
	if len(reason) > 0 {
		if reason[0] != ' ' {
			return ErrBadStatusLine // "HTTP/1.1 2000"
		}
		reason = reason[1:]
	}
	for _, c := range reason {
		if !isFieldChar[c] {
			return ErrBadStatusLine
		}
	}
	if r.Status == 101 {
		// We never send Upgrade, so a 101 is a protocol violation; and
		// what follows it would not be HTTP/1.1 anyway.
		return ErrUpgrade
	}
	r.reasonLen = uint8(copy(r.reason[:], reason))
	return nil
}

// fieldLine parses one header (or trailer) field line
//
//	field-line = field-name ":" OWS field-value OWS
//
// (RFC 9112 §5). Trailer values are checked and dropped.
func (p *Parser) fieldLine(line []byte, trailer bool) error {
	if p.fields == MaxHeaders {
		return ErrTooManyHeaders
	}
	p.fields++
	// A line starting with whitespace is obs-fold; RFC 9112 §5.2 lets a
	// user agent replace it with SP, but nothing we rely on needs it and
	// strictness closes a classic smuggling hole.
	i := 0
	for i < len(line) && isTchar[line[i]] {
		i++
	}
	// No name, no colon, or whitespace before the colon (RFC 9112 §5.1:
	// "MUST reject") all land here.
	if i == 0 || i == len(line) || line[i] != ':' {
		return ErrBadHeader
	}
	name, value := line[:i], trimOWS(line[i+1:])
	for _, c := range value {
		if !isFieldChar[c] {
			return ErrBadHeader // NUL, bare CR, other controls
		}
	}
	if trailer {
		return nil
	}
	r := &p.Resp
	// Dispatch on the length first: most fields are none of ours and cost
	// one switch.
	switch len(name) {
	case 4:
		if equalFold(name, "etag") {
			return r.keepSingleton(haveETag, r.etag[:], &r.etagLen, value)
		}
	case 8:
		if equalFold(name, "location") {
			return r.keepSingleton(haveLocation, r.location[:], &r.locationLen, value)
		}
	case 10:
		if equalFold(name, "connection") {
			p.connection(value)
		}
	case 11:
		if equalFold(name, "retry-after") {
			return r.keepSingleton(haveRetryAfter, r.retryAfter[:], &r.retryAfterLen, value)
		}
	case 13:
		if equalFold(name, "content-range") {
			return p.contentRange(value)
		}
		if equalFold(name, "last-modified") {
			return r.keepSingleton(haveLastModified, r.lastModified[:], &r.lastModifiedLen, value)
		}
	case 14:
		if equalFold(name, "content-length") && !p.tunnelOpen() {
			return p.contentLength(value)
		}
	case 16:
		if equalFold(name, "content-encoding") {
			return r.keepList(haveContentEncoding, r.contentEncoding[:], &r.contentEncodingLen, value)
		}
	case 17:
		if equalFold(name, "transfer-encoding") && !p.tunnelOpen() {
			return p.transferEncoding(value)
		}
	}
	return nil
}

// tunnelOpen reports whether the head is a 2xx answer to CONNECT, whose
// framing fields mean nothing (see Parser.Tunnel).
func (p *Parser) tunnelOpen() bool {
	return p.Tunnel && p.Resp.Status >= 200 && p.Resp.Status < 300
}

// contentLength parses Content-Length = 1*DIGIT (RFC 9110 §8.6). A list of
// identical values ("5, 5", or the same field repeated) is the one value,
// as §8.6 allows; different values are an error, since picking one is how
// responses get desynchronised (Go's transfer.go: fixLength does the same).
// An empty element ("5,", ",5", "5,,5") is an error too: the field is not
// really a list, and a sender that wrote one is not to be guessed at.
func (p *Parser) contentLength(v []byte) error {
	for {
		elem, rest, more := nextElement(v)
		n, tail, ok := parseDecimal(elem)
		if !ok || len(tail) != 0 {
			return ErrBadContentLength // empty, sign, non-digit, overflow
		}
		if p.haveLength && n != p.Resp.ContentLength {
			return ErrBadContentLength
		}
		p.haveLength = true
		p.Resp.ContentLength = n
		if !more {
			return nil
		}
		v = rest
	}
}

// transferEncoding accepts exactly one "chunked" coding. We send no TE
// header and ask for Accept-Encoding: identity, so chunked is the only
// transfer coding a server may apply (RFC 9112 §7.4); anything else,
// "gzip, chunked" included, means we could not decode the body anyway.
func (p *Parser) transferEncoding(v []byte) error {
	if p.Resp.Minor == 0 {
		// RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means
		// "the framing is faulty".
		return ErrBadTransferEncoding
	}
	if p.chunked || !equalFold(v, "chunked") {
		// A second line would apply chunked twice or put another
		// coding after it; both are forbidden (RFC 9112 §6.1).
		return ErrBadTransferEncoding
	}
	p.chunked = true
	return nil
}

// connection records the "close" and "keep-alive" options of a Connection
// field (RFC 9110 §7.6.1), a comma-separated, case-insensitive token list.
func (p *Parser) connection(v []byte) {
	for more := true; more; {
		var tok []byte
		tok, v, more = nextElement(v)
		if equalFold(tok, "close") {
			p.connClose = true
		} else if equalFold(tok, "keep-alive") {
			p.connKeep = true
		}
	}
}

// contentRange parses (RFC 9110 §14.4)
//
//	Content-Range     = range-unit SP ( range-resp / unsatisfied-range )
//	range-resp        = incl-range "/" ( complete-length / "*" )
//	incl-range        = first-pos "-" last-pos
//	unsatisfied-range = "*/" complete-length
//
// for the "bytes" unit (compared case-insensitively, §14.1) and checks the
// rules of §14.4: first-pos <= last-pos < complete-length.
func (p *Parser) contentRange(v []byte) error {
	r := &p.Resp
	if r.HasRange || len(v) < 6 || !equalFold(v[:5], "bytes") || v[5] != ' ' {
		// A repeated Content-Range could describe two different
		// ranges: never guess which bytes these are.
		return ErrBadContentRange
	}
	v = v[6:]
	var cr ContentRange
	if len(v) > 0 && v[0] == '*' {
		if len(v) < 2 || v[1] != '/' {
			return ErrBadContentRange
		}
		total, rest, ok := parseDecimal(v[2:])
		if !ok || len(rest) != 0 {
			return ErrBadContentRange
		}
		cr = ContentRange{Start: -1, End: -1, Total: total}
	} else {
		start, rest, ok := parseDecimal(v)
		if !ok || len(rest) == 0 || rest[0] != '-' {
			return ErrBadContentRange
		}
		end, rest, ok := parseDecimal(rest[1:])
		if !ok || len(rest) < 2 || rest[0] != '/' || start > end {
			return ErrBadContentRange
		}
		cr = ContentRange{Start: start, End: end, Total: -1}
		if tail := rest[1:]; len(tail) != 1 || tail[0] != '*' { // "*": length unknown
			total, rest, ok := parseDecimal(tail)
			if !ok || len(rest) != 0 || end >= total {
				return ErrBadContentRange
			}
			cr.Total = total
		}
	}
	r.HasRange = true
	r.Range = cr
	return nil
}

// parseDecimal reads 1*DIGIT from the front of b. ok is false when there
// is no digit or the number overflows int64.
func parseDecimal(b []byte) (n int64, rest []byte, ok bool) {
	i := 0
	for ; i < len(b) && isDigit(b[i]); i++ {
		d := int64(b[i] - '0')
		if n > (math.MaxInt64-d)/10 {
			return 0, b, false
		}
		n = n*10 + d
	}
	return n, b[i:], i > 0
}

// nextElement splits the first element off a comma-separated list
// (RFC 9110 §5.6.1) and returns it trimmed of OWS; more reports whether a
// comma followed it, so that a trailing empty element is seen too.
func nextElement(v []byte) (elem, rest []byte, more bool) {
	for i, c := range v {
		if c == ',' {
			return trimOWS(v[:i]), v[i+1:], true
		}
	}
	return trimOWS(v), nil, false
}

// trimOWS removes optional whitespace (SP / HTAB, RFC 9110 §5.6.3) from
// both ends.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalFold reports whether b equals lower, ignoring ASCII case, without
// allocating. lower must hold only lower-case letters, digits and '-'.
// Setting bit 0x20 lower-cases an ASCII letter; the only other bytes it
// maps into that alphabet are control characters (0x10-0x19 onto digits,
// CR onto '-'), and those never get here: names are tchars and values were
// checked against isFieldChar.
func equalFold(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i := 0; i < len(b); i++ {
		if b[i]|0x20 != lower[i] {
			return false
		}
	}
	return true
}
