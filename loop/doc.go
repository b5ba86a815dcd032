// Package loop downloads one file over many HTTP/1.1 connections from a single goroutine.
//
// A Loop owns every file descriptor it uses: the poller (epoll on Linux, kqueue on the BSDs
// and macOS), the nonblocking sockets, and the output file. There is no goroutine per
// connection; Run drives them all:
//
//	poller.wait ──▶ dispatch(event) ──▶ connect done? send request : read once
//	                                     │
//	    read buffer (one, shared) ──▶ httpparse (head, then body framing)
//	                                     │  head checked before any body byte is written
//	                                     ▼
//	                    reorder.Buffer.Push(offset, bytes) ──▶ pwrite
//	after each batch: chores (timeouts) and fill (idle connections get pieces, new ones open)
//
// The first request is a ranged GET for the first MiB. A 206 tells the file's size, and the
// rest is cut into pieces (see sched) for up to Job.Connections keep-alive connections, each
// asking for its next piece on the same socket when one is done. A 200 means the server
// ignores ranges: that one response is streamed to the end. Every response is checked against
// what was asked (status, Content-Range, Content-Length, validators) before its body is
// accepted; a mismatch or a failure gives the unfinished part of the piece back for a retry
// with backoff, up to Job.MaxRetries.
//
// Readiness is level-triggered and each ready connection gets one read per wakeup, so many
// fast connections share the loop fairly and back-pressure is only a change of interest.
//
// Only Stop may be called from another goroutine: it sets a flag and wakes the poller.
//
// Example:
//
//	l, err := loop.New(loop.Job{
//		URL: "http://example.com/f.iso", Host: "example.com", Target: "/f.iso",
//		Addrs: addrs, Output: "f.iso", Connections: 8,
//	})
//	if err != nil { ... }
//	res, err := l.Run() // loop.KindOf(err) tells network, HTTP, integrity, I/O, interrupted
package loop
