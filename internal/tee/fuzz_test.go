package tee

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// FuzzDecodeMeasurement checks that decoding never panics and that what
// decodes is canonical: re-encoding gives the input back, so one
// measurement has exactly one encoding and one allow-list hash.
func FuzzDecodeMeasurement(f *testing.F) {
	f.Add([]byte{})
	f.Add(NewDevMeasurement([32]byte{1}).Encode())
	f.Add(tdxSample().Encode())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeMeasurement(b)
		if err != nil {
			if m != (Measurement{}) {
				t.Fatal("measurement with error")
			}
			return
		}
		if !m.Valid() || !bytes.Equal(m.Encode(), b) {
			t.Fatalf("not canonical: %x -> %x", b, m.Encode())
		}
	})
}

// FuzzParseSealed checks that header parsing never panics and splits the
// blob exactly.
func FuzzParseSealed(f *testing.F) {
	f.Add([]byte("cella/sealed"))
	f.Add(append(SealHeader{Kind: KindDev, Dev: true, GenesisHash: [32]byte{1}}.Encode(), 1, 2, 3))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, hb, body, err := ParseSealed(b)
		if err != nil {
			return
		}
		if !bytes.Equal(append(bytes.Clone(hb), body...), b) || !bytes.Equal(h.Encode(), hb) {
			t.Fatalf("header %+v does not re-encode to %x", h, hb)
		}
		_ = h.Check(SealHeader{Kind: KindTDX})
	})
}

// TestWriteSeedCorpus regenerates the checked-in seed corpus when
// CELLA_WRITE_SEEDS=1.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("CELLA_WRITE_SEEDS") != "1" {
		t.Skip("set CELLA_WRITE_SEEDS=1 to rewrite testdata/fuzz/*/seed-*")
	}
	dbg := tdxSample()
	dbg.TDX.Debug = true
	write := func(fuzz, name string, b []byte) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("FuzzDecodeMeasurement", "seed-dev", NewDevMeasurement([32]byte{0xde, 0xad}).Encode())
	write("FuzzDecodeMeasurement", "seed-tdx", tdxSample().Encode())
	write("FuzzDecodeMeasurement", "seed-tdx-debug", dbg.Encode())
	write("FuzzDecodeMeasurement", "seed-bad-tag", append([]byte{7}, make([]byte, 32)...))
	write("FuzzParseSealed", "seed-dev", append(SealHeader{Kind: KindDev, Dev: true, GenesisHash: [32]byte{0xaa}}.Encode(), make([]byte, 40)...))
	write("FuzzParseSealed", "seed-tdx", SealHeader{Kind: KindTDX, GenesisHash: [32]byte{0xbb}}.Encode())
	write("FuzzParseSealed", "seed-version", []byte("cella/sealed\x02\x0cdev\x01"))
}
