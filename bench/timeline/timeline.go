// Package timeline draws a per-connection timeline of one rangedl download from its --trace
// file: which connection fetched which range when, at what throughput, and where the
// scheduler stole, duplicated, evicted or retried. It is the picture a person studying the
// I/O wants; the benchmark harness draws one for a straggler run.
package timeline

import (
	"bufio"
	"encoding/json"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"
)

// Event is one line of a rangedl --trace file (see loop/trace.go for the format).
type Event struct {
	T      float64  `json:"t"`
	Event  string   `json:"event"`
	Conn   int      `json:"conn"`
	From   int      `json:"from"`
	Range  [2]int64 `json:"range"`
	Status int      `json:"status"`
	Rate   float64  `json:"rate"`
	Median float64  `json:"median"`
	Wait   float64  `json:"wait"`
	N      int64    `json:"n"`
	Reason string   `json:"reason"`
	Addr   string   `json:"addr"`
}

// Read parses a trace.
func Read(r io.Reader) ([]Event, error) {
	var evs []Event
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		var e Event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("timeline: trace line %d: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs, sc.Err()
}

// Segment is one request on one connection: from the request to the end of its piece. A
// pipelined request's segment starts when the piece before it on the connection is done.
type Segment struct {
	Conn       int
	Start, End float64 // seconds
	Range      [2]int64
	Kind       string // "piece", "stolen" (the thief's part of a steal), "duplicate"
	Ending     string // "done", "cut", "lost", "evict", "retry", or "open" (still running at the end)
}

// Bytes is how many bytes the segment's range holds.
func (s Segment) Bytes() int64 { return s.Range[1] - s.Range[0] }

// Segments turns events into one segment per request.
func Segments(evs []Event) []Segment {
	var segs []Segment
	open := map[int]int{} // conn → index of its running segment
	kind := map[int]string{}
	next := map[int][2]int64{} // conn → the range of its pipelined request
	end := 0.0
	closeSeg := func(conn int, t float64, how string) {
		if i, ok := open[conn]; ok {
			segs[i].End, segs[i].Ending = t, how
			delete(open, conn)
		}
	}
	openSeg := func(conn int, t float64, r [2]int64) {
		k := kind[conn]
		if k == "" {
			k = "piece"
		}
		delete(kind, conn)
		open[conn] = len(segs)
		segs = append(segs, Segment{Conn: conn, Start: t, End: -1, Range: r, Kind: k, Ending: "open"})
	}
	for _, e := range evs {
		end = max(end, e.T)
		switch e.Event {
		case "steal":
			kind[e.Conn] = "stolen"
		case "duplicate":
			kind[e.Conn] = "duplicate"
		case "request":
			closeSeg(e.Conn, e.T, "done")
			openSeg(e.Conn, e.T, e.Range)
		case "pipeline":
			next[e.Conn] = e.Range
		case "done":
			closeSeg(e.Conn, e.T, e.Event)
			if r, ok := next[e.Conn]; ok {
				delete(next, e.Conn)
				openSeg(e.Conn, e.T, r)
			}
		case "cut", "lost", "evict", "retry":
			closeSeg(e.Conn, e.T, e.Event)
			delete(next, e.Conn) // the connection is closed: its pipelined piece goes back
		}
	}
	for conn := range open {
		closeSeg(conn, end, "open")
	}
	return segs
}

// SVG draws the timeline: one row per connection, one bar per request, coloured by kind,
// with its throughput written on it where it fits.
func SVG(w io.Writer, title string, evs []Event) error {
	segs := Segments(evs)
	var conns []int
	total := 0.0
	for _, s := range segs {
		if !slices.Contains(conns, s.Conn) {
			conns = append(conns, s.Conn)
		}
		total = max(total, s.End)
	}
	slices.Sort(conns)
	for _, e := range evs {
		total = max(total, e.T)
	}
	if total <= 0 {
		total = 1
	}
	const (
		left, right, top, rowH, width = 70, 20, 50, 16, 1000
	)
	plot := float64(width - left - right)
	height := top + rowH*len(conns) + 60
	x := func(t float64) float64 { return left + t/total*plot }
	row := map[int]int{}
	for i, c := range conns {
		row[c] = i
	}
	colors := map[string]string{"piece": "#4c78a8", "stolen": "#f58518", "duplicate": "#b279a2"}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">`+"\n", width, height)
	fmt.Fprintf(&b, `<text x="%d" y="20" font-size="14">%s</text>`+"\n", left, html.EscapeString(title))
	fmt.Fprintf(&b, `<text x="%d" y="36" fill="#555">one row per connection, one bar per request; colour: piece, stolen part, duplicate; red edge: evicted or failed; text: MiB/s</text>`+"\n", left)
	for i, c := range conns {
		y := top + i*rowH
		fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end">conn %d</text>`+"\n", left-6, y+rowH-4, c)
	}
	for _, s := range segs {
		y := top + row[s.Conn]*rowH
		x0, x1 := x(s.Start), x(s.End)
		wpx := max(x1-x0, 1)
		fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="%.1f" height="%d" fill="%s" stroke="white" stroke-width="0.5"><title>conn %d %s [%d,%d) %.3f-%.3fs %s</title></rect>`+"\n",
			x0, y+1, wpx, rowH-2, colors[s.Kind], s.Conn, s.Kind, s.Range[0], s.Range[1], s.Start, s.End, s.Ending)
		if s.Ending == "evict" || s.Ending == "retry" || s.Ending == "lost" {
			fmt.Fprintf(&b, `<rect x="%.1f" y="%d" width="2" height="%d" fill="#e45756"/>`+"\n", x0+wpx-2, y+1, rowH-2)
		}
		if d := s.End - s.Start; d > 0 && wpx > 40 && s.Ending != "evict" {
			fmt.Fprintf(&b, `<text x="%.1f" y="%d" fill="white" text-anchor="middle" font-size="9">%.0f</text>`+"\n",
				x0+wpx/2, y+rowH-5, float64(s.Bytes())/d/(1<<20))
		}
	}
	axisY := top + rowH*len(conns) + 4
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, axisY, width-right, axisY)
	step := niceStep(total)
	for t := 0.0; t <= total+1e-9; t += step {
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="black"/><text x="%.1f" y="%d" text-anchor="middle">%gs</text>`+"\n",
			x(t), axisY, x(t), axisY+4, x(t), axisY+16, roundTo(t, step))
	}
	b.WriteString("</svg>\n")
	_, err := io.WriteString(w, b.String())
	return err
}

// niceStep picks a tick spacing of 1, 2 or 5 × 10^k giving about ten ticks.
func niceStep(total float64) float64 {
	step := 1e-3
	for total/step > 10 {
		for _, m := range []float64{2, 2.5, 2} {
			step *= m
			if total/step <= 10 {
				break
			}
		}
	}
	return step
}

func roundTo(t, step float64) float64 {
	r := float64(int64(t/step+0.5)) * step
	return float64(int64(r*1000+0.5)) / 1000
}
