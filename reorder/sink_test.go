package reorder

import (
	"errors"
	"slices"
	"syscall"
	"testing"
)

// errNoSpace stands for ENOSPC from a full disk.
var errNoSpace = errors.New("no space left on device (test)")

// write is one call the sink received.
type write struct {
	off, n int64
	why    writeReason
}

// sink is an in-memory file that checks every write it receives against
// the model (want, the final file) and against the reason the Buffer gives
// for it. It is an io.WriterAt for file mode and an io.Writer for stream
// mode.
type sink struct {
	t      testing.TB
	b      *Buffer // whose reasons and limits the writes are checked against
	stream bool
	want   []byte
	has    []bool // bytes received
	count  int64  // bytes received
	next   int64  // stream mode: offset of the next byte
	writes []write

	failAt   int64 // the first byte that cannot be written; -1: never
	failed   bool
	flushing bool // set by the test around Flush and Close

	// A stream sink that would block (a full pipe) takes refill bytes
	// after each Flush, then says EAGAIN; 0: it never blocks.
	refill, room int
	again        bool // it said EAGAIN, and no Flush has come since
}

func newSink(t testing.TB, want []byte, stream bool, start int64) *sink {
	return &sink{t: t, want: want, has: make([]bool, len(want)), stream: stream, next: start, failAt: -1}
}

func (s *sink) WriteAt(p []byte, off int64) (int, error) {
	if s.stream {
		s.t.Fatalf("WriteAt(%d bytes, %d) in stream mode", len(p), off)
	}
	return s.receive(p, off)
}

func (s *sink) Write(p []byte) (int, error) {
	if !s.stream {
		s.t.Fatalf("Write(%d bytes) in file mode", len(p))
	}
	n, err := s.receive(p, s.next)
	s.next += int64(n)
	return n, err
}

func (s *sink) receive(p []byte, off int64) (int, error) {
	t := s.t
	end := off + int64(len(p))
	if s.failed {
		t.Fatalf("write [%d,%d) after a failed write", off, end)
	}
	if len(p) == 0 {
		t.Fatalf("empty write at %d", off)
	}
	if off < 0 || end > int64(len(s.want)) {
		t.Fatalf("write [%d,%d) outside the file [0,%d)", off, end, len(s.want))
	}
	if s.again {
		t.Fatalf("write [%d,%d) after EAGAIN, before a Flush", off, end)
	}
	s.checkReason(off, end)
	n, err := len(p), error(nil)
	if s.failAt >= off && s.failAt < end {
		n, err = int(s.failAt-off), errNoSpace
		s.failed = true
	}
	if s.refill > 0 && n > s.room {
		n, err, s.failed = s.room, syscall.EAGAIN, false
		s.again = true
	}
	s.room -= n
	for i := range n {
		pos := off + int64(i)
		if s.has[pos] {
			t.Fatalf("write [%d,%d): byte %d written twice", off, end, pos)
		}
		if p[i] != s.want[pos] {
			t.Fatalf("write [%d,%d): byte %d = %#x; want %#x", off, end, pos, p[i], s.want[pos])
		}
		s.has[pos] = true
	}
	s.count += int64(n)
	s.writes = append(s.writes, write{off, int64(len(p)), s.b.why})
	return n, err
}

// checkReason checks that a write is whole blocks unless it has a reason to
// be smaller: it is a chunk that can never grow (file: written bytes on both
// sides; stream: held bytes right after it), or the memory bound forced it,
// or the caller asked for a Flush.
func (s *sink) checkReason(off, end int64) {
	t, b := s.t, s.b
	switch b.why {
	case writeFull:
		if (end-off)%int64(b.bs) != 0 {
			t.Fatalf("write [%d,%d) for a full block is not whole blocks of %d", off, end, b.bs)
		}
	case writeDone:
		if s.stream {
			// drain checked that the next chunk follows; nothing to add.
			break
		}
		if off > 0 && !s.has[off-1] || end >= int64(len(s.has)) || !s.has[end] {
			t.Fatalf("write [%d,%d) for a finished chunk, but a neighbour is not written", off, end)
		}
	case writeEvict:
		if s.stream {
			t.Fatalf("eviction in stream mode")
		}
		if len(b.chunks) < b.maxBlocks {
			t.Fatalf("eviction of [%d,%d) with %d of %d blocks in use", off, end, len(b.chunks), b.maxBlocks)
		}
	case writeFlush:
		if !s.flushing {
			t.Fatalf("write [%d,%d) for a flush, outside Flush", off, end)
		}
	default:
		t.Fatalf("write [%d,%d) without a reason", off, end)
	}
}

// flush calls Flush, telling the sink that small writes are expected.
func (s *sink) flush() error {
	s.again, s.room = false, s.refill
	s.flushing = true
	defer func() { s.flushing = false }()
	return s.b.Flush()
}

// close calls Close, telling the sink that small writes are expected.
func (s *sink) close() error {
	s.flushing = true
	defer func() { s.flushing = false }()
	return s.b.Close()
}

// checkState compares the Buffer with the sink and with the model, pushed
// being the bytes pushed so far. It also checks the Buffer's private
// invariants, the ones the package comments promise.
func checkState(t testing.TB, b *Buffer, s *sink, pushed []bool) {
	t.Helper()
	if got, want := b.Written().Ranges(), bitmapRanges(s.has); !slices.Equal(got, want) {
		t.Fatalf("Written() = %v; want what the sink received %v", b.Written(), want)
	}
	if b.Written().Size() != s.count {
		t.Fatalf("Written().Size() = %d; want %d", b.Written().Size(), s.count)
	}
	var npushed int64
	for i, p := range pushed {
		if p {
			npushed++
		} else if s.has[i] {
			t.Fatalf("byte %d written but never pushed", i)
		}
	}
	if got, want := int64(b.Buffered()), npushed-s.count; got != want {
		t.Fatalf("Buffered() = %d; want %d pushed - %d written = %d", got, npushed, s.count, want)
	}
	if b.Room() != max(0, b.maxBuffered-b.Buffered()) {
		t.Fatalf("Room() = %d with Buffered() = %d of %d", b.Room(), b.Buffered(), b.maxBuffered)
	}
	stream := b.w != nil
	if stream {
		if b.Cursor() != s.next {
			t.Fatalf("Cursor() = %d; the sink got bytes up to %d", b.Cursor(), s.next)
		}
	} else {
		if b.Cursor() != -1 {
			t.Fatalf("Cursor() = %d in file mode; want -1", b.Cursor())
		}
		if b.Buffered() > b.maxBuffered || len(b.chunks) > b.maxBlocks {
			t.Fatalf("Buffered() = %d in %d blocks; bound %d in %d blocks", b.Buffered(), len(b.chunks), b.maxBuffered, b.maxBlocks)
		}
	}
	held := 0
	for i := range b.chunks {
		c := &b.chunks[i]
		switch {
		case cap(c.buf) != b.bs:
			t.Fatalf("chunk %d at %d: block of %d bytes; want %d", i, c.off, cap(c.buf), b.bs)
		case len(c.buf) == 0:
			t.Fatalf("chunk %d at %d is empty", i, c.off)
		case i > 0 && c.off < b.chunks[i-1].end():
			t.Fatalf("chunk %d at %d overlaps chunk %d ending at %d", i, c.off, i-1, b.chunks[i-1].end())
		case stream && c.off < b.cursor:
			t.Fatalf("chunk %d at %d is behind the cursor %d", i, c.off, b.cursor)
		case !stream && c.room() == 0:
			t.Fatalf("chunk %d at %d is full", i, c.off)
		case !stream && i > 0 && c.off == b.chunks[i-1].end():
			t.Fatalf("chunk %d at %d follows chunk %d without a gap", i, c.off, i-1)
		case !stream && (c.off == 0 || b.written.has(c.off-1)) && b.written.has(c.end()):
			t.Fatalf("chunk %d [%d,%d) can never grow but is still held", i, c.off, c.end())
		}
		if w := b.written.search(c.off); w < len(b.written.ranges) && b.written.ranges[w].Start < c.end() {
			t.Fatalf("chunk %d [%d,%d) overlaps written %v", i, c.off, c.end(), b.written.ranges[w])
		}
		if string(c.buf) != string(s.want[c.off:c.end()]) {
			t.Fatalf("chunk %d [%d,%d) holds the wrong bytes", i, c.off, c.end())
		}
		held += len(c.buf)
	}
	if held != b.buffered {
		t.Fatalf("chunks hold %d bytes; buffered says %d", held, b.buffered)
	}
	if stream && len(b.chunks) > 0 && b.chunks[0].off == b.cursor && !b.blocked {
		c := &b.chunks[0]
		if c.room() == 0 || len(b.chunks) > 1 && b.chunks[1].off == c.end() {
			t.Fatalf("chunk [%d,%d) at the cursor is ready but not written", c.off, c.end())
		}
	}
}
