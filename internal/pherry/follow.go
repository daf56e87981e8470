package pherry

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// newBlockQuery is the subscription that wakes pherry. The header event
// suffices (pherry fetches everything by height) and is far smaller than
// NewBlock, which carries every transaction.
const newBlockQuery = "tm.event='NewBlockHeader'"

// errSessionEnded means the websocket closed; a new session subscribes
// again.
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

// subscribe runs one websocket session until it fails or ctx ends. The
// client bounds every websocket message (client.MaxResponseBytes).
func (p *Pherry) subscribe(ctx context.Context) error {
	c := p.nodeClient()
	sctx, cancel := context.WithTimeout(ctx, callTimeout)
	sub, err := c.Subscribe(sctx, newBlockQuery)
	cancel()
	if err != nil {
		return err
	}
	defer func() { _ = sub.Close() }()
	p.log.Debug("subscribed to new blocks", "node", c.Addr())
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-p.resubscribe:
			return errors.New("websocket silent while the node made blocks")
		case _, ok := <-sub.Events():
			if !ok {
				return fmt.Errorf("%w: %v", errSessionEnded, sub.Err())
			}
			select {
			case p.wake <- struct{}{}:
			default:
			}
		}
	}
}
