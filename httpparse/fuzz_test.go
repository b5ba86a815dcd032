package httpparse

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"path/filepath"
	"testing"
)

// FuzzParser feeds arbitrary bytes, cut into pieces whose sizes the fuzzer
// also chooses, and checks that the outcome is the one whole-input parsing
// gives. drive checks the API contract on every call: no panic, n within
// b, data inside the bytes consumed, ErrNeedMore only when all of b was
// consumed. Every response that both this parser and net/http's
// ReadResponse read whole must have the same status and body in both.
// Crashers found are kept under testdata/fuzz/FuzzParser and run as part of
// go test.
func FuzzParser(f *testing.F) {
	for _, set := range [][]tableCase{validCases, invalidCases} {
		for _, tc := range set {
			f.Add([]byte(tc.in), []byte{1}, tc.noBody)
			f.Add([]byte(tc.in), []byte{17, 3, 200}, tc.noBody)
		}
	}
	files, err := filepath.Glob(filepath.Join("testdata", "golden", "*.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		_, cases, err := readGolden(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, c := range cases {
			// The 64 KiB limit cases would only slow the fuzzer down;
			// the mutator can grow inputs by itself.
			if len(c.input) <= 4096 {
				f.Add(c.input, []byte{5, 1, 64}, c.noBody)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in, sizes []byte, noBody bool) {
		whole := drive(t, [][]byte{in}, noBody)
		split := drive(t, splitAt(in, sizes), noBody)
		if got, want := split.String(), whole.String(); got != want {
			t.Fatalf("split %v:\ngot %v\nwant %v", sizes, got, want)
		}
		for i := range whole.resps {
			if err := checkInvariants(&whole.resps[i].resp); err != "" {
				t.Fatalf("response %d: %s\n%v", i, err, whole.String())
			}
		}
		std := stdlibResponses(in, noBody)
		for i := 0; i < len(whole.resps) && i < len(std); i++ {
			r := &whole.resps[i]
			last := i == len(whole.resps)-1
			if !(r.done || last && whole.err == nil && whole.eof == nil && r.resp.Body == BodyClose) || !std[i].done {
				break
			}
			if r.resp.Status != std[i].status || !bytes.Equal(r.data, std[i].body) {
				t.Fatalf("response %d: status %d, body %q; net/http read status %d, body %q\n%v",
					i, r.resp.Status, r.data, std[i].status, std[i].body, whole.String())
			}
		}
	})
}

// stdResponse is what net/http read of one response.
type stdResponse struct {
	status int
	body   []byte
	done   bool // the body was read to its end without an error
}

// stdlibResponses reads in as net/http's client reads a connection's responses to GET requests
// (to HEAD with noBody), skipping interim 1xx responses, until an error, the end of in, or a
// body that ends with the connection.
func stdlibResponses(in []byte, noBody bool) []stdResponse {
	method := http.MethodGet
	if noBody {
		method = http.MethodHead
	}
	req, err := http.NewRequest(method, "http://h/", nil)
	if err != nil {
		panic(err)
	}
	var out []stdResponse
	br := bufio.NewReader(bytes.NewReader(in))
	for {
		if _, err := br.Peek(1); err != nil {
			return out
		}
		resp, err := http.ReadResponse(br, req)
		if err != nil {
			return out
		}
		if resp.StatusCode/100 == 1 && resp.StatusCode != http.StatusSwitchingProtocols {
			continue
		}
		body, err := io.ReadAll(resp.Body)
		out = append(out, stdResponse{status: resp.StatusCode, body: body, done: err == nil})
		if err != nil || resp.Close || resp.ContentLength < 0 && len(resp.TransferEncoding) == 0 && !noBody {
			return out
		}
	}
}

// checkInvariants returns what is wrong with a head the parser accepted,
// or "" when it is consistent. These are the promises a caller relies on
// without checking them again.
func checkInvariants(r *Response) string {
	switch {
	case r.Major != 1 || r.Minor > 1:
		return "version not 1.0 or 1.1"
	case r.Status < 200 || r.Status > 999 || r.Status == 101:
		return "status out of range for a final response"
	case r.ContentLength < -1:
		return "negative Content-Length"
	case r.Body == BodyLength && r.ContentLength < 0:
		return "BodyLength without a length"
	case r.Body == BodyClose && r.KeepAlive:
		return "close-delimited body on a keep-alive connection"
	case len(r.Reason()) > maxReason:
		return "reason not truncated"
	case len(r.ETag()) > MaxValueLength || len(r.LastModified()) > MaxValueLength ||
		len(r.RetryAfter()) > MaxValueLength || len(r.ContentEncoding()) > MaxValueLength ||
		len(r.Location()) > MaxLocationLength:
		return "kept value over its limit"
	}
	if r.HasRange {
		cr := r.Range
		unsatisfied := cr.Start == -1 && cr.End == -1 && cr.Total >= 0
		satisfied := 0 <= cr.Start && cr.Start <= cr.End && (cr.Total == -1 || cr.End < cr.Total)
		if !unsatisfied && !satisfied {
			return "inconsistent Content-Range"
		}
	}
	return ""
}
