package engine

import (
	"context"
	"encoding/binary"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/wasm"
)

// hostCallModule builds a contract whose call export invokes host function h
// with the given raw argument values.
func hostCallModule(h hostFunc, vals []uint64) []byte {
	ft := wasm.FuncType{Params: toWasm(h.params), Results: toWasm(h.results)}
	m := &wasm.Module{
		Types: []wasm.FuncType{{}, ft},
		Imports: []wasm.Import{
			{Module: h.module, Name: h.name, Kind: wasm.KindFunc, TypeIndex: 1},
			{Module: "env", Name: "memory", Kind: wasm.KindMemory, Memory: wasm.Limits{Min: 1, Max: 16, HasMax: true}},
		},
		Funcs:   []uint32{0, 0},
		Exports: []wasm.Export{{Name: "deploy", Kind: wasm.KindFunc, Index: 1}, {Name: "call", Kind: wasm.KindFunc, Index: 2}},
	}
	var body []byte
	for i, p := range ft.Params {
		if p == wasm.I64 {
			body = append(body, wasm.OpI64Const)
			body = wasm.AppendS64(body, int64(vals[i]))
		} else {
			body = append(body, wasm.OpI32Const)
			body = wasm.AppendS64(body, int64(int32(vals[i])))
		}
	}
	body = append(body, wasm.OpCall, 0)
	if len(ft.Results) > 0 {
		body = append(body, wasm.OpDrop)
	}
	body = append(body, wasm.OpEnd)
	m.Codes = []wasm.Code{{Expr: []byte{wasm.OpEnd}}, {Expr: body}}
	return wasm.Encode(m, false)
}

// FuzzHostCall calls a host function with arbitrary pointers and lengths.
// Every outcome must be a clean result or one of the engine's errors, never a
// Go runtime error (which wazero would otherwise turn into a trap).
func FuzzHostCall(f *testing.F) {
	f.Add(uint8(0), []byte{0, 1, 0, 0, 0, 0, 0, 0})
	f.Add(uint8(1), []byte{1, 0, 0, 0, 0x10, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(20), []byte{0xf0, 0xff, 0xff, 0xff, 4, 0, 0, 0})
	f.Add(uint8(40), make([]byte, 64))
	e, err := New(context.Background(), Config{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, idx uint8, raw []byte) {
		h := hostFuncs[int(idx)%len(hostFuncs)]
		vals := make([]uint64, len(h.params))
		for i := range vals {
			var b [8]byte
			copy(b[:], raw[min(len(raw), 8*i):min(len(raw), 8*i+8)])
			v := binary.LittleEndian.Uint64(b[:])
			if v&1 == 0 {
				v = (v >> 1) % 70000 // mostly in or near bounds
			}
			vals[i] = v
		}
		st := NewMemState()
		code := hostCallModule(h, vals)
		hash := st.PutCode(code)
		host := Host{State: st, Env: Environment{BlockNumber: 1}}
		o := e.Instantiate(context.Background(), host, InstantiateRequest{Caller: alice, CodeHash: hash, GasLimit: 10_000_000})
		if o.Err != nil {
			t.Fatalf("deploy %s.%s: %v", h.module, h.name, o.Err)
		}
		o = e.Call(context.Background(), host, CallRequest{Caller: alice, Dest: o.Address, GasLimit: 10_000_000})
		if o.Err != nil && strings.Contains(o.Err.Error(), "runtime error") {
			t.Fatalf("%s.%s%v: %v", h.module, h.name, vals, o.Err)
		}
	})
}
