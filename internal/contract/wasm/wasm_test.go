package wasm_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/gas"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/contract/wasm"
)

// policyFor accepts exactly the imports m has.
func policyFor(m *wasm.Module) wasm.Policy {
	p := wasm.Policy{Imports: map[string]wasm.FuncType{}, MaxCodeSize: wasm.DefaultMaxCodeSize,
		MaxMemoryPages: 16, MaxLocals: 1024, MaxGlobals: 64, MaxTableSize: 64, MaxFunctions: 1000}
	for _, im := range m.Imports {
		if im.Kind == wasm.KindFunc {
			p.Imports[im.Module+"."+im.Name] = m.Types[im.TypeIndex]
		}
	}
	return p
}

func decode(t *testing.T, name string) *wasm.Module {
	t.Helper()
	m, err := wasm.Decode(testcontracts.Wasm(name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestRoundTrip(t *testing.T) {
	for _, name := range testcontracts.Names {
		m := decode(t, name)
		b := wasm.Encode(m, true)
		m2, err := wasm.Decode(b)
		if err != nil {
			t.Fatalf("%s: re-decode: %v", name, err)
		}
		if !reflect.DeepEqual(m, m2) {
			t.Fatalf("%s: round trip differs", name)
		}
		p := policyFor(m)
		p.AllowFloats = name == "float"
		if err := wasm.Validate(m, p); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		im, err := gas.Instrument(m, gas.DefaultSchedule)
		if err != nil {
			t.Fatalf("%s: instrument: %v", name, err)
		}
		if _, err := wasm.Decode(wasm.Encode(im, false)); err != nil {
			t.Fatalf("%s: instrumented module does not decode: %v", name, err)
		}
	}
}

func TestValidationErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(m *wasm.Module, p *wasm.Policy)
		want   string
	}{
		{"unknown import", func(m *wasm.Module, p *wasm.Policy) { delete(p.Imports, "seal0.input") }, "unknown import seal0.input"},
		{"bad signature", func(m *wasm.Module, p *wasm.Policy) {
			p.Imports["seal0.input"] = wasm.FuncType{Params: []wasm.ValType{wasm.I32}}
		}, "has signature"},
		{"memory too large", func(m *wasm.Module, p *wasm.Policy) { m.Imports[len(m.Imports)-1].Memory.Max = 17 }, "exceeds the limit of 16"},
		{"memory without max", func(m *wasm.Module, p *wasm.Policy) {
			m.Imports[len(m.Imports)-1].Memory = wasm.Limits{Min: 20}
		}, "minimum 20 pages"},
		{"no memory", func(m *wasm.Module, p *wasm.Policy) { m.Imports = m.Imports[:len(m.Imports)-1] }, "no env.memory import"},
		{"own memory", func(m *wasm.Module, p *wasm.Policy) { m.Memories = []wasm.Limits{{Min: 1}} }, "2 memories (imported ones included) exceed the limit of 1"},
		{"extra export", func(m *wasm.Module, p *wasm.Policy) {
			m.Exports = append(m.Exports, wasm.Export{Name: "x", Kind: wasm.KindFunc, Index: 0})
		}, `unexpected export "x"`},
		{"missing call", func(m *wasm.Module, p *wasm.Policy) { m.Exports = m.Exports[:1] }, `missing export "call"`},
		{"start", func(m *wasm.Module, p *wasm.Policy) { s := uint32(0); m.Start = &s }, "start section not allowed"},
		{"global import", func(m *wasm.Module, p *wasm.Policy) {
			m.Imports = append(m.Imports, wasm.Import{Module: "env", Name: "g", Kind: wasm.KindGlobal, Global: wasm.GlobalType{Type: wasm.I32}})
		}, "importing a global"},
		{"float local", func(m *wasm.Module, p *wasm.Policy) {
			m.Codes[0].Locals = append(m.Codes[0].Locals, wasm.Local{Count: 1, Type: wasm.F64})
		}, "floating-point type f64"},
		{"multi-value", func(m *wasm.Module, p *wasm.Policy) {
			m.Types = append(m.Types, wasm.FuncType{Results: []wasm.ValType{wasm.I32, wasm.I32}})
		}, "multi-value"},
		{"bulk memory", func(m *wasm.Module, p *wasm.Policy) {
			m.Codes[0].Expr = append([]byte{0x41, 0, 0x41, 0, 0x41, 0, 0xFC, 11, 0}, m.Codes[0].Expr...)
		}, "memory.fill (bulk memory)"},
	}
	for _, c := range cases {
		m := decode(t, "flipper")
		p := policyFor(m)
		c.mutate(m, &p)
		// Re-encode and decode so that the mutation goes through the reader.
		m2, err := wasm.Decode(wasm.Encode(m, false))
		if err == nil {
			err = wasm.Validate(m2, p)
		}
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.name, err, c.want)
		}
	}
	// Floats in code.
	m := decode(t, "float")
	p := policyFor(m)
	if err := wasm.Validate(m, p); err == nil || !errors.Is(err, wasm.ErrInvalid) {
		t.Fatalf("float code accepted: %v", err)
	}
	// Code size.
	p.MaxCodeSize = 10
	if _, err := wasm.Check(testcontracts.Wasm("flipper"), p); err == nil || !strings.Contains(err.Error(), "code size") {
		t.Fatalf("size: %v", err)
	}
}

func TestMalformed(t *testing.T) {
	good := testcontracts.Wasm("erc20")
	// Every prefix either decodes (it ends on a section boundary) or fails
	// cleanly.
	for i := 0; i < len(good); i++ {
		if m, err := wasm.Decode(good[:i]); err == nil && len(m.Funcs) != len(m.Codes) {
			t.Fatalf("prefix of %d bytes decoded inconsistently", i)
		}
	}
	bad := [][]byte{
		[]byte("\x00asm\x02\x00\x00\x00"),
		[]byte("\x00asm\x01\x00\x00\x00\x0d\x00"),                     // unknown section
		[]byte("\x00asm\x01\x00\x00\x00\x01\x01\x00\x01\x01\x00"),     // duplicate type section
		[]byte("\x00asm\x01\x00\x00\x00\x01\x05\xff\xff\xff\xff\x0f"), // huge count
		[]byte("\x00asm\x01\x00\x00\x00\x03\x01\x00\x01\x01\x00"),     // function section before type? (order ok, but code missing)
	}
	for _, b := range bad {
		if _, err := wasm.Decode(b); err == nil {
			t.Errorf("decoded %x", b)
		}
	}
}

func TestLEB(t *testing.T) {
	for _, v := range []int64{0, 1, -1, 63, 64, -64, -65, 1 << 31, -(1 << 31), 1<<63 - 1, -1 << 63} {
		b := wasm.AppendS64(nil, v)
		in, _, err := wasm.ReadInstr(append([]byte{wasm.OpI64Const}, b...), 0)
		if err != nil || in.Const != v {
			t.Fatalf("%d: %v %d", v, err, in.Const)
		}
	}
	// i32.const rejects values that do not fit 32 bits.
	b := append([]byte{wasm.OpI32Const}, wasm.AppendS64(nil, 1<<33)...)
	if _, _, err := wasm.ReadInstr(b, 0); err == nil {
		t.Fatal("oversized i32.const accepted")
	}
}

// FuzzCheck feeds arbitrary bytes through the decoder, validator,
// instrumenter, encoder and wazero's compiler (configured as the engine's):
// none of them may panic or blow up, and whatever validates must instrument,
// re-decode and reach the compiler. wazero may still reject what it compiles
// (the decoder does not type-check function bodies); it must do so cleanly.
func FuzzCheck(f *testing.F) {
	for _, n := range testcontracts.Names {
		f.Add(testcontracts.Wasm(n))
	}
	ctx := context.Background()
	rt := newCompiler(ctx)
	defer rt.Close(ctx)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := wasm.Decode(b)
		if err != nil {
			return
		}
		_ = wasm.Encode(m, true)
		p := policyFor(m)
		p.AllowFloats = true
		p.Start = wasm.StartAllow
		if wasm.Validate(m, p) != nil {
			return
		}
		im, err := gas.Instrument(m, gas.DefaultSchedule)
		if err != nil {
			return
		}
		bin := wasm.Encode(im, false)
		if _, err := wasm.Decode(bin); err != nil {
			t.Fatalf("instrumented module does not decode: %v", err)
		}
		if cm, err := rt.CompileModule(ctx, bin); err == nil {
			_ = cm.Close(ctx)
		}
	})
}
