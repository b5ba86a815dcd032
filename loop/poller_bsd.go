//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package loop

import (
	"os"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// poller is kqueue(2) plus a pipe for wake-ups from other goroutines. kqueue keeps one filter
// per direction, so a change of interest is a list of EV_ADD/EV_DELETE changes; the armed
// interest of every fd is remembered to send only what differs.
type poller struct {
	kq       int
	wr, rd   int // wake pipe
	woken    atomic.Bool
	interest map[int]events
	raw      []unix.Kevent_t
}

func newPoller() (*poller, error) {
	kq, err := unix.Kqueue()
	if err != nil {
		return nil, os.NewSyscallError("kqueue", err)
	}
	unix.CloseOnExec(kq)
	var fds [2]int
	if err := unix.Pipe(fds[:]); err != nil {
		unix.Close(kq)
		return nil, os.NewSyscallError("pipe", err)
	}
	for _, fd := range fds {
		unix.CloseOnExec(fd)
		unix.SetNonblock(fd, true)
	}
	p := &poller{kq: kq, rd: fds[0], wr: fds[1], interest: make(map[int]events)}
	if err := p.add(p.rd, evRead); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *poller) change(fd int, ev events) error {
	old := p.interest[fd]
	var ch [2]unix.Kevent_t
	n := 0
	for _, f := range [...]struct {
		bit    events
		filter int16
	}{{evRead, unix.EVFILT_READ}, {evWrite, unix.EVFILT_WRITE}} {
		switch {
		case ev&f.bit != 0 && old&f.bit == 0:
			unix.SetKevent(&ch[n], fd, int(f.filter), unix.EV_ADD)
			n++
		case ev&f.bit == 0 && old&f.bit != 0:
			unix.SetKevent(&ch[n], fd, int(f.filter), unix.EV_DELETE)
			n++
		}
	}
	if n > 0 {
		if _, err := unix.Kevent(p.kq, ch[:n], nil, nil); err != nil {
			// What the kernel took of the changes is not known: the fd's interest is
			// forgotten, so that no later change deletes a filter it may not have, and the fd
			// is closed (which drops its filters) before its number is watched again.
			delete(p.interest, fd)
			return os.NewSyscallError("kevent", err)
		}
	}
	p.interest[fd] = ev
	return nil
}

func (p *poller) add(fd int, ev events) error { return p.change(fd, ev) }
func (p *poller) mod(fd int, ev events) error { return p.change(fd, ev) }

func (p *poller) del(fd int) error {
	err := p.change(fd, 0)
	delete(p.interest, fd)
	return err
}

func (p *poller) wait(out []event, timeout time.Duration) (int, error) {
	if cap(p.raw) < len(out) {
		p.raw = make([]unix.Kevent_t, len(out))
	}
	raw := p.raw[:len(out)]
	var ts *unix.Timespec
	if timeout >= 0 {
		t := unix.NsecToTimespec(int64(timeout))
		ts = &t
	}
	n, err := unix.Kevent(p.kq, nil, raw, ts)
	if (err == unix.EINTR || err == nil && n == 0) && timeout != 0 {
		// A signal, or the time is up: kevent does not look again at what became ready
		// meanwhile. After a stop (SIGSTOP, Ctrl-Z) past the timeout, the sockets' bytes wait
		// unread, and the stall timeout would fail their connections: what is ready goes
		// first (as poller_linux.go does, TestStopAndContinue).
		n, err = unix.Kevent(p.kq, nil, raw, &unix.Timespec{})
	}
	if err == unix.EINTR {
		return 0, nil
	}
	if err != nil {
		return 0, os.NewSyscallError("kevent", err)
	}
	for i := range n {
		fd := int(raw[i].Ident)
		if fd == p.rd {
			// Drain, then clear the flag (see poller_linux.go for why not the other way).
			var buf [64]byte
			for {
				if k, _ := unix.Read(p.rd, buf[:]); k <= 0 {
					break
				}
			}
			p.woken.Store(false)
			out[i] = event{fd: wakeFD, ev: evRead}
			continue
		}
		var ev events
		switch raw[i].Filter {
		case unix.EVFILT_READ:
			ev = evRead
		case unix.EVFILT_WRITE:
			ev = evWrite
		}
		if raw[i].Flags&unix.EV_ERROR != 0 {
			ev |= evError
		}
		// EV_EOF is left to the read that follows: it returns 0 or the error.
		out[i] = event{fd: fd, ev: ev}
	}
	return n, nil
}

func (p *poller) wake() error {
	if p.woken.Swap(true) {
		return nil
	}
	_, err := unix.Write(p.wr, []byte{1})
	if err != nil && err != unix.EAGAIN {
		return os.NewSyscallError("write wake pipe", err)
	}
	return nil
}

func (p *poller) close() error {
	unix.Close(p.rd)
	unix.Close(p.wr)
	return os.NewSyscallError("close kqueue", unix.Close(p.kq))
}
