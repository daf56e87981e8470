package tdx

import (
	"context"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/google/go-tdx-guest/pcs"
)

// PCS defaults.
const (
	// DefaultPCSURL is Intel's Provisioning Certification Service; a PCCS
	// mirror serves the same v4 API.
	DefaultPCSURL = "https://api.trustedservices.intel.com"

	pcsTimeout     = 30 * time.Second // one PCS request
	maxPCSBodySize = 1 << 20          // one PCS response body
	maxPCSHeader   = 64 << 10         // one issuer chain header (URL-escaped PEM)
)

// PCS response headers carrying URL-escaped PEM issuer chains. Go
// canonicalises header names, so the case does not matter.
const (
	hdrTCBInfoChain   = "Tcb-Info-Issuer-Chain"
	hdrTCBInfoChainV3 = "Sgx-Tcb-Info-Issuer-Chain" // older PCCS versions
	hdrQEIDChain      = "Sgx-Enclave-Identity-Issuer-Chain"
	hdrPCKCRLChain    = "Sgx-Pck-Crl-Issuer-Chain"
)

// PCK CA issuer names and PCS's ca= values.
const (
	pckPlatformCA  = "Intel SGX PCK Platform CA"
	pckProcessorCA = "Intel SGX PCK Processor CA"
)

// ErrPCS marks failures of fetching collateral from the PCS.
var ErrPCS = errors.New("PCS")

// PCSClient fetches TDX collateral from Intel's PCS or a PCCS, bounding
// every answer (a time limit per request, a size limit per body and
// header).
type PCSClient struct {
	base string // without a trailing slash
	hc   *http.Client
	// RootCRLURL overrides the root CA CRL's address (default: the CRL
	// distribution point of the issuer chain's root certificate).
	RootCRLURL string
	// Warn reports collateral fetched without CRLs (may be nil).
	Warn func(msg string, args ...any)
}

// NewPCSClient returns a client of the PCS at base (DefaultPCSURL when
// empty) that makes its requests with hc (http.DefaultClient when nil).
func NewPCSClient(base string, hc *http.Client) *PCSClient {
	if base == "" {
		base = DefaultPCSURL
	}
	if hc == nil {
		hc = http.DefaultClient
	}
	return &PCSClient{base: strings.TrimRight(base, "/"), hc: hc}
}

// Base returns the PCS base URL the client asks.
func (c *PCSClient) Base() string { return c.base }

// quotePlatform is what a TDX quote's PCK leaf certificate says about the
// collateral it needs.
type quotePlatform struct {
	fmspc string // lower-case hex, 6 bytes
	ca    string // "platform" or "processor"
}

// platformOfQuote parses a TDX quote and extracts the FMSPC and PCK CA type
// from its PCK leaf certificate.
func platformOfQuote(quote []byte) (quotePlatform, error) {
	q, err := ParseQuote(quote)
	if err != nil {
		return quotePlatform{}, err
	}
	blk, _ := pem.Decode(q.PCKCertChain)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return quotePlatform{}, errors.New("the quote's PCK certificate chain does not start with a PEM certificate")
	}
	leaf, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return quotePlatform{}, fmt.Errorf("the quote's PCK certificate: %w", err)
	}
	var p quotePlatform
	switch leaf.Issuer.CommonName {
	case pckPlatformCA:
		p.ca = "platform"
	case pckProcessorCA:
		p.ca = "processor"
	default:
		return quotePlatform{}, fmt.Errorf("the quote's PCK certificate is issued by %q, not an Intel PCK CA", leaf.Issuer.CommonName)
	}
	exts, err := pcs.PckCertificateExtensions(leaf)
	if err != nil {
		return quotePlatform{}, fmt.Errorf("the quote's PCK certificate extensions: %w", err)
	}
	if b, err := hex.DecodeString(exts.FMSPC); err != nil || len(b) != 6 {
		return quotePlatform{}, fmt.Errorf("the quote's PCK certificate has FMSPC %q, want 6 hex bytes", exts.FMSPC)
	}
	p.fmspc = strings.ToLower(exts.FMSPC)
	return p, nil
}

// collateral fetches the TCB info, QE identity and CRLs a TDX quote needs
// and returns them as an encoded Collateral. The CRLs are best effort:
// the verifier takes both or none, so when either cannot be fetched both
// are left out (a chain whose policy requires CRLs then refuses the
// registration) and Warn is told.
func (c *PCSClient) Collateral(ctx context.Context, quote []byte) ([]byte, error) {
	p, err := platformOfQuote(quote)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot tell which collateral the quote needs: %w", ErrPCS, err)
	}
	return c.collateralFor(ctx, p)
}

// collateralFor fetches the collateral of platform p.
func (c *PCSClient) collateralFor(ctx context.Context, p quotePlatform) ([]byte, error) {
	tcbBody, tcbHdr, err := c.get(ctx, "/tdx/certification/v4/tcb?fmspc="+url.QueryEscape(p.fmspc))
	if err != nil {
		return nil, err
	}
	tcbChain, err := issuerChain(tcbHdr, "TDX TCB info", hdrTCBInfoChain, hdrTCBInfoChainV3)
	if err != nil {
		return nil, err
	}
	qeBody, qeHdr, err := c.get(ctx, "/tdx/certification/v4/qe/identity")
	if err != nil {
		return nil, err
	}
	qeChain, err := issuerChain(qeHdr, "TDX QE identity", hdrQEIDChain)
	if err != nil {
		return nil, err
	}
	rootCRL, pckCRL, crlErr := c.crls(ctx, p.ca, qeChain)
	if crlErr != nil {
		rootCRL, pckCRL = nil, nil
		if c.Warn != nil {
			c.Warn("TDX collateral goes without CRLs", "err", crlErr)
		}
	}
	col, err := CollateralFromPCS(tcbBody, tcbChain, qeBody, qeChain, rootCRL, pckCRL)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrPCS, err)
	}
	enc := col.Encode()
	if len(enc) > MaxCollateralSize {
		return nil, fmt.Errorf("%w: collateral of %d bytes, more than %d", ErrPCS, len(enc), MaxCollateralSize)
	}
	return enc, nil
}

// crls fetches the PCK CRL of ca and the Intel root CA's CRL.
func (c *PCSClient) crls(ctx context.Context, ca string, chainPEM []byte) (root, pck []byte, err error) {
	body, _, err := c.get(ctx, "/sgx/certification/v4/pckcrl?ca="+ca+"&encoding=der")
	if err != nil {
		return nil, nil, err
	}
	if pck, err = crlDER(body); err != nil {
		return nil, nil, fmt.Errorf("%w: PCK CRL: %w", ErrPCS, err)
	}
	u := c.RootCRLURL
	if u == "" {
		if u, err = rootCRLDistributionPoint(chainPEM); err != nil {
			return nil, nil, err
		}
	}
	body, _, err = c.getURL(ctx, u)
	if err != nil {
		return nil, nil, err
	}
	if root, err = crlDER(body); err != nil {
		return nil, nil, fmt.Errorf("%w: root CA CRL: %w", ErrPCS, err)
	}
	return root, pck, nil
}

// rootCRLDistributionPoint returns the CRL distribution point of the last
// certificate of an issuer chain (the Intel SGX Root CA).
func rootCRLDistributionPoint(chainPEM []byte) (string, error) {
	var last *x509.Certificate
	for rest := chainPEM; ; {
		blk, r := pem.Decode(rest)
		if blk == nil {
			break
		}
		rest = r
		if cert, err := x509.ParseCertificate(blk.Bytes); err == nil {
			last = cert
		}
	}
	if last == nil || len(last.CRLDistributionPoints) == 0 {
		return "", fmt.Errorf("%w: the issuer chain's root certificate names no CRL distribution point", ErrPCS)
	}
	return last.CRLDistributionPoints[0], nil
}

// crlDER accepts a CRL as DER, PEM or hex DER (PCCS's encoding) and returns
// the DER after checking that it parses.
func crlDER(b []byte) ([]byte, error) {
	s := strings.TrimSpace(string(b))
	switch {
	case strings.HasPrefix(s, "-----BEGIN"):
		blk, _ := pem.Decode([]byte(s))
		if blk == nil {
			return nil, errors.New("bad PEM")
		}
		b = blk.Bytes
	case len(s) > 0 && isHex(s):
		d, err := hex.DecodeString(s)
		if err != nil {
			return nil, err
		}
		b = d
	}
	if _, err := x509.ParseRevocationList(b); err != nil {
		return nil, err
	}
	return b, nil
}

func isHex(s string) bool {
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdefABCDEF", r) {
			return false
		}
	}
	return true
}

// issuerChain returns the URL-decoded PEM chain of the first of the named
// headers present.
func issuerChain(h http.Header, what string, names ...string) ([]byte, error) {
	for _, n := range names {
		v := h.Get(n)
		if v == "" {
			continue
		}
		if len(v) > maxPCSHeader {
			return nil, fmt.Errorf("%w: %s: %s header of %d bytes", ErrPCS, what, n, len(v))
		}
		s, err := url.QueryUnescape(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %s header: %w", ErrPCS, what, n, err)
		}
		if blk, _ := pem.Decode([]byte(s)); blk == nil {
			return nil, fmt.Errorf("%w: %s: %s header holds no PEM certificate", ErrPCS, what, n)
		}
		return []byte(s), nil
	}
	return nil, fmt.Errorf("%w: %s: response lacks the %s header", ErrPCS, what, names[0])
}

// get GETs path from the PCS.
func (c *PCSClient) get(ctx context.Context, path string) ([]byte, http.Header, error) {
	return c.getURL(ctx, c.base+path)
}

// getURL GETs u with a timeout and a body size limit; anything but 200 is
// an error.
func (c *PCSClient) getURL(ctx context.Context, u string) ([]byte, http.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, pcsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: %w", ErrPCS, err)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: GET %s: %w", ErrPCS, u, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxPCSBodySize+1))
	if err != nil {
		return nil, nil, fmt.Errorf("%w: GET %s: reading the body: %w", ErrPCS, u, err)
	}
	if resp.StatusCode != http.StatusOK {
		msg := strings.TrimSpace(string(body[:min(len(body), 200)]))
		if e := resp.Header.Get("Error-Message"); e != "" {
			msg = e
		}
		return nil, nil, fmt.Errorf("%w: GET %s: %s: %s", ErrPCS, u, resp.Status, msg)
	}
	if len(body) > maxPCSBodySize {
		return nil, nil, fmt.Errorf("%w: GET %s: body larger than %d bytes", ErrPCS, u, maxPCSBodySize)
	}
	return body, resp.Header, nil
}
