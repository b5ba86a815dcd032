package server

import (
	"context"
	"time"
)

// limiter caps one connection's send rate. It is a token bucket written in
// its "virtual clock" form (the GCRA of ATM traffic shaping): instead of a
// token count it keeps the instant at which everything sent so far has been
// paid for. Sending n bytes at rate r moves that instant forward by n/r;
// the sender sleeps until the instant is no longer in the future. Because
// the clock is advanced by the exact cost and never re-read from the
// wall-clock after a sleep, oversleeping on one slice is made up on the
// next, which keeps the long-run rate accurate to well under 1% even with
// millisecond timer slack, and the sender never spins.
//
// A limiter belongs to one connection and is used only by the goroutine
// serving it (net/http serves the requests of a connection in sequence), so
// it needs no lock; the bucket carries over between keep-alive responses.
type limiter struct {
	paid  time.Time   // everything sent so far is paid for at this instant
	timer *time.Timer // reused across waits; nil until first needed
}

// maxSlice is the largest write the server makes while rate limited:
// small enough that one write is a short burst even at low rates.
const maxSlice = 16 << 10

// sliceFor returns the write size for a connection capped at rate bytes/s:
// about 1/64 s of data, so the cap holds over short windows too, and
// between 1 byte and maxSlice.
func sliceFor(rate int64) int {
	return int(max(1, min(maxSlice, rate/64)))
}

// wait blocks until n more bytes may be sent at rate bytes/s, or until ctx
// is done (it then returns ctx's error). Idle time is not banked: a
// connection that sat idle does not get to burst afterwards.
func (l *limiter) wait(ctx context.Context, n int, rate int64) error {
	now := time.Now()
	if l.paid.Before(now) {
		l.paid = now
	}
	start := l.paid // this slice may leave once the previous ones are paid for
	l.paid = l.paid.Add(time.Duration(float64(n) / float64(rate) * float64(time.Second)))
	d := start.Sub(now)
	if d <= 0 {
		return ctx.Err()
	}
	if l.timer == nil {
		l.timer = time.NewTimer(d)
	} else {
		l.timer.Reset(d)
	}
	select {
	case <-l.timer.C:
		return nil
	case <-ctx.Done():
		l.timer.Stop()
		return ctx.Err()
	}
}
