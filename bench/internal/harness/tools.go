package harness

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/rangedl/rangedl/bench/internal/measure"
)

// SelectTools returns the tools of catalogue named in list, a
// comma-separated list of names (blanks around them ignored), in catalogue
// order and each once; all of them for "" or "all". name returns a tool's
// name. An unknown name, or a list that names no tool, is an error that
// lists the names there are.
func SelectTools[T any](catalogue []T, name func(T) string, list string) ([]T, error) {
	if list == "" || list == "all" {
		return append([]T(nil), catalogue...), nil
	}
	want := make(map[string]bool)
	for _, n := range strings.Split(list, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []T
	for _, t := range catalogue {
		if want[name(t)] {
			out = append(out, t)
			delete(want, name(t))
		}
	}
	for n := range want {
		return nil, fmt.Errorf("unknown tool %q (have %s)", n, ToolNames(catalogue, name))
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tool selected (have %s)", ToolNames(catalogue, name))
	}
	return out, nil
}

// ToolNames returns the names of the tools of catalogue, in its order,
// separated by ", ".
func ToolNames[T any](catalogue []T, name func(T) string) string {
	names := make([]string, len(catalogue))
	for i, t := range catalogue {
		names[i] = name(t)
	}
	return strings.Join(names, ", ")
}

// Detect finds the tool called name: rangedl at rangedlPath (built by the
// harness or given to it), every other tool on PATH. A tool that is not
// found is not an error: path and version are "" and absent says why, for
// the report must say that it was not measured.
//
// path is absolute. version is the first non-empty line the tool prints
// for versionArgs, shortened by short (each harness clips it its own way
// for its report), or "unknown"; for rangedl it is followed by the commit
// the binary was built from (see VCSVersion), as its version number
// changes rarely. The version query runs in home, an empty directory that
// is also its HOME (see measure.CleanEnv).
func Detect(ctx context.Context, name, rangedlPath, home string, versionArgs []string, short func(string) string) (path, version, absent string) {
	var err error
	if name == "rangedl" {
		path, err = filepath.Abs(rangedlPath)
	} else if path, err = exec.LookPath(name); err == nil {
		path, err = filepath.Abs(path)
	}
	if err != nil {
		return "", "", "not found: " + err.Error()
	}
	version = "unknown"
	if line := firstLine(ctx, path, versionArgs, home); line != "" {
		version = short(line)
	}
	if name == "rangedl" {
		// The version number changes rarely; the commit (and whether the
		// tree had changes) identifies the code that was measured.
		if v := VCSVersion(path); v != "" {
			version += " (" + v + ")"
		}
	}
	return path, version, ""
}

// firstLine returns the first non-empty line, trimmed, that the program at
// path prints for args within 5 s, or "".
func firstLine(ctx context.Context, path string, args []string, home string) string {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = home
	cmd.Env = measure.CleanEnv(home)
	out, _ := cmd.CombinedOutput() // axel exits 1 after printing its version
	for line := range strings.Lines(string(out)) {
		if line = strings.TrimSpace(line); line != "" {
			return line
		}
	}
	return ""
}

// VCSVersion returns the commit a Go binary was built from, as "go build"
// records it (e.g. "a1b2c3d4e5f6, modified"), or "" if it has none.
func VCSVersion(path string) string {
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
