package state_test

import (
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

func TestLivenessRules(t *testing.T) {
	def := registry.DefaultLiveness
	for _, tc := range []struct {
		name     string
		l        registry.Liveness
		lastSeen uint64
		height   uint64
		stale    bool
		due      bool
	}{
		{"fresh", def, 100, 110, false, true},
		{"exactly k·N", def, 100, 130, false, true},
		{"one past k·N", def, 100, 131, true, false},
		{"seen after height", def, 200, 131, false, false},
		{"off", registry.Liveness{}, 0, 1_000_000, false, false},
		{"N=1 k=1", registry.Liveness{HeartbeatInterval: 1, StaleFactor: 1}, 5, 7, true, true},
	} {
		if got := tc.l.Stale(tc.lastSeen, tc.height); got != tc.stale {
			t.Errorf("%s: stale %v, want %v", tc.name, got, tc.stale)
		}
		if got := tc.l.HeartbeatDue(tc.height); got != tc.due {
			t.Errorf("%s: due %v, want %v", tc.name, got, tc.due)
		}
	}
	if registry.DefaultLiveness.HeartbeatDue(0) {
		t.Error("heartbeat due at height 0")
	}
	for _, bad := range []registry.Liveness{
		{HeartbeatInterval: 10, StaleFactor: 0},
		{HeartbeatInterval: registry.MaxHeartbeatInterval + 1, StaleFactor: 3},
		{HeartbeatInterval: 10, StaleFactor: registry.MaxStaleFactor + 1},
	} {
		if bad.Check() == nil {
			t.Errorf("%+v passes Check", bad)
		}
	}
}

// TestHeartbeat: a registered worker's heartbeat records the height of the
// block that carried it; bad heights and payloads are refused with the
// sequence consumed and nothing else written; a replayed sequence is
// rejected by the mq as any egress.
func TestHeartbeat(t *testing.T) {
	c, ws := keysChain(t)
	bob := dev(t, "Bob")
	w1 := ws[0]
	origin := msg.OriginWorker(w1.Public())
	submit := func(want uint32, s msg.SignedMessage) *state.BlockResult {
		t.Helper()
		return c.do(want, c.submit(bob, c.account(bob.Public()).Nonce, s))
	}
	last := func() (uint64, bool) {
		t.Helper()
		h, ok, err := registry.LastHeartbeat(c.st, w1.Public())
		if err != nil {
			t.Fatal(err)
		}
		return h, ok
	}
	if _, ok := last(); ok {
		t.Fatal("heartbeat before any was sent")
	}
	submit(state.CodeOK, gkMsg(w1, 0, msg.TopicWorkerHeartbeat, &msg.HeartbeatPayload{Height: 1}))
	if h, ok := last(); !ok || h != uint64(c.height) {
		t.Fatalf("last heartbeat %d %v, want %d", h, ok, c.height)
	}
	seen := uint64(c.height)
	seq := uint64(1)
	for _, tc := range []struct {
		name    string
		payload []byte
		want    uint32
	}{
		{"height 0", encodeHB(0), state.CodeBadHeartbeat},
		{"future height", encodeHB(1 << 40), state.CodeBadHeartbeat},
		{"short payload", []byte{1, 2, 3}, state.CodeMqBadPayload},
		{"trailing bytes", append(encodeHB(1), 0), state.CodeMqBadPayload},
	} {
		s := msg.Sign(w1, msg.Message{Origin: origin, Topic: []byte(msg.TopicWorkerHeartbeat), Payload: tc.payload}, seq)
		refused(t, c, submit(tc.want, s), origin, seq+1)
		seq++
		if h, _ := last(); h != seen {
			t.Fatalf("%s: last heartbeat moved to %d", tc.name, h)
		}
	}
	// A stale sequence (a replayed heartbeat) is rejected: no effect at all.
	res := c.block(c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(w1, 0, msg.TopicWorkerHeartbeat, &msg.HeartbeatPayload{Height: 1})))
	if r := res.TxResults[0]; r.Code != state.CodeMqReplayedSequence || len(res.WriteSet) != 0 {
		t.Fatalf("replayed heartbeat: %s, %d writes", state.CodeName(r.Code), len(res.WriteSet))
	}
	submit(state.CodeOK, gkMsg(w1, seq, msg.TopicWorkerHeartbeat, &msg.HeartbeatPayload{Height: uint64(c.height)}))
	if h, _ := last(); h != uint64(c.height) {
		t.Fatalf("last heartbeat %d, want %d", h, c.height)
	}
	rec, _, _ := registry.GetWorker(c.st, w1.Public())
	lv, err := registry.GetWorkerLiveness(c.st, &rec)
	if err != nil || lv.LastSeen != uint64(c.height) || lv.Deregistered {
		t.Fatalf("liveness %+v %v", lv, err)
	}
}

func encodeHB(h uint64) []byte { return scale.Encode(&msg.HeartbeatPayload{Height: h}) }

func pubBytes(k keys.PublicKey) []byte { return append([]byte(nil), k[:]...) }

// TestDeregisterWorker: only the operator named in the registration can
// deregister a worker, once; afterwards its egress is rejected with
// CodeMqWorkerDeregistered (no effect at all) and its identity cannot
// register again.
func TestDeregisterWorker(t *testing.T) {
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	w1, w2 := ws[0], ws[1]
	for _, tc := range []struct {
		name string
		from string
		args []byte
		want uint32
	}{
		{"not the operator", "Bob", pubBytes(w1.Public()), state.CodeNotOperator},
		{"unknown worker", "Alice", pubBytes(bob.Public()), state.CodeWorkerNotRegistered},
		{"short args", "Alice", pubBytes(w1.Public())[:31], state.CodeBadArgs},
		{"long args", "Alice", append(pubBytes(w1.Public()), 0), state.CodeBadArgs},
		{"operator", "Alice", pubBytes(w1.Public()), state.CodeOK},
		{"again", "Alice", pubBytes(w1.Public()), state.CodeWorkerDeregistered},
	} {
		from := alice
		if tc.from == "Bob" {
			from = bob
		}
		call := tx.Call{Module: registry.Index, Method: registry.MethodDeregisterWorker, Args: tc.args}
		res := c.block(c.send(from, call))
		if r := res.TxResults[0]; r.Code != tc.want {
			t.Fatalf("%s: %s (%s), want %s", tc.name, state.CodeName(r.Code), r.Log, state.CodeName(tc.want))
		}
		if tc.want != state.CodeOK && registryKeysWritten(res.WriteSet) {
			t.Fatalf("%s: failed deregistration wrote registry state", tc.name)
		}
	}
	at, ok, err := registry.DeregisteredAt(c.st, w1.Public())
	if err != nil || !ok || at == 0 {
		t.Fatalf("deregistered at %d %v %v", at, ok, err)
	}
	if _, ok, _ := registry.DeregisteredAt(c.st, w2.Public()); ok {
		t.Fatal("w2 deregistered too")
	}
	// Its egress is rejected, in CheckTx and in a block; w2's goes on.
	raw := c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(w1, 0, msg.TopicWorkerHeartbeat, &msg.HeartbeatPayload{Height: 1}))
	if cr := c.m.CheckTx(c.st, c.height+1, raw, nil, chainHashes{upTo: c.height}); cr.Code != state.CodeMqWorkerDeregistered {
		t.Fatalf("CheckTx of a deregistered worker's egress: %s", state.CodeName(cr.Code))
	}
	res := c.block(raw)
	if r := res.TxResults[0]; r.Code != state.CodeMqWorkerDeregistered || len(res.WriteSet) != 0 {
		t.Fatalf("deregistered worker's egress: %s, %d writes", state.CodeName(r.Code), len(res.WriteSet))
	}
	c.do(state.CodeOK, c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(w2, 0, msg.TopicWorkerHeartbeat, &msg.HeartbeatPayload{Height: 1})))
	// Its identity cannot register again.
	info := c.regInfo(w1, alice.Public())
	c.do(state.CodeWorkerDeregistered, c.register(alice, c.account(alice.Public()).Nonce, info, devAtt(t, info)))
}

// TestSetLiveness: set_liveness is privileged, checks its range, and
// replaces the default.
func TestSetLiveness(t *testing.T) {
	c, _ := keysChain(t)
	alice := dev(t, "Alice")
	if l, err := registry.GetLiveness(c.st); err != nil || l != registry.DefaultLiveness {
		t.Fatalf("liveness %+v %v, want the default", l, err)
	}
	want := registry.Liveness{HeartbeatInterval: 5, StaleFactor: 4}
	c.do(state.CodePrivilegedCall, c.send(alice, registry.SetLivenessCall(want)))
	c.sudo(state.CodeBadLiveness, alice, registry.SetLivenessCall(registry.Liveness{HeartbeatInterval: 5}))
	c.sudo(state.CodeOK, alice, registry.SetLivenessCall(want))
	if l, err := registry.GetLiveness(c.st); err != nil || l != want {
		t.Fatalf("liveness %+v %v, want %+v", l, err, want)
	}
}
