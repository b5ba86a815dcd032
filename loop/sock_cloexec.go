//go:build linux || dragonfly || freebsd || netbsd || openbsd

package loop

import (
	"os"

	"golang.org/x/sys/unix"
)

// socket creates a nonblocking, close-on-exec TCP socket in one system call.
func socket(family int) (int, error) {
	fd, err := unix.Socket(family, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, unix.IPPROTO_TCP)
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	return fd, nil
}
