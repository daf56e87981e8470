package tee

import (
	"encoding/hex"
	"fmt"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/scale"
)

// DevMeasurement is what the dev TEE measures: a 32-byte hash of the code
// it claims to run (blake2-256 of a build identifier).
type DevMeasurement struct {
	CodeHash [32]byte
}

// TDXMeasurement is what a TDX quote measures, as the allow-list holds it:
// the initial TD contents (MRTD), the boot-time runtime registers RTMR0–2
// (firmware, kernel and command line, initrd — RTMR3 is left to the workload),
// the TDX module (MRSEAM) and whether the TD runs in debug mode (the
// verifier refuses debug TDs, so an accepted measurement always has false).
type TDXMeasurement struct {
	MRTD   [48]byte
	RTMR0  [48]byte
	RTMR1  [48]byte
	RTMR2  [48]byte
	MRSEAM [48]byte
	Debug  bool
}

// Measurement is a typed TEE measurement. Kind says which of Dev and TDX is
// meaningful; the other is ignored by Encode and must be zero for Equal
// comparison with == to agree with Hash.
type Measurement struct {
	Kind Kind
	Dev  DevMeasurement
	TDX  TDXMeasurement
}

// Variant indexes of Measurement's SCALE enum.
const (
	measurementDev uint8 = 0
	measurementTDX uint8 = 1
)

// NewDevMeasurement returns the dev measurement with the given code hash.
func NewDevMeasurement(codeHash [32]byte) Measurement {
	return Measurement{Kind: KindDev, Dev: DevMeasurement{CodeHash: codeHash}}
}

// NewTDXMeasurement returns a TDX measurement.
func NewTDXMeasurement(m TDXMeasurement) Measurement {
	return Measurement{Kind: KindTDX, TDX: m}
}

// EncodeSCALE writes the canonical encoding, a SCALE enum:
//
//	0 Dev { code_hash: [u8; 32] }
//	1 Tdx { mrtd, rtmr0, rtmr1, rtmr2, mrseam: [u8; 48], debug: bool }
//
// A measurement of an unknown kind writes the tag 0xff alone, which no
// decoder accepts.
func (m *Measurement) EncodeSCALE(w *scale.Writer) {
	switch m.Kind {
	case KindDev:
		w.Enum(measurementDev)
		w.Raw(m.Dev.CodeHash[:])
	case KindTDX:
		w.Enum(measurementTDX)
		w.Raw(m.TDX.MRTD[:])
		w.Raw(m.TDX.RTMR0[:])
		w.Raw(m.TDX.RTMR1[:])
		w.Raw(m.TDX.RTMR2[:])
		w.Raw(m.TDX.MRSEAM[:])
		w.Bool(m.TDX.Debug)
	default:
		w.U8(0xff)
	}
}

// DecodeSCALE reads a measurement written by EncodeSCALE.
func (m *Measurement) DecodeSCALE(r *scale.Reader) {
	*m = Measurement{}
	switch r.Enum(measurementTDX) {
	case measurementDev:
		m.Kind = KindDev
		r.Fixed(m.Dev.CodeHash[:])
	case measurementTDX:
		m.Kind = KindTDX
		r.Fixed(m.TDX.MRTD[:])
		r.Fixed(m.TDX.RTMR0[:])
		r.Fixed(m.TDX.RTMR1[:])
		r.Fixed(m.TDX.RTMR2[:])
		r.Fixed(m.TDX.MRSEAM[:])
		m.TDX.Debug = r.Bool()
	}
	if r.Err() != nil {
		*m = Measurement{}
	}
}

// Encode returns the canonical SCALE encoding.
func (m Measurement) Encode() []byte { return scale.Encode(&m) }

// Hash returns blake2-256 of the canonical encoding: the allow-list entry
// for this measurement. It is stable: it depends only on the encoding above.
func (m Measurement) Hash() [32]byte { return hashing.Blake2b256(m.Encode()) }

// Valid reports whether m is of a known kind.
func (m Measurement) Valid() bool { return m.Kind == KindDev || m.Kind == KindTDX }

// Equal reports whether a and b encode to the same bytes (fields of the
// inactive kind are ignored).
func (m Measurement) Equal(o Measurement) bool { return string(m.Encode()) == string(o.Encode()) }

// DecodeMeasurement decodes a canonical measurement; the whole input must be
// consumed.
func DecodeMeasurement(b []byte) (Measurement, error) {
	var m Measurement
	if err := scale.Decode(b, &m); err != nil {
		return Measurement{}, fmt.Errorf("%w: %w", ErrBadMeasurement, err)
	}
	return m, nil
}

// String renders the measurement for logs and the CLI.
func (m Measurement) String() string {
	switch m.Kind {
	case KindDev:
		return "dev:" + hex.EncodeToString(m.Dev.CodeHash[:])
	case KindTDX:
		return fmt.Sprintf("tdx:mrtd=%x,rtmr0=%x,rtmr1=%x,rtmr2=%x,mrseam=%x,debug=%t",
			m.TDX.MRTD, m.TDX.RTMR0, m.TDX.RTMR1, m.TDX.RTMR2, m.TDX.MRSEAM, m.TDX.Debug)
	default:
		return fmt.Sprintf("unknown(%q)", string(m.Kind))
	}
}
