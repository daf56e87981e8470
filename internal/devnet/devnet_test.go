package devnet

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
)

// TestNetwork starts a dev network: the worker gets registered by its
// configured operator, its internal API has a listener and a token of its
// own; a second start continues the chain with the same worker.
func TestNetwork(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	cfg := Config{
		Home: home, ChainID: "cella-devnet-test",
		Node: node.ConfigOptions{Moniker: "t", BlockTime: 30 * time.Millisecond, EmptyBlocks: true,
			RPCAddr: nodetest.FreeURL(t), P2PAddr: nodetest.FreeURL(t), Loopback: true},
		Worker: WorkerConfig{PublicAddr: nodetest.FreeAddr(t), PollInterval: 100 * time.Millisecond},
	}
	n, err := Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !n.Fresh || n.Worker == nil {
		t.Fatalf("fresh %v, worker %v", n.Fresh, n.Worker)
	}
	w := n.Worker
	if w.InternalAddr == w.PublicAddr || w.InternalAddr == "" {
		t.Fatalf("internal API at %q, public at %q", w.InternalAddr, w.PublicAddr)
	}
	if fi, err := os.Stat(w.TokenFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("token file: %v", err)
	}
	ferdie, _ := keys.FromURI("//" + DefaultOperator)
	if w.Operator != ferdie.Public() || w.Runtime.Operator() != ferdie.Public() {
		t.Fatalf("operator %v", w.Runtime.Operator())
	}
	nodetest.WaitFor(ctx, t, "the worker's registration", 50*time.Millisecond, func() bool { return w.Runtime.Info().Registered })
	id := w.Runtime.Info().IdentityPublicKey
	// The dev bootstrap: the worker is the gatekeeper, generates the master
	// key and keys cluster 0 for itself, as the chain records.
	nodetest.WaitFor(ctx, t, "the master key and cluster 0's key", 50*time.Millisecond, func() bool {
		in := w.Runtime.Info()
		return in.HasMaster && len(in.Clusters) == 1
	})
	keyed := w.Runtime.Info()
	c, err := client.New(cfg.Node.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	gks, err := c.Gatekeepers(ctx)
	if err != nil || !keyed.Gatekeeper || len(gks.Gatekeepers) != 1 || gks.Gatekeepers[0].Identity != id.Hex() || keyed.MasterPublicKey.Hex() != gks.MasterPubkey {
		t.Fatalf("worker master %x (gatekeeper %v), chain %+v %v", keyed.MasterPublicKey, keyed.Gatekeeper, gks, err)
	}
	cl, err := c.Cluster(ctx, [32]byte{})
	if err != nil || cl.Pubkey == "" || keyed.Clusters[0].ID != ([32]byte{}) || keyed.Clusters[0].Pubkey.Hex() != cl.Pubkey || keyed.Clusters[0].Epoch != cl.Epoch {
		t.Fatalf("worker clusters %+v, chain %+v %v", keyed.Clusters, cl, err)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n, err = Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	if n.Fresh || n.Worker.Runtime.Info().IdentityPublicKey != id {
		t.Fatal("the second start did not continue the chain and the worker")
	}
	// The keys come back from the sealed folder.
	if in := n.Worker.Runtime.Info(); !in.HasMaster || in.MasterPublicKey != keyed.MasterPublicKey || len(in.Clusters) != 1 || in.Clusters[0] != keyed.Clusters[0] {
		t.Fatalf("after the restart: %+v", in)
	}
	// The worker is pinned to this chain's genesis.
	gh := n.Node.App.Machine().GenesisHash()
	if got := n.Worker.Runtime.Info().GenesisHash; got != gh {
		t.Fatalf("worker genesis %x, chain %x", got, gh)
	}
}
