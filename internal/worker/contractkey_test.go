package worker

import (
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
)

// TestContractEcdhCache: the cached contract key is the derived one, for
// every contract and cluster key, and the cache stays bounded.
func TestContractEcdhCache(t *testing.T) {
	k1 := &clusterKey{pair: keys.FromSeed([32]byte{1})}
	k2 := &clusterKey{pair: keys.FromSeed([32]byte{2})}
	for i := range 3 {
		for _, ct := range [][32]byte{{}, {1}, {2, 3}} {
			for _, k := range []*clusterKey{k1, k2} {
				want := cipher.NewEcdhKey(cipher.ContractKey(k.pair, ct)).Public()
				if got := k.contractEcdh(ct).Public(); got != want {
					t.Fatalf("round %d contract %x: cached key %x, derived %x", i, ct, got, want)
				}
			}
		}
	}
	if k1.contractEcdh([32]byte{1}).Public() == k2.contractEcdh([32]byte{1}).Public() {
		t.Fatal("two cluster keys share a contract key")
	}
	for i := range maxContractKeyCache + 10 {
		k1.contractEcdh([32]byte{byte(i), byte(i >> 8), 0xff})
	}
	if n := len(k1.contracts); n > maxContractKeyCache {
		t.Fatalf("cache holds %d keys (bound %d)", n, maxContractKeyCache)
	}
}
