package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"

	"github.com/rangedl/rangedl/bench/internal/harness"
)

// report is everything written to the results file.
type report struct {
	set       string // scenario set name: "all", "smoke", "a+b"
	date      time.Time
	command   string // the command line that produced it
	sys       sysInfo
	rounds    int
	tools     []installed
	scenarios []scenarioReport
	chart     string // file name of the SVG next to the report; "" for none
	// timeline is the file name of the per-connection timeline of one rangedl run of
	// scenario timelineOf (bench/timeline); "" for none.
	timeline, timelineOf string
}

// scenarioReport is one scenario's section.
type scenarioReport struct {
	name    string
	note    string
	server  string // describe() of its origin
	path    string // URL path downloaded
	size    int64
	skipped string // why it was not run; "" if it was
	rows    []row
}

// sysInfo describes the machine, so numbers from two machines are never
// compared unawares.
type sysInfo struct {
	uname string // uname -srm
	cpu   string // CPU model name
	cores int
	goVer string
	load  string // 1, 5 and 15 minute load averages; "" if unknown
}

// markdown renders the whole report.
func (r report) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "# rangedl vs other downloaders: %s\n\n", r.set)
	fmt.Fprintf(&b, "- Date: %s\n", r.date.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(&b, "- Command: `%s`\n", r.command)
	fmt.Fprintf(&b, "- Machine: `%s`, %s, %d cores\n", r.sys.uname, r.sys.cpu, r.sys.cores)
	if r.sys.load != "" {
		// A busy machine explains a wide min–max spread.
		fmt.Fprintf(&b, "- Load average at start: %s\n", r.sys.load)
	}
	fmt.Fprintf(&b, "- Go: %s\n", r.sys.goVer)
	fmt.Fprintf(&b, "- Method: %d round(s), interleaved (every tool once per round, in table order); "+
		"one tool at a time; each run writes a fresh file in an empty directory on the same file system, "+
		"in a clean environment (no proxy variables, empty HOME). Times are medians of the successful runs, with their min–max; "+
		"a run fails on a non-zero exit, a timeout, or an output whose size or SHA-256 differs from the served file. "+
		"CPU is user+system time and RSS the peak resident set of the tool's process, from its rusage; "+
		"tools start through a small launcher (bench/cmd/compare/internal/spawn), so RSS values are exact above its own ~2 MiB. "+
		"\"vs rangedl\" is the tool's median wall time over rangedl's (above 1: slower than rangedl).\n", r.rounds)
	b.WriteString("\n| tool | version | path |\n|---|---|---|\n")
	for _, t := range r.tools {
		if t.absent != "" {
			fmt.Fprintf(&b, "| %s | absent | %s |\n", t.name, harness.Cell(t.absent))
			continue
		}
		path := "`" + harness.Cell(t.path) + "`"
		if t.note != "" {
			path += " (" + harness.Cell(t.note) + ")"
		}
		fmt.Fprintf(&b, "| %s | %s | %s |\n", t.name, harness.Cell(t.version), path)
	}
	if r.chart != "" {
		fmt.Fprintf(&b, "\n![median wall time per tool and scenario](%s)\n", r.chart)
	}
	if r.timeline != "" {
		fmt.Fprintf(&b, "\nOne more rangedl run of %s with `--trace`, outside the measured rounds: which connection fetched which range when, and where the scheduler stole, duplicated or evicted.\n\n![per-connection timeline of one rangedl run](%s)\n", r.timelineOf, r.timeline)
	}
	for _, sc := range r.scenarios {
		b.WriteString("\n" + sc.markdown())
	}
	return b.String()
}

// markdown renders one scenario: a heading, what it measures, the table
// and the exact command lines.
func (sc scenarioReport) markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "## %s\n\n%s\n\n", sc.name, sc.note)
	fmt.Fprintf(&b, "Server: %s; file `%s` (%s).\n\n", sc.server, sc.path, sizeString(sc.size))
	if sc.skipped != "" {
		fmt.Fprintf(&b, "Not run: %s\n", sc.skipped)
		return b.String()
	}
	b.WriteString(table(sc.rows, sc.size))
	b.WriteString("\nCommand lines (first round):\n\n```\n")
	for _, r := range sc.rows {
		if r.command != "" {
			b.WriteString(r.command + "\n")
		}
	}
	b.WriteString("```\n")
	return b.String()
}

// table renders the markdown table of rows for a download of size bytes.
func table(rows []row, size int64) string {
	var b strings.Builder
	b.WriteString("| tool | flags | wall s | min–max s | MiB/s | CPU s | peak RSS MiB | vs rangedl | result |\n")
	b.WriteString("|---|---|--:|--:|--:|--:|--:|--:|---|\n")

	// rangedl's median is the reference of the ratio column.
	var ref time.Duration
	for _, r := range rows {
		if r.tool == "rangedl" && r.absent == "" {
			if s := r.summarize(); s.ok > 0 {
				ref = s.wall
			}
		}
	}
	const none = "—"
	for _, r := range rows {
		flags := none
		if r.flags != "" {
			flags = "`" + harness.Cell(r.flags) + "`"
		}
		if r.note != "" {
			flags += " (" + harness.Cell(r.note) + ")"
		}
		if r.absent != "" {
			fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | absent |\n", r.tool, flags, none, none, none, none, none, none)
			continue
		}
		s := r.summarize()
		wall, spread, rate, cpu, rss, ratio := none, none, none, none, none, none
		if s.ok > 0 {
			wall = fmt.Sprintf("%.3f", s.wall.Seconds())
			spread = fmt.Sprintf("%.3f–%.3f", s.minWall.Seconds(), s.maxWall.Seconds())
			rate = fmt.Sprintf("%.1f", float64(size)/mib/s.wall.Seconds())
			cpu = fmt.Sprintf("%.2f", s.cpu.Seconds())
			if s.rss > 0 {
				rss = fmt.Sprintf("%.1f", float64(s.rss)/mib)
			}
			if ref > 0 {
				ratio = fmt.Sprintf("%.2f", s.wall.Seconds()/ref.Seconds())
			}
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.tool, flags, wall, spread, rate, cpu, rss, ratio, harness.Cell(s.result()))
	}
	return b.String()
}

// sizeString is a byte count for people: "1 GiB", "256 MiB", "1000 B".
func sizeString(n int64) string {
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	}
	return fmt.Sprintf("%d B", n)
}

// machine describes this machine.
func machine() sysInfo {
	s := sysInfo{uname: runtime.GOOS + " " + runtime.GOARCH, cpu: cpuModel(), cores: runtime.NumCPU(), goVer: runtime.Version()}
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		s.uname = strings.TrimSpace(string(out))
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			s.load = strings.Join(f[:3], " ")
		}
	} else if out, err := exec.Command("sysctl", "-n", "vm.loadavg").Output(); err == nil {
		// BSD and macOS: "{ 0.52 0.61 0.58 }"
		s.load = strings.Trim(strings.TrimSpace(string(out)), "{ }")
	}
	return s
}

// cpuModel returns the CPU's model name: from /proc/cpuinfo on Linux,
// from sysctl on the BSDs and macOS.
func cpuModel() string {
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for line := range strings.Lines(string(b)) {
			// "model name" on x86, "Model" or "Hardware" on some ARM
			// kernels, "cpu model" on MIPS.
			k, v, ok := strings.Cut(line, ":")
			switch strings.TrimSpace(k) {
			case "model name", "Model", "Hardware", "cpu model":
				if v = strings.TrimSpace(v); ok && v != "" {
					return v
				}
			}
		}
	}
	for _, key := range []string{"machdep.cpu.brand_string", "hw.model"} {
		if out, err := exec.Command("sysctl", "-n", key).Output(); err == nil {
			if v := strings.TrimSpace(string(out)); v != "" {
				return v
			}
		}
	}
	return "unknown CPU"
}
