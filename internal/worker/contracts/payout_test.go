package contracts_test

import (
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// hostfnsTransfer is hostfns's op 4: transfer(to, value).
func hostfnsTransfer(to [32]byte, value uint64) []byte {
	b := binary.LittleEndian.AppendUint32(nil, 4)
	b = append(b, to[:]...)
	return append(b, u128(value)...)
}

// hostfnsBalance is hostfns's op 14: the contract's own balance.
func hostfnsBalance() []byte { return binary.LittleEndian.AppendUint32(nil, 14) }

// payoutsOf returns the payouts of the outcome of command id in rd's egress.
func payoutsOf(t *testing.T, rd worker.Ready, id [32]byte) []msg.Payout {
	t.Helper()
	for _, m := range rd.Egress {
		if string(m.Message.Topic) != msg.TopicClusterOutcomes {
			continue
		}
		var p msg.Outcomes
		if err := scale.Decode(m.Message.Payload, &p); err != nil {
			t.Fatal(err)
		}
		for _, o := range p.Entries {
			if o.CommandID == id {
				return o.Payouts
			}
		}
	}
	t.Fatalf("no outcome for %x", id[:4])
	return nil
}

// TestPayouts: value a contract transfers to a plain account leaves the
// cluster's ledger and is reported as a payout with the outcome, with the
// same bytes on every worker (a late joiner replaying ends on the same
// root); value moving into a contract, a failed transfer or a refused
// command pays nothing out.
func TestPayouts(t *testing.T) {
	ch := newChain(t)
	ch.upload(msg.CodeKindInk, testcontracts.Wasm("hostfns"))
	a, b, late := ch.core(1, cid), ch.core(2, cid), ch.core(3)
	cores := []*worker.Core{a, b}
	stepAll := func(ms ...msg.Message) []worker.Ready {
		t.Helper()
		rds := ch.step(cores, ms...)
		if _, err := late.Step(ch.block(ch.height, ms...)); err != nil {
			t.Fatal(err)
		}
		return rds
	}

	// Block 1: alice instantiates hostfns with 1000 (into the contract).
	m, payer, id := ch.instantiate(cid, alice, "hostfns", nil, 1, 0)
	var p msg.Instantiate
	if err := scale.Decode(m.Payload, &p); err != nil {
		t.Fatal(err)
	}
	p.Transfer = scale.U128From(1000)
	m.Payload = scale.Encode(&p)
	rds := stepAll(m)
	if pays := payoutsOf(t, rds[0], id); len(pays) != 0 {
		t.Fatalf("instantiate paid out %+v", pays)
	}

	balance := func(nonce string) uint64 {
		t.Helper()
		mb, idb := command(cid, payer, alice, plain(t, nonce, hostfnsBalance(), gas), gas, ch.height+1, 0)
		stepAll(mb)
		o := outcome(t, a, cid, alice, idb)
		if !o.Result.Success() || len(o.Result.Data) != 4+16 {
			t.Fatalf("balance: %+v", o)
		}
		return binary.LittleEndian.Uint64(o.Result.Data[4:])
	}
	if got := balance("b0"); got != 1000 {
		t.Fatalf("contract balance %d, want 1000", got)
	}

	// Block 3 (the balance query was block 2): the contract pays bob 300 and (a second command) alice 200,
	// and tries to pay carol more than it has (the transfer fails).
	carol := keys.PublicKey{0xca}
	m1, id1 := command(cid, payer, alice, plain(t, "p1", hostfnsTransfer(bob, 300), gas), gas, 3, 0)
	m2, id2 := command(cid, payer, bob, plain(t, "p2", hostfnsTransfer(alice, 200), gas), gas, 3, 1)
	m3, id3 := command(cid, payer, bob, plain(t, "p3", hostfnsTransfer(carol, 10_000), gas), gas, 3, 2)
	// A replayed nonce is refused: nothing runs, nothing is paid.
	m4, id4 := command(cid, payer, bob, plain(t, "p1", hostfnsTransfer(bob, 1), gas), gas, 3, 3)
	rds = stepAll(m1, m2, m3, m4)
	for _, c := range []struct {
		id   [32]byte
		want []msg.Payout
	}{
		{id1, []msg.Payout{{Account: bob, Amount: scale.U128From(300)}}},
		{id2, []msg.Payout{{Account: alice, Amount: scale.U128From(200)}}},
		{id3, nil},
		{id4, nil},
	} {
		if got := payoutsOf(t, rds[0], c.id); !reflect.DeepEqual(got, c.want) {
			t.Errorf("command %x: payouts %+v, want %+v", c.id[:4], got, c.want)
		}
	}
	if o := outcome(t, a, cid, bob, id3); !o.Result.Success() || binary.LittleEndian.Uint32(o.Result.Data) == 0 {
		t.Fatalf("over-balance transfer: %+v", o)
	}
	if got := balance("b1"); got != 500 {
		t.Fatalf("contract balance %d after paying 500, want 500", got)
	}

	// Bob's earlier 300 left the ledger: a second payment of 300 pays out
	// 300, not 600.
	m5, id5 := command(cid, payer, alice, plain(t, "p5", hostfnsTransfer(bob, 300), gas), gas, ch.height+1, 0)
	rds = stepAll(m5)
	if got := payoutsOf(t, rds[0], id5); !reflect.DeepEqual(got, []msg.Payout{{Account: bob, Amount: scale.U128From(300)}}) {
		t.Fatalf("second payment: %+v", got)
	}
	if got := balance("b2"); got != 200 {
		t.Fatalf("contract balance %d, want 200", got)
	}
	// What was paid out is no longer bob's in the cluster: he cannot send
	// 1 of it back to the contract.
	back, err := (&phatwire.CommandPayload{Plain: &phatwire.InkCommand{Nonce: []byte("back"), Message: hostfnsBalance(),
		Transfer: scale.U128From(1), GasLimit: gas}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	mb, idb := command(cid, payer, bob, back, gas, ch.height+1, 0)
	stepAll(mb)
	if o := outcome(t, a, cid, bob, idb); o.Result.Success() {
		t.Fatalf("bob spent a paid-out balance: %+v", o)
	}

	// The keyless worker receives the key, replays (muted) and agrees.
	ek, err := cipher.EncryptSecretTo(ch.master, []byte(cipher.ClusterKeySharingSalt), late.Ecdh(), ch.clusters[cid].SecretBytes(), cipher.IV{4})
	if err != nil {
		t.Fatal(err)
	}
	share := msg.ClusterKeyShares{Cluster: cid, Pubkey: ch.clusters[cid].Public(), Shares: []msg.ClusterKeyShare{{Worker: late.Identity(), Key: *ek}}}
	ch.step([]*worker.Core{a, b, late}, msg.Message{Origin: msg.OriginWorker(keys.PublicKey{0x6e}), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&share)})
	if st := late.ClusterStates(); len(st) != 1 || st[0].Backlog != 0 || root(late, cid) != root(a, cid) {
		t.Fatalf("late worker after replay: %+v", st)
	}
	// And all three emit the same payouts.
	m6, id6 := command(cid, payer, alice, plain(t, "p6", hostfnsTransfer(carol, 50), gas), gas, ch.height+1, 0)
	rds = ch.step([]*worker.Core{a, b, late}, m6)
	if got := payoutsOf(t, rds[2], id6); !reflect.DeepEqual(got, []msg.Payout{{Account: carol, Amount: scale.U128From(50)}}) {
		t.Fatalf("late worker's payout: %+v", got)
	}
}
