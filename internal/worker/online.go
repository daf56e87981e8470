package worker

import (
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

func (c *Core) registerBuiltins() {
	// Built-in topics are distinct; Handle cannot fail here.
	_ = c.Handle(msg.TopicWorkerRegistered, msg.OriginModule(msg.RegistryModuleName), handleRegistered)
	// Shares come from a gatekeeper's Worker origin; the chain delivered
	// them only after checking the sender is an active gatekeeper.
	_ = c.Handle(msg.TopicMasterKeyShare, nil, handleMasterKeyShare)
	_ = c.Handle(msg.TopicClusterKeys, nil, handleClusterKeys)
	// Contract events come from the phat module only.
	_ = c.Handle(msg.TopicPhatInstantiate, msg.OriginModule(msg.PhatModuleName), handleInstantiate)
	_ = c.Handle(msg.TopicPhatCommand, msg.OriginModule(msg.PhatModuleName), handleCommand)
}

// handleRegistered announces the worker once the registry records it: one
// worker/online message, the first time only.
func handleRegistered(x *Context, m msg.Message) error {
	c := x.core
	if c.online {
		return nil
	}
	var rec msg.WorkerRecord
	if err := scale.Decode(m.Payload, &rec); err != nil || rec.Info.IdentityPublicKey != c.Identity() {
		return nil
	}
	p := msg.OnlinePayload{Identity: c.Identity(), Ecdh: c.Ecdh(), RegisteredAt: x.Block.Height}
	if err := x.Emit(c.Origin(), msg.TopicWorkerOnline, scale.Encode(&p)); err != nil {
		return err
	}
	c.online = true
	x.Record(ChangeOnline)
	return nil
}
