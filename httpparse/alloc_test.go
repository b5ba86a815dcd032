package httpparse

import (
	"strings"
	"testing"
)

// TestZeroAllocs proves the "no allocation per response" promise for the
// shapes the event loop sees: a typical 206 head and body in one read, the
// same trickling in one byte per read (so every line goes through the
// accumulator), and a chunked body with an extension and a trailer.
func TestZeroAllocs(t *testing.T) {
	body := strings.Repeat("x", 1<<20)
	// The same head for a 4 KiB range, so that feeding it one byte per
	// read stays quick under -race.
	small := strings.NewReplacer("Content-Length: 1048576", "Content-Length: 4096",
		"bytes 1048576-2097151/", "bytes 1048576-1052671/").Replace(nginx206)
	chunked := "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"4000;ext=1\r\n" + body[:16<<10] + "\r\n0\r\nX-Trailer: 1\r\n\r\n"
	for _, c := range []struct {
		name    string
		msg     string
		read    int
		payload int
	}{
		{"206 whole", nginx206 + body, len(nginx206) + len(body), len(body)},
		{"206 one byte per read", small + body[:4096], 1, 4096},
		{"chunked whole", chunked, len(chunked), 16 << 10},
		{"chunked one byte per read", chunked, 1, 16 << 10},
	} {
		t.Run(c.name, func(t *testing.T) {
			var p Parser
			msg := []byte(c.msg)
			got := -2
			allocs := testing.AllocsPerRun(50, func() { got = parseAll(&p, msg, c.read) })
			if got != c.payload {
				t.Fatalf("payload: got %v; want %v", got, c.payload)
			}
			if allocs != 0 {
				t.Errorf("allocations per response: got %v; want %v", allocs, 0)
			}
		})
	}
}
