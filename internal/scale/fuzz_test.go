package scale

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzReader drives a Reader with an arbitrary sequence of reads chosen by the
// input itself and checks that it never panics, never reads past the end, and
// keeps its first error.
func FuzzReader(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x00, 0x01, 0x02, 0x03})
	f.Add(Encode(record{J: "seed", I: []byte{1, 2, 3}, L: []U128{{Lo: 1}, {Hi: 1}}}))
	f.Add([]byte{9, 0x03, 0x00, 0x00, 0x00, 0x40, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		var firstErr error
		for steps := 0; steps < 256 && r.Remaining() > 0; steps++ {
			op := r.U8()
			switch op % 20 {
			case 0:
				r.Bool()
			case 1:
				r.U16()
			case 2:
				r.U32()
			case 3:
				r.U64()
			case 4:
				r.U128()
			case 5:
				_ = r.I128().String()
			case 6:
				r.Compact()
			case 7:
				_ = r.CompactU128().String()
			case 8:
				if b := r.BytesVec(); len(b) > len(data) {
					t.Fatalf("BytesVec of %d bytes from %d input", len(b), len(data))
				}
			case 9:
				_ = r.String()
			case 10:
				r.Option()
			case 11:
				r.Len(int(op>>5) + 1)
			case 12:
				r.Raw(int(op >> 4))
			case 13:
				var a [32]byte
				r.Fixed(a[:])
			case 14:
				r.Enum(op >> 4)
			case 15:
				r.Result()
			case 16:
				r.OptionBool()
			case 17:
				if v := ReadVec(r, 4, (*Reader).U32); len(v)*4 > len(data) {
					t.Fatal("ReadVec longer than input")
				}
			case 18:
				ReadOption(r, (*Reader).CompactU128)
			case 19:
				var rec record
				rec.DecodeSCALE(r)
			}
			if r.Offset() > len(data) || r.Remaining() < 0 {
				t.Fatalf("offset %d beyond input %d", r.Offset(), len(data))
			}
			if firstErr == nil {
				firstErr = r.Err()
			} else if r.Err() != firstErr {
				t.Fatalf("error changed from %v to %v", firstErr, r.Err())
			}
			if r.Err() != nil {
				break
			}
		}
		_ = r.Finish()
		// A whole-input decode must never panic either, and must round-trip.
		var rec record
		if Decode(data, &rec) == nil {
			if !bytes.Equal(Encode(rec), data) {
				t.Fatalf("accepted input does not re-encode to itself:\n in  %x\n out %x", data, Encode(rec))
			}
		}
	})
}

// FuzzCompact checks that compact decoding accepts exactly the canonical
// encodings: anything decoded re-encodes to the same bytes, the 64-bit and
// 128-bit readers agree, and every decoded value round-trips.
func FuzzCompact(f *testing.F) {
	for _, tc := range compactVectors {
		var w Writer
		w.Compact(tc.v)
		f.Add(w.Bytes())
	}
	f.Add([]byte{0x33, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0x01, 0x00})
	f.Add([]byte{0x03, 0xff, 0xff, 0xff, 0x3f})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := NewReader(data)
		v := r.CompactU128()
		err := r.Err()
		r64 := NewReader(data)
		v64 := r64.Compact()
		if err != nil {
			if r64.Err() == nil {
				t.Fatalf("Compact accepted %x that CompactU128 rejects (%v)", data, err)
			}
			return
		}
		used := data[:r.Offset()]
		var w Writer
		w.CompactU128(v)
		if !bytes.Equal(w.Bytes(), used) {
			t.Fatalf("non-canonical %x accepted as %v (canonical %x)", used, v, w.Bytes())
		}
		if v.Hi == 0 {
			if r64.Err() != nil || v64 != v.Lo || r64.Offset() != r.Offset() {
				t.Fatalf("Compact disagrees on %x: %d %v", used, v64, r64.Err())
			}
		} else if !errors.Is(r64.Err(), ErrOverflow) {
			t.Fatalf("Compact of %v: err %v, want ErrOverflow", v, r64.Err())
		}
	})
}
