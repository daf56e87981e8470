package tdx

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/cella-network/cella/internal/scale"
)

// CollateralVersion is the version of the Collateral encoding.
const CollateralVersion uint8 = 1

// MaxCollateralSize bounds an encoded Collateral. Real ones are about 10 KB
// without CRLs and 15 KB with them.
const MaxCollateralSize = 256 << 10

// ErrMalformedCollateral means the collateral does not decode, or one of its
// parts (JSON, certificates, CRLs) is malformed or of an unsupported version.
var ErrMalformedCollateral = errors.New("tdx: malformed collateral")

// Collateral is the Intel collateral a TDX quote is verified against,
// carried as bytes in a registration transaction (pherry fetches it from
// Intel's PCS or a PCCS). Its SCALE encoding is
//
//	u8 version (1) ‖ Vec<u8> × 8 in field order
//
// Everything in it is signed by Intel; the verifier checks those signatures
// against the pinned Intel SGX Root CA, so whoever supplies the collateral
// is not trusted.
type Collateral struct {
	// TCBInfo is the signed TDX TCB info: the JSON object under "tcbInfo" in
	// PCS's response, byte for byte as signed.
	TCBInfo []byte
	// TCBInfoSignature is the ECDSA P-256 signature (r ‖ s, 64 bytes) over TCBInfo.
	TCBInfoSignature []byte
	// TCBInfoIssuerChain is the PEM chain of the signer: Intel SGX TCB
	// Signing, then Intel SGX Root CA (PCS's Tcb-Info-Issuer-Chain header,
	// URL-decoded).
	TCBInfoIssuerChain []byte
	// QEIdentity is the signed TD_QE identity: the JSON object under
	// "enclaveIdentity", byte for byte.
	QEIdentity []byte
	// QEIdentitySignature is the ECDSA P-256 signature (r ‖ s) over QEIdentity.
	QEIdentitySignature []byte
	// QEIdentityIssuerChain is the PEM chain of its signer.
	QEIdentityIssuerChain []byte
	// RootCACRL is the Intel SGX Root CA's CRL (DER); empty when not given.
	RootCACRL []byte
	// PCKCRL is the CRL (DER) of the PCK CA that issued the quote's PCK
	// certificate (platform or processor CA); empty when not given. It is
	// checked against the PCK CA certificate in the quote's own chain.
	PCKCRL []byte
}

// EncodeSCALE writes the collateral.
func (c *Collateral) EncodeSCALE(w *scale.Writer) {
	w.U8(CollateralVersion)
	for _, f := range c.fields() {
		w.BytesVec(*f)
	}
}

// DecodeSCALE reads the collateral; an unknown version is an error.
func (c *Collateral) DecodeSCALE(r *scale.Reader) {
	if v := r.U8(); r.Err() == nil && v != CollateralVersion {
		r.Fail(fmt.Errorf("collateral version %d", v))
		return
	}
	for _, f := range c.fields() {
		*f = r.BytesVec()
	}
}

func (c *Collateral) fields() []*[]byte {
	return []*[]byte{
		&c.TCBInfo, &c.TCBInfoSignature, &c.TCBInfoIssuerChain,
		&c.QEIdentity, &c.QEIdentitySignature, &c.QEIdentityIssuerChain,
		&c.RootCACRL, &c.PCKCRL,
	}
}

// Encode returns the SCALE encoding, what a registration carries.
func (c *Collateral) Encode() []byte { return scale.Encode(c) }

// DecodeCollateral decodes an encoded Collateral strictly (whole input,
// known version, size bound).
func DecodeCollateral(b []byte) (*Collateral, error) {
	if len(b) > MaxCollateralSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedCollateral, len(b), MaxCollateralSize)
	}
	var c Collateral
	if err := scale.Decode(b, &c); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCollateral, err)
	}
	return &c, nil
}

// pcsResponse is the shape of PCS's TCB info and QE identity responses.
type pcsResponse struct {
	TCBInfo         json.RawMessage `json:"tcbInfo"`
	EnclaveIdentity json.RawMessage `json:"enclaveIdentity"`
	Signature       string          `json:"signature"`
}

// splitPCSResponse returns the signed object under key and its decoded signature.
func splitPCSResponse(resp []byte, key string) (body, sig []byte, err error) {
	var r pcsResponse
	if err := json.Unmarshal(resp, &r); err != nil {
		return nil, nil, fmt.Errorf("%w: %s response: %w", ErrMalformedCollateral, key, err)
	}
	body = r.TCBInfo
	if key == "enclaveIdentity" {
		body = r.EnclaveIdentity
	}
	if len(body) == 0 {
		return nil, nil, fmt.Errorf("%w: %s response has no %q", ErrMalformedCollateral, key, key)
	}
	sig, err = hex.DecodeString(r.Signature)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %s signature: %w", ErrMalformedCollateral, key, err)
	}
	return bytes.Clone(body), sig, nil
}

// CollateralFromPCS builds Collateral from Intel PCS (or PCCS) v4 responses:
// the bodies of GET /tdx/certification/v4/tcb?fmspc=… and
// /tdx/certification/v4/qe/identity, and the PEM issuer chains from their
// Tcb-Info-Issuer-Chain and Sgx-Enclave-Identity-Issuer-Chain headers
// (URL-decoded). CRLs (DER) are optional and may be nil.
func CollateralFromPCS(tcbInfoResponse, tcbInfoIssuerChain, qeIdentityResponse, qeIdentityIssuerChain, rootCACRL, pckCRL []byte) (*Collateral, error) {
	tcb, tcbSig, err := splitPCSResponse(tcbInfoResponse, "tcbInfo")
	if err != nil {
		return nil, err
	}
	qe, qeSig, err := splitPCSResponse(qeIdentityResponse, "enclaveIdentity")
	if err != nil {
		return nil, err
	}
	return &Collateral{
		TCBInfo: tcb, TCBInfoSignature: tcbSig, TCBInfoIssuerChain: bytes.Clone(tcbInfoIssuerChain),
		QEIdentity: qe, QEIdentitySignature: qeSig, QEIdentityIssuerChain: bytes.Clone(qeIdentityIssuerChain),
		RootCACRL: bytes.Clone(rootCACRL), PCKCRL: bytes.Clone(pckCRL),
	}, nil
}

// qvlCollateral is the JSON form of dcap-qvl's QuoteCollateralV3 (Phala's
// verifier and its get_collateral tool).
type qvlCollateral struct {
	PCKCRLIssuerChain     string `json:"pck_crl_issuer_chain"`
	RootCACRL             string `json:"root_ca_crl"`
	PCKCRL                string `json:"pck_crl"`
	TCBInfoIssuerChain    string `json:"tcb_info_issuer_chain"`
	TCBInfo               string `json:"tcb_info"`
	TCBInfoSignature      string `json:"tcb_info_signature"`
	QEIdentityIssuerChain string `json:"qe_identity_issuer_chain"`
	QEIdentity            string `json:"qe_identity"`
	QEIdentitySignature   string `json:"qe_identity_signature"`
}

// CollateralFromQVLJSON builds Collateral from dcap-qvl's QuoteCollateralV3
// JSON: signatures in hex, CRLs in hex DER (or PEM), TCB info and QE
// identity as the signed JSON strings. The PCK CRL's issuer chain is dropped:
// the PCK CRL is checked against the quote's own PCK CA certificate.
func CollateralFromQVLJSON(b []byte) (*Collateral, error) {
	var j qvlCollateral
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedCollateral, err)
	}
	c := &Collateral{
		TCBInfo:               []byte(j.TCBInfo),
		TCBInfoIssuerChain:    []byte(j.TCBInfoIssuerChain),
		QEIdentity:            []byte(j.QEIdentity),
		QEIdentityIssuerChain: []byte(j.QEIdentityIssuerChain),
	}
	var err error
	if c.TCBInfoSignature, err = hex.DecodeString(j.TCBInfoSignature); err != nil {
		return nil, fmt.Errorf("%w: tcb_info_signature: %w", ErrMalformedCollateral, err)
	}
	if c.QEIdentitySignature, err = hex.DecodeString(j.QEIdentitySignature); err != nil {
		return nil, fmt.Errorf("%w: qe_identity_signature: %w", ErrMalformedCollateral, err)
	}
	if c.RootCACRL, err = crlBytes(j.RootCACRL); err != nil {
		return nil, fmt.Errorf("%w: root_ca_crl: %w", ErrMalformedCollateral, err)
	}
	if c.PCKCRL, err = crlBytes(j.PCKCRL); err != nil {
		return nil, fmt.Errorf("%w: pck_crl: %w", ErrMalformedCollateral, err)
	}
	return c, nil
}

// crlBytes turns a CRL given as hex DER or PEM into DER ("" stays empty).
func crlBytes(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		blk, _ := pem.Decode([]byte(s))
		if blk == nil || blk.Type != "X509 CRL" {
			return nil, errors.New("not a PEM X509 CRL")
		}
		return blk.Bytes, nil
	}
	return hex.DecodeString(s)
}
