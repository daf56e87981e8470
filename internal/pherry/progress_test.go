package pherry

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// ttyWriter is a writer that says it stands for a terminal.
type ttyWriter struct{ bytes.Buffer }

func (*ttyWriter) IsTerminal() bool { return true }

// TestProgressTerminalWriter: a writer with IsTerminal() true gets the
// redrawn bar (\r, no newline until done); a plain buffer gets lines.
func TestProgressTerminalWriter(t *testing.T) {
	var tty ttyWriter
	now := time.Unix(0, 0)
	p := newProgress(&tty)
	p.now = func() time.Time { return now }
	if !p.terminal {
		t.Fatal("IsTerminal writer not taken for a terminal")
	}
	p.update(0, 1000, 10)
	now = now.Add(time.Second)
	p.update(500, 1000, 10)
	if s := tty.String(); !strings.HasPrefix(s, "\rsyncing [") || strings.Contains(s, "\n") {
		t.Fatalf("terminal bar %q", s)
	}
	var plain bytes.Buffer
	if q := newProgress(&plain); q.terminal {
		t.Fatal("a buffer taken for a terminal")
	}
}
