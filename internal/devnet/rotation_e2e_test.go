package devnet

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/sdk"
)

// TestRotationE2E rotates the master key on a running network: A (the
// dev bootstrap's gatekeeper and cluster 0's worker) and B (a second
// gatekeeper), with flipper on cluster 0. After gatekeeper.rotate_master_key
// both gatekeepers hold the epoch-1 master key, cluster 0 is re-keyed, the
// chain records flipper's epoch-1 key, the SDK encrypts to it, queries are
// answered throughout, a command encrypted to the old key runs within the
// grace period and is refused once it is over, and a second rotation while
// one is in progress is refused.
func TestRotationE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and two workers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const blockTime = 100 * time.Millisecond
	k := startKeyNet(ctx, t, blockTime)
	a, _ := k.worker("a", "Bob")
	k.waitRegistered(a)
	b, _ := k.worker("b", "Charlie")
	k.waitRegistered(b)
	id := func(w *Worker) keys.PublicKey { return w.Runtime.Info().IdentityPublicKey }
	cluster0 := phat.ClusterID(0)
	k.waitClusterKey("A", a, cluster0)
	k.sudo("gatekeeper.add(B)", gatekeeper.AddCall(id(b)))
	master0 := k.masterPubkey()
	nodetest.WaitFor(ctx, t, "B holding the master key", 20*time.Millisecond, func() bool { return masterKey(b.Runtime.Info()) == master0 })

	// flipper on cluster 0, through the SDK.
	sdk.PollInterval = 50 * time.Millisecond
	c, err := sdk.Connect(k.rpc)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := sdk.KeyFromURI("//Alice")
	md, err := sdk.ParseMetadata(testcontracts.Metadata("flipper"))
	if err != nil {
		t.Fatal(err)
	}
	wait := sdk.TxOptions{Wait: true}
	hash, res, err := c.Upload(ctx, alice, testcontracts.Wasm("flipper"), sdk.UploadOptions{TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("upload %+v %v", res, err)
	}
	data, _ := md.EncodeConstructor("new", "false")
	addr, res, err := c.Instantiate(ctx, alice, hash, data, sdk.InstantiateOptions{Salt: []byte("rot"), TxOptions: wait})
	if err != nil || !res.OK() {
		t.Fatalf("instantiate %+v %v", res, err)
	}
	ci, err := c.WaitContract(ctx, addr)
	if err != nil || ci.Pubkey == nil {
		t.Fatalf("contract %+v %v", ci, err)
	}
	oldKey := keys.PublicKey(*ci.Pubkey)
	w, err := c.Worker(ctx, "http://"+a.PublicAddr)
	if err != nil {
		t.Fatal(err)
	}
	get := func() string {
		t.Helper()
		in, _ := md.EncodeMessage("get")
		r, err := c.Query(ctx, alice, w, addr, in, sdk.QueryOptions{})
		if err != nil || r.Reverted {
			t.Fatalf("query: %+v %v", r, err)
		}
		v, err := md.DecodeReturn("get", r.Output)
		if err != nil {
			t.Fatal(err)
		}
		return string(v)
	}
	flip, _ := md.EncodeMessage("flip")
	// oldFlip sends flip encrypted to the epoch-0 key, as a client that
	// read the key before the rotation would.
	oldFlip := func() int64 {
		t.Helper()
		cmd := &phatwire.InkCommand{Nonce: make([]byte, 32), Message: flip, GasLimit: 1_000_000_000_000}
		rand.Read(cmd.Nonce)
		eph := cipher.EcdhKeyFromSeed([32]byte(cmd.Nonce))
		iv, _ := cipher.NewIV(rand.Reader)
		p, err := phatwire.EncryptCommand(eph, oldKey, iv, cmd)
		if err != nil {
			t.Fatal(err)
		}
		payload, _ := p.Encode()
		call := phat.PushCommandCall(phat.PushArgs{Contract: addr, Payload: payload, GasLimit: cmd.GasLimit})
		r, err := c.Send(ctx, alice, sdk.Call(call), wait)
		if err != nil || !r.OK() {
			t.Fatalf("old-key flip: %+v %v", r, err)
		}
		return r.Height
	}
	newFlip := func() {
		t.Helper()
		r, err := c.Call(ctx, alice, addr, flip, sdk.CallOptions{TxOptions: wait})
		if err != nil || !r.OK() {
			t.Fatalf("flip %+v %v", r, err)
		}
		if o, err := c.WaitOutcome(ctx, r); err != nil || o.GasUsed == 0 {
			t.Fatalf("flip outcome %+v %v", o, err)
		}
	}
	if get() != "false" {
		t.Fatal("flipper does not start false")
	}

	// A grace of 40 blocks, fixed for this rotation when the cluster is
	// re-keyed; then the rotation.
	const grace = 40
	k.sudo("gatekeeper.set_key_grace(40)", gatekeeper.SetKeyGraceCall(grace))
	enacted := k.sudo("gatekeeper.rotate_master_key", gatekeeper.RotateMasterKeyCall())
	// A second proposal while this one is in progress: the node refuses it
	// already in CheckTx, with the rotation's code.
	var te *client.TxError
	if _, err := k.c.Sudo(ctx, k.admin, gatekeeper.RotateMasterKeyCall()); !errors.As(err, &te) || te.Code != state.CodeGkRotationInProgress {
		t.Fatalf("second rotation: %v", err)
	}
	var newKey keys.PublicKey
	var usable int64
	nodetest.WaitFor(ctx, t, "flipper's epoch-1 key on chain", 20*time.Millisecond, func() bool {
		ci, err := c.Contract(ctx, addr)
		if err != nil || ci.Pubkey == nil || keys.PublicKey(*ci.Pubkey) == oldKey {
			return false
		}
		newKey = keys.PublicKey(*ci.Pubkey)
		info, err := c.ChainInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		usable = info.Height - enacted
		return true
	})
	g, err := k.c.Gatekeepers(ctx)
	if err != nil || g.MasterEpoch != 1 || len(g.MasterHistory) != 2 || g.MasterPubkey == master0 {
		t.Fatalf("gatekeepers after the rotation %+v %v", g, err)
	}
	announced := int64(g.MasterHistory[1].Height) - enacted
	nodetest.WaitFor(ctx, t, "both gatekeepers holding the epoch-1 key", 20*time.Millisecond, func() bool {
		return masterKey(a.Runtime.Info()) == g.MasterPubkey && masterKey(b.Runtime.Info()) == g.MasterPubkey
	})
	if cl := k.cluster(cluster0); cl.Epoch != 1 || clusterKey(a.Runtime.Info(), cluster0) != cl.Pubkey {
		t.Fatalf("cluster 0 after the rotation: %+v", cl)
	}
	// Exact heights from the block records: the first delivery of each
	// step of the rotation.
	at := k.firstDeliveries(enacted, msg.TopicMasterKeyShare, msg.TopicGatekeeperReady, msg.TopicClusterKeys, msg.TopicClusterRekeyed, msg.TopicContractKeys)
	t.Logf("rotation enacted at block %d; blocks after it: master key %d, share to B %d, B ready %d, cluster re-keyed %d (phat/rekeyed %d), contract keys %d; seen by the SDK within %d",
		enacted, announced, at[msg.TopicMasterKeyShare]-enacted, at[msg.TopicGatekeeperReady]-enacted, at[msg.TopicClusterKeys]-enacted,
		at[msg.TopicClusterRekeyed]-enacted, at[msg.TopicContractKeys]-enacted, usable)
	if at[msg.TopicContractKeys] == 0 || at[msg.TopicContractKeys] <= at[msg.TopicClusterRekeyed] {
		t.Fatalf("contract keys not delivered after the re-keying: %v", at)
	}
	// The generator sends the share to B and the cluster keys in the step
	// that announces the key, behind it: they land with it (one block
	// later at most, should pherry's submissions straddle a proposal), the
	// re-keying in the same transaction as the cluster keys, and the
	// contract keys and B's ready one relay later — +4 where they were +6
	// when the shares waited for the announcement to land.
	if at[msg.TopicClusterRekeyed] != at[msg.TopicClusterKeys] {
		t.Fatalf("phat/rekeyed at %d, the cluster keys at %d", at[msg.TopicClusterRekeyed], at[msg.TopicClusterKeys])
	}
	for _, tp := range []string{msg.TopicMasterKeyShare, msg.TopicClusterKeys} {
		if d := at[tp] - enacted; d < announced || d > announced+1 {
			t.Fatalf("%s at +%d, the master key at +%d: not sent with the announcement", tp, d, announced)
		}
	}
	for _, tp := range []string{msg.TopicContractKeys, msg.TopicGatekeeperReady} {
		if d := at[tp] - enacted; at[tp] <= at[msg.TopicClusterKeys] || d > 5 {
			t.Fatalf("%s at +%d (cluster keys at +%d): want after the re-keying and at most +5", tp, d, at[msg.TopicClusterKeys]-enacted)
		}
	}
	if newKey == oldKey {
		t.Fatal("contract key unchanged")
	}

	// Queries still answered; the SDK encrypts to the new key.
	if get() != "false" {
		t.Fatal("state changed by the rotation")
	}
	newFlip()
	nodetest.WaitFor(ctx, t, "the new-key flip", 20*time.Millisecond, func() bool { return get() == "true" })
	// The old key within the grace period: runs (ordered before the next
	// new-key flip, whose outcome then says both ran).
	if h := oldFlip(); h > at[msg.TopicClusterKeys]+grace {
		t.Fatalf("the old-key flip landed at block %d, after the grace period: the machine is too slow for this test", h)
	}
	newFlip()
	nodetest.WaitFor(ctx, t, "old-key flip then new-key flip", 20*time.Millisecond, func() bool { return get() == "true" })
	// Grace over: the old-key flip is refused, the new-key one runs.
	nodetest.WaitFor(ctx, t, "the end of the grace period", 20*time.Millisecond, func() bool {
		info, err := c.ChainInfo(ctx)
		return err == nil && info.Height > at[msg.TopicClusterKeys]+grace
	})
	oldFlip()
	newFlip()
	nodetest.WaitFor(ctx, t, "only the new-key flip", 20*time.Millisecond, func() bool { return get() == "false" })
}

// firstDeliveries returns, for each topic, the first block from from on
// that delivered a message of it (absent: none).
func (k *keyNet) firstDeliveries(from int64, topics ...string) map[string]int64 {
	k.t.Helper()
	ci, err := k.c.ChainInfo(k.ctx)
	if err != nil {
		k.t.Fatal(err)
	}
	out := map[string]int64{}
	for f := uint64(from); f <= uint64(ci.Height); f += chainapi.MaxBlocksPerQuery {
		recs, err := k.c.Blocks(k.ctx, f, min(uint64(ci.Height), f+chainapi.MaxBlocksPerQuery-1))
		if err != nil {
			k.t.Fatal(err)
		}
		for _, r := range recs {
			for _, m := range r.Messages {
				for _, tp := range topics {
					if string(m.Topic) == tp && out[tp] == 0 {
						out[tp] = r.Height
					}
				}
			}
		}
	}
	return out
}
