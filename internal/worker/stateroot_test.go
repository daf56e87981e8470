package worker

import (
	"testing"

	"github.com/cella-network/cella/internal/scale"
)

// fullRoot is the state root computed from scratch, on a copy without
// caches (cs's own caches are left as they are).
func fullRoot(id [32]byte, cs *clusterState) [32]byte {
	cp := newClusterState()
	for cid, k := range cs.contracts {
		cp.contracts[cid] = &contractState{codeHash: k.codeHash, deployer: k.deployer, storage: k.storage}
	}
	cp.ledger = cs.ledger
	return stateRoot(id, cp)
}

// TestStateRootCaches: the cached per-contract and ledger digests never go
// stale — after writes, code and balance changes, removals and a journaled
// rollback, the incremental root equals the root recomputed from scratch;
// and nonces and outcomes are not part of it.
func TestStateRootCaches(t *testing.T) {
	c := &Core{}
	id := [32]byte{1}
	cs := newClusterState()
	st := &store{c: c, cluster: id, cs: cs}
	a, b := [32]byte{0xa}, [32]byte{0xb}
	check := func(step string) [32]byte {
		t.Helper()
		got := stateRoot(id, cs)
		if want := fullRoot(id, cs); got != want {
			t.Fatalf("%s: cached root %x, from scratch %x", step, got, want)
		}
		return got
	}
	r0 := check("empty")
	st.SetContractCodeHash(a, [32]byte{1})
	st.SetStorage(a, []byte("k"), []byte("v"))
	st.SetContractCodeHash(b, [32]byte{2})
	r1 := check("two contracts")
	if r1 == r0 {
		t.Fatal("contracts not in the root")
	}
	st.SetStorage(b, []byte("k"), []byte("w"))
	r2 := check("storage write")
	if r2 == r1 {
		t.Fatal("storage not in the root")
	}
	st.SetBalance(a, scale.U128{Lo: 5})
	r3 := check("balance")
	if r3 == r2 {
		t.Fatal("ledger not in the root")
	}
	cs.nonces[nonceKey{origin: a, contract: b, nonce: "n"}] = struct{}{}
	cs.outcomes[outcomeKey{a, b}] = &CommandOutcome{Height: 1}
	if check("nonce and outcome") != r3 {
		t.Fatal("nonces or outcomes in the root")
	}
	// Journaled steps that each change one thing, are hashed, then roll
	// back: the undo must invalidate the digest the step cached.
	steps := map[string]func(){
		"storage write":  func() { st.SetStorage(a, []byte("k"), []byte("x")) },
		"storage delete": func() { st.SetStorage(b, []byte("k"), nil) },
		"code hash":      func() { st.SetContractCodeHash(b, [32]byte{3}) },
		"new balance":    func() { st.SetBalance(b, scale.U128{Lo: 7}) },
		"zero balance":   func() { st.SetBalance(a, scale.U128{}) },
		"removal":        func() { st.RemoveContract(a) },
		"new contract":   func() { st.SetStorage([32]byte{0xc}, []byte("k"), []byte("v")) },
	}
	for name, step := range steps {
		c.undoing = true
		step()
		if check(name) == r3 {
			t.Fatalf("%s changed nothing", name)
		}
		c.rollbackClusters()
		c.undoing = false
		if got := check(name + " rolled back"); got != r3 {
			t.Fatalf("%s: rollback root %x, want %x", name, got, r3)
		}
	}
}
