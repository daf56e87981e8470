// Package scale implements the SCALE codec (Parity's "Simple Concatenated
// Aggregate Little-Endian") used by Substrate, ink! and Phala for every
// consensus and wire format.
//
// The codec is explicit rather than reflective: types encode themselves by
// calling the Writer's methods in field order and decode themselves from a
// Reader. This keeps encodings fixed, fast and free of map-order or reflection
// surprises.
//
// # Decoding untrusted input
//
// A Reader never panics. The first error is sticky: after it every read
// returns a zero value and Err reports the error, so a decoder can read all its
// fields and check Err once at the end. Length prefixes are checked against the
// remaining input before anything is allocated, so a short input cannot make
// the decoder allocate a huge buffer.
package scale

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"math/bits"
)

// Errors reported by the Reader.
var (
	// ErrShort means the input ended before a value was complete.
	ErrShort = errors.New("scale: unexpected end of input")
	// ErrNonCanonical means a compact integer used a longer form than needed.
	ErrNonCanonical = errors.New("scale: non-canonical compact encoding")
	// ErrOverflow means a decoded value does not fit the requested type.
	ErrOverflow = errors.New("scale: value overflows target type")
	// ErrInvalid means a tag byte (bool, Option, Result, enum) is out of range.
	ErrInvalid = errors.New("scale: invalid tag")
	// ErrTrailing means bytes were left after a complete value.
	ErrTrailing = errors.New("scale: trailing bytes after value")
)

// Encodable is a value that can write its SCALE encoding.
type Encodable interface {
	EncodeSCALE(w *Writer)
}

// Decodable is a value that can read itself from a SCALE Reader.
type Decodable interface {
	DecodeSCALE(r *Reader)
}

// Encode returns the SCALE encoding of v.
func Encode(v Encodable) []byte {
	var w Writer
	v.EncodeSCALE(&w)
	return w.Bytes()
}

// Decode decodes b into v and requires that the whole input is consumed.
func Decode(b []byte, v Decodable) error {
	r := NewReader(b)
	v.DecodeSCALE(r)
	return r.Finish()
}

// Writer accumulates a SCALE encoding. The zero value is ready to use.
type Writer struct {
	buf []byte
}

// NewWriter returns a Writer with capacity for n bytes.
func NewWriter(n int) *Writer { return &Writer{buf: make([]byte, 0, n)} }

// Bytes returns the bytes written so far. The slice aliases the Writer's buffer.
func (w *Writer) Bytes() []byte { return w.buf }

// Len returns the number of bytes written so far.
func (w *Writer) Len() int { return len(w.buf) }

// Reset empties the Writer, keeping its buffer.
func (w *Writer) Reset() { w.buf = w.buf[:0] }

// Raw appends b as is, without a length prefix (fixed-size arrays, pre-encoded values).
func (w *Writer) Raw(b []byte) { w.buf = append(w.buf, b...) }

// U8 writes a u8.
func (w *Writer) U8(v uint8) { w.buf = append(w.buf, v) }

// Bool writes a bool as 0x00 or 0x01.
func (w *Writer) Bool(v bool) {
	if v {
		w.U8(1)
	} else {
		w.U8(0)
	}
}

// U16 writes a little-endian u16.
func (w *Writer) U16(v uint16) { w.buf = binary.LittleEndian.AppendUint16(w.buf, v) }

// U32 writes a little-endian u32.
func (w *Writer) U32(v uint32) { w.buf = binary.LittleEndian.AppendUint32(w.buf, v) }

// U64 writes a little-endian u64.
func (w *Writer) U64(v uint64) { w.buf = binary.LittleEndian.AppendUint64(w.buf, v) }

// I8 writes an i8.
func (w *Writer) I8(v int8) { w.U8(uint8(v)) }

// I16 writes a little-endian i16.
func (w *Writer) I16(v int16) { w.U16(uint16(v)) }

// I32 writes a little-endian i32.
func (w *Writer) I32(v int32) { w.U32(uint32(v)) }

// I64 writes a little-endian i64.
func (w *Writer) I64(v int64) { w.U64(uint64(v)) }

// U128 writes a little-endian u128.
func (w *Writer) U128(v U128) { w.U64(v.Lo); w.U64(v.Hi) }

// I128 writes a little-endian two's-complement i128.
func (w *Writer) I128(v I128) { w.U64(v.Lo); w.U64(v.Hi) }

// Compact writes a compact-encoded unsigned integer up to 64 bits.
func (w *Writer) Compact(v uint64) {
	switch {
	case v < 1<<6:
		w.U8(uint8(v) << 2)
	case v < 1<<14:
		w.U16(uint16(v)<<2 | 0b01)
	case v < 1<<30:
		w.U32(uint32(v)<<2 | 0b10)
	default:
		n := (bits.Len64(v) + 7) / 8 // 4..8 bytes
		w.U8(uint8(n-4)<<2 | 0b11)
		for i := 0; i < n; i++ {
			w.U8(uint8(v >> (8 * i)))
		}
	}
}

// CompactU128 writes a compact-encoded u128.
func (w *Writer) CompactU128(v U128) {
	if v.Hi == 0 {
		w.Compact(v.Lo)
		return
	}
	n := 8 + (bits.Len64(v.Hi)+7)/8 // 9..16 bytes
	w.U8(uint8(n-4)<<2 | 0b11)
	for i := 0; i < 8; i++ {
		w.U8(uint8(v.Lo >> (8 * i)))
	}
	for i := 0; i < n-8; i++ {
		w.U8(uint8(v.Hi >> (8 * i)))
	}
}

// BytesVec writes a compact length prefix followed by b (Vec<u8>).
func (w *Writer) BytesVec(b []byte) { w.Compact(uint64(len(b))); w.Raw(b) }

// String writes a string as its UTF-8 bytes with a compact length prefix.
func (w *Writer) String(s string) { w.Compact(uint64(len(s))); w.buf = append(w.buf, s...) }

// OptionNone writes the None tag of an Option.
func (w *Writer) OptionNone() { w.U8(0) }

// OptionSome writes the Some tag of an Option; the caller then writes the value.
func (w *Writer) OptionSome() { w.U8(1) }

// Reader decodes SCALE values from a byte slice. See the package comment for
// its error discipline.
type Reader struct {
	b   []byte
	off int
	err error
}

// NewReader returns a Reader over b. It does not copy b.
func NewReader(b []byte) *Reader { return &Reader{b: b} }

// Err returns the first error met, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err as the Reader's error unless one is already recorded.
// Decoders use it to report semantic errors (an unknown enum variant, say).
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Remaining returns the number of unread bytes.
func (r *Reader) Remaining() int { return len(r.b) - r.off }

// Offset returns the number of bytes read so far.
func (r *Reader) Offset() int { return r.off }

// Finish returns the Reader's error, or ErrTrailing if input is left over.
func (r *Reader) Finish() error {
	if r.err != nil {
		return r.err
	}
	if r.off != len(r.b) {
		return fmt.Errorf("%w: %d bytes", ErrTrailing, len(r.b)-r.off)
	}
	return nil
}

// take returns the next n bytes, or nil after recording ErrShort.
func (r *Reader) take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if n < 0 || n > len(r.b)-r.off {
		r.err = ErrShort
		return nil
	}
	s := r.b[r.off : r.off+n]
	r.off += n
	return s
}

// Raw returns the next n bytes without copying them. The slice aliases the input.
func (r *Reader) Raw(n int) []byte { return r.take(n) }

// Fixed fills dst with the next len(dst) bytes (a fixed-size array).
func (r *Reader) Fixed(dst []byte) {
	if s := r.take(len(dst)); s != nil {
		copy(dst, s)
	} else {
		clear(dst)
	}
}

// U8 reads a u8.
func (r *Reader) U8() uint8 {
	if s := r.take(1); s != nil {
		return s[0]
	}
	return 0
}

// Bool reads a bool; any byte other than 0 or 1 is ErrInvalid.
func (r *Reader) Bool() bool {
	switch r.U8() {
	case 0:
		return false
	case 1:
		return true
	default:
		r.Fail(fmt.Errorf("%w: bool", ErrInvalid))
		return false
	}
}

// U16 reads a little-endian u16.
func (r *Reader) U16() uint16 {
	if s := r.take(2); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

// U32 reads a little-endian u32.
func (r *Reader) U32() uint32 {
	if s := r.take(4); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

// U64 reads a little-endian u64.
func (r *Reader) U64() uint64 {
	if s := r.take(8); s != nil {
		return binary.LittleEndian.Uint64(s)
	}
	return 0
}

// I8 reads an i8.
func (r *Reader) I8() int8 { return int8(r.U8()) }

// I16 reads a little-endian i16.
func (r *Reader) I16() int16 { return int16(r.U16()) }

// I32 reads a little-endian i32.
func (r *Reader) I32() int32 { return int32(r.U32()) }

// I64 reads a little-endian i64.
func (r *Reader) I64() int64 { return int64(r.U64()) }

// U128 reads a little-endian u128.
func (r *Reader) U128() U128 {
	lo := r.U64()
	hi := r.U64()
	return U128{Lo: lo, Hi: hi}
}

// I128 reads a little-endian two's-complement i128.
func (r *Reader) I128() I128 {
	lo := r.U64()
	hi := r.U64()
	return I128{Lo: lo, Hi: hi}
}

// compactRaw reads a compact integer as (lo, hi) 128 bits. It rejects
// non-canonical encodings, as parity-scale-codec does.
func (r *Reader) compactRaw() (lo, hi uint64) {
	b := r.U8()
	if r.err != nil {
		return 0, 0
	}
	switch b & 0b11 {
	case 0b00:
		return uint64(b >> 2), 0
	case 0b01:
		s := r.take(1)
		if s == nil {
			return 0, 0
		}
		v := uint64(b>>2) | uint64(s[0])<<6
		if v < 1<<6 {
			r.Fail(ErrNonCanonical)
			return 0, 0
		}
		return v, 0
	case 0b10:
		s := r.take(3)
		if s == nil {
			return 0, 0
		}
		v := uint64(b>>2) | uint64(s[0])<<6 | uint64(s[1])<<14 | uint64(s[2])<<22
		if v < 1<<14 {
			r.Fail(ErrNonCanonical)
			return 0, 0
		}
		return v, 0
	default:
		n := int(b>>2) + 4
		if n > 16 {
			// 17+ byte compacts exist in the format but no type here can hold them.
			r.Fail(fmt.Errorf("%w: compact of %d bytes", ErrOverflow, n))
			return 0, 0
		}
		s := r.take(n)
		if s == nil {
			return 0, 0
		}
		if s[n-1] == 0 {
			r.Fail(ErrNonCanonical) // a shorter form would do
			return 0, 0
		}
		for i := 0; i < n && i < 8; i++ {
			lo |= uint64(s[i]) << (8 * i)
		}
		for i := 8; i < n; i++ {
			hi |= uint64(s[i]) << (8 * (i - 8))
		}
		if n == 4 && lo < 1<<30 {
			r.Fail(ErrNonCanonical)
			return 0, 0
		}
		return lo, hi
	}
}

// Compact reads a compact integer that must fit in 64 bits.
func (r *Reader) Compact() uint64 {
	lo, hi := r.compactRaw()
	if hi != 0 {
		r.Fail(fmt.Errorf("%w: compact exceeds u64", ErrOverflow))
		return 0
	}
	return lo
}

// CompactU128 reads a compact integer up to 128 bits.
func (r *Reader) CompactU128() U128 {
	lo, hi := r.compactRaw()
	return U128{Lo: lo, Hi: hi}
}

// Len reads a compact length prefix and checks that at least min(len, 1)*elemMin
// bytes remain, so that a hostile prefix cannot trigger a large allocation.
// elemMin is the smallest encoded size of one element (1 for bytes).
func (r *Reader) Len(elemMin int) int {
	n := r.Compact()
	if r.err != nil {
		return 0
	}
	if elemMin < 1 {
		elemMin = 1
	}
	if n > math.MaxInt32 || int(n) > r.Remaining()/elemMin {
		if n == 0 {
			return 0
		}
		r.Fail(fmt.Errorf("%w: length %d exceeds remaining input", ErrShort, n))
		return 0
	}
	return int(n)
}

// BytesVec reads a compact-length-prefixed byte vector and returns a copy.
func (r *Reader) BytesVec() []byte {
	n := r.Len(1)
	s := r.take(n)
	if s == nil {
		return nil
	}
	out := make([]byte, n)
	copy(out, s)
	return out
}

// String reads a compact-length-prefixed UTF-8 string. Invalid UTF-8 is kept
// as is: SCALE does not validate strings, and callers that need valid text
// check it themselves.
func (r *Reader) String() string {
	n := r.Len(1)
	s := r.take(n)
	return string(s)
}

// Option reads an Option tag and reports whether a value follows.
func (r *Reader) Option() bool {
	switch r.U8() {
	case 0:
		return false
	case 1:
		return r.err == nil
	default:
		r.Fail(fmt.Errorf("%w: option tag", ErrInvalid))
		return false
	}
}

// U128 is an unsigned 128-bit integer as two 64-bit halves.
type U128 struct{ Lo, Hi uint64 }

// I128 is a signed 128-bit integer in two's complement as two 64-bit halves.
type I128 struct{ Lo, Hi uint64 }

// U128From returns v as a U128.
func U128From(v uint64) U128 { return U128{Lo: v} }

// IsZero reports whether x is zero.
func (x U128) IsZero() bool { return x.Lo == 0 && x.Hi == 0 }

// Cmp compares x and y and returns -1, 0 or +1.
func (x U128) Cmp(y U128) int {
	switch {
	case x.Hi < y.Hi:
		return -1
	case x.Hi > y.Hi:
		return 1
	case x.Lo < y.Lo:
		return -1
	case x.Lo > y.Lo:
		return 1
	}
	return 0
}

// Add returns x+y and whether the sum overflowed 128 bits.
func (x U128) Add(y U128) (U128, bool) {
	lo, c := bits.Add64(x.Lo, y.Lo, 0)
	hi, c := bits.Add64(x.Hi, y.Hi, c)
	return U128{Lo: lo, Hi: hi}, c != 0
}

// Sub returns x-y and whether it underflowed.
func (x U128) Sub(y U128) (U128, bool) {
	lo, b := bits.Sub64(x.Lo, y.Lo, 0)
	hi, b := bits.Sub64(x.Hi, y.Hi, b)
	return U128{Lo: lo, Hi: hi}, b != 0
}

// Mul64 returns x*y and whether the product overflowed 128 bits.
func (x U128) Mul64(y uint64) (U128, bool) {
	h1, l1 := bits.Mul64(x.Lo, y)
	h2, l2 := bits.Mul64(x.Hi, y)
	hi, c := bits.Add64(h1, l2, 0)
	return U128{Lo: l1, Hi: hi}, h2 != 0 || c != 0
}

// Big returns x as a big.Int.
func (x U128) Big() *big.Int {
	b := new(big.Int).SetUint64(x.Hi)
	b.Lsh(b, 64)
	return b.Or(b, new(big.Int).SetUint64(x.Lo))
}

// String returns x in decimal.
func (x U128) String() string { return x.Big().String() }

var maxU128 = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 128), big.NewInt(1))

// U128FromBig converts b to a U128; it fails for negative or too large values.
func U128FromBig(b *big.Int) (U128, error) {
	if b.Sign() < 0 || b.Cmp(maxU128) > 0 {
		return U128{}, fmt.Errorf("%w: %s does not fit u128", ErrOverflow, b)
	}
	lo := new(big.Int).And(b, new(big.Int).SetUint64(math.MaxUint64)).Uint64()
	hi := new(big.Int).Rsh(b, 64).Uint64()
	return U128{Lo: lo, Hi: hi}, nil
}

// ParseU128 parses a decimal string into a U128.
func ParseU128(s string) (U128, error) {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok || len(s) == 0 || s[0] == '+' || s[0] == '-' {
		return U128{}, fmt.Errorf("scale: %q is not a decimal unsigned integer", s)
	}
	return U128FromBig(b)
}

// Big returns x as a big.Int.
func (x I128) Big() *big.Int {
	u := U128(x).Big()
	if int64(x.Hi) < 0 {
		u.Sub(u, new(big.Int).Lsh(big.NewInt(1), 128))
	}
	return u
}

// String returns x in decimal.
func (x I128) String() string { return x.Big().String() }
