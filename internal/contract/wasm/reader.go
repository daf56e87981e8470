package wasm

import (
	"fmt"
	"unicode/utf8"
)

// Section ids.
const (
	SecCustom    = 0
	SecType      = 1
	SecImport    = 2
	SecFunction  = 3
	SecTable     = 4
	SecMemory    = 5
	SecGlobal    = 6
	SecExport    = 7
	SecStart     = 8
	SecElement   = 9
	SecCode      = 10
	SecData      = 11
	SecDataCount = 12
)

// sectionOrder gives the position a non-custom section must respect; the data
// count section sits between element and code.
var sectionOrder = [13]int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 12, 10}

// reader is a cursor over a byte slice with a sticky error.
type reader struct {
	b   []byte
	off int // absolute offset of b[0] in the module, for messages
	pos int
	err error
}

func (r *reader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %w", ErrMalformed, &Error{Offset: r.off + r.pos, Msg: fmt.Sprintf(format, args...)})
	}
}

func (r *reader) eof() bool { return r.pos >= len(r.b) }

func (r *reader) byte1() byte {
	if r.err != nil {
		return 0
	}
	if r.pos >= len(r.b) {
		r.fail("unexpected end of input")
		return 0
	}
	c := r.b[r.pos]
	r.pos++
	return c
}

func (r *reader) bytes(n uint32) []byte {
	if r.err != nil {
		return nil
	}
	if uint64(n) > uint64(len(r.b)-r.pos) {
		r.fail("length %d exceeds remaining %d bytes", n, len(r.b)-r.pos)
		return nil
	}
	s := r.b[r.pos : r.pos+int(n)]
	r.pos += int(n)
	return s
}

func (r *reader) u32() uint32 {
	v, n, err := readU32(r.b[min(r.pos, len(r.b)):])
	if r.err != nil {
		return 0
	}
	if err != "" {
		r.fail("%s", err)
		return 0
	}
	r.pos += n
	return v
}

// count reads a vector length and checks that at least n*minSize bytes remain,
// so that a hostile count cannot cause a huge allocation.
func (r *reader) count(minSize int) uint32 {
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)-r.pos) {
		r.fail("vector of %d entries exceeds remaining input", n)
		return 0
	}
	return n
}

// capped reads a vector length like count and also rejects lengths above max,
// naming what is counted.
func (r *reader) capped(minSize int, max uint32, what string) uint32 {
	start := r.pos
	n := r.u32()
	if r.err != nil {
		return 0
	}
	if n > max {
		r.pos = start
		r.fail("%d %s exceed the limit of %d", n, what, max)
		return 0
	}
	if uint64(n)*uint64(minSize) > uint64(len(r.b)-r.pos) {
		r.fail("vector of %d %s exceeds remaining input", n, what)
		return 0
	}
	return n
}

func (r *reader) name() string {
	n := r.u32()
	b := r.bytes(n)
	if r.err != nil {
		return ""
	}
	if !utf8.Valid(b) {
		r.fail("name is not valid UTF-8")
		return ""
	}
	return string(b)
}

func (r *reader) valType() ValType {
	b := r.byte1()
	if r.err == nil && !validValType(b) {
		r.pos--
		r.fail("invalid value type 0x%02x", b)
	}
	return ValType(b)
}

func (r *reader) limits() Limits {
	flag := r.byte1()
	var l Limits
	switch flag {
	case 0:
		l.Min = r.u32()
	case 1:
		l.Min = r.u32()
		l.Max = r.u32()
		l.HasMax = true
		if r.err == nil && l.Max < l.Min {
			r.fail("limits: max %d below min %d", l.Max, l.Min)
		}
	default:
		if r.err == nil {
			r.fail("unsupported limits flag 0x%02x (shared or 64-bit memory)", flag)
		}
	}
	return l
}

func (r *reader) tableType() TableType {
	e := r.byte1()
	if r.err == nil && e != byte(FuncRef) && e != byte(ExternRef) {
		r.fail("invalid table element type 0x%02x", e)
	}
	return TableType{Elem: ValType(e), Limits: r.limits()}
}

func (r *reader) globalType() GlobalType {
	t := r.valType()
	m := r.byte1()
	if r.err == nil && m > 1 {
		r.fail("invalid global mutability %d", m)
	}
	return GlobalType{Type: t, Mutable: m == 1}
}

// constExpr reads a constant expression of type want up to and including its
// end: exactly one constant instruction (t.const, or global.get of an
// immutable imported global of that type, given in imported) and end. It
// returns the expression bytes and the instruction.
func (r *reader) constExpr(want ValType, imported []GlobalType) ([]byte, Instr) {
	if r.err != nil {
		return nil, Instr{}
	}
	start := r.pos
	in, next, err := ReadInstr(r.b, r.pos)
	if err != nil {
		r.fail("constant expression: %v", err)
		return nil, Instr{}
	}
	var got ValType
	switch in.Op {
	case OpI32Const:
		got = I32
	case OpI64Const:
		got = I64
	case OpF32Const:
		got = F32
	case OpF64Const:
		got = F64
	case OpGlobalGet:
		if int64(in.Index) >= int64(len(imported)) {
			r.fail("constant expression: global.get %d is not an imported global", in.Index)
			return nil, Instr{}
		}
		if imported[in.Index].Mutable {
			r.fail("constant expression: global.get %d of a mutable global", in.Index)
			return nil, Instr{}
		}
		got = imported[in.Index].Type
	default:
		r.fail("operator %s not allowed in a constant expression", in.Name())
		return nil, Instr{}
	}
	if got != want {
		r.fail("constant expression of type %s where %s is expected", got, want)
		return nil, Instr{}
	}
	r.pos = next
	if r.byte1() != OpEnd && r.err == nil {
		r.pos--
		r.fail("constant expression has more than one instruction")
		return nil, Instr{}
	}
	return r.b[start:r.pos], in
}

// offsetExpr reads the offset of an active segment: an i32.const (a
// global.get offset would need an imported global, which contracts may not
// have).
func (r *reader) offsetExpr() uint32 {
	if r.err != nil {
		return 0
	}
	at := r.pos
	_, in := r.constExpr(I32, nil)
	if r.err == nil && in.Op != OpI32Const {
		r.pos = at
		r.fail("segment offset must be an i32.const")
	}
	return uint32(int32(in.Const))
}

// readU32 decodes an unsigned LEB128 of at most 5 bytes.
func readU32(b []byte) (uint32, int, string) {
	var v uint32
	for i := 0; i < 5; i++ {
		if i >= len(b) {
			return 0, 0, "unexpected end of input in LEB128"
		}
		c := b[i]
		if i == 4 && c&0xF0 != 0 {
			return 0, 0, "u32 LEB128 overflow"
		}
		v |= uint32(c&0x7F) << (7 * i)
		if c&0x80 == 0 {
			return v, i + 1, ""
		}
	}
	return 0, 0, "u32 LEB128 too long"
}

// readS64 decodes a signed LEB128 of at most bits bits (33 or 64; 32 for i32).
func readSigned(b []byte, bits int) (int64, int, string) {
	var v int64
	var shift int
	maxBytes := (bits + 6) / 7
	for i := 0; i < maxBytes; i++ {
		if i >= len(b) {
			return 0, 0, "unexpected end of input in LEB128"
		}
		c := b[i]
		v |= int64(c&0x7F) << shift
		shift += 7
		if c&0x80 == 0 {
			if i == maxBytes-1 {
				// The unused bits of the last byte must be a sign extension.
				used := bits - 7*(maxBytes-1) // significant bits in this byte
				rest := int8(c<<1) >> 1       // sign-extend 7-bit payload
				if rest>>(used-1) != 0 && rest>>(used-1) != -1 {
					return 0, 0, "signed LEB128 overflow"
				}
			}
			if shift < 64 && c&0x40 != 0 {
				v |= -1 << shift
			}
			return v, i + 1, ""
		}
	}
	return 0, 0, "signed LEB128 too long"
}

// Decode parses a binary Wasm module. It checks the structure (section
// order, sizes, counts, indices it depends on) but leaves full type checking
// of function bodies to the runtime's own validator.
func Decode(b []byte) (*Module, error) {
	if len(b) < 8 || string(b[:4]) != "\x00asm" {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, &Error{Offset: 0, Msg: "missing \\0asm magic"})
	}
	if b[4] != 1 || b[5] != 0 || b[6] != 0 || b[7] != 0 {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, &Error{Offset: 4, Msg: "unsupported binary version"})
	}
	m := &Module{}
	r := &reader{b: b, pos: 8}
	last := 0
	seen := [13]bool{}
	var funcCount uint32
	haveFuncs := false
	// Imported entities, counted as the import section is read.
	var impFuncs, impTables, impMems uint32
	var impGlobals []GlobalType
	var totalLocals uint64
	for !r.eof() && r.err == nil {
		id := r.byte1()
		size := r.u32()
		start := r.pos
		payload := r.bytes(size)
		if r.err != nil {
			break
		}
		if id > SecDataCount {
			r.pos = start - 1
			r.fail("unknown section id %d", id)
			break
		}
		if id != SecCustom {
			if seen[id] {
				r.fail("duplicate section %d", id)
				break
			}
			if sectionOrder[id] < last {
				r.fail("section %d out of order", id)
				break
			}
			seen[id] = true
			last = sectionOrder[id]
		}
		s := &reader{b: payload, off: start}
		switch id {
		case SecCustom:
			name := s.name()
			if s.err == nil {
				m.Customs = append(m.Customs, Custom{Name: name, Data: payload[s.pos:]})
				s.pos = len(payload)
			}
		case SecType:
			n := s.capped(3, MaxTypes, "types")
			m.Types = make([]FuncType, 0, n)
			for i := uint32(0); i < n && s.err == nil; i++ {
				if f := s.byte1(); f != 0x60 && s.err == nil {
					s.fail("expected function type 0x60, got 0x%02x", f)
				}
				var ft FuncType
				np := s.capped(1, MaxParams, "parameters")
				ft.Params = make([]ValType, np)
				for j := range ft.Params {
					ft.Params[j] = s.valType()
				}
				nr := s.capped(1, MaxParams, "results")
				ft.Results = make([]ValType, nr)
				for j := range ft.Results {
					ft.Results[j] = s.valType()
				}
				m.Types = append(m.Types, ft)
			}
		case SecImport:
			n := s.capped(4, MaxImports, "imports")
			m.Imports = make([]Import, 0, n)
			for i := uint32(0); i < n && s.err == nil; i++ {
				im := Import{Module: s.name(), Name: s.name(), Kind: s.byte1()}
				switch im.Kind {
				case KindFunc:
					im.TypeIndex = s.u32()
					if s.err == nil && int(im.TypeIndex) >= len(m.Types) {
						s.fail("import %s.%s: type index %d out of range", im.Module, im.Name, im.TypeIndex)
					}
					impFuncs++
				case KindTable:
					im.Table = s.tableType()
					impTables++
				case KindMemory:
					im.Memory = s.limits()
					impMems++
				case KindGlobal:
					im.Global = s.globalType()
					impGlobals = append(impGlobals, im.Global)
				default:
					s.fail("import %s.%s: unknown kind %d", im.Module, im.Name, im.Kind)
				}
				m.Imports = append(m.Imports, im)
			}
			if s.err == nil && impTables > MaxTables {
				s.fail("%d imported tables exceed the limit of %d", impTables, MaxTables)
			}
			if s.err == nil && impMems > MaxMemories {
				s.fail("%d imported memories exceed the limit of %d", impMems, MaxMemories)
			}
		case SecFunction:
			n := s.count(1)
			m.Funcs = make([]uint32, n)
			for i := range m.Funcs {
				m.Funcs[i] = s.u32()
				if s.err == nil && int(m.Funcs[i]) >= len(m.Types) {
					s.fail("function %d: type index %d out of range", i, m.Funcs[i])
				}
			}
			funcCount, haveFuncs = n, true
		case SecTable:
			n := s.count(3)
			if s.err == nil && uint64(n)+uint64(impTables) > MaxTables {
				s.fail("%d tables (imported ones included) exceed the limit of %d", uint64(n)+uint64(impTables), MaxTables)
				n = 0
			}
			m.Tables = make([]TableType, n)
			for i := range m.Tables {
				m.Tables[i] = s.tableType()
			}
		case SecMemory:
			n := s.count(2)
			if s.err == nil && uint64(n)+uint64(impMems) > MaxMemories {
				s.fail("%d memories (imported ones included) exceed the limit of %d", uint64(n)+uint64(impMems), MaxMemories)
				n = 0
			}
			m.Memories = make([]Limits, n)
			for i := range m.Memories {
				m.Memories[i] = s.limits()
			}
		case SecGlobal:
			n := s.count(3)
			m.Globals = make([]Global, n)
			for i := range m.Globals {
				m.Globals[i].Type = s.globalType()
				m.Globals[i].Init, _ = s.constExpr(m.Globals[i].Type.Type, impGlobals)
			}
		case SecExport:
			n := s.count(3)
			m.Exports = make([]Export, n)
			names := make(map[string]bool, n)
			for i := range m.Exports {
				e := Export{Name: s.name(), Kind: s.byte1(), Index: s.u32()}
				if s.err == nil && e.Kind > KindGlobal {
					s.fail("export %q: unknown kind %d", e.Name, e.Kind)
				}
				if s.err == nil && uint64(e.Index) >= numOfKind(m, e.Kind, impFuncs, impTables, impMems, uint32(len(impGlobals))) {
					s.fail("export %q: %s index %d out of range", e.Name, KindName(e.Kind), e.Index)
				}
				if s.err == nil && names[e.Name] {
					s.fail("duplicate export %q", e.Name)
				}
				names[e.Name] = true
				m.Exports[i] = e
			}
		case SecStart:
			v := s.u32()
			if s.err == nil && uint64(v) >= uint64(impFuncs)+uint64(len(m.Funcs)) {
				s.fail("start function %d out of range", v)
			}
			m.Start = &v
		case SecElement:
			m.Elements = payload
			// flag, offset (i32.const x end: at least 3 bytes), length.
			n := s.capped(5, MaxElemSegments, "element segments")
			if s.err == nil && n > 0 && impTables+uint32(len(m.Tables)) == 0 {
				s.fail("element segments without a table")
			}
			m.ElemSegments = make([]ElemSegment, 0, n)
			nf := uint64(impFuncs) + uint64(len(m.Funcs))
			for i := uint32(0); i < n && s.err == nil; i++ {
				at := s.pos
				if flag := s.u32(); flag != 0 && s.err == nil {
					s.pos = at
					s.fail("element segment %d: kind %d (bulk memory or reference types) not supported", i, flag)
					break
				}
				seg := ElemSegment{Offset: s.offsetExpr()}
				k := s.count(1)
				seg.Funcs = make([]uint32, k)
				for j := range seg.Funcs {
					seg.Funcs[j] = s.u32()
					if s.err == nil && uint64(seg.Funcs[j]) >= nf {
						s.fail("element segment %d: function %d out of range", i, seg.Funcs[j])
					}
				}
				m.ElemSegments = append(m.ElemSegments, seg)
			}
		case SecDataCount:
			v := s.u32()
			m.DataCount = &v
		case SecCode:
			n := s.count(2)
			if s.err == nil && (!haveFuncs && n != 0 || haveFuncs && n != funcCount) {
				s.fail("code section has %d bodies for %d functions", n, funcCount)
			}
			m.Codes = make([]Code, 0, n)
			for i := uint32(0); i < n && s.err == nil; i++ {
				sz := s.u32()
				bstart := s.pos
				body := s.bytes(sz)
				if s.err != nil {
					break
				}
				br := &reader{b: body, off: start + bstart}
				nl := br.count(2)
				var c Code
				c.Locals = make([]Local, nl)
				var total uint64
				for j := range c.Locals {
					c.Locals[j] = Local{Count: br.u32(), Type: br.valType()}
					total += uint64(c.Locals[j].Count)
				}
				if br.err == nil && total > MaxFuncLocals {
					br.fail("function %d declares %d locals, over the limit of %d", i, total, MaxFuncLocals)
				}
				totalLocals += total + uint64(len(m.Types[m.Funcs[i]].Params))
				if br.err == nil && totalLocals > MaxTotalLocals {
					br.fail("the functions declare more than %d locals in all", MaxTotalLocals)
				}
				if br.err == nil && br.eof() {
					br.fail("function %d: empty body", i)
				}
				if br.err != nil {
					s.err = br.err
					break
				}
				c.Expr = body[br.pos:]
				m.Codes = append(m.Codes, c)
			}
		case SecData:
			m.Data = payload
			// flag, offset (3 bytes), length.
			n := s.capped(5, MaxDataSegments, "data segments")
			if s.err == nil && n > 0 && impMems+uint32(len(m.Memories)) == 0 {
				s.fail("data segments without a memory")
			}
			m.DataSegments = make([]DataSegment, 0, n)
			for i := uint32(0); i < n && s.err == nil; i++ {
				at := s.pos
				if flag := s.u32(); flag != 0 && s.err == nil {
					s.pos = at
					s.fail("data segment %d: kind %d (bulk memory) not supported", i, flag)
					break
				}
				seg := DataSegment{Offset: s.offsetExpr()}
				seg.Init = s.bytes(s.u32())
				m.DataSegments = append(m.DataSegments, seg)
			}
			if s.err == nil && m.DataCount != nil && *m.DataCount != n {
				s.fail("data count section says %d segments, data section has %d", *m.DataCount, n)
			}
		}
		if s.err == nil && !s.eof() {
			s.fail("section %d has %d trailing bytes", id, len(payload)-s.pos)
		}
		if s.err != nil {
			return nil, s.err
		}
	}
	if r.err != nil {
		return nil, r.err
	}
	if m.DataCount != nil && *m.DataCount != 0 && !seen[SecData] {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, &Error{Offset: -1, Msg: fmt.Sprintf("data count section says %d segments but there is no data section", *m.DataCount)})
	}
	if haveFuncs && funcCount > 0 && !seen[SecCode] {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, &Error{Offset: -1, Msg: fmt.Sprintf("%d functions declared but no code section", funcCount)})
	}
	return m, nil
}

// numOfKind returns how many entities of an external kind the module has so
// far (imported and defined).
func numOfKind(m *Module, kind byte, funcs, tables, mems, globals uint32) uint64 {
	switch kind {
	case KindFunc:
		return uint64(funcs) + uint64(len(m.Funcs))
	case KindTable:
		return uint64(tables) + uint64(len(m.Tables))
	case KindMemory:
		return uint64(mems) + uint64(len(m.Memories))
	case KindGlobal:
		return uint64(globals) + uint64(len(m.Globals))
	}
	return 0
}
