package state_test

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

func TestInitChain(t *testing.T) {
	c := newDevChain(t)
	for _, n := range state.DevAccountNames {
		a := c.account(dev(t, n).Public())
		if a.Free != state.DevBalance || a.Nonce != 0 {
			t.Fatalf("%s: %+v", n, a)
		}
	}
	vs, err := state.GetValidators(c.st)
	if err != nil || len(vs) != 1 || vs[0].Power != 10 {
		t.Fatalf("validators %v %v", vs, err)
	}
	p, err := state.GetParams(c.st)
	if err != nil || p != state.DefaultParams() {
		t.Fatalf("params %+v %v", p, err)
	}
	if c.appHash == ([32]byte{}) {
		t.Fatal("zero genesis AppHash")
	}
	// Deterministic.
	m2, _ := modules.NewMachine(state.DevGenesis("cella-test", testValidators()))
	ws, h, _ := m2.InitChain()
	if h != c.appHash || len(ws) != c.st.Len() {
		t.Fatal("InitChain not deterministic")
	}
}

func TestTransferAndFee(t *testing.T) {
	c := newDevChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	raw := c.transfer(alice, 0, bob.Public(), u(5*state.Unit))
	res := c.block(raw)
	r := res.TxResults[0]
	if r.Code != state.CodeOK {
		t.Fatalf("code %s: %s", state.CodeName(r.Code), r.Log)
	}
	p := state.DefaultParams()
	wantFee, _ := state.ComputeFee(&p, len(raw), state.TxBaseWeight+balances.TransferWeight)
	if r.Fee != wantFee || r.Weight != state.TxBaseWeight+balances.TransferWeight {
		t.Fatalf("fee %s weight %d", r.Fee, r.Weight)
	}
	var rc state.Receipt
	if err := scale.Decode(r.Data, &rc); err != nil || rc.Fee != wantFee || rc.Weight != r.Weight {
		t.Fatalf("receipt %+v %v", rc, err)
	}
	if got, want := c.free(alice.Public()), sub(t, sub(t, state.DevBalance, u(5*state.Unit)), wantFee); got != want {
		t.Fatalf("alice %s want %s", got, want)
	}
	if got := c.free(bob.Public()); got != add(t, state.DevBalance, u(5*state.Unit)) {
		t.Fatalf("bob %s", got)
	}
	if got := c.free(state.TreasuryAccount); got != wantFee {
		t.Fatalf("treasury %s", got)
	}
	if c.account(alice.Public()).Nonce != 1 {
		t.Fatal("nonce not advanced")
	}
	if len(res.WriteSet) != 3 { // alice, bob, treasury
		t.Fatalf("write-set has %d writes", len(res.WriteSet))
	}
	if len(r.Events) != 1 || r.Events[0].Type != "transfer" || r.Events[0].Attributes[0].Value != alice.Public().Hex() {
		t.Fatalf("events %+v", r.Events)
	}
	if err := res.WriteSet.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyBlockKeepsAppHash(t *testing.T) {
	c := newDevChain(t)
	before := c.appHash
	res := c.block()
	if res.AppHash != before || len(res.WriteSet) != 0 {
		t.Fatal("empty block changed AppHash or wrote")
	}
	// A block of only rejected transactions writes nothing either.
	res = c.block([]byte("garbage"), c.transfer(dev(t, "Alice"), 7, dev(t, "Bob").Public(), u(1)))
	if res.AppHash != before || len(res.WriteSet) != 0 {
		t.Fatal("rejected txs changed state")
	}
}

// TestRejections covers every code of a transaction that has no effect: the
// block's write-set stays empty, CheckTx refuses it with the same code (unless
// noted) and CheckProposal refuses a block containing it.
func TestRejections(t *testing.T) {
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	poor, _ := keys.FromURI("//Poor")
	type tc struct {
		name  string
		build func(c *chain) []byte
		code  uint32
		check uint32 // CheckTx code when it differs
	}
	sign := func(c *chain, b tx.Body, p *keys.Pair) []byte { return tx.Sign(b, p).Encode() }
	tcs := []tc{
		{"garbage", func(c *chain) []byte { return []byte{1, 1, 3} }, state.CodeMalformed, 0},
		{"empty", func(c *chain) []byte { return nil }, state.CodeMalformed, 0},
		{"trailing byte", func(c *chain) []byte { return append(c.transfer(alice, 0, bob.Public(), u(1)), 0) }, state.CodeMalformed, 0},
		{"truncated", func(c *chain) []byte { r := c.transfer(alice, 0, bob.Public(), u(1)); return r[:len(r)-1] }, state.CodeMalformed, 0},
		{"version 2", func(c *chain) []byte { r := c.transfer(alice, 0, bob.Public(), u(1)); r[0] = 2; return r }, state.CodeUnsupported, 0},
		{"ed25519 scheme", func(c *chain) []byte { r := c.transfer(alice, 0, bob.Public(), u(1)); r[1] = 2; return r }, state.CodeUnsupported, 0},
		{"unknown wrapping", func(c *chain) []byte { r := c.transfer(alice, 0, bob.Public(), u(1)); r[len(r)-65] = 7; return r }, state.CodeUnsupported, 0},
		{"oversize", func(c *chain) []byte { return make([]byte, tx.MaxTxBytes+1) }, state.CodeOversize, 0},
		{"wrong genesis", func(c *chain) []byte {
			b := c.body(alice, 0, balances.TransferCall(bob.Public(), u(1)))
			b.Genesis[0] ^= 1
			return sign(c, b, alice)
		}, state.CodeWrongGenesis, 0},
		{"bad signature", func(c *chain) []byte { r := c.transfer(alice, 0, bob.Public(), u(1)); r[len(r)-10] ^= 1; return r }, state.CodeBadSignature, 0},
		{"signed by another key", func(c *chain) []byte {
			b := c.body(alice, 0, balances.TransferCall(bob.Public(), u(1)))
			t := tx.Sign(b, bob)
			return t.Encode()
		}, state.CodeBadSignature, 0},
		{"wrapping flipped", func(c *chain) []byte { r := c.transfer(alice, 0, bob.Public(), u(1)); r[len(r)-65] = 1; return r }, state.CodeBadSignature, 0},
		{"unknown module", func(c *chain) []byte { return sign(c, c.body(alice, 0, tx.Call{Module: 99}), alice) }, state.CodeUnknownCall, 0},
		{"unknown method", func(c *chain) []byte {
			return sign(c, c.body(alice, 0, tx.Call{Module: balances.Index, Method: 9}), alice)
		}, state.CodeUnknownCall, 0},
		{"bad args", func(c *chain) []byte {
			return sign(c, c.body(alice, 0, tx.Call{Module: balances.Index, Method: balances.MethodTransfer, Args: []byte{1, 2}}), alice)
		}, state.CodeBadArgs, 0},
		{"args trailing", func(c *chain) []byte {
			call := balances.TransferCall(bob.Public(), u(1))
			call.Args = append(call.Args, 0)
			return sign(c, c.body(alice, 0, call), alice)
		}, state.CodeBadArgs, 0},
		{"set_power too large", func(c *chain) []byte {
			return sign(c, c.body(alice, 0, validators.SetPowerCall([32]byte{1}, 1<<62)), alice)
		}, state.CodeBadArgs, 0},
		{"expired", func(c *chain) []byte {
			c.block()
			b := c.body(alice, 0, balances.TransferCall(bob.Public(), u(1)))
			b.ValidUntil = uint64(c.height) // next block is height+1
			return sign(c, b, alice)
		}, state.CodeExpired, 0},
		{"stale nonce", func(c *chain) []byte {
			c.block(c.transfer(alice, 0, bob.Public(), u(state.Unit)))
			return c.transfer(alice, 0, bob.Public(), u(1))
		}, state.CodeStaleNonce, 0},
		{"future nonce", func(c *chain) []byte { return c.transfer(alice, 1, bob.Public(), u(1)) }, state.CodeFutureNonce, 0},
		{"fee limit", func(c *chain) []byte {
			b := c.body(alice, 0, balances.TransferCall(bob.Public(), u(1)))
			b.FeeLimit = u(1000)
			return sign(c, b, alice)
		}, state.CodeFeeLimit, 0},
		{"cannot pay fee", func(c *chain) []byte {
			return sign(c, c.body(poor, 0, balances.TransferCall(bob.Public(), u(0))), poor)
		}, state.CodeCannotPayFee, 0},
		{"dev only", func(c *chain) []byte {
			return sign(c, c.body(alice, 0, validators.SetPowerCall([32]byte{1}, 5)), alice)
		}, state.CodeDevOnly, 0},
	}
	for _, x := range tcs {
		t.Run(x.name, func(t *testing.T) {
			g := state.DevGenesis("cella-test", testValidators())
			if x.code == state.CodeDevOnly {
				g.App.Dev, g.App.DevBootstrap = false, false
				g.App.Registry.AllowDevAttestation = false
			}
			c := newChain(t, g)
			raw := x.build(c)
			before := c.appHash
			snapshot := c.st.Dump()

			cr := c.m.CheckTx(c.st, c.height+1, raw, nil, nil)
			want := x.code
			if x.check != 0 {
				want = x.check
			}
			if cr.Code != want {
				t.Fatalf("CheckTx code %s (%s), want %s", state.CodeName(cr.Code), cr.Log, state.CodeName(want))
			}
			if cr.Log == "" {
				t.Fatal("CheckTx gave no log")
			}
			err := c.m.CheckProposal(c.st, c.header(), [][]byte{raw})
			if !errors.Is(err, state.ErrInvalidProposal) {
				t.Fatalf("CheckProposal: %v", err)
			}
			if got := c.m.ProposalTxs(c.st, c.header(), [][]byte{raw}, 1<<30); len(got) != 0 {
				t.Fatal("ProposalTxs kept a rejected tx")
			}
			res := c.block(raw)
			if res.TxResults[0].Code != x.code {
				t.Fatalf("block code %s (%s), want %s", state.CodeName(res.TxResults[0].Code), res.TxResults[0].Log, state.CodeName(x.code))
			}
			if state.Accepted(x.code) || len(res.WriteSet) != 0 || res.AppHash != before || len(res.TxResults[0].Data) != 0 {
				t.Fatal("rejected tx had an effect")
			}
			if len(c.st.Dump()) != len(snapshot) {
				t.Fatal("store changed")
			}
		})
	}
}

// TestCallFailures covers codes of valid transactions whose call fails: the
// fee is charged, the nonce advances, the call's writes are discarded.
func TestCallFailures(t *testing.T) {
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	fresh, _ := keys.FromURI("//Fresh")
	ed := state.DefaultParams().ExistentialDeposit
	tcs := []struct {
		name  string
		build func(c *chain) []byte
		code  uint32
	}{
		{"insufficient balance", func(c *chain) []byte { return c.transfer(alice, 0, bob.Public(), add(t, state.DevBalance, u(1))) }, state.CodeInsufficientBalance},
		{"recipient below ED", func(c *chain) []byte { return c.transfer(alice, 0, fresh.Public(), sub(t, ed, u(1))) }, state.CodeBelowExistentialDeposit},
		{"sender left below ED", func(c *chain) []byte {
			// Alice's balance after the fee minus (ED-1) would be a bit below... compute exactly.
			raw := c.transfer(alice, 0, bob.Public(), state.DevBalance) // same encoded length
			p := state.DefaultParams()
			fee, _ := state.ComputeFee(&p, len(raw), state.TxBaseWeight+balances.TransferWeight)
			amount := sub(t, sub(t, state.DevBalance, fee), sub(t, ed, u(1)))
			return c.transfer(alice, 0, bob.Public(), amount)
		}, state.CodeBelowExistentialDeposit},
		{"set_power empties the set", func(c *chain) []byte {
			return tx.Sign(c.body(alice, 0, validators.SetPowerCall(testValidators()[0].PubKey, 0)), alice).Encode()
		}, state.CodeInvalidValidatorSet},
		{"set_power overflows total", func(c *chain) []byte {
			return tx.Sign(c.body(alice, 0, validators.SetPowerCall([32]byte{9}, state.MaxTotalVotingPower)), alice).Encode()
		}, state.CodeInvalidValidatorSet},
	}
	for _, x := range tcs {
		t.Run(x.name, func(t *testing.T) {
			c := newDevChain(t)
			raw := x.build(c)
			cr := c.m.CheckTx(c.st, c.height+1, raw, nil, nil)
			if cr.Code != x.code {
				t.Fatalf("CheckTx %s (%s), want %s", state.CodeName(cr.Code), cr.Log, state.CodeName(x.code))
			}
			if err := c.m.CheckProposal(c.st, c.header(), [][]byte{raw}); err != nil {
				t.Fatalf("CheckProposal rejected a fee-paying tx: %v", err)
			}
			if got := c.m.ProposalTxs(c.st, c.header(), [][]byte{raw}, 1<<30); len(got) != 1 {
				t.Fatal("ProposalTxs dropped a fee-paying tx")
			}
			res := c.block(raw)
			r := res.TxResults[0]
			if r.Code != x.code || !state.Accepted(r.Code) || r.Fee.IsZero() || len(r.Events) != 0 {
				t.Fatalf("result %+v", r)
			}
			if got := c.free(alice.Public()); got != sub(t, state.DevBalance, r.Fee) {
				t.Fatalf("alice %s", got)
			}
			if c.account(alice.Public()).Nonce != 1 || c.free(state.TreasuryAccount) != r.Fee {
				t.Fatal("nonce or fee not applied")
			}
			if len(res.WriteSet) != 2 || res.ValidatorUpdates != nil {
				t.Fatalf("write-set %d, updates %v", len(res.WriteSet), res.ValidatorUpdates)
			}
		})
	}
}

func TestTransferRules(t *testing.T) {
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	fresh, _ := keys.FromURI("//Fresh")
	ed := state.DefaultParams().ExistentialDeposit

	t.Run("self transfer", func(t *testing.T) {
		c := newDevChain(t)
		r := c.block(c.transfer(alice, 0, alice.Public(), u(state.Unit))).TxResults[0]
		if r.Code != state.CodeOK || c.free(alice.Public()) != sub(t, state.DevBalance, r.Fee) {
			t.Fatal(r)
		}
	})
	t.Run("zero amount to fresh account writes nothing for it", func(t *testing.T) {
		c := newDevChain(t)
		res := c.block(c.transfer(alice, 0, fresh.Public(), u(0)))
		if res.TxResults[0].Code != state.CodeOK || len(res.WriteSet) != 2 {
			t.Fatal(res.TxResults[0], len(res.WriteSet))
		}
	})
	t.Run("exactly ED to fresh account", func(t *testing.T) {
		c := newDevChain(t)
		c.block(c.transfer(alice, 0, fresh.Public(), ed))
		if c.free(fresh.Public()) != ed {
			t.Fatal("fresh account not created")
		}
	})
	t.Run("send everything", func(t *testing.T) {
		c := newDevChain(t)
		c.block(c.transfer(alice, 0, fresh.Public(), u(10*state.Unit)))
		raw := c.transfer(fresh, 0, bob.Public(), u(9*state.Unit)) // same encoded length as the real one
		p := state.DefaultParams()
		fee, _ := state.ComputeFee(&p, len(raw), state.TxBaseWeight+balances.TransferWeight)
		raw = c.transfer(fresh, 0, bob.Public(), sub(t, u(10*state.Unit), fee))
		r := c.block(raw).TxResults[0]
		if r.Code != state.CodeOK || !c.free(fresh.Public()).IsZero() || c.account(fresh.Public()).Nonce != 1 {
			t.Fatal(r, c.account(fresh.Public()))
		}
		// The emptied account keeps its nonce, so its old txs cannot replay.
		if cr := c.m.CheckTx(c.st, c.height+1, raw, nil, nil); cr.Code != state.CodeStaleNonce {
			t.Fatal(state.CodeName(cr.Code))
		}
	})
	t.Run("pipelined nonces in one block", func(t *testing.T) {
		c := newDevChain(t)
		res := c.block(c.transfer(alice, 0, bob.Public(), u(1*state.Unit)), c.transfer(alice, 1, bob.Public(), u(2*state.Unit)), c.transfer(alice, 1, bob.Public(), u(2*state.Unit)))
		if res.TxResults[0].Code != state.CodeOK || res.TxResults[1].Code != state.CodeOK || res.TxResults[2].Code != state.CodeStaleNonce {
			t.Fatal(res.TxResults)
		}
	})
	t.Run("replay of identical bytes", func(t *testing.T) {
		c := newDevChain(t)
		raw := c.transfer(alice, 0, bob.Public(), u(state.Unit))
		res := c.block(raw, raw)
		if res.TxResults[1].Code != state.CodeStaleNonce {
			t.Fatal(res.TxResults[1])
		}
	})
	t.Run("call failure then success", func(t *testing.T) {
		c := newDevChain(t)
		res := c.block(c.transfer(alice, 0, bob.Public(), add(t, state.DevBalance, u(1))), c.transfer(alice, 1, bob.Public(), u(state.Unit)))
		if res.TxResults[0].Code != state.CodeInsufficientBalance || res.TxResults[1].Code != state.CodeOK {
			t.Fatal(res.TxResults)
		}
	})
	t.Run("polkadot.js wrapped signature", func(t *testing.T) {
		c := newDevChain(t)
		tr := &tx.Tx{Body: c.body(alice, 0, balances.TransferCall(bob.Public(), u(state.Unit))), Wrapping: tx.WrapBytes}
		tr.Signature = alice.Sign(keys.WrapBytes(tr.Body.SigningPayload()))
		if r := c.block(tr.Encode()).TxResults[0]; r.Code != state.CodeOK {
			t.Fatal(r)
		}
	})
	t.Run("valid until this height", func(t *testing.T) {
		c := newDevChain(t)
		b := c.body(alice, 0, balances.TransferCall(bob.Public(), u(state.Unit)))
		b.ValidUntil = 1
		if r := c.block(tx.Sign(b, alice).Encode()).TxResults[0]; r.Code != state.CodeOK {
			t.Fatal(r)
		}
	})
}

func TestCheckTxNonces(t *testing.T) {
	c := newDevChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	c.block(c.transfer(alice, 0, bob.Public(), u(state.Unit)))
	for _, x := range []struct {
		nonce   uint64
		pending pendingMap
		code    uint32
	}{
		{1, nil, state.CodeOK},
		{0, nil, state.CodeStaleNonce},
		{2, nil, state.CodeFutureNonce},
		{1, pendingMap{}, state.CodeOK},
		{3, pendingMap{alice.Public(): 3}, state.CodeOK},
		{2, pendingMap{alice.Public(): 3}, state.CodePendingNonce},
		{4, pendingMap{alice.Public(): 3}, state.CodeFutureNonce},
		{0, pendingMap{alice.Public(): 3}, state.CodeStaleNonce},
		{1, pendingMap{bob.Public(): 3}, state.CodeOK},
	} {
		var pn state.PendingNonces
		if x.pending != nil {
			pn = x.pending
		}
		cr := c.m.CheckTx(c.st, c.height+1, c.transfer(alice, x.nonce, bob.Public(), u(1*state.Unit)), pn, nil)
		if cr.Code != x.code {
			t.Errorf("nonce %d pending %v: %s (%s), want %s", x.nonce, x.pending, state.CodeName(cr.Code), cr.Log, state.CodeName(x.code))
		}
		if cr.Sender != alice.Public() || cr.Nonce != x.nonce {
			t.Errorf("sender/nonce not reported")
		}
		if cr.Code == state.CodeOK && (cr.Weight != state.TxBaseWeight+balances.TransferWeight || cr.Fee.IsZero()) {
			t.Errorf("weight %d fee %s", cr.Weight, cr.Fee)
		}
	}
}

func TestBlockWeight(t *testing.T) {
	// The smallest MaxBlockWeight a genesis allows fits the heaviest call
	// (registry.register_worker); it holds fit transfers and no more.
	g := state.DevGenesis("cella-test", testValidators())
	g.App.Params.MaxBlockWeight = state.MaxTxWeight(modules.Runtimes(), state.AppVersion1)
	fit := int(state.MaxTxWeight(modules.Runtimes(), state.AppVersion1) / (state.TxBaseWeight + balances.TransferWeight))
	c := newChain(t, g)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	var txs [][]byte
	for i := 0; i <= fit; i++ {
		txs = append(txs, c.transfer(alice, uint64(i), bob.Public(), u(state.Unit)))
	}
	txs = append(txs, c.transfer(bob, 0, alice.Public(), u(state.Unit)))
	if err := c.m.CheckProposal(c.st, c.header(), txs); !errors.Is(err, state.ErrInvalidProposal) || !strings.Contains(err.Error(), "block_full") {
		t.Fatalf("CheckProposal: %v", err)
	}
	kept := c.m.ProposalTxs(c.st, c.header(), txs, 1<<30)
	if len(kept) != fit {
		t.Fatalf("kept %d, want %d", len(kept), fit)
	}
	if err := c.m.CheckProposal(c.st, c.header(), kept); err != nil {
		t.Fatal(err)
	}
	res := c.block(txs...)
	if res.TxResults[fit].Code != state.CodeBlockFull || res.TxResults[fit+1].Code != state.CodeBlockFull {
		t.Fatal(res.TxResults[fit:])
	}
	// Byte limit: room for exactly one tx.
	c2 := newDevChain(t)
	one := c2.transfer(alice, 0, bob.Public(), u(state.Unit))
	two := c2.transfer(bob, 0, alice.Public(), u(state.Unit))
	if got := c2.m.ProposalTxs(c2.st, c2.header(), [][]byte{one, two}, state.ProtoTxSize(len(one))); len(got) != 1 {
		t.Fatalf("byte limit kept %d", len(got))
	}
	// Dropping an invalid tx keeps later valid ones.
	if got := c2.m.ProposalTxs(c2.st, c2.header(), [][]byte{[]byte("x"), c2.transfer(alice, 5, bob.Public(), u(1)), one, two}, 1<<30); len(got) != 2 {
		t.Fatalf("kept %d", len(got))
	}
}

func TestValidatorChanges(t *testing.T) {
	c := newDevChain(t)
	alice := dev(t, "Alice")
	v0 := testValidators()[0].PubKey
	k1, k2 := [32]byte{0x01}, [32]byte{0xff}
	sp := func(n uint64, k [32]byte, p uint64) []byte {
		return tx.Sign(c.body(alice, n, validators.SetPowerCall(k, p)), alice).Encode()
	}
	res := c.block(sp(0, k2, 5), sp(1, k1, 7), sp(2, k1, 8), sp(3, [32]byte{0x50}, 0))
	for _, r := range res.TxResults {
		if r.Code != state.CodeOK {
			t.Fatal(r)
		}
	}
	want := []state.Validator{{PubKey: k1, Power: 8}, {PubKey: k2, Power: 5}}
	if len(res.ValidatorUpdates) != 2 || res.ValidatorUpdates[0] != want[0] || res.ValidatorUpdates[1] != want[1] {
		t.Fatalf("updates %v", res.ValidatorUpdates)
	}
	vs, _ := state.GetValidators(c.st)
	if len(vs) != 3 || vs[0].PubKey != k1 || vs[1].PubKey != v0 || vs[2].PubKey != k2 {
		t.Fatalf("stored %v", vs)
	}
	// Remove one and set another back to its old power: only the removal is an update.
	res = c.block(sp(4, k2, 0), sp(5, k1, 9), sp(6, k1, 8))
	if len(res.ValidatorUpdates) != 1 || res.ValidatorUpdates[0] != (state.Validator{PubKey: k2}) {
		t.Fatalf("updates %v", res.ValidatorUpdates)
	}
}

func TestExecuteBlockErrors(t *testing.T) {
	c := newDevChain(t)
	h := c.header()
	h.AppVersion = 99
	if _, err := c.m.ExecuteBlock(c.st, c.appHash, h, nil); !errors.Is(err, state.ErrUnsupportedAppVersion) {
		t.Fatal(err)
	}
	if err := c.m.CheckProposal(c.st, h, nil); !errors.Is(err, state.ErrUnsupportedAppVersion) {
		t.Fatal(err)
	}
	if _, err := c.m.ExecuteBlock(state.NewMemStore(), c.appHash, c.header(), nil); !errors.Is(err, state.ErrNoParams) {
		t.Fatal(err)
	}
	boom := errors.New("disk on fire")
	fs := failStore{c.st, boom}
	if _, err := c.m.ExecuteBlock(fs, c.appHash, c.header(), [][]byte{c.transfer(dev(t, "Alice"), 0, dev(t, "Bob").Public(), u(1))}); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if cr := c.m.CheckTx(fs, 1, c.transfer(dev(t, "Alice"), 0, dev(t, "Bob").Public(), u(1)), nil, nil); cr.Code != state.CodeInternal {
		t.Fatal(cr)
	}
}

// failStore fails every read except of the params.
type failStore struct {
	*state.MemStore
	err error
}

func (f failStore) Get(k []byte) ([]byte, error) {
	if string(k) == string(state.KeyParams) {
		return f.MemStore.Get(k)
	}
	return nil, f.err
}

func TestSigCache(t *testing.T) {
	cache := state.NewSigCache(2)
	c := newDevChain(t, state.WithSigCache(cache))
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	raw := c.transfer(alice, 0, bob.Public(), u(state.Unit))
	if cr := c.m.CheckTx(c.st, 1, raw, nil, nil); cr.Code != state.CodeOK || !cache.Contains(tx.Hash(raw)) {
		t.Fatal("valid signature not cached")
	}
	bad := append([]byte(nil), raw...)
	bad[len(bad)-3] ^= 1
	c.m.CheckTx(c.st, 1, bad, nil, nil)
	c.block(bad)
	if cache.Contains(tx.Hash(bad)) {
		t.Fatal("invalid signature cached")
	}
	// LRU eviction.
	cache.Add([32]byte{1})
	cache.Add([32]byte{2})
	if cache.Contains(tx.Hash(raw)) || cache.Len() != 2 {
		t.Fatal("not evicted")
	}
	cache.Contains([32]byte{1})
	cache.Add([32]byte{3})
	if !cache.Contains([32]byte{1}) || cache.Contains([32]byte{2}) {
		t.Fatal("wrong eviction order")
	}
	// Batch with one bad signature among many.
	c2 := newDevChain(t, state.WithSigCache(nil))
	var txs [][]byte
	for i, n := range state.DevAccountNames {
		r := c2.transfer(dev(t, n), 0, bob.Public(), u(state.Unit))
		if i == 3 {
			r[len(r)-1] ^= 0x01
		}
		txs = append(txs, r)
	}
	res := c2.block(txs...)
	for i, r := range res.TxResults {
		want := state.CodeOK
		if i == 3 {
			want = state.CodeBadSignature
		}
		if r.Code != want {
			t.Fatalf("tx %d: %s", i, state.CodeName(r.Code))
		}
	}
}

func TestCodeNames(t *testing.T) {
	seen := map[string]bool{}
	for code, name := range state.CodeNames {
		if seen[name] || state.CodeName(code) != name {
			t.Fatal(name)
		}
		seen[name] = true
		if state.Accepted(code) != (code == state.CodeOK || code >= 32) {
			t.Fatal(code)
		}
	}
	if state.CodeName(999) != "code_999" {
		t.Fatal(state.CodeName(999))
	}
}

// TestNonceSpaceEnd checks the top of the nonce space: 2^64-1 is an
// ordinary future nonce for an account that has not used the ones before
// it, and only an account whose nonce reached 2^64-1 has no nonce left.
func TestNonceSpaceEnd(t *testing.T) {
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	const top = math.MaxUint64
	for _, x := range []struct {
		name    string
		account uint64 // alice's nonce before the transaction
		nonce   uint64
		pending pendingMap
		code    uint32
		log     string
	}{
		{"fresh account, top nonce", 0, top, nil, state.CodeFutureNonce, "too far ahead"},
		{"one below top, top nonce", top - 1, top, nil, state.CodeFutureNonce, "too far ahead"},
		{"one below top, its nonce", top - 1, top - 1, nil, state.CodeOK, ""},
		{"exhausted, top nonce", top, top, nil, state.CodeStaleNonce, "exhausted"},
		{"exhausted, lower nonce", top, 5, nil, state.CodeStaleNonce, "already used"},
		{"pending up to top", top - 2, top, pendingMap{alice.Public(): top}, state.CodeOK, ""},
		{"pending, top nonce too far", top - 3, top, pendingMap{alice.Public(): top - 2}, state.CodeFutureNonce, "too far ahead"},
	} {
		t.Run(x.name, func(t *testing.T) {
			c := newDevChain(t)
			ov := state.NewOverlay(c.st)
			state.PutAccount(ov, state.AccountKey(alice.Public()), state.Account{Nonce: x.account, Free: u(1000 * state.Unit)})
			c.st.Apply(ov.WriteSet())
			raw := c.transfer(alice, x.nonce, bob.Public(), u(state.Unit))
			var pn state.PendingNonces
			if x.pending != nil {
				pn = x.pending
			}
			cr := c.m.CheckTx(c.st, c.height+1, raw, pn, nil)
			if cr.Code != x.code || !strings.Contains(cr.Log, x.log) {
				t.Fatalf("CheckTx: %s (%s), want %s (%q)", state.CodeName(cr.Code), cr.Log, state.CodeName(x.code), x.log)
			}
			if x.pending != nil {
				return
			}
			// A block judges it the same way, and the same on every node.
			r := c.block(raw).TxResults[0]
			if r.Code != x.code || !strings.Contains(r.Log, x.log) {
				t.Fatalf("block: %s (%s), want %s (%q)", state.CodeName(r.Code), r.Log, state.CodeName(x.code), x.log)
			}
			if got, want := c.account(alice.Public()).Nonce, x.account; x.code == state.CodeOK && got != want+1 || x.code != state.CodeOK && got != want {
				t.Fatalf("account nonce %d after %s (started at %d)", got, state.CodeName(r.Code), want)
			}
		})
	}
}

// ProposeBlock's result is exactly ExecuteBlock's on the transactions it
// kept: dropped ones (bad bytes, nonce gaps, over the byte limit) left no
// trace, and failed calls, validator changes and EndBlock hooks come out
// the same.
func TestProposeBlockMatchesExecuteBlock(t *testing.T) {
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	c := newDevChain(t)
	c.block(c.transfer(alice, 0, bob.Public(), u(state.Unit)))
	huge, _ := scale.U128From(state.Unit).Mul64(1 << 40)
	sp := func(n uint64, k [32]byte, p uint64) []byte {
		return tx.Sign(c.body(alice, n, validators.SetPowerCall(k, p)), alice).Encode()
	}
	cases := map[string][][]byte{
		"empty": nil,
		"mixed": {
			[]byte("not a transaction"),
			c.transfer(alice, 1, bob.Public(), u(state.Unit)),
			c.transfer(alice, 9, bob.Public(), u(1)), // nonce gap: dropped
			c.transfer(bob, 0, alice.Public(), huge), // call fails, fee paid
			sp(2, [32]byte{0x07}, 3),
			c.transfer(alice, 1, bob.Public(), u(2)), // nonce reused: dropped
			c.transfer(alice, 3, bob.Public(), u(5)),
		},
	}
	for name, txs := range cases {
		for _, maxBytes := range []int64{-1, 1 << 30, 3 * state.ProtoTxSize(len(c.transfer(alice, 1, bob.Public(), u(1))))} {
			kept, got, err := c.m.ProposeBlock(c.st, c.appHash, c.header(), txs, maxBytes)
			if err != nil {
				t.Fatalf("%s/%d: %v", name, maxBytes, err)
			}
			if want := c.m.ProposalTxs(c.st, c.header(), txs, maxBytes); !reflect.DeepEqual(kept, want) {
				t.Fatalf("%s/%d: kept %d, ProposalTxs keeps %d", name, maxBytes, len(kept), len(want))
			}
			want, err := c.m.ExecuteBlock(c.st, c.appHash, c.header(), kept)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s/%d: ProposeBlock\n%+v\nExecuteBlock\n%+v", name, maxBytes, got, want)
			}
			if name == "mixed" && maxBytes == 1<<30 && (len(kept) != 4 || len(got.ValidatorUpdates) != 1 || got.TxResults[1].Code == state.CodeOK) {
				t.Fatalf("case does not cover what it should: kept %d, updates %v, results %+v", len(kept), got.ValidatorUpdates, got.TxResults)
			}
		}
	}
	h := c.header()
	h.AppVersion = 99
	if _, res, err := c.m.ProposeBlock(c.st, c.appHash, h, nil, -1); !errors.Is(err, state.ErrUnsupportedAppVersion) || res != nil {
		t.Fatal(err)
	}
}
