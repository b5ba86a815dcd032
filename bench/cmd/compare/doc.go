// Command compare measures rangedl side by side with the downloaders people
// use today — aria2c, axel, curl, wget and wget2 — on the same files from
// the same loopback servers, and writes the results as a markdown report
// with an SVG chart.
//
// Usage (from the module root):
//
//	go run ./bench/cmd/compare                                  # every scenario, 3 rounds
//	go run ./bench/cmd/compare -scenarios unthrottled-1g -rounds 5
//	go run ./bench/cmd/compare -tools rangedl,aria2c -size-scale 0.25
//	go run ./bench/cmd/compare -smoke                           # CI: seconds, exit 1 on any failure
//
// Flags: -scenarios a,b (default all), -rounds N (default 3), -tools a,b
// (default all), -rangedl PATH (default: build ./cmd/rangedl into a temp
// dir), -size-scale F (multiply every file size, rounded to whole MiB),
// -out DIR (default bench/results), -smoke.
//
// # Scenarios
//
//	unthrottled-1g     nginx, 1 GiB, no limit; rangedl -n 8, the others at 16
//	https-1g           the same over https (TLS 1.2/1.3, HTTP/1.1 only), with a
//	                   certificate for 127.0.0.1 from a CA made for the run;
//	                   every tool is given the CA file (rangedl --cacert, curl
//	                   --cacert, aria2c, wget and wget2 --ca-certificate) except
//	                   axel, which has no such option and runs with -k
//	rate10m-256m-n4    nginx, 256 MiB, limit_rate 10m, 4 connections
//	rate10m-256m-n16   the same with 16 connections
//	straggler          testserver, 256 MiB, 10 MiB/s per connection, the 2nd
//	                   connection at 200 KiB/s, 16 connections
//	noranges           testserver ignoring Range, 256 MiB
//	latency50ms        testserver delaying each response by 50 ms, 256 MiB
//
// Files for nginx are generated with bench/server's content function
// (seed 1) in a temporary directory and deleted afterwards; the testserver
// generates the same bytes on the fly and is restarted for every run, since
// its straggler is chosen by accept order. nginx's limit_rate is per
// request with a one-second allowance (see package bench/nginx), so in the
// rate10m scenarios a tool that asks for small pieces is hardly throttled;
// that is how nginx behaves in the field, and the report says so.
//
// # Method
//
// One tool runs at a time (the reference machine has two cores). Rounds
// are interleaved, A B C A B C …, and medians reported. Every run writes
// to a fresh file in an empty directory on the same file system, in an
// environment built from scratch (PATH, an empty HOME, LC_ALL=C): no proxy
// variables and no per-user config files. Per run the harness records the
// wall time from exec to exit, the user+system CPU time and peak RSS from
// the child's rusage, and whether the output's SHA-256 equals the served
// file's. A non-zero exit, a timeout (10× the ideal time, at least 30 s, at
// most 120 s) or a missing or wrong file is a FAIL and contributes no time.
// A tool that is not installed is reported as absent, never left out.
//
// # Output
//
// The report goes to stdout and to <out>/<YYYY-MM-DD>-<set>.md, where set
// is "all", "smoke" or the selected scenario names joined by '+'; the
// chart (median wall time per tool per scenario) goes next to it as .svg.
// The report records the date, uname -srm, the CPU model and core count,
// the Go version, each tool's version and path, the exact command that
// produced it and the exact command line of every tool. Progress and every
// command line go to stderr as the runs happen.
//
// -smoke runs a 16 MiB download from nginx over http and another over
// https (only the http one, from testserver, if nginx is absent) with
// rangedl and curl, one round, writes its report to a temporary directory
// unless -out is given, and exits 1 if any run failed.
package main
