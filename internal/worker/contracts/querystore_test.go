package contracts_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/worker"
)

// TestQueryStore: the read-only store the shell's query executor uses
// finds a contract's cluster by the contract or the cluster id, reads its
// storage, serves the code, drops writes, and is refused to a worker
// without the cluster key.
func TestQueryStore(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	c, keyless := ch.core(1, cid), ch.core(2)
	m1, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(true)", true), 1, 0)
	ch.step([]*worker.Core{c}, m1)
	if _, err := keyless.Step(ch.block(1, m1)); err != nil {
		t.Fatal(err)
	}
	codeHash := engine.CodeHash(testcontracts.Wasm("flipper"))
	view := ch.view(ch.st)
	for _, target := range [][32]byte{flipper, cid} {
		cl, st, ok := c.QueryStore(target, view)
		if !ok || cl != cid {
			t.Fatalf("target %x: cluster %x ok=%v", target[:4], cl[:4], ok)
		}
		if h, ok := st.ContractCodeHash(flipper); !ok || h != codeHash {
			t.Fatalf("code hash %x %v", h[:4], ok)
		}
		if code, ok := st.Code(codeHash); !ok || len(code) == 0 {
			t.Fatal("no code")
		}
	}
	_, st, _ := c.QueryStore(flipper, view)
	before, snap := root(c, cid), c.ClustersSnapshot()
	st.SetStorage(flipper, []byte("k"), []byte("v"))
	st.RemoveContract(flipper)
	if _, ok := st.GetStorage(flipper, []byte("k")); ok {
		t.Fatal("a write went through")
	}
	if root(c, cid) != before || !bytes.Equal(c.ClustersSnapshot(), snap) {
		t.Fatal("the query store changed the cluster state")
	}
	if _, _, ok := c.QueryStore([32]byte{0xde}, view); ok {
		t.Fatal("unknown contract found")
	}
	if _, _, ok := keyless.QueryStore(flipper, view); ok {
		t.Fatal("a worker without the cluster key serves its state")
	}
	if _, _, ok := c.QueryStore(flipper, nil); ok {
		t.Fatal("no view, no store")
	}
	// A keyed cluster that has run nothing yet serves an empty state (an
	// instantiate dry run before its first contract); it stays empty.
	fresh := ch.core(3, cid2)
	cl, st2, ok := fresh.QueryStore(cid2, view)
	if !ok || cl != cid2 {
		t.Fatalf("fresh cluster: %x %v", cl[:4], ok)
	}
	if _, ok := st2.ContractCodeHash(flipper); ok {
		t.Fatal("the fresh cluster has a contract")
	}
	if _, ok := st2.Code(codeHash); !ok {
		t.Fatal("the chain's code is not readable from the fresh cluster")
	}
	if len(fresh.ClusterStates()) != 0 {
		t.Fatal("a query created cluster state")
	}
}
