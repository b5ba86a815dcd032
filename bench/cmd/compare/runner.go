package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

// outName is the file every tool writes, inside a fresh directory per run.
const outName = "out.bin"

// sample is one download by one tool: one run.
type sample struct {
	wall   time.Duration // from fork to exit, as a user would time it
	cpu    time.Duration // user + system CPU of the tool's process
	maxRSS int64         // peak resident set in bytes; 0 if unknown
	fail   string        // why the run does not count; "" if it does
}

func (r sample) ok() bool { return r.fail == "" }

// job is everything runOne needs for one download.
type job struct {
	tool    installed
	conns   int           // asked of the tool (it may use fewer, see tool.conns)
	url     string        //
	ca      string        // CA certificate file to trust for https; "" for none
	dir     string        // fresh, empty working directory; removed afterwards
	size    int64         // expected length of the output
	sum     [32]byte      // expected SHA-256 of the output
	timeout time.Duration // after which the tool is killed and the run fails
}

// commandLine is the exact command of j, as a line for a POSIX shell.
func (j job) commandLine() string {
	args := j.tool.command(j.tool.path, j.conns, j.dir, outName, j.url, j.ca)
	return "cd " + shellQuote(j.dir) + " && " + shellJoin(args)
}

// runOne downloads with j.tool through spawn (see internal/spawn for
// why), measures it and checks the output. It never returns a
// measurement for a run that did not produce the right bytes: a non-zero
// exit, a timeout, a missing or short file and a wrong hash are all
// failures.
func runOne(ctx context.Context, spawn string, j job) sample {
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return sample{fail: err.Error()}
	}
	// Whatever the tool leaves (the output, aria2c's control file, axel's
	// state file, wget2's HSTS database) goes with the directory.
	defer os.RemoveAll(j.dir)

	// spawn writes its report into this pipe, on its descriptor 3.
	pr, pw, err := os.Pipe()
	if err != nil {
		return sample{fail: err.Error()}
	}
	defer pr.Close()

	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	args := j.tool.command(j.tool.path, j.conns, j.dir, outName, j.url, j.ca)
	cmd := exec.CommandContext(ctx, spawn, args...)
	cmd.Dir = j.dir
	cmd.Env = cleanEnv(j.dir)
	var out tailWriter
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.ExtraFiles = []*os.File{pw}
	// spawn and the tool get a process group of their own, so that a
	// timeout kills both (killing spawn alone would leave the tool
	// downloading in the background of the next run).
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// If a killed tool left something holding its output pipe open, do
	// not wait for that something forever.
	cmd.WaitDelay = 2 * time.Second

	err = cmd.Start()
	pw.Close() // ours; spawn has its own copy
	if err != nil {
		return sample{fail: "spawn: " + err.Error()}
	}
	err = cmd.Wait()
	line, _ := io.ReadAll(pr) // spawn has exited: its end is closed
	rep, perr := parseReport(string(line))

	var r sample
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.fail = fmt.Sprintf("timeout after %v", j.timeout)
		r.wall = j.timeout
		return r
	case ctx.Err() != nil:
		r.fail = "interrupted"
		return r
	case perr != nil:
		r.fail = perr.Error()
		if err != nil {
			r.fail = "spawn: " + err.Error() + ": " + r.fail
		}
		return r
	}
	r.wall, r.cpu, r.maxRSS = rep.wall, rep.cpu, rep.maxRSS
	switch {
	case rep.status > 0:
		r.fail = fmt.Sprintf("exit status %d", rep.status)
	case rep.status < 0:
		r.fail = fmt.Sprintf("killed by signal %d", -rep.status)
	default:
		if err := verify(filepath.Join(j.dir, outName), j.size, j.sum); err != nil {
			r.fail = err.Error()
		}
		return r
	}
	if last := out.lastLine(); last != "" {
		r.fail += ": " + last
	}
	return r
}

// spawnReport is what spawn measured.
type spawnReport struct {
	wall, cpu time.Duration
	maxRSS    int64 // bytes
	status    int   // exit code, or minus the signal number
}

// parseReport parses spawn's line "WALL_NS UTIME_NS STIME_NS MAXRSS STATUS"
// or its "exec-error: ..." line.
func parseReport(line string) (spawnReport, error) {
	line = strings.TrimSpace(line)
	if msg, ok := strings.CutPrefix(line, "exec-error:"); ok {
		return spawnReport{}, errors.New(strings.TrimSpace(msg))
	}
	var wall, utime, stime, rss int64
	var status int
	if n, err := fmt.Sscanf(line, "%d %d %d %d %d", &wall, &utime, &stime, &rss, &status); err != nil || n != 5 {
		return spawnReport{}, fmt.Errorf("no measurement from spawn (got %q)", line)
	}
	return spawnReport{
		wall:   time.Duration(wall),
		cpu:    time.Duration(utime + stime),
		maxRSS: rssBytes(rss),
		status: status,
	}, nil
}

// rssBytes converts ru_maxrss to bytes: it is in KiB on Linux and the BSDs
// but in bytes on macOS (getrusage(2) on each system).
func rssBytes(maxrss int64) int64 {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		return maxrss
	}
	return maxrss << 10
}

// verify checks that the file at path has the given size and SHA-256.
func verify(path string, size int64, want [32]byte) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return errors.New("no output file")
	} else if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	// The size first: cheap, and a clearer message than a hash mismatch.
	if fi.Size() != size {
		return fmt.Errorf("output has %d bytes, want %d", fi.Size(), size)
	}
	h := sha256.New()
	if _, err := io.CopyBuffer(h, f, make([]byte, 1<<20)); err != nil {
		return err
	}
	if !bytes.Equal(h.Sum(nil), want[:]) {
		return errors.New("SHA-256 mismatch")
	}
	return nil
}

// cleanEnv is the environment every tool runs in. It is built from
// scratch rather than inherited so that the measurement does not depend on
// who runs it: no http_proxy or no_proxy (a proxy on the path would be
// measured instead of the tool), and HOME set to an empty directory so that
// ~/.curlrc, ~/.wgetrc, ~/.aria2/aria2.conf, ~/.axelrc and wget2's rc file
// cannot add options. System-wide files (/etc/wgetrc, /etc/axelrc) still
// apply; the Debian defaults set nothing that matters here.
func cleanEnv(home string) []string {
	env := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"LC_ALL=C", // messages in English, numbers with '.'
	}
	if tmp := os.Getenv("TMPDIR"); tmp != "" {
		env = append(env, "TMPDIR="+tmp)
	}
	return env
}

// tailSize bounds the output kept from a tool, for the failure reason.
const tailSize = 4 << 10

// tailWriter keeps the last tailSize bytes written to it. exec.Cmd writes
// from its copying goroutines and we read after Wait, which waits for
// them, so it needs no lock.
type tailWriter struct{ b []byte }

func (t *tailWriter) Write(p []byte) (int, error) {
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append(t.b[:0], t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

// lastLine returns the last non-empty line written, trimmed to 200 bytes.
func (t *tailWriter) lastLine() string {
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return clip(strings.TrimSpace(lines[len(lines)-1]), 200)
}
