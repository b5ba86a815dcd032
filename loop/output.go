package loop

import (
	"errors"
	"io"
	"os"

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

// output is the file being written (or the stream) and the reorder buffer in front of it.
type output struct {
	f   *os.File // nil for a stream
	buf *reorder.Buffer
}

// newStream writes in offset order to w. Pieces are one minimum piece each, so the pieces in
// flight form a window a few MiB wide that the buffer can hold (see Loop.throttle).
func newStream(w io.Writer, conns int) *output {
	block, buffered := writeSizes(conns)
	return &output{buf: reorder.NewStream(w, 0, reorder.Options{BlockSize: block, MaxBuffered: buffered})}
}

// create opens the output file before any connection, so a bad path fails at once. An
// existing file is never touched without overwrite: O_EXCL makes the check and the creation
// one step. With overwrite an existing file is opened but not truncated: that waits for the
// first valid response (Loop.acceptFirst), so a download that fails early leaves it as it was.
// created reports whether the file is new (only a new file may be removed again).
func create(path string, overwrite bool) (f *os.File, created bool, err error) {
	const flags = os.O_WRONLY | os.O_CREATE | unix.O_CLOEXEC
	f, err = os.OpenFile(path, flags|os.O_EXCL, 0o666)
	if err == nil || !overwrite || !errors.Is(err, os.ErrExist) {
		return f, err == nil, err
	}
	f, err = os.OpenFile(path, flags, 0o666)
	return f, false, err
}

// newFile puts a reorder buffer sized for conns connections in front of f.
func newFile(f *os.File, conns int) *output {
	block, buffered := writeSizes(conns)
	return &output{f: f, buf: reorder.NewFile(f, reorder.Options{BlockSize: block, MaxBuffered: buffered})}
}

// close writes out what is buffered and closes the file, reporting the first error.
func (o *output) close() error {
	err := o.buf.Close()
	if o.f == nil {
		return err
	}
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	return err
}
