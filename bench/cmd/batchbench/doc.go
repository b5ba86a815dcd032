// Command batchbench measures rangedl's batch mode (-i LIST -j J): many
// small files, where what counts is the cost per file — requests on
// kept-alive connections, file creation, bookkeeping — and not bandwidth.
// It prints a markdown report and can write it to a file.
//
// Usage (from the module root):
//
//	go run ./bench/cmd/batchbench                          # files: 5000 × 16 KiB, 4 tools, 3 rounds
//	go run ./bench/cmd/batchbench -rounds 1 -tools rangedl,curl
//	go run ./bench/cmd/batchbench -million                 # a million 1 KiB URLs, rangedl alone
//	go run ./bench/cmd/batchbench -million -murls 100000
//
// Flags: -files N (default 5000), -size BYTES (16K), -j J (16), -rounds N
// (3), -tools a,b (rangedl, wget2, curl, aria2c; default all), -rangedl
// PATH (default: build ./cmd/rangedl into a temp dir), -out FILE, -work DIR
// (where the served files and all outputs go; default $TMPDIR), -million,
// -murls N (1000000), -msize BYTES (1024). With -million, -tools and
// -rounds do not apply: rangedl runs once. make bench-batch and make
// bench-million run the two scenarios with their defaults and write the
// report to bench/results.
//
// # Scenario "files"
//
// The harness writes -files files of -size bytes (f00000, f00001, …; file
// i is bytes [i×size, (i+1)×size) of bench/server's content stream, seed
// 1, so all differ) and serves them with nginx on 127.0.0.1 (package
// bench/nginx: sendfile, keep-alive for 10000 requests, no access log).
// Each tool downloads all of them, J at once, with its own documented way
// to do that:
//
//	rangedl  -q -j J -i LIST -d DIR
//	wget2    -q --max-threads=J --robots=off --no-local-db --no-xattr -i LIST -P DIR
//	curl     -s --no-progress-meter --parallel --parallel-max J --output-dir DIR --remote-name-all -K CONFIG
//	aria2c   -q -j J -i LIST -d DIR --allow-overwrite=false --auto-file-renaming=false
//	         --file-allocation=none --auto-save-interval=0
//
// LIST has one URL per line; CONFIG has the same URLs as url = "..."
// lines. The flags beyond the plain commands keep a tool from writing
// files or attributes the others do not, or (curl) from drawing a progress
// meter that -s should have switched off; the report says why each is
// there. A tool that is not installed is reported absent.
//
// # Scenario "million"
//
// The project's Go test server (bench/server, seed 71) runs inside the
// harness. rangedl runs without -q, "-j J -i - -d DIR", and a goroutine
// writes the list into its standard input through a pipe as rangedl reads
// it — entry i is the URL of /<msize> with "  out=f<i, 7 digits>" and
// "  dir=d<i/1000, 3 digits>", so no directory holds more than 1000 files
// and the list never exists as a whole. The harness reads rangedl's stderr
// line by line and timestamps every "rangedl: saved ..." line as it
// arrives; from these it computes the rate of the first 10% and the last
// 10% of the saved lines and their ratio (the target: the last within 20%
// of the first, i.e. a ratio of at least 0.8), and the rate of each tenth.
// A window's rate is its line count over the time from the line before it
// (the start, for the first window) to its last line. Every second it
// reads VmRSS and VmHWM from rangedl's /proc/PID/status. Afterwards it
// checks that every entry's file is where out= and dir= put it and nothing
// else is, and the SHA-256 of every 997th file and the last. Before the
// run it refuses to start unless the filesystem of -work has twice the
// blocks and inodes the files take free (8.1 GiB for a million 1 KiB
// files); after it, it deletes the tree (which takes minutes for a
// million files; it says so).
//
// # Method
//
// One tool runs at a time; the reference machine has two cores, shared
// with nginx (or the test server) and the harness. In the files scenario
// the rounds are interleaved and the order of the tools rotated by one
// each round, so each goes first equally often; medians are reported.
// Every run writes into a fresh, empty directory (round2-curl, …), never
// into one just emptied: deleting thousands of files right before a run
// slows ext4's inode allocation in it. All outputs are deleted after the
// last round (the harness refuses to start unless the filesystem of -work
// has room for all of them, twice over). Before every run the harness
// calls sync(2), so that no run writes back the files of the one before;
// this matters because rangedl ends a batch with a syncfs(2) of its output
// filesystem and the others do not sync at all. Tools run with an environment built from scratch: PATH,
// LC_ALL=C and HOME set to an empty directory (no rc files, and nothing a
// tool keeps in HOME lands among its outputs).
//
// Before every run (and its sync) the harness times its own creation of
// 200 empty files in a fresh directory beside the run's: the "create probe"
// column. It shows which runs met the filesystem's slow state after a large
// deletion (README), in which every tool creates files slowly.
//
// Per run the harness records the wall time from fork to exit, the
// user+system CPU time and the peak RSS (ru_maxrss) of the tool's process,
// and its exit status. Tools are started through the compare harness's
// spawn helper (bench/cmd/compare/internal/spawn, built with go build):
// a child started by a Go program directly would report at least the
// harness's own peak RSS, because Go forks with vfork and exec records the
// replaced address space's peak in the child's ru_maxrss (Linux
// fs/exec.c, exec_mmap). Then every file is checked: exactly the expected
// names, nothing else, each of the right size and SHA-256. A run with a
// non-zero exit, a timeout, or a missing, extra or wrong file is reported
// FAILED with the reason and left out of the medians: a fast wrong answer
// is not fast.
//
// # Report
//
// The report gives the command line, the machine (nproc, CPU, uname -r,
// load averages at the start and the end), the Go version, each tool's
// version (the first line of --version; for rangedl also the commit it was
// built from, and ", modified" if the tree had uncommitted changes) and
// exact command. For the files scenario: per tool the successful runs, the
// median wall time, files/s at that time, its ratio to rangedl's, the
// median CPU and median peak RSS, then every run. For the million
// scenario: the exit status, wall time, files/s overall, in the first and
// last 10% and in each tenth, CPU, ru_maxrss, the largest VmHWM and VmRSS
// polled and a few samples of them over the run, rangedl's summary line,
// its other stderr lines, the files found and checked, and the test
// server's connection and request counts.
//
// The exit status is 1 if any run failed (the report says which and why),
// 2 for bad flags, 130 if interrupted.
package main
