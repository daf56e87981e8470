package worker

import (
	"bytes"
	"encoding/hex"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// FuzzRestore feeds Restore arbitrary bytes: it must never panic, and a
// snapshot it accepts must restore again to the same bytes, and step.
func FuzzRestore(f *testing.F) {
	k := testKeys(1)
	c, err := New(k, 0)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(c.Snapshot())
	if _, err := c.Step(block(1, state.NewMemStore(), regMsg(k.Identity.Public(), registryOrigin()))); err != nil {
		f.Fatal(err)
	}
	f.Add(c.Snapshot())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Restore(k, b)
		if err != nil {
			return
		}
		snap := r.Snapshot()
		r2, err := Restore(k, snap)
		if err != nil {
			t.Fatalf("a restored core's snapshot does not restore: %v", err)
		}
		if !bytes.Equal(r2.Snapshot(), snap) {
			t.Fatal("snapshot not stable")
		}
		if r.Height() < 1<<62 {
			if _, err := r.Step(block(r.Height()+1, state.NewMemStore(), regMsg(k.Identity.Public(), registryOrigin()))); err != nil {
				t.Fatalf("a restored core does not step: %v", err)
			}
		}
	})
}

// FuzzRestoreKeys feeds RestoreWith arbitrary keys-snapshot bytes: it must
// never panic, and keys it accepts must snapshot again to the same bytes.
func FuzzRestoreKeys(f *testing.F) {
	k := testKeys(10)
	c, err := New(k, 0)
	if err != nil {
		f.Fatal(err)
	}
	snap := c.Snapshot()
	f.Add(c.KeysSnapshot())
	m := keys.FromSeed([32]byte{0x4d})
	c.master = &masterKey{epoch: 3, pair: m, gen: cipher.NewIVGenerator(m, 17)}
	c.clusterKeys[[32]byte{1}] = &clusterKey{epoch: 3, pair: cipher.ClusterKey(m, [32]byte{1})}
	c.clusterKeys[[32]byte{2}] = &clusterKey{epoch: 3, pair: cipher.ClusterKey(m, [32]byte{2})}
	f.Add(c.KeysSnapshot())
	// Rotated: old master keys and old cluster keys (v2).
	m0, m1 := keys.FromSeed([32]byte{0x40}), keys.FromSeed([32]byte{0x41})
	c.oldMasters = []*masterKey{{epoch: 1, pair: m0, gen: cipher.NewIVGenerator(m0, 2)}, {epoch: 2, pair: m1, gen: cipher.NewIVGenerator(m1, 0)}}
	c.oldClusterKeys[[32]byte{1}] = []*clusterKey{{epoch: 1, pair: cipher.ClusterKey(m0, [32]byte{1})}, {epoch: 2, pair: cipher.ClusterKey(m1, [32]byte{1})}}
	c.oldClusterKeys[[32]byte{3}] = []*clusterKey{{epoch: 0, pair: cipher.ClusterKey(m0, [32]byte{3})}}
	f.Add(c.KeysSnapshot())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := RestoreWith(k, Options{}, snap, b)
		if err != nil {
			if strings.Contains(err.Error(), hex.EncodeToString(b)) && len(b) >= 16 {
				t.Fatal("error shows the key bytes")
			}
			return
		}
		ks := r.KeysSnapshot()
		r2, err := RestoreWith(k, Options{}, snap, ks)
		if err != nil {
			t.Fatalf("restored keys do not restore: %v", err)
		}
		if !bytes.Equal(r2.KeysSnapshot(), ks) {
			t.Fatal("keys snapshot not stable")
		}
	})
}

// clustersSeed is a clusters snapshot with one cluster of every part: a
// contract with storage, a ledger, a nonce, an outcome with an event, and
// a second cluster with a backlog.
func clustersSeed() []byte {
	c, err := New(testKeys(11), 0)
	if err != nil {
		panic(err)
	}
	cs := newClusterState()
	cs.contracts[[32]byte{0xc7}] = &contractState{codeHash: [32]byte{0xcd}, deployer: [32]byte{0xa1},
		storage: map[string][]byte{"k1": {1}, "k2": {}}}
	cs.ledger[[32]byte{0xa1}] = scale.U128From(5)
	cs.nonces[nonceKey{origin: [32]byte{0xa1}, contract: [32]byte{0xc7}, nonce: "n"}] = struct{}{}
	cs.outcomes[outcomeKey{[32]byte{0xa1}, [32]byte{0x11}}] = &CommandOutcome{Height: 3, Contract: [32]byte{0xc7},
		Result: ExecResult{Data: []byte{0, 1}, GasUsed: 9, Events: []ContractEvent{{Contract: [32]byte{0xc7}, Topics: [][32]byte{{1}}, Data: []byte{2}}}}}
	c.clusters[[32]byte{1}] = cs
	other := newClusterState()
	other.backlog = []clusterInput{{height: 2, timeNano: 7, topic: msg.TopicPhatCommand, payload: []byte{1, 2, 3}}}
	c.clusters[[32]byte{2}] = other
	return c.ClustersSnapshot()
}

// FuzzRestoreClusters feeds RestoreClusters arbitrary bytes: it must never
// panic, and a snapshot it accepts must snapshot again to the same bytes.
func FuzzRestoreClusters(f *testing.F) {
	f.Add(clustersSeed())
	empty, _ := New(testKeys(11), 0)
	f.Add(empty.ClustersSnapshot())
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, _ := New(testKeys(11), 0)
		if err := c.RestoreClusters(b); err != nil {
			if len(c.clusters) != 0 {
				t.Fatal("failed restore left cluster state")
			}
			return
		}
		snap := c.ClustersSnapshot()
		if !bytes.Equal(snap, b) {
			t.Fatalf("accepted a non-canonical snapshot:\n%x\n%x", b, snap)
		}
	})
}
