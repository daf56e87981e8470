package tdx

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// readOasis reads one of oasis-core's PCS vectors, or skips the test.
func readOasis(t *testing.T, name string) []byte {
	t.Helper()
	return readVector(t, filepath.Join(vectorDir(t), "oasis-core"), name)
}

// fakePCS serves a TCB info and QE identity (with issuer chain headers)
// and, when given, CRLs; everything else is 404.
type fakePCS struct {
	tcbInfo, qeIdentity, chain []byte
	pckCRL, rootCRL            []byte
	gotFMSPC, gotCA            string
}

func (f *fakePCS) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch r.URL.Path {
	case "/tdx/certification/v4/tcb":
		f.gotFMSPC = r.URL.Query().Get("fmspc")
		w.Header().Set("TCB-Info-Issuer-Chain", url.QueryEscape(string(f.chain)))
		_, _ = w.Write(f.tcbInfo)
	case "/tdx/certification/v4/qe/identity":
		w.Header().Set("SGX-Enclave-Identity-Issuer-Chain", url.QueryEscape(string(f.chain)))
		_, _ = w.Write(f.qeIdentity)
	case "/sgx/certification/v4/pckcrl":
		f.gotCA = r.URL.Query().Get("ca")
		if f.pckCRL == nil || r.URL.Query().Get("encoding") != "der" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("SGX-PCK-CRL-Issuer-Chain", url.QueryEscape(string(f.chain)))
		_, _ = w.Write(f.pckCRL)
	case "/rootcrl":
		if f.rootCRL == nil {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(hex.EncodeToString(f.rootCRL))) // PCCS's hex encoding
	default:
		http.NotFound(w, r)
	}
}

// TestPCSOasisTDX fetches the oasis TDX quote's collateral from a fake PCS
// serving oasis-core's stored PCS responses and verifies the quote with it.
// The vectors have no CRLs, so the collateral goes without them (the
// default policy accepts that).
func TestPCSOasisTDX(t *testing.T) {
	quote := readOasis(t, "quote_v4_tdx_ecdsa_p256.bin")
	f := &fakePCS{
		tcbInfo:    readOasis(t, "tcb_info_v3_tdx_fmspc_C0806F000000.json"),
		qeIdentity: readOasis(t, "qe_identity_v2_tdx2.json"),
		// The same Intel SGX TCB Signing chain signs SGX and TDX collateral.
		chain: readOasis(t, "tcb_info_v3_fmspc_00606A000000_certs.pem"),
	}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := NewPCSClient(srv.URL+"/", srv.Client())
	c.RootCRLURL = srv.URL + "/rootcrl"
	var warned bool
	c.Warn = func(string, ...any) { warned = true }

	col, err := c.Collateral(context.Background(), quote)
	if err != nil {
		t.Fatal(err)
	}
	if f.gotFMSPC != "c0806f000000" || f.gotCA == "" {
		t.Fatalf("asked for fmspc %q ca %q", f.gotFMSPC, f.gotCA)
	}
	if !warned {
		t.Error("no warning about the missing CRLs")
	}
	dec, err := DecodeCollateral(col)
	if err != nil {
		t.Fatal(err)
	}
	if len(dec.RootCACRL) != 0 || len(dec.PCKCRL) != 0 {
		t.Fatal("CRLs in the collateral although the PCS has none")
	}
	q, err := ParseQuote(quote)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewVerifier(Policy{}).Verify(quote, col, q.Body.ReportData, oasisTime); err != nil {
		t.Fatalf("verify with fetched collateral: %v", err)
	}
}

// testCRL returns a DER CRL signed by a throwaway CA.
func testCRL(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageCRLSign | x509.KeyUsageCertSign, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(time.Hour),
	}, ca, k)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}

func testChainPEM(t *testing.T) []byte {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "Intel SGX TCB Signing"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		CRLDistributionPoints: []string{"https://example.invalid/root.der"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

const (
	tcbJSON = `{"tcbInfo":{"id":"TDX","version":3},"signature":"` + sig64 + `"}`
	qeJSON  = `{"enclaveIdentity":{"id":"TD_QE","version":2},"signature":"` + sig64 + `"}`
	sig64   = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

var testPlatform = quotePlatform{fmspc: "c0806f000000", ca: "platform"}

// TestPCSCollateralWithCRLs checks the assembly with both CRLs (PCK CRL as
// DER, root CA CRL as hex) from a fake PCS that needs no shared data.
func TestPCSCollateralWithCRLs(t *testing.T) {
	f := &fakePCS{tcbInfo: []byte(tcbJSON), qeIdentity: []byte(qeJSON), chain: testChainPEM(t),
		pckCRL: testCRL(t), rootCRL: testCRL(t)}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := NewPCSClient(srv.URL, srv.Client())
	c.RootCRLURL = srv.URL + "/rootcrl"
	col, err := c.collateralFor(context.Background(), testPlatform)
	if err != nil {
		t.Fatal(err)
	}
	dec, err := DecodeCollateral(col)
	if err != nil {
		t.Fatal(err)
	}
	if string(dec.PCKCRL) != string(f.pckCRL) || string(dec.RootCACRL) != string(f.rootCRL) {
		t.Fatal("CRLs not carried over")
	}
	if string(dec.TCBInfo) != `{"id":"TDX","version":3}` || len(dec.TCBInfoSignature) != 64 ||
		string(dec.QEIdentityIssuerChain) != string(f.chain) || f.gotFMSPC != "c0806f000000" || f.gotCA != "platform" {
		t.Fatalf("collateral %+v, asked fmspc %q ca %q", dec, f.gotFMSPC, f.gotCA)
	}

	// Only one CRL available: both are left out.
	f.rootCRL = nil
	col, err = c.collateralFor(context.Background(), testPlatform)
	if err != nil {
		t.Fatal(err)
	}
	if dec, _ := DecodeCollateral(col); len(dec.PCKCRL) != 0 || len(dec.RootCACRL) != 0 {
		t.Fatal("a lone CRL was kept")
	}
}

func TestPCSHTTPErrors(t *testing.T) {
	chain := url.QueryEscape(string(testChainPEM(t)))
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
		want    string
	}{
		{"not found", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Error-Message", "no such FMSPC")
			http.Error(w, "nope", http.StatusNotFound)
		}, "404 Not Found: no such FMSPC"},
		{"oversize body", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("TCB-Info-Issuer-Chain", chain)
			_, _ = w.Write([]byte(strings.Repeat(" ", maxPCSBodySize+1)))
		}, "body larger than"},
		{"bad JSON", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("TCB-Info-Issuer-Chain", chain)
			w.Header().Set("SGX-Enclave-Identity-Issuer-Chain", chain)
			_, _ = w.Write([]byte(`{"tcbInfo":`))
		}, "malformed collateral"},
		{"no issuer chain", func(w http.ResponseWriter, r *http.Request) {
			_, _ = w.Write([]byte(tcbJSON))
		}, "lacks the Tcb-Info-Issuer-Chain header"},
		{"issuer chain not PEM", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("TCB-Info-Issuer-Chain", "garbage")
			_, _ = w.Write([]byte(tcbJSON))
		}, "holds no PEM certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.handler)
			defer srv.Close()
			_, err := NewPCSClient(srv.URL, srv.Client()).collateralFor(context.Background(), testPlatform)
			if err == nil || !errors.Is(err, ErrPCS) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want ErrPCS containing %q", err, tc.want)
			}
		})
	}
	// Unreachable server.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	if _, err := NewPCSClient(srv.URL, nil).collateralFor(context.Background(), testPlatform); !errors.Is(err, ErrPCS) {
		t.Fatalf("unreachable PCS: %v", err)
	}
}

// buildQuote assembles a structurally valid TDX v4 quote carrying chain as
// its PCK certificate chain (signatures are zero).
func buildQuote(chain []byte) []byte {
	le16 := func(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }
	le32 := func(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }
	q := le16(nil, QuoteVersion4)
	q = le16(q, AttestationKeyECDSAP256)
	q = le32(q, TEETypeTDX)
	q = append(q, make([]byte, 4)...)
	q = append(q, IntelQEVendorID[:]...)
	q = append(q, make([]byte, 20+584)...)
	var inner []byte
	inner = append(inner, make([]byte, 384+64)...) // QE report, signature
	inner = le16(inner, 0)                         // no QE auth data
	inner = le16(inner, 5)
	inner = le32(inner, uint32(len(chain)))
	inner = append(inner, chain...)
	var signed []byte
	signed = append(signed, make([]byte, 128)...) // signature, attestation key
	signed = le16(signed, 6)
	signed = le32(signed, uint32(len(inner)))
	signed = append(signed, inner...)
	q = le32(q, uint32(len(signed)))
	return append(q, signed...)
}

func TestPlatformOfQuoteErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		quote []byte
		want  string
	}{
		{"truncated", []byte{4, 0}, "malformed quote"},
		{"chain not PEM", buildQuote([]byte("no pem here")), "does not start with a PEM certificate"},
		{"wrong issuer", buildQuote(testChainPEM(t)), "not an Intel PCK CA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := platformOfQuote(tc.quote)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
			// collateral refuses it before any request.
			c := NewPCSClient("http://127.0.0.1:1", nil)
			if _, err := c.Collateral(context.Background(), tc.quote); !errors.Is(err, ErrPCS) {
				t.Fatalf("collateral: %v", err)
			}
		})
	}
}

func TestPlatformOfOasisQuote(t *testing.T) {
	p, err := platformOfQuote(readOasis(t, "quote_v4_tdx_ecdsa_p256.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if p.fmspc != "c0806f000000" || (p.ca != "platform" && p.ca != "processor") {
		t.Fatalf("%+v", p)
	}
}

func TestCRLDERForms(t *testing.T) {
	der := testCRL(t)
	for _, in := range [][]byte{der, []byte(hex.EncodeToString(der)), pem.EncodeToMemory(&pem.Block{Type: "X509 CRL", Bytes: der})} {
		got, err := crlDER(in)
		if err != nil || string(got) != string(der) {
			t.Fatalf("crlDER: %v", err)
		}
	}
	if _, err := crlDER([]byte("zz")); err == nil {
		t.Fatal("garbage CRL accepted")
	}
}
