package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/node"
)

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String()
}

// TestSubscribeToNode: the client's own websocket subscription works with
// CometBFT's server: it is acknowledged and delivers new block headers.
func TestSubscribeToNode(t *testing.T) {
	home := t.TempDir()
	o := node.ConfigOptions{
		Moniker: "test", BlockTime: 20 * time.Millisecond, EmptyBlocks: true,
		RPCAddr: freeAddr(t), P2PAddr: freeAddr(t), Loopback: true,
	}
	if _, err := node.InitHome(home, node.InitOptions{ChainID: "cella-test", Dev: true, Config: o}); err != nil {
		t.Fatal(err)
	}
	n, err := node.Start(node.NewConfig(home, o), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
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
