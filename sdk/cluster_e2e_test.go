package sdk_test

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/devnet"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
	"github.com/cella-network/cella/sdk"
)

// TestDevnetClusterTwoWorkers is issue 9's end-to-end test: one
// gatekeeper (the dev worker) and a second worker in cluster 0; flipper
// and erc20 deployed through the SDK; encrypted and plain commands; the
// same answers to queries from each worker and the same cluster state
// root on both (in their pRuntime Info and in the chain's agreed roots).
// The second worker is then killed (no final checkpoint), commands are
// sent while it is down, and restarted from its last checkpoint it
// replays them and reaches the root of the other.
func TestDevnetClusterTwoWorkers(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and two workers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	sdk.PollInterval = 50 * time.Millisecond
	cfg := devnet.Config{
		Home: t.TempDir(), ChainID: "cella-cluster-e2e",
		Node: node.ConfigOptions{Moniker: "t", BlockTime: 30 * time.Millisecond, EmptyBlocks: true,
			RPCAddr: nodetest.FreeURL(t), P2PAddr: nodetest.FreeURL(t), Loopback: true},
		Worker: devnet.WorkerConfig{PublicAddr: nodetest.FreeAddr(t), PollInterval: 50 * time.Millisecond},
	}
	n, err := devnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	gk := n.Worker
	nodetest.WaitFor(ctx, t, "cluster 0's key on the gatekeeper", 50*time.Millisecond, func() bool { return len(gk.Runtime.Info().Clusters) == 1 })

	// Privileged setup through the node client: Alice is the dev admin.
	nc, err := client.New(cfg.Node.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	admKey, _ := keys.FromURI("//Alice")
	sudo := func(call tx.Call) {
		t.Helper()
		x, err := nc.Build(ctx, admKey, admin.SudoCall(call), client.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		h, err := nc.Submit(ctx, x)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := nc.Wait(ctx, h); err != nil || !r.OK() {
			t.Fatalf("sudo: %+v %v", r, err)
		}
	}
	cluster := func() *chainapi.ClusterInfo {
		t.Helper()
		ci, err := nc.Cluster(ctx, phat.ClusterID(0))
		if err != nil {
			t.Fatal(err)
		}
		return ci
	}
	const interval = 4
	sudo(phat.SetReportIntervalCall(phat.ClusterID(0), interval))

	// The second worker: its own operator, frequent checkpoints.
	w2, err := n.AddWorker(ctx, "w2", devnet.WorkerConfig{Operator: "//Eve", CheckpointInterval: 5, PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(ctx, t, "the second worker's registration", 50*time.Millisecond, func() bool { return w2.Runtime.Info().Registered })
	id1, id2 := gk.Runtime.Info().IdentityPublicKey, w2.Runtime.Info().IdentityPublicKey
	sudo(phat.AddWorkerCall(phat.ClusterID(0), id2))
	nodetest.WaitFor(ctx, t, "cluster 0's key on the second worker", 50*time.Millisecond, func() bool { return len(w2.Runtime.Info().Clusters) == 1 })

	c, err := sdk.Connect(cfg.Node.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := sdk.KeyFromURI("//Alice")
	bob, _ := sdk.KeyFromURI("//Bob")
	wait := sdk.TxOptions{Wait: true}
	deploy := func(name string, args ...string) (sdk.Address, *sdk.Metadata) {
		t.Helper()
		md, err := sdk.ParseMetadata(testcontracts.Metadata(name))
		if err != nil {
			t.Fatal(err)
		}
		hash, res, err := c.Upload(ctx, alice, testcontracts.Wasm(name), sdk.UploadOptions{TxOptions: wait})
		if err != nil || !res.OK() {
			t.Fatalf("upload %s: %+v %v", name, res, err)
		}
		data, err := md.EncodeConstructor("new", args...)
		if err != nil {
			t.Fatal(err)
		}
		addr, res, err := c.Instantiate(ctx, alice, hash, data, sdk.InstantiateOptions{TxOptions: wait})
		if err != nil || !res.OK() {
			t.Fatalf("instantiate %s: %+v %v", name, res, err)
		}
		if ci, err := c.WaitContract(ctx, addr); err != nil || ci.State != sdk.ContractInstantiated {
			t.Fatalf("%s: %+v %v", name, ci, err)
		}
		return addr, md
	}
	flipper, fmd := deploy("flipper", "false")
	erc20, emd := deploy("erc20", "1000000")

	// last is the height of the last command sent; both workers must have
	// applied it before their states are compared.
	var last int64
	call := func(addr sdk.Address, md *sdk.Metadata, plain bool, msg string, args ...string) {
		t.Helper()
		in, err := md.EncodeMessage(msg, args...)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.Call(ctx, alice, addr, in, sdk.CallOptions{Plain: plain, TxOptions: wait})
		if err != nil || !res.OK() {
			t.Fatalf("%s (plain %v): %+v %v", msg, plain, res, err)
		}
		if o, err := c.WaitOutcome(ctx, res); err != nil || o.GasUsed == 0 {
			t.Fatalf("%s outcome %+v %v", msg, o, err)
		}
		last = res.Height
	}
	call(flipper, fmd, false, "flip")
	call(erc20, emd, false, "transfer", bob.Address().String(), "250")
	call(erc20, emd, true, "transfer", bob.Address().String(), "50")

	workers := func() []*devnet.Worker { return []*devnet.Worker{gk, w2} }
	// caughtUp waits until every worker has applied the block of the last
	// command and checks that their cluster state roots are equal.
	caughtUp := func(what string) [32]byte {
		t.Helper()
		nodetest.WaitFor(ctx, t, what, 50*time.Millisecond, func() bool {
			for _, w := range workers() {
				if w.Runtime.Info().Height < last {
					return false
				}
			}
			return true
		})
		r1, r2 := gk.Runtime.Info().Clusters, w2.Runtime.Info().Clusters
		if len(r1) != 1 || len(r2) != 1 || r1[0].StateRoot != r2[0].StateRoot || r1[0].Contracts != 2 || r2[0].Contracts != 2 {
			t.Fatalf("%s: cluster states differ: %+v / %+v", what, r1, r2)
		}
		return r1[0].StateRoot
	}
	// agreedAfter waits for a root agreed by both workers for a height
	// after h and returns it.
	agreedAfter := func(what string, h int64) string {
		t.Helper()
		var root string
		nodetest.WaitFor(ctx, t, what, 50*time.Millisecond, func() bool {
			la := cluster().LastAgreed
			if la == nil || la.Height <= uint64(h) || !slices.Contains(la.Agreeing, id1.Hex()) || !slices.Contains(la.Agreeing, id2.Hex()) {
				return false
			}
			root = la.Root
			return true
		})
		if al := cluster().Alarms; len(al) != 0 {
			t.Fatalf("divergence alarms: %+v", al)
		}
		return root
	}
	// answers queries every worker and checks that they answer alike.
	answers := func(addr sdk.Address, md *sdk.Metadata, who *sdk.Key, msg string, want string, args ...string) {
		t.Helper()
		in, err := md.EncodeMessage(msg, args...)
		if err != nil {
			t.Fatal(err)
		}
		var first []byte
		for i, w := range workers() {
			sw, err := c.Worker(ctx, "http://"+w.PublicAddr)
			if err != nil {
				t.Fatal(err)
			}
			r, err := c.Query(ctx, who, sw, addr, in, sdk.QueryOptions{})
			if err != nil || r.Reverted {
				t.Fatalf("%s on worker %d: %+v %v", msg, i, r, err)
			}
			if i == 0 {
				first = r.Output
			} else if !bytes.Equal(r.Output, first) {
				t.Fatalf("%s: worker %d answers %x, worker 0 %x", msg, i, r.Output, first)
			}
			if v, err := md.DecodeReturn(msg, r.Output); err != nil || string(v) != want {
				t.Fatalf("%s on worker %d = %s (%v), want %s", msg, i, v, err, want)
			}
		}
	}
	check := func(what string, flip, bobs, alices string) [32]byte {
		t.Helper()
		root := caughtUp(what)
		answers(flipper, fmd, alice, "get", flip)
		answers(erc20, emd, bob, "balance_of", bobs, bob.Address().String())
		answers(erc20, emd, alice, "balance_of", alices, alice.Address().String())
		answers(erc20, emd, alice, "total_supply", "1000000")
		if a := agreedAfter(what+": an agreed root", last); a != hexRoot(root) {
			t.Fatalf("%s: chain's agreed root %s, workers' %s", what, a, hexRoot(root))
		}
		return root
	}
	before := check("both workers after the commands", "true", "300", "999700")

	// Crash the second worker; the cluster goes on without it.
	w2.Kill()
	call(flipper, fmd, true, "flip")
	call(erc20, emd, false, "transfer", bob.Address().String(), "700")
	down := last
	nodetest.WaitFor(ctx, t, "the gatekeeper past the commands", 50*time.Millisecond, func() bool { return gk.Runtime.Info().Height >= down })
	if gk.Runtime.Info().Clusters[0].StateRoot == before {
		t.Fatal("the commands sent during the crash did not change the gatekeeper's state")
	}
	// Killed before the commands, the worker never applied them: its last
	// checkpoint is older, and the restart must replay them.
	if h := w2.Runtime.Info().Height; h >= down {
		t.Fatalf("the killed worker had applied block %d, the commands are at %d", h, down)
	}
	if err := w2.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	check("the restarted worker", "false", "1000", "999000")
}

func hexRoot(r [32]byte) string { return fmt.Sprintf("0x%x", r) }
