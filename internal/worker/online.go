package worker

import (
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

func (c *Core) registerBuiltins() {
	// Built-in topics are distinct; Handle cannot fail here.
	_ = c.Handle(state.TopicWorkerRegistered, state.OriginModule(state.RegistryModuleName), handleRegistered)
}

// handleRegistered announces the worker once the registry records it: one
// worker/online message, the first time only.
func handleRegistered(x *Context, m state.Message) error {
	c := x.core
	if c.online {
		return nil
	}
	var rec state.WorkerRecord
	if err := scale.Decode(m.Payload, &rec); err != nil || rec.Info.IdentityPublicKey != c.Identity() {
		return nil
	}
	p := OnlinePayload{Identity: c.Identity(), Ecdh: c.Ecdh(), RegisteredAt: x.Block.Height}
	if err := x.Emit(c.Origin(), TopicWorkerOnline, scale.Encode(&p)); err != nil {
		return err
	}
	c.online = true
	x.Record(ChangeOnline)
	return nil
}
