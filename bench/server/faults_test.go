package server

import (
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestResetAfter(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{
		{Kind: ResetAfter, Request: 1, Bytes: 1000},
		{Kind: ResetAfter, Request: 2, Bytes: -1},
		{Kind: ResetAfter, Request: 3, Bytes: 1 << 40}, // clamped: whole body, then reset
	}})

	rc := dialRaw(t, s)
	resp, err := rc.roundTrip(t, "GET", "/1M", "")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.ContentLength != 1<<20 {
		t.Errorf("got %d, Content-Length %d; want 200, %d", resp.StatusCode, resp.ContentLength, 1<<20)
	}
	got, err := io.ReadAll(resp.Body)
	if !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("reading body: got error %v; want ECONNRESET", err)
	}
	if !bytes.Equal(got, content(1, 0, 1000)) {
		t.Errorf("body before reset: got %d bytes; want the first 1000", len(got))
	}

	rc = dialRaw(t, s)
	if _, err := rc.roundTrip(t, "GET", "/1M", ""); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("Bytes -1: got error %v; want ECONNRESET before any response", err)
	}

	rc = dialRaw(t, s)
	resp, err = rc.roundTrip(t, "GET", "/1000", "")
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, resp, 1, 0, 1000)
	if _, err := rc.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("after a whole body: got error %v; want ECONNRESET", err)
	}
	if got, want := s.Stats().BodyBytes, int64(2000); got != want {
		t.Errorf("BodyBytes: got %d; want %d", got, want)
	}
}

func TestShortBody(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{
		{Kind: ShortBody, Request: 1, Bytes: 70000},
		{Kind: ShortBody, Request: 2, Bytes: -1},
	}})
	rc := dialRaw(t, s)
	resp, err := rc.roundTrip(t, "GET", "/1M", "")
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(resp.Body)
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("reading body: got error %v; want io.ErrUnexpectedEOF", err)
	}
	if !bytes.Equal(got, content(1, 0, 70000)) {
		t.Errorf("short body: got %d bytes; want the first 70000", len(got))
	}

	rc = dialRaw(t, s)
	if _, err := rc.roundTrip(t, "GET", "/1M", ""); !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("Bytes -1: got error %v; want EOF before any response", err)
	}
	if got, want := s.Stats().BodyBytes, int64(70000); got != want {
		t.Errorf("BodyBytes: got %d; want %d", got, want)
	}
}

func TestShortBodyChunked(t *testing.T) {
	// A chunked body cut short must lack its last-chunk (RFC 9112 §7.1).
	s := startServer(t, Config{Chunked: true, Faults: []Fault{{Kind: ShortBody, Bytes: 10}}})
	rc := dialRaw(t, s)
	resp, err := rc.roundTrip(t, "GET", "/100", "")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) || !bytes.Equal(got, content(1, 0, 10)) {
		t.Errorf("got %d bytes, %v; want 10 bytes, io.ErrUnexpectedEOF", len(got), err)
	}
}

func TestStall(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{{Kind: Stall, Request: 1, Bytes: 5000}}})
	rc := dialRaw(t, s)
	resp, err := rc.roundTrip(t, "GET", "/1M", "")
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 5000)
	if _, err := io.ReadFull(resp.Body, buf); err != nil || !bytes.Equal(buf, content(1, 0, 5000)) {
		t.Fatalf("first 5000 bytes: got error %v (equal %v)", err, bytes.Equal(buf, content(1, 0, 5000)))
	}
	rc.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := resp.Body.Read(buf[:1]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("read after the stall point: got %d bytes, %v; want a timeout", n, err)
	}
	if got := s.Stats().BodyBytes; got != 5000 {
		t.Errorf("BodyBytes: got %d; want 5000", got)
	}
	// The stalled connection does not hold up other clients.
	c := newClient(t)
	resp2, body := do(t, c, "GET", s.URL("/10"))
	if resp2.StatusCode != 200 || len(body) != 10 {
		t.Errorf("second request: got %d with %d bytes; want 200 with 10", resp2.StatusCode, len(body))
	}
	c.CloseIdleConnections()
	// A client hang-up ends the stall: the count of open connections
	// (the listener's MaxConns accounting) drops to 0.
	rc.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.ln.open.Load() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("stalled connection still open 5 s after the client closed it")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestStallBeforeHeaders(t *testing.T) {
	s, err := Start(Config{Faults: []Fault{{Kind: Stall, Bytes: -1}}})
	if err != nil {
		t.Fatal(err)
	}
	rc := dialRaw(t, s)
	io.WriteString(rc, "GET /10 HTTP/1.1\r\nHost: x\r\n\r\n")
	rc.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	if n, err := rc.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("got %d bytes, %v; want a timeout with no response", n, err)
	}
	// Close must wake the stalled handler and return promptly.
	begin := time.Now()
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if d := time.Since(begin); d > 2*time.Second {
		t.Errorf("Close took %v with a stalled handler", d)
	}
	rc.SetReadDeadline(time.Now().Add(2 * time.Second))
	if n, err := rc.Read(make([]byte, 1)); err == nil {
		t.Errorf("after Close: got %d bytes; want the connection closed", n)
	}
}

func TestWrongContentRange(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{{Kind: WrongContentRange}}})
	c := newClient(t)
	tests := []struct {
		rng, contentRange string
		off, n            int64
	}{
		{"bytes=10-19", "bytes 11-20/100", 11, 10}, // shifted forward
		{"bytes=90-", "bytes 89-98/100", 89, 10},   // at the end: shifted back
		{"", "bytes 0-99/101", 0, 100},             // whole file: wrong total
		{"bytes=0-99", "bytes 0-99/101", 0, 100},
	}
	for _, tt := range tests {
		var hdr []string
		if tt.rng != "" {
			hdr = []string{"Range", tt.rng}
		}
		resp, body := do(t, c, "GET", s.URL("/100"), hdr...)
		if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != tt.contentRange {
			t.Errorf("Range %q: got %d, %q; want 206, %q", tt.rng, resp.StatusCode, resp.Header.Get("Content-Range"), tt.contentRange)
		}
		if !bytes.Equal(body, content(1, tt.off, tt.n)) {
			t.Errorf("Range %q: body: got %d bytes; want content [%d, %d)", tt.rng, len(body), tt.off, tt.off+tt.n)
		}
	}
}

func TestIgnoreRange(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{{Kind: IgnoreRange, Request: 2}}})
	c := newClient(t)
	for i, want := range []int{206, 200, 206} {
		resp, body := do(t, c, "GET", s.URL("/100"), "Range", "bytes=0-9")
		if resp.StatusCode != want {
			t.Errorf("request %d: got %d; want %d", i+1, resp.StatusCode, want)
		}
		if want == 200 && (!bytes.Equal(body, content(1, 0, 100)) || resp.Header.Get("Accept-Ranges") != "bytes") {
			t.Errorf("request %d: got %d bytes, Accept-Ranges %q; want the whole body, bytes", i+1, len(body), resp.Header.Get("Accept-Ranges"))
		}
	}
}

func TestStatusFaults(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{
		{Kind: Status503, Request: 1, RetryAfter: 7},
		{Kind: Status429, Request: 2, RetryAfter: 0},
		{Kind: Status429, Request: 3, RetryAfter: -1},
		{Kind: NotFound, Request: 4},
	}})
	c := newClient(t)
	tests := []struct {
		status     int
		retryAfter []string
	}{
		{503, []string{"7"}},
		{429, []string{"0"}},
		{429, nil},
		{404, nil},
		{200, nil},
	}
	for i, tt := range tests {
		resp, _ := do(t, c, "GET", s.URL("/100"))
		if resp.StatusCode != tt.status || strings.Join(resp.Header.Values("Retry-After"), ",") != strings.Join(tt.retryAfter, ",") {
			t.Errorf("request %d: got %d, Retry-After %q; want %d, %q", i+1, resp.StatusCode, resp.Header.Values("Retry-After"), tt.status, tt.retryAfter)
		}
	}
	// HEAD is never faulted and does not advance the GET count.
	s2 := startServer(t, Config{Faults: []Fault{{Kind: Status503, Request: 1}}})
	if resp, _ := do(t, c, "HEAD", s2.URL("/100")); resp.StatusCode != 200 {
		t.Errorf("HEAD: got %d; want 200", resp.StatusCode)
	}
	if resp, _ := do(t, c, "GET", s2.URL("/100")); resp.StatusCode != 503 {
		t.Errorf("first GET after a HEAD: got %d; want 503", resp.StatusCode)
	}
}

func TestEveryRequestFault(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{{Kind: Status503}}})
	c := newClient(t)
	for i := range 3 {
		if resp, _ := do(t, c, "GET", s.URL("/100")); resp.StatusCode != 503 {
			t.Errorf("request %d: got %d; want 503", i+1, resp.StatusCode)
		}
	}
}

func TestChangeContent(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{{Kind: ChangeContent, Request: 2}}})
	c := newClient(t)
	resp, body := do(t, c, "GET", s.URL("/100"), "Range", "bytes=0-49")
	etag, mod := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if resp.StatusCode != 206 || etag != `"1-64"` || !bytes.Equal(body, content(1, 0, 50)) {
		t.Fatalf("request 1: got %d, ETag %q; want 206, \"1-64\", seed 1 content", resp.StatusCode, etag)
	}
	// The resumed request carries If-Range: the file changed, so 200 with
	// all of the new content.
	resp, body = do(t, c, "GET", s.URL("/100"), "Range", "bytes=50-", "If-Range", etag)
	if resp.StatusCode != 200 || resp.Header.Get("ETag") != `"2-64"` || !bytes.Equal(body, content(2, 0, 100)) {
		t.Errorf("request 2: got %d, ETag %q; want 200, \"2-64\", seed 2 content", resp.StatusCode, resp.Header.Get("ETag"))
	}
	if resp.Header.Get("Last-Modified") == mod {
		t.Errorf("request 2: Last-Modified unchanged (%q); a date If-Range would wrongly match", mod)
	}
	// If-Range by date also sees the change.
	resp, _ = do(t, c, "GET", s.URL("/100"), "Range", "bytes=50-", "If-Range", mod)
	if resp.StatusCode != 200 {
		t.Errorf("request 3 with the old date: got %d; want 200", resp.StatusCode)
	}
	// The change persists.
	resp, body = do(t, c, "GET", s.URL("/100"), "Range", "bytes=50-", "If-Range", `"2-64"`)
	if resp.StatusCode != 206 || !bytes.Equal(body, content(2, 50, 50)) {
		t.Errorf("request 4: got %d; want 206 with seed 2 content", resp.StatusCode)
	}
}

func TestHugeHeaders(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{{Kind: HugeHeaders, Request: 1}}})
	rc := dialRaw(t, s)
	io.WriteString(rc, "GET /100 HTTP/1.1\r\nHost: x\r\n\r\n")
	// Measure the header block as sent, up to the empty line.
	var head int
	for {
		line, err := rc.br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		head += len(line)
		if line == "\r\n" {
			break
		}
	}
	if head < 100<<10 {
		t.Errorf("header block: got %d bytes; want ≥ %d", head, 100<<10)
	}
	body := make([]byte, 100)
	if _, err := io.ReadFull(rc.br, body); err != nil || !bytes.Equal(body, content(1, 0, 100)) {
		t.Errorf("body after huge headers: %v", err)
	}
}

func TestRedirect(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{
		{Kind: Redirect, Request: 1, Target: "/50.bin"},
		{Kind: Redirect, Request: 3}, // empty Target: back to the same URL
	}})
	// A following client lands on the target.
	c := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(c.CloseIdleConnections)
	resp, body := do(t, c, "GET", s.URL("/1K.bin"))
	if resp.StatusCode != 200 || resp.Request.URL.Path != "/50.bin" || !bytes.Equal(body, content(1, 0, 50)) {
		t.Errorf("followed redirect: got %d at %s with %d bytes; want 200 at /50.bin with 50", resp.StatusCode, resp.Request.URL.Path, len(body))
	}
	resp, _ = do(t, newClient(t), "GET", s.URL("/7?rate=1M"))
	if resp.StatusCode != 302 || resp.Header.Get("Location") != "/7?rate=1M" {
		t.Errorf("self redirect: got %d, Location %q; want 302, /7?rate=1M", resp.StatusCode, resp.Header.Get("Location"))
	}
	var paths []string
	for _, r := range s.Requests() {
		paths = append(paths, r.Path)
	}
	if got, want := strings.Join(paths, " "), "/1K.bin /50.bin /7"; got != want {
		t.Errorf("request paths: got %q; want %q", got, want)
	}
}

func TestRedirectLoop(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{{Kind: RedirectLoop, Request: 1}}})
	c := newClient(t)
	resp, _ := do(t, c, "GET", s.URL("/1K.bin"))
	loc := resp.Header.Get("Location")
	if resp.StatusCode != 302 || loc != "/loop/1K.bin" {
		t.Fatalf("first response: got %d, Location %q; want 302, /loop/1K.bin", resp.StatusCode, loc)
	}
	for range 3 { // the loop path keeps pointing at itself
		resp, _ = do(t, c, "GET", s.URL(loc))
		if resp.StatusCode != 302 || resp.Header.Get("Location") != loc {
			t.Fatalf("GET %s: got %d, Location %q; want 302, %s", loc, resp.StatusCode, resp.Header.Get("Location"), loc)
		}
	}
	// A following client gives up.
	fc := &http.Client{Transport: &http.Transport{}}
	t.Cleanup(fc.CloseIdleConnections)
	if _, err := fc.Get(s.URL(loc)); err == nil || !strings.Contains(err.Error(), "redirects") {
		t.Errorf("following client: got %v; want a too-many-redirects error", err)
	}
}

// TestFaultPrecedence checks the documented order when several faults
// fire on one request: ChangeContent still applies under a status fault.
func TestFaultPrecedence(t *testing.T) {
	s := startServer(t, Config{Faults: []Fault{
		{Kind: ChangeContent, Request: 1},
		{Kind: Status503, Request: 1},
		{Kind: NotFound, Request: 1},
	}})
	c := newClient(t)
	if resp, _ := do(t, c, "GET", s.URL("/10")); resp.StatusCode != 503 {
		t.Errorf("request 1: got %d; want 503 (first status fault)", resp.StatusCode)
	}
	if resp, body := do(t, c, "GET", s.URL("/10")); resp.StatusCode != 200 || !bytes.Equal(body, content(2, 0, 10)) {
		t.Errorf("request 2: got %d; want 200 with seed 2 content", resp.StatusCode)
	}
}

var _ net.Conn = (*conn)(nil)
