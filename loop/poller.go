package loop

// The poller contract. Each OS file (poller_linux.go: epoll; poller_bsd.go: kqueue) defines:
//
//	func newPoller() (*poller, error)
//	func (p *poller) add(fd int, ev events) error // start watching fd for ev
//	func (p *poller) mod(fd int, ev events) error // replace the interest set of a watched fd
//	func (p *poller) del(fd int) error            // stop watching fd (before closing it)
//	func (p *poller) wait(out []event, timeout time.Duration) (int, error)
//	func (p *poller) wake() error                 // safe from any goroutine: makes wait return
//	func (p *poller) close() error
//
// wait fills out with ready descriptors and returns how many; a negative timeout blocks until an
// event or a wake. It returns 0, nil when interrupted by a signal (EINTR) or timed out.
// A wake is reported as an event with fd == wakeFD; wait drains it itself.
//
// Readiness is level-triggered on both systems: a descriptor stays ready while unread bytes
// remain. The loop reads once per wakeup per connection (a bounded budget), which keeps many
// connections fair without read-until-EAGAIN loops, and back-pressure is simply mod() without
// evRead.

// events is our own readiness bitmask, the same on every OS (never a raw epoll or kqueue value).
type events uint8

const (
	evRead  events = 1 << iota // readable, or the peer closed its side
	evWrite                    // writable (for a connecting socket: the connect finished)
	evError                    // error or hang-up: the next read or SO_ERROR says which
)

// wakeFD is the fd reported for a wake-up; no real descriptor is ever negative.
const wakeFD = -1

// event is one ready descriptor.
type event struct {
	fd int
	ev events
}
