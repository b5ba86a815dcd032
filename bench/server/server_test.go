package server

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestStartAddress(t *testing.T) {
	tests := []struct {
		addr string
		want error
	}{
		{"0.0.0.0:0", ErrNotLoopback},
		{":0", ErrNotLoopback},
		{"[::]:0", ErrNotLoopback},
		{"localhost:0", ErrNotLoopback},
		{"192.0.2.1:0", ErrNotLoopback},
		{"10.0.0.1:0", ErrNotLoopback},
		{"[fe80::1%nosuch0]:0", ErrNotLoopback}, // a link-local address counts only on a loopback interface
		{"[2001:db8::1%lo]:0", ErrNotLoopback},  // a zone makes no other address loopback
		{"127.0.0.1", ErrConfig},                // no port
		{"127.0.0.1:0", nil},
		{"", nil}, // default 127.0.0.1:0
	}
	for _, tt := range tests {
		s, err := Start(Config{Addr: tt.addr})
		if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("Start(Addr: %q): got %v; want %v", tt.addr, err, tt.want)
		}
		if err == nil {
			if !strings.HasPrefix(s.URL("/x"), "http://127.0.0.1:") || !strings.HasSuffix(s.URL("/x"), "/x") {
				t.Errorf("URL: got %q; want http://127.0.0.1:PORT/x", s.URL("/x"))
			}
			s.Close()
		}
	}
	// IPv6 loopback, where the machine has it.
	if s, err := Start(Config{Addr: "[::1]:0"}); err == nil {
		if !strings.HasPrefix(s.Addr(), "[::1]:") {
			t.Errorf("Addr: got %q; want [::1]:PORT", s.Addr())
		}
		s.Close()
	} else if errors.Is(err, ErrNotLoopback) {
		t.Errorf("Start([::1]:0): got %v; want success", err)
	}
}

func TestStartConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want error
	}{
		{"chunked and close", Config{Chunked: true, CloseDelimited: true}, ErrConfig},
		{"negative rate", Config{Rate: -1}, ErrConfig},
		{"negative latency", Config{Latency: -time.Second}, ErrConfig},
		{"negative maxconns", Config{MaxConns: -1}, ErrConfig},
		{"zero kind", Config{Faults: []Fault{{}}}, ErrBadFault},
		{"unknown kind", Config{Faults: []Fault{{Kind: 99}}}, ErrBadFault},
		{"negative request", Config{Faults: []Fault{{Kind: Stall, Request: -1}}}, ErrBadFault},
		{"CRLF target", Config{Faults: []Fault{{Kind: Redirect, Target: "/a\r\nX: y"}}}, ErrBadFault},
	}
	for _, tt := range tests {
		s, err := Start(tt.cfg)
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v; want %v", tt.name, err, tt.want)
		}
		if err == nil {
			s.Close()
		}
	}
}

func TestWholeFile(t *testing.T) {
	s := startServer(t, Config{})
	c := newClient(t)
	for _, tt := range []struct {
		path string
		size int64
	}{{"/0.bin", 0}, {"/1.bin", 1}, {"/1048577", 1048577}, {"/d/1K.iso", 1024}} {
		resp, body := do(t, c, "GET", s.URL(tt.path))
		if resp.StatusCode != 200 {
			t.Fatalf("GET %s: got status %d; want 200", tt.path, resp.StatusCode)
		}
		if got, want := sha256.Sum256(body), Sum(1, tt.size); got != want {
			t.Errorf("GET %s: got sha256 %x (%d bytes); want %x", tt.path, got, len(body), want)
		}
		for _, h := range []struct{ key, want string }{
			{"Content-Length", strconv.FormatInt(tt.size, 10)},
			{"ETag", `"1-` + strconv.FormatInt(tt.size, 16) + `"`},
			{"Last-Modified", "Mon, 01 Jan 2024 00:00:00 GMT"},
			{"Accept-Ranges", "bytes"},
			{"Content-Type", "application/octet-stream"},
		} {
			if got := resp.Header.Get(h.key); got != h.want {
				t.Errorf("GET %s: %s: got %q; want %q", tt.path, h.key, got, h.want)
			}
		}
	}
}

func TestSeed(t *testing.T) {
	s := startServer(t, Config{Seed: 42})
	resp, body := do(t, newClient(t), "GET", s.URL("/100"))
	if !bytes.Equal(body, content(42, 0, 100)) {
		t.Errorf("body: got %x; want seed 42 content", body)
	}
	if got, want := resp.Header.Get("ETag"), `"2a-64"`; got != want {
		t.Errorf("ETag: got %q; want %q", got, want)
	}
}

func TestRanges(t *testing.T) {
	s := startServer(t, Config{})
	c := newClient(t)
	tests := []struct {
		path, rng    string
		status       int
		contentRange string
		off, n       int64
	}{
		{"/1000", "bytes=0-0", 206, "bytes 0-0/1000", 0, 1},
		{"/1000", "bytes=10-19", 206, "bytes 10-19/1000", 10, 10},
		{"/1000", "bytes=990-5000", 206, "bytes 990-999/1000", 990, 10},
		{"/1000", "bytes=997-", 206, "bytes 997-999/1000", 997, 3},
		{"/1000", "bytes=-7", 206, "bytes 993-999/1000", 993, 7},
		{"/1000", "bytes=-5000", 206, "bytes 0-999/1000", 0, 1000},
		{"/1000", "bytes=3-4,8-9", 206, "bytes 3-4/1000", 3, 2},
		{"/1M", "bytes=524283-524300", 206, "bytes 524283-524300/1048576", 524283, 18},
		{"/1000", "bytes=1000-", 416, "bytes */1000", 0, 0},
		{"/1000", "bytes=-0", 416, "bytes */1000", 0, 0},
		{"/0.bin", "bytes=0-", 416, "bytes */0", 0, 0},
		{"/0.bin", "bytes=0-0", 416, "bytes */0", 0, 0},
		{"/0.bin", "bytes=-1", 416, "bytes */0", 0, 0},
		{"/1000", "bytes=9-3", 200, "", 0, 1000}, // invalid: ignored
		{"/1000", "lines=1-2", 200, "", 0, 1000}, // other unit: ignored
		{"/1000", "bytes=x-y", 200, "", 0, 1000}, // garbage: ignored
	}
	for _, tt := range tests {
		resp, body := do(t, c, "GET", s.URL(tt.path), "Range", tt.rng)
		if resp.StatusCode != tt.status {
			t.Errorf("Range %q on %s: got status %d; want %d", tt.rng, tt.path, resp.StatusCode, tt.status)
			continue
		}
		if got := resp.Header.Get("Content-Range"); got != tt.contentRange {
			t.Errorf("Range %q on %s: Content-Range: got %q; want %q", tt.rng, tt.path, got, tt.contentRange)
		}
		if got, want := resp.ContentLength, tt.n; got != want {
			t.Errorf("Range %q on %s: Content-Length: got %d; want %d", tt.rng, tt.path, got, want)
		}
		if !bytes.Equal(body, content(1, tt.off, tt.n)) {
			t.Errorf("Range %q on %s: body: got %d bytes; want content [%d, %d)", tt.rng, tt.path, len(body), tt.off, tt.off+tt.n)
		}
	}
}

func TestIfRange(t *testing.T) {
	s := startServer(t, Config{})
	c := newClient(t)
	tests := []struct {
		ifRange string
		status  int
	}{
		{`"1-64"`, 206},
		{`"2-64"`, 200},
		{`W/"1-64"`, 200},
		{"Mon, 01 Jan 2024 00:00:00 GMT", 206},
		{"Tue, 02 Jan 2024 00:00:00 GMT", 200},
		{"garbage", 200},
	}
	for _, tt := range tests {
		resp, body := do(t, c, "GET", s.URL("/100"), "Range", "bytes=10-19", "If-Range", tt.ifRange)
		if resp.StatusCode != tt.status {
			t.Errorf("If-Range %q: got status %d; want %d", tt.ifRange, resp.StatusCode, tt.status)
		}
		off, n := int64(0), int64(100)
		if tt.status == 206 {
			off, n = 10, 10
		}
		if !bytes.Equal(body, content(1, off, n)) {
			t.Errorf("If-Range %q: body: got %d bytes; want content [%d, %d)", tt.ifRange, len(body), off, off+n)
		}
	}
	// If-Range without Range changes nothing.
	if resp, _ := do(t, c, "GET", s.URL("/100"), "If-Range", `"nope"`); resp.StatusCode != 200 {
		t.Errorf("If-Range alone: got status %d; want 200", resp.StatusCode)
	}
}

func TestHead(t *testing.T) {
	s := startServer(t, Config{})
	c := newClient(t)
	resp, body := do(t, c, "HEAD", s.URL("/1G.bin"))
	if resp.StatusCode != 200 || resp.ContentLength != 1<<30 || len(body) != 0 {
		t.Errorf("HEAD: got %d, Content-Length %d, %d body bytes; want 200, %d, 0", resp.StatusCode, resp.ContentLength, len(body), 1<<30)
	}
	if got := resp.Header.Get("ETag"); got != `"1-40000000"` {
		t.Errorf("HEAD: ETag: got %q; want %q", got, `"1-40000000"`)
	}
	resp, _ = do(t, c, "HEAD", s.URL("/1G.bin"), "Range", "bytes=100-199")
	if resp.StatusCode != 206 || resp.Header.Get("Content-Range") != "bytes 100-199/1073741824" || resp.ContentLength != 100 {
		t.Errorf("HEAD with Range: got %d, %q, %d; want 206, bytes 100-199/1073741824, 100", resp.StatusCode, resp.Header.Get("Content-Range"), resp.ContentLength)
	}
	if got := s.Stats().BodyBytes; got != 0 {
		t.Errorf("BodyBytes after HEADs: got %d; want 0", got)
	}
}

func TestNoRanges(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   Config
		query string
	}{{"config", Config{NoRanges: true}, ""}, {"query", Config{}, "?noranges=1"}} {
		s := startServer(t, tt.cfg)
		resp, body := do(t, newClient(t), "GET", s.URL("/100"+tt.query), "Range", "bytes=10-19")
		if resp.StatusCode != 200 || !bytes.Equal(body, content(1, 0, 100)) {
			t.Errorf("%s: got %d with %d bytes; want 200 with the whole body", tt.name, resp.StatusCode, len(body))
		}
		if got := resp.Header.Get("Accept-Ranges"); got != "" {
			t.Errorf("%s: Accept-Ranges: got %q; want none", tt.name, got)
		}
	}
	// noranges=0 turns a configured NoRanges off.
	s := startServer(t, Config{NoRanges: true})
	if resp, _ := do(t, newClient(t), "GET", s.URL("/100?noranges=0"), "Range", "bytes=10-19"); resp.StatusCode != 206 {
		t.Errorf("noranges=0: got status %d; want 206", resp.StatusCode)
	}
}

func TestChunked(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   Config
		query string
	}{{"config", Config{Chunked: true}, ""}, {"query", Config{}, "?chunked=1"}} {
		s := startServer(t, tt.cfg)
		c := newClient(t)
		for _, size := range []int64{0, 1, 100000} {
			resp, body := do(t, c, "GET", s.URL("/"+strconv.FormatInt(size, 10)+tt.query))
			if got := resp.TransferEncoding; len(got) != 1 || got[0] != "chunked" || resp.ContentLength != -1 {
				t.Errorf("%s, size %d: got Transfer-Encoding %q, Content-Length %d; want chunked, -1", tt.name, size, got, resp.ContentLength)
			}
			if !bytes.Equal(body, content(1, 0, size)) {
				t.Errorf("%s, size %d: body: got %d bytes; want the content", tt.name, size, len(body))
			}
		}
		resp, body := do(t, c, "GET", s.URL("/1000"+tt.query), "Range", "bytes=5-9")
		if resp.StatusCode != 206 || len(resp.TransferEncoding) != 1 || !bytes.Equal(body, content(1, 5, 5)) {
			t.Errorf("%s, range: got %d, %q, %x; want 206 chunked with content [5, 10)", tt.name, resp.StatusCode, resp.TransferEncoding, body)
		}
		if got := s.Stats().Conns; got != 1 {
			t.Errorf("%s: Conns: got %d; want 1 (chunked keeps the connection alive)", tt.name, got)
		}
	}
}

func TestCloseDelimited(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   Config
		query string
	}{{"config", Config{CloseDelimited: true}, ""}, {"query", Config{}, "?close=1"}} {
		s := startServer(t, tt.cfg)
		for _, rng := range []string{"", "Range: bytes=100-199\r\n"} {
			rc := dialRaw(t, s)
			resp, err := rc.roundTrip(t, "GET", "/70000"+tt.query, rng)
			if err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if resp.ContentLength != -1 || resp.TransferEncoding != nil || resp.Header.Get("Content-Length") != "" || !resp.Close {
				t.Errorf("%s %q: got Content-Length %d, Transfer-Encoding %q, Close %v; want -1, none, true", tt.name, rng, resp.ContentLength, resp.TransferEncoding, resp.Close)
			}
			off, n := int64(0), int64(70000)
			if rng != "" {
				off, n = 100, 100
			}
			checkBody(t, resp, 1, off, n) // reads to EOF: the server closed
		}
	}
}

func TestNoKeepAlive(t *testing.T) {
	for _, tt := range []struct {
		name  string
		cfg   Config
		query string
	}{{"config", Config{NoKeepAlive: true}, ""}, {"query", Config{}, "?nokeepalive=1"}} {
		s := startServer(t, tt.cfg)
		c := newClient(t)
		for range 3 {
			resp, body := do(t, c, "GET", s.URL("/100"+tt.query))
			// net/http's client folds "Connection: close" into resp.Close.
			if !resp.Close || len(body) != 100 {
				t.Errorf("%s: got Close %v, %d bytes; want true, 100", tt.name, resp.Close, len(body))
			}
		}
		if got := s.Stats().Conns; got != 3 {
			t.Errorf("%s: Conns: got %d; want 3", tt.name, got)
		}
	}
}

func TestBadRequests(t *testing.T) {
	s := startServer(t, Config{})
	c := newClient(t)
	tests := []struct {
		method, path string
		status       int
	}{
		{"GET", "/", 404},
		{"GET", "/big.bin", 404},
		{"GET", "/1.5G", 404},
		{"GET", "/10/", 404},
		{"POST", "/10", 405},
		{"DELETE", "/10", 405},
		{"GET", "/10?rate=fast", 400},
		{"GET", "/10?latency=-1s", 400},
		{"GET", "/10?chunked=maybe", 400},
		{"GET", "/10?chunked=1&close=1", 400},
		{"GET", "/10?colour=red", 400},
		{"GET", "/10?rate=10M&latency=1ms&chunked=0&close=0&noranges=0&nokeepalive=0", 200},
	}
	for _, tt := range tests {
		if resp, _ := do(t, c, tt.method, s.URL(tt.path)); resp.StatusCode != tt.status {
			t.Errorf("%s %s: got %d; want %d", tt.method, tt.path, resp.StatusCode, tt.status)
		}
	}
}

func TestStats(t *testing.T) {
	s := startServer(t, Config{})
	c := newClient(t)
	do(t, c, "GET", s.URL("/1000"))                          // 1000 body bytes
	do(t, c, "GET", s.URL("/1000"), "Range", "bytes=10-19")  // 10
	do(t, c, "HEAD", s.URL("/1000"))                         // 0
	do(t, c, "GET", s.URL("/0.bin"))                         // 0
	do(t, c, "GET", s.URL("/1000"), "Range", "bytes=2000-")  // 416: 0
	do(t, c, "GET", s.URL("/nope"))                          // 404: error bodies are not content
	do(t, c, "GET", s.URL("/200K"), "Range", "bytes=-65537") // 65537: crosses a write slice
	got, want := s.Stats(), Stats{Conns: 1, Requests: 7, BodyBytes: 1000 + 10 + 65537}
	if got != want {
		t.Errorf("Stats: got %+v; want %+v", got, want)
	}
}

func TestRequestLog(t *testing.T) {
	s := startServer(t, Config{})
	c := newClient(t)
	do(t, c, "HEAD", s.URL("/100"))
	do(t, c, "GET", s.URL("/100?rate=1M"), "Range", "bytes=1-2", "If-Range", `"1-64"`, "X-Test", "yes")
	do(t, c, "GET", s.URL("/nope"))
	log := s.Requests()
	if len(log) != 3 {
		t.Fatalf("Requests: got %d entries; want 3", len(log))
	}
	r := log[1]
	if r.Method != "GET" || r.Path != "/100" || r.Query != "rate=1M" || r.Range != "bytes=1-2" || r.IfRange != `"1-64"` {
		t.Errorf("entry 1: got %+v; want GET /100 rate=1M bytes=1-2 \"1-64\"", r)
	}
	if r.Header.Get("X-Test") != "yes" || r.Header.Get("Host") != s.Addr() {
		t.Errorf("entry 1 headers: got X-Test %q, Host %q; want yes, %s", r.Header.Get("X-Test"), r.Header.Get("Host"), s.Addr())
	}
	for i, want := range []struct{ seq, conn int }{{0, 1}, {1, 1}, {2, 1}} {
		if log[i].Seq != want.seq || log[i].Conn != want.conn {
			t.Errorf("entry %d: got Seq %d, Conn %d; want %d, %d", i, log[i].Seq, log[i].Conn, want.seq, want.conn)
		}
	}
	// The log is a copy.
	log[0].Method = "X"
	if s.Requests()[0].Method != "HEAD" {
		t.Errorf("Requests: returned slice aliases the log")
	}
}

// TestRateCap is the one timing-sensitive test: 1 MiB at 1 MiB/s must take
// about a second (the first 16 KiB slice leaves at once, so ~0.984 s).
func TestRateCap(t *testing.T) {
	const rate = 1 << 20
	s := startServer(t, Config{Rate: rate})
	begin := time.Now()
	_, body := do(t, newClient(t), "GET", s.URL("/1M"))
	elapsed := time.Since(begin)
	if len(body) != 1<<20 {
		t.Fatalf("got %d bytes; want %d", len(body), 1<<20)
	}
	got := float64(len(body)) / elapsed.Seconds()
	if got < 0.9*rate || got > 1.1*rate {
		t.Errorf("rate: got %.0f B/s (%v for 1 MiB); want %d ±10%%", got, elapsed, rate)
	}
	t.Logf("1 MiB in %v: %.0f B/s (cap %d)", elapsed, got, rate)
}

func TestStraggler(t *testing.T) {
	// 20 KiB at 100 KiB/s takes ~0.18 s; unthrottled it takes microseconds.
	s := startServer(t, Config{Straggler: 2, StragglerRate: 100 << 10})
	var took [3]time.Duration
	for i := range took {
		rc := dialRaw(t, s)
		begin := time.Now()
		resp, err := rc.roundTrip(t, "GET", "/20K", "")
		if err != nil {
			t.Fatal(err)
		}
		checkBody(t, resp, 1, 0, 20<<10)
		took[i] = time.Since(begin)
	}
	if took[1] < 120*time.Millisecond || took[0] > took[1]/2 || took[2] > took[1]/2 {
		t.Errorf("transfer times: got %v; want connection 2 alone slow (≥120ms)", took)
	}
}

func TestLatency(t *testing.T) {
	s := startServer(t, Config{Latency: 100 * time.Millisecond})
	c := newClient(t)
	begin := time.Now()
	do(t, c, "GET", s.URL("/10"))
	if d := time.Since(begin); d < 100*time.Millisecond {
		t.Errorf("Latency 100ms: response after %v", d)
	}
	begin = time.Now()
	do(t, c, "GET", s.URL("/10?latency=250ms"))
	if d := time.Since(begin); d < 250*time.Millisecond {
		t.Errorf("latency=250ms: response after %v", d)
	}
}

func TestMaxConns(t *testing.T) {
	s := startServer(t, Config{MaxConns: 1})
	a := dialRaw(t, s)
	resp, err := a.roundTrip(t, "GET", "/10", "")
	if err != nil {
		t.Fatal(err)
	}
	checkBody(t, resp, 1, 0, 10)

	b := dialRaw(t, s)
	if resp, err := b.roundTrip(t, "GET", "/10", ""); err == nil {
		t.Errorf("second connection: got status %d; want it refused", resp.StatusCode)
	}
	a.Close()
	// Once the server has seen the first connection close, a new one is served.
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := dialRaw(t, s)
		resp, err := c.roundTrip(t, "GET", "/10", "")
		if err == nil {
			checkBody(t, resp, 1, 0, 10)
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("third connection still refused after the first closed: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.Stats().Conns; got != 2 {
		t.Errorf("Conns: got %d; want 2 (refused connections are not counted)", got)
	}
}

func TestCloseIdempotent(t *testing.T) {
	s, err := Start(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("first Close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := http.Get(s.URL("/1")); err == nil {
		t.Errorf("GET after Close: got a response; want an error")
	}
}
