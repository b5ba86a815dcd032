package reorder

// Stream mode: the sink is a pipe that takes bytes only in order, so every
// byte ahead of the cursor waits for the gap before it to fill. A run ahead
// of the cursor is a sequence of adjacent chunks, all full except where two
// runs met (a partial block left in the middle) and at the run's growing
// end. Runs that meet are not compacted: that would move every byte of the
// later run. The cost is at most one partial block per run, and a short
// write when such a block reaches the cursor; a pipe does not care.
//
// A sink that would block (a nonblocking pipe that is full) says so with
// EAGAIN, having taken what it could. That is not an error: the rest stays
// held, nothing more is written until the caller, told by Blocked, calls
// Flush when the sink can take more, and a chunk the sink took part of
// moves its remaining bytes to the start of its block (trim).

// addStream stores new bytes: [off, off+len(data)) holds nothing pushed
// before, though the bytes on either side may have been.
func (b *Buffer) addStream(off int64, data []byte) error {
	for len(data) > 0 {
		// At the cursor with whole blocks in hand: write them from the
		// caller's slice, no copy (what a blocked sink did not take is
		// copied as any other bytes).
		if off == b.cursor && len(data) >= b.bs && !b.blocked {
			n := len(data) - len(data)%b.bs
			if err := b.emit(data[:n], off, writeFull); err != nil {
				return err
			}
			n = int(b.cursor - off)
			off += int64(n)
			data = data[n:]
			continue
		}
		i := b.endingAt(off)
		if i < 0 || b.chunks[i].room() == 0 {
			i = b.insertChunk(off)
		}
		c := &b.chunks[i]
		n := copy(c.buf[len(c.buf):cap(c.buf)], data)
		c.buf = c.buf[:len(c.buf)+n]
		b.buffered += n
		off += int64(n)
		data = data[n:]
		if c.room() == 0 && c.off == b.cursor {
			if err := b.drain(false); err != nil {
				return err
			}
		}
	}
	return b.drain(false)
}

// drain writes the chunks at the cursor that are ready: full blocks, and
// partial blocks that can no longer grow because the next chunk follows
// them directly. With all set (Flush), it also writes the growing partial
// block at the end of the contiguous data.
func (b *Buffer) drain(all bool) error {
	for len(b.chunks) > 0 && !b.blocked {
		c := &b.chunks[0]
		if c.off != b.cursor {
			return nil // a gap at the cursor: wait for the bytes that fill it
		}
		why := writeFull
		switch {
		case c.room() == 0:
		case len(b.chunks) > 1 && b.chunks[1].off == c.end():
			why = writeDone
		case all:
			why = writeFlush
		default:
			return nil
		}
		if err := b.emit(c.buf, c.off, why); err != nil {
			return err
		}
		if b.cursor < c.end() {
			b.trim()
			return nil
		}
		b.release(0)
	}
	return nil
}

// trim drops the bytes of the first chunk that a sink which would block
// took, moving the rest to the start of its block: chunks hold only bytes
// not written, at or after the cursor.
func (b *Buffer) trim() {
	c := &b.chunks[0]
	n := int(b.cursor - c.off)
	c.buf = c.buf[:copy(c.buf, c.buf[n:])]
	c.off = b.cursor
	b.buffered -= n
}
