package main

import (
	"context"
	"strconv"
	"strings"

	"github.com/rangedl/rangedl/bench/internal/harness"
	"github.com/rangedl/rangedl/bench/internal/shell"
)

// tool is one downloader and how to ask it for a download.
type tool struct {
	name string
	// maxConns caps the connection count the tool accepts (aria2c refuses
	// -x above 16); 1 means a single-connection tool; 0 means no cap.
	maxConns int
	// args builds the arguments to download url into dir/name with n
	// connections, trusting the CA certificate in the file ca (PEM) for
	// https when ca is not "". The tool runs with dir as its working
	// directory.
	args func(n int, dir, name, url, ca string) []string
	// versionArgs prints a version whose first line goes in the report.
	versionArgs []string
	// httpsNote, if not "", is said of the tool's flags in an https
	// scenario: how it deviates from the others there.
	httpsNote string
}

// tools is the catalogue, in report order. The flags are what each tool's
// documentation and common advice recommend for a fast single download,
// with the connection count set by the scenario.
var tools = []tool{
	{
		name: "rangedl",
		args: func(n int, dir, name, url, ca string) []string {
			return append(caArgs("--cacert", ca), "-q", "-n", strconv.Itoa(n), "-o", name, url)
		},
		versionArgs: []string{"-V"},
	},
	{
		name:     "aria2c",
		maxConns: 16,
		args: func(n int, dir, name, url, ca string) []string {
			x := strconv.Itoa(n)
			// -k1M lets aria2c split a piece down to 1 MiB when a
			// connection frees up; --file-allocation=none skips the
			// preallocation pass the other tools do not make either.
			return append(caArgs("--ca-certificate=", ca), "-q", "-x"+x, "-s"+x, "-k1M", "--file-allocation=none",
				"--allow-overwrite=true", "-d", dir, "-o", name, url)
		},
		versionArgs: []string{"--version"},
	},
	{
		name: "axel",
		args: func(n int, dir, name, url, ca string) []string {
			args := []string{"-q", "-n", strconv.Itoa(n), "-o", name, url}
			if ca != "" {
				// axel has no option naming a CA file (axel --help,
				// 2.17): the only way to a test server's certificate
				// is not to check it.
				args = append([]string{"-k"}, args...)
			}
			return args
		},
		versionArgs: []string{"--version"},
		httpsNote:   "-k: axel has no option to trust a CA file, so it does not check the certificate",
	},
	{
		name:     "curl",
		maxConns: 1,
		args: func(n int, dir, name, url, ca string) []string {
			return append(caArgs("--cacert", ca), "-s", "-o", name, url)
		},
		versionArgs: []string{"--version"},
	},
	{
		name:     "wget",
		maxConns: 1,
		args: func(n int, dir, name, url, ca string) []string {
			return append(caArgs("--ca-certificate=", ca), "-q", "-O", name, url)
		},
		versionArgs: []string{"--version"},
	},
	{
		name: "wget2",
		args: func(n int, dir, name, url, ca string) []string {
			// --chunk-size is what makes wget2 use several connections
			// for one file; --max-threads is how many at once.
			return append(caArgs("--ca-certificate=", ca), "-q", "--max-threads="+strconv.Itoa(n), "--chunk-size=1M", "-O", name, url)
		},
		versionArgs: []string{"--version"},
	},
}

// caArgs returns the arguments that make a tool trust the CA certificate
// file ca: {flag, ca} for a flag that takes a separate value ("--cacert"),
// {flag+ca} for one ending in '=' ("--ca-certificate="); none when ca is
// "".
func caArgs(flag, ca string) []string {
	switch {
	case ca == "":
		return nil
	case strings.HasSuffix(flag, "="):
		return []string{flag + ca}
	}
	return []string{flag, ca}
}

// conns is the connection count t actually uses when asked for n.
func (t tool) conns(n int) int {
	if t.maxConns > 0 {
		return min(n, t.maxConns)
	}
	return n
}

// command returns the argument list (program first) to download url into
// dir/name with n connections, trusting the CA in the file ca ("" for
// none).
func (t tool) command(bin string, n int, dir, name, url, ca string) []string {
	return append([]string{bin}, t.args(t.conns(n), dir, name, url, ca)...)
}

// flags is the command line with placeholders for the paths, the URL and
// (with https) the CA file, for the report's table: "-q -n 8 -o OUT URL",
// "--cacert CA -q -n 8 -o OUT URL".
func (t tool) flags(n int, https bool) string {
	ca := ""
	if https {
		ca = "CA"
	}
	return shell.Join(t.args(t.conns(n), "DIR", "OUT", "URL", ca))
}

// selectTools returns the named tools in catalogue order, or all of them
// for an empty list.
func selectTools(list string) ([]tool, error) {
	return harness.SelectTools(tools, toolName, list)
}

func toolNames() string { return harness.ToolNames(tools, toolName) }

func toolName(t tool) string { return t.name }

// installed is a tool found on this machine (or absent, with the reason).
type installed struct {
	tool
	path    string // absolute path of the executable; "" if absent
	version string // first line of its version output
	absent  string // why it is absent ("" if present)
	note    string // how it got there, if the harness built it
}

// detect finds t: rangedl at rangedlPath, every other tool on PATH, and
// asks it for its version with t.versionArgs (see harness.Detect). home is
// an empty directory to run the version query in.
func detect(ctx context.Context, t tool, rangedlPath, home string) installed {
	in := installed{tool: t}
	// curl lists every library it links; the first few words identify
	// the build well enough.
	short := func(line string) string { return clip(line, 80) }
	in.path, in.version, in.absent = harness.Detect(ctx, t.name, rangedlPath, home, t.versionArgs, short)
	return in
}
