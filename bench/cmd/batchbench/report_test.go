package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/server"
)

func testHeader() header {
	return header{
		date:    time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC),
		command: "go run ./bench/cmd/batchbench",
		sys:     sysInfo{nproc: "2", kernel: "6.1.0", cpu: "Test CPU", goVer: "go1.26", load: "0.10 0.20 0.30"},
		loadEnd: "1.00 0.50 0.40",
	}
}

func run1(round, pos int, tool string, wall, cpu time.Duration, rss int64, fail string) filesRun {
	return filesRun{round: round, pos: pos, tool: tool, usage: measure.Usage{Wall: wall, CPU: cpu, MaxRSS: rss}, fail: fail}
}

func withProbe(r filesRun, probe time.Duration) filesRun {
	r.probe = probe
	return r
}

func withFlush(r filesRun, flush time.Duration) filesRun {
	r.flush = flush
	return r
}

func testFilesReport() filesReport {
	found := make([]installed, len(tools))
	for i, t := range tools {
		found[i] = installed{tool: t, path: "/usr/bin/" + t.name, version: t.name + " 1.0"}
	}
	found[1].path, found[1].version, found[1].absent = "", "", "not found: exec: \"wget2\": executable file not found in $PATH"
	return filesReport{
		header: testHeader(),
		n:      5000, size: 16 << 10, jobs: 16, rounds: 3,
		server: "nginx/1.22.1 on 127.0.0.1:8080",
		tools:  found,
		runs: []filesRun{
			withFlush(run1(1, 1, "rangedl", 1*time.Second, 500*time.Millisecond, 10<<20, ""), 10*time.Millisecond),
			withFlush(run1(1, 2, "curl", 4*time.Second, 3*time.Second, 8<<20, ""), 2*time.Second),
			run1(1, 3, "aria2c", 5*time.Second, 4*time.Second, 30<<20, "exit status 3: boom"),
			withProbe(run1(2, 1, "curl", 100*time.Millisecond, time.Second, 8<<20, "1 missing (f00001)"), 230*time.Microsecond), // fast and wrong
			run1(2, 2, "aria2c", 0, 0, 0, "timeout after 2m0s"),
			withFlush(run1(2, 3, "rangedl", 3*time.Second, 700*time.Millisecond, 14<<20, ""), 20*time.Millisecond),
			run1(3, 1, "aria2c", 6*time.Second, 4*time.Second, 30<<20, "1 wrong SHA-256 (f00002)"),
			withFlush(run1(3, 2, "rangedl", 2*time.Second, 600*time.Millisecond, 12<<20, ""), 30*time.Millisecond),
			withFlush(withProbe(run1(3, 3, "curl", 5*time.Second, 3*time.Second, 9<<20, ""), 12400*time.Nanosecond), time.Second),
		},
	}
}

func TestFilesSummary(t *testing.T) {
	r := testFilesReport()
	s := r.summarize("rangedl")
	if s.ok != 3 || s.total != 3 || s.wall != 2*time.Second || s.cpu != 600*time.Millisecond || s.rss != 12<<20 || s.rate != 2500 ||
		s.flush != 20*time.Millisecond || s.synced != 2030*time.Millisecond || math.Abs(s.syncRate-5000/2.03) > 1e-9 {
		t.Errorf("rangedl: got %+v", s)
	}
	// The failed 0.1 s run is not a median candidate. The synced median is
	// of the sums, 6 s and 6 s, not the sum of the medians, 4.5 + 1.5 s.
	s = r.summarize("curl")
	if s.ok != 2 || s.total != 3 || s.wall != 4500*time.Millisecond || s.rate != 5000/4.5 ||
		s.flush != 1500*time.Millisecond || s.synced != 6*time.Second || s.syncRate != 5000/6.0 {
		t.Errorf("curl: got %+v", s)
	}
	if s := r.summarize("aria2c"); s.ok != 0 || s.total != 3 || s.rate != 0 {
		t.Errorf("aria2c: got %+v", s)
	}
}

func TestFilesMarkdown(t *testing.T) {
	md := testFilesReport().markdown()
	for _, want := range []string{
		"# Batch download: 5000 files of 16 KiB from nginx, 16 at once\n",
		"- Command: `go run ./bench/cmd/batchbench`\n",
		"- Machine: 2 CPUs (nproc), Test CPU, kernel 6.1.0\n",
		"- Load average (1, 5, 15 min) at start: 0.10 0.20 0.30; at end: 1.00 0.50 0.40\n",
		"| rangedl | rangedl 1.0 | `rangedl -q -j 16 -i LIST -d DIR` |\n",
		"| wget2 | absent: not found: exec: \"wget2\": executable file not found in $PATH |",
		"| rangedl | 3/3 | 2.000 s | 2500 | 1.00 | 0.020 s | 2.030 s | 2463 | 1.00 | 0.600 s | 12.0 MiB |\n",
		"| wget2 | absent | – | – | – | – | – | – | – | – | – |\n",
		"| curl | 2/3 | 4.500 s | 1111 | 0.44 | 1.500 s | 6.000 s | 833 | 0.34 | 3.000 s | 8.5 MiB |\n",
		"| aria2c | 0/3 | – | – | – | – | – | – | – | – | – |\n",
		"| round | order | tool | create probe | wall | sync after | files/s | CPU | peak RSS | result |\n",
		"| 2 | 1 | curl | 230 µs | 0.100 s | 0.000 s | 50000 | 1.000 s | 8.0 MiB | FAILED: 1 missing (f00001) |\n",
		"| 2 | 2 | aria2c | – | – | – | – | – | – | FAILED: timeout after 2m0s |\n",
		"| 3 | 3 | curl | 12 µs | 5.000 s | 1.000 s | 1000 | 3.000 s | 9.0 MiB | ok |\n",
		"- sync after: a sync(2) timed right after the tool exited",
		"- create probe: the harness's own time to create one empty file, averaged over 200",
		"- curl: --no-progress-meter",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}

func TestMillionMarkdown(t *testing.T) {
	var ts []time.Duration
	for i := range 1000 {
		step := time.Millisecond
		if i >= 900 {
			step = 2 * time.Millisecond // the last tenth at half the rate
		}
		if i == 0 {
			ts = append(ts, step)
		} else {
			ts = append(ts, ts[i-1]+step)
		}
	}
	first, last, ok := edges(ts)
	r := millionReport{
		header: testHeader(),
		n:      1000, size: 1024, jobs: 16,
		tool:    installed{tool: tools[0], version: "rangedl 0.1.0 (abc, modified)"},
		server:  "bench/server on 127.0.0.1:1",
		command: "rangedl -j 16 -i - -d OUT",
		usage:   measure.Usage{Wall: 1100 * time.Millisecond, CPU: 900 * time.Millisecond, MaxRSS: 20 << 20},
		saved:   1000,
		summary: "rangedl: 1000 files: 1000 saved, 0 failed; 1000 KiB in 1.1s",
		first:   first, last: last, edgesOK: ok,
		tenths: tenths(ts),
		mem:    []memSample{{time.Second, 900, 18 << 20, 19 << 20}},
		onDisk: 1000, sampled: 2,
		stats: server.Stats{Conns: 16, Requests: 1000},
	}
	if f := r.failures(); len(f) != 0 {
		t.Errorf("failures: got %q; want none", f)
	}
	md := r.markdown()
	for _, want := range []string{
		"# Batch download: 1000 URLs of 1 KiB from the Go test server, 16 at once\n",
		"| result | ok |\n",
		"| files/s, first 10% of saved lines | 1000 |\n",
		"| files/s, last 10% of saved lines | 500 |\n",
		"| last / first | 0.500 (target ≥ 0.80: MISSED) |\n",
		"| peak RSS (ru_maxrss) | 20.0 MiB |\n",
		"| peak RSS (VmHWM, polled every 1s) | 19.0 MiB |\n",
		"| files on disk | 1000 of 1000 |\n",
		"| 901–1000 | 1.100 s | 500 |\n",
		"| 1.000 s | 900 | 18.0 MiB | 19.0 MiB |\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}

	// Everything that makes a run not count is said.
	r.usage.Status = 6
	r.runFail = measure.StatusString(6)
	r.saved, r.onDisk = 998, 997
	r.summary = "rangedl: 1000 files: 998 saved, 2 failed; 998 KiB in 1.1s"
	r.problems.add("missing", "d000/f0000004")
	r.other = []string{"rangedl: http://x/1024: connection reset"}
	r.otherLines = 2
	f := strings.Join(r.failures(), "; ")
	for _, want := range []string{"rangedl: exit status 6", "998 \"saved\" lines for 1000 URLs", "summary: rangedl: 1000 files: 998 saved, 2 failed",
		"997 of 1000 files on disk", "files: 1 missing (d000/f0000004)"} {
		if !strings.Contains(f, want) {
			t.Errorf("failures %q lack %q", f, want)
		}
	}
	md = r.markdown()
	for _, want := range []string{"| result | FAILED: rangedl: exit status 6;", "## Other stderr lines (first 1 of 2)", "connection reset"} {
		if !strings.Contains(md, want) {
			t.Errorf("failed report lacks %q:\n%s", want, md)
		}
	}
	r.summary = ""
	if f := strings.Join(r.failures(), "; "); !strings.Contains(f, "no summary line") {
		t.Errorf("failures %q lack the missing summary", f)
	}
}

func TestThinSamples(t *testing.T) {
	xs := make([]memSample, 100)
	for i := range xs {
		xs[i].saved = i
	}
	got := thinSamples(xs, 12)
	if len(got) != 12 || got[0].saved != 0 || got[11].saved != 99 {
		t.Errorf("got %d samples from %d to %d; want 12 from 0 to 99", len(got), got[0].saved, got[len(got)-1].saved)
	}
	if got := thinSamples(xs[:5], 12); len(got) != 5 {
		t.Errorf("few samples: got %d; want all 5", len(got))
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{1000, "1000 B"},
		{1024, "1 KiB"},
		{16 << 10, "16 KiB"},
		{80 << 20, "80 MiB"},
		{5000 * 16 << 10, "78.1 MiB"},
		{8 << 30, "8 GiB"},
		{75_600_000_000, "70.41 GiB"},
	}
	for _, tt := range tests {
		if got := sizeString(tt.n); got != tt.want {
			t.Errorf("sizeString(%d): got %q; want %q", tt.n, got, tt.want)
		}
	}
}

func TestSpaceNeeded(t *testing.T) {
	bytes, inodes := spaceNeeded(1_000_000, 1024)
	if bytes != 1_000_000*2*(4096+256) || bytes < 8<<30 || inodes != 1_000_000+1000+1000 {
		t.Errorf("a million 1 KiB files: got %d bytes, %d inodes", bytes, inodes)
	}
	if bytes, _ := spaceNeeded(10, 4097); bytes != 10*2*(2*4096+256) {
		t.Errorf("two blocks each: got %d bytes; want %d", bytes, 10*2*(2*4096+256))
	}
}
