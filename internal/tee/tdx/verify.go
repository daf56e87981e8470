package tdx

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	_ "embed"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/google/go-tdx-guest/abi"
	"github.com/google/go-tdx-guest/pcs"
	gverify "github.com/google/go-tdx-guest/verify"

	"github.com/cella-network/cella/internal/tee"
)

// intelRootPEM is Intel's SGX Root CA certificate (also TDX's), the only
// trust anchor of TDX verification. SHA-256 fingerprint
// 44A0196B2B99F889B8E149E95B807A350E7424964399E885A7CBB8CCFAB674D3.
//
//go:embed intel_sgx_root_ca.pem
var intelRootPEM []byte

// Certificate subject names Intel uses.
const (
	cnRoot       = "Intel SGX Root CA"
	cnTCBSigning = "Intel SGX TCB Signing"
)

// Errors of TDX verification, in the order the checks run. TCB evaluation
// errors are in tcb.go; parsing errors in quote.go and collateral.go.
var (
	// ErrQuoteSignature means the attestation key's signature over the
	// quote's header and TD report does not verify: the quote was altered
	// (its report data, measurements or signature).
	ErrQuoteSignature = errors.New("tdx: quote signature does not verify")
	// ErrQuoteCertification means the quote's certification does not
	// verify: the PCK certificate chain (to Intel's root, valid at the block
	// time), the quoting enclave's report signature by the PCK key, or the
	// binding of the attestation key into that report.
	ErrQuoteCertification = errors.New("tdx: quote certification (PCK chain, QE report) does not verify")
	// ErrCollateralSignature means a piece of collateral (TCB info, QE
	// identity, CRL) is not signed by Intel: bad signature, or an issuer
	// chain that does not lead to the Intel root at the block time.
	ErrCollateralSignature = errors.New("tdx: collateral not signed by Intel")
	// ErrCollateralExpired means a piece of collateral is not valid at the
	// block time (after its next update, or before its issue date).
	ErrCollateralExpired = errors.New("tdx: collateral not valid at block time")
	// ErrCollateralTooOld means the collateral's TCB evaluation data number
	// is below the policy's minimum.
	ErrCollateralTooOld = errors.New("tdx: collateral older than the policy's TCB evaluation data number")
	// ErrCRLMissing means the policy requires CRLs and the collateral has none.
	ErrCRLMissing = errors.New("tdx: collateral lacks the CRLs the policy requires")
	// ErrRevoked means a certificate on the quote's or the collateral's
	// chain is on a CRL.
	ErrRevoked = errors.New("tdx: certificate revoked")
	// ErrFMSPCMismatch means the TCB info is for another platform model
	// (FMSPC) or PCE than the quote's PCK certificate.
	ErrFMSPCMismatch = errors.New("tdx: TCB info is for another platform (FMSPC/PCEID)")
	// ErrDebugTD means the quote comes from a TD in debug mode.
	ErrDebugTD = errors.New("tdx: debug TD refused")
)

// Report is what a successful evaluation of a quote establishes.
type Report struct {
	// Body is the TD report the quote signs.
	Body TDQuoteBody
	// Measurement is the typed measurement of the TD.
	Measurement tee.Measurement
	// TCBStatus is the converged status of platform, TDX module and quoting
	// enclave; PlatformStatus, ModuleStatus (empty for TDX module version 0)
	// and QEStatus are the parts.
	TCBStatus      TCBStatus
	PlatformStatus TCBStatus
	ModuleStatus   TCBStatus
	QEStatus       TCBStatus
	// AdvisoryIDs are the Intel security advisories of the matched TCB
	// levels, sorted.
	AdvisoryIDs []string
	// FMSPC is the platform model, upper-case hex.
	FMSPC string
	// TCBEvaluationDataNumber is the lower of the TCB info's and QE identity's.
	TCBEvaluationDataNumber uint32
	// CRLsChecked reports whether revocation was checked.
	CRLsChecked bool
}

// Verifier verifies TDX v4 quotes against Intel collateral at a given time.
// It is pure (no I/O, no clock), deterministic and safe for concurrent use.
type Verifier struct {
	policy Policy
	root   *x509.Certificate
	roots  *x509.CertPool
}

var _ tee.Verifier = (*Verifier)(nil)

// NewVerifier returns a verifier that trusts only Intel's SGX Root CA and
// applies policy.
func NewVerifier(policy Policy) *Verifier {
	blk, _ := pem.Decode(intelRootPEM)
	if blk == nil {
		panic("tdx: embedded Intel root is not PEM")
	}
	root, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		panic("tdx: embedded Intel root: " + err.Error())
	}
	return newVerifierWithRoot(policy, root)
}

// newVerifierWithRoot trusts another root: tests use it with synthetic
// chains. Production code has no way to reach it.
func newVerifierWithRoot(policy Policy, root *x509.Certificate) *Verifier {
	pool := x509.NewCertPool()
	pool.AddCert(root)
	return &Verifier{policy: policy, root: root, roots: pool}
}

// Policy returns the verifier's policy.
func (v *Verifier) Policy() Policy { return v.policy }

// Verify verifies quote and collateral (an encoded Collateral) at nowUnix
// (the block time, Unix seconds), applies the TCB policy, refuses debug TDs,
// checks that the quote binds reportData, and returns the TD's measurement.
func (v *Verifier) Verify(quote, collateral []byte, reportData [64]byte, nowUnix int64) (tee.Measurement, error) {
	r, err := v.Evaluate(quote, collateral, nowUnix)
	if err != nil {
		return tee.Measurement{}, err
	}
	if err := v.policy.accept(r.TCBStatus, r.AdvisoryIDs); err != nil {
		return tee.Measurement{}, err
	}
	if r.Body.Debug() {
		return tee.Measurement{}, fmt.Errorf("%w: TD_ATTRIBUTES %x", ErrDebugTD, r.Body.TDAttributes)
	}
	if r.Body.ReportData != reportData {
		return tee.Measurement{}, fmt.Errorf("tdx: %w", tee.ErrReportDataMismatch)
	}
	return r.Measurement, nil
}

// Evaluate verifies everything that makes a quote genuine and current —
// structure, signatures, the PCK chain, the collateral's signatures and
// validity at nowUnix, CRLs when given or required, the TCB info and QE
// identity matching the quote, the policy's minimum TCB evaluation data
// number — and evaluates the TCB status. It does not apply the status
// policy, the debug check or the report data check: Verify does.
func (v *Verifier) Evaluate(quote, collateral []byte, nowUnix int64) (r *Report, err error) {
	defer func() { // defence in depth: third-party parsers on hostile input
		if p := recover(); p != nil {
			r, err = nil, fmt.Errorf("%w: internal error: %v", ErrMalformedQuote, p)
		}
	}()
	now := time.Unix(nowUnix, 0).UTC()

	q, err := ParseQuote(quote)
	if err != nil {
		return nil, err
	}
	if q.QEVendorID != IntelQEVendorID {
		return nil, fmt.Errorf("%w: QE vendor id %x is not Intel's", ErrUnsupportedQuote, q.QEVendorID)
	}
	c, err := DecodeCollateral(collateral)
	if err != nil {
		return nil, err
	}

	// 1. The quote's own signatures and PCK chain, by go-tdx-guest.
	leaf, pckCA, err := v.verifyQuoteSignatures(q, now)
	if err != nil {
		return nil, err
	}
	exts, err := pcs.PckCertificateExtensions(leaf)
	if err != nil {
		return nil, fmt.Errorf("%w: PCK certificate extensions: %v", ErrQuoteCertification, err)
	}
	pck := pckTCB{fmspc: exts.FMSPC, pceID: exts.PCEID, pceSVN: exts.TCB.PCESvn}
	if len(exts.TCB.CPUSvnComponents) != 16 {
		return nil, fmt.Errorf("%w: PCK certificate has %d CPUSVN components", ErrQuoteCertification, len(exts.TCB.CPUSvnComponents))
	}
	copy(pck.cpuSVN[:], exts.TCB.CPUSvnComponents)

	// 2. The collateral's signatures and validity.
	tcbSigner, err := v.verifySigned(c.TCBInfo, c.TCBInfoSignature, c.TCBInfoIssuerChain, now, "TCB info")
	if err != nil {
		return nil, err
	}
	qeSigner, err := v.verifySigned(c.QEIdentity, c.QEIdentitySignature, c.QEIdentityIssuerChain, now, "QE identity")
	if err != nil {
		return nil, err
	}
	var info pcs.TcbInfo
	if err := json.Unmarshal(c.TCBInfo, &info); err != nil {
		return nil, fmt.Errorf("%w: TCB info: %v", ErrMalformedCollateral, err)
	}
	var qeID pcs.EnclaveIdentity
	if err := json.Unmarshal(c.QEIdentity, &qeID); err != nil {
		return nil, fmt.Errorf("%w: QE identity: %v", ErrMalformedCollateral, err)
	}
	if info.ID != "TDX" || info.Version != 3 {
		return nil, fmt.Errorf("%w: TCB info %q version %d (want TDX version 3)", ErrMalformedCollateral, info.ID, info.Version)
	}
	if qeID.ID != "TD_QE" || qeID.Version != 2 {
		return nil, fmt.Errorf("%w: QE identity %q version %d (want TD_QE version 2)", ErrMalformedCollateral, qeID.ID, qeID.Version)
	}
	if err := checkWindow(info.IssueDate, info.NextUpdate, now, "TCB info"); err != nil {
		return nil, err
	}
	if err := checkWindow(qeID.IssueDate, qeID.NextUpdate, now, "QE identity"); err != nil {
		return nil, err
	}
	if info.TcbEvaluationDataNumber < 0 || qeID.TcbEvaluationDataNumber < 0 {
		return nil, fmt.Errorf("%w: negative TCB evaluation data number", ErrMalformedCollateral)
	}
	evalNum := uint64(min(info.TcbEvaluationDataNumber, qeID.TcbEvaluationDataNumber))
	if evalNum < uint64(v.policy.MinTCBEvaluationDataNumber) {
		return nil, fmt.Errorf("%w: %d < %d", ErrCollateralTooOld, evalNum, v.policy.MinTCBEvaluationDataNumber)
	}

	// 3. Revocation.
	crls := len(c.RootCACRL) > 0 || len(c.PCKCRL) > 0
	if crls || v.policy.RequireCRLs {
		if len(c.RootCACRL) == 0 || len(c.PCKCRL) == 0 {
			return nil, fmt.Errorf("%w: need both the root CA CRL and the PCK CRL", ErrCRLMissing)
		}
		if err := v.checkRevocation(c, now, pckCA, leaf, tcbSigner, qeSigner); err != nil {
			return nil, err
		}
	}

	// 4. The collateral must describe this platform.
	if !strings.EqualFold(info.Fmspc, pck.fmspc) || !strings.EqualFold(info.PceID, pck.pceID) {
		return nil, fmt.Errorf("%w: quote FMSPC %s PCEID %s, TCB info FMSPC %s PCEID %s",
			ErrFMSPCMismatch, pck.fmspc, pck.pceID, info.Fmspc, info.PceID)
	}

	// 5. TCB status.
	res, err := evaluateTCB(&info, &qeID, pck, q)
	if err != nil {
		return nil, err
	}
	return &Report{
		Body:                    q.Body,
		Measurement:             q.Body.Measurement(),
		TCBStatus:               res.status,
		PlatformStatus:          res.platform,
		ModuleStatus:            res.module,
		QEStatus:                res.qe,
		AdvisoryIDs:             res.advisories,
		FMSPC:                   strings.ToUpper(pck.fmspc),
		TCBEvaluationDataNumber: uint32(evalNum),
		CRLsChecked:             crls,
	}, nil
}

// verifyQuoteSignatures runs go-tdx-guest's verification of the quote
// without collateral: PCK chain to the trusted root and valid at now, QE
// report signed by the PCK key and binding the attestation key, quote signed
// by the attestation key. It returns the PCK leaf and CA certificates.
func (v *Verifier) verifyQuoteSignatures(q *Quote, now time.Time) (leaf, ca *x509.Certificate, err error) {
	pq, err := abi.QuoteToProto(q.Raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %v", ErrMalformedQuote, err)
	}
	opts := &gverify.Options{Now: now, TrustedRoots: v.roots}
	if err := gverify.TdxQuote(pq, opts); err != nil {
		if errors.Is(err, gverify.ErrHashVerificationFail) {
			return nil, nil, ErrQuoteSignature
		}
		return nil, nil, fmt.Errorf("%w: %v", ErrQuoteCertification, err)
	}
	certs, err := parsePEMCerts(q.PCKCertChain, 3)
	if err != nil || len(certs) != 3 {
		return nil, nil, fmt.Errorf("%w: PCK chain: %v", ErrQuoteCertification, err)
	}
	return certs[0], certs[1], nil
}

// parsePEMCerts parses up to max CERTIFICATE blocks; a trailing NUL byte or
// whitespace is tolerated.
func parsePEMCerts(b []byte, max int) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := b
	for {
		blk, r := pem.Decode(rest)
		if blk == nil {
			break
		}
		rest = r
		if blk.Type != "CERTIFICATE" {
			return nil, fmt.Errorf("PEM block %q", blk.Type)
		}
		if len(out) == max {
			return nil, fmt.Errorf("more than %d certificates", max)
		}
		c, err := x509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if len(bytes.Trim(rest, "\x00 \t\r\n")) != 0 {
		return nil, errors.New("trailing bytes after the certificates")
	}
	if len(out) == 0 {
		return nil, errors.New("no certificates")
	}
	return out, nil
}

// verifySigned checks that body is signed by an Intel SGX TCB Signing
// certificate whose chain leads to the trusted root at now, and returns that
// certificate.
func (v *Verifier) verifySigned(body, sig, chainPEM []byte, now time.Time, what string) (*x509.Certificate, error) {
	if len(body) == 0 {
		return nil, fmt.Errorf("%w: no %s", ErrMalformedCollateral, what)
	}
	if len(sig) != 64 {
		return nil, fmt.Errorf("%w: %s signature is %d bytes, want 64", ErrMalformedCollateral, what, len(sig))
	}
	certs, err := parsePEMCerts(chainPEM, 4)
	if err != nil {
		return nil, fmt.Errorf("%w: %s issuer chain: %v", ErrMalformedCollateral, what, err)
	}
	signer := certs[0]
	if signer.Subject.CommonName != cnTCBSigning {
		return nil, fmt.Errorf("%w: %s signed by %q, not %q", ErrCollateralSignature, what, signer.Subject.CommonName, cnTCBSigning)
	}
	inter := x509.NewCertPool()
	for _, c := range certs[1:] {
		inter.AddCert(c)
	}
	if _, err := signer.Verify(x509.VerifyOptions{
		Roots: v.roots, Intermediates: inter, CurrentTime: now,
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny},
	}); err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			return nil, fmt.Errorf("%w: %s signing certificate: %v", ErrCollateralExpired, what, err)
		}
		return nil, fmt.Errorf("%w: %s issuer chain: %v", ErrCollateralSignature, what, err)
	}
	pub, ok := signer.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() {
		return nil, fmt.Errorf("%w: %s signing key is not ECDSA P-256", ErrCollateralSignature, what)
	}
	h := sha256.Sum256(body)
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	if !ecdsa.Verify(pub, h[:], r, s) {
		return nil, fmt.Errorf("%w: %s signature does not verify", ErrCollateralSignature, what)
	}
	return signer, nil
}

// checkWindow checks issue ≤ now ≤ next.
func checkWindow(issue, next, now time.Time, what string) error {
	if issue.IsZero() || next.IsZero() {
		return fmt.Errorf("%w: %s lacks issueDate or nextUpdate", ErrMalformedCollateral, what)
	}
	if now.Before(issue) {
		return fmt.Errorf("%w: %s issued %s, after block time %s", ErrCollateralExpired, what, issue.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	if now.After(next) {
		return fmt.Errorf("%w: %s expired %s, before block time %s", ErrCollateralExpired, what, next.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	return nil
}

// checkRevocation verifies both CRLs (signature, issuer, validity at now)
// and that no certificate involved is on them: the PCK CA and both TCB
// signing certificates on the root CA's CRL, the PCK leaf on the PCK CRL.
func (v *Verifier) checkRevocation(c *Collateral, now time.Time, pckCA, leaf, tcbSigner, qeSigner *x509.Certificate) error {
	rootCRL, err := checkCRL(c.RootCACRL, v.root, now, "root CA CRL")
	if err != nil {
		return err
	}
	pckCRL, err := checkCRL(c.PCKCRL, pckCA, now, "PCK CRL")
	if err != nil {
		return err
	}
	for _, x := range []struct {
		crl  *x509.RevocationList
		cert *x509.Certificate
		name string
	}{
		{rootCRL, pckCA, "PCK CA certificate"},
		{rootCRL, tcbSigner, "TCB info signing certificate"},
		{rootCRL, qeSigner, "QE identity signing certificate"},
		{pckCRL, leaf, "PCK certificate"},
	} {
		if !bytes.Equal(x.cert.RawIssuer, x.crl.RawIssuer) {
			continue // issued by another CA, so not covered by this CRL
		}
		for _, e := range x.crl.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(x.cert.SerialNumber) == 0 {
				return fmt.Errorf("%w: %s (serial %x) since %s", ErrRevoked, x.name, x.cert.SerialNumber, e.RevocationTime.UTC().Format(time.RFC3339))
			}
		}
	}
	return nil
}

// checkCRL parses a DER CRL and checks that issuer signed it and that it is
// current at now.
func checkCRL(der []byte, issuer *x509.Certificate, now time.Time, what string) (*x509.RevocationList, error) {
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrMalformedCollateral, what, err)
	}
	if !bytes.Equal(crl.RawIssuer, issuer.RawSubject) {
		return nil, fmt.Errorf("%w: %s issued by %q, not by %q", ErrCollateralSignature, what, crl.Issuer.CommonName, issuer.Subject.CommonName)
	}
	if err := crl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrCollateralSignature, what, err)
	}
	if now.Before(crl.ThisUpdate) || (!crl.NextUpdate.IsZero() && now.After(crl.NextUpdate)) {
		return nil, fmt.Errorf("%w: %s valid %s to %s", ErrCollateralExpired, what,
			crl.ThisUpdate.UTC().Format(time.RFC3339), crl.NextUpdate.UTC().Format(time.RFC3339))
	}
	return crl, nil
}
