package harness

import (
	"os"
	"strings"

	"github.com/rangedl/rangedl/bench/internal/shell"
)

// CommandLine reconstructs how a harness was invoked, from its os.Args,
// quoted for a POSIX shell. Under "go run" args[0] is a temporary binary
// that nobody could run again; it becomes "go run " + pkgDir, the
// harness's directory as it is given to go run ("./bench/cmd/compare").
func CommandLine(args []string, pkgDir string) string {
	prog := args[0]
	if strings.Contains(prog, "go-build") || strings.Contains(prog, string(os.PathSeparator)+"exe"+string(os.PathSeparator)) {
		prog = "go run " + pkgDir
	} else {
		prog = shell.Quote(prog)
	}
	if len(args) == 1 {
		return prog
	}
	return prog + " " + shell.Join(args[1:])
}

// Cell makes s safe inside a markdown table cell: '|' escaped, newlines
// turned into spaces.
func Cell(s string) string {
	return strings.NewReplacer("|", `\|`, "\n", " ").Replace(s)
}
