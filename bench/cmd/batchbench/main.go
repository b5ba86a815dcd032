package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/rangedl/rangedl/bench/internal/harness"
	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/server"
)

// Exit codes.
const (
	exitOK          = 0
	exitFail        = 1 // a harness error, or a run that failed (the report says which)
	exitUsage       = 2
	exitInterrupted = 130
)

// rangedlPkg is built when -rangedl is not given: an import path, not a
// directory, so that it resolves from anywhere inside the module.
const rangedlPkg = "github.com/rangedl/rangedl/cmd/rangedl"

// pkgDir is this command's directory, as the report shows a "go run" of it.
const pkgDir = "./bench/cmd/batchbench"

// Bounds on the flags: beyond these a run says nothing more, it only takes
// longer (or more disk than anyone has).
const (
	maxFiles  = 1_000_000
	maxURLs   = 10_000_000
	maxSize   = 1 << 30
	maxRounds = 100
	maxJobs   = 1024 // rangedl's own limit on -j
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	million bool
	files   int
	size    int64
	jobs    int
	rounds  int
	tools   []tool
	rangedl string
	out     string
	work    string
	murls   int
	msize   int64
}

const usageText = `usage: batchbench [flags]            5000 files of 16 KiB from nginx, rangedl vs wget2, curl, aria2c
       batchbench -million [flags]   a million 1 KiB URLs from the Go test server, rangedl alone

Every file is checked: name and size, and its SHA-256 (in the million scenario, of every
997th and the last); the report (markdown) goes to stdout and to -out.

flags:
`

// parseFlags parses args (without the program name).
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("batchbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\ntools: %s\n", toolNames())
	}
	var (
		o        options
		size     = fs.String("size", "16K", "size of each file, in `bytes` (K, M, G suffixes)")
		msize    = fs.String("msize", "1024", "with -million: size of the URL's file, in `bytes` (K, M, G suffixes)")
		toolList = fs.String("tools", "all", "comma-separated `names` of the tools to run")
	)
	fs.BoolVar(&o.million, "million", false, "run the million scenario instead of the files scenario")
	fs.IntVar(&o.files, "files", 5000, "number of files served by nginx")
	fs.IntVar(&o.jobs, "j", 16, "downloads at once, for every tool")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds of the files scenario; medians are reported")
	fs.StringVar(&o.rangedl, "rangedl", "", "rangedl binary `path` (default: build ./cmd/rangedl into a temp dir)")
	fs.StringVar(&o.out, "out", "", "also write the report to this `file`")
	fs.StringVar(&o.work, "work", "", "`directory` for the served files and every output (default $TMPDIR)")
	fs.IntVar(&o.murls, "murls", 1_000_000, "with -million: number of URLs")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if o.size, err = server.ParseSize(*size); err != nil || o.size < 1 || o.size > maxSize {
		return o, fmt.Errorf("-size %q: want 1 byte to 1G, like 16K", *size)
	}
	if o.msize, err = server.ParseSize(*msize); err != nil || o.msize < 1 || o.msize > maxSize {
		return o, fmt.Errorf("-msize %q: want 1 byte to 1G, like 1024", *msize)
	}
	switch {
	case o.files < 1 || o.files > maxFiles:
		return o, fmt.Errorf("-files %d: want 1..%d", o.files, maxFiles)
	case o.jobs < 1 || o.jobs > maxJobs:
		return o, fmt.Errorf("-j %d: want 1..%d", o.jobs, maxJobs)
	case o.rounds < 1 || o.rounds > maxRounds:
		return o, fmt.Errorf("-rounds %d: want 1..%d", o.rounds, maxRounds)
	case o.murls < 1 || o.murls > maxURLs:
		return o, fmt.Errorf("-murls %d: want 1..%d", o.murls, maxURLs)
	}
	if o.tools, err = selectTools(*toolList); err != nil {
		return o, err
	}
	if o.million {
		o.tools = tools[:1] // rangedl alone
	}
	return o, nil
}

// binaries are the programs the harness built or was given.
type binaries struct {
	spawn   string // see measure.SpawnPkg
	rangedl string
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		fmt.Fprintf(stderr, "batchbench: %v\n", err)
		return exitUsage
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
	h := header{date: time.Now(), command: harness.CommandLine(args, pkgDir), sys: machine()}

	work, err := os.MkdirTemp(o.work, "rangedl-batchbench-")
	if err == nil {
		work, err = filepath.Abs(work)
	}
	if err != nil {
		logf("batchbench: %v", err)
		return exitFail
	}
	defer os.RemoveAll(work)
	home := filepath.Join(work, "home") // the empty HOME of version queries
	if err := os.Mkdir(home, 0o755); err != nil {
		logf("batchbench: %v", err)
		return exitFail
	}
	bins, err := build(ctx, o, work, logf)
	if err != nil {
		logf("batchbench: %v", err)
		return exitFail
	}
	var found []installed
	for _, t := range o.tools {
		in := detect(ctx, t, bins.rangedl, home)
		if in.absent != "" {
			logf("%-8s absent: %s", t.name, in.absent)
		} else {
			logf("%-8s %s (%s)", t.name, in.path, in.version)
		}
		found = append(found, in)
	}

	text, failed, err := runScenario(ctx, o, bins, work, found, h, logf)
	if err != nil {
		logf("batchbench: %v", err)
		if ctx.Err() != nil {
			return exitInterrupted
		}
		return exitFail
	}

	fmt.Fprint(stdout, text)
	if o.out != "" {
		if err := writeFile(o.out, text); err != nil {
			logf("batchbench: %v", err)
			return exitFail
		}
		logf("wrote %s", o.out)
	}
	if failed {
		logf("batchbench: some runs FAILED; see the report")
		return exitFail
	}
	return exitOK
}

// runScenario runs the scenario o selects and returns its report, headed
// by h with the load averages at the end, and whether any run failed.
func runScenario(ctx context.Context, o options, bins binaries, work string, found []installed, h header, logf func(string, ...any)) (text string, failed bool, err error) {
	if o.million {
		rep, err := runMillion(ctx, o, bins, work, found[0], logf)
		if err != nil {
			return "", false, err
		}
		h.loadEnd = loadAverage()
		rep.header = h
		return rep.markdown(), len(rep.failures()) > 0, nil
	}
	rep, err := runFiles(ctx, o, bins, work, found, logf)
	if err != nil {
		return "", false, err
	}
	h.loadEnd = loadAverage()
	rep.header = h
	for _, r := range rep.runs {
		failed = failed || !r.ok()
	}
	return rep.markdown(), failed, nil
}

// build returns the binaries, building with "go build" into work those not
// given.
func build(ctx context.Context, o options, work string, logf func(string, ...any)) (binaries, error) {
	b := binaries{spawn: filepath.Join(work, "bin", "spawn"), rangedl: o.rangedl}
	if err := harness.GoBuild(ctx, b.spawn, measure.SpawnPkg); err != nil {
		return b, fmt.Errorf("%w (run from inside the rangedl module)", err)
	}
	if b.rangedl == "" {
		b.rangedl = filepath.Join(work, "bin", "rangedl")
		logf("building %s", rangedlPkg)
		// -buildvcs=auto records the commit, and whether the tree had
		// changes, in the binary (see harness.VCSVersion) even when GOFLAGS turns
		// it off, and builds without it outside a repository.
		if err := harness.GoBuild(ctx, b.rangedl, rangedlPkg, "-buildvcs=auto"); err != nil {
			return b, fmt.Errorf("%w (run from inside the rangedl module, or pass -rangedl)", err)
		}
	}
	return b, nil
}

// writeFile writes text to path, making its directory.
func writeFile(path, text string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(text), 0o644)
}
