package loop

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"time"
)

// Job is one download: what to fetch, from where, and how.
type Job struct {
	URL    string           // for messages; the request target and Host come from Target and Host
	Origin string           // the URL the user gave, when URL is where it redirected; "" if the same
	Host   string           // host[:port] as in the URL: the Host field, less an IPv6 zone
	Target string           // request-target: absolute path and query, e.g. "/dir/file.iso?x=1"
	Addrs  []netip.AddrPort // resolved addresses, tried in order; a zone names the interface
	TLS    *tls.Config      // for https (ServerName, roots, session cache set); nil for http

	// Through an HTTP proxy, Addrs are the proxy's, and Proxy names it (host:port) for
	// messages. For http the caller makes Target the absolute URL (RFC 9112 §3.2.2) and puts
	// Proxy-Authorization in Header; for https each connection first asks the proxy to
	// CONNECT to Tunnel (host:port, RFC 9110 §9.3.6), with ProxyAuth as Proxy-Authorization.
	Proxy     string
	Tunnel    string
	ProxyAuth string

	Output    string    // file to create; only named in messages when Stream is set
	Overwrite bool      // truncate an existing Output instead of refusing
	Stream    io.Writer // when set, the file goes here strictly in order (e.g. stdout), not to Output

	// Continue resumes Output: from its control file (Output + ControlSuffix) when there is
	// one, else from its length; with neither file it starts afresh. A control file of one of
	// Siblings (a list entry's other mirrors: the same file from servers whose validators
	// differ) is not refused as another download's: the file is started over.
	Continue   bool
	Siblings   []string
	Allocation Allocation // how Output gets its size before the data arrives

	// Small marks one file of many (a list). A new file of at most SmallFile bytes that
	// arrives whole in the first response then goes over that one connection, with no control
	// file, no preallocation and no sync of its own, and is written in one piece once all of
	// it is in: a download that fails or is interrupted removes it, and one killed leaves it
	// empty. The caller syncs the files of a list together at the end (reorder.SyncFS), where a
	// sync and two records per file would cost more than the download itself. A new file of
	// a list that keeps no record (its server ignores ranges, or sends no length) is removed
	// too when its download fails: a failed entry leaves no file, or one with a record.
	Small bool

	SaveEvery time.Duration // the control file is saved at least this often; 0: DefaultSaveEvery
	SaveBytes int64         // and whenever this many more bytes were written; 0: DefaultSaveBytes

	Connections int   // most connections at once (1..MaxConnections)
	PieceSize   int64 // largest piece requested at once; 0 chooses automatically

	ConnectTimeout time.Duration // 0: DefaultConnectTimeout
	StallTimeout   time.Duration // no body byte for this long fails the piece; 0: DefaultStallTimeout
	MaxRetries     int           // attempts per piece after the first; 0: DefaultMaxRetries; <0: none
	UserAgent      string        // "": "rangedl/" + Version
	Header         []string      // more request header lines, "Name: value" (checked by the caller)

	// Notice, when set, receives one-line remarks worth telling the user (for example that the
	// server ignores ranges). It is called on the loop goroutine.
	Notice func(msg string)
	// Stats, when set, is updated by the loop as it goes; other goroutines may read it.
	Stats *Stats
	// Trace, when set, receives the loop's events and decisions as JSON lines (trace.go).
	Trace io.Writer
}

// origin is the URL the user gave.
func (j *Job) origin() string {
	if j.Origin != "" {
		return j.Origin
	}
	return j.URL
}

// Limits and defaults.
const (
	MaxConnections        = 256
	MinPieceSize          = 1 << 20
	SmallFile             = 1 << 20
	DefaultConnectTimeout = 15 * time.Second
	DefaultStallTimeout   = 30 * time.Second
	DefaultMaxRetries     = 5
	DefaultSaveEvery      = time.Second
	DefaultSaveBytes      = 64 << 20
	Version               = "0.1.0"
)

// Stats are live counters: the loop writes them, a progress display reads them.
type Stats struct {
	Total   atomic.Int64 // file size, -1 until known
	Done    atomic.Int64 // body bytes accepted (validated and handed to the writer)
	Resumed atomic.Int64 // of Done, those that were on disk when the download started
	Conns   atomic.Int64 // connections open now
}

// Result describes a finished download.
type Result struct {
	Size        int64
	Elapsed     time.Duration
	Connections int   // most connections set up at once (an attempt that lost a race is none)
	Ranged      bool  // false when the server ignored ranges or the length was unknown
	Resumed     int64 // bytes that were on disk already when the download started
	Saved       int64 // after a failure: bytes kept in the output (those its control file records, if any)
	Resumable   bool  // a failed download left a control file that records them: Continue finishes it
	Unsynced    bool  // saved as a small file (Job.Small), without a sync: the caller's syncfs makes it durable
	Restartable bool  // failed in the body of a response that ignored ranges, to a file: only a new download from the first byte (Overwrite) can finish it
}

// Redirect is the cause of the error Run returns when the first response is a redirect: the
// caller decides whether to follow it (with a new Job). Nothing was written.
type Redirect struct {
	Status   int
	Location string // as the server sent it: possibly relative to the URL
}

// Error names the Location without a password in it, as every URL in a message or a trace is.
func (r *Redirect) Error() string {
	loc := r.Location
	if u, err := url.Parse(loc); err != nil && strings.Contains(loc, "@") {
		loc = "a URL that does not parse" // where a password would be, there is no telling
	} else if err == nil {
		loc = u.Redacted()
	}
	return fmt.Sprintf("HTTP %d redirect to %s", r.Status, loc)
}

// ErrExpired is the cause of the error Run returns when a redirected URL stops working in the
// middle of a download (HTTP 403 or 410 to a later range): a signed CDN URL that expired. The
// progress is recorded; the caller may resolve the original URL again and continue.
var ErrExpired = errors.New("the redirected URL stopped working")

// Kind classifies why a download failed; the CLI maps each kind to its own exit code.
type Kind int

const (
	KindNetwork     Kind = iota + 1 // could not connect, reset, timeout, malformed HTTP
	KindHTTP                        // the server answered with an error status
	KindIntegrity                   // the server contradicted itself (ranges, lengths, validators)
	KindIO                          // the local file could not be created or written
	KindInterrupted                 // Stop was called (SIGINT, SIGTERM)
	KindTLS                         // the TLS handshake failed: an untrusted or wrong certificate
)

func (k Kind) String() string {
	switch k {
	case KindNetwork:
		return "network"
	case KindHTTP:
		return "http"
	case KindIntegrity:
		return "integrity"
	case KindIO:
		return "io"
	case KindInterrupted:
		return "interrupted"
	case KindTLS:
		return "tls"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Error is a failed download: its Kind and a message a person can act on.
type Error struct {
	Kind Kind
	Msg  string
	Err  error // the underlying cause, if any
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Msg + ": " + e.Err.Error()
	}
	return e.Msg
}

func (e *Error) Unwrap() error { return e.Err }

// KindOf returns the Kind of err, or 0 if err is not an *Error.
func KindOf(err error) Kind {
	var e *Error
	if errors.As(err, &e) {
		return e.Kind
	}
	return 0
}

func errorf(k Kind, cause error, format string, args ...any) *Error {
	return &Error{Kind: k, Msg: fmt.Sprintf(format, args...), Err: cause}
}
