package main

import (
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cheggaaa/pb/v3"
	"github.com/mattn/go-isatty"
	"github.com/rangedl/rangedl/loop"
)

// progress mirrors the loop's counters into a pb/v3 bar. The loop only stores atomics; one
// goroutine copies them to the bar, which redraws on its own ticker.
type progress struct {
	bar      *pb.ProgressBar
	template string // the bar's, with speedElement in it
	quit     chan struct{}
	done     chan struct{}
	lines    *lineWriter // where lines are printed meanwhile, clearing the bar's line first
	shown    bool        // the bar was started (by run's goroutine; stop reads it after)
	from     int64       // the bytes the bar counted when it was started
	start    time.Time   // when it was started
}

// speedElement is pb's speed, in every template. The bar's last drawing shows the run's
// average instead: pb's divides every byte the bar counts by the time, those a resumed download
// had before too (1 GiB resumed onto 4 GiB drew 681.93 MiB/s, where the summary said 132.8).
const speedElement = `{{speed . "%s/s" "? B/s"}}`

const barTemplate = `{{counters . }} {{bar . "[" "=" ">" " " "]"}} {{percent . }} ` + speedElement + ` {{rtime . "ETA %s"}} {{string . "conns"}}`

// startProgress shows a bar on stderr when it is a terminal and show is true, once the
// download has an answer (a redirect's hop shows none, which left an empty bar's line each);
// otherwise it returns a progress whose stop does nothing.
func startProgress(stderr io.Writer, lines *lineWriter, stats *loop.Stats, show bool) *progress {
	p := newProgress(stderr, lines, barTemplate, show)
	if p.bar == nil {
		return p
	}
	bar := p.bar
	update := func() {
		bar.SetTotal(max(stats.Total.Load(), 0))
		bar.SetCurrent(stats.Done.Load())
		bar.Set("conns", strconv.FormatInt(stats.Conns.Load(), 10)+" conns")
	}
	p.run(update, func() bool { return stats.Total.Load() > 0 || stats.Done.Load() > 0 })
	return p
}

// newProgress makes a bar of template on stderr when it is a terminal that draws (not
// TERM=dumb, where a bar is a line of text per redraw and lines printed meanwhile cannot clear
// it) and show is true; else a progress with no bar, whose stop does nothing.
func newProgress(stderr io.Writer, lines *lineWriter, template string, show bool) *progress {
	f, ok := stderr.(*os.File)
	if !show || !ok || !isatty.IsTerminal(f.Fd()) || os.Getenv("TERM") == "dumb" {
		return &progress{}
	}
	bar := pb.New64(0).SetTemplateString(template).SetWriter(f).SetRefreshRate(200 * time.Millisecond)
	bar.Set(pb.Bytes, true)
	return &progress{bar: bar, template: template, quit: make(chan struct{}), done: make(chan struct{}), lines: lines}
}

// run starts the bar once ready says so, and copies the counters into it (update) on a ticker
// until stop.
func (p *progress) run(update func(), ready func() bool) {
	go func() {
		defer close(p.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if !p.shown && ready() {
				update()
				p.bar.Start()
				p.shown, p.from, p.start = true, p.bar.Current(), time.Now()
				p.lines.setBar(true)
			}
			select {
			case <-p.quit:
				if p.shown {
					update()
				}
				return
			case <-t.C:
				if p.shown {
					update()
				}
			}
		}
	}()
}

func (p *progress) stop() {
	if p.bar == nil {
		return
	}
	close(p.quit)
	<-p.done
	if p.shown {
		rate := float64(p.bar.Current()-p.from) / max(time.Since(p.start).Seconds(), 1e-3)
		p.bar.Set("average", formatSize(int64(rate))+"/s")
		p.bar.SetTemplateString(strings.Replace(p.template, speedElement, `{{string . "average"}}`, 1))
		p.bar.Finish()
		p.lines.setBar(false)
	}
}

// batchProgress counts a list's progress for its one bar: files ended (and failed) of how
// many (known once the list has been read to its end), and bytes, those of the downloads in
// flight included.
type batchProgress struct {
	files, failed atomic.Int64
	total         atomic.Int64 // entries in the list; 0 until its end was read
	ended         atomic.Int64 // bytes of the downloads that have ended

	mu   sync.Mutex
	live map[*loop.Stats]bool
}

func newBatchProgress() *batchProgress {
	return &batchProgress{live: map[*loop.Stats]bool{}}
}

// add counts the bytes of a download that starts; remove, when it has ended.
func (b *batchProgress) add(s *loop.Stats) {
	b.mu.Lock()
	b.live[s] = true
	b.mu.Unlock()
}

func (b *batchProgress) remove(s *loop.Stats) {
	b.mu.Lock()
	delete(b.live, s)
	b.ended.Add(s.Done.Load())
	b.mu.Unlock()
}

// bytes is the bytes received so far.
func (b *batchProgress) bytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.ended.Load()
	for s := range b.live {
		n += s.Done.Load()
	}
	return n
}

const batchTemplate = `{{string . "files"}} {{counters . }} ` + speedElement

// startBatchProgress shows the bar of a list on stderr when it is a terminal and show is true.
func startBatchProgress(stderr io.Writer, lines *lineWriter, b *batchProgress, show bool) *progress {
	p := newProgress(stderr, lines, batchTemplate, show)
	if p.bar == nil {
		return p
	}
	bar := p.bar
	update := func() {
		files := strconv.FormatInt(b.files.Load(), 10)
		if t := b.total.Load(); t > 0 {
			files += "/" + strconv.FormatInt(t, 10)
		}
		files += " files"
		if n := b.failed.Load(); n > 0 {
			files += " (" + strconv.FormatInt(n, 10) + " failed)"
		}
		bar.Set("files", files)
		bar.SetCurrent(b.bytes())
	}
	p.run(update, func() bool { return true })
	return p
}
