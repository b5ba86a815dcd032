package httpparse

import "math"

// Body decodes the body framing chosen by the head. It consumes n bytes of
// b; data is the body payload among them, a sub-slice of b (never a copy),
// valid as long as b is. done reports the end of the body, after which
// b[n:] belongs to the next response. When !done and n < len(b), call
// Body again with b[n:]: a chunked body yields at most one chunk's data per
// call. For BodyNone it returns done at once with n == 0. BodyClose never
// reports done; the caller calls EOF when the peer closes.
//
// When err != nil, data is nil: payload that precedes a framing error in
// the same b is returned by one call and the error by the next, so a
// caller never has to decide what to do with both at once.
func (p *Parser) Body(b []byte) (data []byte, n int, done bool, err error) {
	if p.err != nil {
		return nil, 0, false, p.err
	}
	switch p.state {
	case stateBodyNone, stateDone:
		p.state = stateDone
		return nil, 0, true, nil
	case stateBodyLength:
		// Pure bookkeeping: this is the path that must run at memory
		// speed.
		k := len(b)
		if int64(k) >= p.remaining {
			k = int(p.remaining)
			p.state = stateDone
			done = true
		}
		p.remaining -= int64(k)
		if k > 0 {
			data = b[:k:k] // cap too, so an append by the caller cannot reach b[k:]
		}
		return data, k, done, nil
	case stateBodyClose:
		if len(b) > 0 {
			data = b[:len(b):len(b)]
		}
		return data, len(b), false, nil
	case stateChunkSize, stateChunkData, stateChunkCR, stateChunkLF, stateTrailer:
		return p.chunkedBody(b)
	}
	return nil, 0, false, ErrCallOrder
}

// chunkedBody runs the chunked transfer coding state machine (RFC 9112 §7.1):
//
//	chunked-body = *chunk last-chunk trailer-section CRLF
//	chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//	last-chunk   = 1*("0") [ chunk-ext ] CRLF
//
// After a chunk's data it keeps going through the framing that follows (the
// CRLF, the next size line, even the last chunk and trailers) so that small
// chunks and the end of the body cost no extra call; it stops before the
// next chunk's data, since data must be one contiguous slice of b.
func (p *Parser) chunkedBody(b []byte) (data []byte, n int, done bool, err error) {
	afterData := -1 // where this call's data ended, if it has any
	for n < len(b) && err == nil {
		switch p.state {
		case stateChunkData:
			if afterData >= 0 {
				return data, n, false, nil // one chunk per call
			}
			k := len(b) - n
			if int64(k) > p.remaining {
				k = int(p.remaining)
			}
			data = b[n : n+k : n+k]
			n += k
			p.remaining -= int64(k)
			if p.remaining > 0 {
				return data, n, false, nil
			}
			p.state = stateChunkCR
			afterData = n
		case stateChunkCR:
			// The CRLF after chunk-data. Not a bare LF: RFC 9112 §2.2
			// allows one in the start line and fields only (erratum 7633
			// declined to extend it), and a parser that took one here
			// would read another body than one that does not.
			if b[n] != '\r' {
				err = ErrBadChunk // the data ran longer than its size said
			}
			p.state = stateChunkLF
			n++
		case stateChunkLF:
			if b[n] != '\n' {
				err = ErrBadChunk
			}
			p.state = stateChunkSize
			n++
		case stateChunkSize:
			line, k, lerr := p.nextLine(b[n:], math.MaxInt, nil)
			n += k
			switch lerr {
			case nil:
				// Its CRLF is required too (see stateChunkCR).
				if line, crlf := cutCR(line); crlf {
					err = p.chunkSize(line)
				} else {
					err = ErrBadChunk
				}
			case errPartial:
				return data, n, false, nil
			default:
				err = lerr
			}
		case stateTrailer:
			line, k, lerr := p.nextLine(b[n:], MaxHeaderBytes-p.headBytes, ErrHeadersTooLarge)
			line, crlf := cutCR(line)
			n += k
			p.headBytes += k
			switch {
			case lerr == errPartial:
				return data, n, false, nil
			case lerr != nil:
				err = lerr
			case len(line) == 0 && !crlf:
				// The line that ends the body is framing, not a field
				// (trailer-section CRLF, RFC 9112 §7.1): CRLF only.
				err = ErrBadChunk
			case len(line) == 0:
				p.state = stateDone
				return data, n, true, nil
			default:
				err = p.fieldLine(line, true)
			}
		}
	}
	if err == nil {
		return data, n, false, nil
	}
	if afterData >= 0 {
		// Undo the framing read after the data: the error will be found
		// again, in the same bytes, by the call on b[afterData:]. Only
		// the state and the line accumulator moved since then (entering
		// the trailer state resets its own counters).
		p.state = stateChunkCR
		p.lineLen = 0
		return data, afterData, false, nil
	}
	return nil, n, false, p.fail(err)
}

// chunkSize parses a chunk-size line: chunk-size [ chunk-ext ], where
//
//	chunk-size = 1*HEXDIG
//	chunk-ext  = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
//
// Extensions mean nothing to us and are skipped (RFC 9112 §7.1.1 lets a
// recipient ignore unrecognised ones), but they must look like extensions:
// start with ';' and hold no control characters. Their length is bounded
// by MaxLineLength.
func (p *Parser) chunkSize(line []byte) error {
	var size int64
	i := 0
	for ; i < len(line); i++ {
		d := unhex(line[i])
		if d < 0 {
			break
		}
		if i == MaxChunkSizeDigits || size > math.MaxInt64>>4 {
			return ErrBadChunk // too many digits, or the size overflows int64
		}
		size = size<<4 | int64(d)
	}
	if i == 0 {
		return ErrBadChunk
	}
	ext := trimOWS(line[i:])
	if len(ext) > 0 {
		if ext[0] != ';' {
			return ErrBadChunk
		}
		for _, c := range ext {
			if !isFieldChar[c] {
				return ErrBadChunk
			}
		}
	}
	if size == 0 {
		// The last chunk; the trailer section gets a fresh field count
		// and byte budget.
		p.state = stateTrailer
		p.fields = 0
		p.headBytes = 0
		return nil
	}
	p.remaining = size
	p.state = stateChunkData
	return nil
}

// unhex returns the value of the hex digit c, or -1.
func unhex(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'f':
		return int(c - 'a' + 10)
	case 'A' <= c && c <= 'F':
		return int(c - 'A' + 10)
	}
	return -1
}
