package state_test

import (
	"encoding/hex"
	"testing"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// Vectors computed independently with Python's hashlib.blake2b.
func TestAppHashVectors(t *testing.T) {
	var prev [32]byte
	for i := range prev {
		prev[i] = 7
	}
	ws := state.WriteSet{{Key: []byte("a"), Value: []byte("b")}, {Key: []byte("c"), Delete: true}}
	root := state.WriteSetRoot(ws)
	if got := hex.EncodeToString(root[:]); got != "9f7f3ca9f7d8241cfae18644bc28ace491dfb7fd5f7e741703466066d7af6e21" {
		t.Fatalf("write-set root %s", got)
	}
	h := state.AppHash(1, prev, ws, nil)
	if got := hex.EncodeToString(h[:]); got != "b052f8b143f12febec97288c6580cba618f02b599fdda5af9c32adc58c7eaf67" {
		t.Fatalf("AppHash %s", got)
	}
	h = state.AppHash(1, prev, nil, []msg.Message{{Origin: []byte("o"), Topic: []byte("t"), Payload: []byte("pp")}})
	if got := hex.EncodeToString(h[:]); got != "7845d1d0d3c984db49ff98422a207030579312fe50f0d215a05fbdb1b1d988c6" {
		t.Fatalf("AppHash with message %s", got)
	}
	if state.AppHash(1, prev, nil, nil) != prev || state.AppHash(1, prev, state.WriteSet{}, []msg.Message{}) != prev {
		t.Fatal("empty block changed the AppHash")
	}
	if state.AppHash(2, prev, ws, nil) == state.AppHash(1, prev, ws, nil) {
		t.Fatal("app version not hashed")
	}
	if got := hex.EncodeToString(state.TreasuryAccount[:]); got != "f0a60d10e1e0282ecde74bd3bec32ed0f62720692355201b5fd7c3774bb798cb" {
		t.Fatalf("treasury %s", got)
	}
}

func TestMerkleRoot(t *testing.T) {
	leaf := func(i byte) [32]byte { return state.LeafHash([]byte{i}) }
	node := func(l, r [32]byte) [32]byte { return hashing.Blake2b256([]byte{1}, l[:], r[:]) }
	ls := [][32]byte{leaf(0), leaf(1), leaf(2), leaf(3), leaf(4)}
	want := map[int][32]byte{
		0: {},
		1: ls[0],
		2: node(ls[0], ls[1]),
		3: node(node(ls[0], ls[1]), ls[2]),
		4: node(node(ls[0], ls[1]), node(ls[2], ls[3])),
		5: node(node(node(ls[0], ls[1]), node(ls[2], ls[3])), ls[4]),
	}
	for n, w := range want {
		if got := state.MerkleRoot(ls[:n]); got != w {
			t.Errorf("n=%d", n)
		}
	}
	// A leaf cannot pose as an inner node: domain separation.
	inner := node(ls[0], ls[1])
	var two []byte
	two = append(two, ls[0][:]...)
	two = append(two, ls[1][:]...)
	if state.LeafHash(two) == inner {
		t.Fatal("no domain separation")
	}
}

func TestWriteSetSCALE(t *testing.T) {
	ws := state.WriteSet{{Key: []byte("a"), Value: []byte{}}, {Key: []byte("b"), Delete: true}, {Key: []byte("c"), Value: []byte{1, 2}}}
	enc := scale.Encode(ws)
	var got state.WriteSet
	if err := scale.Decode(enc, &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || !got[1].Delete || got[0].Delete || string(got[2].Value) != "\x01\x02" {
		t.Fatalf("%+v", got)
	}
	bad := scale.Encode(state.WriteSet{{Key: []byte("b")}, {Key: []byte("a")}})
	if err := scale.Decode(bad, &got); err == nil {
		t.Fatal("unsorted write-set decoded")
	}
	dup := scale.Encode(state.WriteSet{{Key: []byte("a")}, {Key: []byte("a")}})
	if err := scale.Decode(dup, &got); err == nil {
		t.Fatal("duplicate key decoded")
	}
	if (state.WriteSet{{Key: []byte("b")}, {Key: []byte("a")}}).Validate() == nil {
		t.Fatal("Validate accepted unsorted")
	}
}

func TestOverlay(t *testing.T) {
	base := state.NewMemStore()
	base.Apply(state.WriteSet{{Key: []byte("k1"), Value: []byte("v1")}, {Key: []byte("k2"), Value: []byte("v2")}})
	o := state.NewOverlay(base)
	o.Set([]byte("k3"), []byte("v3"))
	o.Delete([]byte("k1"))
	get := func(s state.Store, k string) string {
		v, err := s.Get([]byte(k))
		if err != nil {
			t.Fatal(err)
		}
		if v == nil {
			return "<nil>"
		}
		return string(v)
	}
	if get(o, "k1") != "<nil>" || get(o, "k2") != "v2" || get(o, "k3") != "v3" {
		t.Fatal("root overlay reads")
	}
	c := o.Child()
	c.Set([]byte("k1"), []byte("new"))
	c.Delete([]byte("k2"))
	gc := c.Child()
	gc.Set([]byte("k4"), []byte("v4"))
	if get(gc, "k1") != "new" || get(gc, "k2") != "<nil>" || get(gc, "k3") != "v3" || get(o, "k1") != "<nil>" {
		t.Fatal("nested reads")
	}
	gc.Discard()
	if get(c, "k4") != "<nil>" {
		t.Fatal("discard leaked")
	}
	c.Commit()
	if get(o, "k1") != "new" || get(o, "k2") != "<nil>" || c.Len() != 0 {
		t.Fatal("commit")
	}
	ws := o.WriteSet()
	if err := ws.Validate(); err != nil || len(ws) != 3 || string(ws[0].Key) != "k1" || !ws[1].Delete || string(ws[2].Value) != "v3" {
		t.Fatalf("%+v", ws)
	}
	if get(base, "k1") != "v1" {
		t.Fatal("base modified")
	}
	// Values are copied on Set.
	v := []byte("x")
	o.Set([]byte("k5"), v)
	v[0] = 'y'
	if get(o, "k5") != "x" {
		t.Fatal("value aliased")
	}
	// MemStore.Apply deletes and Clone is independent.
	cl := base.Clone()
	base.Apply(ws)
	if get(base, "k2") != "<nil>" || get(cl, "k2") != "v2" || base.Len() != 2 {
		t.Fatal("MemStore")
	}
}
