package pruntime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/httpserve"
)

// Limits of the two listeners. The internal API's write timeout covers the
// verification of the largest batch (pherry waits five minutes for it).
var (
	PublicLimits = httpserve.Limits{
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 15 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: time.Minute, MaxConns: 512,
	}
	InternalLimits = httpserve.Limits{
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute,
		WriteTimeout: 6 * time.Minute, IdleTimeout: 2 * time.Minute, MaxConns: 8,
	}
)

// Listeners say where the APIs are served. The internal API always has a
// listener of its own ("host:port" or "unix:/path"); empty addresses take
// the defaults (defaults.PRuntimePublicAddr, defaults.PRuntimeInternalAddr).
type Listeners struct {
	PublicAddr   string
	InternalAddr string
	// Public and Internal override PublicLimits and InternalLimits.
	Public, Internal *httpserve.Limits
}

// Serve serves the runtime's APIs until ctx ends, then shuts down
// gracefully. The internal API requires the token of the data folder
// (LoadOrCreateToken; made at the first start). ready, when not nil,
// receives the bound addresses once the listeners are open.
func Serve(ctx context.Context, r *Runtime, l Listeners, log *slog.Logger, ready func(public, internal string)) error {
	if l.PublicAddr == "" {
		l.PublicAddr = defaults.PRuntimePublicAddr
	}
	if l.InternalAddr == "" {
		l.InternalAddr = defaults.PRuntimeInternalAddr
	}
	if l.InternalAddr == l.PublicAddr {
		return fmt.Errorf("pruntime: the internal API needs a listener of its own, not the public address %s", l.PublicAddr)
	}
	pl, il := PublicLimits, InternalLimits
	if l.Public != nil {
		pl = *l.Public
	}
	if l.Internal != nil {
		il = *l.Internal
	}
	token, err := LoadOrCreateToken(r.cfg.DataDir)
	if err != nil {
		return err
	}
	pub, err := httpserve.Open(l.PublicAddr, PublicHandler(r), pl)
	if err != nil {
		return fmt.Errorf("pruntime: public API: %w", err)
	}
	in, err := httpserve.Open(l.InternalAddr, InternalHandler(r, token), il)
	if err != nil {
		pub.Close()
		return fmt.Errorf("pruntime: internal API: %w", err)
	}
	if ready != nil {
		ready(pub.Addr(), in.Addr())
	}
	log.Info("pRuntime API listening", "public", pub.Addr(), "internal", in.Addr(),
		"internal_token_file", TokenPath(r.cfg.DataDir))
	errc := make(chan error, 2)
	go func() { errc <- pub.Serve() }()
	go func() { errc <- in.Serve() }()
	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pub.Shutdown(shutdownCtx)
	in.Shutdown(shutdownCtx)
	if err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
