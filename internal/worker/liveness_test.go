package worker

import (
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/registry"
)

// heartbeats returns the heartbeat heights in ms, checking each is on the
// worker's own stream.
func heartbeats(t *testing.T, nd *node, ms []msg.SignedMessage) (hs []uint64, seqs []uint64) {
	t.Helper()
	for _, m := range ms {
		if string(m.Message.Topic) != msg.TopicWorkerHeartbeat {
			continue
		}
		if string(m.Message.Origin) != string(nd.c.Origin()) || !m.Verify(nd.id()) {
			t.Fatalf("heartbeat not on the worker's own signed stream: %+v", m)
		}
		var p msg.HeartbeatPayload
		if err := scale.Decode(m.Message.Payload, &p); err != nil {
			t.Fatal(err)
		}
		hs = append(hs, p.Height)
		seqs = append(seqs, m.Sequence)
	}
	return hs, seqs
}

// TestHeartbeat: a registered worker sends a heartbeat on its own stream at
// every height that is a multiple of the chain's interval, in sequence;
// the chain records it; an unregistered or deregistered worker sends none,
// and a replayed heartbeat is not accepted.
func TestHeartbeat(t *testing.T) {
	f := newFakeChain()
	f.liveness = registry.Liveness{HeartbeatInterval: 5, StaleFactor: 3}
	a, b, c := newNode(t, f, 10), newNode(t, f, 20), newNode(t, f, 30)
	f.register(a.k, goodCode)
	f.register(c.k, goodCode)
	f.dereg[c.id()] = 0
	n := &net{t: t, f: f, nodes: []*node{a, b, c}}
	var got, seqs []uint64
	var first msg.SignedMessage
	for i := 0; i < 12; i++ {
		n.step()
		hs, ss := heartbeats(t, a, a.rd.Egress)
		if len(hs) > 0 && len(got) == 0 {
			first = a.rd.Egress[0]
		}
		got, seqs = append(got, hs...), append(seqs, ss...)
		for _, other := range []*node{b, c} {
			if hs, _ := heartbeats(t, other, other.rd.Egress); len(hs) != 0 {
				t.Fatalf("height %d: worker %s sent heartbeats %v", n.height, other.id().Hex(), hs)
			}
		}
	}
	if len(got) != 2 || got[0] != 5 || got[1] != 10 || seqs[1] != seqs[0]+1 {
		t.Fatalf("heartbeats at %v with sequences %v, want 5 and 10 in sequence", got, seqs)
	}
	if f.lastSeen[a.id()] != 11 {
		t.Fatalf("chain last saw a at %d, want 11 (the block after 10)", f.lastSeen[a.id()])
	}
	if _, ok := f.submit(first); ok {
		t.Fatal("a replayed heartbeat was accepted")
	}
	// Determinism: a second core with the same keys makes the same bytes.
	a2 := newNode(t, f, 10)
	for h := int64(1); h <= 5; h++ {
		rd, err := a2.c.Step(block(h, newFakeChain().st))
		if err != nil {
			t.Fatal(err)
		}
		if h == 5 {
			if len(rd.Egress) != 1 || string(rd.Egress[0].Message.Payload) != string(first.Message.Payload) || rd.Egress[0].Signature != first.Signature {
				t.Fatalf("heartbeat not deterministic: %+v vs %+v", rd.Egress, first)
			}
		}
	}
}

// TestNoKeyToStaleWorker: the designated gatekeeper refuses a cluster key
// to a worker the chain has not seen for more than k·N blocks, reports it
// once, and sends the key as soon as a heartbeat of it lands.
func TestNoKeyToStaleWorker(t *testing.T) {
	n, a := bootstrap(t)
	n.f.liveness = registry.Liveness{HeartbeatInterval: 4, StaleFactor: 1}
	ghost := testKeys(40) // registered at 0, never steps: never heartbeats
	n.f.register(ghost, goodCode)
	n.run(4) // height 6: silent for 6 > 4 blocks
	cid := [32]byte{5}
	n.f.addCluster(cid, ghost.Identity.Public())
	var refusals int
	for i := 0; i < 3; i++ {
		n.step()
		for _, m := range a.rd.Egress {
			if string(m.Message.Topic) == msg.TopicClusterKeys {
				t.Fatalf("height %d: cluster key sent to a stale worker", n.height)
			}
		}
		for _, ch := range a.rd.Changes {
			if ch.Kind == ChangeKeyRefused && ch.Subject == ghost.Identity.Public() {
				if !strings.Contains(ch.Detail, "stale") {
					t.Fatalf("refusal %q, want stale", ch.Detail)
				}
				refusals++
			}
		}
	}
	if refusals != 1 {
		t.Fatalf("%d refusals reported, want 1", refusals)
	}
	// A heartbeat of the worker lands: it is live again.
	n.f.lastSeen[ghost.Identity.Public()] = uint64(n.height)
	n.step()
	var shared bool
	for _, m := range a.rd.Egress {
		var p msg.ClusterKeyShares
		if string(m.Message.Topic) == msg.TopicClusterKeys && scale.Decode(m.Message.Payload, &p) == nil && p.Shares[0].Worker == ghost.Identity.Public() {
			shared = true
		}
	}
	if !shared {
		t.Fatalf("no cluster key for the live worker: %v", topics(a.rd.Egress))
	}
}
