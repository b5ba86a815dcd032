package loop

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// TLS inside the loop, with the stock crypto/tls and no goroutine per connection.
//
// A tls.Conn is built over a memTransport instead of a socket: the loop puts the ciphertext it
// read into the transport, and sends what crypto/tls wrote into it. Two facts about crypto/tls
// (go1.26 conn.go) make that work:
//
//   - After the handshake, a transport Read error that is a net.Error with Temporary() true
//     is returned by tls.Conn.Read without poisoning the connection ("would block"): the loop
//     calls Read again after the next socket read. Any other error is sticky. TestWouldBlock
//     fails if a Go release changes this.
//   - The handshake cannot be resumed after an error, so it may not see "would block". It runs
//     as a coroutine (iter.Pull): when it needs input that has not arrived, the transport's Read
//     yields back to the loop, and the loop resumes it after the next socket read. The coroutine
//     runs only while the loop is inside next(), so nothing runs concurrently with the loop.
//
// Ciphertext crypto/tls writes, during the handshake or a Read (a TLS 1.3 KeyUpdate is answered
// from inside Read), is sent after every step.

// tlsConn is the TLS side of one connection.
type tlsConn struct {
	tc *tls.Conn
	t  memTransport

	// The handshake coroutine: next resumes it, stop abandons it. Both nil once it is over.
	next func() (struct{}, bool)
	stop func()
	err  error // what Handshake returned
}

func newTLSConn(cfg *tls.Config) *tlsConn {
	s := new(tlsConn)
	s.tc = tls.Client(&s.t, cfg)
	s.next, s.stop = iter.Pull(func(yield func(struct{}) bool) {
		s.t.yield = yield
		s.err = s.tc.Handshake()
		s.t.yield = nil
	})
	return s
}

// handshake runs the handshake as far as the input allows. It reports whether the handshake
// is over; s.err then says how it ended.
func (s *tlsConn) handshake() bool {
	if _, waiting := s.next(); waiting {
		return false
	}
	s.next, s.stop = nil, nil
	return true
}

// abandon ends a handshake still in progress (its coroutine returns).
func (s *tlsConn) abandon() {
	if s.stop != nil {
		s.stop()
		s.next, s.stop = nil, nil
	}
}

// memTransport is the net.Conn under a tls.Conn: ciphertext in, ciphertext out.
type memTransport struct {
	in  []byte // received, not yet read by crypto/tls; aliases the loop's read buffer (see readTLS)
	out []byte // written by crypto/tls, not yet sent

	// During the handshake: suspends the coroutine until more input arrives.
	yield func(struct{}) bool
}

// errWouldBlock is returned by Read when no input is left: a temporary net.Error, which
// crypto/tls passes up without marking the connection broken.
var errWouldBlock net.Error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "loop: TLS input would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

var errAbandoned = errors.New("loop: TLS handshake abandoned")

func (t *memTransport) Read(p []byte) (int, error) {
	for len(t.in) == 0 {
		if t.yield == nil {
			return 0, errWouldBlock
		}
		if !t.yield(struct{}{}) {
			return 0, errAbandoned
		}
	}
	n := copy(p, t.in)
	t.in = t.in[n:]
	return n, nil
}

// Write takes everything: a failed Write would poison the tls.Conn.
func (t *memTransport) Write(p []byte) (int, error) {
	t.out = append(t.out, p...)
	return len(p), nil
}

func (t *memTransport) Close() error                     { return nil }
func (t *memTransport) LocalAddr() net.Addr              { return nil }
func (t *memTransport) RemoteAddr() net.Addr             { return nil }
func (t *memTransport) SetDeadline(time.Time) error      { return nil }
func (t *memTransport) SetReadDeadline(time.Time) error  { return nil }
func (t *memTransport) SetWriteDeadline(time.Time) error { return nil }

// tlsFailure says what a failed handshake means for a person, and whether it is final: a
// certificate that cannot be verified will not verify on the next try either.
func tlsFailure(host string, err error) (msg string, final bool) {
	var unknown x509.UnknownAuthorityError
	var name x509.HostnameError
	var invalid x509.CertificateInvalidError
	var record tls.RecordHeaderError
	switch {
	case errors.As(err, &record) && string(record.RecordHeader[:]) == "HTTP/":
		return fmt.Sprintf("%s does not answer in TLS (is it a plain http:// server?)", host), true
	case errors.As(err, &record):
		return fmt.Sprintf("TLS handshake with %s failed: %v", host, err), true
	case errors.As(err, &unknown):
		return fmt.Sprintf("the certificate of %s is not signed by a trusted authority; use --cacert FILE to trust its CA, or -k to skip the check", host), true
	case errors.As(err, &name) && name.Certificate != nil && len(name.Certificate.DNSNames)+len(name.Certificate.IPAddresses) == 0:
		return fmt.Sprintf("the certificate of %s names its host only in the Common Name (%s), which is no longer accepted (RFC 9525): the name must be a Subject Alternative Name; -k skips the check", host, shownText(name.Certificate.Subject.CommonName)), true
	case errors.As(err, &name):
		return fmt.Sprintf("the certificate of %s is for another name (%s)", host, certNames(name.Certificate)), true
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return fmt.Sprintf("the certificate of %s has expired or is not valid yet (%s)", host, invalid.Detail), true
	case errors.As(err, &invalid):
		return fmt.Sprintf("the certificate of %s is not valid: %v", host, invalid), true
	case remoteAlert(err):
		return fmt.Sprintf("TLS handshake with %s failed: the server sent %v", host, err), true
	}
	return fmt.Sprintf("TLS handshake with %s failed: %v", host, err), false
}

// remoteAlert reports whether err is a TLS alert the server sent: crypto/tls gives it over TCP
// as a net.OpError "remote error" around an alert type of its own (tls.AlertError is QUIC's).
func remoteAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

func certNames(c *x509.Certificate) string {
	if c == nil {
		return "unknown"
	}
	var names []string
	for _, n := range c.DNSNames {
		names = append(names, shownText(n))
	}
	for _, ip := range c.IPAddresses {
		names = append(names, ip.String())
	}
	return fmt.Sprint(names)
}

// handshake advances c's TLS handshake with the input that arrived, sends what it wrote, and
// when it is over puts c to work, or fails it.
func (l *Loop) handshake(c *conn) {
	done := c.tls.handshake()
	if !l.flushTLS(c) || !done {
		return
	}
	if err := c.tls.err; err != nil {
		msg, final := tlsFailure(l.job.Host, err)
		l.close(c)
		if final {
			l.fail(errorf(KindTLS, nil, "%s", msg))
			return
		}
		l.connectFailed(c.started, errors.New(msg))
		return
	}
	l.ready(c)
	if c.owner == l {
		l.decrypt(c) // input that came with the end of the handshake (a TLS 1.3 session ticket)
	}
}

// sendTLS encrypts c's request (into the transport, which takes all of it) and sends it.
func (l *Loop) sendTLS(c *conn) {
	if c.sent < len(c.req) {
		if _, err := c.tls.tc.Write(c.req[c.sent:]); err != nil {
			l.lost(c, err)
			return
		}
		c.sent = len(c.req)
	}
	if !l.flushTLS(c) || len(c.tls.t.out) > 0 {
		return // the rest goes when the socket is writable
	}
	c.state, c.since = head, l.now
	l.arm(c, evRead)
}

// flushTLS sends the ciphertext crypto/tls wrote and sets c's poller interest: read, and write
// while ciphertext is left. It returns false if the connection was lost.
func (l *Loop) flushTLS(c *conn) bool {
	t := &c.tls.t
	sent := 0
	for sent < len(t.out) {
		n, err := unix.Write(c.fd, t.out[sent:])
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
		case err != nil:
			l.lost(c, os.NewSyscallError("write", err))
			return false
		default:
			sent += n
			continue
		}
		break
	}
	t.out = append(t.out[:0], t.out[sent:]...)
	ev := evRead
	if c.paused {
		ev = 0
	}
	if len(t.out) > 0 {
		ev |= evWrite
	}
	l.arm(c, ev)
	return c.owner == l
}

// readTLS takes ciphertext read from c's socket: into the handshake while it runs, else
// decrypted and fed to the parser.
func (l *Loop) readTLS(c *conn, b []byte) {
	c.tls.t.in = b
	if c.state == handshaking {
		l.handshake(c)
	} else {
		l.decrypt(c)
	}
	// in aliases the read buffer, which the next read overwrites. Nothing is left in it: the
	// handshake yields only when it is empty, and decrypt reads until it would block.
	if c.owner == l && len(c.tls.t.in) > 0 {
		panic("BUG: loop: TLS input left unread in the shared read buffer")
	}
	c.tls.t.in = nil
}

// decrypt reads plaintext until crypto/tls would block, feeding it to the parser, then sends
// whatever crypto/tls wrote meanwhile (a KeyUpdate answer).
func (l *Loop) decrypt(c *conn) {
	for c.owner == l {
		n, err := c.tls.tc.Read(l.r.pbuf)
		if n > 0 {
			l.feed(c, l.r.pbuf[:n])
		}
		switch {
		case err == nil:
			continue
		case errors.Is(err, errWouldBlock):
			if c.owner == l && len(c.tls.t.out) > 0 {
				l.flushTLS(c)
			}
		case errors.Is(err, io.EOF): // close_notify
			if c.owner == l {
				l.eof(c)
			}
		case c.owner == l && !c.reused && !c.p.Started() && remoteAlert(err):
			// TLS 1.3 sends the server's verdict on the handshake (a client certificate
			// it requires, say) after it: it comes instead of the first answer.
			l.close(c)
			l.fail(errorf(KindTLS, nil, "TLS with %s failed: the server sent %v", l.job.Host, err))
		default:
			if c.owner == l {
				l.lost(c, err)
			}
		}
		return
	}
}
