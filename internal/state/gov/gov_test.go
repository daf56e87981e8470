package gov_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

// chain is an in-memory test chain: a machine and a MemStore that blocks
// are committed to.
type chain struct {
	t       *testing.T
	m       *state.Machine
	st      *state.MemStore
	height  int64
	appHash [32]byte
	nonces  map[keys.PublicKey]uint64
}

var valKey = [32]byte{0xaa, 1}

func newChain(t *testing.T, edit func(g *state.Genesis)) *chain {
	t.Helper()
	g := state.DevGenesis("gov-test", []state.Validator{{PubKey: valKey, Power: 10}})
	g.App.Gov = state.DevGovGenesis()
	if edit != nil {
		edit(g)
	}
	m, err := modules.NewMachine(g)
	if err != nil {
		t.Fatal(err)
	}
	ws, h, err := m.InitChain()
	if err != nil {
		t.Fatal(err)
	}
	st := state.NewMemStore()
	st.Apply(ws)
	return &chain{t: t, m: m, st: st, appHash: h, nonces: map[keys.PublicKey]uint64{}}
}

func pair(t *testing.T, name string) *keys.Pair {
	t.Helper()
	p, err := keys.FromURI("//" + name)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// sign signs call from p with p's next nonce.
func (c *chain) sign(p *keys.Pair, call tx.Call) []byte {
	n := c.nonces[p.Public()]
	c.nonces[p.Public()] = n + 1
	return tx.Sign(tx.Body{Version: tx.Version1, Scheme: tx.Sr25519, Signer: p.Public(), Genesis: c.m.GenesisHash(),
		Nonce: n, FeeLimit: scale.U128From(state.Unit), Call: call}, p).Encode()
}

func (c *chain) block(txs ...[]byte) *state.BlockResult {
	c.t.Helper()
	v, err := c.m.AppVersion(c.st) // as the node: an enacted upgrade switches the next block
	if err != nil {
		c.t.Fatal(err)
	}
	res, err := c.m.ExecuteBlock(c.st, c.appHash, state.Header{Height: c.height + 1, AppVersion: v}, txs)
	if err != nil {
		c.t.Fatal(err)
	}
	c.st.Apply(res.WriteSet)
	c.height++
	c.appHash = res.AppHash
	return res
}

// do runs one transaction in a block and checks its code.
func (c *chain) do(p *keys.Pair, call tx.Call, want uint32) *state.BlockResult {
	c.t.Helper()
	res := c.block(c.sign(p, call))
	if got := res.TxResults[0].Code; got != want {
		c.t.Fatalf("block %d: code %s (%s), want %s", c.height, state.CodeName(got), res.TxResults[0].Log, state.CodeName(want))
	}
	return res
}

func (c *chain) proposal(id uint64) *gov.Proposal {
	c.t.Helper()
	p, err := gov.GetProposal(c.st, id)
	if err != nil || p == nil {
		c.t.Fatalf("proposal %d: %v %v", id, p, err)
	}
	return p
}

func (c *chain) allowed(h [32]byte) bool {
	c.t.Helper()
	list, err := registry.AllowedMeasurements(c.st)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, x := range list {
		if x == h {
			return true
		}
	}
	return false
}

func (c *chain) free(k keys.PublicKey) scale.U128 {
	c.t.Helper()
	a, err := state.GetAccount(c.st, k)
	if err != nil {
		c.t.Fatal(err)
	}
	return a.Free
}

// councilEnact proposes call by //Alice, approves it with //Bob and runs
// blocks until it is closed; it returns the proposal.
func (c *chain) councilEnact(call tx.Call) *gov.Proposal {
	c.t.Helper()
	id, _ := gov.NextID(c.st)
	c.do(pair(c.t, "Alice"), gov.ProposeCall(call, false), state.CodeOK)
	c.do(pair(c.t, "Bob"), gov.VoteCall(id, true, scale.U128{}), state.CodeOK)
	for i := 0; i < 10 && c.proposal(id).Status == gov.StatusApproved; i++ {
		c.block()
	}
	return c.proposal(id)
}

func TestCouncilAllowsMeasurementAfterDelay(t *testing.T) {
	c := newChain(t, nil)
	m := registry.MeasurementHash([]byte("pruntime v2"))
	c.do(pair(t, "Alice"), gov.ProposeCall(registry.AllowMeasurementCall(m), false), state.CodeOK)
	p := c.proposal(0)
	if p.Status != gov.StatusVoting || p.Ayes != scale.U128From(1) || p.Kind != gov.KindCouncil {
		t.Fatalf("after propose: %+v", p)
	}
	c.do(pair(t, "Bob"), gov.VoteCall(0, true, scale.U128{}), state.CodeOK)
	p = c.proposal(0)
	approvedAt := uint64(c.height)
	if p.Status != gov.StatusApproved || p.EnactAt != approvedAt+2 {
		t.Fatalf("after the second aye: %+v (approved at %d)", p, approvedAt)
	}
	// The delay holds: nothing happens at approval + 1, and a third vote
	// cannot hurry it (voting is closed).
	c.do(pair(t, "Charlie"), gov.VoteCall(0, true, scale.U128{}), state.CodeGovVotingClosed)
	if c.allowed(m) || c.proposal(0).Status != gov.StatusApproved {
		t.Fatal("enacted before its delay")
	}
	res := c.block() // approval + 2: enacted at its end
	// The enacted call's events, then governance's.
	if len(res.Events) != 2 || res.Events[0].Type != "measurement_allowed" || res.Events[1].Type != "gov_enacted" || res.Events[1].Attributes[1].Value != "ok" {
		t.Fatalf("end-block events %+v", res.Events)
	}
	if uint64(c.height) != p.EnactAt {
		t.Fatalf("height %d, enact at %d", c.height, p.EnactAt)
	}
	if !c.allowed(m) {
		t.Fatal("measurement not allowed after enactment")
	}
	if p := c.proposal(0); p.Status != gov.StatusEnacted || p.Result != state.CodeOK || p.Closed != p.EnactAt {
		t.Fatalf("after enactment: %+v", p)
	}
	if ids, _ := gov.OpenIDs(c.st); len(ids) != 0 {
		t.Fatalf("open after enactment: %v", ids)
	}
	// And removed again.
	if p := c.councilEnact(registry.DisallowMeasurementCall(m)); p.Status != gov.StatusEnacted || c.allowed(m) {
		t.Fatalf("disallow: %+v, allowed %v", p, c.allowed(m))
	}
	// Removing an absent one fails at enactment with its own code.
	if p := c.councilEnact(registry.DisallowMeasurementCall(m)); p.Status != gov.StatusFailed || p.Result != state.CodeMeasurementNotAllowed {
		t.Fatalf("second disallow: %+v", p)
	}
}

func TestCouncilRemovesAdmin(t *testing.T) {
	c := newChain(t, nil)
	if p := c.councilEnact(admin.RemoveCall()); p.Status != gov.StatusEnacted {
		t.Fatalf("admin.remove: %+v", p)
	}
	if _, ok, _ := admin.GetAdmin(c.st); ok {
		t.Fatal("admin still set")
	}
	c.do(pair(t, "Alice"), admin.SudoCall(gatekeeper.AddCall(keys.PublicKey{1})), state.CodeNoAdmin)
	// Governance still dispatches privileged calls.
	if p := c.councilEnact(registry.AllowMeasurementCall([32]byte{7})); p.Status != gov.StatusEnacted {
		t.Fatalf("after the admin's removal: %+v", p)
	}
}

func TestAdminRemovesItself(t *testing.T) {
	c := newChain(t, nil)
	c.do(pair(t, "Alice"), admin.SudoCall(admin.RemoveCall()), state.CodeOK)
	c.do(pair(t, "Alice"), admin.SudoCall(admin.RemoveCall()), state.CodeNoAdmin)
}

// TestBadInput: each bad call fails (or is rejected) with its own code and
// changes nothing but the fee and nonce.
func TestBadInput(t *testing.T) {
	big := tx.Call{Module: gov.Index, Method: gov.MethodScheduleUpgrade}
	tests := []struct {
		name  string
		setup func(c *chain) // runs before the snapshot
		from  string
		call  tx.Call
		want  uint32
	}{
		{name: "vote from a non-member", setup: proposeAllow, from: "Dave", call: gov.VoteCall(0, true, scale.U128{}), want: state.CodeGovNotCouncil},
		{name: "double vote", setup: proposeAllow, from: "Alice", call: gov.VoteCall(0, false, scale.U128{}), want: state.CodeGovAlreadyVoted},
		{name: "stake on a council vote", setup: proposeAllow, from: "Bob", call: gov.VoteCall(0, true, scale.U128From(5)), want: state.CodeGovBadVote},
		{name: "vote on an unknown proposal", from: "Bob", call: gov.VoteCall(9, true, scale.U128{}), want: state.CodeGovUnknownProposal},
		{name: "council proposal by a non-member", from: "Dave", call: gov.ProposeCall(registry.AllowMeasurementCall([32]byte{1}), false), want: state.CodeGovNotCouncil},
		{name: "unknown call", from: "Alice", call: gov.ProposeCall(tx.Call{Module: 99, Method: 0}, false), want: state.CodeGovUnknownCall},
		{name: "unknown method", from: "Alice", call: gov.ProposeCall(tx.Call{Module: registry.Index, Method: 77}, false), want: state.CodeGovUnknownCall},
		{name: "unprivileged call", from: "Alice", call: gov.ProposeCall(balances.TransferCall(keys.PublicKey{1}, scale.U128From(1)), false), want: state.CodeGovUnknownCall},
		{name: "bad inner args", from: "Alice", call: gov.ProposeCall(tx.Call{Module: registry.Index, Method: registry.MethodAllowMeasurement, Args: []byte{1, 2}}, false), want: state.CodeBadDispatchArgs},
		{name: "upgrade in the past", setup: func(c *chain) { c.block(); c.block() }, from: "Alice", call: gov.ProposeCall(gov.ScheduleUpgradeCall(2, 2), false), want: state.CodeUpgradeInPast},
		{name: "upgrade to the current version", from: "Alice", call: gov.ProposeCall(gov.ScheduleUpgradeCall(100, state.AppVersion1), false), want: state.CodeUpgradeUnsupported},
		{name: "upgrade args", from: "Alice", call: gov.ProposeCall(big, false), want: state.CodeBadDispatchArgs},
		{name: "referendum vote of 0", setup: proposeReferendum, from: "Eve", call: gov.VoteCall(0, true, scale.U128{}), want: state.CodeGovBadVote},
		{name: "referendum vote below the minimum stake", setup: proposeReferendum, from: "Eve", call: gov.VoteCall(0, true, scale.U128From(1)), want: state.CodeGovBadVote},
		{name: "referendum vote above the balance", setup: proposeReferendum, from: "Eve", call: gov.VoteCall(0, true, scale.U128From(2_000_000*state.Unit)), want: state.CodeInsufficientBalance},
		{name: "referendum double vote", setup: func(c *chain) {
			proposeReferendum(c)
			c.do(pair(c.t, "Eve"), gov.VoteCall(0, true, scale.U128From(state.Unit)), state.CodeOK)
		}, from: "Eve", call: gov.VoteCall(0, false, scale.U128From(state.Unit)), want: state.CodeGovAlreadyVoted},
		{name: "privileged gov method called directly", from: "Alice", call: gov.SetCouncilCall(nil, 0), want: state.CodePrivilegedCall},
		{name: "direct validators.set", from: "Alice", call: validators.SetCall([32]byte{1}, 1, false), want: state.CodePrivilegedCall},
		{name: "council proposal without a council", setup: nil, from: "Alice", call: gov.ProposeCall(admin.RemoveCall(), false), want: state.CodeGovNoCouncil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, func(g *state.Genesis) {
				if tc.want == state.CodeGovNoCouncil {
					g.App.Gov.Council, g.App.Gov.Threshold = nil, 0
				}
			})
			if tc.setup != nil {
				tc.setup(c)
			}
			res := c.do(pair(t, tc.from), tc.call, tc.want)
			for _, w := range res.WriteSet {
				if !bytes.HasPrefix(w.Key, state.PrefixAccount) {
					t.Errorf("wrote %q", w.Key)
				}
			}
			if !state.Accepted(tc.want) && len(res.WriteSet) != 0 {
				t.Errorf("rejected transaction wrote %d keys", len(res.WriteSet))
			}
		})
	}
}

func proposeAllow(c *chain) {
	c.do(pair(c.t, "Alice"), gov.ProposeCall(registry.AllowMeasurementCall([32]byte{1}), false), state.CodeOK)
}

func proposeReferendum(c *chain) {
	c.do(pair(c.t, "Dave"), gov.ProposeCall(registry.AllowMeasurementCall([32]byte{1}), true), state.CodeOK)
}

func TestCouncilNaysReject(t *testing.T) {
	c := newChain(t, nil)
	proposeAllow(c)
	c.do(pair(t, "Bob"), gov.VoteCall(0, false, scale.U128{}), state.CodeOK)
	if p := c.proposal(0); p.Status != gov.StatusVoting {
		t.Fatalf("after one nay: %+v", p)
	}
	c.do(pair(t, "Charlie"), gov.VoteCall(0, false, scale.U128{}), state.CodeOK)
	if p := c.proposal(0); p.Status != gov.StatusRejected || p.Closed != uint64(c.height) {
		t.Fatalf("after two nays of three (threshold 2): %+v", p)
	}
	if ids, _ := gov.OpenIDs(c.st); len(ids) != 0 {
		t.Fatalf("open: %v", ids)
	}
}

func TestCouncilProposalExpires(t *testing.T) {
	c := newChain(t, nil)
	proposeAllow(c)
	p := c.proposal(0)
	for uint64(c.height) < p.VotingEnds {
		c.block()
	}
	if p := c.proposal(0); p.Status != gov.StatusRejected || c.allowed([32]byte{1}) {
		t.Fatalf("after the voting period: %+v", p)
	}
	c.do(pair(t, "Bob"), gov.VoteCall(0, true, scale.U128{}), state.CodeGovVotingClosed)
}

func TestValidatorChange(t *testing.T) {
	newVal := [32]byte{0xbb, 2}
	tests := []struct {
		name    string
		call    tx.Call
		want    gov.Status
		code    uint32
		updates int
	}{
		{"concentration refused", validators.SetCall(newVal, 10, false), gov.StatusFailed, state.CodePowerConcentration, 0},
		{"concentration allowed explicitly", validators.SetCall(newVal, 10, true), gov.StatusEnacted, state.CodeOK, 1},
		{"no validator left", validators.SetCall(valKey, 0, true), gov.StatusFailed, state.CodeInvalidValidatorSet, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, nil)
			id, _ := gov.NextID(c.st)
			c.do(pair(t, "Alice"), gov.ProposeCall(tc.call, false), state.CodeOK)
			c.do(pair(t, "Bob"), gov.VoteCall(id, true, scale.U128{}), state.CodeOK)
			c.block()
			res := c.block()
			p := c.proposal(id)
			if p.Status != tc.want || p.Result != tc.code {
				t.Fatalf("proposal %+v, want %s with %s", p, tc.want, state.CodeName(tc.code))
			}
			if len(res.ValidatorUpdates) != tc.updates {
				t.Fatalf("validator updates %v, want %d", res.ValidatorUpdates, tc.updates)
			}
			vs, _ := state.GetValidators(c.st)
			if want := 1 + tc.updates; len(vs) != want {
				t.Fatalf("validators %v", vs)
			}
		})
	}
}

func TestValidatorThirdBoundary(t *testing.T) {
	// Four validators of 10: adding a fifth of 20 gives it 20/60 = 1/3
	// exactly, which is allowed; 21/61 is not.
	vals := []state.Validator{{PubKey: [32]byte{1}, Power: 10}, {PubKey: [32]byte{2}, Power: 10}, {PubKey: [32]byte{3}, Power: 10}, {PubKey: [32]byte{4}, Power: 10}}
	for _, tc := range []struct {
		power uint64
		want  uint32
	}{{20, state.CodeOK}, {21, state.CodePowerConcentration}} {
		c := newChain(t, func(g *state.Genesis) { g.Validators = vals })
		if p := c.councilEnact(validators.SetCall([32]byte{5}, tc.power, false)); p.Result != tc.want {
			t.Errorf("power %d: %+v, want %s", tc.power, p, state.CodeName(tc.want))
		}
	}
}

func TestReferendum(t *testing.T) {
	c := newChain(t, nil)
	dave, eve, ferdie := pair(t, "Dave"), pair(t, "Eve"), pair(t, "Ferdie")
	m := [32]byte{9}
	before := map[string]scale.U128{"Dave": c.free(dave.Public()), "Eve": c.free(eve.Public()), "Ferdie": c.free(ferdie.Public())}
	fees := map[string]scale.U128{}
	charge := func(name string, r *state.BlockResult) {
		fees[name], _ = fees[name].Add(r.TxResults[0].Fee)
	}
	charge("Dave", c.do(dave, gov.ProposeCall(registry.AllowMeasurementCall(m), true), state.CodeOK))
	cfg, _ := gov.GetConfig(c.st)
	if got, _ := c.free(gov.PotAccount).Sub(cfg.ReferendumDeposit); !got.IsZero() {
		t.Fatalf("pot %s, want the deposit %s", c.free(gov.PotAccount), cfg.ReferendumDeposit)
	}
	charge("Eve", c.do(eve, gov.VoteCall(0, true, scale.U128From(5*state.Unit)), state.CodeOK))
	charge("Ferdie", c.do(ferdie, gov.VoteCall(0, false, scale.U128From(2*state.Unit)), state.CodeOK))
	p := c.proposal(0)
	if p.Ayes != scale.U128From(5*state.Unit) || p.Nays != scale.U128From(2*state.Unit) {
		t.Fatalf("tally %+v", p)
	}
	// A locked stake cannot be spent: Eve cannot transfer it away.
	eveFree := c.free(eve.Public())
	want, _ := before["Eve"].Sub(fees["Eve"])
	want, _ = want.Sub(scale.U128From(5 * state.Unit))
	if eveFree != want {
		t.Fatalf("Eve's free balance %s while voting, want %s", eveFree, want)
	}
	for uint64(c.height) < p.VotingEnds {
		c.block()
	}
	p = c.proposal(0)
	if p.Status != gov.StatusApproved || p.EnactAt != p.VotingEnds+cfg.EnactmentDelay {
		t.Fatalf("after the tally: %+v", p)
	}
	if !c.free(gov.PotAccount).IsZero() {
		t.Fatalf("pot keeps %s after the tally", c.free(gov.PotAccount))
	}
	for name, p := range map[string]*keys.Pair{"Dave": dave, "Eve": eve, "Ferdie": ferdie} {
		want, _ := before[name].Sub(fees[name])
		if got := c.free(p.Public()); got != want {
			t.Errorf("%s: %s after the tally, want %s (all locks returned)", name, got, want)
		}
	}
	for c.proposal(0).Status == gov.StatusApproved {
		c.block()
	}
	if p := c.proposal(0); p.Status != gov.StatusEnacted || !c.allowed(m) {
		t.Fatalf("after enactment: %+v", p)
	}
}

func TestReferendumRejected(t *testing.T) {
	tests := []struct {
		name       string
		aye, nay   uint64
		minTurnout uint64
	}{
		{"nays win", 2, 5, 1},
		{"tie", 3, 3, 1},
		{"turnout too low", 2, 1, 10},
		{"no votes", 0, 0, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newChain(t, func(g *state.Genesis) { g.App.Gov.MinTurnout = scale.U128From(tc.minTurnout * state.Unit) })
			proposeReferendum(c)
			if tc.aye > 0 {
				c.do(pair(t, "Eve"), gov.VoteCall(0, true, scale.U128From(tc.aye*state.Unit)), state.CodeOK)
			}
			if tc.nay > 0 {
				c.do(pair(t, "Ferdie"), gov.VoteCall(0, false, scale.U128From(tc.nay*state.Unit)), state.CodeOK)
			}
			for c.proposal(0).Status == gov.StatusVoting {
				c.block()
			}
			if p := c.proposal(0); p.Status != gov.StatusRejected {
				t.Fatalf("%+v", p)
			}
			if !c.free(gov.PotAccount).IsZero() {
				t.Fatal("locks not returned")
			}
		})
	}
}

func TestSetCouncil(t *testing.T) {
	c := newChain(t, nil)
	dave := pair(t, "Dave")
	if p := c.councilEnact(gov.SetCouncilCall([]keys.PublicKey{dave.Public()}, 1)); p.Status != gov.StatusEnacted {
		t.Fatalf("%+v", p)
	}
	cfg, _ := gov.GetConfig(c.st)
	if len(cfg.Council) != 1 || cfg.Council[0] != dave.Public() || cfg.Threshold != 1 {
		t.Fatalf("council %+v", cfg)
	}
	// Alice is out; Dave alone approves (threshold 1) on proposing.
	c.do(pair(t, "Alice"), gov.ProposeCall(admin.RemoveCall(), false), state.CodeGovNotCouncil)
	id, _ := gov.NextID(c.st)
	c.do(dave, gov.ProposeCall(admin.RemoveCall(), false), state.CodeOK)
	if p := c.proposal(id); p.Status != gov.StatusApproved {
		t.Fatalf("%+v", p)
	}
	// A bad council fails at enactment.
	for _, tc := range []struct {
		members   []keys.PublicKey
		threshold uint32
	}{
		{nil, 1}, {[]keys.PublicKey{dave.Public()}, 2}, {[]keys.PublicKey{dave.Public()}, 0}, {[]keys.PublicKey{dave.Public(), dave.Public()}, 1},
	} {
		id, _ := gov.NextID(c.st)
		c.do(dave, gov.ProposeCall(gov.SetCouncilCall(tc.members, tc.threshold), false), state.CodeOK)
		for c.proposal(id).Status == gov.StatusApproved {
			c.block()
		}
		if p := c.proposal(id); p.Result != state.CodeGovBadCouncil {
			t.Errorf("council %v threshold %d: %+v", tc.members, tc.threshold, p)
		}
	}
}

func TestSetParamsAndUpgrade(t *testing.T) {
	c := newChain(t, nil)
	p := state.DefaultParams()
	p.BaseFee = scale.U128From(state.Unit / 100)
	if pr := c.councilEnact(gov.SetParamsCall(p)); pr.Status != gov.StatusEnacted {
		t.Fatalf("%+v", pr)
	}
	if got, _ := state.GetParams(c.st); got != p {
		t.Fatalf("params %+v", got)
	}
	for _, edit := range []func(*state.Params){
		func(b *state.Params) { b.MaxBlockWeight = 1 },
		func(b *state.Params) { b.SS58Prefix = 0 },
		func(b *state.Params) { b.SS58Prefix = 20000 },
		func(b *state.Params) { b.WeightFee = scale.U128{Hi: 1 << 62} },
	} {
		bad := p
		edit(&bad)
		if pr := c.councilEnact(gov.SetParamsCall(bad)); pr.Result != state.CodeGovBadParams {
			t.Fatalf("%+v: %+v", bad, pr)
		}
	}
	if got, _ := state.GetParams(c.st); got != p {
		t.Fatalf("params changed by failed proposals: %+v", got)
	}
	at := uint64(c.height) + 100
	if pr := c.councilEnact(gov.ScheduleUpgradeCall(at, 2)); pr.Status != gov.StatusEnacted {
		t.Fatalf("%+v", pr)
	}
	if u, _ := gov.GetUpgrade(c.st); u == nil || *u != (gov.Upgrade{Height: at, AppVersion: 2}) {
		t.Fatalf("upgrade %+v", u)
	}
	// An upgrade that is in the past by its enactment fails then.
	id, _ := gov.NextID(c.st)
	c.do(pair(t, "Alice"), gov.ProposeCall(gov.ScheduleUpgradeCall(uint64(c.height)+2, 3), false), state.CodeOK)
	c.do(pair(t, "Bob"), gov.VoteCall(id, true, scale.U128{}), state.CodeOK)
	c.block()
	c.block()
	if pr := c.proposal(id); pr.Result != state.CodeUpgradeInPast {
		t.Fatalf("%+v", pr)
	}
}

func TestTooManyProposals(t *testing.T) {
	c := newChain(t, nil)
	var txs [][]byte
	for i := 0; i < gov.MaxOpenProposals; i++ {
		txs = append(txs, c.sign(pair(t, "Alice"), gov.ProposeCall(registry.AllowMeasurementCall([32]byte{byte(i)}), false)))
	}
	for _, r := range c.block(txs...).TxResults {
		if r.Code != state.CodeOK {
			t.Fatal(r.Log)
		}
	}
	c.do(pair(t, "Alice"), gov.ProposeCall(admin.RemoveCall(), false), state.CodeGovTooManyProposals)
}

func TestTooManyReferendums(t *testing.T) {
	c := newChain(t, nil)
	var txs [][]byte
	for i := 0; i < gov.MaxOpenReferendums; i++ {
		txs = append(txs, c.sign(pair(t, "Dave"), gov.ProposeCall(registry.AllowMeasurementCall([32]byte{byte(i)}), true)))
	}
	for _, r := range c.block(txs...).TxResults {
		if r.Code != state.CodeOK {
			t.Fatal(r.Log)
		}
	}
	c.do(pair(t, "Eve"), gov.ProposeCall(admin.RemoveCall(), true), state.CodeGovTooManyProposals)
	// The council still has room.
	c.do(pair(t, "Alice"), gov.ProposeCall(admin.RemoveCall(), false), state.CodeOK)
}

// TestDeterministic: two chains fed the same blocks end with the same AppHash.
func TestDeterministic(t *testing.T) {
	run := func() [32]byte {
		c := newChain(t, nil)
		proposeReferendum(c)
		c.do(pair(t, "Eve"), gov.VoteCall(0, true, scale.U128From(state.Unit)), state.CodeOK)
		c.councilEnact(registry.AllowMeasurementCall([32]byte{3}))
		for c.proposal(0).Status != gov.StatusEnacted {
			c.block()
		}
		return c.appHash
	}
	if a, b := run(), run(); a != b {
		t.Fatalf("app hashes differ: %x %x", a, b)
	}
}

func TestGenesisRoundTrip(t *testing.T) {
	g := state.DevGenesis("gov-test", []state.Validator{{PubKey: valKey, Power: 10}})
	h0 := g.Hash()
	g.App.Gov = state.DevGovGenesis()
	if g.Hash() == h0 {
		t.Fatal("the gov section is not hashed")
	}
	var back state.Genesis
	if err := scale.Decode(scale.Encode(g), &back); err != nil {
		t.Fatal(err)
	}
	if back.Hash() != g.Hash() || back.App.Gov == nil || len(back.App.Gov.Council) != 3 {
		t.Fatalf("round trip: %+v", back.App.Gov)
	}
	g.App.Gov = nil
	if err := scale.Decode(scale.Encode(g), &back); err != nil || back.App.Gov != nil || back.Hash() != h0 {
		t.Fatalf("without gov: %v %+v", err, back.App.Gov)
	}
	bad := state.DevGovGenesis()
	bad.EnactmentDelay = 0
	g.App.Gov = bad
	if err := modules.ValidateGenesis(g); err == nil {
		t.Fatal("enactment delay 0 accepted")
	}
}

// TestQuietBlocks: with nothing due, governance writes nothing, so an empty
// block keeps the AppHash; once the last proposal closes, too.
func TestQuietBlocks(t *testing.T) {
	c := newChain(t, nil)
	if res := c.block(); len(res.WriteSet) != 0 || res.AppHash != c.appHash {
		t.Fatalf("empty block wrote %d keys", len(res.WriteSet))
	}
	proposeAllow(c)
	if res := c.block(); len(res.WriteSet) != 0 {
		t.Fatalf("a block with a proposal still voting wrote %v", res.WriteSet)
	}
	c.do(pair(t, "Bob"), gov.VoteCall(0, true, scale.U128{}), state.CodeOK)
	c.block()
	res := c.block()
	var keys []string
	for _, w := range res.WriteSet {
		keys = append(keys, string(w.Key))
	}
	want := []string{"gov/open", string(gov.ProposalKey(0)), "registry/measurements"}
	if !slices.Equal(keys, want) || res.WriteSet[0].Value != nil {
		t.Fatalf("enactment block wrote %q, want %q (the open list deleted)", keys, want)
	}
	before := c.appHash
	if res := c.block(); len(res.WriteSet) != 0 || res.AppHash != before {
		t.Fatalf("block after the last enactment wrote %d keys", len(res.WriteSet))
	}
}

// TestScriptUpgrade: the fuzz seed upgradeScript upgrades the chain through
// a council proposal, and the cancel_upgrade proposed after it is enacted
// under version 2 (it finds nothing scheduled: failed with 116).
func TestScriptUpgrade(t *testing.T) {
	c := scriptChain(t, upgradeScript)
	if v, err := c.m.AppVersion(c.st); err != nil || v != state.AppVersion2 {
		t.Fatalf("app version %d %v", v, err)
	}
	if past, err := gov.UpgradeHistory(c.st); err != nil || len(past) != 1 || past[0] != (gov.PastUpgrade{Height: 18, From: 1, To: 2}) {
		t.Fatalf("history %v %v", past, err)
	}
	if p := c.proposal(1); p.Status != gov.StatusFailed || p.Result != state.CodeNoUpgradeScheduled {
		t.Fatalf("cancel proposal %+v", p)
	}
}
