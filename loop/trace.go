package loop

import (
	"bufio"
	"encoding/json"
	"io"
	"time"
)

// tracer writes what the loop does and decides, one JSON object per line (--trace FILE), for
// people studying a download and for the benchmark's timeline chart. Events are per connection
// and per piece, never per read. A nil *tracer writes nothing.
//
//	{"t":0.0012,"event":"open","conn":1,"addr":"[::1]:8080"}
//	{"t":0.0031,"event":"request","conn":1,"range":[0,1048576]}
//	{"t":0.0040,"event":"head","conn":1,"status":206}
//	{"t":0.0121,"event":"done","conn":1,"range":[0,1048576]}
//	{"t":1.2500,"event":"evict","conn":2,"rate":163840,"median":8388608}
//	{"t":1.5000,"event":"steal","conn":5,"from":3,"range":[140509184,142606336]}
//
// Events: open, connected, request, pipeline (a request sent while the response before it on
// the connection is still arriving), head, done (a piece complete on this connection), cut (a
// stolen-from connection reached its new end and is closed), steal, duplicate, lost (the slower
// copy of a duplicated range, closed), evict, retry (the failed part goes back to the queue;
// "wait" is the delay in seconds), close (a connection closed with nothing lost, with
// "reason"), preempt (a paused connection gives its slot to the piece a stream waits for),
// target (connections wanted, with "reason"), backoff (a connect failed, or the server closed a
// new connection before answering: fewer connections to it for a while; "n" is the failures
// that set the wait), address (new connections go to another of the server's addresses, the
// one before not answering; "reason" names both), adopt (a connection parked by an earlier
// download from the same server is used again), finish. Ranges are [start, end) byte offsets.
type tracer struct {
	w     *bufio.Writer
	enc   *json.Encoder
	start time.Time
}

type traceEvent struct {
	T      float64   `json:"t"` // seconds since the download started
	Event  string    `json:"event"`
	Conn   int       `json:"conn,omitempty"`
	From   int       `json:"from,omitempty"` // the other connection of a steal, duplicate or lost
	Range  *[2]int64 `json:"range,omitempty"`
	Status int       `json:"status,omitempty"`
	Rate   float64   `json:"rate,omitempty"`   // bytes per second over the last second
	Median float64   `json:"median,omitempty"` // the peers' median rate
	Wait   float64   `json:"wait,omitempty"`   // seconds before a retry
	N      int64     `json:"n,omitempty"`      // a count: connections wanted, bytes done
	Reason string    `json:"reason,omitempty"`
	Addr   string    `json:"addr,omitempty"` // the address an "open" connects to
}

func newTracer(w io.Writer, start time.Time) *tracer {
	if w == nil {
		return nil
	}
	bw := bufio.NewWriter(w)
	return &tracer{w: bw, enc: json.NewEncoder(bw), start: start}
}

func (t *tracer) emit(e traceEvent) {
	if t == nil {
		return
	}
	e.T = time.Since(t.start).Seconds()
	t.enc.Encode(e) // a failed trace write must not fail the download; flush reports it
}

func connID(c *conn) int {
	if c == nil {
		return 0
	}
	return c.id
}

// event records an event about c (and the other connection involved, if any) and a range.
func (t *tracer) event(name string, c, other *conn, p piece, status int) {
	if t == nil {
		return
	}
	e := traceEvent{Event: name, Conn: connID(c), From: connID(other), Status: status}
	if p.end > p.start {
		e.Range = &[2]int64{p.start, p.end}
	}
	t.emit(e)
}

func (t *tracer) evict(c *conn, rate, median float64) {
	t.emit(traceEvent{Event: "evict", Conn: connID(c), Rate: rate, Median: median})
}

func (t *tracer) open(c *conn) {
	t.emit(traceEvent{Event: "open", Conn: connID(c), Addr: c.to.String()})
}

func (t *tracer) note(name string, c *conn, n int64, wait time.Duration, reason string) {
	t.emit(traceEvent{Event: name, Conn: connID(c), N: n, Wait: wait.Seconds(), Reason: reason})
}

func (t *tracer) flush() error {
	if t == nil {
		return nil
	}
	return t.w.Flush()
}
