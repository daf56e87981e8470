package dev

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tee"
)

// FuzzDevQuote checks that the dev quote decoder and verifier never panic,
// that a decoded quote is canonical (re-encodes to the input), and that
// only quotes signed by the dev root verify.
func FuzzDevQuote(f *testing.F) {
	root := RootPair()
	q := Quote{Version: QuoteVersion, Kind: tee.KindDev, Measurement: MeasurementOf([]byte("fuzz"))}
	q.Signature = root.Sign(q.SigningPayload())
	f.Add(scale.Encode(&q))
	f.Add([]byte{1, 12, 'd', 'e', 'v', 0})
	v := NewVerifier(root.Public())
	f.Fuzz(func(t *testing.T, b []byte) {
		dq, err := DecodeQuote(b)
		if err != nil {
			if dq != nil {
				t.Fatal("quote with error")
			}
			return
		}
		if !bytes.Equal(scale.Encode(dq), b) {
			t.Fatalf("not canonical: %x", b)
		}
		m, err := v.Verify(b, nil, dq.ReportData, 0)
		if err == nil && (!m.Equal(dq.Measurement) || m.Kind != tee.KindDev) {
			t.Fatalf("verified measurement %v, quote says %v", m, dq.Measurement)
		}
	})
}

// TestWriteSeedCorpus regenerates the checked-in seed corpus when
// CELLA_WRITE_SEEDS=1.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("CELLA_WRITE_SEEDS") != "1" {
		t.Skip("set CELLA_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzDevQuote/seed-*")
	}
	p, err := New(Config{BuildID: []byte("seed build"), SealDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	var rd [64]byte
	copy(rd[:], "seed report data")
	good, err := p.Attest(rd)
	if err != nil {
		t.Fatal(err)
	}
	badSig := bytes.Clone(good)
	badSig[len(badSig)-1] ^= 0x40
	q := Quote{Version: QuoteVersion, Kind: tee.KindTDX, Measurement: tee.NewTDXMeasurement(tee.TDXMeasurement{})}
	q.Signature = RootPair().Sign(q.SigningPayload())
	dir := filepath.Join("testdata", "fuzz", "FuzzDevQuote")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{
		"seed-valid":     good,
		"seed-bad-sig":   badSig,
		"seed-tdx-kind":  scale.Encode(&q),
		"seed-truncated": good[:40],
	} {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", b)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
