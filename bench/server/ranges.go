package server

import (
	"net/http"
	"strings"
	"time"
)

// byteRange is a satisfiable range of a representation: bytes start..end,
// both inclusive, as in the Content-Range header (RFC 9110 §14.4).
type byteRange struct{ start, end int64 }

func (r byteRange) length() int64 { return r.end - r.start + 1 }

// rangeOutcome is what a Range header field asks the server to do.
type rangeOutcome int

const (
	rangeIgnore        rangeOutcome = iota // absent, other unit or invalid: send 200 and the whole body
	rangePartial                           // send 206 with the returned range
	rangeUnsatisfiable                     // send 416 with Content-Range: bytes */size
)

// parseRange interprets a Range header field value (RFC 9110 §14.2) for a
// representation of size bytes. The grammar (§14.1.1) is
//
//	ranges-specifier = range-unit "=" range-set
//	range-set        = 1#range-spec
//	range-spec       = int-range / suffix-range
//	int-range        = first-pos "-" [ last-pos ]
//	suffix-range     = "-" suffix-length
//
// A header that does not parse, uses a unit other than "bytes" (compared
// case-insensitively, §14.1) or has a last-pos below its first-pos is
// ignored as §14.2 allows. Of several ranges only the first satisfiable one
// is served: rangedl never asks for more than one, and a single part avoids
// multipart/byteranges. A 0-byte representation satisfies no range, so any
// valid Range on it gives 416.
func parseRange(h string, size int64) (byteRange, rangeOutcome) {
	unit, set, ok := strings.Cut(h, "=")
	if !ok || !strings.EqualFold(strings.TrimSpace(unit), "bytes") {
		return byteRange{}, rangeIgnore
	}
	var (
		first    byteRange
		found    bool
		nonEmpty bool
	)
	for spec := range strings.SplitSeq(set, ",") {
		// The #rule (RFC 9110 §5.6.1) allows OWS around elements and
		// empty elements, which recipients must skip.
		spec = strings.Trim(spec, " \t")
		if spec == "" {
			continue
		}
		nonEmpty = true
		a, b, ok := strings.Cut(spec, "-")
		if !ok {
			return byteRange{}, rangeIgnore
		}
		var r byteRange
		satisfiable := false
		switch {
		case a == "": // suffix-range: the last b bytes
			n, ok := parseDigits(b)
			if !ok {
				return byteRange{}, rangeIgnore
			}
			if n > 0 && size > 0 {
				r = byteRange{start: max(size-n, 0), end: size - 1}
				satisfiable = true
			}
		default: // int-range
			start, ok := parseDigits(a)
			if !ok {
				return byteRange{}, rangeIgnore
			}
			end := int64(-1)
			if b != "" {
				if end, ok = parseDigits(b); !ok || end < start {
					return byteRange{}, rangeIgnore
				}
			}
			if start < size {
				if end < 0 || end >= size {
					end = size - 1 // §14.1.1: a last-pos past the end means "to the end"
				}
				r = byteRange{start: start, end: end}
				satisfiable = true
			}
		}
		if satisfiable && !found {
			first, found = r, true
		}
	}
	switch {
	case !nonEmpty:
		return byteRange{}, rangeIgnore // "bytes=" with no range-spec is invalid
	case !found:
		return byteRange{}, rangeUnsatisfiable
	}
	return first, rangePartial
}

// parseDigits parses 1*DIGIT. Values too large for int64 saturate at
// MaxInt64: the grammar allows them, and compared with any real size they
// mean "past the end" (first-pos, last-pos) or "everything" (suffix-length).
func parseDigits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	const maxInt64 = 1<<63 - 1
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		if n > (maxInt64-int64(c-'0'))/10 {
			n = maxInt64
			continue // keep validating the remaining characters
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// ifRangeMatches reports whether an If-Range validator (RFC 9110 §13.1.5)
// matches the current representation, in which case its Range is honoured.
// An entity-tag matches only by strong comparison (§8.8.3.2), so a weak tag
// never matches; an HTTP-date matches only if it equals Last-Modified
// exactly. Anything unparseable does not match: sending the whole body is
// always safe, sending a piece of the wrong version never is.
func ifRangeMatches(v, etag string, lastModified time.Time) bool {
	if strings.HasPrefix(v, `"`) {
		return v == etag
	}
	if strings.HasPrefix(v, "W/") {
		return false
	}
	t, err := http.ParseTime(v)
	return err == nil && t.Equal(lastModified)
}
