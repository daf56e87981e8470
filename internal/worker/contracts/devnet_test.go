package contracts_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/big"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/devnet"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// TestDevnetContract runs a Phat contract end to end on the dev network:
// Alice uploads and instantiates flipper in cluster 0 and sends an
// encrypted flip; the dev worker executes both, and the chain accepts the
// cluster's contract key and outcomes (a refused egress would not appear
// in the block's messages).
func TestDevnetContract(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := devnet.Config{
		Home: t.TempDir(), ChainID: "cella-contract-test",
		Node: node.ConfigOptions{Moniker: "t", BlockTime: 30 * time.Millisecond, EmptyBlocks: true,
			RPCAddr: nodetest.FreeURL(t), P2PAddr: nodetest.FreeURL(t), Loopback: true},
		Worker: devnet.WorkerConfig{PublicAddr: nodetest.FreeAddr(t), PollInterval: 50 * time.Millisecond},
	}
	n, err := devnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	w := n.Worker
	nodetest.WaitFor(ctx, t, "cluster 0's key", 50*time.Millisecond, func() bool { return len(w.Runtime.Info().Clusters) == 1 })
	c, err := client.New(cfg.Node.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := keys.FromURI("//Alice")
	send := func(call tx.Call) *client.TxResult {
		t.Helper()
		return nodetest.SubmitOK(ctx, t, c, alice, call)
	}
	// messages returns the messages of topic in blocks from..latest.
	messages := func(from int64, topic string) []msg.Message {
		t.Helper()
		ci, err := c.ChainInfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := c.Blocks(ctx, uint64(from), uint64(ci.Height))
		if err != nil {
			t.Fatal(err)
		}
		var out []msg.Message
		for _, r := range recs {
			for _, m := range r.Messages {
				if string(m.Topic) == topic {
					out = append(out, m)
				}
			}
		}
		return out
	}
	outcomeFor := func(from int64, id [32]byte) (msg.Outcome, bool) {
		for _, m := range messages(from, msg.TopicClusterOutcomes) {
			for _, o := range msg.OutcomesOf(string(m.Topic), m.Payload) {
				if o.CommandID == id && bytes.Equal(m.Origin, msg.OriginCluster([32]byte{})) {
					return o, true
				}
			}
		}
		return msg.Outcome{}, false
	}
	fl := mustMeta(t, "flipper")
	code := testcontracts.Wasm("flipper")
	send(phat.UploadCodeCall(phat.UploadArgs{Kind: msg.CodeKindInk, Code: code}))
	r := send(phat.InstantiateCall(phat.InstantiateArgs{CodeHash: phat.CodeHash(code), Data: input(t, fl, "new(false)", true),
		Salt: []byte("e2e"), GasLimit: gas}))
	var inst msg.Instantiate
	for _, m := range messages(r.Height, msg.TopicPhatInstantiate) {
		if scale.Decode(m.Payload, &inst) != nil {
			t.Fatal("phat/instantiate does not decode")
		}
	}
	if inst.Contract != msg.ContractID(alice.Public(), phat.CodeHash(code), [32]byte{}, []byte("e2e")) {
		t.Fatalf("instantiate event %+v", inst)
	}
	var pub keys.PublicKey
	nodetest.WaitFor(ctx, t, "the contract key on chain", 50*time.Millisecond, func() bool {
		for _, m := range messages(r.Height, msg.TopicContractKey) {
			var k msg.ContractKey
			if scale.Decode(m.Payload, &k) == nil && k.Contract == inst.Contract {
				pub = k.Pubkey
				return true
			}
		}
		return false
	})
	nodetest.WaitFor(ctx, t, "the instantiate's outcome on chain", 50*time.Millisecond, func() bool {
		_, ok := outcomeFor(r.Height, inst.CommandID)
		return ok
	})
	if o, _ := outcomeFor(r.Height, inst.CommandID); o.GasUsed == 0 || o.GasUsed > gas {
		t.Fatalf("instantiate outcome %+v", o)
	}
	nodetest.WaitFor(ctx, t, "the contract instantiated on chain", 50*time.Millisecond, func() bool {
		ci, err := c.Contract(ctx, inst.Contract)
		return err == nil && ci.State == "instantiated"
	})
	if ci, err := c.Contract(ctx, inst.Contract); err != nil || ci.Pubkey != pub.Hex() {
		t.Fatalf("chain's contract record %+v (%v), published key %s", ci, err, pub.Hex())
	}
	root := w.Runtime.Info().Clusters[0].StateRoot
	if w.Runtime.Info().Clusters[0].Contracts != 1 {
		t.Fatalf("worker cluster %+v", w.Runtime.Info().Clusters[0])
	}

	r = send(phat.PushCommandCall(phat.PushArgs{Contract: inst.Contract, GasLimit: gas,
		Payload: encrypted(t, pub, "e2e-1", input(t, fl, "flip()", false), gas)}))
	var cmd msg.Command
	for _, m := range messages(r.Height, msg.TopicPhatCommand) {
		if scale.Decode(m.Payload, &cmd) != nil {
			t.Fatal("phat/command does not decode")
		}
	}
	if cmd.Origin != alice.Public() || cmd.Contract != inst.Contract {
		t.Fatalf("command event %+v", cmd)
	}
	nodetest.WaitFor(ctx, t, "the command's outcome on chain", 50*time.Millisecond, func() bool {
		_, ok := outcomeFor(r.Height, cmd.CommandID)
		return ok
	})
	if o, _ := outcomeFor(r.Height, cmd.CommandID); o.GasUsed == 0 {
		t.Fatal("the flip used no gas")
	}
	if w.Runtime.Info().Clusters[0].StateRoot == root {
		t.Fatal("the worker's cluster state root did not change")
	}
	// A signed query over the worker's public pRPC reads the flipped value.
	if got := queryPRPC(t, "http://"+w.PublicAddr, inst.Contract, input(t, fl, "get()", false)); !bytes.Equal(got, []byte{0, 1}) {
		t.Fatalf("get() after the flip: %x", got)
	}

	// Payouts: hostfns is instantiated with 2 units (into the cluster's
	// escrow, credited to the contract) and pays 1 unit to a fresh
	// account; the chain pays it out of the escrow with the outcome.
	hf := testcontracts.Wasm("hostfns")
	send(phat.UploadCodeCall(phat.UploadArgs{Kind: msg.CodeKindInk, Code: hf}))
	escrow := phat.ClusterAccount([32]byte{})
	free := func(a keys.PublicKey) string {
		t.Helper()
		ai, err := c.Account(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return ai.Free
	}
	escrow0 := free(escrow)
	r = send(phat.InstantiateCall(phat.InstantiateArgs{CodeHash: phat.CodeHash(hf), Salt: []byte("pay"), GasLimit: gas,
		Transfer: scale.U128From(2 * state.Unit)}))
	payer := msg.ContractID(alice.Public(), phat.CodeHash(hf), [32]byte{}, []byte("pay"))
	nodetest.WaitFor(ctx, t, "the payer instantiated on chain", 50*time.Millisecond, func() bool {
		ci, err := c.Contract(ctx, payer)
		return err == nil && ci.State == "instantiated"
	})
	dest := keys.PublicKey{0xde, 0x57}
	pay := binary.LittleEndian.AppendUint32(nil, 4)
	pay = append(append(pay, dest[:]...), u128(state.Unit)...)
	r = send(phat.PushCommandCall(phat.PushArgs{Contract: payer, GasLimit: gas, Payload: plain(t, "pay-1", pay, gas)}))
	for _, m := range messages(r.Height, msg.TopicPhatCommand) {
		if scale.Decode(m.Payload, &cmd) != nil {
			t.Fatal("phat/command does not decode")
		}
	}
	nodetest.WaitFor(ctx, t, "the payment's outcome on chain", 50*time.Millisecond, func() bool {
		_, ok := outcomeFor(r.Height, cmd.CommandID)
		return ok
	})
	if o, _ := outcomeFor(r.Height, cmd.CommandID); len(o.Payouts) != 1 || o.Payouts[0].Account != dest || o.Payouts[0].Amount != scale.U128From(state.Unit) {
		t.Fatalf("payment outcome %+v", o)
	}
	want := scale.U128From(state.Unit).String()
	nodetest.WaitFor(ctx, t, "the payout on chain", 50*time.Millisecond, func() bool { return free(dest) == want })
	// The escrow keeps the contract's other unit (plus nothing pending).
	if e0, ok := new(big.Int).SetString(escrow0, 10); !ok {
		t.Fatalf("escrow balance %q", escrow0)
	} else if got, wantE := free(escrow), new(big.Int).Add(e0, big.NewInt(int64(state.Unit))).String(); got != wantE {
		t.Fatalf("escrow %s, want %s", got, wantE)
	}
}
