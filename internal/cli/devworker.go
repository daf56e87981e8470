package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pherry"
	"github.com/cella-network/cella/internal/pruntime"
)

// devOperator is the dev account that operates `cella dev`'s worker: it
// registers the worker and pays for its egress. Alice is left to the user,
// so that the two never race for nonces.
const devOperator = "Ferdie"

// devWorker is `cella dev`'s in-process worker: a pRuntime with the dev TEE
// and a pherry relaying to it from the dev node. The pRuntime's internal API
// listens on an ephemeral loopback port of its own, behind the token in its
// data folder, as a production worker's does.
type devWorker struct {
	addr         string // public API
	internalAddr string
	tokenFile    string
	rt           *pruntime.Runtime
	cancel       context.CancelFunc
	wg           sync.WaitGroup
}

// startDevWorker starts the worker in dir, pinned to the dev chain's
// genesis gh.
func startDevWorker(ctx context.Context, dir, addr, nodeURL string, gh [32]byte, log *slog.Logger) (*devWorker, error) {
	op, err := keys.FromURI("//" + devOperator)
	if err != nil {
		return nil, err
	}
	rt, err := openDevPRuntime(dir, pruntime.DevBuildID(), pruntime.Config{Operator: op.Public(), GenesisHash: gh, Log: log})
	if err != nil {
		return nil, err
	}
	token, err := pruntime.LoadOrCreateToken(dir)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &devWorker{rt: rt, cancel: cancel, tokenFile: pruntime.TokenPath(dir)}
	type addrs struct{ pub, in string }
	ready := make(chan addrs, 1)
	errc := make(chan error, 1)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		errc <- pruntime.Serve(ctx, rt, pruntime.Listeners{PublicAddr: addr, InternalAddr: "127.0.0.1:0"}, log,
			func(pub, in string) { ready <- addrs{pub, in} })
	}()
	select {
	case a := <-ready:
		w.addr, w.internalAddr = a.pub, a.in
	case err := <-errc:
		cancel()
		return nil, fmt.Errorf("dev pRuntime: %w", err)
	}
	p, err := pherry.New(pherry.Config{
		NodeURL:     nodeURL,
		PublicURL:   defaults.HTTP(w.addr),
		InternalURL: defaults.HTTP(w.internalAddr),
		Token:       token,
		HTTPClient:  &http.Client{Timeout: 2 * time.Minute},
		Operator:    op,
		Log:         log,
		Metrics:     prometheus.DefaultRegisterer,
	})
	if err != nil {
		cancel()
		w.wg.Wait()
		return nil, err
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		if err := p.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			log.Error("pherry stopped", "err", err)
		}
	}()
	return w, nil
}

// stop ends pherry and the pRuntime's API, waits for them, and seals a
// final checkpoint.
func (w *devWorker) stop() error {
	w.cancel()
	w.wg.Wait()
	return w.rt.Close()
}
