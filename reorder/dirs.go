package reorder

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"
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

// RemoveControl removes the control file at path, with its temporary and reserve files, and
// makes the removal durable: a record must not outlive the data it describes. A missing
// control file is not an error.
//
// The reserve goes first: a reserve without its record says the record was lost, and -c
// refuses the file (see Journal.reserve). In the other order a kill between the two removals
// left a complete file that -c refused (TestKillResume saw it once in CI). A record without its
// reserve is only a save that will need a new block. After a power cut the order holds only
// if the reserve's removal is durable first (see above).
func RemoveControl(path string) error {
	reserve, err := removeTemporary(path)
	if err != nil {
		return err // the record stays: it must not go before its reserve
	}
	if reserve {
		if err := syncDir(filepath.Dir(path)); err != nil {
			return err
		}
	}
	err = os.Remove(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// removeTemporary removes the temporary and reserve files beside the control file at path,
// and reports whether there was a reserve, and the error of its removal, if not that there was
// none.
func removeTemporary(path string) (reserve bool, err error) {
	os.Remove(path + TempSuffix)
	err = os.Remove(path + ReserveSuffix)
	if errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
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
	if errors.Is(err, fs.ErrPermission) {
		// A directory that may be written but not read (mode 0333) cannot be opened to be
		// synced: sync(2) makes everything durable, its entries with it. A download there
		// failed at its first record, and left that record beside no file (a hunt). (The
		// journal's saves use syncfs instead: see Journal.write.)
		unix.Sync()
		return nil
	}
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
