package cli

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestTermShareLogsAboveBar: a log record written while the bar is drawn
// clears the bar's line, ends with a newline, and the bar is redrawn after
// it; once the bar's line is finished, records pass through unchanged.
func TestTermShareLogsAboveBar(t *testing.T) {
	var out bytes.Buffer
	ts := &termShare{w: &out, terminal: true}
	log := slog.New(slog.NewTextHandler(ts.Logs(), &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	bar := ts.Progress()
	if p, ok := bar.(interface{ IsTerminal() bool }); !ok || !p.IsTerminal() {
		t.Fatal("the bar's writer does not say it is a terminal")
	}
	bar.Write([]byte("\rsyncing [#---] 10%"))
	bar.Write([]byte("\rsyncing [##--] 50%"))
	log.Info("registered")
	want := "\rsyncing [#---] 10%\rsyncing [##--] 50%\r\x1b[Klevel=INFO msg=registered\nsyncing [##--] 50%"
	if out.String() != want {
		t.Fatalf("got  %q\nwant %q", out.String(), want)
	}
	out.Reset()
	bar.Write([]byte("\rsyncing [####] 100%\n"))
	log.Info("caught up")
	if want := "\rsyncing [####] 100%\nlevel=INFO msg=\"caught up\"\n"; out.String() != want {
		t.Fatalf("after the bar: %q", out.String())
	}
	// Off a terminal nothing is rewritten.
	out.Reset()
	plain := &termShare{w: &out}
	plain.Progress().Write([]byte("syncing 10%"))
	plain.Logs().Write([]byte("record\n"))
	if out.String() != "syncing 10%record\n" {
		t.Fatalf("plain: %q", out.String())
	}
}
