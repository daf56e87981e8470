package chainsync

import (
	"bytes"
	"fmt"

	"github.com/cella-network/cella/internal/lightclient"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// SnapshotDomain starts every snapshot (and names its format version).
const SnapshotDomain = "cella/chainsync/v2"

// snapshotDomainV1 is the format before applied blocks were queued with
// their environment (a flat message queue). Restore still reads a v1
// snapshot whose queue is empty, the only kind pRuntime checkpointed.
const snapshotDomainV1 = "cella/chainsync/v1"

// Snapshot returns the syncer's whole state as deterministic SCALE bytes,
// for a sealed checkpoint (equal states give equal bytes):
//
//	String "cella/chainsync/v2" ‖ [32]u8 genesis hash ‖ light-client State ‖
//	i64 height ‖ [32]u8 AppHash ‖ Option<BlockRecord> pending record ‖
//	Vec<(Vec<u8> key, Vec<u8> value)> store, sorted by key ‖
//	Vec<QueuedBlock> applied blocks not drained yet, by height
//
//	QueuedBlock = i64 height ‖ i64 header time (UnixNano) ‖ u64 app version ‖
//	    Vec<Message> messages ‖
//	    Vec<(Vec<u8> key, Option<Vec<u8>> value before the block)> undo, sorted by key
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
		w.I64(q.height)
		w.I64(q.time)
		w.U64(q.appVersion)
		w.Compact(uint64(len(q.messages)))
		for j := range q.messages {
			q.messages[j].EncodeSCALE(&w)
		}
		w.Compact(uint64(len(q.undo)))
		for _, u := range q.undo {
			w.BytesVec(u.key)
			if u.old == nil {
				w.OptionNone()
			} else {
				w.OptionSome()
				w.BytesVec(u.old)
			}
		}
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
	d := r.String()
	if r.Err() != nil || (d != SnapshotDomain && d != snapshotDomainV1) {
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
	n = r.Len(8 + 8 + 8 + 1 + 1)
	if d == snapshotDomainV1 && r.Err() == nil && n != 0 {
		return bad("a %s snapshot with %d queued messages (resync from a newer checkpoint or from genesis)", snapshotDomainV1, n)
	}
	for i := 0; i < n && r.Err() == nil; i++ {
		var q queued
		q.height = r.I64()
		q.time = r.I64()
		q.appVersion = r.U64()
		m := r.Len(3)
		q.messages = make([]msg.Message, 0, m)
		for j := 0; j < m && r.Err() == nil; j++ {
			var msg msg.Message
			msg.DecodeSCALE(r)
			q.messages = append(q.messages, msg)
		}
		m = r.Len(2)
		q.undo = make([]undoEntry, 0, m)
		for j := 0; j < m && r.Err() == nil; j++ {
			var u undoEntry
			u.key = r.BytesVec()
			if r.Option() {
				u.old = r.BytesVec()
				if u.old == nil {
					u.old = []byte{}
				}
			}
			if r.Err() == nil && j > 0 && bytes.Compare(q.undo[j-1].key, u.key) >= 0 {
				return bad("queued block %d: undo keys not strictly increasing at %d", i, j)
			}
			q.undo = append(q.undo, u)
		}
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
	case s.pending == nil && lc.Height() == s.height+1:
		// The last batch left the last header's record out.
	case s.pending != nil && lc.Height() == s.height+1 && s.pending.Height == lc.Height():
		if err := s.pending.WriteSet.Validate(); err != nil {
			return bad("pending record: %v", err)
		}
	default:
		return bad("heights: applied %d, verified %d, pending record %v", s.height, lc.Height(), s.pending != nil)
	}
	// The queued blocks are the last applied ones, consecutive.
	for i, q := range s.queue {
		if want := s.height - int64(len(s.queue)-1-i); q.height != want || q.height < 1 {
			return bad("queued block %d is for height %d, want %d", i, q.height, want)
		}
	}
	s.store.Apply(ws)
	return s, nil
}
