// Command timeline draws the per-connection timeline of a rangedl --trace file as SVG:
//
//	rangedl --trace run.jsonl URL
//	go run ./bench/cmd/timeline -title "my run" run.jsonl > run.svg
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/rangedl/rangedl/bench/timeline"
)

func main() {
	title := flag.String("title", "rangedl: connections over time", "chart title")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: timeline [-title T] TRACE.jsonl > chart.svg")
		os.Exit(2)
	}
	f, err := os.Open(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeline:", err)
		os.Exit(1)
	}
	defer f.Close()
	evs, err := timeline.Read(f)
	if err == nil {
		err = timeline.SVG(os.Stdout, *title, evs)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "timeline:", err)
		os.Exit(1)
	}
}
