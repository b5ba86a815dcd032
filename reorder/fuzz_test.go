package reorder

import (
	"errors"
	"testing"
)

// FuzzBuffer drives a Buffer with operations decoded from the fuzzer's
// bytes and checks it against the model after every one.
//
// Layout: four configuration bytes, then three bytes per operation.
//
//	in[0]  bit 0: stream mode; bits 1-5: BlockSize 1..32; bit 6: blocks from
//	       a Blocks that already holds blocks full of stale bytes; bit 7: a
//	       stream's sink would block (EAGAIN) after 1..29 bytes per Flush
//	in[1]  MaxBuffered 1..256 (rounded up to blocks)
//	in[2]  file size 1..511
//	in[3]  bits 0-3: stream start; bits 4-7: 12..15 make the sink fail at
//	       0/4, 1/4, 2/4 or 3/4 of the stream, other values never
//	op     a, c, d: a>>5 == 7: Flush; 6: a bad Push (negative, or before
//	       the stream start); else Push of d bytes at ((a&31)<<8|c) % size
func FuzzBuffer(f *testing.F) {
	f.Add([]byte{0x20, 64, 100, 0, 0, 10, 50, 0, 0, 40, 7 << 5, 0, 0})
	f.Add([]byte{0x21, 64, 100, 3, 0, 60, 40, 0, 0, 60, 0, 30, 255, 7 << 5, 0, 0})
	f.Add([]byte{0x08, 8, 200, 0xd0, 0, 0, 255, 0, 100, 10, 6 << 5, 1, 2})
	f.Add([]byte{0x09, 2, 255, 0xe5, 0, 200, 40, 0, 100, 100, 0, 7, 99, 6<<5 | 1, 0, 3, 7 << 5, 0, 0})
	f.Add([]byte{0x48, 8, 200, 0, 0, 0, 255, 0, 100, 10, 0, 50, 30, 7 << 5, 0, 0})
	f.Add([]byte{0x89, 64, 100, 0, 0, 10, 50, 0, 0, 40, 7 << 5, 0, 0, 0, 60, 40, 7 << 5, 0, 0})
	f.Add([]byte{0xC5, 9, 255, 0xe2, 0, 0, 255, 0, 200, 40, 7 << 5, 0, 0, 0, 100, 100})
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < 4 {
			return
		}
		stream := in[0]&1 == 1
		opt := Options{BlockSize: 1 + int(in[0]>>1)%32, MaxBuffered: 1 + int(in[1])}
		if in[0]&0x40 != 0 {
			opt.Blocks = staleBlocks(opt.BlockSize, 3)
		}
		size := 1 + int(in[2])<<1
		start := int64(0)
		if stream {
			start = int64(in[3]&15) % int64(size+1)
		}
		want := testFile(size)
		s := newSink(t, want, stream, start)
		if fail := int64(in[3] >> 4); fail >= 12 && start < int64(size) {
			s.failAt = start + (fail-12)*(int64(size)-start)/4
		}
		if stream && in[0]&0x80 != 0 {
			s.refill = 1 + int(in[1]^in[2])%29
			s.room = s.refill
		}
		if stream {
			s.b = NewStream(s, start, opt)
		} else {
			s.b = NewFile(s, opt)
		}
		b := s.b
		pushed := make([]bool, size)

		for ops := in[4:]; len(ops) >= 3; ops = ops[3:] {
			a, c, d := ops[0], ops[1], ops[2]
			var err error
			switch a >> 5 {
			case 7:
				err = s.flush()
			case 6:
				off := -1 - (int64(c)<<8 | int64(d))
				if stream && a&1 == 1 && start > 0 {
					off = int64(c) % start
				}
				if err := b.Push(off, want[:min(size, int(d))]); !errors.Is(err, ErrBadOffset) && !s.failed {
					t.Fatalf("Push(%d) = %v; want %v", off, err, ErrBadOffset)
				}
				continue
			default:
				off := (int64(a&31)<<8 | int64(c)) % int64(size)
				end := min(off+int64(d), int64(size))
				if stream && off < start {
					off = start + off%(int64(size)-start+1)
					end = max(off, end)
				}
				if err = b.Push(off, want[off:end]); err == nil {
					for i := off; i < end; i++ {
						pushed[i] = true
					}
				}
			}
			if s.failed {
				checkFailed(t, b, s, err)
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			checkState(t, b, s, pushed)
		}

		err := s.flush()
		for err == nil && b.Blocked() {
			err = s.flush() // each takes a few more bytes
		}
		if s.failed {
			checkFailed(t, b, s, err)
			return
		}
		if err != nil {
			t.Fatalf("Flush() = %v", err)
		}
		checkState(t, b, s, pushed)
		// After a Flush, file mode holds nothing and stream mode holds only
		// what waits behind the first gap.
		if !stream && b.Buffered() != 0 {
			t.Fatalf("Buffered() = %d after Flush; want 0", b.Buffered())
		}
		if stream {
			gap := start
			for gap < int64(size) && pushed[gap] {
				gap++
			}
			if b.Cursor() != gap {
				t.Fatalf("Cursor() = %d after Flush; want the first gap %d", b.Cursor(), gap)
			}
		}
		if err := s.close(); err != nil {
			t.Fatalf("Close() = %v", err)
		}
		if err := b.Push(0, want[:1]); err != ErrClosed {
			t.Fatalf("Push after Close = %v; want %v", err, ErrClosed)
		}
	})
}

// staleBlocks returns a Blocks of blocks of size bytes that holds n blocks
// full of bytes no test file has in that order, as blocks given back by
// another Buffer would be.
func staleBlocks(size, n int) *Blocks {
	s := NewBlocks(size)
	for range n {
		blk := make([]byte, size)
		for i := range blk {
			blk[i] = 0xAA
		}
		s.put(blk)
	}
	return s
}
