package main

import (
	"io"
	"os"
	"strconv"
	"time"

	"github.com/cheggaaa/pb/v3"
	"github.com/mattn/go-isatty"
	"github.com/rangedl/rangedl/loop"
)

// progress mirrors the loop's counters into a pb/v3 bar. The loop only stores atomics; one
// goroutine copies them to the bar, which redraws on its own ticker.
type progress struct {
	bar  *pb.ProgressBar
	quit chan struct{}
	done chan struct{}
}

const barTemplate = `{{counters . }} {{bar . "[" "=" ">" " " "]"}} {{percent . }} {{speed . }} {{rtime . "ETA %s"}} {{string . "conns"}}`

// startProgress shows a bar on stderr when it is a terminal and show is true; otherwise it
// returns a progress whose stop does nothing.
func startProgress(stderr io.Writer, stats *loop.Stats, show bool) *progress {
	f, ok := stderr.(*os.File)
	if !show || !ok || !isatty.IsTerminal(f.Fd()) {
		return &progress{}
	}
	bar := pb.New64(0).SetTemplateString(barTemplate).SetWriter(f).SetRefreshRate(200 * time.Millisecond)
	bar.Set(pb.Bytes, true)
	p := &progress{bar: bar, quit: make(chan struct{}), done: make(chan struct{})}
	update := func() {
		bar.SetTotal(max(stats.Total.Load(), 0))
		bar.SetCurrent(stats.Done.Load())
		bar.Set("conns", strconv.FormatInt(stats.Conns.Load(), 10)+" conns")
	}
	update()
	bar.Start()
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-p.quit:
				update()
				return
			case <-t.C:
				update()
			}
		}
	}()
	return p
}

func (p *progress) stop() {
	if p.bar == nil {
		return
	}
	close(p.quit)
	<-p.done
	p.bar.Finish()
}
