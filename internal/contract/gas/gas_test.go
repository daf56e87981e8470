package gas_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/cella-network/cella/internal/contract/gas"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/contract/wasm"
)

func TestInstrumentShape(t *testing.T) {
	m, err := wasm.Decode(testcontracts.Wasm("loop"))
	if err != nil {
		t.Fatal(err)
	}
	im, err := gas.Instrument(m, gas.DefaultSchedule)
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Globals) != len(m.Globals)+2 || len(im.Exports) != len(m.Exports)+2 {
		t.Fatal("globals or exports not added")
	}
	if len(m.Codes[0].Expr) == len(im.Codes[0].Expr) && len(m.Codes) > 0 {
		// At least one body must have grown.
		grown := false
		for i := range m.Codes {
			grown = grown || len(im.Codes[i].Expr) > len(m.Codes[i].Expr)
		}
		if !grown {
			t.Fatal("no body instrumented")
		}
	}
	// The infinite loop's body (loop; br 0; end) gets a charge inside the loop.
	call := im.Codes[len(im.Codes)-1].Expr
	gasIdx := byte(len(m.Globals))
	charge := []byte{wasm.OpGlobalGet, gasIdx, wasm.OpI64Const, 1, wasm.OpI64LtU}
	loopAt := bytes.IndexByte(call, wasm.OpLoop)
	if loopAt < 0 || !bytes.HasPrefix(call[loopAt+2:], charge) {
		t.Fatalf("loop body not metered: %x", call)
	}
	// The original module is unchanged and instrumentation is deterministic.
	im2, _ := gas.Instrument(m, gas.DefaultSchedule)
	if !bytes.Equal(wasm.Encode(im, false), wasm.Encode(im2, false)) {
		t.Fatal("instrumentation not deterministic")
	}
	if len(m.Globals) != 0 {
		t.Fatal("input modified")
	}
}

func TestCosts(t *testing.T) {
	s := gas.DefaultSchedule
	if s.Cost(wasm.Instr{Op: wasm.OpEnd}) != 0 || s.Cost(wasm.Instr{Op: wasm.OpCall}) != s.Call ||
		s.Cost(wasm.Instr{Op: 0x28}) != s.Load || s.Cost(wasm.Instr{Op: 0x36}) != s.Store ||
		s.Cost(wasm.Instr{Op: 0x80}) != s.DivRem || s.Cost(wasm.Instr{Op: wasm.OpMemoryGrow}) != s.MemoryGrow {
		t.Fatal("cost table")
	}
}

// TestReturnAndStack runs an instrumented function that returns early from
// nested blocks: the result is unchanged, and the stack height is restored on
// every exit (the epilogue runs after a return too).
func TestReturnAndStack(t *testing.T) {
	m := &wasm.Module{
		Types: []wasm.FuncType{{Params: []wasm.ValType{wasm.I32}, Results: []wasm.ValType{wasm.I32}}},
		Funcs: []uint32{0, 0},
		Codes: []wasm.Code{
			// f(x): block block (if x { return 7 }) end end; 9
			{Expr: []byte{wasm.OpBlock, 0x40, wasm.OpBlock, 0x40, wasm.OpLocalGet, 0, wasm.OpIf, 0x40,
				wasm.OpI32Const, 7, wasm.OpReturn, wasm.OpEnd, wasm.OpEnd, wasm.OpEnd, wasm.OpI32Const, 9, wasm.OpEnd}},
			// g(x): f(x) + f(x), via call (the weight is f's, added in f).
			{Expr: []byte{wasm.OpLocalGet, 0, wasm.OpCall, 0, wasm.OpLocalGet, 0, wasm.OpCall, 0, wasm.OpI32Add, wasm.OpEnd}},
		},
		Exports: []wasm.Export{{Name: "f", Kind: wasm.KindFunc, Index: 0}, {Name: "g", Kind: wasm.KindFunc, Index: 1}},
	}
	im, err := gas.Instrument(m, gas.DefaultSchedule)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	rt := wazero.NewRuntime(ctx)
	defer rt.Close(ctx)
	mod, err := rt.Instantiate(ctx, wasm.Encode(im, false))
	if err != nil {
		t.Fatal(err)
	}
	g, sh := mod.ExportedGlobal(gas.GasGlobal).(api.MutableGlobal), mod.ExportedGlobal(gas.StackGlobal)
	for _, c := range []struct {
		fn      string
		x, want uint64
	}{{"f", 1, 7}, {"f", 0, 9}, {"g", 1, 14}, {"g", 0, 18}} {
		g.Set(1000)
		res, err := mod.ExportedFunction(c.fn).Call(ctx, c.x)
		if err != nil || res[0] != c.want {
			t.Fatalf("%s(%d) = %v, %v; want %d", c.fn, c.x, res, err, c.want)
		}
		if sh.Get() != 0 {
			t.Fatalf("%s(%d): stack height %d after return", c.fn, c.x, sh.Get())
		}
		if g.Get() >= 1000 {
			t.Fatalf("%s(%d): no gas charged", c.fn, c.x)
		}
	}
	// The stack limit is enforced in the callee.
	s := gas.DefaultSchedule
	s.StackLimit = 2 // f's weight is 1 + 1 parameter + 0 locals + 0
	im, _ = gas.Instrument(m, s)
	rt2 := wazero.NewRuntime(ctx)
	defer rt2.Close(ctx)
	mod2, err := rt2.Instantiate(ctx, wasm.Encode(im, false))
	if err != nil {
		t.Fatal(err)
	}
	mod2.ExportedGlobal(gas.GasGlobal).(api.MutableGlobal).Set(1000)
	if _, err := mod2.ExportedFunction("g").Call(ctx, 1); err == nil {
		t.Fatal("g ran within a stack limit of 2")
	}
	if h := mod2.ExportedGlobal(gas.StackGlobal).Get(); h <= 2 {
		t.Fatalf("stack height %d at the trap, want above the limit", h)
	}
}

// TestCallsStayStraight checks that calls add no control flow: a body of
// many calls gets no more blocks than an empty one.
func TestCallsStayStraight(t *testing.T) {
	count := func(n int) int {
		body := bytes.Repeat([]byte{wasm.OpCall, 0}, n)
		m := &wasm.Module{Types: []wasm.FuncType{{}}, Funcs: []uint32{0},
			Codes: []wasm.Code{{Expr: append(body, wasm.OpEnd)}}}
		im, err := gas.Instrument(m, gas.DefaultSchedule)
		if err != nil {
			t.Fatal(err)
		}
		blocks := 0
		if err := wasm.Walk(im.Codes[0].Expr, func(in wasm.Instr, _ int) error {
			if in.Op == wasm.OpBlock || in.Op == wasm.OpIf || in.Op == wasm.OpLoop {
				blocks++
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return blocks
	}
	if a, b := count(1), count(1000); a != b {
		t.Fatalf("1 call: %d blocks, 1000 calls: %d blocks", a, b)
	}
}
