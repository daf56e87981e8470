package worker

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
)

func testKeys(seed byte) Keys {
	return Keys{Identity: keys.FromSeed([32]byte{seed}), Ecdh: keys.FromSeed([32]byte{seed, 1})}
}

func newCore(t *testing.T, k Keys) *Core {
	t.Helper()
	c, err := New(k, 0)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func registryOrigin() []byte { return msg.OriginModule(msg.RegistryModuleName) }

// regMsg is the registry's registry/worker message for identity id.
func regMsg(id keys.PublicKey, origin []byte) msg.Message {
	rec := msg.WorkerRecord{Info: msg.RegistrationInfo{IdentityPublicKey: id, TeeKind: "dev"}, RegisteredAt: 1}
	return msg.Message{Origin: origin, Topic: []byte(msg.TopicWorkerRegistered), Payload: scale.Encode(&rec)}
}

func block(h int64, st state.Store, msgs ...msg.Message) Block {
	return Block{Height: h, TimeUnixNano: 1_700_000_000_000_000_000 + h, AppVersion: state.AppVersion1, Messages: msgs, State: st}
}

// wantOnline is the worker/online message built as pRuntime has always
// built it: origin 0x01‖identity, the SCALE payload, sequence seq, and a
// deterministic signature over the mq signing payload.
func wantOnline(k Keys, height int64, seq uint64) msg.SignedMessage {
	p := msg.OnlinePayload{Identity: k.Identity.Public(), Ecdh: k.Ecdh.Public(), RegisteredAt: height}
	m := msg.Message{Origin: msg.OriginWorker(k.Identity.Public()), Topic: []byte("worker/online"), Payload: scale.Encode(&p)}
	return msg.SignedMessage{Message: m, Sequence: seq, Signature: k.Identity.SignDeterministic(msg.SigningPayload(&m, seq))}
}

func encode(ms []msg.SignedMessage) []byte {
	var w scale.Writer
	for i := range ms {
		ms[i].EncodeSCALE(&w)
	}
	return w.Bytes()
}

func TestDispatch(t *testing.T) {
	k := testKeys(1)
	me, other := k.Identity.Public(), testKeys(2).Identity.Public()
	garbage := msg.Message{Origin: registryOrigin(), Topic: []byte(msg.TopicWorkerRegistered), Payload: []byte{1, 2, 3}}
	trailing := regMsg(me, registryOrigin())
	trailing.Payload = append(trailing.Payload, 0)
	unknown := regMsg(me, registryOrigin())
	unknown.Topic = []byte("registry/unknown")
	for _, tc := range []struct {
		name   string
		msgs   []msg.Message
		online bool
	}{
		{"own record", []msg.Message{regMsg(me, registryOrigin())}, true},
		{"another worker's record", []msg.Message{regMsg(other, registryOrigin())}, false},
		{"malformed payload", []msg.Message{garbage}, false},
		{"trailing bytes", []msg.Message{trailing}, false},
		{"from a worker origin", []msg.Message{regMsg(me, msg.OriginWorker(me))}, false},
		{"from another module", []msg.Message{regMsg(me, msg.OriginModule("balances"))}, false},
		{"unknown topic", []msg.Message{unknown}, false},
		{"no messages", nil, false},
		{"own record after noise", []msg.Message{garbage, regMsg(other, registryOrigin()), regMsg(me, registryOrigin())}, true},
		{"own record twice", []msg.Message{regMsg(me, registryOrigin()), regMsg(me, registryOrigin())}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCore(t, k)
			rd, err := c.Step(block(1, state.NewMemStore(), tc.msgs...))
			if err != nil {
				t.Fatal(err)
			}
			if c.Height() != 1 || c.Online() != tc.online {
				t.Fatalf("height %d online %v", c.Height(), c.Online())
			}
			if !tc.online {
				if len(rd.Egress) != 0 || len(rd.Changes) != 0 {
					t.Fatalf("ready %+v, want nothing", rd)
				}
				return
			}
			want := []msg.SignedMessage{wantOnline(k, 1, 0)}
			if !bytes.Equal(encode(rd.Egress), encode(want)) {
				t.Fatalf("egress %+v, want %+v", rd.Egress, want)
			}
			if !rd.Egress[0].Verify(me) {
				t.Fatal("signature does not verify")
			}
			if len(rd.Changes) != 1 || rd.Changes[0] != (Change{Kind: ChangeOnline, Height: 1}) {
				t.Fatalf("changes %+v", rd.Changes)
			}
			pend, next, err := c.Pending(state.NewMemStore())
			if err != nil || next != 0 || !bytes.Equal(encode(pend), encode(want)) {
				t.Fatalf("pending %+v next %d: %v", pend, next, err)
			}
			// A later registration does not announce the worker again.
			rd, err = c.Step(block(2, state.NewMemStore(), regMsg(me, registryOrigin())))
			if err != nil || len(rd.Egress) != 0 {
				t.Fatalf("second registration: %+v %v", rd, err)
			}
		})
	}
}

// TestRestoredCoresAgree: two cores restored from the same snapshot and
// stepped with the same blocks produce identical bytes, equal to those of
// the core that was never restored.
func TestRestoredCoresAgree(t *testing.T) {
	k := testKeys(3)
	st := state.NewMemStore()
	ref := newCore(t, k)
	for h := int64(1); h <= 3; h++ {
		if _, err := ref.Step(block(h, st)); err != nil {
			t.Fatal(err)
		}
	}
	snap := ref.Snapshot()
	var outs [][]byte
	for i := 0; i < 3; i++ {
		c := ref
		if i > 0 {
			var err error
			if c, err = Restore(k, snap); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(c.Snapshot(), snap) {
				t.Fatal("restored snapshot differs")
			}
		}
		rd, err := c.Step(block(4, st, regMsg(k.Identity.Public(), registryOrigin())))
		if err != nil {
			t.Fatal(err)
		}
		if len(rd.Egress) != 1 {
			t.Fatalf("%d messages", len(rd.Egress))
		}
		outs = append(outs, append(encode(rd.Egress), c.Snapshot()...))
	}
	if !bytes.Equal(outs[0], outs[1]) || !bytes.Equal(outs[1], outs[2]) {
		t.Fatal("cores restored from one snapshot made different bytes")
	}
	if !bytes.Equal(outs[0][:len(encode([]msg.SignedMessage{wantOnline(k, 4, 0)}))], encode([]msg.SignedMessage{wantOnline(k, 4, 0)})) {
		t.Fatal("bytes differ from the historical worker/online encoding")
	}
}

func setNext(st *state.MemStore, origin []byte, next uint64) {
	v := make([]byte, 8)
	binary.LittleEndian.PutUint64(v, next)
	st.Apply(state.WriteSet{{Key: mq.IngressKey(origin), Value: v}})
}

// TestPruneAndPending: messages the chain accepted are dropped at the end
// of the block that accepted them; Pending filters by the state it is given
// and changes nothing.
func TestPruneAndPending(t *testing.T) {
	k := testKeys(4)
	c := newCore(t, k)
	if err := c.Handle("test/echo", nil, func(x *Context, m msg.Message) error {
		return x.Emit(x.Core().Origin(), "test/echoed", m.Payload)
	}); err != nil {
		t.Fatal(err)
	}
	if err := c.Handle("test/echo", nil, nil); err == nil {
		t.Fatal("a second handler for a topic was accepted")
	}
	echo := func(p string) msg.Message {
		return msg.Message{Origin: []byte{9}, Topic: []byte("test/echo"), Payload: []byte(p)}
	}
	st := state.NewMemStore()
	rd, err := c.Step(block(1, st, echo("a"), echo("b"), echo("c")))
	if err != nil || len(rd.Egress) != 3 || rd.Egress[2].Sequence != 2 {
		t.Fatalf("%+v %v", rd, err)
	}
	later := state.NewMemStore()
	setNext(later, c.Origin(), 2)
	if p, next, err := c.Pending(later); err != nil || next != 2 || len(p) != 1 || p[0].Sequence != 2 {
		t.Fatalf("pending %+v next %d: %v", p, next, err)
	}
	if p, _, _ := c.Pending(st); len(p) != 3 {
		t.Fatal("Pending changed the core")
	}
	if _, err := c.Step(block(2, later)); err != nil {
		t.Fatal(err)
	}
	if s := c.State(); len(s.Streams[0].Out) != 1 || s.Streams[0].Next != 3 {
		t.Fatalf("after pruning: %+v", s.Streams[0])
	}
	all, err := c.PendingAll(later)
	if err != nil || len(all) != 1 || !bytes.Equal(all[0].Origin, c.Origin()) || len(all[0].Messages) != 1 {
		t.Fatalf("pending all %+v: %v", all, err)
	}
}

// TestStepAtomic: a failed step (out of order, a handler error after it
// emitted, unreadable sequence state) leaves the core's bytes unchanged.
func TestStepAtomic(t *testing.T) {
	k := testKeys(5)
	c := newCore(t, k)
	boom := errors.New("boom")
	_ = c.Handle("test/fail", nil, func(x *Context, m msg.Message) error {
		if err := x.Emit(x.Core().Origin(), "test/x", nil); err != nil {
			return err
		}
		return boom
	})
	if _, err := c.Step(block(1, state.NewMemStore(), regMsg(k.Identity.Public(), registryOrigin()))); err != nil {
		t.Fatal(err)
	}
	before := c.Snapshot()
	corrupt := state.NewMemStore()
	corrupt.Apply(state.WriteSet{{Key: mq.IngressKey(c.Origin()), Value: []byte{1, 2, 3}}})
	for _, tc := range []struct {
		name string
		b    Block
		err  error
	}{
		{"replayed", block(1, state.NewMemStore()), ErrBlockOrder},
		{"skipped", block(3, state.NewMemStore()), ErrBlockOrder},
		{"handler error", block(2, state.NewMemStore(), msg.Message{Topic: []byte("test/fail")}), boom},
		{"corrupt sequence", block(2, corrupt), state.ErrCorruptState},
		{"no state", block(2, nil), nil},
	} {
		rd, err := c.Step(tc.b)
		if err == nil || (tc.err != nil && !errors.Is(err, tc.err)) {
			t.Fatalf("%s: %v, want %v", tc.name, err, tc.err)
		}
		if len(rd.Egress) != 0 || !bytes.Equal(c.Snapshot(), before) {
			t.Fatalf("%s: a failed step changed the core", tc.name)
		}
	}
	// Unknown origins cannot be emitted to.
	_ = c.Handle("test/foreign", nil, func(x *Context, m msg.Message) error {
		return x.Emit(msg.OriginWorker(testKeys(6).Identity.Public()), "test/x", nil)
	})
	if _, err := c.Step(block(2, state.NewMemStore(), msg.Message{Topic: []byte("test/foreign")})); err == nil || !bytes.Equal(c.Snapshot(), before) {
		t.Fatalf("emit on a foreign origin: %v", err)
	}
}

func TestSnapshotRestore(t *testing.T) {
	k := testKeys(7)
	c := newCore(t, k)
	if _, err := c.Step(block(1, state.NewMemStore(), regMsg(k.Identity.Public(), registryOrigin()))); err != nil {
		t.Fatal(err)
	}
	snap := c.Snapshot()
	r, err := Restore(k, snap)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.Snapshot(), snap) || r.Height() != 1 || !r.Online() {
		t.Fatal("round trip")
	}
	if _, err := Restore(testKeys(8), snap); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("another worker's snapshot: %v", err)
	}
	for i := 0; i < len(snap); i++ {
		if _, err := Restore(k, snap[:i]); !errors.Is(err, ErrCorruptSnapshot) {
			t.Fatalf("truncated at %d: %v", i, err)
		}
	}
	if _, err := Restore(k, append(bytes.Clone(snap), 0)); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatal("trailing byte accepted")
	}
	flipped := bytes.Clone(snap)
	flipped[len(flipped)-1] ^= 1 // the signature's last byte
	if _, err := Restore(k, flipped); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("bad signature: %v", err)
	}
	st := c.State()
	st.Streams[0].Next++
	if _, err := FromState(k, st); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("sequence gap: %v", err)
	}
	st = c.State()
	st.Height = -1
	if _, err := FromState(k, st); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("negative height: %v", err)
	}
}
