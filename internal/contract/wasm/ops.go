package wasm

import (
	"fmt"
)

// Opcodes the engine refers to by name.
const (
	OpUnreachable  byte = 0x00
	OpNop          byte = 0x01
	OpBlock        byte = 0x02
	OpLoop         byte = 0x03
	OpIf           byte = 0x04
	OpElse         byte = 0x05
	OpEnd          byte = 0x0B
	OpBr           byte = 0x0C
	OpBrIf         byte = 0x0D
	OpBrTable      byte = 0x0E
	OpReturn       byte = 0x0F
	OpCall         byte = 0x10
	OpCallIndirect byte = 0x11
	OpDrop         byte = 0x1A
	OpSelect       byte = 0x1B
	OpSelectT      byte = 0x1C
	OpLocalGet     byte = 0x20
	OpLocalSet     byte = 0x21
	OpLocalTee     byte = 0x22
	OpGlobalGet    byte = 0x23
	OpGlobalSet    byte = 0x24
	OpTableGet     byte = 0x25
	OpTableSet     byte = 0x26
	OpI32Load      byte = 0x28
	OpI64Store32   byte = 0x3E
	OpMemorySize   byte = 0x3F
	OpMemoryGrow   byte = 0x40
	OpI32Const     byte = 0x41
	OpI64Const     byte = 0x42
	OpF32Const     byte = 0x43
	OpF64Const     byte = 0x44
	OpI32Add       byte = 0x6A
	OpI32Sub       byte = 0x6B
	OpI32GtU       byte = 0x4B
	OpI64LtU       byte = 0x54
	OpI64Sub       byte = 0x7D
	OpRefNull      byte = 0xD0
	OpRefIsNull    byte = 0xD1
	OpRefFunc      byte = 0xD2
	OpPrefixFC     byte = 0xFC
	OpPrefixSIMD   byte = 0xFD
)

// Instr is one decoded instruction. Start and End are byte offsets of the
// instruction (opcode and immediates) in the body it was read from.
type Instr struct {
	Op    byte
	Sub   uint32 // sub-opcode after the 0xFC prefix
	Start int
	End   int
	// Index is the first index immediate: function for call, type for
	// call_indirect, label for br/br_if, local/global/table/data/elem index.
	Index uint32
	// BlockType is the raw block type of block/loop/if: -64 (0x40) for empty,
	// a negative value type code, or a non-negative type index.
	BlockType int64
	// Const is the value of i32.const/i64.const.
	Const int64
	// Offset is the memarg offset of loads and stores.
	Offset uint32
}

// IsFloat reports whether the instruction computes on, produces or consumes
// floating-point values.
func (in Instr) IsFloat() bool {
	op := in.Op
	switch {
	case op == 0x2A || op == 0x2B || op == 0x38 || op == 0x39 || op == 0x43 || op == 0x44:
		return true
	case op >= 0x5B && op <= 0x66: // f32/f64 comparisons
		return true
	case op >= 0x8B && op <= 0xA6: // f32/f64 arithmetic
		return true
	case op >= 0xA8 && op <= 0xAB: // i32.trunc_f*
		return true
	case op >= 0xAE && op <= 0xBF: // i64.trunc_f*, conversions, reinterprets
		return true
	case op == OpPrefixFC && in.Sub <= 7: // saturating truncation
		return true
	case op == OpBlock || op == OpLoop || op == OpIf:
		return in.BlockType == -3 || in.BlockType == -4 // f32, f64 results
	}
	return false
}

// Name returns the text-format mnemonic of the instruction.
func (in Instr) Name() string {
	if in.Op == OpPrefixFC {
		if int(in.Sub) < len(fcNames) {
			return fcNames[in.Sub]
		}
		return fmt.Sprintf("0xfc %d", in.Sub)
	}
	if n := opNames[in.Op]; n != "" {
		return n
	}
	return fmt.Sprintf("opcode 0x%02x", in.Op)
}

var fcNames = [...]string{
	"i32.trunc_sat_f32_s", "i32.trunc_sat_f32_u", "i32.trunc_sat_f64_s", "i32.trunc_sat_f64_u",
	"i64.trunc_sat_f32_s", "i64.trunc_sat_f32_u", "i64.trunc_sat_f64_s", "i64.trunc_sat_f64_u",
	"memory.init", "data.drop", "memory.copy", "memory.fill",
	"table.init", "elem.drop", "table.copy", "table.grow", "table.size", "table.fill",
}

var opNames = func() [256]string {
	var n [256]string
	ctrl := map[byte]string{
		0x00: "unreachable", 0x01: "nop", 0x02: "block", 0x03: "loop", 0x04: "if", 0x05: "else",
		0x0B: "end", 0x0C: "br", 0x0D: "br_if", 0x0E: "br_table", 0x0F: "return", 0x10: "call",
		0x11: "call_indirect", 0x1A: "drop", 0x1B: "select", 0x1C: "select t",
		0x20: "local.get", 0x21: "local.set", 0x22: "local.tee", 0x23: "global.get", 0x24: "global.set",
		0x25: "table.get", 0x26: "table.set", 0x3F: "memory.size", 0x40: "memory.grow",
		0x41: "i32.const", 0x42: "i64.const", 0x43: "f32.const", 0x44: "f64.const",
		0xD0: "ref.null", 0xD1: "ref.is_null", 0xD2: "ref.func", 0xFD: "simd",
	}
	for k, v := range ctrl {
		n[k] = v
	}
	mem := []string{"i32.load", "i64.load", "f32.load", "f64.load", "i32.load8_s", "i32.load8_u",
		"i32.load16_s", "i32.load16_u", "i64.load8_s", "i64.load8_u", "i64.load16_s", "i64.load16_u",
		"i64.load32_s", "i64.load32_u", "i32.store", "i64.store", "f32.store", "f64.store",
		"i32.store8", "i32.store16", "i64.store8", "i64.store16", "i64.store32"}
	for i, s := range mem {
		n[0x28+i] = s
	}
	num := []string{"i32.eqz", "i32.eq", "i32.ne", "i32.lt_s", "i32.lt_u", "i32.gt_s", "i32.gt_u",
		"i32.le_s", "i32.le_u", "i32.ge_s", "i32.ge_u", "i64.eqz", "i64.eq", "i64.ne", "i64.lt_s",
		"i64.lt_u", "i64.gt_s", "i64.gt_u", "i64.le_s", "i64.le_u", "i64.ge_s", "i64.ge_u",
		"f32.eq", "f32.ne", "f32.lt", "f32.gt", "f32.le", "f32.ge", "f64.eq", "f64.ne", "f64.lt",
		"f64.gt", "f64.le", "f64.ge", "i32.clz", "i32.ctz", "i32.popcnt", "i32.add", "i32.sub",
		"i32.mul", "i32.div_s", "i32.div_u", "i32.rem_s", "i32.rem_u", "i32.and", "i32.or", "i32.xor",
		"i32.shl", "i32.shr_s", "i32.shr_u", "i32.rotl", "i32.rotr", "i64.clz", "i64.ctz",
		"i64.popcnt", "i64.add", "i64.sub", "i64.mul", "i64.div_s", "i64.div_u", "i64.rem_s",
		"i64.rem_u", "i64.and", "i64.or", "i64.xor", "i64.shl", "i64.shr_s", "i64.shr_u", "i64.rotl",
		"i64.rotr", "f32.abs", "f32.neg", "f32.ceil", "f32.floor", "f32.trunc", "f32.nearest",
		"f32.sqrt", "f32.add", "f32.sub", "f32.mul", "f32.div", "f32.min", "f32.max",
		"f32.copysign", "f64.abs", "f64.neg", "f64.ceil", "f64.floor", "f64.trunc", "f64.nearest",
		"f64.sqrt", "f64.add", "f64.sub", "f64.mul", "f64.div", "f64.min", "f64.max",
		"f64.copysign", "i32.wrap_i64", "i32.trunc_f32_s", "i32.trunc_f32_u", "i32.trunc_f64_s",
		"i32.trunc_f64_u", "i64.extend_i32_s", "i64.extend_i32_u", "i64.trunc_f32_s",
		"i64.trunc_f32_u", "i64.trunc_f64_s", "i64.trunc_f64_u", "f32.convert_i32_s",
		"f32.convert_i32_u", "f32.convert_i64_s", "f32.convert_i64_u", "f32.demote_f64",
		"f64.convert_i32_s", "f64.convert_i32_u", "f64.convert_i64_s", "f64.convert_i64_u",
		"f64.promote_f32", "i32.reinterpret_f32", "i64.reinterpret_f64", "f32.reinterpret_i32",
		"f64.reinterpret_i64", "i32.extend8_s", "i32.extend16_s", "i64.extend8_s",
		"i64.extend16_s", "i64.extend32_s"}
	for i, s := range num {
		n[0x45+i] = s
	}
	return n
}()

// ErrUnknownOpcode is wrapped by errors for opcodes this package does not know.
var errUnknown = "unknown or unsupported opcode"

// ReadInstr decodes the instruction at body[pos:] and returns it with the
// offset of the next instruction. It never panics; malformed or unknown
// instructions give an error.
func ReadInstr(body []byte, pos int) (Instr, int, error) {
	in := Instr{Start: pos}
	if pos < 0 || pos >= len(body) {
		return in, pos, fmt.Errorf("%w: unexpected end of code", ErrMalformed)
	}
	op := body[pos]
	in.Op = op
	p := pos + 1
	fail := func(msg string) (Instr, int, error) {
		return in, pos, fmt.Errorf("%w: %w", ErrMalformed, &Error{Offset: -1, Msg: fmt.Sprintf("%s at code offset %d", msg, pos)})
	}
	u32 := func() (uint32, bool) {
		if p > len(body) {
			return 0, false
		}
		v, n, e := readU32(body[p:])
		if e != "" {
			return 0, false
		}
		p += n
		return v, true
	}
	zeroByte := func() bool {
		if p >= len(body) || body[p] != 0 {
			return false
		}
		p++
		return true
	}
	switch {
	case op == OpUnreachable || op == OpNop || op == OpElse || op == OpEnd || op == OpReturn ||
		op == OpDrop || op == OpSelect || op == OpRefIsNull:
	case op == OpBlock || op == OpLoop || op == OpIf:
		if p >= len(body) {
			return fail("truncated block type")
		}
		v, n, e := readSigned(body[p:], 33)
		if e != "" {
			return fail("bad block type: " + e)
		}
		if v < 0 && v != -64 && !validValType(byte(v)&0x7F|0x40) {
			return fail("bad block type")
		}
		in.BlockType = v
		p += n
	case op == OpBr || op == OpBrIf || op == OpCall || op == OpRefFunc ||
		(op >= OpLocalGet && op <= OpTableSet):
		v, ok := u32()
		if !ok {
			return fail("bad index immediate")
		}
		in.Index = v
	case op == OpBrTable:
		n, ok := u32()
		if !ok {
			return fail("bad br_table")
		}
		if n > MaxBrTableTargets {
			return fail(fmt.Sprintf("br_table with %d targets exceeds the limit of %d", n, MaxBrTableTargets))
		}
		for i := uint32(0); i <= n; i++ {
			if _, ok := u32(); !ok {
				return fail("bad br_table target")
			}
		}
		in.Index = n
	case op == OpCallIndirect:
		v, ok := u32()
		if !ok {
			return fail("bad type index")
		}
		in.Index = v
		if _, ok := u32(); !ok { // table index (a zero byte in the MVP)
			return fail("bad table index")
		}
	case op == OpSelectT:
		n, ok := u32()
		if !ok || uint64(n) > uint64(len(body)-p) {
			return fail("bad select type vector")
		}
		for i := uint32(0); i < n; i++ {
			if p >= len(body) || !validValType(body[p]) {
				return fail("bad select type")
			}
			p++
		}
	case op >= OpI32Load && op <= OpI64Store32:
		if _, ok := u32(); !ok {
			return fail("bad memarg alignment")
		}
		v, ok := u32()
		if !ok {
			return fail("bad memarg offset")
		}
		in.Offset = v
	case op == OpMemorySize || op == OpMemoryGrow:
		if !zeroByte() {
			return fail("memory index must be 0")
		}
	case op == OpI32Const:
		if p >= len(body) {
			return fail("truncated i32.const")
		}
		v, n, e := readSigned(body[p:], 32)
		if e != "" {
			return fail("bad i32.const: " + e)
		}
		in.Const = v
		p += n
	case op == OpI64Const:
		if p >= len(body) {
			return fail("truncated i64.const")
		}
		v, n, e := readSigned(body[p:], 64)
		if e != "" {
			return fail("bad i64.const: " + e)
		}
		in.Const = v
		p += n
	case op == OpF32Const:
		if len(body)-p < 4 {
			return fail("truncated f32.const")
		}
		p += 4
	case op == OpF64Const:
		if len(body)-p < 8 {
			return fail("truncated f64.const")
		}
		p += 8
	case op >= 0x45 && op <= 0xC4:
	case op == OpRefNull:
		if p >= len(body) || (body[p] != byte(FuncRef) && body[p] != byte(ExternRef)) {
			return fail("bad ref.null type")
		}
		p++
	case op == OpPrefixFC:
		sub, ok := u32()
		if !ok {
			return fail("bad 0xfc sub-opcode")
		}
		in.Sub = sub
		switch sub {
		case 0, 1, 2, 3, 4, 5, 6, 7:
		case 8: // memory.init data 0
			v, ok := u32()
			if !ok || !zeroByte() {
				return fail("bad memory.init")
			}
			in.Index = v
		case 9, 13, 15, 16, 17: // data.drop, elem.drop, table.grow/size/fill
			v, ok := u32()
			if !ok {
				return fail("bad index immediate")
			}
			in.Index = v
		case 10: // memory.copy 0 0
			if !zeroByte() || !zeroByte() {
				return fail("bad memory.copy")
			}
		case 11: // memory.fill 0
			if !zeroByte() {
				return fail("bad memory.fill")
			}
		case 12, 14: // table.init elem table, table.copy table table
			v, ok := u32()
			if !ok {
				return fail("bad index immediate")
			}
			in.Index = v
			if _, ok := u32(); !ok {
				return fail("bad index immediate")
			}
		default:
			return fail(fmt.Sprintf("%s 0xfc %d", errUnknown, sub))
		}
	default:
		return fail(fmt.Sprintf("%s 0x%02x", errUnknown, op))
	}
	if p > len(body) {
		return fail("truncated instruction")
	}
	in.End = p
	return in, p, nil
}

// Walk decodes every instruction of a function body (an expression ending in
// end), checks that blocks are properly nested, and calls fn for each
// instruction with the nesting depth before the instruction. It stops at the
// first error, from decoding or from fn.
func Walk(expr []byte, fn func(in Instr, depth int) error) error {
	depth := 0
	kinds := make([]byte, 0, 16) // opening opcode per open block
	pos := 0
	for {
		in, next, err := ReadInstr(expr, pos)
		if err != nil {
			return err
		}
		if fn != nil {
			if err := fn(in, depth); err != nil {
				return err
			}
		}
		switch in.Op {
		case OpBlock, OpLoop, OpIf:
			depth++
			kinds = append(kinds, in.Op)
			if depth > MaxNesting {
				return fmt.Errorf("%w: blocks nested deeper than %d", ErrMalformed, MaxNesting)
			}
		case OpElse:
			if depth == 0 || kinds[len(kinds)-1] != OpIf {
				return fmt.Errorf("%w: else outside if at code offset %d", ErrMalformed, pos)
			}
			kinds[len(kinds)-1] = OpElse
		case OpEnd:
			if depth == 0 {
				if next != len(expr) {
					return fmt.Errorf("%w: %d bytes after the end of a function body", ErrMalformed, len(expr)-next)
				}
				return nil
			}
			depth--
			kinds = kinds[:len(kinds)-1]
		}
		pos = next
	}
}
