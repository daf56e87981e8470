package pruntime

import (
	"bytes"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
)

// egress is the worker's outgoing message stream. Messages are produced only
// from confirmed blocks (chainsync applies block H once header H+1 is
// verified), deterministically and signed deterministically, so a pRuntime
// restored from an older checkpoint that replays the same blocks re-creates
// the same bytes. The stream is part of every checkpoint.
type egress struct {
	origin []byte
	// out holds every message not yet known to be on chain, by sequence.
	out     []msg.SignedMessage
	nextSeq uint64
	online  bool
}

func newEgress(id keys.PublicKey) *egress { return &egress{origin: msg.OriginWorker(id)} }

// dispatch handles one message of a confirmed block.
func (e *egress) dispatch(st state.Store, m chainsync.QueuedMessage, k *workerKeys) {
	if e.online || string(m.Topic) != msg.TopicWorkerRegistered ||
		!bytes.Equal(m.Origin, msg.OriginModule(msg.RegistryModuleName)) {
		return
	}
	var rec msg.WorkerRecord
	if err := scale.Decode(m.Payload, &rec); err != nil || rec.Info.IdentityPublicKey != k.identity.Public() {
		return
	}
	p := msg.OnlinePayload{Identity: k.identity.Public(), Ecdh: k.ecdh.Public(), RegisteredAt: m.Height}
	e.emit(k, []byte(msg.TopicWorkerOnline), scale.Encode(&p))
	e.online = true
}

// emit appends a message with the next sequence, signed deterministically.
func (e *egress) emit(k *workerKeys, topic, payload []byte) {
	m := msg.Message{Origin: bytes.Clone(e.origin), Topic: topic, Payload: payload}
	sig := k.identity.SignDeterministic(msg.SigningPayload(&m, e.nextSeq))
	e.out = append(e.out, msg.SignedMessage{Message: m, Sequence: e.nextSeq, Signature: sig})
	e.nextSeq++
}

// ready returns the messages the chain has not accepted yet, reading the
// chain's next sequence for this worker from verified state, and forgets
// the ones it has.
func (e *egress) ready(st state.Store) ([]msg.SignedMessage, uint64) {
	next, err := mq.NextSequence(st, e.origin)
	if err != nil {
		return nil, 0
	}
	i := 0
	for i < len(e.out) && e.out[i].Sequence < next {
		i++
	}
	e.out = e.out[i:]
	return append([]msg.SignedMessage(nil), e.out...), next
}

func (e *egress) pending(st state.Store) int {
	m, _ := e.ready(st)
	return len(m)
}

func (e *egress) registered(st state.Store) bool {
	id := e.origin[1:]
	var pk keys.PublicKey
	copy(pk[:], id)
	_, ok, err := registry.GetWorker(st, pk)
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
	e.out = make([]msg.SignedMessage, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var m msg.SignedMessage
		m.DecodeSCALE(r)
		e.out = append(e.out, m)
	}
}
