package worker

import (
	"fmt"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

func (c *Core) registerBuiltins() {
	// Built-in topics are distinct; Handle cannot fail here.
	_ = c.Handle(msg.TopicWorkerRegistered, msg.OriginModule(msg.RegistryModuleName), handleRegistered)
	// Shares come from a gatekeeper's Worker origin; the chain delivered
	// them only after checking the sender is an active gatekeeper.
	_ = c.Handle(msg.TopicMasterKeyShare, nil, handleMasterKeyShare)
	_ = c.Handle(msg.TopicMasterKeyHistory, nil, handleMasterKeyHistory)
	_ = c.Handle(msg.TopicClusterKeys, nil, handleClusterKeys)
	_ = c.Handle(msg.TopicClusterKeyHistory, nil, handleClusterKeyHistory)
	// Contract events come from the phat module only.
	_ = c.Handle(msg.TopicPhatInstantiate, msg.OriginModule(msg.PhatModuleName), handleInstantiate)
	_ = c.Handle(msg.TopicPhatCommand, msg.OriginModule(msg.PhatModuleName), handleCommand)
	_ = c.Handle(msg.TopicClusterRekeyed, msg.OriginModule(msg.PhatModuleName), handleClusterRekeyed)
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

// announceEndpoint records the worker's configured public URL on chain: a
// worker/endpoint message when the worker is registered and the chain's
// record differs, once per URL this core sent (a restarted core checks the
// record again). An invalid URL is not sent.
func (c *Core) announceEndpoint(x *Context) error {
	u := c.opts.PublicURL
	if u == "" || !c.online || c.endpointSent == u || msg.ValidEndpoint(u) != nil {
		return nil
	}
	ev, ok := c.view.(EndpointView)
	if !ok {
		return nil
	}
	cur, err := ev.WorkerEndpoint(c.Identity())
	if err != nil {
		return fmt.Errorf("endpoint: %w", err)
	}
	if cur != u {
		if err := x.Emit(c.Origin(), msg.TopicWorkerEndpoint, scale.Encode(&msg.EndpointPayload{URL: u})); err != nil {
			return err
		}
	}
	c.endpointSent = u
	return nil
}

// SetPublicURL changes the worker's configured public URL (Options.PublicURL),
// for a shell that learns it after the core was made (an address bound at
// start).
func (c *Core) SetPublicURL(u string) { c.opts.PublicURL = u }

// heartbeat sends the worker's sign of life (msg.TopicWorkerHeartbeat) on
// its own stream when the block's height is a multiple of the chain's
// heartbeat interval and the chain holds the worker's registration and has
// not deregistered it. It reads only the verified view, so every core
// stepping the same block makes the same decision.
func (c *Core) heartbeat(x *Context) error {
	l, err := c.view.Liveness()
	if err != nil {
		return fmt.Errorf("liveness: %w", err)
	}
	h := uint64(x.Block.Height)
	if !l.HeartbeatDue(h) {
		return nil
	}
	if _, ok, err := c.view.Worker(c.Identity()); err != nil || !ok {
		if err != nil {
			return fmt.Errorf("own record: %w", err)
		}
		return nil
	}
	lv, err := c.view.WorkerLiveness(c.Identity())
	if err != nil {
		return fmt.Errorf("own liveness: %w", err)
	}
	if lv.Deregistered {
		return nil
	}
	return x.Emit(c.Origin(), msg.TopicWorkerHeartbeat, scale.Encode(&msg.HeartbeatPayload{Height: h}))
}
