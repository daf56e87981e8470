package contracts_test

import (
	"bytes"
	"slices"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// stateRoots returns the cluster/state_root reports in rd's egress.
func stateRoots(t *testing.T, rd worker.Ready) []msg.SignedMessage {
	t.Helper()
	var out []msg.SignedMessage
	for _, m := range rd.Egress {
		if string(m.Message.Topic) == msg.TopicClusterStateRoot {
			out = append(out, m)
		}
	}
	return out
}

// TestStateRootReports: every keyed worker of a cluster reports, from its
// own origin, the cluster state root at each multiple of the report
// interval; two honest workers' payloads are identical bytes, a worker
// whose contract execution is faulty reports another root; a worker
// outside the cluster's workers, or without the cluster key, does not
// report.
func TestStateRootReports(t *testing.T) {
	ch := newChain(t)
	ch.interval = 3
	fl := mustMeta(t, "flipper")
	a, b, outsider := ch.core(1, cid), ch.core(2, cid), ch.core(4, cid)
	fk := workerKeys(3)
	faulty, err := worker.NewWithOptions(fk, ch.height, worker.Options{View: ch.view, Contracts: faultyRuntime{ContractRuntime: runtime(t)}})
	if err != nil {
		t.Fatal(err)
	}
	if faulty, err = worker.RestoreWith(fk, worker.Options{View: ch.view, Contracts: faultyRuntime{ContractRuntime: runtime(t)}}, faulty.Snapshot(), ch.keysSnapshot(cid)); err != nil {
		t.Fatal(err)
	}
	keyless := ch.core(5)
	ch.members = []keys.PublicKey{a.Identity(), b.Identity(), faulty.Identity(), keyless.Identity()}
	slices.SortFunc(ch.members, func(x, y keys.PublicKey) int { return bytes.Compare(x[:], y[:]) })
	cores := []*worker.Core{a, b, faulty, outsider, keyless}

	inst, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	var reports int
	for h := int64(1); h <= 7; h++ {
		var ms []msg.Message
		if h == 1 {
			ms = []msg.Message{inst}
		}
		if h == 4 {
			m, _ := command(cid, flipper, bob, plain(t, "n1", input(t, fl, "flip()", false), gas), gas, 4, 0)
			ms = []msg.Message{m}
		}
		ch.height = h
		var got [][]msg.SignedMessage
		for i, c := range cores {
			rd, err := c.Step(ch.block(h, ms...))
			if err != nil {
				t.Fatalf("core %d block %d: %v", i, h, err)
			}
			got = append(got, stateRoots(t, rd))
		}
		if len(got[3]) != 0 || len(got[4]) != 0 {
			t.Fatalf("block %d: a worker outside the cluster or without its key reported", h)
		}
		if h%3 != 0 {
			for i := range 3 {
				if len(got[i]) != 0 {
					t.Fatalf("block %d: core %d reported off the interval", h, i)
				}
			}
			continue
		}
		reports++
		for i, c := range cores[:3] {
			if len(got[i]) != 1 || !bytes.Equal(got[i][0].Message.Origin, c.Origin()) {
				t.Fatalf("block %d: core %d reports %v", h, i, got[i])
			}
			var p msg.StateRootReport
			if err := scale.Decode(got[i][0].Message.Payload, &p); err != nil {
				t.Fatal(err)
			}
			if p.Cluster != cid || p.Height != uint64(h) || p.Root != root(c, cid) {
				t.Fatalf("block %d: core %d report %+v, root %x", h, i, p, root(c, cid))
			}
		}
		if !bytes.Equal(got[0][0].Message.Payload, got[1][0].Message.Payload) {
			t.Fatalf("block %d: honest workers report different bytes", h)
		}
		if bytes.Equal(got[0][0].Message.Payload, got[2][0].Message.Payload) {
			t.Fatalf("block %d: the faulty worker reports the honest root", h)
		}
	}
	if reports != 2 {
		t.Fatalf("%d report heights", reports)
	}
}
