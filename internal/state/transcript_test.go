package state_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tx"
)

// TestGoldenTranscript runs a scripted chain and pins every block's AppHash
// (and a summary of its results) in testdata/transcript.golden. Any change to
// a consensus format (tx encoding, fees, weights, storage keys, write-set or
// AppHash rules, genesis) shows up here. Signatures are randomized, but no
// result depends on signature bytes, so the transcript is stable.
func TestGoldenTranscript(t *testing.T) {
	g := state.DevGenesis("cella-golden", goldenValidators())
	g.App.Registry.AllowMeasurement(registry.MeasurementHash(testMeasurement))
	c := newChain(t, g, state.WithAttestationVerifier(testVerifier{devLikeVerifier{root: state.DevAttestationRoot()}}))
	alice, bob, charlie, dave, eve, ferdie := dev(t, "Alice"), dev(t, "Bob"), dev(t, "Charlie"), dev(t, "Dave"), dev(t, "Eve"), dev(t, "Ferdie")
	fresh, err := keys.FromURI("//Fresh")
	if err != nil {
		t.Fatal(err)
	}
	ed := state.DefaultParams().ExistentialDeposit
	var b strings.Builder
	gh := c.m.GenesisHash()
	fmt.Fprintf(&b, "genesis_hash %s\n", hexs(gh[:]))
	fmt.Fprintf(&b, "height 0 app_hash %s\n", hexs(c.appHash[:]))
	record := func(res *state.BlockResult) {
		codes := make([]string, len(res.TxResults))
		for i, r := range res.TxResults {
			codes[i] = fmt.Sprintf("%s/%s", state.CodeName(r.Code), r.Fee)
		}
		root := state.WriteSetRoot(res.WriteSet)
		vals := make([]string, len(res.ValidatorUpdates))
		for i, v := range res.ValidatorUpdates {
			vals[i] = fmt.Sprintf("%s:%d", hexs(v.PubKey[:4]), v.Power)
		}
		mroot := state.MessagesRoot(res.Messages)
		fmt.Fprintf(&b, "height %d app_hash %s writes %d ws_root %s msgs %d msg_root %s val_updates [%s] txs [%s]\n",
			c.height, hexs(res.AppHash[:]), len(res.WriteSet), hexs(root[:]), len(res.Messages), hexs(mroot[:]), strings.Join(vals, " "), strings.Join(codes, " "))
	}
	badSig := c.transfer(eve, 0, bob.Public(), u(state.Unit))
	badSig[len(badSig)-2] ^= 1

	// 1: plain transfers.
	record(c.block(
		c.transfer(alice, 0, bob.Public(), u(5*state.Unit)),
		c.transfer(bob, 0, charlie.Public(), u(state.Unit)),
		c.transfer(alice, 1, charlie.Public(), u(3*state.Unit)),
	))
	// 2: empty block: AppHash unchanged.
	record(c.block())
	// 3: failures: call failures pay fees, rejections do nothing.
	record(c.block(
		c.transfer(alice, 2, bob.Public(), add(t, state.DevBalance, u(1))), // insufficient balance
		badSig, // bad signature
		c.transfer(dave, 0, fresh.Public(), u(1)),             // below ED
		c.transfer(eve, 0, fresh.Public(), ed),                // creates Fresh with exactly ED
		c.transfer(eve, 5, bob.Public(), u(state.Unit)),       // future nonce
		[]byte("garbage"),                                     // malformed
		c.transfer(ferdie, 0, ferdie.Public(), u(state.Unit)), // self transfer
	))
	// 4: a block of only rejected transactions: AppHash unchanged.
	record(c.block(badSig, c.transfer(alice, 0, bob.Public(), u(1))))
	// 5: validator change.
	record(c.block(
		tx.Sign(c.body(alice, 3, validators.SetPowerCall([32]byte{0x01}, 7)), alice).Encode(),
		tx.Sign(c.body(alice, 4, validators.SetPowerCall(goldenValidators()[0].PubKey, 3)), alice).Encode(),
	))
	// 6: the new account spends, a validator is removed.
	record(c.block(
		c.transfer(fresh, 0, alice.Public(), u(1)),
		tx.Sign(c.body(bob, 1, validators.SetPowerCall([32]byte{0x01}, 0)), bob).Encode(),
	))
	// 7: a worker registers with a dev attestation; a second registration
	// attests an unknown measurement (call failure).
	worker, rogue := dev(t, "Worker1"), dev(t, "Worker2")
	info := c.regInfo(worker, alice.Public())
	rogueInfo := c.regInfo(rogue, bob.Public())
	record(c.block(
		c.register(alice, 5, info, devAtt(t, info)),
		c.register(bob, 2, rogueInfo, msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(devRoot(t), []byte("rogue"), rogueInfo.ReportData())}),
	))
	// 8: two egress messages relayed by Charlie; a replay and a gap are rejected.
	record(c.block(
		c.submit(charlie, 0, egress(worker, 0, "egress-0")),
		c.submit(charlie, 1, egress(worker, 1, "egress-1")),
		c.submit(charlie, 2, egress(worker, 0, "egress-0")),
		c.submit(charlie, 2, egress(worker, 5, "egress-5")),
	))
	// 9: the worker re-registers (new pRuntime version) and sends again.
	upd := c.regInfo(worker, alice.Public())
	upd.PRuntimeVersion = msg.PRuntimeVersion{Major: 0, Minor: 2, Patch: 0}
	record(c.block(
		c.register(alice, 6, upd, devAtt(t, upd)),
		c.submit(charlie, 2, egress(worker, 2, "egress-2")),
	))
	fmt.Fprintf(&b, "issuance %s treasury %s\n", totalIssuance(t, c.st), c.free(state.TreasuryAccount))
	golden(t, "transcript.golden", b.String())
}
