package engine

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/wasm"
)

// worstCase builds a module of nearly maxSize bytes: deploy, call and as many
// further functions as needed, each body produced by body(i) (locals and
// instructions, without the final end) until the code section is full.
func worstCase(maxSize int, body func(i int) []byte) []byte {
	return worstCaseLocals(maxSize, func(int) []wasm.Local { return nil }, body)
}

// worstCaseLocals is worstCase with locals(i) declared in function i.
func worstCaseLocals(maxSize int, locals func(i int) []wasm.Local, body func(i int) []byte) []byte {
	m := &wasm.Module{
		Types: []wasm.FuncType{{}},
		Imports: []wasm.Import{{Module: "env", Name: "memory", Kind: wasm.KindMemory,
			Memory: wasm.Limits{Min: 1, Max: MaxMemoryPages, HasMax: true}}},
		Funcs:   []uint32{0, 0},
		Exports: []wasm.Export{{Name: "deploy", Kind: wasm.KindFunc, Index: 0}, {Name: "call", Kind: wasm.KindFunc, Index: 1}},
		Codes:   []wasm.Code{{Expr: []byte{wasm.OpEnd}}, {Expr: []byte{wasm.OpEnd}}},
	}
	size := len(wasm.Encode(m, false)) + 64 // slack for growing section headers
	for i := 0; ; i++ {
		b := append(body(i), wasm.OpEnd)
		ls := locals(i)
		n := len(b) + 8 + 4*len(ls) // body, size and count prefixes, locals
		if size+n > maxSize || len(m.Funcs) >= 100_000 {
			break
		}
		size += n
		m.Funcs = append(m.Funcs, 0)
		m.Codes = append(m.Codes, wasm.Code{Locals: ls, Expr: b})
	}
	return wasm.Encode(m, false)
}

// straightBody is 8 KiB of straight-line code (no compile cost).
var straightBody = repeat([]byte{wasm.OpI32Const, 1, wasm.OpDrop}, 8192/3)

// worstCaseLimits builds a module of nearly maxSize bytes whose first
// functions have body fn as long as the module's compile budget
// (wasm.MaxCompileBudget) allows, and whose remaining bytes are straight-line
// functions: the worst case of a control-flow pattern among accepted modules.
func worstCaseLimits(maxSize int, fn []byte) []byte {
	b, e, err := wasm.ControlCounts(append(fn[:len(fn):len(fn)], wasm.OpEnd))
	if err != nil || b == 0 {
		panic(fmt.Sprintf("worstCaseLimits: b = %d, %v", b, err))
	}
	n := wasm.MaxCompileBudget / wasm.CompileCost(b, e)
	return worstCase(maxSize, func(i int) []byte {
		if uint64(i) < n {
			return fn
		}
		return straightBody
	})
}

// maxUnits is the largest n such that one function of n copies of unit
// stays within the compile budget.
func maxUnits(unit []byte) int {
	n := 1
	for {
		b, e, err := wasm.ControlCounts(append(repeat(unit, n+1), wasm.OpEnd))
		if err != nil || wasm.CompileCost(b, e) > wasm.MaxCompileBudget {
			return n
		}
		n++
	}
}

func repeat(unit []byte, n int) []byte { return bytes.Repeat(unit, n) }

// Units of control flow for the compile-budget worst cases; metered ones
// contain an instruction so that the instrumentation charges them.
var (
	loopUnit  = []byte{wasm.OpLoop, 0x40, wasm.OpI32Const, 0, wasm.OpDrop, wasm.OpEnd}
	blockUnit = []byte{wasm.OpBlock, 0x40, wasm.OpI32Const, 0, wasm.OpDrop, wasm.OpEnd}
	brIfUnit  = []byte{wasm.OpI32Const, 0, wasm.OpBrIf, 0}
	// if-else with both arms metered, and a metered loop with a back edge.
	ifElseUnit = []byte{wasm.OpI32Const, 0, wasm.OpIf, 0x40, wasm.OpI32Const, 0, wasm.OpDrop, wasm.OpElse,
		wasm.OpI32Const, 0, wasm.OpDrop, wasm.OpEnd}
	loopBrIfUnit = []byte{wasm.OpLoop, 0x40, wasm.OpI32Const, 0, wasm.OpBrIf, 0, wasm.OpEnd}
	brTableUnit  = func() []byte {
		u := []byte{wasm.OpBlock, 0x40, wasm.OpI32Const, 0, wasm.OpBrTable, 0x80, 0x02}
		for t := 0; t <= wasm.MaxBrTableTargets; t++ {
			u = append(u, byte(t%2))
		}
		return append(u, wasm.OpEnd)
	}()
)

// worstCases are modules at the 2 MiB code limit that stress the compiler
// in different ways; "straight" is the baseline.
func worstCases() map[string][]byte {
	const size = wasm.DefaultMaxCodeSize
	// A reachable br_table at the cap: block; i32.const 0; br_table of 256
	// targets spread over the 9 enclosing labels; end.
	brUnit := []byte{wasm.OpBlock, 0x40, wasm.OpI32Const, 0, wasm.OpBrTable, 0x80, 0x02}
	for t := 0; t <= wasm.MaxBrTableTargets; t++ {
		brUnit = append(brUnit, byte(t%9))
	}
	brUnit = append(brUnit, wasm.OpEnd)
	return map[string][]byte{
		// Baseline: plain straight-line code in 8 KiB functions.
		"straight": worstCase(size, func(int) []byte {
			return repeat([]byte{wasm.OpI32Const, 1, wasm.OpDrop}, 8192/3)
		}),
		// One function of straight-line code filling the limit.
		"straight-1fn": worstCase(size, func(i int) []byte {
			if i > 0 {
				return repeat([]byte{wasm.OpNop}, size)
			}
			return repeat([]byte{wasm.OpI32Const, 1, wasm.OpDrop}, (size-200)/3)
		}),
		// br_tables at the 256-target cap, 16 of them (4 KiB) per function
		// inside 8 nested blocks, in as many functions as the compile budget
		// allows (38), then straight-line code.
		"br_table": worstCaseLimits(size, func() []byte {
			b := repeat([]byte{wasm.OpBlock, 0x40}, 8)
			b = append(b, repeat(brUnit, 16)...)
			return append(b, repeat([]byte{wasm.OpEnd}, 8)...)
		}()),
		// Blocks nested to the cap (1024), each metered, with a br_table of 256
		// far-reaching targets at the bottom, in as many 6 KiB functions as
		// the compile budget allows (12), then straight-line code.
		"nesting": worstCaseLimits(size, func() []byte {
			const depth = wasm.MaxNesting
			b := repeat([]byte{wasm.OpBlock, 0x40, wasm.OpI32Const, 0, wasm.OpDrop}, depth-1)
			b = append(b, wasm.OpI32Const, 0, wasm.OpBrTable, 0x80, 0x02)
			for t := 0; t <= wasm.MaxBrTableTargets; t++ {
				b = wasm.AppendU32(b, uint32(t*4))
			}
			return append(b, repeat([]byte{wasm.OpEnd}, depth-1)...)
		}()),
		// The compile budget spent on one function of the most expensive
		// pattern measured, metered loops (b = 4064), then straight-line code.
		"budget-loops": worstCaseLimits(size, repeat(loopUnit, maxUnits(loopUnit))),
		// The same with metered blocks, and with br_if (the pattern).
		"budget-blocks":     worstCaseLimits(size, repeat(blockUnit, maxUnits(blockUnit))),
		"budget-br_if":      worstCaseLimits(size, repeat(brIfUnit, maxUnits(brIfUnit))),
		"budget-if_else":    worstCaseLimits(size, repeat(ifElseUnit, maxUnits(ifElseUnit))),
		"budget-loop_br_if": worstCaseLimits(size, repeat(loopBrIfUnit, maxUnits(loopBrIfUnit))),
		// The same with blocks each ending in a br_table of 256 targets (the
		// targets count as edges: 164 of them fit).
		"budget-br_table": worstCaseLimits(size, repeat(brTableUnit, maxUnits(brTableUnit))),
		// The budget spread over 56 functions of metered loops (b = 512).
		"budget-loops-64fn": worstCaseLimits(size, repeat(loopUnit, 512)),
		// The budget spent on small functions of control flow (the linear
		// part: the most control flow per byte), then straight-line code:
		// 5461 functions of 32 metered loops or br_ifs (175k of them), 2048
		// of 32 if-elses or loops with a back edge, or 981 of one block with
		// a br_table of 256 targets.
		"small-loops":      worstCaseLimits(size, repeat(loopUnit, 32)),
		"small-br_if":      worstCaseLimits(size, repeat(brIfUnit, 32)),
		"small-br_table":   worstCaseLimits(size, brTableUnit),
		"small-if_else":    worstCaseLimits(size, repeat(ifElseUnit, 32)),
		"small-loop_br_if": worstCaseLimits(size, repeat(loopBrIfUnit, 32)),
		// Half the budget on one function of 2864 metered loops, the other
		// half on 14568 functions of 8 (117k loops), then straight-line code.
		"budget-mixed": worstCase(size, func(i int) []byte {
			switch {
			case i == 0:
				return repeat(loopUnit, 2864)
			case i <= 14568:
				return repeat(loopUnit, 8)
			}
			return straightBody
		}),
		// Calls to a defined function: each gets a stack-height check.
		"calls": worstCase(size, func(int) []byte {
			return repeat([]byte{wasm.OpCall, 0}, 4096)
		}),
		// Many small functions (each is a frame, a compile unit and a
		// stack-weight entry).
		"functions": worstCase(size, func(int) []byte {
			return repeat([]byte{wasm.OpI32Const, 1, wasm.OpDrop}, 6)
		}),
		// Functions at the engine's locals limit, as many as the module-wide
		// cap allows, then smaller ones.
		"locals": worstCaseLocals(size, func(i int) []wasm.Local {
			if i < wasm.MaxTotalLocals/16384-1 {
				return []wasm.Local{{Count: 16384 - 1, Type: wasm.I64}, {Count: 1, Type: wasm.I32}}
			}
			return []wasm.Local{{Count: 3, Type: wasm.I64}, {Count: 1, Type: wasm.I32}}
		}, func(int) []byte {
			return repeat([]byte{wasm.OpLocalGet, 0, wasm.OpLocalSet, 0}, 8192/4)
		}),
	}
}

// benchCases lists worstCases in the order they are reported.
var benchCases = []string{"straight", "straight-1fn", "br_table", "nesting", "calls", "functions", "locals",
	"budget-loops", "budget-blocks", "budget-br_if", "budget-br_table", "budget-loops-64fn", "small-loops", "small-br_if", "small-br_table", "budget-mixed",
	"budget-if_else", "budget-loop_br_if", "small-if_else", "small-loop_br_if"}

// BenchmarkValidate measures decoding and validation alone (MB/s of code).
func BenchmarkValidate(b *testing.B) {
	e, err := New(context.Background(), Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(context.Background())
	for _, name := range benchCases {
		code := worstCases()[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(code)))
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				if _, err := e.Validate(code); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPrepare measures validation, instrumentation and compilation by
// wazero's compiler of each worst case at the 2 MiB limit; compare each with
// "straight", the baseline of the same size.
func BenchmarkPrepare(b *testing.B) {
	ctx := context.Background()
	e, err := New(ctx, Config{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close(ctx)
	cases := worstCases()
	for _, name := range benchCases {
		code := cases[name]
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(code)))
			b.ReportAllocs()
			h := CodeHash(code)
			for i := 0; i < b.N; i++ {
				c, err := e.prepare(ctx, h, code)
				if err != nil {
					b.Fatal(err)
				}
				// Drop the cached module so that the next round compiles.
				b.StopTimer()
				e.mu.Lock()
				delete(e.cache, cacheKey{h, e.cfg.Schedule.Version})
				e.mu.Unlock()
				_ = c.mod.Close(ctx)
				b.StartTimer()
			}
		})
	}
}

// TestWorstCasesAccepted keeps the benchmark inputs honest: each is within
// the code-size limit and accepted by the engine.
func TestWorstCasesAccepted(t *testing.T) {
	e, err := New(context.Background(), Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close(context.Background())
	for name, code := range worstCases() {
		if len(code) > wasm.DefaultMaxCodeSize || len(code) < wasm.DefaultMaxCodeSize*8/10 {
			t.Errorf("%s: %d bytes", name, len(code))
		}
		if _, err := e.Validate(code); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		// The compile-budget cases must spend nearly all of it.
		if strings.HasPrefix(name, "budget-") || strings.HasPrefix(name, "small-") || name == "br_table" || name == "nesting" {
			m, err := wasm.Decode(code)
			if err != nil {
				t.Fatal(err)
			}
			var total uint64
			for _, c := range m.Codes {
				b, e, err := wasm.ControlCounts(c.Expr)
				if err != nil {
					t.Fatal(err)
				}
				total += wasm.CompileCost(b, e)
			}
			t.Logf("%s: %d functions, compile cost %d", name, len(m.Codes), total)
			if total < wasm.MaxCompileBudget*9/10 {
				t.Errorf("%s: compile cost %d, under 90%% of the budget %d", name, total, wasm.MaxCompileBudget)
			}
		}
	}
}
