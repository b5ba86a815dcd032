package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/rangedl/rangedl/bench/internal/harness"
	"github.com/rangedl/rangedl/bench/internal/shell"
)

// runInput is what a tool's command line is built from for one run of the
// files scenario.
type runInput struct {
	jobs   int    // downloads at once
	list   string // the URLs, one per line (rangedl, wget2 and aria2c read this)
	config string // the same URLs as a curl config file of url = "..." lines
	dir    string // the fresh, empty directory to download into
}

// tool is one downloader and how to make it download a list of URLs.
type tool struct {
	name string
	// args returns the arguments (without the program) for one run. Every
	// tool is given its own documented way to download J files at once and
	// nothing that changes how it fetches; the flags beyond that only stop
	// it writing files or attributes the others do not (see note).
	args func(in runInput) []string
	// note says why the flags beyond the plain command are there; "" if
	// there are none.
	note string
}

// tools is the catalogue, in report order.
var tools = []tool{
	{
		name: "rangedl",
		args: func(in runInput) []string {
			return []string{"-q", "-j", strconv.Itoa(in.jobs), "-i", in.list, "-d", in.dir}
		},
		note: "ends every batch with one syncfs(2) of the output filesystem before its summary " +
			"(cmd/rangedl/batch.go); the other tools do not sync, and the harness runs sync(2) " +
			"before every run so that no tool flushes another's files",
	},
	{
		name: "wget2",
		args: func(in runInput) []string {
			return []string{"-q", "--max-threads=" + strconv.Itoa(in.jobs), "--robots=off",
				"--no-local-db", "--no-xattr", "-i", in.list, "-P", in.dir}
		},
		note: "--robots=off: no request for /robots.txt; --no-local-db: no HSTS, HPKP, OCSP or " +
			"TLS-session database (without it wget2 1.99 writes empty .wget-ocsp files into HOME " +
			"even over http); --no-xattr: no user.xdg.origin.url attribute on every file, which " +
			"wget2 writes by default and the others do not",
	},
	{
		name: "curl",
		args: func(in runInput) []string {
			return []string{"-s", "--no-progress-meter", "--parallel", "--parallel-max", strconv.Itoa(in.jobs),
				"--output-dir", in.dir, "--remote-name-all", "-K", in.config}
		},
		note: "--no-progress-meter: curl 7.88.1 draws its --parallel progress meter despite -s " +
			"(curl issue #10573, fixed by PR #10579 after 7.88.1); the URLs come from a config " +
			"file of url = \"...\" lines rather than 5000 arguments",
	},
	{
		name: "aria2c",
		args: func(in runInput) []string {
			return []string{"-q", "-j", strconv.Itoa(in.jobs), "-i", in.list, "-d", in.dir,
				"--allow-overwrite=false", "--auto-file-renaming=false",
				"--file-allocation=none", "--auto-save-interval=0"}
		},
		note: "--file-allocation=none: no preallocation; --auto-save-interval=0: no .aria2 control " +
			"file written while a download runs. With aria2 1.36's defaults neither happens for " +
			"small files anyway (no-file-allocation-limit is 5M, the control file is saved every " +
			"60 s); the flags make that explicit",
	},
}

// selectTools returns the named tools in catalogue order, or all of them
// for "" or "all".
func selectTools(list string) ([]tool, error) {
	return harness.SelectTools(tools, toolName, list)
}

func toolNames() string { return harness.ToolNames(tools, toolName) }

func toolName(t tool) string { return t.name }

// installed is a tool as found on this machine, or absent with the reason.
type installed struct {
	tool
	path    string // absolute path of the executable; "" if absent
	version string // first line of its --version output
	absent  string // why it was not run; "" if present
}

// command returns the full argument list, program first, for one run.
func (in installed) command(r runInput) []string {
	return append([]string{in.path}, in.args(r)...)
}

// placeholders is the command line with LIST, CONFIG and DIR for the
// paths, as the report shows it.
func (t tool) placeholders(jobs int) string {
	return shell.Join(append([]string{t.name}, t.args(runInput{jobs: jobs, list: "LIST", config: "CONFIG", dir: "DIR"})...))
}

// detect finds t: rangedl at rangedlPath, the others on PATH, and asks it
// for --version (see harness.Detect). home is an empty directory for HOME.
func detect(ctx context.Context, t tool, rangedlPath, home string) installed {
	in := installed{tool: t}
	// curl goes on to list every library it links; the first words
	// identify the build.
	short := func(line string) string { return clip(line, 100) }
	in.path, in.version, in.absent = harness.Detect(ctx, t.name, rangedlPath, home, []string{"--version"}, short)
	return in
}

// curlConfig returns a curl config file (curl(1), -K) that names each URL
// once, as url = "..." with the characters a quoted config value escapes.
func curlConfig(urls []string) string {
	var b strings.Builder
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`)
	for _, u := range urls {
		b.WriteString(`url = "`)
		r.WriteString(&b, u)
		b.WriteString("\"\n")
	}
	return b.String()
}

// urlList returns the URLs one per line, the input-file form of rangedl,
// wget2 and aria2c.
func urlList(urls []string) string {
	return strings.Join(urls, "\n") + "\n"
}

// rotate returns xs rotated left by k: round r of a benchmark runs the
// tools in the order rotate(tools, r-1), so that each tool goes first once
// in every len(xs) rounds.
func rotate[T any](xs []T, k int) []T {
	if len(xs) == 0 {
		return nil
	}
	k %= len(xs)
	return append(append([]T(nil), xs[k:]...), xs[:k]...)
}

// clip shortens s to at most n bytes, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
