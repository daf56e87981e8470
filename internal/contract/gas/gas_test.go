package gas_test

import (
	"bytes"
	"testing"

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
