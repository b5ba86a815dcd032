//go:build !linux

package reorder

import "os"

// datasync makes f's data durable. os.File.Sync is fsync(2), and on macOS
// F_FULLFSYNC, which also flushes the drive's own cache.
func datasync(f *os.File) error { return f.Sync() }
