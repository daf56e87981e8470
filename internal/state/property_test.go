package state_test

import (
	"math/rand/v2"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

// TestPropertyConservation runs random blocks of random transfers (valid,
// too large, dust, wrong nonces, bad signatures) and checks after each block:
// total issuance never changes; the treasury holds exactly the fees of
// accepted transactions; each account's nonce counts its accepted
// transactions; ProposalTxs keeps exactly the transactions that execution
// accepts and CheckProposal takes its choice; rejected transactions carry no
// fee or data; executing twice gives the same AppHash.
func TestPropertyConservation(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	c := newDevChain(t)
	var accts []*keys.Pair
	for _, n := range state.DevAccountNames {
		accts = append(accts, dev(t, n))
	}
	for i := 0; i < 4; i++ {
		p, _ := keys.FromURI("//Extra" + string(rune('A'+i)))
		accts = append(accts, p)
	}
	supply := totalIssuance(t, c.st)
	nonces := map[keys.PublicKey]uint64{}
	var fees scale.U128
	blocks, perBlock := 12, 25
	if testing.Short() {
		blocks = 4
	}
	ed := state.DefaultParams().ExistentialDeposit
	for blk := 0; blk < blocks; blk++ {
		var txs [][]byte
		planned := map[keys.PublicKey]uint64{}
		for i := 0; i < perBlock; i++ {
			from := accts[rng.IntN(len(accts))]
			to := accts[rng.IntN(len(accts))]
			n := nonces[from.Public()] + planned[from.Public()]
			switch rng.IntN(10) {
			case 0:
				n += 1 + uint64(rng.IntN(2)) // gap
			case 1:
				if n > 0 {
					n-- // replay
				}
			}
			var amount scale.U128
			switch rng.IntN(5) {
			case 0:
				amount = u(rng.Uint64N(ed.Lo)) // dust
			case 1:
				amount = add(t, state.DevBalance, u(1)) // too much
			default:
				amount = u(rng.Uint64N(50_000) * state.Unit / 10)
			}
			raw := c.transfer(from, n, to.Public(), amount)
			if rng.IntN(15) == 0 {
				raw[len(raw)-1-rng.IntN(64)] ^= 1 << rng.IntN(8)
			}
			if n == nonces[from.Public()]+planned[from.Public()] {
				planned[from.Public()]++
			}
			txs = append(txs, raw)
		}
		kept := c.m.ProposalTxs(c.st, c.header(), txs, 1<<30)
		if err := c.m.CheckProposal(c.st, c.header(), kept); err != nil {
			t.Fatalf("block %d: proposal built by ProposalTxs rejected: %v", blk, err)
		}
		again, err := c.m.ExecuteBlock(c.st, c.appHash, c.header(), txs)
		if err != nil {
			t.Fatal(err)
		}
		res := c.block(txs...)
		if again.AppHash != res.AppHash {
			t.Fatal("execution not deterministic")
		}
		nAccepted := 0
		for i, r := range res.TxResults {
			if !state.Accepted(r.Code) {
				if len(r.Data) != 0 || !r.Fee.IsZero() {
					t.Fatalf("rejected tx %d has data or fee", i)
				}
				continue
			}
			nAccepted++
			fees = add(t, fees, r.Fee)
			tr, _ := tx.Decode(txs[i])
			nonces[tr.Body.Signer]++
		}
		if nAccepted != len(kept) {
			t.Fatalf("block %d: %d accepted but ProposalTxs kept %d", blk, nAccepted, len(kept))
		}
		if got := totalIssuance(t, c.st); got != supply {
			t.Fatalf("block %d: issuance %s, want %s", blk, got, supply)
		}
		if got := c.free(state.TreasuryAccount); got != fees {
			t.Fatalf("block %d: treasury %s, fees %s", blk, got, fees)
		}
		for _, p := range accts {
			if got := c.account(p.Public()).Nonce; got != nonces[p.Public()] {
				t.Fatalf("block %d: nonce %d, want %d", blk, got, nonces[p.Public()])
			}
		}
	}
	if fees.IsZero() {
		t.Fatal("no fees collected: the generator is broken")
	}
}
