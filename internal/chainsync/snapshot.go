package chainsync

import (
	"bytes"
	"fmt"

	"github.com/cella-network/cella/internal/lightclient"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// SnapshotDomain starts every snapshot (and names its format version).
const SnapshotDomain = "cella/chainsync/v1"

// Snapshot returns the syncer's whole state as deterministic SCALE bytes,
// for a sealed checkpoint (equal states give equal bytes):
//
//	String "cella/chainsync/v1" ‖ [32]u8 genesis hash ‖ light-client State ‖
//	i64 height ‖ [32]u8 AppHash ‖ Option<BlockRecord> pending record ‖
//	Vec<(Vec<u8> key, Vec<u8> value)> store, sorted by key ‖
//	Vec<(i64 height, u32 index, Message)> queued messages
func (s *Syncer) Snapshot() []byte {
	var w scale.Writer
	w.String(SnapshotDomain)
	w.Raw(s.genesisHash[:])
	s.lc.EncodeSCALE(&w)
	w.I64(s.height)
	w.Raw(s.appHash[:])
	if s.pending == nil {
		w.OptionNone()
	} else {
		w.OptionSome()
		s.pending.EncodeSCALE(&w)
	}
	dump := s.store.Dump()
	w.Compact(uint64(len(dump)))
	for _, kv := range dump {
		w.BytesVec(kv.Key)
		w.BytesVec(kv.Value)
	}
	w.Compact(uint64(len(s.queue)))
	for i := range s.queue {
		q := &s.queue[i]
		w.I64(q.Height)
		w.U32(uint32(q.Index))
		q.Message.EncodeSCALE(&w)
	}
	return w.Bytes()
}

// Restore rebuilds a syncer from Snapshot's bytes. genesisHash is the hash
// the pRuntime is bound to (the snapshot must name it, else
// ErrGenesisHash); maxAppVersion is this code's highest app version (a
// snapshot that verified a newer one is refused with ErrNewerAppVersion).
// Other failures wrap ErrCorruptSnapshot.
func Restore(b []byte, genesisHash [32]byte, maxAppVersion uint64) (*Syncer, error) {
	bad := func(format string, a ...any) (*Syncer, error) {
		return nil, fmt.Errorf("%w: %s", ErrCorruptSnapshot, fmt.Sprintf(format, a...))
	}
	r := scale.NewReader(b)
	if d := r.String(); r.Err() != nil || d != SnapshotDomain {
		return bad("not a %s snapshot", SnapshotDomain)
	}
	s := &Syncer{store: state.NewMemStore()}
	r.Fixed(s.genesisHash[:])
	if r.Err() == nil && s.genesisHash != genesisHash {
		return nil, fmt.Errorf("%w: snapshot of genesis %x, want %x", ErrGenesisHash, s.genesisHash, genesisHash)
	}
	lc, err := lightclient.DecodeState(r, maxAppVersion)
	if err != nil {
		return bad("%v", err)
	}
	s.lc = lc
	s.height = r.I64()
	r.Fixed(s.appHash[:])
	if r.Option() {
		s.pending = new(state.BlockRecord)
		s.pending.DecodeSCALE(r)
	}
	n := r.Len(2)
	ws := make(state.WriteSet, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		k := r.BytesVec()
		v := r.BytesVec()
		if r.Err() == nil && len(ws) > 0 && bytes.Compare(ws[len(ws)-1].Key, k) >= 0 {
			return bad("store keys not strictly increasing at %d", i)
		}
		ws = append(ws, state.Write{Key: k, Value: v})
	}
	n = r.Len(8 + 4 + 3)
	for i := 0; i < n && r.Err() == nil; i++ {
		var q QueuedMessage
		q.Height = r.I64()
		q.Index = int(int32(r.U32()))
		q.Message.DecodeSCALE(r)
		s.queue = append(s.queue, q)
	}
	if err := r.Finish(); err != nil {
		return bad("%v", err)
	}
	if lc.AppVersion() > maxAppVersion {
		return nil, fmt.Errorf("%w: snapshot verified app version %d, this code supports up to %d", ErrNewerAppVersion, lc.AppVersion(), maxAppVersion)
	}
	switch {
	case s.pending == nil && lc.Height() == s.height && s.height == 0:
	case s.pending != nil && lc.Height() == s.height+1 && s.pending.Height == lc.Height():
		if err := s.pending.WriteSet.Validate(); err != nil {
			return bad("pending record: %v", err)
		}
	default:
		return bad("heights: applied %d, verified %d, pending record %v", s.height, lc.Height(), s.pending != nil)
	}
	prev := QueuedMessage{Height: 1, Index: -1}
	for i, q := range s.queue {
		if q.Height > s.height || q.Height < prev.Height || (q.Height == prev.Height && q.Index <= prev.Index) || q.Index < 0 {
			return bad("queued message %d (height %d, index %d) out of order", i, q.Height, q.Index)
		}
		prev = q
	}
	s.store.Apply(ws)
	return s, nil
}
