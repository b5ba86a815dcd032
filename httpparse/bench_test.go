package httpparse

import (
	"bytes"
	"strconv"
	"testing"
)

// nginx206 is the head nginx 1.24 sends for a ranged GET of a static file,
// the response rangedl parses most often.
const nginx206 = "HTTP/1.1 206 Partial Content\r\n" +
	"Server: nginx/1.24.0\r\n" +
	"Date: Sat, 22 Nov 2025 06:55:00 GMT\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Length: 1048576\r\n" +
	"Last-Modified: Mon, 10 Nov 2025 12:00:00 GMT\r\n" +
	"Connection: keep-alive\r\n" +
	"ETag: \"6911d2c0-40000000\"\r\n" +
	"Content-Range: bytes 1048576-2097151/1073741824\r\n" +
	"\r\n"

func BenchmarkHead(b *testing.B) {
	in := []byte(nginx206)
	var p Parser
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		p.Reset()
		if n, err := p.Head(in); err != nil || n != len(in) {
			b.Fatalf("Head: got %d, %v; want %d, nil", n, err, len(in))
		}
	}
}

// BenchmarkBodyLength measures Body on a length-delimited body in 64 KiB
// reads, the size of the event loop's read buffer.
func BenchmarkBodyLength(b *testing.B) {
	var p Parser
	if _, err := p.Head([]byte("HTTP/1.1 200 OK\r\nContent-Length: 9223372036854775807\r\n\r\n")); err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	b.SetBytes(int64(len(buf)))
	b.ReportAllocs()
	for b.Loop() {
		if data, n, done, err := p.Body(buf); len(data) != len(buf) || n != len(buf) || done || err != nil {
			b.Fatalf("Body: got %d, %d, %v, %v", len(data), n, done, err)
		}
	}
}

// BenchmarkChunked measures a whole 1 MiB chunked response (head, chunks,
// last chunk) fed in 64 KiB reads, for two chunk sizes: what a streaming
// server typically sends, and a pathologically small one that exercises
// the framing code rather than the bookkeeping.
func BenchmarkChunked(b *testing.B) {
	for _, size := range []int{16 << 10, 256} {
		b.Run(strconv.Itoa(size), func(b *testing.B) {
			var in bytes.Buffer
			in.WriteString("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
			chunk := bytes.Repeat([]byte{'x'}, size)
			for range (1 << 20) / size {
				in.WriteString(strconv.FormatInt(int64(size), 16) + "\r\n")
				in.Write(chunk)
				in.WriteString("\r\n")
			}
			in.WriteString("0\r\n\r\n")
			msg := in.Bytes()
			var p Parser
			b.SetBytes(int64(len(msg)))
			b.ReportAllocs()
			for b.Loop() {
				if got := parseAll(&p, msg, 64<<10); got != 1<<20 {
					b.Fatalf("payload: got %d; want %d", got, 1<<20)
				}
			}
		})
	}
}

// parseAll parses one complete response from msg fed in reads of at most
// read bytes and returns the payload size, or -1 on any failure. It does
// not allocate.
func parseAll(p *Parser, msg []byte, read int) int {
	p.Reset()
	payload := 0
	inBody := false
	for len(msg) > 0 {
		b := msg[:min(read, len(msg))]
		msg = msg[len(b):]
		if !inBody {
			n, err := p.Head(b)
			if err == ErrNeedMore {
				continue
			}
			if err != nil {
				return -1
			}
			inBody = true
			b = b[n:]
		}
		for {
			data, n, done, err := p.Body(b)
			if err != nil {
				return -1
			}
			payload += len(data)
			b = b[n:]
			if done {
				return payload
			}
			if len(b) == 0 {
				break
			}
		}
	}
	if p.EOF() != nil {
		return -1
	}
	return payload
}
