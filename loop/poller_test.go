package loop

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests exercise the poller contract through socket pairs, so they run unchanged on
// epoll and kqueue.

func newPair(t *testing.T) (a, b int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, fd := range fds {
		if err := unix.SetNonblock(fd, true); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { unix.Close(fds[0]); unix.Close(fds[1]) })
	return fds[0], fds[1]
}

func newTestPoller(t *testing.T) *poller {
	t.Helper()
	p, err := newPoller()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.close() })
	return p
}

// waitFor waits up to timeout for events and returns those of the first wait that reports any,
// merged per fd (kqueue reports read and write apart). A wait may return early with nothing
// when a signal interrupts it (the Go runtime preempts with SIGURG, more often under load);
// the contract allows that, so waitFor waits again for the rest of the time.
func waitFor(t *testing.T, p *poller, timeout time.Duration) map[int]events {
	t.Helper()
	out := make([]event, 8)
	got := make(map[int]events)
	for deadline := time.Now().Add(timeout); ; {
		n, err := p.wait(out, max(time.Until(deadline), 0))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range out[:n] {
			got[e.fd] |= e.ev
		}
		if n > 0 || !time.Now().Before(deadline) {
			return got
		}
	}
}

func TestPollerReadWrite(t *testing.T) {
	p := newTestPoller(t)
	a, b := newPair(t)
	if err := p.add(a, evRead); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, p, 10*time.Millisecond); len(got) != 0 {
		t.Fatalf("events %v before any write; want none", got)
	}
	unix.Write(b, []byte("x"))
	if got := waitFor(t, p, time.Second); got[a]&evRead == 0 {
		t.Fatalf("events %v after a write; want evRead on %d", got, a)
	}
	// Level-triggered: unread bytes keep the fd ready.
	if got := waitFor(t, p, time.Second); got[a]&evRead == 0 {
		t.Fatalf("events %v with a byte still unread; want evRead again", got)
	}
	if err := p.mod(a, evWrite); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, p, time.Second); got[a] != evWrite {
		t.Fatalf("events %v after mod(evWrite); want only evWrite", got)
	}
	if err := p.del(a); err != nil {
		t.Fatal(err)
	}
	if got := waitFor(t, p, 10*time.Millisecond); len(got) != 0 {
		t.Fatalf("events %v after del; want none", got)
	}
}

func TestPollerPeerClose(t *testing.T) {
	p := newTestPoller(t)
	a, b := newPair(t)
	p.add(a, evRead)
	unix.Close(b)
	got := waitFor(t, p, time.Second)
	if got[a]&evRead == 0 {
		t.Fatalf("events %v after the peer closed; want evRead (the read returns 0)", got)
	}
	var buf [1]byte
	if n, err := unix.Read(a, buf[:]); n != 0 || err != nil {
		t.Fatalf("read = %d, %v; want 0, nil (EOF)", n, err)
	}
}

func TestPollerWake(t *testing.T) {
	p := newTestPoller(t)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(10 * time.Millisecond)
		p.wake() // from another goroutine, while the test blocks in wait
	}()
	got := waitFor(t, p, 5*time.Second)
	<-done // before anything else: the poller must outlive the goroutine's write
	if got[wakeFD] == 0 {
		t.Fatalf("events %v; want a wake-up", got)
	}
	p.wake()
	p.wake() // coalesced with the first: one event, then none
	// Both came before the wait, which must still return at once.
	start := time.Now()
	if got := waitFor(t, p, 10*time.Second); got[wakeFD] == 0 {
		t.Fatalf("events %v; want a second wake-up", got)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a wake before the wait was seen after %v; want at once", d)
	}
	if got := waitFor(t, p, 10*time.Millisecond); len(got) != 0 {
		t.Fatalf("events %v after the wake was drained; want none", got)
	}
}

// TestPollerWakeRace: a goroutine queues work and wakes the poller as fast as it can while the
// loop drains the wake-ups. Every piece of work queued before a wake must be seen after a
// wait that returns; a wake lost between the loop's drain and its clearing of the flag would
// leave the last pieces unseen and the wait blocked (the bug that stalled lists of files).
func TestPollerWakeRace(t *testing.T) {
	p := newTestPoller(t)
	const total = 200_000
	var queued atomic.Int64
	go func() {
		for range total {
			queued.Add(1)
			p.wake()
		}
	}()
	out := make([]event, 8)
	for seen := int64(0); seen < total; {
		n, err := p.wait(out, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		now := queued.Load()
		if n == 0 && now > seen && now == total {
			t.Fatalf("wait timed out with %d of %d pieces of work unseen: a wake-up was lost", now-seen, total)
		}
		seen = now
	}
}

// TestPollerTimeout: with nothing ready, wait reports no events and blocks (waitFor repeats
// the waits that a signal cuts short, as the loop does).
func TestPollerTimeout(t *testing.T) {
	p := newTestPoller(t)
	start := time.Now()
	if got := waitFor(t, p, 30*time.Millisecond); len(got) != 0 {
		t.Fatalf("events %v; want none", got)
	}
	if d := time.Since(start); d < 30*time.Millisecond || d > 2*time.Second {
		t.Fatalf("a 30ms wait took %v", d)
	}
}
