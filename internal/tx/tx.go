// Package tx defines Cella's transaction format: a consensus format, SCALE
// encoded and versioned.
//
// # Encoding (Version1)
//
//	Tx   = Body ‖ Wrapping u8 ‖ Signature [64]u8
//	Body = Version u8 ‖ Scheme u8 ‖ Signer [32]u8 ‖ Genesis [32]u8 ‖
//	       Nonce u64 ‖ ValidUntil u64 ‖ FeeLimit u128 ‖ Call
//	Call = Module u8 ‖ Method u8 ‖ Args Vec<u8>
//
// Integers are little-endian and fixed width; Args carries a compact length
// prefix (canonical form required). Decode is strict: the version, scheme and
// wrapping must be known, the input must be consumed exactly and be at most
// MaxTxBytes long. Anything else is an error, never a panic.
//
// # Signing
//
// The signer signs SigningPayload: the domain "cella/tx/v1" followed by the
// SCALE encoding of the Body. Payloads longer than 256 bytes are replaced by
// their BLAKE2b-256 hash before signing, as Substrate does. Because the body
// carries the genesis hash, a transaction cannot be replayed on another
// chain, and a verifier can report "wrong genesis" precisely instead of "bad
// signature".
//
// Wrapping is not signed: it states how the signature was made. With
// WrapBytes the signature covers "<Bytes>" ‖ payload ‖ "</Bytes>", which is
// what the polkadot.js extension's signRaw produces, so wallet users can sign
// without handing a mnemonic to a CLI.
package tx

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Version1 is the first (and current) transaction format version.
const Version1 = 1

// MaxTxBytes is the largest encoded transaction accepted (4 MiB). The node
// configures CometBFT's mempool and block limits consistently with it.
const MaxTxBytes = 4 << 20

// MaxUnhashedPayload is the longest signing payload signed as is; longer
// payloads are signed through their BLAKE2b-256 hash.
const MaxUnhashedPayload = 256

// SigningDomain prefixes every signing payload of Version1.
const SigningDomain = "cella/tx/v1"

// Scheme identifies a signature scheme.
type Scheme uint8

// Known signature schemes. Only Sr25519 is accepted today; the other values
// are reserved so that later versions can add them without renumbering.
const (
	Sr25519 Scheme = 1
	// Ed25519 is reserved.
	Ed25519 Scheme = 2
	// Ecdsa is reserved.
	Ecdsa Scheme = 3
)

// String names the scheme.
func (s Scheme) String() string {
	switch s {
	case Sr25519:
		return "sr25519"
	case Ed25519:
		return "ed25519"
	case Ecdsa:
		return "ecdsa"
	}
	return fmt.Sprintf("scheme(%d)", uint8(s))
}

// Wrapping says how the signed message was derived from the signing payload.
type Wrapping uint8

const (
	// WrapNone means the signature covers the payload itself.
	WrapNone Wrapping = 0
	// WrapBytes means the signature covers "<Bytes>" ‖ payload ‖ "</Bytes>"
	// (polkadot.js signRaw).
	WrapBytes Wrapping = 1
)

// Errors returned by Decode. Each is wrapped with detail; test with errors.Is.
var (
	// ErrMalformed means the bytes are not a well-formed transaction.
	ErrMalformed = errors.New("tx: malformed transaction")
	// ErrOversize means the transaction is longer than MaxTxBytes.
	ErrOversize = errors.New("tx: transaction too large")
	// ErrUnsupportedVersion means the format version is unknown.
	ErrUnsupportedVersion = errors.New("tx: unsupported transaction version")
	// ErrUnsupportedScheme means the signature scheme is unknown or not yet accepted.
	ErrUnsupportedScheme = errors.New("tx: unsupported signature scheme")
	// ErrUnsupportedWrapping means the wrapping tag is unknown.
	ErrUnsupportedWrapping = errors.New("tx: unsupported signature wrapping")
)

// Call is a module call: like Substrate's pallet index and call index, with
// the module's SCALE-encoded arguments.
type Call struct {
	Module uint8
	Method uint8
	Args   []byte
}

// Body is the signed part of a transaction.
type Body struct {
	Version uint8
	Scheme  Scheme
	Signer  keys.PublicKey
	// Genesis is the genesis hash of the chain the transaction is meant for.
	Genesis [32]byte
	// Nonce must equal the signer's account nonce when the tx executes.
	Nonce uint64
	// ValidUntil is the last height at which the tx may be included; 0 means no expiry.
	ValidUntil uint64
	// FeeLimit is the most the signer agrees to pay in fees (base units).
	FeeLimit scale.U128
	Call     Call
}

// Tx is a signed transaction.
type Tx struct {
	Body      Body
	Wrapping  Wrapping
	Signature keys.Signature
}

// EncodeSCALE writes the body's SCALE encoding.
func (b *Body) EncodeSCALE(w *scale.Writer) {
	w.U8(b.Version)
	w.U8(uint8(b.Scheme))
	w.Raw(b.Signer[:])
	w.Raw(b.Genesis[:])
	w.U64(b.Nonce)
	w.U64(b.ValidUntil)
	w.U128(b.FeeLimit)
	w.U8(b.Call.Module)
	w.U8(b.Call.Method)
	w.BytesVec(b.Call.Args)
}

// bodyFixedLen is the encoded size of a Body without its Args bytes and their
// length prefix.
const bodyFixedLen = 1 + 1 + 32 + 32 + 8 + 8 + 16 + 1 + 1

// DecodeSCALE reads a body. It checks the version and scheme.
func (b *Body) DecodeSCALE(r *scale.Reader) {
	b.Version = r.U8()
	if r.Err() == nil && b.Version != Version1 {
		r.Fail(fmt.Errorf("%w: %d", ErrUnsupportedVersion, b.Version))
	}
	b.Scheme = Scheme(r.U8())
	if r.Err() == nil && b.Scheme != Sr25519 {
		r.Fail(fmt.Errorf("%w: %s", ErrUnsupportedScheme, b.Scheme))
	}
	r.Fixed(b.Signer[:])
	r.Fixed(b.Genesis[:])
	b.Nonce = r.U64()
	b.ValidUntil = r.U64()
	b.FeeLimit = r.U128()
	b.Call.Module = r.U8()
	b.Call.Method = r.U8()
	b.Call.Args = r.BytesVec()
}

// SigningPayload returns the bytes the signer signs: SigningDomain ‖
// SCALE(Body), or the BLAKE2b-256 hash of that when it is longer than
// MaxUnhashedPayload bytes.
func (b *Body) SigningPayload() []byte {
	w := scale.NewWriter(len(SigningDomain) + bodyFixedLen + 5 + len(b.Call.Args))
	w.Raw([]byte(SigningDomain))
	b.EncodeSCALE(w)
	p := w.Bytes()
	if len(p) > MaxUnhashedPayload {
		h := hashing.Blake2b256(p)
		return h[:]
	}
	return p
}

// SignedMessage returns the message the signature covers: the signing
// payload, wrapped in <Bytes>…</Bytes> when Wrapping is WrapBytes.
func (t *Tx) SignedMessage() []byte {
	p := t.Body.SigningPayload()
	if t.Wrapping == WrapBytes {
		return keys.WrapBytes(p)
	}
	return p
}

// Verify reports whether the signature is valid for the signer. It does not
// check anything else (genesis, nonce, fees): that is the state machine's job.
func (t *Tx) Verify() bool {
	if t.Body.Scheme != Sr25519 {
		return false
	}
	return keys.Verify(t.Body.Signer, t.SignedMessage(), t.Signature)
}

// Sign signs b with p and returns the transaction (WrapNone). It fills in
// Version, Scheme and Signer when they are zero; the caller sets the rest.
func Sign(b Body, p *keys.Pair) *Tx {
	if b.Version == 0 {
		b.Version = Version1
	}
	if b.Scheme == 0 {
		b.Scheme = Sr25519
	}
	if b.Signer == (keys.PublicKey{}) {
		b.Signer = p.Public()
	}
	t := &Tx{Body: b, Wrapping: WrapNone}
	t.Signature = p.Sign(t.SignedMessage())
	return t
}

// EncodeSCALE writes the transaction's SCALE encoding.
func (t *Tx) EncodeSCALE(w *scale.Writer) {
	t.Body.EncodeSCALE(w)
	w.U8(uint8(t.Wrapping))
	w.Raw(t.Signature[:])
}

// DecodeSCALE reads a transaction, checking version, scheme and wrapping.
func (t *Tx) DecodeSCALE(r *scale.Reader) {
	t.Body.DecodeSCALE(r)
	t.Wrapping = Wrapping(r.U8())
	if r.Err() == nil && t.Wrapping != WrapNone && t.Wrapping != WrapBytes {
		r.Fail(fmt.Errorf("%w: %d", ErrUnsupportedWrapping, t.Wrapping))
	}
	r.Fixed(t.Signature[:])
}

// Encode returns the transaction's bytes.
func (t *Tx) Encode() []byte {
	w := scale.NewWriter(bodyFixedLen + 5 + len(t.Body.Call.Args) + 1 + 64)
	t.EncodeSCALE(w)
	return w.Bytes()
}

// Decode parses raw strictly. Errors wrap ErrOversize, ErrMalformed,
// ErrUnsupportedVersion, ErrUnsupportedScheme or ErrUnsupportedWrapping.
// The returned Tx does not alias raw.
func Decode(raw []byte) (*Tx, error) {
	if len(raw) > MaxTxBytes {
		return nil, fmt.Errorf("%w: %d bytes > %d", ErrOversize, len(raw), MaxTxBytes)
	}
	var t Tx
	r := scale.NewReader(raw)
	t.DecodeSCALE(r)
	if err := r.Finish(); err != nil {
		if errors.Is(err, ErrUnsupportedVersion) || errors.Is(err, ErrUnsupportedScheme) || errors.Is(err, ErrUnsupportedWrapping) {
			return nil, err
		}
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return &t, nil
}

// Hash returns the transaction id: the BLAKE2b-256 hash of its raw bytes.
func Hash(raw []byte) [32]byte { return hashing.Blake2b256(raw) }
