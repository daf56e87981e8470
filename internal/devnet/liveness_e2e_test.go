package devnet

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

// signedHeartbeat returns the signed heartbeat of origin that block h
// carries (an mq.submit transaction of it).
func (k *keyNet) signedHeartbeat(h int64, origin []byte) (msg.SignedMessage, bool) {
	k.t.Helper()
	blk, err := k.c.RPC().Block(k.ctx, &h)
	if err != nil {
		k.t.Fatal(err)
	}
	for _, raw := range blk.Block.Data.Txs {
		t, err := tx.Decode(raw)
		if err != nil || t.Body.Call.Module != mq.Index || t.Body.Call.Method != mq.MethodSubmit {
			continue
		}
		s, err := mq.DecodeSubmitArgs(t.Body.Call.Args)
		if err == nil && string(s.Message.Origin) == string(origin) && string(s.Message.Topic) == msg.TopicWorkerHeartbeat {
			return s, true
		}
	}
	return msg.SignedMessage{}, false
}

// send signs call by from and waits for its block.
func (k *keyNet) send(from *keys.Pair, call tx.Call) *client.TxResult {
	k.t.Helper()
	t, err := k.c.Build(k.ctx, from, call, client.TxOptions{})
	if err != nil {
		k.t.Fatal(err)
	}
	h, err := k.c.Submit(k.ctx, t)
	if err != nil {
		k.t.Fatal(err)
	}
	r, err := k.c.Wait(k.ctx, h)
	if err != nil {
		k.t.Fatal(err)
	}
	return r
}

// TestLivenessE2E: on a real node, workers send heartbeats that the
// registry records; the operator of B deregisters it (another account
// cannot), which takes B out of cluster 1 (its workers and keyed workers)
// in the same transaction; B's egress is refused from then on with
// mq_worker_deregistered, and B cannot join a cluster again.
func TestLivenessE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and three workers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k := startKeyNet(ctx, t, 50*time.Millisecond)
	k.sudo("registry.set_liveness", registry.SetLivenessCall(registry.Liveness{HeartbeatInterval: 3, StaleFactor: 5}))
	a, _ := k.worker("a", "Bob")
	k.waitRegistered(a)
	b, bLog := k.worker("b", "Charlie")
	c, _ := k.worker("c", "Dave")
	k.waitRegistered(b, c)
	id := func(w *Worker) keys.PublicKey { return w.Runtime.Info().IdentityPublicKey }
	info := func(w *Worker) *chainapi.WorkerInfo {
		t.Helper()
		wi, err := k.c.Worker(ctx, id(w))
		if err != nil {
			t.Fatal(err)
		}
		return wi
	}

	// B's heartbeat appears on chain.
	var hb *chainapi.WorkerInfo
	nodetest.WaitFor(ctx, t, "B's heartbeat in the registry", 20*time.Millisecond, func() bool {
		hb = info(b)
		return hb.LastHeartbeatHeight > 0
	})
	if hb.Stale || hb.Deregistered || hb.LastSeenHeight != hb.LastHeartbeatHeight || hb.StaleAfterBlocks != 15 {
		t.Fatalf("B after a heartbeat: %+v", hb)
	}
	old, ok := k.signedHeartbeat(int64(hb.LastHeartbeatHeight), msg.OriginWorker(id(b)))
	if !ok {
		t.Fatalf("no heartbeat of B in block %d", hb.LastHeartbeatHeight)
	}

	// Cluster 1 of B and C: the gatekeeper keys C (and B, live).
	k.sudo("phat.create_cluster(B, C)", phat.CreateClusterCall(phat.CreateArgs{
		Owner: k.admin.Public(), Workers: []keys.PublicKey{id(b), id(c)}}))
	cluster1 := phat.ClusterID(1)
	k.waitClusterKey("C", c, cluster1)

	// B crashes and misses heartbeats; it is deregistered while down.
	// Restarted, it replays the blocks before its deregistration and makes
	// the heartbeats it missed: the chain refuses them, and B's pherry
	// stops relaying B's stream.
	killedAt := b.Runtime.Info().Height
	b.Kill()
	k.waitHeight(killedAt+7, a, c)
	// Only B's operator (Charlie) may deregister it.
	eve, _ := keys.FromURI("//Eve") // no worker's operator: its nonces are its own
	charlie, _ := keys.FromURI("//Charlie")
	if tb, err := k.c.Build(ctx, eve, registry.DeregisterWorkerCall(id(b)), client.TxOptions{}); err != nil {
		t.Fatal(err)
	} else if _, err := k.c.Submit(ctx, tb); !isTxCode(err, state.CodeNotOperator) {
		t.Fatalf("deregistration by Eve: %v", err)
	}
	r := k.send(charlie, registry.DeregisterWorkerCall(id(b)))
	if !r.OK() {
		t.Fatalf("deregistration by the operator: %s %s", r.Result, r.Log)
	}
	if wi := info(b); !wi.Deregistered || wi.DeregisteredHeight != uint64(r.Height) {
		t.Fatalf("B after deregistration: %+v", wi)
	}
	// B left cluster 1 in the same transaction: C alone is its worker and
	// keyed worker.
	if ci := k.cluster(cluster1); len(ci.Workers) != 1 || ci.Workers[0] != id(c).Hex() || slices.Contains(ci.Keyed, id(b).Hex()) || !slices.Contains(ci.Keyed, id(c).Hex()) {
		t.Fatalf("cluster 1 after B's deregistration: workers %v, keyed %v", ci.Workers, ci.Keyed)
	}
	if err := b.Restart(ctx); err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(ctx, t, "B's pherry giving up on B's refused egress", 20*time.Millisecond, func() bool {
		for _, l := range bLog.except(devTEEWarning) {
			if strings.Contains(l, "no longer relaying") && strings.Contains(l, "deregistered") {
				return true
			}
		}
		return false
	})
	// B's egress is refused: even a message the chain once took, relayed
	// again, meets the deregistration first.
	if _, err := k.c.SubmitEgress(ctx, eve, old); !isTxCode(err, state.CodeMqWorkerDeregistered) {
		t.Fatalf("B's egress after deregistration: %v", err)
	}
	seq, err := k.c.NextSequence(ctx, msg.OriginWorker(id(b)))
	if err != nil {
		t.Fatal(err)
	}
	// B cannot join a cluster again (refused already at CheckTx).
	if _, err := k.c.Sudo(ctx, k.admin, phat.AddWorkerCall(cluster1, id(b))); !isTxCode(err, state.CodeWorkerDeregistered) {
		t.Fatalf("phat.add_worker of B after its deregistration: %v", err)
	}
	created := a.Runtime.Info().Height
	k.waitHeight(created+10, a, b, c)
	// B kept following the chain, but nothing more of its stream landed
	// and its last heartbeat stayed where it was.
	if seq2, err := k.c.NextSequence(ctx, msg.OriginWorker(id(b))); err != nil || seq2 != seq {
		t.Fatalf("B's stream moved from %d to %d after its deregistration (%v)", seq, seq2, err)
	}
	if wi := info(b); wi.LastHeartbeatHeight > uint64(r.Height) {
		t.Fatalf("B's heartbeat at %d landed after its deregistration at %d", wi.LastHeartbeatHeight, r.Height)
	}
	if wi := info(c); wi.LastHeartbeatHeight <= uint64(created) {
		t.Fatalf("C's heartbeats stopped: %+v", wi)
	}
}

func isTxCode(err error, code uint32) bool {
	var te *client.TxError
	return errors.As(err, &te) && te.Code == code
}
