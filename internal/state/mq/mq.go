// Package mq is the message-queue module (index 3 of AppVersion1): it
// carries messages from workers and clusters to the chain. Workers (signed
// by their identity key) and clusters (signed by their recorded cluster
// key) submit egress (msg.SignedMessage) through mq.submit — anyone may
// relay it and pays the fee — and modules emit messages directly; a message
// whose topic has an on-chain handler is delivered only if the handler
// accepts it; both end up, in execution
// order, in the block's Messages, which the AppHash commits to. The message
// types, origins and topics are in internal/msg.
package mq

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the message-queue module's index.
	Index uint8 = 3
	// MethodSubmit is mq.submit(SignedMessage).
	MethodSubmit uint8 = 0
)

// sigCacheDomain separates message-signature entries of the SigCache from
// transaction hashes.
const sigCacheDomain = "cella/mq/sigcache/v1"

// SubmitWeight is the weight of mq.submit (message signature check,
// sequence read and write).
const SubmitWeight uint64 = 60_000

// SubmitWeightPerByte is mq.submit's weight per byte of its arguments: the
// message hash for the signature, and the topic handler's work, which grows
// with the payload. A cluster/outcomes entry is at least 41 bytes (12,300)
// plus 48 bytes (14,400) per payout. Calibrated with
// BenchmarkExecuteBlockOutcomes (internal/state, 2-core shared dev box,
// 2026-11-27): settling one outcome (refund and charge, no payouts) took
// 5.8–6.2 µs, so about 2× margin per entry; a payout is one account read
// and write (less than a transfer's 10,000).
const SubmitWeightPerByte uint64 = 300

// MaxSubmitArgs bounds mq.submit's arguments (and so its heaviest weight,
// ≈ 315 M, within a genesis block weight of 500 M). The largest message a
// worker emits is a cluster/outcomes of msg.MaxOutcomesPerMessage entries
// with msg.MaxPayouts payouts each (≈ 399 KB, weight ≈ 120 M: its fee stays
// below pherry's default fee limit of one Unit), far below.
const MaxSubmitArgs = 1 << 20

// PrefixIngress starts the key of each origin's next expected sequence:
// "mq/ingress/" ‖ origin → u64 little-endian.
var PrefixIngress = []byte("mq/ingress/")

// Module returns the mq module with the on-chain topic handlers (the table
// in internal/state/modules). mq.submit offers each admitted message to its
// topic's handler, if any: a refusal is a failure code of the call, the
// origin's sequence advance is kept (state.CallCtx.KeepWritesOnFailure) so
// that a worker's stream never jams on a message that became invalid in
// flight, and the message is not delivered. The handler runs in a Sub
// context, so nothing else of a refused message survives. In CheckTx
// (dry run) the handlers are not asked: the transaction has an effect (the
// sequence) whatever they would say, so the mempool must take it.
func Module(handlers map[string]state.TopicHandler) *state.Module {
	h := submitter{handlers: handlers}
	return &state.Module{Name: "mq", Methods: []*state.Method{
		MethodSubmit: {Name: "submit", Weight: SubmitWeight, WeightPerByte: SubmitWeightPerByte, MaxArgs: MaxSubmitArgs, Check: checkSubmit, Admit: admitSubmit, Exec: h.exec, Egress: egress},
	}}
}

// originString renders raw origin bytes for logs, whether or not they decode.
func originString(b []byte) string {
	if o, err := msg.ParseOrigin(b); err == nil {
		return o.String()
	}
	return "0x" + hex.EncodeToString(b)
}

// SigCacheKey is the SigCache entry of a valid message signature by pub.
func SigCacheKey(s *msg.SignedMessage, pub keys.PublicKey) [32]byte {
	var seq [8]byte
	binary.LittleEndian.PutUint64(seq[:], s.Sequence)
	return hashing.Blake2b256([]byte(sigCacheDomain), pub[:], s.Signature[:], scale.Encode(&s.Message), seq[:])
}

// SubmitCall builds mq.submit(signed).
func SubmitCall(s msg.SignedMessage) tx.Call {
	return tx.Call{Module: Index, Method: MethodSubmit, Args: scale.Encode(&s)}
}

// DecodeSubmitArgs decodes the arguments of mq.submit and checks the message
// statically: the origin decodes, the topic has 1..msg.MaxTopicLen bytes.
func DecodeSubmitArgs(args []byte) (msg.SignedMessage, error) {
	var s msg.SignedMessage
	if err := scale.Decode(args, &s); err != nil {
		return msg.SignedMessage{}, fmt.Errorf("mq.submit args: %w", err)
	}
	if _, err := msg.ParseOrigin(s.Message.Origin); err != nil {
		return msg.SignedMessage{}, fmt.Errorf("mq.submit args: %w", err)
	}
	if len(s.Message.Topic) == 0 || len(s.Message.Topic) > msg.MaxTopicLen {
		return msg.SignedMessage{}, fmt.Errorf("mq.submit args: topic of %d bytes, want 1 to %d", len(s.Message.Topic), msg.MaxTopicLen)
	}
	return s, nil
}

func checkSubmit(args []byte) error {
	_, err := DecodeSubmitArgs(args)
	return err
}

// egress names the origin and sequence of a submitted message.
func egress(args []byte) ([]byte, uint64, bool) {
	s, err := DecodeSubmitArgs(args)
	if err != nil {
		return nil, 0, false
	}
	return s.Message.Origin, s.Sequence, true
}

// IngressKey returns the key of origin's next expected sequence.
func IngressKey(origin []byte) []byte {
	k := make([]byte, 0, len(PrefixIngress)+len(origin))
	k = append(k, PrefixIngress...)
	return append(k, origin...)
}

// NextSequence returns the sequence the next accepted message of origin must
// carry (0 for an origin that never sent one).
func NextSequence(st state.Store, origin []byte) (uint64, error) {
	v, err := st.Get(IngressKey(origin))
	if err != nil {
		return 0, fmt.Errorf("state: reading mq sequence: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: mq sequence of %s has %d bytes", state.ErrCorruptState, originString(origin), len(v))
	}
	return binary.LittleEndian.Uint64(v), nil
}

func putNextSequence(ov *state.Overlay, origin []byte, next uint64) {
	v := make([]byte, 8)
	binary.LittleEndian.PutUint64(v, next)
	ov.SetOwned(IngressKey(origin), v)
}

// originKey returns the key that signs origin o's messages: a registered
// worker's identity key, or a cluster's recorded public key. False: o
// cannot submit messages.
func originKey(st state.Store, o msg.Origin) (keys.PublicKey, bool, string, error) {
	switch o.Kind {
	case msg.OriginKindWorker:
		rec, ok, err := registry.GetWorker(st, o.Worker)
		if err != nil || !ok {
			return keys.PublicKey{}, false, fmt.Sprintf("origin %s is not a registered worker", o), err
		}
		return rec.Info.IdentityPublicKey, true, "", nil
	case msg.OriginKindCluster:
		pub, ok, err := phat.ClusterPubkey(st, o.Cluster)
		if err != nil || !ok {
			return keys.PublicKey{}, false, fmt.Sprintf("origin %s is not a cluster with a recorded key", o), err
		}
		return pub, true, "", nil
	}
	return keys.PublicKey{}, false, fmt.Sprintf("origin %s cannot submit messages (only registered workers and keyed clusters can)", o), nil
}

// previousKey is a rotated cluster's key of the epoch before its current
// one (phat.ClusterPreviousPubkey); false for workers and clusters never
// rotated.
func previousKey(st state.Store, o msg.Origin) (keys.PublicKey, bool, error) {
	if o.Kind != msg.OriginKindCluster {
		return keys.PublicKey{}, false, nil
	}
	return phat.ClusterPreviousPubkey(st, o.Cluster)
}

// admitSubmit runs mq.submit's admission checks (all rejections): the origin
// is a registered worker (not deregistered) or a cluster with a recorded key, the sequence is
// exactly the next one, and the signature is the origin's key's.
func admitSubmit(a *state.AdmitCtx, args []byte) (uint32, string, error) {
	s, err := DecodeSubmitArgs(args)
	if err != nil { // checked statically before; kept for safety
		return state.CodeBadArgs, err.Error(), nil
	}
	o, _ := msg.ParseOrigin(s.Message.Origin)
	pub, ok, log, err := originKey(a.Store, o)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeMqUnknownOrigin, log, nil
	}
	if o.Kind == msg.OriginKindWorker {
		if at, dereg, err := registry.DeregisteredAt(a.Store, o.Worker); err != nil || dereg {
			if err != nil {
				return 0, "", err
			}
			return state.CodeMqWorkerDeregistered, fmt.Sprintf("origin %s was deregistered by its operator at height %d", o, at), nil
		}
	}
	next, err := NextSequence(a.Store, s.Message.Origin)
	if err != nil {
		return 0, "", err
	}
	if s.Sequence < next {
		return state.CodeMqReplayedSequence, fmt.Sprintf("sequence %d of %s already accepted: next is %d", s.Sequence, o, next), nil
	}
	want := next
	if a.Pending != nil {
		if p, ok := a.Pending.NextSequence(s.Message.Origin); ok && p > want {
			want = p
		}
		if s.Sequence < want {
			return state.CodeMqPendingSequence, fmt.Sprintf("sequence %d of %s is taken by a pending message: next free is %d", s.Sequence, o, want), nil
		}
	}
	if s.Sequence > want {
		return state.CodeMqGappedSequence, fmt.Sprintf("sequence %d of %s leaves a gap: expected %d", s.Sequence, o, want), nil
	}
	if s.Sequence == math.MaxUint64 {
		return state.CodeMqGappedSequence, fmt.Sprintf("sequence space of %s exhausted", o), nil
	}
	ck := SigCacheKey(&s, pub)
	if a.Cache == nil || !a.Cache.Contains(ck) {
		if !s.Verify(pub) {
			// A rotated cluster's messages signed before its workers
			// received the new key carry the previous key's signature —
			// never its contract keys of the new epoch, which only the
			// new key publishes (a leaked old key must not choose the keys
			// clients encrypt to).
			prev, ok, err := previousKey(a.Store, o)
			if string(s.Message.Topic) == msg.TopicContractKeys {
				ok = false
			}
			if err != nil {
				return 0, "", err
			}
			if !ok || !s.Verify(prev) {
				return state.CodeMqBadSignature, fmt.Sprintf("message signature does not verify for %s", o), nil
			}
		}
		if a.Cache != nil {
			a.Cache.Add(ck)
		}
	}
	return state.CodeOK, "", nil
}

type submitter struct{ handlers map[string]state.TopicHandler }

// exec advances an admitted message's origin's sequence, offers the message
// to its topic's handler, and appends it to the block's messages when the
// handler accepts it (or there is none).
func (h submitter) exec(c *state.CallCtx, args []byte) (uint32, string, error) {
	s, err := DecodeSubmitArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	putNextSequence(c.Overlay(), s.Message.Origin, s.Sequence+1)
	if handle := h.handlers[string(s.Message.Topic)]; handle != nil && !c.DryRun() {
		o, _ := msg.ParseOrigin(s.Message.Origin)
		sub := c.Sub(c.Origin())
		code, log, err := handle(sub, o, s.Message.Payload)
		if err != nil {
			return 0, "", err
		}
		if code != state.CodeOK {
			if !state.Accepted(code) { // a handler must answer with a failure code
				code = state.CodeMqBadPayload
			}
			c.KeepWritesOnFailure()
			return code, fmt.Sprintf("%s refused (sequence %d of %s consumed): %s", displayTopic(s.Message.Topic), s.Sequence, o, log), nil
		}
		c.Merge(sub)
	}
	c.Emit(s.Message)
	c.AddEvent(state.Event{Type: "mq_message", Attributes: []state.EventAttribute{
		{Key: "origin", Value: originString(s.Message.Origin), Index: true},
		{Key: "topic", Value: displayTopic(s.Message.Topic), Index: true},
		{Key: "sequence", Value: strconv.FormatUint(s.Sequence, 10)},
	}})
	return state.CodeOK, "", nil
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
