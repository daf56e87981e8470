package worker

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// SnapshotDomain starts every snapshot of the core (and names its format
// version).
const SnapshotDomain = "cella/worker/v1"

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
	return st
}

// Snapshot returns the core's state as deterministic SCALE bytes (equal
// states give equal bytes):
//
//	String "cella/worker/v1" ‖ i64 height ‖ bool online ‖ Vec<Stream> by origin
//	Stream = Vec<u8> origin ‖ u64 next sequence ‖ Vec<SignedMessage> not yet accepted
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
	return w.Bytes()
}

// Restore rebuilds a core with keys k from Snapshot's bytes.
func Restore(k Keys, b []byte) (*Core, error) {
	r := scale.NewReader(b)
	if d := r.String(); r.Err() != nil || d != SnapshotDomain {
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
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorruptSnapshot, err)
	}
	return FromState(k, st)
}

// FromState rebuilds a core with keys k from st, checking it: streams
// sorted by origin, each one the core holds a key for (every stream of the
// core present), messages of the stream's origin with consecutive
// sequences ending at Next-1, each signed by the stream's key.
func FromState(k Keys, st State) (*Core, error) {
	bad := func(format string, a ...any) (*Core, error) {
		return nil, fmt.Errorf("%w: %s", ErrCorruptSnapshot, fmt.Sprintf(format, a...))
	}
	c, err := New(k, max(st.Height, 0))
	if err != nil {
		return nil, err
	}
	if st.Height < 0 {
		return bad("negative height %d", st.Height)
	}
	if len(st.Streams) != len(c.streams) {
		return bad("%d egress streams, this core has %d", len(st.Streams), len(c.streams))
	}
	for i, ss := range st.Streams {
		s := c.streams[i] // both sorted by origin
		if !bytes.Equal(ss.Origin, s.origin) {
			return bad("egress stream %d has origin %x, this core's is %x", i, ss.Origin, s.origin)
		}
		if uint64(len(ss.Out)) > ss.Next {
			return bad("stream %x: %d messages before sequence %d", ss.Origin, len(ss.Out), ss.Next)
		}
		first := ss.Next - uint64(len(ss.Out))
		for j := range ss.Out {
			m := &ss.Out[j]
			if m.Sequence != first+uint64(j) || !bytes.Equal(m.Message.Origin, s.origin) {
				return bad("stream %x: message %d (sequence %d) out of place", ss.Origin, j, m.Sequence)
			}
			if !m.Verify(s.signer.Public()) {
				return bad("stream %x: message %d not signed by the stream's key", ss.Origin, j)
			}
		}
		s.nextSeq = ss.Next
		s.out = append([]msg.SignedMessage(nil), ss.Out...)
	}
	c.online = st.Online
	return c, nil
}
