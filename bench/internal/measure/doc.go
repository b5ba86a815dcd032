// Package measure runs a downloader the way the benchmark harnesses
// (bench/cmd/compare, bench/cmd/batchbench) time it: through the spawn
// helper (bench/cmd/compare/internal/spawn, built from SpawnPkg), in an
// environment built from scratch (CleanEnv), and returns what spawn
// measured: wall time, user+system CPU, peak RSS and exit status (Usage).
//
// The contract with spawn is its doc.go: the harness hands it a pipe as
// descriptor 3, and spawn writes one line there when the tool exits,
// "WALL_NS UTIME_NS STIME_NS MAXRSS STATUS", or "exec-error: ..." when it
// could not start the tool.
//
// Checking the tool's output is the caller's business: a run counts only
// if the caller says so.
//
//	var out measure.TailWriter
//	p, err := measure.Start(ctx, spawnBin, measure.Spec{Argv: argv, Dir: dir, Home: home, Stdout: &out, Stderr: &out})
//	if err != nil {
//		return err
//	}
//	u, err := p.Wait()
//	if err == nil && u.Status != 0 {
//		err = errors.New(measure.StatusString(u.Status) + ": " + out.LastLine())
//	}
package measure
