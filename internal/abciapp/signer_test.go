package abciapp

import (
	"context"
	"math"
	"testing"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/cometbft/cometbft/libs/pubsub/query"
	"github.com/cometbft/cometbft/state/txindex"
	"github.com/cometbft/cometbft/state/txindex/kv"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
)

// signerOf returns the value of a result's tx.signer attribute, whether it
// is marked for indexing, and how many tx events it has.
func signerOf(r *abci.ExecTxResult) (value string, indexed bool, n int) {
	for _, e := range r.Events {
		if e.Type != TxEventType {
			continue
		}
		n++
		for _, a := range e.Attributes {
			if a.Key == TxSignerKey {
				value, indexed = a.Value, a.Index
			}
		}
	}
	return value, indexed, n
}

// Every accepted transaction, its call succeeding or failing, carries an
// indexed tx.signer; a rejected one none. CometBFT's kv indexer finds an
// account's transactions by it, and the block's LastResultsHash is what it
// would be without any events.
func TestTxSignerEvent(t *testing.T) {
	ta := newTestApp(t)
	alice, bob := pairOf(t, "//Alice"), pairOf(t, "//Bob")
	txs := [][]byte{
		ta.sign(alice, 0, balances.TransferCall(bob.Public(), scale.U128From(1))),
		ta.sign(bob, 0, balances.TransferCall(alice.Public(), scale.U128{Hi: math.MaxUint64})), // fails: pays its fee
		ta.sign(alice, 0, balances.TransferCall(bob.Public(), scale.U128From(1))),              // stale nonce: rejected
	}
	res := ta.block(txs...)
	want := []struct {
		code   func(uint32) bool
		signer string
	}{
		{func(c uint32) bool { return c == state.CodeOK }, alice.Public().Hex()},
		{func(c uint32) bool { return c != state.CodeOK && state.Accepted(c) }, bob.Public().Hex()},
		{func(c uint32) bool { return !state.Accepted(c) }, ""},
	}
	for i, w := range want {
		r := res.TxResults[i]
		if !w.code(r.Code) {
			t.Fatalf("tx %d: code %s (%s)", i, state.CodeName(r.Code), r.Log)
		}
		v, indexed, n := signerOf(r)
		if w.signer == "" {
			if n != 0 {
				t.Fatalf("rejected tx %d has %d tx events: %v", i, n, r.Events)
			}
			continue
		}
		if n != 1 || v != w.signer || !indexed {
			t.Fatalf("tx %d: %d tx events, signer %q indexed %v, want %s", i, n, v, indexed, w.signer)
		}
	}

	// The events are not in the results hash the next header commits to.
	bare := make([]*abci.ExecTxResult, len(res.TxResults))
	for i, r := range res.TxResults {
		c := *r
		c.Events, c.Log, c.Codespace = nil, "", ""
		bare[i] = &c
	}
	if got, want := cmttypes.NewResults(res.TxResults).Hash(), cmttypes.NewResults(bare).Hash(); string(got) != string(want) {
		t.Fatalf("results hash %x changed by events (bare %x)", got, want)
	}

	// A node's kv indexer answers tx.signer='0x…' with that account's transactions.
	idx := kv.NewTxIndex(dbm.NewMemDB())
	batch := txindex.NewBatch(int64(len(txs)))
	for i, raw := range txs {
		if err := batch.Add(&abci.TxResult{Height: 1, Index: uint32(i), Tx: raw, Result: *res.TxResults[i]}); err != nil {
			t.Fatal(err)
		}
	}
	if err := idx.AddBatch(batch); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		who  string
		want []uint32
	}{{alice.Public().Hex(), []uint32{0}}, {bob.Public().Hex(), []uint32{1}}, {pairOf(t, "//Charlie").Public().Hex(), nil}} {
		found, err := idx.Search(context.Background(), query.MustCompile("tx.signer='"+c.who+"'"))
		if err != nil {
			t.Fatal(err)
		}
		var got []uint32
		for _, f := range found {
			got = append(got, f.Index)
		}
		if len(got) != len(c.want) || (len(got) == 1 && got[0] != c.want[0]) {
			t.Fatalf("tx.signer=%s: found txs %v, want %v", c.who, got, c.want)
		}
	}
}

// execResult adds the signer event last, after the modules' events.
func TestExecResultSignerEvent(t *testing.T) {
	k := pairOf(t, "//Alice").Public()
	r := execResult(state.TxResult{Signer: &k, Events: []state.Event{{Type: "x", Attributes: []state.EventAttribute{{Key: "y", Value: "z"}}}}})
	if len(r.Events) != 2 || r.Events[1].Type != "tx" || r.Events[1].Attributes[0].Key != "signer" || r.Events[1].Attributes[0].Value != k.Hex() || r.Events[0].Type != "x" {
		t.Fatalf("events %v", r.Events)
	}
	if r := execResult(state.TxResult{}); len(r.Events) != 0 {
		t.Fatalf("no signer: events %v", r.Events)
	}
}
