package reorder

import (
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
)

// testFile returns n bytes of a pattern in which neighbouring bytes differ,
// so a byte written at the wrong offset shows.
func testFile(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>8)
	}
	return b
}

// step is one call in a scripted test: a Push of want[off:end], or a Flush.
type step struct {
	flush    bool
	off, end int64
}

func push(off, end int64) step { return step{off: off, end: end} }

var flush = step{flush: true}

// run builds a Buffer over a checking sink and applies the steps, checking
// the state after each one.
func run(t *testing.T, stream bool, start int64, opt Options, steps []step) (*Buffer, *sink) {
	t.Helper()
	want := testFile(256)
	s := newSink(t, want, stream, start)
	if stream {
		s.b = NewStream(s, start, opt)
	} else {
		s.b = NewFile(s, opt)
	}
	pushed := make([]bool, len(want))
	for _, st := range steps {
		var err error
		if st.flush {
			err = s.flush()
		} else {
			err = s.b.Push(st.off, want[st.off:st.end])
			for i := st.off; i < st.end; i++ {
				pushed[i] = true
			}
		}
		if err != nil {
			t.Fatalf("%+v: %v", st, err)
		}
		checkState(t, s.b, s, pushed)
	}
	return s.b, s
}

var small = Options{BlockSize: 16, MaxBuffered: 256}

func TestFileWrites(t *testing.T) {
	tests := []struct {
		name   string
		opt    Options
		steps  []step
		writes []write
		held   int
	}{
		{"block fills", small, []step{push(0, 10), push(10, 16)},
			[]write{{0, 16, writeFull}}, 0},
		{"whole blocks in one slice go in one write", small, []step{push(0, 40)},
			[]write{{0, 32, writeFull}}, 8},
		{"block, then whole blocks from the slice", small, []step{push(0, 10), push(10, 50)},
			[]write{{0, 16, writeFull}, {16, 32, writeFull}}, 2},
		{"the tail of a run waits", small, []step{push(0, 20)},
			[]write{{0, 16, writeFull}}, 4},
		{"runs meet and coalesce", small, []step{push(20, 26), push(0, 10), push(10, 20)},
			[]write{{0, 16, writeFull}}, 10},
		{"runs meet and fill a block", small, []step{push(10, 16), push(0, 10)},
			[]write{{0, 16, writeFull}}, 0},
		{"a chunk hemmed in is written at once", small, []step{push(10, 26), push(0, 10)},
			[]write{{10, 16, writeFull}, {0, 10, writeDone}}, 0},
		{"a chunk hemmed in the middle", small, []step{push(0, 16), push(20, 36), push(16, 20)},
			[]write{{0, 16, writeFull}, {20, 16, writeFull}, {16, 4, writeDone}}, 0},
		{"duplicates are ignored", small, []step{push(0, 10), push(0, 10), push(5, 12), push(3, 4)},
			nil, 12},
		{"written bytes are skipped", small, []step{push(0, 16), push(8, 24)},
			[]write{{0, 16, writeFull}}, 8},
		{"largest chunk evicted", Options{BlockSize: 16, MaxBuffered: 32},
			[]step{push(0, 4), push(100, 110), push(200, 203)},
			[]write{{100, 10, writeEvict}}, 7},
		{"flush writes everything", small, []step{push(0, 4), push(10, 14), flush},
			[]write{{0, 4, writeFlush}, {10, 4, writeFlush}}, 0},
		{"pushes continue after a flush", small, []step{push(0, 4), flush, push(4, 20)},
			[]write{{0, 4, writeFlush}, {4, 16, writeFull}}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, s := run(t, false, 0, tt.opt, tt.steps)
			if !slices.Equal(s.writes, tt.writes) {
				t.Errorf("writes = %v; want %v", s.writes, tt.writes)
			}
			if b.Buffered() != tt.held {
				t.Errorf("Buffered() = %d; want %d", b.Buffered(), tt.held)
			}
		})
	}
}

func TestStreamWrites(t *testing.T) {
	tests := []struct {
		name   string
		start  int64
		steps  []step
		writes []write
		held   int
	}{
		{"in order", 0, []step{push(0, 10), push(10, 16)},
			[]write{{0, 16, writeFull}}, 0},
		{"ahead is held until the gap fills", 0, []step{push(16, 32), push(0, 16)},
			[]write{{0, 16, writeFull}, {16, 16, writeFull}}, 0},
		{"partial block before held bytes", 0, []step{push(10, 20), push(0, 10)},
			[]write{{0, 10, writeDone}}, 10},
		{"flush writes up to the gap", 0, []step{push(0, 4), push(8, 12), flush},
			[]write{{0, 4, writeFlush}}, 4},
		{"flush after the gap fills", 0, []step{push(10, 20), push(0, 10), flush},
			[]write{{0, 10, writeDone}, {10, 10, writeFlush}}, 0},
		{"nonzero start", 5, []step{push(5, 40)},
			[]write{{5, 32, writeFull}}, 3},
		{"written bytes are ignored", 0, []step{push(0, 16), push(0, 16), push(4, 20)},
			[]write{{0, 16, writeFull}}, 4},
		{"runs ahead merge", 0, []step{push(40, 50), push(20, 40), push(0, 20)},
			// Runs are not compacted when they meet: the partial blocks at
			// their ends go out as short writes.
			[]write{{0, 16, writeFull}, {16, 4, writeDone}, {20, 16, writeFull}, {36, 4, writeDone}}, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, s := run(t, true, tt.start, small, tt.steps)
			if !slices.Equal(s.writes, tt.writes) {
				t.Errorf("writes = %v; want %v", s.writes, tt.writes)
			}
			if b.Buffered() != tt.held {
				t.Errorf("Buffered() = %d; want %d", b.Buffered(), tt.held)
			}
		})
	}
}

func TestOptions(t *testing.T) {
	tests := []struct {
		opt             Options
		bs, maxBuffered int
	}{
		{Options{}, 256 << 10, 8 << 20},
		{Options{BlockSize: -1, MaxBuffered: -1}, 256 << 10, 8 << 20},
		{Options{BlockSize: 100, MaxBuffered: 250}, 100, 300},
		{Options{BlockSize: 100, MaxBuffered: 1}, 100, 100},
		{Options{BlockSize: 100, MaxBuffered: 300}, 100, 300},
		{Options{BlockSize: 1 << 20}, 1 << 20, 8 << 20},
		{Options{BlockSize: 3, MaxBuffered: math.MaxInt}, 3, math.MaxInt / 3 * 3},
	}
	for _, tt := range tests {
		b := NewFile(nil, tt.opt)
		if b.bs != tt.bs || b.maxBuffered != tt.maxBuffered || b.Room() != tt.maxBuffered {
			t.Errorf("%+v: got block %d, bound %d, room %d; want %d, %d, %d",
				tt.opt, b.bs, b.maxBuffered, b.Room(), tt.bs, tt.maxBuffered, tt.maxBuffered)
		}
	}
	if got := NewFile(nil, Options{}).Cursor(); got != -1 {
		t.Errorf("file Cursor() = %d; want -1", got)
	}
	if got := NewStream(io.Discard, 42, Options{}).Cursor(); got != 42 {
		t.Errorf("stream Cursor() = %d; want 42", got)
	}
}

func TestBadOffset(t *testing.T) {
	data := []byte("0123456789")
	tests := []struct {
		name   string
		stream bool
		off    int64
		data   []byte
	}{
		{"negative", false, -1, data},
		{"negative and empty", false, -1, nil},
		{"most negative", false, math.MinInt64, data},
		{"past MaxInt64", false, math.MaxInt64 - 5, data},
		{"at MaxInt64", false, math.MaxInt64, data},
		{"stream negative", true, -3, data},
		{"before the stream start", true, 99, data},
		{"straddles the stream start", true, 95, data},
		{"empty before the stream start", true, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b *Buffer
			if tt.stream {
				b = NewStream(io.Discard, 100, small)
			} else {
				b = NewFile(discardAt{}, small)
			}
			err := b.Push(tt.off, tt.data)
			if !errors.Is(err, ErrBadOffset) {
				t.Fatalf("Push(%d, %d bytes) = %v; want %v", tt.off, len(tt.data), err, ErrBadOffset)
			}
			if b.Buffered() != 0 || b.Written().Size() != 0 {
				t.Errorf("after the error: Buffered() = %d, Written() = %v; want nothing", b.Buffered(), b.Written())
			}
			// The error is the caller's, not the Buffer's: it is not sticky.
			if err := b.Push(100, data); err != nil {
				t.Errorf("valid Push after a bad one = %v; want nil", err)
			}
		})
	}
	// Offsets right up to the end of the int64 range are valid.
	b := NewFile(discardAt{}, small)
	if err := b.Push(math.MaxInt64-int64(len(data)), data); err != nil {
		t.Errorf("Push ending at MaxInt64 = %v; want nil", err)
	}
	if err := b.Push(math.MaxInt64, nil); err != nil {
		t.Errorf("empty Push at MaxInt64 = %v; want nil", err)
	}
	if err := b.Close(); err != nil || b.Written().String() != "[9223372036854775797,9223372036854775807)" {
		t.Errorf("Close() = %v, Written() = %v; want nil, the ten bytes", err, b.Written())
	}
	// A stream that starts before 0 cannot be used.
	b = NewStream(io.Discard, -1, small)
	if err := b.Push(0, data); !errors.Is(err, ErrBadOffset) {
		t.Errorf("Push on a stream starting at -1 = %v; want %v", err, ErrBadOffset)
	}
}

func TestWriteError(t *testing.T) {
	tests := []struct {
		name    string
		stream  bool
		failAt  int64
		steps   []step // the last one fails
		msg     string
		written string
	}{
		{"direct write", false, 40, []step{push(0, 64)},
			"reorder: write at 40: no space left on device (test)", "[0,40)"},
		{"full block", false, 20, []step{push(16, 30), push(30, 40)},
			"reorder: write at 20: no space left on device (test)", "[16,20)"},
		{"flush", false, 25, []step{push(0, 10), push(20, 30), flush},
			"reorder: write at 25: no space left on device (test)", "[0,10) [20,25)"},
		{"eviction", false, 100, []step{push(0, 4), push(100, 110), push(200, 203)},
			"reorder: write at 100: no space left on device (test)", ""},
		{"stream drain", true, 20, []step{push(16, 32), push(0, 16)},
			"reorder: write at 20: no space left on device (test)", "[0,20)"},
		{"stream flush", true, 3, []step{push(0, 10), flush},
			"reorder: write at 3: no space left on device (test)", "[0,3)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := testFile(256)
			s := newSink(t, want, tt.stream, 0)
			s.failAt = tt.failAt
			opt := Options{BlockSize: 16, MaxBuffered: 32}
			if tt.stream {
				s.b = NewStream(s, 0, opt)
			} else {
				s.b = NewFile(s, opt)
			}
			var err error
			for i, st := range tt.steps {
				if st.flush {
					err = s.flush()
				} else {
					err = s.b.Push(st.off, want[st.off:st.end])
				}
				if (err != nil) != (i == len(tt.steps)-1) {
					t.Fatalf("step %d %+v: %v", i, st, err)
				}
			}
			if !errors.Is(err, errNoSpace) || err.Error() != tt.msg {
				t.Errorf("error = %q; want %q wrapping %v", err, tt.msg, errNoSpace)
			}
			if got := s.b.Written().String(); got != tt.written {
				t.Errorf("Written() = %q; want %q", got, tt.written)
			}
			// Sticky: the same error from now on, and nothing more written.
			if e := s.b.Push(200, want[200:250]); e != err {
				t.Errorf("Push after the error = %v; want %v", e, err)
			}
			if e := s.flush(); e != err {
				t.Errorf("Flush after the error = %v; want %v", e, err)
			}
			if e := s.close(); e != err {
				t.Errorf("Close after the error = %v; want %v", e, err)
			}
			if got := s.b.Written().String(); got != tt.written {
				t.Errorf("Written() after Close = %q; want %q", got, tt.written)
			}
			if s.b.Buffered() != 0 {
				t.Errorf("Buffered() after Close = %d; want 0", s.b.Buffered())
			}
		})
	}
}

// shortWriterAt takes at most one byte per call and reports no error, which
// breaks the io.WriterAt contract.
type shortWriterAt struct{}

func (shortWriterAt) WriteAt(p []byte, off int64) (int, error) { return min(1, len(p)), nil }

func TestShortWrite(t *testing.T) {
	b := NewFile(shortWriterAt{}, small)
	err := b.Push(0, make([]byte, 16))
	if !errors.Is(err, io.ErrShortWrite) || err.Error() != "reorder: write at 1: short write" {
		t.Errorf("Push = %v; want reorder: write at 1: %v", err, io.ErrShortWrite)
	}
	if we := new(WriteError); !errors.As(err, &we) || we.Off != 1 {
		t.Errorf("Push = %#v; want a *WriteError at offset 1", err)
	}
	if got := b.Written().String(); got != "[0,1)" {
		t.Errorf("Written() = %q; want %q", got, "[0,1)")
	}
}

// TestStreamWouldBlock: a stream sink that would block (a full pipe) takes part of a write and
// says EAGAIN. That is no error: the rest is held, nothing more is written until a Flush, and
// the block the sink took part of keeps only the bytes it did not take. Close with bytes still
// held for such a sink is an error, not a silent loss.
func TestStreamWouldBlock(t *testing.T) {
	want := testFile(256)
	s := newSink(t, want, true, 0)
	s.refill, s.room = 20, 20
	s.b = NewStream(s, 0, small)
	b := s.b
	pushed := make([]bool, len(want))
	do := func(what string, err error, blocked bool, writes []write) {
		t.Helper()
		if err != nil || b.Blocked() != blocked || !slices.Equal(s.writes, writes) {
			t.Fatalf("%s: err %v, Blocked() %v, writes %v; want nil, %v, %v", what, err, b.Blocked(), s.writes, blocked, writes)
		}
		checkState(t, b, s, pushed)
	}
	push := func(off, end int64) error {
		for i := off; i < end; i++ {
			pushed[i] = true
		}
		return b.Push(off, want[off:end])
	}
	var writes []write
	wrote := func(off, n int64, why writeReason) []write {
		writes = append(writes, write{off, n, why})
		return writes
	}
	do("two blocks from the caller's slice, 20 bytes taken", push(0, 32), true, wrote(0, 32, writeFull))
	if b.Cursor() != 20 || b.Buffered() != 12 {
		t.Fatalf("Cursor() %d, Buffered() %d; want 20 taken and 12 held", b.Cursor(), b.Buffered())
	}
	do("a block filled, not written while blocked", push(32, 48), true, writes)
	wrote(20, 16, writeFull)
	do("Flush, 20 bytes taken", s.flush(), true, wrote(36, 12, writeFlush))
	if b.Cursor() != 40 || b.Buffered() != 8 {
		t.Fatalf("Cursor() %d, Buffered() %d; want 40 taken and 8 held", b.Cursor(), b.Buffered())
	}
	do("Flush, all taken", s.flush(), false, wrote(40, 8, writeFlush))
	do("more, 12 bytes taken", push(48, 100), true, wrote(48, 48, writeFull))
	s.again = false // the sink takes nothing more, but Close must not drop what is held
	if err := b.Close(); !errors.Is(err, syscall.EAGAIN) || err.Error() != "reorder: write at 60: resource temporarily unavailable" {
		t.Errorf("Close() = %v; want reorder: write at 60: %v", err, syscall.EAGAIN)
	}
}

// TestDiscard: a discarded Buffer writes nothing more and gives its blocks back.
func TestDiscard(t *testing.T) {
	want := testFile(256)
	s := newSink(t, want, false, 0)
	s.b = NewFile(s, small)
	b := s.b
	for _, r := range []Range{{0, 5}, {40, 50}, {64, 90}} { // [64,80) is a whole block: written
		if err := b.Push(r.Start, want[r.Start:r.End]); err != nil {
			t.Fatal(err)
		}
	}
	b.Discard()
	if err := b.Close(); err != nil {
		t.Fatalf("Close() after Discard() = %v; want nil", err)
	}
	if got := b.Written().String(); got != "[64,80)" {
		t.Errorf("Written() = %q; want only the full block written before, [64,80)", got)
	}
	if b.Buffered() != 0 || len(b.chunks) != 0 || len(b.pool.free) != 3 {
		t.Errorf("after Discard: Buffered() = %d, %d chunks, %d free blocks; want 0, 0, 3", b.Buffered(), len(b.chunks), len(b.pool.free))
	}
	if err := b.Push(100, want[100:101]); !errors.Is(err, ErrClosed) {
		t.Errorf("Push after Discard = %v; want %v", err, ErrClosed)
	}
}

func TestClose(t *testing.T) {
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
			want := testFile(256)
			s := newSink(t, want, stream, 0)
			if stream {
				s.b = NewStream(s, 0, small)
			} else {
				s.b = NewFile(s, small)
			}
			b := s.b
			for _, r := range []Range{{0, 5}, {40, 50}, {80, 90}} {
				if err := b.Push(r.Start, want[r.Start:r.End]); err != nil {
					t.Fatal(err)
				}
			}
			blocks := len(b.chunks)
			if err := s.close(); err != nil {
				t.Fatalf("Close() = %v", err)
			}
			wantWritten := "[0,5) [40,50) [80,90)"
			if stream {
				wantWritten = "[0,5)" // the rest waited behind a gap and is dropped
			}
			if got := b.Written().String(); got != wantWritten {
				t.Errorf("Written() = %q; want %q", got, wantWritten)
			}
			if b.Buffered() != 0 || len(b.chunks) != 0 || len(b.pool.free) != blocks {
				t.Errorf("after Close: Buffered() = %d, %d chunks, %d free blocks; want 0, 0, %d",
					b.Buffered(), len(b.chunks), len(b.pool.free), blocks)
			}
			if err := s.close(); err != nil {
				t.Errorf("second Close() = %v; want nil", err)
			}
			if err := b.Push(100, want[100:110]); err != ErrClosed {
				t.Errorf("Push after Close = %v; want %v", err, ErrClosed)
			}
			if err := b.Flush(); err != ErrClosed {
				t.Errorf("Flush after Close = %v; want %v", err, ErrClosed)
			}
		})
	}
}

// conn is a simulated connection: it delivers its piece front to back.
type conn struct {
	piece Range
	off   int64 // next byte it delivers
	busy  bool
}

// simulation parameters for one randomized run.
type sim struct {
	stream   bool
	size     int   // file size
	start    int64 // stream start
	opt      Options
	conns    int
	maxPush  int
	failAt   int64 // -1: the sink never fails
	noEvicts bool  // assert that the bound is never reached
}

// simulate cuts a file into pieces, has conns connections deliver them as
// sequential streams interleaved at random, with duplicates, overlapping
// re-deliveries and (in file mode) stray pushes anywhere, and checks the
// Buffer against the model throughout. In stream mode the connections
// follow the back-pressure rule: one that is ahead of the cursor reads only
// while Room() > 0.
func simulate(t *testing.T, rng *rand.Rand, p sim) *sink {
	t.Helper()
	want := make([]byte, p.size)
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	s := newSink(t, want, p.stream, p.start)
	s.failAt = p.failAt
	if p.stream {
		s.b = NewStream(s, p.start, p.opt)
	} else {
		s.b = NewFile(s, p.opt)
	}
	b := s.b
	first := p.start // stream: pieces cover [start, size)
	if !p.stream {
		first = 0
	}

	// Cut the file into pieces: some shorter than a block, some long.
	var queue []Range
	for off := first; off < int64(p.size); {
		n := int64(1 + rng.IntN(max(1, 3*p.size/(2*p.conns))))
		if rng.IntN(4) == 0 {
			n = int64(1 + rng.IntN(b.bs))
		}
		end := min(off+n, int64(p.size))
		queue = append(queue, Range{off, end})
		off = end
	}
	if !p.stream { // out of order: work stealing, retries
		for range len(queue) / 3 {
			i, j := rng.IntN(len(queue)), rng.IntN(len(queue))
			queue[i], queue[j] = queue[j], queue[i]
		}
	}

	conns := make([]conn, p.conns)
	pushed := make([]bool, p.size)
	frontier := first // stream: the first byte not yet pushed
	var err error
	doPush := func(off, end int64) {
		if err = b.Push(off, want[off:end]); err == nil {
			for i := off; i < end; i++ {
				pushed[i] = true
			}
		}
	}
	for step := 0; ; step++ {
		for i := range conns {
			if !conns[i].busy && len(queue) > 0 {
				conns[i] = conn{piece: queue[0], off: queue[0].Start, busy: true}
				queue = queue[1:]
			}
		}
		for frontier < int64(p.size) && pushed[frontier] {
			frontier++
		}
		var ready []int
		for i, c := range conns {
			if c.busy && (!p.stream || b.Room() > 0 || c.off == frontier) {
				ready = append(ready, i)
			}
		}
		if len(ready) == 0 {
			for _, c := range conns {
				if c.busy {
					t.Fatalf("step %d: every busy connection is held back; cursor %d, frontier %d, Room() %d",
						step, b.Cursor(), frontier, b.Room())
				}
			}
			break
		}
		c := &conns[ready[rng.IntN(len(ready))]]
		switch r := rng.IntN(100); {
		case r < 5 && c.off > c.piece.Start: // duplicate of bytes it sent
			a := c.piece.Start + rng.Int64N(c.off-c.piece.Start)
			doPush(a, a+1+rng.Int64N(c.off-a))
		case r < 7 && !p.stream: // a stray push anywhere
			a := rng.Int64N(int64(p.size))
			doPush(a, min(int64(p.size), a+1+int64(rng.IntN(p.maxPush))))
		case r < 8:
			err = s.flush()
		default: // the next slice, sometimes re-sending a few bytes before it
			end := min(c.piece.End, c.off+1+int64(rng.IntN(p.maxPush)))
			from := c.off
			if rng.IntN(8) == 0 {
				from -= rng.Int64N(c.off - c.piece.Start + 1)
			}
			doPush(from, end)
			c.off = end
			c.busy = end < c.piece.End
		}
		if err != nil {
			break
		}
		if p.stream && b.Buffered() > b.maxBuffered+p.maxPush+b.bs {
			t.Fatalf("step %d: Buffered() = %d; bound %d + push %d + block %d",
				step, b.Buffered(), b.maxBuffered, p.maxPush, b.bs)
		}
		if step%64 == 0 {
			checkState(t, b, s, pushed)
		}
	}
	if err == nil {
		err = s.flush()
	}
	if p.failAt >= 0 && s.failed {
		checkFailed(t, b, s, err)
		return s
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	checkState(t, b, s, pushed)
	if p.stream {
		if b.Cursor() != int64(p.size) || b.Buffered() != 0 {
			t.Fatalf("stream ended at %d with %d bytes held; want %d, 0", b.Cursor(), b.Buffered(), p.size)
		}
	} else if b.Written().Size() != int64(p.size) || b.Buffered() != 0 {
		t.Fatalf("file has %d of %d bytes written, %d held", b.Written().Size(), p.size, b.Buffered())
	}
	if p.noEvicts {
		for _, w := range s.writes {
			if w.why == writeEvict {
				t.Fatalf("eviction %+v with a bound larger than the file", w)
			}
		}
	}
	if err := s.close(); err != nil {
		t.Fatalf("Close() = %v", err)
	}
	return s
}

// checkFailed checks a Buffer whose sink failed: err is the sink's error,
// wrapped, and sticks; Written has exactly what the sink took.
func checkFailed(t *testing.T, b *Buffer, s *sink, err error) {
	t.Helper()
	if !errors.Is(err, errNoSpace) {
		t.Fatalf("error = %v; want one wrapping %v", err, errNoSpace)
	}
	if got, want := b.Written().Ranges(), bitmapRanges(s.has); !slices.Equal(got, want) {
		t.Fatalf("Written() = %v; want what the sink received %v", b.Written(), want)
	}
	if b.Written().Contains(Range{s.failAt, s.failAt + 1}) {
		t.Fatalf("Written() = %v contains the failed byte %d", b.Written(), s.failAt)
	}
	if e := b.Push(0, s.want[:1]); e != err {
		t.Fatalf("Push after the error = %v; want %v", e, err)
	}
	if e := s.flush(); e != err {
		t.Fatalf("Flush after the error = %v; want %v", e, err)
	}
	if e := s.close(); e != err {
		t.Fatalf("Close after the error = %v; want %v", e, err)
	}
}

func randomSim(rng *rand.Rand, stream bool) sim {
	bs := []int{1, 7, 16, 64, 512, 4096}[rng.IntN(6)]
	p := sim{
		stream:  stream,
		size:    1 + rng.IntN(64<<10),
		opt:     Options{BlockSize: bs, MaxBuffered: 1 + rng.IntN(24*bs)},
		conns:   1 + rng.IntN(16),
		maxPush: 1 + rng.IntN(3*bs),
		failAt:  -1,
	}
	if bs < 64 {
		p.size = 1 + rng.IntN(4<<10) // keep the number of steps reasonable
	}
	if stream {
		p.start = rng.Int64N(int64(p.size))
	}
	switch rng.IntN(4) {
	case 0:
		// A block per byte: never short of blocks, however many runs.
		p.opt.MaxBuffered = (p.size + 1) * bs
		p.noEvicts = true
	case 1:
		p.failAt = p.start + rng.Int64N(int64(p.size)-p.start)
	}
	return p
}

func TestFileRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for seed := range uint64(n) {
		rng := rand.New(rand.NewPCG(seed, 1))
		p := randomSim(rng, false)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { simulate(t, rng, p) })
	}
}

func TestStreamRandom(t *testing.T) {
	n := 300
	if testing.Short() {
		n = 50
	}
	for seed := range uint64(n) {
		rng := rand.New(rand.NewPCG(seed, 2))
		p := randomSim(rng, true)
		t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) { simulate(t, rng, p) })
	}
}

// TestDownloadPattern runs the pattern the package is tuned for, with real
// sizes: 16 connections, pieces of random lengths (so boundaries fall
// mid-block), slices of up to 256 KiB, the default options. Writes must be
// whole blocks except where a piece boundary forces a small one, and on
// Flush; the bound is never reached.
func TestDownloadPattern(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	s := simulate(t, rng, sim{
		size:     8<<20 + 12345,
		opt:      Options{BlockSize: 256 << 10, MaxBuffered: 8 << 20},
		conns:    16,
		maxPush:  256 << 10,
		failAt:   -1,
		noEvicts: true,
	})
	var n, bytes [writeFlush + 1]int64
	for _, w := range s.writes {
		n[w.why]++
		bytes[w.why] += w.n
	}
	t.Logf("%d writes: %d full (%d bytes), %d done (%d bytes), %d flush (%d bytes)",
		len(s.writes), n[writeFull], bytes[writeFull], n[writeDone], bytes[writeDone], n[writeFlush], bytes[writeFlush])
}

// discardAt is a WriterAt that drops everything, like a file on a very fast
// disk.
type discardAt struct{}

func (discardAt) WriteAt(p []byte, off int64) (int, error) { return len(p), nil }

// streams drives n sequential streams, round robin, each over its own piece
// of pieceLen bytes; a stream that finishes its piece takes the next one.
// It is the steady state of a download, for the allocation test and the
// benchmarks.
type streams struct {
	offs     []int64
	pieceLen int64
	next     int64 // start of the next piece to hand out
	i        int
}

func newStreams(n int, pieceLen int64) *streams {
	s := &streams{offs: make([]int64, n), pieceLen: pieceLen}
	for i := range s.offs {
		s.offs[i] = s.next
		s.next += pieceLen
	}
	return s
}

// push pushes the next slice of the next stream.
func (s *streams) push(b *Buffer, data []byte) error {
	i := s.i
	s.i = (s.i + 1) % len(s.offs)
	off := s.offs[i]
	n := min(int64(len(data)), s.pieceLen-off%s.pieceLen)
	if err := b.Push(off, data[:n]); err != nil {
		return err
	}
	s.offs[i] += n
	if s.offs[i]%s.pieceLen == 0 {
		s.offs[i] = s.next
		s.next += s.pieceLen
	}
	return nil
}

func TestPushAllocs(t *testing.T) {
	data := make([]byte, 64<<10)
	for _, stream := range []bool{false, true} {
		t.Run(fmt.Sprint("stream=", stream), func(t *testing.T) {
			var b *Buffer
			if stream {
				b = NewStream(io.Discard, 0, Options{})
			} else {
				b = NewFile(discardAt{}, Options{})
			}
			// Piece lengths off the block grid, so runs meet mid-block.
			s := newStreams(16, 1<<20+1000)
			for range 2000 { // warm up: the free list and slices reach their size
				if err := s.push(b, data); err != nil {
					t.Fatal(err)
				}
			}
			allocs := testing.AllocsPerRun(2000, func() {
				if err := s.push(b, data); err != nil {
					t.Fatal(err)
				}
			})
			if allocs != 0 {
				t.Errorf("allocations per Push = %v; want 0", allocs)
			}
		})
	}
}
