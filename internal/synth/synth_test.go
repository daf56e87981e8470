package synth_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
)

// TestBuildFails: Build stops at the first transaction that is not
// executed with CodeOK, and refuses power changes without an admin.
func TestBuildFails(t *testing.T) {
	c, err := synth.New(synth.Config{Validators: synth.Validators(3)})
	if err != nil {
		t.Fatal(err)
	}
	pairs := synth.DevPairs()
	err = c.Build(5, synth.Plan{Txs: func(h int64) ([][]byte, error) {
		amount := state.Unit
		if h == 3 {
			amount = 1 << 62 // more than Alice has: fails in the call
		}
		tr, err := c.Transfer(pairs[0], pairs[1].Public(), amount)
		return [][]byte{tr}, err
	}})
	if !errors.Is(err, synth.ErrTxFailed) || c.Height() != 3 {
		t.Fatalf("got %v at height %d, want ErrTxFailed at 3", err, c.Height())
	}
	err = c.Build(1, synth.Plan{Changes: []synth.PowerChange{{At: 4, Validator: synth.NewValidator("x"), Power: 1}}})
	if err == nil || c.Height() != 3 {
		t.Fatalf("power changes without an admin: %v at height %d", err, c.Height())
	}
}

func TestChain(t *testing.T) {
	vals := synth.Validators(3)
	extra := synth.NewValidator("late")
	c, err := synth.New(synth.Config{Validators: vals, Extra: []*synth.Validator{extra}})
	if err != nil {
		t.Fatal(err)
	}
	pairs := synth.DevPairs()
	if err := c.Build(10, synth.Plan{
		Txs: func(int64) ([][]byte, error) {
			tr, err := c.Transfer(pairs[0], pairs[1].Public(), state.Unit)
			return [][]byte{tr}, err
		},
		Admin:   pairs[2],
		Changes: []synth.PowerChange{{At: 4, Validator: extra, Power: 5}},
	}); err != nil {
		t.Fatal(err)
	}
	if len(c.Block(4).ValidatorUpdates) != 1 {
		t.Fatal("no validator update at 4")
	}
	// Effective at H+2: header 5 announces, header 6 is signed by the new set.
	h4, h5, h6 := c.Header(4), c.Header(5), c.Header(6)
	if !bytes.Equal(h4.NextValidatorsHash, h4.ValidatorsHash) || bytes.Equal(h5.NextValidatorsHash, h5.ValidatorsHash) ||
		!bytes.Equal(h6.ValidatorsHash, h5.NextValidatorsHash) || c.ValidatorSet(6).Size() != 4 {
		t.Fatal("validator change is not effective at H+2")
	}
	for h := int64(1); h <= c.Height(); h++ {
		hd := c.Header(h)
		if err := hd.ValidateBasic(); err != nil {
			t.Fatalf("header %d: %v", h, err)
		}
		if want := c.Record(h - 1).AppHash; !bytes.Equal(hd.AppHash, want[:]) {
			t.Fatalf("header %d carries the wrong AppHash", h)
		}
		if h > 1 && !bytes.Equal(hd.LastBlockID.Hash, c.Header(h-1).Hash()) {
			t.Fatalf("header %d is not linked", h)
		}
		if !hd.Time.Equal(synth.DefaultGenesisTime.Add(time.Duration(h-1) * time.Second)) {
			t.Fatalf("header %d time %s", h, hd.Time)
		}
		cm := c.Commit(h)
		if err := c.ValidatorSet(h).VerifyCommitLightAllSignatures(c.Genesis().ChainID, cm.BlockID, h, cm); err != nil {
			t.Fatalf("commit %d: %v", h, err)
		}
		if !bytes.Equal(c.ValidatorSet(h).Hash(), hd.ValidatorsHash) {
			t.Fatalf("validator set %d", h)
		}
	}
	// Faulty commits.
	bad, err := c.SignCommit(8, synth.Fault{WrongKey: []int{0}})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.ValidatorSet(8).VerifyCommitLightAllSignatures(c.Genesis().ChainID, bad.BlockID, 8, bad); err == nil {
		t.Fatal("a wrong-key signature verified")
	}
	// Batch copies are deep.
	b, err := c.Batch(2, 4)
	if err != nil {
		t.Fatal(err)
	}
	b.Headers[0].AppHash[0] ^= 1
	b.Records[0].WriteSet[0].Value[0] ^= 1
	b.Commit.Signatures[0].Signature[0] ^= 1
	if c.Header(2).AppHash[0] == b.Headers[0].AppHash[0] || c.Record(2).WriteSet[0].Value[0] == b.Records[0].WriteSet[0].Value[0] ||
		c.Commit(4).Signatures[0].Signature[0] == b.Commit.Signatures[0].Signature[0] {
		t.Fatal("Batch shares memory with the chain")
	}
	bs, err := c.Batches(1, 10, 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(bs) != 2 || bs[0].Headers[len(bs[0].Headers)-1].Height != 5 || bs[1].Validators == nil {
		t.Fatalf("batches must split at the change: %d", len(bs))
	}
	// The store is the state machine's.
	a, err := state.GetAccount(c.Store(), pairs[1].Public())
	if err != nil || a.Free.Cmp(state.DevBalance) <= 0 {
		t.Fatal("transfers not applied", err)
	}
}
