package contracts_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/devnet"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
	"github.com/cella-network/cella/internal/worker/contracts"
)

// TestDevnetDivergence runs two workers of cluster 0 against one dev node:
// the dev worker (honest) and a second one whose contract execution is
// deliberately faulty (faultyRuntime). While no contract exists both
// report the same roots and the chain records them as agreed. The faulty
// worker is then stopped, a contract is instantiated, and the honest
// worker's root for the next report height is recorded; restarted, the
// faulty worker executes the instantiate wrongly and its report for that
// height differs: the chain keeps an alarm naming it.
func TestDevnetDivergence(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	reg := prometheus.NewRegistry()
	cfg := devnet.Config{
		Home: t.TempDir(), ChainID: "cella-divergence-test",
		Node: node.ConfigOptions{Moniker: "t", BlockTime: 50 * time.Millisecond, EmptyBlocks: true,
			RPCAddr: nodetest.FreeURL(t), P2PAddr: nodetest.FreeURL(t), Loopback: true},
		Worker: devnet.WorkerConfig{PublicAddr: nodetest.FreeAddr(t), PollInterval: 50 * time.Millisecond, Metrics: reg},
	}
	n, err := devnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	honest := n.Worker
	nodetest.WaitFor(ctx, t, "cluster 0's key", 50*time.Millisecond, func() bool { return len(honest.Runtime.Info().Clusters) == 1 })
	c, err := client.New(cfg.Node.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := keys.FromURI("//Alice")
	send := func(call tx.Call) *client.TxResult {
		t.Helper()
		return nodetest.SubmitOK(ctx, t, c, alice, call)
	}
	cluster := func() *chainapi.ClusterInfo {
		t.Helper()
		ci, err := c.Cluster(ctx, phat.ClusterID(0))
		if err != nil {
			t.Fatal(err)
		}
		return ci
	}
	const interval = 8
	send(admin.SudoCall(phat.SetReportIntervalCall(phat.ClusterID(0), interval)))

	// The faulty worker: registered by its pherry, added to cluster 0,
	// keyed by the dev gatekeeper.
	rt, err := contracts.New(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer rt.Close(context.Background())
	fcfg := devnet.WorkerConfig{Dir: t.TempDir(), NodeURL: devnet.HTTPURL(cfg.Node.RPCAddr), PublicAddr: nodetest.FreeAddr(t),
		Operator: "//Eve", GenesisHash: n.Node.App.Machine().GenesisHash(), PollInterval: 50 * time.Millisecond,
		Contracts: faultyRuntime{ContractRuntime: rt}}
	faulty, err := devnet.StartWorker(ctx, fcfg)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = faulty.Close() }()
	nodetest.WaitFor(ctx, t, "the faulty worker's registration", 50*time.Millisecond, func() bool { return faulty.Runtime.Info().Registered })
	fid := faulty.Runtime.Info().IdentityPublicKey
	hid := honest.Runtime.Info().IdentityPublicKey
	send(admin.SudoCall(phat.AddWorkerCall(phat.ClusterID(0), fid)))
	nodetest.WaitFor(ctx, t, "the faulty worker's cluster key", 50*time.Millisecond, func() bool { return len(faulty.Runtime.Info().Clusters) == 1 })
	// Without contracts both compute the empty state's root: agreed.
	nodetest.WaitFor(ctx, t, "a root both workers agree on", 50*time.Millisecond, func() bool {
		la := cluster().LastAgreed
		return la != nil && len(la.Agreeing) == 2
	})
	if ci := cluster(); ci.ReportInterval != interval || len(ci.Alarms) != 0 || ci.LastAgreed.Height%interval != 0 {
		t.Fatalf("cluster %+v", ci)
	}
	// Stop the faulty worker (it seals a checkpoint), then instantiate.
	if err := faulty.Close(); err != nil {
		t.Fatal(err)
	}
	fl := mustMeta(t, "flipper")
	code := testcontracts.Wasm("flipper")
	send(phat.UploadCodeCall(phat.UploadArgs{Kind: msg.CodeKindInk, Code: code}))
	r := send(phat.InstantiateCall(phat.InstantiateArgs{CodeHash: phat.CodeHash(code), Data: input(t, fl, "new(false)", true),
		Salt: []byte("div"), GasLimit: gas}))
	h := uint64(r.Height) + interval - uint64(r.Height)%interval
	var expected string
	nodetest.WaitFor(ctx, t, "the honest worker's root after the instantiate", 50*time.Millisecond, func() bool {
		for _, rr := range cluster().Roots {
			if rr.Height == h {
				expected = rr.Root
				return true
			}
		}
		return false
	})
	if rr := cluster().Roots; rr[len(rr)-1].Agreeing[0] != hid.Hex() {
		t.Fatalf("roots %+v", rr)
	}
	// The honest worker's metric shows its root.
	hroot := fmt.Sprintf("0x%x", honest.Runtime.Info().Clusters[0].StateRoot)
	if !hasRootMetric(t, reg, hroot) {
		t.Fatalf("no state root metric for %s", hroot)
	}

	// Restarted, the faulty worker replays the instantiate wrongly.
	if faulty, err = devnet.StartWorker(ctx, fcfg); err != nil {
		t.Fatal(err)
	}
	var alarm chainapi.AlarmInfo
	nodetest.WaitFor(ctx, t, "a divergence alarm", 50*time.Millisecond, func() bool {
		for _, a := range cluster().Alarms {
			if a.Height == h {
				alarm = a
				return true
			}
		}
		return false
	})
	if alarm.Worker != fid.Hex() || alarm.ExpectedRoot != expected || alarm.Root == expected {
		t.Fatalf("alarm %+v, faulty worker %s, honest root %s", alarm, fid.Hex(), expected)
	}
	// Every height up to h was reported by the honest worker first (the
	// faulty one was stopped); later heights race, so only these count.
	for _, a := range cluster().Alarms {
		if a.Height <= h && a.Worker != fid.Hex() {
			t.Fatalf("alarm naming the honest worker: %+v", a)
		}
	}
}

func hasRootMetric(t *testing.T, reg *prometheus.Registry, root string) bool {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != "cella_pruntime_cluster_state_root_info" {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "root" && l.GetValue() == root {
					return true
				}
			}
		}
	}
	return false
}
