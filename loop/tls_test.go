package loop

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/server"
)

// tlsPair connects a tlsConn (over its memory transport) to a crypto/tls server on a loopback
// socket. shuttle moves the client's output to the socket and whatever arrives within wait
// back; the test decides when the client sees it.
func tlsPair(t *testing.T) (c *tlsConn, srv *tls.Conn, nc net.Conn) {
	t.Helper()
	scfg, client := testTLS(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	accepted := make(chan *tls.Conn, 1)
	go func() {
		sc, err := ln.Accept()
		if err != nil {
			accepted <- nil
			return
		}
		accepted <- tls.Server(sc, scfg)
	}()
	nc, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	srv = <-accepted
	if srv == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { srv.Close() })
	return newTLSConn(client), srv, nc
}

// testTLS returns a server configuration with a certificate for 127.0.0.1 from a test CA, and
// a client configuration that trusts that CA, as a download's Job.TLS would.
func testTLS(t *testing.T) (srv, client *tls.Config) {
	t.Helper()
	ca, err := server.NewTestCA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err = ca.ServerConfig()
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(ca.PEM)
	return srv, &tls.Config{ServerName: "127.0.0.1", RootCAs: roots, NextProtos: []string{"http/1.1"}}
}

// exchange sends what the client wrote and returns what the server sent within wait.
func exchange(t *testing.T, c *tlsConn, nc net.Conn, wait time.Duration) []byte {
	t.Helper()
	if len(c.t.out) > 0 {
		if _, err := nc.Write(c.t.out); err != nil {
			t.Fatal(err)
		}
		c.t.out = c.t.out[:0]
	}
	var got []byte
	buf := make([]byte, 64<<10)
	nc.SetReadDeadline(time.Now().Add(wait))
	for {
		n, err := nc.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got
		}
	}
}

// TestWouldBlock is the regression test DESIGN.md asks for: the whole TLS design rests on
// crypto/tls passing a temporary transport error up from Read without marking the connection
// broken. If a Go release makes it sticky, this fails.
func TestWouldBlock(t *testing.T) {
	c, srv, nc := tlsPair(t)
	handshook := make(chan error, 1)
	go func() { handshook <- srv.Handshake() }()
	for done := c.handshake(); !done; done = c.handshake() {
		c.t.in = exchange(t, c, nc, 100*time.Millisecond)
	}
	if c.err != nil {
		t.Fatalf("handshake: %v", c.err)
	}
	exchange(t, c, nc, 10*time.Millisecond) // the client's Finished
	if err := <-handshook; err != nil {
		t.Fatalf("server handshake: %v", err)
	}

	msg := []byte("hello, in pieces")
	go srv.Write(msg)
	ct := exchange(t, c, nc, 200*time.Millisecond)
	if len(ct) < 10 {
		t.Fatalf("got %d bytes of ciphertext", len(ct))
	}
	buf := make([]byte, 100)
	// Half a record: nothing to return, and "would block" must not break the connection.
	c.t.in = ct[:len(ct)-5]
	n, err := c.tc.Read(buf)
	if n != 0 || !errors.Is(err, errWouldBlock) {
		t.Fatalf("Read of part of a record: %d, %v; want 0, would block", n, err)
	}
	c.t.in = ct[len(ct)-5:]
	var got []byte
	for {
		n, err := c.tc.Read(buf)
		got = append(got, buf[:n]...)
		if errors.Is(err, errWouldBlock) {
			break
		}
		if err != nil {
			t.Fatalf("Read after would block: %v (a would-block error became sticky)", err)
		}
	}
	if string(got) != string(msg) {
		t.Fatalf("got %q; want %q", got, msg)
	}
}

// TestHandshakeAbandoned: closing a connection mid-handshake ends its coroutine.
func TestHandshakeAbandoned(t *testing.T) {
	c, _, _ := tlsPair(t)
	before := runtime.NumGoroutine()
	if c.handshake() {
		t.Fatal("handshake over without any input")
	}
	c.abandon()
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() >= before; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d goroutines after abandon; want fewer than %d", runtime.NumGoroutine(), before)
		}
	}
}

// TestStrayCRLF: a stray CRLF after a chunked body is ignored, over plain HTTP and TLS, whether
// it comes right after the body (over TLS in a record of its own) or only once the next request
// has gone out, and the connection is kept. Before, the late one failed that response
// ("malformed status line"), and so did the one in a record of its own before 516aebc: a retry
// for nearly every piece. Right after the body over plain HTTP it closed the connection: 13
// connections for 8 pieces.
func TestStrayCRLF(t *testing.T) {
	scfg, client := testTLS(t)
	data := content(8 << 20)
	for _, tc := range []struct{ secure, late bool }{{false, false}, {false, true}, {true, false}, {true, true}} {
		var conns atomic.Int32
		j := scripted(t, func(c *net.TCPConn) {
			conns.Add(1)
			var conn net.Conn = c
			if tc.secure {
				conn = tls.Server(c, scfg)
			}
			defer conn.Close()
			r := bufio.NewReader(conn)
			for first := true; ; first = false {
				start, end, ok := readRange(r)
				if !ok {
					return
				}
				if tc.late && !first {
					conn.Write([]byte("\r\n")) // the last response's
				}
				fmt.Fprintf(conn, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n", start, end, len(data), end+1-start, data[start:end+1])
				if !tc.late {
					conn.Write([]byte("\r\n")) // a write (and TLS record) of its own
				}
			}
		})
		if tc.secure {
			j.URL, j.TLS = strings.Replace(j.URL, "http://", "https://", 1), client
		}
		j.Connections, j.PieceSize = 2, 1<<20
		var trace bytes.Buffer
		j.Trace = &trace
		if _, err := runBounded(t, j); err != nil {
			t.Fatalf("%+v: %v", tc, err)
		}
		checkOutput(t, j.Output, data)
		if n := strings.Count(trace.String(), `"event":"retry"`); n > 0 {
			t.Errorf("%+v: %d retries; want none:\n%s", tc, n, trace.String())
		}
		if n := conns.Load(); n > int32(j.Connections) {
			t.Errorf("%+v: %d connections for %d; want them kept alive", tc, n, j.Connections)
		}
	}
}

// TestTLSServerAlert: a server that refuses the handshake with an alert (here: it requires a
// client certificate) is a TLS failure, exit 7, said once. Before, the alert was not
// recognised: a network error, and over TLS 1.3 (where the alert comes after the handshake)
// six attempts with a backoff each.
func TestTLSServerAlert(t *testing.T) {
	for _, version := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		scfg, client := testTLS(t)
		scfg = scfg.Clone()
		scfg.ClientAuth, scfg.MaxVersion = tls.RequireAnyClientCert, version
		j := scripted(t, func(c *net.TCPConn) {
			tc := tls.Server(c, scfg)
			defer tc.Close()
			if tc.Handshake() == nil {
				readHead(bufio.NewReader(tc))
			}
		})
		j.URL, j.TLS = strings.Replace(j.URL, "http://", "https://", 1), client
		_, err := runBounded(t, j)
		if KindOf(err) != KindTLS || !strings.Contains(err.Error(), "the server sent") {
			t.Errorf("TLS %x: err %v (kind %v); want a TLS failure naming the server's alert", version, err, KindOf(err))
		}
	}
}

// tlsFailure says "plain http://" only of a server that answered in HTTP, and of a certificate
// that names its host only in the Common Name, that this is why (it is not "another name").
func TestTLSFailureLines(t *testing.T) {
	cnOnly := &x509.Certificate{Subject: pkix.Name{CommonName: "foo.test"}}
	other := &x509.Certificate{Subject: pkix.Name{CommonName: "foo.test"}, DNSNames: []string{"bar.test"}}
	for _, tc := range []struct {
		err  error
		want string
	}{
		{tls.RecordHeaderError{Msg: "first record does not look like a TLS handshake", RecordHeader: [5]byte{'H', 'T', 'T', 'P', '/'}},
			"h:443 does not answer in TLS (is it a plain http:// server?)"},
		{tls.RecordHeaderError{Msg: "oversized record received with length 60000", RecordHeader: [5]byte{22, 3, 3, 0xea, 0x60}},
			"TLS handshake with h:443 failed: tls: oversized record received with length 60000"},
		{x509.HostnameError{Certificate: cnOnly, Host: "foo.test"},
			"the certificate of h:443 names its host only in the Common Name (foo.test), which is no longer accepted (RFC 9525): the name must be a Subject Alternative Name; -k skips the check"},
		{x509.HostnameError{Certificate: other, Host: "foo.test"}, "the certificate of h:443 is for another name ([bar.test])"},
		// Names the server chose reach the terminal quoted when they hold what it would obey.
		{x509.HostnameError{Certificate: &x509.Certificate{Subject: pkix.Name{CommonName: "\u202etset.oof"}}, Host: "foo.test"},
			`the certificate of h:443 names its host only in the Common Name ("\u202etset.oof"), which is no longer accepted (RFC 9525): the name must be a Subject Alternative Name; -k skips the check`},
		{x509.HostnameError{Certificate: &x509.Certificate{DNSNames: []string{"bar\x1b[31m.test", "b\xffz.test"}}, Host: "foo.test"},
			`the certificate of h:443 is for another name (["bar\x1b[31m.test" "b\xffz.test"])`},
	} {
		if got, final := tlsFailure("h:443", tc.err); got != tc.want || !final {
			t.Errorf("%v: %q, final %v; want %q, final", tc.err, got, final, tc.want)
		}
	}
}
