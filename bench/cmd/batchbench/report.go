package main

import (
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/rangedl/rangedl/bench/internal/harness"
	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/internal/stats"
	"github.com/rangedl/rangedl/bench/server"
)

const (
	kib = 1 << 10
	mib = 1 << 20
	gib = 1 << 30
)

// sysInfo describes the machine, so that numbers from two machines are
// never compared unawares.
type sysInfo struct {
	nproc  string // nproc: the CPUs this process may use
	kernel string // uname -r
	cpu    string // CPU model
	goVer  string
	load   string // 1, 5 and 15 minute load averages; "" if unknown
}

// machine describes this machine.
func machine() sysInfo {
	s := sysInfo{nproc: strconv.Itoa(runtime.NumCPU()), kernel: "unknown", cpu: cpuModel(), goVer: runtime.Version()}
	if out, err := execOutput("nproc"); err == nil {
		s.nproc = strings.TrimSpace(out)
	}
	if out, err := execOutput("uname", "-r"); err == nil {
		s.kernel = strings.TrimSpace(out)
	}
	s.load = loadAverage()
	return s
}

// loadAverage returns the 1, 5 and 15 minute load averages, or "".
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	if f := strings.Fields(string(b)); len(f) >= 3 {
		return strings.Join(f[:3], " ")
	}
	return ""
}

// cpuModel returns the "model name" of /proc/cpuinfo, or "unknown CPU".
func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for line := range strings.Lines(string(b)) {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// execOutput runs a short command and returns its combined output.
func execOutput(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// header is what both reports open with.
type header struct {
	date    time.Time
	command string // the command line that produced the report
	sys     sysInfo
	loadEnd string // load averages when the runs were over: the machine is shared
}

func (h header) write(b *strings.Builder, title string) {
	fmt.Fprintf(b, "# %s\n\n", title)
	fmt.Fprintf(b, "- Date: %s\n", h.date.Format("2006-01-02 15:04 MST"))
	fmt.Fprintf(b, "- Command: `%s`\n", h.command)
	fmt.Fprintf(b, "- Machine: %s CPUs (nproc), %s, kernel %s\n", h.sys.nproc, h.sys.cpu, h.sys.kernel)
	if h.sys.load != "" {
		// A busy machine explains slow or scattered runs.
		fmt.Fprintf(b, "- Load average (1, 5, 15 min) at start: %s; at end: %s\n", h.sys.load, h.loadEnd)
	}
	fmt.Fprintf(b, "- Go: %s\n", h.sys.goVer)
}

// filesReport is the files scenario's result.
type filesReport struct {
	header
	n      int
	size   int64
	jobs   int
	rounds int
	server string // "nginx/1.22.1 on 127.0.0.1:PORT"
	tools  []installed
	runs   []filesRun
}

// toolSummary is one tool's medians over its successful runs.
type toolSummary struct {
	ok, total int
	wall, cpu time.Duration
	flush     time.Duration // the sync after the run
	synced    time.Duration // the wall time and the sync after it, added run by run
	rss       int64
	rate      float64 // files/s at the median wall time; 0 if no run succeeded
	syncRate  float64 // files/s at the median synced time
}

// summarize computes the medians of tool's successful runs. A failed run
// contributes nothing: a fast wrong answer is not fast.
func (r filesReport) summarize(tool string) toolSummary {
	var s toolSummary
	var walls, cpus, flushes, synced []time.Duration
	var rss []int64
	for _, x := range r.runs {
		if x.tool != tool {
			continue
		}
		s.total++
		if x.ok() {
			s.ok++
			walls = append(walls, x.usage.Wall)
			cpus = append(cpus, x.usage.CPU)
			flushes = append(flushes, x.flush)
			synced = append(synced, x.synced())
			rss = append(rss, x.usage.MaxRSS)
		}
	}
	s.wall, _ = stats.Median(walls)
	s.cpu, _ = stats.Median(cpus)
	s.flush, _ = stats.Median(flushes)
	s.synced, _ = stats.Median(synced)
	s.rss, _ = stats.Median(rss)
	if s.wall > 0 {
		s.rate = float64(r.n) / s.wall.Seconds()
		s.syncRate = float64(r.n) / s.synced.Seconds()
	}
	return s
}

// markdown renders the report.
func (r filesReport) markdown() string {
	var b strings.Builder
	r.header.write(&b, fmt.Sprintf("Batch download: %d files of %s from nginx, %d at once", r.n, sizeString(r.size), r.jobs))
	fmt.Fprintf(&b, "- Server: %s, serving %d files of %d bytes (%s in all) from a directory on the same filesystem as the outputs\n",
		r.server, r.n, r.size, sizeString(int64(r.n)*r.size))
	fmt.Fprintf(&b, "- Method: %d round(s); in each, every tool once, the order rotated by one each round; "+
		"every run into a fresh empty directory (all deleted after the last round), HOME an empty directory, "+
		"sync(2) before each run; wall time, user+system CPU and peak RSS (ru_maxrss) of the tool's process; "+
		"every file checked by name, size and SHA-256. Medians over the successful runs; a failed run counts for nothing.\n\n", r.rounds)

	b.WriteString("## Tools\n\n| tool | version | command |\n|---|---|---|\n")
	for _, t := range r.tools {
		v := t.version
		if t.absent != "" {
			v = "absent: " + t.absent
		}
		fmt.Fprintf(&b, "| %s | %s | `%s` |\n", t.name, harness.Cell(v), t.placeholders(r.jobs))
	}

	base := r.summarize("rangedl")
	b.WriteString("\n## Results\n\n")
	b.WriteString("| tool | ok runs | median wall | files/s | vs rangedl | median sync after | median wall + sync | files/s | vs rangedl | median CPU | median peak RSS |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, t := range r.tools {
		if t.absent != "" {
			fmt.Fprintf(&b, "| %s | absent | – | – | – | – | – | – | – | – | – |\n", t.name)
			continue
		}
		s := r.summarize(t.name)
		if s.ok == 0 {
			fmt.Fprintf(&b, "| %s | 0/%d | – | – | – | – | – | – | – | – | – |\n", t.name, s.total)
			continue
		}
		ratio, syncRatio := "–", "–"
		if base.rate > 0 {
			ratio = fmt.Sprintf("%.2f", s.rate/base.rate)
			syncRatio = fmt.Sprintf("%.2f", s.syncRate/base.syncRate)
		}
		fmt.Fprintf(&b, "| %s | %d/%d | %s | %.0f | %s | %s | %s | %.0f | %s | %s | %s |\n", t.name, s.ok, s.total,
			seconds(s.wall), s.rate, ratio, seconds(s.flush), seconds(s.synced), s.syncRate, syncRatio, seconds(s.cpu), mibString(s.rss))
	}

	b.WriteString("\n## Every run\n\n| round | order | tool | create probe | wall | sync after | files/s | CPU | peak RSS | result |\n|---|---|---|---|---|---|---|---|---|---|\n")
	for _, x := range r.runs {
		result := "ok"
		if !x.ok() {
			result = "FAILED: " + harness.Cell(x.fail)
		}
		probe := "–"
		if x.probe > 0 {
			probe = fmt.Sprintf("%.0f µs", float64(x.probe)/float64(time.Microsecond))
		}
		if x.usage.Wall == 0 {
			fmt.Fprintf(&b, "| %d | %d | %s | %s | – | – | – | – | – | %s |\n", x.round, x.pos, x.tool, probe, result)
			continue
		}
		fmt.Fprintf(&b, "| %d | %d | %s | %s | %s | %s | %.0f | %s | %s | %s |\n", x.round, x.pos, x.tool, probe,
			seconds(x.usage.Wall), seconds(x.flush), float64(r.n)/x.usage.Wall.Seconds(), seconds(x.usage.CPU), mibString(x.usage.MaxRSS), result)
	}

	b.WriteString("\n## Notes\n\n")
	b.WriteString("- files/s is the file count over the median wall time; \"vs rangedl\" is that rate over rangedl's (above 1: faster than rangedl).\n")
	b.WriteString("- sync after: a sync(2) timed right after the tool exited, which writes out what the tool left in the page cache; " +
		"wall + sync (added run by run, then the median) is the time until the files were on disk, the same finish line for every tool. " +
		"rangedl syncs before it exits, so its sync after has nothing of its own left to write.\n")
	b.WriteString("- Wall time runs from fork to exit of the tool, so it includes reading the list and, for rangedl, its final syncfs. " +
		"The tool, nginx and the harness share the machine's CPUs.\n")
	b.WriteString("- Peak RSS is measured through bench/cmd/compare's spawn helper, not by the harness itself: " +
		"a child started from Go inherits the harness's peak RSS in its ru_maxrss (vfork; Linux fs/exec.c, exec_mmap).\n")
	fmt.Fprintf(&b, "- create probe: the harness's own time to create one empty file, averaged over %d in a fresh directory "+
		"beside the run's, just before it. On the ext4 of the README's benchmarks it is about 12 µs normally and 100 µs or more "+
		"for minutes after a large deletion, when every tool creates files slowly (README, \"The filesystem's slow state\").\n", probeFiles)
	for _, t := range r.tools {
		if t.note != "" {
			fmt.Fprintf(&b, "- %s: %s.\n", t.name, t.note)
		}
	}
	return b.String()
}

// millionReport is the million scenario's result.
type millionReport struct {
	header
	n       int
	size    int64
	jobs    int
	tool    installed
	server  string
	command string // the exact command line
	free    int64  // free bytes under the work directory before the run; 0 if unknown

	usage    measure.Usage
	runFail  string // timeout, interruption, spawn error or a non-zero exit; "" if none
	listFail string // the list writer's error; "" if the whole list was read

	saved      int // "saved" lines
	summary    string
	otherLines int
	other      []string // the first maxOtherLines of them

	first, last float64 // files/s of the first and last 10% of the saved lines
	edgesOK     bool
	tenths      []tenth
	mem         []memSample

	onDisk   int // expected files found on disk
	sampled  int // files whose SHA-256 was checked
	problems problems

	stats      server.Stats
	harnessHWM int64         // this process's VmHWM: the harness and the server
	harnessCPU time.Duration // this process's CPU time during the run
	deleted    time.Duration
}

// failures lists why the run does not count, empty if it does.
func (r millionReport) failures() []string {
	var f []string
	if r.runFail != "" {
		f = append(f, "rangedl: "+r.runFail)
	}
	if r.listFail != "" {
		f = append(f, "list: "+r.listFail)
	}
	if r.saved != r.n {
		f = append(f, fmt.Sprintf("%d \"saved\" lines for %d URLs", r.saved, r.n))
	}
	if r.summary == "" {
		f = append(f, "no summary line")
	} else if m := summaryRE.FindStringSubmatch(r.summary); m != nil && (m[1] != strconv.Itoa(r.n) || m[3] != "0") {
		f = append(f, "summary: "+r.summary)
	}
	if r.onDisk != r.n {
		f = append(f, fmt.Sprintf("%d of %d files on disk", r.onDisk, r.n))
	}
	if r.problems.total() > 0 {
		f = append(f, "files: "+r.problems.String())
	}
	return f
}

// maxPolled returns the largest VmHWM and VmRSS polled.
func (r millionReport) maxPolled() (hwm, rss int64) {
	for _, s := range r.mem {
		hwm, rss = max(hwm, s.hwm), max(rss, s.rss)
	}
	return hwm, rss
}

// markdown renders the report.
func (r millionReport) markdown() string {
	var b strings.Builder
	r.header.write(&b, fmt.Sprintf("Batch download: %d URLs of %s from the Go test server, %d at once", r.n, sizeString(r.size), r.jobs))
	fmt.Fprintf(&b, "- rangedl: %s\n", r.tool.version)
	fmt.Fprintf(&b, "- Server: %s; every entry is the same URL, each saved under its own name (out=fNNNNNNN, dir=dNNN, %d per directory)\n", r.server, filesPerDir)
	fmt.Fprintf(&b, "- Tool command: `%s`, the list written into its standard input by the harness as it reads it\n", r.command)
	if r.free > 0 {
		fmt.Fprintf(&b, "- Free space before the run: %s\n", sizeString(r.free))
	}

	result := "ok"
	if f := r.failures(); len(f) > 0 {
		result = "FAILED: " + harness.Cell(strings.Join(f, "; "))
	}
	b.WriteString("\n## Result\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| result | %s |\n", result)
	fmt.Fprintf(&b, "| exit | %s |\n", measure.StatusString(r.usage.Status))
	if r.usage.Wall > 0 {
		fmt.Fprintf(&b, "| wall time | %s |\n", seconds(r.usage.Wall))
		fmt.Fprintf(&b, "| files/s overall | %.0f |\n", float64(r.saved)/r.usage.Wall.Seconds())
	}
	if r.edgesOK {
		verdict := "met"
		if r.last < rateTarget*r.first {
			verdict = "MISSED"
		}
		fmt.Fprintf(&b, "| files/s, first 10%% of saved lines | %.0f |\n", r.first)
		fmt.Fprintf(&b, "| files/s, last 10%% of saved lines | %.0f |\n", r.last)
		fmt.Fprintf(&b, "| last / first | %.3f (target ≥ %.2f: %s) |\n", r.last/r.first, rateTarget, verdict)
	} else {
		b.WriteString("| files/s, first and last 10% | too few saved lines to tell |\n")
	}
	fmt.Fprintf(&b, "| CPU (user+system) | %s |\n", seconds(r.usage.CPU))
	fmt.Fprintf(&b, "| peak RSS (ru_maxrss) | %s |\n", mibString(r.usage.MaxRSS))
	if hwm, rss := r.maxPolled(); len(r.mem) > 0 {
		fmt.Fprintf(&b, "| peak RSS (VmHWM, polled every %v) | %s |\n", pollInterval, mibString(hwm))
		fmt.Fprintf(&b, "| largest VmRSS polled | %s |\n", mibString(rss))
	} else {
		b.WriteString("| VmHWM / VmRSS polled | no sample (run shorter than the poll interval) |\n")
	}
	fmt.Fprintf(&b, "| summary line | `%s` |\n", r.summary)
	fmt.Fprintf(&b, "| \"saved\" lines | %d of %d |\n", r.saved, r.n)
	fmt.Fprintf(&b, "| other stderr lines | %d |\n", r.otherLines)
	fmt.Fprintf(&b, "| files on disk | %d of %d |\n", r.onDisk, r.n)
	fmt.Fprintf(&b, "| content checked (SHA-256) | %d files: every %dth and the last |\n", r.sampled, sampleEvery)
	problems := "none"
	if r.problems.total() > 0 {
		problems = harness.Cell(r.problems.String())
	}
	fmt.Fprintf(&b, "| missing, unexpected or wrong files | %s |\n", problems)
	if r.listFail != "" {
		fmt.Fprintf(&b, "| list | %s |\n", harness.Cell(r.listFail))
	}
	fmt.Fprintf(&b, "| server: connections, requests | %d, %d |\n", r.stats.Conns, r.stats.Requests)
	fmt.Fprintf(&b, "| harness CPU during the run (test server, list writer, stderr reader) | %s |\n", seconds(r.harnessCPU))

	if len(r.tenths) > 0 {
		b.WriteString("\n## Rate by tenth of the saved lines\n\n| lines | ends at | files/s |\n|---|---|---|\n")
		for _, t := range r.tenths {
			fmt.Fprintf(&b, "| %d–%d | %s | %.0f |\n", t.from+1, t.to, seconds(t.end), t.rate)
		}
	}
	if len(r.mem) > 0 {
		b.WriteString("\n## Memory as the run went on\n\n| at | saved | VmRSS | VmHWM |\n|---|---|---|---|\n")
		for _, s := range thinSamples(r.mem, 12) {
			fmt.Fprintf(&b, "| %s | %d | %s | %s |\n", seconds(s.at), s.saved, mibString(s.rss), mibString(s.hwm))
		}
	}
	if len(r.other) > 0 {
		fmt.Fprintf(&b, "\n## Other stderr lines (first %d of %d)\n\n```\n", len(r.other), r.otherLines)
		for _, l := range r.other {
			b.WriteString(l + "\n")
		}
		b.WriteString("```\n")
	}

	b.WriteString("\n## Notes\n\n")
	b.WriteString("- Each \"saved\" line is timestamped as the harness reads it from rangedl's stderr. A window's rate is its line count " +
		"over the time from the line before it (the start, for the first) to its last line, so the first window includes the start-up.\n")
	b.WriteString("- ru_maxrss is measured through bench/cmd/compare's spawn helper (a child started from Go would inherit the harness's " +
		"peak in it); VmHWM and VmRSS are read from /proc/PID/status of rangedl itself.\n")
	fmt.Fprintf(&b, "- The test server runs in the harness and shares the CPUs with rangedl (with no request log: "+
		"server.Config.NoLog); the harness's peak RSS was %s.\n", mibString(r.harnessHWM))
	fmt.Fprintf(&b, "- Deleting the output tree afterwards took %s.\n", seconds(r.deleted))
	return b.String()
}

// thinSamples returns at most k of xs, evenly spaced, always with the
// last one.
func thinSamples(xs []memSample, k int) []memSample {
	if len(xs) <= k {
		return xs
	}
	out := make([]memSample, 0, k)
	for i := range k - 1 {
		out = append(out, xs[i*(len(xs)-1)/(k-1)])
	}
	return append(out, xs[len(xs)-1])
}

// seconds formats d as seconds with three decimals.
func seconds(d time.Duration) string { return fmt.Sprintf("%.3f s", d.Seconds()) }

// mibString formats n bytes in MiB with one decimal.
func mibString(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/mib) }

// sizeString formats n bytes in the largest binary unit that divides it
// evenly, or with two decimals in GiB above 1 GiB.
func sizeString(n int64) string {
	switch {
	case n >= gib && n%gib == 0:
		return fmt.Sprintf("%d GiB", n/gib)
	case n >= gib:
		return fmt.Sprintf("%.2f GiB", float64(n)/gib)
	case n >= mib && n%mib == 0:
		return fmt.Sprintf("%d MiB", n/mib)
	case n >= mib:
		return fmt.Sprintf("%.1f MiB", float64(n)/mib)
	case n >= kib && n%kib == 0:
		return fmt.Sprintf("%d KiB", n/kib)
	}
	return fmt.Sprintf("%d B", n)
}
