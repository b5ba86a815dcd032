// Package loop downloads files over many HTTP/1.1 connections from a single goroutine.
//
// A Reactor owns every file descriptor in use: the poller (epoll on Linux, kqueue on the BSDs
// and macOS) and the nonblocking sockets. A Loop is one download in it, with its output file
// and its connections. There is no goroutine per connection; the reactor's goroutine drives
// them all:
//
//	poller.wait ──▶ dispatch(event) to the connection's download ──▶ connect done? send request : read once
//	                                     │
//	    read buffer (one, shared) ──▶ httpparse (head, then body framing)
//	                                     │  head checked before any body byte is written
//	                                     ▼
//	                    reorder.Buffer.Push(offset, bytes) ──▶ pwrite
//	after each batch: fill (idle connections get pieces, new ones open)
//	every 250 ms: chores (progress records, stragglers, timeouts)
//
// One download (New) has a reactor of its own. The files of a list share one (NewReactor,
// Reactor.New): when a download ends, its idle keep-alive connections are parked, and the
// next download from the same server adopts them instead of connecting; the downloads from one
// server share its connection limit and its backoff.
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
// Only Run (once), Stop and the Reactor's Run, Close and Stop may be called from other
// goroutines: they hand over work or set a flag, and wake the poller.
//
// Example:
//
//	l, err := loop.New(loop.Job{
//		URL: "http://example.com/f.iso", Host: "example.com", Target: "/f.iso",
//		Addrs: addrs, Output: "f.iso", Connections: 8,
//	})
//	if err != nil { ... }
//	res, err := l.Run() // loop.KindOf(err) tells network, TLS, HTTP, integrity, I/O, interrupted
package loop
