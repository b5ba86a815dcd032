//go:build darwin

package loop

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// socket creates a nonblocking, close-on-exec TCP socket. Darwin has no SOCK_NONBLOCK or
// SOCK_CLOEXEC flags, so the flags are set after the fact (no fork can happen in between
// without the Go runtime's ForkLock, which syscall.ForkExec holds).
func socket(family int) (int, error) {
	syscall.ForkLock.RLock()
	fd, err := unix.Socket(family, unix.SOCK_STREAM, unix.IPPROTO_TCP)
	if err == nil {
		unix.CloseOnExec(fd)
	}
	syscall.ForkLock.RUnlock()
	if err != nil {
		return -1, os.NewSyscallError("socket", err)
	}
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		return -1, os.NewSyscallError("fcntl O_NONBLOCK", err)
	}
	// SO_NOSIGPIPE: a write to a reset connection returns EPIPE instead of raising SIGPIPE.
	unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_NOSIGPIPE, 1)
	return fd, nil
}
