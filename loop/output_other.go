//go:build !linux

package loop

// growPipe is Linux only (F_SETPIPE_SZ); the BSDs size their pipes themselves.
func growPipe(int) {}
