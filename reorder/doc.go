// Package reorder sits between the event loop and the disk: it takes body
// bytes as they come off many connections, each at its own file offset, and
// turns them into few, large writes.
//
// # Why
//
// A download is cut into byte ranges (pieces, RFC 9110 section 14) fetched
// over many keep-alive connections at once. Each connection delivers its
// piece in order, but in slices of whatever size a socket read returned
// (often 16 to 256 KiB, sometimes much less), interleaved with every other
// connection. Writing each slice as it comes means many small writes;
// holding everything means unbounded memory. A Buffer copies the slices
// into fixed-size blocks, one run of blocks per stream of contiguous bytes,
// and writes a block when it is full.
//
// # Modes
//
// File mode (NewFile) writes to an io.WriterAt, in practice an *os.File
// (pwrite). Writes may land in any order, so a block is written the moment
// it fills and nothing else waits. Memory never exceeds
// Options.MaxBuffered: when a new run needs a block and none is left, the
// largest partial runs are written out early. Two runs that meet (adjacent
// pieces) are coalesced so the boundary between them costs no small write.
//
// Stream mode (NewStream) writes to an io.Writer, in practice stdout, which
// takes bytes only in order. Bytes at the cursor are written as soon as a
// block is full; bytes ahead of the cursor are held until the gap before
// them fills. Push never refuses bytes: the caller keeps memory bounded by
// not reading from connections that are ahead of the cursor while
// Room() == 0, and keeps reading from the one at the cursor. The sink may be
// a nonblocking pipe: a write it takes only part of, with EAGAIN, is no
// error; the rest is held, Blocked reports it, and nothing more is written
// until the caller calls Flush once the pipe has room.
//
// # Contract
//
//   - One goroutine at a time: the event loop, and then whoever closes the
//     Buffer. There are no locks, except in a Blocks shared by Buffers.
//   - Push copies: the caller's slice may be reused once Push returns.
//   - The first copy wins: bytes already pushed are ignored. The caller
//     must only push bytes it has validated (a 206 whose Content-Range,
//     RFC 9110 section 14.4, matches the request, and whose validators,
//     section 8.8, match the first response's, which If-Range, section
//     13.1.5, enforces), so both copies are equal.
//   - A write error is sticky: the Buffer fails every later Push and Flush
//     with it. Written reports exactly the bytes the sink took, so a resume
//     can trust it; whether they are durable (fdatasync) is the caller's
//     business.
//   - Bad offsets are errors, never panics. A panic("BUG: ...") means the
//     Buffer broke its own invariant.
//
// Memory is bounded by MaxBuffered in file mode. In stream mode, if the
// caller honours Room, it is bounded by MaxBuffered plus the caller's last
// read plus one partial block per run held ahead of the cursor. Blocks come
// from a free list owned by the Buffer, so a steady download allocates
// nothing per Push; many short-lived Buffers (one per small file of a list)
// can share a Blocks instead.
//
// # Example
//
//	f, err := os.Create(name)
//	...
//	buf := reorder.NewFile(f, reorder.Options{})
//	// in the event loop, for every validated body slice of a ranged response:
//	if err := buf.Push(pieceStart+received, body); err != nil {
//		return err // "reorder: write at 1048576: no space left on device"
//	}
//	// before recording progress in the control file (resume):
//	if err := buf.Flush(); err != nil {
//		return err
//	}
//	// fdatasync f, then save buf.Written(), e.g. [0,1048576) [4194304,5242880)
//	// at the end:
//	if err := buf.Close(); err != nil {
//		return err
//	}
package reorder
