package reorder

// blockPool is the free list of blocks owned by one Buffer.
//
// A plain slice is enough: the Buffer is used by the event loop's single
// goroutine, so there is nothing to lock, and unlike sync.Pool the blocks
// survive garbage collections, so a steady download allocates nothing.
// Blocks are allocated lazily, the first time they are needed, so a small
// download never pays for the whole bound. BenchmarkBlockSource compares
// this with bytebufferpool (a sync.Pool underneath) on the same pattern.
type blockPool struct {
	size int      // capacity of every block
	free [][]byte // blocks ready for reuse, each with len 0
}

// get returns an empty block of capacity p.size.
func (p *blockPool) get() []byte {
	if n := len(p.free); n > 0 {
		blk := p.free[n-1]
		p.free[n-1] = nil // the pool no longer references it
		p.free = p.free[:n-1]
		return blk
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
