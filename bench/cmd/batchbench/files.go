package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/internal/shell"
	"github.com/rangedl/rangedl/bench/nginx"
	"github.com/rangedl/rangedl/bench/server"
)

// filesSeed is the content seed of the served files: file i holds bytes
// [i×size, (i+1)×size) of bench/server's content stream for it, so every
// file differs from every other.
const filesSeed = 1

// fileNames returns the names of n files: f00000, f00001, … (more digits
// when n needs them, so that they sort in order).
func fileNames(n int) []string {
	width := max(5, len(strconv.Itoa(n-1)))
	names := make([]string, n)
	for i := range names {
		names[i] = string(appendPadded([]byte{'f'}, i, width))
	}
	return names
}

// writeRoot writes the served files into dir and returns their SHA-256s.
func writeRoot(dir string, names []string, size int64) ([][32]byte, error) {
	buf := make([]byte, size)
	sums := make([][32]byte, len(names))
	for i, name := range names {
		server.Fill(filesSeed, int64(i)*size, buf)
		sums[i] = sha256.Sum256(buf)
		if err := os.WriteFile(filepath.Join(dir, name), buf, 0o644); err != nil {
			return nil, err
		}
	}
	return sums, nil
}

// maxNamed bounds the file names a failure reason lists per kind.
const maxNamed = 3

// verifyDir checks that dir holds exactly the files names, each of size
// bytes with the SHA-256 sums[i], and nothing else. It returns "" if so,
// else a reason that counts every kind of problem and names the first few
// files of each.
func verifyDir(dir string, names []string, size int64, sums [][32]byte) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "cannot list the output: " + err.Error()
	}
	index := make(map[string]int, len(names))
	for i, n := range names {
		index[n] = i
	}
	seen := make([]bool, len(names))
	var p problems
	buf := make([]byte, 64<<10)
	for _, e := range entries {
		i, ok := index[e.Name()]
		if !ok {
			name := e.Name()
			if e.IsDir() {
				name += "/"
			}
			p.add("unexpected", name)
			continue
		}
		seen[i] = true
		if why := checkFile(filepath.Join(dir, e.Name()), size, sums[i], buf); why != "" {
			p.add(why, e.Name())
		}
	}
	for i, ok := range seen {
		if !ok {
			p.add("missing", names[i])
		}
	}
	return p.String()
}

// checkFile returns "" if path is a regular file of size bytes with the
// SHA-256 want, else what is wrong with it, as a short noun phrase.
func checkFile(path string, size int64, want [32]byte, buf []byte) string {
	f, err := os.Open(path)
	if err != nil {
		return "unreadable"
	}
	defer f.Close()
	fi, err := f.Stat()
	switch {
	case err != nil:
		return "unreadable"
	case !fi.Mode().IsRegular():
		return "not a regular file"
	case fi.Size() != size:
		return "wrong size"
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, buf); err != nil {
		return "unreadable"
	}
	if !bytes.Equal(h.Sum(nil), want[:]) {
		return "wrong SHA-256"
	}
	return ""
}

// problems counts files by what is wrong with them, keeping the first few
// names of each kind, in order of first occurrence.
type problems struct {
	kinds []string
	count map[string]int
	names map[string][]string
}

func (p *problems) add(kind, name string) {
	if p.count == nil {
		p.count, p.names = map[string]int{}, map[string][]string{}
	}
	if p.count[kind] == 0 {
		p.kinds = append(p.kinds, kind)
	}
	p.count[kind]++
	if len(p.names[kind]) < maxNamed {
		p.names[kind] = append(p.names[kind], name)
	}
}

func (p *problems) total() int {
	n := 0
	for _, c := range p.count {
		n += c
	}
	return n
}

// String is "" for no problems, else e.g. "2 missing (f00003, f00007);
// 1 unexpected (.wget-hsts)".
func (p *problems) String() string {
	parts := make([]string, len(p.kinds))
	for i, k := range p.kinds {
		names := strings.Join(p.names[k], ", ")
		if p.count[k] > len(p.names[k]) {
			names += ", …"
		}
		parts[i] = fmt.Sprintf("%d %s (%s)", p.count[k], k, names)
	}
	return strings.Join(parts, "; ")
}

// filesRun is one tool's run in one round.
type filesRun struct {
	round, pos int // pos: 1-based place in the round's order
	tool       string
	probe      time.Duration // createProbe just before the run; 0 if it failed
	usage      measure.Usage
	flush      time.Duration // the sync(2) right after the tool exited: what it left unwritten
	fail       string        // why the run does not count; "" if it does
}

func (r filesRun) ok() bool { return r.fail == "" }

// synced is the time until the tool's files were on disk: its wall time
// and the sync after it.
func (r filesRun) synced() time.Duration { return r.usage.Wall + r.flush }

// filesTimeout bounds one run: generous (a slow tool should fail as slow,
// not hang the benchmark), growing with the file count.
func filesTimeout(n int) time.Duration {
	return time.Minute + time.Duration(n)*20*time.Millisecond
}

// runFiles runs the files scenario: nginx serving o.files files, every
// present tool downloading all of them once per round.
func runFiles(ctx context.Context, o options, bins binaries, work string, found []installed, logf func(string, ...any)) (filesReport, error) {
	rep := filesReport{n: o.files, size: o.size, jobs: o.jobs, rounds: o.rounds, tools: found}

	var present []installed
	for _, t := range found {
		if t.absent == "" {
			present = append(present, t)
		}
	}
	// Every run's output stays until the last round is over, next to the
	// served copy.
	copies := 1 + o.rounds*len(present)
	need, inodes := spaceNeeded(o.files*copies, o.size)
	if free, freeInodes, err := freeSpace(work); err == nil && (free < need || freeInodes < inodes) {
		return rep, fmt.Errorf("refusing to start: %s has %s and %d inodes free; %d copies of %d files of %d bytes need %s and %d inodes "+
			"(twice the blocks and inode of each file); give -work a bigger filesystem, or fewer -files or -rounds",
			work, sizeString(free), freeInodes, copies, o.files, o.size, sizeString(need), inodes)
	}

	root := filepath.Join(work, "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		return rep, err
	}
	names := fileNames(o.files)
	logf("writing %d files of %d bytes into %s", o.files, o.size, root)
	sums, err := writeRoot(root, names, o.size)
	if err != nil {
		return rep, err
	}
	srv, err := nginx.Start(nginx.Config{Root: root})
	if err != nil {
		return rep, err
	}
	defer func() {
		if err := srv.Close(); err != nil {
			logf("stopping nginx: %v", err)
		}
	}()
	rep.server = nginxVersion() + " on " + srv.Addr()
	logf("serving them from %s", rep.server)

	urls := make([]string, len(names))
	for i, n := range names {
		urls[i] = srv.URL("/" + n)
	}
	in := runInput{jobs: o.jobs, list: filepath.Join(work, "urls.txt"), config: filepath.Join(work, "urls.curl")}
	if err := os.WriteFile(in.list, []byte(urlList(urls)), 0o644); err != nil {
		return rep, err
	}
	if err := os.WriteFile(in.config, []byte(curlConfig(urls)), 0o644); err != nil {
		return rep, err
	}

	var outputs []string
	for round := 1; round <= o.rounds; round++ {
		for pos, t := range rotate(present, round-1) {
			// A fresh directory, never one just emptied: deleting thousands
			// of files right before a run slows ext4's inode allocation in
			// that run.
			name := fmt.Sprintf("round%d-%s", round, t.name)
			in.dir = filepath.Join(work, name)
			home := filepath.Join(work, name+".home")
			outputs = append(outputs, in.dir, home, in.dir+".probe")
			r := filesRun{round: round, pos: pos + 1, tool: t.name, probe: createProbe(in.dir + ".probe")}
			tag := fmt.Sprintf("[round %d/%d] %-7s", round, o.rounds, t.name)
			argv := t.command(in)
			logf("%s $ %s", tag, shell.Join(argv))
			r.usage, r.fail = runFilesOnce(ctx, bins.spawn, argv, in.dir, home, o.files)
			r.flush = timeSync()
			if r.fail == "" {
				r.fail = verifyDir(in.dir, names, o.size, sums)
			}
			rep.runs = append(rep.runs, r)
			if r.ok() {
				logf("%s %.3f s (+ sync %.3f s)  %.0f files/s  cpu %.2f s  rss %.1f MiB  ok", tag, r.usage.Wall.Seconds(),
					r.flush.Seconds(), float64(o.files)/r.usage.Wall.Seconds(), r.usage.CPU.Seconds(), float64(r.usage.MaxRSS)/mib)
			} else {
				logf("%s FAILED: %s", tag, r.fail)
			}
			if ctx.Err() != nil {
				return rep, ctx.Err()
			}
		}
	}
	logf("deleting the outputs of %d runs", len(rep.runs))
	for _, d := range outputs {
		os.RemoveAll(d)
	}
	return rep, nil
}

// probeFiles is how many empty files createProbe creates.
const probeFiles = 200

// createProbe returns how long creating an empty file took, on average over probeFiles new
// files in a fresh directory dir (kept until the outputs go), or 0 if one could not be made.
// It shows the state of the filesystem before a run: on the ext4 of the README's benchmarks,
// 12 µs per file normally, 110-230 µs for minutes after a large deletion, when every tool is
// slow (README, "The filesystem's slow state"). It runs before runFilesOnce's sync, which
// cleans up after it.
func createProbe(dir string) time.Duration {
	if err := os.Mkdir(dir, 0o755); err != nil {
		return 0
	}
	start := time.Now()
	for i := range probeFiles {
		f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(i)), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
		if err != nil {
			return 0
		}
		f.Close()
	}
	return time.Since(start) / probeFiles
}

// timeSync returns how long a sync(2) took. Right after a tool exits, it is
// the time the kernel still needed to put that tool's files on disk: rangedl
// syncs its filesystem before it exits, the others leave it to the kernel.
func timeSync() time.Duration {
	start := time.Now()
	syscall.Sync()
	return time.Since(start)
}

// runFilesOnce runs one tool with a fresh dir and home and returns spawn's
// measurement, or the reason the run failed before its files could be
// checked.
func runFilesOnce(ctx context.Context, spawn string, argv []string, dir, home string, n int) (measure.Usage, string) {
	for _, d := range []string{dir, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return measure.Usage{}, err.Error()
		}
	}
	// The create probe's files and these directories are dirty in the page
	// cache: flush them now rather than in this run (rangedl syncs its
	// filesystem at the end, and would otherwise pay for them), and leave
	// the sync after the run only this run's writes to flush.
	syscall.Sync()

	ctx, cancel := context.WithTimeout(ctx, filesTimeout(n))
	defer cancel()
	var out measure.TailWriter
	p, err := measure.Start(ctx, spawn, measure.Spec{Argv: argv, Dir: dir, Home: home, Stdout: &out, Stderr: &out})
	if err != nil {
		return measure.Usage{}, err.Error()
	}
	u, err := p.Wait()
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		return u, fmt.Sprintf("timeout after %v", filesTimeout(n))
	case ctx.Err() != nil:
		return u, "interrupted"
	case err != nil:
		return u, err.Error()
	case u.Status != 0:
		why := measure.StatusString(u.Status)
		if last := clip(out.LastLine(), 200); last != "" {
			why += ": " + last
		}
		return u, why
	}
	return u, ""
}

// nginxVersion returns "nginx/1.22.1" or "nginx".
func nginxVersion() string {
	bin, err := nginx.Binary()
	if err != nil {
		return "nginx"
	}
	out, _ := execOutput(bin, "-v") // nginx -v prints to stderr
	if v, ok := strings.CutPrefix(strings.TrimSpace(out), "nginx version: "); ok {
		return v
	}
	return "nginx"
}
