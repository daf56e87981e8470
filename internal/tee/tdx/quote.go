package tdx

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/tee"
)

// Layout of a TDX quote, version 4 (Intel TDX DCAP Quote Generation Library
// and Quote Verification Library, "Quote Format v4"):
//
//	header                48 bytes  version u16, attestation key type u16,
//	                                  TEE type u32, reserved 4, QE vendor id 16,
//	                                  user data 20
//	TD quote body        584 bytes  (TDQuoteBody)
//	signed data size       4 bytes  u32
//	signed data                     ECDSA signature 64 ‖ attestation key 64 ‖
//	                                certification data: type u16 (6),
//	                                size u32, QE report certification data:
//	                                  QE report 384 ‖ QE report signature 64 ‖
//	                                  QE auth data size u16 ‖ QE auth data ‖
//	                                  certification data: type u16 (5),
//	                                  size u32, PCK certificate chain (PEM)
//
// All integers are little-endian. Bytes after the signed data are allowed
// and ignored (some tools append padding); nothing signs them.
const (
	headerSize       = 48
	bodySize         = 584
	signedOffset     = headerSize + bodySize // 632: end of the signed message
	signedDataOffset = signedOffset + 4
	qeReportSize     = 384

	// QuoteVersion4 is the only quote version verified here.
	QuoteVersion4 = 4
	// AttestationKeyECDSAP256 is the attestation key type of ECDSA-256 with P-256.
	AttestationKeyECDSAP256 = 2
	// TEETypeTDX is the header's TEE type for TDX.
	TEETypeTDX = 0x81

	certDataQEReport = 6
	certDataPCKChain = 5

	// MaxQuoteSize bounds a quote (real ones are about 5 KB).
	MaxQuoteSize = 64 << 10
)

// IntelQEVendorID is the QE vendor id of Intel's quoting enclave.
var IntelQEVendorID = [16]byte{0x93, 0x9a, 0x72, 0x33, 0xf7, 0x9c, 0x4c, 0xa9, 0x94, 0x0a, 0x0d, 0xb3, 0x95, 0x7f, 0x06, 0x07}

// Errors of quote parsing.
var (
	// ErrMalformedQuote means the bytes are not a well-formed TDX v4 quote.
	ErrMalformedQuote = errors.New("tdx: malformed quote")
	// ErrUnsupportedQuote means a well-formed quote of a version, key type
	// or TEE type this verifier does not handle.
	ErrUnsupportedQuote = errors.New("tdx: unsupported quote")
)

// TDQuoteBody is the TD report inside a quote (TD quote body v4).
type TDQuoteBody struct {
	TEETCBSVN      [16]byte
	MRSEAM         [48]byte
	MRSIGNERSEAM   [48]byte
	SEAMAttributes [8]byte
	TDAttributes   [8]byte
	XFAM           [8]byte
	MRTD           [48]byte
	MRCONFIGID     [48]byte
	MROWNER        [48]byte
	MROWNERCONFIG  [48]byte
	RTMR           [4][48]byte
	ReportData     [64]byte
}

// Debug reports whether the TD runs in debug mode (TD_ATTRIBUTES bit 0,
// TUD.DEBUG): its memory and registers are then open to the host.
func (b *TDQuoteBody) Debug() bool { return b.TDAttributes[0]&1 != 0 }

// Measurement returns the typed measurement of the TD.
func (b *TDQuoteBody) Measurement() tee.Measurement {
	return tee.NewTDXMeasurement(tee.TDXMeasurement{
		MRTD:   b.MRTD,
		RTMR0:  b.RTMR[0],
		RTMR1:  b.RTMR[1],
		RTMR2:  b.RTMR[2],
		MRSEAM: b.MRSEAM,
		Debug:  b.Debug(),
	})
}

// EnclaveReport is an SGX enclave report; a TDX quote carries the quoting
// enclave's.
type EnclaveReport struct {
	CPUSVN     [16]byte
	MiscSelect uint32
	Attributes [16]byte
	MRENCLAVE  [32]byte
	MRSIGNER   [32]byte
	ISVProdID  uint16
	ISVSVN     uint16
	ReportData [64]byte
}

// Quote is a parsed TDX v4 quote. Parsing checks only structure; Verifier
// checks signatures and collateral.
type Quote struct {
	// Raw is the quote without any trailing bytes.
	Raw []byte
	// Trailing counts the ignored bytes after the signed data.
	Trailing int

	Version            uint16
	AttestationKeyType uint16
	TEEType            uint32
	QEVendorID         [16]byte
	Body               TDQuoteBody

	// Signature is the attestation key's ECDSA signature (r ‖ s) over
	// SignedMessage.
	Signature [64]byte
	// AttestationKey is the P-256 public key (x ‖ y).
	AttestationKey [64]byte
	// QEReportRaw is the quoting enclave's report, as signed by the PCK key.
	QEReportRaw []byte
	// QEReport is QEReportRaw decoded.
	QEReport EnclaveReport
	// QEReportSignature is the PCK key's ECDSA signature (r ‖ s) over QEReportRaw.
	QEReportSignature [64]byte
	// QEAuthData is hashed with the attestation key into the QE report data.
	QEAuthData []byte
	// PCKCertChain is the PEM chain PCK leaf ‖ PCK CA ‖ root CA.
	PCKCertChain []byte
}

// SignedMessage returns header ‖ body: what the attestation key signs.
func (q *Quote) SignedMessage() []byte { return q.Raw[:signedOffset] }

// cursor reads little-endian fields with bounds checks.
type cursor struct {
	b   []byte
	off int
	err error
}

func (c *cursor) take(n int, what string) []byte {
	if c.err != nil {
		return nil
	}
	if n < 0 || n > len(c.b)-c.off {
		c.err = fmt.Errorf("%w: %s: need %d bytes at offset %d, have %d", ErrMalformedQuote, what, n, c.off, len(c.b)-c.off)
		return nil
	}
	s := c.b[c.off : c.off+n]
	c.off += n
	return s
}

func (c *cursor) fixed(dst []byte, what string) {
	if s := c.take(len(dst), what); s != nil {
		copy(dst, s)
	}
}

func (c *cursor) u16(what string) uint16 {
	if s := c.take(2, what); s != nil {
		return binary.LittleEndian.Uint16(s)
	}
	return 0
}

func (c *cursor) u32(what string) uint32 {
	if s := c.take(4, what); s != nil {
		return binary.LittleEndian.Uint32(s)
	}
	return 0
}

// ParseQuote parses a TDX v4 quote with ECDSA-P256 attestation. Every length
// field is checked against the input; nothing is allocated from a length
// before it is checked. Bytes after the signed data are tolerated and
// counted in Trailing.
func ParseQuote(b []byte) (*Quote, error) {
	if len(b) > MaxQuoteSize {
		return nil, fmt.Errorf("%w: %d bytes, more than %d", ErrMalformedQuote, len(b), MaxQuoteSize)
	}
	c := &cursor{b: b}
	q := &Quote{}
	q.Version = c.u16("version")
	q.AttestationKeyType = c.u16("attestation key type")
	q.TEEType = c.u32("TEE type")
	if c.err != nil {
		return nil, c.err
	}
	switch {
	case q.Version != QuoteVersion4:
		return nil, fmt.Errorf("%w: version %d (only 4)", ErrUnsupportedQuote, q.Version)
	case q.AttestationKeyType != AttestationKeyECDSAP256:
		return nil, fmt.Errorf("%w: attestation key type %d (only ECDSA-256-with-P-256)", ErrUnsupportedQuote, q.AttestationKeyType)
	case q.TEEType != TEETypeTDX:
		return nil, fmt.Errorf("%w: TEE type %#x (only TDX)", ErrUnsupportedQuote, q.TEEType)
	}
	c.take(4, "reserved")
	c.fixed(q.QEVendorID[:], "QE vendor id")
	c.take(20, "user data")

	bd := &q.Body
	c.fixed(bd.TEETCBSVN[:], "TEE_TCB_SVN")
	c.fixed(bd.MRSEAM[:], "MRSEAM")
	c.fixed(bd.MRSIGNERSEAM[:], "MRSIGNERSEAM")
	c.fixed(bd.SEAMAttributes[:], "SEAMATTRIBUTES")
	c.fixed(bd.TDAttributes[:], "TDATTRIBUTES")
	c.fixed(bd.XFAM[:], "XFAM")
	c.fixed(bd.MRTD[:], "MRTD")
	c.fixed(bd.MRCONFIGID[:], "MRCONFIGID")
	c.fixed(bd.MROWNER[:], "MROWNER")
	c.fixed(bd.MROWNERCONFIG[:], "MROWNERCONFIG")
	for i := range bd.RTMR {
		c.fixed(bd.RTMR[i][:], "RTMR")
	}
	c.fixed(bd.ReportData[:], "REPORTDATA")

	signedSize := c.u32("signed data size")
	if c.err != nil {
		return nil, c.err
	}
	if int64(signedSize) > int64(len(b)-c.off) {
		return nil, fmt.Errorf("%w: signed data size %d, only %d bytes left", ErrMalformedQuote, signedSize, len(b)-c.off)
	}
	end := c.off + int(signedSize)
	c.b = b[:end] // everything below must fit inside the signed data exactly

	c.fixed(q.Signature[:], "signature")
	c.fixed(q.AttestationKey[:], "attestation key")
	if t := c.u16("certification data type"); c.err == nil && t != certDataQEReport {
		return nil, fmt.Errorf("%w: certification data type %d (want %d, QE report certification data)", ErrUnsupportedQuote, t, certDataQEReport)
	}
	outer := c.u32("certification data size")
	if c.err == nil && int64(outer) != int64(end-c.off) {
		return nil, fmt.Errorf("%w: certification data size %d, %d bytes left in signed data", ErrMalformedQuote, outer, end-c.off)
	}
	q.QEReportRaw = c.take(qeReportSize, "QE report")
	c.fixed(q.QEReportSignature[:], "QE report signature")
	authSize := c.u16("QE auth data size")
	q.QEAuthData = c.take(int(authSize), "QE auth data")
	if t := c.u16("PCK certification data type"); c.err == nil && t != certDataPCKChain {
		return nil, fmt.Errorf("%w: inner certification data type %d (want %d, PCK certificate chain)", ErrUnsupportedQuote, t, certDataPCKChain)
	}
	chainSize := c.u32("PCK certificate chain size")
	if c.err == nil && int64(chainSize) != int64(end-c.off) {
		return nil, fmt.Errorf("%w: PCK certificate chain size %d, %d bytes left in signed data", ErrMalformedQuote, chainSize, end-c.off)
	}
	q.PCKCertChain = c.take(int(chainSize), "PCK certificate chain")
	if c.err != nil {
		return nil, c.err
	}
	q.QEReport = parseEnclaveReport(q.QEReportRaw)
	q.Raw = b[:end]
	q.Trailing = len(b) - end
	return q, nil
}

// parseEnclaveReport decodes a 384-byte SGX report body.
func parseEnclaveReport(b []byte) EnclaveReport {
	var r EnclaveReport
	copy(r.CPUSVN[:], b[0:16])
	r.MiscSelect = binary.LittleEndian.Uint32(b[16:20])
	// 20..48 reserved
	copy(r.Attributes[:], b[48:64])
	copy(r.MRENCLAVE[:], b[64:96])
	// 96..128 reserved
	copy(r.MRSIGNER[:], b[128:160])
	// 160..256 reserved
	r.ISVProdID = binary.LittleEndian.Uint16(b[256:258])
	r.ISVSVN = binary.LittleEndian.Uint16(b[258:260])
	// 260..320 reserved
	copy(r.ReportData[:], b[320:384])
	return r
}
