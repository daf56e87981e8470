package cipher

import (
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// Sizes of the channel's values in bytes.
const (
	// PublicKeySize is the size of an ECDH (= sr25519) public key, a
	// compressed ristretto255 point.
	PublicKeySize = 32
	// SecretKeySize is the size of an sr25519 secret key (scalar ‖ nonce).
	SecretKeySize = 64
	// SharedKeySize is the size of an ECDH agreement, the AES-256 key.
	SharedKeySize = 32
)

// Errors of key handling.
var (
	// ErrInvalidPublicKey means 32 bytes are not the canonical encoding of a
	// ristretto255 point, or encode the identity.
	ErrInvalidPublicKey = errors.New("cipher: invalid ECDH public key")
	// ErrInvalidSecretKey means 64 bytes are not an sr25519 secret key in the
	// expected form.
	ErrInvalidSecretKey = errors.New("cipher: invalid sr25519 secret key")
)

// EcdhKey is an sr25519 key used for ristretto255 Diffie-Hellman, Phala's
// EcdhKey. Phala derives a key's ECDH key from the same secret scalar
// (derive_ecdh_key), so a worker's or contract's ECDH public key equals its
// sr25519 public key.
//
// An EcdhKey never prints its secret: String, GoString and every fmt verb
// show only the public key. It is safe for concurrent use. Build one with
// NewEcdhKey, EcdhKeyFromSeed, EcdhKeyFromSecret or
// EcdhKeyFromEd25519Secret; the zero value is not usable.
type EcdhKey struct {
	s   *hidden[scalar.Scalar]
	pub keys.PublicKey
}

// hidden keeps a secret two pointers away from its holder. fmt cannot call
// Format on a value in an unexported field and prints it by reflection; a
// pointer found there is printed as an address, except through a bad verb
// (say %s), where fmt restarts at depth 0 and would show the pointee of a
// pointer to an array or struct. Two pointers deep, only an address shows.
type hidden[T any] struct{ v *T }

// NewEcdhKey returns pair's ECDH key (Phala's derive_ecdh_key: the same
// secret scalar).
func NewEcdhKey(pair *keys.Pair) *EcdhKey {
	sk := pair.SecretBytes()
	k, err := EcdhKeyFromSecret(sk)
	clear(sk[:])
	if err != nil { // cannot happen: a Pair's scalar is canonical
		panic(err)
	}
	return k
}

// EcdhKeyFromSeed returns the ECDH key of the sr25519 pair with the given
// 32-byte mini secret key (Phala's EcdhKey::create, expansion mode Ed25519).
func EcdhKeyFromSeed(seed [32]byte) *EcdhKey { return NewEcdhKey(keys.FromSeed(seed)) }

// EcdhKeyFromSecret returns the ECDH key for a 64-byte sr25519 secret key in
// schnorrkel's to_bytes form (canonical scalar ‖ nonce; Phala's
// EcdhKey::from_secret). Only the scalar matters for ECDH; it must be
// canonical and non-zero.
func EcdhKeyFromSecret(secret [SecretKeySize]byte) (*EcdhKey, error) {
	k := &EcdhKey{s: &hidden[scalar.Scalar]{scalar.New()}}
	if _, err := k.s.v.SetCanonicalBytes(secret[:32]); err != nil {
		return nil, fmt.Errorf("%w: scalar is not canonical", ErrInvalidSecretKey)
	}
	if k.s.v.Equal(scalar.New()) == 1 {
		return nil, fmt.Errorf("%w: zero scalar", ErrInvalidSecretKey)
	}
	var p curve.RistrettoPoint
	p.MulBasepoint(curve.RISTRETTO_BASEPOINT_TABLE, k.s.v)
	var c curve.CompressedRistretto
	c.SetRistrettoPoint(&p)
	copy(k.pub[:], c[:])
	return k, nil
}

// EcdhKeyFromEd25519Secret returns the ECDH key for a 64-byte secret key in
// polkadot.js's form (schnorrkel's to_ed25519_bytes: scalar·8 ‖ nonce), the
// secretKey that @polkadot/util-crypto and @phala/sdk hand around.
func EcdhKeyFromEd25519Secret(secret [SecretKeySize]byte) (*EcdhKey, error) {
	s, err := SecretFromEd25519Form(secret)
	if err != nil {
		return nil, err
	}
	defer clear(s[:])
	return EcdhKeyFromSecret(s)
}

// SecretFromEd25519Form converts a 64-byte secret key from polkadot.js's form
// (scalar·8 ‖ nonce) to schnorrkel's to_bytes form (scalar ‖ nonce). The
// multiplied scalar must be divisible by 8 (its low three bits clear, as for
// every key polkadot.js produces) and the quotient canonical.
func SecretFromEd25519Form(ed [SecretKeySize]byte) ([SecretKeySize]byte, error) {
	var out [SecretKeySize]byte
	if ed[0]&7 != 0 {
		return out, fmt.Errorf("%w: ed25519-form scalar is not a multiple of 8", ErrInvalidSecretKey)
	}
	// Divide the 256-bit little-endian integer by 8: shift right by 3 bits.
	for i := 0; i < 32; i++ {
		out[i] = ed[i] >> 3
		if i < 31 {
			out[i] |= ed[i+1] << 5
		}
	}
	copy(out[32:], ed[32:])
	var s scalar.Scalar
	if _, err := s.SetCanonicalBytes(out[:32]); err != nil {
		clear(out[:])
		return out, fmt.Errorf("%w: scalar is not canonical", ErrInvalidSecretKey)
	}
	return out, nil
}

// SecretToEd25519Form converts a 64-byte secret key from schnorrkel's to_bytes
// form (scalar ‖ nonce) to polkadot.js's form (scalar·8 ‖ nonce, schnorrkel's
// to_ed25519_bytes). The scalar must be canonical.
func SecretToEd25519Form(secret [SecretKeySize]byte) ([SecretKeySize]byte, error) {
	var out [SecretKeySize]byte
	var s scalar.Scalar
	if _, err := s.SetCanonicalBytes(secret[:32]); err != nil {
		return out, fmt.Errorf("%w: scalar is not canonical", ErrInvalidSecretKey)
	}
	// A canonical scalar is below 2^253, so times 8 fits in 256 bits.
	var carry byte
	for i := 0; i < 32; i++ {
		out[i] = secret[i]<<3 | carry
		carry = secret[i] >> 5
	}
	copy(out[32:], secret[32:])
	return out, nil
}

// Public returns the key's ECDH public key, which equals the sr25519 public
// key of the pair it came from.
func (k *EcdhKey) Public() keys.PublicKey { return k.pub }

// Agree computes Phala's ECDH agreement with the peer's public key:
// compress(scalar · decompress(peer)), 32 bytes used directly as the
// AES-256-GCM key. It is symmetric: a.Agree(b.Public()) ==
// b.Agree(a.Public()). A peer key that does not decode, or that is the
// identity point (which would make the shared key a known constant), is
// rejected with ErrInvalidPublicKey.
func (k *EcdhKey) Agree(peer keys.PublicKey) ([SharedKeySize]byte, error) {
	var out [SharedKeySize]byte
	var p curve.RistrettoPoint
	if _, err := p.SetCompressed((*curve.CompressedRistretto)(&peer)); err != nil {
		return out, fmt.Errorf("%w: %x does not decode", ErrInvalidPublicKey, peer[:])
	}
	if p.IsIdentity() {
		return out, fmt.Errorf("%w: identity point", ErrInvalidPublicKey)
	}
	p.Mul(&p, k.s.v)
	var c curve.CompressedRistretto
	c.SetRistrettoPoint(&p)
	copy(out[:], c[:])
	return out, nil
}

// String shows the public key only.
func (k EcdhKey) String() string {
	return "cipher.EcdhKey{public: 0x" + hex.EncodeToString(k.pub[:]) + ", secret: redacted}"
}

// GoString shows the public key only.
func (k EcdhKey) GoString() string { return k.String() }

// Format makes every fmt verb (%v, %+v, %#v, %x, %s, …) print String, so the
// secret scalar never reaches a log. The methods have value receivers so that
// an EcdhKey printed by value is redacted too.
func (k EcdhKey) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }
