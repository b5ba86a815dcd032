package server

import (
	"fmt"
	"strconv"
	"strings"
)

// FaultKind names one way the server misbehaves. The zero value is not a
// fault: Start rejects it, so a forgotten Kind cannot silently turn into a
// connection reset on every request.
type FaultKind int

const (
	// ResetAfter sends the headers and Fault.Bytes body bytes, then aborts
	// the connection with SO_LINGER 0 so the client reads ECONNRESET.
	ResetAfter FaultKind = iota + 1
	// Stall sends the headers and Fault.Bytes body bytes, then sends
	// nothing more and holds the connection open until the client or the
	// server closes it.
	Stall
	// ShortBody sends the headers (promising the full body) and Fault.Bytes
	// body bytes, then closes the connection normally (FIN): a premature
	// EOF, RFC 9112 §8 "incomplete message".
	ShortBody
	// WrongContentRange answers 206 whose Content-Range names a different
	// range than the one requested (the body matches the header it sent).
	WrongContentRange
	// IgnoreRange answers a range request with 200 and the whole body,
	// which RFC 9110 §14.2 allows any server to do.
	IgnoreRange
	// Status503 answers 503 Service Unavailable with Retry-After.
	Status503
	// Status429 answers 429 Too Many Requests with Retry-After.
	Status429
	// ChangeContent replaces the content with that of seed+1 (and a new
	// ETag and Last-Modified) for this request and every later one, as if
	// the file had been rewritten on the origin.
	ChangeContent
	// HugeHeaders adds about 100 KiB of extra header fields to the
	// response, to exercise the client's header size limits.
	HugeHeaders
	// Redirect answers 302 Found with Location: Fault.Target.
	Redirect
	// RedirectLoop answers 302 Found into a path that redirects to itself
	// forever.
	RedirectLoop
	// NotFound answers 404 Not Found.
	NotFound
	// Forbidden answers 403 Forbidden, as a CDN does once a signed URL has expired.
	Forbidden
	// AuthRequired407 answers 407 Proxy Authentication Required, as no origin server should.
	AuthRequired407

	faultKindEnd // one past the last kind; keep last
)

// faultNames are the names String returns and ParseFault accepts.
var faultNames = [faultKindEnd]string{
	ResetAfter:        "reset",
	Stall:             "stall",
	ShortBody:         "short",
	WrongContentRange: "wrongrange",
	IgnoreRange:       "ignorerange",
	Status503:         "503",
	Status429:         "429",
	ChangeContent:     "change",
	HugeHeaders:       "hugeheaders",
	Redirect:          "redirect",
	RedirectLoop:      "redirectloop",
	NotFound:          "404",
	Forbidden:         "403",
	AuthRequired407:   "407",
}

func (k FaultKind) valid() bool { return k > 0 && k < faultKindEnd }

// String returns the kind's short name, as accepted by ParseFault.
func (k FaultKind) String() string {
	if !k.valid() {
		return "FaultKind(" + strconv.Itoa(int(k)) + ")"
	}
	return faultNames[k]
}

// Fault is one scheduled misbehaviour. Faults apply to GET requests only;
// HEAD and other methods are never faulted, so a client's probing HEAD does
// not shift the numbering.
type Fault struct {
	Kind FaultKind
	// Request is the 1-based, server-wide number of the GET request the
	// fault fires on; 0 fires it on every GET.
	Request int
	// Bytes is, for ResetAfter, ShortBody and Stall, how many body bytes
	// are sent before the fault; it is clamped to the body length. A
	// negative Bytes fires the fault before the status line is sent (a
	// reset, close or stall with no response at all).
	Bytes int64
	// RetryAfter is the Retry-After value in seconds for Status503 and
	// Status429 (RFC 9110 §10.2.3). A negative value omits the header.
	RetryAfter int
	// Target is the Location for Redirect. Empty means the request's own
	// path and query, which works as a one-time bounce when Request is set.
	Target string
}

// ParseFault parses the testserver command's -fault syntax:
//
//	KIND[@REQUEST][,bytes=N][,retry=SECONDS][,target=PATH]
//
// KIND is a name from FaultKind.String ("reset", "stall", "short",
// "wrongrange", "ignorerange", "503", "429", "change", "hugeheaders",
// "redirect", "redirectloop", "404", "403"); REQUEST is the 1-based GET number (0
// or absent = every GET); N takes ParseSize syntax or a negative integer.
// Example: "reset@3,bytes=1M".
func ParseFault(s string) (Fault, error) {
	bad := func(why string) (Fault, error) {
		return Fault{}, fmt.Errorf("%w: %q: %s", ErrBadFault, s, why)
	}
	head, opts, _ := strings.Cut(s, ",")
	name, req, hasReq := strings.Cut(head, "@")
	var f Fault
	for k := ResetAfter; k < faultKindEnd; k++ {
		if faultNames[k] == name {
			f.Kind = k
		}
	}
	if f.Kind == 0 {
		return bad("unknown kind " + strconv.Quote(name))
	}
	if hasReq {
		n, err := strconv.Atoi(req)
		if err != nil || n < 0 {
			return bad("request number must be a non-negative integer")
		}
		f.Request = n
	}
	for opts != "" {
		var opt string
		opt, opts, _ = strings.Cut(opts, ",")
		key, val, _ := strings.Cut(opt, "=")
		switch key {
		case "bytes":
			if n, err := strconv.ParseInt(val, 10, 64); err == nil && n < 0 {
				f.Bytes = n
			} else if n, ok := parseSize(val); ok {
				f.Bytes = n
			} else {
				return bad("bytes must be a size like 4096 or 1M, or negative")
			}
		case "retry":
			n, err := strconv.Atoi(val)
			if err != nil {
				return bad("retry must be an integer number of seconds")
			}
			f.RetryAfter = n
		case "target":
			f.Target = val
		default:
			return bad("unknown option " + strconv.Quote(key))
		}
	}
	return f, nil
}
