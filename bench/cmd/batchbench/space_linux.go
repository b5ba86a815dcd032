package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// freeSpace returns the bytes and inodes an unprivileged user may still use
// on the filesystem that holds dir. A filesystem without an inode limit
// (btrfs reports none) gives the largest count.
func freeSpace(dir string) (bytes int64, inodes uint64, err error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, 0, os.NewSyscallError("statfs", err)
	}
	inodes = st.Ffree
	if st.Files == 0 {
		inodes = ^uint64(0)
	}
	return int64(st.Bavail) * st.Bsize, inodes, nil
}
