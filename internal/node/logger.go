package node

import (
	"context"
	"log/slog"

	cmtlog "github.com/cometbft/cometbft/libs/log"
)

// cmtLogger adapts a slog.Logger to CometBFT's libs/log.Logger. CometBFT's
// messages keep their key-value pairs and are tagged component=cometbft.
// CometBFT logs several lines per block at info level; they are demoted to
// debug so that a node's log shows Cella's own events, and --log-level debug
// brings them back.
type cmtLogger struct {
	l *slog.Logger
	// debug: the handler wants debug records (else skip formatting them).
	debug bool
}

// NewCometLogger returns a CometBFT logger that writes through l.
func NewCometLogger(l *slog.Logger) cmtlog.Logger {
	return &cmtLogger{l: l.With("component", "cometbft"), debug: l.Enabled(context.Background(), slog.LevelDebug)}
}

func (c *cmtLogger) Debug(msg string, kv ...any) {
	if c.debug {
		c.l.Debug(msg, kv...)
	}
}
func (c *cmtLogger) Info(msg string, kv ...any) {
	if c.debug {
		c.l.Debug(msg, kv...)
	}
}
func (c *cmtLogger) Error(msg string, kv ...any) { c.l.Error(msg, kv...) }
func (c *cmtLogger) With(kv ...any) cmtlog.Logger {
	return &cmtLogger{l: c.l.With(kv...), debug: c.debug}
}
