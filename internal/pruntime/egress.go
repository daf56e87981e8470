package pruntime

import (
	"bytes"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// TopicWorkerOnline is the topic of the message a worker sends once it sees
// its own registration in a confirmed block: it announces that the worker
// is live and which keys it serves with.
const TopicWorkerOnline = "worker/online"

// OnlinePayload is the payload of a TopicWorkerOnline message.
type OnlinePayload struct {
	Identity keys.PublicKey
	Ecdh     keys.PublicKey
	// RegisteredAt is the height of the block that registered the worker.
	RegisteredAt int64
}

// EncodeSCALE writes ([u8;32], [u8;32], i64).
func (p *OnlinePayload) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Identity[:])
	w.Raw(p.Ecdh[:])
	w.I64(p.RegisteredAt)
}

// DecodeSCALE reads the payload.
func (p *OnlinePayload) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Identity[:])
	r.Fixed(p.Ecdh[:])
	p.RegisteredAt = r.I64()
}

// egress is the worker's outgoing message stream. Messages are produced only
// from confirmed blocks (chainsync applies block H once header H+1 is
// verified), deterministically and signed deterministically, so a pRuntime
// restored from an older checkpoint that replays the same blocks re-creates
// the same bytes. The stream is part of every checkpoint.
type egress struct {
	origin []byte
	// out holds every message not yet known to be on chain, by sequence.
	out     []state.SignedMessage
	nextSeq uint64
	online  bool
}

func newEgress(id keys.PublicKey) *egress { return &egress{origin: state.OriginWorker(id)} }

// dispatch handles one message of a confirmed block.
func (e *egress) dispatch(height int64, m state.Message, k *workerKeys) {
	if e.online || string(m.Topic) != state.TopicWorkerRegistered ||
		!bytes.Equal(m.Origin, state.OriginModule(state.RegistryModuleName)) {
		return
	}
	var rec state.WorkerRecord
	if err := scale.Decode(m.Payload, &rec); err != nil || rec.Info.IdentityPublicKey != k.identity.Public() {
		return
	}
	p := OnlinePayload{Identity: k.identity.Public(), Ecdh: k.ecdh.Public(), RegisteredAt: height}
	e.emit(k, []byte(TopicWorkerOnline), scale.Encode(&p))
	e.online = true
}

// emit appends a message with the next sequence, signed deterministically.
func (e *egress) emit(k *workerKeys, topic, payload []byte) {
	msg := state.Message{Origin: bytes.Clone(e.origin), Topic: topic, Payload: payload}
	sig := k.identity.SignDeterministic(state.MessageSigningPayload(&msg, e.nextSeq))
	e.out = append(e.out, state.SignedMessage{Message: msg, Sequence: e.nextSeq, Signature: sig})
	e.nextSeq++
}

// ready returns the messages the chain has not accepted yet, reading the
// chain's next sequence for this worker from verified state, and forgets
// the ones it has.
func (e *egress) ready(st state.Store) ([]state.SignedMessage, uint64) {
	next, err := state.NextSequence(st, e.origin)
	if err != nil {
		return nil, 0
	}
	i := 0
	for i < len(e.out) && e.out[i].Sequence < next {
		i++
	}
	e.out = e.out[i:]
	return append([]state.SignedMessage(nil), e.out...), next
}

func (e *egress) pending(st state.Store) int {
	m, _ := e.ready(st)
	return len(m)
}

func (e *egress) registered(st state.Store) bool {
	id := e.origin[1:]
	var pk keys.PublicKey
	copy(pk[:], id)
	_, ok, err := state.GetWorker(st, pk)
	return err == nil && ok
}

// encode writes the stream for a checkpoint.
func (e *egress) encode(w *scale.Writer) {
	w.Bool(e.online)
	w.U64(e.nextSeq)
	w.Compact(uint64(len(e.out)))
	for i := range e.out {
		e.out[i].EncodeSCALE(w)
	}
}

func (e *egress) decode(r *scale.Reader) {
	e.online = r.Bool()
	e.nextSeq = r.U64()
	n := r.Len(1)
	e.out = make([]state.SignedMessage, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var m state.SignedMessage
		m.DecodeSCALE(r)
		e.out = append(e.out, m)
	}
}
