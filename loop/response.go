package loop

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/rangedl/rangedl/httpparse"
	"github.com/rangedl/rangedl/reorder"
	"golang.org/x/sys/unix"
)

// accept checks a response head before one byte of its body may be written (the rule in
// DESIGN.md). It returns false when the response was refused; the connection is then gone.
func (l *Loop) accept(c *conn) bool {
	if c.probe {
		return l.acceptFirst(c)
	}
	r := &c.p.Resp
	switch r.Status {
	case 206:
	case 200:
		if l.dateRefused(c) {
			return false
		}
		// We sent If-Range: a 200 means the file changed. Without a validator it means the
		// server stopped honouring ranges. Either way its bytes do not belong in this file.
		l.close(c)
		l.fail(&Error{Kind: KindIntegrity, Msg: l.job.URL + " answered a range request with the whole file (HTTP 200)",
			Err: fmt.Errorf("%w, or the server stopped honouring ranges", ErrRemoteChanged)})
		return false
	default:
		l.badStatus(c)
		return false
	}
	want := piece{start: c.piece.start, end: c.reqEnd} // what was asked, even if a steal cut it since
	if !r.HasRange || r.Range.Start != want.start || r.Range.End != want.end-1 || r.Range.Total != l.sched.total {
		l.pieceFailed(c, KindIntegrity, nil, fmt.Sprintf("asked for bytes %d-%d/%d, server sent %s",
			want.start, want.end-1, l.sched.total, rangeString(r)))
		return false
	}
	if !l.lengthFits(c) {
		return false
	}
	// A 206 carries the validators a 200 would (RFC 9110 §15.3.7): one that is missing or
	// different means another version of the file, and so does another content coding. One
	// that the first response lacked is the reference from its first appearance on (the
	// bytes before it cannot be checked; the notice said so).
	l.strengthen(r.ETag())
	if len(l.lastMod) == 0 {
		l.lastMod = bytes.Clone(r.LastModified())
	}
	if !l.sameFile(r) {
		l.close(c)
		l.fail(&Error{Kind: KindIntegrity, Msg: "the download of " + l.job.URL + " cannot go on",
			Err: fmt.Errorf("%w during the download (ETag %s, was %s; Last-Modified %q, was %q; Content-Encoding %q, was %q)",
				ErrRemoteChanged, shownTag(r.ETag()), shownTag(l.etag), r.LastModified(), l.lastMod, r.ContentEncoding(), l.encoding)})
		return false
	}
	return true
}

// dateRefused handles a 200 to a range request whose If-Range was a date, from a file the
// 200's validators say is the same: a server may take a date so close to the file's change
// for too weak to match (RFC 9110 §13.1.5; Apache does for 60 s, and a file written just
// before the download failed as "changed"). The piece goes again at once, with the 200's
// strong ETag in If-Range if it has one, else with no If-Range: each 206's validators are
// still compared with the first's. It reports whether it did so. The requests that went out
// with the date meanwhile are answered so too; more such 200s than there can be of them are a
// server that stopped honouring ranges.
func (l *Loop) dateRefused(c *conn) bool {
	r := &c.p.Resp
	if !l.dated || l.refusedDates > 2*l.job.Connections+2 || r.Body != httpparse.BodyLength || r.ContentLength != l.sched.total ||
		!l.sameFile(r) {
		return false
	}
	l.strengthen(r.ETag())
	l.askAgain(c)
	return true
}

// sameFile reports whether r's validators agree with the first response's: its ETag (weakly,
// see sameTag), Last-Modified and content coding. A validator the first response lacked
// agrees with any.
func (l *Loop) sameFile(r *httpparse.Response) bool {
	return (len(l.etag) == 0 || sameTag(l.etag, r.ETag())) && sameValidator(l.lastMod, r.LastModified()) &&
		bytes.Equal(l.encoding, r.ContentEncoding())
}

// strengthen takes tag, a later response's ETag, for the reference when the first response
// had none, or when it is the strong form of the weak one: Apache's ETag of a file changed
// less than a second before is weak, and strong after. Strong, it may go in If-Range.
func (l *Loop) strengthen(tag []byte) {
	switch {
	case len(l.etag) == 0:
		l.etag = bytes.Clone(tag)
	case isWeak(l.etag) && len(tag) > 0 && !isWeak(tag) && sameTag(l.etag, tag):
		l.etag = bytes.Clone(tag)
		l.ifRange = l.etag
	}
}

// askAgain sends c's piece again at once, uncounted, after a 200 to a date in If-Range from
// the same file: with the 200's strong ETag in If-Range if it has one, else with none. Each
// request that went out with the date may come back so, and counts (see dateRefused).
func (l *Loop) askAgain(c *conn) {
	l.ifRange = nil
	if tag := c.p.Resp.ETag(); len(tag) > 0 && !isWeak(tag) {
		l.ifRange = bytes.Clone(tag)
	}
	l.refusedDates++
	l.trace.note("if-range", c, 0, 0, "a date refused: "+string(l.ifRange))
	l.release(c, false, 0)
}

// sameTag compares two entity tags weakly (RFC 9110 §8.8.3.2): W/"x" is "x". Apache marks the
// ETag of a file changed less than a second before weak, and the same one strong after: the
// download of a file just written failed as "changed", and so did every -c of it.
func sameTag(a, b []byte) bool {
	return bytes.Equal(bytes.TrimPrefix(a, []byte("W/")), bytes.TrimPrefix(b, []byte("W/")))
}

func isWeak(tag []byte) bool { return bytes.HasPrefix(tag, []byte("W/")) }

// isDate reports whether an If-Range value (see ifRangeValue) is a date, not a strong ETag.
func isDate(ifRange []byte) bool { return len(ifRange) > 0 && ifRange[0] != '"' }

// lengthFits checks a 206's Content-Length, if it has one, against its Content-Range (which
// matches the request): a contradiction fails the piece.
func (l *Loop) lengthFits(c *conn) bool {
	r := &c.p.Resp
	if r.ContentLength >= 0 && r.ContentLength != r.Range.End+1-r.Range.Start {
		l.pieceFailed(c, KindIntegrity, nil, fmt.Sprintf("Content-Length %d disagrees with Content-Range %s", r.ContentLength, rangeString(r)))
		return false
	}
	return true
}

// acceptFirst handles the answer to the first request, which tells the size and whether the
// server does ranges at all. When resuming, it also proves that the remote file is the one the
// bytes on disk came from, before one byte more is written.
func (l *Loop) acceptFirst(c *conn) bool {
	r := &c.p.Resp
	resuming := l.have.Size() > 0
	switch {
	case r.Status == 206 && r.HasRange && r.Range.Start >= 0 && r.Range.Total < 0:
		// "bytes 0-1048575/*" (RFC 9110 §14.4): the server does not know the length either.
		// Asking again would bring the same answer.
		l.close(c)
		l.fail(errorf(KindHTTP, nil, "%s answered with part of a file of unknown length (Content-Range: %s); rangedl needs the length to download in ranges", l.job.URL, rangeString(r)))
		return false
	case r.Status == 206 && r.HasRange && r.Range.Total == unknownEnd:
		// It would be taken for "length unknown"; as Content-Length, it is refused at once.
		l.close(c)
		l.fail(errorf(KindIntegrity, nil, "%s answered with Content-Range %s, more than any file can hold", l.job.URL, rangeString(r)))
		return false
	case r.Status == 206:
		total, from := r.Range.Total, c.piece.start
		if !r.HasRange || r.Range.Start != from || total < 0 || r.Range.End != min(c.piece.end, total)-1 {
			l.pieceFailed(c, KindIntegrity, nil, fmt.Sprintf("asked for bytes %d-%d, server sent %s", from, c.piece.end-1, rangeString(r)))
			return false
		}
		if !l.lengthFits(c) {
			return false
		}
		c.piece.end = r.Range.End + 1
		c.reqEnd = c.piece.end // the server clamped the probe to the file: nothing was stolen
		l.ranged = true
		l.target = l.job.Connections
		l.sched.learn(total, &l.have, c.piece)
	case r.Status == 200 && resuming && l.from.ctl == nil && r.Body == httpparse.BodyLength && r.ContentLength == l.from.length &&
		(!r.HasRange || r.Range.Start == 0 && r.Range.End+1 == r.Range.Total && r.Range.Total == r.ContentLength) && len(r.ContentEncoding()) == 0:
		// Continued from its length, with no record (the wget -c rule), from a server that
		// ignores ranges: the whole file is as long as the one on disk, which is complete,
		// as the 416 below says for a server that does ranges. Its body is not needed.
		l.close(c)
		l.sched.learn(l.from.length, &l.have, piece{})
		l.stats.Total.Store(l.from.length)
		if err := l.prepareFile(); err != nil {
			l.fail(err)
			return false
		}
		l.fin = true
		return false
	case r.Status == 200 && resuming:
		// We asked for the bytes after what is on disk, with If-Range when a validator is
		// known. With the recorded size and validators on the 200 (or no record to compare
		// it with), the file is the same and the server simply ignores ranges; otherwise it
		// changed.
		if l.dated && l.refusedDates == 0 && l.from.ctl != nil && sameAsRecord(l.from.ctl, r) {
			// The record's date in If-Range, taken for too weak (see dateRefused): the same
			// file, asked again. The 206 is still compared with the record before a byte of
			// it is written.
			l.askAgain(c)
			return false
		}
		if sameAsRecord(l.from.ctl, r) {
			l.close(c)
			l.redo = true // --overwrite
			l.fail(errorf(KindHTTP, nil, "cannot continue %s: %s ignores ranges (it answered HTTP 200 to a request for bytes %d-); use --overwrite to download it again",
				l.job.Output, l.job.URL, c.piece.start))
			return false
		}
		return l.changed(c, "%s answered with the whole file (HTTP 200) instead of bytes %d-", l.job.URL, c.piece.start)
	case r.Status == 200:
		if !l.acceptWhole(c) {
			return false
		}
	case r.Status == 416 && r.HasRange && r.Range.Start < 0 && (r.Range.Total == 0 || resuming):
		// RFC 9110 §15.5.17: the range starts at or past the end of the file. For an empty
		// file, or a file continued from its length that is complete already, that is the
		// end. The body is an error page: read and dropped.
		switch {
		case resuming && l.from.ctl != nil && r.Range.Total != l.from.ctl.Size:
			return l.changed(c, "size %d, was %d", r.Range.Total, l.from.ctl.Size)
		case resuming && l.from.ctl != nil:
			// The size recorded, yet the bytes still missing are "not satisfiable".
			l.close(c)
			l.fail(errorf(KindIntegrity, nil, "%s answered HTTP 416 (%s) to a request for bytes %d- of a file that long: the server contradicts itself",
				l.job.URL, rangeString(r), c.piece.start))
			return false
		case resuming && r.Range.Total != l.from.length:
			return l.changed(c, "%s is %d bytes long now, and %s has %d", l.job.URL, r.Range.Total, l.job.Output, l.from.size())
		}
		c.drain = true
		l.ranged = true
		l.sched.learn(r.Range.Total, &l.have, piece{})
	case isRedirect(r.Status) && len(r.Location()) > 0 && r.KeepAlive && r.Body == httpparse.BodyLength && r.ContentLength <= maxRedirectPage:
		// The redirect's page, short and of a known length, is read and dropped: the
		// connection is then parked for the next download from the server (closeConns), the
		// redirect's own perhaps. Closed, it cost a new connection per file of a list.
		c.drain, l.redirected = true, l.redirect(r)
		return true
	default:
		l.badStatus(c)
		return false
	}
	if resuming && l.from.ctl == nil && l.job.Small && !c.drain && l.sched.total != l.from.length {
		// In a list, a file with no record is not known to be this entry's: rangedl leaves a
		// small file of a list whole or empty, and a big one with a record, so it may be
		// another entry's, saved under the same name. Continued from its length, the two
		// would be joined into one. (A file of the remote length is complete.)
		l.close(c)
		l.fail(errorf(KindIO, nil, "%s has %d bytes and no record (%s) that says they are the start of %s: in a list, -c continues only what rangedl recorded; continue it alone with -c, or use --overwrite",
			l.job.Output, l.from.length, l.job.Output+ControlSuffix, l.job.URL))
		return false
	}
	c.probe = false
	l.etag = bytes.Clone(r.ETag())
	l.lastMod = bytes.Clone(r.LastModified())
	l.encoding = bytes.Clone(r.ContentEncoding())
	if len(l.encoding) > 0 && !resuming {
		// Asked for as it is (Accept-Encoding: identity), and sent compressed all the same
		// (Apache's force-gzip): saved as sent, as curl and wget save it, but said (a hunt).
		l.job.Notice(fmt.Sprintf("the server sent the file encoded (Content-Encoding: %s) though rangedl asked for it as it is; it is saved as sent", shownText(string(l.encoding))))
	}
	l.ifRange = ifRangeValue(l.etag, l.lastMod)
	l.dated = isDate(l.ifRange)
	if ctl := l.from.ctl; resuming && ctl != nil {
		switch {
		case l.sched.total != ctl.Size:
			return l.changed(c, "size %d, was %d", l.sched.total, ctl.Size)
		case ctl.ETag != "" && !sameTag(l.etag, []byte(ctl.ETag)):
			return l.changed(c, "ETag %s, was %s", shownTag(l.etag), shownTag([]byte(ctl.ETag)))
		case ctl.LastModified != "" && string(l.lastMod) != ctl.LastModified:
			return l.changed(c, "Last-Modified %q, was %q", l.lastMod, ctl.LastModified)
		}
	}
	if total := l.sched.total; total != unknownEnd {
		l.stats.Total.Store(total)
	}
	if l.ranged && !c.drain && len(l.etag) == 0 && len(l.lastMod) == 0 { // drained: nothing to fetch
		// A weak ETag cannot go in If-Range, but every later response must repeat it.
		switch {
		case resuming:
			l.job.Notice("the server sends no ETag or Last-Modified: a change of the file since the partial download cannot be detected, unless its size changed")
		case l.job.Connections > 1:
			l.job.Notice("the server sends no ETag or Last-Modified: a change of the file during the download cannot be detected")
		}
	}
	if l.job.Stream != nil {
		l.out = newStream(l.job.Stream, l.target)
		return true
	}
	if total := l.sched.total; l.job.Small && l.created && !resuming && total != unknownEnd && total <= SmallFile && c.piece.start == 0 && c.piece.end == total {
		// One response brings the whole small file: no other connection, no record (see
		// Job.Small). The file is new, so no old record or content needs removing.
		l.target, l.small = 1, true
		l.out = newSmallFile(l.file, total)
		return true
	}
	if err := l.prepareFile(); err != nil {
		l.close(c)
		l.fail(err)
		return false
	}
	return true
}

// acceptWhole takes a 200 to the first request: the server ignores ranges (or the length is
// unknown), and this response is streamed to its end. It reports false when the head
// contradicts itself; the download has failed then.
func (l *Loop) acceptWhole(c *conn) bool {
	r, bare := &c.p.Resp, c.piece.bare
	end := r.ContentLength
	if r.Body != httpparse.BodyLength {
		end = unknownEnd
	}
	if r.HasRange {
		// No range was applied (RFC 9110 §14.4 gives Content-Range to 206 and 416): one
		// that names less than the whole body, or another length, contradicts the 200.
		cr := r.Range
		if cr.Start != 0 || cr.End+1 != cr.Total || cr.Total == unknownEnd || end != unknownEnd && end != cr.Total {
			l.close(c)
			l.fail(errorf(KindIntegrity, nil, "%s answered HTTP 200 (the whole file) with Content-Range %s and %s: the server contradicts itself",
				l.job.URL, rangeString(r), lengthString(r)))
			return false
		}
		end = cr.Total // a body without a length must have this one
	}
	if end == unknownEnd && r.Body == httpparse.BodyLength {
		l.close(c)
		l.fail(errorf(KindIntegrity, nil, "%s answered with Content-Length %d, more than any file can hold", l.job.URL, r.ContentLength))
		return false
	}
	c.piece = piece{start: 0, end: end}
	c.reqEnd = end
	l.sched.learn(end, &l.have, c.piece)
	if l.job.Connections > 1 && !l.noticed && end != 0 {
		// An empty file has no ranges to give: Apache, lighttpd and busybox answer a range of
		// one with a 200 of no body, which said the server "does not support ranges" (a hunt).
		l.noticed = true
		switch {
		case bare:
			l.job.Notice("the server refused a range of the file (HTTP 400); downloading it over one connection, without one")
		case end == unknownEnd:
			l.job.Notice("the server did not say how long the file is; downloading over one connection")
		default:
			l.job.Notice("the server does not support ranges; downloading over one connection")
		}
	}
	return true
}

// prepareFile readies the output for the first body byte, in an order that keeps every
// instant safe to crash in. A file of the full length must never exist without a record of
// which bytes in it are real, or with a record that claims bytes it lacks. So a download that
// will keep a control file (only a ranged one of known size could be resumed) writes its
// record first, then empties --overwrite's old file, then allocates; one that will not first
// empties the old file, durably, and only then removes an old record: -c refuses a file
// shorter than its record, but would take the old file without one for complete.
func (l *Loop) prepareFile() *Error {
	l.out = newFile(l.file, l.target, l.from.have())
	total := l.sched.total
	if !l.ranged || total == unknownEnd {
		if err := l.emptyOld(true); err != nil {
			return err
		}
		// The file is still synced as it goes, and at the end: "saved" means on disk,
		// record or not.
		if err := reorder.RemoveControl(l.job.Output + ControlSuffix); err != nil {
			return errorf(KindIO, err, "cannot remove %s", l.job.Output+ControlSuffix)
		}
		if err := l.out.keepJournal("", reorder.Control{}, &l.job, l.now); err != nil {
			return errorf(KindIO, err, "cannot start %s", l.job.Output)
		}
		return nil
	}
	path := l.job.Output + ControlSuffix
	complete := l.have.Size() == total
	if l.from.ctl == nil && complete {
		// Complete already, without a record (-c from its length): nothing will be written,
		// and a record would only cost a write that a full disk refuses. It is synced at the
		// end all the same.
		path = ""
	}
	rec := reorder.Control{URL: l.job.origin(), FinalURL: l.job.URL, Size: total, ETag: string(l.etag),
		LastModified: string(l.lastMod), PieceSize: l.job.PieceSize}
	if err := l.out.keepJournal(path, rec, &l.job, l.now); err != nil {
		return errorf(KindIO, err, "cannot start %s", l.job.Output)
	}
	if err := l.emptyOld(false); err != nil {
		return err
	}
	if complete {
		return nil // no room to ask for, however few of its blocks a sparse file has
	}
	missing := l.have.Missing(total)
	if !l.created && filled(l.file.File(), total) {
		missing = nil // a resume, and the blocks are there
	}
	if err := allocate(l.file.File(), total, missing, l.job.Allocation); err != nil {
		if errors.Is(err, unix.EFBIG) {
			// Not a matter of room: freeing some, as after "not enough room", does not help
			// (ext2 with 1 KiB blocks holds 16 GiB at most; ulimit -f sets a limit too).
			return errorf(KindIO, err, "%s (%d bytes) is larger than a file may be there (a limit of its filesystem, or ulimit -f)", l.job.Output, total)
		}
		if errors.Is(err, unix.ENOSPC) || errors.Is(err, unix.EDQUOT) {
			return errorf(KindIO, err, "not enough room for %s (%d bytes)", l.job.Output, total)
		}
		return errorf(KindIO, err, "cannot allocate %s", l.job.Output)
	}
	return nil
}

// emptyOld truncates an old file that nothing of is kept (--overwrite, or -c with nothing
// worth keeping): its content goes only now that a new version is on its way. With durably,
// the truncation is synced before emptyOld returns.
func (l *Loop) emptyOld(durably bool) *Error {
	if l.created || l.have.Size() > 0 {
		return nil
	}
	f := l.file.File()
	err := f.Truncate(0)
	l.emptied = err == nil
	if err == nil && durably {
		err = f.Sync()
	}
	if err != nil {
		return errorf(KindIO, err, "cannot truncate %s", l.job.Output)
	}
	return nil
}

// changed fails the download because the remote file is not the one the bytes on disk came
// from. The message's details follow ErrRemoteChanged's text.
func (l *Loop) changed(c *conn, format string, args ...any) bool {
	l.close(c)
	l.fail(&Error{Kind: KindIntegrity, Msg: "cannot continue " + l.job.Output,
		Err: fmt.Errorf("%w (%s)", ErrRemoteChanged, fmt.Sprintf(format, args...))})
	return false
}

// shownTag renders an entity tag for a message. One that is well formed (RFC 9110 §8.8.3)
// carries its own quotes and is shown as it came: "v1", not "\"v1\"". Anything else is quoted
// with escapes, so that no control byte reaches the terminal; an absent one is "none".
func shownTag(tag []byte) string {
	if len(tag) == 0 {
		return "none"
	}
	opaque := bytes.TrimPrefix(tag, []byte("W/"))
	if len(opaque) < 2 || opaque[0] != '"' || opaque[len(opaque)-1] != '"' {
		return fmt.Sprintf("%q", tag)
	}
	for _, b := range opaque[1 : len(opaque)-1] {
		if b == '"' || b < 0x21 || b > 0x7e {
			return fmt.Sprintf("%q", tag)
		}
	}
	return string(tag)
}

// shownText renders text that a server chose (a reason phrase, a name in its certificate) for
// a message: as it came when every character in it is printable, else quoted with escapes, so
// that no control or format character (an escape sequence, a bidirectional override) and no
// byte that is not UTF-8 reaches the terminal.
func shownText(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	return strconv.Quote(s)
}

// refused counts a 429 or 503 on c, and reports whether the server has refused too often to go
// on. The count is of the whole download, not of c's piece: refusing each piece in turn, a server
// that sheds every request after the first held a file of many pieces for minutes (each with
// its --retries, one at a time). Refusals of requests sent together count once, as a burst of
// connects does (connectFailed), and a body byte between two starts the count again.
func (l *Loop) refused(c *conn) bool {
	if l.done != l.refusedDone {
		l.refusals.n, l.refusedDone = 0, l.done
	}
	l.refusals.add(l.now, c.since) // since is still when it was asked
	return l.refusals.n > l.job.MaxRetries
}

// statusText renders r's status for a message: "HTTP 404 Not Found".
func statusText(r *httpparse.Response) string {
	return fmt.Sprintf("HTTP %d %s", r.Status, shownText(string(r.Reason())))
}

// ifRangeValue picks the If-Range value: a strong entity tag, or else a date (RFC 9110 §13.1.5).
func ifRangeValue(etag, lastMod []byte) []byte {
	switch {
	case len(etag) > 0 && !bytes.HasPrefix(etag, []byte("W/")):
		return etag
	case len(lastMod) > 0:
		return lastMod
	}
	return nil
}

// badStatus handles an error status: retried when the server may recover (RFC 9110 §15.5.9,
// §15.6), fatal otherwise.
func (l *Loop) badStatus(c *conn) {
	r := &c.p.Resp
	what := statusText(r)
	switch {
	case r.Status == 400 && c.probe && !c.piece.bare && l.have.Size() == 0 && !l.ranged:
		// webfsd refuses any range that ends past the file with a 400, and the first
		// request asks for 1 MiB: every smaller file failed (wget and aria2c, which ask for
		// none, got it). Asked again without a range, the whole file comes in a 200.
		c.piece.bare = true
		l.trace.note("bare", c, 0, 0, what)
		l.release(c, false, 0)
	case isRedirect(r.Status) && len(r.Location()) > 0 && c.probe:
		l.close(c)
		l.fail(l.redirect(r))
	case (r.Status == 403 || r.Status == 410) && !c.probe && l.job.Origin != "":
		l.close(c)
		l.fail(&Error{Kind: KindHTTP, Msg: what + " from " + l.job.URL, Err: ErrExpired})
	case r.Status == 407 && l.job.Proxy != "" && l.job.Tunnel == "": // through a tunnel, the origin's
		l.close(c)
		l.failProxyAuth()
	case r.Status == 429 || r.Status == 503:
		// The server asks for less (RFC 6585 §4, RFC 9110 §15.6.4): one connection fewer from
		// now on, and the retry waits at least as long as Retry-After says.
		l.restore = 0 // the server is there, and asks for less
		if t := max(1, min(l.target, l.live)-1); t != l.target {
			l.target = t
			l.trace.note("target", c, int64(l.target), 0, what)
		}
		l.trouble = l.now
		// Retry-After is the least wait; since is still when the request went out (see moved).
		wait, asked := retryAfter(r.RetryAfter(), l.now), c.since
		if l.refused(c) && c.piece.attempts < l.job.MaxRetries { // (else the piece's own line)
			l.close(c)
			l.fail(errorf(KindHTTP, nil, "%s from %s, %d times in a row", what, l.job.URL, l.refusals.n))
		} else {
			l.requeue(c, KindHTTP, nil, what, wait)
		}
		l.host.refused(l.now, asked, wait) // and the other downloads from it hold back too (c is closed)
	case r.Status == 408 || r.Status == 500 || r.Status == 502 || r.Status == 504:
		l.pieceFailed(c, KindHTTP, nil, what)
	case c.probe:
		l.close(c)
		l.fail(errorf(KindHTTP, nil, "%s from %s", what, l.job.URL))
	default:
		e := &Error{Kind: KindHTTP, Msg: fmt.Sprintf("%s (bytes %d-%d of %s)", what, c.piece.start, c.piece.end-1, l.job.URL)}
		switch {
		case r.Status == 416 && r.HasRange && r.Range.Start < 0 && r.Range.Total < l.sched.total:
			// A range inside the file is not satisfiable: the file is shorter now.
			e.Kind, e.Err = KindIntegrity, fmt.Errorf("%w (%s, was %d bytes)", ErrRemoteChanged, rangeString(r), l.sched.total)
		case r.Status == 416:
			e.Kind, e.Msg = KindIntegrity, e.Msg+": a range inside the file, not satisfiable: the server contradicts itself"
		case isRedirect(r.Status):
			e.Msg += ": a redirect in the middle of a download is not followed"
		}
		l.close(c)
		l.fail(e)
	}
}

// failProxyAuth fails the download because the proxy wants credentials (RFC 9110 §15.5.8):
// it says how to give them, or that those given were refused.
func (l *Loop) failProxyAuth() {
	l.redo = true
	if l.job.ProxyAuth != "" {
		l.fail(errorf(KindHTTP, nil, "proxy %s refused the user and password given (HTTP 407)", l.job.Proxy))
		return
	}
	l.fail(errorf(KindHTTP, nil, "proxy %s wants a user and password (HTTP 407): give them in the proxy URL, http://USER:PASS@%s", l.job.Proxy, l.job.Proxy))
}

// redirect is the error that ends a download whose first answer, r, is a redirect.
func (l *Loop) redirect(r *httpparse.Response) *Error {
	return &Error{Kind: KindHTTP, Msg: fmt.Sprintf("%s from %s", statusText(r), l.job.URL),
		Err: &Redirect{Status: r.Status, Location: string(r.Location())}}
}

// maxRedirectPage bounds the page of a redirect that is read and dropped to keep its connection.
const maxRedirectPage = 64 << 10

// isRedirect reports whether status is a redirect that names where to go (RFC 9110 §15.4).
func isRedirect(status int) bool {
	switch status {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

// lengthString describes how a response's body is delimited, for messages.
func lengthString(r *httpparse.Response) string {
	switch r.Body {
	case httpparse.BodyLength:
		return fmt.Sprintf("Content-Length %d", r.ContentLength)
	case httpparse.BodyChunked:
		return "a chunked body"
	case httpparse.BodyNone:
		return "no body"
	}
	return "a body that ends at the close"
}

// rangeString describes a response's Content-Range for messages.
func rangeString(r *httpparse.Response) string {
	switch {
	case !r.HasRange:
		return fmt.Sprintf("HTTP %d without Content-Range", r.Status)
	case r.Range.Start < 0:
		return fmt.Sprintf("bytes */%d", r.Range.Total)
	case r.Range.Total < 0:
		return fmt.Sprintf("bytes %d-%d/*", r.Range.Start, r.Range.End)
	}
	return fmt.Sprintf("bytes %d-%d/%d", r.Range.Start, r.Range.End, r.Range.Total)
}

// maxRetryAfter caps how long a Retry-After can hold a piece back: a server asking for an hour
// gets a minute, and the retries (bounded) end the download if it keeps refusing.
const maxRetryAfter = time.Minute

// retryAfter parses a Retry-After value (RFC 9110 §10.2.3): delay-seconds or an HTTP-date.
func retryAfter(v []byte, now time.Time) time.Duration {
	if len(v) == 0 {
		return 0
	}
	if secs, err := strconv.ParseUint(string(v), 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		// Too many digits for a number is a very long wait too (ParseUint gives its maximum).
		return time.Duration(min(secs, uint64(maxRetryAfter/time.Second))) * time.Second
	}
	if t, err := time.Parse(httpDate, string(v)); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// httpDate is the IMF-fixdate layout of RFC 9110 §5.6.7.
const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"
