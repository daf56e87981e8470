package worker

import (
	"bytes"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
)

// stream is one egress origin's outgoing messages. Messages are made only
// while a confirmed block is stepped, and signed deterministically, so a
// core restored from an older snapshot that steps the same blocks again
// re-creates the same bytes.
type stream struct {
	origin []byte
	// signer is nil for a cluster stream whose key the core lacks.
	signer *keys.Pair
	// out holds every message not yet known to be on chain, by sequence;
	// the last has sequence nextSeq-1.
	out     []msg.SignedMessage
	nextSeq uint64
}

// advance takes the next sequence without a message: a cluster stream
// whose key the core does not hold yet still counts what the cluster
// emits, so that it continues at the right number once it holds the key.
func (s *stream) advance() { s.nextSeq++ }

func (s *stream) emit(topic string, payload []byte) msg.SignedMessage {
	m := msg.Message{Origin: bytes.Clone(s.origin), Topic: []byte(topic), Payload: payload}
	sm := msg.SignedMessage{Message: m, Sequence: s.nextSeq,
		Signature: s.signer.SignDeterministic(msg.SigningPayload(&m, s.nextSeq))}
	// A saved copy (Core.save) sees only its own length: appending in
	// place leaves it intact.
	s.out = append(s.out, sm)
	s.nextSeq++
	return sm
}

// forget drops the messages whose sequence is below next.
func (s *stream) forget(next uint64) {
	i := 0
	for i < len(s.out) && s.out[i].Sequence < next {
		i++
	}
	s.out = s.out[i:]
}

// pending returns copies of the messages with a sequence of next or more.
func (s *stream) pending(next uint64) []msg.SignedMessage {
	var out []msg.SignedMessage
	for _, m := range s.out {
		if m.Sequence >= next {
			out = append(out, m)
		}
	}
	return out
}

// Egress is one stream's messages that the chain has not accepted yet.
type Egress struct {
	Origin []byte
	// Next is the sequence the chain expects next from Origin.
	Next     uint64
	Messages []msg.SignedMessage
}

// Pending returns, for the worker's own origin, the messages the chain has
// not accepted yet (in sequence order) and the next sequence the chain
// expects, read from st (the verified state). It changes nothing.
func (c *Core) Pending(st state.Store) ([]msg.SignedMessage, uint64, error) {
	e, err := c.pendingOf(st, c.stream(c.Origin()))
	return e.Messages, e.Next, err
}

// PendingAll returns Pending for every stream, by origin.
func (c *Core) PendingAll(st state.Store) ([]Egress, error) {
	out := make([]Egress, 0, len(c.streams))
	for _, s := range c.streams {
		e, err := c.pendingOf(st, s)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

func (c *Core) pendingOf(st state.Store, s *stream) (Egress, error) {
	next, err := mq.NextSequence(st, s.origin)
	if err != nil {
		return Egress{Origin: bytes.Clone(s.origin)}, err
	}
	return Egress{Origin: bytes.Clone(s.origin), Next: next, Messages: s.pending(next)}, nil
}

// Registered reports whether st (the verified state) holds the worker's
// registration.
func (c *Core) Registered(st state.Store) bool {
	_, ok, err := registry.GetWorker(st, c.keys.Identity.Public())
	return err == nil && ok
}
