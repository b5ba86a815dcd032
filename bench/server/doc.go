// Package server is rangedl's fault-injecting loopback HTTP/1.1 test server.
// End-to-end tests and the benchmark harness download from it; it serves
// synthetic files of any size and misbehaves on demand.
//
// It is built on net/http: the one-goroutine event loop is the downloader's
// design, not a requirement on its test peer. It listens only on a loopback
// address (127.0.0.1, ::1 or another IP in 127.0.0.0/8), or on a link-local
// IPv6 address of a loopback interface ([fe80::1%lo]: a test's own network
// namespace can give lo one); Start refuses anything else, including host
// names and the empty host, with ErrNotLoopback.
//
// # Content
//
// Content is a pure function of (seed, offset): byte i is byte i%8
// (little-endian) of the SplitMix64 output number i/8 for that seed. Fill
// produces any range of it at several GB/s on one core, with no disk and no
// memory beyond the caller's buffer, so a 100 GiB file costs nothing to
// serve; Sum gives the SHA-256 a download must have.
//
// # Paths
//
// The last path segment names the file size: "<N>[K|M|G][.ext]", where K, M
// and G multiply by 2^10, 2^20 and 2^30 and the optional extension (letters,
// digits, '.', '-', '_', starting with a letter) is ignored. "/0.bin",
// "/1.bin", "/1048577", "/dir/256M.bin" and "/1G.iso" are files; "/",
// "/1.5G", "/-1" and "/big.bin" are 404. Paths under "/loop/" always
// redirect to themselves (see RedirectLoop). GET and HEAD are served, other
// methods get 405.
//
// # Responses
//
// Every file response carries a quoted ETag derived from seed and size
// (e.g. "1-400" for seed 1, 1 KiB), a fixed Last-Modified, Content-Type:
// application/octet-stream and, unless ranges are disabled, Accept-Ranges:
// bytes. Range requests follow RFC 9110 §14:
//
//   - bytes=a-b, bytes=a- and bytes=-n answer 206 with Content-Range and
//     Content-Length; a last-pos past the end is clamped.
//   - If no range is satisfiable (first-pos ≥ size, a zero suffix, or any
//     range on a 0-byte file) the answer is 416 with
//     Content-Range: bytes */SIZE.
//   - Of several ranges, the first satisfiable one is served as a plain 206
//     (no multipart/byteranges).
//   - A Range that does not parse, or uses another unit, is ignored: 200.
//   - If-Range (RFC 9110 §13.1.5) with an ETag that is not strongly equal to
//     the current one, or a date not equal to Last-Modified, gets 200 and
//     the whole body.
//
// By default bodies are framed by Content-Length. Config.Chunked sends
// Transfer-Encoding: chunked instead, Config.CloseDelimited sends neither
// and closes the connection after the body (RFC 9112 §6.3 rule 8), and
// Config.NoKeepAlive adds Connection: close to every response.
//
// # Rates and latency
//
// Config.Rate caps each connection with a token bucket (idle time is not
// banked; writes are at most 16 KiB, about 1/64 s of data, and the writer
// sleeps rather than polls), accurate to about 1% over a second.
// Config.Straggler picks one connection by its 1-based accept order and caps
// it at Config.StragglerRate instead (the lower of the two caps applies).
// Config.Latency delays the first byte of every response. Config.MaxConns
// closes, before reading anything, any connection accepted while that many
// are already open; refused connections are not counted anywhere.
//
// # Query parameters
//
// For harness convenience a request may override some Config fields with
// query parameters; an unknown or malformed parameter answers 400.
//
//	rate=10M        Config.Rate, in ParseSize syntax (0 = unlimited)
//	latency=50ms    Config.Latency, in time.ParseDuration syntax
//	noranges=1      Config.NoRanges (0 turns it off)
//	chunked=1       Config.Chunked
//	close=1         Config.CloseDelimited (chunked=1&close=1 is a 400)
//	nokeepalive=1   Config.NoKeepAlive
//
// Booleans accept strconv.ParseBool syntax. Example:
// /1G.bin?rate=10M&latency=50ms&chunked=1.
//
// # Faults
//
// Config.Faults schedules misbehaviour by the server-wide 1-based number of
// the GET request (HEAD requests are not numbered and never faulted);
// Fault.Request 0 fires on every GET. When several faults fire on one
// request, ChangeContent applies first; then the first of Status503,
// Status429, NotFound, Forbidden, AuthRequired407, Redirect and RedirectLoop
// replaces the response; otherwise HugeHeaders, IgnoreRange and
// WrongContentRange shape the file
// response and the first of ResetAfter, ShortBody and Stall cuts it short
// after Fault.Bytes body bytes (negative: before the status line). See
// FaultKind for each kind and ParseFault for the command-line syntax.
//
// # Accounting
//
// Stats counts connections, requests and body bytes. Body bytes are
// counted per slice written and flushed to the socket, so a response cut
// short by a fault counts exactly what was sent. Every counter is updated
// before the bytes it counts leave, so a test may read Stats as soon as
// its client has the response.
// Requests returns the log of every request with its headers, connection
// number and GET number, for tests that assert what the client asked.
//
// # Example
//
//	s, err := server.Start(server.Config{
//		Rate:   10 << 20,
//		Faults: []server.Fault{{Kind: server.ResetAfter, Request: 2, Bytes: 1 << 20}},
//	})
//	if err != nil { ... }
//	defer s.Close()
//	url := s.URL("/256M.bin")       // download it, then compare with
//	want := server.Sum(1, 256<<20)  // seed 1 is the default
//
// The testserver command (bench/cmd/testserver) runs a Server from the
// command line for scripts.
package server
