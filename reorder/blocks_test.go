package reorder

import (
	"bytes"
	"runtime"
	"testing"
)

// image is a file in memory.
type image []byte

func (f image) WriteAt(p []byte, off int64) (int, error) { return copy(f[off:], p), nil }

// TestSharedBlocks: Buffers made one after another over one Blocks write what they were given
// (each other bytes), and take the blocks the earlier ones gave back instead of allocating
// their own.
func TestSharedBlocks(t *testing.T) {
	const size, cycles = 64 << 10, 200
	blocks := NewBlocks(size)
	want := make([]byte, 48<<10) // less than a block: Close writes it
	img := make(image, len(want))
	n := 0
	cycle := func() {
		n++
		for i := range want {
			want[i] = byte(i*7 + n)
		}
		clear(img)
		b := NewFile(img, Options{Blocks: blocks, MaxBuffered: size})
		if err := b.Push(0, want[:1000]); err != nil {
			t.Fatal(err)
		}
		if err := b.Push(1000, want[1000:]); err != nil {
			t.Fatal(err)
		}
		if b.Room() != size-len(want) {
			t.Fatalf("room %d; want the %d bytes left of one block of %d", b.Room(), size-len(want), size)
		}
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(img, want) {
			t.Fatal("the bytes written differ from the bytes pushed")
		}
	}
	cycle()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range cycles {
		cycle()
	}
	runtime.ReadMemStats(&after)
	// A block per Buffer would be cycles*size bytes. The pool may lose blocks to a garbage
	// collection, and under the race detector it drops a quarter of what it is given.
	if got := after.TotalAlloc - before.TotalAlloc; got > cycles*size/2 {
		t.Errorf("%d Buffers allocated %d KiB; want well under a block (%d KiB) each", cycles, got>>10, size>>10)
	}
}
