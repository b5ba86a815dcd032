package reorder

import "sync"

// blockPool is the free list of blocks owned by one Buffer.
//
// A plain slice is enough: the Buffer is used by one goroutine at a time,
// so there is nothing to lock, and unlike sync.Pool the blocks
// survive garbage collections, so a steady download allocates nothing.
// Blocks are allocated lazily, the first time they are needed, so a small
// download never pays for the whole bound. BenchmarkBlockSource compares
// this with bytebufferpool (a sync.Pool underneath) on the same pattern.
type blockPool struct {
	size   int      // capacity of every block
	free   [][]byte // blocks ready for reuse, each with len 0
	shared *Blocks  // if set: where new blocks come from, and go back at Close
}

// get returns an empty block of capacity p.size.
func (p *blockPool) get() []byte {
	if n := len(p.free); n > 0 {
		blk := p.free[n-1]
		p.free[n-1] = nil // the pool no longer references it
		p.free = p.free[:n-1]
		return blk
	}
	if p.shared != nil {
		return p.shared.get()
	}
	return make([]byte, 0, p.size)
}

// put returns blk to the free list. blk must have come from get.
func (p *blockPool) put(blk []byte) {
	if cap(blk) != p.size {
		panic("BUG: reorder: foreign block returned to the pool")
	}
	p.free = append(p.free, blk[:0])
}

// giveBack hands every free block to the shared Blocks, if there is one.
func (p *blockPool) giveBack() {
	if p.shared == nil {
		return
	}
	for i, blk := range p.free {
		p.shared.put(blk)
		p.free[i] = nil
	}
	p.free = p.free[:0]
}

// Blocks is a supply of blocks of one size that many Buffers share
// (Options.Blocks), one after another or at once; it is safe for concurrent
// use. It is for short-lived Buffers, such as one per small file of a long
// list, which would otherwise each allocate a block and leave it to the
// garbage collector. Unlike a Buffer's own free list it is a sync.Pool:
// blocks unused for two collections go.
type Blocks struct {
	size int
	pool sync.Pool // of *[]byte, each with len 0
}

// NewBlocks returns a supply of blocks of size bytes.
func NewBlocks(size int) *Blocks { return &Blocks{size: size} }

// Size returns the size of every block.
func (s *Blocks) Size() int { return s.size }

func (s *Blocks) get() []byte {
	if blk, ok := s.pool.Get().(*[]byte); ok {
		return *blk
	}
	return make([]byte, 0, s.size)
}

// put costs an allocation (the *[]byte), which is small beside the block a
// Buffer would otherwise allocate.
func (s *Blocks) put(blk []byte) {
	blk = blk[:0]
	s.pool.Put(&blk)
}
