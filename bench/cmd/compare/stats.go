package main

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rangedl/rangedl/bench/internal/stats"
)

// row is one tool's runs in one scenario.
type row struct {
	tool    string
	flags   string // command line with placeholders
	note    string // said of the flags in the report ("" for nothing)
	command string // the exact command line of the first run
	absent  string // why the tool was not run; "" if it was
	runs    []sample
}

// summary is what the report shows of a row.
type summary struct {
	ok, total int
	wall, cpu time.Duration // medians over the successful runs
	minWall   time.Duration // fastest and slowest successful runs, to show the noise
	maxWall   time.Duration
	rss       int64    // median peak RSS in bytes over the successful runs
	fails     []string // distinct failure reasons, in order of first occurrence
}

// summarize computes the medians of r's successful runs. Failed runs
// contribute no time: a fast wrong answer is not fast.
func (r row) summarize() summary {
	var s summary
	var walls, cpus []time.Duration
	var rss []int64
	for _, x := range r.runs {
		s.total++
		if !x.ok() {
			if !slices.Contains(s.fails, x.fail) {
				s.fails = append(s.fails, x.fail)
			}
			continue
		}
		s.ok++
		walls = append(walls, x.wall)
		cpus = append(cpus, x.cpu)
		rss = append(rss, x.maxRSS)
	}
	s.wall, _ = stats.Median(walls)
	if len(walls) > 0 {
		s.minWall, s.maxWall = slices.Min(walls), slices.Max(walls)
	}
	s.cpu, _ = stats.Median(cpus)
	s.rss, _ = stats.Median(rss)
	return s
}

// result is "ok", or "FAIL k/n: reasons" if any run failed.
func (s summary) result() string {
	if s.ok == s.total {
		return "ok"
	}
	return fmt.Sprintf("FAIL %d/%d: %s", s.total-s.ok, s.total, strings.Join(s.fails, "; "))
}

// anyFail reports whether any run in rows failed.
func anyFail(rows []row) bool {
	for _, r := range rows {
		for _, x := range r.runs {
			if !x.ok() {
				return true
			}
		}
	}
	return false
}
