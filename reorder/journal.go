package reorder

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"golang.org/x/sys/unix"
)

// Journal keeps a download's control file in step with its data file, under
// one rule: a range is recorded only after the data in it was synced. A
// crash at any instant therefore leaves a control file that claims nothing
// the disk does not hold.
//
// A save is: fdatasync the data file, write the record to a temporary file, fsync
// it, rename it over the control file, fsync the directory (so the rename
// itself survives a power cut). The old record stays valid until the
// rename, so a save that fails or is cut short loses only its own progress.
// While a download runs, FILE.rangedl.reserve exists between saves: it holds the
// disk space of the next record (see reserve).
//
// Syncing can take long (it waits for the disk), so Save hands the work to
// one helper goroutine and returns at once; the event loop never waits for
// the disk in the middle of a download. At most one save is in flight: a
// Save while one runs is skipped, since the next one records more anyway.
//
// A failed fdatasync is final. After one, the kernel may have dropped the
// dirty pages it could not write and marked them clean, so a later
// fdatasync that succeeds proves nothing about them: nothing more is ever
// recorded. A failure to write the record itself (a full disk, say) only
// costs that save; the next one tries again.
type Journal struct {
	data *os.File
	path string
	rec  Control // the record; Durable is replaced by each save

	work     chan Control // to the helper; capacity 1
	done     chan error   // from the helper, one per save
	busy     bool         // a save is in flight
	reserved bool         // the reserve file is there (see reserve)
	unread   bool         // the record's directory cannot be read (see write)
	pending  int64        // bytes the save in flight records
	recorded int64        // bytes the control file records now
	err      error        // the first failed sync: final
}

// syncError marks a failed fdatasync, after which nothing may be recorded.
type syncError struct{ err error }

func (e *syncError) Error() string { return e.err.Error() }
func (e *syncError) Unwrap() error { return e.err }

// OpenJournal syncs data, writes the first record (rec) at path and returns the Journal that
// keeps it up to date. With path "" there is no record, only the syncs: a download that
// cannot be resumed still gets its data written back as it goes, so the sync at the end
// (Finish) does not wait for the whole file. It returns only once that record is durable: no
// byte may be written to the data file before the control file exists, or a crash would leave
// data that no record describes. (The sync covers ranges in rec that an earlier program wrote;
// the first record of a new file claims none, and skips it: 200 files of 2 MiB in a list on
// ext4 took 0.76-0.86 s against 0.92-0.97 s.)
func OpenJournal(data *os.File, path string, rec Control) (*Journal, error) {
	j := &Journal{data: data, path: path, rec: rec, work: make(chan Control, 1), done: make(chan error, 1)}
	j.unread = path != "" && unix.Access(filepath.Dir(path), unix.R_OK) != nil
	if st, err := os.Lstat(path + ReserveSuffix); path != "" && err == nil && st.Mode().IsRegular() {
		// Left by the run before (-c): its blocks are there, so the first save, too, needs
		// none (a resume on a full disk that fallocate filled can finish).
		j.reserved = true
	}
	if err := j.sync(rec); err != nil {
		return nil, err
	}
	j.recorded = size(rec.Durable)
	go j.helper()
	return j, nil
}

// maxControl bounds the size of a control file that ReadControl reads: far more than the
// ranges of any download in flight take (a few dozen bytes each, two or so per connection).
const maxControl = 4 << 20

// ReadControl reads and checks the control file at path. An error wraps
// ErrControl when the file is there but unusable, or the open error (for
// a missing file, fs.ErrNotExist).
func ReadControl(path string) (*Control, error) {
	// O_NONBLOCK: a FIFO under the name must not hang the open; the checks below refuse it.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: not a regular file", ErrControl)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxControl+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxControl {
		return nil, fmt.Errorf("%w: more than %d bytes, more than a record can hold", ErrControl, maxControl)
	}
	c := new(Control)
	if err := c.UnmarshalText(b); err != nil {
		return nil, err
	}
	return c, nil
}

// Save records durable (copied: the caller may change it afterwards) once
// the data file is synced. It returns at once; false means nothing was
// started, because a save is still in flight or a sync has failed.
func (j *Journal) Save(durable []Range) bool {
	j.Poll()
	if j.busy || j.err != nil {
		return false
	}
	rec := j.rec
	rec.Durable = slices.Clone(durable)
	j.busy, j.pending = true, size(durable)
	j.work <- rec
	return true
}

// Poll collects the result of a finished save without waiting, and returns
// the Journal's final error (a failed sync), if any.
func (j *Journal) Poll() error {
	if j.busy {
		select {
		case err := <-j.done:
			j.finished(err)
		default:
		}
	}
	return j.err
}

// Close waits for a save in flight, records durable one last time, and
// stops the helper. The control file stays: the download is not complete.
func (j *Journal) Close(durable []Range) error {
	j.wait()
	close(j.work)
	defer j.removeTemporary()
	if j.err != nil {
		return j.err
	}
	rec := j.rec
	rec.Durable = durable
	j.pending = size(durable)
	err := j.sync(rec)
	j.finished(err)
	return err
}

// Abandon stops the helper without recording anything more (the caller removes the files).
func (j *Journal) Abandon() {
	j.wait()
	close(j.work)
	j.removeTemporary()
}

// Recorded returns how many bytes the control file records as durable: what a resume will
// not fetch again.
func (j *Journal) Recorded() int64 { return j.recorded }

// Finish ends a complete download: once the data file is synced, the
// control file is removed (and the removal made durable). Removing it
// earlier would let a power cut leave a full-length file of which some
// blocks never reached the disk, with nothing to say so.
func (j *Journal) Finish() error {
	j.wait()
	close(j.work)
	if j.err != nil {
		j.removeTemporary()
		return j.err
	}
	if err := datasync(j.data); err != nil {
		j.removeTemporary()
		return fmt.Errorf("syncing %s: %w", j.data.Name(), err)
	}
	if j.path == "" {
		return nil
	}
	err := RemoveControl(j.path)
	if pe := new(os.PathError); errors.As(err, &pe) && pe.Op == "remove" {
		return &RecordLeftError{Left: existing(j.path, j.path+ReserveSuffix, j.path+TempSuffix), Err: pe.Err}
	}
	return err
}

// existing returns those of names that are there, or may be (a directory that cannot be
// searched does not say).
func existing(names ...string) []string {
	var there []string
	for _, name := range names {
		if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
			there = append(there, name)
		}
	}
	return there
}

// RecordLeftError is Finish's error when the data file is complete and synced but its control
// file could not be removed (its directory was made read-only, say). The record says less than
// the file holds: a resume from it fetches again what it does not claim.
type RecordLeftError struct {
	Left []string // the control file and its temporary files, those still there
	Err  error
}

func (e *RecordLeftError) Error() string { return e.Err.Error() }
func (e *RecordLeftError) Unwrap() error { return e.Err }

// Records reports whether the Journal keeps a control file (OpenJournal's path was not "").
func (j *Journal) Records() bool { return j.path != "" }

func (j *Journal) wait() {
	if j.busy {
		j.finished(<-j.done)
	}
}

func (j *Journal) finished(err error) {
	j.busy = false
	var se *syncError
	switch {
	case errors.As(err, &se):
		if j.err == nil {
			j.err = err
		}
	case err == nil && j.err == nil:
		j.recorded = j.pending
	}
	// Any other error failed to write the record alone: the old one stands, and the next
	// save tries again.
}

func size(rs []Range) int64 {
	var n int64
	for _, r := range rs {
		n += r.Len()
	}
	return n
}

// helper runs the saves handed to it, one at a time.
func (j *Journal) helper() {
	for rec := range j.work {
		j.done <- j.sync(rec)
	}
}

// sync makes the data durable, then records it. A record of nothing claims no data, so
// there is nothing to sync first (the first record of a new file, written before its first
// byte).
func (j *Journal) sync(rec Control) error {
	if len(rec.Durable) == 0 {
		return j.write(rec)
	}
	if err := datasync(j.data); err != nil {
		return &syncError{fmt.Errorf("syncing %s: %w", j.data.Name(), err)}
	}
	return j.write(rec)
}

// write replaces the control file with rec, atomically and durably. After the first save the
// temporary file is the one the previous save reserved (see reserve), so a save needs no new
// disk block: on a full disk, the moment when recording progress matters most, it still
// succeeds.
func (j *Journal) write(rec Control) error {
	if j.path == "" {
		return nil
	}
	b, err := rec.MarshalText()
	if err != nil {
		return err
	}
	tmp := j.path + TempSuffix
	if j.reserved {
		tmp = j.path + ReserveSuffix
	}
	// O_NOFOLLOW: a link planted under the name must not send the record, or the truncation
	// below, to the file it points to.
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW, 0o666)
	if err != nil {
		return fmt.Errorf("saving %s: %w", j.path, err)
	}
	_, err = f.WriteAt(b, 0)
	if err == nil {
		err = f.Truncate(int64(len(b)))
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, j.path)
	}
	switch {
	case err == nil && j.unread:
		// A directory that may be written but not read (mode 0333) cannot be opened to be
		// synced: syncfs(2) of the data file, on the same filesystem, makes the rename
		// durable. (syncDir's sync(2) would flush every filesystem at every save.)
		err = SyncFS(j.data)
	case err == nil:
		err = syncDir(filepath.Dir(j.path))
	}
	if err != nil {
		if !j.reserved {
			os.Remove(tmp) // half written, and no reserve: nothing to keep
		}
		j.reserved = false // the next save makes a file of its own
		return fmt.Errorf("saving %s: %w", j.path, err)
	}
	j.reserved = j.reserve(2 * len(b))
	return nil
}

// reserve writes the next save's temporary file (FILE.rangedl.reserve) with n bytes (at least
// a page), taking the disk space the next record will need while there is space. Failing is
// not an error: the next save then needs a block of its own, as without the reserve.
//
// The reserve is made only after a record has landed, so it also says that one did: a
// FILE.rangedl.reserve without its FILE.rangedl means the record was lost (deleted by hand),
// and FILE's length must not be trusted.
func (j *Journal) reserve(n int) bool {
	f, err := os.OpenFile(j.path+ReserveSuffix, os.O_WRONLY|os.O_CREATE|os.O_TRUNC|syscall.O_NOFOLLOW, 0o666)
	if err != nil {
		return false
	}
	// Preallocated blocks, not written ones: a copy-on-write filesystem (btrfs) writes a block
	// that was written before to a new one, so on a full disk the last save into a reserve of
	// zeros failed with ENOSPC, and all the progress since the one before was lost (a hunt:
	// "0 B of it is saved", with 80 MB on disk). A preallocated block is written in place.
	err = Preallocate(f, 0, int64(max(n, 4096)))
	if errors.Is(err, errors.ErrUnsupported) {
		_, err = f.Write(make([]byte, max(n, 4096)))
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err == nil
}

// ReserveSuffix names the reserve file beside a control file (see Journal), and TempSuffix the
// temporary file a record is written to before it is renamed over it.
const (
	ReserveSuffix = ".reserve"
	TempSuffix    = ".tmp"
)

// removeTemporary removes the temporary and reserve files.
func (j *Journal) removeTemporary() {
	if j.path != "" {
		removeTemporary(j.path)
	}
}
