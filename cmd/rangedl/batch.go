package main

import (
	"bufio"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rangedl/rangedl/loop"
	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// maxJobs bounds -j: files in flight, each with its own output and reorder buffer.
const maxJobs = 1024

// maxAside bounds the files of a list that wait, seatless, beyond -j (see crew).
const maxAside = 256

// batch downloads the URLs given on the command line, then the entries of -i: -j of them at
// once, all in one reactor (one event loop), so a keep-alive connection that one file is done
// with fetches the next file from the same server. Each entry gets its own output name (under
// -d, or out= and dir= in the list), its mirrors tried in order, its checksum= checked. A
// failure is reported and the run goes on; --failed collects the failed entries in list form.
// The exit code is that of the first failure in list order (0 if none), or 130 if interrupted.
//
// The list is read only as fast as downloads start (each worker takes the next entry when its
// file is done), or at most maxWaiting entries ahead of them (see waitQueue), so memory does
// not depend on the list's length. The workers wait on their downloads, resolve names and
// check checksums; only the reactor touches sockets.
func batch(opt options, urls []string, stderr io.Writer) int {
	runtime.GOMAXPROCS(listProcs(runtime.NumCPU(), os.Getenv("GOMAXPROCS")))
	out := opt.lines // run made it; say(), the failures and the bar share it
	say := sayer(out, opt.quiet)
	var failed *failedList
	if opt.failed != "" {
		var err error
		if failed, err = openFailed(opt.failed, listMode(opt.input, urls)); err != nil {
			printf(stderr, "--failed: %v", err)
			return exitIO
		}
		defer failed.abandon()
		if d := dirNamed(opt.dir, failed.final); d != "" {
			// Every entry would fail, each with advice about its own out= and dir=.
			printf(stderr, "-d %s: %s is where --failed puts its list; give --failed another name", opt.dir, d)
			return exitUsage
		}
	}
	var list *listReader
	var listFile fs.FileInfo // the list, when it is a regular file
	finite := true           // the list can be read to its end at once: not a pipe or a terminal
	if opt.input != "" {
		in := os.Stdin
		if opt.input != "-" {
			// The open of a FIFO waits for a writer: a signal then ends rangedl, with nothing
			// begun (the signals were held, and it outlived every one).
			opened := onSignals(func() {
				failed.discard()
				exitSaying(stderr, fmt.Sprintf("interrupted while opening the list (-i %s)", opt.input))
			}, nil, 0, stderr)
			f, err := os.Open(opt.input)
			opened()
			if err != nil {
				printf(stderr, "-i: %v", err)
				return exitUsage
			}
			defer f.Close()
			in = f
		}
		st, err := in.Stat()
		if finite = err == nil && st.Mode().IsRegular(); finite {
			listFile = st
		}
		list = newListReader(in)
	}
	r, err := loop.NewReactor(opt.maxPerHost, opt.jobs)
	if err != nil {
		printf(stderr, "%v", err)
		return exitIO
	}
	ran := make(chan struct{})
	go func() {
		defer func() {
			if p := recover(); p != nil { // nothing can go on without the loop
				failed.discard()
				os.Exit(internalError(stderr, p))
			}
		}()
		r.Run()
		close(ran)
	}()
	s := newShared(r)
	if failed != nil {
		s.failedName = failed.final
	}
	s.list = listFile
	opt.shared = s
	stop := s.stop
	defer onSignals(func() {
		close(stop)
		r.Stop()
	}, failed.discard, 0, out)() // its last words clear the bar's line
	start := time.Now()
	bar := startBatchProgress(stderr, out, s.progress, !opt.quiet && !opt.noProgress)

	work := make(chan outcome)
	results := make(chan outcome, opt.jobs)
	workers := &crew{seats: opt.jobs, aside: opt.aside, r: r}
	workers.work = func() {
		for o := range work {
			o.code, o.res, o.why, o.path = guarded(out, func() (int, loop.Result, string, string) {
				return fetchEntry(opt, o.e, out, say)
			})
			s.release(o.names)
			results <- o
			if workers.retire() {
				return
			}
		}
	}
	workers.grow()
	var saved, failures int
	var bytes int64
	code, first := exitOK, -1
	fss := newFilesystems(opt.dir)
	defer fss.close()
	collected := make(chan struct{})
	go func() {
		defer close(collected)
		for o := range results {
			s.progress.files.Add(1)
			if o.code == exitOK {
				saved++
				bytes += o.res.Size - o.res.Resumed
				fss.saved(o)
				continue
			}
			failures++
			s.progress.failed.Add(1)
			if first < 0 || o.i < first {
				code, first = o.code, o.i
			}
			if failed != nil {
				failed.add(o.e, o.why)
			}
		}
	}()
	// After an interrupt --failed gets the entries not started too, the rest of the list
	// included, so that it can replace the list it was read from. A list that could make
	// that wait (a pipe) is not read on.
	drain := failed != nil && finite
	items := readList(urls, list, stop, drain)
	entries := items
	var unstarted []outcome
	unreadable := false // the list could not be read to its end (the error is printed)
	var waiting waitQueue
	n := 0        // entries read
	look := false // names were freed since the waiting entries were last looked at
feed:
	for {
		var o outcome
		ok := false
		if look {
			o, ok = waiting.next(s)
			look = ok // another may be free too
		}
		if !ok {
			in := entries
			if waiting.full() {
				in = nil // until a name is freed
			}
			if in == nil && waiting.empty() {
				break
			}
			select {
			case <-stop:
				break feed
			case <-r.Waited():
				workers.grow()
				continue
			case <-s.freed:
				look = true
				continue
			case item, open := <-in:
				if !open {
					entries = nil
					continue
				}
				if item.err != nil {
					printf(out, "%s: %v", opt.input, item.err)
					if _, bad := item.err.(*badEntry); !bad {
						unreadable = true // not an entry: the list ends here
						entries = nil
						continue
					}
					results <- outcome{i: n, e: item.e, code: exitUsage, why: item.err.Error()}
					n++
					continue
				}
				o = outcome{i: n, e: item.e, names: outputNames(opt, item.e)}
				n++
				if !waiting.claimOrAdd(s, o) {
					continue
				}
			}
		}
		for sent := false; !sent; {
			select {
			case <-stop:
				s.release(o.names)
				n-- // not started
				unstarted = append(unstarted, o)
				break feed
			case <-r.Waited():
				workers.grow() // one of them may take o
			case work <- o:
				sent = true
			}
		}
	}
	n -= waiting.len() // not started: interrupted
	unstarted = append(unstarted, waiting.entries...)
	s.progress.total.Store(int64(n))
	close(work)
	workers.wg.Wait()
	close(results)
	<-collected
	if drain && interrupted(stop) {
		addUnstarted(failed, unstarted, items, out, opt.input)
	}
	r.Close()
	<-ran
	// The small files were written without syncs of their own (loop.Job.Small), and the new
	// directories made without (shared.mkdir): one sync per filesystem makes them durable
	// before the summary says they are saved.
	//
	// Where a sync fails, the small files saved there are removed and count as failed: not
	// known to be on disk, their "saved" lines printed already notwithstanding.
	for _, u := range fss.sync() {
		code = exitIO
		line := fmt.Sprintf("cannot sync the files saved under %s: %v", u.dir, u.err)
		switch n := len(u.files); {
		case n > 0 && u.kept != nil:
			line += fmt.Sprintf("; its %d small file%s count as failed, and may be damaged: they could not be removed (%v)", n, plural(n), u.kept)
		case n > 0:
			line += fmt.Sprintf("; its %d small file%s were removed, and count as failed", n, plural(n))
		}
		if u.unnamed > 0 {
			line += fmt.Sprintf("; %d more, too many to name, count as failed too, and may be damaged: rerun the list with --overwrite", u.unnamed)
			saved, failures = saved-u.unnamed, failures+u.unnamed
			s.progress.failed.Add(int64(u.unnamed))
		}
		printf(out, "%s", line)
		for _, f := range u.files {
			saved, failures = saved-1, failures+1
			bytes -= f.size
			s.progress.failed.Add(1)
			if failed != nil {
				failed.add(f.e, f.why)
			}
		}
	}
	if failed != nil {
		if err := failed.finish(); err != nil {
			printf(out, "--failed: %v", err)
			code = exitIO
		}
	}
	bar.stop(bytes, time.Since(start))
	out.setBar(false)
	if unreadable && first < 0 {
		code = exitUsage // after every entry read, which all went well
	}
	if interrupted(stop) {
		code = exitInterrupted
	}
	if saved+failures == 0 {
		if code == exitInterrupted || unreadable {
			return code
		}
		printf(stderr, "%s: %v", opt.input, errNoEntries)
		return exitUsage
	}
	say("%d file%s: %d saved, %d failed; %s in %s", saved+failures, plural(saved+failures), saved, failures,
		formatSize(bytes), time.Since(start).Round(time.Millisecond))
	return code
}

func interrupted(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// addUnstarted writes to --failed, after an interrupt, the entries read but not started, in
// list order, then the rest of the list as it comes from items.
func addUnstarted(failed *failedList, unstarted []outcome, items <-chan listItem, out io.Writer, input string) {
	const why = "not started (interrupted)"
	slices.SortFunc(unstarted, func(a, b outcome) int { return a.i - b.i })
	for _, o := range unstarted {
		failed.add(o.e, why)
	}
	for item := range items {
		switch _, bad := item.err.(*badEntry); {
		case item.err == nil:
			failed.add(item.e, why)
		case bad:
			failed.add(item.e, item.err.Error())
		case !bad:
			printf(out, "%s: %v", input, item.err)
		}
	}
}

// A failedList is --failed: the failed entries of a list, in list form. A regular file (or a
// name not there yet) is written beside its name, and renamed over it only once complete and
// synced: the list being read may be that very file (the failures rerun in place), and must
// be neither emptied before it has been read nor replaced by a list cut short (a full disk).
// A symbolic link stays, and what it names is replaced (or made, when it is not there yet);
// a list replaced keeps its permissions (it may hold passwords). Anything else (a terminal,
// /dev/stderr, a pipe) is written to directly.
type failedList struct {
	f      *os.File
	w      io.Writer // f, through a buffer when f is renamed at the end (nobody reads it before)
	final  string    // the name f is renamed to at the end; "" when written directly
	old    bool      // a file was there by the final name (it is left as it was if f cannot replace it)
	err    error     // the first write that failed: nothing more is written, nothing renamed
	shared bool      // f is the process's stdout or stderr: not closed
	done   bool
}

// listMode is the mode a --failed list that is not there yet is made with (less the umask):
// that of the list its entries come from (-i FILE, or standard input when it is a file), which
// may hold passwords. A list from a pipe has no mode to copy, and a URL on the command line
// may have a password: either makes it 0600.
func listMode(input string, urls []string) os.FileMode {
	mode := os.FileMode(0o666)
	if input != "" {
		stat := func() (fs.FileInfo, error) { return os.Stat(input) }
		if input == "-" {
			stat = os.Stdin.Stat
		}
		st, err := stat()
		mode = 0o600
		if err == nil && st.Mode().IsRegular() {
			mode = st.Mode().Perm()
		}
	}
	if slices.ContainsFunc(urls, func(u string) bool { return redactRaw(u) != u }) {
		mode &= 0o600
	}
	return mode
}

// openFailed opens the --failed list name, which a new file is made with perm (less the umask).
func openFailed(name string, perm os.FileMode) (*failedList, error) {
	// /dev/stderr leads through /proc/self/fd/2 to whatever stderr is, a log file perhaps,
	// which must be neither replaced nor written at an offset of our own: the descriptor
	// itself is written to. Anything else under /dev or /proc is opened and written to.
	switch name {
	case "/dev/stdout", "-": // "-" as in -i -
		return &failedList{f: os.Stdout, w: os.Stdout, shared: true}, nil
	case "/dev/stderr":
		return &failedList{f: os.Stderr, w: os.Stderr, shared: true}, nil
	}
	special := func(name string) bool { return strings.HasPrefix(name, "/dev/") || strings.HasPrefix(name, "/proc/") }
	direct := special(name)
	if target := linkTarget(name); !direct && special(target) {
		direct = true // a link to /dev/stderr, say: written through, as it is
	} else if !direct {
		name = target
	}
	st, err := os.Stat(name)
	if err == nil && (direct || !st.Mode().IsRegular()) {
		// Without a reader a FIFO's open would wait; O_NONBLOCK makes it fail (ENXIO).
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_APPEND|syscall.O_NONBLOCK, 0)
		if err != nil {
			return nil, err
		}
		return &failedList{f: f, w: f}, nil
	}
	old := err == nil
	if old {
		perm = st.Mode().Perm()
	}
	f, err := os.OpenFile(fmt.Sprintf("%s.%d.tmp", name, os.Getpid()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err == nil && old {
		err = f.Chmod(keepOwner(f, st, perm)) // exactly the old list's, whatever the umask
	}
	if err != nil {
		if f != nil {
			f.Close()
			os.Remove(f.Name())
		} else if errors.Is(err, fs.ErrPermission) {
			// The file itself may be writable: say why its directory must be too.
			err = fmt.Errorf("%w (the list is written beside %s, then renamed over it)", err, name)
		}
		return nil, err
	}
	return &failedList{f: f, w: bufio.NewWriter(f), final: name, old: old}, nil
}

// keepOwner gives f, the list that replaces old, old's owner and group, and returns the mode
// f may have. A group it cannot be given (rangedl not root, nor in that group, and f not in
// it already: chown(2) lets the owner keep a file's group) gets none of old's group bits: the
// list may hold passwords, and they were not meant for f's group. (An owner that cannot be
// kept stays rangedl's user, who could read the list anyway.)
func keepOwner(f *os.File, old os.FileInfo, perm os.FileMode) os.FileMode {
	st, ok := old.Sys().(*syscall.Stat_t)
	if ok && f.Chown(int(st.Uid), int(st.Gid)) != nil && f.Chown(-1, int(st.Gid)) != nil {
		perm &^= 0o070
	}
	return perm
}

// linkTarget returns the file that name leads to through symbolic links, also when that file
// is not there yet: then the last link of the chain names it, in a directory that is there.
// Otherwise (no link, or a link that leads nowhere to write) it returns name.
func linkTarget(name string) string {
	if target, err := filepath.EvalSymlinks(name); err == nil {
		return target
	}
	for range 40 { // the links Linux follows in one path
		to, err := os.Readlink(name)
		if err != nil {
			return name // the last link's file, not there yet
		}
		if !filepath.IsAbs(to) {
			// The link's own directory, links in it followed, and then its text: a ".."
			// in it climbs from where the link really is.
			dir, err := filepath.EvalSymlinks(filepath.Dir(name))
			if err != nil {
				return name
			}
			to = dir + string(filepath.Separator) + to
		}
		i := strings.LastIndexByte(to, filepath.Separator)
		dir, err := filepath.EvalSymlinks(to[:max(i, 1)])
		if err != nil {
			return name // nowhere to write: the open says why
		}
		name = filepath.Join(dir, to[i+1:])
	}
	return name
}

func (l *failedList) add(e entry, why string) {
	if l.err == nil {
		l.err = writeEntry(l.w, e, why)
	}
}

// finish puts the list in its place, or says why it did not.
func (l *failedList) finish() error {
	l.done = true
	err := l.err
	if l.shared {
		return err
	}
	if b, ok := l.w.(*bufio.Writer); ok && err == nil {
		err = b.Flush()
	}
	if err == nil && l.final != "" {
		err = l.f.Sync()
	}
	if cerr := l.f.Close(); err == nil {
		err = cerr
	}
	if l.final == "" {
		return err
	}
	if err == nil {
		err = os.Rename(l.f.Name(), l.final)
	}
	if err != nil {
		os.Remove(l.f.Name())
		if !l.old {
			return fmt.Errorf("%v; %s was not written", err, l.final)
		}
		return fmt.Errorf("%v; %s was left as it was", err, l.final)
	}
	return nil
}

// discard removes the list being written beside its final name, which is left as it was, for
// a program about to exit at once. It may run beside the other methods, at any time, and
// does nothing to a nil list.
func (l *failedList) discard() {
	if l != nil && l.final != "" {
		os.Remove(l.f.Name()) // after finish's rename, there is nothing of that name
	}
}

// abandon removes what was written if finish was not reached.
func (l *failedList) abandon() {
	if !l.done && !l.shared {
		l.f.Close()
		if l.final != "" {
			os.Remove(l.f.Name())
		}
	}
}

// listProcs returns how many goroutines of a list may run Go code at once (GOMAXPROCS) on a
// machine of cpus CPUs: one on a machine of two or fewer, unless the GOMAXPROCS environment
// variable says otherwise; else the runtime's default (0 leaves it as it is).
//
// The loop and the workers hand every file to each other. With one P that is a switch on the
// same thread; with two, the other thread is woken for it and spins looking for work, and
// that CPU is not free on a small machine: the kernel's side of every file (the socket, the
// inode, the page cache) and, in a benchmark, the server need it. 5000 files of 16 KiB from
// nginx on two CPUs, 10 alternating runs on tmpfs: CPU 252 ms against 323 (lower in 10 of
// 10); on ext4, 4 rounds, 0.35-0.41 s against 0.41-0.86 s. The price is on lists of big
// files written to disk, where a worker blocked in a file's sync can hold the one P until the
// runtime takes it back: 200 files of 2 MiB on ext4, 0.78-0.82 s against 0.73-0.78 s (on
// tmpfs, 0.29-0.34 against 0.37-0.39). A single download keeps the default.
func listProcs(cpus int, env string) int {
	if cpus <= 2 && env == "" {
		return 1
	}
	return 0
}

// A crew is the workers of a list, each running one entry at a time: one per seat of the
// reactor (-j), and one more for each file that waits, seatless, out a backoff or for a
// connection to a server that asked for fewer (see loop.Reactor.Waiting), up to aside of them:
// the list goes on past a server that sheds load.
// A worker between entries leaves when there are more than that.
type crew struct {
	seats, aside int
	r            *loop.Reactor
	work         func() // a worker's life: takes entries until there are none, or retire says
	n            atomic.Int64
	wg           sync.WaitGroup
}

// want is how many workers there is room for now.
func (c *crew) want() int64 {
	return int64(c.seats + min(c.r.Waiting(), c.aside))
}

// grow starts workers until there are as many as want says. One goroutine calls it.
func (c *crew) grow() {
	for c.n.Load() < c.want() {
		c.n.Add(1)
		c.wg.Go(c.work)
	}
}

// retire reports whether a worker between entries is one too many, and counts it out if so.
func (c *crew) retire() bool {
	for {
		n := c.n.Load()
		if n <= c.want() {
			return false
		}
		if c.n.CompareAndSwap(n, n-1) {
			return true
		}
	}
}

// outcome is an entry of a list on its way through the workers.
type outcome struct {
	i     int // the entry's place in the list: the exit code is the first failure's
	e     entry
	names []string // the output names it holds (see shared.claim)
	code  int
	res   loop.Result
	why   string
	path  string // where it was saved
}

// listItem is an entry of a list, or the error that made it unreadable.
type listItem struct {
	e   entry
	err error
}

// readList hands over the URLs given on the command line, one entry each, then the entries
// of list (nil: none), one at a time until stop, or with drain to the end. It reads on a
// goroutine of its own, so that a signal is acted on while the list waits for input (a pipe).
// An error reading the list (not a malformed entry) is handed over, and ends it.
func readList(urls []string, list *listReader, stop <-chan struct{}, drain bool) <-chan listItem {
	items := make(chan listItem)
	if drain {
		stop = nil // the caller reads on after an interrupt
	}
	go func() {
		defer close(items)
		for _, u := range urls {
			select {
			case items <- listItem{e: entry{urls: []string{u}}}:
			case <-stop:
				return
			}
		}
		for list != nil {
			e, err := list.next()
			if err == io.EOF {
				return
			}
			select {
			case items <- listItem{e, err}:
			case <-stop:
				return
			}
			if _, bad := err.(*badEntry); err != nil && !bad {
				return
			}
		}
	}()
	return items
}

// fetchEntry downloads one entry, trying its mirrors in order until one works (a file that does
// not match the entry's checksum does not). It returns the exit code, the result, the error
// line, and where the file went.
func fetchEntry(opt options, e entry, stderr io.Writer, say func(string, ...any)) (int, loop.Result, string, string) {
	var code int
	var res loop.Result
	var why string
	var failedAt []string // the outputs where a mirror failed and left a partial file
	var mirrors []string  // as a record names its download (loop.Job.Origin)
	// How to go on after a failure ("run the same command with -c") is said once the entry has
	// failed, not before "trying the next mirror", which may start that file over: for each
	// file the mirrors left, the latest advice about it, if the file still has its record.
	var advice string
	var left []advised
	defer func() {
		for _, a := range left {
			if recorded(a.path) {
				printf(stderr, "%s", a.line)
			}
		}
	}()
	if len(e.urls) > 1 {
		for _, raw := range e.urls {
			if u, err := parseURL(raw); err == nil {
				mirrors = append(mirrors, u.Redacted())
			}
		}
	}
	urls := e.urls
	if opt.resume && len(mirrors) > 1 {
		urls = resumeFirst(opt, e, say)
	}
	var taken []string // outputs that something else holds: no mirror saving there can go on
	for i, raw := range urls {
		o := opt
		o.output, o.checksum, o.siblings = entryPath(opt, e, raw), e.checksum, mirrors
		if slices.Contains(taken, o.output) {
			continue
		}
		if i > 0 {
			say("trying the next mirror, %s", shownURL(raw))
		}
		if _, err := parseURL(raw); err != nil && e.line > 0 {
			// Found by its line, as a bad option line is.
			err = fmt.Errorf("line %d: %v", e.line, err)
			printf(stderr, "%s: %v", opt.input, err)
			code, why = exitUsage, err.Error()
			continue
		}
		advice, o.advice = "", &advice
		if slices.Contains(failedAt, o.output) {
			// The partial file there is an earlier mirror's, and its record names that
			// mirror's URL and validators, which this one cannot match: this mirror starts
			// the file over.
			o.overwrite, o.resume = true, false
		}
		if d := opt.shared.failedAbove(o.output); d != "" {
			// Made a directory, the path would leave the list nowhere to go at the end.
			err := outputTaken{fmt.Errorf("%s is in %s, where --failed puts its list; give the entry another out= or dir=", o.output, d)}
			failure(stderr, o, raw, err)
			code, why = exitUsage, err.Error()
			taken = append(taken, o.output)
			continue
		}
		if err := opt.shared.makeDirOf(o.output); err != nil {
			failure(stderr, o, raw, err)
			return exitIO, res, err.Error(), ""
		}
		var err error
		code, res, err = one(o, raw, stderr, say)
		if advice != "" {
			left = slices.DeleteFunc(left, func(a advised) bool { return a.path == o.output })
			left = append(left, advised{o.output, advice})
		}
		if code == exitOK {
			removeLeft(left, o.output, mirrors, stderr, say)
			left = nil
			return code, res, "", o.output
		}
		why = err.Error()
		switch {
		case code == exitInterrupted, errors.As(err, new(*reorder.RecordLeftError)):
			return code, res, why, "" // a complete file no mirror could do better on
		case errors.As(err, new(outputTaken)):
			taken = append(taken, o.output)
		case res.Resumable:
			// The mirror left a partial file with its record: one it made (without -c
			// its create was O_EXCL), one --overwrite lets any mirror replace, or one
			// that -c found recorded for it. Any other file it failed on (one that was
			// there, a record of another URL) is not the next mirror's to replace.
			failedAt = append(failedAt, o.output)
		}
	}
	return code, res, why, ""
}

// resumeFirst returns the mirrors of e in the order -c tries them: the first whose file has a
// record of its own download goes first, to continue that file. In list order, a mirror before
// it would start the file over, since the record holds another server's validators.
func resumeFirst(opt options, e entry, say func(string, ...any)) []string {
	for i, raw := range e.urls {
		u, err := parseURL(raw)
		if err != nil {
			continue
		}
		path := entryPath(opt, e, raw)
		if ctl, err := reorder.ReadControl(path + loop.ControlSuffix); err != nil || ctl.URL != u.Redacted() {
			continue
		}
		if i > 0 {
			say("%s: continuing %s from the mirror its record names, %s", redactRaw(e.urls[0]), path, redactRaw(raw))
			return slices.Concat(e.urls[i:i+1], e.urls[:i], e.urls[i+1:])
		}
		break
	}
	return e.urls
}

// advised is what to do about a file a mirror left: one of stderr's lines.
type advised struct{ path, line string }

// removeLeft removes the partial files, with their records, that earlier mirrors of an entry
// left under names other than saved, the file the entry's last mirror saved: each holds the
// start of that same file, and none is to be continued. A file is removed under its lock, and
// only while its record still names one of the entry's mirrors: another rangedl may have taken
// it up since. The data goes first: a record alone describes nothing.
func removeLeft(left []advised, saved string, mirrors []string, stderr io.Writer, say func(string, ...any)) {
	for _, a := range left {
		if a.path == saved || !recorded(a.path) {
			continue
		}
		if err := removePartial(a.path, mirrors); err != nil {
			printf(stderr, "%s, left incomplete by an earlier mirror, is not needed (%s is saved), but %v", a.path, saved, err)
			continue
		}
		say("removed %s, left incomplete by an earlier mirror (%s is saved)", a.path, saved)
	}
}

// removePartial removes the partial file at path and its record, which must name one of
// mirrors, while it holds the file's lock.
func removePartial(path string, mirrors []string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot be opened: %v", err)
	}
	defer f.Close()
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		return fmt.Errorf("cannot be locked (%v): another rangedl may be writing it", err)
	}
	ctl, err := reorder.ReadControl(path + loop.ControlSuffix)
	if err != nil || !slices.Contains(mirrors, ctl.URL) {
		return errors.New("its record no longer names a mirror of the entry")
	}
	if st, err := f.Stat(); err != nil || !sameFile(st, path) {
		return errors.New("it was replaced while rangedl looked at it")
	}
	if err := reorder.RemoveFile(path, path+loop.ControlSuffix); err != nil {
		if _, serr := os.Lstat(path); serr != nil {
			return fmt.Errorf("its record cannot be removed: %v", err)
		}
		return fmt.Errorf("cannot be removed: %v", err)
	}
	return nil
}

// sameFile reports whether path names the file st describes.
func sameFile(st fs.FileInfo, path string) bool {
	now, err := os.Stat(path)
	return err == nil && os.SameFile(st, now)
}

// guarded runs fetch, and turns a panic in it (a bug) into a failure of that entry alone, exit
// 1, so that the list goes on. A panic on the loop's goroutine still ends the run.
func guarded(stderr io.Writer, fetch func() (int, loop.Result, string, string)) (code int, res loop.Result, why, path string) {
	defer func() {
		if p := recover(); p != nil {
			code, why = internalError(stderr, p), fmt.Sprintf("internal error (a bug): %v", p)
		}
	}()
	return fetch()
}

// entryPath is where entry e saves the file of its mirror raw.
func entryPath(opt options, e entry, raw string) string {
	return outputPath(filepath.Join(opt.dir, e.dir), e.out, raw)
}

// outputPath is where a download of rawURL goes: dir joined with name, or with the name
// derived from the URL when name is "".
func outputPath(dir, name, rawURL string) string {
	if name == "" {
		if u, err := url.Parse(escapeRaw(rawURL)); err == nil {
			name = outputName(u)
		}
	}
	if dir == "" || filepath.IsAbs(name) {
		return name // an absolute -o is where the user wants the file
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
// returns the limit, or fails when even that leaves no room for conns connections (and a few
// files of our own); what names the flags that asked for them.
func raiseFileLimit(conns int, what string) (int, error) {
	var lim unix.Rlimit
	if unix.Getrlimit(unix.RLIMIT_NOFILE, &lim) != nil {
		return math.MaxInt32, nil // no limit that we know of
	}
	if lim.Cur < lim.Max {
		// Read back whether it worked or not: macOS takes an unlimited maximum, and sets the
		// limit to kern.maxfilesperproc instead (older versions refuse it, EINVAL).
		lim.Cur = lim.Max
		unix.Setrlimit(unix.RLIMIT_NOFILE, &lim)
		unix.Getrlimit(unix.RLIMIT_NOFILE, &lim)
	}
	// Rlimit's fields are uint64 on Linux and int64 on FreeBSD: compare in float64, exact here.
	limit := int(min(float64(lim.Cur), math.MaxInt32))
	if need := conns + 16; limit < need {
		return limit, fmt.Errorf("%s needs %d open files, and the limit is %d (ulimit -n)", what, need, limit)
	}
	return limit, nil
}

// shared is what the downloads of a list have in common: the reactor they run in, the
// progress, and caches. One TLS configuration per server name makes a parked connection fit
// the next download from that server (the reactor matches them by name), and lets TLS
// sessions resume; DNS answers are kept for a minute, so a list of one server asks about once
// a minute (the first files, started together, may each ask before the first answer is in).
type shared struct {
	reactor  *loop.Reactor
	progress *batchProgress

	mu    sync.Mutex
	addrs map[string]dnsAnswer
	tls   map[string]*tls.Config
	dirs  map[string]bool // directories made (or found) already
	busy  map[string]bool // output names held by entries in flight
	freed chan struct{}   // a value when some were released since the list's reader last looked

	failedName string      // where --failed puts its list at the end, "" if nowhere: no entry's output
	list       fs.FileInfo // the list being read, when it is a regular file: no entry's output either
	// realDirs are directories as named, and with their links resolved (see realName): the
	// list reader's own.
	realDirs map[string]string

	insecureWarned atomic.Bool   // -k's warning was printed: once for the list, not per entry
	stop           chan struct{} // closed at the first SIGINT or SIGTERM
}

type dnsAnswer struct {
	ips []netip.Addr
	at  time.Time
}

// Cache bounds: a list of many servers must not grow the caches without end.
const (
	maxCached = 4096
	dnsKeep   = time.Minute
)

func newShared(r *loop.Reactor) *shared {
	s := &shared{reactor: r, progress: newBatchProgress(), addrs: map[string]dnsAnswer{},
		tls: map[string]*tls.Config{}, dirs: map[string]bool{}, busy: map[string]bool{}, freed: make(chan struct{}, 1),
		realDirs: map[string]string{}, stop: make(chan struct{})}
	return s
}

// lookup is the package's lookup, through the cache. Failures are not kept: the next entry
// asks again.
func (s *shared) lookup(host string, timeout time.Duration) ([]netip.Addr, error) {
	if s == nil {
		return lookup(host, timeout)
	}
	s.mu.Lock()
	a, ok := s.addrs[host]
	s.mu.Unlock()
	if ok && time.Since(a.at) < dnsKeep {
		return a.ips, nil
	}
	ips, err := lookup(host, timeout)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	remember(s.addrs, host, dnsAnswer{ips, time.Now()})
	s.mu.Unlock()
	return ips, nil
}

// tlsConfig is newTLSConfig, one per server name for a list.
func (s *shared) tlsConfig(host string, opt options) (*tls.Config, error) {
	if s == nil {
		return newTLSConfig(host, opt)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.tls[host]; c != nil {
		return c, nil
	}
	c, err := newTLSConfig(host, opt)
	if err != nil {
		return nil, err
	}
	remember(s.tls, host, c)
	return c, nil
}

// mkdir makes dir and its parents: for one file, each synced in its parent before the file is
// saved in it; for a list, once, and made durable with the files by the list's final sync (see
// batch), as its small files are.
func (s *shared) mkdir(dir string) error {
	if s == nil {
		return reorder.MakeDirs(dir)
	}
	s.mu.Lock()
	done := s.dirs[dir]
	s.mu.Unlock()
	if done {
		return nil
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	s.mu.Lock()
	remember(s.dirs, dir, true)
	s.mu.Unlock()
	return nil
}

// failedAbove returns the directory above output that is the --failed file, or "".
func (s *shared) failedAbove(output string) string {
	return dirNamed(filepath.Dir(output), s.failedName)
}

// dirNamed returns dir, or the directory above it, that is named name, or "" if none is (or
// name is "").
func dirNamed(dir, name string) string {
	if name == "" {
		return ""
	}
	for d := filepath.Clean(dir); d != "." && d != filepath.Dir(d); d = filepath.Dir(d) {
		if sameName(d, name) {
			return d
		}
	}
	return ""
}

// makeDirOf makes the directory that output goes in, if it is not the current one.
func (s *shared) makeDirOf(output string) error {
	d := filepath.Dir(output)
	if d == "." {
		return nil
	}
	if err := s.mkdir(d); err != nil {
		return fmt.Errorf("cannot make %s: %v", d, err)
	}
	return nil
}

// outputNames returns the names entry e may write, one per mirror.
func outputNames(opt options, e entry) []string {
	var names []string
	for _, raw := range e.urls {
		name := opt.shared.realName(filepath.Clean(entryPath(opt, e, raw)))
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// realName returns name with the symbolic links of its directory resolved, as far as the
// directory exists: dir=real and dir=link (a link to real) name one file, which two entries
// must not write at once. (With --overwrite the second failed, "being downloaded by another
// rangedl process", which was the same one.)
func (s *shared) realName(name string) string {
	dir := filepath.Dir(name)
	real, ok := s.realDirs[dir]
	if !ok {
		real = resolveDir(dir)
		remember(s.realDirs, dir, real)
	}
	return filepath.Join(real, filepath.Base(name))
}

// resolveDir resolves the links of the longest part of dir that exists.
func resolveDir(dir string) string {
	rest := ""
	for d := dir; ; d = filepath.Dir(d) {
		if r, err := filepath.EvalSymlinks(d); err == nil {
			return filepath.Join(r, rest)
		}
		if d == filepath.Dir(d) {
			return dir
		}
		rest = filepath.Join(filepath.Base(d), rest)
	}
}

// claim reserves names for an entry about to start, unless an entry in flight holds one of
// them; release gives them back once the entry is over, its checksum checked, and tells the
// list's reader (freed).
func (s *shared) claim(names []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.ContainsFunc(names, func(n string) bool { return s.busy[n] }) {
		return false
	}
	for _, n := range names {
		s.busy[n] = true
	}
	return true
}

func (s *shared) release(names []string) {
	s.mu.Lock()
	for _, n := range names {
		delete(s.busy, n)
	}
	s.mu.Unlock()
	select {
	case s.freed <- struct{}{}:
	default: // told already
	}
}

// A waitQueue holds, in list order, the entries whose names are held by entries in flight,
// while the entries after them go ahead: a slow file does not hold up the list behind it.
// Entries of one name still start in list order, one at a time, as in a run of one entry at
// a time: the second finds the first's file and fails, never overwriting it. At most
// maxWaiting entries wait; then the list waits too.
type waitQueue struct {
	entries []outcome
	wanted  map[string]int // how many waiting entries name each name
}

const maxWaiting = 256

func (q *waitQueue) len() int    { return len(q.entries) }
func (q *waitQueue) empty() bool { return len(q.entries) == 0 }
func (q *waitQueue) full() bool  { return len(q.entries) >= maxWaiting }

// claimOrAdd claims o's names and returns true, or queues o if an entry in flight or one
// waiting before it wants one of them.
func (q *waitQueue) claimOrAdd(s *shared, o outcome) bool {
	if !slices.ContainsFunc(o.names, func(n string) bool { return q.wanted[n] > 0 }) && s.claim(o.names) {
		return true
	}
	if q.wanted == nil {
		q.wanted = map[string]int{}
	}
	q.entries = append(q.entries, o)
	for _, n := range o.names {
		q.wanted[n]++
	}
	return false
}

// next takes out the first waiting entry whose names are free, with its names claimed.
func (q *waitQueue) next(s *shared) (outcome, bool) {
	if q.empty() {
		return outcome{}, false
	}
	ahead := map[string]bool{} // names of the entries before: theirs first
	for i, o := range q.entries {
		if !slices.ContainsFunc(o.names, func(n string) bool { return ahead[n] }) && s.claim(o.names) {
			q.entries = slices.Delete(q.entries, i, i+1)
			for _, n := range o.names {
				if q.wanted[n]--; q.wanted[n] == 0 {
					delete(q.wanted, n)
				}
			}
			return o, true
		}
		for _, n := range o.names {
			ahead[n] = true
		}
	}
	return outcome{}, false
}

// remember puts k in m, a cache: a list of many servers or directories must not grow it
// without end, so a full one starts over.
func remember[K comparable, V any](m map[K]V, k K, v V) {
	if len(m) >= maxCached {
		clear(m)
	}
	m[k] = v
}

// lineWriter serialises the lines the workers print. While the progress bar is drawn, each
// line first clears the bar's line; the bar redraws below it on its next tick.
type lineWriter struct {
	mu  sync.Mutex
	w   io.Writer
	bar bool
}

func (w *lineWriter) setBar(on bool) {
	if w == nil {
		return
	}
	w.mu.Lock()
	w.bar = on
	w.mu.Unlock()
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.bar {
		io.WriteString(w.w, "\r\x1b[K")
	}
	return w.w.Write(b)
}
