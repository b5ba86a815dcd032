package main

import (
	"strings"
	"testing"
	"time"
)

// testRows are a scenario's rows with every kind of outcome.
func testRows() []row {
	return []row{
		{tool: "rangedl", flags: "-q -n 8 -o OUT URL", command: "cd /r && rangedl -q -n 8 -o out.bin http://x/",
			runs: []sample{{wall: 2 * time.Second, cpu: time.Second, maxRSS: 8 * mib}, {wall: 4 * time.Second, cpu: time.Second, maxRSS: 8 * mib}, {wall: 3 * time.Second, cpu: time.Second, maxRSS: 8 * mib}}},
		{tool: "curl", flags: "-s -o OUT URL", command: "cd /r && curl -s -o out.bin http://x/",
			runs: []sample{{wall: 6 * time.Second, cpu: 2 * time.Second, maxRSS: 10 * mib}, {fail: "exit status 18"}, {wall: 6 * time.Second, cpu: 2 * time.Second, maxRSS: 10 * mib}}},
		{tool: "wget2", flags: "-q -O OUT URL", command: "cd /r && wget2 ...",
			runs: []sample{{fail: "timeout after 30s"}, {fail: "timeout after 30s"}}},
		{tool: "axel", flags: "-q -n 16 -o OUT URL", absent: "not found"},
	}
}

func TestTable(t *testing.T) {
	got := table(testRows(), 300*mib)
	want := strings.Join([]string{
		"| tool | flags | wall s | min–max s | MiB/s | CPU s | peak RSS MiB | vs rangedl | result |",
		"|---|---|--:|--:|--:|--:|--:|--:|---|",
		"| rangedl | `-q -n 8 -o OUT URL` | 3.000 | 2.000–4.000 | 100.0 | 1.00 | 8.0 | 1.00 | ok |",
		"| curl | `-s -o OUT URL` | 6.000 | 6.000–6.000 | 50.0 | 2.00 | 10.0 | 2.00 | FAIL 1/3: exit status 18 |",
		"| wget2 | `-q -O OUT URL` | — | — | — | — | — | — | FAIL 2/2: timeout after 30s |",
		"| axel | `-q -n 16 -o OUT URL` | — | — | — | — | — | — | absent |",
		"",
	}, "\n")
	if got != want {
		t.Errorf("table:\ngot\n%s\nwant\n%s", got, want)
	}
}

func TestTableWithoutRangedl(t *testing.T) {
	// With no successful rangedl run there is no reference: no ratios.
	rows := testRows()
	rows[0].runs = []sample{{fail: "exit status 3"}}
	got := table(rows, 300*mib)
	if !strings.Contains(got, "| curl | `-s -o OUT URL` | 6.000 | 6.000–6.000 | 50.0 | 2.00 | 10.0 | — |") {
		t.Errorf("table without a rangedl time has a ratio:\n%s", got)
	}
}

func TestTableNote(t *testing.T) {
	rows := []row{{tool: "axel", flags: "-k -q -n 16 -o OUT URL", note: "-k: no CA option | see below", absent: "not found"}}
	if got, want := table(rows, mib), "| axel | `-k -q -n 16 -o OUT URL` (-k: no CA option \\| see below) | —"; !strings.Contains(got, want) {
		t.Errorf("table with a note:\n%s\nwant a row beginning %s", got, want)
	}
}

func TestSizeString(t *testing.T) {
	tests := []struct {
		n    int64
		want string
	}{
		{gib, "1 GiB"},
		{256 * mib, "256 MiB"},
		{1536 * mib, "1536 MiB"},
		{1000, "1000 B"},
	}
	for _, tt := range tests {
		if got := sizeString(tt.n); got != tt.want {
			t.Errorf("sizeString(%d): got %v; want %v", tt.n, got, tt.want)
		}
	}
}

func TestMarkdown(t *testing.T) {
	rep := report{
		set:     "unthrottled-1g",
		date:    time.Date(2026, 1, 2, 3, 4, 0, 0, time.UTC),
		command: "go run ./bench/cmd/compare -scenarios unthrottled-1g",
		sys:     sysInfo{uname: "Linux 6.1 x86_64", cpu: "Some CPU", cores: 2, goVer: "go1.26.8", load: "0.10 0.20 0.30"},
		rounds:  3,
		tools: []installed{
			{tool: tool{name: "rangedl"}, path: "/bin/rangedl", version: "rangedl 0.1.0"},
			{tool: tool{name: "axel"}, absent: "not found"},
		},
		scenarios: []scenarioReport{
			{name: "unthrottled-1g", note: "Note.", server: "nginx/1.22.1", path: "/1G.bin", size: gib, rows: testRows()},
			{name: "straggler", note: "Note 2.", server: "testserver", path: "/256M.bin", size: 256 * mib, skipped: "testserver did not start"},
		},
		chart: "2026-01-02-unthrottled-1g.svg",
	}
	md := rep.markdown()
	for _, want := range []string{
		"# rangedl vs other downloaders: unthrottled-1g\n",
		"- Date: 2026-01-02 03:04 UTC\n",
		"- Command: `go run ./bench/cmd/compare -scenarios unthrottled-1g`\n",
		"- Machine: `Linux 6.1 x86_64`, Some CPU, 2 cores\n",
		"- Load average at start: 0.10 0.20 0.30\n",
		"- Go: go1.26.8\n",
		"| rangedl | rangedl 0.1.0 | `/bin/rangedl` |\n",
		"| axel | absent | not found |\n",
		"![median wall time per tool and scenario](2026-01-02-unthrottled-1g.svg)\n",
		"## unthrottled-1g\n\nNote.\n\nServer: nginx/1.22.1; file `/1G.bin` (1 GiB).\n",
		"| rangedl | `-q -n 8 -o OUT URL` | 3.000 |",
		"```\ncd /r && rangedl -q -n 8 -o out.bin http://x/\ncd /r && curl -s -o out.bin http://x/\ncd /r && wget2 ...\n```\n",
		"## straggler\n\nNote 2.\n\nServer: testserver; file `/256M.bin` (256 MiB).\n\nNot run: testserver did not start\n",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
