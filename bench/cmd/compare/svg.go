package main

import (
	"encoding/xml"
	"fmt"
	"strings"
)

// Chart geometry, in SVG user units (pixels at 100%).
const (
	chartWidth  = 760
	chartMargin = 16
	labelWidth  = 80  // tool names, right-aligned against the bars
	barMax      = 480 // length of the longest bar of a panel
	rowHeight   = 20
	barHeight   = 14
	titleHeight = 24 // a panel's title line
	panelGap    = 14
	headHeight  = 30 // the chart's own title
)

// toolColors keeps a tool's colour the same in every panel; rangedl is the
// one that stands out.
var toolColors = map[string]string{
	"rangedl": "#d62728",
	"aria2c":  "#4e79a7",
	"axel":    "#f28e2b",
	"curl":    "#76b7b2",
	"wget":    "#59a14f",
	"wget2":   "#b07aa1",
}

// chartSVG draws one horizontal bar per tool per scenario: the median wall
// time of its successful runs. Each scenario is a panel with its own scale
// (a 1 GiB unthrottled download and a 256 MiB one at 10 MiB/s differ by
// two orders of magnitude); the value is written at the end of each bar.
// Tools without a successful run get a label instead of a bar.
func chartSVG(scs []scenarioReport) string {
	height := chartMargin + headHeight
	for _, sc := range scs {
		height += titleHeight + len(sc.rows)*rowHeight + panelGap
	}
	height += chartMargin - panelGap

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="sans-serif" font-size="12">`+"\n",
		chartWidth, height, chartWidth, height)
	b.WriteString("<title>Median wall time per tool and scenario (shorter is better)</title>\n")
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#ffffff"/>`+"\n", chartWidth, height)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="15" font-weight="bold">Median wall time, seconds (shorter is better; each panel has its own scale)</text>`+"\n",
		chartMargin, chartMargin+15)

	y := chartMargin + headHeight
	x0 := chartMargin + labelWidth
	for _, sc := range scs {
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-weight="bold">%s</text>`+"\n", chartMargin, y+16, esc(sc.name+" ("+sizeString(sc.size)+")"))
		y += titleHeight

		// The panel's scale: its slowest successful median fills barMax.
		sums := make([]summary, len(sc.rows))
		var longest float64
		for i, r := range sc.rows {
			sums[i] = r.summarize()
			if r.absent == "" && sums[i].ok > 0 {
				longest = max(longest, sums[i].wall.Seconds())
			}
		}
		for i, r := range sc.rows {
			mid := y + rowHeight/2
			fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="end" dominant-baseline="middle">%s</text>`+"\n",
				x0-6, mid, esc(r.tool))
			s := sums[i]
			switch {
			case sc.skipped != "":
				fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle" fill="#777777">not run</text>`+"\n", x0, mid)
			case r.absent != "":
				fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle" fill="#777777">absent</text>`+"\n", x0, mid)
			case s.ok == 0:
				fmt.Fprintf(&b, `<text x="%d" y="%d" dominant-baseline="middle" fill="#b00000">%s</text>`+"\n",
					x0, mid, esc(clip("FAIL: "+strings.Join(s.fails, "; "), 80)))
			default:
				w := 1.0
				if longest > 0 {
					w = max(s.wall.Seconds()/longest*barMax, 1)
				}
				color := toolColors[r.tool]
				if color == "" {
					color = "#888888"
				}
				label := fmt.Sprintf("%.2f s", s.wall.Seconds())
				if s.ok < s.total {
					label += fmt.Sprintf(" (%d/%d failed)", s.total-s.ok, s.total)
				}
				fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%.1f" height="%d" fill="%s"><title>%s</title></rect>`+"\n",
					x0, mid-barHeight/2, w, barHeight, color, esc(r.tool+": "+label))
				fmt.Fprintf(&b, `<text x="%.1f" y="%d" dominant-baseline="middle">%s</text>`+"\n",
					float64(x0)+w+4, mid, esc(label))
			}
			y += rowHeight
		}
		// The axis line at zero, the length of the panel.
		top := y - len(sc.rows)*rowHeight
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="#333333"/>`+"\n", x0, top, x0, y)
		y += panelGap
	}
	b.WriteString("</svg>\n")
	return b.String()
}

// clip shortens s to at most n runes, marking the cut with an ellipsis.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n-1]) + "…"
}

// esc escapes s for XML character data and attribute values.
func esc(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s)) // writes to a strings.Builder cannot fail
	return b.String()
}
