package reorder

import (
	"os"

	"golang.org/x/sys/unix"
)

// datasync makes f's data durable. fdatasync(2) skips the metadata a read
// does not need (the modification time), which saves a journal write on
// every save.
func datasync(f *os.File) error {
	for {
		err := unix.Fdatasync(int(f.Fd()))
		if err != unix.EINTR {
			return err
		}
	}
}

// SyncFS makes durable everything written to the filesystem that holds d, an open directory:
// the files of a list that were written without syncs of their own, and their directory
// entries. syncfs(2) does it in one call for the whole filesystem, far cheaper than a sync per
// small file. It reports the writeback errors since d was opened, or since its last SyncFS: a
// d opened after the files were written would not hear of one from the kernel's own
// writeback in between.
func SyncFS(d *os.File) error {
	for {
		err := unix.Syncfs(int(d.Fd()))
		if err != unix.EINTR {
			return os.NewSyscallError("syncfs", err)
		}
	}
}

// Preallocate gives f the blocks of [off, off+n) without writing them (fallocate(2) mode 0:
// the length grows to its end if shorter), or fails with an error that errors.Is matches with
// errors.ErrUnsupported (EOPNOTSUPP) where the filesystem cannot.
func Preallocate(f *os.File, off, n int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, off, n)
		if err != unix.EINTR {
			return os.NewSyscallError("fallocate", err)
		}
	}
}
