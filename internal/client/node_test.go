package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/nodetest"
)

// TestSubscribeToNode: the client's own websocket subscription works with
// CometBFT's server: it is acknowledged and delivers new block headers.
func TestSubscribeToNode(t *testing.T) {
	o := nodetest.Options(t)
	nodetest.Start(t, t.TempDir(), o)
	c, err := client.New(o.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	sub, err := c.Subscribe(ctx, "tm.event='NewBlockHeader'")
	if err != nil {
		t.Fatal(err)
	}
	var last int64
	for i := 0; i < 3; i++ {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			var r struct {
				Data struct {
					Type  string `json:"type"`
					Value struct {
						Header struct {
							Height string `json:"height"`
						} `json:"header"`
					} `json:"value"`
				} `json:"data"`
			}
			if err := json.Unmarshal(ev, &r); err != nil || r.Data.Type != "tendermint/event/NewBlockHeader" {
				t.Fatalf("event %s: %v", ev, err)
			}
			var h int64
			if _, err := fmt.Sscan(r.Data.Value.Header.Height, &h); err != nil || h <= last {
				t.Fatalf("height %q after %d", r.Data.Value.Header.Height, last)
			}
			last = h
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		}
	}
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	for range sub.Events() {
	}
	if sub.Err() == nil {
		t.Fatal("closed subscription without a reason")
	}
}
