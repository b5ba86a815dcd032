package main

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// maxUnsynced bounds the small files of a list held for the sync of their filesystem, so that
// memory does not grow with the list (8192 cost 4-5 MiB of peak RSS). Those beyond are counted.
const maxUnsynced = 8192

// filesystems are the ones a list's files are saved on. The small files are written without
// syncs of their own (loop.Job.Small), and one syncfs(2) per filesystem at the end makes them
// durable together; each filesystem holds its small files until then, so that a failed sync
// fails them, not the whole list in a line. (A sync each maxUnsynced files instead, to hold
// fewer, made 200,000 files of 1 KiB to ext4 take 51-72 s against 20-53 s.)
type filesystems struct {
	byDev map[uint64]*filesystem
	devs  map[string]uint64 // directories whose filesystem is known (a cache)
	held  int               // small files held, on all of them
	blind bool              // a file was saved on a filesystem with nothing of it open: sync(2) at the end
}

type filesystem struct {
	d       *os.File       // a directory on it, open before its files were written (see reorder.SyncFS), or a file
	dir     string         // the directory of the first file saved on it, for messages; "" if none was
	files   []unsyncedFile // small files saved on it, up to maxUnsynced over all filesystems
	unnamed int            // and how many more were
}

// unsyncedFile is a small file saved, and the entry it came from.
type unsyncedFile struct {
	e    entry
	path string
	size int64
	why  string // set if its sync failed
}

// unsynced is what a failed sync leaves: the filesystem's directory, the error, and the
// small files that are not known to be on disk, each with why it failed.
type unsynced struct {
	dir     string
	err     error
	files   []unsyncedFile
	unnamed int   // small files beyond maxUnsynced, neither named nor removed
	kept    error // the first file that could not be removed, why; nil if none
}

// newFilesystems starts with the filesystem of dir (the nearest of it and the directories
// above it that exists): a sync reports only the writeback errors after its directory was
// opened, and most files of a list go there.
func newFilesystems(dir string) *filesystems {
	fs := &filesystems{byDev: map[uint64]*filesystem{}, devs: map[string]uint64{}}
	if dir == "" {
		dir = "."
	}
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs // "." has no parent to go on to when it cannot be opened (mode 0733)
	}
	for ; ; dir = filepath.Dir(dir) {
		if fs.watch(dir, "") || dir == filepath.Dir(dir) {
			break
		}
	}
	return fs
}

// watch opens dir if its filesystem has nothing open yet, and reports whether the filesystem
// is known now. A directory on a filesystem known already is only looked at. A directory that
// cannot be opened (one that may be written but not read, mode 0733) is stood in for by file,
// if given, a file saved in it: syncfs(2) takes any descriptor on the filesystem, and one
// opened after the writes still hears of a writeback error that nobody has been told of.
func (fs *filesystems) watch(dir, file string) bool {
	if _, ok := fs.devs[dir]; ok {
		return true
	}
	st, err := os.Stat(dir)
	if err != nil {
		return false
	}
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	dev := uint64(sys.Dev)
	if fs.byDev[dev] == nil {
		d, err := os.Open(dir)
		if err != nil && file != "" {
			d, err = os.Open(file)
		}
		if err != nil {
			return false
		}
		fs.byDev[dev] = &filesystem{d: d}
	}
	remember(fs.devs, dir, dev)
	return true
}

// saved notes a saved file.
func (fs *filesystems) saved(o outcome) {
	dir := filepath.Dir(o.path)
	if !fs.watch(dir, o.path) {
		fs.blind = true // not a file left unsynced, unsaid: they were
		return
	}
	f := fs.byDev[fs.devs[dir]]
	if f.dir == "" {
		f.dir = dir
	}
	switch {
	case !o.res.Unsynced:
	case fs.held < maxUnsynced:
		f.files = append(f.files, unsyncedFile{e: o.e, path: o.path, size: o.res.Size})
		fs.held++
	default:
		f.unnamed++
	}
}

// sync syncs every filesystem a file was saved on, and returns those whose sync failed. Their
// small files have been removed: not known to be on disk, and fetched again more simply than
// checked.
func (fs *filesystems) sync() []unsynced {
	if fs.blind {
		unix.Sync() // it reports no error
	}
	var failed []unsynced
	for _, f := range fs.byDev {
		if f.dir == "" {
			continue
		}
		if err := reorder.SyncFS(f.d); err != nil {
			u := unsynced{dir: f.dir, err: err, files: f.files, unnamed: f.unnamed}
			for i := range u.files {
				o := &u.files[i]
				o.why = fmt.Sprintf("%s was saved, then removed: the sync of the files under %s failed (%v)", o.path, f.dir, err)
				if rerr := os.Remove(o.path); rerr != nil {
					o.why = fmt.Sprintf("%s was saved, but the sync of the files under %s failed (%v), and it could not be removed: %v", o.path, f.dir, err, rerr)
					if u.kept == nil {
						u.kept = rerr
					}
				}
			}
			failed = append(failed, u)
		}
	}
	return failed
}

// close closes the directories.
func (fs *filesystems) close() {
	for _, f := range fs.byDev {
		f.d.Close()
	}
}
