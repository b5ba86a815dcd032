//go:build !linux

package loop

import (
	"errors"
	"os"
)

// fallocate is Linux only for now; elsewhere the caller sets the length instead.
func fallocate(*os.File, int64, int64) error { return errors.ErrUnsupported }

// growPipe is Linux only (F_SETPIPE_SZ); the BSDs size their pipes themselves.
func growPipe(int) {}
