package worker

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// TestMasterKeyRotationTwice: two gatekeepers and a cluster of two
// workers on the fake chain rotate the master key twice. Each time the
// generator (the first active gatekeeper) makes the key, the other
// gatekeeper receives it by a share and says ready, the chain ends the
// rotation, the cluster is re-keyed for both workers with the key derived
// from the new master key, and everyone keeps the old keys (through a
// snapshot too).
func TestMasterKeyRotationTwice(t *testing.T) {
	n, a := bootstrap(t)
	b := n.join(t, 20, goodCode)
	n.f.addGatekeeper(b.id())
	w1, w2 := n.join(t, 31, goodCode), n.join(t, 32, goodCode)
	cid := [32]byte{0xc1}
	n.f.addCluster(cid, w1.id(), w2.id())
	n.run(6)
	if !n.f.gk(b.id()).Active || len(n.f.clusters[cid].Keyed) != 2 {
		t.Fatalf("setup: gatekeepers %+v, cluster %+v", n.f.gks, n.f.clusters[cid])
	}
	gen := n.f.gks[0].Identity // the first by identity generates
	var genNode, other *node
	if gen == a.id() {
		genNode, other = a, b
	} else {
		genNode, other = b, a
	}

	for epoch := uint32(1); epoch <= 2; epoch++ {
		oldMaster := genNode.c.master.pair.Public()
		oldCluster := n.f.clusters[cid].Pubkey
		if !n.f.rotate() {
			t.Fatal("rotation refused")
		}
		if n.f.rotate() {
			t.Fatal("a second rotation started while one is in progress")
		}
		enacted := n.height
		usable := int64(0)
		var generated, masterShares, clusterShares int
		for i := 0; i < 10 && usable == 0; i++ {
			n.step()
			for _, m := range genNode.rd.Egress {
				switch string(m.Message.Topic) {
				case msg.TopicMasterPubkey:
					generated++
				case msg.TopicMasterKeyShare:
					masterShares++
				case msg.TopicClusterKeys:
					clusterShares++
				}
			}
			if len(other.rd.Egress) > 0 && string(other.rd.Egress[0].Message.Topic) == msg.TopicMasterPubkey {
				t.Fatal("a gatekeeper other than the generator announced a key")
			}
			if k := w1.c.clusterKeys[cid]; k != nil && k.epoch == epoch && w2.c.clusterKeys[cid] != nil && w2.c.clusterKeys[cid].epoch == epoch {
				usable = n.height - enacted
			}
		}
		if usable == 0 {
			t.Fatalf("epoch %d: the cluster was not re-keyed", epoch)
		}
		t.Logf("epoch %d: cluster key usable by its workers %d blocks after the rotation was enacted", epoch, usable)
		n.run(3) // the last ready lands
		if generated != 1 || masterShares != 1 || clusterShares != 1 {
			t.Fatalf("epoch %d: %d announcements, %d master shares, %d cluster-key messages", epoch, generated, masterShares, clusterShares)
		}
		mr := n.f.master
		if mr.Epoch != epoch || mr.Pubkey == oldMaster || n.f.rotation != nil {
			t.Fatalf("epoch %d: chain master %+v, rotation %+v", epoch, mr, n.f.rotation)
		}
		for _, g := range []*node{a, b} {
			if !g.c.holdsMaster(*mr) || !n.f.gk(g.id()).Active || len(g.c.oldMasters) != int(epoch) || g.c.oldMasters[epoch-1].pair.Public() != oldMaster {
				t.Fatalf("epoch %d: gatekeeper %s holds epoch %d, %d old keys", epoch, g.id().Hex(), g.c.master.epoch, len(g.c.oldMasters))
			}
		}
		want := cipher.ClusterKey(genNode.c.master.pair, cid).Public()
		cl := n.f.clusters[cid]
		if cl.Pubkey != want || cl.Epoch != epoch || len(cl.Keyed) != 2 {
			t.Fatalf("epoch %d: cluster %+v", epoch, cl)
		}
		for _, w := range []*node{w1, w2} {
			old := w.c.oldClusterKeys[cid]
			if w.c.clusterKeys[cid].pair.Public() != want || len(old) != int(epoch) || old[len(old)-1].pair.Public() != oldCluster {
				t.Fatalf("epoch %d: worker keys %d old", epoch, len(old))
			}
			if s := w.c.stream(msg.OriginCluster(cid)); s.signer.Public() != want {
				t.Fatal("cluster stream not signed by the new key")
			}
		}
	}
	// A worker added after the rotations gets the past keys (one history
	// message, just before its share), then the current key.
	w3 := n.join(t, 33, goodCode)
	n.f.addClusterWorker(cid, w3.id())
	var order []string
	for i := 0; i < 4; i++ {
		n.step()
		for _, m := range genNode.rd.Egress {
			order = append(order, string(m.Message.Topic))
		}
	}
	if len(order) != 2 || order[0] != msg.TopicClusterKeyHistory || order[1] != msg.TopicClusterKeys {
		t.Fatalf("gatekeeper sent %v to the new worker", order)
	}
	if k := w3.c.clusterKeys[cid]; k == nil || k.pair.Public() != n.f.clusters[cid].Pubkey || len(w3.c.oldClusterKeys[cid]) != 2 {
		t.Fatal("the new worker did not get the current and past keys")
	}
	for i, k := range w3.c.oldClusterKeys[cid] {
		if o := w1.c.oldClusterKeys[cid][i]; k.epoch != o.epoch || k.pair.Public() != o.pair.Public() {
			t.Fatalf("past key %d differs", i)
		}
	}
	// A third gatekeeper gets the past master keys, then the current one;
	// once it is the only gatekeeper it serves a new cluster worker every
	// epoch's cluster key.
	g3 := n.join(t, 5, goodCode)
	n.f.addGatekeeper(g3.id())
	n.run(4)
	if !n.f.gk(g3.id()).Active || !g3.c.holdsMaster(*n.f.master) || len(g3.c.oldMasters) != 2 {
		t.Fatalf("third gatekeeper: active %v, %d old master keys", n.f.gk(g3.id()).Active, len(g3.c.oldMasters))
	}
	for i, m := range g3.c.oldMasters {
		if m.epoch != a.c.oldMasters[i].epoch || m.pair.Public() != a.c.oldMasters[i].pair.Public() {
			t.Fatalf("old master %d differs", i)
		}
	}
	n.f.gks = []Gatekeeper{*n.f.gk(g3.id())}
	w4 := n.join(t, 34, goodCode)
	n.f.addClusterWorker(cid, w4.id())
	n.run(4)
	if k := w4.c.clusterKeys[cid]; k == nil || len(w4.c.oldClusterKeys[cid]) != 2 {
		t.Fatal("the worker served by the third gatekeeper lacks keys")
	}
	for i, k := range w4.c.oldClusterKeys[cid] {
		if k.pair.Public() != w1.c.oldClusterKeys[cid][i].pair.Public() {
			t.Fatalf("past key %d from the third gatekeeper differs", i)
		}
	}
	// Every epoch survives a snapshot, byte for byte.
	for _, nd := range []*node{a, w1, w3, g3, w4} {
		r, err := RestoreWith(nd.k, Options{View: n.f.view}, nd.c.Snapshot(), nd.c.KeysSnapshot())
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.KeysSnapshot(), nd.c.KeysSnapshot()) {
			t.Fatal("keys snapshot changed by a restore")
		}
	}
	if len(a.c.oldMasters) != 2 || len(w1.c.oldClusterKeys[cid]) != 2 {
		t.Fatal("old keys lost")
	}
}

// TestKeysSnapshotV1: a v1 keys snapshot (no old epochs) still restores.
func TestKeysSnapshotV1(t *testing.T) {
	n, a := bootstrap(t)
	v2 := a.c.KeysSnapshot()
	// v1 = the domain changed, without the two trailing empty vectors.
	v1 := append(scaleString(KeysDomainV1), v2[len(scaleString(KeysDomain)):len(v2)-2]...)
	r, err := RestoreWith(a.k, Options{View: n.f.view}, a.c.Snapshot(), v1)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.KeysSnapshot(), v2) {
		t.Fatal("v1 restore differs")
	}
	// v2 bytes under the v1 domain have trailing bytes.
	if _, err := RestoreWith(a.k, Options{View: n.f.view}, a.c.Snapshot(), append(scaleString(KeysDomainV1), v2[len(scaleString(KeysDomain)):]...)); err == nil {
		t.Fatal("v1 with trailing bytes restored")
	}
}

func scaleString(s string) []byte {
	var w scale.Writer
	w.String(s)
	return w.Bytes()
}

// TestRotationGeneratorRestart: the generator restarts between making the
// new master key and the chain recording it; restored from its sealed
// keys it announces the same key, once, and keeps the old one.
func TestRotationGeneratorRestart(t *testing.T) {
	n, a := bootstrap(t)
	old := a.c.master.pair.Public()
	n.f.rotate()
	n.hold = true
	n.step()
	if got := topics(a.rd.Egress); len(got) != 1 || got[0] != msg.TopicMasterPubkey || hasChange(a.rd, ChangeKeys) == nil {
		t.Fatalf("generator emitted %v", got)
	}
	made := a.c.master.pair.Public()
	r, err := RestoreWith(a.k, Options{View: n.f.view, Verifier: &fakeVerifier{}, Entropy: &entropy{seed: 99}}, a.c.Snapshot(), a.c.KeysSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	a.c = r
	pend, _, err := r.Pending(n.f.st)
	if err != nil || len(pend) != 1 {
		t.Fatalf("%d pending, %v", len(pend), err)
	}
	if _, ok := n.f.submit(pend[0]); !ok {
		t.Fatal("announcement refused")
	}
	n.hold = false
	n.run(3)
	if n.f.master.Epoch != 1 || n.f.master.Pubkey != made || n.f.rotation != nil {
		t.Fatalf("chain master %+v, rotation %+v", n.f.master, n.f.rotation)
	}
	if !r.holdsMaster(*n.f.master) || len(r.oldMasters) != 1 || r.oldMasters[0].pair.Public() != old {
		t.Fatal("restored generator lost a key")
	}
	if len(a.rd.Egress) != 0 {
		t.Fatalf("announced again: %v", topics(a.rd.Egress))
	}
}
