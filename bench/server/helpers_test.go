package server

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"testing"
	"time"
)

// startServer starts a server for one test and closes it afterwards.
func startServer(t *testing.T, cfg Config) *Server {
	t.Helper()
	s, err := Start(cfg)
	if err != nil {
		t.Fatalf("Start(%+v): %v", cfg, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// newClient returns an http.Client with its own connection pool (so tests
// do not share keep-alive connections), no transparent gzip and no
// redirect following.
func newClient(t *testing.T) *http.Client {
	tr := &http.Transport{DisableCompression: true}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends one request with the given header fields and returns the
// response with its body read.
func do(t *testing.T, c *http.Client, method, url string, hdr ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, url, err)
	}
	return resp, body
}

// content returns the n content bytes at off for seed.
func content(seed uint64, off, n int64) []byte {
	b := make([]byte, n)
	Fill(seed, off, b)
	return b
}

// rawConn is a client connection that speaks HTTP/1.1 by hand, for checks
// net/http's client hides (framing, resets, stalls).
type rawConn struct {
	net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, s *Server) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &rawConn{Conn: c, br: bufio.NewReader(c)}
}

// roundTrip writes a request for path with extra header lines (each ending
// in CRLF) and reads the response head; the body is left to the caller.
func (c *rawConn) roundTrip(t *testing.T, method, path, extra string) (*http.Response, error) {
	t.Helper()
	if _, err := io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: test\r\n"+extra+"\r\n"); err != nil {
		return nil, err
	}
	return http.ReadResponse(c.br, &http.Request{Method: method})
}

// checkBody reads resp's body and compares it with the content of seed at
// [off, off+n).
func checkBody(t *testing.T, resp *http.Response, seed uint64, off, n int64) {
	t.Helper()
	got, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading body: %v", err)
	}
	if want := content(seed, off, n); !bytes.Equal(got, want) {
		t.Fatalf("body: got %d bytes; want %d content bytes at %d for seed %d", len(got), n, off, seed)
	}
}
