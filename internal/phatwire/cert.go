package phatwire

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// SignatureType numbers the signature schemes as pRuntime's protobuf enum.
type SignatureType int32

// Signature schemes. WrapBytes variants sign "<Bytes>" ‖ msg ‖ "</Bytes>"
// (what polkadot.js extensions' signRaw does).
const (
	Ed25519           SignatureType = 0
	Sr25519           SignatureType = 1
	Ecdsa             SignatureType = 2
	Ed25519WrapBytes  SignatureType = 3
	Sr25519WrapBytes  SignatureType = 4
	EcdsaWrapBytes    SignatureType = 5
	Eip712            SignatureType = 6
	EvmEcdsa          SignatureType = 7
	EvmEcdsaWrapBytes SignatureType = 8
)

var sigTypeNames = [...]string{"Ed25519", "Sr25519", "Ecdsa", "Ed25519WrapBytes", "Sr25519WrapBytes",
	"EcdsaWrapBytes", "Eip712", "EvmEcdsa", "EvmEcdsaWrapBytes"}

func (t SignatureType) String() string {
	if t >= 0 && int(t) < len(sigTypeNames) {
		return sigTypeNames[t]
	}
	return fmt.Sprintf("SignatureType(%d)", int32(t))
}

// Verification errors.
var (
	ErrTooLongChain         = errors.New("phatwire: certificate chain too long")
	ErrMissingCertificate   = errors.New("phatwire: signature has no certificate")
	ErrCertificateExpired   = errors.New("phatwire: certificate expired")
	ErrInvalidSignatureType = errors.New("phatwire: invalid signature type")
	ErrUnsupportedSigType   = errors.New("phatwire: signature type not supported")
	ErrBadSignature         = errors.New("phatwire: signature verification failed")
	ErrBadPublicKey         = errors.New("phatwire: bad public key in certificate")
)

// MaxCertificateDepth is the max_depth pRuntime passes when it verifies a
// query signature: the query's signature plus one parent certificate
// signature.
const MaxCertificateDepth = 2

// MaxCertificateBodySize bounds an encoded CertificateBody. A body holds one
// public key (at most 65 bytes for uncompressed ECDSA) and two u32s.
const MaxCertificateBodySize = 256

// CertificateBody is what a certificate certifies: a public key valid until
// block TTL (inclusive).
type CertificateBody struct {
	Pubkey     []byte
	TTL        uint32
	ConfigBits uint32
}

// EncodeSCALE writes the body.
func (b *CertificateBody) EncodeSCALE(w *scale.Writer) {
	w.BytesVec(b.Pubkey)
	w.U32(b.TTL)
	w.U32(b.ConfigBits)
}

// DecodeSCALE reads the body.
func (b *CertificateBody) DecodeSCALE(r *scale.Reader) {
	b.Pubkey = r.BytesVec()
	b.TTL = r.U32()
	b.ConfigBits = r.U32()
}

// Encode returns the SCALE encoding.
func (b *CertificateBody) Encode() []byte { return scale.Encode(b) }

// DecodeCertificateBody decodes a SCALE CertificateBody that must fill b
// exactly. (pRuntime ignores trailing bytes here and then verifies the
// parent's signature over the re-encoded body; rejecting them is stricter and
// gives the same verdict for every body a real signer produces.)
func DecodeCertificateBody(b []byte) (*CertificateBody, error) {
	body := new(CertificateBody)
	if err := decodeBounded(b, MaxCertificateBodySize, body); err != nil {
		return nil, fmt.Errorf("%w: certificate body: %w", ErrMalformed, err)
	}
	return body, nil
}

// Certificate is an encoded CertificateBody, signed by a parent key unless it
// is a root (then Signature is nil).
type Certificate struct {
	EncodedBody []byte
	Signature   *Signature
}

// Signature is a signature over some message by the key that SignedBy's body
// names.
type Signature struct {
	SignedBy  *Certificate
	Type      SignatureType
	Signature []byte
}

// AccountID is a 32-byte account (for sr25519, the public key itself).
type AccountID [32]byte

// Origin returns the origin of a verified chain: its first (root) account.
func Origin(chain []AccountID) (AccountID, bool) {
	if len(chain) == 0 {
		return AccountID{}, false
	}
	return chain[0], true
}

// Verify checks the signature over msg as pRuntime does for a query (msg =
// the request's encoded_encrypted_data, currentBlock = the worker's last
// dispatched block, maxDepth = MaxCertificateDepth): the signing certificate's
// body must not be expired (TTL ≥ currentBlock), the signature must verify
// with the body's key, and a parent signature, if any, is verified the same
// way over the encoded body with maxDepth-1. It returns the chain of accounts
// top-down; the origin is the first.
//
// Supported: Sr25519 and Sr25519WrapBytes (account = the key), Ecdsa and
// EcdsaWrapBytes (Substrate ECDSA: 33-byte compressed key, account =
// blake2_256 of it). Ed25519, Eip712 and the EvmEcdsa types fail with
// ErrUnsupportedSigType.
func (s *Signature) Verify(msg []byte, currentBlock uint32, maxDepth int) ([]AccountID, error) {
	if s == nil {
		return nil, ErrMissingCertificate
	}
	if maxDepth <= 0 {
		return nil, ErrTooLongChain
	}
	if s.SignedBy == nil {
		return nil, ErrMissingCertificate
	}
	body, err := DecodeCertificateBody(s.SignedBy.EncodedBody)
	if err != nil {
		return nil, err
	}
	if body.TTL < currentBlock {
		return nil, fmt.Errorf("%w: ttl %d < block %d", ErrCertificateExpired, body.TTL, currentBlock)
	}
	account, err := verifyOne(s.Type, body.Pubkey, s.Signature, msg)
	if err != nil {
		return nil, err
	}
	if s.SignedBy.Signature == nil {
		return []AccountID{account}, nil
	}
	chain, err := s.SignedBy.Signature.Verify(s.SignedBy.EncodedBody, currentBlock, maxDepth-1)
	if err != nil {
		return nil, err
	}
	return append(chain, account), nil
}

// verifyOne checks one signature of type t by pubkey over msg and returns the
// signer's account.
func verifyOne(t SignatureType, pubkey, sig, msg []byte) (AccountID, error) {
	switch t {
	case Sr25519, Sr25519WrapBytes:
		if len(pubkey) != 32 {
			return AccountID{}, fmt.Errorf("%w: sr25519 key of %d bytes", ErrBadPublicKey, len(pubkey))
		}
		if len(sig) != 64 {
			return AccountID{}, fmt.Errorf("%w: sr25519 signature of %d bytes", ErrBadSignature, len(sig))
		}
		var pk keys.PublicKey
		var s keys.Signature
		copy(pk[:], pubkey)
		copy(s[:], sig)
		if t == Sr25519WrapBytes {
			msg = wrapBytes(msg)
		}
		if !keys.Verify(pk, msg, s) {
			return AccountID{}, fmt.Errorf("%w (%s)", ErrBadSignature, t)
		}
		return AccountID(pk), nil
	case Ecdsa, EcdsaWrapBytes:
		if t == EcdsaWrapBytes {
			msg = wrapBytes(msg)
		}
		return verifyEcdsa(pubkey, sig, msg)
	case Ed25519, Ed25519WrapBytes, Eip712, EvmEcdsa, EvmEcdsaWrapBytes:
		return AccountID{}, fmt.Errorf("%w: signature type %s not supported", ErrUnsupportedSigType, t)
	}
	return AccountID{}, fmt.Errorf("%w: %d", ErrInvalidSignatureType, int32(t))
}

// wrapBytes is pRuntime's wrap_bytes: it always wraps, even a message that
// already looks wrapped (polkadot.js's u8aWrapBytes would not; such a message
// cannot verify, in pRuntime either).
func wrapBytes(msg []byte) []byte {
	const pre, post = "<Bytes>", "</Bytes>"
	out := make([]byte, 0, len(pre)+len(msg)+len(post))
	out = append(out, pre...)
	out = append(out, msg...)
	return append(out, post...)
}

// Signer is a key that signs with sr25519 under the "substrate" context;
// *keys.Pair is one.
type Signer interface {
	Public() keys.PublicKey
	Sign(msg []byte) keys.Signature
}

// IssueCertificate returns the certificate by which root vouches for the
// (ephemeral) key sub until block ttl, as @phala/sdk's signCertificate builds
// it: body {sub, ttl, 0} signed by root, with root's own unsigned certificate
// {root, ttl, 0} as signed_by. typ is Sr25519 (a key pair signing directly)
// or Sr25519WrapBytes (a wallet extension signing "<Bytes>…</Bytes>").
func IssueCertificate(root Signer, sub keys.PublicKey, ttl uint32, typ SignatureType) (*Certificate, error) {
	if typ != Sr25519 && typ != Sr25519WrapBytes {
		return nil, fmt.Errorf("%w: cannot sign certificates with %s", ErrUnsupportedSigType, typ)
	}
	body := (&CertificateBody{Pubkey: sub[:], TTL: ttl}).Encode()
	rootPub := root.Public()
	rootBody := (&CertificateBody{Pubkey: rootPub[:], TTL: ttl}).Encode()
	return &Certificate{
		EncodedBody: body,
		Signature:   sign(root, typ, &Certificate{EncodedBody: rootBody}, body),
	}, nil
}

// SignQuery signs a query's encoded_encrypted_data with the certificate's
// key (the ephemeral key IssueCertificate certified), as the SDK's pinkQuery
// does (Sr25519, no wrapping).
func SignQuery(cert *Certificate, key Signer, encodedEncryptedData []byte) *Signature {
	return sign(key, Sr25519, cert, encodedEncryptedData)
}

func sign(key Signer, typ SignatureType, by *Certificate, msg []byte) *Signature {
	if typ == Sr25519WrapBytes {
		msg = wrapBytes(msg)
	}
	sig := key.Sign(msg)
	return &Signature{SignedBy: by, Type: typ, Signature: sig[:]}
}
