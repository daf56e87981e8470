package state_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

// FuzzExecuteBlock feeds a block of garbage: raw is split on 0xff bytes into
// raw transactions used as they are, and body, when it decodes as a tx.Body,
// is re-signed by //Alice for this chain (so that its call, nonce, fee limit
// and expiry reach execution). Execution must never fail or panic, must be
// deterministic, must conserve issuance, and a block whose transactions are
// all rejected must leave the AppHash unchanged.
func FuzzExecuteBlock(f *testing.F) {
	c0 := newDevChain(f, state.WithSigCache(nil))
	alice, bob := dev(f, "Alice"), dev(f, "Bob")
	valid := c0.transfer(alice, 0, bob.Public(), u(state.Unit))
	body := c0.body(alice, 0, balances.TransferCall(bob.Public(), u(state.Unit)))
	f.Add(valid, scale.Encode(&body))
	f.Add([]byte{}, []byte{})
	f.Add(bytes.Join([][]byte{valid, []byte("x"), valid}, []byte{0xff}), []byte{1, 1})
	body.Call = validators.SetPowerCall([32]byte{1}, 3)
	f.Add([]byte{1, 1}, scale.Encode(&body))
	body.Call = tx.Call{Module: 1, Method: 0, Args: []byte{0}}
	f.Add([]byte{2}, scale.Encode(&body))
	supply := totalIssuance(f, c0.st)

	f.Fuzz(func(t *testing.T, raw []byte, bodyBytes []byte) {
		var txs [][]byte
		if len(raw) > 0 {
			txs = bytes.Split(raw, []byte{0xff})
		}
		var b tx.Body
		if scale.Decode(bodyBytes, &b) == nil {
			b.Genesis = c0.m.GenesisHash()
			b.Signer = alice.Public()
			txs = append(txs, tx.Sign(b, alice).Encode())
		}
		h := c0.header()
		res, err := c0.m.ExecuteBlock(c0.st, c0.appHash, h, txs)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.TxResults) != len(txs) {
			t.Fatal("result count")
		}
		res2, err := c0.m.ExecuteBlock(c0.st, c0.appHash, h, txs)
		if err != nil || res2.AppHash != res.AppHash {
			t.Fatal("not deterministic")
		}
		accepted := 0
		for _, r := range res.TxResults {
			if state.Accepted(r.Code) {
				accepted++
			}
		}
		if accepted == 0 && (len(res.WriteSet) != 0 || res.AppHash != c0.appHash) {
			t.Fatal("rejected transactions changed state")
		}
		if err := res.WriteSet.Validate(); err != nil {
			t.Fatal(err)
		}
		st := c0.st.Clone()
		st.Apply(res.WriteSet)
		if got := totalIssuance(t, st); got != supply {
			t.Fatalf("issuance %s, want %s", got, supply)
		}
		// CheckProposal agrees with execution.
		if err := c0.m.CheckProposal(c0.st, h, txs); (err == nil) != (accepted == len(txs)) {
			t.Fatalf("CheckProposal %v with %d/%d accepted", err, accepted, len(txs))
		}
	})
}
