package main

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
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
	return shellJoin(t.args(t.conns(n), "DIR", "OUT", "URL", ca))
}

// selectTools returns the named tools in catalogue order, or all of them
// for an empty list.
func selectTools(list string) ([]tool, error) {
	if list == "" || list == "all" {
		return append([]tool(nil), tools...), nil
	}
	want := make(map[string]bool)
	for _, name := range strings.Split(list, ",") {
		if name = strings.TrimSpace(name); name != "" {
			want[name] = true
		}
	}
	var out []tool
	for _, t := range tools {
		if want[t.name] {
			out = append(out, t)
			delete(want, t.name)
		}
	}
	for name := range want {
		return nil, fmt.Errorf("unknown tool %q (have %s)", name, toolNames())
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tool selected (have %s)", toolNames())
	}
	return out, nil
}

func toolNames() string {
	names := make([]string, len(tools))
	for i, t := range tools {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}

// installed is a tool found on this machine (or absent, with the reason).
type installed struct {
	tool
	path    string // absolute path of the executable; "" if absent
	version string // first line of its version output
	absent  string // why it is absent ("" if present)
	note    string // how it got there, if the harness built it
}

// detect finds t: rangedl at rangedlPath, every other tool on PATH. A tool
// that is not found is returned with absent set, never dropped: the report
// must say it was not measured. home is an empty directory to run the
// version query in (see cleanEnv).
func detect(ctx context.Context, t tool, rangedlPath, home string) installed {
	in := installed{tool: t}
	var err error
	if t.name == "rangedl" {
		in.path, err = filepath.Abs(rangedlPath)
	} else {
		in.path, err = exec.LookPath(t.name)
		if err == nil {
			in.path, err = filepath.Abs(in.path)
		}
	}
	if err != nil {
		in.path, in.absent = "", "not found: "+err.Error()
		return in
	}
	in.version = version(ctx, in.path, t.versionArgs, home)
	if t.name == "rangedl" {
		// rangedl's version number changes rarely; its commit is what
		// identifies the code that was measured.
		if v := vcsVersion(in.path); v != "" {
			in.version += " (" + v + ")"
		}
	}
	return in
}

// version returns the first non-empty line the program prints for args,
// or "unknown".
func version(ctx context.Context, path string, args []string, home string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = home
	cmd.Env = cleanEnv(home)
	out, _ := cmd.CombinedOutput() // axel exits 1 after printing its version
	for line := range strings.Lines(string(out)) {
		if line = strings.TrimSpace(line); line != "" {
			// curl lists every library it links; the first few
			// words identify the build well enough.
			return clip(line, 80)
		}
	}
	return "unknown"
}

// vcsVersion returns the commit a Go binary was built from, as recorded
// by "go build" (e.g. "a1b2c3d4e5f6, modified"), or "" if it has none.
func vcsVersion(path string) string {
	bi, err := buildinfo.ReadFile(path)
	if err != nil {
		return ""
	}
	var rev, modified string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value[:min(len(s.Value), 12)]
		case "vcs.modified":
			if s.Value == "true" {
				modified = ", modified"
			}
		}
	}
	if rev == "" {
		return ""
	}
	return rev + modified
}

// shellJoin quotes args so that the line can be pasted into a POSIX
// shell: URLs with '?' and '&' would otherwise be mangled.
func shellJoin(args []string) string {
	var b bytes.Buffer
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(shellQuote(a))
	}
	return b.String()
}

// shellQuote returns s unchanged if it has no shell metacharacters, else
// single-quoted.
func shellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=,+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
