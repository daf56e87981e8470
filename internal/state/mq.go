package state

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tx"
)

// The mq module (index 3) carries messages between the chain and workers.
//
// A Message's Origin is the SCALE encoding of an enum:
//
//	enum Origin {
//	    Module(String) = 0,          // a state-machine module, e.g. "registry"
//	    Worker([u8; 32]) = 1,        // a registered worker, by identity key
//	    // 2..254 reserved (contracts, clusters, gatekeepers)
//	    Reserved = 255,              // never an origin: signed non-mq content may start with 0xff
//	}
//
// Workers submit signed egress through mq.submit (anyone may relay it and
// pays the fee); modules emit messages directly. Both end up, in execution
// order, in the block's Messages, which the AppHash commits to.
const (
	// ModuleMq is the message-queue module.
	ModuleMq uint8 = 3
	// MethodSubmit is mq.submit(SignedMessage).
	MethodSubmit uint8 = 0
)

// Origin kinds: the first byte of an encoded origin.
const (
	OriginKindModule   uint8 = 0
	OriginKindWorker   uint8 = 1
	OriginKindReserved uint8 = 0xff
)

// Limits of the mq module.
const (
	// MaxTopicLen bounds a message topic (topics are 1..MaxTopicLen bytes).
	MaxTopicLen = 256
	// MaxModuleNameLen bounds the name in a Module origin.
	MaxModuleNameLen = 64
)

// MqSigningDomain prefixes the payload a worker signs for an egress message.
const MqSigningDomain = "cella/mq/v1"

// mqSigCacheDomain separates message-signature entries of the SigCache from
// transaction hashes.
const mqSigCacheDomain = "cella/mq/sigcache/v1"

// MqSubmitWeight is the weight of mq.submit (message signature check,
// sequence read and write).
const MqSubmitWeight uint64 = 60_000

// PrefixMqIngress starts the key of each origin's next expected sequence:
// "mq/ingress/" ‖ origin → u64 little-endian.
var PrefixMqIngress = []byte("mq/ingress/")

// ErrBadOrigin is wrapped by ParseOrigin errors.
var ErrBadOrigin = errors.New("state: bad message origin")

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
	Kind   uint8
	Module string         // Kind == OriginKindModule
	Worker keys.PublicKey // Kind == OriginKindWorker
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

// String renders the origin as "module:<name>" or "worker:0x<hex>".
func (o Origin) String() string {
	switch o.Kind {
	case OriginKindModule:
		return "module:" + o.Module
	case OriginKindWorker:
		return "worker:" + o.Worker.Hex()
	}
	return fmt.Sprintf("origin(%d)", o.Kind)
}

// originString renders raw origin bytes for logs, whether or not they decode.
func originString(b []byte) string {
	if o, err := ParseOrigin(b); err == nil {
		return o.String()
	}
	return "0x" + hex.EncodeToString(b)
}

// SignedMessage is a worker's egress: a message, its sequence number in the
// origin's stream, and the origin's sr25519 signature over
// MessageSigningPayload(Message, Sequence).
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

// MessageSigningPayload returns what a worker signs for message m with
// sequence seq: "cella/mq/v1" ‖ SCALE(m) ‖ u64le(seq). The whole payload is
// signed (sr25519, context "substrate"), never a hash of it.
func MessageSigningPayload(m *Message, seq uint64) []byte {
	w := scale.NewWriter(len(MqSigningDomain) + len(m.Origin) + len(m.Topic) + len(m.Payload) + 24)
	w.Raw([]byte(MqSigningDomain))
	m.EncodeSCALE(w)
	w.U64(seq)
	return w.Bytes()
}

// SignMessage signs m with sequence seq by p (a worker's identity key).
func SignMessage(p *keys.Pair, m Message, seq uint64) SignedMessage {
	return SignedMessage{Message: m, Sequence: seq, Signature: p.Sign(MessageSigningPayload(&m, seq))}
}

// Verify reports whether the signature is pub's over the message and sequence.
func (s *SignedMessage) Verify(pub keys.PublicKey) bool {
	return keys.Verify(pub, MessageSigningPayload(&s.Message, s.Sequence), s.Signature)
}

// sigCacheKey is the SigCache entry of a valid message signature by pub.
func (s *SignedMessage) sigCacheKey(pub keys.PublicKey) [32]byte {
	var seq [8]byte
	binary.LittleEndian.PutUint64(seq[:], s.Sequence)
	return hashing.Blake2b256([]byte(mqSigCacheDomain), pub[:], s.Signature[:], scale.Encode(&s.Message), seq[:])
}

// SubmitCall builds mq.submit(signed).
func SubmitCall(s SignedMessage) tx.Call {
	return tx.Call{Module: ModuleMq, Method: MethodSubmit, Args: scale.Encode(&s)}
}

// DecodeSubmitArgs decodes the arguments of mq.submit and checks the message
// statically: the origin decodes, the topic has 1..MaxTopicLen bytes.
func DecodeSubmitArgs(args []byte) (SignedMessage, error) {
	var s SignedMessage
	if err := scale.Decode(args, &s); err != nil {
		return SignedMessage{}, fmt.Errorf("mq.submit args: %w", err)
	}
	if _, err := ParseOrigin(s.Message.Origin); err != nil {
		return SignedMessage{}, fmt.Errorf("mq.submit args: %w", err)
	}
	if len(s.Message.Topic) == 0 || len(s.Message.Topic) > MaxTopicLen {
		return SignedMessage{}, fmt.Errorf("mq.submit args: topic of %d bytes, want 1 to %d", len(s.Message.Topic), MaxTopicLen)
	}
	return s, nil
}

func checkSubmit(args []byte) error {
	_, err := DecodeSubmitArgs(args)
	return err
}

// MqIngressKey returns the key of origin's next expected sequence.
func MqIngressKey(origin []byte) []byte {
	k := make([]byte, 0, len(PrefixMqIngress)+len(origin))
	k = append(k, PrefixMqIngress...)
	return append(k, origin...)
}

// NextSequence returns the sequence the next accepted message of origin must
// carry (0 for an origin that never sent one).
func NextSequence(st Store, origin []byte) (uint64, error) {
	v, err := st.Get(MqIngressKey(origin))
	if err != nil {
		return 0, fmt.Errorf("state: reading mq sequence: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: mq sequence of %s has %d bytes", ErrCorruptState, originString(origin), len(v))
	}
	return binary.LittleEndian.Uint64(v), nil
}

func putNextSequence(ov *Overlay, origin []byte, next uint64) {
	v := make([]byte, 8)
	binary.LittleEndian.PutUint64(v, next)
	ov.setOwned(MqIngressKey(origin), v)
}

// PendingSequences is implemented by a CheckTx PendingNonces value that also
// tracks the egress messages the mempool holds: CheckTx then requires a
// message's sequence to follow the origin's pending ones instead of the
// committed one, so that a relayer can submit several messages of one origin
// in a row.
type PendingSequences interface {
	// NextSequence returns the sequence origin's next message must carry
	// after the mempool's messages, and false when the mempool holds none.
	NextSequence(origin []byte) (uint64, bool)
}

// admitSubmit runs mq.submit's admission checks (all rejections): the origin
// is a registered worker, the sequence is exactly the next one, and the
// signature is the worker's identity key's.
func admitSubmit(a *admitCtx, args []byte) (uint32, string, error) {
	s, err := DecodeSubmitArgs(args)
	if err != nil { // checked statically before; kept for safety
		return CodeBadArgs, err.Error(), nil
	}
	o, _ := ParseOrigin(s.Message.Origin)
	if o.Kind != OriginKindWorker {
		return CodeMqUnknownOrigin, fmt.Sprintf("origin %s cannot submit messages (only registered workers can)", o), nil
	}
	rec, ok, err := GetWorker(a.st, o.Worker)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return CodeMqUnknownOrigin, fmt.Sprintf("origin %s is not a registered worker", o), nil
	}
	next, err := NextSequence(a.st, s.Message.Origin)
	if err != nil {
		return 0, "", err
	}
	if s.Sequence < next {
		return CodeMqReplayedSequence, fmt.Sprintf("sequence %d of %s already accepted: next is %d", s.Sequence, o, next), nil
	}
	want := next
	if a.pending != nil {
		if p, ok := a.pending.NextSequence(s.Message.Origin); ok && p > want {
			want = p
		}
		if s.Sequence < want {
			return CodeMqPendingSequence, fmt.Sprintf("sequence %d of %s is taken by a pending message: next free is %d", s.Sequence, o, want), nil
		}
	}
	if s.Sequence > want {
		return CodeMqGappedSequence, fmt.Sprintf("sequence %d of %s leaves a gap: expected %d", s.Sequence, o, want), nil
	}
	if s.Sequence == math.MaxUint64 {
		return CodeMqGappedSequence, fmt.Sprintf("sequence space of %s exhausted", o), nil
	}
	pub := rec.Info.IdentityPublicKey
	ck := s.sigCacheKey(pub)
	if a.cache == nil || !a.cache.Contains(ck) {
		if !s.Verify(pub) {
			return CodeMqBadSignature, fmt.Sprintf("message signature does not verify for %s", o), nil
		}
		if a.cache != nil {
			a.cache.Add(ck)
		}
	}
	return CodeOK, "", nil
}

// execSubmit appends an admitted message to the block's messages and
// advances its origin's sequence.
func execSubmit(c *callCtx, args []byte) (uint32, string, error) {
	s, err := DecodeSubmitArgs(args)
	if err != nil {
		return CodeBadArgs, err.Error(), nil
	}
	putNextSequence(c.ov, s.Message.Origin, s.Sequence+1)
	c.msgs = append(c.msgs, s.Message)
	c.events = append(c.events, Event{Type: "mq_message", Attributes: []EventAttribute{
		{Key: "origin", Value: originString(s.Message.Origin), Index: true},
		{Key: "topic", Value: displayTopic(s.Message.Topic), Index: true},
		{Key: "sequence", Value: strconv.FormatUint(s.Sequence, 10)},
	}})
	return CodeOK, "", nil
}

// emit appends a message from module name to the call's output.
func (c *callCtx) emit(module, topic string, payload []byte) {
	c.msgs = append(c.msgs, Message{Origin: OriginModule(module), Topic: []byte(topic), Payload: payload})
}

// displayTopic renders a topic for an event: as text when it is printable
// ASCII, as 0x-hex otherwise.
func displayTopic(t []byte) string {
	for _, b := range t {
		if b < 0x20 || b > 0x7e {
			return "0x" + hex.EncodeToString(t)
		}
	}
	return string(t)
}
