package cli

import (
	"bytes"
	"io"
	"os"
	"sync"
)

// termShare lets a progress bar (a line redrawn with \r, left without a
// newline) and log records share one terminal: a log record first clears
// the bar's line, then the bar is drawn again below the record, so logs
// appear above the bar and never break it. Off a terminal the bar writes
// whole lines and the two pass through unchanged.
type termShare struct {
	mu       sync.Mutex
	w        io.Writer
	terminal bool
	bar      []byte // the visible text of the unfinished line (the bar)
}

func newTermShare(w io.Writer) *termShare {
	return &termShare{w: w, terminal: isTerminalWriter(w)}
}

// isTerminalWriter reports whether w is a character device.
func isTerminalWriter(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Progress is the writer for the bar.
func (t *termShare) Progress() io.Writer { return progressWriter{t} }

// Logs is the writer for log records (whole lines).
func (t *termShare) Logs() io.Writer { return logWriter{t} }

type progressWriter struct{ t *termShare }

// IsTerminal tells the bar to redraw in place (pherry asks).
func (p progressWriter) IsTerminal() bool { return p.t.terminal }

func (p progressWriter) Write(b []byte) (int, error) {
	t := p.t
	t.mu.Lock()
	defer t.mu.Unlock()
	// Track what the current line shows: \r and \n start it afresh.
	for _, c := range b {
		switch c {
		case '\n', '\r':
			t.bar = t.bar[:0]
		default:
			t.bar = append(t.bar, c)
		}
	}
	return t.w.Write(b)
}

type logWriter struct{ t *termShare }

func (l logWriter) Write(b []byte) (int, error) {
	t := l.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.terminal || len(bytes.TrimSpace(t.bar)) == 0 {
		return t.w.Write(b)
	}
	// Clear the bar's line (\r, erase line), write the record, redraw.
	var buf bytes.Buffer
	buf.WriteString("\r\x1b[K")
	buf.Write(b)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		buf.WriteByte('\n')
	}
	buf.Write(t.bar)
	if _, err := t.w.Write(buf.Bytes()); err != nil {
		return 0, err
	}
	return len(b), nil
}
