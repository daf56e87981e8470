package gov_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

// FuzzGov runs a script of proposals, votes and empty blocks (4 bytes per
// step: op, signer, a, b) on a dev chain with a council, twice. After every
// block: issuance is unchanged, the pot holds exactly the deposits and
// stakes of the referendums still voting, the open list is ascending and
// holds only voting or approved proposals; both runs end with the same
// AppHash.
func FuzzGov(f *testing.F) {
	f.Add([]byte{0, 0, 0, 1, 1, 1, 0, 1, 2, 0, 5, 0})
	f.Add([]byte{0, 3, 0, 3, 1, 4, 0, 7, 1, 5, 0, 4, 2, 0, 24, 0})
	f.Add([]byte{0, 0, 2, 1, 1, 2, 0, 1, 2, 0, 3, 0, 0, 0, 1, 0, 1, 1, 1, 1})
	f.Add([]byte{0, 0, 3, 0, 0, 3, 0, 1, 1, 0, 1, 2, 1, 1, 0, 1, 2, 9, 20, 0})
	f.Add(upgradeScript)
	f.Fuzz(func(t *testing.T, script []byte) {
		if len(script) > 4*48 {
			script = script[:4*48]
		}
		a := runScript(t, script)
		if b := runScript(t, script); a != b {
			t.Fatalf("app hashes differ: %x %x", a, b)
		}
	})
}

// upgradeScript: //Alice proposes schedule_upgrade(18, 2) to the
// council, //Bob approves, 22 blocks pass (the chain switches to version 2
// after block 18); then //Alice proposes gov.cancel_upgrade (module 8,
// method 5, which version 2 knows) by referendum, //Bob votes aye with
// 17/16 tokens, and 11 blocks pass (tally and enactment).
var upgradeScript = []byte{0, 0, 4, 18, 1, 1, 0, 1, 2, 0, 11, 0, 2, 0, 11, 0, 0, 0, 5, 8, 1, 1, 1, 17, 2, 0, 11, 0}

var fuzzNames = []string{"Alice", "Bob", "Charlie", "Dave", "Eve", "Ferdie"}

func runScript(t *testing.T, script []byte) [32]byte { return scriptChain(t, script).appHash }

// scriptChain runs script on a new chain and returns the chain.
func scriptChain(t *testing.T, script []byte) *chain {
	c := newChain(t, func(g *state.Genesis) { g.App.Gov.VotingPeriod = 6 })
	pairs := make([]*keys.Pair, len(fuzzNames))
	for i, n := range fuzzNames {
		pairs[i] = pair(t, n)
	}
	supply := issuance(t, c.st)
	for i := 0; i+4 <= len(script); i += 4 {
		op, who, x, y := script[i], pairs[int(script[i+1])%len(pairs)], script[i+2], script[i+3]
		switch op % 3 {
		case 0:
			var call tx.Call
			switch x % 6 {
			case 0:
				call = registry.AllowMeasurementCall([32]byte{y})
			case 1:
				call = admin.RemoveCall()
			case 2:
				call = validators.SetCall([32]byte{y}, uint64(y%4), y&4 != 0)
			case 3:
				call = gov.SetCouncilCall([]keys.PublicKey{pairs[y%6].Public(), pairs[(y+1)%6].Public()}, uint32(y%3))
			case 4:
				call = gov.ScheduleUpgradeCall(uint64(y), 2)
			default:
				call = tx.Call{Module: y, Method: x}
			}
			c.block(c.sign(who, gov.ProposeCall(call, y&8 != 0)))
		case 1:
			p, _ := gov.GetProposal(c.st, uint64(x%8))
			var stake scale.U128
			if p != nil && p.Kind == gov.KindReferendum {
				stake = scale.U128From(uint64(y) * state.Unit / 16)
			}
			c.block(c.sign(who, gov.VoteCall(uint64(x%8), y&1 != 0, stake)))
		default:
			for n := 0; n < int(x%12); n++ {
				c.block()
			}
		}
		checkInvariants(t, c, supply)
	}
	return c
}

func issuance(t *testing.T, st *state.MemStore) scale.U128 {
	var sum scale.U128
	for _, w := range st.Dump() {
		if !bytes.HasPrefix(w.Key, state.PrefixAccount) {
			continue
		}
		var a state.Account
		if err := scale.Decode(w.Value, &a); err != nil {
			t.Fatal(err)
		}
		sum, _ = sum.Add(a.Free)
	}
	return sum
}

func checkInvariants(t *testing.T, c *chain, supply scale.U128) {
	t.Helper()
	if got := issuance(t, c.st); got != supply {
		t.Fatalf("block %d: issuance %s, want %s", c.height, got, supply)
	}
	open, err := gov.OpenIDs(c.st)
	if err != nil {
		t.Fatal(err)
	}
	var locked scale.U128
	for i, id := range open {
		if i > 0 && open[i-1] >= id {
			t.Fatalf("open list not ascending: %v", open)
		}
		p := c.proposal(id)
		if p.Status != gov.StatusVoting && p.Status != gov.StatusApproved {
			t.Fatalf("open proposal %d is %s", id, p.Status)
		}
		if p.Kind != gov.KindReferendum || p.Status != gov.StatusVoting {
			continue
		}
		locked, _ = locked.Add(p.Deposit)
		locked, _ = locked.Add(p.Ayes)
		locked, _ = locked.Add(p.Nays)
	}
	if pot := c.free(gov.PotAccount); pot != locked {
		t.Fatalf("block %d: pot %s, open referendums lock %s", c.height, pot, locked)
	}
	// An upgrade (the scripts schedule only version 2) happens at most
	// once, and the history records exactly the switches.
	v, err := c.m.AppVersion(c.st)
	if err != nil {
		t.Fatal(err)
	}
	past, err := gov.UpgradeHistory(c.st)
	if err != nil {
		t.Fatal(err)
	}
	if want := int(v - state.AppVersion1); len(past) != want || want == 1 && (past[0].From != 1 || past[0].To != 2 || past[0].Height > uint64(c.height)) {
		t.Fatalf("block %d: app version %d, history %v", c.height, v, past)
	}
}
