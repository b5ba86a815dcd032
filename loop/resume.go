package loop

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"

	"github.com/rangedl/rangedl/httpparse"
	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// ControlSuffix names the control file kept beside a partial download: FILE.rangedl.
const ControlSuffix = ".rangedl"

// ErrRemoteChanged is the cause of an error saying that the remote file is not the one the
// download started with (its size or validators changed, or a range request with If-Range was
// answered with the whole file). Nothing of the new version was written.
var ErrRemoteChanged = errors.New("the remote file changed")

// Allocation says how the output gets its final size before the data arrives.
type Allocation uint8

const (
	// AllocFalloc reserves the blocks (fallocate(2)), so a full disk shows before the
	// download starts and the file is not fragmented; where the filesystem cannot, AllocTrunc.
	AllocFalloc Allocation = iota
	AllocTrunc             // set the length only (a sparse file); blocks are taken as data arrives
	AllocNone              // the file grows as data is written
)

// ParseAllocation reads the --file-allocation names.
func ParseAllocation(s string) (Allocation, error) {
	switch s {
	case "falloc":
		return AllocFalloc, nil
	case "trunc":
		return AllocTrunc, nil
	case "none":
		return AllocNone, nil
	}
	return 0, fmt.Errorf("%q: want none, trunc or falloc", s)
}

// resumePoint is what a download starts from: nothing, the durable ranges of a control file,
// or (with no control file) the length of an existing file, as wget -c does.
type resumePoint struct {
	ctl    *reorder.Control // nil without a control file
	length int64            // without one: bytes of the existing file taken as valid
}

// sameAsRecord reports whether r, the whole file (a 200), can be the file that ctl records
// (nil: no record, nothing to compare): of its size, when r gives a length, and with each
// validator recorded, a weak ETag (which If-Range cannot carry) too.
func sameAsRecord(ctl *reorder.Control, r *httpparse.Response) bool {
	return ctl == nil ||
		(r.Body != httpparse.BodyLength || r.ContentLength == ctl.Size) &&
			(ctl.ETag == "" || sameTag(r.ETag(), []byte(ctl.ETag))) &&
			(ctl.LastModified == "" || string(r.LastModified()) == ctl.LastModified)
}

// have returns the ranges the download already has.
func (r resumePoint) have() []reorder.Range {
	switch {
	case r.ctl != nil:
		return r.ctl.Durable
	case r.length > 0:
		return []reorder.Range{{Start: 0, End: r.length}}
	}
	return nil
}

// size returns how many bytes the download has already.
func (r resumePoint) size() int64 {
	var n int64
	for _, x := range r.have() {
		n += x.Len()
	}
	return n
}

// openOutput opens (or creates) the output file and locks it, and with Continue reads where
// to resume from. created reports whether the file is new: only a new file may be removed
// again. The lock (flock) is on the output, not on the control file: the control file is
// replaced by rename at every save, and a lock belongs to the inode it was taken on.
func openOutput(job *Job) (f *outFile, created bool, from resumePoint, err error) {
	ctlPath := job.Output + ControlSuffix
	if job.Continue || job.Overwrite {
		if err := NotRegular(job.Output); err != nil {
			return nil, false, from, errorf(KindIO, nil, "%v", err)
		}
	}
	if job.Continue {
		f, err = openFile(job.Output, unix.O_WRONLY|unix.O_CLOEXEC)
		if errors.Is(err, fs.ErrNotExist) {
			if _, serr := os.Lstat(ctlPath); serr == nil {
				return nil, false, from, errorf(KindIO, nil, "%s records a partial download, but %s is missing; use --overwrite to start over", ctlPath, job.Output)
			}
			f, created, err = create(job.Output, false)
			if errors.Is(err, fs.ErrExist) { // another rangedl made it since: its lock says so
				f, err = openFile(job.Output, unix.O_WRONLY|unix.O_CLOEXEC)
			}
		}
	} else {
		f, created, err = create(job.Output, job.Overwrite)
	}
	if err != nil {
		return nil, false, from, errorf(KindIO, err, "cannot create the output")
	}
	fail := func(e *Error) (*outFile, bool, resumePoint, error) {
		f.Close()
		return nil, false, from, e
	}
	switch err := lock(f); {
	case err == unix.EWOULDBLOCK:
		return fail(errorf(KindIO, nil, "%s is being downloaded by another rangedl process", job.Output))
	case err != nil:
		// Some network filesystems cannot lock; refusing to download there would help nobody.
		job.Notice(fmt.Sprintf("cannot lock %s (%v): nothing stops another rangedl from writing it at the same time", job.Output, err))
	}
	if created {
		// Ours alone: O_EXCL made it, and only the rangedl that creates a file removes it.
		return f, created, from, nil
	}
	st, err := f.File().Stat()
	if err != nil {
		return fail(errorf(KindIO, err, "cannot open %s", job.Output))
	}
	// The name may have been unlinked (by a rangedl that gave up on an empty file it made)
	// between our open and our lock: then the lock guards a file nobody will see.
	if now, err := os.Stat(job.Output); err != nil || !os.SameFile(st, now) {
		return fail(errorf(KindIO, err, "%s was removed or replaced while rangedl opened it; try again", job.Output))
	}
	if !job.Continue {
		return f, created, from, nil
	}
	ctl, err := reorder.ReadControl(ctlPath)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if _, err := os.Lstat(ctlPath + reorder.ReserveSuffix); err == nil {
			// A record existed and was lost (see reorder.Journal.reserve): the file may be
			// full length with holes, so its length says nothing.
			return fail(errorf(KindIO, nil, "%s is a partial download whose record %s is missing; use --overwrite to start over", job.Output, ctlPath))
		}
		from.length = st.Size()
		return f, false, from, nil
	case errors.Is(err, reorder.ErrControl):
		return fail(errorf(KindIO, nil, "%s: %v; use --overwrite to start over", ctlPath, err))
	case err != nil:
		return fail(errorf(KindIO, err, "cannot read %s", ctlPath))
	case ctl.URL != job.origin() && slices.Contains(job.Siblings, ctl.URL):
		// The old content goes at the first answer, and the record with it (prepareFile).
		job.Continue, job.Overwrite = false, true
		return f, false, from, nil
	case ctl.URL != job.origin():
		return fail(errorf(KindIO, nil, "%s belongs to a download of %s, not %s; choose another -o, or use --overwrite to start over", ctlPath, ctl.URL, job.origin()))
	}
	switch misfit(ctl, st.Size()) {
	case shorter:
		return fail(errorf(KindIO, nil, "%s is shorter (%d bytes) than %s says was written; use --overwrite to start over", job.Output, st.Size(), ctlPath))
	case longer:
		return fail(errorf(KindIO, nil, "%s is longer (%d bytes) than the file %s records (%d); use --overwrite to start over", job.Output, st.Size(), ctlPath, ctl.Size))
	}
	from.ctl = ctl
	return f, false, from, nil
}

// How a file's size contradicts its record (see misfit).
const (
	fits = iota
	shorter
	longer
)

// misfit checks the size of a file against its record: shorter than the bytes the record
// claims (they are not all there), or longer than the file it records (something else wrote
// past the end, and nothing here would cut those bytes off again). A record that claims nothing
// fits any file, which is emptied at the first answer (--overwrite leaves such a record, with
// the old file not emptied yet, when it is killed between the two).
func misfit(ctl *reorder.Control, size int64) int {
	n := len(ctl.Durable)
	switch {
	case n > 0 && ctl.Durable[n-1].End > size:
		return shorter
	case n > 0 && size > ctl.Size:
		return longer
	}
	return fits
}

// Kept is the Result of a download of job that failed before it could open its file (its
// server's name did not resolve): with Continue, a record of the same URL that fits a file
// that can be written is as it was, and says how much is saved, as after a failure to connect
// (settle). The file is not locked to look: a file that another rangedl is downloading is
// reported with what its record says at that moment (a -c meanwhile is refused, saying so).
func Kept(job Job) Result {
	if !job.Continue {
		return Result{}
	}
	ctl, err := reorder.ReadControl(job.Output + ControlSuffix)
	if err != nil || ctl.URL != job.origin() {
		return Result{}
	}
	st, err := os.Stat(job.Output)
	if err != nil || !st.Mode().IsRegular() || misfit(ctl, st.Size()) != fits || unix.Access(job.Output, unix.W_OK) != nil {
		return Result{}
	}
	return Result{Saved: resumePoint{ctl: ctl}.size(), Resumable: true}
}

// filled reports whether f is size bytes long with blocks for all of them: a file that
// fallocate filled, which a resume need not ask for room again. XFS refuses a fallocate(2)
// over blocks it has already with ENOSPC when there is less free room than the range: such a
// resume, on a disk with less free room than the file, was "not enough room" however often
// it was run (a hunt; -c with --file-allocation trunc finished it).
func filled(f *os.File, size int64) bool {
	var st unix.Stat_t
	return unix.Fstat(int(f.Fd()), &st) == nil && st.Size >= size && st.Blocks*512 >= size
}

// NotRegular says what is wrong when name exists (links followed) and is not a regular file.
// Pieces go at any offset, the file gets its size, and a record goes beside it: a device or a
// FIFO takes none of that (and the open of a FIFO would wait for a reader). A symbolic link
// that leads to no file is refused too: followed, it would create a file of another name, which
// a failed download would leave behind (it removes the name it was given).
func NotRegular(name string) error {
	st, err := os.Stat(name)
	switch {
	case err != nil:
		to, lerr := os.Readlink(name)
		switch {
		case lerr != nil:
			return nil // not a link: the open says what is wrong, if anything
		case errors.Is(err, fs.ErrNotExist):
			return fmt.Errorf("%s is a symbolic link to %s, which leads to no file; remove the link, or give the name of the file to create", name, to)
		}
		return fmt.Errorf("%s is a symbolic link to %s, which cannot be followed (%v)", name, to, errors.Unwrap(err))
	case st.Mode().IsRegular():
		return nil
	case st.IsDir():
		return fmt.Errorf("%s is a directory; use -d %s to save into it", name, name)
	}
	return fmt.Errorf("%s is not a regular file; to write to it, use -o - and redirect standard output", name)
}

// lock takes an exclusive advisory lock on f without waiting. It is released when f is
// closed, which the kernel does for a process killed in any way.
func lock(f *outFile) error {
	for {
		err := unix.Flock(f.fd, unix.LOCK_EX|unix.LOCK_NB)
		if err != unix.EINTR {
			return err
		}
	}
}

// allocate gives f its final size, as a says, and with AllocFalloc reserves the blocks of
// missing, the ranges still to come. A full disk or a file size limit is reported here, before
// the download starts.
//
// Only the missing ranges are asked for: XFS wants free room for all of a range before it looks
// at which of its blocks are there already (see filled).
func allocate(f *os.File, size int64, missing []reorder.Range, a Allocation) error {
	if a == AllocNone || size == 0 {
		return nil
	}
	if a == AllocFalloc {
		var err error
		for _, r := range missing {
			if err = reorder.Preallocate(f, r.Start, r.Len()); err != nil {
				break
			}
		}
		if err == nil || !errors.Is(err, errors.ErrUnsupported) {
			return err
		}
	}
	st, err := f.Stat()
	if err != nil || st.Size() >= size {
		return err
	}
	return f.Truncate(size)
}
