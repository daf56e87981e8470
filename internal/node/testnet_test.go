package node_test

import (
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state/validators"
)

// freeBase finds a base port such that the testnet's ports are all free.
func freeBase(t *testing.T, n int) int {
	t.Helper()
	// Below Linux's ephemeral range (32768+), where outgoing connections
	// of other processes would take ports between the probe and the bind.
	start := 20000 + (time.Now().Nanosecond()/1000)%12000
	for k := 0; k < 400; k++ {
		base := 20000 + (start-20000+k*97)%12000
		ok := true
		for i := 0; i < n && ok; i++ {
			for _, p := range []int{base + 10*i, base + 10*i + 1} {
				l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
				if err != nil {
					ok = false
					break
				}
				l.Close()
			}
		}
		if ok {
			return base
		}
	}
	t.Fatal("no free ports")
	return 0
}

// TestFourValidatorsOneDown runs a 4-validator network in-process, stops one
// validator, and checks that the other three keep making blocks.
func TestFourValidatorsOneDown(t *testing.T) {
	ctx, nodes := fourValidators(t)
	running := make([]*node.Node, len(nodes))
	for i, tn := range nodes {
		cfg, err := node.LoadConfig(tn.Home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Consensus.TimeoutPropose = 400 * time.Millisecond
		cfg.Consensus.TimeoutPrevote = 100 * time.Millisecond
		cfg.Consensus.TimeoutPrecommit = 100 * time.Millisecond
		n, err := node.Start(cfg, nodetest.Log())
		if err != nil {
			t.Fatal(err)
		}
		running[i] = n
		defer func(n *node.Node) {
			if n.Comet.IsRunning() {
				n.Close()
			}
		}(n)
	}
	c0, err := client.New(nodes[0].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(ctx, t, c0, 3)
	if err := running[3].Close(); err != nil {
		t.Fatal(err)
	}
	ci, err := c0.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(ctx, t, c0, ci.Height+5)

	// All three live nodes agree on the app hash at a common height.
	var hashes []string
	for _, tn := range nodes[:3] {
		c, err := client.New(tn.RPCAddr)
		if err != nil {
			t.Fatal(err)
		}
		waitHeight(ctx, t, c, ci.Height+5)
		h := ci.Height + 5
		res, err := c.RPC().Commit(ctx, &h)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, res.Header.AppHash.String())
	}
	if hashes[0] != hashes[1] || hashes[1] != hashes[2] {
		t.Fatalf("app hashes differ: %v", hashes)
	}
}

// TestDevValidatorChange adds a validator through the dev-only call and sees
// CometBFT adopt it, while the chain goes on (the new validator's power is
// too small to stop it).
func TestDevValidatorChange(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	n, c := startDev(t, t.TempDir(), nodetest.Options(t))
	defer n.Close()
	waitHeight(ctx, t, c, 1)
	newVal := ed25519.GenPrivKey().PubKey()
	var pk [32]byte
	copy(pk[:], newVal.Bytes())
	res := submitOK(ctx, t, c, pair(t, "//Alice"), validators.SetPowerCall(pk, 1))
	// CometBFT applies an update from block H at H+2.
	waitHeight(ctx, t, c, res.Height+3)
	h := res.Height + 2
	vals, err := c.RPC().Validators(ctx, &h, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range vals.Validators {
		if v.PubKey.Equals(newVal) && v.VotingPower == 1 {
			found = true
		}
	}
	if len(vals.Validators) != 2 || !found {
		t.Fatalf("validators at %d: %v, want the old one and the new one with power 1", h, vals.Validators)
	}
	appVals, err := c.Validators(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(appVals) != 2 {
		t.Fatalf("app state validators %v, want 2", appVals)
	}
}

// fourValidators writes a 4-validator dev testnet (50 ms blocks, free
// ports) for a test, skipped with -short, and returns a context that ends
// with the test (at most 3 minutes) and the nodes' homes and keys.
func fourValidators(t *testing.T) (context.Context, []node.TestnetNode) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts four nodes")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	t.Cleanup(cancel)
	_, nodes, err := node.InitTestnet(t.TempDir(), node.TestnetOptions{
		Validators: 4, ChainID: "cella-testnet", Dev: true, BasePort: freeBase(t, 4), BlockTime: 50 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, nodes
}
