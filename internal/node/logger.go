package node

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

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
func (c *cmtLogger) Error(msg string, kv ...any) {
	if shutdownNoise(msg, kv) {
		c.Debug(msg, kv...)
		return
	}
	if msg == "Stopping peer for error" {
		// A peer went away: worth knowing, not a fault of this node.
		c.l.Warn(msg, kv...)
		return
	}
	c.l.Error(msg, kv...)
}

// shutdownNoise reports whether a CometBFT error record is only the sound of
// a clean shutdown (listeners and connections closing), which CometBFT
// v0.38 logs at error level.
func shutdownNoise(msg string, kv []any) bool {
	switch msg {
	case "Stopped accept routine, as transport is closed", "error while stopping connection":
		return true
	case "Error stopping pool":
		for _, v := range kv {
			if strings.Contains(fmt.Sprint(v), "already stopped") {
				return true
			}
		}
	case "Failed to read request":
		// A websocket client (pherry's subscription, a browser) went away
		// without a close frame: its own business, not a fault of the node.
		for _, v := range kv {
			if s := fmt.Sprint(v); strings.Contains(s, "close 1006") || strings.Contains(s, "close 1001") ||
				strings.Contains(s, "unexpected EOF") {
				return true
			}
		}
	case "Error serving server", "Failed to write response":
		for _, v := range kv {
			if s := fmt.Sprint(v); strings.Contains(s, "use of closed network connection") ||
				strings.Contains(s, "close sent") || strings.Contains(s, "CometBFT exited") {
				return true
			}
		}
	}
	return false
}
func (c *cmtLogger) With(kv ...any) cmtlog.Logger {
	return &cmtLogger{l: c.l.With(kv...), debug: c.debug}
}
