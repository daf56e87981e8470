package state_test

import (
	"bytes"
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
)

// deregChain is a chain with four workers (operator Alice): Worker1 the
// active gatekeeper, Worker4 a gatekeeper not active yet; cluster 0 of
// Worker2 and Worker3, cluster 1 of Worker3, cluster 2 of Worker1 and
// Worker2, with clusters 0 and 2 keyed for all their workers.
func deregChain(t *testing.T) (*chain, []*keys.Pair) {
	t.Helper()
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	w4 := dev(t, "Worker4")
	info := c.regInfo(w4, alice.Public())
	c.do(state.CodeOK, c.register(alice, c.account(alice.Public()).Nonce, info, devAtt(t, info)))
	ws = append(ws, w4)
	w1, w2, w3 := ws[0], ws[1], ws[2]
	for _, members := range [][]keys.PublicKey{{w2.Public(), w3.Public()}, {w3.Public()}, {w2.Public(), w1.Public()}} {
		c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Workers: members}))
	}
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(w1.Public()))
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(w4.Public()))
	c.do(state.CodeOK, c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(w1, 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: keys.PublicKey{0x4d}})))
	for i, x := range []struct {
		cluster uint64
		to      []*keys.Pair
	}{{0, []*keys.Pair{w2, w3}}, {2, []*keys.Pair{w1, w2}}} {
		p := &msg.ClusterKeyShares{Cluster: phat.ClusterID(x.cluster), Pubkey: dev(t, "ClusterKey"+string(rune('0'+x.cluster))).Public()}
		for _, w := range x.to {
			p.Shares = append(p.Shares, msg.ClusterKeyShare{Worker: w.Public(), Key: dummyKey()})
		}
		c.do(state.CodeOK, c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(w1, uint64(1+i), msg.TopicClusterKeys, p)))
	}
	return c, ws
}

func clusterOf(t *testing.T, c *chain, n uint64) phat.Cluster {
	t.Helper()
	cl, ok, err := phat.GetCluster(c.st, phat.ClusterID(n))
	if err != nil || !ok {
		t.Fatalf("cluster %d: %v %v", n, ok, err)
	}
	return cl
}

func eventsOf(res *state.BlockResult, typ string) []state.Event {
	var out []state.Event
	for _, r := range res.TxResults {
		for _, e := range r.Events {
			if e.Type == typ {
				out = append(out, e)
			}
		}
	}
	return out
}

func clusterHex(n uint64) string { id := phat.ClusterID(n); return "0x" + hex.EncodeToString(id[:]) }

// runDeregistrations deregisters, in order: an unknown worker, the active
// gatekeeper, the gatekeeper that is not active, Worker2 (in clusters 0
// and 2), and Worker4 once governance removed it from the gatekeeper set.
// It checks every step and returns the AppHash after each block.
func runDeregistrations(t *testing.T) []string {
	c, ws := deregChain(t)
	alice := dev(t, "Alice")
	w1, w2, w3, w4 := ws[0], ws[1], ws[2], ws[3]
	var hashes []string
	record := func(res *state.BlockResult) { hashes = append(hashes, hex.EncodeToString(res.AppHash[:])) }
	before := []phat.Cluster{clusterOf(t, c, 0), clusterOf(t, c, 1), clusterOf(t, c, 2)}
	if !slices.Contains(before[0].Keyed, w2.Public()) || !slices.Contains(before[2].Keyed, w2.Public()) {
		t.Fatalf("setup: Worker2 not keyed: %+v", before)
	}

	for _, tc := range []struct {
		name     string
		worker   keys.PublicKey
		want     uint32
		clusters []uint64 // the clusters it leaves
	}{
		{"unknown worker", dev(t, "Nobody").Public(), state.CodeWorkerNotRegistered, nil},
		{"active gatekeeper", w1.Public(), state.CodeDeregisterGatekeeper, nil},
		{"gatekeeper not active yet", w4.Public(), state.CodeDeregisterGatekeeper, nil},
		{"worker of two clusters", w2.Public(), state.CodeOK, []uint64{0, 2}},
	} {
		res := c.do(tc.want, c.send(alice, registry.DeregisterWorkerCall(tc.worker)))
		record(res)
		if tc.want != state.CodeOK {
			feeOnly(t, res)
			for i, cl := range before {
				if got := clusterOf(t, c, uint64(i)); !slices.Equal(got.Workers, cl.Workers) || !slices.Equal(got.Keyed, cl.Keyed) {
					t.Fatalf("%s: cluster %d changed to %+v", tc.name, i, got)
				}
			}
			if _, dereg, _ := registry.DeregisteredAt(c.st, tc.worker); dereg {
				t.Fatalf("%s: deregistered", tc.name)
			}
			continue
		}
		onlyWrites(t, res.WriteSet, state.PrefixAccount, registry.PrefixDeregistered, phat.PrefixCluster)
		// One cluster_changed message and one event per cluster, in
		// cluster id order; the deregistration event names them.
		if len(res.Messages) != len(tc.clusters) {
			t.Fatalf("%s: %d messages, want %d", tc.name, len(res.Messages), len(tc.clusters))
		}
		removed := eventsOf(res, "cluster_worker_removed")
		names := make([]string, len(tc.clusters))
		for i, n := range tc.clusters {
			names[i] = clusterHex(n)
			var cc msg.ClusterChange
			if err := scale.Decode(res.Messages[i].Payload, &cc); err != nil || string(res.Messages[i].Topic) != msg.TopicClusterChanged ||
				cc != (msg.ClusterChange{Cluster: phat.ClusterID(n), Kind: msg.ClusterWorkerRemoved, Worker: tc.worker}) {
				t.Fatalf("%s: message %d: %+v %v", tc.name, i, cc, err)
			}
			if len(removed) != len(tc.clusters) || attr(removed[i], "cluster") != names[i] || attr(removed[i], "worker") != tc.worker.Hex() {
				t.Fatalf("%s: removal events %+v", tc.name, removed)
			}
		}
		ev := eventsOf(res, "worker_deregistered")
		if len(ev) != 1 || attr(ev[0], "clusters") != strings.Join(names, ",") {
			t.Fatalf("%s: deregistration events %+v", tc.name, ev)
		}
	}
	// Worker2 left clusters 0 and 2 (workers and keyed workers); cluster 1
	// and the other members stay.
	for i, want := range []struct{ workers, keyed []keys.PublicKey }{
		{[]keys.PublicKey{w3.Public()}, []keys.PublicKey{w3.Public()}},
		{before[1].Workers, before[1].Keyed},
		{[]keys.PublicKey{w1.Public()}, []keys.PublicKey{w1.Public()}},
	} {
		cl := clusterOf(t, c, uint64(i))
		if !slices.Equal(cl.Workers, want.workers) || !slices.Equal(cl.Keyed, want.keyed) || cl.Pubkey != before[i].Pubkey {
			t.Fatalf("cluster %d after the deregistration: %+v", i, cl)
		}
	}
	// Deregistration is final: the worker cannot join a cluster again, become
	// a gatekeeper, nor register its identity again; its reports are refused by the mq.
	feeOnly(t, c.sudo(state.CodeWorkerDeregistered, alice, phat.AddWorkerCall(phat.ClusterID(1), w2.Public())))
	feeOnly(t, c.sudo(state.CodeWorkerDeregistered, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Workers: []keys.PublicKey{w3.Public(), w2.Public()}})))
	feeOnly(t, c.sudo(state.CodeWorkerDeregistered, alice, gatekeeper.AddCall(w2.Public())))
	info := c.regInfo(w2, alice.Public())
	feeOnly(t, c.do(state.CodeWorkerDeregistered, c.register(alice, c.account(alice.Public()).Nonce, info, devAtt(t, info))))
	raw := c.submit(dev(t, "Bob"), c.account(dev(t, "Bob").Public()).Nonce,
		gkMsg(w2, 0, msg.TopicClusterStateRoot, &msg.StateRootReport{Cluster: phat.ClusterID(0), Height: 10, Root: [32]byte{1}}))
	if res := c.block(raw); res.TxResults[0].Code != state.CodeMqWorkerDeregistered || len(res.WriteSet) != 0 {
		t.Fatalf("deregistered worker's report: %s, %d writes", state.CodeName(res.TxResults[0].Code), len(res.WriteSet))
	}

	// Governance removes Worker4 from the gatekeeper set; then its
	// operator deregisters it: it is in no cluster, so no phat write.
	c.sudo(state.CodeOK, alice, gatekeeper.RemoveCall(w4.Public()))
	res := c.do(state.CodeOK, c.send(alice, registry.DeregisterWorkerCall(w4.Public())))
	record(res)
	onlyWrites(t, res.WriteSet, state.PrefixAccount, registry.PrefixDeregistered)
	if ev := eventsOf(res, "worker_deregistered"); len(ev) != 1 || attr(ev[0], "clusters") != "" || len(res.Messages) != 0 {
		t.Fatalf("deregistration of a worker in no cluster: %+v, %d messages", ev, len(res.Messages))
	}
	// The deregistered workers are still listed by the registry (marked).
	ws2, err := registry.ListWorkers(c.st)
	if err != nil || len(ws2) != 4 {
		t.Fatalf("%d workers %v", len(ws2), err)
	}
	return hashes
}

// TestDeregisterLeavesSets: deregistering a worker takes it out of every
// cluster in the same transaction (in cluster id order, with a message and
// an event each, and the deregistration event naming them); a gatekeeper
// (active or not) is refused until governance removes it; failed
// deregistrations change nothing but the fee; and two runs give the same
// AppHashes.
func TestDeregisterLeavesSets(t *testing.T) {
	a := runDeregistrations(t)
	b := runDeregistrations(t)
	if !slices.Equal(a, b) {
		t.Fatalf("AppHashes differ between runs:\n%v\n%v", a, b)
	}
	if len(a) != 5 || a[0] == a[len(a)-1] {
		t.Fatalf("AppHashes %v", a)
	}
}

// TestRemoveFromClustersOrder: RemoveFromClusters visits clusters in id
// order whatever order they were joined in.
func TestRemoveFromClustersOrder(t *testing.T) {
	c, ws := keysChain(t)
	alice := dev(t, "Alice")
	w1, w2 := ws[0], ws[1]
	// Worker2 joins cluster 2 first, then cluster 0.
	for range 3 {
		c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Workers: []keys.PublicKey{w1.Public()}}))
	}
	c.sudo(state.CodeOK, alice, phat.AddWorkerCall(phat.ClusterID(2), w2.Public()))
	c.sudo(state.CodeOK, alice, phat.AddWorkerCall(phat.ClusterID(0), w2.Public()))
	res := c.do(state.CodeOK, c.send(alice, registry.DeregisterWorkerCall(w2.Public())))
	var got [][32]byte
	for _, m := range res.Messages {
		var cc msg.ClusterChange
		if err := scale.Decode(m.Payload, &cc); err != nil {
			t.Fatal(err)
		}
		got = append(got, cc.Cluster)
	}
	if want := [][32]byte{phat.ClusterID(0), phat.ClusterID(2)}; !slices.EqualFunc(got, want, func(a, b [32]byte) bool { return bytes.Equal(a[:], b[:]) }) {
		t.Fatalf("clusters %x, want %x", got, want)
	}
	if ev := eventsOf(res, "worker_deregistered"); len(ev) != 1 || attr(ev[0], "clusters") != clusterHex(0)+","+clusterHex(2) {
		t.Fatalf("%+v", ev)
	}
	if cl := clusterOf(t, c, 1); !slices.Equal(cl.Workers, []keys.PublicKey{w1.Public()}) {
		t.Fatalf("cluster 1: %+v", cl)
	}
}
