package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"strings"
)

// An input list (-i FILE) in the aria2 convention its users know: one download per line,
// tab-separated mirror URLs of the same file on that line, and indented "key=value" lines after
// it with options for that download. Blank lines and lines starting with '#' are skipped.
//
//	http://a.example/f.iso	http://b.example/f.iso
//	  out=f.iso
//	  dir=isos
//	  checksum=sha-256=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//
// The list is read one entry at a time, as downloads start, so memory does not depend on its
// length.

// entry is one download of a list.
type entry struct {
	urls     []string // the URL and its mirrors, tried in order
	line     int      // the list's line that holds them; 0 for a URL from the command line
	out, dir string
	checksum string   // "ALGO=HEX", as written
	bad      []string // option lines that were refused, as written: --failed keeps them
}

// maxListLine bounds one line of a list: a URL with a few mirrors fits many times over.
const maxListLine = 64 << 10

// maxRefused bounds the refused option lines an entry holds (for --failed), so that memory
// does not grow with a list indented whole by mistake: the lines after them are entries of
// their own, without a URL.
const maxRefused = 16

// listReader reads entries from a list.
type listReader struct {
	r           *bufio.Reader
	line        int
	pending     string // a URL line read ahead while looking for the previous entry's options
	pendingErr  error  // and the *badEntry that came with it, if it was too long
	havePending bool
	overflow    bool // the option lines being read follow maxRefused refused ones
}

func newListReader(r io.Reader) *listReader {
	return &listReader{r: bufio.NewReaderSize(r, 64<<10)}
}

// next returns the next entry, or io.EOF after the last. A malformed entry is an error of type
// *badEntry that names its first bad line and comes with what was read of the entry (its URLs
// and its valid options); the caller may go on reading after it. Any other error is the
// list's reader failing, and ends the list.
func (l *listReader) next() (entry, error) {
	var e entry
	var bad error // the entry's first bad line
	for {
		text, err := l.readLine()
		long, isLong := err.(*badEntry)
		if err != nil && !isLong {
			if err == io.EOF && (len(e.urls) > 0 || bad != nil) {
				return e, bad
			}
			return e, err
		}
		trimmed := strings.TrimSpace(text)
		switch {
		case trimmed == "" && !isLong, strings.HasPrefix(trimmed, "#"):
			continue // a line too long that starts blank is not blank: it fails its entry
		case (text[0] == ' ' || text[0] == '\t') && len(e.bad) == maxRefused:
			l.pending, l.pendingErr, l.havePending, l.overflow = text, err, true, true
			l.line--
			return e, bad
		case text[0] == ' ' || text[0] == '\t':
			var why error
			switch {
			case isLong:
				why = long
				e.bad = append(e.bad, tooLong)
			case len(e.urls) == 0 && l.overflow:
				why = &badEntry{fmt.Sprintf("line %d: option %q after %d refused option lines", l.line, trimmed, maxRefused)}
				e.bad = append(e.bad, trimmed)
			case len(e.urls) == 0:
				why = &badEntry{fmt.Sprintf("line %d: option %q before any URL", l.line, trimmed)}
				e.bad = append(e.bad, trimmed)
			default:
				if err := e.set(trimmed); err != nil {
					why = &badEntry{fmt.Sprintf("line %d: %v", l.line, err)}
					e.bad = append(e.bad, trimmed)
				}
			}
			if bad == nil {
				bad = why
			}
		case len(e.urls) > 0 || bad != nil:
			l.pending, l.pendingErr, l.havePending = text, err, true // the next entry's URL line
			l.line--
			return e, bad
		case isLong:
			bad, l.overflow = long, false
		default:
			l.overflow = false
			e.line = l.line
			for _, u := range strings.Split(text, "\t") {
				if u = strings.TrimSpace(u); u != "" {
					e.urls = append(e.urls, u)
				}
			}
		}
	}
}

// tooLong stands in --failed for an option line longer than maxListLine, which is not kept
// whole: an unknown option, so that the rerun refuses the entry again rather than download
// it without that option (its first 64 KiB could be taken for another one).
const tooLong = "too-long="

// badEntry is a malformed entry of a list.
type badEntry struct{ msg string }

func (b *badEntry) Error() string { return b.msg }

// readLine returns the next line without its line ending. A line longer than maxListLine is
// read to its end, and its first maxListLine bytes come with a *badEntry.
func (l *listReader) readLine() (string, error) {
	l.line++
	if l.havePending {
		l.havePending = false
		return l.pending, l.pendingErr
	}
	var b []byte
	long := false
	for {
		chunk, isPrefix, err := l.r.ReadLine()
		if err != nil {
			if err == io.EOF && (len(b) > 0 || long) {
				break
			}
			return "", err
		}
		if n := min(len(chunk), maxListLine-len(b)); n < len(chunk) {
			long = true
			chunk = chunk[:n]
		}
		b = append(b, chunk...)
		if !isPrefix {
			break
		}
	}
	if l.line == 1 {
		// A byte order mark, which some editors put at the start of a UTF-8 file, is not
		// part of the first URL.
		b = bytes.TrimPrefix(b, []byte("\uFEFF"))
	}
	if long {
		return string(b), &badEntry{fmt.Sprintf("line %d: longer than %d bytes", l.line, maxListLine)}
	}
	return string(b), nil
}

// optionKeys are the keys of a list's option lines.
var optionKeys = []string{"out", "dir", "checksum"}

// set applies one "key=value" option line.
func (e *entry) set(opt string) error {
	key, value, ok := strings.Cut(opt, "=")
	if !ok {
		return fmt.Errorf("%q: want key=value", opt)
	}
	if k := strings.TrimRight(key, " \t"); k != key && slices.Contains(optionKeys, k) {
		// aria2c takes "out = NAME" for out=NAME; here a value keeps its spaces (a name may
		// begin with one), so the line is refused, and said why.
		return fmt.Errorf("%q: no space before \"=\" (%s=VALUE)", opt, k)
	}
	if (key == "out" || key == "dir") && strings.ContainsFunc(value, unsafeRune) {
		// As in a name taken from a URL: "saved NAME" would send them to the terminal.
		return fmt.Errorf("%s=%q: a control or format character, or a byte that is not UTF-8", key, value)
	}
	if key == "out" || key == "dir" {
		// A list may come from anywhere: what it names stays under -d.
		c := filepath.Clean(value)
		if filepath.IsAbs(c) || c == ".." || strings.HasPrefix(c, ".."+string(filepath.Separator)) {
			return fmt.Errorf("%s=%s: must stay under -d (no absolute path, no ..)", key, value)
		}
		if slices.ContainsFunc(strings.Split(c, string(filepath.Separator)), isControlName) {
			// Another entry's record could be this name, or a directory's: saving here would
			// replace it, or be replaced by it, or leave it no room.
			return fmt.Errorf("%s=%s: a name rangedl keeps for its records", key, value)
		}
	}
	switch key {
	case "out":
		if value == "" {
			e.out = "" // the URL's name, as in aria2c's lists
			return nil
		}
		if value == "-" {
			return errors.New("out=-: standard output takes one download, not an entry of a list")
		}
		if filepath.Clean(value) == "." {
			// Joined to -d, it would be -d itself: the file was saved as the directory.
			return fmt.Errorf("out=%s: names no file under -d", value)
		}
		if strings.HasSuffix(value, "/") || filepath.Base(value) == "." {
			return fmt.Errorf("out=%s names a directory: give a file name, or dir=%s", value, value)
		}
		if len(filepath.Base(value)) > maxName {
			return fmt.Errorf("out=%s: %s", value, nameTooLong(value))
		}
		e.out = value
	case "dir":
		e.dir = value
	case "checksum":
		algo, hex, ok := strings.Cut(value, "=")
		if !ok || algo != "sha-256" || len(hex) != 64 || strings.Trim(strings.ToLower(hex), "0123456789abcdef") != "" {
			return fmt.Errorf("checksum=%q: want sha-256=64 hex digits", value)
		}
		e.checksum = "sha-256=" + strings.ToLower(hex)
	default:
		return fmt.Errorf("unknown option %q (known: %s)", key, strings.Join(optionKeys, ", "))
	}
	return nil
}

// writeEntry writes e in list form, for --failed: a rerun with -i retries exactly these. An
// option line that was refused goes back as it was: without it, the rerun would download the
// entry without the checksum or the name its author meant, so it fails again until it is fixed.
// An entry that a list cannot hold goes back as comments, so that a --failed that replaces
// the list keeps it, and a rerun retries nothing else in its place: one without a URL (options
// before any, or after a URL line too long to keep), whose option lines would belong to the
// entry before them, and one from the command line whose URL a list line cannot carry (a line
// break or a tab in it, say), quoted.
func writeEntry(w io.Writer, e entry, reason string) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n", strings.ReplaceAll(reason, "\n", " "))
	if len(e.urls) == 0 || e.urls[0][0] == '#' || slices.ContainsFunc(e.urls, unlisted) {
		for _, u := range e.urls {
			fmt.Fprintf(&b, "#   %q\n", u)
		}
		for _, line := range e.bad {
			fmt.Fprintf(&b, "#   %s\n", line)
		}
		_, err := io.WriteString(w, b.String())
		return err
	}
	fmt.Fprintf(&b, "%s\n", strings.Join(e.urls, "\t"))
	for _, kv := range [][2]string{{"out", e.out}, {"dir", e.dir}, {"checksum", e.checksum}} {
		if kv[1] != "" {
			fmt.Fprintf(&b, "  %s=%s\n", kv[0], kv[1])
		}
	}
	for _, line := range e.bad {
		fmt.Fprintf(&b, "  %s\n", line)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// unlisted reports whether a list line cannot carry u as a URL of an entry: read back, it
// would be no URL, another one, or several. (A line that starts with '#' is a comment: the
// first URL may not.)
func unlisted(u string) bool {
	return u == "" || u != strings.TrimSpace(u) || strings.ContainsAny(u, "\t\r\n")
}

var errNoEntries = errors.New("no URL in the list")
