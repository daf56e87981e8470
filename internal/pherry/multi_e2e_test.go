package pherry

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
)

// TestMultiEndToEnd runs a dev node and three pRuntimes (dev TEE, over
// HTTP) served by one Multi with its websocket: all catch up and follow,
// all three workers — one operator for all, so one nonce book — get
// registered and their egress (worker/online, heartbeats) reaches the
// chain, and the node was asked for each header once.
func TestMultiEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	_, o, _, c := startPRuntimeChain(ctx, t, "cella-pherry-multi", 20)
	alice, _ := keys.FromURI("//Alice")
	cfg := MultiConfig{Config: Config{NodeURL: o.RPCAddr, BatchSize: 16, PollInterval: 100 * time.Millisecond, Log: nodetest.Log(), PCSURL: PCSOff}}
	var pubs []pruntimev1connect.PublicClient
	for i := 0; i < 3; i++ {
		dir := t.TempDir()
		rs := serveRuntime(t, dir)
		rs.set(openRuntime(t, dir, alice.Public()))
		cfg.Workers = append(cfg.Workers, WorkerSpec{Name: fmt.Sprintf("w%d", i), PublicURL: rs.pubURL, InternalURL: rs.inURL, Token: rs.token, Operator: alice})
		pubs = append(pubs, pruntimev1connect.NewPublicClient(http.DefaultClient, rs.pubURL))
	}
	m, _ := runMulti(t, cfg)
	ids := make([]keys.PublicKey, len(pubs))
	for i, pub := range pubs {
		waitFor(ctx, t, fmt.Sprintf("worker %d registered", i), func() bool {
			in, err := pub.Info(ctx, &pruntimev1.InfoRequest{})
			if err != nil || !in.Registered {
				return false
			}
			id, err := keys.ParseAccount(in.IdentityPublicKey)
			if err != nil {
				t.Fatalf("identity %q: %v", in.IdentityPublicKey, err)
			}
			ids[i] = id
			return true
		})
	}
	for i, id := range ids {
		waitFor(ctx, t, fmt.Sprintf("worker %d's heartbeat on chain", i), func() bool {
			wi, err := c.Worker(ctx, id)
			return err == nil && wi.LastHeartbeatHeight > 0
		})
		if n, err := c.NextSequence(ctx, msg.OriginWorker(id)); err != nil || n < 2 {
			t.Fatalf("worker %d: next sequence %d (%v): its online message and heartbeat did not land", i, n, err)
		}
	}
	st, err := c.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tip := st.SyncInfo.LatestBlockHeight
	for i, pub := range pubs {
		waitFor(ctx, t, fmt.Sprintf("worker %d at height %d", i, tip), func() bool {
			in, err := pub.Info(ctx, &pruntimev1.InfoRequest{})
			return err == nil && in.HeaderHeight >= tip
		})
	}
	cs := m.CacheStats()
	if st, err = c.Status(ctx); err != nil {
		t.Fatal(err)
	}
	if now := st.SyncInfo.LatestBlockHeight; cs.HeadersFetched > now || cs.HeadersServed < 3*tip {
		t.Fatalf("cache %+v at height %d: each header should be fetched once and served to all three", cs, now)
	}
}
