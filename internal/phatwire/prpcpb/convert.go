package prpcpb

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/phatwire"
)

// maxNesting bounds how deep ToSignature follows Signature → Certificate →
// Signature links. pRuntime verifies at most phatwire.MaxCertificateDepth
// signatures; one more level is kept so that Verify, not the conversion,
// reports a chain that is too long.
const maxNesting = phatwire.MaxCertificateDepth + 1

// MaxContractQueryRequestSize is pRuntime's body limit for ContractQuery.
const MaxContractQueryRequestSize = 500 << 10

// ErrTooDeep reports a signature nested beyond what verification would read.
var ErrTooDeep = errors.New("prpcpb: certificate chain nested too deeply")

// ToSignature converts a protobuf Signature (nil stays nil).
func ToSignature(s *Signature) (*phatwire.Signature, error) { return toSignature(s, 0) }

func toSignature(s *Signature, depth int) (*phatwire.Signature, error) {
	if s == nil {
		return nil, nil
	}
	if depth >= maxNesting {
		return nil, ErrTooDeep
	}
	out := &phatwire.Signature{Type: phatwire.SignatureType(s.GetSignatureType()), Signature: s.GetSignature()}
	if c := s.GetSignedBy(); c != nil {
		sig, err := toSignature(c.GetSignature(), depth+1)
		if err != nil {
			return nil, err
		}
		out.SignedBy = &phatwire.Certificate{EncodedBody: c.GetEncodedBody(), Signature: sig}
	}
	return out, nil
}

// ToCertificate converts a protobuf Certificate (nil stays nil).
func ToCertificate(c *Certificate) (*phatwire.Certificate, error) {
	if c == nil {
		return nil, nil
	}
	sig, err := toSignature(c.GetSignature(), 1)
	if err != nil {
		return nil, err
	}
	return &phatwire.Certificate{EncodedBody: c.GetEncodedBody(), Signature: sig}, nil
}

// FromSignature converts to protobuf (nil stays nil).
func FromSignature(s *phatwire.Signature) *Signature {
	if s == nil {
		return nil
	}
	return &Signature{SignedBy: FromCertificate(s.SignedBy), SignatureType: SignatureType(s.Type), Signature: s.Signature}
}

// FromCertificate converts to protobuf (nil stays nil).
func FromCertificate(c *phatwire.Certificate) *Certificate {
	if c == nil {
		return nil
	}
	return &Certificate{EncodedBody: c.EncodedBody, Signature: FromSignature(c.Signature)}
}

// DecodeContractQueryRequest parses a ContractQuery request body within
// pRuntime's size limit and converts its signature.
func DecodeContractQueryRequest(b []byte) (*ContractQueryRequest, *phatwire.Signature, error) {
	if len(b) > MaxContractQueryRequestSize {
		return nil, nil, fmt.Errorf("prpcpb: ContractQuery request of %d bytes, limit %d", len(b), MaxContractQueryRequestSize)
	}
	req := new(ContractQueryRequest)
	if err := proto.Unmarshal(b, req); err != nil {
		return nil, nil, fmt.Errorf("prpcpb: ContractQuery request: %w", err)
	}
	sig, err := ToSignature(req.GetSignature())
	if err != nil {
		return nil, nil, err
	}
	return req, sig, nil
}

// VerifyContractQueryRequest verifies a parsed request's signature as
// pRuntime does (phatwire.Signature.Verify over encoded_encrypted_data with
// the worker's current block), through cache when it is not nil. A request
// without a signature has no origin: it returns nil, nil.
func VerifyContractQueryRequest(req *ContractQueryRequest, sig *phatwire.Signature, currentBlock uint32, cache *phatwire.VerifyCache) ([]phatwire.AccountID, error) {
	if sig == nil {
		return nil, nil
	}
	if cache != nil {
		return cache.VerifyQuery(sig, req.GetEncodedEncryptedData(), currentBlock)
	}
	return sig.Verify(req.GetEncodedEncryptedData(), currentBlock, phatwire.MaxCertificateDepth)
}
