package node_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/abciapp"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/modules"
)

// scheduleUpgrade has the dev admin schedule an upgrade to version a few
// blocks ahead and returns its height. The margin only has to outlast the
// transaction's inclusion; should the chain pass the height first (the
// call then fails with upgrade_in_past), it tries again further ahead.
func scheduleUpgrade(ctx context.Context, t *testing.T, c *client.Client, version uint64) int64 {
	t.Helper()
	alice := pair(t, "//Alice")
	for margin := int64(20); ; margin *= 4 {
		ci, err := c.ChainInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		h := ci.Height + margin
		b, err := c.Build(ctx, alice, admin.SudoCall(gov.ScheduleUpgradeCall(uint64(h), version)), client.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		hash, err := c.Submit(ctx, b)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Wait(ctx, hash)
		if err != nil {
			t.Fatal(err)
		}
		if res.OK() {
			return h
		}
		if res.Code != state.CodeUpgradeInPast || margin > 1000 {
			t.Fatalf("schedule_upgrade: %s: %s", res.Result, res.Log)
		}
	}
}

// headerVersion returns the app version that block h's header carries.
func headerVersion(t *testing.T, n *node.Node, h int64) uint64 {
	t.Helper()
	meta := n.Comet.BlockStore().LoadBlockMeta(h)
	if meta == nil {
		t.Fatalf("no block %d", h)
	}
	return meta.Header.Version.App
}

// TestUpgradeOnNode: on a running CometBFT node, an upgrade scheduled for
// height H makes header H+1 the first to carry app version 2, blocks keep
// coming, /chain and /gov show the new version and the past upgrade, and
// a restart (CometBFT's handshake with the app) continues on version 2.
func TestUpgradeOnNode(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	o := nodetest.Options(t)
	n, c := startDev(t, home, o)
	waitHeight(ctx, t, c, 1)
	h := scheduleUpgrade(ctx, t, c, state.AppVersion2)
	waitHeight(ctx, t, c, h+3)
	for _, x := range []int64{1, h - 1, h, h + 1, h + 2, h + 3} {
		want := state.AppVersion1
		if x > h {
			want = state.AppVersion2
		}
		if got := headerVersion(t, n, x); got != want {
			t.Fatalf("header %d carries app version %d, want %d (upgrade at %d)", x, got, want, h)
		}
	}
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gi, err := c.Gov(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if ci.AppVersion != state.AppVersion2 || gi.AppVersion != state.AppVersion2 || gi.Upgrade != nil || len(gi.PastUpgrades) != 1 || gi.PastUpgrades[0].Height != uint64(h) {
		t.Fatalf("chain info %+v, gov %+v", ci, gi)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}

	n2, c2 := startDev(t, home, o)
	defer n2.Close()
	waitHeight(ctx, t, c2, ci.Height+3)
	if got := headerVersion(t, n2, ci.Height+2); got != state.AppVersion2 {
		t.Fatalf("after the restart header %d carries app version %d", ci.Height+2, got)
	}
}

// TestUpgradeUnsupportedNodeStops: a node whose binary lacks app version 2
// stops at the scheduled height (the app refuses the block, consensus
// stops, Halted says why, nothing of the block is committed, the node
// closes); restarted with a binary that has version 2, CometBFT replays
// that block into the app and the chain goes on with version 2.
func TestUpgradeUnsupportedNodeStops(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	home := t.TempDir()
	o := nodetest.Options(t)
	if _, err := node.InitHome(home, node.InitOptions{ChainID: nodetest.ChainID, Dev: true, Config: o}); err != nil {
		t.Fatal(err)
	}
	v1only := abciapp.WithRuntimes(state.Runtimes{state.AppVersion1: modules.Runtimes()[state.AppVersion1]})
	n, err := node.Start(node.NewConfig(home, o), nodetest.Log(), v1only)
	if err != nil {
		t.Fatal(err)
	}
	c, err := client.New(o.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(ctx, t, c, 1)
	h := scheduleUpgrade(ctx, t, c, state.AppVersion2)
	select {
	case <-n.App.Halted():
	case <-ctx.Done():
		n.Close()
		t.Fatal("the v1 node did not stop")
	}
	var ue *state.UpgradeError
	if err := n.App.HaltErr(); !errors.As(err, &ue) || ue.Height != h || ue.To != state.AppVersion2 || !strings.Contains(err.Error(), "install a binary that supports app version 2") {
		n.Close()
		t.Fatalf("halt: %v", err)
	}
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		n.Close()
		t.Fatal(err)
	}
	if ci.Height != h-1 || ci.AppVersion != state.AppVersion1 {
		n.Close()
		t.Fatalf("the stopped node committed up to %d at app version %d, want %d at 1", ci.Height, ci.AppVersion, h-1)
	}
	if err := n.Close(); err != nil {
		t.Logf("closing the stopped node: %v", err)
	}
	// The same binary restarted stops again, in CometBFT's handshake.
	if n, err := node.Start(node.NewConfig(home, o), nodetest.Log(), v1only); err == nil {
		n.Close()
		t.Fatal("the v1 binary restarted past the upgrade height")
	} else if !strings.Contains(err.Error(), "install a binary that supports app version 2") {
		t.Fatalf("restart of the v1 binary: %v", err)
	}

	n2, c2 := startDev(t, home, o)
	defer n2.Close()
	waitHeight(ctx, t, c2, h+2)
	if v1, v2 := headerVersion(t, n2, h), headerVersion(t, n2, h+1); v1 != state.AppVersion1 || v2 != state.AppVersion2 {
		t.Fatalf("headers %d and %d carry app versions %d and %d", h, h+1, v1, v2)
	}
}

// TestUpgradeFourValidatorsOneBehind: in a 4-validator network whose
// fourth validator runs a binary without app version 2, that validator
// stops at the upgrade height while the other three (3/4 of the power)
// carry the chain on with version 2; restarted on a binary with version 2,
// the fourth replays the upgrade block, catches up and agrees on the
// AppHash — nobody forks.
func TestUpgradeFourValidatorsOneBehind(t *testing.T) {
	ctx, nodes := fourValidators(t)
	v1only := abciapp.WithRuntimes(state.Runtimes{state.AppVersion1: modules.Runtimes()[state.AppVersion1]})
	start := func(i int, opts ...abciapp.Option) *node.Node {
		t.Helper()
		cfg, err := node.LoadConfig(nodes[i].Home)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Consensus.TimeoutPropose = 400 * time.Millisecond
		cfg.Consensus.TimeoutPrevote = 100 * time.Millisecond
		cfg.Consensus.TimeoutPrecommit = 100 * time.Millisecond
		// CometBFT v0.38's queryMaj23Routine sleeps this long between its
		// steps without checking that the node still runs, then may read
		// a commit from the block store: a node closed meanwhile panics
		// ("leveldb: closed"). The stopped validator leaves its peers
		// answering its catch-up commit, which makes that path likely at
		// close; short sleeps make the routine see the stop first.
		cfg.Consensus.PeerQueryMaj23SleepDuration = 10 * time.Millisecond
		n, err := node.Start(cfg, nodetest.Log(), opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if n.Comet.IsRunning() {
				n.Close()
			}
		})
		return n
	}
	running := make([]*node.Node, len(nodes))
	for i := range nodes {
		if i == 3 {
			running[i] = start(i, v1only)
		} else {
			running[i] = start(i)
		}
	}
	c0, err := client.New(nodes[0].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitHeight(ctx, t, c0, 2)
	h := scheduleUpgrade(ctx, t, c0, state.AppVersion2)
	select {
	case <-running[3].App.Halted():
	case <-ctx.Done():
		t.Fatal("the v1 validator did not stop")
	}
	var ue *state.UpgradeError
	if err := running[3].App.HaltErr(); !errors.As(err, &ue) || ue.Height != h {
		t.Fatalf("halt: %v", err)
	}
	waitHeight(ctx, t, c0, h+3)
	if v := headerVersion(t, running[0], h+1); v != state.AppVersion2 {
		t.Fatalf("header %d carries app version %d", h+1, v)
	}
	running[3].Close()

	running[3] = start(3)
	c3, err := client.New(nodes[3].RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	target := h + 5
	waitHeight(ctx, t, c0, target)
	waitHeight(ctx, t, c3, target)
	var hashes []string
	for _, c := range []*client.Client{c0, c3} {
		x := target
		res, err := c.RPC().Commit(ctx, &x)
		if err != nil {
			t.Fatal(err)
		}
		hashes = append(hashes, res.Header.AppHash.String())
	}
	if hashes[0] != hashes[1] {
		t.Fatalf("app hashes at %d differ: %v", target, hashes)
	}
	if v := headerVersion(t, running[3], h+2); v != state.AppVersion2 {
		t.Fatalf("the restarted validator's header %d carries app version %d", h+2, v)
	}
}
