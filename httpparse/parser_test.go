package httpparse

import (
	"errors"
	"testing"
)

// tableCase describes one input and what its first response must look
// like. Every case is fed whole, split in two at every point and one byte
// at a time (checkFeeds), and must give the same outcome each way.
type tableCase struct {
	name   string
	in     string
	noBody bool

	err    error // first failure, or EOF's result; nil when clean
	status int   // 0: no head expected
	body   BodyKind
	cl     int64
	keep   bool
	data   string
}

// ok200 is the start of many cases.
const ok200 = "HTTP/1.1 200 OK\r\n"

var validCases = []tableCase{
	{name: "length", in: ok200 + "Content-Length: 5\r\n\r\nhello",
		status: 200, body: BodyLength, cl: 5, keep: true, data: "hello"},
	{name: "length zero", in: ok200 + "Content-Length: 0\r\n\r\n",
		status: 200, body: BodyLength, cl: 0, keep: true},
	{name: "partial content", in: "HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 0-4/10\r\nContent-Length: 5\r\n\r\nhello",
		status: 206, body: BodyLength, cl: 5, keep: true, data: "hello"},
	{name: "empty lines before the status line", in: "\r\n\n\r\n" + ok200 + "Content-Length: 2\r\n\r\nhi",
		status: 200, body: BodyLength, cl: 2, keep: true, data: "hi"},
	{name: "empty lines then EOF", in: "\r\n\r\n"},
	{name: "a CR then EOF", in: "\r"},
	{name: "an empty line and a CR then EOF", in: "\r\n\r"},
	{name: "bare LF", in: "HTTP/1.1 200 OK\nContent-Length: 2\n\nhi",
		status: 200, body: BodyLength, cl: 2, keep: true, data: "hi"},
	{name: "mixed line endings", in: "HTTP/1.1 200 OK\r\nContent-Length: 2\n\r\nhi",
		status: 200, body: BodyLength, cl: 2, keep: true, data: "hi"},
	{name: "empty reason with SP", in: "HTTP/1.1 200 \r\nContent-Length: 0\r\n\r\n",
		status: 200, body: BodyLength, cl: 0, keep: true},
	{name: "no reason no SP", in: "HTTP/1.1 200\r\nContent-Length: 0\r\n\r\n",
		status: 200, body: BodyLength, cl: 0, keep: true},
	{name: "reason with obs-text and tab", in: "HTTP/1.1 200 Gut\xe9\tok\r\nContent-Length: 0\r\n\r\n",
		status: 200, body: BodyLength, cl: 0, keep: true},
	{name: "status 999", in: "HTTP/1.1 999 Odd\r\nContent-Length: 0\r\n\r\n",
		status: 999, body: BodyLength, cl: 0, keep: true},
	{name: "1.0 close delimited", in: "HTTP/1.0 200 OK\r\n\r\nabc",
		status: 200, body: BodyClose, cl: -1, keep: false, data: "abc"},
	{name: "1.1 close delimited", in: ok200 + "\r\nabc",
		status: 200, body: BodyClose, cl: -1, keep: false, data: "abc"},
	{name: "1.0 keep-alive", in: "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "1.0 default close", in: "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: false, data: "x"},
	{name: "connection close in list", in: ok200 + "Connection: foo, CLOSE\r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: false, data: "x"},
	{name: "connection close on second line", in: ok200 + "Connection: upgrade\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: false, data: "x"},
	{name: "1.0 keep-alive and close", in: "HTTP/1.0 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: false, data: "x"},
	{name: "chunked", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n5\r\npedia\r\n0\r\n\r\n",
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "Wikipedia"},
	{name: "chunked case and OWS", in: ok200 + "transfer-encoding:  Chunked \r\n\r\n1\r\na\r\n0\r\n\r\n",
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "a"},
	{name: "chunked hex, zeros, ext", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n00A;name=\"v; x\"\r\n0123456789\r\n000 ; last\r\n\r\n",
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "0123456789"},
	{name: "chunked, bare LF in head and trailer", in: ok200 + "Transfer-Encoding: chunked\n\n3\r\nabc\r\n0\r\nX-T: 1\n\r\n",
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "chunked trailers", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\nDigest: x\r\nContent-Length: 99\r\n\r\n",
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "ab"},
	{name: "chunked size trailing OWS", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n2 \t\r\nab\r\n0\r\n\r\n",
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "ab"},
	{name: "content-length list", in: ok200 + "Content-Length: 3, 3 ,3\r\n\r\nabc",
		status: 200, body: BodyLength, cl: 3, keep: true, data: "abc"},
	{name: "content-length repeated", in: ok200 + "Content-Length: 3\r\ncontent-length: 003\r\n\r\nabc",
		status: 200, body: BodyLength, cl: 3, keep: true, data: "abc"},
	{name: "content-length max int64", in: ok200 + "Content-Length: 9223372036854775807\r\n\r\n",
		status: 200, body: BodyLength, cl: 1<<63 - 1, keep: true, err: ErrUnexpectedEOF},
	{name: "204 with length", in: "HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n",
		status: 204, body: BodyNone, cl: 10, keep: true},
	{name: "304 with chunked", in: "HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n",
		status: 304, body: BodyNone, cl: -1, keep: true},
	{name: "HEAD with length", in: ok200 + "Content-Length: 1000\r\n\r\n", noBody: true,
		status: 200, body: BodyNone, cl: 1000, keep: true},
	{name: "CONNECT 200", in: "HTTP/1.1 200 Connection established\r\n\r\n", noBody: true,
		status: 200, body: BodyNone, cl: -1, keep: true},
	{name: "100 continue", in: "HTTP/1.1 100 Continue\r\n\r\n" + ok200 + "Content-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "1xx headers forgotten", in: "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\nETag: \"x\"\r\nContent-Length: 7\r\n\r\n" + ok200 + "Content-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "OWS and tab in value", in: ok200 + "X-A: \t a \t b \t\r\nContent-Length:1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "obs-text value", in: ok200 + "X-A: caf\xc3\xa9\r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "empty value", in: ok200 + "X-Empty:\r\nX-Blank:   \r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "tchar name", in: ok200 + "!#$%&'*+-.^_`|~09azAZ: v\r\nContent-Length: 1\r\n\r\nx",
		status: 200, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "unsatisfied range", in: "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */1000\r\nContent-Length: 0\r\n\r\n",
		status: 416, body: BodyLength, cl: 0, keep: true},
	{name: "range unknown total", in: "HTTP/1.1 206 Partial Content\r\nContent-Range: BYTES 0-0/*\r\nContent-Length: 1\r\n\r\nx",
		status: 206, body: BodyLength, cl: 1, keep: true, data: "x"},
	{name: "identical etags", in: ok200 + "ETag: \"a\"\r\nEtag: \"a\"\r\nContent-Length: 0\r\n\r\n",
		status: 200, body: BodyLength, cl: 0, keep: true},
	{name: "nothing at all", in: ""},
}

var invalidCases = []tableCase{
	// Status line.
	{name: "leading space", in: " HTTP/1.1 200 OK\r\n", err: ErrBadStatusLine},
	{name: "lower case name", in: "http/1.1 200 OK\r\n", err: ErrBadStatusLine},
	{name: "short status", in: "HTTP/1.1 20 OK\r\n", err: ErrBadStatusLine},
	{name: "long status", in: "HTTP/1.1 2000 OK\r\n", err: ErrBadStatusLine},
	{name: "status 099", in: "HTTP/1.1 099 Low\r\n", err: ErrBadStatusLine},
	{name: "tab after status", in: "HTTP/1.1 200\tOK\r\n", err: ErrBadStatusLine},
	{name: "two spaces", in: "HTTP/1.1  200 OK\r\n", err: ErrBadStatusLine},
	{name: "no status", in: "HTTP/1.1\r\n", err: ErrBadStatusLine},
	{name: "control in reason", in: "HTTP/1.1 200 O\x01K\r\n", err: ErrBadStatusLine},
	{name: "bare CR in status", in: "HTTP/1.1 200 O\rK\r\n", err: ErrBadStatusLine},
	{name: "HTTP/2", in: "HTTP/2 200\r\n", err: ErrBadStatusLine},
	{name: "HTTP/2.0", in: "HTTP/2.0 200 OK\r\n", err: ErrBadVersion},
	{name: "HTTP/1.2", in: "HTTP/1.2 200 OK\r\n", err: ErrBadVersion},
	{name: "HTTP/0.9", in: "HTTP/0.9 200 OK\r\n", err: ErrBadVersion},
	{name: "upgrade", in: "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", err: ErrUpgrade},
	{name: "upgrade after 100", in: "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 101 Switching Protocols\r\n\r\n", err: ErrUpgrade},

	// Header lines.
	{name: "obs-fold", in: ok200 + "X-A: a\r\n b\r\n\r\n", err: ErrBadHeader},
	{name: "obs-fold tab", in: ok200 + "X-A: a\r\n\tb\r\n\r\n", err: ErrBadHeader},
	{name: "space before colon", in: ok200 + "Content-Length : 5\r\n\r\n", err: ErrBadHeader},
	{name: "no colon", in: ok200 + "NoColon\r\n\r\n", err: ErrBadHeader},
	{name: "empty name", in: ok200 + ": x\r\n\r\n", err: ErrBadHeader},
	{name: "bad name char", in: ok200 + "Bad@Name: x\r\n\r\n", err: ErrBadHeader},
	{name: "NUL in value", in: ok200 + "X-A: a\x00b\r\n\r\n", err: ErrBadHeader},
	{name: "bare CR in value", in: ok200 + "X-A: a\rb\r\n\r\n", err: ErrBadHeader},
	{name: "CR CR LF", in: ok200 + "X-A: a\r\r\n\r\n", err: ErrBadHeader},
	{name: "DEL in value", in: ok200 + "X-A: a\x7f\r\n\r\n", err: ErrBadHeader},
	{name: "bare CR line", in: ok200 + "\r\r\n", err: ErrBadHeader},
	{name: "differing etags", in: ok200 + "ETag: \"a\"\r\nETag: \"b\"\r\n\r\n", err: ErrBadHeader},

	// Content-Length.
	{name: "negative length", in: ok200 + "Content-Length: -1\r\n\r\n", err: ErrBadContentLength},
	{name: "plus length", in: ok200 + "Content-Length: +5\r\n\r\n", err: ErrBadContentLength},
	{name: "hex length", in: ok200 + "Content-Length: 0x10\r\n\r\n", err: ErrBadContentLength},
	{name: "empty length", in: ok200 + "Content-Length:\r\n\r\n", err: ErrBadContentLength},
	{name: "empty list element", in: ok200 + "Content-Length: 5,,5\r\n\r\n", err: ErrBadContentLength},
	{name: "trailing comma", in: ok200 + "Content-Length: 5,\r\n\r\nhello", err: ErrBadContentLength},
	{name: "leading comma", in: ok200 + "Content-Length: , 5\r\n\r\nhello", err: ErrBadContentLength},
	{name: "inner space", in: ok200 + "Content-Length: 1 2\r\n\r\n", err: ErrBadContentLength},
	{name: "differing list", in: ok200 + "Content-Length: 5, 6\r\n\r\n", err: ErrBadContentLength},
	{name: "differing lines", in: ok200 + "Content-Length: 5\r\nContent-Length: 6\r\n\r\n", err: ErrBadContentLength},
	{name: "length overflow", in: ok200 + "Content-Length: 9223372036854775808\r\n\r\n", err: ErrBadContentLength},
	{name: "length overflow long", in: ok200 + "Content-Length: 99999999999999999999\r\n\r\n", err: ErrBadContentLength},
	{name: "bad length on 204", in: "HTTP/1.1 204 No Content\r\nContent-Length: x\r\n\r\n", err: ErrBadContentLength},

	// Transfer-Encoding.
	{name: "gzip", in: ok200 + "Transfer-Encoding: gzip\r\n\r\n", err: ErrBadTransferEncoding},
	{name: "gzip, chunked", in: ok200 + "Transfer-Encoding: gzip, chunked\r\n\r\n", err: ErrBadTransferEncoding},
	{name: "chunked, chunked", in: ok200 + "Transfer-Encoding: chunked, chunked\r\n\r\n", err: ErrBadTransferEncoding},
	{name: "chunked twice", in: ok200 + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrBadTransferEncoding},
	{name: "identity", in: ok200 + "Transfer-Encoding: identity\r\n\r\n", err: ErrBadTransferEncoding},
	{name: "empty coding", in: ok200 + "Transfer-Encoding:\r\n\r\n", err: ErrBadTransferEncoding},
	{name: "1.0 chunked", in: "HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrBadTransferEncoding},
	{name: "length and chunked", in: ok200 + "Content-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", err: ErrLengthAndChunked},
	{name: "chunked and length", in: ok200 + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", err: ErrLengthAndChunked},
	{name: "length and chunked on HEAD", in: ok200 + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", noBody: true, err: ErrLengthAndChunked},

	// Content-Range.
	{name: "range start after end", in: ok200 + "Content-Range: bytes 5-4/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range end at total", in: ok200 + "Content-Range: bytes 0-10/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range unit", in: ok200 + "Content-Range: items 0-4/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range equals sign", in: ok200 + "Content-Range: bytes=0-4/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range no total", in: ok200 + "Content-Range: bytes 0-4\r\n\r\n", err: ErrBadContentRange},
	{name: "range no end", in: ok200 + "Content-Range: bytes 0-/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range suffix form", in: ok200 + "Content-Range: bytes -5/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range star star", in: ok200 + "Content-Range: bytes */*\r\n\r\n", err: ErrBadContentRange},
	{name: "range trailing junk", in: ok200 + "Content-Range: bytes 0-4/10x\r\n\r\n", err: ErrBadContentRange},
	{name: "range star junk", in: ok200 + "Content-Range: bytes 0-4/*x\r\n\r\n", err: ErrBadContentRange},
	{name: "range overflow", in: ok200 + "Content-Range: bytes 0-4/9223372036854775808\r\n\r\n", err: ErrBadContentRange},
	{name: "range two spaces", in: ok200 + "Content-Range: bytes  0-4/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range repeated", in: ok200 + "Content-Range: bytes 0-4/10\r\nContent-Range: bytes 0-4/10\r\n\r\n", err: ErrBadContentRange},
	{name: "range bare unit", in: ok200 + "Content-Range: bytes\r\n\r\n", err: ErrBadContentRange},

	// Chunked framing.
	{name: "bad hex", in: ok200 + "Transfer-Encoding: chunked\r\n\r\ng\r\n", err: ErrBadChunk},
	{name: "empty size", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n\r\n", err: ErrBadChunk},
	{name: "leading space size", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n 1\r\na\r\n", err: ErrBadChunk},
	{name: "17 digits", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n00000000000000001\r\n", err: ErrBadChunk},
	{name: "size overflow", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n8000000000000000\r\n", err: ErrBadChunk},
	{name: "ext without semicolon", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n1 x\r\na\r\n", err: ErrBadChunk},
	{name: "control in ext", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n1;a\x01\r\na\r\n", err: ErrBadChunk},
	{name: "data too long", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n", err: ErrBadChunk,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "CR without LF", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\rX", err: ErrBadChunk,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "bad size after data", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\nz\r\n", err: ErrBadChunk,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "bare LF after size", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\nabc\r\n0\r\n\r\n", err: ErrBadChunk,
		status: 200, body: BodyChunked, cl: -1, keep: true},
	{name: "bare LF after data", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n", err: ErrBadChunk,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "bare LF after last chunk", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\n\r\n", err: ErrBadChunk,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "bare LF ending the body", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nX-T: 1\r\n\n", err: ErrBadChunk,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "bad trailer", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\nbad trailer\r\n\r\n", err: ErrBadHeader,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "abc"},
	{name: "bare CR trailer", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n0\r\nA: b\rc\r\n\r\n", err: ErrBadHeader,
		status: 200, body: BodyChunked, cl: -1, keep: true},

	// Cut short.
	{name: "EOF in status line", in: "HTTP/1.1 200", err: ErrUnexpectedEOF},
	{name: "EOF after an empty line", in: "\r\nH", err: ErrUnexpectedEOF},
	{name: "EOF in head", in: ok200 + "Content-Length: 5\r\n", err: ErrUnexpectedEOF},
	{name: "EOF after 100", in: "HTTP/1.1 100 Continue\r\n\r\n", err: ErrUnexpectedEOF},
	{name: "EOF in length body", in: ok200 + "Content-Length: 5\r\n\r\nhel", err: ErrUnexpectedEOF,
		status: 200, body: BodyLength, cl: 5, keep: true, data: "hel"},
	{name: "EOF in chunk", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n5\r\nhel", err: ErrUnexpectedEOF,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "hel"},
	{name: "EOF before last chunk", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n", err: ErrUnexpectedEOF,
		status: 200, body: BodyChunked, cl: -1, keep: true, data: "hel"},
	{name: "EOF in trailers", in: ok200 + "Transfer-Encoding: chunked\r\n\r\n0\r\nA: b\r\n", err: ErrUnexpectedEOF,
		status: 200, body: BodyChunked, cl: -1, keep: true},
}

func TestTable(t *testing.T) {
	for _, set := range []struct {
		name  string
		cases []tableCase
	}{{"valid", validCases}, {"invalid", invalidCases}} {
		for _, tc := range set.cases {
			t.Run(set.name+"/"+tc.name, func(t *testing.T) {
				o := checkFeeds(t, []byte(tc.in), tc.noBody)
				if got := o.firstErr(); !errors.Is(got, tc.err) {
					t.Fatalf("error: got %v; want %v\n%v", got, tc.err, o.String())
				}
				if tc.status == 0 {
					if tc.err == nil && len(o.resps) != 0 {
						t.Fatalf("responses: got %v; want none", len(o.resps))
					}
					return
				}
				if len(o.resps) != 1 {
					t.Fatalf("responses: got %v; want 1\n%v", len(o.resps), o.String())
				}
				r := o.resps[0]
				if got := r.resp.Status; got != tc.status {
					t.Errorf("status: got %v; want %v", got, tc.status)
				}
				if got := r.resp.Body; got != tc.body {
					t.Errorf("body: got %v; want %v", got, tc.body)
				}
				if got := r.resp.ContentLength; got != tc.cl {
					t.Errorf("content length: got %v; want %v", got, tc.cl)
				}
				if got := r.resp.KeepAlive; got != tc.keep {
					t.Errorf("keep-alive: got %v; want %v", got, tc.keep)
				}
				if got := string(r.data); got != tc.data {
					t.Errorf("data: got %q; want %q", got, tc.data)
				}
				if tc.err == nil && r.resp.Body != BodyClose && !r.done {
					t.Errorf("done: got %v; want %v", r.done, true)
				}
			})
		}
	}
}

func TestResponseValues(t *testing.T) {
	in := "HTTP/1.1 206 Partial Content\r\n" +
		"ETag: W/\"abc\"\r\n" +
		"Last-Modified: Mon, 10 Nov 2025 12:00:00 GMT\r\n" +
		"Location: /elsewhere?x=1\r\n" +
		"Retry-After: 120\r\n" +
		"Content-Encoding: gzip\r\n" +
		"content-encoding: \r\n" +
		"CONTENT-ENCODING:  br \r\n" +
		"Content-Range: bytes 100-199/1000\r\n" +
		"Content-Length: 100\r\n\r\n"
	o := checkFeeds(t, []byte(in), true)
	if len(o.resps) != 1 {
		t.Fatalf("responses: got %v; want 1", len(o.resps))
	}
	r := &o.resps[0].resp
	for _, c := range []struct {
		name      string
		got, want []byte
	}{
		{"reason", r.Reason(), []byte("Partial Content")},
		{"etag", r.ETag(), []byte(`W/"abc"`)},
		{"last-modified", r.LastModified(), []byte("Mon, 10 Nov 2025 12:00:00 GMT")},
		{"location", r.Location(), []byte("/elsewhere?x=1")},
		{"retry-after", r.RetryAfter(), []byte("120")},
		{"content-encoding", r.ContentEncoding(), []byte("gzip, br")},
	} {
		if string(c.got) != string(c.want) {
			t.Errorf("%s: got %q; want %q", c.name, c.got, c.want)
		}
	}
	if got, want := r.Range, (ContentRange{Start: 100, End: 199, Total: 1000}); !r.HasRange || got != want {
		t.Errorf("range: got %v %+v; want true %+v", r.HasRange, got, want)
	}

	// Absent values are nil; present empty ones are not.
	o = checkFeeds(t, []byte(ok200+"ETag:\r\nContent-Length: 0\r\n\r\n"), false)
	r = &o.resps[0].resp
	if got := r.ETag(); got == nil || len(got) != 0 {
		t.Errorf("empty etag: got %q (nil %v); want empty, not nil", got, got == nil)
	}
	for name, got := range map[string][]byte{
		"last-modified": r.LastModified(), "location": r.Location(),
		"retry-after": r.RetryAfter(), "content-encoding": r.ContentEncoding(),
	} {
		if got != nil {
			t.Errorf("%s: got %q; want nil", name, got)
		}
	}
	if r.HasRange {
		t.Errorf("HasRange: got %v; want %v", r.HasRange, false)
	}
}

// TestStickyError checks that a failed parser keeps failing until Reset,
// and works again after it.
func TestStickyError(t *testing.T) {
	var p Parser
	if _, err := p.Head([]byte("HTTP/9.9 200 OK\r\n")); err != ErrBadVersion {
		t.Fatalf("Head: got %v; want %v", err, ErrBadVersion)
	}
	for _, err := range []error{
		func() error { _, err := p.Head([]byte(ok200)); return err }(),
		func() error { _, _, _, err := p.Body([]byte("x")); return err }(),
		p.EOF(),
	} {
		if err != ErrBadVersion {
			t.Errorf("after failure: got %v; want %v", err, ErrBadVersion)
		}
	}
	p.Reset()
	if _, err := p.Head([]byte(ok200 + "Content-Length: 0\r\n\r\n")); err != nil {
		t.Fatalf("Head after Reset: got %v; want %v", err, nil)
	}
}

// TestCallOrder checks that calls in the wrong state are refused rather
// than misparsing.
func TestCallOrder(t *testing.T) {
	var p Parser
	if _, _, _, err := p.Body([]byte("x")); err != ErrCallOrder {
		t.Errorf("Body before Head: got %v; want %v", err, ErrCallOrder)
	}
	if _, err := p.Head([]byte(ok200 + "Content-Length: 1\r\n\r\n")); err != nil {
		t.Fatalf("Head: got %v; want %v", err, nil)
	}
	if _, err := p.Head([]byte(ok200)); err != ErrCallOrder {
		t.Errorf("Head during body: got %v; want %v", err, ErrCallOrder)
	}
	if _, _, done, err := p.Body([]byte("x")); !done || err != nil {
		t.Fatalf("Body: got done %v, %v; want true, nil", done, err)
	}
	if _, err := p.Head([]byte(ok200)); err != ErrCallOrder {
		t.Errorf("Head after done without Reset: got %v; want %v", err, ErrCallOrder)
	}
	if _, _, done, err := p.Body([]byte("y")); !done || err != nil {
		t.Errorf("Body after done: got done %v, %v; want true, nil", done, err)
	}
}

// TestResetClearsNoBody pins the documented behaviour: NoBody must be set
// again after each Reset.
func TestResetClearsNoBody(t *testing.T) {
	var p Parser
	p.NoBody = true
	p.Reset()
	if p.NoBody {
		t.Fatalf("NoBody after Reset: got %v; want %v", p.NoBody, false)
	}
}

// TestChunkPerCall checks the "one chunk per call" rule and that the end
// of the body is reported together with the last data when it is there.
func TestChunkPerCall(t *testing.T) {
	var p Parser
	in := []byte(ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\nNEXT")
	n, err := p.Head(in)
	if err != nil {
		t.Fatalf("Head: got %v; want %v", err, nil)
	}
	b := in[n:]
	for i, want := range []struct {
		data string
		done bool
	}{{"abc", false}, {"de", true}} {
		data, n, done, err := p.Body(b)
		if string(data) != want.data || done != want.done || err != nil {
			t.Fatalf("call %d: got %q %v %v; want %q %v %v", i, data, done, err, want.data, want.done, nil)
		}
		b = b[n:]
	}
	if got, want := string(b), "NEXT"; got != want {
		t.Errorf("rest: got %q; want %q", got, want)
	}
}

// TestDataThenError checks that payload preceding a framing error in the
// same buffer comes first, alone, and the error on the next call.
func TestDataThenError(t *testing.T) {
	var p Parser
	in := []byte(ok200 + "Transfer-Encoding: chunked\r\n\r\n3\r\nabcX")
	n, _ := p.Head(in)
	b := in[n:]
	data, n, done, err := p.Body(b)
	if string(data) != "abc" || done || err != nil || n != len(b)-1 {
		t.Fatalf("first call: got %q n=%d %v %v; want %q n=%d false nil", data, n, done, err, "abc", len(b)-1)
	}
	data, _, _, err = p.Body(b[n:])
	if data != nil || err != ErrBadChunk {
		t.Fatalf("second call: got %q %v; want nil %v", data, err, ErrBadChunk)
	}
}

func TestEOF(t *testing.T) {
	var p Parser
	if err := p.EOF(); err != nil {
		t.Errorf("EOF on a fresh parser: got %v; want %v", err, nil)
	}
	p.Reset()
	if _, err := p.Head(nil); err != ErrNeedMore {
		t.Errorf("Head(nil): got %v; want %v", err, ErrNeedMore)
	}
	if err := p.EOF(); err != nil {
		t.Errorf("EOF after Head(nil): got %v; want %v", err, nil)
	}
	p.Reset()
	if _, err := p.Head([]byte("H")); err != ErrNeedMore {
		t.Errorf("Head: got %v; want %v", err, ErrNeedMore)
	}
	if err := p.EOF(); err != ErrUnexpectedEOF {
		t.Errorf("EOF in a head: got %v; want %v", err, ErrUnexpectedEOF)
	}
	// A head whose body was not read yet but is empty anyway.
	p.Reset()
	if _, err := p.Head([]byte("HTTP/1.1 204 No Content\r\n\r\n")); err != nil {
		t.Fatalf("Head: got %v; want %v", err, nil)
	}
	if err := p.EOF(); err != nil {
		t.Errorf("EOF after 204: got %v; want %v", err, nil)
	}
}

// TestTunnelIgnoresFraming: a 2xx answer to CONNECT ends at its head
// whatever its framing fields say (RFC 9110 §9.3.6: a client must ignore
// them); any other answer to CONNECT is framed by them. Reset clears Tunnel.
func TestTunnelIgnoresFraming(t *testing.T) {
	const framing = "Content-Length: 7\r\nContent-Length: 9\r\nTransfer-Encoding: chunked\r\n\r\n"
	var p Parser
	p.Tunnel = true
	in := "HTTP/1.1 200 Connection established\r\n" + framing + "tunnel"
	n, err := p.Head([]byte(in))
	if err != nil || in[n:] != "tunnel" || p.Resp.Body != BodyNone {
		t.Fatalf("2xx to CONNECT: err %v, rest %q, body %v; want nil, %q, none", err, in[n:], p.Resp.Body, "tunnel")
	}
	p.Reset()
	p.Tunnel = true
	if _, err := p.Head([]byte("HTTP/1.1 407 Proxy Authentication Required\r\n" + framing)); err != ErrBadContentLength {
		t.Fatalf("407 to CONNECT with conflicting lengths: err %v; want %v", err, ErrBadContentLength)
	}
	// A page with it, framed by its length: it was taken for no body, and so for the start of
	// the next response.
	p.Reset()
	p.Tunnel = true
	in = "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 5\r\n\r\nhello"
	n, err = p.Head([]byte(in))
	if err != nil || p.Resp.Body != BodyLength || in[n:] != "hello" {
		t.Fatalf("407 to CONNECT with a page: err %v, body %v, rest %q; want nil, length, %q", err, p.Resp.Body, in[n:], "hello")
	}
	data, _, done, err := p.Body([]byte(in[n:]))
	if string(data) != "hello" || !done || err != nil {
		t.Fatalf("its body: %q, done %v, err %v; want %q, true, nil", data, done, err, "hello")
	}
	p.Reset()
	if p.Tunnel {
		t.Fatal("Tunnel after Reset; want false")
	}
}
