package pherry

import (
	"context"
	"errors"
	"fmt"
	"time"

	jsonrpcclient "github.com/cometbft/cometbft/rpc/jsonrpc/client"
)

// newBlockQuery is the subscription that wakes pherry. The header event
// suffices (pherry fetches everything by height) and is far smaller than
// NewBlock, which carries every transaction.
const newBlockQuery = "tm.event='NewBlockHeader'"

// errSessionEnded means the websocket closed or reconnected (which loses
// its subscriptions); a new session subscribes again.
var errSessionEnded = errors.New("websocket closed")

// watch keeps a websocket subscription to new blocks and signals p.wake for
// each one, re-subscribing with backoff whenever the connection fails. It
// is only a wake-up: the main loop polls as well and always fetches by
// height.
func (p *Pherry) watch(ctx context.Context) {
	bo := backoff{min: 500 * time.Millisecond, max: 30 * time.Second}
	failures := 0
	for ctx.Err() == nil {
		started := time.Now()
		err := p.subscribe(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			bo.reset()
			failures = 0
		}
		failures++
		p.m.errors.WithLabelValues(errKindSubscription).Inc()
		d := bo.next()
		if failures == 1 {
			p.log.Info("websocket subscription lost; polling until it is back", "err", err, "retry_in", d.Round(time.Millisecond))
		} else {
			p.log.Debug("websocket subscription failed", "err", err, "retry_in", d.Round(time.Millisecond))
		}
		if !sleep(ctx, d) {
			return
		}
	}
}

// subscribe runs one websocket session until it fails or ctx ends.
func (p *Pherry) subscribe(ctx context.Context) error {
	reconnected := make(chan struct{}, 1)
	addr := p.nodeClient().Addr()
	ws, err := jsonrpcclient.NewWS(addr, "/websocket",
		// One quiet redial at most; after that a new session starts over.
		jsonrpcclient.MaxReconnectAttempts(0),
		jsonrpcclient.OnReconnect(func() {
			select {
			case reconnected <- struct{}{}:
			default:
			}
		}))
	if err != nil {
		return err
	}
	if err := ws.Start(); err != nil {
		return fmt.Errorf("websocket: %w", err)
	}
	defer func() { _ = ws.Stop() }()
	sctx, cancel := context.WithTimeout(ctx, callTimeout)
	err = ws.Subscribe(sctx, newBlockQuery)
	cancel()
	if err != nil {
		return fmt.Errorf("websocket subscribe: %w", err)
	}
	acked := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-reconnected:
			return fmt.Errorf("%w: reconnected without subscriptions", errSessionEnded)
		case <-p.resubscribe:
			return errors.New("websocket silent while the node made blocks")
		case res, ok := <-ws.ResponsesCh:
			if !ok {
				return errSessionEnded
			}
			if res.Error != nil {
				return fmt.Errorf("websocket: %w", res.Error)
			}
			if !acked {
				// The first answer usually acknowledges the subscription;
				// a spurious wake-up costs one height query.
				acked = true
				p.log.Debug("subscribed to new blocks", "node", addr)
			}
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}
}
