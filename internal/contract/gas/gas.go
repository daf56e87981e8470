// Package gas instruments contract code for deterministic metering.
//
// Instrumentation rewrites a validated module so that it meters itself:
//
//   - Gas. The module gets a mutable i64 global, exported as GasGlobal. At the
//     head of every metered block — the function entry and the bodies of
//     block, loop, if and else — the summed cost of the block's straight-line
//     instructions is checked against the global and subtracted from it. If
//     the gas left is below the cost, the global is set to -1 and the code
//     executes unreachable, so the host sees a trap with gas -1: out of gas.
//     Code after a branch inside a block is charged with the block (an
//     over-charge that is the same on every machine).
//
//   - Stack height. The module gets a second mutable i32 global, exported as
//     StackGlobal. Every defined function adds its own frame weight (1 +
//     parameters + locals + code size/32) to it on entry and traps when it
//     exceeds Schedule.StackLimit; on exit it subtracts the weight again. To
//     have one exit, the original body is wrapped in a block of the
//     function's result type (a branch to the function's label now reaches
//     the end of that block) and every return becomes a branch to it. wazero's
//     own stack limit therefore never decides an outcome: our limit is
//     reached first and at the same point everywhere.
//
// The check sits in the callee rather than around every call site so that
// straight-line calls stay straight-line: a conditional per call would give
// the compiler a new basic block per call, and wazero's compile time grows
// faster than linearly with the basic blocks of a function.
//
// Function indices are unchanged (no helper functions or imports are added),
// so tables, exports and element segments need no rewriting.
package gas

import (
	"fmt"

	"github.com/cella-network/cella/internal/contract/wasm"
)

// Export names of the injected globals.
const (
	GasGlobal   = "__cella_gas"
	StackGlobal = "__cella_stack"
)

// Schedule holds the per-instruction costs and the stack limit. Changing any
// field requires a new Version, because compiled code is cached by (code
// hash, schedule version).
type Schedule struct {
	// Version identifies this schedule in the compile cache.
	Version uint32
	// Instr is the cost of an ordinary instruction.
	Instr uint64
	// Load and Store are the costs of memory accesses.
	Load, Store uint64
	// Branch is the cost of br, br_if, br_table and return.
	Branch uint64
	// Call and CallIndirect are the costs of the call instructions (the
	// callee's own body is metered separately).
	Call, CallIndirect uint64
	// DivRem is the cost of integer division and remainder.
	DivRem uint64
	// Mul is the cost of integer multiplication.
	Mul uint64
	// MemoryGrow is the cost of memory.grow (memory is at most 16 pages).
	MemoryGrow uint64
	// StackLimit is the largest total frame weight of nested calls.
	StackLimit uint32
}

// DefaultSchedule is the schedule of Cella's first release. One unit is
// about one simple instruction.
var DefaultSchedule = Schedule{
	Version:      2,
	Instr:        1,
	Load:         2,
	Store:        2,
	Branch:       1,
	Call:         4,
	CallIndirect: 6,
	DivRem:       4,
	Mul:          2,
	MemoryGrow:   2000,
	StackLimit:   64 * 1024,
}

// Cost returns the gas cost of one instruction.
func (s *Schedule) Cost(in wasm.Instr) uint64 {
	op := in.Op
	switch {
	case op == wasm.OpEnd || op == wasm.OpElse || op == wasm.OpBlock || op == wasm.OpLoop || op == wasm.OpNop:
		return 0
	case op == wasm.OpBr || op == wasm.OpBrIf || op == wasm.OpBrTable || op == wasm.OpReturn:
		return s.Branch
	case op == wasm.OpCall:
		return s.Call
	case op == wasm.OpCallIndirect:
		return s.CallIndirect
	case op >= 0x28 && op <= 0x35:
		return s.Load
	case op >= 0x36 && op <= 0x3E:
		return s.Store
	case op == wasm.OpMemoryGrow:
		return s.MemoryGrow
	case op == 0x6C || op == 0x7E: // i32.mul, i64.mul
		return s.Mul
	case (op >= 0x6D && op <= 0x70) || (op >= 0x7F && op <= 0x82):
		return s.DivRem
	}
	return s.Instr
}

// FrameWeight is the stack weight of a function with the given signature and
// body: one for the frame, plus its parameters and locals, plus one per 32
// bytes of code (a bound on the operand stack and spill slots of its native
// frame).
func FrameWeight(ft wasm.FuncType, c wasm.Code) uint64 {
	return 1 + uint64(len(ft.Params)) + c.NumLocals() + uint64(len(c.Expr))/32
}

// Instrument returns a copy of m with gas metering and the stack-height limit
// injected. m must have passed wasm.Validate (no global imports, indices in
// range). m itself is not modified.
func Instrument(m *wasm.Module, s Schedule) (*wasm.Module, error) {
	if m.NumImportedGlobals() != 0 {
		return nil, fmt.Errorf("gas: global imports are not supported")
	}
	out := *m
	gasIdx := uint32(len(m.Globals))
	stackIdx := gasIdx + 1
	out.Globals = append(append([]wasm.Global{}, m.Globals...),
		wasm.Global{Type: wasm.GlobalType{Type: wasm.I64, Mutable: true}, Init: []byte{wasm.OpI64Const, 0, wasm.OpEnd}},
		wasm.Global{Type: wasm.GlobalType{Type: wasm.I32, Mutable: true}, Init: []byte{wasm.OpI32Const, 0, wasm.OpEnd}},
	)
	out.Exports = append(append([]wasm.Export{}, m.Exports...),
		wasm.Export{Name: GasGlobal, Kind: wasm.KindGlobal, Index: gasIdx},
		wasm.Export{Name: StackGlobal, Kind: wasm.KindGlobal, Index: stackIdx},
	)

	nImp := uint32(m.NumImportedFuncs())
	limit := uint64(s.StackLimit)
	out.Codes = make([]wasm.Code, len(m.Codes))
	for i, c := range m.Codes {
		ft := m.Types[m.Funcs[i]]
		w := FrameWeight(ft, c)
		if w > limit+1 {
			w = limit + 1 // such a function can never run; keep the arithmetic small
		}
		if len(ft.Results) > 1 {
			return nil, fmt.Errorf("gas: function %d has %d results (multi-value)", nImp+uint32(i), len(ft.Results))
		}
		expr, err := instrumentBody(c.Expr, &s, gasIdx, stackIdx, w, ft.Results)
		if err != nil {
			return nil, fmt.Errorf("gas: function %d: %w", nImp+uint32(i), err)
		}
		out.Codes[i] = wasm.Code{Locals: c.Locals, Expr: expr}
	}
	return &out, nil
}

func instrumentBody(expr []byte, s *Schedule, gasIdx, stackIdx uint32, weight uint64, results []wasm.ValType) ([]byte, error) {
	// Pass 1: the cost of every metered block, keyed by the code offset where
	// its charge goes (the function start, or just after block/loop/if/else).
	type counter struct {
		at   int
		cost uint64
	}
	charges := map[int]uint64{}
	stack := []counter{{at: 0}}
	finish := func(c counter) {
		if c.cost > 0 {
			charges[c.at] = c.cost
		}
	}
	err := wasm.Walk(expr, func(in wasm.Instr, _ int) error {
		top := &stack[len(stack)-1]
		top.cost += s.Cost(in)
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			stack = append(stack, counter{at: in.End})
		case wasm.OpElse:
			finish(stack[len(stack)-1])
			stack[len(stack)-1] = counter{at: in.End}
		case wasm.OpEnd:
			finish(stack[len(stack)-1])
			stack = stack[:len(stack)-1]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Pass 2: copy the code, inserting charges, inside the stack-height
	// prologue and epilogue:
	//   sh += w; if sh > limit { unreachable }
	//   block (result) <charged body, return -> br to this block> end
	//   sh -= w
	//   end
	out := make([]byte, 0, len(expr)+len(expr)/2+64)
	out = appendStackEnter(out, stackIdx, weight, uint64(s.StackLimit))
	out = append(out, wasm.OpBlock)
	if len(results) == 1 {
		out = append(out, byte(results[0]))
	} else {
		out = append(out, 0x40)
	}
	if c, ok := charges[0]; ok {
		out = appendCharge(out, gasIdx, c)
	}
	pos, depth := 0, 0
	for pos < len(expr) {
		in, next, err := wasm.ReadInstr(expr, pos)
		if err != nil {
			return nil, err
		}
		switch in.Op {
		case wasm.OpBlock, wasm.OpLoop, wasm.OpIf:
			depth++
		case wasm.OpEnd:
			depth--
		}
		if in.Op == wasm.OpReturn {
			// The wrapper block is label depth here.
			out = append(out, wasm.OpBr)
			out = wasm.AppendU32(out, uint32(depth))
		} else {
			out = append(out, expr[pos:next]...)
		}
		if c, ok := charges[next]; ok && next < len(expr) {
			out = appendCharge(out, gasIdx, c)
		}
		pos = next
	}
	// The copied final end closed the wrapper block.
	out = appendStackLeave(out, stackIdx, weight)
	return append(out, wasm.OpEnd), nil
}

// appendCharge emits: if gas < c { gas = -1; unreachable }; gas -= c.
func appendCharge(b []byte, g uint32, c uint64) []byte {
	b = append(b, wasm.OpGlobalGet)
	b = wasm.AppendU32(b, g)
	b = append(b, wasm.OpI64Const)
	b = wasm.AppendS64(b, int64(c))
	b = append(b, wasm.OpI64LtU, wasm.OpIf, 0x40, wasm.OpI64Const, 0x7F, wasm.OpGlobalSet)
	b = wasm.AppendU32(b, g)
	b = append(b, wasm.OpUnreachable, wasm.OpEnd, wasm.OpGlobalGet)
	b = wasm.AppendU32(b, g)
	b = append(b, wasm.OpI64Const)
	b = wasm.AppendS64(b, int64(c))
	b = append(b, wasm.OpI64Sub, wasm.OpGlobalSet)
	return wasm.AppendU32(b, g)
}

// appendStackEnter emits: sh += w; if sh > limit { unreachable }.
func appendStackEnter(b []byte, g uint32, w, limit uint64) []byte {
	b = append(b, wasm.OpGlobalGet)
	b = wasm.AppendU32(b, g)
	b = append(b, wasm.OpI32Const)
	b = wasm.AppendS64(b, int64(int32(w)))
	b = append(b, wasm.OpI32Add, wasm.OpGlobalSet)
	b = wasm.AppendU32(b, g)
	b = append(b, wasm.OpGlobalGet)
	b = wasm.AppendU32(b, g)
	b = append(b, wasm.OpI32Const)
	b = wasm.AppendS64(b, int64(int32(limit)))
	return append(b, wasm.OpI32GtU, wasm.OpIf, 0x40, wasm.OpUnreachable, wasm.OpEnd)
}

// appendStackLeave emits: sh -= w.
func appendStackLeave(b []byte, g uint32, w uint64) []byte {
	b = append(b, wasm.OpGlobalGet)
	b = wasm.AppendU32(b, g)
	b = append(b, wasm.OpI32Const)
	b = wasm.AppendS64(b, int64(int32(w)))
	b = append(b, wasm.OpI32Sub, wasm.OpGlobalSet)
	return wasm.AppendU32(b, g)
}
