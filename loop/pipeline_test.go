package loop

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// lagServer answers ranged GETs as a server a round trip away would look: each response starts
// lag after its request arrived (not after the response before it ended), and its body comes
// in chunks of chunk bytes, one every tick. It counts the requests that arrived while the
// response before them on the connection was still being sent: pipelined ones.
type lagServer struct {
	content    []byte
	lag        time.Duration
	chunk      int
	tick       time.Duration
	tls        *tls.Config // answer over TLS, with a certificate trusted by client
	client     *tls.Config
	drop       bool // leave pipelined requests unanswered
	closeAfter bool // close the connection after each response, saying nothing
	// resetPipelined resets the connection when a pipelined request comes, as the kernel
	// answers a request sent to a connection the server has closed as idle.
	resetPipelined bool

	pipelined atomic.Int64
}

func (s *lagServer) serve(tc *net.TCPConn) {
	var c net.Conn = tc
	if s.tls != nil {
		c = tls.Server(tc, s.tls)
	}
	type request struct {
		start, end int64
		at         time.Time
	}
	var busy atomic.Bool // a response is being sent
	reqs := make(chan request, 16)
	var wg sync.WaitGroup
	wg.Go(func() {
		defer close(reqs)
		r := bufio.NewReader(c)
		for {
			start, end, ok := readRange(r)
			if !ok {
				return
			}
			if busy.Load() {
				s.pipelined.Add(1)
				if s.resetPipelined {
					tc.SetLinger(0)
					tc.Close()
					return
				}
				if s.drop {
					continue
				}
			}
			reqs <- request{start, end, time.Now()}
		}
	})
	defer wg.Wait()
	defer c.Close()
	for q := range reqs {
		busy.Store(true)
		time.Sleep(time.Until(q.at.Add(s.lag)))
		end := min(q.end, int64(len(s.content))-1)
		if _, err := fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n",
			q.start, end, len(s.content), end+1-q.start); err != nil {
			return
		}
		for b := s.content[q.start : end+1]; len(b) > 0; {
			n := min(len(b), s.chunk)
			if n == len(b) {
				// A request that comes from now on may have been sent after the whole
				// response arrived; one sent before and read after is not counted.
				busy.Store(false)
			}
			if _, err := c.Write(b[:n]); err != nil {
				return
			}
			if b = b[n:]; len(b) > 0 {
				time.Sleep(s.tick)
			}
		}
		if s.closeAfter {
			return
		}
	}
}

// download fetches 4 MiB from s over two connections, at 100 ms round trips and about
// 3 MiB/s a connection, with the job as setup leaves it, and checks what arrived: the file,
// or the *bytes.Buffer setup made the stream.
func (s *lagServer) download(t *testing.T, setup func(j *Job)) {
	t.Helper()
	s.content, s.lag, s.chunk, s.tick = content(4<<20), 100*time.Millisecond, 32<<10, 10*time.Millisecond
	j := scripted(t, s.serve)
	j.Connections = 2
	if s.tls != nil {
		j.TLS = s.client
		j.URL = "https" + j.URL[len("http"):]
	}
	if setup != nil {
		setup(&j)
	}
	if _, err := runBounded(t, j); err != nil {
		t.Fatal(err)
	}
	if out, ok := j.Stream.(*bytes.Buffer); ok {
		if sha256.Sum256(out.Bytes()) != sha256.Sum256(s.content) {
			t.Fatalf("%d bytes streamed, not the %d served", out.Len(), len(s.content))
		}
		return
	}
	checkOutput(t, j.Output, s.content)
}

// TestPipelining: a connection sends its next piece's request while the current response is
// still arriving, once the rest of it takes about a round trip, so that the next response
// follows without a round trip's pause (RFC 9112 §9.3.2). Plain and over TLS, where the
// request goes through crypto/tls in the middle of reading a response.
func TestPipelining(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[secure], func(t *testing.T) {
			s := &lagServer{}
			if secure {
				s.tls, s.client = testTLS(t)
			}
			s.download(t, nil)
			if s.pipelined.Load() == 0 {
				t.Fatal("no request arrived before the response ahead of it had been sent; want pipelined requests at 100 ms round trips")
			}
		})
	}
}

// TestPipelinedRequestDropped: a server that drops requests that come while it is still
// answering (it should not) costs one stall timeout on each connection that had sent one,
// after which requests wait for the response before them: not one stall, and one attempt,
// per piece.
func TestPipelinedRequestDropped(t *testing.T) {
	s := &lagServer{drop: true}
	s.download(t, func(j *Job) { j.StallTimeout = time.Second })
	if n := s.pipelined.Load(); n == 0 || n > 2 {
		t.Fatalf("%d pipelined requests went unanswered; want one per connection at most (and at least one: else the test tests nothing)", n)
	}
}

// TestPipelinedThenClosed: a server that closes its connection after a response, with the
// next request (pipelined) unanswered, as at its keep-alive limit, costs no attempt: the
// piece goes back at once, as from any stale keep-alive connection. With no retries allowed,
// one counted attempt would fail the download.
func TestPipelinedThenClosed(t *testing.T) {
	s := &lagServer{closeAfter: true}
	s.download(t, func(j *Job) { j.MaxRetries = -1 })
	if s.pipelined.Load() == 0 {
		t.Fatal("no pipelined request: the test tests nothing")
	}
}

// TestPipelinedThenReset: a server that closed a connection as idle once it had sent a
// response (nginx's keepalive_timeout) answers the request pipelined on it with a reset, which
// throws away what of the response had not been read yet. That costs no attempt either, and
// the download pipelines no more: with no retries allowed, it failed ("connection lost ...
// connection reset by peer"; 256 MiB from nginx at keepalive_timeout 1ms, -n 16, failed 2
// runs of 6). Plain and over TLS.
func TestPipelinedThenReset(t *testing.T) {
	for _, secure := range []bool{false, true} {
		t.Run(map[bool]string{false: "http", true: "https"}[secure], func(t *testing.T) {
			s := &lagServer{resetPipelined: true}
			if secure {
				s.tls, s.client = testTLS(t)
			}
			s.download(t, func(j *Job) { j.MaxRetries = -1 })
			if n := s.pipelined.Load(); n == 0 || n > 2 {
				t.Fatalf("%d pipelined requests; want one per connection at most (and at least one: else the test tests nothing)", n)
			}
		})
	}
}

// TestStreamNotPipelined: writing to a stream, requests are not pipelined. A pipelined piece
// waits behind the one before it on its connection; if the writer needs it first (a retry
// taken so), the buffer fills, the connection holding it is paused, and the stream hangs.
func TestStreamNotPipelined(t *testing.T) {
	s := &lagServer{}
	s.download(t, func(j *Job) { j.Stream = new(bytes.Buffer) })
	if n := s.pipelined.Load(); n > 0 {
		t.Fatalf("%d pipelined requests; want none to a stream", n)
	}
}
