package loop

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
)

// runReactor starts a reactor (see NewReactor) on a goroutine of its own, closed when the test
// ends.
func runReactor(t *testing.T, maxPerHost, seats int) *Reactor {
	t.Helper()
	r, err := NewReactor(maxPerHost, seats)
	if err != nil {
		t.Fatal(err)
	}
	ran := make(chan struct{})
	go func() { r.Run(); close(ran) }()
	t.Cleanup(func() { r.Close(); <-ran })
	return r
}

// runIn hands job to r and runs it on a goroutine of its own; the channel gets Run's error.
func runIn(t *testing.T, r *Reactor, job Job) (*Loop, chan error) {
	t.Helper()
	l, err := r.New(job)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := l.Run(); done <- err }()
	return l, done
}

// serverJob is a download of path from s, retried once, into a file of its own.
func serverJob(t *testing.T, s *server.Server, path string) Job {
	addr := netip.MustParseAddrPort(s.Addr())
	return Job{URL: s.URL(path), Host: addr.String(), Target: path, Addrs: []netip.AddrPort{addr},
		Output: filepath.Join(t.TempDir(), "f"), MaxRetries: 1}
}

// runsMeanwhile downloads from s in r and checks that it ends, with s's content, before the
// download whose result comes on waiting: it had a seat meanwhile.
func runsMeanwhile(t *testing.T, r *Reactor, s *rawServer, waiting chan error) {
	t.Helper()
	j := s.job(t, 1)
	_, done := runIn(t, r, j)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case err := <-waiting:
		t.Fatalf("the waiting download ended first (%v): the other server's waited for a seat", err)
	case <-time.After(4 * time.Second):
		t.Fatal("the other server's download did not run while the first waited")
	}
	checkOutput(t, j.Output, s.content)
}

// TestWaitingGivesUpSeat: a download waiting out its server's Retry-After gives up its seat.
// With one seat, a download from another server runs to its end meanwhile (with the seat
// kept, it would wait the 5 s), and Waiting counts the one that waits until it ends.
func TestWaitingGivesUpSeat(t *testing.T) {
	shedding, err := server.Start(server.Config{Faults: []server.Fault{{Kind: server.Status503, RetryAfter: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	defer shedding.Close()
	healthy := startRaw(t, &rawServer{content: content(1000)})
	r := runReactor(t, 0, 1)

	a, aDone := runIn(t, r, serverJob(t, shedding, "/100"))
	select {
	case <-r.Waited():
	case <-time.After(4 * time.Second):
		t.Fatal("the download answered 503 never waited")
	}
	if n := r.Waiting(); n != 1 {
		t.Fatalf("Waiting() = %d; want 1", n)
	}

	runsMeanwhile(t, r, healthy, aDone)

	a.Stop()
	if err := <-aDone; KindOf(err) != KindInterrupted {
		t.Fatalf("the waiting download: %v; want interrupted", err)
	}
	if n := r.Waiting(); n != 0 {
		t.Errorf("Waiting() = %d after the download ended; want 0", n)
	}
}

// TestQueuedGivesUpSeat: after a 503 lowers its server's limit to one connection, a download
// from that server waiting for the connection gives up its seat, so that a download from
// another server runs meanwhile (with the seat kept, it would wait until the first download,
// 2 s of body, was done), and Waiting counts the one that waits.
func TestQueuedGivesUpSeat(t *testing.T) {
	slow, err := server.Start(server.Config{Rate: 100_000,
		Faults: []server.Fault{{Kind: server.Status503, Request: 1, RetryAfter: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()
	healthy := startRaw(t, &rawServer{content: content(1000)})
	r := runReactor(t, 0, 2)

	_, aDone := runIn(t, r, serverJob(t, slow, "/200000"))
	waitFor := func(what string, ok func(int) bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(r.Waiting()); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("Waiting() = %d; %s never came", r.Waiting(), what)
			}
		}
	}
	waitFor("the 503's backoff", func(n int) bool { return n == 1 })
	_, bDone := runIn(t, r, serverJob(t, slow, "/200001"))
	waitFor("the second download's wait", func(n int) bool { return n == 2 })
	waitFor("the end of the backoff, one download waiting for the connection", func(n int) bool { return n < 2 })
	if n := r.Waiting(); n != 1 {
		t.Fatalf("Waiting() = %d after the backoff; want 1 (the download without the connection)", n)
	}

	runsMeanwhile(t, r, healthy, aDone)
	for _, done := range []chan error{aDone, bDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if st := slow.Stats(); st.Conns != 2 {
		t.Errorf("%d connections to the slow server; want 2 (the 503's, then one for both files)", st.Conns)
	}
}

// TestRedirectPage: the connection a redirect came on is parked for the next download from
// the server once the redirect's page is read, and closed if the page breaks off or trickles
// (the redirect is followed all the same, 500 ms after its head, not at the stall timeout) or
// bytes follow it, over TLS in a record of their own too.
func TestRedirectPage(t *testing.T) {
	const head = "HTTP/1.1 302 Found\r\nLocation: /g\r\nContent-Length: 5\r\n\r\n"
	cases := []struct {
		name   string
		answer []string      // to the first request, in writes (TLS records) of their own
		gap    time.Duration // between the writes; 0: sent in one piece
		kept   bool          // the connection serves the second download
	}{
		{"whole page", []string{head + "hello"}, 0, true},
		{"no page", []string{"HTTP/1.1 302 Found\r\nLocation: /g\r\nContent-Length: 0\r\n\r\n"}, 0, true},
		{"page broken off", []string{head + "hel"}, 0, false},
		{"page trickled", []string{head, "h", "e", "l", "l", "o"}, 200 * time.Millisecond, false},
		{"bytes after the page", []string{head + "hello", "HTTP/1.1 200 OK\r\n"}, 0, false},
		{"connection: close", []string{"HTTP/1.1 302 Found\r\nLocation: /g\r\nConnection: close\r\nContent-Length: 5\r\n\r\nhello"}, 0, false},
	}
	srvTLS, clientTLS := testTLS(t)
	for _, tc := range cases {
		for _, secure := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/tls=%v", tc.name, secure), func(t *testing.T) {
				var conns atomic.Int64
				closed := make(chan bool, 1) // the client closed the first connection
				j := scripted(t, func(raw *net.TCPConn) {
					first := conns.Add(1) == 1
					held := &heldConn{Conn: raw}
					var c net.Conn = held
					if secure {
						tc := tls.Server(held, srvTLS)
						if tc.Handshake() != nil {
							return
						}
						c = tc
					}
					rd := bufio.NewReader(c)
					if _, err := http.ReadRequest(rd); err != nil {
						return
					}
					if !first {
						io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
						return
					}
					held.hold = tc.gap == 0
					for _, w := range tc.answer {
						io.WriteString(c, w)
						time.Sleep(tc.gap)
					}
					held.release()
					raw.SetReadDeadline(time.Now().Add(5 * time.Second))
					if _, err := http.ReadRequest(rd); err != nil {
						var ne net.Error
						closed <- !errors.As(err, &ne) || !ne.Timeout()
						return
					}
					closed <- false
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
				})
				if secure {
					j.URL, j.TLS = strings.Replace(j.URL, "http://", "https://", 1), clientTLS
				}
				j.StallTimeout = 20 * time.Second
				r := runReactor(t, 0, 0)

				a, err := r.New(j)
				if err != nil {
					t.Fatal(err)
				}
				res, err := a.Run()
				var rd *Redirect
				if !errors.As(err, &rd) || rd.Location != "/g" {
					t.Fatalf("first download: %v; want a redirect to /g", err)
				}
				if res.Elapsed > 2*time.Second {
					t.Errorf("the redirect took %v; want it followed at most about 500 ms after its head", res.Elapsed)
				}
				if !tc.kept && !<-closed {
					t.Fatal("the connection was kept")
				}
				j.Output = filepath.Join(t.TempDir(), "g")
				b, err := r.New(j)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := b.Run(); err != nil {
					t.Fatal(err)
				}
				checkOutput(t, j.Output, []byte("abc"))
				if want := map[bool]int64{true: 1, false: 2}[tc.kept]; conns.Load() != want {
					t.Errorf("%d connections for the two downloads; want %d", conns.Load(), want)
				}
			})
		}
	}
}

// heldConn is a connection whose writes, while hold is set, wait for release to go out in
// one: TLS records of their own that arrive in one read.
type heldConn struct {
	net.Conn
	hold bool
	out  []byte
}

func (c *heldConn) Write(b []byte) (int, error) {
	if c.hold {
		c.out = append(c.out, b...)
		return len(b), nil
	}
	return c.Conn.Write(b)
}

func (c *heldConn) release() {
	c.hold = false
	c.Conn.Write(c.out)
}

// TestStrayOnlyWhenReadable: after its download has ended, a connection with something to say
// (bytes, a close, an error) is closed, not parked. kqueue reports a socket's writability as an
// event of its own, which says nothing of the kind: it must not cost a keep-alive connection
// its reuse.
func TestStrayOnlyWhenReadable(t *testing.T) {
	for _, tc := range []struct {
		ev    events
		stray bool
	}{{evWrite, false}, {evRead, true}, {evError, true}, {evRead | evWrite, true}} {
		c := &conn{fd: 3, owner: &Loop{fin: true}}
		r := &Reactor{fds: []*conn{3: c}}
		r.dispatch(event{fd: 3, ev: tc.ev})
		if c.stray != tc.stray {
			t.Errorf("event %b: stray %v; want %v", tc.ev, c.stray, tc.stray)
		}
	}
}

// TestReachedForgotten: the address a server was last reached at is tried first for a while,
// and then forgotten, so that a preferred path that has come back is raced for again.
func TestReachedForgotten(t *testing.T) {
	a := netip.MustParseAddrPort("[::1]:80")
	r := &Reactor{now: time.Now()}
	r.reach("http h", a)
	if got, ok := r.lastReached("http h"); !ok || got != a {
		t.Fatalf("just reached: %v, %v; want %v", got, ok, a)
	}
	r.now = r.now.Add(reachedKeep)
	if got, ok := r.lastReached("http h"); ok {
		t.Fatalf("%v later: %v; want it forgotten", reachedKeep, got)
	}
}

// TestRedirectRedacted: a redirect's error, which --trace records, hides a password in the
// Location as every other URL there is hidden (a hunt found it whole in a trace).
func TestRedirectRedacted(t *testing.T) {
	for loc, want := range map[string]string{
		"http://u:secret@h/x": "HTTP 302 redirect to http://u:xxxxx@h/x",
		"/g?a=b":              "HTTP 302 redirect to /g?a=b",
		"http://u:se cret@h/": "HTTP 302 redirect to a URL that does not parse",
	} {
		if got := (&Redirect{Status: 302, Location: loc}).Error(); got != want {
			t.Errorf("%q: %q; want %q", loc, got, want)
		}
	}
}
