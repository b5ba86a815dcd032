//go:build linux

package loop

import (
	"errors"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// poller is epoll(7) plus an eventfd(2) for wake-ups from other goroutines.
//
// wait does not block a thread in epoll_wait (unless Go's poller refused the epoll descriptor;
// see blocking). It asks epoll without waiting, and when nothing is ready it parks the
// goroutine in Go's own poller on the epoll descriptor, which becomes readable when something
// in our set is ready (epoll descriptors nest). A thread blocked in a
// system call keeps its processor until the runtime's monitor takes it away, and every wake-up
// then costs a thread switch; a parked goroutine costs neither, which shows on lists of small
// files, where the loop and the workers hand each file to each other.
type poller struct {
	epfd   int
	wakefd int
	woken  atomic.Bool // coalesces wake() calls until the loop drains the eventfd
	raw    []unix.EpollEvent
	file   *os.File           // epfd, registered with Go's poller
	conn   syscall.RawConn    // of file: Read parks until epfd is readable
	look   func(uintptr) bool // p.lookNow, made once (a method value allocates)
	n      int                // what the last lookNow found
	err    error
	// blocking: Go's poller did not take epfd, so wait blocks a thread in epoll_wait.
	blocking bool
}

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	if err := unix.SetNonblock(epfd, true); err != nil { // so that os.NewFile registers it
		unix.Close(epfd)
		return nil, os.NewSyscallError("fcntl", err)
	}
	file := os.NewFile(uintptr(epfd), "epoll")
	conn, err := file.SyscallConn()
	if err != nil {
		file.Close()
		return nil, err
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC)
	if err != nil {
		file.Close()
		return nil, os.NewSyscallError("eventfd", err)
	}
	p := &poller{epfd: epfd, wakefd: wakefd, file: file, conn: conn}
	p.look = p.lookNow
	// os.NewFile does not say when Go's poller refused the descriptor (max_user_watches, say);
	// a deadline is refused then, and wait blocks in epoll_wait as it used to.
	p.blocking = file.SetReadDeadline(time.Time{}) != nil
	if err := p.ctl(unix.EPOLL_CTL_ADD, wakefd, evRead); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *poller) ctl(op, fd int, ev events) error {
	e := unix.EpollEvent{Fd: int32(fd)}
	if ev&evRead != 0 {
		// EPOLLRDHUP: a peer's FIN is reported as readable even before any data follows.
		e.Events |= unix.EPOLLIN | unix.EPOLLRDHUP
	}
	if ev&evWrite != 0 {
		e.Events |= unix.EPOLLOUT
	}
	// EPOLLERR and EPOLLHUP are always reported; nothing to ask for.
	if err := unix.EpollCtl(p.epfd, op, fd, &e); err != nil {
		return os.NewSyscallError("epoll_ctl", err)
	}
	return nil
}

func (p *poller) add(fd int, ev events) error { return p.ctl(unix.EPOLL_CTL_ADD, fd, ev) }
func (p *poller) mod(fd int, ev events) error { return p.ctl(unix.EPOLL_CTL_MOD, fd, ev) }
func (p *poller) del(fd int) error            { return p.ctl(unix.EPOLL_CTL_DEL, fd, 0) }

func (p *poller) wait(out []event, timeout time.Duration) (int, error) {
	if cap(p.raw) < len(out) {
		p.raw = make([]unix.EpollEvent, len(out))
	}
	p.raw = p.raw[:len(out)]
	raw := p.raw
	if p.blocking {
		p.n, p.err = unix.EpollWait(p.epfd, raw, millis(timeout))
	} else if !p.lookNow(0) && timeout != 0 {
		var deadline time.Time // none: wait for an event or a wake
		if timeout > 0 {
			deadline = time.Now().Add(timeout)
		}
		p.file.SetReadDeadline(deadline)
		switch err := p.conn.Read(p.look); {
		case errors.Is(err, os.ErrDeadlineExceeded):
			// Time is up, but a process stopped past the deadline (SIGSTOP, Ctrl-Z) comes
			// back to that and to its sockets' bytes at once, and the runtime may report the
			// deadline first: what is ready goes first, or the stall timeout would fail
			// connections whose bytes wait unread (TestStopAndContinue).
			p.lookNow(0)
		case err != nil:
			return 0, err
		}
	}
	if p.err == unix.EINTR && !p.lookNow(0) {
		// A signal. After a stop (SIGCONT) what is ready goes first, as above: the look
		// says whether there is any.
		return 0, nil
	}
	n, err := p.n, p.err
	if err != nil {
		return 0, os.NewSyscallError("epoll_wait", err)
	}
	for i := range n {
		e := raw[i].Events
		fd := int(raw[i].Fd)
		if fd == p.wakefd {
			// Drain, then clear the flag. The other order loses wake-ups: a wake() between
			// the two would write, the read would swallow its write, and with the flag set
			// every later wake() would skip its write too. In this order a wake() before the
			// clear sees the flag and skips, which is safe: what it announced was queued
			// before it, and the loop looks at the queue after this wait.
			var buf [8]byte
			unix.Read(p.wakefd, buf[:]) // reset the counter
			p.woken.Store(false)
			out[i] = event{fd: wakeFD, ev: evRead}
			continue
		}
		var ev events
		if e&(unix.EPOLLIN|unix.EPOLLRDHUP) != 0 {
			ev |= evRead
		}
		if e&unix.EPOLLOUT != 0 {
			ev |= evWrite
		}
		if e&(unix.EPOLLERR|unix.EPOLLHUP) != 0 {
			ev |= evError
		}
		out[i] = event{fd: fd, ev: ev}
	}
	return n, nil
}

// lookNow asks epoll for what is ready, without waiting, into p.raw; it reports whether there
// is something to hand out (events, or an error).
func (p *poller) lookNow(uintptr) bool {
	p.n, p.err = unix.EpollWait(p.epfd, p.raw, 0)
	return p.n > 0 || (p.err != nil && p.err != unix.EINTR)
}

func (p *poller) wake() error {
	if p.woken.Swap(true) {
		return nil // a wake-up is already pending
	}
	one := [8]byte{1} // eventfd takes a native-endian uint64; 1 is non-zero in either order
	_, err := unix.Write(p.wakefd, one[:])
	if err != nil && err != unix.EAGAIN {
		return os.NewSyscallError("write eventfd", err)
	}
	return nil
}

func (p *poller) close() error {
	unix.Close(p.wakefd)
	return p.file.Close()
}

// millis converts a poll timeout to whole milliseconds, rounding up so a wait never returns
// just before a deadline and spins; negative means "block".
func millis(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}
