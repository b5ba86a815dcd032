//go:build linux

package loop

import (
	"testing"
	"time"
)

// TestPollerBlockingFallback: when Go's poller does not take the epoll descriptor, wait blocks
// in epoll_wait as it used to, with the same contract: a timeout returns nothing, a wake from
// another goroutine returns a wake event.
func TestPollerBlockingFallback(t *testing.T) {
	p := newTestPoller(t)
	p.blocking = true
	out := make([]event, 8)
	start := time.Now()
	if n, err := p.wait(out, 20*time.Millisecond); n != 0 || err != nil {
		t.Fatalf("wait with nothing ready = %d, %v; want 0, nil", n, err)
	}
	if d := time.Since(start); d < 15*time.Millisecond {
		t.Fatalf("wait returned after %v; want it to sleep its 20 ms", d)
	}
	go func() {
		time.Sleep(10 * time.Millisecond)
		p.wake()
	}()
	if got := waitFor(t, p, 5*time.Second); got[wakeFD] == 0 {
		t.Fatalf("events %v; want a wake-up", got)
	}
}

func TestMillis(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{-1, -1}, {0, 0}, {time.Microsecond, 1}, {time.Millisecond, 1}, {1500 * time.Microsecond, 2}} {
		if got := millis(tc.d); got != tc.want {
			t.Errorf("millis(%v) = %d; want %d", tc.d, got, tc.want)
		}
	}
}
