package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/rangedl/rangedl/bench/internal/harness"
	"github.com/rangedl/rangedl/bench/timeline"
)

// drawTimeline downloads sc once more with rangedl --trace, outside the measured rounds, and
// draws the per-connection timeline of that run as SVG into path. It picks the straggler
// scenario when it was run (that is where the scheduler's decisions show), else the first one.
func drawTimeline(ctx context.Context, scs []scenario, found []installed, bins binaries, work, path string, logf func(string, ...any)) (string, error) {
	var rangedl *installed
	for i := range found {
		if found[i].name == "rangedl" && found[i].absent == "" {
			rangedl = &found[i]
		}
	}
	if rangedl == nil || len(scs) == 0 {
		return "", nil
	}
	sc := scs[0]
	for _, s := range scs {
		if s.name == "straggler" {
			sc = s
		}
	}
	org, err := startOrigin(sc, work, bins)
	if err != nil {
		return "", err
	}
	defer org.close()
	url, done, err := org.serve(ctx)
	if err != nil {
		return "", err
	}
	defer done()
	dir := filepath.Join(work, "runs", sc.name+"-trace")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	trace := filepath.Join(dir, "trace.jsonl")
	ctx, cancel := context.WithTimeout(ctx, sc.timeout(sc.connsFor(rangedl.tool)))
	defer cancel()
	args := caArgs("--cacert", org.caFile())
	args = append(args, "-q", "-n", strconv.Itoa(sc.connsFor(rangedl.tool)),
		"-o", filepath.Join(dir, "out.bin"), "--trace", trace, url)
	cmd := exec.CommandContext(ctx, rangedl.path, args...)
	logf("[%s timeline] $ %s", sc.name, harness.CommandLine(cmd.Args, pkgDir))
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("rangedl --trace: %v: %s", err, out)
	}
	f, err := os.Open(trace)
	if err != nil {
		return "", err
	}
	defer f.Close()
	evs, err := timeline.Read(f)
	if err != nil {
		return "", err
	}
	title := fmt.Sprintf("rangedl -n %d, scenario %s: %s in %.2f s", sc.connsFor(rangedl.tool), sc.name, sizeString(sc.size), time.Since(start).Seconds())
	out, err := os.Create(path)
	if err != nil {
		return "", err
	}
	if err := timeline.SVG(out, title, evs); err != nil {
		out.Close()
		return "", err
	}
	return sc.name, out.Close()
}
