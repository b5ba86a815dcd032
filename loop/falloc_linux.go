package loop

import (
	"os"

	"golang.org/x/sys/unix"
)

// fallocate reserves the blocks of [0, size) for f (fallocate(2) mode 0: the length grows
// too). A filesystem that cannot answers EOPNOTSUPP, which errors.Is matches with
// errors.ErrUnsupported.
func fallocate(f *os.File, size int64) error {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		if err != unix.EINTR {
			return os.NewSyscallError("fallocate", err)
		}
	}
}
