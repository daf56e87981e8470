package tdx

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/cella-network/cella/internal/tee"
)

// Tests against real quotes and Intel collateral from public repositories,
// kept beside the project in ../shared/testdata/attestation (never copied
// into it; see its README). They skip when that folder is absent.

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// vectorDir returns the shared attestation folder, or skips the test.
func vectorDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
	v := filepath.Join(dir, "..", "shared", "testdata", "attestation")
	if _, err := os.Stat(v); err != nil {
		t.Skipf("attestation vectors not present (%v)", err)
	}
	return v
}

func readVector(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Skipf("vector %s: %v", name, err)
	}
	return b
}

// Unix times at which the vectors' collateral is valid.
const (
	oasisTime         = 1725263032 // 2024-09-02
	oasisOutOfDateNow = 1687091776 // 2023-06-18
	qvlTime           = 1750500000 // 2025-06-21
)

// oasisCollateral builds collateral from oasis-core's PCS responses. Their
// TCB info issuer chain is the one oasis stores beside its SGX vector (the
// same Intel SGX TCB Signing certificate signs SGX and TDX collateral).
func oasisCollateral(t *testing.T, dir, tcbInfo, qeIdentity string) []byte {
	t.Helper()
	chain := readVector(t, dir, "oasis-core/tcb_info_v3_fmspc_00606A000000_certs.pem")
	c, err := CollateralFromPCS(readVector(t, dir, tcbInfo), chain, readVector(t, dir, qeIdentity), chain, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.Encode()
}

func reportDataOf(t *testing.T, quote []byte) [64]byte {
	t.Helper()
	q, err := ParseQuote(quote)
	if err != nil {
		t.Fatal(err)
	}
	return q.Body.ReportData
}

func TestOasisTDXQuote(t *testing.T) {
	dir := vectorDir(t)
	quote := readVector(t, dir, "oasis-core/quote_v4_tdx_ecdsa_p256.bin")
	col := oasisCollateral(t, dir, "oasis-core/tcb_info_v3_tdx_fmspc_C0806F000000.json", "oasis-core/qe_identity_v2_tdx2.json")
	rd := reportDataOf(t, quote)
	v := NewVerifier(Policy{})

	m, err := v.Verify(quote, col, rd, oasisTime)
	if err != nil {
		t.Fatal(err)
	}
	if m.Kind != tee.KindTDX || m.TDX.Debug ||
		hex.EncodeToString(m.TDX.MRTD[:]) != "91eb2b44d141d4ece09f0c75c2c53d247a3c68edd7fafe8a3520c942a604a407de03ae6dc5f87f27428b2538873118b7" ||
		hex.EncodeToString(m.TDX.RTMR0[:]) != "1a85265426a60c11b093382a7a2a0a5a18e242c0167891fd12bfa7badfa4c700bdc16fc0637b52f94dd76b063adb1072" ||
		hex.EncodeToString(m.TDX.MRSEAM[:]) != "1cc6a17ab799e9a693fac7536be61c12ee1e0fabada82d0c999e08ccee2aa86de77b0870f558c570e7ffe55d6d47fa04" {
		t.Fatalf("measurement %v", m)
	}
	r, err := v.Evaluate(quote, col, oasisTime)
	if err != nil {
		t.Fatal(err)
	}
	if r.TCBStatus != TCBUpToDate || r.ModuleStatus != TCBUpToDate || r.FMSPC != "C0806F000000" {
		t.Fatalf("report %+v", r)
	}

	t.Run("other report data", func(t *testing.T) {
		other := rd
		other[0] ^= 1
		if _, err := v.Verify(quote, col, other, oasisTime); !errors.Is(err, tee.ErrReportDataMismatch) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("flipped report data byte", func(t *testing.T) {
		q := flip(quote, signedOffset-10)
		if _, err := v.Verify(q, col, reportDataOf(t, q), oasisTime); !errors.Is(err, ErrQuoteSignature) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("flipped signature byte", func(t *testing.T) {
		if _, err := v.Verify(flip(quote, signedDataOffset+40), col, rd, oasisTime); !errors.Is(err, ErrQuoteSignature) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("flipped PCK certificate byte", func(t *testing.T) {
		q, _ := ParseQuote(quote)
		off := len(q.Raw) - len(q.PCKCertChain) + 200 // inside the leaf's base64
		if _, err := v.Verify(flip(quote, off), col, rd, oasisTime); !errors.Is(err, ErrQuoteCertification) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("collateral expired a year later", func(t *testing.T) {
		if _, err := v.Verify(quote, col, rd, oasisTime+365*24*3600); !errors.Is(err, ErrCollateralExpired) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("collateral of another platform", func(t *testing.T) {
		other := oasisCollateral(t, dir, "oasis-core/tcb_info_v3_tdx_fmspc_50806F000000.json", "oasis-core/qe_identity_v2_tdx2.json")
		if _, err := v.Verify(quote, other, rd, oasisTime); err == nil {
			t.Fatal("accepted collateral of another FMSPC")
		}
	})
	t.Run("policy requires CRLs", func(t *testing.T) {
		if _, err := NewVerifier(Policy{RequireCRLs: true}).Verify(quote, col, rd, oasisTime); !errors.Is(err, ErrCRLMissing) {
			t.Fatalf("got %v", err)
		}
	})
}

func TestOasisTDXQuoteOutOfDate(t *testing.T) {
	dir := vectorDir(t)
	quote := readVector(t, dir, "oasis-core/quote_v4_tdx_ecdsa_p256_out_of_date.bin")
	col := oasisCollateral(t, dir, "oasis-core/tcb_info_v3_tdx_fmspc_50806F000000.json", "oasis-core/qe_identity_v2_tdx.json")
	rd := reportDataOf(t, quote)
	permissive := Policy{AllowSWHardeningNeeded: true, AllowConfigurationNeeded: true}
	_, err := NewVerifier(permissive).Verify(quote, col, rd, oasisOutOfDateNow)
	if !errors.Is(err, ErrTCBOutOfDate) {
		t.Fatalf("got %v, want ErrTCBOutOfDate", err)
	}
	var se *TCBStatusError
	if !errors.As(err, &se) || se.Status != TCBOutOfDate {
		t.Fatalf("status error %#v", err)
	}
	// Everything but the status is genuine.
	r, err := NewVerifier(Policy{}).Evaluate(quote, col, oasisOutOfDateNow)
	if err != nil || r.TCBStatus != TCBOutOfDate || r.FMSPC != "50806F000000" {
		t.Fatalf("evaluate: %+v %v", r, err)
	}
}

func TestOasisTDXQuoteTrailing(t *testing.T) {
	dir := vectorDir(t)
	q, err := ParseQuote(readVector(t, dir, "oasis-core/quote_v4_tdx_ecdsa_p256_trailing.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if q.Trailing != 70 || len(q.Raw) != 4936 {
		t.Fatalf("trailing %d, raw %d", q.Trailing, len(q.Raw))
	}
}

// TestDCAPQVLTDXQuote verifies Phala dcap-qvl's sample TDX quote (70
// trailing bytes) with its QuoteCollateralV3 JSON, CRLs included, whose
// TCB info writes the FMSPC in upper case (go-tdx-guest v0.3.1 refuses it).
func TestDCAPQVLTDXQuote(t *testing.T) {
	dir := vectorDir(t)
	quote := readVector(t, dir, "dcap-qvl/tdx_quote")
	c, err := CollateralFromQVLJSON(readVector(t, dir, "dcap-qvl/tdx_quote_collateral.json"))
	if err != nil {
		t.Fatal(err)
	}
	col := c.Encode()
	v := NewVerifier(Policy{RequireCRLs: true})
	r, err := v.Evaluate(quote, col, qvlTime)
	if err != nil {
		t.Fatal(err)
	}
	if r.TCBStatus != TCBUpToDate || !r.CRLsChecked || r.FMSPC != "B0C06F000000" {
		t.Fatalf("report %+v", r)
	}
	if _, err := v.Verify(quote, col, reportDataOf(t, quote), qvlTime); err != nil {
		t.Fatal(err)
	}
	// A month after the collateral's next update.
	if _, err := v.Verify(quote, col, reportDataOf(t, quote), qvlTime+60*24*3600); !errors.Is(err, ErrCollateralExpired) {
		t.Fatalf("late: %v", err)
	}
}
