package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/internal/shell"
	"github.com/rangedl/rangedl/bench/server"
)

const (
	// millionSeed is the test server's content seed (the one
	// cmd/rangedl's end-to-end tests use).
	millionSeed = 71
	// sampleEvery picks the files whose content is checked: every 997th
	// (a prime, so the sample does not line up with the 1000-file
	// directories) and the last one.
	sampleEvery = 997
	// pollInterval is how often /proc/PID/status is read.
	pollInterval = time.Second
	// rateTarget: the last 10% of the files should arrive at no less than
	// 80% of the rate of the first 10%.
	rateTarget = 0.8
	// maxOtherLines bounds the lines other than "saved" the report quotes.
	maxOtherLines = 20
)

// savedPrefix starts rangedl's line for each file it saved.
const savedPrefix = "rangedl: saved "

// summaryRE matches rangedl's last line, "rangedl: 5000 files: 5000 saved,
// 0 failed; 78.1 MiB in 0.7s".
var summaryRE = regexp.MustCompile(`^rangedl: (\d+) files?: (\d+) saved, (\d+) failed`)

// spaceNeeded is the free space and inodes a run of n files of size bytes
// asks for: twice what each file takes, its 4 KiB blocks and its 256-byte
// inode (ext4's default) — 8.1 GiB for a million 1 KiB files, which take
// about 4 GiB.
func spaceNeeded(n int, size int64) (bytes int64, inodes uint64) {
	blocks := max(1, (size+4095)/4096)
	return int64(n) * 2 * (blocks*4096 + 256), uint64(n) + uint64(n)/filesPerDir + 1000
}

// millionTimeout bounds the run: a rangedl that stalls is killed and
// reported, not waited for forever.
func millionTimeout(n int) time.Duration {
	return 10*time.Minute + time.Duration(n)*2*time.Millisecond
}

// memSample is one reading of the tool's /proc/PID/status.
type memSample struct {
	at       time.Duration // since the start of the run
	saved    int           // "saved" lines read by then
	rss, hwm int64         // VmRSS and VmHWM, bytes
}

// runMillion runs the million scenario: rangedl downloads o.murls URLs from
// the in-process test server, reading the list from a pipe, while its
// "saved" lines are timestamped and its memory is polled.
func runMillion(ctx context.Context, o options, bins binaries, work string, rl installed, logf func(string, ...any)) (millionReport, error) {
	rep := millionReport{n: o.murls, size: o.msize, jobs: o.jobs, tool: rl}
	if rl.absent != "" {
		return rep, fmt.Errorf("rangedl: %s", rl.absent)
	}
	need, inodes := spaceNeeded(o.murls, o.msize)
	if free, freeInodes, err := freeSpace(work); err != nil {
		logf("cannot tell the free space under %s (%v); going on", work, err)
	} else {
		rep.free = free
		if free < need || freeInodes < inodes {
			return rep, fmt.Errorf("refusing to start: %s has %s and %d inodes free; %d files of %d bytes need %s and %d inodes "+
				"(twice the blocks and inode of each file); give -work a bigger filesystem or a smaller -murls",
				work, sizeString(free), freeInodes, o.murls, o.msize, sizeString(need), inodes)
		}
	}

	srv, err := server.Start(server.Config{Seed: millionSeed, NoLog: true})
	if err != nil {
		return rep, err
	}
	defer srv.Close()
	url := srv.URL("/" + strconv.FormatInt(o.msize, 10))
	want := server.Sum(millionSeed, o.msize)
	rep.server = "bench/server (net/http, in this process) on " + srv.Addr()

	out := filepath.Join(work, "million")
	home := out + ".home"
	for _, d := range []string{out, home} {
		if err := os.Mkdir(d, 0o755); err != nil {
			return rep, err
		}
	}
	argv := []string{rl.path, "-j", strconv.Itoa(o.jobs), "-i", "-", "-d", out}
	rep.command = shell.Join(argv)
	listR, listW, err := os.Pipe()
	if err != nil {
		return rep, err
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		listR.Close()
		listW.Close()
		return rep, err
	}

	// Whatever was written before the run is flushed now, not by rangedl's
	// syncfs at the end of it.
	syscall.Sync()
	ctx, cancel := context.WithTimeout(ctx, millionTimeout(o.murls))
	defer cancel()
	logf("$ %s  (list of %d entries for %s on stdin)", rep.command, o.murls, url)
	cpu0 := selfCPU()
	start := time.Now()
	m, err := measure.Start(ctx, bins.spawn, measure.Spec{Argv: argv, Dir: work, Home: home, Stdin: listR, Stderr: errW})
	listR.Close() // the tool has them now
	errW.Close()
	if err != nil {
		listW.Close()
		errR.Close()
		return rep, err
	}

	listDone := make(chan error, 1)
	go func() {
		err := writeList(listW, url, o.murls)
		listW.Close()
		listDone <- err
	}()

	var saved atomic.Int64
	stop, polled := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(polled)
		rep.mem = pollMemory(m.SpawnPID(), start, &saved, stop)
	}()

	ts := make([]time.Duration, 0, o.murls)
	sc := bufio.NewScanner(errR)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	progress := time.Now()
	for sc.Scan() {
		at := time.Since(start)
		line := sc.Bytes()
		switch {
		case bytesHasPrefix(line, savedPrefix):
			ts = append(ts, at)
			saved.Add(1)
		case summaryRE.Match(line):
			rep.summary = string(line)
		default:
			rep.otherLines++
			if len(rep.other) < maxOtherLines {
				rep.other = append(rep.other, clip(string(line), 300))
			}
		}
		if time.Since(progress) >= 10*time.Second {
			progress = time.Now()
			logf("%d saved after %.0f s", len(ts), at.Seconds())
		}
	}
	if err := sc.Err(); err != nil {
		rep.other = append(rep.other, "(harness: reading stderr: "+err.Error()+")")
		drain(errR)
	}
	errR.Close()
	u, werr := m.Wait()
	close(stop)
	<-polled
	rep.usage = u
	rep.harnessCPU = selfCPU() - cpu0
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		rep.runFail = fmt.Sprintf("timeout after %v", millionTimeout(o.murls))
	case ctx.Err() != nil:
		rep.runFail = "interrupted"
	case werr != nil:
		rep.runFail = werr.Error()
	case u.Status != 0:
		rep.runFail = measure.StatusString(u.Status)
	}
	if err := <-listDone; err != nil && !errors.Is(err, syscall.EPIPE) {
		rep.listFail = err.Error()
	} else if err != nil {
		rep.listFail = "rangedl stopped reading the list: " + err.Error()
	}
	rep.saved = len(ts)
	rep.first, rep.last, rep.edgesOK = edges(ts)
	rep.tenths = tenths(ts)
	logf("rangedl: %s after %.1f s, %d saved lines", measure.StatusString(u.Status), u.Wall.Seconds(), len(ts))

	logf("checking the files on disk (all names, the content of every %dth and the last)", sampleEvery)
	rep.onDisk, rep.sampled, rep.problems = verifyTree(out, o.murls, o.msize, want)
	rep.stats = srv.Stats()
	if _, hwm, ok := procMemory(os.Getpid()); ok {
		rep.harnessHWM = hwm
	}

	logf("deleting %d files under %s (this takes a while)", rep.onDisk, out)
	t := time.Now()
	os.RemoveAll(out)
	os.RemoveAll(home)
	rep.deleted = time.Since(t)
	logf("deleted in %.1f s", rep.deleted.Seconds())
	if ctx.Err() != nil && !errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return rep, ctx.Err()
	}
	return rep, nil
}

// pollMemory reads the tool's VmRSS and VmHWM every pollInterval until stop
// is closed. The tool is spawn's child; it is looked up until found.
func pollMemory(spawnPID int, start time.Time, saved *atomic.Int64, stop <-chan struct{}) []memSample {
	var out []memSample
	t := time.NewTicker(pollInterval)
	defer t.Stop()
	pid := 0
	for {
		select {
		case <-stop:
			return out
		case <-t.C:
		}
		if pid == 0 {
			if pid = toolPID(spawnPID); pid == 0 {
				continue
			}
		}
		if rss, hwm, ok := procMemory(pid); ok {
			out = append(out, memSample{at: time.Since(start), saved: int(saved.Load()), rss: rss, hwm: hwm})
		}
	}
}

// verifyTree checks the output of the million scenario: every entry's
// file where its dir= and out= put it and nothing else, and the content of
// a sample. It returns how many expected files are there, how many were
// hashed, and what is wrong.
func verifyTree(root string, n int, size int64, want [32]byte) (onDisk, sampled int, p problems) {
	dirs := (n + filesPerDir - 1) / filesPerDir
	wantDir := make(map[string]bool, dirs)
	for d := range dirs {
		wantDir[entryDir(d*filesPerDir)] = true
	}
	top, err := os.ReadDir(root)
	if err != nil {
		p.add("cannot list the output: "+err.Error(), root)
		return 0, 0, p
	}
	for _, e := range top {
		if !e.IsDir() || !wantDir[e.Name()] {
			p.add("unexpected", e.Name())
		}
	}
	buf := make([]byte, 64<<10)
	for d := range dirs {
		first, last := d*filesPerDir, min(n, (d+1)*filesPerDir) // entries [first, last)
		dir := entryDir(first)
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			p.add("unlistable directory", dir)
		}
		seen := make([]bool, last-first)
		for _, e := range entries {
			i, ok := parseEntryName(e.Name())
			if !ok || i < first || i >= last {
				p.add("unexpected", dir+"/"+e.Name())
				continue
			}
			seen[i-first] = true
			if !e.Type().IsRegular() {
				p.add("not a regular file", dir+"/"+e.Name())
				continue
			}
			onDisk++
			if i%sampleEvery == 0 || i == n-1 {
				sampled++
				if why := checkFile(filepath.Join(root, dir, e.Name()), size, want, buf); why != "" {
					p.add(why, dir+"/"+e.Name())
				}
			} else if fi, err := e.Info(); err != nil || fi.Size() != size {
				p.add("wrong size", dir+"/"+e.Name()) // every file's size; the sample's content
			}
		}
		for j, ok := range seen {
			if !ok {
				p.add("missing", dir+"/"+entryName(first+j))
			}
		}
	}
	return onDisk, sampled, p
}

// parseEntryName returns i for a name that entryName(i) gives.
func parseEntryName(name string) (int, bool) {
	if len(name) < 1+nameDigits || name[0] != 'f' {
		return 0, false
	}
	i, err := strconv.Atoi(name[1:])
	if err != nil || i < 0 || entryName(i) != name {
		return 0, false
	}
	return i, true
}

// bytesHasPrefix is strings.HasPrefix for a line from a bufio.Scanner,
// without converting it.
func bytesHasPrefix(b []byte, prefix string) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == prefix
}

// selfCPU returns the user+system CPU time this process has used: the
// test server, the list writer and the stderr reader, which share the
// machine with rangedl.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// drain reads f to its end, so that a writer is never blocked on it.
func drain(f *os.File) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Read(buf); err != nil {
			return
		}
	}
}
