//go:build !linux

package reorder

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// datasync makes f's data durable. os.File.Sync is fsync(2), and on macOS
// F_FULLFSYNC, which also flushes the drive's own cache.
func datasync(f *os.File) error { return f.Sync() }

// SyncFS makes durable everything written to the filesystem that holds d. Without syncfs(2)
// this is sync(2), for every filesystem, which reports no error.
func SyncFS(*os.File) error {
	return os.NewSyscallError("sync", unix.Sync())
}

// Preallocate is Linux only (fallocate(2)); elsewhere the caller sets the length, or writes
// zeros.
func Preallocate(*os.File, int64, int64) error { return errors.ErrUnsupported }
