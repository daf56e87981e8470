package worker

import (
	"bytes"
	"testing"

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
