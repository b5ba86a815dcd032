package loop

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// rawServer is a minimal HTTP/1.1 range server for loop tests. It allocates almost nothing per
// request, so allocation counts taken in this process are the loop's.
type rawServer struct {
	ln        net.Listener
	content   []byte
	closeIdle bool // close the connection after each response without saying so
	closeEach bool // close the connection after each response, saying so (Connection: close)
	// changeAfter, when positive, makes responses after that many carry another ETag, as a
	// server that ignores If-Range would when the file changes.
	changeAfter int64
	served      atomic.Int64
	wg          sync.WaitGroup
}

// startRaw starts s, configured by the caller (content, closeIdle, changeAfter): nothing may
// change it once its goroutines run.
func startRaw(t *testing.T, s *rawServer) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	return s
}

func (s *rawServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	hdr := make([]byte, 0, 256)
	for {
		start, end := int64(-1), int64(-1)
		for {
			line, err := r.ReadSlice('\n')
			if err != nil {
				return
			}
			if len(line) <= 2 {
				break
			}
			if v, ok := bytes.CutPrefix(line, []byte("Range: bytes=")); ok {
				a, b, _ := bytes.Cut(bytes.TrimSpace(v), []byte("-"))
				start, _ = strconv.ParseInt(string(a), 10, 64)
				end, _ = strconv.ParseInt(string(b), 10, 64)
			}
		}
		size := int64(len(s.content))
		end = min(end, size-1)
		hdr = append(hdr[:0], "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes "...)
		hdr = strconv.AppendInt(hdr, start, 10)
		hdr = append(hdr, '-')
		hdr = strconv.AppendInt(hdr, end, 10)
		hdr = append(hdr, '/')
		hdr = strconv.AppendInt(hdr, size, 10)
		hdr = append(hdr, "\r\nContent-Length: "...)
		hdr = strconv.AppendInt(hdr, end-start+1, 10)
		etag := "\"v1\""
		if n := s.served.Add(1); s.changeAfter > 0 && n > s.changeAfter {
			etag = "\"v2\""
		}
		hdr = append(hdr, "\r\nETag: "+etag+"\r\n"...)
		if s.closeEach {
			hdr = append(hdr, "Connection: close\r\n"...)
		}
		hdr = append(hdr, "\r\n"...)
		if _, err := c.Write(hdr); err != nil {
			return
		}
		if _, err := c.Write(s.content[start : end+1]); err != nil {
			return
		}
		if s.closeIdle || s.closeEach {
			return
		}
	}
}

func (s *rawServer) job(t *testing.T, conns int) Job {
	addr := netip.MustParseAddrPort(s.ln.Addr().String())
	return Job{
		URL: "http://" + addr.String() + "/f", Host: addr.String(), Target: "/f",
		Addrs: []netip.AddrPort{addr}, Output: filepath.Join(t.TempDir(), "f"), Connections: conns,
	}
}

func content(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>11)
	}
	return b
}

func run(t *testing.T, j Job) Result {
	t.Helper()
	l, err := New(j)
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Run()
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func checkOutput(t *testing.T, path string, want []byte) {
	t.Helper()
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if sha256.Sum256(got) != sha256.Sum256(want) {
		t.Fatalf("%s: %d bytes, sha256 differs from the served %d bytes", path, len(got), len(want))
	}
}

// TestSteadyStateAllocations: once connections are up, reading, parsing and writing a large
// file allocates (almost) nothing per read. The bound is per MiB of file: the whole download
// of 128 MiB (thousands of reads) may allocate only per connection and per piece.
func TestSteadyStateAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("128 MiB download")
	}
	data := content(128 << 20)
	s := startRaw(t, &rawServer{content: data})
	j := s.job(t, 4)
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	res := run(t, j)
	runtime.ReadMemStats(&after)
	checkOutput(t, j.Output, data)
	allocs := after.Mallocs - before.Mallocs
	perMiB := float64(allocs) / float64(res.Size>>20)
	t.Logf("%d allocations for %d MiB (%.2f per MiB; the read buffer is %d KiB)", allocs, res.Size>>20, perMiB, readBufSize>>10)
	// One allocation per read would be 4 per MiB (256 KiB reads), on top of what the setup,
	// the journal's saves and the in-process server allocate (1.8 to 2.0 per MiB, also with
	// the race detector, which put 2 just inside the noise).
	if perMiB > 3 {
		t.Errorf("%.2f allocations per MiB; want at most 3 (nothing per read)", perMiB)
	}
}

// TestStaleKeepAlive: a server that closes every connection after one response, without
// saying so, makes each reuse fail before a byte arrives. That is not the server's fault and
// costs no retry: the download succeeds even with retries disabled.
func TestStaleKeepAlive(t *testing.T) {
	data := content(9<<20 + 17)
	s := startRaw(t, &rawServer{content: data, closeIdle: true})
	j := s.job(t, 3)
	j.MaxRetries = -1
	run(t, j)
	checkOutput(t, j.Output, data)
}

// TestStaleAfterCRLF: a reused connection on which only a stray CRLF came before the server
// closed it is a stale keep-alive, as one on which nothing came: it costs no retry, so the
// download succeeds with retries disabled. Before, the CRLF counted as the start of an answer.
func TestStaleAfterCRLF(t *testing.T) {
	data := content(8 << 20)
	j := scripted(t, func(c *net.TCPConn) {
		r := bufio.NewReader(c)
		start, end, ok := readRange(r)
		if !ok {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n%s", start, end, len(data), end+1-start, data[start:end+1])
		if _, _, ok := readRange(r); ok {
			c.Write([]byte("\r\n")) // and closes, without an answer
		}
	})
	j.Connections, j.PieceSize = 2, 1<<20
	j.MaxRetries = -1
	if _, err := runBounded(t, j); err != nil {
		t.Fatal(err)
	}
	checkOutput(t, j.Output, data)
}

// TestClosingServerPieces: against a server that closes after each response, where each piece
// costs a connection, what is left after the first response goes in equal parts to the
// connections. Guided pieces (a shrinking share of what is left) made 60 connections for
// 64 MiB, each with a handshake and a slow start: 33 s at 500 ms round trips, axel 10.3 s.
func TestClosingServerPieces(t *testing.T) {
	data := content(32 << 20)
	s := startRaw(t, &rawServer{content: data, closeEach: true})
	j := s.job(t, 8)
	run(t, j)
	checkOutput(t, j.Output, data)
	if n := s.served.Load(); n > 12 {
		t.Errorf("%d requests, each on a connection of its own; want the probe and about one per connection", n)
	}
}

// TestChangedETag: a server that ignores If-Range starts answering with another ETag. No byte
// of the new version may be written: the download stops with KindIntegrity.
func TestChangedETag(t *testing.T) {
	data := content(16 << 20)
	s := startRaw(t, &rawServer{content: data, changeAfter: 3})
	l, err := New(s.job(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	res, err := l.Run()
	if KindOf(err) != KindIntegrity || !strings.Contains(err.Error(), `ETag "v2", was "v1"`) {
		t.Fatalf("err %v (kind %v); want an integrity error naming both ETags", err, KindOf(err))
	}
	if res.Size >= int64(len(data)) {
		t.Fatalf("%d bytes accepted; want the download stopped short", res.Size)
	}
}

// TestShownTag: an entity tag in a message keeps its own quotes, and only its own; one that
// is not well formed is quoted with escapes, so a control byte never reaches the terminal.
func TestShownTag(t *testing.T) {
	for tag, want := range map[string]string{
		`"v1"`:         `"v1"`,
		`W/"v1"`:       `W/"v1"`,
		`""`:           `""`,
		"":             "none",
		`v1`:           `"v1"`,
		`"v"1"`:        `"\"v\"1\""`,
		"\"v\x1b[2J\"": `"\"v\x1b[2J\""`,
		`"`:            `"\""`,
	} {
		if got := shownTag([]byte(tag)); got != want {
			t.Errorf("shownTag(%q) = %s; want %s", tag, got, want)
		}
	}
}

func TestStopInterrupts(t *testing.T) {
	data := content(64 << 20)
	s := startRaw(t, &rawServer{content: data})
	l, err := New(s.job(t, 2))
	if err != nil {
		t.Fatal(err)
	}
	l.Stop() // before Run: the first wait sees it
	_, err = l.Run()
	if KindOf(err) != KindInterrupted || err.Error() != "interrupted" {
		t.Fatalf("err %v (kind %v); want interrupted", err, KindOf(err))
	}
}

// TestSmallFileWrittenOffLoop: in a shared reactor, a small file of a list is written by the
// goroutine waiting in Run, not by the loop, which would otherwise wait for the filesystem
// with every other download's sockets. When the loop is done with it the file is still empty;
// settling writes it whole.
func TestSmallFileWrittenOffLoop(t *testing.T) {
	data := content(16 << 10) // whole pages: a block of the file's size would fill on the loop
	s := startRaw(t, &rawServer{content: data})
	r := runReactor(t, 4, 0)
	j := s.job(t, 4)
	j.Small = true
	l, err := r.New(j)
	if err != nil {
		t.Fatal(err)
	}
	r.hand(l)
	<-l.settled
	if !l.small || l.err != nil {
		t.Fatalf("small %v, err %v; want a small file, downloaded", l.small, l.err)
	}
	st, err := os.Stat(j.Output)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != 0 {
		t.Fatalf("after the loop the file holds %d bytes; want none, written only when settled", st.Size())
	}
	l.settle()
	checkOutput(t, j.Output, data)
}

// TestSmallFileBlock: a small file's one block is larger than the file at every size up to
// SmallFile, so that it never fills on the loop (see newSmallFile), and larger by at most a
// quarter (or 4 KiB).
func TestSmallFileBlock(t *testing.T) {
	for n := int64(0); ; n = min(n+1+n/1000, SmallFile) {
		o := newSmallFile(nil, n)
		if room := int64(o.buf.Room()); room <= n || room > max(n+n/4, 4<<10) {
			t.Fatalf("a file of %d bytes gets a block of %d; want more than the file, and at most a quarter more", n, room)
		}
		o.buf.Close()
		if n == SmallFile {
			break
		}
	}
}

func TestFileBlocks(t *testing.T) {
	for n := 1; n <= 1024; n++ {
		block, _ := writeSizes(n)
		if got := blocksFor(int64(block)).Size(); got != block {
			t.Fatalf("%d connections: blocks of %d bytes, want %d", n, got, block)
		}
	}
	// One file after another, as in a list: each holds a partial block until it closes,
	// and the next takes that block again rather than a new one.
	f, _, err := create(filepath.Join(t.TempDir(), "out"), false)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data := make([]byte, 100<<10)
	const files = 100
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range files {
		o := newFile(f, 1, nil)
		if err := o.buf.Push(0, data); err != nil {
			t.Fatal(err)
		}
		if err := o.buf.Close(); err != nil {
			t.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	// Half, not none: under the race detector sync.Pool drops a share of what it is given.
	if n := after.TotalAlloc - before.TotalAlloc; n > files*maxBlock/2 {
		t.Errorf("%d files allocated %d KiB; a block each would be %d KiB", files, n>>10, files*maxBlock>>10)
	}
}

// scripted accepts connections on loopback and hands each to serve, which speaks for the
// server byte by byte. It returns the job for a download from it.
func scripted(t *testing.T, serve func(c *net.TCPConn)) Job {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { defer c.Close(); serve(c.(*net.TCPConn)) })
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	addr := netip.MustParseAddrPort(ln.Addr().String())
	return Job{
		URL: "http://" + addr.String() + "/f", Host: addr.String(), Target: "/f",
		Addrs: []netip.AddrPort{addr}, Output: filepath.Join(t.TempDir(), "f"), Connections: 1,
		StallTimeout: 10 * time.Second,
	}
}

// runBounded is Run, failing the test if the download has not ended within a minute.
func runBounded(t *testing.T, j Job) (Result, error) {
	t.Helper()
	l, err := New(j)
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		res, err := l.Run()
		done <- outcome{res, err}
	}()
	select {
	case o := <-done:
		return o.res, o.err
	case <-time.After(time.Minute):
		l.Stop()
		<-done
		t.Fatal("the download was still running after a minute")
		return Result{}, nil
	}
}

// readHead reads a request's head from r, and reports whether all of it came.
func readHead(r *bufio.Reader) bool {
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return false
		}
		if line == "\r\n" {
			return true
		}
	}
}

// scriptedRanges is scripted with a server that answers each request of a connection with
// answer, given the range it asks for.
func scriptedRanges(t *testing.T, answer func(c *net.TCPConn, start, end int64)) Job {
	t.Helper()
	return scripted(t, func(c *net.TCPConn) {
		r := bufio.NewReader(c)
		for {
			start, end, ok := readRange(r)
			if !ok {
				return
			}
			answer(c, start, end)
		}
	})
}

// wantChanged runs j and expects it to fail because the remote file changed.
func wantChanged(t *testing.T, j Job) {
	t.Helper()
	_, err := runBounded(t, j)
	var e *Error
	if !errors.As(err, &e) || e.Kind != KindIntegrity || !errors.Is(err, ErrRemoteChanged) {
		t.Fatalf("err %v; want the remote file changed", err)
	}
}

// readRange reads a request's head and returns the range it asks for (bytes=START-END).
func readRange(r *bufio.Reader) (start, end int64, ok bool) {
	for line := ""; line != "\r\n"; {
		var err error
		if line, err = r.ReadString('\n'); err != nil {
			return 0, 0, false
		}
		fmt.Sscanf(line, "Range: bytes=%d-%d", &start, &end)
	}
	return start, end, true
}

// TestEarlyAnswer: a server that answers before it has read the whole request (a request
// header too big for it) is heard: its 431 is the error, where the answer used to be dropped
// with the connection and the download to wait for nothing, forever.
func TestEarlyAnswer(t *testing.T) {
	j := scripted(t, func(c *net.TCPConn) {
		var first [1024]byte
		if _, err := io.ReadFull(c, first[:]); err != nil {
			return
		}
		io.WriteString(c, "HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
		// The close with the request unread sends a reset, which wakes the client's socket
		// while it waits to write.
	})
	j.Header = []string{"X-Big: " + strings.Repeat("a", 8<<20)}
	_, err := runBounded(t, j)
	if KindOf(err) != KindHTTP || !strings.Contains(err.Error(), "HTTP 431 Request Header Fields Too Large") {
		t.Fatalf("err %v (kind %v); want the server's 431, kind http", err, KindOf(err))
	}
}

// TestUnknownTotal: a first answer of "bytes 0-N/*" (RFC 9110 §14.4: the server does not know
// the length) fails at once, saying so: it was called a server contradicting itself, after every
// retry had brought the same answer.
func TestUnknownTotal(t *testing.T) {
	var requests atomic.Int32
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		requests.Add(1)
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/*\r\nContent-Length: %d\r\n\r\n", start, end, end+1-start)
		c.Write(make([]byte, end+1-start))
	})
	_, err := runBounded(t, j)
	want := j.URL + " answered with part of a file of unknown length (Content-Range: bytes 0-1048575/*); rangedl needs the length to download in ranges"
	if KindOf(err) != KindHTTP || err.Error() != want || requests.Load() != 1 {
		t.Fatalf("err %v (kind %v) after %d requests; want %q, kind http, after 1", err, KindOf(err), requests.Load(), want)
	}
}

// TestRefusedEveryPiece: a server that answers 503 to every request after the first fails the
// download after --retries + 1 refusals in a row, those asked together counted once. Each piece
// had its own retries, and the refusals went round the pieces one at a time: 3 MiB at -n 8
// took 270 s to fail.
func TestRefusedEveryPiece(t *testing.T) {
	var requests atomic.Int32
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		if requests.Add(1) > 1 {
			io.WriteString(c, "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, 16<<20, end+1-start)
		c.Write(make([]byte, end+1-start))
	})
	j.Connections, j.PieceSize, j.MaxRetries = 8, 1<<20, 2
	_, err := runBounded(t, j)
	want := "HTTP 503 Service Unavailable from " + j.URL + ", 3 times in a row"
	if KindOf(err) != KindHTTP || err.Error() != want || requests.Load() > 16 {
		t.Fatalf("err %v (kind %v) after %d requests; want %q, kind http, after 16 at most", err, KindOf(err), requests.Load(), want)
	}
}

// TestCutShort416: the 416 that says an empty file is complete has an error page, and the
// page breaks off. The file is still complete: asking for its first MiB again (no longer as
// the probe) would get a 416 that fails the download.
func TestCutShort416(t *testing.T) {
	var asked atomic.Int64
	j := scripted(t, func(c *net.TCPConn) {
		r := bufio.NewReader(c)
		if !readHead(r) {
			return
		}
		asked.Add(1)
		io.WriteString(c, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */0\r\nContent-Length: 100\r\n\r\nnot all o")
	})
	res, err := runBounded(t, j)
	if err != nil || res.Size != 0 {
		t.Fatalf("size %d, err %v; want an empty file, saved", res.Size, err)
	}
	if st, err := os.Stat(j.Output); err != nil || st.Size() != 0 {
		t.Fatalf("output: %v, %v; want an empty file", st, err)
	}
	if n := asked.Load(); n != 1 {
		t.Fatalf("%d requests; want 1", n)
	}
}

// TestLyingLengths: answers to the first request whose lengths cannot be right fail the
// download with kind integrity, at once or after the retries, and leave no file behind. A total
// of MaxInt64 is the loop's own "length unknown": taken as that, the download waited forever
// with every connection idle. A 200 whose Content-Range names part of a larger file was saved
// as the whole file, short, and reported done.
func TestLyingLengths(t *testing.T) {
	for _, tc := range []struct{ name, head, says string }{
		// %d-%d: the range asked for, answered exactly. The total is said to be too much, not
		// that the range was another than the one asked for (a review).
		{"total of MaxInt64", "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/9223372036854775807\r\nContent-Length: %d\r\n\r\n",
			"answered with Content-Range bytes 0-1048575/9223372036854775807, more than any file can hold"},
		{"Content-Length of MaxInt64", "HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n",
			"answered with Content-Length 9223372036854775807, more than any file can hold"},
		{"200 with a part", "HTTP/1.1 200 OK\r\nContent-Range: bytes 0-1023/4096\r\nContent-Length: 1024\r\n\r\n", ""},
		{"200 with another length", "HTTP/1.1 200 OK\r\nContent-Range: bytes 0-4095/4096\r\nContent-Length: 1024\r\n\r\n", ""},
		{"chunked 200 of MaxInt64", "HTTP/1.1 200 OK\r\nContent-Range: bytes 0-9223372036854775806/9223372036854775807\r\nTransfer-Encoding: chunked\r\n\r\n400\r\n", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
				head, n := tc.head, int64(1024)
				if strings.Contains(head, "%d") {
					head, n = fmt.Sprintf(head, start, end, end+1-start), end+1-start
				}
				io.WriteString(c, head)
				c.Write(make([]byte, n))
			})
			j.Connections, j.MaxRetries = 4, 1
			_, err := runBounded(t, j)
			var e *Error
			if !errors.As(err, &e) || e.Kind != KindIntegrity || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("err %v; want kind integrity, saying %q", err, tc.says)
			}
			if _, err := os.Stat(j.Output); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("output left behind: %v", err)
			}
		})
	}
}

// TestValidatorAppears: validators that the first response lacked are compared from their
// first appearance on: pieces served alternately under two ETags (two versions of the file)
// fail the download, where they used to be joined into one file, with no error.
func TestValidatorAppears(t *testing.T) {
	var n atomic.Int64
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		end = min(end, 4<<20-1)
		etag := ""
		if i := n.Add(1); i > 1 {
			etag = fmt.Sprintf("ETag: \"%d\"\r\n", i%2)
		}
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\n%sContent-Length: %d\r\n\r\n", start, end, 4<<20, etag, end+1-start)
		c.Write(make([]byte, end+1-start))
	})
	j.Connections, j.PieceSize = 4, 1<<20
	j.Notice = func(string) {}
	wantChanged(t, j)
}

// TestBytesAfterResponse: a response complete by its own framing and followed by bytes nobody
// asked for is kept, and the connection is not reused (a stray CRLF is harmless: see
// TestStrayCRLF). A whole file sent chunked (no ranges) used to fail as incomplete, its every
// byte on disk.
func TestBytesAfterResponse(t *testing.T) {
	data := content(3000)
	j := scripted(t, func(c *net.TCPConn) {
		if !readHead(bufio.NewReader(c)) {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\njunk", len(data), data)
	})
	j.Connections = 4
	j.Notice = func(string) {}
	res, err := runBounded(t, j)
	if err != nil || res.Size != int64(len(data)) {
		t.Fatalf("size %d, err %v; want %d bytes, saved", res.Size, err, len(data))
	}
	if got, _ := os.ReadFile(j.Output); !bytes.Equal(got, data) {
		t.Fatalf("the file holds %d bytes, not what was sent", len(got))
	}
}

// TestHeadDeadline: a response's head must come whole within the stall timeout of its
// request. A server that sent "100 Continue" again and again, or its head a byte at a time,
// reset the stall timer with each byte and held the piece for as long as it went on.
func TestHeadDeadline(t *testing.T) {
	for name, drip := range map[string]string{"100 Continue": "HTTP/1.1 100 Continue\r\n\r\n", "trickled head": "x"} {
		t.Run(name, func(t *testing.T) {
			j := scripted(t, func(c *net.TCPConn) {
				if !readHead(bufio.NewReader(c)) {
					return
				}
				if drip == "x" {
					io.WriteString(c, "HTTP/1.1 200 OK\r\nX-Pad: ")
				}
				for range 100 {
					if _, err := io.WriteString(c, drip); err != nil {
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			})
			j.StallTimeout, j.MaxRetries = 500*time.Millisecond, 1
			j.Notice = func(string) {}
			_, err := runBounded(t, j)
			if err == nil || !strings.Contains(err.Error(), "no response for 500ms (bytes 0-") {
				t.Fatalf("err %v; want no response within the stall timeout", err)
			}
		})
	}
}

// TestChunkedNoLastChunk: a chunked 206 that has brought all of its range completes its piece
// at once, last chunk or not. The connection waits a moment for the last chunk, and is used
// again when it comes; without it, it is closed. Before, a server that never sent it made
// each piece, and the download's end, wait out the stall timeout.
func TestChunkedNoLastChunk(t *testing.T) {
	data := content(4 << 20)
	for _, late := range []bool{false, true} {
		var conns atomic.Int64
		j := scripted(t, func(c *net.TCPConn) {
			conns.Add(1)
			r := bufio.NewReader(c)
			for {
				start, end, ok := readRange(r)
				if !ok {
					return
				}
				if late && end+1 == int64(len(data)) {
					time.Sleep(time.Second) // the other connection waits idle meanwhile
				}
				fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n", start, end, len(data), end+1-start, data[start:end+1])
				if !late {
					io.Copy(io.Discard, r) // until the client closes
					return
				}
				time.Sleep(50 * time.Millisecond)
				io.WriteString(c, "0\r\n\r\n")
			}
		})
		j.Connections, j.PieceSize, j.StallTimeout = 2, 1<<20, 20*time.Second
		var trace bytes.Buffer
		j.Trace = &trace
		res, err := runBounded(t, j)
		if err != nil {
			t.Fatal(err)
		}
		checkOutput(t, j.Output, data)
		switch {
		case late && strings.Contains(trace.String(), "no last chunk"):
			// The mark of a piece waiting for its last chunk outlived the chunk.
			t.Fatalf("last chunk 50 ms late: a connection was closed for want of it:\n%s", trace.String())
		case !late && res.Elapsed > j.StallTimeout/2:
			t.Fatalf("no last chunk: the download took %v; want it not to wait for the stall timeout (%v)", res.Elapsed, j.StallTimeout)
		case late && conns.Load() != 2:
			t.Fatalf("last chunk 50 ms late: %d connections; want the 2 reused", conns.Load())
		}
	}
}

// TestDeadRangeRetries: a range that never comes fails the download after its retries, end
// game or not. Each copy the end game made of it started with no attempts, and the failure of
// the copy before it was not counted: with -n 8 and one retry, 8 requests were made for it.
func TestDeadRangeRetries(t *testing.T) {
	data := content(4 << 20)
	const dead = 3<<20 + 512<<10
	var asked atomic.Int64
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, len(data), end+1-start)
		if start <= dead && dead <= end {
			asked.Add(1)
			c.Write(data[start:dead])
			io.Copy(io.Discard, c) // and nothing more, until the client closes
			return
		}
		c.Write(data[start : end+1])
	})
	j.Connections, j.StallTimeout, j.MaxRetries, j.PieceSize = 8, time.Second, 1, 1<<20
	j.Notice = func(string) {}
	if _, err := runBounded(t, j); err == nil || !strings.Contains(err.Error(), "2 attempts") {
		t.Fatalf("err %v; want the dead range failed after 2 attempts", err)
	}
	if n := asked.Load(); n > 3 {
		t.Errorf("%d requests for the dead range; want at most 3 (the first, its retry, one end-game copy)", n)
	}
}

// TestCutEveryTime: a path that cuts every connection after 200 KiB (a middlebox) fails each
// attempt, but each attempt moves the piece on; only attempts that bring nothing count against
// the retries. Before, the piece failed after its 3 attempts with 600 KiB of 1 MiB.
func TestCutEveryTime(t *testing.T) {
	data := content(1 << 20)
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, len(data), end+1-start)
		c.Write(data[start:min(end+1, start+200<<10)])
		c.SetLinger(0)
		c.Close()
	})
	j.MaxRetries = 2
	if _, err := runBounded(t, j); err != nil {
		t.Fatal(err)
	}
	checkOutput(t, j.Output, data)
}

// TestCutNotCounted: a failure that brought 64 KiB or more of its piece does not count against
// --retries. It was reset to none and then counted as the first: the piece below failed after
// its second short answer at 2 retries. (At none, a failure still ends the download.)
func TestCutNotCounted(t *testing.T) {
	data := content(1 << 20)
	for _, tc := range []struct{ retries, short int }{{2, 2}, {1, 1}} {
		var n atomic.Int64
		j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
			fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, len(data), end+1-start)
			switch k := n.Add(1); {
			case k == 1:
				c.Write(data[start : start+100<<10]) // progress, then cut
			case k <= int64(1+tc.short):
				c.Write(data[start : start+10]) // a counted failure
			default:
				c.Write(data[start : end+1])
				return
			}
			c.SetLinger(0)
			c.Close()
		})
		j.MaxRetries = tc.retries
		if _, err := runBounded(t, j); err != nil {
			t.Errorf("--retries %d, %d short answers after the cut: %v", max(tc.retries, 0), tc.short, err)
			continue
		}
		checkOutput(t, j.Output, data)
	}
}

// TestShrunk: a 416 to a range inside the file means the file is shorter now: the remote file
// changed (exit 5), not an HTTP error (exit 4). A 416 that gives the same size contradicts
// itself: exit 5 too, but not "changed" (which -c --restart-if-changed would start over on).
func TestShrunk(t *testing.T) {
	for _, total := range []int{1000, 4 << 20} {
		var n atomic.Int64
		j := scripted(t, func(c *net.TCPConn) {
			r := bufio.NewReader(c)
			for readHead(r) {
				if n.Add(1) > 1 {
					fmt.Fprintf(c, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%d\r\nContent-Length: 0\r\n\r\n", total)
					continue
				}
				fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-%d/%d\r\nContent-Length: %d\r\n\r\n", 1<<20-1, 4<<20, 1<<20)
				c.Write(make([]byte, 1<<20))
			}
		})
		j.Connections, j.PieceSize = 4, 1<<20
		j.Notice = func(string) {}
		if total < 4<<20 {
			wantChanged(t, j)
			continue
		}
		_, err := runBounded(t, j)
		var e *Error
		if !errors.As(err, &e) || e.Kind != KindIntegrity || errors.Is(err, ErrRemoteChanged) || !strings.Contains(err.Error(), "contradicts itself") {
			t.Fatalf("416 of the same size: err %v; want kind integrity, the server contradicting itself", err)
		}
	}
}

// pausingWriter is a stream's reader that stops reading for pause once, after the first
// after bytes, as a pipe's reader that is busy elsewhere does.
type pausingWriter struct {
	bytes.Buffer
	after  int
	pause  time.Duration
	paused bool
}

func (w *pausingWriter) Write(p []byte) (int, error) {
	if !w.paused && w.Len()+len(p) > w.after {
		w.paused = true
		time.Sleep(w.pause)
	}
	return w.Buffer.Write(p)
}

// TestStreamReaderPauses: a reader that pauses for longer than the stall timeout holds the
// loop in its write, and no connection is to blame: none fails as stalled (no retries here, so
// one that did would fail the download), and the stream is whole. A pipe is written without
// blocking, and while it is full every connection waits, the one at the writer's cursor too.
func TestStreamReaderPauses(t *testing.T) {
	data := content(12 << 20)
	s := startRaw(t, &rawServer{content: data})
	for _, pipe := range []bool{false, true} {
		j := s.job(t, 4)
		w := &pausingWriter{after: 3 << 20, pause: 1500 * time.Millisecond}
		j.Stream, j.StallTimeout, j.MaxRetries = w, time.Second, -1
		copied := make(chan error, 1)
		if pipe {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			go func() {
				_, err := io.Copy(struct{ io.Writer }{w}, pr) // Write, not bytes.Buffer.ReadFrom
				copied <- err
			}()
			j.Stream = pw
			defer pr.Close()
		}
		_, err := runBounded(t, j)
		if pipe {
			j.Stream.(*os.File).Close()
			if cerr := <-copied; err == nil {
				err = cerr
			}
		}
		if err != nil {
			t.Fatalf("pipe %v: %v", pipe, err)
		}
		if !w.paused || sha256.Sum256(w.Bytes()) != sha256.Sum256(data) {
			t.Fatalf("pipe %v: paused %v, %d bytes streamed; want a pause and the %d served bytes", pipe, w.paused, w.Len(), len(data))
		}
	}
}

// TestStreamPanicUnpipes: a panic out of the loop (a bug; here the trace's writer, when its
// buffer first fills) still makes the pipe it wrote blocking again: its file description may
// be shared with the commands around rangedl, which the panic does not end.
func TestStreamPanicUnpipes(t *testing.T) {
	// The loop that panicked never closes its sockets: the server closes them when the test
	// ends.
	raw, ended := &rawServer{content: content(32 << 20)}, make(chan struct{})
	defer close(ended)
	j := scripted(t, func(c *net.TCPConn) {
		go func() { <-ended; c.Close() }()
		raw.serve(c)
	})
	j.Connections = 4
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	defer pw.Close()
	go io.Copy(io.Discard, pr)
	fd := pw.Fd() // which makes it blocking, as a shell's pipe is
	j.Stream, j.Trace = pw, panicWriter{}
	l, err := New(j)
	if err != nil {
		t.Fatal(err)
	}
	var got any
	func() {
		defer func() { got = recover() }()
		l.Run()
	}()
	flags, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got != "trace" || flags&unix.O_NONBLOCK != 0 {
		t.Fatalf("panic %v, pipe nonblocking %v; want the trace's panic and a blocking pipe", got, flags&unix.O_NONBLOCK != 0)
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("trace") }

// TestTLSTruncation: over TLS, a body that ends when the connection closes ends at the
// server's close_notify. A bare FIN (which anyone on the path can send) fails the download as
// a network error, where it used to be taken for the end and the cut file saved.
func TestTLSTruncation(t *testing.T) {
	scfg, client := testTLS(t)
	body := content(1 << 20)
	for _, notify := range []bool{true, false} {
		j := scripted(t, func(c *net.TCPConn) {
			tc := tls.Server(c, scfg)
			if !readHead(bufio.NewReader(tc)) {
				return
			}
			io.WriteString(tc, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
			tc.Write(body)
			if notify {
				tc.Close() // close_notify, then the close
				return
			}
			c.CloseWrite() // a FIN under the TLS layer
			io.Copy(io.Discard, c)
		})
		j.URL = strings.Replace(j.URL, "http://", "https://", 1)
		j.TLS = client
		res, err := runBounded(t, j)
		switch {
		case notify && (err != nil || res.Size != int64(len(body))):
			t.Errorf("with close_notify: size %d, err %v; want the %d bytes, saved", res.Size, err, len(body))
		case !notify && (KindOf(err) != KindNetwork || !strings.Contains(err.Error(), "connection closed without a TLS close_notify")):
			t.Errorf("with a bare FIN: size %d, err %v (kind %v); want a network error naming the close_notify", res.Size, err, KindOf(err))
		}
	}
}

// The Host field leaves out an IPv6 zone (RFC 6874 §4), and nothing else.
func TestAppendHost(t *testing.T) {
	for _, tt := range []struct{ host, want string }{
		{"[fe80::1%eth0]:8080", "[fe80::1]:8080"},
		{"[fe80::1%2]", "[fe80::1]"},
		{"[::1]:80", "[::1]:80"},
		{"example.com:8080", "example.com:8080"},
		{"a%b", "a%b"}, // not an IPv6 literal: not the loop's to judge
		{"[fe80::1%eth0", "[fe80::1%eth0"},
	} {
		if got := string(appendHost([]byte("Host: "), tt.host)); got != "Host: "+tt.want {
			t.Errorf("appendHost(%q) = %q; want %q", tt.host, got, "Host: "+tt.want)
		}
	}
}

// TestWeakETagNotice: a weak ETag cannot go in If-Range, but every later response must
// repeat it, so a change is still seen: no notice that it cannot be (there was one, and then
// the change was reported all the same). Without any validator the notice comes; over one
// connection only for a resume, whose bytes on disk came from another response; and not for an
// empty file, which has no bytes to change.
func TestWeakETagNotice(t *testing.T) {
	const noValidator = "the server sends no ETag or Last-Modified: a change of the file during the download cannot be detected"
	for _, tt := range []struct {
		etag        string
		size        int64
		connections int
		resume      bool
		want        string
	}{
		{`ETag: W/"a"` + "\r\n", 4 << 20, 4, false, ""},
		{"", 4 << 20, 4, false, noValidator},
		{"", 4 << 20, 1, false, ""},
		{"", 4 << 20, 1, true, "the server sends no ETag or Last-Modified: a change of the file since the partial download cannot be detected, unless its size changed"},
		{"", 0, 4, false, ""},
	} {
		j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
			if tt.size == 0 {
				io.WriteString(c, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */0\r\nContent-Length: 0\r\n\r\n")
				return
			}
			if end < start { // bytes=START-
				end = tt.size - 1
			}
			end = min(end, tt.size-1)
			fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\n%sContent-Length: %d\r\n\r\n", start, end, tt.size, tt.etag, end+1-start)
			c.Write(make([]byte, end+1-start))
		})
		j.Connections, j.PieceSize = tt.connections, 1<<20
		if tt.resume {
			if err := os.WriteFile(j.Output, make([]byte, 1<<20), 0o666); err != nil {
				t.Fatal(err)
			}
			j.Continue = true
		}
		var notices []string
		j.Notice = func(s string) { notices = append(notices, s) }
		if _, err := runBounded(t, j); err != nil {
			t.Fatal(err)
		}
		got := slices.DeleteFunc(notices, func(s string) bool { return !strings.Contains(s, "cannot be detected") })
		if want := []string{tt.want}; tt.want == "" && len(got) > 0 || tt.want != "" && !slices.Equal(got, want) {
			t.Errorf("%+v: notices %q; want %q", tt, got, tt.want)
		}
	}
}

// TestReasonShown: a reason phrase holding what a terminal would obey (a C1 control byte, a
// bidirectional override, a byte that is not UTF-8: all of them obs-text or VCHAR to HTTP) is
// quoted in the error; a plain one is shown as it came.
func TestReasonShown(t *testing.T) {
	for reason, want := range map[string]string{
		"Not Found":                  "HTTP 404 Not Found from ",
		"Not \u202eFound\x9b31m\xff": `HTTP 404 "Not \u202eFound\x9b31m\xff" from `,
	} {
		j := scripted(t, func(c *net.TCPConn) {
			if readHead(bufio.NewReader(c)) {
				io.WriteString(c, "HTTP/1.1 404 "+reason+"\r\nContent-Length: 0\r\n\r\n")
			}
		})
		_, err := runBounded(t, j)
		if KindOf(err) != KindHTTP || err.Error() != want+j.URL {
			t.Errorf("err %v (kind %v); want %q", err, KindOf(err), want+j.URL)
		}
	}
}

// TestChunkedBareLF: a chunked body whose framing ends a line in a bare LF is not saved. Read
// with the LF as a line's end, this one is "abc"; read as RFC 9112 has it, it is another body.
// It was saved as "abc", exit 0.
func TestChunkedBareLF(t *testing.T) {
	j := scripted(t, func(c *net.TCPConn) {
		if readHead(bufio.NewReader(c)) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;\nabc\r\n0\n\n")
		}
	})
	j.MaxRetries = -1
	_, err := runBounded(t, j)
	if want := "malformed chunked encoding"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("err %v; want one saying %q", err, want)
	}
	if _, serr := os.Stat(j.Output); serr == nil {
		t.Errorf("%s was left", j.Output)
	}
}

// TestEndless416: the 416 that says an empty file is complete, with a page that trickles
// without end. The page is dropped within lastChunkWait of the head; the download, which
// counted each byte of it as progress, used to wait for it for ever.
func TestEndless416(t *testing.T) {
	j := scripted(t, func(c *net.TCPConn) {
		if !readHead(bufio.NewReader(c)) {
			return
		}
		io.WriteString(c, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */0\r\n\r\n")
		for {
			if _, err := io.WriteString(c, "x"); err != nil {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
	start := time.Now()
	res, err := runBounded(t, j)
	if err != nil || res.Size != 0 || time.Since(start) > j.StallTimeout {
		t.Fatalf("size %d, err %v after %v; want an empty file, saved before the stall timeout (%v)", res.Size, err, time.Since(start), j.StallTimeout)
	}
	if st, err := os.Stat(j.Output); err != nil || st.Size() != 0 {
		t.Fatalf("output: %v, %v; want an empty file", st, err)
	}
}

// TestStalledEveryPiece: a server that goes silent after its first answer fails the download
// after --retries + 1 failures in a row, whichever pieces they were of. Each piece had its own
// retries, and the stalls went round the pieces one attempt at a time: at -n 1 twice the
// attempts --retries says, and more with more pieces.
func TestStalledEveryPiece(t *testing.T) {
	var requests atomic.Int32
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		if requests.Add(1) > 1 {
			io.Copy(io.Discard, c) // silent, until the client closes
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, 16<<20, end+1-start)
		c.Write(make([]byte, end+1-start))
	})
	j.PieceSize, j.MaxRetries, j.StallTimeout = 1<<20, 2, 300*time.Millisecond
	_, err := runBounded(t, j)
	want := regexp.MustCompile(`^no response for 300ms \(bytes \d+-\d+ of ` + regexp.QuoteMeta(j.URL) + `\), 3 times in a row$`)
	if KindOf(err) != KindNetwork || err == nil || !want.MatchString(err.Error()) || requests.Load() != 4 {
		t.Fatalf("err %v (kind %v) after %d requests; want one matching %s, kind network, after 4", err, KindOf(err), requests.Load(), want)
	}
}

// TestContinueCompleteWithoutSize: -c of a file complete already, with no record, from a server
// that answers a range past the end with a 416 that does not give the size (Apache, lighttpd)
// is complete, asking for its last byte. It failed with the 416 (exit 4), and a list rerun with
// -c failed every file it had saved (a hunt).
func TestContinueCompleteWithoutSize(t *testing.T) {
	const size = 3 << 20
	var asked []string
	var mu sync.Mutex
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		mu.Lock()
		asked = append(asked, fmt.Sprintf("%d-%d", start, end))
		mu.Unlock()
		if start >= size {
			io.WriteString(c, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\n\r\n")
			return
		}
		end = min(end, size-1)
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, size, end+1-start)
		c.Write(make([]byte, end+1-start))
	})
	if err := os.WriteFile(j.Output, make([]byte, size), 0o666); err != nil {
		t.Fatal(err)
	}
	j.Continue = true
	res, err := runBounded(t, j)
	if err != nil || res.Size != size || res.Resumed != size {
		t.Fatalf("%+v, %v; want the file complete already, %d bytes", res, err, size)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []string{fmt.Sprintf("%d-%d", size-1, size-1+MinPieceSize-1)}; !slices.Equal(asked, want) {
		t.Errorf("asked for %q; want %q, its last byte on", asked, want)
	}
}

// TestWeakThenStrong plays Apache serving a file changed just before: its first answer's ETag
// is weak, so If-Range carries the Last-Modified date, which Apache takes for too weak as well
// and answers with the whole file (200); its later answers carry the same ETag, strong. The
// download was "changed" at the first 200 (a hunt); now the piece goes again with the strong
// ETag, or no If-Range.
func TestWeakThenStrong(t *testing.T) {
	const size = 8 << 20
	const lastMod = "Mon, 23 Nov 2026 10:00:00 GMT"
	var dates atomic.Int32
	j := scripted(t, func(c *net.TCPConn) {
		r := bufio.NewReader(c)
		for {
			var start, end int64
			ifRange := ""
			for line := ""; line != "\r\n"; {
				var err error
				if line, err = r.ReadString('\n'); err != nil {
					return
				}
				fmt.Sscanf(line, "Range: bytes=%d-%d", &start, &end)
				if v, ok := strings.CutPrefix(line, "If-Range: "); ok {
					ifRange = strings.TrimSpace(v)
				}
			}
			switch {
			case ifRange == lastMod:
				dates.Add(1)
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nETag: \"x1\"\r\nLast-Modified: %s\r\nContent-Length: %d\r\n\r\n", lastMod, size)
				c.Write(make([]byte, size))
			case ifRange != "" && ifRange != `"x1"`:
				t.Errorf("If-Range %q", ifRange)
				return
			default:
				tag := `"x1"`
				if start == 0 {
					tag = `W/"x1"` // the first answer, less than a second after the change
				}
				end = min(end, size-1)
				fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nETag: %s\r\nLast-Modified: %s\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", tag, lastMod, start, end, size, end+1-start)
				c.Write(make([]byte, end+1-start))
			}
		}
	})
	j.Connections, j.PieceSize = 4, 1<<20
	res, err := runBounded(t, j)
	if err != nil || res.Size != size || dates.Load() == 0 {
		t.Fatalf("%+v, %v after %d dates refused; want %d bytes, and a date refused at least once", res, err, dates.Load(), size)
	}
	if st, err := os.Stat(j.Output); err != nil || st.Size() != size {
		t.Fatalf("output: %v, %v", st, err)
	}
}

// TestEncodedSaidSo: a file sent encoded although it was asked for as it is (Apache's
// force-gzip) is saved as sent, and a notice says so; it was saved without a word (a hunt).
func TestEncodedSaidSo(t *testing.T) {
	const size = 3 << 20
	j := scriptedRanges(t, func(c *net.TCPConn, start, end int64) {
		end = min(end, size-1)
		fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Encoding: gzip\r\nETag: \"g\"\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, size, end+1-start)
		c.Write(make([]byte, end+1-start))
	})
	j.Connections, j.PieceSize = 2, 1<<20
	var notices []string
	j.Notice = func(s string) { notices = append(notices, s) }
	if res, err := runBounded(t, j); err != nil || res.Size != size {
		t.Fatalf("%+v, %v; want %d bytes", res, err, size)
	}
	want := "the server sent the file encoded (Content-Encoding: gzip) though rangedl asked for it as it is; it is saved as sent"
	if !slices.Equal(notices, []string{want}) {
		t.Errorf("notices %q; want %q", notices, want)
	}
}

// TestResumeDateRefused: -c of a file whose record has only a Last-Modified, from a server that
// takes the date in If-Range for too weak (Apache, for 60 s after the file changed) and
// answers with the whole file: the same file, by the record, so it is asked for again without
// If-Range, and its 206 compared with the record. It was "ignores ranges; use --overwrite"
// (a hunt).
func TestResumeDateRefused(t *testing.T) {
	const size = 4 << 20
	const lastMod = "Mon, 23 Nov 2026 10:00:00 GMT"
	j := scripted(t, func(c *net.TCPConn) {
		r := bufio.NewReader(c)
		for {
			var start, end int64
			dated := false
			for line := ""; line != "\r\n"; {
				var err error
				if line, err = r.ReadString('\n'); err != nil {
					return
				}
				fmt.Sscanf(line, "Range: bytes=%d-%d", &start, &end)
				dated = dated || strings.HasPrefix(line, "If-Range: ")
			}
			if dated {
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nLast-Modified: %s\r\nContent-Length: %d\r\n\r\n", lastMod, size)
				c.Write(make([]byte, size))
				continue
			}
			end = min(end, size-1)
			fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nLast-Modified: %s\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", lastMod, start, end, size, end+1-start)
			c.Write(make([]byte, end+1-start))
		}
	})
	data := bytes.Repeat([]byte{0xAA}, size)
	clear(data[:1<<20])
	ctl := reorder.Control{URL: j.URL, FinalURL: j.URL, Size: size, LastModified: lastMod, PieceSize: 1 << 20, Durable: []reorder.Range{{Start: 0, End: 1 << 20}}}
	b, err := ctl.MarshalText()
	if err == nil {
		err = os.WriteFile(j.Output, data, 0o666)
	}
	if err == nil {
		err = os.WriteFile(j.Output+ControlSuffix, b, 0o666)
	}
	if err != nil {
		t.Fatal(err)
	}
	j.Continue, j.Connections, j.PieceSize = true, 2, 1<<20
	if res, err := runBounded(t, j); err != nil || res.Size != size || res.Resumed != 1<<20 {
		t.Fatalf("%+v, %v; want %d bytes, 1 MiB of them resumed", res, err, size)
	}
	if got, _ := os.ReadFile(j.Output); !bytes.Equal(got, make([]byte, size)) {
		t.Error("the file is not the served one")
	}
}

// TestRangePastEndRefused plays webfsd, which answers 400 to a range that ends past the file:
// the first request asks for 1 MiB, and every smaller file failed (wget and aria2c, which ask
// for no range, got it; a hunt). The probe is asked again without a range.
func TestRangePastEndRefused(t *testing.T) {
	const size = 100000
	var requests atomic.Int32
	j := scripted(t, func(c *net.TCPConn) {
		r := bufio.NewReader(c)
		for {
			start, end := int64(-1), int64(-1)
			for line := ""; line != "\r\n"; {
				var err error
				if line, err = r.ReadString('\n'); err != nil {
					return
				}
				fmt.Sscanf(line, "Range: bytes=%d-%d", &start, &end)
			}
			requests.Add(1)
			switch {
			case start < 0:
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n", size)
				c.Write(bytes.Repeat([]byte{7}, size))
			case end >= size:
				io.WriteString(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
			default:
				fmt.Fprintf(c, "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes %d-%d/%d\r\nContent-Length: %d\r\n\r\n", start, end, size, end+1-start)
				c.Write(bytes.Repeat([]byte{7}, int(end+1-start)))
			}
		}
	})
	j.Connections = 4
	var notices []string
	j.Notice = func(s string) { notices = append(notices, s) }
	if res, err := runBounded(t, j); err != nil || res.Size != size || requests.Load() != 2 {
		t.Fatalf("%+v, %v after %d requests; want %d bytes after 2", res, err, requests.Load(), size)
	}
	if got, _ := os.ReadFile(j.Output); !bytes.Equal(got, bytes.Repeat([]byte{7}, size)) {
		t.Error("the file is not the served one")
	}
	if want := []string{"the server refused a range of the file (HTTP 400); downloading it over one connection, without one"}; !slices.Equal(notices, want) {
		t.Errorf("notices %q; want %q", notices, want)
	}
}
