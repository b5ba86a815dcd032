package reorder

// File mode: the sink takes writes at any offset, so nothing has to wait
// for anything else, and the only goal is few, large writes within the
// memory bound.
//
// Between calls, every chunk is the unfinished tail of one run: not empty
// (its block goes back to the free list), not full (it would have been
// written), not adjacent to another chunk (the two are coalesced), and not
// hemmed in by written bytes on both sides (it could never grow, so it is
// written at once rather than pinning a block until Flush). Each open run
// therefore costs at most one block.

// addFile stores new bytes: [off, off+len(data)) holds nothing pushed
// before, though the bytes on either side may have been.
func (b *Buffer) addFile(off int64, data []byte) error {
	for len(data) > 0 {
		i := b.endingAt(off) // the run data extends, if any
		// Nothing is held before off in this run, so whole blocks can go
		// straight from the caller's slice to the sink: one write, no copy.
		if (i < 0 || len(b.chunks[i].buf) == 0) && len(data) >= b.bs {
			n := len(data) - len(data)%b.bs
			if err := b.emit(data[:n], off, writeFull); err != nil {
				return err
			}
			off += int64(n)
			data = data[n:]
			if i >= 0 {
				b.chunks[i].off = off // the empty chunk follows the run
			}
			continue
		}
		if i < 0 {
			// A new run. Evicting first keeps the bound; it writes other
			// chunks only, because none ends at off.
			if err := b.makeRoom(); err != nil {
				return err
			}
			i = b.insertChunk(off)
		}
		c := &b.chunks[i]
		n := copy(c.buf[len(c.buf):cap(c.buf)], data)
		c.buf = c.buf[:len(c.buf)+n]
		b.buffered += n
		off += int64(n)
		data = data[n:]
		if c.room() == 0 {
			if err := b.emit(c.buf, c.off, writeFull); err != nil {
				return err
			}
			// Keep the block for the rest of this run: no trip through
			// the free list.
			b.buffered -= len(c.buf)
			c.off, c.buf = c.end(), c.buf[:0]
		}
	}
	return b.settle(off)
}

// settle restores the file-mode invariants at end, the offset where new
// bytes just stopped. Only the chunk ending at end and the one starting
// there can need work: addFile wrote bytes of the run being extended, whose
// neighbours are these two, and an eviction writes a chunk that no other
// chunk touches, so it cannot hem one in.
func (b *Buffer) settle(end int64) error {
	k := b.find(end)
	before, after := -1, -1
	if k > 0 && b.chunks[k-1].end() == end {
		before = k - 1
	}
	if k < len(b.chunks) && b.chunks[k].off == end {
		after = k
	}
	if before >= 0 && len(b.chunks[before].buf) == 0 {
		b.release(before)
		before = -1
		if after >= 0 {
			after--
		}
	}
	survivor := max(before, after)
	if before >= 0 && after >= 0 {
		var err error
		if survivor, err = b.coalesce(before); err != nil {
			return err
		}
	}
	if survivor >= 0 {
		return b.writeIfDone(survivor)
	}
	return nil
}

// coalesce joins chunk i with chunk i+1, which starts where chunk i ends:
// two runs met (adjacent pieces), and both tails are partial blocks. It
// moves bytes from the second block into the first, so that the first
// becomes a full block written at once, or absorbs the second entirely.
// This costs one copy of less than a block per meeting, and saves the small
// write each tail would otherwise need. It returns the index of the chunk
// left, or -1 if none is.
func (b *Buffer) coalesce(i int) (int, error) {
	a, c := &b.chunks[i], &b.chunks[i+1]
	n := copy(a.buf[len(a.buf):cap(a.buf)], c.buf)
	a.buf = a.buf[:len(a.buf)+n]
	c.buf = c.buf[:copy(c.buf, c.buf[n:])] // moved bytes leave c's front
	c.off += int64(n)
	if a.room() > 0 { // a took all of c
		b.release(i + 1)
		return i, nil
	}
	if err := b.emit(a.buf, a.off, writeFull); err != nil {
		return -1, err
	}
	b.release(i)
	if len(b.chunks[i].buf) == 0 { // c fitted exactly
		b.release(i)
		return -1, nil
	}
	return i, nil
}

// writeIfDone writes chunk i at once if it can never grow: the bytes on
// both sides of it are written (or it starts the file). Waiting would only
// pin a block until Flush or eviction, and the write would be no larger.
// This happens where a piece ends just before bytes another connection
// already wrote, unless the piece boundary falls on a block boundary.
func (b *Buffer) writeIfDone(i int) error {
	c := &b.chunks[i]
	if c.off > 0 && !b.written.has(c.off-1) || !b.written.has(c.end()) {
		return nil
	}
	if err := b.emit(c.buf, c.off, writeDone); err != nil {
		return err
	}
	b.release(i)
	return nil
}

// makeRoom makes sure a block can be taken without exceeding the bound, by
// writing out the largest chunks. A partial write is the price of the
// bound; choosing the largest chunk makes that write as large as it can be.
func (b *Buffer) makeRoom() error {
	for len(b.chunks) >= b.maxBlocks {
		j := 0
		for k := range b.chunks {
			if len(b.chunks[k].buf) > len(b.chunks[j].buf) {
				j = k
			}
		}
		if err := b.emit(b.chunks[j].buf, b.chunks[j].off, writeEvict); err != nil {
			return err
		}
		b.release(j)
	}
	return nil
}
