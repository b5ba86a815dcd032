package main

import (
	"fmt"
	"io"
	"math"
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
//
// The bar's texts are rangedl's own, set at each copy; pb draws the bar itself and lays the
// line out. pb's counters and percent round up (1 GiB less 3000 bytes, left incomplete, read
// "1024.00 MiB / 1.00 GiB ... 100.00%"), its speed decays slowly (6 s without a byte still
// read 1.2 MiB/s, "ETA 4s"), and its ETA went negative for a file of unknown length.
type progress struct {
	bar   *pb.ProgressBar
	quit  chan struct{}
	done  chan struct{}
	lines *lineWriter // where lines are printed meanwhile, clearing the bar's line first
	shown bool        // the bar was started (by run's goroutine; stop reads it after)
	recent
}

const barTemplate = `{{string . "count"}} {{bar . "[" "=" ">" " " "]"}} {{string . "percent"}} {{string . "speed"}} {{string . "eta"}} {{string . "conns"}}`

// A list's bar has no bar to stretch: fill is what pb lays out to the terminal's width, and
// without it the line was not cut to a narrow one, whose every redraw left a row behind.
const batchTemplate = `{{string . "files"}} {{string . "count"}} {{string . "speed"}}{{fill .}}`

func init() {
	pb.RegisterElement("fill", pb.ElementFunc(func(s *pb.State, _ ...string) string {
		return strings.Repeat(" ", max(s.AdaptiveElWidth(), 0))
	}), true)
}

// recent keeps the byte counts of the last seconds, one each copy: the speed shown is over
// them, so a download that stalls shows it within that time.
type recent struct {
	at    [20]time.Time
	n     [20]int64
	count int
}

func (r *recent) add(now time.Time, n int64) {
	r.at[r.count%len(r.at)], r.n[r.count%len(r.n)] = now, n
	r.count++
}

// speed is bytes per second over the counts kept, or -1 before they span half a second.
func (r *recent) speed() float64 {
	if r.count == 0 {
		return -1
	}
	last, first := (r.count-1)%len(r.at), max(r.count-len(r.at), 0)%len(r.at)
	d := r.at[last].Sub(r.at[first])
	if d < 500*time.Millisecond {
		return -1
	}
	return float64(r.n[last]-r.n[first]) / d.Seconds()
}

// maxETA is the longest ETA the bar shows; beyond, it says "?".
const maxETA = 1000 * time.Hour

// rate is a speed as the bar shows it.
func rate(bytesPerSecond float64) string {
	if bytesPerSecond < 0 {
		return "? B/s"
	}
	return formatSize(int64(bytesPerSecond)) + "/s"
}

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
		total, done := stats.Total.Load(), stats.Done.Load()
		bar.SetTotal(max(total, 0))
		bar.SetCurrent(done)
		p.add(time.Now(), done)
		count, percent, eta := formatSize(done), "?%", ""
		if total >= 0 {
			count += " / " + formatSize(total)
		}
		if total > 0 {
			// Cut, not rounded, as sizes are: 100.0% only when all of it is there.
			percent = fmt.Sprintf("%.1f%%", math.Floor(float64(done)*1000/float64(total))/10)
		}
		r := p.speed()
		switch {
		case total < 0 || r < 0:
		case r == 0 || float64(total-done)/r > maxETA.Seconds():
			eta = "ETA ?" // stalled, or a trickle: 19 GiB at 2 B/s overflowed a Duration
		default:
			eta = "ETA " + time.Duration(float64(total-done)/r*float64(time.Second)).Round(time.Second).String()
		}
		bar.Set("count", count)
		bar.Set("percent", percent)
		bar.Set("speed", rate(r))
		bar.Set("eta", eta)
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
	return &progress{bar: bar, quit: make(chan struct{}), done: make(chan struct{}), lines: lines}
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
				p.shown = true
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

// stop draws the bar a last time, with the run's average speed and time as the summary line
// gives them: bytes in took (the bar's own count from its first drawing, which came after the
// first answer, read 4.7 MiB/s where the summary said 11.5).
func (p *progress) stop(bytes int64, took time.Duration) {
	if p.bar == nil {
		return
	}
	close(p.quit)
	<-p.done
	if p.shown {
		p.bar.Set("speed", rate(float64(bytes)/max(took.Seconds(), 1e-3)))
		p.bar.Set("eta", "in "+took.Round(time.Millisecond).String())
		p.bar.Set("conns", "")
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
	b.ended.Add(s.Done.Load() - s.Resumed.Load())
	b.mu.Unlock()
}

// bytes is the bytes received so far: not those that were on disk before (a file complete
// already counted whole, at hundreds of MiB/s).
func (b *batchProgress) bytes() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := b.ended.Load()
	for s := range b.live {
		n += s.Done.Load() - s.Resumed.Load()
	}
	return n
}

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
		n := b.bytes()
		p.add(time.Now(), n)
		bar.Set("files", files)
		bar.Set("count", formatSize(n))
		bar.Set("speed", rate(p.speed()))
	}
	p.run(update, func() bool { return true })
	return p
}
