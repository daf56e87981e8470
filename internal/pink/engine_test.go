package pink

import (
	"bytes"
	"context"
	_ "embed"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/scale"
)

// pinkcallWasm is testdata/pinkcall.wat: it passes its input (id ‖ ext
// input) to call_chain_extension and returns status ‖ output.
//
//go:embed testdata/pinkcall.wasm
var pinkcallWasm []byte

// TestThroughEngine runs the extension behind a real contract on the engine.
func TestThroughEngine(t *testing.T) {
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st := engine.NewMemState()
	deployer := engine.AccountID{0xa1}
	st.SetBalance(deployer, scale.U128From(1_000_000))
	h, _, err := e.Upload(ctx, pinkcallWasm, func(_ engine.Hash, c []byte) { st.PutCode(c) })
	if err != nil {
		t.Fatal(err)
	}
	host := engine.Host{State: st, Env: engine.Environment{BlockNumber: 3}}
	o := e.Instantiate(ctx, host, engine.InstantiateRequest{Caller: deployer, CodeHash: h, GasLimit: 50_000_000})
	if !o.Success() {
		t.Fatalf("deploy: %v", o.Err)
	}
	addr := o.Address
	r := newRig()
	call := func(mode Mode, id uint32, in []byte) (*engine.Outcome, *Session) {
		s := NewSession(r.env, Exec{Mode: mode, Ctx: ctx, Chain: r.chain, BlockNumber: 3, Entry: addr})
		host.Extension = s
		msg := binary.LittleEndian.AppendUint32(nil, id)
		o := e.Call(ctx, host, engine.CallRequest{Caller: deployer, Dest: addr, Input: append(msg, in...), GasLimit: 50_000_000, DryRun: mode == Query})
		return o, s
	}
	want := func(o *engine.Outcome, status uint32, out []byte) {
		t.Helper()
		if !o.Success() {
			t.Fatalf("call failed: %v", o.Err)
		}
		got := binary.LittleEndian.AppendUint32(nil, status)
		if !bytes.Equal(o.Data, append(got, out...)) {
			t.Fatalf("data = %x, want status %d ‖ %x", o.Data, status, out)
		}
	}
	o, _ = call(Query, FuncIsInTransaction, nil)
	want(o, 0, []byte{0})
	o, _ = call(Transaction, 0<<16|FuncIsInTransaction, nil) // ink! 5 id form
	want(o, 0, []byte{1})
	// The extension sees the contract's address: derive matches the unit test's.
	o, _ = call(Transaction, FuncDeriveSr25519Key, []byte{0})
	if !o.Success() || len(o.Data) != 4+66 {
		t.Fatalf("derive: %v %x", o.Err, o.Data)
	}
	// Deferred cache ops are attributed to the contract.
	o, s := call(Transaction, FuncCacheSet, unhex("04 6b 04 76"))
	want(o, 0, nil)
	if ops := s.DeferredCacheOps(); len(ops) != 1 || ops[0].Contract != addr {
		t.Fatalf("ops = %+v", ops)
	}
	// Status codes reach the contract.
	o, _ = call(Transaction, FuncBatchHTTPRequest, batchIn(10, "https://x/"))
	want(o, 7, nil)
	// Traps: unknown extension, unknown function, malformed input.
	for _, c := range []struct {
		id   uint32
		in   []byte
		want error
	}{
		{1<<16 | FuncIsInTransaction, nil, ErrUnknownExtension},
		{99, nil, ErrUnknownFunction},
		{FuncLog, []byte{1, 0xff}, ErrDecode},
	} {
		o, _ = call(Query, c.id, c.in)
		if o.Err == nil || !errors.Is(o.Err, c.want) {
			t.Fatalf("id %d: err %v, want %v", c.id, o.Err, c.want)
		}
	}
}

// pinkoobWasm is testdata/pinkoob.wat: it calls the extension with an
// input, output or output-length pointer outside its memory.
//
//go:embed testdata/pinkoob.wasm
var pinkoobWasm []byte

// TestOutOfBoundsPointers: a contract handing the extension pointers
// outside its memory traps (the engine checks them before and after the
// call) and changes nothing; the same call with valid pointers succeeds.
func TestOutOfBoundsPointers(t *testing.T) {
	ctx := context.Background()
	e, err := engine.New(ctx, engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(ctx)
	st := engine.NewMemState()
	deployer := engine.AccountID{0xa1}
	h, _, err := e.Upload(ctx, pinkoobWasm, func(_ engine.Hash, c []byte) { st.PutCode(c) })
	if err != nil {
		t.Fatal(err)
	}
	host := engine.Host{State: st, Env: engine.Environment{BlockNumber: 3}}
	o := e.Instantiate(ctx, host, engine.InstantiateRequest{Caller: deployer, CodeHash: h, GasLimit: 50_000_000})
	if !o.Success() {
		t.Fatalf("deploy: %v", o.Err)
	}
	r := newRig()
	for sel, name := range []string{"input pointer", "output pointer", "output length pointer", "valid"} {
		s := NewSession(r.env, Exec{Mode: Transaction, Ctx: ctx, Chain: r.chain, Entry: o.Address})
		host.Extension = s
		c := e.Call(ctx, host, engine.CallRequest{Caller: deployer, Dest: o.Address, Input: []byte{byte(sel)}, GasLimit: 50_000_000})
		if name == "valid" {
			if !c.Success() || !bytes.Equal(c.Data, []byte{1}) {
				t.Fatalf("valid call: %v %x", c.Err, c.Data)
			}
			continue
		}
		if c.Err == nil || !errors.Is(c.Err, engine.ErrOutOfBounds) {
			t.Fatalf("%s: err %v, want out of bounds", name, c.Err)
		}
		if len(s.DeferredCacheOps()) != 0 {
			t.Fatalf("%s: effects recorded", name)
		}
	}
}
