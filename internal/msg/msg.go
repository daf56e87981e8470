// Package msg is the one home of the messages that cross between the chain
// and its workers: the Message the AppHash commits to, its Origin encoding,
// the SignedMessage a worker submits through mq.submit, every topic and
// every payload type. The state machine's modules and pRuntime both import
// it, so either side can decode the other's messages without importing the
// other. It is pure: it imports only the codec, keys and hashing.
package msg

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Message is one output of the message queue for a block, in order: the
// egress accepted by mq.submit and the messages modules emit. Its encoding
// enters the AppHash (state.MessagesRoot).
type Message struct {
	Origin  []byte
	Topic   []byte
	Payload []byte
}

// EncodeSCALE writes the message as (Vec<u8>, Vec<u8>, Vec<u8>).
func (m *Message) EncodeSCALE(w *scale.Writer) {
	w.BytesVec(m.Origin)
	w.BytesVec(m.Topic)
	w.BytesVec(m.Payload)
}

// DecodeSCALE reads a message.
func (m *Message) DecodeSCALE(r *scale.Reader) {
	m.Origin = r.BytesVec()
	m.Topic = r.BytesVec()
	m.Payload = r.BytesVec()
}

// A Message's Origin is the SCALE encoding of an enum:
//
//	enum Origin {
//	    Module(String) = 0,          // a state-machine module, e.g. "registry"
//	    Worker([u8; 32]) = 1,        // a registered worker, by identity key
//	    Cluster([u8; 32]) = 2,       // a cluster's egress, by cluster id (OriginKindCluster)
//	    // 3..254 reserved for the origins that come next (contracts, …):
//	    // each gets its kind here, with ParseOrigin and String taught to
//	    // read it.
//	    Reserved = 255,              // never an origin: signed non-mq content may start with 0xff
//	}
//
// Workers submit signed egress through mq.submit (anyone may relay it and
// pays the fee); modules emit messages directly.
const (
	OriginKindModule   uint8 = 0
	OriginKindWorker   uint8 = 1
	OriginKindReserved uint8 = 0xff
)

// Limits of messages.
const (
	// MaxTopicLen bounds a message topic (topics are 1..MaxTopicLen bytes).
	MaxTopicLen = 256
	// MaxModuleNameLen bounds the name in a Module origin.
	MaxModuleNameLen = 64
)

// ErrBadOrigin is wrapped by ParseOrigin errors.
var ErrBadOrigin = errors.New("msg: bad message origin")

// OriginModule returns the origin of messages emitted by a state-machine
// module: 0x00 ‖ SCALE String(name).
func OriginModule(name string) []byte {
	w := scale.NewWriter(2 + len(name))
	w.U8(OriginKindModule)
	w.String(name)
	return w.Bytes()
}

// OriginWorker returns the origin of a worker's egress: 0x01 ‖ identity key.
func OriginWorker(pub keys.PublicKey) []byte {
	out := make([]byte, 1+32)
	out[0] = OriginKindWorker
	copy(out[1:], pub[:])
	return out
}

// Origin is a decoded message origin.
type Origin struct {
	Kind    uint8
	Module  string         // Kind == OriginKindModule
	Worker  keys.PublicKey // Kind == OriginKindWorker
	Cluster [32]byte       // Kind == OriginKindCluster
}

// ParseOrigin decodes an origin. The encoding must be exact (no trailing
// bytes) and of a known kind.
func ParseOrigin(b []byte) (Origin, error) {
	r := scale.NewReader(b)
	var o Origin
	o.Kind = r.U8()
	switch o.Kind {
	case OriginKindModule:
		o.Module = r.String()
		if r.Err() == nil && (o.Module == "" || len(o.Module) > MaxModuleNameLen) {
			return Origin{}, fmt.Errorf("%w: module name of %d bytes", ErrBadOrigin, len(o.Module))
		}
	case OriginKindWorker:
		r.Fixed(o.Worker[:])
	case OriginKindCluster:
		r.Fixed(o.Cluster[:])
	default:
		if r.Err() == nil {
			return Origin{}, fmt.Errorf("%w: unknown kind %d", ErrBadOrigin, o.Kind)
		}
	}
	if err := r.Finish(); err != nil {
		return Origin{}, fmt.Errorf("%w: %w", ErrBadOrigin, err)
	}
	return o, nil
}

// String renders the origin as "module:<name>", "worker:0x<hex>" or
// "cluster:0x<hex>".
func (o Origin) String() string {
	switch o.Kind {
	case OriginKindModule:
		return "module:" + o.Module
	case OriginKindWorker:
		return "worker:" + o.Worker.Hex()
	case OriginKindCluster:
		return "cluster:0x" + hex.EncodeToString(o.Cluster[:])
	}
	return fmt.Sprintf("origin(%d)", o.Kind)
}

// SigningDomain prefixes the payload a worker signs for an egress message.
const SigningDomain = "cella/mq/v1"

// SignedMessage is a worker's egress: a message, its sequence number in the
// origin's stream, and the origin's sr25519 signature over
// SigningPayload(Message, Sequence).
type SignedMessage struct {
	Message   Message
	Sequence  uint64
	Signature keys.Signature
}

// EncodeSCALE writes (Message, u64, [u8; 64]).
func (s *SignedMessage) EncodeSCALE(w *scale.Writer) {
	s.Message.EncodeSCALE(w)
	w.U64(s.Sequence)
	w.Raw(s.Signature[:])
}

// DecodeSCALE reads a signed message.
func (s *SignedMessage) DecodeSCALE(r *scale.Reader) {
	s.Message.DecodeSCALE(r)
	s.Sequence = r.U64()
	r.Fixed(s.Signature[:])
}

// SigningPayload returns what a worker signs for message m with sequence
// seq: "cella/mq/v1" ‖ SCALE(m) ‖ u64le(seq). The whole payload is signed
// (sr25519, context "substrate"), never a hash of it.
func SigningPayload(m *Message, seq uint64) []byte {
	w := scale.NewWriter(len(SigningDomain) + len(m.Origin) + len(m.Topic) + len(m.Payload) + 24)
	w.Raw([]byte(SigningDomain))
	m.EncodeSCALE(w)
	w.U64(seq)
	return w.Bytes()
}

// Sign signs m with sequence seq by p (a worker's identity key).
func Sign(p *keys.Pair, m Message, seq uint64) SignedMessage {
	return SignedMessage{Message: m, Sequence: seq, Signature: p.Sign(SigningPayload(&m, seq))}
}

// Verify reports whether the signature is pub's over the message and sequence.
func (s *SignedMessage) Verify(pub keys.PublicKey) bool {
	return keys.Verify(pub, SigningPayload(&s.Message, s.Sequence), s.Signature)
}
