// Command spawn runs one program and reports its wall time and resource
// usage; the compare harness starts every downloader through it.
//
// Usage (by the harness, not by people):
//
//	spawn PROGRAM [ARG...]     with a pipe open as descriptor 3
//
// PROGRAM (an absolute path) runs with spawn's environment, working
// directory, stdin, stdout and stderr. When it exits, spawn writes one line
// to descriptor 3,
//
//	WALL_NS UTIME_NS STIME_NS MAXRSS STATUS
//
// where MAXRSS is ru_maxrss as the kernel reports it (KiB on Linux and the
// BSDs, bytes on macOS) and STATUS is the exit code, or minus the signal
// number that killed it; or, if PROGRAM could not be started, a line
// beginning "exec-error:".
//
// # Why a separate process
//
// On Linux, Go starts children with vfork (clone with CLONE_VM), so until
// exec the child runs in its parent's address space, and exec records that
// address space's peak RSS in the child's ru_maxrss (fs/exec.c,
// exec_mmap). A tool started straight from the harness would therefore
// report at least the harness's own peak RSS, 16 MiB or more, while wget
// and axel really use 4–5 MiB. spawn is kept tiny (only os, syscall, time
// and strconv) so the floor it adds is its own peak, about 2 MiB.
package main
