package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/rangedl/rangedl/loop"
	"golang.org/x/sys/unix"
)

// batch downloads the URLs given on the command line, then the entries of -i, one after the
// other: each with its own output name (under -d, or out= and dir= in the list), mirrors tried
// in order, a checksum= checked. A failure is reported and the run goes on; --failed collects
// the failed entries in list form. The exit code is that of the first failure (0 if none).
//
// Files are fetched one at a time, each by a loop of its own: running many files in one loop,
// with keep-alive connections shared between them (-j, --max-per-host), is issue 7's next step.
func batch(opt options, urls []string, stderr io.Writer, say func(string, ...any)) int {
	opt.noProgress = true // one line per file instead of a bar per file
	var failed io.Writer
	if opt.failed != "" {
		f, err := os.Create(opt.failed)
		if err != nil {
			fmt.Fprintf(stderr, "rangedl: --failed: %v\n", err)
			return exitIO
		}
		defer f.Close()
		failed = f
	}
	var list *listReader
	if opt.input != "" {
		in := os.Stdin
		if opt.input != "-" {
			f, err := os.Open(opt.input)
			if err != nil {
				fmt.Fprintf(stderr, "rangedl: -i: %v\n", err)
				return exitUsage
			}
			defer f.Close()
			in = f
		}
		list = newListReader(in)
	}
	start := time.Now()
	var saved, failures int
	var bytes int64
	code := exitOK
	for i := 0; ; i++ {
		var e entry
		switch {
		case i < len(urls):
			e = entry{urls: []string{urls[i]}}
		case list == nil:
		default:
			var err error
			e, err = list.next()
			if err == io.EOF {
				list = nil
				break
			}
			if err != nil {
				fmt.Fprintf(stderr, "rangedl: %s: %v\n", opt.input, err)
				failures++
				if code == exitOK {
					code = exitUsage
				}
				if len(e.urls) == 0 {
					continue
				}
				if failed != nil {
					writeEntry(failed, e, err.Error())
				}
				continue
			}
		}
		if len(e.urls) == 0 {
			break
		}
		c, res, why := fetchEntry(opt, e, stderr, say)
		if c == exitOK {
			saved++
			bytes += res.Size - res.Resumed
			continue
		}
		failures++
		if code == exitOK {
			code = c
		}
		if failed != nil {
			if err := writeEntry(failed, e, why); err != nil {
				fmt.Fprintf(stderr, "rangedl: --failed: %v\n", err)
			}
		}
		if c == exitInterrupted {
			code = exitInterrupted
			break
		}
	}
	if saved+failures == 0 {
		fmt.Fprintf(stderr, "rangedl: %s: %v\n", opt.input, errNoEntries)
		return exitUsage
	}
	say("%d file%s: %d saved, %d failed; %s in %s", saved+failures, plural(saved+failures), saved, failures,
		formatSize(bytes), time.Since(start).Round(time.Millisecond))
	return code
}

// fetchEntry downloads one entry, trying its mirrors in order until one works, and checks its
// checksum.
func fetchEntry(opt options, e entry, stderr io.Writer, say func(string, ...any)) (int, loop.Result, string) {
	var code int
	var res loop.Result
	var why string
	for i, raw := range e.urls {
		o := opt
		o.output = outputPath(filepath.Join(opt.dir, e.dir), e.out, raw)
		if d := filepath.Dir(o.output); d != "." {
			if err := os.MkdirAll(d, 0o777); err != nil {
				why = fmt.Sprintf("cannot make %s: %v", d, err)
				fmt.Fprintf(stderr, "rangedl: %s\n", why)
				return exitIO, res, why
			}
		}
		code, res, why = one(o, raw, stderr, say)
		if code == exitOK {
			if e.checksum == "" {
				return code, res, ""
			}
			if got := fileSHA256(o.output); "sha-256="+got != e.checksum {
				os.Remove(o.output)
				why = fmt.Sprintf("%s: checksum mismatch: got sha-256=%s, want %s; the file was removed", o.output, got, e.checksum)
				fmt.Fprintf(stderr, "rangedl: %s\n", why)
				return exitIntegrity, res, why
			}
			return code, res, ""
		}
		if code == exitInterrupted || code == exitUsage {
			return code, res, why
		}
		if i+1 < len(e.urls) {
			say("trying the next mirror, %s", e.urls[i+1])
		}
	}
	return code, res, why
}

// outputPath is where a download of rawURL goes: dir joined with name, or with the name
// derived from the URL when name is "".
func outputPath(dir, name, rawURL string) string {
	if name == "" {
		if u, err := url.Parse(rawURL); err == nil {
			name = outputName(u)
		}
	}
	if dir == "" {
		return name
	}
	return filepath.Join(dir, name)
}

func fileSHA256(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "(unreadable: " + err.Error() + ")"
	}
	return hex.EncodeToString(h.Sum(nil))
}

// raiseFileLimit lifts the soft limit on open files to the hard limit: every connection is a
// descriptor, and the default soft limit (often 1024) is a guess made for other programs. It
// fails when even that leaves no room for conns connections (and a few files of our own).
func raiseFileLimit(conns int) error {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
		return nil
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if unix.Setrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
			unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
		}
	}
	// Rlimit's fields are uint64 on Linux and int64 on FreeBSD: compare in float64, exact here.
	if need := conns + 16; float64(lim.Cur) < float64(need) {
		return fmt.Errorf("-n %d needs %d open files, and the limit is %d (ulimit -n)", conns, need, lim.Cur)
	}
	return nil
}
