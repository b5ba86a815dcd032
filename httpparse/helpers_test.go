package httpparse

import (
	"fmt"
	"hash/crc32"
	"strings"
	"testing"
)

// respOut is what the driver saw of one response.
type respOut struct {
	resp    Response // copy of Parser.Resp when Head returned nil
	summary string   // summarize(&resp), checked again when the body ends
	headLen int      // bytes consumed by Head, interim heads included
	data    []byte   // concatenated body payload
	bodyLen int      // bytes consumed by Body, framing included
	done    bool
}

// outcome is everything observable from parsing one input: it must not
// depend on how the input was split.
type outcome struct {
	resps []respOut
	err   error // first failure returned by Head or Body
	eof   error // EOF() once the input ran out (when err == nil)
}

// firstErr is the error a table test compares: the failure, or EOF's.
func (o *outcome) firstErr() error {
	if o.err != nil {
		return o.err
	}
	return o.eof
}

// String renders the outcome as the transcript the golden files hold.
func (o *outcome) String() string {
	var sb strings.Builder
	for i := range o.resps {
		r := &o.resps[i]
		fmt.Fprintf(&sb, "head %s len=%d\n", r.summary, r.headLen)
		if len(r.data) > 0 {
			fmt.Fprintf(&sb, "data %s\n", quoteBytes(r.data))
		}
		if r.done {
			fmt.Fprintf(&sb, "done len=%d\n", r.bodyLen)
		}
	}
	if o.err != nil {
		fmt.Fprintf(&sb, "error %v\n", o.err)
	} else {
		fmt.Fprintf(&sb, "eof %v\n", o.eof)
	}
	return sb.String()
}

// quoteBytes quotes short byte strings and abbreviates long ones, so that
// golden files stay readable when values are kilobytes long.
func quoteBytes(b []byte) string {
	if len(b) <= 80 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q...(%d bytes, crc32 %08x)", b[:32], len(b), crc32.ChecksumIEEE(b))
}

// summarize renders the parsed head on one line.
func summarize(r *Response) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "HTTP/%d.%d %d %s body=%v cl=%d keep=%v",
		r.Major, r.Minor, r.Status, quoteBytes(r.Reason()), r.Body, r.ContentLength, r.KeepAlive)
	if r.HasRange {
		fmt.Fprintf(&sb, " range=%d-%d/%d", r.Range.Start, r.Range.End, r.Range.Total)
	}
	for _, kv := range []struct {
		k string
		v []byte
	}{
		{"etag", r.ETag()},
		{"last-modified", r.LastModified()},
		{"location", r.Location()},
		{"retry-after", r.RetryAfter()},
		{"content-encoding", r.ContentEncoding()},
	} {
		if kv.v != nil {
			fmt.Fprintf(&sb, " %s=%s", kv.k, quoteBytes(kv.v))
		}
	}
	return sb.String()
}

// drive parses pieces as consecutive reads of one connection, like the
// event loop would: Head until the head is complete, Body until done,
// Reset and on to the next (pipelined) response, EOF when input runs out.
// Each piece is copied into its own buffer that is overwritten once the
// piece is used up, so anything the parser kept pointing into it would
// show. It checks the API contract on every call.
func drive(t testing.TB, pieces [][]byte, noBody bool) outcome {
	t.Helper()
	var (
		o       outcome
		p       Parser
		inBody  bool
		headLen int
	)
	p.NoBody = noBody
	for _, piece := range pieces {
		buf := append([]byte(nil), piece...)
		b := buf
		for {
			if !inBody {
				if len(b) == 0 {
					break
				}
				n, err := p.Head(b)
				if n < 0 || n > len(b) {
					t.Fatalf("Head consumed %d of %d bytes", n, len(b))
				}
				headLen += n
				if err == ErrNeedMore {
					if n != len(b) {
						t.Fatalf("Head: ErrNeedMore after consuming %d of %d bytes", n, len(b))
					}
					break
				}
				if err != nil {
					o.err = err
					return o
				}
				o.resps = append(o.resps, respOut{resp: p.Resp, summary: summarize(&p.Resp), headLen: headLen})
				headLen = 0
				if got, want := remaining(&p), int64(-1); p.Resp.Body == BodyLength {
					if got != p.Resp.ContentLength {
						t.Fatalf("Remaining after head: got %v; want %v", got, p.Resp.ContentLength)
					}
				} else if got != want {
					t.Fatalf("Remaining for %v: got %v; want %v", p.Resp.Body, got, want)
				}
				inBody = true
				b = b[n:]
			}
			cur := &o.resps[len(o.resps)-1]
			data, n, done, err := p.Body(b)
			if n < 0 || n > len(b) {
				t.Fatalf("Body consumed %d of %d bytes", n, len(b))
			}
			if !within(data, b[:n]) {
				t.Fatalf("Body returned data outside the %d bytes it consumed", n)
			}
			if err != nil {
				if data != nil {
					t.Fatalf("Body returned %d bytes of data with error %v", len(data), err)
				}
				o.err = err
				return o
			}
			cur.data = append(cur.data, data...)
			cur.bodyLen += n
			if cur.resp.Body == BodyLength {
				if got, want := remaining(&p), cur.resp.ContentLength-int64(len(cur.data)); got != want {
					t.Fatalf("Remaining: got %v; want %v", got, want)
				}
			}
			b = b[n:]
			if done {
				if got := summarize(&p.Resp); got != cur.summary {
					t.Fatalf("Resp changed during the body: got %v; want %v", got, cur.summary)
				}
				cur.done = true
				p.Reset()
				p.NoBody = noBody
				inBody = false
				continue
			}
			if len(b) == 0 {
				break
			}
			if n == 0 {
				t.Fatalf("Body made no progress on %d bytes", len(b))
			}
		}
		for i := range buf {
			buf[i] = 0xA5
		}
	}
	o.eof = p.EOF()
	if o.eof == nil && inBody && len(o.resps) > 0 && !o.resps[len(o.resps)-1].done {
		// A close-delimited body ended by EOF.
		if o.resps[len(o.resps)-1].resp.Body != BodyClose {
			t.Fatalf("EOF returned nil in the middle of a %v body", o.resps[len(o.resps)-1].resp.Body)
		}
	}
	return o
}

// within reports whether data lies inside b (sharing its memory).
func within(data, b []byte) bool {
	if len(data) == 0 {
		return true
	}
	for i := 0; i+len(data) <= len(b); i++ {
		if &b[i] == &data[0] {
			return true
		}
	}
	return false
}

// splitAt cuts in into pieces whose lengths come from sizes (cycled; a
// size of 0 counts as 1).
func splitAt(in []byte, sizes []byte) [][]byte {
	if len(sizes) == 0 {
		return [][]byte{in}
	}
	var pieces [][]byte
	for i := 0; len(in) > 0; i++ {
		n := max(int(sizes[i%len(sizes)]), 1)
		n = min(n, len(in))
		pieces = append(pieces, in[:n])
		in = in[n:]
	}
	return pieces
}

// splitPoints returns where checkFeeds cuts an input in two: everywhere
// for small inputs, and for big ones (the limit tests are 64 KiB) the
// first and last 300 bytes and a spread in between, which covers every
// line boundary kind without spending minutes under -race.
func splitPoints(n int) []int {
	var pts []int
	for i := 1; i < n; i++ {
		if n <= 2048 || i <= 300 || i >= n-300 || i%509 == 0 {
			pts = append(pts, i)
		}
	}
	return pts
}

// checkFeeds parses in whole, in two pieces at every split point, and one
// byte at a time; the outcomes must be identical. It returns the outcome.
func checkFeeds(t *testing.T, in []byte, noBody bool) outcome {
	t.Helper()
	whole := drive(t, [][]byte{in}, noBody)
	want := whole.String()
	for _, i := range splitPoints(len(in)) {
		o := drive(t, [][]byte{in[:i], in[i:]}, noBody)
		if got := o.String(); got != want {
			t.Fatalf("split at %d:\ngot %v\nwant %v", i, got, want)
		}
	}
	o := drive(t, splitAt(in, []byte{1}), noBody)
	if got := o.String(); got != want {
		t.Fatalf("one byte at a time:\ngot %v\nwant %v", got, want)
	}
	return whole
}

// remaining returns how many body bytes a BodyLength response still owes,
// or -1 for any other framing or before the head is complete.
func remaining(p *Parser) int64 {
	switch p.state {
	case stateBodyLength:
		return p.remaining
	case stateDone:
		if p.Resp.Body == BodyLength {
			return 0
		}
	}
	return -1
}
