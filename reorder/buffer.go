package reorder

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"
	"syscall"
)

// Errors returned by a Buffer. A write error is not one of these: it is a
// *WriteError, the sink's own error with the offset (see Push).
var (
	// ErrBadOffset reports a Push at a negative offset, past the end of the
	// int64 range, or before the start of a stream.
	ErrBadOffset = errors.New("reorder: bad offset")
	// ErrClosed reports a call on a Buffer after Close.
	ErrClosed = errors.New("reorder: buffer closed")
)

// A WriteError is a write the sink refused, or took only part of.
type WriteError struct {
	Off int64 // the first byte the sink did not take
	Err error // the sink's error; io.ErrShortWrite when it returned none
}

func (e *WriteError) Error() string { return fmt.Sprintf("reorder: write at %d: %v", e.Off, e.Err) }

func (e *WriteError) Unwrap() error { return e.Err }

const (
	defaultBlockSize   = 256 << 10
	defaultMaxBuffered = 8 << 20
)

// Options tunes a Buffer. The zero value selects the defaults.
type Options struct {
	// BlockSize is the size of a block, and the unit of a write: every
	// write of data still arriving is a whole number of blocks. Default
	// 256 KiB.
	BlockSize int
	// MaxBuffered bounds the bytes held in blocks; it is rounded up to a
	// whole number of blocks. File mode never exceeds it; stream mode
	// relies on the caller watching Room. Default 8 MiB.
	MaxBuffered int
	// Blocks, if set, supplies the blocks, which go back to it at Close;
	// BlockSize is then Blocks.Size().
	Blocks *Blocks
	// Written lists ranges already in the sink before the Buffer was made
	// (a resumed download's durable ranges). Pushes there are ignored, and
	// Written() starts with them.
	Written []Range
}

// writeReason says why a write is happening. Only the write in progress
// has one; tests read it from inside their sink to check that every small
// write has a reason to be small.
type writeReason uint8

const (
	writeNone  writeReason = iota
	writeFull              // whole blocks: a block filled up, or the caller's slice held whole blocks
	writeDone              // file: a chunk that can never grow; stream: a chunk followed by held bytes
	writeEvict             // file: the memory bound was reached (the largest chunk goes first)
	writeFlush             // Flush or Close
)

// chunk is contiguous data held in one block: buf[i] belongs at file
// offset off+i. len(buf) is the data held, cap(buf) the block size.
type chunk struct {
	off int64
	buf []byte
}

func (c *chunk) end() int64 { return c.off + int64(len(c.buf)) }
func (c *chunk) room() int  { return cap(c.buf) - len(c.buf) }

// Buffer holds body bytes between the network and the disk, and writes them
// in large writes. See the package documentation for the two modes and the
// contract. A Buffer is not safe for concurrent use.
type Buffer struct {
	wa io.WriterAt // file mode sink; nil in stream mode
	w  io.Writer   // stream mode sink; nil in file mode

	// Stream mode: every offset below cursor has been written, and start
	// is where the stream began. In file mode both are -1.
	start, cursor int64

	bs          int // block size
	maxBlocks   int // MaxBuffered in blocks
	maxBuffered int // maxBlocks * bs

	// chunks is the data held, sorted by offset and disjoint. Both modes
	// keep at most one chunk per block, so len(chunks) is the number of
	// blocks in use. In file mode no chunk is empty, full or adjacent to
	// another between calls; in stream mode a run of contiguous bytes ahead
	// of the cursor is a sequence of adjacent chunks.
	chunks   []chunk
	buffered int // sum of len(chunks[i].buf)
	pool     blockPool
	written  RangeSet

	err      error // sticky: the first write error
	blocked  bool  // stream: the sink would block, and nothing is written until Flush
	closed   bool
	closeErr error       // what Close returned, returned again on later calls
	why      writeReason // reason of the write in progress, for tests and debuggers
}

// NewFile returns a Buffer in file mode: bytes may be pushed at any offset
// and are written with w.WriteAt in whatever order they become ready. An
// *os.File is an io.WriterAt (pwrite). w must not be nil.
func NewFile(w io.WriterAt, opt Options) *Buffer {
	b := newBuffer(opt)
	b.wa = w
	b.start, b.cursor = -1, -1
	return b
}

// NewStream returns a Buffer in stream mode: w receives the bytes at
// offsets start, start+1, ... strictly in order and without gaps, which is
// what a pipe such as stdout needs. Bytes ahead of the cursor are held until
// the gap before them is filled. w must not be nil; a negative start makes
// every call fail with ErrBadOffset.
func NewStream(w io.Writer, start int64, opt Options) *Buffer {
	b := newBuffer(opt)
	b.w = w
	b.start, b.cursor = start, start
	if start < 0 {
		b.err = fmt.Errorf("%w: stream start %d", ErrBadOffset, start)
	}
	return b
}

func newBuffer(opt Options) *Buffer {
	bs := opt.BlockSize
	if opt.Blocks != nil {
		bs = opt.Blocks.Size()
	}
	if bs <= 0 {
		bs = defaultBlockSize
	}
	limit := opt.MaxBuffered
	if limit <= 0 {
		limit = defaultMaxBuffered
	}
	blocks := limit / bs
	if limit%bs != 0 {
		blocks++ // round up to whole blocks
	}
	blocks = min(blocks, math.MaxInt/bs) // keep blocks*bs in range
	b := &Buffer{
		bs:          bs,
		maxBlocks:   blocks,
		maxBuffered: blocks * bs,
		pool:        blockPool{size: bs, shared: opt.Blocks},
	}
	// Size the bookkeeping slices for the bound up front so the steady
	// state never grows them (stream mode may still exceed the bound).
	n := min(blocks, 1024) + 1
	b.chunks = make([]chunk, 0, n)
	b.pool.free = make([][]byte, 0, n)
	for _, r := range opt.Written {
		b.written.Add(r)
	}
	return b
}

// Push copies data, which belongs at offset off. data may be reused as soon
// as Push returns.
//
// Bytes already pushed, whether still held or written, are ignored: the
// first copy wins (the caller validated both copies against the same
// validators, so they are equal).
//
// In file mode a block that becomes full is written at once, with one
// WriteAt of BlockSize bytes, or of several blocks when data itself holds
// whole blocks (they go to the sink without being copied). When a new block
// is needed and all MaxBuffered bytes of blocks are in use, the largest
// held chunks are written out early, so file mode never exceeds the bound.
//
// In stream mode bytes at the cursor are written as soon as a block is
// full; bytes ahead of the cursor are held. Push always accepts them: the
// caller bounds memory by not reading from connections that are ahead of
// the cursor while Room() == 0.
//
// A negative offset, a range past math.MaxInt64, or in stream mode an
// offset before the stream's start, is an ErrBadOffset error and changes
// nothing. A write error is a *WriteError; the Buffer then fails every later
// Push and Flush with that same error, and the bytes not written are not in
// Written.
func (b *Buffer) Push(off int64, data []byte) error {
	if b.closed {
		return ErrClosed
	}
	if b.err != nil {
		return b.err
	}
	if off < 0 || off > math.MaxInt64-int64(len(data)) {
		return fmt.Errorf("%w: push of %d bytes at %d", ErrBadOffset, len(data), off)
	}
	if b.w != nil && off < b.start {
		return fmt.Errorf("%w: push at %d, before the stream start %d", ErrBadOffset, off, b.start)
	}
	// Cut data into spans that are either all new or all already pushed,
	// and hand the new ones on. In the common case (a connection extending
	// its own run) this loop runs once.
	for len(data) > 0 {
		pushed, until := b.pushedAt(off)
		n := len(data)
		if until-off < int64(n) {
			n = int(until - off)
		}
		if !pushed {
			var err error
			if b.wa != nil {
				err = b.addFile(off, data[:n])
			} else {
				err = b.addStream(off, data[:n])
			}
			if err != nil {
				return err
			}
		}
		off += int64(n)
		data = data[n:]
	}
	return nil
}

// Flush writes what can be written now. In file mode that is everything
// held. In stream mode it is every byte contiguous with the cursor, the last
// partial block included; bytes behind a gap stay held.
func (b *Buffer) Flush() error {
	if b.closed {
		return ErrClosed
	}
	if b.err != nil {
		return b.err
	}
	if b.w != nil {
		b.blocked = false
		return b.drain(true)
	}
	for len(b.chunks) > 0 {
		if err := b.emit(b.chunks[0].buf, b.chunks[0].off, writeFlush); err != nil {
			return err
		}
		b.release(0)
	}
	return nil
}

// Blocked reports, in stream mode, that the sink would block (it returned
// EAGAIN): bytes wait for a Flush once it can take more.
func (b *Buffer) Blocked() bool { return b.blocked }

// Buffered returns the number of bytes held in blocks, waiting to be
// written.
func (b *Buffer) Buffered() int { return b.buffered }

// Room returns how many more bytes can be held before MaxBuffered (rounded
// up to whole blocks) is reached, or 0 if it is reached or exceeded.
func (b *Buffer) Room() int { return max(0, b.maxBuffered-b.buffered) }

// Cursor returns, in stream mode, the next offset the writer needs; every
// byte before it has been written. In file mode it returns -1.
func (b *Buffer) Cursor() int64 { return b.cursor }

// Written returns the ranges the sink accepted. They are not necessarily
// durable: syncing the file before recording them is the caller's job.
// The set is the Buffer's own and changes with every write; callers must
// not modify it.
func (b *Buffer) Written() *RangeSet { return &b.written }

// Close flushes the Buffer, then returns every block to its free list, or to
// Options.Blocks.
// In stream mode, bytes still waiting behind a gap are dropped (they are not
// in Written). Close is idempotent: later calls return what the first one
// returned, and every other method except the accessors returns ErrClosed.
func (b *Buffer) Close() error {
	if b.closed {
		return b.closeErr
	}
	err := b.Flush()
	if err == nil && b.blocked {
		// The bytes held would be lost: a sink that would block must not be closed.
		err = &WriteError{Off: b.cursor, Err: syscall.EAGAIN}
	}
	b.Discard() // nothing is left to write
	b.closeErr = err
	return err
}

// Discard closes the Buffer without writing what it holds, for a caller
// that has removed the file: nothing more reaches the sink, and the blocks
// go back as at Close. Close then returns nil.
func (b *Buffer) Discard() {
	if b.closed {
		return
	}
	for i := len(b.chunks) - 1; i >= 0; i-- {
		b.release(i)
	}
	b.pool.giveBack()
	b.closed = true
}

// pushedAt reports whether the byte at off was already pushed (written or
// held) and, if it was, the end of that pushed span; if it was not, the
// offset of the next pushed byte after off (math.MaxInt64 if none). The
// span ends at the edge of a range or chunk, so the caller may meet another
// pushed span right after it.
func (b *Buffer) pushedAt(off int64) (pushed bool, until int64) {
	until = math.MaxInt64
	if i := b.written.search(off); i < len(b.written.ranges) {
		r := b.written.ranges[i]
		if r.Start <= off {
			return true, r.End
		}
		until = r.Start
	}
	if k := b.find(off); k < len(b.chunks) {
		c := &b.chunks[k]
		if c.off <= off {
			return true, c.end()
		}
		until = min(until, c.off)
	}
	return false, until
}

// find returns the index of the first chunk that ends after off: the chunk
// holding off if there is one, else the position where a chunk starting at
// off belongs. The chunk ending exactly at off, if any, is at find(off)-1.
func (b *Buffer) find(off int64) int {
	lo, hi := 0, len(b.chunks)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if b.chunks[m].end() > off {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

// endingAt returns the index of the chunk whose data ends exactly at off,
// or -1.
func (b *Buffer) endingAt(off int64) int {
	if k := b.find(off); k > 0 && b.chunks[k-1].end() == off {
		return k - 1
	}
	return -1
}

// insertChunk adds an empty chunk at off, which must not be held already,
// and returns its index.
func (b *Buffer) insertChunk(off int64) int {
	k := b.find(off)
	b.chunks = slices.Insert(b.chunks, k, chunk{off: off, buf: b.pool.get()})
	return k
}

// release drops chunk i, with whatever it still holds, and returns its
// block to the free list.
func (b *Buffer) release(i int) {
	b.buffered -= len(b.chunks[i].buf)
	b.pool.put(b.chunks[i].buf)
	b.chunks = slices.Delete(b.chunks, i, i+1)
}

// emit hands p, which belongs at off, to the sink and records what the
// sink took. In stream mode off must be the cursor.
func (b *Buffer) emit(p []byte, off int64, why writeReason) error {
	b.why = why
	var n int
	var err error
	if b.wa != nil {
		n, err = b.wa.WriteAt(p, off)
	} else {
		if off != b.cursor {
			panic("BUG: reorder: stream write away from the cursor")
		}
		n, err = b.w.Write(p)
	}
	b.why = writeNone
	// io.Writer and io.WriterAt promise 0 <= n <= len(p); a sink that breaks
	// the promise must not corrupt the bookkeeping.
	n = max(0, min(n, len(p)))
	if n > 0 {
		b.written.Add(Range{off, off + int64(n)})
		if b.w != nil {
			b.cursor += int64(n)
		}
	}
	if b.w != nil && errors.Is(err, syscall.EAGAIN) {
		b.blocked = true // not an error: the rest waits for Flush
		return nil
	}
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		b.err = &WriteError{Off: off + int64(n), Err: err}
		return b.err
	}
	return nil
}
