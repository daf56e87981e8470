package wasm_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"

	"github.com/cella-network/cella/internal/contract/gas"
	"github.com/cella-network/cella/internal/contract/wasm"
)

// enginePolicy mirrors the engine's upload policy (without host imports).
var enginePolicy = wasm.Policy{Imports: map[string]wasm.FuncType{}, MaxCodeSize: wasm.DefaultMaxCodeSize,
	MaxMemoryPages: 16, MaxLocals: 16384, MaxGlobals: 1024, MaxTableSize: 16384, MaxFunctions: 100000}

// contract assembles the smallest valid contract (types, env.memory of one
// page, deploy and call with empty bodies) plus the extra sections given by
// id. Every byte is spelled out so that a test reads as the module it checks.
func contract(extra map[byte][]byte) []byte {
	sec := map[byte][]byte{
		wasm.SecType: {0x01, 0x60, 0x00, 0x00}, // one type () -> ()
		wasm.SecImport: {0x01, 0x03, 'e', 'n', 'v', 0x06, 'm', 'e', 'm', 'o', 'r', 'y',
			0x02, 0x00, 0x01}, // env.memory, min 1 page
		wasm.SecFunction: {0x02, 0x00, 0x00}, // two functions of type 0
		wasm.SecExport: {0x02, 0x06, 'd', 'e', 'p', 'l', 'o', 'y', 0x00, 0x00,
			0x04, 'c', 'a', 'l', 'l', 0x00, 0x01},
		wasm.SecCode: {0x02, 0x02, 0x00, 0x0B, 0x02, 0x00, 0x0B}, // two bodies: no locals, end
	}
	for id, p := range extra {
		sec[id] = p
	}
	out := []byte("\x00asm\x01\x00\x00\x00")
	for _, id := range []byte{wasm.SecType, wasm.SecImport, wasm.SecFunction, wasm.SecTable,
		wasm.SecMemory, wasm.SecGlobal, wasm.SecExport, wasm.SecStart, wasm.SecElement,
		wasm.SecDataCount, wasm.SecCode, wasm.SecData} {
		if p, ok := sec[id]; ok {
			out = append(out, id)
			out = wasm.AppendU32(out, uint32(len(p)))
			out = append(out, p...)
		}
	}
	return out
}

// withBody replaces the call function's body (locals and code).
func withBody(extra map[byte][]byte, body []byte) map[byte][]byte {
	if extra == nil {
		extra = map[byte][]byte{}
	}
	code := []byte{0x02, 0x02, 0x00, 0x0B}
	code = wasm.AppendU32(code, uint32(len(body)))
	extra[wasm.SecCode] = append(code, body...)
	return extra
}

// brTable is a call body (no locals) of one br_table with n targets, all to
// the function's own label.
func brTable(n int) []byte {
	b := []byte{0x00, wasm.OpI32Const, 0x00, wasm.OpBrTable}
	b = wasm.AppendU32(b, uint32(n))
	b = append(b, make([]byte, n+1)...) // n targets and the default, all label 0
	return append(b, wasm.OpEnd)
}

// u32 spells a LEB128 count.
func u32(v uint32) []byte { return wasm.AppendU32(nil, v) }

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// TestHostileSections checks that each section is parsed and bounded before
// anything reaches the compiler. The cases marked old passed the old
// decoder and validator (the element and data sections were kept raw, const
// expressions were not typed, the br_table was unbounded).
func TestHostileSections(t *testing.T) {
	table1 := []byte{0x01, 0x70, 0x00, 0x04} // one funcref table, min 4
	cases := []struct {
		name  string
		extra map[byte][]byte
		want  string
	}{
		// Defect 3: a data section of 0xFFFFFFF0 segments (old: wazero OOM).
		{"old: data count 0xFFFFFFF0", map[byte][]byte{wasm.SecData: {0xF0, 0xFF, 0xFF, 0xFF, 0x0F}},
			"4294967280 data segments exceed the limit of 1024"},
		{"old: data count over the cap", map[byte][]byte{wasm.SecData: u32(wasm.MaxDataSegments + 1)},
			"1025 data segments exceed the limit of 1024"},
		{"old: data count beyond input", map[byte][]byte{wasm.SecData: {0x10, 0x00}}, "vector of 16 data segments exceeds remaining input"},
		{"old: data length 0xFFFFFFF0", map[byte][]byte{wasm.SecData: {0x01, 0x00, 0x41, 0x00, 0x0B, 0xF0, 0xFF, 0xFF, 0xFF, 0x0F}},
			"length 4294967280 exceeds remaining"},
		{"old: passive data segment", map[byte][]byte{wasm.SecData: {0x01, 0x01, 0x03, 0xAA, 0xBB, 0xCC}}, "kind 1 (bulk memory) not supported"},
		{"old: data offset i64", map[byte][]byte{wasm.SecData: {0x01, 0x00, 0x42, 0x00, 0x0B, 0x00}},
			"constant expression of type i64 where i32 is expected"},
		{"old: data offset global.get", map[byte][]byte{wasm.SecData: {0x01, 0x00, 0x23, 0x00, 0x0B, 0x00}},
			"global.get 0 is not an imported global"},
		{"old: data outside memory", map[byte][]byte{wasm.SecData: {0x01, 0x00, 0x41, 0xFA, 0xFF, 0x03, 0x0B, 0x0A,
			0, 0, 0, 0, 0, 0, 0, 0, 0, 0}}, "data segment 0 ends at byte 65540, beyond the initial memory of 65536 bytes"},
		{"old: data count mismatch", map[byte][]byte{wasm.SecDataCount: {0x02}, wasm.SecData: {0x00}},
			"data count section says 2 segments, data section has 0"},
		// Elements.
		{"old: element count 0xFFFFFFF0", map[byte][]byte{wasm.SecTable: table1, wasm.SecElement: {0xF0, 0xFF, 0xFF, 0xFF, 0x0F}},
			"4294967280 element segments exceed the limit of 1024"},
		{"old: element entries 0xFFFFFFF0", map[byte][]byte{wasm.SecTable: table1,
			wasm.SecElement: {0x01, 0x00, 0x41, 0x00, 0x0B, 0xF0, 0xFF, 0xFF, 0xFF, 0x0F}}, "vector of 4294967280 entries exceeds remaining input"},
		{"old: element without table", map[byte][]byte{wasm.SecElement: {0x01, 0x00, 0x41, 0x00, 0x0B, 0x01, 0x00}}, "element segments without a table"},
		{"old: element function out of range", map[byte][]byte{wasm.SecTable: table1,
			wasm.SecElement: {0x01, 0x00, 0x41, 0x00, 0x0B, 0x01, 0x02}}, "element segment 0: function 2 out of range"},
		{"old: element beyond table", map[byte][]byte{wasm.SecTable: table1,
			wasm.SecElement: {0x01, 0x00, 0x41, 0x03, 0x0B, 0x02, 0x00, 0x01}}, "element segment 0 ends at 5, beyond the table of 4 entries"},
		{"old: element expressions", map[byte][]byte{wasm.SecTable: table1,
			wasm.SecElement: {0x01, 0x05, 0x70, 0x01, 0xD2, 0x00, 0x0B}}, "kind 5 (bulk memory or reference types) not supported"},
		// Globals.
		{"global count 0xFFFFFFF0", map[byte][]byte{wasm.SecGlobal: {0xF0, 0xFF, 0xFF, 0xFF, 0x0F}}, "exceeds remaining input"},
		{"old: global init of two instructions", map[byte][]byte{wasm.SecGlobal: {0x01, 0x7F, 0x00, 0x41, 0x00, 0x41, 0x00, 0x0B}},
			"constant expression has more than one instruction"},
		{"old: global init of the wrong type", map[byte][]byte{wasm.SecGlobal: {0x01, 0x7E, 0x00, 0x41, 0x00, 0x0B}},
			"constant expression of type i32 where i64 is expected"},
		{"old: global init global.get 0xFFFFFFF0", map[byte][]byte{wasm.SecGlobal: {0x01, 0x7F, 0x00, 0x23, 0xF0, 0xFF, 0xFF, 0xFF, 0x0F, 0x0B}},
			"global.get 4294967280 is not an imported global"},
		{"old: global init ref.func", map[byte][]byte{wasm.SecGlobal: {0x01, 0x7F, 0x00, 0xD2, 0x00, 0x0B}},
			"ref.func not allowed in a constant expression"},
		// Tables.
		{"table count 0xFFFFFFF0", map[byte][]byte{wasm.SecTable: {0xF0, 0xFF, 0xFF, 0xFF, 0x0F}}, "exceeds remaining input"},
		{"table of 0xFFFFFFF0 entries", map[byte][]byte{wasm.SecTable: {0x01, 0x70, 0x00, 0xF0, 0xFF, 0xFF, 0xFF, 0x0F}},
			"table of 4294967280 entries exceeds the limit of 16384"},
		{"two tables", map[byte][]byte{wasm.SecTable: {0x02, 0x70, 0x00, 0x01, 0x70, 0x00, 0x01}},
			"2 tables (imported ones included) exceed the limit of 1"},
		{"old: externref table", map[byte][]byte{wasm.SecTable: {0x01, 0x6F, 0x00, 0x01}}, "table of externref (reference types) not allowed"},
		// Types, exports, start, locals.
		{"types over the cap", map[byte][]byte{wasm.SecType: u32(wasm.MaxTypes + 1)}, "4097 types exceed the limit of 4096"},
		{"parameters over the cap", map[byte][]byte{wasm.SecType: cat([]byte{0x01, 0x60}, u32(wasm.MaxParams+1),
			bytes.Repeat([]byte{0x7F}, wasm.MaxParams+1), []byte{0x00})}, "129 parameters exceed the limit of 128"},
		{"old: start out of range", map[byte][]byte{wasm.SecStart: {0x05}}, "start function 5 out of range"},
		{"locals over the cap", withBody(nil, []byte{0x01, 0x81, 0x80, 0x04, 0x7F, 0x0B}), "declares 65537 locals, over the limit of 65536"},
		{"nesting over the cap", withBody(nil, cat([]byte{0x00}, bytes.Repeat([]byte{0x02, 0x40}, wasm.MaxNesting+1),
			bytes.Repeat([]byte{0x0B}, wasm.MaxNesting+2))), "blocks nested deeper than 1024"},
		// Defect 4: br_table targets.
		{"old: br_table of 257 targets", withBody(nil, brTable(257)), "br_table with 257 targets exceeds the limit of 256"},
		{"old: br_table of 500k targets", withBody(nil, brTable(500_000)), "br_table with 500000 targets exceeds the limit of 256"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code := contract(c.extra)
			p := enginePolicy
			p.Start = wasm.StartAllow
			_, err := wasm.Check(code, p)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want %q", err, c.want)
			}
			if !errors.Is(err, wasm.ErrMalformed) && !errors.Is(err, wasm.ErrInvalid) {
				t.Fatalf("err %v is neither malformed nor invalid", err)
			}
		})
	}
}

// TestDefect3Module is the module spelled out byte for byte: a valid
// contract whose data section declares 0xFFFFFFF0 segments.
func TestDefect3Module(t *testing.T) {
	code := []byte{
		0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00, // \0asm, version 1
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
		0x02, 0x0F, 0x01, 0x03, 0x65, 0x6E, 0x76, 0x06, 0x6D, 0x65, 0x6D, 0x6F, 0x72, 0x79, 0x02, 0x00, 0x01, // import env.memory {min 1}
		0x03, 0x03, 0x02, 0x00, 0x00, // two functions of type 0
		0x07, 0x11, 0x02, 0x06, 0x64, 0x65, 0x70, 0x6C, 0x6F, 0x79, 0x00, 0x00, 0x04, 0x63, 0x61, 0x6C, 0x6C, 0x00, 0x01, // export deploy, call
		0x0A, 0x07, 0x02, 0x02, 0x00, 0x0B, 0x02, 0x00, 0x0B, // code: two empty bodies
		0x0B, 0x05, 0xF0, 0xFF, 0xFF, 0xFF, 0x0F, // data: 0xFFFFFFF0 segments, none present
	}
	if !bytes.Equal(code, contract(map[byte][]byte{wasm.SecData: {0xF0, 0xFF, 0xFF, 0xFF, 0x0F}})) {
		t.Fatal("spelled-out module differs from contract()")
	}
	_, err := wasm.Check(code, enginePolicy)
	if !errors.Is(err, wasm.ErrMalformed) || !strings.Contains(err.Error(), "data segments exceed the limit") {
		t.Fatalf("err = %v", err)
	}
}

// TestAcceptedCompile checks the boundary cases that must pass: each is
// validated, instrumented and compiled by wazero.
func TestAcceptedCompile(t *testing.T) {
	table1 := []byte{0x01, 0x70, 0x00, 0x04}
	cases := map[string]map[byte][]byte{
		"base":                nil,
		"br_table 256":        withBody(nil, brTable(wasm.MaxBrTableTargets)),
		"data segments":       {wasm.SecData: {0x02, 0x00, 0x41, 0x00, 0x0B, 0x02, 0xAA, 0xBB, 0x00, 0x41, 0xFE, 0xFF, 0x03, 0x0B, 0x02, 0xCC, 0xDD}},
		"data count":          {wasm.SecDataCount: {0x00}},
		"elements":            {wasm.SecTable: table1, wasm.SecElement: {0x01, 0x00, 0x41, 0x02, 0x0B, 0x02, 0x00, 0x01}},
		"globals":             {wasm.SecGlobal: {0x02, 0x7F, 0x01, 0x41, 0x2A, 0x0B, 0x7E, 0x00, 0x42, 0x7F, 0x0B}},
		"locals at the cap":   withBody(nil, []byte{0x01, 0x80, 0x80, 0x04, 0x7F, 0x0B}),
		"nesting at the cap":  withBody(nil, cat([]byte{0x00}, bytes.Repeat([]byte{0x02, 0x40}, wasm.MaxNesting), bytes.Repeat([]byte{0x0B}, wasm.MaxNesting+1))),
		"max data segments":   {wasm.SecData: cat(u32(wasm.MaxDataSegments), bytes.Repeat([]byte{0x00, 0x41, 0x00, 0x0B, 0x00}, wasm.MaxDataSegments))},
		"max element entries": {wasm.SecTable: table1, wasm.SecElement: cat(u32(wasm.MaxElemSegments), bytes.Repeat([]byte{0x00, 0x41, 0x00, 0x0B, 0x01, 0x00}, wasm.MaxElemSegments))},
	}
	rt := newCompiler(context.Background())
	defer rt.Close(context.Background())
	for name, extra := range cases {
		p := enginePolicy
		if name == "data count" {
			// Accepted by the decoder; the policy rejects bulk memory.
			if _, err := wasm.Decode(contract(extra)); err != nil {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		if name == "locals at the cap" {
			p.MaxLocals = wasm.MaxFuncLocals
		}
		m, err := wasm.Check(contract(extra), p)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if err := compile(context.Background(), rt, m); err != nil {
			t.Errorf("%s: compile: %v", name, err)
		}
	}
}

// newCompiler returns a wazero runtime configured as the engine's.
func newCompiler(ctx context.Context) wazero.Runtime {
	rc := wazero.NewRuntimeConfigCompiler().
		WithCoreFeatures(api.CoreFeaturesV1 | api.CoreFeatureSignExtensionOps | api.CoreFeatureMutableGlobal).
		WithMemoryLimitPages(16)
	return wazero.NewRuntimeWithConfig(ctx, rc)
}

// compile instruments m and compiles it with rt, as the engine does.
func compile(ctx context.Context, rt wazero.Runtime, m *wasm.Module) error {
	im, err := gas.Instrument(m, gas.DefaultSchedule)
	if err != nil {
		return err
	}
	cm, err := rt.CompileModule(ctx, wasm.Encode(im, false))
	if err != nil {
		return err
	}
	return cm.Close(ctx)
}

// withBodies gives the module one function of type () -> () per body (locals
// and code each): deploy, call, then others.
func withBodies(bodies ...[]byte) map[byte][]byte {
	funcs := cat(u32(uint32(len(bodies))), make([]byte, len(bodies)))
	code := u32(uint32(len(bodies)))
	for _, b := range bodies {
		code = wasm.AppendU32(code, uint32(len(b)))
		code = append(code, b...)
	}
	return map[byte][]byte{wasm.SecFunction: funcs, wasm.SecCode: code}
}

// copies returns n references to b.
func copies(b []byte, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = b
	}
	return out
}

// body is a function body without locals: n copies of unit, then end.
func body(unit []byte, n int) []byte {
	return cat([]byte{0x00}, bytes.Repeat(unit, n), []byte{wasm.OpEnd})
}

var (
	brIf0 = []byte{wasm.OpI32Const, 0x00, wasm.OpBrIf, 0x00} // i32.const 0; br_if 0
	// block; i32.const 0; br_table of 256 targets (and the default); end:
	// b = 2, e = 2 + 257 per unit.
	blockBrTable = cat([]byte{wasm.OpBlock, 0x40, wasm.OpI32Const, 0x00, wasm.OpBrTable}, u32(256), make([]byte, 257), []byte{wasm.OpEnd})
	// i32.const 0; br_table of 256 targets (and the default): b = 1,
	// e = 258 per unit.
	brTable256 = cat([]byte{wasm.OpI32Const, 0x00, wasm.OpBrTable}, u32(256), make([]byte, 257))
	// Blocks nested to MaxNesting, each metered, with a br_table of 256
	// targets at the bottom: b = 1025, e = 1025 + 257.
	nestedBrTable = cat([]byte{0x00}, bytes.Repeat([]byte{wasm.OpBlock, 0x40, wasm.OpI32Const, 0x00, wasm.OpDrop}, wasm.MaxNesting),
		[]byte{wasm.OpI32Const, 0x00, wasm.OpBrTable}, u32(256), bytes.Repeat([]byte{0x07}, 257),
		bytes.Repeat([]byte{wasm.OpEnd}, wasm.MaxNesting+1))
)

// TestCompileBudget checks the compile budget (MaxCompileBudget) at its
// boundary: b·e of each function is summed over the module; the old
// validator accepted every rejected case here.
func TestCompileBudget(t *testing.T) {
	// A function of n br_ifs costs n·(n+64): 4064 fit the budget of 2^24,
	// 4065 do not; over two functions, 2864 each fit and 2865 do not.
	cases := []struct {
		name  string
		extra map[byte][]byte
		want  string // "" if accepted
	}{
		{"issue: br_if x40k in one function", withBody(nil, body(brIf0, 40_000)),
			"compile budget exceeded at function 1: its 40000 control instructions (block, loop, if, else, br, br_if, br_table, return) and 0 br_table targets cost 40000·(40000+64) = 1602560000, bringing the module's total to 1602560000, over the limit of 16777216"},
		{"br_if x4064", withBody(nil, body(brIf0, 4064)), ""},
		{"br_if x4065", withBody(nil, body(brIf0, 4065)), "cost 4065·(4065+64) = 16784385"},
		{"return x4064", withBody(nil, body([]byte{wasm.OpReturn}, 4064)), ""},
		{"return x4065", withBody(nil, body([]byte{wasm.OpReturn}, 4065)), "over the limit of 16777216"},
		{"two functions of 2864", withBodies(body(brIf0, 2864), body(brIf0, 2864)), ""},
		{"two functions of 2865", withBodies(body(brIf0, 2865), body(brIf0, 2865)),
			"compile budget exceeded at function 1: its 2865 control instructions (block, loop, if, else, br, br_if, br_table, return) and 0 br_table targets cost 2865·(2865+64) = 8391585, bringing the module's total to 16783170"},
		// br_table targets count as edges: 164 units cost 42476·(328+64).
		{"block+br_table(256) x164", withBody(nil, body(blockBrTable, 164)), ""},
		{"block+br_table(256) x165", withBody(nil, body(blockBrTable, 165)), "and 42405 br_table targets cost 42735·(330+64) = 16837590"},
		// Nesting at the cap with a far-reaching br_table costs
		// 1282·(1025+64): 12 such functions fit, 13 do not.
		{"nesting at the cap with br_table", withBody(nil, nestedBrTable), ""},
		{"nesting at the cap x12", withBodies(copies(nestedBrTable, 12)...), ""},
		{"nesting at the cap x13", withBodies(copies(nestedBrTable, 13)...),
			"compile budget exceeded at function 12: its 1025 control instructions (block, loop, if, else, br, br_if, br_table, return) and 257 br_table targets cost 1282·(1025+64) = 1396098, bringing the module's total to 18149274"},
		// The linear part: functions of 64 br_tables of 256 targets cost
		// 16512·(64+64), 7 fit; functions of 32 br_ifs cost 32·96, 5461 fit.
		{"br_table functions x7", withBodies(copies(body(brTable256, 64), 7)...), ""},
		{"br_table functions x8", withBodies(copies(body(brTable256, 64), 8)...),
			"cost 16512·(64+64) = 2113536, bringing the module's total to 16908288, over the limit of 16777216"},
		{"small functions x5461", withBodies(copies(body(brIf0, 32), 5461)...), ""},
		{"small functions x5462", withBodies(copies(body(brIf0, 32), 5462)...), "bringing the module's total to 16779264"},
	}
	rt := newCompiler(context.Background())
	defer rt.Close(context.Background())
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := wasm.Check(contract(c.extra), enginePolicy)
			if c.want != "" {
				if !errors.Is(err, wasm.ErrInvalid) || !strings.Contains(err.Error(), c.want) {
					t.Fatalf("err = %v, want %q", err, c.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := compile(context.Background(), rt, m); err != nil {
				t.Fatalf("compile: %v", err)
			}
		})
	}
}

// TestControlCounts checks b and e for single bodies.
func TestControlCounts(t *testing.T) {
	cases := []struct {
		name string
		body []byte
		b, e uint64
	}{
		{"empty", []byte{wasm.OpEnd}, 0, 0},
		{"straight-line and calls", []byte{wasm.OpI32Const, 0, wasm.OpDrop, wasm.OpCall, 0, wasm.OpUnreachable, wasm.OpEnd}, 0, 0},
		{"one of each", cat([]byte{wasm.OpBlock, 0x40, wasm.OpLoop, 0x40, wasm.OpI32Const, 0, wasm.OpIf, 0x40, wasm.OpElse,
			wasm.OpBr, 0, wasm.OpEnd, wasm.OpI32Const, 0, wasm.OpBrIf, 0, wasm.OpReturn, wasm.OpEnd, wasm.OpEnd, wasm.OpEnd}), 7, 7},
		{"br_table of 3 targets", []byte{wasm.OpI32Const, 0, wasm.OpBrTable, 3, 0, 0, 0, 0, wasm.OpEnd}, 1, 5},
		{"block and br_table of 256", cat(blockBrTable, []byte{wasm.OpEnd}), 2, 259},
		{"nesting at the cap with br_table", nestedBrTable[1:], 1025, 1282},
	}
	for _, c := range cases {
		b, e, err := wasm.ControlCounts(c.body)
		if err != nil || b != c.b || e != c.e {
			t.Errorf("%s: b = %d, e = %d, %v; want %d, %d", c.name, b, e, err, c.b, c.e)
		}
	}
	if _, _, err := wasm.ControlCounts([]byte{wasm.OpBlock, 0x40, wasm.OpEnd}); err == nil {
		t.Error("unterminated body accepted")
	}
	if got := wasm.CompileCost(1025, 1282); got != 1282*(1025+wasm.ControlEdgeWeight) {
		t.Errorf("CompileCost(1025, 1282) = %d", got)
	}
}
