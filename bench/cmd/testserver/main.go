package main

import (
	"context"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rangedl/rangedl/bench/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// sizeFlag is a byte count or rate in server.ParseSize syntax.
type sizeFlag int64

func (f *sizeFlag) String() string { return fmt.Sprint(int64(*f)) }
func (f *sizeFlag) Set(s string) error {
	n, err := server.ParseSize(s)
	*f = sizeFlag(n)
	return err
}

// faultFlags collects repeated -fault flags.
type faultFlags []server.Fault

func (f *faultFlags) String() string {
	names := make([]string, len(*f))
	for i, flt := range *f {
		names[i] = flt.Kind.String()
	}
	return strings.Join(names, " ")
}

func (f *faultFlags) Set(s string) error {
	flt, err := server.ParseFault(s)
	if err == nil {
		*f = append(*f, flt)
	}
	return err
}

// run is the whole command; it serves until ctx is done and returns the
// exit status (0 ok, 1 runtime failure, 2 usage error).
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("testserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		cfg         server.Config
		rate, sRate sizeFlag
		sum         sizeFlag = -1
		faults      faultFlags
	)
	fs.StringVar(&cfg.Addr, "addr", "127.0.0.1:0", "listen `address` (loopback only)")
	fs.Uint64Var(&cfg.Seed, "seed", 1, "content `seed`")
	fs.Var(&rate, "rate", "per-connection cap in bytes/s, e.g. 10M (0 = unlimited)")
	fs.DurationVar(&cfg.Latency, "latency", 0, "delay before the first byte of each response")
	fs.BoolVar(&cfg.NoRanges, "noranges", false, "ignore Range: always 200 with the whole body")
	fs.BoolVar(&cfg.Chunked, "chunked", false, "Transfer-Encoding: chunked instead of Content-Length")
	fs.BoolVar(&cfg.CloseDelimited, "close-delimited", false, "no Content-Length, no chunking: bodies end at close")
	fs.BoolVar(&cfg.NoKeepAlive, "nokeepalive", false, "Connection: close on every response")
	fs.IntVar(&cfg.Straggler, "straggler", 0, "1-based `index` of the accepted connection that is slow (0 = none)")
	fs.Var(&sRate, "straggler-rate", "the straggler's cap in bytes/s (default 64K)")
	fs.IntVar(&cfg.MaxConns, "maxconns", 0, "refuse connections beyond this many open (0 = no cap)")
	fs.Var(&faults, "fault", "schedule a fault, e.g. reset@3,bytes=1M (repeatable)")
	fs.Var(&sum, "sum", "print the hex SHA-256 of the first `SIZE` content bytes and exit")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "testserver: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if sum >= 0 {
		seed := cfg.Seed
		if seed == 0 {
			seed = 1 // the server's default, so -sum agrees with what it serves
		}
		h := server.Sum(seed, int64(sum))
		fmt.Fprintln(stdout, hex.EncodeToString(h[:]))
		return 0
	}
	cfg.Rate, cfg.StragglerRate, cfg.Faults = int64(rate), int64(sRate), faults

	s, err := server.Start(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "testserver: %v\n", err)
		return 1
	}
	// One line, written in one call to an unbuffered file: a script
	// reading the port never sees half of it.
	fmt.Fprintf(stdout, "listening on %s\n", s.URL(""))
	<-ctx.Done()
	if err := s.Close(); err != nil {
		fmt.Fprintf(stderr, "testserver: close: %v\n", err)
		return 1
	}
	st := s.Stats()
	fmt.Fprintf(stderr, "testserver: %d connections, %d requests, %d body bytes\n", st.Conns, st.Requests, st.BodyBytes)
	return 0
}
