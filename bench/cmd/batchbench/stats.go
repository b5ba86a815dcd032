package main

import "time"

// windowRate returns the files per second of the lines ts[from:to], where
// ts[i] is when the i-th "saved" line arrived, measured from the start of
// the run. A window runs from the arrival of the line before it (the start
// of the run for the first window) to the arrival of its last line, so
// consecutive windows tile the run: the first one includes the start-up,
// and none loses the gap at its border. ok is false for an empty window or
// one that took no measurable time.
func windowRate(ts []time.Duration, from, to int) (rate float64, ok bool) {
	if from < 0 || to > len(ts) || from >= to {
		return 0, false
	}
	var begin time.Duration
	if from > 0 {
		begin = ts[from-1]
	}
	span := ts[to-1] - begin
	if span <= 0 {
		return 0, false
	}
	return float64(to-from) / span.Seconds(), true
}

// edgeFraction is the share of the saved lines in each of the windows the
// million scenario compares: the first 10% against the last 10%.
const edgeFraction = 10 // percent

// edges returns the rates of the first and the last edgeFraction percent of
// the lines in ts. ok is false if there are too few lines to have two
// windows.
func edges(ts []time.Duration) (first, last float64, ok bool) {
	k := len(ts) * edgeFraction / 100
	if k < 1 {
		return 0, 0, false
	}
	first, ok1 := windowRate(ts, 0, k)
	last, ok2 := windowRate(ts, len(ts)-k, len(ts))
	return first, last, ok1 && ok2
}

// tenth is one tenth of a run's saved lines.
type tenth struct {
	from, to int           // line indices [from, to)
	end      time.Duration // when its last line arrived
	rate     float64       // files/s, 0 if not measurable
}

// tenths splits ts into ten windows of (nearly) equal line counts and
// returns each one's rate: the shape of a run, where decay would show as a
// falling column. Fewer than ten lines give fewer windows.
func tenths(ts []time.Duration) []tenth {
	n := len(ts)
	parts := min(10, n)
	out := make([]tenth, 0, parts)
	for i := range parts {
		from, to := n*i/parts, n*(i+1)/parts
		r, _ := windowRate(ts, from, to)
		out = append(out, tenth{from: from, to: to, end: ts[to-1], rate: r})
	}
	return out
}
