package chainsync_test

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/synth"
)

// TestHappyPath syncs a chain of 300 blocks with transfers, messages and two
// validator-set changes, and compares the result with the state machine's
// store (a differential check).
func TestHappyPath(t *testing.T) {
	c := buildChain(t, chainOpts{blocks: 300, transfers: 3, joinAt: 100, leaveAt: 200, messageEach: 7})
	if _, err := c.AddBlock(); err != nil { // an empty block confirms block 300
		t.Fatal(err)
	}
	s := newSyncer(t, c)
	if s.Height() != 0 || s.AppHash() != c.Record(0).AppHash {
		t.Fatal("genesis state")
	}
	syncTo(t, c, s, 301, 50)
	if err := sameStore(s.Dump(), c.Store().Dump()); err != nil {
		t.Fatalf("store differs from the state machine's: %v", err)
	}
	v, err := s.Store().Get(state.KeyValidators)
	if err != nil || v == nil {
		t.Fatal("validators key", err)
	}
	if s.QueuedBlocks() != 300 {
		t.Fatalf("%d blocks queued, want 300", s.QueuedBlocks())
	}
	blocks := s.DrainBlocks()
	type posMsg struct {
		h int64
		i int
		m msg.Message
	}
	var got, want []posMsg
	for i, b := range blocks {
		if b.Height != int64(i+1) {
			t.Fatalf("block %d has height %d", i, b.Height)
		}
		hdr := c.Header(b.Height)
		if b.TimeUnixNano != hdr.Time.UnixNano() || b.AppVersion != hdr.Version.App {
			t.Fatalf("block %d: time %d app version %d, header has %d and %d", b.Height, b.TimeUnixNano, b.AppVersion, hdr.Time.UnixNano(), hdr.Version.App)
		}
		for j, m := range b.Messages {
			got = append(got, posMsg{b.Height, j, m})
		}
	}
	for h := int64(7); h <= 300; h += 7 {
		for i, m := range testMessages(h) {
			want = append(want, posMsg{h, i, m})
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d messages, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i].h != want[i].h || got[i].i != want[i].i || !bytes.Equal(got[i].m.Payload, want[i].m.Payload) {
			t.Fatalf("message %d: %+v, want %+v", i, got[i], want[i])
		}
	}
	if s.QueuedBlocks() != 0 || len(s.DrainBlocks()) != 0 {
		t.Fatal("drain must empty the queue")
	}
}

// TestBlockViews checks that each drained block's State is the verified
// state right after that block, whatever the batch size: a syncer fed one
// block at a time gives the reference state at each height.
func TestBlockViews(t *testing.T) {
	c := buildChain(t, chainOpts{blocks: 30, transfers: 3, joinAt: 12, messageEach: 4})
	ref := newSyncer(t, c)
	dumps := map[int64]map[string][]byte{}
	keys := map[string]bool{}
	for h := int64(1); h <= 30; h++ {
		syncTo(t, c, ref, h, 1)
		ref.DrainBlocks()
		d := map[string][]byte{}
		for _, kv := range ref.Dump() {
			d[string(kv.Key)] = kv.Value
			keys[string(kv.Key)] = true
		}
		dumps[h-1] = d
	}
	s := newSyncer(t, c)
	syncTo(t, c, s, 18, 7)
	syncTo(t, c, s, 30, 100)
	blocks := s.DrainBlocks()
	if len(blocks) != 29 {
		t.Fatalf("%d blocks, want 29", len(blocks))
	}
	for _, b := range blocks {
		for k := range keys {
			v, err := b.State.Get([]byte(k))
			if err != nil {
				t.Fatal(err)
			}
			if w := dumps[b.Height][k]; !bytes.Equal(v, w) || (v == nil) != (w == nil) {
				t.Fatalf("block %d, key %q: %x, want %x", b.Height, k, v, w)
			}
		}
	}
	// Block views survive a snapshot and restore of the undrained queue.
	s2 := newSyncer(t, c)
	syncTo(t, c, s2, 10, 4)
	s2.DrainBlocks()
	syncTo(t, c, s2, 20, 4)
	r, err := chainsync.Restore(s2.Snapshot(), c.GenesisHash(), state.AppVersion1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range r.DrainBlocks() {
		for k := range keys {
			v, _ := b.State.Get([]byte(k))
			if !bytes.Equal(v, dumps[b.Height][k]) {
				t.Fatalf("restored block %d, key %q differs", b.Height, k)
			}
		}
	}
	// A view read after the next batch is refused.
	stale := blocks[0].State
	if _, err := c.AddBlock(); err != nil {
		t.Fatal(err)
	}
	syncTo(t, c, s, 31, 1)
	if _, err := stale.Get(state.KeyValidators); !errors.Is(err, chainsync.ErrStaleView) {
		t.Fatalf("stale view: %v", err)
	}
}

// TestAdversarial is the pRuntime-side part of issue 4's bad-input suite:
// every case fails with its specific error and leaves the state (its
// snapshot bytes) unchanged; the honest batch then still applies.
func TestAdversarial(t *testing.T) {
	c := buildChain(t, chainOpts{blocks: 40, transfers: 2, joinAt: 25, messageEach: 3})
	s := newSyncer(t, c)
	syncTo(t, c, s, 10, 100)
	snap := s.Snapshot()
	honest := func() chainsync.Batch { return batch(t, c, 11, 20) }

	other := buildChain(t, chainOpts{blocks: 20, chainID: "other-chain"})
	otherGenesis := buildChain(t, chainOpts{blocks: 20, genesis: func(g *state.Genesis) { g.App.Balances = g.App.Balances[:5] }})
	badHash := buildChain(t, chainOpts{blocks: 20, transfers: 2, messageEach: 3, hook: func(h *types.Header) {
		if h.Height == 15 {
			h.AppHash[0] ^= 1
		}
	}})
	newer := buildChain(t, chainOpts{blocks: 20, transfers: 2, messageEach: 3, hook: func(h *types.Header) {
		if h.Height >= 18 {
			h.Version.App = 2
		}
	}})
	// msgHeight is a block of 11..19 with messages; wsHeight one with writes.
	const msgHeight, wsHeight = 15, 13

	cases := []struct {
		name string
		err  error
		mod  func(b *chainsync.Batch)
	}{
		// The commit.
		{"commit signed by a wrong key", chainsync.ErrBadSignature, func(b *chainsync.Batch) {
			b.Commit = signed(t, c, 20, synth.Fault{WrongKey: []int{0, 1, 2, 3}})
		}},
		{"commit signed by one wrong key", chainsync.ErrBadSignature, func(b *chainsync.Batch) { b.Commit = signed(t, c, 20, synth.Fault{WrongKey: []int{2}}) }},
		{"too little voting power", chainsync.ErrInsufficientVotingPower, func(b *chainsync.Batch) { b.Commit = signed(t, c, 20, synth.Fault{Absent: []int{1, 2}}) }},
		{"commit for another block", chainsync.ErrCommitMismatch, func(b *chainsync.Batch) { b.Commit = c.Commit(21) }},
		// Block contents.
		{"tampered write value", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			w := &b.Records[wsHeight-11].WriteSet[0]
			w.Value = append(w.Value, 1)
		}},
		{"tampered write key", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			ws := b.Records[wsHeight-11].WriteSet
			ws[len(ws)-1].Key = append(ws[len(ws)-1].Key, 0)
		}},
		{"write turned into a delete", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			w := &b.Records[wsHeight-11].WriteSet[0]
			w.Delete, w.Value = true, nil
		}},
		{"dropped write", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			r := b.Records[wsHeight-11]
			r.WriteSet = r.WriteSet[1:]
		}},
		{"extra write", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			r := b.Records[wsHeight-11]
			r.WriteSet = append(r.WriteSet, state.Write{Key: []byte("zzz"), Value: []byte("free money")})
		}},
		{"unsorted write-set", chainsync.ErrMalformedRecord, func(b *chainsync.Batch) {
			ws := b.Records[wsHeight-11].WriteSet
			ws[0], ws[1] = ws[1], ws[0]
		}},
		{"tampered message", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) { b.Records[msgHeight-11].Messages[0].Payload[0] ^= 1 }},
		{"dropped message", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			r := b.Records[msgHeight-11]
			r.Messages = r.Messages[1:]
		}},
		{"reordered messages", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			m := b.Records[msgHeight-11].Messages
			m[0], m[len(m)-1] = m[len(m)-1], m[0]
		}},
		{"injected message", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			r := b.Records[wsHeight-11]
			r.Messages = append(r.Messages, msg.Message{Topic: []byte("x")})
		}},
		{"contents of another block", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			b.Records[wsHeight-11].WriteSet = c.Record(wsHeight + 1).WriteSet
		}},
		{"tampered kept record replaced", chainsync.ErrAppHashMismatch, func(b *chainsync.Batch) {
			r := c.Record(10)
			r.WriteSet[0].Value = []byte{1}
			b.Records = append([]*state.BlockRecord{r}, b.Records...)
		}},
		// AppHash.
		{"record claims a wrong AppHash", chainsync.ErrRecordAppHash, func(b *chainsync.Batch) { b.Records[3].AppHash[0] ^= 1 }},
		// Order.
		{"skipped block", chainsync.ErrHeightGap, func(b *chainsync.Batch) { *b = batch(t, c, 12, 20) }},
		{"skipped header inside", chainsync.ErrHeightGap, func(b *chainsync.Batch) { b.Headers = append(b.Headers[:3:3], b.Headers[4:]...) }},
		{"skipped record", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { b.Records = append(b.Records[:3:3], b.Records[4:]...) }},
		{"reordered headers", chainsync.ErrHeightGap, func(b *chainsync.Batch) { b.Headers[4], b.Headers[5] = b.Headers[5], b.Headers[4] }},
		{"reordered records", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { b.Records[4], b.Records[5] = b.Records[5], b.Records[4] }},
		{"duplicated record", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { b.Records[5] = b.Records[4] }},
		{"missing the last two records", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { b.Records = b.Records[:8] }},
		{"records only, two", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { *b = chainsync.Batch{Records: b.Records[:2]} }},
		{"records only, a verified block's", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { *b = chainsync.Batch{Records: b.Records[:1]} }},
		{"extra record", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { b.Records = append(b.Records, c.Record(21)) }},
		{"no records", chainsync.ErrBlockOrder, func(b *chainsync.Batch) { b.Records = nil }},
		{"nil record", chainsync.ErrMalformedRecord, func(b *chainsync.Batch) { b.Records[2] = nil }},
		// Validators, chain, replays, versions.
		{"wrong validator set", chainsync.ErrWrongValidatorSet, func(b *chainsync.Batch) {
			b.Validators = other.ValidatorSet(1)
			b.Validators.Validators[0].VotingPower++
		}},
		{"wrong chain id", chainsync.ErrWrongChainID, func(b *chainsync.Batch) { *b = batch(t, other, 11, 20) }},
		{"replayed batch", chainsync.ErrReplayedBatch, func(b *chainsync.Batch) { *b = batch(t, c, 1, 10) }},
		{"overlapping batch", chainsync.ErrReplayedBatch, func(b *chainsync.Batch) { *b = batch(t, c, 8, 20) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := honest()
			tc.mod(&b)
			err := s.SyncBatch(b)
			if !errors.Is(err, tc.err) {
				t.Fatalf("got %v, want %v", err, tc.err)
			}
			if !bytes.Equal(s.Snapshot(), snap) {
				t.Fatal("a rejected batch changed the state")
			}
		})
	}
	if err := s.SyncBatch(honest()); err != nil {
		t.Fatalf("honest batch after the attacks: %v", err)
	}
	// Faults that the validators signed, on chains of their own.
	for _, tc := range []struct {
		name string
		c    *synth.Chain
		err  error
	}{
		{"header carries a wrong AppHash (signed)", badHash, chainsync.ErrAppHashMismatch},
		{"newer app version", newer, chainsync.ErrNewerAppVersion},
	} {
		s := newSyncer(t, tc.c)
		syncTo(t, tc.c, s, 10, 100)
		snap := s.Snapshot()
		if err := s.SyncBatch(batch(t, tc.c, 11, 20)); !errors.Is(err, tc.err) || !bytes.Equal(s.Snapshot(), snap) {
			t.Fatalf("%s: got %v, want %v", tc.name, err, tc.err)
		}
	}
	// Across the validator-set change (block 25 → signed by the new set from 27).
	b := batch(t, c, 21, 26)
	if err := s.SyncBatch(b); err != nil {
		t.Fatal(err)
	}
	b = batch(t, c, 27, 40)
	if b.Validators == nil {
		t.Fatal("expected the new validator set")
	}
	good := b.Validators
	b.Validators = nil
	snap = s.Snapshot()
	if err := s.SyncBatch(b); !errors.Is(err, chainsync.ErrMissingValidatorSet) || !bytes.Equal(s.Snapshot(), snap) {
		t.Fatalf("missing set: %v", err)
	}
	b.Validators = c.ValidatorSet(26)
	if err := s.SyncBatch(b); !errors.Is(err, chainsync.ErrWrongValidatorSet) || !bytes.Equal(s.Snapshot(), snap) {
		t.Fatalf("old set: %v", err)
	}
	b.Validators = good
	if err := s.SyncBatch(b); err != nil || s.Height() != 39 {
		t.Fatal(err)
	}

	// A wrong genesis: the other chain has the same id and validators but
	// other balances, so header 1 does not carry this genesis's AppHash_0.
	s2 := newSyncer(t, c)
	if err := s2.SyncBatch(batch(t, otherGenesis, 1, 5)); !errors.Is(err, chainsync.ErrGenesisMismatch) || s2.VerifiedHeight() != 0 {
		t.Fatalf("other genesis: %v", err)
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

func TestGenesisChecks(t *testing.T) {
	c := buildChain(t, chainOpts{blocks: 1})
	g, gh, rec := c.Genesis(), c.GenesisHash(), c.GenesisRecord()
	if _, err := chainsync.New(g, [32]byte{1}, rec, 1); !errors.Is(err, chainsync.ErrGenesisHash) {
		t.Fatal(err)
	}
	if _, err := chainsync.New(nil, gh, rec, 1); !errors.Is(err, chainsync.ErrInvalidGenesis) {
		t.Fatal(err)
	}
	bad := *g
	bad.ChainID = ""
	if _, err := chainsync.New(&bad, bad.Hash(), rec, 1); !errors.Is(err, chainsync.ErrInvalidGenesis) {
		t.Fatal(err)
	}
	if _, err := chainsync.New(g, gh, nil, 1); !errors.Is(err, chainsync.ErrGenesisMismatch) {
		t.Fatal(err)
	}
	if _, err := chainsync.New(g, gh, rec, 0); !errors.Is(err, chainsync.ErrNewerAppVersion) {
		t.Fatal(err)
	}
	for name, mod := range map[string]func(r *state.BlockRecord){
		"height":       func(r *state.BlockRecord) { r.Height = 1 },
		"value":        func(r *state.BlockRecord) { r.WriteSet[0].Value = append(r.WriteSet[0].Value, 0) },
		"dropped":      func(r *state.BlockRecord) { r.WriteSet = r.WriteSet[1:] },
		"unsorted":     func(r *state.BlockRecord) { r.WriteSet[0], r.WriteSet[1] = r.WriteSet[1], r.WriteSet[0] },
		"message":      func(r *state.BlockRecord) { r.Messages = []msg.Message{{}} },
		"claimed hash": func(r *state.BlockRecord) { r.AppHash[0] ^= 1 },
		"other chain": func(r *state.BlockRecord) {
			*r = *buildChain(t, chainOpts{blocks: 0, genesis: func(g *state.Genesis) { g.App.Balances = g.App.Balances[:2] }}).GenesisRecord()
		},
	} {
		r := c.GenesisRecord()
		mod(r)
		if _, err := chainsync.New(g, gh, r, 1); !errors.Is(err, chainsync.ErrGenesisMismatch) {
			t.Fatalf("%s: %v", name, err)
		}
	}
}

// TestPendingRecord: the record of the batch's last height cannot be checked
// until the next header comes; a bad one is caught then, and an honest
// replacement in the next batch recovers.
func TestPendingRecord(t *testing.T) {
	c := buildChain(t, chainOpts{blocks: 20, transfers: 1})
	s := newSyncer(t, c)
	b := batch(t, c, 1, 10)
	b.Records[9].WriteSet[0].Value = []byte("forged")
	if err := s.SyncBatch(b); err != nil {
		t.Fatal(err) // accepted: block 10 waits for header 11
	}
	if s.Height() != 9 {
		t.Fatal(s.Height())
	}
	snap := s.Snapshot()
	next := batch(t, c, 11, 20)
	if err := s.SyncBatch(next); !errors.Is(err, chainsync.ErrAppHashMismatch) || !bytes.Equal(s.Snapshot(), snap) {
		t.Fatalf("forged kept record: %v", err)
	}
	next.Records = append([]*state.BlockRecord{c.Record(10)}, next.Records...)
	if err := s.SyncBatch(next); err != nil || s.Height() != 19 {
		t.Fatalf("honest replacement: %v", err)
	}
}

type scaleString string

func (s scaleString) EncodeSCALE(w *scale.Writer) { w.String(string(s)) }

func TestSnapshotRestore(t *testing.T) {
	c := buildChain(t, chainOpts{blocks: 60, transfers: 2, joinAt: 20, messageEach: 5})
	ref := newSyncer(t, c)
	syncTo(t, c, ref, 60, 13)
	refSnap := ref.Snapshot()

	for _, at := range []int64{0, 1, 21, 22, 35} {
		s := newSyncer(t, c)
		if at > 0 {
			syncTo(t, c, s, at, 13)
		}
		snap := s.Snapshot()
		r, err := chainsync.Restore(snap, c.GenesisHash(), state.AppVersion1)
		if err != nil {
			t.Fatalf("restore at %d: %v", at, err)
		}
		if !bytes.Equal(r.Snapshot(), snap) {
			t.Fatalf("at %d: restored snapshot differs", at)
		}
		syncTo(t, c, r, 60, 13)
		// The messages drained before and after the restore, together, are
		// the uninterrupted run's; compare the states with the queues.
		if !bytes.Equal(r.Snapshot(), refSnap) {
			t.Fatalf("resumed at %d: state differs from the uninterrupted run", at)
		}
		if _, err := chainsync.Restore(snap, [32]byte{9}, 1); !errors.Is(err, chainsync.ErrGenesisHash) {
			t.Fatal(err)
		}
	}
	for i := 0; i < len(refSnap); i += 1 + i/50 {
		if _, err := chainsync.Restore(refSnap[:i], c.GenesisHash(), 1); err == nil {
			t.Fatalf("truncated snapshot of %d bytes accepted", i)
		}
	}
	// A v1 snapshot (what pRuntime checkpointed: the queue drained) still
	// restores; one with queued messages is refused.
	drained := newSyncer(t, c)
	syncTo(t, c, drained, 30, 13)
	drained.DrainBlocks()
	v2 := drained.Snapshot()
	v1 := append(scale.Encode(scaleString("cella/chainsync/v1")), v2[len(scale.Encode(scaleString(chainsync.SnapshotDomain))):]...)
	r1, err := chainsync.Restore(v1, c.GenesisHash(), state.AppVersion1)
	if err != nil {
		t.Fatalf("v1 snapshot: %v", err)
	}
	if !bytes.Equal(r1.Snapshot(), v2) {
		t.Fatal("v1 snapshot restores to another state")
	}
	queuedV1 := append(scale.Encode(scaleString("cella/chainsync/v1")), refSnap[len(scale.Encode(scaleString(chainsync.SnapshotDomain))):]...)
	if _, err := chainsync.Restore(queuedV1, c.GenesisHash(), state.AppVersion1); !errors.Is(err, chainsync.ErrCorruptSnapshot) {
		t.Fatalf("v1 snapshot with a queue: %v", err)
	}
	if _, err := chainsync.Restore(append(refSnap, 0), c.GenesisHash(), 1); !errors.Is(err, chainsync.ErrCorruptSnapshot) {
		t.Fatal(err)
	}
	if _, err := chainsync.Restore(refSnap, c.GenesisHash(), 0); !errors.Is(err, chainsync.ErrCorruptSnapshot) && !errors.Is(err, chainsync.ErrNewerAppVersion) {
		t.Fatal(err)
	}
}

// TestDifferential: over random chains (transfers that succeed, fail in the
// call or are rejected, messages, validator changes) synced in random batch
// sizes, the verified store equals the state machine's store and the
// AppHash chain head equals the node's AppHash at every step.
func TestDifferential(t *testing.T) {
	for seed := uint64(1); seed <= 3; seed++ {
		rng := rand.New(rand.NewPCG(seed, 42))
		vals := synth.Validators(6)
		c, err := synth.New(synth.Config{Validators: vals[:3], Extra: vals[3:], Messages: func(h int64) []msg.Message {
			if h%5 == int64(seed) {
				return testMessages(h)
			}
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		pairs := synth.DevPairs()
		eve := pairs[4]
		n := 120
		for h := 1; h <= n; h++ {
			var txs [][]byte
			for i := rng.IntN(6); i > 0; i-- {
				from := pairs[rng.IntN(4)]
				amount := state.Unit * uint64(rng.IntN(1000))
				if rng.IntN(8) == 0 {
					amount = 1 << 62 // fails in the call: fee paid, nonce advances
				}
				tx, err := c.Transfer(from, pairs[rng.IntN(6)].Public(), amount)
				if err != nil {
					t.Fatal(err)
				}
				txs = append(txs, tx)
			}
			if rng.IntN(10) == 0 { // rejected: a future nonce
				txs = append(txs, c.TxWithNonce(eve, 1000, balances.TransferCall(pairs[0].Public(), scale.U128From(1))))
			}
			if rng.IntN(25) == 0 {
				v := vals[rng.IntN(len(vals))]
				tx, err := c.SetPower(pairs[5], v, uint64(rng.IntN(3))*10)
				if err != nil {
					t.Fatal(err)
				}
				txs = append(txs, tx)
			}
			if _, err := c.AddBlock(txs...); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := c.AddBlock(); err != nil {
			t.Fatal(err)
		}
		s := newSyncer(t, c)
		for s.VerifiedHeight() < int64(n+1) {
			to := min(s.VerifiedHeight()+1+int64(rng.IntN(20)), int64(n+1))
			syncTo(t, c, s, to, 1+rng.IntN(30))
			if rng.IntN(4) == 0 {
				if s, err = chainsync.Restore(s.Snapshot(), c.GenesisHash(), state.AppVersion1); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := sameStore(s.Dump(), c.Store().Dump()); err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
	}
}

// TestHeaderFirst: a batch may leave its last header's record out, which
// applies every block before that header at once; a batch of that record
// alone then gives it, to be confirmed by the next header like any kept
// record. Bad records-only batches are refused without a change.
func TestHeaderFirst(t *testing.T) {
	c := buildChain(t, chainOpts{blocks: 30, transfers: 2, messageEach: 2})
	s := newSyncer(t, c)
	syncTo(t, c, s, 10, 100)
	if !s.HasPending() {
		t.Fatal("no record kept after a whole batch")
	}
	s.DrainBlocks()
	// Headers 11..20 with records 11..19: blocks up to 19 are applied.
	b := batch(t, c, 11, 20)
	b.Records = b.Records[:len(b.Records)-1]
	if err := s.SyncBatch(b); err != nil {
		t.Fatal(err)
	}
	if s.VerifiedHeight() != 20 || s.Height() != 19 || s.HasPending() || s.AppHash() != c.Record(19).AppHash {
		t.Fatalf("after headers 11..20 without record 20: verified %d applied %d pending %v", s.VerifiedHeight(), s.Height(), s.HasPending())
	}
	if n := len(s.DrainBlocks()); n != 10 {
		t.Fatalf("%d blocks applied, want 10..19", n)
	}
	// A snapshot in that state restores.
	if _, err := chainsync.Restore(s.Snapshot(), c.GenesisHash(), state.AppVersion1); err != nil {
		t.Fatalf("restore without a kept record: %v", err)
	}
	// The next header batch must then carry record 20.
	snap := s.Snapshot()
	if err := s.SyncBatch(batch(t, c, 21, 22)); !errors.Is(err, chainsync.ErrBlockOrder) || !bytes.Equal(s.Snapshot(), snap) {
		t.Fatalf("headers 21..22 without record 20: %v", err)
	}
	for name, recs := range map[string][]*state.BlockRecord{
		"another height": {c.Record(21)},
		"two records":    {c.Record(20), c.Record(21)},
		"nil":            {nil},
	} {
		if err := s.SyncBatch(chainsync.Batch{Records: recs}); err == nil || !bytes.Equal(s.Snapshot(), snap) {
			t.Fatalf("records only, %s: %v", name, err)
		}
	}
	// A tampered record 20 is kept, and refuted by header 21.
	bad := c.Record(20)
	bad.Messages = append(bad.Messages, msg.Message{Topic: []byte("forged")})
	if err := s.SyncBatch(chainsync.Batch{Records: []*state.BlockRecord{bad}}); err != nil || !s.HasPending() {
		t.Fatalf("records only: %v", err)
	}
	snap = s.Snapshot()
	b = batch(t, c, 21, 21)
	b.Records = nil
	if err := s.SyncBatch(b); !errors.Is(err, chainsync.ErrAppHashMismatch) || !bytes.Equal(s.Snapshot(), snap) {
		t.Fatalf("header 21 over a forged record 20: %v", err)
	}
	// The honest record replaces it, alone or in the next batch.
	if err := s.SyncBatch(chainsync.Batch{Records: []*state.BlockRecord{c.Record(20)}}); err != nil {
		t.Fatal(err)
	}
	b = batch(t, c, 21, 21)
	b.Records = nil
	if err := s.SyncBatch(b); err != nil || s.Height() != 20 || s.VerifiedHeight() != 21 || s.HasPending() {
		t.Fatalf("header 21 alone: %v; verified %d applied %d", err, s.VerifiedHeight(), s.Height())
	}
	b = batch(t, c, 22, 25) // record 21 is not kept: the batch carries it
	b.Records = append([]*state.BlockRecord{c.Record(21)}, b.Records...)
	if err := s.SyncBatch(b); err != nil || s.Height() != 24 || !s.HasPending() || s.AppHash() != c.Record(24).AppHash {
		t.Fatalf("headers 22..25 with records 21..25: %v; applied %d", err, s.Height())
	}
}
