package contracts_test

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/worker"
)

// TestPredecryptSameOutcomes: a block of many encrypted commands (which
// the core decrypts ahead, in parallel) gives every command the outcome it
// gets when each runs in a block of its own (decrypted in its turn), for
// honest commands and for undecryptable, replayed, plain and misaddressed
// ones; and the cluster state ends the same.
func TestPredecryptSameOutcomes(t *testing.T) {
	ch := newChain(t)
	erc := mustMeta(t, "erc20")
	k := workerKeys(1)
	opts := worker.Options{View: ch.view, Contracts: runtime(t)}
	newCore := func() *worker.Core {
		c, err := worker.NewWithOptions(k, ch.height, opts)
		if err != nil {
			t.Fatal(err)
		}
		if c, err = worker.RestoreWith(k, opts, c.Snapshot(), ch.keysSnapshot(cid)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	a, b := newCore(), newCore()
	mi, token, _ := ch.instantiate(cid, alice, "erc20", input(t, erc, "new(1000000000000000)", true), 1, 0)
	ch.height++
	ra, err := a.Step(ch.block(ch.height, mi))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Step(ch.block(ch.height, mi)); err != nil {
		t.Fatal(err)
	}
	ks, _, _ := published(t, ra)
	tokenKey, ok := ks[token]
	if !ok {
		t.Fatal("erc20 not instantiated")
	}
	transfer := func(n int) []byte {
		return input(t, erc, fmt.Sprintf(`transfer("0x%s", %d)`, hex.EncodeToString(bob[:]), n), false)
	}
	stranger := keys.FromSeed([32]byte{0x51}).Public()
	var payloads [][]byte
	var contracts [][32]byte
	for i := range 20 {
		payloads = append(payloads, encrypted(t, tokenKey, fmt.Sprintf("n%02d", i), transfer(i+1), gas))
		contracts = append(contracts, token)
	}
	payloads = append(payloads,
		encrypted(t, stranger, "x1", transfer(1), gas), // sealed to another key
		payloads[3], // replayed
		plain(t, "p1", transfer(2), gas),
		encrypted(t, tokenKey, "n99", transfer(1<<20), gas),
		encrypted(t, tokenKey, "u1", transfer(1), gas), // to an unknown contract
	)
	contracts = append(contracts, token, token, token, token, [32]byte{0x99})

	h := ch.height + 1
	var ms []msg.Message
	var ids [][32]byte
	for i, p := range payloads {
		m, id := command(cid, contracts[i], alice, p, gas, h, uint32(i))
		ms, ids = append(ms, m), append(ids, id)
	}
	if _, err := a.Step(ch.block(h, ms...)); err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if _, err := b.Step(ch.block(h+int64(i), m)); err != nil {
			t.Fatal(err)
		}
	}
	refused := 0
	for i, id := range ids {
		oa, okA := a.Outcome(cid, alice, id)
		ob, okB := b.Outcome(cid, alice, id)
		if !okA || !okB {
			t.Fatalf("command %d: outcomes %v %v", i, okA, okB)
		}
		oa.Height, ob.Height = 0, 0
		if !reflect.DeepEqual(oa, ob) {
			t.Errorf("command %d: in one block %+v, alone %+v", i, oa, ob)
		}
		if oa.Refused != "" {
			refused++
		}
	}
	if refused != 3 {
		t.Errorf("%d commands refused, want the undecryptable, the replayed and the misaddressed one", refused)
	}
	if a.ClusterRoot(cid) != b.ClusterRoot(cid) {
		t.Errorf("cluster roots differ: %x and %x", a.ClusterRoot(cid), b.ClusterRoot(cid))
	}
}
