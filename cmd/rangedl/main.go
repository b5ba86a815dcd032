// Command rangedl downloads a file over many HTTP/1.1 connections at once, each fetching a
// byte range, driven by one event loop. Run "rangedl -h" for usage; README.md has the details.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"math"
	"net/url"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rangedl/rangedl/loop"
	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// Exit codes (documented in README.md).
const (
	exitOK          = 0
	exitInternal    = 1 // a bug or an error of no other kind
	exitUsage       = 2 // bad flags or URL
	exitNetwork     = 3 // DNS, connect, reset, timeout, malformed HTTP
	exitHTTP        = 4 // the server answered with an error status
	exitIntegrity   = 5 // the server contradicted itself, or the remote file changed; nothing of it was written
	exitIO          = 6 // the output or its control file could not be created, written or used
	exitTLS         = 7 // the TLS handshake failed: an untrusted, expired or wrong certificate
	exitInterrupted = 130
)

const usage = `usage: rangedl [flags] URL
       rangedl [flags] -i LIST | URL URL...

Downloads URL (http:// or https://) over several connections at once, each fetching a byte
range. With several URLs or -i, downloads -j files at once, in one event loop.

flags:
  -n, --connections N   connections at once, 1..256 (default 8)
  -s, --split-size SIZE largest piece requested at once, at least 1M; K, M, G suffixes
                        (default: automatic, up to 64M, shrinking toward the end)
  -o, --output FILE     where to save (default: the URL's last path segment);
                        "-" writes to standard output, strictly in order
      --overwrite       replace FILE if it exists (default: refuse)
  -c, --continue        finish a partial FILE: from FILE.rangedl if it is there, else
                        from FILE's length; with neither, start the download
      --restart-if-changed
                        with -c: if the remote file changed, start over instead of failing
      --file-allocation MODE
                        falloc (default: reserve the space first), trunc (set the
                        length only) or none (grow as data arrives)
      --save-interval D record progress in FILE.rangedl at least every D (default 1s)
      --save-bytes SIZE and after every SIZE written (default 64M)
      --retries N       attempts per piece after the first failure (default 5)
      --stall-timeout D a connection with no data for D fails its piece (default 30s)
      --connect-timeout D
                        give up a connect and TLS handshake after D (default 15s)
                        (each D: a duration such as 30s or 1m30s, or seconds)

  -H, --header "Name: value"
                        add a request header (repeatable)
  -U, --user-agent UA   the User-Agent (default rangedl/VERSION)
      --user USER:PASS  HTTP Basic authentication (only to the URL's own host)
      --netrc           take the user and password from ~/.netrc ($NETRC)
      --referer URL     send Referer: URL
      --max-redirects N follow at most N redirects (default 10)
      --allow-downgrade follow a redirect from https:// to http://
      --proxy URL       use the HTTP proxy URL (http://[USER:PASS@]HOST[:PORT]); default:
                        $http_proxy / $https_proxy, except hosts in $no_proxy
  -4, -6                use only IPv4, or only IPv6, addresses
      --resolve HOST:PORT:ADDR[,ADDR...]
                        connect to these addresses for HOST:PORT instead of asking DNS
      --cacert FILE     also trust the CA certificates in FILE (PEM) for https
  -k, --insecure        do not verify https certificates (anyone on the path can read
                        and change the download)

  -i, --input-file LIST  download the URLs in LIST ("-": standard input), one per line;
                        tab-separated mirrors; indented out=, dir=, checksum=sha-256=HEX
  -d, --dir DIR         save under DIR
  -j, --jobs N          with several URLs or -i: files at once, 1..1024 (default 16)
      --max-per-host N  with several URLs or -i: connections to one server at once,
                        1..256 (default 16)
      --failed FILE     write the entries that failed to FILE, in -i form

      --trace FILE      write the loop's events and decisions to FILE as JSON lines
  -q, --quiet           print nothing but errors
  -p, --no-progress     no progress bar (the summary line stays)
  -V, --version         print the version and exit
  -h, --help            print this text and exit

exit codes: 0 ok, 2 usage, 3 network, 4 HTTP error status (or a refused redirect),
5 integrity (the server contradicted itself, the remote file changed, or a list's
checksum= did not match), 6 local I/O (the output or its control file cannot be written
or used), 7 TLS (certificate not trusted), 130 interrupted, 1 internal error (a bug).
`

type options struct {
	conns     int
	split     string
	output    string
	overwrite bool
	resume    bool
	restart   bool
	alloc     string
	saveEvery time.Duration
	saveBytes string
	piece     int64           // -s, parsed (0: automatic)
	allocMode loop.Allocation // --file-allocation, parsed
	saveSize  int64           // --save-bytes, parsed
	retries   int
	stall     time.Duration
	trace     string
	cacert    string
	insecure  bool

	headers        stringList
	userAgent      string
	user           string
	useNetrc       bool
	netrc          *netrc // read at start with --netrc
	referer        string
	ipv4, ipv6     bool
	connectTimeout time.Duration
	maxRedirects   int
	allowDowngrade bool
	proxy          string
	proxyURL       *url.URL // --proxy, parsed (nil: none given)
	noEnvProxy     bool     // --proxy "": no proxy, whatever the environment says (as curl)
	resolve        stringList
	input          string
	dir            string
	failed         string
	jobs           int
	aside          int // files of a list that may wait, seatless, beyond jobs (see crew)
	maxPerHost     int
	shared         *shared     // a list's downloads: their reactor and caches; nil for one file
	checksum       string      // a list entry's checksum= ("sha-256=HEX"), checked before "saved"
	siblings       []string    // the entry's other mirrors, as loop.Job.Siblings
	advice         *string     // when set, one puts how to go on after a failure here, not on stderr
	lines          *lineWriter // standard error for what is printed while a bar may be drawn
	quiet          bool
	noProgress     bool
	version        bool
}

func main() {
	// A reader of -o - that goes away (| head) makes the next write fail with EPIPE, which is
	// reported (exit 6), instead of the Go runtime's silent death by SIGPIPE (exit 141).
	signal.Ignore(syscall.SIGPIPE)
	signal.Notify(caught, os.Interrupt, syscall.SIGTERM)
	os.Exit(run(os.Args[1:], os.Stderr))
}

// caught holds SIGINT and SIGTERM from the start of main, for onSignals: one that comes before
// a download is ready to stop cleanly (while its output is made, a name looked up, a --failed
// list opened), or between two redirects, waits here, and stops the download as soon as it can.
// Such a signal used to kill rangedl on the spot (exit 143 for SIGTERM), leaving an empty
// output that the same command then refused as existing.
var caught = make(chan os.Signal, 2)

func run(args []string, stderr io.Writer) (code int) {
	defer func() {
		if p := recover(); p != nil {
			code = internalError(stderr, p)
		}
	}()
	opt, urls, err := parseArgs(args)
	if err == flag.ErrHelp {
		return exitOK
	}
	if err != nil {
		printf(stderr, "%v", err)
		return exitUsage
	}
	if opt.version {
		fmt.Println("rangedl", loop.Version+revision())
		return exitOK
	}
	list := len(urls) > 1 || opt.input != ""
	if opt.input == "" {
		opt.jobs = min(opt.jobs, len(urls)) // no more files at once than there are
	}
	need, what := opt.conns, fmt.Sprintf("-n %d", opt.conns)
	if list {
		// Every file in flight may have its connections, and servers keep parked ones.
		need = opt.jobs*opt.conns + loop.MaxParked
		what = fmt.Sprintf("-j %d with -n %d", opt.jobs, opt.conns)
	}
	limit, err := raiseFileLimit(need, what)
	if err != nil {
		printf(stderr, "%v", err)
		return exitUsage
	}
	if list {
		// Every file open holds its output, and perhaps its record: files waiting out a
		// backoff or for a connection (see crew) may take what the files in flight leave.
		opt.aside = min(maxAside, max(0, (limit-need-16)/2-opt.jobs))
	}
	opt.lines = &lineWriter{w: stderr} // a notice while the bar is drawn clears its line first
	say := sayer(opt.lines, opt.quiet)
	if opt.conns > 16 {
		say("warning: %d connections to one server is a lot; most servers are happier with 16 or fewer", opt.conns)
	}
	if !list {
		if opt.dir != "" && opt.output != "-" {
			opt.output = outputPath(opt.dir, opt.output, urls[0])
			if err := opt.shared.makeDirOf(opt.output); err != nil { // no list: shared is nil
				printf(stderr, "%v", err)
				return exitIO
			}
		}
		code, _, _ := one(opt, urls[0], stderr, say)
		return code
	}
	return batch(opt, urls, stderr)
}

// one downloads rawURL as opt says, prints what happened, and returns the exit code, the
// result, and the error (its line goes to --failed).
func one(opt options, rawURL string, stderr io.Writer, say func(string, ...any)) (int, loop.Result, error) {
	job, origin, err := newJob(opt, rawURL)
	if err != nil {
		failure(stderr, opt, rawURL, err)
		return exitUsage, loop.Result{}, err
	}
	entry := "" // in a list, which entry a notice is about, as failure says
	if opt.shared != nil {
		entry = redactRaw(rawURL) + ": "
	}
	job.Notice = func(msg string) { say("%s%s", entry, msg) }
	if s := opt.shared; s != nil {
		var taken string
		switch {
		case s.failedName != "" && (sameName(job.Output, s.failedName) || sameExisting(job.Output, s.failedName)):
			taken = "is where --failed puts its list"
		case s.list != nil && (opt.overwrite || opt.resume) && sameFile(s.list, job.Output):
			// Written over while it is read, the list would go on in the downloaded bytes.
			// Only --overwrite and -c open an output that is there (no stat per entry else).
			taken = "is the list being read"
		}
		if taken != "" {
			err := outputTaken{fmt.Errorf("%s %s; give the entry another out= name", job.Output, taken)}
			failure(stderr, opt, rawURL, err)
			return exitUsage, loop.Result{}, err
		}
	}
	if opt.trace != "" {
		f, created, err := createTrace(opt.trace, job.Output, opt)
		if err != nil {
			failure(stderr, opt, rawURL, err)
			code := exitIO
			if errors.As(err, new(usageError)) {
				code = exitUsage
			}
			return code, loop.Result{}, err
		}
		defer closeTrace(f, created)
		job.Trace = f
	}
	res, err := download(&job, origin, opt, stderr, say)
	if err != nil && opt.restart && errors.Is(err, loop.ErrRemoteChanged) {
		job.Notice(fmt.Sprintf("%v; starting over (--restart-if-changed)", err))
		job.Continue, job.Overwrite = false, true
		res, err = download(&job, origin, opt, stderr, say)
	}
	for try := 1; err != nil && res.Restartable && try <= opt.retries; try++ {
		// Only the whole file again can finish it, as wget and aria2c fetch it: each attempt
		// replaces what the one before wrote. It failed at once, --retries or not.
		wait := 250 * time.Millisecond << min(try-1, 5) // up to 8 s, as a piece's retries wait
		job.Notice(fmt.Sprintf("%v; starting over in %v (attempt %d of %d)", err, wait, try+1, opt.retries+1))
		if !pause(wait, opt) {
			err = &loop.Error{Kind: loop.KindInterrupted, Msg: "interrupted"}
			break
		}
		job.Continue, job.Overwrite = false, true
		res, err = download(&job, origin, opt, stderr, say)
	}
	if err != nil {
		failure(stderr, opt, rawURL, err)
		var advice string
		switch {
		case errors.As(err, new(*reorder.RecordLeftError)):
			// The file is complete: the failure line says what is left to do.
		case errors.Is(err, loop.ErrRemoteChanged) && res.Saved == 0 && res.Resumed > 0:
			advice = fmt.Sprintf("%s was left as it was; use -c --restart-if-changed to download the new version", job.Output)
		case errors.Is(err, loop.ErrRemoteChanged) && res.Resumable:
			advice = fmt.Sprintf("%s is incomplete (%s of it is saved); use -c --restart-if-changed to download the new version", job.Output, formatSize(res.Saved))
		case res.Resumable:
			advice = fmt.Sprintf("%s is incomplete (%s of it is saved); run the same command with -c to continue", job.Output, formatSize(res.Saved))
		case res.Saved > 0 && res.Restartable:
			advice = fmt.Sprintf("%s is incomplete: %s were written before the error; use --overwrite to download it again", job.Output, formatSize(res.Saved))
		case res.Saved > 0:
			advice = fmt.Sprintf("%s is incomplete: %s were written before the error", job.Output, formatSize(res.Saved))
		}
		switch {
		case opt.advice != nil:
			*opt.advice = advice
		case advice != "":
			printf(stderr, "%s", advice)
		}
		return exitCode(err), res, err
	}
	if opt.checksum != "" {
		if got := "sha-256=" + fileSHA256(job.Output); got != opt.checksum {
			err := fmt.Errorf("%s: checksum mismatch: got %s, want %s; the file was removed", job.Output, got, opt.checksum)
			if res.Resumed == res.Size && res.Size > 0 {
				// Complete before this download, which wrote none of it: the file may be
				// the user's, or another entry's of the same name (see README, Not yet).
				err = fmt.Errorf("%s: checksum mismatch: got %s, want %s; the file was complete before this download began, and was left as it was", job.Output, got, opt.checksum)
			} else {
				os.Remove(job.Output)
			}
			failure(stderr, opt, rawURL, err)
			return exitIntegrity, res, err
		}
	}
	verb, mode := "saved", ""
	if job.Stream != nil {
		verb = "wrote"
	}
	if !res.Ranged {
		mode = ", single stream"
	}
	switch {
	case res.Resumed == res.Size && res.Size > 0:
		say("%s is complete already (%s)", job.Output, formatSize(res.Size))
		return exitOK, res, nil
	case res.Resumed > 0:
		mode += ", continued from " + formatSize(res.Resumed)
	}
	rate := int64(float64(res.Size-res.Resumed) / max(res.Elapsed.Seconds(), 1e-3))
	say("%s %s: %s in %s (%s/s), %d connection%s%s", verb, job.Output, formatSize(res.Size),
		res.Elapsed.Round(time.Millisecond), formatSize(rate), res.Connections, plural(res.Connections), mode)
	return exitOK, res, nil
}

// pause waits for d, and reports whether it did: a SIGINT or SIGTERM ends it first.
func pause(d time.Duration, opt options) bool {
	signals, stop := caught, (chan struct{})(nil)
	if opt.shared != nil {
		signals, stop = nil, opt.shared.stop // the list's handler takes the signal, and says so
	}
	select {
	case <-time.After(d):
		return true
	case <-stop:
	case <-signals:
	}
	return false
}

// seconds is a duration flag that also takes a plain number of seconds, as curl's, wget's and
// aria2c's take them: "--connect-timeout 5" was refused with "parse error".
type seconds time.Duration

func (d *seconds) String() string { return time.Duration(*d).String() }

func (d *seconds) Set(v string) error {
	if t, err := time.ParseDuration(v); err == nil {
		*d = seconds(t)
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || math.Abs(f) > math.MaxInt64/float64(time.Second) {
		return errors.New("want a duration such as 30s or 1m30s, or seconds")
	}
	*d = seconds(f * float64(time.Second))
	return nil
}

var badValue = regexp.MustCompile(`^invalid value (".*") for flag -(\S+): (.*)$`)

// flagError says which flag a bad value was for as the help text writes it: the flag
// package says 'invalid value "x" for flag -connect-timeout: parse error'.
func flagError(err error) error {
	m := badValue.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	dash, why := "-", m[3]
	if len(m[2]) > 1 {
		dash = "--"
	}
	if why == "parse error" {
		why = "not a number" // an int flag's (strconv's own error says less)
	}
	return fmt.Errorf("%s%s %s: %s", dash, m[2], m[1], why)
}

// failure prints err's line. In a list the line names the entry's URL first (without its
// password, as every message shows a URL), unless the error does already (an HTTP status names
// the URL that answered it): "cannot connect to HOST" alone would not say which of a host's
// files failed.
func failure(stderr io.Writer, opt options, rawURL string, err error) {
	msg := err.Error()
	if opt.shared != nil {
		if shown := shownURL(rawURL); !names(msg, shown) {
			msg = shown + ": " + msg
		}
	}
	printf(stderr, "%s", msg)
}

// shownURL is rawURL as a line on a terminal may show it: without its password, and quoted
// when it holds a control or format character (a line break from the command line, an escape
// sequence or a bidirectional override from a list) or a byte that is not UTF-8.
func shownURL(rawURL string) string {
	shown := redactRaw(rawURL)
	if strings.ContainsFunc(shown, unsafeRune) {
		return strconv.Quote(shown)
	}
	return shown
}

// names reports whether msg holds u whole, not only as the start of a longer URL (that of a
// redirect's target, say).
func names(msg, u string) bool {
	for i := 0; ; {
		j := strings.Index(msg[i:], u)
		if j < 0 {
			return false
		}
		if rest := msg[i+j+len(u):]; rest == "" || strings.IndexByte(" \"',;)", rest[0]) >= 0 || strings.HasPrefix(rest, ": ") {
			return true
		}
		i += j + 1
	}
}

// download fetches origin, following redirects (each hop runs a loop of its own: another
// host needs other connections anyway), and once, when the URL a redirect led to stops working
// in the middle of the download (an expired signed URL), origin again, continuing from what is
// saved.
func download(job *loop.Job, origin *url.URL, opt options, stderr io.Writer, say func(string, ...any)) (loop.Result, error) {
	cur, seen, expired, warned := origin, map[string]bool{origin.String(): true}, false, false
	for {
		if err := retarget(job, cur, origin, opt); err != nil {
			return loop.Result{}, usageError{err}
		}
		if job.TLS != nil && opt.insecure && !warned {
			warned = true
			if opt.shared == nil || opt.shared.insecureWarned.CompareAndSwap(false, true) { // once a list
				say("warning: -k: the server's certificate is not checked; anyone on the path can read and change the download")
			}
		}
		if err := resolve(job, opt); err != nil {
			return loop.Kept(*job), &loop.Error{Kind: loop.KindNetwork, Msg: err.Error()}
		}
		res, err := fetch(*job, opt, stderr)
		var rd *loop.Redirect
		switch {
		case errors.As(err, &rd):
			next, err := nextURL(cur, rd.Location, opt, seen)
			if err != nil {
				if errors.As(err, new(needsFlag)) {
					res = loop.Result{} // no "run the same command with -c"
				}
				return res, &loop.Error{Kind: loop.KindHTTP, Msg: err.Error()}
			}
			cur = next
		case errors.Is(err, loop.ErrExpired) && !expired && res.Resumable:
			expired = true
			say("%v; starting again from %s", err, origin.Redacted())
			cur, seen = origin, map[string]bool{origin.String(): true}
			job.Continue, job.Overwrite = true, false
		default:
			return res, err
		}
	}
}

// fetch runs one attempt at job, with SIGINT and SIGTERM stopping it cleanly and the
// progress bar on while it runs. A download of a list runs in the list's reactor, whose
// signals and progress batch looks after.
func fetch(job loop.Job, opt options, stderr io.Writer) (loop.Result, error) {
	if s := opt.shared; s != nil {
		job.Small = true
		l, err := s.reactor.New(job)
		if err != nil {
			return loop.Result{}, existing(job, err, true)
		}
		s.progress.add(job.Stats)
		defer s.progress.remove(job.Stats)
		return l.Run()
	}
	l, err := loop.New(job)
	if err != nil {
		return loop.Result{}, existing(job, err, false)
	}
	grace, last := time.Duration(0), func() {}
	if job.Stream != nil {
		grace = streamGrace
		// The loop writes a pipe without blocking, and makes it blocking again at its end; an
		// exit before that must do it too (the pipe may be shared with the commands around).
		if fl, err := unix.FcntlInt(1, unix.F_GETFL, 0); err == nil && fl&unix.O_NONBLOCK == 0 {
			last = func() { unix.SetNonblock(1, false) }
		}
	}
	stopped := make(chan struct{})
	defer onSignals(func() { close(stopped); l.Stop() }, last, grace, opt.lines)() // its last words clear the bar's line
	bar := startProgress(stderr, opt.lines, job.Stats, !opt.quiet && !opt.noProgress && !sameFiles(job.Trace, stderr))
	res, err := l.Run()
	bar.stop(res.Size-res.Resumed, res.Elapsed)
	if job.Stream != nil && errors.Is(err, syscall.EPIPE) {
		// Ctrl-C on rangedl -o - | reader signals the reader too, which may be gone before
		// rangedl's own signal arrives: then the broken pipe is the interrupt's doing.
		select {
		case <-stopped:
			err = &loop.Error{Kind: loop.KindInterrupted, Msg: "interrupted"}
		case <-time.After(signalLag):
		}
	}
	return res, err
}

// sameFiles reports whether a and b are one open file: --trace /dev/stderr, whose lines would
// land on the bar's line, and leave drawings of it among them.
func sameFiles(a, b any) bool {
	f, ok := a.(*os.File)
	g, ok2 := b.(*os.File)
	if !ok || !ok2 || f == nil || g == nil {
		return false
	}
	x, err := f.Stat()
	y, err2 := g.Stat()
	return err == nil && err2 == nil && os.SameFile(x, y)
}

// signalLag is how long a broken standard output waits for the SIGINT that may have broken it.
const signalLag = 100 * time.Millisecond

// existing explains the error of a loop that could not create its output because a file of
// that name is there: a partial download, if its control file is there too. The loop creates
// the output with O_EXCL, which makes the check and the creation one step; neither name is
// looked up before (a stat of each cost ~5% of the CPU of a list of small files). A control
// file alone, whose data file is gone, describes nothing, and the download goes ahead. A file
// of many (several URLs, or -i) cannot be named with -o.
func existing(job loop.Job, err error, many bool) error {
	if nr := loop.NotRegular(job.Output); nr != nil {
		return outputTaken{nr} // with -c or --overwrite too: the same mistake, the same exit code
	}
	if !errors.Is(err, fs.ErrExist) || job.Overwrite || job.Continue {
		return err
	}
	if recorded(job.Output) {
		return outputTaken{fmt.Errorf("%s is a partial download (see %s); use -c to continue it, or --overwrite to start over", job.Output, job.Output+loop.ControlSuffix)}
	}
	rename := "-o to choose another name"
	if many {
		rename = "out= in a list (-i) to choose another name"
	}
	return outputTaken{fmt.Errorf("%s already exists; use -c to continue it, --overwrite to replace it, or %s", job.Output, rename)}
}

// recorded reports whether the partial file at path still has its record: -c continues it.
func recorded(path string) bool {
	_, err := os.Lstat(path + loop.ControlSuffix)
	return err == nil
}

// streamGrace is how long a stream to standard output has to end after SIGINT or SIGTERM.
const streamGrace = 2 * time.Second

// sameSignal is how soon after the first a second SIGINT or SIGTERM is taken for the same one
// delivered twice: timeout(1) signals its child and then its process group, which the child
// is in.
const sameSignal = 500 * time.Millisecond

// onSignals calls first at the first SIGINT or SIGTERM. A second one, while the loop cannot
// see the first (blocked writing to a stalled pipe, say), ends the program at once, and so
// does the end of grace after the first when grace is not 0: a stream to a reader that has
// stopped reading cannot end cleanly, and has nothing to record. Before it does, it calls
// last, if not nil, to remove what would be left half written; last runs beside the rest of
// the program and must not wait for it. The function returned stops watching.
func onSignals(first, last func(), grace time.Duration, stderr io.Writer) func() {
	done := make(chan struct{})
	go func() {
		select {
		case <-caught:
		case <-done:
			return
		}
		first()
		var expired <-chan time.Time
		if grace > 0 {
			expired = time.After(grace)
		}
		for same := time.After(sameSignal); ; {
			var why string
			select {
			case <-same:
				same = nil
				continue
			case <-caught:
				if same != nil {
					continue
				}
				why = "interrupted again: stopped at once"
			case <-expired:
				why = "interrupted (standard output was not being read)"
			case <-done:
				return
			}
			if last != nil {
				last()
			}
			exitSaying(stderr, why)
		}
	}()
	return func() { close(done) }
}

// lastWords is how long exitSaying waits for its line to be written.
const lastWords = 100 * time.Millisecond

// exitSaying prints why and exits with exitInterrupted, said or not after lastWords: standard
// error may be a pipe nobody reads, where the line would wait for ever, and with it the exit.
func exitSaying(stderr io.Writer, why string) {
	said := make(chan struct{})
	go func() {
		printf(stderr, "%s", why)
		close(said)
	}()
	select {
	case <-said:
	case <-time.After(lastWords):
	}
	os.Exit(exitInterrupted)
}

// sayer returns the function that prints a remark line to w, unless quiet.
func sayer(w io.Writer, quiet bool) func(string, ...any) {
	return func(format string, a ...any) {
		if !quiet {
			printf(w, format, a...)
		}
	}
}

// printf writes one line, "rangedl: " and the message, to w. A control or format character in
// the message (a name or a URL as the user or a server wrote it, a line break too) or a byte
// that is not UTF-8 is written as its escape: every message is one line, and none of it reaches
// a terminal as a command.
func printf(w io.Writer, format string, a ...any) {
	msg := fmt.Sprintf(format, a...)
	if strings.ContainsFunc(msg, unsafeRune) {
		var b strings.Builder
		for i, r := range msg {
			switch {
			case r == utf8.RuneError && !strings.HasPrefix(msg[i:], string(utf8.RuneError)):
				fmt.Fprintf(&b, `\x%02x`, msg[i])
			case unsafeRune(r):
				q := strconv.QuoteRune(r)
				b.WriteString(q[1 : len(q)-1])
			default:
				b.WriteRune(r)
			}
		}
		msg = b.String()
	}
	io.WriteString(w, "rangedl: "+msg+"\n")
}

// usageError is a mistake in the flags found only once the download runs (the proxy
// setting for the host a redirect leads to, say): it exits 2 like the others.
type usageError struct{ error }

// outputTaken is the usage error of an output name that something else holds (a file there
// before, the --failed list): no mirror of a list's entry that saves under that name can go on.
type outputTaken struct{ error }

func exitCode(err error) int {
	if errors.As(err, new(usageError)) || errors.As(err, new(outputTaken)) {
		return exitUsage
	}
	switch loop.KindOf(err) {
	case loop.KindNetwork:
		return exitNetwork
	case loop.KindHTTP:
		return exitHTTP
	case loop.KindIntegrity:
		return exitIntegrity
	case loop.KindIO:
		return exitIO
	case loop.KindInterrupted:
		return exitInterrupted
	case loop.KindTLS:
		return exitTLS
	}
	return exitInternal
}

// flagSet defines every flag into opt.
func flagSet(opt *options) *flag.FlagSet {
	fs := flag.NewFlagSet("rangedl", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // usage is printed for -h only, not after every mistake
	for _, name := range []string{"n", "connections"} {
		fs.IntVar(&opt.conns, name, 8, "")
	}
	for _, name := range []string{"s", "split-size"} {
		fs.StringVar(&opt.split, name, "", "")
	}
	for _, name := range []string{"o", "output"} {
		fs.StringVar(&opt.output, name, "", "")
	}
	for _, name := range []string{"q", "quiet"} {
		fs.BoolVar(&opt.quiet, name, false, "")
	}
	for _, name := range []string{"p", "no-progress"} {
		fs.BoolVar(&opt.noProgress, name, false, "")
	}
	for _, name := range []string{"V", "version"} {
		fs.BoolVar(&opt.version, name, false, "")
	}
	for _, name := range []string{"c", "continue"} {
		fs.BoolVar(&opt.resume, name, false, "")
	}
	fs.BoolVar(&opt.overwrite, "overwrite", false, "")
	fs.BoolVar(&opt.restart, "restart-if-changed", false, "")
	fs.StringVar(&opt.alloc, "file-allocation", "falloc", "")
	opt.saveEvery = loop.DefaultSaveEvery
	fs.Var((*seconds)(&opt.saveEvery), "save-interval", "")
	fs.StringVar(&opt.saveBytes, "save-bytes", "64M", "")
	fs.IntVar(&opt.retries, "retries", loop.DefaultMaxRetries, "")
	opt.stall = loop.DefaultStallTimeout
	fs.Var((*seconds)(&opt.stall), "stall-timeout", "")
	fs.StringVar(&opt.trace, "trace", "", "")
	fs.StringVar(&opt.cacert, "cacert", "", "")
	for _, name := range []string{"H", "header"} {
		fs.Var(&opt.headers, name, "")
	}
	for _, name := range []string{"U", "user-agent"} {
		fs.StringVar(&opt.userAgent, name, "", "")
	}
	fs.StringVar(&opt.user, "user", "", "")
	fs.BoolVar(&opt.useNetrc, "netrc", false, "")
	fs.StringVar(&opt.referer, "referer", "", "")
	fs.BoolVar(&opt.ipv4, "4", false, "")
	fs.BoolVar(&opt.ipv6, "6", false, "")
	opt.connectTimeout = loop.DefaultConnectTimeout
	fs.Var((*seconds)(&opt.connectTimeout), "connect-timeout", "")
	fs.IntVar(&opt.maxRedirects, "max-redirects", 10, "")
	fs.BoolVar(&opt.allowDowngrade, "allow-downgrade", false, "")
	fs.StringVar(&opt.proxy, "proxy", "", "")
	fs.Var(&opt.resolve, "resolve", "")
	for _, name := range []string{"i", "input-file"} {
		fs.StringVar(&opt.input, name, "", "")
	}
	for _, name := range []string{"d", "dir"} {
		fs.StringVar(&opt.dir, name, "", "")
	}
	fs.StringVar(&opt.failed, "failed", "", "")
	for _, name := range []string{"j", "jobs"} {
		fs.IntVar(&opt.jobs, name, 16, "")
	}
	fs.IntVar(&opt.maxPerHost, "max-per-host", 16, "")
	for _, name := range []string{"k", "insecure"} {
		fs.BoolVar(&opt.insecure, name, false, "")
	}
	return fs
}

// parseArgs reads flags before and after the URL (people type "rangedl URL -o x" too).
func parseArgs(args []string) (options, []string, error) {
	var opt options
	fs := flagSet(&opt)
	var urls []string
	for {
		end := dashDash(fs, args)
		flags := args
		if end >= 0 {
			flags = args[:end]
		}
		if err := fs.Parse(flags); err != nil {
			if err == flag.ErrHelp {
				fmt.Print(usage)
				return opt, nil, err
			}
			return opt, nil, fmt.Errorf("%v; see rangedl -h", flagError(err))
		}
		if end >= 0 {
			urls = append(urls, args[end+1:]...) // after "--", every argument is a URL
			break
		}
		if fs.NArg() == 0 {
			break
		}
		urls = append(urls, fs.Arg(0))
		args = fs.Args()[1:]
	}
	fs.Visit(func(f *flag.Flag) { opt.noEnvProxy = opt.noEnvProxy || (f.Name == "proxy" && opt.proxy == "") })
	list := len(urls) > 1 || opt.input != ""
	switch {
	case opt.version:
		return opt, nil, nil
	case len(urls) == 0 && opt.input == "":
		return opt, nil, errors.New("no URL given; see rangedl -h")
	case list && opt.output != "":
		return opt, nil, errors.New("-o names one file: with several URLs or -i, use -d DIR (and out= in the list)")
	case strings.HasSuffix(opt.output, "/"):
		return opt, nil, fmt.Errorf("-o %s names a directory: give a file name, or -d %s to save in it", opt.output, opt.output)
	case opt.output != "-" && len(filepath.Base(opt.output)) > maxName:
		return opt, nil, fmt.Errorf("-o %s: %s", opt.output, nameTooLong(opt.output))
	case list && opt.trace != "":
		return opt, nil, errors.New("--trace follows one download: not with several URLs or -i")
	case !list && opt.failed != "":
		return opt, nil, errors.New("--failed lists the failed entries of several URLs or -i: with one URL, the exit code says it")
	case opt.conns < 1 || opt.conns > loop.MaxConnections:
		return opt, nil, fmt.Errorf("-n %d: connections must be 1..%d", opt.conns, loop.MaxConnections)
	case opt.jobs < 1 || opt.jobs > maxJobs:
		return opt, nil, fmt.Errorf("-j %d: files at once must be 1..%d", opt.jobs, maxJobs)
	case opt.maxPerHost < 1 || opt.maxPerHost > loop.MaxConnections:
		return opt, nil, fmt.Errorf("--max-per-host %d: must be 1..%d", opt.maxPerHost, loop.MaxConnections)
	case opt.retries < 0:
		return opt, nil, fmt.Errorf("--retries %d: must be 0 or more", opt.retries)
	case opt.stall <= 0:
		return opt, nil, fmt.Errorf("--stall-timeout %v: must be positive", opt.stall)
	case opt.saveEvery <= 0:
		return opt, nil, fmt.Errorf("--save-interval %v: must be positive", opt.saveEvery)
	case opt.resume && opt.overwrite:
		return opt, nil, errors.New("-c and --overwrite contradict each other: continue the file, or replace it")
	case opt.restart && !opt.resume:
		return opt, nil, errors.New("--restart-if-changed only applies to -c")
	case opt.ipv4 && opt.ipv6:
		return opt, nil, errors.New("-4 and -6 contradict each other")
	case opt.connectTimeout <= 0:
		return opt, nil, fmt.Errorf("--connect-timeout %v: must be positive", opt.connectTimeout)
	case opt.maxRedirects < 0:
		return opt, nil, fmt.Errorf("--max-redirects %d: must be 0 or more", opt.maxRedirects)
	case opt.user != "" && !strings.Contains(opt.user, ":"):
		return opt, nil, errors.New("--user: want USER:PASSWORD (no ':' in the value, which is not shown: it may be a secret)")
	case hasControl(opt.userAgent) || hasControl(opt.referer):
		return opt, nil, errors.New("-U and --referer cannot hold control characters")
	}
	if err := checkResolve(opt.resolve); err != nil {
		return opt, nil, err
	}
	if err := parseValues(&opt); err != nil {
		return opt, nil, err
	}
	if opt.useNetrc {
		path, err := netrcPath()
		if err != nil {
			return opt, nil, fmt.Errorf("--netrc: %v", err)
		}
		n, err := readNetrc(path)
		if err != nil {
			return opt, nil, fmt.Errorf("--netrc: %v", err)
		}
		opt.netrc = n
	}
	for _, h := range opt.headers {
		if err := checkHeader(h); err != nil {
			return opt, nil, err
		}
	}
	return opt, urls, nil
}

// parseValues parses the flags whose values have a syntax of their own, once, before any
// download: a mistake in one is one usage error, not one per entry of a list.
func parseValues(opt *options) error {
	var err error
	if opt.split != "" {
		if opt.piece, err = parseSize(opt.split); err != nil {
			return fmt.Errorf("-s %q: %v", opt.split, err)
		}
		if opt.piece < loop.MinPieceSize {
			return fmt.Errorf("-s %q: the smallest piece is 1M", opt.split)
		}
	}
	if opt.allocMode, err = loop.ParseAllocation(opt.alloc); err != nil {
		return fmt.Errorf("--file-allocation %v", err)
	}
	if opt.saveSize, err = parseSize(opt.saveBytes); err != nil {
		return fmt.Errorf("--save-bytes %q: %v", opt.saveBytes, err)
	}
	if opt.proxy != "" {
		if opt.proxyURL, err = parseProxy(opt.proxy, "--proxy"); err != nil {
			return err
		}
	}
	return nil
}

// newJob checks the URL and options and turns them into a loop.Job (addresses still unresolved).
func newJob(opt options, rawURL string) (loop.Job, *url.URL, error) {
	u, err := parseURL(rawURL)
	if err != nil {
		return loop.Job{}, nil, err
	}
	output := opt.output
	if output == "" {
		output = outputName(u)
	}
	var stream io.Writer
	switch {
	case output == "-" && opt.resume:
		return loop.Job{}, nil, errors.New("-c needs a file: standard output cannot be continued")
	case output == "-":
		stream, output = os.Stdout, "standard output"
	}
	retries := opt.retries
	if retries == 0 {
		retries = -1 // loop.Job: 0 means the default
	}
	job := loop.Job{
		Output:         output,
		Overwrite:      opt.overwrite,
		Stream:         stream,
		Continue:       opt.resume,
		Siblings:       opt.siblings,
		Allocation:     opt.allocMode,
		SaveEvery:      opt.saveEvery,
		SaveBytes:      opt.saveSize,
		Connections:    opt.conns,
		PieceSize:      opt.piece,
		MaxRetries:     retries,
		StallTimeout:   opt.stall,
		ConnectTimeout: opt.connectTimeout,
		UserAgent:      opt.userAgent,
		Stats:          new(loop.Stats),
	}
	if err := retarget(&job, u, u, opt); err != nil {
		return loop.Job{}, nil, err
	}
	return job, u, nil
}

// outputName derives a local file name from the URL: the last path segment, percent-decoded,
// with anything that could leave the current directory or confuse a terminal replaced. A URL
// naming a directory (ending in "/") saves as index.html.
func outputName(u *url.URL) string {
	// The last segment of the path as sent, decoded: "a%2Fb" is one segment, named a_b below.
	p := u.EscapedPath()
	if strings.HasSuffix(p, "/") {
		return "index.html"
	}
	name, err := url.PathUnescape(p[strings.LastIndexByte(p, '/')+1:])
	if err != nil {
		name = path.Base(u.Path)
	}
	var b strings.Builder
	kept := false // a character of the name itself within the cut, not a '_' in place of one
	for _, r := range name {
		own := !(r == '/' || r == '\\' || unsafeRune(r))
		if !own {
			r = '_'
		}
		if b.Len()+utf8.RuneLen(r) > maxName {
			break
		}
		b.WriteRune(r)
		kept = kept || own
	}
	name = b.String()
	switch {
	case name == "-":
		return "_" // "-" means standard output to -o, and to most tools
	case !kept || name == "." || name == "..":
		return "index.html"
	case isControlName(name):
		return cut(name, maxName-1) + "_" // a download of the name without the suffix would take it for its record
	}
	return name
}

// unsafeRune reports whether r has no place in a file name that a terminal shows: a control
// character, a format character (Cf: the bidirectional overrides make a terminal show
// "\u202egpj.exe" as "exe.jpg"), or a byte that is not UTF-8.
func unsafeRune(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError
}

// cut shortens name to at most n bytes, on a character boundary.
func cut(name string, n int) string {
	for len(name) > n {
		_, size := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-size]
	}
	return name
}

// maxName bounds a name derived from a URL: the usual limit of a file name (255 bytes), less
// the longest suffix of the files kept beside it (FILE.rangedl.reserve).
const maxName = 255 - len(loop.ControlSuffix+reorder.ReserveSuffix)

// nameTooLong says why a name longer than maxName is refused, before any request: the files kept
// beside it would not fit in a directory entry.
func nameTooLong(name string) string {
	return fmt.Sprintf("a name of %d bytes leaves no room for its control file (FILE%s%s: a name may have %d bytes at most)",
		len(filepath.Base(name)), loop.ControlSuffix, reorder.ReserveSuffix, maxName)
}

// recordSuffixes name the files kept beside an output: its control file and that file's
// temporary and reserve files.
var recordSuffixes = []string{loop.ControlSuffix, loop.ControlSuffix + reorder.TempSuffix, loop.ControlSuffix + reorder.ReserveSuffix}

// isControlName reports whether name is that of a control file or of its temporary files.
func isControlName(name string) bool {
	return slices.ContainsFunc(recordSuffixes, func(suffix string) bool { return strings.HasSuffix(name, suffix) })
}

// createTrace opens the --trace file: never the output or one of the files of its record, and
// an existing file only with --overwrite. created reports whether it made the file.
func createTrace(name, output string, opt options) (f *os.File, created bool, err error) {
	ours := []string{output}
	for _, suffix := range recordSuffixes {
		ours = append(ours, output+suffix)
	}
	for _, o := range ours {
		if sameName(name, o) || sameExisting(name, o) {
			return nil, false, usageError{fmt.Errorf("--trace %s: that is the output file, or its record", name)}
		}
	}
	// O_EXCL creates no file through a link, not even one that leads nowhere yet (to the
	// output, say, which is made after).
	f, err = os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o666)
	created = err == nil
	switch {
	case errors.Is(err, fs.ErrExist) && opt.resume:
		return nil, false, usageError{fmt.Errorf("--trace %s already exists; remove it, or give another name", name)}
	case errors.Is(err, fs.ErrExist) && !opt.overwrite:
		return nil, false, usageError{fmt.Errorf("--trace %s already exists; use --overwrite to replace it, or another name", name)}
	case errors.Is(err, fs.ErrExist):
		if _, serr := os.Stat(name); serr != nil {
			return nil, false, usageError{fmt.Errorf("--trace %s is a symbolic link that leads to no file; give another name", name)}
		}
		f, err = os.OpenFile(name, os.O_WRONLY|os.O_TRUNC, 0)
	}
	if err != nil {
		return nil, false, fmt.Errorf("cannot write the trace: %v", err)
	}
	// The output may be a link that led nowhere until now: to the trace just made.
	if st, err := f.Stat(); err == nil && slices.ContainsFunc(ours, func(o string) bool { return sameFile(st, o) }) {
		closeTrace(f, created)
		return nil, false, usageError{fmt.Errorf("--trace %s: that is the output file, or its record", name)}
	}
	return f, created, nil
}

// sameName reports whether the paths a and b name one entry of one directory, however each is
// spelled: relative or absolute, through a link to the directory. Only paths with the same
// last element cost a system call.
func sameName(a, b string) bool {
	a, b = filepath.Clean(a), filepath.Clean(b)
	if a == b {
		return true
	}
	if filepath.Base(a) != filepath.Base(b) {
		return false
	}
	da, err := os.Stat(filepath.Dir(a))
	if err != nil {
		return false
	}
	db, err := os.Stat(filepath.Dir(b))
	return err == nil && os.SameFile(da, db)
}

// sameExisting reports whether a and b both exist and are one file (a link to the other, a
// hard link).
func sameExisting(a, b string) bool {
	st, err := os.Stat(a)
	return err == nil && sameFile(st, b)
}

// revision names the commit the binary was built from, as go build records it in a git
// checkout: " (db7d24c)", " (db7d24c, modified)", or "" when it did not.
func revision() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return ""
	}
	var rev, modified string
	for _, s := range info.Settings {
		switch {
		case s.Key == "vcs.revision" && len(s.Value) >= 7:
			rev = s.Value[:7]
		case s.Key == "vcs.modified" && s.Value == "true":
			modified = ", modified"
		}
	}
	if rev == "" {
		return ""
	}
	return " (" + rev + modified + ")"
}

// internalError reports a panic, a bug of rangedl's own, with its stack for the bug report, and
// returns the exit code README gives bugs (Go's own would be 2, which means a usage error).
func internalError(stderr io.Writer, p any) int {
	fmt.Fprintf(stderr, "rangedl: internal error (a bug): %v\n%s", p, debug.Stack())
	return exitInternal
}

// closeTrace closes the --trace file, and removes it if createTrace made it and nothing was
// traced (a download refused before it started): an empty trace would only stand in the way of
// the command that follows, such as the same one with -c. A file that was there stays: it may
// be a device (/dev/stderr), whose size is always 0.
func closeTrace(f *os.File, created bool) {
	st, err := f.Stat()
	f.Close()
	if created && err == nil && st.Mode().IsRegular() && st.Size() == 0 {
		os.Remove(f.Name())
	}
}

// dashDash returns the index in args of a "--" that ends the flags, before any URL, or -1. A
// "--" that is a flag's value (-U --) ends nothing.
func dashDash(fs *flag.FlagSet, args []string) int {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return i
		case len(a) < 2 || a[0] != '-':
			return -1 // a URL
		}
		name := strings.TrimLeft(a, "-")
		if strings.Contains(name, "=") {
			continue
		}
		if f := fs.Lookup(name); f != nil {
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !b.IsBoolFlag() {
				i++ // its value
			}
		}
	}
	return -1
}

// stringList is a repeatable string flag (-H, --resolve).
type stringList []string

func (l *stringList) String() string     { return strings.Join(*l, ", ") }
func (l *stringList) Set(v string) error { *l = append(*l, v); return nil }

// parseSize reads "1048576", "512K", "4M", "1G" (binary multiples).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	switch strings.ToUpper(s[max(len(s)-1, 0):]) {
	case "K":
		mult = 1 << 10
	case "M":
		mult = 1 << 20
	case "G":
		mult = 1 << 30
	}
	if mult > 1 {
		s = s[:len(s)-1]
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > (1<<62)/mult {
		return 0, errors.New("want a positive size such as 4M")
	}
	return n * mult, nil
}

func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	const prefixes = " KMGTPE"
	f, u := float64(n), 0
	for f >= unit && u < len(prefixes)-1 {
		f /= unit
		u++
	}
	// Cut, not rounded: 4.96 GiB saved of 5 GiB read "5.0 GiB were written", as if complete.
	return fmt.Sprintf("%.1f %ciB", math.Floor(f*10+1e-9)/10, prefixes[u])
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}
