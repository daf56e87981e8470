package worker

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// SnapshotDomain starts every snapshot of the core (and names its format
// version). Restore still reads SnapshotDomainV1 (no master shares sent).
const (
	SnapshotDomain   = "cella/worker/v2"
	SnapshotDomainV1 = "cella/worker/v1"
)

// ErrCorruptSnapshot is wrapped by Restore and FromState errors.
var ErrCorruptSnapshot = errors.New("worker: corrupt snapshot")

// State is the core's whole state but its keys and handlers.
type State struct {
	// Height is the last block stepped.
	Height int64
	// Online is whether the worker has announced itself.
	Online bool
	// Streams are the egress streams, sorted by origin.
	Streams []StreamState
	// MasterSent are the gatekeepers the core sent the master key to and
	// that are not active yet, sorted, each with its RegisteredAt.
	MasterSent []SentShare
}

// SentShare is a master-key share sent to a gatekeeper not yet active.
type SentShare struct {
	Receiver     keys.PublicKey
	RegisteredAt uint64
}

func (c *Core) sentShares() []SentShare {
	out := make([]SentShare, 0, len(c.masterSent))
	for id, at := range c.masterSent {
		out = append(out, SentShare{id, at})
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Receiver[:], out[j].Receiver[:]) < 0 })
	return out
}

// StreamState is one egress stream's state.
type StreamState struct {
	Origin []byte
	// Next is the sequence of the stream's next message.
	Next uint64
	// Out holds the messages not yet known to be on chain, by sequence
	// (the last has sequence Next-1).
	Out []msg.SignedMessage
}

// State returns a deep copy of the core's state.
func (c *Core) State() State {
	st := State{Height: c.height, Online: c.online, Streams: make([]StreamState, len(c.streams))}
	for i, s := range c.streams {
		st.Streams[i] = StreamState{Origin: bytes.Clone(s.origin), Next: s.nextSeq, Out: append([]msg.SignedMessage(nil), s.out...)}
	}
	st.MasterSent = c.sentShares()
	return st
}

// Snapshot returns the core's state as deterministic SCALE bytes (equal
// states give equal bytes):
//
//	String "cella/worker/v2" ‖ i64 height ‖ bool online ‖ Vec<Stream> by origin ‖
//	Vec<([u8;32] receiver, u64 registered at)> master shares sent, by receiver
//
// The streams are the worker's own and one per cluster known on chain
// (counted even before the core holds the cluster key). The keys are not
// in it: see KeysSnapshot.
//
//	Stream = Vec<u8> origin ‖ u64 next sequence ‖ Vec<SignedMessage> not yet accepted
//
// (v1 had no master shares.)
func (c *Core) Snapshot() []byte {
	var w scale.Writer
	w.String(SnapshotDomain)
	w.I64(c.height)
	w.Bool(c.online)
	w.Compact(uint64(len(c.streams)))
	for _, s := range c.streams {
		w.BytesVec(s.origin)
		w.U64(s.nextSeq)
		w.Compact(uint64(len(s.out)))
		for i := range s.out {
			s.out[i].EncodeSCALE(&w)
		}
	}
	sent := c.sentShares()
	w.Compact(uint64(len(sent)))
	for _, s := range sent {
		w.Raw(s.Receiver[:])
		w.U64(s.RegisteredAt)
	}
	return w.Bytes()
}

// Restore rebuilds a core with keys k from Snapshot's bytes.
func Restore(k Keys, b []byte) (*Core, error) { return RestoreWith(k, Options{}, b, nil) }

// RestoreWith rebuilds a core with keys k and options o from Snapshot's
// bytes and KeysSnapshot's (nil: no key learned from the chain).
func RestoreWith(k Keys, o Options, b, keysSnap []byte) (*Core, error) {
	r := scale.NewReader(b)
	d := r.String()
	if r.Err() != nil || d != SnapshotDomain && d != SnapshotDomainV1 {
		return nil, fmt.Errorf("%w: not a %s snapshot", ErrCorruptSnapshot, SnapshotDomain)
	}
	var st State
	st.Height = r.I64()
	st.Online = r.Bool()
	n := r.Len(1 + 8 + 1)
	for i := 0; i < n && r.Err() == nil; i++ {
		s := StreamState{Origin: r.BytesVec(), Next: r.U64()}
		m := r.Len(3 + 8 + 64)
		for j := 0; j < m && r.Err() == nil; j++ {
			var sm msg.SignedMessage
			sm.DecodeSCALE(r)
			s.Out = append(s.Out, sm)
		}
		st.Streams = append(st.Streams, s)
	}
	if d == SnapshotDomain {
		n := r.Len(32 + 8)
		for i := 0; i < n && r.Err() == nil; i++ {
			var s SentShare
			r.Fixed(s.Receiver[:])
			s.RegisteredAt = r.U64()
			st.MasterSent = append(st.MasterSent, s)
		}
	}
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptSnapshot, err)
	}
	return FromStateWith(k, o, st, keysSnap)
}

// FromState rebuilds a core with keys k from st; see FromStateWith.
func FromState(k Keys, st State) (*Core, error) { return FromStateWith(k, Options{}, st, nil) }

// FromStateWith rebuilds a core with keys k and options o from st and
// KeysSnapshot's bytes (nil: none), checking it: streams sorted by origin,
// the worker's own present, the others cluster streams; messages of the
// stream's origin with consecutive sequences ending at Next-1, each signed
// by the stream's key or, for a rotated cluster, by one of its retired keys
// (messages signed before the rotation, still in flight) (a cluster stream whose key the core does not hold
// carries no message).
func FromStateWith(k Keys, o Options, st State, keysSnap []byte) (*Core, error) {
	bad := func(format string, a ...any) (*Core, error) {
		return nil, fmt.Errorf("%w: %s", ErrCorruptSnapshot, fmt.Sprintf(format, a...))
	}
	c, err := NewWithOptions(k, max(st.Height, 0), o)
	if err != nil {
		return nil, err
	}
	if st.Height < 0 {
		return bad("negative height %d", st.Height)
	}
	if keysSnap != nil {
		if err := c.restoreKeys(keysSnap); err != nil {
			return nil, err
		}
	}
	own := false
	for i, ss := range st.Streams {
		if i > 0 && bytes.Compare(st.Streams[i-1].Origin, ss.Origin) >= 0 {
			return bad("egress streams not sorted by origin")
		}
		var s *stream
		switch {
		case bytes.Equal(ss.Origin, c.Origin()):
			s, own = c.stream(c.Origin()), true
		case isClusterOrigin(ss.Origin):
			var id [32]byte
			copy(id[:], ss.Origin[1:])
			s = c.ensureClusterStream(id)
		default:
			return bad("egress stream %d has origin %x, not this worker's nor a cluster's", i, ss.Origin)
		}
		if uint64(len(ss.Out)) > ss.Next {
			return bad("stream %x: %d messages before sequence %d", ss.Origin, len(ss.Out), ss.Next)
		}
		if len(ss.Out) > 0 && s.signer == nil {
			return bad("stream %x: messages but no key", ss.Origin)
		}
		first := ss.Next - uint64(len(ss.Out))
		for j := range ss.Out {
			m := &ss.Out[j]
			if m.Sequence != first+uint64(j) || !bytes.Equal(m.Message.Origin, s.origin) {
				return bad("stream %x: message %d (sequence %d) out of place", ss.Origin, j, m.Sequence)
			}
			if !m.Verify(s.signer.Public()) && !c.signedByRetired(ss.Origin, m) {
				return bad("stream %x: message %d not signed by the stream's key", ss.Origin, j)
			}
		}
		s.nextSeq = ss.Next
		s.out = append([]msg.SignedMessage(nil), ss.Out...)
	}
	if !own {
		return bad("no egress stream for this worker's origin")
	}
	for i, s := range st.MasterSent {
		if i > 0 && bytes.Compare(st.MasterSent[i-1].Receiver[:], s.Receiver[:]) >= 0 {
			return bad("master shares sent not sorted")
		}
		c.masterSent[s.Receiver] = s.RegisteredAt
	}
	c.online = st.Online
	return c, nil
}
