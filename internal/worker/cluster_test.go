package worker

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

const topicTestContract = "test/contract"

// contractMsg is a test chain event (module "test") that makes every
// worker publish a contract key for cluster (payload: cluster ‖ contract).
func contractMsg(cluster, contract [32]byte) msg.Message {
	return msg.Message{Origin: msg.OriginModule("test"), Topic: []byte(topicTestContract), Payload: append(cluster[:], contract[:]...)}
}

func handleTestContract(x *Context, m msg.Message) error {
	var cl, ct [32]byte
	copy(cl[:], m.Payload[:32])
	copy(ct[:], m.Payload[32:])
	_, _, err := x.PublishContractKey(cl, ct)
	return err
}

func (n *net) joinContract(t *testing.T, seed byte) *node {
	nd := n.join(t, seed, goodCode)
	if err := nd.c.Handle(topicTestContract, msg.OriginModule("test"), handleTestContract); err != nil {
		t.Fatal(err)
	}
	return nd
}

func clusterEgress(rd Ready, id [32]byte) []msg.SignedMessage {
	var out []msg.SignedMessage
	for _, m := range rd.Egress {
		if bytes.Equal(m.Message.Origin, msg.OriginCluster(id)) {
			out = append(out, m)
		}
	}
	return out
}

// TestClusterKeysAndEgress: the designated gatekeeper keys a cluster's
// workers; they publish contract keys with identical bytes; a worker
// that does not hold the key yet counts the sequence, and once added and
// keyed it holds the same key and continues at the same sequence.
func TestClusterKeysAndEgress(t *testing.T) {
	n, a := bootstrap(t)
	if err := a.c.Handle(topicTestContract, msg.OriginModule("test"), handleTestContract); err != nil {
		t.Fatal(err)
	}
	w1, w2, w3 := n.joinContract(t, 41), n.joinContract(t, 42), n.joinContract(t, 43)
	cid := [32]byte{0: 0, 31: 0} // cluster 0, as the phat module numbers them
	n.f.addCluster(cid, w1.id(), w2.id())
	n.run(3)
	want := cipher.ClusterKey(a.c.master.pair, cid)
	for _, w := range []*node{w1, w2} {
		k := w.c.clusterKeys[cid]
		if k == nil || k.pair.SecretBytes() != want.SecretBytes() {
			t.Fatalf("worker %s: cluster key missing or wrong", w.id().Hex())
		}
		in := w.c.KeyInfo(n.f.st)
		if len(in.Clusters) != 1 || in.Clusters[0].ID != cid || in.Clusters[0].Pubkey != want.Public() || in.Gatekeeper {
			t.Fatalf("key info %+v", in)
		}
	}
	if w3.c.clusterKeys[cid] != nil || a.c.clusterKeys[cid] != nil {
		t.Fatal("a worker outside the cluster holds its key")
	}
	if cl := n.f.clusters[cid]; !cl.HasPubkey || cl.Pubkey != want.Public() || len(cl.Keyed) != 2 {
		t.Fatalf("chain's cluster %+v", cl)
	}

	// A contract: every worker handles the event; the two keyed ones emit
	// identical bytes, the others only count.
	c1 := [32]byte{0xc1}
	n.extra = []msg.Message{contractMsg(cid, c1)}
	n.step()
	e1, e2 := clusterEgress(w1.rd, cid), clusterEgress(w2.rd, cid)
	if len(e1) != 1 || !bytes.Equal(encode(e1), encode(e2)) {
		t.Fatalf("cluster egress differs: %d %d", len(e1), len(e2))
	}
	if e1[0].Sequence != 0 || !e1[0].Verify(want.Public()) {
		t.Fatal("cluster message: wrong sequence or not signed by the cluster key")
	}
	if len(clusterEgress(w3.rd, cid)) != 0 || len(clusterEgress(a.rd, cid)) != 0 {
		t.Fatal("a worker without the key emitted cluster egress")
	}
	for _, nd := range []*node{a, w1, w2, w3} {
		if seq, ok := nd.c.ClusterSequence(cid); !ok || seq != 1 {
			t.Fatalf("node %s counts cluster sequence %d (%v)", nd.id().Hex(), seq, ok)
		}
	}
	n.step()
	pub, _ := w1.c.ContractPublicKey(cid, c1)
	if n.f.contracts[c1] != pub || pub != cipher.NewEcdhKey(cipher.ContractKey(want, c1)).Public() {
		t.Fatal("contract key not published")
	}

	// w3 joins the cluster: it is keyed, holds the same key, and emits the
	// same bytes as the others at the next sequence.
	n.f.addClusterWorker(cid, w3.id())
	n.run(3)
	if k := w3.c.clusterKeys[cid]; k == nil || k.pair.SecretBytes() != want.SecretBytes() {
		t.Fatal("late worker has no or another cluster key")
	}
	c2 := [32]byte{0xc2}
	n.extra = []msg.Message{contractMsg(cid, c2)}
	n.step()
	e1, e2, e3 := clusterEgress(w1.rd, cid), clusterEgress(w2.rd, cid), clusterEgress(w3.rd, cid)
	if len(e3) != 1 || e3[0].Sequence != 1 || !bytes.Equal(encode(e1), encode(e3)) || !bytes.Equal(encode(e2), encode(e3)) {
		t.Fatalf("late worker's cluster egress differs (%d messages)", len(e3))
	}
}

// TestClusterSequenceFollowsChain: a worker whose count is behind the
// chain (it missed emissions) follows the chain's sequence.
func TestClusterSequenceFollowsChain(t *testing.T) {
	f := newFakeChain()
	w := newNode(t, f, 41)
	cid := [32]byte{9}
	f.addCluster(cid)
	setNext(f.st, msg.OriginCluster(cid), 5)
	if _, err := w.c.Step(block(1, f.st)); err != nil {
		t.Fatal(err)
	}
	if seq, _ := w.c.ClusterSequence(cid); seq != 5 {
		t.Fatalf("sequence %d, want 5", seq)
	}
}

func TestPublishContractKeyUnknownCluster(t *testing.T) {
	f := newFakeChain()
	w := newNode(t, f, 41)
	if err := w.c.Handle(topicTestContract, nil, handleTestContract); err != nil {
		t.Fatal(err)
	}
	if _, err := w.c.Step(block(1, f.st, contractMsg([32]byte{1}, [32]byte{2}))); err == nil {
		t.Fatal("published a contract key for an unknown cluster")
	}
	if w.c.Height() != 0 {
		t.Fatal("failed step not undone")
	}
}

// TestClusterSharesBatched: at most MaxSharesPerMessage shares a message.
func TestClusterSharesBatched(t *testing.T) {
	n, a := bootstrap(t)
	var ws []keys.PublicKey
	for i := 0; i < msg.MaxSharesPerMessage+6; i++ {
		k := Keys{Identity: keys.FromSeed([32]byte{0x77, byte(i)}), Ecdh: keys.FromSeed([32]byte{0x78, byte(i)})}
		n.f.register(k, goodCode)
		ws = append(ws, k.Identity.Public())
	}
	cid := [32]byte{4}
	n.f.addCluster(cid, ws...)
	n.step()
	var sizes []int
	for _, m := range a.rd.Egress {
		var p msg.ClusterKeyShares
		if string(m.Message.Topic) != msg.TopicClusterKeys || decode(m.Message.Payload, &p) != nil {
			t.Fatalf("unexpected %s", m.Message.Topic)
		}
		sizes = append(sizes, len(p.Shares))
	}
	if len(sizes) != 2 || sizes[0] != msg.MaxSharesPerMessage || sizes[1] != 6 {
		t.Fatalf("share batches %v", sizes)
	}
	n.run(2)
	if len(n.f.clusters[cid].Keyed) != len(ws) || len(a.rd.Egress) != 0 {
		t.Fatalf("%d keyed; still sending %v", len(n.f.clusters[cid].Keyed), topics(a.rd.Egress))
	}
}

func decode(b []byte, v scale.Decodable) error { return scale.Decode(b, v) }

// TestDevBootstrap: the dev chain's first worker is the only gatekeeper
// and the only worker of cluster 0: it generates the master key, keys
// itself through the chain, and publishes contract keys.
func TestDevBootstrap(t *testing.T) {
	f := newFakeChain()
	a := newNode(t, f, 10)
	if err := a.c.Handle(topicTestContract, msg.OriginModule("test"), handleTestContract); err != nil {
		t.Fatal(err)
	}
	f.register(a.k, goodCode)
	f.addGatekeeper(a.id())
	cid := [32]byte{}
	f.addCluster(cid, a.id())
	n := &net{t: t, f: f, nodes: []*node{a}}
	n.run(4)
	k := a.c.clusterKeys[cid]
	if k == nil || k.pair.Public() != cipher.ClusterKey(a.c.master.pair, cid).Public() {
		t.Fatal("the dev gatekeeper did not key its own cluster")
	}
	n.extra = []msg.Message{contractMsg(cid, [32]byte{0xc1})}
	n.run(2)
	if _, ok := f.contracts[[32]byte{0xc1}]; !ok {
		t.Fatal("contract key not published")
	}
}

// TestStepUndoesKeys: a step that fails after the gatekeeper emitted a
// share (IV counter advanced, share remembered) leaves the core as it was;
// the retried step emits the same bytes as a core that never failed.
func TestStepUndoesKeys(t *testing.T) {
	n, a := bootstrap(t)
	twin, err := RestoreWith(a.k, Options{View: n.f.view, Verifier: &fakeVerifier{}}, a.c.Snapshot(), a.c.KeysSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	b := n.join(t, 20, goodCode)
	w := n.join(t, 41, goodCode)
	n.f.addGatekeeper(b.id())
	n.f.addCluster([32]byte{1}, w.id())
	snap, ks := a.c.Snapshot(), a.c.KeysSnapshot()
	n.f.clusterErr = errors.New("cluster record does not decode")
	if _, err := a.c.Step(block(n.height+1, n.f.st)); err == nil {
		t.Fatal("step with a broken cluster record succeeded")
	}
	if !bytes.Equal(a.c.Snapshot(), snap) || !bytes.Equal(a.c.KeysSnapshot(), ks) || a.c.Height() != n.height {
		t.Fatal("failed step changed the core")
	}
	n.f.clusterErr = nil
	rd, err := a.c.Step(block(n.height+1, n.f.st))
	if err != nil {
		t.Fatal(err)
	}
	rd2, err := twin.Step(block(n.height+1, n.f.st))
	if err != nil {
		t.Fatal(err)
	}
	if len(rd.Egress) != 2 || !bytes.Equal(encode(rd.Egress), encode(rd2.Egress)) {
		t.Fatalf("retried step: %v, twin %v", topics(rd.Egress), topics(rd2.Egress))
	}
}
