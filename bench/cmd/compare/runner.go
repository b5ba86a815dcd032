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
	"time"

	"github.com/rangedl/rangedl/bench/internal/measure"
	"github.com/rangedl/rangedl/bench/internal/shell"
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
	return "cd " + shell.Quote(j.dir) + " && " + shell.Join(args)
}

// runOne downloads with j.tool through spawn (see package
// bench/internal/measure for why), measures it and checks the output. It
// never returns a measurement for a run that did not produce the right
// bytes: a non-zero exit, a timeout, a missing or short file and a wrong
// hash are all failures.
func runOne(ctx context.Context, spawn string, j job) sample {
	if err := os.MkdirAll(j.dir, 0o755); err != nil {
		return sample{fail: err.Error()}
	}
	// Whatever the tool leaves (the output, aria2c's control file, axel's
	// state file, wget2's HSTS database) goes with the directory.
	defer os.RemoveAll(j.dir)

	ctx, cancel := context.WithTimeout(ctx, j.timeout)
	defer cancel()
	args := j.tool.command(j.tool.path, j.conns, j.dir, outName, j.url, j.ca)
	var out measure.TailWriter
	p, err := measure.Start(ctx, spawn, measure.Spec{Argv: args, Dir: j.dir, Home: j.dir, Stdout: &out, Stderr: &out})
	if err != nil {
		return sample{fail: err.Error()}
	}
	u, err := p.Wait()

	var r sample
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		r.fail = fmt.Sprintf("timeout after %v", j.timeout)
		r.wall = j.timeout
		return r
	case ctx.Err() != nil:
		r.fail = "interrupted"
		return r
	case err != nil:
		r.fail = err.Error()
		return r
	}
	r.wall, r.cpu, r.maxRSS = u.Wall, u.CPU, u.MaxRSS
	if u.Status == 0 {
		if err := verify(filepath.Join(j.dir, outName), j.size, j.sum); err != nil {
			r.fail = err.Error()
		}
		return r
	}
	r.fail = measure.StatusString(u.Status)
	if last := clip(out.LastLine(), 200); last != "" {
		r.fail += ": " + last
	}
	return r
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
