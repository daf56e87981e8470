package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/balances"
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

// TestAccountTxsFromNode: a node's tx index answers AccountTxs with the
// transactions the account signed, newest first, in bounded pages; an
// account that signed none has none.
func TestAccountTxsFromNode(t *testing.T) {
	o := nodetest.Options(t)
	nodetest.Start(t, t.TempDir(), o)
	c, err := client.New(o.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pair := func(uri string) *keys.Pair {
		p, err := keys.FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	alice, bob := pair("//Alice"), pair("//Bob")
	var sent []string
	for i := 0; i < 3; i++ {
		tr, err := c.Build(ctx, alice, balances.TransferCall(bob.Public(), scale.U128From(uint64(i+1))), client.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := c.Submit(ctx, tr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Wait(ctx, h); err != nil {
			t.Fatal(err)
		}
		sent = append(sent, fmt.Sprintf("0x%x", h))
	}
	p1, err := c.AccountTxs(ctx, alice.Public(), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p1.Total != 3 || len(p1.Txs) != 2 || p1.Txs[0].Hash != sent[2] || p1.Txs[1].Hash != sent[1] || p1.Txs[0].Height < p1.Txs[1].Height {
		t.Fatalf("page 1: total %d, %+v; sent %v", p1.Total, p1.Txs, sent)
	}
	p2, err := c.AccountTxs(ctx, alice.Public(), 2, 2)
	if err != nil {
		t.Fatal(err)
	}
	if p2.Total != 3 || len(p2.Txs) != 1 || p2.Txs[0].Hash != sent[0] || !p2.Txs[0].OK() || p2.Txs[0].Fee == "" {
		t.Fatalf("page 2: total %d, %+v", p2.Total, p2.Txs)
	}
	if none, err := c.AccountTxs(ctx, bob.Public(), 1, 10); err != nil || none.Total != 0 || len(none.Txs) != 0 {
		t.Fatalf("bob: %+v, %v", none, err)
	}
	for _, bad := range [][2]int{{0, 10}, {1, 0}, {1, client.MaxTxsPerPage + 1}} {
		if _, err := c.AccountTxs(ctx, alice.Public(), bad[0], bad[1]); err == nil {
			t.Fatalf("page %d per page %d: no error", bad[0], bad[1])
		}
	}
}
