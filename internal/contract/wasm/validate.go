package wasm

import (
	"errors"
	"fmt"
	"sort"
)

// StartPolicy says what to do with a module that has a start section.
type StartPolicy int

const (
	// StartReject rejects modules with a start section (the default): a
	// start function would run at instantiation, outside deploy/call, with no
	// input and no defined outcome.
	StartReject StartPolicy = iota
	// StartAllow accepts a start section; the engine runs it at
	// instantiation, metered like any other code.
	StartAllow
)

// Policy is the set of rules a contract must satisfy at upload.
type Policy struct {
	// Imports maps "module.name" to the signature of every host function a
	// contract may import.
	Imports map[string]FuncType
	// MaxCodeSize is the largest accepted module in bytes.
	MaxCodeSize int
	// MaxMemoryPages is the largest accepted env.memory maximum.
	MaxMemoryPages uint32
	// AllowFloats accepts floating-point types and operators (query-only
	// code); transactions must leave it false.
	AllowFloats bool
	// Start is the start-section policy.
	Start StartPolicy
	// MaxLocals bounds the locals (including parameters) of one function.
	MaxLocals uint64
	// MaxGlobals bounds the number of globals.
	MaxGlobals int
	// MaxTableSize bounds the minimum size of the table.
	MaxTableSize uint32
	// MaxFunctions bounds the number of defined functions.
	MaxFunctions int
}

// DefaultMaxCodeSize is the default code-size limit, 2 MiB as Phala.
const DefaultMaxCodeSize = 2 << 20

// ErrInvalid is wrapped by every validation error.
var ErrInvalid = errors.New("invalid contract")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Validate checks that m may be run as a contract under p. The checks follow
// pallet-contracts' prepare.rs: only known host-function imports with the
// expected signatures, exactly one env.memory import with a maximum within the
// limit, no other imports, exports exactly deploy and call of type () -> ()
// (or () -> i32), no floating point unless allowed, no bulk-memory, SIMD,
// reference-type or multi-value features, the start-section policy, and
// element and data segments that fit the initial table and memory, and the
// compile budget of limits.go (MaxCompileBudget). The
// structural caps of limits.go are enforced earlier, by Decode.
func Validate(m *Module, p Policy) error {
	memImports := 0
	for _, im := range m.Imports {
		key := im.Module + "." + im.Name
		switch im.Kind {
		case KindFunc:
			want, ok := p.Imports[key]
			if !ok {
				return invalid("unknown import %s", key)
			}
			got := m.Types[im.TypeIndex]
			if !got.Equal(want) {
				return invalid("import %s has signature %s, want %s", key, got, want)
			}
		case KindMemory:
			if im.Module != "env" || im.Name != "memory" {
				return invalid("memory must be imported as env.memory, not %s", key)
			}
			memImports++
			max := p.MaxMemoryPages
			if im.Memory.HasMax {
				max = im.Memory.Max
			}
			if max > p.MaxMemoryPages {
				return invalid("env.memory maximum %d pages exceeds the limit of %d", max, p.MaxMemoryPages)
			}
			if im.Memory.Min > max {
				return invalid("env.memory minimum %d pages exceeds its maximum %d", im.Memory.Min, max)
			}
		default:
			return invalid("import %s: importing a %s is not allowed", key, KindName(im.Kind))
		}
	}
	if memImports == 0 {
		return invalid("no env.memory import")
	}
	if memImports > 1 {
		return invalid("more than one memory import")
	}
	if len(m.Memories) > 0 {
		return invalid("the module defines its own memory; it must only import env.memory")
	}
	if len(m.Tables) > 1 {
		return invalid("more than one table")
	}
	if len(m.Tables) == 1 && m.Tables[0].Limits.Min > p.MaxTableSize {
		return invalid("table of %d entries exceeds the limit of %d", m.Tables[0].Limits.Min, p.MaxTableSize)
	}
	if len(m.Globals) > p.MaxGlobals {
		return invalid("%d globals exceed the limit of %d", len(m.Globals), p.MaxGlobals)
	}
	if len(m.Funcs) > p.MaxFunctions {
		return invalid("%d functions exceed the limit of %d", len(m.Funcs), p.MaxFunctions)
	}
	if len(m.Tables) == 1 && m.Tables[0].Elem != FuncRef {
		return invalid("table of %s (reference types) not allowed", m.Tables[0].Elem)
	}
	if m.Start != nil && p.Start == StartReject {
		return invalid("start section not allowed")
	}
	if m.Start != nil {
		if ft, ok := m.FuncTypeOf(*m.Start); !ok || len(ft.Params) != 0 || len(ft.Results) != 0 {
			return invalid("start function %d must have type () -> ()", *m.Start)
		}
	}
	// Segments must fit the initial table and memory: an out-of-bounds
	// segment could never be instantiated.
	for i, seg := range m.ElemSegments {
		if len(m.Tables) == 0 {
			return invalid("element segment %d without a table", i)
		}
		if end := uint64(seg.Offset) + uint64(len(seg.Funcs)); end > uint64(m.Tables[0].Limits.Min) {
			return invalid("element segment %d ends at %d, beyond the table of %d entries", i, end, m.Tables[0].Limits.Min)
		}
	}
	var memMin uint64
	for _, im := range m.Imports {
		if im.Kind == KindMemory {
			memMin = uint64(im.Memory.Min) * 65536
		}
	}
	for i, seg := range m.DataSegments {
		if end := uint64(seg.Offset) + uint64(len(seg.Init)); end > memMin {
			return invalid("data segment %d ends at byte %d, beyond the initial memory of %d bytes", i, end, memMin)
		}
	}
	if m.DataCount != nil {
		return invalid("data count section (bulk memory) not allowed")
	}
	// Exports.
	have := map[string]bool{}
	for _, e := range m.Exports {
		if e.Name != "deploy" && e.Name != "call" {
			return invalid("unexpected export %q (only deploy and call)", e.Name)
		}
		if e.Kind != KindFunc {
			return invalid("export %q must be a function", e.Name)
		}
		ft, ok := m.FuncTypeOf(e.Index)
		if !ok {
			return invalid("export %q: function index %d out of range", e.Name, e.Index)
		}
		if len(ft.Params) != 0 || len(ft.Results) > 1 || (len(ft.Results) == 1 && ft.Results[0] != I32) {
			return invalid("export %q has signature %s, want () -> () or () -> i32", e.Name, ft)
		}
		have[e.Name] = true
	}
	for _, n := range []string{"call", "deploy"} {
		if !have[n] {
			return invalid("missing export %q", n)
		}
	}
	// Types: multi-value and floats.
	for i, t := range m.Types {
		if len(t.Results) > 1 {
			return invalid("type %d has %d results (multi-value is not enabled)", i, len(t.Results))
		}
		for _, v := range append(append([]ValType{}, t.Params...), t.Results...) {
			if err := checkValType(v, p.AllowFloats); err != nil {
				return invalid("type %d: %v", i, err)
			}
		}
	}
	for i, g := range m.Globals {
		if err := checkValType(g.Type.Type, p.AllowFloats); err != nil {
			return invalid("global %d: %v", i, err)
		}
	}
	nImp := uint32(m.NumImportedFuncs())
	totalFuncs := uint64(nImp) + uint64(len(m.Funcs))
	nGlobals := uint32(len(m.Globals))
	var budget uint64 // Σ e·(b+64) of the functions so far (MaxCompileBudget)
	for i, c := range m.Codes {
		fidx := uint64(nImp) + uint64(i)
		ft := m.Types[m.Funcs[i]]
		nl := uint64(len(ft.Params)) + c.NumLocals()
		if nl > p.MaxLocals {
			return invalid("function %d has %d locals, over the limit of %d", fidx, nl, p.MaxLocals)
		}
		for _, l := range c.Locals {
			if err := checkValType(l.Type, p.AllowFloats); err != nil {
				return invalid("function %d: local: %v", fidx, err)
			}
		}
		var cc controlCount
		err := Walk(c.Expr, func(in Instr, _ int) error {
			cc.add(in)
			switch {
			case in.Op == OpPrefixFC && in.Sub > 7:
				return invalid("operator %s (bulk memory) not allowed", in.Name())
			case in.Op == OpPrefixFC && !p.AllowFloats:
				return invalid("floating-point operator %s not allowed", in.Name())
			case in.Op == OpSelectT || in.Op == OpTableGet || in.Op == OpTableSet ||
				in.Op == OpRefNull || in.Op == OpRefIsNull || in.Op == OpRefFunc:
				return invalid("operator %s (reference types) not allowed", in.Name())
			case (in.Op == OpBlock || in.Op == OpLoop || in.Op == OpIf) && in.BlockType >= 0:
				return invalid("block with a type index (multi-value) not allowed")
			case (in.Op == OpBlock || in.Op == OpLoop || in.Op == OpIf) && in.BlockType < -4 && in.BlockType != -64:
				return invalid("block type not allowed")
			case in.Op == OpCall && uint64(in.Index) >= totalFuncs:
				return invalid("call to function %d out of range", in.Index)
			case in.Op == OpCallIndirect && (int(in.Index) >= len(m.Types) || len(m.Tables) == 0):
				return invalid("call_indirect with type %d out of range or without a table", in.Index)
			case (in.Op == OpGlobalGet || in.Op == OpGlobalSet) && in.Index >= nGlobals:
				return invalid("global %d out of range", in.Index)
			case !p.AllowFloats && in.IsFloat():
				return invalid("floating-point operator %s not allowed", in.Name())
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("function %d: %w", fidx, err)
		}
		budget += cc.cost()
		if budget > MaxCompileBudget {
			return invalid("compile budget exceeded at function %d: its %d control instructions "+
				"(block, loop, if, else, br, br_if, br_table, return) and %d br_table targets cost %d·(%d+%d) = %d, "+
				"bringing the module's total to %d, over the limit of %d",
				fidx, cc.b, cc.e-cc.b, cc.e, cc.b, ControlEdgeWeight, cc.cost(), budget, MaxCompileBudget)
		}
	}
	return nil
}

func checkValType(v ValType, allowFloats bool) error {
	switch {
	case v == I32 || v == I64:
		return nil
	case v.IsFloat() && allowFloats:
		return nil
	case v.IsFloat():
		return fmt.Errorf("floating-point type %s not allowed", v)
	}
	return fmt.Errorf("value type %s not allowed", v)
}

// ImportKeys returns the sorted "module.name" keys of p.Imports.
func (p Policy) ImportKeys() []string {
	keys := make([]string, 0, len(p.Imports))
	for k := range p.Imports {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// Check enforces the code-size limit, decodes code and validates it under p.
func Check(code []byte, p Policy) (*Module, error) {
	if p.MaxCodeSize > 0 && len(code) > p.MaxCodeSize {
		return nil, invalid("code size %d bytes exceeds the limit of %d", len(code), p.MaxCodeSize)
	}
	m, err := Decode(code)
	if err != nil {
		return nil, err
	}
	if err := Validate(m, p); err != nil {
		return nil, err
	}
	return m, nil
}
