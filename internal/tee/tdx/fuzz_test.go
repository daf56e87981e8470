package tdx

import (
	"bytes"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-tdx-guest/abi"
)

// FuzzParseQuote checks that the quote parser never panics, accounts for
// every byte, and never accepts what go-tdx-guest's parser (which the
// verifier runs next, and which panics on some malformed input) would
// reject — so that hostile quotes cannot reach it in a state it mishandles.
func FuzzParseQuote(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{4, 0, 2, 0, 0x81, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		q, err := ParseQuote(b)
		if err != nil {
			if q != nil {
				t.Fatal("quote with error")
			}
			return
		}
		if len(q.Raw)+q.Trailing != len(b) || !bytes.Equal(q.Raw, b[:len(q.Raw)]) {
			t.Fatalf("raw %d + trailing %d != %d", len(q.Raw), q.Trailing, len(b))
		}
		if _, err := abi.QuoteToProto(q.Raw); err != nil {
			t.Fatalf("go-tdx-guest rejects a quote ParseQuote accepts: %v", err)
		}
		_ = q.Body.Measurement()
	})
}

// FuzzDecodeCollateral checks that collateral decoding never panics and is
// canonical.
func FuzzDecodeCollateral(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := DecodeCollateral(b)
		if err != nil {
			return
		}
		if !bytes.Equal(c.Encode(), b) {
			t.Fatalf("not canonical: %x", b)
		}
	})
}

// FuzzVerify drives the whole verifier with hostile quote and collateral
// bytes. The third input is the DER of the root to trust, so that seeds
// from a synthetic world reach every stage (an unparsable root means
// Intel's). Verify must never panic and must be deterministic.
func FuzzVerify(f *testing.F) {
	f.Add([]byte{}, []byte{}, []byte{}, int64(0))
	f.Fuzz(func(t *testing.T, quote, collateral, rootDER []byte, now int64) {
		v := NewVerifier(Policy{})
		if root, err := x509.ParseCertificate(rootDER); err == nil {
			v = newVerifierWithRoot(Policy{AllowSWHardeningNeeded: true}, root)
		}
		var rd [64]byte
		if q, err := ParseQuote(quote); err == nil {
			rd = q.Body.ReportData
		}
		m1, err1 := v.Verify(quote, collateral, rd, now)
		m2, err2 := v.Verify(quote, collateral, rd, now)
		if fmt.Sprint(err1) != fmt.Sprint(err2) || !m1.Equal(m2) {
			t.Fatalf("not deterministic: %v / %v", err1, err2)
		}
	})
}

// TestWriteSeedCorpus regenerates the checked-in seed corpus from a fresh
// synthetic world when CELLA_WRITE_SEEDS=1.
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("CELLA_WRITE_SEEDS") != "1" {
		t.Skip("set CELLA_WRITE_SEEDS=1 to rewrite testdata/fuzz/*/seed-*")
	}
	f := newFixture(t)
	col := f.w.withCRLs(t, f.w.collateral(t, f.info, f.qe), nil, nil).Encode()
	noCRL := f.collateral(t)
	trailing := append(bytes.Clone(f.quote), make([]byte, 70)...)
	debugBody := f.body
	debugBody.TDAttributes[0] |= 1
	debug := f.w.quote(t, debugBody, quoteOpts{})
	v5 := bytes.Clone(f.quote)
	binary.LittleEndian.PutUint16(v5, 5)
	shortChain := bytes.Clone(f.quote[:len(f.quote)-600])

	write := func(fuzz, name string, args ...any) {
		dir := filepath.Join("testdata", "fuzz", fuzz)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		var sb strings.Builder
		sb.WriteString("go test fuzz v1\n")
		for _, a := range args {
			switch a := a.(type) {
			case []byte:
				fmt.Fprintf(&sb, "[]byte(%q)\n", a)
			case int64:
				fmt.Fprintf(&sb, "int64(%d)\n", a)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for name, q := range map[string][]byte{
		"seed-synthetic": f.quote, "seed-trailing": trailing, "seed-version5": v5,
		"seed-short-chain": shortChain, "seed-header-body": f.quote[:signedDataOffset],
	} {
		write("FuzzParseQuote", name, q)
	}
	write("FuzzDecodeCollateral", "seed-crls", col)
	write("FuzzDecodeCollateral", "seed-no-crls", noCRL)
	root := f.w.root.Raw
	now := synthNow.Unix()
	write("FuzzVerify", "seed-valid", f.quote, col, root, now)
	write("FuzzVerify", "seed-valid-no-crls", f.quote, noCRL, root, now)
	write("FuzzVerify", "seed-debug", debug, noCRL, root, now)
	write("FuzzVerify", "seed-expired", f.quote, noCRL, root, now+90*24*3600)
	write("FuzzVerify", "seed-intel-root", trailing, noCRL, []byte{}, now)
}
