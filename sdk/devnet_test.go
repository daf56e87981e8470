package sdk_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/sdk"
)

// startDevnet starts an in-process dev network (a node and a worker
// holding cluster 0's key) and returns the SDK client and worker URL.
func startDevnet(t *testing.T) (context.Context, *sdk.Client, string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, c, n := startPinkDevnet(t, nil)
	return ctx, c, "http://" + n.Worker.PublicAddr
}

// TestDevnetFlipper deploys flipper through the SDK on a dev network,
// flips it with an encrypted command and a plain one, and reads it back
// with signed, encrypted queries.
func TestDevnetFlipper(t *testing.T) {
	ctx, c, workerURL := startDevnet(t)
	sdk.PollInterval = 50 * time.Millisecond
	alice, err := sdk.KeyFromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	bob, _ := sdk.KeyFromURI("//Bob")
	md, err := sdk.ParseMetadata(testcontracts.Metadata("flipper"))
	if err != nil {
		t.Fatal(err)
	}
	code := testcontracts.Wasm("flipper")
	wait := sdk.TxOptions{Wait: true}
	hash, res, err := c.Upload(ctx, alice, code, sdk.UploadOptions{TxOptions: wait})
	if err != nil || !res.OK() || hash != sdk.CodeHash(code) {
		t.Fatalf("upload: %+v %v", res, err)
	}
	if ci, err := c.Code(ctx, hash); err != nil || ci.Kind != "ink" || ci.Size != len(code) {
		t.Fatalf("code record %+v %v", ci, err)
	}
	if _, err := c.Code(ctx, sdk.Hash{1}); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("unknown code: %v", err)
	}
	data, err := md.EncodeConstructor("new", "false")
	if err != nil {
		t.Fatal(err)
	}
	addr, res, err := c.Instantiate(ctx, alice, hash, data, sdk.InstantiateOptions{Salt: []byte("sdk"), TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("instantiate: %+v %v", res, err)
	}
	if addr != sdk.ContractAddress(alice.Address(), hash, sdk.ClusterID(0), []byte("sdk")) {
		t.Fatal("address")
	}
	w, err := c.Worker(ctx, workerURL)
	if err != nil {
		t.Fatal(err)
	}
	if cl, err := c.Cluster(ctx, sdk.ClusterID(0)); err != nil || !cl.HasKeyedWorker(w.Identity) || cl.HasKeyedWorker(alice.Address()) {
		t.Fatalf("cluster 0 %+v %v (worker %s)", cl, err, w.Identity)
	}
	// The worker recorded its endpoint on chain: found without its URL.
	var cw *sdk.Worker
	nodetest.WaitFor(ctx, t, "the worker's endpoint on chain", 50*time.Millisecond, func() bool {
		cw, err = c.ClusterWorker(ctx, sdk.ClusterID(0))
		return err == nil
	})
	if cw.Identity != w.Identity || cw.URL != workerURL || cw.Ecdh != w.Ecdh {
		t.Fatalf("cluster worker %+v, want %+v", cw, w)
	}
	if _, err := c.ClusterWorker(ctx, sdk.ClusterID(7)); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("worker of cluster 7: %v", err)
	}
	if _, err := c.Cluster(ctx, sdk.ClusterID(7)); !errors.Is(err, sdk.ErrNotFound) {
		t.Fatalf("cluster 7: %v", err)
	}
	// The constructor's dry run.
	if r, would, err := c.QueryInstantiate(ctx, alice, w, sdk.ClusterID(0), hash, data, []byte("dry"), sdk.QueryOptions{}); err != nil || r.Reverted || r.GasRequired == 0 ||
		would != sdk.ContractAddress(alice.Address(), hash, sdk.ClusterID(0), []byte("dry")) {
		t.Fatalf("instantiate dry run %+v %s %v", r, would, err)
	}
	ci, err := c.WaitContract(ctx, addr)
	if err != nil || ci.State != sdk.ContractInstantiated || ci.Pubkey == nil || ci.Deployer != alice.Address() || ci.CodeHash != hash {
		t.Fatalf("contract record %+v %v", ci, err)
	}
	if o, err := c.WaitOutcome(ctx, res); err != nil || !o.Reported || o.GasUsed == 0 {
		t.Fatalf("instantiate outcome %+v %v", o, err)
	}

	get := func() string {
		t.Helper()
		in, _ := md.EncodeMessage("get")
		r, err := c.Query(ctx, alice, w, addr, in, sdk.QueryOptions{})
		if err != nil {
			t.Fatal(err)
		}
		v, err := md.DecodeReturn("get", r.Output)
		if err != nil || r.Reverted {
			t.Fatalf("get: %s %+v %v", v, r, err)
		}
		return string(v)
	}
	if v := get(); v != "false" {
		t.Fatalf("get after new(false) = %s", v)
	}
	flip, _ := md.EncodeMessage("flip")
	for i, plain := range []bool{false, true} {
		res, err := c.Call(ctx, alice, addr, flip, sdk.CallOptions{Plain: plain, TxOptions: wait})
		if err != nil || !res.OK() {
			t.Fatalf("flip (plain %v): %+v %v", plain, res, err)
		}
		o, err := c.WaitOutcome(ctx, res)
		if err != nil || o.GasUsed == 0 {
			t.Fatalf("flip outcome %+v %v", o, err)
		}
		// The outcome is reported after the worker executed the block, so a
		// later query sees the flip (queries read the worker's cluster state).
		want := []string{"true", "false"}[i]
		nodetest.WaitFor(ctx, t, "the flip in the worker's state", 50*time.Millisecond, func() bool { return get() == want })
		// The sender reads the command's outcome from the worker.
		r, err := c.CommandResult(ctx, alice, w, o)
		if err != nil || !r.Success() || r.CommandID != o.CommandID || r.Contract != addr || r.GasUsed != o.GasUsed || r.Height != o.Height {
			t.Fatalf("flip result %+v %v (chain outcome %+v)", r, err, o)
		}
		// Nobody else does.
		if _, err := c.CommandResult(ctx, bob, w, o); !errors.Is(err, sdk.ErrNoOutcome) {
			t.Fatalf("bob reads alice's outcome: %v", err)
		}
	}
	// A command's output: get as a command.
	inst := res
	in, _ := md.EncodeMessage("get")
	res, err = c.Call(ctx, alice, addr, in, sdk.CallOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("get command: %+v %v", res, err)
	}
	// The result is read from the worker without waiting for the
	// cluster's report on chain.
	po, err := c.PendingOutcome(ctx, res)
	if err != nil || po.Reported || po.Height != res.Height {
		t.Fatalf("pending outcome %+v %v", po, err)
	}
	cr, err := c.CommandResult(ctx, alice, w, po)
	if err != nil || !cr.Success() || cr.CommandID != po.CommandID {
		t.Fatalf("get command result %+v %v", cr, err)
	}
	o, err := c.WaitOutcome(ctx, res)
	if err != nil || o.CommandID != po.CommandID || o.GasUsed != cr.GasUsed {
		t.Fatalf("get command outcome %+v %v, pending %+v, result gas %d", o, err, po, cr.GasUsed)
	}
	if v, err := md.DecodeReturn("get", cr.Output); err != nil || string(v) != "false" {
		t.Fatalf("get command output %x: %s %v", cr.Output, v, err)
	}
	// Alice's history: newest first, the get command on top; the
	// instantiate further down (upload, instantiate, 2 flips, get: 5 in all,
	// and whatever the devnet's setup had her sign).
	hist, err := c.AccountTxs(ctx, alice.Address(), 1, 10)
	if err != nil || hist.Total < 5 || len(hist.Txs) < 5 {
		t.Fatalf("alice's transactions %+v %v", hist, err)
	}
	if top := hist.Txs[0]; top.Hash != res.Hash || top.Nonce != res.Nonce || !top.OK() || top.Call.Args == nil {
		t.Fatalf("alice's newest transaction %+v, want %+v", top, res)
	}
	if i := slices.IndexFunc(hist.Txs, func(a sdk.AccountTx) bool { return a.Hash == inst.Hash }); i < 3 || hist.Txs[i].Height != inst.Height {
		t.Fatalf("alice's instantiate %s at %d in %+v", inst.Hash, i, hist.Txs)
	}
	if bh, err := c.AccountTxs(ctx, bob.Address(), 1, sdk.MaxTxsPerPage); err != nil || bh.Total != 0 {
		t.Fatalf("bob's transactions %+v %v", bh, err)
	}
	// The contract's worker, from the chain.
	if cw, err := c.ContractWorker(ctx, addr); err != nil || cw.Identity != w.Identity {
		t.Fatalf("contract worker %+v %v", cw, err)
	}
	// An unknown command id.
	if _, err := c.CommandResult(ctx, alice, w, &sdk.Outcome{CommandID: sdk.Hash{7}, Height: o.Height}); !errors.Is(err, sdk.ErrNoOutcome) {
		t.Fatalf("unknown command: %v", err)
	}
	// Estimating a flip through a query (the CLI's --dry-run).
	r, err := c.Query(ctx, alice, w, addr, flip, sdk.QueryOptions{Estimating: true})
	if err != nil || r.GasRequired == 0 {
		t.Fatalf("dry run %+v %v", r, err)
	}
	// A query of an unknown contract fails with the worker's answer.
	if _, err := c.Query(ctx, alice, w, sdk.Address{9}, flip, sdk.QueryOptions{}); !errors.Is(err, sdk.ErrQuery) {
		t.Fatalf("unknown contract query: %v", err)
	}
	var j json.RawMessage
	if j, err = md.DecodeReturn("get", []byte{0, 1}); err != nil || string(j) != "true" {
		t.Fatalf("decode %s %v", j, err)
	}
}

// TestDevnetUploadLarge uploads code whose fee is over the client's default
// fee limit: Upload raises the limit from the chain's fee parameters.
func TestDevnetUploadLarge(t *testing.T) {
	ctx, c, _ := startDevnet(t)
	alice, _ := sdk.KeyFromURI("//Alice")
	// flipper with a 1.5 MiB custom section: valid code, fee about 1.6 tokens.
	code := append([]byte{}, testcontracts.Wasm("flipper")...)
	const n = 3 << 19
	sec := []byte{0, 0x80 | byte((n+5)&0x7f), 0x80 | byte((n+5)>>7&0x7f), byte((n + 5) >> 14), 4, 'p', 'a', 'd', '!'}
	code = append(append(code, sec...), make([]byte, n)...)
	hash, res, err := c.Upload(ctx, alice, code, sdk.UploadOptions{TxOptions: sdk.TxOptions{Wait: true}})
	if err != nil || !res.OK() {
		t.Fatalf("upload: %+v %v", res, err)
	}
	if ci, err := c.Code(ctx, hash); err != nil || ci.Size != len(code) {
		t.Fatalf("code record %+v %v", ci, err)
	}
}
