package pherry

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress draws a catch-up progress bar: done/total headers, speed and
// ETA. On a terminal it redraws one line with \r; elsewhere (a log file, a
// pipe) it prints a line every lineEvery.
type progress struct {
	w        io.Writer
	terminal bool
	now      func() time.Time

	active     bool
	start      int64 // header height when the catch-up began
	target     int64
	began      time.Time
	lastDraw   time.Time
	lastLen    int
	rate       float64 // headers per second, smoothed
	rateHeight int64
	rateAt     time.Time
}

// lineEvery is how often a non-terminal progress writer gets a line.
const lineEvery = 5 * time.Second

// redrawEvery is how often a terminal line is redrawn at most.
const redrawEvery = 100 * time.Millisecond

func newProgress(w io.Writer) *progress {
	if w == nil {
		return nil
	}
	return &progress{w: w, terminal: isTerminal(w), now: time.Now}
}

// isTerminal reports whether w is a character device (a terminal), or a
// writer that says it stands for one (IsTerminal, as the cella CLI's writer
// shared with its log does).
func isTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// update reports that the pRuntime has header height and the node is at
// target. A bar starts when the pRuntime is more than threshold behind and
// ends when it catches up.
func (p *progress) update(height, target int64, threshold int) {
	if p == nil {
		return
	}
	now := p.now()
	if !p.active {
		if target-height <= int64(threshold) {
			return
		}
		p.active, p.start, p.began = true, height, now
		p.rate, p.rateHeight, p.rateAt = 0, height, now
		p.lastDraw = time.Time{}
	}
	if target > p.target {
		p.target = target
	}
	if dt := now.Sub(p.rateAt).Seconds(); dt >= 0.5 {
		r := float64(height-p.rateHeight) / dt
		if p.rate == 0 {
			p.rate = r
		} else {
			p.rate = 0.7*p.rate + 0.3*r
		}
		p.rateHeight, p.rateAt = height, now
	}
	done := height >= p.target
	every := lineEvery
	if p.terminal {
		every = redrawEvery
	}
	if !done && now.Sub(p.lastDraw) < every {
		return
	}
	p.lastDraw = now
	line := p.render(height, now)
	if p.terminal {
		pad := ""
		if n := p.lastLen - len(line); n > 0 {
			pad = strings.Repeat(" ", n)
		}
		p.lastLen = len(line)
		fmt.Fprintf(p.w, "\r%s%s", line, pad)
		if done {
			fmt.Fprintln(p.w)
		}
	} else {
		fmt.Fprintln(p.w, line)
	}
	if done {
		p.active, p.target, p.lastLen = false, 0, 0
	}
}

// finish ends an unfinished bar's line (on shutdown).
func (p *progress) finish() {
	if p == nil || !p.active {
		return
	}
	if p.terminal {
		fmt.Fprintln(p.w)
	}
	p.active = false
}

const barWidth = 30

func (p *progress) render(height int64, now time.Time) string {
	total := p.target - p.start
	done := height - p.start
	frac := 1.0
	if total > 0 {
		frac = float64(done) / float64(total)
	}
	frac = max(0, min(1, frac))
	fill := int(frac * barWidth)
	bar := strings.Repeat("#", fill) + strings.Repeat("-", barWidth-fill)
	rate := p.rate
	if rate <= 0 {
		if el := now.Sub(p.began).Seconds(); el > 0 {
			rate = float64(done) / el
		}
	}
	eta := "?"
	if height >= p.target {
		eta = "done in " + now.Sub(p.began).Round(100*time.Millisecond).String()
	} else if rate > 0 {
		eta = "ETA " + (time.Duration(float64(p.target-height) / rate * float64(time.Second))).Round(time.Second).String()
	}
	return fmt.Sprintf("syncing [%s] %3.0f%% %d/%d headers (height %d of %d)  %.0f blocks/s  %s",
		bar, frac*100, done, total, height, p.target, rate, eta)
}
