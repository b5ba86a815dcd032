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
	"strings"
	"syscall"
	"time"

	"github.com/rangedl/rangedl/bench/internal/harness"
	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/nginx"
)

// Exit codes.
const (
	exitOK          = 0
	exitFail        = 1 // a harness error, or a failed run under -smoke
	exitUsage       = 2
	exitInterrupted = 130
)

// Packages the harness builds when it is not given binaries. Import
// paths, not directories, so that they resolve from anywhere inside the
// module.
const (
	rangedlPkg    = "github.com/rangedl/rangedl/cmd/rangedl"
	testserverPkg = "github.com/rangedl/rangedl/bench/cmd/testserver"
)

// pkgDir is this command's directory, as the report shows a "go run" of it.
const pkgDir = "./bench/cmd/compare"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args, os.Stdout, os.Stderr))
}

// options are the parsed flags.
type options struct {
	scenarios []scenario
	tools     []tool
	set       string // scenario set name, for the file name
	rounds    int
	rangedl   string
	scale     float64
	out       string
	smoke     bool
}

const usageText = `usage: compare [flags]

Downloads the same files with rangedl and other downloaders, one at a time,
checks every output by SHA-256 and writes a markdown report and an SVG chart
to the -out directory.

flags:
`

// parseFlags parses args (without the program name).
func parseFlags(args []string, stderr io.Writer) (options, error) {
	fs := flag.NewFlagSet("compare", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageText)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nscenarios: %s\ntools: %s\n", scenarioNames(), toolNames())
	}
	var (
		o         options
		scenarios = fs.String("scenarios", "all", "comma-separated `names` of the scenarios to run")
		toolList  = fs.String("tools", "all", "comma-separated `names` of the tools to run")
	)
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per scenario; medians are reported")
	fs.StringVar(&o.rangedl, "rangedl", "", "rangedl binary `path` (default: build ./cmd/rangedl into a temp dir)")
	fs.Float64Var(&o.scale, "size-scale", 1, "multiply every file size by `F` (rounded to whole MiB)")
	fs.StringVar(&o.out, "out", filepath.Join("bench", "results"), "`directory` for the report and chart")
	fs.BoolVar(&o.smoke, "smoke", false, "a few seconds' check for CI: 16 MiB over http and https, 1 round, rangedl and curl,\noutput to a temp dir unless -out is given; exit 1 if any run fails")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.rounds < 1 {
		return o, fmt.Errorf("-rounds %d: want at least 1", o.rounds)
	}
	if !(o.scale > 0) || o.scale > 64 {
		return o, fmt.Errorf("-size-scale %v: want a number in (0, 64]", o.scale)
	}
	var err error
	if o.smoke {
		// -smoke fixes the scenario, rounds and tools; -out, -rangedl and
		// -size-scale still apply.
		outSet := false
		fs.Visit(func(f *flag.Flag) { outSet = outSet || f.Name == "out" })
		if !outSet {
			o.out = ""
		}
		o.scenarios = []scenario{smokeScenario.scaled(o.scale), smokeHTTPSScenario.scaled(o.scale)}
		o.rounds = 1
		o.tools, err = selectTools("rangedl,curl")
		o.set = "smoke"
		return o, err
	}
	if o.scenarios, err = selectScenarios(*scenarios); err != nil {
		return o, err
	}
	if o.tools, err = selectTools(*toolList); err != nil {
		return o, err
	}
	if *scenarios == "all" || *scenarios == "" {
		o.set = "all"
	} else {
		names := make([]string, len(o.scenarios))
		for i, sc := range o.scenarios {
			names[i] = sc.name
		}
		o.set = strings.Join(names, "+")
	}
	if o.scale != 1 {
		o.set += fmt.Sprintf("-x%g", o.scale)
	}
	for i := range o.scenarios {
		o.scenarios[i] = o.scenarios[i].scaled(o.scale)
	}
	return o, nil
}

// binaries are the programs the harness built or was given.
type binaries struct {
	spawn      string // see measure.SpawnPkg
	rangedl    string
	testserver string // "" if no scenario needs it
}

// run is the whole command; it returns the exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args[1:], stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	} else if err != nil {
		fmt.Fprintf(stderr, "compare: %v\n", err)
		return exitUsage
	}
	logf := func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }

	work, err := os.MkdirTemp("", "rangedl-compare-")
	if err != nil {
		logf("compare: %v", err)
		return exitFail
	}
	defer os.RemoveAll(work)
	home := filepath.Join(work, "home") // the empty HOME of version queries
	if err := os.Mkdir(home, 0o755); err != nil {
		logf("compare: %v", err)
		return exitFail
	}

	// Without nginx the nginx scenarios are reported as not run; the
	// smoke test falls back to testserver so that CI without nginx still
	// exercises the harness end to end, and leaves out its https part,
	// which the testserver cannot serve.
	_, nginxErr := nginx.Binary()
	if nginxErr != nil && o.smoke {
		o.scenarios = o.scenarios[:1]
		o.scenarios[0].kind = testServer
		logf("compare: no nginx (%v): smoke test over http from testserver only", nginxErr)
		nginxErr = nil
	}

	bins, err := build(ctx, o, work, logf)
	if err != nil {
		logf("compare: %v", err)
		return exitFail
	}
	var found []installed
	for _, t := range o.tools {
		in := detect(ctx, t, bins.rangedl, home)
		if t.name == "rangedl" && o.rangedl == "" {
			in.note = "built by the harness from ./cmd/rangedl, deleted afterwards"
		}
		if in.absent != "" {
			logf("%-8s absent: %s", t.name, in.absent)
		} else {
			logf("%-8s %s (%s)", t.name, in.path, in.version)
		}
		found = append(found, in)
	}

	rep := report{
		set:     o.set,
		date:    time.Now(),
		command: harness.CommandLine(args, pkgDir),
		sys:     machine(),
		rounds:  o.rounds,
		tools:   found,
	}
	for _, sc := range o.scenarios {
		sr := runScenario(ctx, sc, o.rounds, found, bins, work, nginxErr, logf)
		rep.scenarios = append(rep.scenarios, sr)
		if ctx.Err() != nil {
			logf("compare: interrupted; no report written")
			return exitInterrupted
		}
	}

	if !o.smoke {
		// The per-connection picture of one rangedl run, for people studying the I/O.
		if err := os.MkdirAll(o.out, 0o755); err == nil {
			name := rep.date.Format("2006-01-02") + "-" + rep.set + "-timeline.svg"
			if sc, err := drawTimeline(ctx, o.scenarios, found, bins, work, filepath.Join(o.out, name), logf); err != nil {
				logf("compare: timeline: %v", err)
			} else if sc != "" {
				rep.timeline, rep.timelineOf = name, sc
			}
		}
	}
	if err := writeReport(&rep, o.out, logf); err != nil {
		logf("compare: %v", err)
		return exitFail
	}
	fmt.Fprint(stdout, rep.markdown())

	if o.smoke {
		for _, sr := range rep.scenarios {
			if sr.skipped != "" || anyFail(sr.rows) {
				logf("compare: smoke test failed")
				return exitFail
			}
		}
	}
	return exitOK
}

// build returns the binaries the selected scenarios need, building those
// not given with "go build" into work.
func build(ctx context.Context, o options, work string, logf func(string, ...any)) (binaries, error) {
	b := binaries{spawn: filepath.Join(work, "bin", "spawn")}
	if err := harness.GoBuild(ctx, b.spawn, measure.SpawnPkg); err != nil {
		return b, fmt.Errorf("%w (run from inside the rangedl module)", err)
	}
	if b.rangedl = o.rangedl; b.rangedl == "" {
		b.rangedl = filepath.Join(work, "bin", "rangedl")
		logf("building %s", rangedlPkg)
		// -buildvcs=auto records the commit in the binary (the report names it) even when
		// GOFLAGS turns it off, as batchbench does.
		if err := harness.GoBuild(ctx, b.rangedl, rangedlPkg, "-buildvcs=auto"); err != nil {
			return b, fmt.Errorf("%w (run from inside the rangedl module, or pass -rangedl)", err)
		}
	}
	for _, sc := range o.scenarios {
		if sc.kind == testServer {
			b.testserver = filepath.Join(work, "bin", "testserver")
			logf("building %s", testserverPkg)
			if err := harness.GoBuild(ctx, b.testserver, testserverPkg); err != nil {
				return b, fmt.Errorf("%w (run from inside the rangedl module)", err)
			}
			break
		}
	}
	return b, nil
}

// runScenario runs every present tool rounds times against sc's server,
// interleaved: round 1 runs each tool once, then round 2, and so on, so
// that a slow minute of a shared machine is spread over all tools instead
// of landing on one.
func runScenario(ctx context.Context, sc scenario, rounds int, found []installed, bins binaries, work string, nginxErr error, logf func(string, ...any)) scenarioReport {
	sr := scenarioReport{name: sc.name, note: sc.note, server: sc.kind.String(), path: sc.urlPath(), size: sc.size}
	for _, in := range found {
		r := row{tool: in.name, flags: in.flags(sc.connsFor(in.tool), sc.tls), absent: in.absent}
		if sc.tls {
			r.note = in.httpsNote
		}
		sr.rows = append(sr.rows, r)
	}
	if sc.kind == nginxServer && nginxErr != nil {
		sr.skipped = nginxErr.Error()
		logf("== %s: not run: %v", sc.name, nginxErr)
		return sr
	}

	logf("== %s: preparing %s from %s", sc.name, sizeString(sc.size), sc.kind)
	org, err := startOrigin(sc, work, bins)
	if err != nil {
		sr.skipped = err.Error()
		logf("== %s: not run: %v", sc.name, err)
		return sr
	}
	defer func() {
		if err := org.close(); err != nil {
			logf("== %s: stopping the server: %v", sc.name, err)
		}
	}()
	sr.server = org.describe()
	logf("== %s: %s", sc.name, sr.server)

	for round := 1; round <= rounds; round++ {
		for i, in := range found {
			if in.absent != "" {
				continue
			}
			tag := fmt.Sprintf("[%s %d/%d] %-7s", sc.name, round, rounds, in.name)
			url, done, err := org.serve(ctx)
			if err != nil {
				sr.rows[i].runs = append(sr.rows[i].runs, sample{fail: "server: " + err.Error()})
				logf("%s server: %v", tag, err)
				continue
			}
			n := sc.connsFor(in.tool)
			j := job{
				tool:    in,
				conns:   n,
				url:     url,
				ca:      org.caFile(),
				dir:     filepath.Join(work, "runs", fmt.Sprintf("%s-%d-%s", sc.name, round, in.name)),
				size:    sc.size,
				sum:     org.sum(),
				timeout: sc.timeout(in.conns(n)),
			}
			if round == 1 {
				sr.rows[i].command = j.commandLine()
			}
			logf("%s $ %s", tag, j.commandLine())
			r := runOne(ctx, bins.spawn, j)
			done()
			sr.rows[i].runs = append(sr.rows[i].runs, r)
			if r.ok() {
				logf("%s %.2f s  %.1f MiB/s  cpu %.2f s  rss %.1f MiB  ok", tag,
					r.wall.Seconds(), float64(sc.size)/mib/r.wall.Seconds(), r.cpu.Seconds(), float64(r.maxRSS)/mib)
			} else {
				logf("%s FAIL after %.2f s: %s", tag, r.wall.Seconds(), r.fail)
			}
			if ctx.Err() != nil {
				return sr
			}
		}
	}
	return sr
}

// writeReport writes the markdown report and the SVG chart into dir (a new
// temporary directory if dir is ""), named after the date and the scenario
// set, and sets rep.chart.
func writeReport(rep *report, dir string, logf func(string, ...any)) error {
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "rangedl-compare-results-"); err != nil {
			return err
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	base := rep.date.Format("2006-01-02") + "-" + rep.set
	rep.chart = base + ".svg"
	mdPath := filepath.Join(dir, base+".md")
	svgPath := filepath.Join(dir, rep.chart)
	if err := os.WriteFile(svgPath, []byte(chartSVG(rep.scenarios)), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(mdPath, []byte(rep.markdown()), 0o644); err != nil {
		return err
	}
	logf("wrote %s and %s", mdPath, svgPath)
	return nil
}
