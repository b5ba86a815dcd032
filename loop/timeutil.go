package loop

import "time"

// millis converts a poll timeout to whole milliseconds, rounding up so a wait never returns
// just before a deadline and spins; negative means "block".
func millis(d time.Duration) int {
	if d < 0 {
		return -1
	}
	return int((d + time.Millisecond - 1) / time.Millisecond)
}

// later returns the later of a and b.
func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
