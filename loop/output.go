package loop

import (
	"errors"
	"io"
	"math/bits"
	"os"
	"time"

	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// Write-path sizes. A block is the unit of one pwrite, and every connection's run holds at most
// one partial block, so the reorder buffer needs a block per connection to avoid writing
// partial runs early. Up to 32 connections that is 256 KiB blocks within 8 MiB; beyond, blocks
// shrink (not below 64 KiB) so the buffer stays near 8 MiB: 16 MiB at 256 connections.
const (
	maxBlock    = 256 << 10
	minBlock    = 64 << 10
	maxBuffered = 8 << 20
)

// writeSizes returns the block size and the buffer bound for n connections.
func writeSizes(n int) (block, buffered int) {
	block = maxBlock
	for block > minBlock && block*n > maxBuffered {
		block /= 2
	}
	return block, max(maxBuffered, block*n)
}

// output is the file being written (or the stream), the reorder buffer in front of it, and
// the journal that records which of its ranges are durable.
type output struct {
	f       *outFile // nil for a stream
	buf     *reorder.Buffer
	journal *reorder.Journal // nil for a stream, or a small file (newSmallFile)

	pipe     int  // a stream to a pipe: its descriptor, written without blocking; else -1
	reblock  bool // pipe was made nonblocking by newStream, and is made blocking again at the end
	resumeAt int  // a stream's paused connections read again when the buffer has this much room
	full     bool // a stream's buffer filled, and has not had resumeAt of room since (Loop.holding)

	saved     int64     // Written().Size() at the last save started
	nextSave  time.Time // a save is due at this time, or when saveBytes more were written
	saveEvery time.Duration
	saveBytes int64
}

// newStream writes in offset order to w. Pieces are one minimum piece each, so the pieces in
// flight form a window a few MiB wide that the buffer can hold (see Loop.throttle).
//
// A pipe (standard output read by another program) is written without blocking: while its
// reader is slow the loop goes on reading sockets, as far as the buffer has room, and the
// poller says when the pipe has room again. A blocking write held up the whole loop for as
// long as the reader lagged (3.7 s of 8 here, into a reader of 8 MiB/s at -n 256): no socket
// was read, no timer kept, and every connection looked slow when it was sampled at last, so
// their ranges were stolen and copied (72-105 MB fetched for 64 MiB). A terminal or a file
// is written as before: its file description may be shared with the programs around
// rangedl, which O_NONBLOCK would surprise.
func newStream(w io.Writer, conns int) *output {
	block, buffered := writeSizes(conns)
	o := &output{pipe: -1, resumeAt: buffered / 4}
	if fd := pipeFD(w); fd >= 0 {
		flags, err := unix.FcntlInt(uintptr(fd), unix.F_GETFL, 0)
		if err == nil && (flags&unix.O_NONBLOCK != 0 || unix.SetNonblock(fd, true) == nil) {
			o.pipe, o.reblock, w = fd, flags&unix.O_NONBLOCK == 0, pipeWriter(fd)
			growPipe(fd)
		}
	}
	o.buf = reorder.NewStream(w, 0, reorder.Options{BlockSize: block, MaxBuffered: buffered})
	return o
}

// pipeFD returns the descriptor of w if it is a pipe (or a FIFO), else -1. Not by f.Fd(),
// which makes a nonblocking descriptor blocking: one inherited so is left so.
func pipeFD(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return -1
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return -1
	}
	fd := -1
	rc.Control(func(u uintptr) { fd = int(u) })
	var st unix.Stat_t
	if fd < 0 || unix.Fstat(fd, &st) != nil || st.Mode&unix.S_IFMT != unix.S_IFIFO {
		return -1
	}
	return fd
}

// pipeWriter writes to a nonblocking pipe. A full pipe is EAGAIN, with what it took: a pipe
// takes what fits, so a short write means that it is full (asking again to hear EAGAIN was a
// quarter of the writes).
type pipeWriter int

func (fd pipeWriter) Write(p []byte) (int, error) {
	for {
		n, err := unix.Write(int(fd), p)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return 0, err
		case n < len(p):
			return n, unix.EAGAIN
		}
		return n, nil
	}
}

// create opens the output file before any connection, so a bad path fails at once. An
// existing file is never touched without overwrite: O_EXCL makes the check and the creation
// one step. With overwrite an existing file is opened but not truncated: that waits for the
// first valid response (Loop.acceptFirst), so a download that fails early leaves it as it was.
// created reports whether the file is new (only a new file may be removed again).
func create(path string, overwrite bool) (f *outFile, created bool, err error) {
	const flags = unix.O_WRONLY | unix.O_CREAT | unix.O_CLOEXEC
	f, err = openFile(path, flags|unix.O_EXCL)
	if err == nil || !overwrite || !errors.Is(err, os.ErrExist) {
		return f, err == nil, err
	}
	f, err = openFile(path, flags)
	return f, false, err
}

// openFile is os.OpenFile without its attempt to put the descriptor in Go's network poller,
// which costs five system calls per file (they fail or are undone for a regular file) and
// shows in a list of thousands of small files, and without the *os.File (see outFile).
func openFile(path string, flags int) (*outFile, error) {
	for {
		fd, err := unix.Open(path, flags, 0o666)
		switch {
		case err == unix.EINTR:
			continue
		case err != nil:
			return nil, &os.PathError{Op: "open", Path: path, Err: err}
		}
		return &outFile{fd: fd, name: path}, nil
	}
}

// newFile puts a reorder buffer sized for conns connections in front of f, which already
// holds the ranges in have. Its blocks come from sharedBlocks: the next file of a list reuses
// the blocks of the last. With blocks of its own, each file of a list of 200 files of 2 MiB
// took fresh memory, which the garbage collector returned to the system after it, and the
// pwrite's copy out of freshly mapped pages was up to 43% of rangedl's CPU (perf; twice the
// page faults).
func newFile(f *outFile, conns int, have []reorder.Range) *output {
	block, buffered := writeSizes(conns)
	opt := reorder.Options{Blocks: blocksFor(int64(block)), MaxBuffered: buffered, Written: have}
	return &output{f: f, buf: reorder.NewFile(f, opt)}
}

// newSmallFile is newFile for a new file of size bytes that one response brings (Job.Small):
// a single block, larger than the file, so that it never fills: the file is written in one
// pwrite by close, which in a list runs on the goroutine waiting for the download
// (Loop.settle), not on the loop's (the copy into the page cache was a quarter of rangedl's
// CPU on a list of 5000 files of 16 KiB on ext4).
func newSmallFile(f *outFile, size int64) *output {
	blocks := blocksFor(size + 1)
	return &output{f: f, buf: reorder.NewFile(f, reorder.Options{Blocks: blocks, MaxBuffered: blocks.Size()})}
}

// sharedBlocks supply the blocks of every download to a file, in four sizes per power of two
// from 4 KiB (4, 5, 6, 7, 8, 10 KiB...) to beyond SmallFile: a small file's block is at most a
// quarter larger than the file, or 4 KiB, and the block sizes of writeSizes are among them. A
// block allocated per small file was 82% of all the bytes a list of 5000 files of 16 KiB
// allocated, and cost a garbage collection every ~100 files.
var sharedBlocks = func() []*reorder.Blocks {
	s := make([]*reorder.Blocks, sizeClass(SmallFile)+1)
	for i := range s {
		s[i] = reorder.NewBlocks(4 << 10 << (i / 4) * (4 + i%4) / 4)
	}
	return s
}()

// blocksFor returns the smallest of sharedBlocks whose blocks hold at least n bytes.
func blocksFor(n int64) *reorder.Blocks {
	return sharedBlocks[sizeClass(n-1)]
}

// sizeClass returns the index of the smallest of sharedBlocks larger than size bytes.
func sizeClass(size int64) int {
	if size < 4<<10 {
		return 0
	}
	octave := bits.Len64(uint64(size)>>12) - 1 // 4 KiB << octave <= size < twice that
	quarter := int(size>>octave>>10) - 4       // size is (4 + quarter)/4 of 4 KiB << octave, rounded down
	return 4*octave + quarter + 1
}

// keepJournal starts recording the durable ranges in a control file at path (or, with path
// "", only syncing the file as it goes: see reorder.OpenJournal). It returns once the first
// record is durable, and must be called before anything is written to a file that may be
// resumed.
func (o *output) keepJournal(path string, rec reorder.Control, job *Job, now time.Time) error {
	rec.Durable = o.buf.Written().Ranges()
	j, err := reorder.OpenJournal(o.f.File(), path, rec)
	if err != nil {
		return err
	}
	o.journal = j
	o.saved = o.buf.Written().Size()
	o.saveEvery, o.saveBytes = job.SaveEvery, job.SaveBytes
	o.nextSave = now.Add(o.saveEvery)
	return nil
}

// checkpoint starts a save when one is due, and reports a failed one.
func (o *output) checkpoint(now time.Time) error {
	if o.journal == nil {
		return nil
	}
	if err := o.journal.Poll(); err != nil {
		return err
	}
	w := o.buf.Written()
	if w.Size() == o.saved || (now.Before(o.nextSave) && w.Size()-o.saved < o.saveBytes) {
		return nil // nothing new, or not due yet
	}
	if o.journal.Save(w.Ranges()) {
		o.saved, o.nextSave = w.Size(), now.Add(o.saveEvery)
	}
	return nil
}

// close writes out what is buffered, records what is durable (or, when the file is complete,
// syncs it and removes the control file: not a small file, which has no journal), and closes
// the file. It reports the first error.
func (o *output) close(complete bool) error {
	o.drainPipe() // a write error sticks: Close returns it
	err := o.buf.Close()
	if o.f == nil {
		return err
	}
	var jerr error
	switch {
	case o.journal != nil && complete && err == nil:
		jerr = o.journal.Finish()
	case o.journal != nil:
		jerr = o.journal.Close(o.buf.Written().Ranges())
	}
	if err == nil {
		err = jerr
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// drainPipe writes what is left for a stream's pipe, waiting for the reader to make room in it
// (poll(2)): nothing else is left to do.
func (o *output) drainPipe() {
	if o.pipe < 0 {
		return
	}
	for o.buf.Flush() == nil && o.buf.Blocked() {
		unix.Poll([]unix.PollFd{{Fd: int32(o.pipe), Events: unix.POLLOUT}}, -1)
	}
	o.unpipe()
}

// unpipe makes the stream's pipe blocking again if newStream made it nonblocking: its file
// description may be shared with the commands around rangedl, which would not expect it.
func (o *output) unpipe() {
	if o.reblock {
		unix.SetNonblock(o.pipe, false)
		o.reblock = false
	}
}

// discard drops what is buffered and closes the file without recording anything: the caller
// has removed it.
func (o *output) discard() {
	o.unpipe()
	o.buf.Discard()
	if o.journal != nil {
		o.journal.Abandon()
	}
	if o.f != nil {
		o.f.Close()
	}
}
