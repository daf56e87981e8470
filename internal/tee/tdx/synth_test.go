package tdx

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// A synthetic TDX world for tests that must run without the shared vectors:
// a fake "Intel SGX Root CA" with a PCK CA, a PCK certificate carrying SGX
// extensions, a TCB signing certificate, and builders for quotes, TCB info,
// QE identity and CRLs, all signed with those keys. A verifier made with
// newVerifierWithRoot(policy, w.root) accepts them; the production verifier
// (pinned to Intel's real root) refuses them.

// synthNow is the block time of synthetic tests.
var synthNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

var synthFMSPC = [6]byte{0x90, 0xc0, 0x6f, 0x00, 0x00, 0x00}

// synthQEMRSigner is the quoting enclave's MRSIGNER in synthetic quotes.
var synthQEMRSigner = [32]byte{0xdc, 0x9e, 0x2a, 0x7c}

type synthWorld struct {
	rootKey, pckCAKey, pckKey, tcbKey *ecdsa.PrivateKey
	root, pckCA, pck, tcbSigner       *x509.Certificate
	// platform TCB of the PCK certificate
	cpuSVN [16]byte
	pceSVN uint16
}

func mustKey(t testing.TB) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func intelName(cn string) pkix.Name {
	return pkix.Name{CommonName: cn, Organization: []string{"Intel Corporation"}, Locality: []string{"Santa Clara"}, Province: []string{"CA"}, Country: []string{"US"}}
}

func mustCert(t testing.TB, tmpl, parent *x509.Certificate, pub *ecdsa.PublicKey, signer *ecdsa.PrivateKey) *x509.Certificate {
	t.Helper()
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, pub, signer)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

var serial int64 = 1000

func certTemplate(cn string, ca bool) *x509.Certificate {
	serial++
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(serial),
		Subject:               intelName(cn),
		NotBefore:             time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC),
		NotAfter:              time.Date(2040, 1, 1, 0, 0, 0, 0, time.UTC),
		SignatureAlgorithm:    x509.ECDSAWithSHA256,
		BasicConstraintsValid: true,
		IsCA:                  ca,
		SubjectKeyId:          []byte{byte(serial >> 8), byte(serial), 1, 2, 3, 4, 5, 6},
		CRLDistributionPoints: []string{"https://example.invalid/crl.der"},
	}
	if ca {
		tmpl.KeyUsage = x509.KeyUsageCertSign | x509.KeyUsageCRLSign
	} else {
		tmpl.KeyUsage = x509.KeyUsageDigitalSignature | x509.KeyUsageContentCommitment
	}
	return tmpl
}

// sgxExtension builds the PCK certificate's SGX extension (OID
// 1.2.840.113741.1.13.1): PPID, TCB (16 components, PCESVN, CPUSVN), PCEID,
// FMSPC and SGX type.
func sgxExtension(t testing.TB, cpuSVN [16]byte, pceSVN uint16, fmspc [6]byte) []byte {
	t.Helper()
	sgx := asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1}
	sub := func(ids ...int) asn1.ObjectIdentifier { return append(append(asn1.ObjectIdentifier{}, sgx...), ids...) }
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // PPID
			b.AddASN1ObjectIdentifier(sub(1))
			b.AddASN1OctetString(make([]byte, 16))
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // TCB
			b.AddASN1ObjectIdentifier(sub(2))
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for i := 0; i < 16; i++ {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1ObjectIdentifier(sub(2, i+1))
						b.AddASN1Int64(int64(cpuSVN[i]))
					})
				}
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(sub(2, 17))
					b.AddASN1Int64(int64(pceSVN))
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(sub(2, 18))
					b.AddASN1OctetString(cpuSVN[:])
				})
			})
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // PCEID
			b.AddASN1ObjectIdentifier(sub(3))
			b.AddASN1OctetString([]byte{0, 0})
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // FMSPC
			b.AddASN1ObjectIdentifier(sub(4))
			b.AddASN1OctetString(fmspc[:])
		})
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { // SGX type: standard
			b.AddASN1ObjectIdentifier(sub(5))
			b.AddASN1(cbasn1.ENUM, func(b *cryptobyte.Builder) { b.AddUint8(0) })
		})
	})
	der, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func newSynthWorld(t testing.TB) *synthWorld {
	t.Helper()
	w := &synthWorld{
		rootKey: mustKey(t), pckCAKey: mustKey(t), pckKey: mustKey(t), tcbKey: mustKey(t),
		cpuSVN: [16]byte{4, 4, 2, 2, 3, 1, 0, 5},
		pceSVN: 11,
	}
	rootT := certTemplate(cnRoot, true)
	w.root = mustCert(t, rootT, rootT, &w.rootKey.PublicKey, w.rootKey)
	w.pckCA = mustCert(t, certTemplate("Intel SGX PCK Platform CA", true), w.root, &w.pckCAKey.PublicKey, w.rootKey)
	leafT := certTemplate("Intel SGX PCK Certificate", false)
	leafT.ExtraExtensions = []pkix.Extension{{Id: asn1.ObjectIdentifier{1, 2, 840, 113741, 1, 13, 1}, Value: sgxExtension(t, w.cpuSVN, w.pceSVN, synthFMSPC)}}
	w.pck = mustCert(t, leafT, w.pckCA, &w.pckKey.PublicKey, w.pckCAKey)
	w.tcbSigner = mustCert(t, certTemplate(cnTCBSigning, false), w.root, &w.tcbKey.PublicKey, w.rootKey)
	return w
}

func pemOf(certs ...*x509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// rawSig signs sha256(msg) and returns r ‖ s, 32 bytes each.
func rawSig(t testing.TB, k *ecdsa.PrivateKey, msg []byte) []byte {
	t.Helper()
	h := sha256.Sum256(msg)
	r, s, err := ecdsa.Sign(rand.Reader, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	out := make([]byte, 64)
	r.FillBytes(out[:32])
	s.FillBytes(out[32:])
	return out
}

// synthBody is a non-debug TD report with recognisable measurements.
func synthBody(reportData [64]byte) TDQuoteBody {
	var b TDQuoteBody
	b.TEETCBSVN = [16]byte{3, 0, 5}
	for i := range b.MRSEAM {
		b.MRSEAM[i] = 0x5e
		b.MRTD[i] = 0x7d
		b.RTMR[0][i] = 0xa0
		b.RTMR[1][i] = 0xa1
		b.RTMR[2][i] = 0xa2
		b.RTMR[3][i] = 0xa3
	}
	b.TDAttributes = [8]byte{0, 0, 0, 0x10}
	b.XFAM = [8]byte{0xe7, 0x02, 0x06}
	b.ReportData = reportData
	return b
}

func encodeBody(b *TDQuoteBody) []byte {
	out := make([]byte, 0, bodySize)
	out = append(out, b.TEETCBSVN[:]...)
	out = append(out, b.MRSEAM[:]...)
	out = append(out, b.MRSIGNERSEAM[:]...)
	out = append(out, b.SEAMAttributes[:]...)
	out = append(out, b.TDAttributes[:]...)
	out = append(out, b.XFAM[:]...)
	out = append(out, b.MRTD[:]...)
	out = append(out, b.MRCONFIGID[:]...)
	out = append(out, b.MROWNER[:]...)
	out = append(out, b.MROWNERCONFIG[:]...)
	for i := range b.RTMR {
		out = append(out, b.RTMR[i][:]...)
	}
	return append(out, b.ReportData[:]...)
}

// quoteOpts varies a synthetic quote.
type quoteOpts struct {
	qeISVSVN uint16
	chain    []byte // PEM chain; the world's PCK chain when nil
}

// quote builds and signs a TDX v4 quote over body.
func (w *synthWorld) quote(t testing.TB, body TDQuoteBody, o quoteOpts) []byte {
	t.Helper()
	attKey := mustKey(t)
	var attPub [64]byte
	attKey.PublicKey.X.FillBytes(attPub[:32])
	attKey.PublicKey.Y.FillBytes(attPub[32:])

	hdr := make([]byte, headerSize)
	binary.LittleEndian.PutUint16(hdr[0:], QuoteVersion4)
	binary.LittleEndian.PutUint16(hdr[2:], AttestationKeyECDSAP256)
	binary.LittleEndian.PutUint32(hdr[4:], TEETypeTDX)
	copy(hdr[12:28], IntelQEVendorID[:])
	msg := append(hdr, encodeBody(&body)...)

	authData := []byte("synthetic QE authentication data")
	qe := make([]byte, qeReportSize)
	copy(qe[48:64], []byte{0x15, 0, 0, 0, 0, 0, 0, 0, 0xe7})
	copy(qe[128:160], synthQEMRSigner[:])
	binary.LittleEndian.PutUint16(qe[256:], 2) // ISVPRODID
	isvsvn := o.qeISVSVN
	if isvsvn == 0 {
		isvsvn = 4
	}
	binary.LittleEndian.PutUint16(qe[258:], isvsvn)
	h := sha256.Sum256(append(attPub[:], authData...))
	copy(qe[320:], h[:])

	chain := o.chain
	if chain == nil {
		chain = pemOf(w.pck, w.pckCA, w.root)
	}
	var inner []byte
	inner = append(inner, qe...)
	inner = append(inner, rawSig(t, w.pckKey, qe)...)
	inner = binary.LittleEndian.AppendUint16(inner, uint16(len(authData)))
	inner = append(inner, authData...)
	inner = binary.LittleEndian.AppendUint16(inner, certDataPCKChain)
	inner = binary.LittleEndian.AppendUint32(inner, uint32(len(chain)))
	inner = append(inner, chain...)

	var signed []byte
	signed = append(signed, rawSig(t, attKey, msg)...)
	signed = append(signed, attPub[:]...)
	signed = binary.LittleEndian.AppendUint16(signed, certDataQEReport)
	signed = binary.LittleEndian.AppendUint32(signed, uint32(len(inner)))
	signed = append(signed, inner...)

	out := append([]byte{}, msg...)
	out = binary.LittleEndian.AppendUint32(out, uint32(len(signed)))
	return append(out, signed...)
}

// JSON shapes of TCB info v3 and QE identity v2, for building collateral.
type jTCBComponent struct {
	SVN int `json:"svn"`
}
type jTCB struct {
	SGX    []jTCBComponent `json:"sgxtcbcomponents,omitempty"`
	PCESVN int             `json:"pcesvn,omitempty"`
	TDX    []jTCBComponent `json:"tdxtcbcomponents,omitempty"`
	ISVSVN *int            `json:"isvsvn,omitempty"`
}
type jTCBLevel struct {
	TCB        jTCB     `json:"tcb"`
	TCBDate    string   `json:"tcbDate"`
	TCBStatus  string   `json:"tcbStatus"`
	Advisories []string `json:"advisoryIDs,omitempty"`
}
type jModule struct {
	ID             string      `json:"id,omitempty"`
	MRSigner       string      `json:"mrsigner"`
	Attributes     string      `json:"attributes"`
	AttributesMask string      `json:"attributesMask"`
	TCBLevels      []jTCBLevel `json:"tcbLevels,omitempty"`
}
type jTCBInfo struct {
	ID                  string      `json:"id"`
	Version             int         `json:"version"`
	IssueDate           string      `json:"issueDate"`
	NextUpdate          string      `json:"nextUpdate"`
	FMSPC               string      `json:"fmspc"`
	PCEID               string      `json:"pceId"`
	TCBType             int         `json:"tcbType"`
	EvalNum             int         `json:"tcbEvaluationDataNumber"`
	TDXModule           jModule     `json:"tdxModule"`
	TDXModuleIdentities []jModule   `json:"tdxModuleIdentities"`
	TCBLevels           []jTCBLevel `json:"tcbLevels"`
}
type jQEIdentity struct {
	ID             string      `json:"id"`
	Version        int         `json:"version"`
	IssueDate      string      `json:"issueDate"`
	NextUpdate     string      `json:"nextUpdate"`
	EvalNum        int         `json:"tcbEvaluationDataNumber"`
	MiscSelect     string      `json:"miscselect"`
	MiscSelectMask string      `json:"miscselectMask"`
	Attributes     string      `json:"attributes"`
	AttributesMask string      `json:"attributesMask"`
	MRSigner       string      `json:"mrsigner"`
	ISVProdID      int         `json:"isvprodid"`
	TCBLevels      []jTCBLevel `json:"tcbLevels"`
}

func comps(svns ...int) []jTCBComponent {
	out := make([]jTCBComponent, 16)
	for i, s := range svns {
		out[i].SVN = s
	}
	return out
}

func ptr(i int) *int { return &i }

// platformLevel is a TCB level that the world's platform (CPUSVN 4 4 2 2 3
// 1 0 5, PCESVN 11) and synthBody's TEE_TCB_SVN (3 0 5) reach.
func platformLevel(status string, advisories ...string) jTCBLevel {
	return jTCBLevel{
		TCB:     jTCB{SGX: comps(4, 4, 2, 2, 3, 1, 0, 5), PCESVN: 11, TDX: comps(3, 0, 5)},
		TCBDate: "2029-01-01T00:00:00Z", TCBStatus: status, Advisories: advisories,
	}
}

// newerLevel is a level above the platform (a newer microcode).
func newerLevel() jTCBLevel {
	return jTCBLevel{
		TCB:     jTCB{SGX: comps(9, 9, 2, 2, 3, 1, 0, 5), PCESVN: 13, TDX: comps(3, 0, 5)},
		TCBDate: "2029-06-01T00:00:00Z", TCBStatus: "UpToDate",
	}
}

func defaultTCBInfo() jTCBInfo {
	zero48 := strings.Repeat("00", 48)
	return jTCBInfo{
		ID: "TDX", Version: 3,
		IssueDate: "2029-12-20T00:00:00Z", NextUpdate: "2030-01-20T00:00:00Z",
		FMSPC: strings.ToUpper(hex.EncodeToString(synthFMSPC[:])), PCEID: "0000", EvalNum: 17,
		TDXModule: jModule{MRSigner: zero48, Attributes: "0000000000000000", AttributesMask: "FFFFFFFFFFFFFFFF"},
		TDXModuleIdentities: []jModule{{
			ID: "TDX_01", MRSigner: zero48, Attributes: "0000000000000000", AttributesMask: "FFFFFFFFFFFFFFFF",
			TCBLevels: []jTCBLevel{
				{TCB: jTCB{ISVSVN: ptr(4)}, TCBDate: "2029-01-01T00:00:00Z", TCBStatus: "UpToDate"},
				{TCB: jTCB{ISVSVN: ptr(2)}, TCBDate: "2028-01-01T00:00:00Z", TCBStatus: "OutOfDate"},
			},
		}},
		TCBLevels: []jTCBLevel{platformLevel("UpToDate")},
	}
}

func defaultQEIdentity() jQEIdentity {
	return jQEIdentity{
		ID: "TD_QE", Version: 2,
		IssueDate: "2029-12-20T00:00:00Z", NextUpdate: "2030-01-20T00:00:00Z", EvalNum: 17,
		MiscSelect: "00000000", MiscSelectMask: "FFFFFFFF",
		Attributes: "11000000000000000000000000000000", AttributesMask: "FBFFFFFFFFFFFFFF0000000000000000",
		MRSigner: strings.ToUpper(hex.EncodeToString(synthQEMRSigner[:])), ISVProdID: 2,
		TCBLevels: []jTCBLevel{
			{TCB: jTCB{ISVSVN: ptr(4)}, TCBDate: "2029-01-01T00:00:00Z", TCBStatus: "UpToDate"},
			{TCB: jTCB{ISVSVN: ptr(0)}, TCBDate: "2020-01-01T00:00:00Z", TCBStatus: "OutOfDate"},
		},
	}
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// collateral signs info and qe with the world's TCB signing key.
func (w *synthWorld) collateral(t testing.TB, info jTCBInfo, qe jQEIdentity) *Collateral {
	t.Helper()
	ib, qb := mustJSON(t, info), mustJSON(t, qe)
	chain := pemOf(w.tcbSigner, w.root)
	return &Collateral{
		TCBInfo: ib, TCBInfoSignature: rawSig(t, w.tcbKey, ib), TCBInfoIssuerChain: chain,
		QEIdentity: qb, QEIdentitySignature: rawSig(t, w.tcbKey, qb), QEIdentityIssuerChain: chain,
	}
}

// crl returns a DER CRL by issuer, valid around synthNow, revoking serials.
func crl(t testing.TB, issuer *x509.Certificate, key *ecdsa.PrivateKey, this, next time.Time, revoked ...*big.Int) []byte {
	t.Helper()
	var entries []x509.RevocationListEntry
	for _, s := range revoked {
		entries = append(entries, x509.RevocationListEntry{SerialNumber: s, RevocationTime: time.Date(2029, 6, 1, 0, 0, 0, 0, time.UTC)})
	}
	der, err := x509.CreateRevocationList(rand.Reader, &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: this, NextUpdate: next, RevokedCertificateEntries: entries,
	}, issuer, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// withCRLs adds current CRLs (revoking the given serials on the root's and
// the PCK CA's lists).
func (w *synthWorld) withCRLs(t testing.TB, c *Collateral, rootRevoked, pckRevoked []*big.Int) *Collateral {
	t.Helper()
	this, next := synthNow.Add(-24*time.Hour), synthNow.Add(30*24*time.Hour)
	c.RootCACRL = crl(t, w.root, w.rootKey, this, next, rootRevoked...)
	c.PCKCRL = crl(t, w.pckCA, w.pckCAKey, this, next, pckRevoked...)
	return c
}
