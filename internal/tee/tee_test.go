package tee

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/hashing"
)

func tdxSample() Measurement {
	var m TDXMeasurement
	for i := range m.MRTD {
		m.MRTD[i] = 0x10
		m.RTMR0[i] = 0x20
		m.RTMR1[i] = 0x21
		m.RTMR2[i] = 0x22
		m.MRSEAM[i] = 0x30
	}
	return NewTDXMeasurement(m)
}

func TestMeasurementEncoding(t *testing.T) {
	dev := NewDevMeasurement([32]byte{1, 2, 3})
	devEnc := dev.Encode()
	if len(devEnc) != 33 || devEnc[0] != 0 || devEnc[1] != 1 || devEnc[3] != 3 {
		t.Fatalf("dev encoding %x", devEnc)
	}
	tdx := tdxSample()
	enc := tdx.Encode()
	if len(enc) != 1+5*48+1 || enc[0] != 1 || enc[1] != 0x10 || enc[1+48] != 0x20 || enc[1+4*48] != 0x30 || enc[len(enc)-1] != 0 {
		t.Fatalf("tdx encoding %x", enc)
	}
	for _, m := range []Measurement{dev, tdx} {
		got, err := DecodeMeasurement(m.Encode())
		if err != nil || got != m {
			t.Fatalf("round trip %v: %v %v", m, got, err)
		}
		if m.Hash() != hashing.Blake2b256(m.Encode()) {
			t.Fatal("Hash is not blake2-256 of the encoding")
		}
	}
	// Golden hash: allow-lists depend on it never changing.
	if h := dev.Hash(); hex.EncodeToString(h[:]) != hex.EncodeToString(goldenDevHash()) {
		t.Fatalf("dev measurement hash changed: %x", h)
	}
	// Fields of the inactive kind do not count.
	noisy := dev
	noisy.TDX.MRTD[0] = 9
	if !noisy.Equal(dev) || noisy.Hash() != dev.Hash() {
		t.Fatal("inactive fields changed the encoding")
	}
	debug := tdx
	debug.TDX.Debug = true
	if debug.Hash() == tdx.Hash() {
		t.Fatal("debug flag not in the hash")
	}
	if !strings.HasPrefix(tdx.String(), "tdx:mrtd=1010") || !strings.HasPrefix(dev.String(), "dev:010203") {
		t.Fatalf("strings %s %s", tdx, dev)
	}
}

// goldenDevHash is blake2-256(0x00 ‖ 01 02 03 00…00) (computed independently
// with Python's hashlib), fixed here so that a
// change of the canonical encoding cannot go unnoticed.
func goldenDevHash() []byte {
	b, _ := hex.DecodeString("6a14b8b23fc0ebcd059770d3ffd410591ff92309c0ea88877e4a4ae2baa66f11")
	return b
}

func TestDecodeMeasurementRejects(t *testing.T) {
	tdx := tdxSample().Encode()
	for name, b := range map[string][]byte{
		"empty":        nil,
		"unknown kind": append([]byte{2}, make([]byte, 32)...),
		"short dev":    append([]byte{0}, make([]byte, 31)...),
		"long dev":     append([]byte{0}, make([]byte, 33)...),
		"bad bool":     append(bytes.Clone(tdx[:len(tdx)-1]), 2),
		"short tdx":    tdx[:len(tdx)-1],
	} {
		if _, err := DecodeMeasurement(b); !errors.Is(err, ErrBadMeasurement) {
			t.Errorf("%s: %v", name, err)
		}
	}
	var unknown Measurement
	unknown.Kind = "sev"
	if unknown.Valid() {
		t.Fatal("unknown kind valid")
	}
	if _, err := DecodeMeasurement(unknown.Encode()); err == nil {
		t.Fatal("unknown kind decoded")
	}
}

func TestSealHeader(t *testing.T) {
	h := SealHeader{Kind: KindDev, Dev: true, GenesisHash: [32]byte{7}}
	blob := append(h.Encode(), "body"...)
	got, hb, body, err := ParseSealed(blob)
	if err != nil || got != h || string(body) != "body" || !bytes.Equal(hb, h.Encode()) {
		t.Fatalf("%v %x %q %v", got, hb, body, err)
	}
	for _, tc := range []struct {
		want SealHeader
		err  error
	}{
		{h, nil},
		{SealHeader{Kind: KindTDX, Dev: true, GenesisHash: [32]byte{7}}, ErrSealedByOtherProvider},
		{SealHeader{Kind: KindDev, Dev: false, GenesisHash: [32]byte{7}}, ErrSealedDevMismatch},
		{SealHeader{Kind: KindDev, Dev: true, GenesisHash: [32]byte{8}}, ErrSealedOtherGenesis},
	} {
		if err := got.Check(tc.want); !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("check against %+v: %v, want %v", tc.want, err, tc.err)
		}
	}
	enc := h.Encode()
	badVersion := bytes.Clone(enc)
	badVersion[len(sealMagic)] = 9
	for name, tc := range map[string]struct {
		b   []byte
		err error
	}{
		"plain":      {[]byte("hello"), ErrNotSealed},
		"truncated":  {enc[:len(enc)-1], ErrNotSealed},
		"version":    {badVersion, ErrSealVersion},
		"bad kind":   {SealHeader{Kind: "Dev!"}.Encode(), ErrNotSealed},
		"empty kind": {SealHeader{}.Encode(), ErrNotSealed},
	} {
		if _, _, _, err := ParseSealed(tc.b); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", name, err, tc.err)
		}
	}
}

// stubVerifier returns a fixed measurement or error.
type stubVerifier struct {
	m     Measurement
	err   error
	panic bool
}

func (s stubVerifier) Verify(_, _ []byte, _ [64]byte, _ int64) (Measurement, error) {
	if s.panic {
		panic("boom")
	}
	return s.m, s.err
}

func TestVerifiers(t *testing.T) {
	dev := NewDevMeasurement([32]byte{1})
	vs := Verifiers{
		KindDev: stubVerifier{m: dev},
		KindTDX: stubVerifier{m: dev}, // lies about its kind
		"bad":   stubVerifier{panic: true},
		"err":   stubVerifier{err: ErrReportDataMismatch},
	}
	b, err := vs.Verify("dev", nil, nil, [64]byte{}, 0)
	if err != nil || !bytes.Equal(b, dev.Encode()) {
		t.Fatalf("dev: %x %v", b, err)
	}
	if _, err := vs.Verify("tdx", nil, nil, [64]byte{}, 0); !errors.Is(err, ErrKindMismatch) {
		t.Fatalf("kind mismatch: %v", err)
	}
	if _, err := vs.Verify("sev", nil, nil, [64]byte{}, 0); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := vs.Verify("bad", nil, nil, [64]byte{}, 0); !errors.Is(err, ErrVerifierPanic) {
		t.Fatalf("panic: %v", err)
	}
	if _, err := vs.Verify("err", nil, nil, [64]byte{}, 0); !errors.Is(err, ErrReportDataMismatch) {
		t.Fatalf("error passes through: %v", err)
	}
}

func TestKindValid(t *testing.T) {
	for k, want := range map[Kind]bool{"dev": true, "tdx": true, "sev-snp_2": true, "": false, "TDX": false, "a b": false, Kind(strings.Repeat("a", 33)): false} {
		if k.Valid() != want {
			t.Errorf("%q: %v", k, !want)
		}
	}
}

type binder struct {
	Provider
	got [32]byte
}

func (b *binder) BindGenesis(h [32]byte) error { b.got = h; return nil }

func TestBindGenesis(t *testing.T) {
	b := &binder{}
	if err := BindGenesis(b, [32]byte{5}); err != nil || b.got != [32]byte{5} {
		t.Fatal("binder not called")
	}
	if err := BindGenesis(struct{ Provider }{}, [32]byte{5}); err != nil {
		t.Fatal(err)
	}
}
