package reorder

import (
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/valyala/bytebufferpool"
)

// BenchmarkPushFile is the steady state of a download to a file: 16
// connections, each delivering its own 4 MiB piece in slices of the given
// size, round robin, into a WriterAt that discards (so the numbers are the
// Buffer's own cost: copying and bookkeeping).
func BenchmarkPushFile(b *testing.B) {
	for _, size := range []int{16 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("slice=%dKiB", size>>10), func(b *testing.B) {
			data := make([]byte, size)
			buf := NewFile(discardAt{}, Options{})
			s := newStreams(16, 4<<20)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := s.push(buf, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPushStream is the same download to a pipe: 16 connections on
// 1 MiB pieces, and the back-pressure rule of the event loop (a connection
// ahead of the cursor is skipped while Room() == 0).
func BenchmarkPushStream(b *testing.B) {
	for _, size := range []int{16 << 10, 64 << 10} {
		b.Run(fmt.Sprintf("slice=%dKiB", size>>10), func(b *testing.B) {
			data := make([]byte, size)
			buf := NewStream(io.Discard, 0, Options{})
			s := newStreams(16, 1<<20)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				for buf.Room() == 0 && !s.atCursor(buf) {
					s.i = (s.i + 1) % len(s.offs) // held back: next connection
				}
				if err := s.push(buf, data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// atCursor reports whether the stream whose turn it is delivers the bytes
// the stream's cursor waits for.
func (s *streams) atCursor(b *Buffer) bool {
	off := s.offs[s.i]
	pieceStart := off - off%s.pieceLen
	return pieceStart <= b.Cursor() && b.Cursor() <= off
}

// BenchmarkBlockSource compares the Buffer's free list with bytebufferpool
// (sync.Pool underneath) on one get/put pattern: 32 blocks of 256 KiB
// (8 MiB, the default bound) are taken one per operation, then given back
// one per operation, as when held data drains after a stall or a Flush.
// The gc variants also run a collection every 1000 operations, standing in
// for the rest of the process: sync.Pool drops idle buffers within two
// collections, so the pool must allocate blocks again (B/op), while the free
// list keeps them. Both start warm: the window's blocks exist. Time per
// operation in the gc variants is mostly the collections themselves.
func BenchmarkBlockSource(b *testing.B) {
	const bs, window = 256 << 10, 32
	for _, gcEvery := range []int{0, 1000} {
		name := ""
		if gcEvery > 0 {
			name = fmt.Sprintf("/gc=%d", gcEvery)
		}
		b.Run("freelist"+name, func(b *testing.B) {
			p := blockPool{size: bs}
			var ring [window][]byte
			for k := range ring { // warm up: the window's blocks exist
				ring[k] = p.get()
			}
			for k := range ring {
				p.put(ring[k])
				ring[k] = nil
			}
			b.SetBytes(bs)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if k := i % window; (i/window)%2 == 0 {
					ring[k] = append(p.get(), 1) // touch it, as a Push would
				} else {
					p.put(ring[k])
					ring[k] = nil
				}
				if i++; gcEvery > 0 && i%gcEvery == 0 {
					runtime.GC()
				}
			}
		})
		b.Run("bytebufferpool"+name, func(b *testing.B) {
			var p bytebufferpool.Pool
			var ring [window]*bytebufferpool.ByteBuffer
			for k := range ring { // warm up: the window's blocks exist
				ring[k] = &bytebufferpool.ByteBuffer{B: make([]byte, bs)}
			}
			for k := range ring {
				p.Put(ring[k])
				ring[k] = nil
			}
			b.SetBytes(bs)
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if k := i % window; (i/window)%2 == 0 {
					bb := p.Get()
					if cap(bb.B) < bs {
						bb.B = make([]byte, 0, bs)
					}
					bb.B = append(bb.B, 1) // touch it, as a Push would
					ring[k] = bb
				} else {
					ring[k].B = ring[k].B[:bs] // a used block is full; Put calibrates on len
					p.Put(ring[k])
					ring[k] = nil
				}
				if i++; gcEvery > 0 && i%gcEvery == 0 {
					runtime.GC()
				}
			}
		})
	}
}
