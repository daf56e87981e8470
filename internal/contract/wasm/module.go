// Package wasm reads, validates and writes WebAssembly binary modules for the
// contract engine.
//
// It is deliberately small: it understands the sections and operators of the
// MVP plus the sign-extension operators and the 0xFC prefix (saturating
// truncation, bulk memory, table operations), which is everything a
// pallet-contracts style contract may contain and a little more, so that the
// validator can reject the rest with a precise error. Every section is parsed
// and bounded (see the caps in limits.go); the element and data sections,
// which the engine never rewrites, are additionally kept as raw payloads for
// re-encoding.
//
// Decoding never panics on untrusted input and never allocates more than a
// small multiple of the input size, so that nothing unparsed or unbounded
// reaches the compiler.
package wasm

import (
	"errors"
	"fmt"
)

// ValType is a Wasm value type.
type ValType byte

// Value types.
const (
	I32       ValType = 0x7F
	I64       ValType = 0x7E
	F32       ValType = 0x7D
	F64       ValType = 0x7C
	V128      ValType = 0x7B
	FuncRef   ValType = 0x70
	ExternRef ValType = 0x6F
)

// String returns the text-format name of t.
func (t ValType) String() string {
	switch t {
	case I32:
		return "i32"
	case I64:
		return "i64"
	case F32:
		return "f32"
	case F64:
		return "f64"
	case V128:
		return "v128"
	case FuncRef:
		return "funcref"
	case ExternRef:
		return "externref"
	}
	return fmt.Sprintf("valtype(0x%02x)", byte(t))
}

// IsFloat reports whether t is f32 or f64.
func (t ValType) IsFloat() bool { return t == F32 || t == F64 }

func validValType(b byte) bool {
	switch ValType(b) {
	case I32, I64, F32, F64, V128, FuncRef, ExternRef:
		return true
	}
	return false
}

// FuncType is a function signature.
type FuncType struct {
	Params, Results []ValType
}

// Equal reports whether two signatures are identical.
func (f FuncType) Equal(g FuncType) bool {
	if len(f.Params) != len(g.Params) || len(f.Results) != len(g.Results) {
		return false
	}
	for i := range f.Params {
		if f.Params[i] != g.Params[i] {
			return false
		}
	}
	for i := range f.Results {
		if f.Results[i] != g.Results[i] {
			return false
		}
	}
	return true
}

// String renders the signature as (i32,i64) -> i32.
func (f FuncType) String() string {
	s := "("
	for i, p := range f.Params {
		if i > 0 {
			s += ","
		}
		s += p.String()
	}
	s += ") -> "
	switch len(f.Results) {
	case 0:
		s += "()"
	case 1:
		s += f.Results[0].String()
	default:
		s += "("
		for i, r := range f.Results {
			if i > 0 {
				s += ","
			}
			s += r.String()
		}
		s += ")"
	}
	return s
}

// Limits are the size limits of a memory or table.
type Limits struct {
	Min    uint32
	Max    uint32
	HasMax bool
}

// TableType is the type of a table.
type TableType struct {
	Elem   ValType
	Limits Limits
}

// GlobalType is the type of a global.
type GlobalType struct {
	Type    ValType
	Mutable bool
}

// External kinds of imports and exports.
const (
	KindFunc   byte = 0
	KindTable  byte = 1
	KindMemory byte = 2
	KindGlobal byte = 3
)

// KindName returns the name of an external kind.
func KindName(k byte) string {
	switch k {
	case KindFunc:
		return "function"
	case KindTable:
		return "table"
	case KindMemory:
		return "memory"
	case KindGlobal:
		return "global"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// Import is one entry of the import section. Only the field matching Kind is
// meaningful.
type Import struct {
	Module, Name string
	Kind         byte
	TypeIndex    uint32 // KindFunc
	Table        TableType
	Memory       Limits
	Global       GlobalType
}

// Global is a module-defined global with its constant initialiser
// (instruction bytes including the final end).
type Global struct {
	Type GlobalType
	Init []byte
}

// Export is one entry of the export section.
type Export struct {
	Name  string
	Kind  byte
	Index uint32
}

// Local is a run of locals of one type in a function body.
type Local struct {
	Count uint32
	Type  ValType
}

// Code is a function body: its local declarations and its instructions,
// including the final end.
type Code struct {
	Locals []Local
	Expr   []byte
}

// NumLocals returns the number of declared locals (not counting parameters).
func (c Code) NumLocals() uint64 {
	var n uint64
	for _, l := range c.Locals {
		n += uint64(l.Count)
	}
	return n
}

// ElemSegment is an active element segment of the MVP form: it writes
// function indices into table 0 from a constant offset. (Passive and
// declarative segments and expression elements belong to the bulk-memory and
// reference-types proposals, which the decoder rejects.)
type ElemSegment struct {
	Offset uint32
	Funcs  []uint32
}

// DataSegment is an active data segment of the MVP form: it writes Init into
// memory 0 from a constant offset. Init aliases the decoded input.
type DataSegment struct {
	Offset uint32
	Init   []byte
}

// Custom is a custom section.
type Custom struct {
	Name string
	Data []byte
}

// Module is a decoded Wasm module.
type Module struct {
	Types    []FuncType
	Imports  []Import
	Funcs    []uint32 // type index of each defined function
	Tables   []TableType
	Memories []Limits
	Globals  []Global
	Exports  []Export
	Start    *uint32
	// Elements is the raw payload of the element section (nil if absent),
	// written back unchanged by Encode; ElemSegments is its parsed form.
	Elements     []byte
	ElemSegments []ElemSegment
	// DataCount is the data count section, nil if absent.
	DataCount *uint32
	Codes     []Code
	// Data is the raw payload of the data section (nil if absent), written
	// back unchanged by Encode; DataSegments is its parsed form.
	Data         []byte
	DataSegments []DataSegment
	Customs      []Custom
}

// NumImportedFuncs returns how many functions the module imports; defined
// functions are numbered after them.
func (m *Module) NumImportedFuncs() int {
	n := 0
	for _, im := range m.Imports {
		if im.Kind == KindFunc {
			n++
		}
	}
	return n
}

// NumImportedGlobals returns how many globals the module imports.
func (m *Module) NumImportedGlobals() int {
	n := 0
	for _, im := range m.Imports {
		if im.Kind == KindGlobal {
			n++
		}
	}
	return n
}

// FuncTypeOf returns the signature of function index idx (imports first).
func (m *Module) FuncTypeOf(idx uint32) (FuncType, bool) {
	i := uint32(0)
	for _, im := range m.Imports {
		if im.Kind != KindFunc {
			continue
		}
		if i == idx {
			if int(im.TypeIndex) < len(m.Types) {
				return m.Types[im.TypeIndex], true
			}
			return FuncType{}, false
		}
		i++
	}
	d := idx - i
	if idx < i || int(d) >= len(m.Funcs) {
		return FuncType{}, false
	}
	t := m.Funcs[d]
	if int(t) >= len(m.Types) {
		return FuncType{}, false
	}
	return m.Types[t], true
}

// Error is a decoding or validation error with the byte offset where it was
// found (or -1 when not tied to one place).
type Error struct {
	Offset int
	Msg    string
}

func (e *Error) Error() string {
	if e.Offset < 0 {
		return "wasm: " + e.Msg
	}
	return fmt.Sprintf("wasm: at offset %d: %s", e.Offset, e.Msg)
}

// ErrMalformed is wrapped by every decoding error, for errors.Is.
var ErrMalformed = errors.New("malformed wasm")
