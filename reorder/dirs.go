package reorder

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// A power cut may keep a later change to a directory and lose an earlier one: ext4 without a
// journal, for one, writes directory and inode blocks back in no set order. Where the order of
// two changes matters, the first is made durable (syncDir) before the second is made.

// RemoveFile removes a data file and then its control file (RemoveControl), the first removal
// durable before the second: a data file that outlives its record is taken by -c for as much
// of the remote file as its length says, and a preallocated one is full length. A missing data
// file is not an error.
func RemoveFile(path, control string) error {
	err := os.Remove(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err == nil {
		if _, err := os.Lstat(control); err == nil {
			if err := syncDir(filepath.Dir(path)); err != nil {
				return err
			}
		}
	}
	return RemoveControl(control)
}

// MakeDirs makes dir and whichever of its parents are missing, like os.MkdirAll, and makes
// each new directory's entry durable in its parent: a file synced in a new directory is not
// on disk until the directory is.
func MakeDirs(dir string) error {
	dir = filepath.Clean(dir)
	if st, err := os.Stat(dir); err == nil {
		if !st.IsDir() {
			return &fs.PathError{Op: "mkdir", Path: dir, Err: syscall.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MakeDirs(parent); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, 0o777); err != nil {
		if st, serr := os.Stat(dir); serr != nil || !st.IsDir() {
			return err
		}
		// Made meanwhile by another worker of the list, which may not have synced it yet.
	}
	return syncDir(parent)
}

// syncDir makes the entries of a directory (a rename, a removal) durable. It is a variable so
// that the tests can see what each sync makes durable (so those tests do not run in parallel).
var syncDir = func(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some filesystems cannot sync a directory and say so; they give no
	// stronger promise we could ask for instead.
	if errors.Is(err, syscall.EINVAL) {
		err = nil
	}
	return err
}
