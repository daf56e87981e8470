// Package chainsync is pRuntime's verified copy of chain state. It starts
// from a genesis that it checks against its hash, verifies header batches
// with the light client (internal/lightclient), checks each block's
// write-set and messages against the AppHash that the next verified header
// carries, and only then applies the write-set to its in-memory store and
// queues the block (its messages and the environment its verified header
// gives it) for the worker core, in order. It does not replay transactions.
//
// Every SyncBatch is atomic: everything is verified first, and the state
// changes only when all checks pass; a rejected batch changes nothing. The
// package does no I/O and reads no clock. Snapshot and Restore give a
// deterministic SCALE encoding for sealed checkpoints.
package chainsync

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/lightclient"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
)

// Batch is what pherry hands over for a run of heights a..b: the headers,
// the commit of header b, the validator set that signs them when it changed
// (see lightclient.Batch), and the block records.
//
// Records must be exactly the heights from the first block not yet applied
// (Height()+1) to b, or to b-1, in order. The record of the last verified
// height is kept from the previous batch (it waited for its successor
// header), so it may be left out; if given, it replaces the kept one.
//
// Leaving out record b confirms and applies every block up to b-1 without
// waiting for record b, which a node has only once block b is committed —
// megabytes under load. A batch without headers (and without commit and
// validators) then gives it: exactly one record, of the last verified
// height, kept unverified like any last record until the next header's
// AppHash confirms it.
type Batch struct {
	Headers    []*types.Header
	Commit     *types.Commit
	Validators *types.ValidatorSet
	Records    []*state.BlockRecord
}

// AppliedBlock is a block that SyncBatch verified and applied, with the
// environment that its verified header H gives it (the light client checked
// header H and its commit; the AppHash in header H+1 confirmed the block's
// write-set and messages).
type AppliedBlock struct {
	Height int64
	// TimeUnixNano is header H's time, as the state machine saw it.
	TimeUnixNano int64
	// AppVersion is header H's app version.
	AppVersion uint64
	// Messages are the block's messages, in order.
	Messages []msg.Message
	// State reads the verified state right after this block, even when
	// later blocks were applied in the same batch. It is valid until the
	// next SyncBatch; reads after that fail with ErrStaleView.
	State state.Store
}

// queued is an applied block waiting to be drained, with the values its
// write-set replaced (so that a view of the state right after an earlier
// block can see through it).
type queued struct {
	height     int64
	time       int64
	appVersion uint64
	messages   []msg.Message
	// undo holds, for each key of the block's write-set (sorted by key),
	// its value before the block (nil: absent).
	undo []undoEntry
}

type undoEntry struct {
	key, old []byte
}

// Syncer is the verified chain state. It is not safe for concurrent use
// (the store it exposes is).
type Syncer struct {
	genesisHash [32]byte
	lc          lightclient.State
	store       *state.MemStore
	// height is the last applied block; appHash the AppHash after it.
	height  int64
	appHash [32]byte
	// pending is the record of block lc.Height(), which waits for header
	// lc.Height()+1; nil when lc.Height() == height (before header 1), or
	// when the last batch left record lc.Height() out.
	pending *state.BlockRecord
	queue   []queued
	// gen counts committed batches; views of drained blocks hold the
	// value of their drain and refuse reads once it changed.
	gen uint64
}

// New initialises a syncer for the chain g. genesisHash is the hash the
// pRuntime is bound to (its attestation names it): g must hash to it. rec is
// the node's height-0 record, which must hold exactly the genesis state
// (InitChain's write-set and AppHash_0). The genesis state is applied at
// once (Height() = 0); the first verified header must then carry AppHash_0.
// maxAppVersion is the highest app version this code understands.
func New(g *state.Genesis, genesisHash [32]byte, rec *state.BlockRecord, maxAppVersion uint64) (*Syncer, error) {
	if g == nil {
		return nil, fmt.Errorf("%w: nil", ErrInvalidGenesis)
	}
	if err := modules.ValidateGenesis(g); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
	}
	if h := g.Hash(); h != genesisHash {
		return nil, fmt.Errorf("%w: genesis hashes to %x, want %x", ErrGenesisHash, h, genesisHash)
	}
	if g.AppVersion > maxAppVersion {
		return nil, fmt.Errorf("%w: genesis app version %d, this code supports up to %d", ErrNewerAppVersion, g.AppVersion, maxAppVersion)
	}
	m, err := modules.NewMachine(g, state.WithSigCache(nil))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
	}
	ws, appHash0, err := m.InitChain()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
	}
	if rec == nil || rec.Height != 0 {
		return nil, fmt.Errorf("%w: no height-0 record", ErrGenesisMismatch)
	}
	if err := rec.WriteSet.Validate(); err != nil {
		return nil, fmt.Errorf("%w: height-0 write-set: %w", ErrGenesisMismatch, err)
	}
	// Equal hashes mean equal contents (the write-set root commits to every
	// key and value).
	if got := state.AppHash(g.AppVersion, [32]byte{}, rec.WriteSet, rec.Messages); got != appHash0 {
		return nil, fmt.Errorf("%w: the height-0 record hashes to %x, the genesis state to %x", ErrGenesisMismatch, got, appHash0)
	}
	if rec.AppHash != appHash0 {
		return nil, fmt.Errorf("%w: the height-0 record claims AppHash %x, the genesis state is %x", ErrGenesisMismatch, rec.AppHash, appHash0)
	}
	lc, err := lightclient.FromGenesis(g, maxAppVersion)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidGenesis, err)
	}
	st := state.NewMemStore()
	st.Apply(ws)
	return &Syncer{genesisHash: genesisHash, lc: lc, store: st, appHash: appHash0}, nil
}

// GenesisHash returns the genesis hash the syncer is bound to.
func (s *Syncer) GenesisHash() [32]byte { return s.genesisHash }

// ChainID returns the chain id.
func (s *Syncer) ChainID() string { return s.lc.ChainID() }

// Height returns the last applied block (0: the genesis state).
func (s *Syncer) Height() int64 { return s.height }

// VerifiedHeight returns the last verified header. Its block is applied
// once the next header is verified.
func (s *Syncer) VerifiedHeight() int64 { return s.lc.Height() }

// AppHash returns the AppHash after block Height(): the head of the AppHash
// chain, which commits to every write-set and message applied so far.
func (s *Syncer) AppHash() [32]byte { return s.appHash }

// AppVersion returns the app version of the last verified header.
func (s *Syncer) AppVersion() uint64 { return s.lc.AppVersion() }

// LightClient returns the light client's state.
func (s *Syncer) LightClient() lightclient.State { return s.lc }

// Get reads a key of the verified state at Height(); (nil, nil) when absent.
// The returned slice must not be modified.
func (s *Syncer) Get(key []byte) ([]byte, error) { return s.store.Get(key) }

// Store returns read-only access to the verified state.
func (s *Syncer) Store() state.Store { return readOnly{s.store} }

type readOnly struct{ m *state.MemStore }

// Get implements state.Store.
func (r readOnly) Get(key []byte) ([]byte, error) { return r.m.Get(key) }

// Dump returns every key-value pair of the verified state, sorted by key
// (for differential tests and debugging; it copies nothing, so do not
// modify the values).
func (s *Syncer) Dump() state.WriteSet { return s.store.Dump() }

// QueuedBlocks returns how many applied blocks wait to be drained.
func (s *Syncer) QueuedBlocks() int { return len(s.queue) }

// DrainBlocks returns the applied blocks not drained yet, in height order,
// and empties the queue. Every applied block is returned, with or without
// messages. Their State views are valid until the next SyncBatch.
func (s *Syncer) DrainBlocks() []AppliedBlock {
	q := s.queue
	s.queue = nil
	out := make([]AppliedBlock, len(q))
	for i := range q {
		out[i] = AppliedBlock{
			Height:       q[i].height,
			TimeUnixNano: q[i].time,
			AppVersion:   q[i].appVersion,
			Messages:     q[i].messages,
			State:        view{s: s, gen: s.gen, later: q[i+1:]},
		}
	}
	return out
}

// view is the verified state right after a drained block: the store, seen
// through the values that later blocks replaced.
type view struct {
	s     *Syncer
	gen   uint64
	later []queued
}

// Get implements state.Store.
func (v view) Get(key []byte) ([]byte, error) {
	if v.s.gen != v.gen {
		return nil, ErrStaleView
	}
	// The first later block that wrote key holds its value after ours.
	for i := range v.later {
		u := v.later[i].undo
		j, found := slices.BinarySearchFunc(u, key, func(e undoEntry, k []byte) int { return bytes.Compare(e.key, k) })
		if found {
			return u[j].old, nil
		}
	}
	return v.s.store.Get(key)
}

// HasPending reports whether the syncer holds the record of its last
// verified header (VerifiedHeight), so that the next batch need not carry
// it.
func (s *Syncer) HasPending() bool { return s.pending != nil }

// SyncBatch verifies a batch and applies every block it confirms. On error
// nothing changes; the error wraps one sentinel of this package or of the
// light client.
func (s *Syncer) SyncBatch(b Batch) error {
	if len(b.Headers) == 0 && b.Commit == nil && b.Validators == nil && len(b.Records) > 0 {
		return s.keepRecord(b.Records)
	}
	next, verified, err := s.lc.VerifyDetailed(lightclient.Batch{Headers: b.Headers, Commit: b.Commit, Validators: b.Validators})
	if err != nil {
		return err
	}
	first, last := b.Headers[0].Height, b.Headers[len(b.Headers)-1].Height

	// The records: from the first unapplied block to the last header.
	recs := make([]*state.BlockRecord, 0, len(b.Records)+1)
	if s.pending != nil && (len(b.Records) == 0 || b.Records[0] == nil || b.Records[0].Height != s.pending.Height) {
		recs = append(recs, s.pending)
	}
	recs = append(recs, b.Records...)
	want := s.height + 1
	for i, r := range recs {
		if r == nil {
			return fmt.Errorf("%w: record %d is nil", ErrMalformedRecord, i)
		}
		if r.Height != want {
			return fmt.Errorf("%w: record %d is for height %d, want %d", ErrBlockOrder, i, r.Height, want)
		}
		if err := r.WriteSet.Validate(); err != nil {
			return fmt.Errorf("%w: height %d: %w", ErrMalformedRecord, r.Height, err)
		}
		want++
	}
	// withLast: the records reach the last header (its record is kept);
	// otherwise they end one before it and no record is kept.
	withLast := want == last+1
	if !withLast && want != last {
		return fmt.Errorf("%w: records end at height %d, the batch at %d", ErrBlockOrder, want-1, last)
	}
	confirmed := recs
	if withLast {
		confirmed = recs[:len(recs)-1]
	}

	header := func(h int64) *types.Header { return b.Headers[h-first] }
	appVersion := func(h int64) uint64 {
		if h < first {
			return s.lc.AppVersion()
		}
		return verified[h-first].AppVersion
	}
	headerTime := func(h int64) int64 {
		if h < first {
			return s.lc.Time().UnixNano()
		}
		return header(h).Time.UnixNano()
	}
	head := s.appHash
	if s.pending == nil && s.lc.Height() == s.height {
		// No block waits: header first must carry the current AppHash.
		if got := header(first).AppHash; !bytes.Equal(got, head[:]) {
			if first == 1 {
				return fmt.Errorf("%w: header 1 carries AppHash %X, the genesis state is %x", ErrGenesisMismatch, got, head)
			}
			return fmt.Errorf("%w: header %d carries AppHash %X, want %x", ErrAppHashMismatch, first, got, head)
		}
	}
	// Every record but the one of the last header is confirmed by the
	// next header.
	hashes := make([][32]byte, len(confirmed))
	for i, r := range confirmed {
		got := state.AppHash(appVersion(r.Height), head, r.WriteSet, r.Messages)
		if want := header(r.Height + 1).AppHash; !bytes.Equal(got[:], want) {
			return fmt.Errorf("%w: block %d's write-set (%d writes) and messages (%d) hash to %x, header %d carries %X",
				ErrAppHashMismatch, r.Height, len(r.WriteSet), len(r.Messages), got, r.Height+1, want)
		}
		if r.AppHash != got {
			return fmt.Errorf("%w: block %d's record claims %x, its contents hash to %x", ErrRecordAppHash, r.Height, r.AppHash, got)
		}
		hashes[i] = got
		head = got
	}

	// All checks passed: commit.
	for i, r := range confirmed {
		q := queued{height: r.Height, time: headerTime(r.Height), appVersion: appVersion(r.Height),
			messages: make([]msg.Message, len(r.Messages)), undo: make([]undoEntry, len(r.WriteSet))}
		for j, m := range r.Messages {
			q.messages[j] = cloneMessage(m)
		}
		for j, w := range r.WriteSet {
			old, _ := s.store.Get(w.Key) // a MemStore read never fails
			q.undo[j] = undoEntry{key: bytes.Clone(w.Key), old: old}
		}
		s.store.Apply(r.WriteSet)
		s.queue = append(s.queue, q)
		s.height = r.Height
		s.appHash = hashes[i]
	}
	s.pending = nil
	if withLast {
		s.pending = recs[len(recs)-1].Clone()
	}
	s.lc = next
	s.gen++
	return nil
}

// keepRecord takes a batch of records only: exactly the record of the last
// verified header, whose block is not applied yet. It is kept (replacing
// any kept one) until the next header's AppHash confirms or refutes it.
func (s *Syncer) keepRecord(recs []*state.BlockRecord) error {
	if len(recs) != 1 {
		return fmt.Errorf("%w: %d records without headers, want the one of the last verified header", ErrBlockOrder, len(recs))
	}
	r := recs[0]
	if r == nil {
		return fmt.Errorf("%w: record 0 is nil", ErrMalformedRecord)
	}
	if h := s.lc.Height(); h != s.height+1 || r.Height != h {
		return fmt.Errorf("%w: a record without headers for height %d; the last verified header is %d, the last applied block %d",
			ErrBlockOrder, r.Height, h, s.height)
	}
	if err := r.WriteSet.Validate(); err != nil {
		return fmt.Errorf("%w: height %d: %w", ErrMalformedRecord, r.Height, err)
	}
	s.pending = r.Clone()
	s.gen++
	return nil
}

func cloneMessage(m msg.Message) msg.Message {
	return msg.Message{Origin: bytes.Clone(m.Origin), Topic: bytes.Clone(m.Topic), Payload: bytes.Clone(m.Payload)}
}
