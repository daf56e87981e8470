package phat

import (
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state"
)

// TestClusterTerms: the terms a command reads are GetCluster's (id, gas
// price, gas limit), and a missing cluster is missing for both.
func TestClusterTerms(t *testing.T) {
	ov := state.NewOverlay(state.NewMemStore())
	id := [32]byte{7}
	if _, ok, err := clusterTerms(ov, id); ok || err != nil {
		t.Fatalf("missing cluster: ok %v err %v", ok, err)
	}
	putCluster(ov, &Cluster{ID: id, Owner: keys.PublicKey{1}, Workers: []keys.PublicKey{{2}}, Epoch: 3})
	full, ok, err := GetCluster(ov, id)
	if !ok || err != nil {
		t.Fatalf("GetCluster: ok %v err %v", ok, err)
	}
	terms, ok, err := clusterTerms(ov, id)
	if !ok || err != nil {
		t.Fatalf("clusterTerms: ok %v err %v", ok, err)
	}
	if terms.ID != full.ID || terms.GasPrice != full.GasPrice || terms.MaxGas != full.MaxGas {
		t.Fatalf("terms %+v, GetCluster %+v", terms, full)
	}
	for _, limit := range []uint64{0, full.MaxGas, full.MaxGas + 1} {
		c1, _ := terms.gasCheck(limit)
		c2, _ := full.gasCheck(limit)
		if c1 != c2 {
			t.Fatalf("gas limit %d: terms answer %d, cluster %d", limit, c1, c2)
		}
	}
}
