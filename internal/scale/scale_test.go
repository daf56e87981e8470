package scale

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"math/big"
	"math/rand/v2"
	"runtime"
	"strings"
	"testing"
	"testing/quick"
)

// unhex decodes hex written with optional spaces, as parity's tests print it.
func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// Vectors from parity-scale-codec (compact_integers_encoded_as_expected) and
// ChainSafe gossamer pkg/scale encode_test.go (42, 69, 1000, 2^63-1).
var compactVectors = []struct {
	v   uint64
	enc string
}{
	{0, "00"},
	{1, "04"},
	{42, "a8"},
	{63, "fc"},
	{64, "01 01"},
	{69, "15 01"},
	{1000, "a1 0f"},
	{16383, "fd ff"},
	{16384, "02 00 01 00"},
	{1<<30 - 1, "fe ff ff ff"},
	{1 << 30, "03 00 00 00 40"},
	{1<<32 - 1, "03 ff ff ff ff"},
	{1 << 32, "07 00 00 00 00 01"},
	{1 << 40, "0b 00 00 00 00 00 01"},
	{1 << 48, "0f 00 00 00 00 00 00 01"},
	{1<<56 - 1, "0f ff ff ff ff ff ff ff"},
	{1 << 56, "13 00 00 00 00 00 00 00 01"},
	{math.MaxInt64, "13 ff ff ff ff ff ff ff 7f"},
	{math.MaxUint64, "13 ff ff ff ff ff ff ff ff"},
}

func TestCompactVectors(t *testing.T) {
	for _, tc := range compactVectors {
		want := unhex(t, tc.enc)
		var w Writer
		w.Compact(tc.v)
		if !bytes.Equal(w.Bytes(), want) {
			t.Errorf("Compact(%d) = %x, want %x", tc.v, w.Bytes(), want)
		}
		w.Reset()
		w.CompactU128(U128From(tc.v))
		if !bytes.Equal(w.Bytes(), want) {
			t.Errorf("CompactU128(%d) = %x, want %x", tc.v, w.Bytes(), want)
		}
		r := NewReader(want)
		if got := r.Compact(); got != tc.v || r.Finish() != nil {
			t.Errorf("decode %x = %d, %v", want, got, r.Finish())
		}
		r = NewReader(want)
		if got := r.CompactU128(); got != U128From(tc.v) || r.Finish() != nil {
			t.Errorf("decode u128 %x = %v, %v", want, got, r.Finish())
		}
	}
}

func TestCompactU128Vectors(t *testing.T) {
	maxU := U128{Lo: math.MaxUint64, Hi: math.MaxUint64}
	tests := []struct {
		v   U128
		enc string
	}{
		{U128{Hi: 1}, "17 00 00 00 00 00 00 00 00 01"},                            // 2^64
		{U128{Lo: 1, Hi: 1 << 8}, "1b 01 00 00 00 00 00 00 00 00 01"},             // 2^72+1
		{maxU, "33 ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff ff"},              // u128::MAX
		{U128{Hi: 1 << 63}, "33 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 80"}, // 2^127
	}
	for _, tc := range tests {
		want := unhex(t, tc.enc)
		var w Writer
		w.CompactU128(tc.v)
		if !bytes.Equal(w.Bytes(), want) {
			t.Errorf("CompactU128(%v) = %x, want %x", tc.v, w.Bytes(), want)
		}
		r := NewReader(want)
		if got := r.CompactU128(); got != tc.v || r.Finish() != nil {
			t.Errorf("decode %x = %v, %v", want, got, r.Finish())
		}
		// Does not fit u64.
		r = NewReader(want)
		if r.Compact(); !errors.Is(r.Err(), ErrOverflow) {
			t.Errorf("Compact() of %x: err %v, want ErrOverflow", want, r.Err())
		}
	}
}

func TestCompactRejects(t *testing.T) {
	tests := []struct {
		enc  string
		want error
	}{
		{"", ErrShort},
		{"01", ErrShort},
		{"02 00", ErrShort},
		{"03 00 00 00", ErrShort},
		{"07 00 00 00 00", ErrShort},
		// Non-canonical: a shorter mode would do.
		{"01 00", ErrNonCanonical},          // 0 in two bytes
		{"fd 00", ErrNonCanonical},          // 63 in two bytes
		{"02 00 00 00", ErrNonCanonical},    // 0 in four bytes
		{"fe ff 00 00", ErrNonCanonical},    // 16383 in four bytes
		{"03 ff ff ff 3f", ErrNonCanonical}, // 2^30-1 in big mode
		{"03 00 00 00 00", ErrNonCanonical},
		{"07 ff ff ff ff 00", ErrNonCanonical},             // 2^32-1 in five bytes
		{"13 ff ff ff ff ff ff ff 00", ErrNonCanonical},    // top byte zero
		{"17 00 00 00 00 00 00 00 00 00", ErrNonCanonical}, // 9 bytes, top zero
		{"37 " + strings.Repeat("ff ", 17), ErrOverflow},   // 17 bytes: beyond u128
		{"ff " + strings.Repeat("ff ", 67), ErrOverflow},   // 67-byte mode
	}
	for _, tc := range tests {
		b := unhex(t, tc.enc)
		r := NewReader(b)
		r.CompactU128()
		if !errors.Is(r.Err(), tc.want) {
			t.Errorf("CompactU128(%s): err %v, want %v", tc.enc, r.Err(), tc.want)
		}
		r = NewReader(b)
		r.Compact()
		if r.Err() == nil {
			t.Errorf("Compact(%s) accepted", tc.enc)
		}
	}
}

func TestFixedWidth(t *testing.T) {
	var w Writer
	w.U8(1)
	w.U16(16383)
	w.U32(1073741823)
	w.U64(math.MaxInt64)
	w.I8(-1)
	w.I16(-2)
	w.I32(-3)
	w.I64(math.MinInt64)
	w.U128(U128{Lo: 1})
	w.I128(I128{Lo: math.MaxUint64, Hi: math.MaxUint64}) // -1
	w.I128(I128{Hi: 1 << 63})                            // i128::MIN
	w.Bool(true)
	w.Bool(false)
	want := unhex(t, "01"+"ff3f"+"ffffff3f"+"ffffffffffffff7f"+"ff"+"feff"+"fdffffff"+"0000000000000080"+
		"01000000000000000000000000000000"+"ffffffffffffffffffffffffffffffff"+"00000000000000000000000000000080"+"0100")
	if !bytes.Equal(w.Bytes(), want) {
		t.Fatalf("encoding\n got %x\nwant %x", w.Bytes(), want)
	}
	r := NewReader(want)
	if r.U8() != 1 || r.U16() != 16383 || r.U32() != 1073741823 || r.U64() != math.MaxInt64 ||
		r.I8() != -1 || r.I16() != -2 || r.I32() != -3 || r.I64() != math.MinInt64 {
		t.Fatal("fixed-width decode mismatch")
	}
	if r.U128() != (U128{Lo: 1}) {
		t.Fatal("u128")
	}
	if v := r.I128(); v.String() != "-1" {
		t.Fatalf("i128 -1 = %s", v)
	}
	if v := r.I128(); v.String() != "-170141183460469231731687303715884105728" {
		t.Fatalf("i128 min = %s", v)
	}
	if !r.Bool() || r.Bool() || r.Finish() != nil {
		t.Fatal("bool / finish")
	}
}

func TestBoolOptionResultEnum(t *testing.T) {
	// Bool: only 0 and 1.
	r := NewReader([]byte{2})
	r.Bool()
	if !errors.Is(r.Err(), ErrInvalid) {
		t.Errorf("bool 2: %v", r.Err())
	}
	// Option<u32>: None = 00, Some(1) = 01 01000000.
	var w Writer
	one := uint32(1)
	WriteOption(&w, (*uint32)(nil), (*Writer).U32)
	WriteOption(&w, &one, (*Writer).U32)
	if hex.EncodeToString(w.Bytes()) != "000101000000" {
		t.Errorf("Option<u32> = %x", w.Bytes())
	}
	r = NewReader(w.Bytes())
	if ReadOption(r, (*Reader).U32) != nil {
		t.Error("None decoded as Some")
	}
	if v := ReadOption(r, (*Reader).U32); v == nil || *v != 1 || r.Finish() != nil {
		t.Error("Some(1) not decoded")
	}
	for _, bad := range []string{"02", "01", "0101"} {
		r = NewReader(unhex(t, bad))
		if v := ReadOption(r, (*Reader).U32); v != nil || r.Err() == nil {
			t.Errorf("Option<u32> %s accepted", bad)
		}
	}
	// Plain Option<bool> is two bytes; OptionBool is one (0, 1 = true, 2 = false).
	tr, fa := true, false
	w.Reset()
	WriteOption(&w, &fa, (*Writer).Bool)
	w.OptionBool(nil)
	w.OptionBool(&tr)
	w.OptionBool(&fa)
	if hex.EncodeToString(w.Bytes()) != "0100000102" {
		t.Errorf("Option<bool>/OptionBool = %x", w.Bytes())
	}
	r = NewReader(w.Bytes())
	if v := ReadOption(r, (*Reader).Bool); v == nil || *v {
		t.Error("Some(false)")
	}
	if r.OptionBool() != nil {
		t.Error("OptionBool None")
	}
	if v := r.OptionBool(); v == nil || !*v {
		t.Error("OptionBool true")
	}
	if v := r.OptionBool(); v == nil || *v || r.Finish() != nil {
		t.Error("OptionBool false")
	}
	r = NewReader([]byte{3})
	if r.OptionBool() != nil || !errors.Is(r.Err(), ErrInvalid) {
		t.Error("OptionBool 3 accepted")
	}
	// Result<u8, bool> (SCALE docs): Ok(42) = 00 2a, Err(false) = 01 00.
	w.Reset()
	w.ResultOk()
	w.U8(42)
	w.ResultErr()
	w.Bool(false)
	if hex.EncodeToString(w.Bytes()) != "002a0100" {
		t.Errorf("Result = %x", w.Bytes())
	}
	r = NewReader(w.Bytes())
	if !r.Result() || r.U8() != 42 || r.Result() || r.Bool() || r.Finish() != nil {
		t.Error("Result decode")
	}
	r = NewReader([]byte{2})
	if r.Result() || !errors.Is(r.Err(), ErrInvalid) {
		t.Error("Result tag 2 accepted")
	}
	r = NewReader(nil)
	if r.Result() || !errors.Is(r.Err(), ErrShort) {
		t.Error("empty Result")
	}
	// Enum tags.
	w.Reset()
	w.Enum(3)
	r = NewReader(w.Bytes())
	if r.Enum(3) != 3 || r.Finish() != nil {
		t.Error("Enum(3)")
	}
	r = NewReader([]byte{4})
	if r.Enum(3) != 0 || !errors.Is(r.Err(), ErrInvalid) {
		t.Error("enum 4 > max 3 accepted")
	}
}

func TestStringsAndVecs(t *testing.T) {
	// parity-scale-codec vec_of_string_encoded_as_expected.
	strs := []string{"Hamlet", "Война и мир", "三国演义", "أَلْف لَيْلَة وَلَيْلَة\u200e"} // ends with U+200E
	want := unhex(t, "10 18 48 61 6d 6c 65 74 50 d0 92 d0 be d0 b9 d0 bd d0 b0 20 d0 "+
		"b8 20 d0 bc d0 b8 d1 80 30 e4 b8 89 e5 9b bd e6 bc 94 e4 b9 89 bc d8 a3 d9 8e d9 84 d9 92 "+
		"d9 81 20 d9 84 d9 8e d9 8a d9 92 d9 84 d9 8e d8 a9 20 d9 88 d9 8e d9 84 d9 8e d9 8a d9 92 "+
		"d9 84 d9 8e d8 a9 e2 80 8e")
	var w Writer
	WriteVec(&w, strs, (*Writer).String)
	if !bytes.Equal(w.Bytes(), want) {
		t.Errorf("Vec<String>\n got %x\nwant %x", w.Bytes(), want)
	}
	r := NewReader(want)
	got := ReadVec(r, 1, (*Reader).String)
	if r.Finish() != nil || len(got) != 4 || got[1] != "Война и мир" || got[3] != strs[3] {
		t.Errorf("decoded %q, %v", got, r.Finish())
	}
	// Vec<u16> [4, 8, 15, 16, 23, 42] (SCALE docs).
	w.Reset()
	WriteVec(&w, []uint16{4, 8, 15, 16, 23, 42}, (*Writer).U16)
	if hex.EncodeToString(w.Bytes()) != "18040008000f00100017002a00" {
		t.Errorf("Vec<u16> = %x", w.Bytes())
	}
	// gossamer encode_test: length prefixes of a 67-byte, 16560-byte and 55-byte string.
	for _, tc := range []struct {
		s      string
		prefix string
	}{
		{"We love you! We believe in open source as wonderful form of giving.", "0d01"},
		{strings.Repeat("We need a longer string to test with. Let's multiple this several times.", 230), "c2020100"},
		{"Let's test some special ASCII characters: ~ \u0080 · © ÿ", "dc"},
		{"", "00"},
		{"a", "04"},
	} {
		w.Reset()
		w.String(tc.s)
		if hex.EncodeToString(w.Bytes()[:len(tc.prefix)/2]) != tc.prefix || w.Len() != len(tc.prefix)/2+len(tc.s) {
			t.Errorf("String(len %d) prefix = %x", len(tc.s), w.Bytes()[:4])
		}
		r := NewReader(w.Bytes())
		if r.String() != tc.s || r.Finish() != nil {
			t.Errorf("String(len %d) round trip", len(tc.s))
		}
	}
	// BytesVec returns a copy.
	in := []byte{0x08, 1, 2}
	r = NewReader(in)
	b := r.BytesVec()
	in[1] = 9
	if b[0] != 1 {
		t.Error("BytesVec aliases input")
	}
	// Empty vec decodes to empty non-nil.
	r = NewReader([]byte{0})
	if v := ReadVec(r, 2, (*Reader).U16); v == nil || len(v) != 0 {
		t.Error("empty Vec")
	}
}

func TestHostileLengths(t *testing.T) {
	// A length prefix of 2^30 with 3 bytes behind it must fail without allocating.
	in := unhex(t, "03 00 00 00 40 01 02 03")
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range 100 {
		r := NewReader(in)
		if r.BytesVec() != nil || !errors.Is(r.Err(), ErrShort) {
			t.Fatal("hostile BytesVec accepted")
		}
	}
	runtime.ReadMemStats(&after)
	if d := after.TotalAlloc - before.TotalAlloc; d > 64<<10 {
		t.Errorf("100 hostile decodes allocated %d bytes", d)
	}
	// u64::MAX elements.
	r := NewReader(unhex(t, "13 ff ff ff ff ff ff ff ff 00"))
	if ReadVec(r, 1, (*Reader).U8) != nil || r.Err() == nil {
		t.Error("huge vec accepted")
	}
	// Elements bigger than one byte: 3 u32 need 12 bytes.
	r = NewReader(unhex(t, "0c 01 00 00 00 02 00 00 00"))
	if ReadVec(r, 4, (*Reader).U32) != nil || r.Err() == nil {
		t.Error("short Vec<u32> accepted")
	}
	// Errors are sticky.
	r = NewReader([]byte{1})
	r.U32()
	if r.U8() != 0 || !errors.Is(r.Err(), ErrShort) {
		t.Error("error not sticky")
	}
}

func TestDecodeTrailing(t *testing.T) {
	var v u32Box
	if err := Decode([]byte{1, 0, 0, 0}, &v); err != nil || v.v != 1 {
		t.Fatal(err)
	}
	if err := Decode([]byte{1, 0, 0, 0, 0}, &v); !errors.Is(err, ErrTrailing) {
		t.Errorf("trailing: %v", err)
	}
	if err := Decode([]byte{1, 0}, &v); !errors.Is(err, ErrShort) {
		t.Errorf("short: %v", err)
	}
	if got := Encode(u32Box{7}); !bytes.Equal(got, []byte{7, 0, 0, 0}) {
		t.Errorf("Encode = %x", got)
	}
}

type u32Box struct{ v uint32 }

func (b u32Box) EncodeSCALE(w *Writer)  { w.U32(b.v) }
func (b *u32Box) DecodeSCALE(r *Reader) { b.v = r.U32() }

func TestU128Arith(t *testing.T) {
	maxU := U128{Lo: math.MaxUint64, Hi: math.MaxUint64}
	if maxU.String() != "340282366920938463463374607431768211455" {
		t.Error(maxU.String())
	}
	if _, of := maxU.Add(U128From(1)); !of {
		t.Error("add overflow")
	}
	if _, uf := U128From(0).Sub(U128From(1)); !uf {
		t.Error("sub underflow")
	}
	if v, of := (U128{Lo: 1 << 63}).Mul64(4); of || v != (U128{Hi: 2}) {
		t.Errorf("mul = %v %v", v, of)
	}
	if _, of := maxU.Mul64(2); !of {
		t.Error("mul overflow")
	}
	for _, s := range []string{"", "-1", "+1", "340282366920938463463374607431768211456", "1e3", "0x10"} {
		if _, err := ParseU128(s); err == nil {
			t.Errorf("ParseU128(%q) accepted", s)
		}
	}
	if v, err := ParseU128("18446744073709551616"); err != nil || v != (U128{Hi: 1}) {
		t.Errorf("ParseU128 2^64 = %v %v", v, err)
	}
	if U128From(5).Cmp(U128{Hi: 1}) != -1 || (U128{Hi: 1}).Cmp(U128From(5)) != 1 || U128From(5).Cmp(U128From(5)) != 0 {
		t.Error("Cmp")
	}
}

// Property: compact encodings round-trip and are the shortest form.
func TestCompactRoundTripQuick(t *testing.T) {
	f := func(v uint64, shift uint8) bool {
		v >>= shift % 64 // cover all magnitudes
		var w Writer
		w.Compact(v)
		r := NewReader(w.Bytes())
		if r.Compact() != v || r.Finish() != nil {
			return false
		}
		var wantLen int
		switch {
		case v < 1<<6:
			wantLen = 1
		case v < 1<<14:
			wantLen = 2
		case v < 1<<30:
			wantLen = 4
		default:
			wantLen = 1 + (64-countLeadingZeros(v)+7)/8
		}
		return w.Len() == wantLen
	}
	if err := quick.Check(f, &quick.Config{MaxCount: 20000}); err != nil {
		t.Error(err)
	}
	g := func(lo, hi uint64, shift uint8) bool {
		v := U128{Lo: lo, Hi: hi >> (shift % 65 % 64)}
		if shift%65 == 64 {
			v.Hi = 0
		}
		var w Writer
		w.CompactU128(v)
		r := NewReader(w.Bytes())
		return r.CompactU128() == v && r.Finish() == nil
	}
	if err := quick.Check(g, &quick.Config{MaxCount: 20000}); err != nil {
		t.Error(err)
	}
}

func countLeadingZeros(v uint64) int {
	n := 0
	for i := 63; i >= 0 && v>>uint(i)&1 == 0; i-- {
		n++
	}
	return n
}

// record is a composite value used by the random round-trip test.
type record struct {
	A uint8
	B bool
	C uint16
	D int32
	E uint64
	F U128
	G I128
	H uint64 // compact
	I []byte
	J string
	K *uint32
	L []U128 // Vec<Compact<u128>>
	M uint8  // enum tag < 4
	N bool   // Result Ok?
	O uint8  // Ok value
	P string // Err value
}

func (x record) EncodeSCALE(w *Writer) {
	w.U8(x.A)
	w.Bool(x.B)
	w.U16(x.C)
	w.I32(x.D)
	w.U64(x.E)
	w.U128(x.F)
	w.I128(x.G)
	w.Compact(x.H)
	w.BytesVec(x.I)
	w.String(x.J)
	WriteOption(w, x.K, (*Writer).U32)
	WriteVec(w, x.L, (*Writer).CompactU128)
	w.Enum(x.M)
	if x.N {
		w.ResultOk()
		w.U8(x.O)
	} else {
		w.ResultErr()
		w.String(x.P)
	}
}

func (x *record) DecodeSCALE(r *Reader) {
	x.A = r.U8()
	x.B = r.Bool()
	x.C = r.U16()
	x.D = r.I32()
	x.E = r.U64()
	x.F = r.U128()
	x.G = r.I128()
	x.H = r.Compact()
	x.I = r.BytesVec()
	x.J = r.String()
	x.K = ReadOption(r, (*Reader).U32)
	x.L = ReadVec(r, 1, (*Reader).CompactU128)
	x.M = r.Enum(3)
	x.N = r.Result()
	if x.N {
		x.O = r.U8()
	} else {
		x.P = r.String()
	}
}

func randomRecord(rng *rand.Rand) record {
	x := record{
		A: uint8(rng.Uint32()), B: rng.IntN(2) == 1, C: uint16(rng.Uint32()), D: int32(rng.Uint32()),
		E: rng.Uint64(), F: U128{rng.Uint64(), rng.Uint64()}, G: I128{rng.Uint64(), rng.Uint64()},
		H: rng.Uint64() >> rng.IntN(64), M: uint8(rng.IntN(4)), N: rng.IntN(2) == 1,
		O: uint8(rng.Uint32()), P: strings.Repeat("e", rng.IntN(3)),
	}
	x.I = make([]byte, rng.IntN(100))
	for i := range x.I {
		x.I[i] = byte(rng.Uint32())
	}
	x.J = strings.Repeat("ü", rng.IntN(40))
	if rng.IntN(2) == 1 {
		k := rng.Uint32()
		x.K = &k
	}
	x.L = make([]U128, rng.IntN(5))
	for i := range x.L {
		x.L[i] = U128{rng.Uint64() >> rng.IntN(64), rng.Uint64() >> rng.IntN(65) % (1 << 63)}
	}
	return x
}

func TestRecordRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 2000; i++ {
		x := randomRecord(rng)
		enc := Encode(x)
		var y record
		if err := Decode(enc, &y); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if !bytes.Equal(Encode(y), enc) {
			t.Fatalf("re-encoding differs for %+v", x)
		}
		// Every strict prefix must fail cleanly.
		cut := rng.IntN(len(enc))
		if err := Decode(enc[:cut], &y); err == nil {
			t.Fatalf("prefix of %d/%d bytes decoded", cut, len(enc))
		}
	}
}

func TestBigConversions(t *testing.T) {
	b, _ := new(big.Int).SetString("123456789012345678901234567890", 10)
	u, err := U128FromBig(b)
	if err != nil || u.Big().Cmp(b) != 0 {
		t.Errorf("U128FromBig = %v %v", u, err)
	}
	if _, err := U128FromBig(big.NewInt(-1)); err == nil {
		t.Error("negative accepted")
	}
}
