// Command testserver runs rangedl's fault-injecting loopback test server
// (package bench/server) for scripts and manual experiments.
//
// Usage:
//
//	testserver [flags]            serve until SIGINT or SIGTERM
//	testserver -sum SIZE [-seed N] print the SHA-256 of SIZE content bytes
//
// Once listening it prints one line to stdout,
//
//	listening on http://127.0.0.1:PORT
//
// so a script can read the port, e.g.
//
//	testserver -rate 10M > port.txt &
//	url=$(head -1 port.txt | cut -d' ' -f3)
//	rangedl "$url/1G.bin" -o out && [ "$(sha256sum < out | cut -d' ' -f1)" = "$(testserver -sum 1G)" ]
//
// Flags mirror server.Config:
//
//	-addr ADDR              listen address (loopback only; default 127.0.0.1:0)
//	-seed N                 content seed (default 1)
//	-rate SIZE              per-connection cap in bytes/s, e.g. 10M (0 = unlimited)
//	-latency DUR            delay before each response's first byte, e.g. 50ms
//	-noranges               ignore Range: always 200
//	-chunked                Transfer-Encoding: chunked instead of Content-Length
//	-close-delimited        neither: bodies end when the connection closes
//	-nokeepalive            Connection: close on every response
//	-straggler N            make the N-th accepted connection slow
//	-straggler-rate SIZE    its cap in bytes/s (default 64K)
//	-maxconns N             refuse connections beyond N open
//	-fault SPEC             schedule a fault; repeatable (syntax: server.ParseFault)
//
// SIZE takes server.ParseSize syntax: digits with an optional K, M or G
// (binary multiples). On SIGINT or SIGTERM the server closes its
// connections, prints its counters to stderr and exits with status 0.
package main
