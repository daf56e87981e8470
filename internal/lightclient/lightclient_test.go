package lightclient_test

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/lightclient"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
)

// testChain builds a chain of n blocks with one transfer each and four
// validators; a fifth joins through the block at height 20 (signing from
// height 22) and val-0 leaves through the block at 40 (from 42).
func testChain(t testing.TB, n int, hook func(*types.Header)) (*synth.Chain, []*synth.Validator) {
	t.Helper()
	vals := synth.Validators(5)
	c, err := synth.New(synth.Config{Validators: vals[:4], Extra: vals[4:], HeaderHook: hook})
	if err != nil {
		t.Fatal(err)
	}
	pairs := synth.DevPairs()
	if err := c.Build(n, synth.Plan{
		Txs: func(h int64) ([][]byte, error) {
			tr, err := c.Transfer(pairs[h%3], pairs[3].Public(), state.Unit)
			return [][]byte{tr}, err
		},
		Admin:   pairs[4],
		Changes: []synth.PowerChange{{At: 20, Validator: vals[4], Power: 10}, {At: 40, Validator: vals[0], Power: 0}},
	}); err != nil {
		t.Fatal(err)
	}
	return c, vals
}

func lcBatch(b synth.Batch) lightclient.Batch {
	return lightclient.Batch{Headers: b.Headers, Commit: b.Commit, Validators: b.Validators}
}

func batch(t testing.TB, c *synth.Chain, from, to int64) lightclient.Batch {
	t.Helper()
	b, err := c.Batch(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return lcBatch(b)
}

func genesisState(t testing.TB, c *synth.Chain) lightclient.State {
	t.Helper()
	s, err := lightclient.FromGenesis(c.Genesis(), state.AppVersion1)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// syncTo verifies 1..to in batches of at most size headers.
func syncTo(t testing.TB, c *synth.Chain, s lightclient.State, to int64, size int) lightclient.State {
	t.Helper()
	bs, err := c.Batches(s.Height()+1, to, size)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if s, err = s.Verify(lcBatch(b)); err != nil {
			t.Fatalf("batch %d..%d: %v", b.Headers[0].Height, b.Headers[len(b.Headers)-1].Height, err)
		}
	}
	return s
}

func TestHappyPath(t *testing.T) {
	c, _ := testChain(t, 60, nil)
	if bytes.Equal(c.Header(21).NextValidatorsHash, c.Header(21).ValidatorsHash) || !bytes.Equal(c.Header(22).ValidatorsHash, c.Header(21).NextValidatorsHash) {
		t.Fatal("validator change not effective at H+2")
	}
	for _, size := range []int{1, 7, 100} {
		s := syncTo(t, c, genesisState(t, c), 60, size)
		if s.Height() != 60 || !s.BlockID().Equals(c.Block(60).BlockID) || !s.Time().Equal(c.Header(60).Time) {
			t.Fatalf("size %d: state %d %v", size, s.Height(), s.BlockID())
		}
		if !bytes.Equal(s.NextValidatorsHash(), c.Header(60).NextValidatorsHash) || s.NextValidators() == nil {
			t.Fatal("next validators")
		}
		if s.NextValidators().Size() != 4 {
			t.Fatalf("want 4 validators at the end, have %d", s.NextValidators().Size())
		}
	}
}

func TestGenesisSets(t *testing.T) {
	c, _ := testChain(t, 1, nil)
	a, err := lightclient.GenesisValidatorSet(c.Genesis())
	if err != nil {
		t.Fatal(err)
	}
	b, err := lightclient.GenesisDocValidatorSet(c.GenesisDoc())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Hash(), b.Hash()) || !bytes.Equal(a.Hash(), c.Header(1).ValidatorsHash) {
		t.Fatal("genesis validator set hashes differ")
	}
	if _, err := lightclient.GenesisDocValidatorSet(&types.GenesisDoc{}); !errors.Is(err, lightclient.ErrMalformedValidatorSet) {
		t.Fatal(err)
	}
	if _, err := lightclient.New("", a, 1, 1); !errors.Is(err, lightclient.ErrWrongChainID) {
		t.Fatal(err)
	}
}

// TestValidatorSetChangeBatches checks the batch rules around a change.
func TestValidatorSetChangeBatches(t *testing.T) {
	c, _ := testChain(t, 30, nil)
	s := syncTo(t, c, genesisState(t, c), 15, 100)
	if _, err := s.Verify(batch(t, c, 16, 25)); !errors.Is(err, lightclient.ErrValidatorSetChange) {
		t.Fatalf("batch across a change: %v", err)
	}
	s, err := s.Verify(batch(t, c, 16, 21))
	if err != nil {
		t.Fatal(err)
	}
	if s.NextValidators() != nil {
		t.Fatal("a changed set must not be known before it is provided")
	}
	b := batch(t, c, 22, 30)
	if b.Validators == nil {
		t.Fatal("synth must provide the new set")
	}
	newSet := b.Validators
	b.Validators = nil
	if _, err := s.Verify(b); !errors.Is(err, lightclient.ErrMissingValidatorSet) {
		t.Fatalf("missing set: %v", err)
	}
	b.Validators = c.ValidatorSet(1) // the old set
	if _, err := s.Verify(b); !errors.Is(err, lightclient.ErrWrongValidatorSet) {
		t.Fatalf("old set: %v", err)
	}
	b.Validators = newSet
	if s, err = s.Verify(b); err != nil || s.Height() != 30 {
		t.Fatal(err)
	}
}

// TestAdversarial feeds bad batches; each must fail with its error, and the
// honest batch must still verify afterwards (State is a value).
func TestAdversarial(t *testing.T) {
	c, vals := testChain(t, 30, nil)
	s0 := syncTo(t, c, genesisState(t, c), 10, 100)
	enc0 := s0.Encode()
	honest := func() lightclient.Batch { return batch(t, c, 11, 20) }

	other, err := synth.New(synth.Config{ChainID: "other-chain", Validators: vals[:4]})
	if err != nil {
		t.Fatal(err)
	}
	if err := other.AddBlocks(20, nil); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name string
		err  error
		mod  func(b *lightclient.Batch)
	}{
		{"empty batch", lightclient.ErrEmptyBatch, func(b *lightclient.Batch) { b.Headers = nil }},
		{"nil header", lightclient.ErrMalformedHeader, func(b *lightclient.Batch) { b.Headers[3] = nil }},
		{"wrong chain id", lightclient.ErrWrongChainID, func(b *lightclient.Batch) { b.Headers[0].ChainID = "other-chain" }},
		{"other chain", lightclient.ErrWrongChainID, func(b *lightclient.Batch) { *b = batch(t, other, 11, 20) }},
		{"replayed batch", lightclient.ErrReplayedBatch, func(b *lightclient.Batch) { *b = batch(t, c, 5, 10) }},
		{"overlapping batch", lightclient.ErrReplayedBatch, func(b *lightclient.Batch) { *b = batch(t, c, 10, 15) }},
		{"skipped block", lightclient.ErrHeightGap, func(b *lightclient.Batch) { *b = batch(t, c, 12, 20) }},
		{"skipped block inside", lightclient.ErrHeightGap, func(b *lightclient.Batch) {
			b.Headers = append(b.Headers[:4:4], b.Headers[5:]...)
		}},
		{"reordered headers", lightclient.ErrHeightGap, func(b *lightclient.Batch) { b.Headers[2], b.Headers[3] = b.Headers[3], b.Headers[2] }},
		{"block protocol", lightclient.ErrBlockProtocol, func(b *lightclient.Batch) { b.Headers[1].Version.Block++ }},
		{"malformed header", lightclient.ErrMalformedHeader, func(b *lightclient.Batch) { b.Headers[1].ProposerAddress = []byte{1} }},
		{"time out of range", lightclient.ErrMalformedHeader, func(b *lightclient.Batch) {
			b.Headers[9].Time = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		}},
		{"broken link first", lightclient.ErrBrokenLink, func(b *lightclient.Batch) { b.Headers[0].LastBlockID.PartSetHeader.Total++ }},
		{"broken link inside", lightclient.ErrBrokenLink, func(b *lightclient.Batch) { b.Headers[4].LastBlockID.Hash[0] ^= 1 }},
		{"tampered header", lightclient.ErrBrokenLink, func(b *lightclient.Batch) { b.Headers[4].AppHash[0] ^= 1 }},
		{"tampered last header", lightclient.ErrCommitMismatch, func(b *lightclient.Batch) { b.Headers[9].AppHash[0] ^= 1 }},
		{"non-monotonic time", lightclient.ErrNonMonotonicTime, func(b *lightclient.Batch) { b.Headers[5].Time = b.Headers[4].Time }},
		{"wrong validators hash", lightclient.ErrWrongValidatorSet, func(b *lightclient.Batch) {
			b.Headers[0].ValidatorsHash = bytes.Repeat([]byte{7}, 32)
		}},
		{"wrong validator set", lightclient.ErrWrongValidatorSet, func(b *lightclient.Batch) {
			b.Validators = types.NewValidatorSet([]*types.Validator{types.NewValidator(vals[4].PubKey(), 10)})
		}},
		{"malformed validator set", lightclient.ErrMalformedValidatorSet, func(b *lightclient.Batch) {
			vs := c.ValidatorSet(11)
			vs.Validators[0].VotingPower = 0
			b.Validators = vs
		}},
		{"no commit", lightclient.ErrMalformedCommit, func(b *lightclient.Batch) { b.Commit = nil }},
		{"commit of another height", lightclient.ErrCommitMismatch, func(b *lightclient.Batch) { b.Commit = c.Commit(19) }},
		{"commit signature count", lightclient.ErrInvalidCommit, func(b *lightclient.Batch) { b.Commit.Signatures = b.Commit.Signatures[:3] }},
		{"commit address", lightclient.ErrInvalidCommit, func(b *lightclient.Batch) {
			b.Commit.Signatures[0].ValidatorAddress = b.Commit.Signatures[1].ValidatorAddress
		}},
		{"malformed commit", lightclient.ErrMalformedCommit, func(b *lightclient.Batch) { b.Commit.Signatures[0].Signature = nil }},
		{"commit timestamp out of range", lightclient.ErrMalformedCommit, func(b *lightclient.Batch) {
			b.Commit.Signatures[0].Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		}},
		{"wrong key", lightclient.ErrBadSignature, func(b *lightclient.Batch) { b.Commit = signed(t, c, 20, synth.Fault{WrongKey: []int{0, 1, 2, 3}}) }},
		{"one wrong key among the first three", lightclient.ErrBadSignature, func(b *lightclient.Batch) { b.Commit = signed(t, c, 20, synth.Fault{WrongKey: []int{1}}) }},
		{"signed for another chain", lightclient.ErrBadSignature, func(b *lightclient.Batch) { b.Commit = signed(t, c, 20, synth.Fault{ChainID: "other-chain"}) }},
		{"signed for another height", lightclient.ErrBadSignature, func(b *lightclient.Batch) { b.Commit = signed(t, c, 20, synth.Fault{VoteHeight: 19}) }},
		{"flipped signature bit", lightclient.ErrBadSignature, func(b *lightclient.Batch) { b.Commit.Signatures[2].Signature[5] ^= 1 }},
		{"too little power", lightclient.ErrInsufficientVotingPower, func(b *lightclient.Batch) { b.Commit = signed(t, c, 20, synth.Fault{Absent: []int{0, 3}}) }},
		{"half the power", lightclient.ErrInsufficientVotingPower, func(b *lightclient.Batch) { b.Commit = signed(t, c, 20, synth.Fault{Absent: []int{2}, Nil: []int{0}}) }},
		{"nil votes", lightclient.ErrInsufficientVotingPower, func(b *lightclient.Batch) { b.Commit = signed(t, c, 20, synth.Fault{Nil: []int{0, 1}}) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := honest()
			tc.mod(&b)
			next, err := s0.Verify(b)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if !bytes.Equal(next.Encode(), enc0) || !bytes.Equal(s0.Encode(), enc0) {
				t.Fatal("a failed batch changed the state")
			}
		})
	}
	if s, err := s0.Verify(honest()); err != nil || s.Height() != 20 {
		t.Fatalf("honest batch after the attacks: %v", err)
	}
}

func signed(t testing.TB, c *synth.Chain, h int64, f synth.Fault) *types.Commit {
	t.Helper()
	cm, err := c.SignCommit(h, f)
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

// TestSignedFaults covers faults that validators signed (a dishonest
// majority, or a chain upgrade): the commit verifies, the header rules do not.
func TestSignedFaults(t *testing.T) {
	t.Run("non-monotonic time", func(t *testing.T) {
		var t14 time.Time
		c, _ := testChain(t, 20, func(h *types.Header) {
			switch h.Height {
			case 14:
				t14 = h.Time
			case 15:
				h.Time = t14
			}
		})
		s := syncTo(t, c, genesisState(t, c), 10, 100)
		if _, err := s.Verify(batch(t, c, 11, 20)); !errors.Is(err, lightclient.ErrNonMonotonicTime) {
			t.Fatal(err)
		}
	})
	t.Run("time going back at a batch start", func(t *testing.T) {
		c, _ := testChain(t, 20, func(h *types.Header) {
			if h.Height == 11 {
				h.Time = h.Time.Add(-time.Hour)
			}
		})
		s := syncTo(t, c, genesisState(t, c), 10, 100)
		if _, err := s.Verify(batch(t, c, 11, 20)); !errors.Is(err, lightclient.ErrNonMonotonicTime) {
			t.Fatal(err)
		}
	})
	t.Run("wrong validators hash", func(t *testing.T) {
		c, _ := testChain(t, 20, func(h *types.Header) {
			if h.Height == 15 {
				h.NextValidatorsHash = bytes.Repeat([]byte{9}, 32)
			}
		})
		s := syncTo(t, c, genesisState(t, c), 10, 100)
		// Header 15 announces a set nobody can provide: 16 does not match it.
		if _, err := s.Verify(batch(t, c, 11, 20)); !errors.Is(err, lightclient.ErrValidatorSetChange) {
			t.Fatal(err)
		}
		s, err := s.Verify(batch(t, c, 11, 15))
		if err != nil {
			t.Fatal(err)
		}
		b := batch(t, c, 16, 20)
		b.Validators = c.ValidatorSet(16)
		if _, err := s.Verify(b); !errors.Is(err, lightclient.ErrWrongValidatorSet) {
			t.Fatal(err)
		}
	})
	t.Run("newer app version", func(t *testing.T) {
		c, _ := testChain(t, 20, func(h *types.Header) {
			if h.Height >= 15 {
				h.Version.App = 2
			}
		})
		s := syncTo(t, c, genesisState(t, c), 10, 100)
		_, err := s.Verify(batch(t, c, 11, 20))
		if !errors.Is(err, lightclient.ErrNewerAppVersion) || !lightclient.IsStop(err) {
			t.Fatal(err)
		}
		if s, err = s.Verify(batch(t, c, 11, 14)); err != nil || s.AppVersion() != 1 {
			t.Fatalf("the blocks before the upgrade: %v", err)
		}
		// The same chain, for a build that supports version 2.
		s2, err := lightclient.FromGenesis(c.Genesis(), 2)
		if err != nil {
			t.Fatal(err)
		}
		if s2 = syncTo(t, c, s2, 20, 7); s2.AppVersion() != 2 {
			t.Fatal("app version")
		}
	})
	t.Run("forged newer app version", func(t *testing.T) {
		c, _ := testChain(t, 20, nil)
		s := syncTo(t, c, genesisState(t, c), 10, 100)
		b := batch(t, c, 11, 20)
		b.Headers[9].Version.App = 2 // not signed: must not make the client stop
		if _, err := s.Verify(b); !errors.Is(err, lightclient.ErrCommitMismatch) {
			t.Fatal(err)
		}
		// Signed by keys that are not the validators'.
		b.Commit = c.SignHeader(b.Headers[9], c.ValidatorSet(20), synth.Fault{WrongKey: []int{0, 1, 2, 3}})
		if _, err := s.Verify(b); !errors.Is(err, lightclient.ErrBadSignature) {
			t.Fatal(err)
		}
		// Re-signed by the real validators (a dishonest majority): an
		// upgrade as far as the client can tell.
		b.Commit = c.SignHeader(b.Headers[9], c.ValidatorSet(20), synth.Fault{})
		if _, err := s.Verify(b); !errors.Is(err, lightclient.ErrNewerAppVersion) {
			t.Fatal(err)
		}
	})
}

func TestCommitPowerThreshold(t *testing.T) {
	vals := synth.Validators(3)
	c, err := synth.New(synth.Config{Validators: vals})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddBlocks(3, nil); err != nil {
		t.Fatal(err)
	}
	s := genesisState(t, c)
	b := batch(t, c, 1, 3)
	b.Commit = signed(t, c, 3, synth.Fault{Absent: []int{1}}) // exactly 2/3
	if _, err := s.Verify(b); !errors.Is(err, lightclient.ErrInsufficientVotingPower) {
		t.Fatal(err)
	}
	b.Commit = signed(t, c, 3, synth.Fault{Round: 2})
	if _, err := s.Verify(b); err != nil {
		t.Fatalf("a commit of a later round: %v", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	c, _ := testChain(t, 30, nil)
	s := genesisState(t, c)
	for _, to := range []int64{0, 10, 21, 30} {
		s = syncTo(t, c, s, to, 100)
		enc := s.Encode()
		d, err := lightclient.DecodeState(scale.NewReader(enc), state.AppVersion1)
		if err != nil {
			t.Fatalf("at %d: %v", to, err)
		}
		if !bytes.Equal(d.Encode(), enc) {
			t.Fatalf("at %d: round trip differs", to)
		}
		if to == 21 && d.NextValidators() != nil {
			t.Fatal("unknown set restored as known")
		}
		if to < 30 {
			bs, err := c.Batches(to+1, 30, 100)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				if d, err = d.Verify(lcBatch(b)); err != nil {
					t.Fatalf("continuing from a decoded state at %d: %v", to, err)
				}
			}
		}
		for i := 0; i < len(enc); i++ {
			if _, err := lightclient.DecodeState(scale.NewReader(enc[:i]), 1); !errors.Is(err, lightclient.ErrCorruptState) {
				t.Fatalf("truncated at %d: %v", i, err)
			}
		}
	}
}

func TestOneAndManyValidators(t *testing.T) {
	for _, n := range []int{1, 100} {
		c, err := synth.New(synth.Config{Validators: synth.Validators(n)})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.AddBlocks(12, nil); err != nil {
			t.Fatal(err)
		}
		s := syncTo(t, c, genesisState(t, c), 12, 5)
		if s.Height() != 12 {
			t.Fatal(s.Height())
		}
	}
}
