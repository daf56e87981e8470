// Package keys implements Cella account keys: sr25519 key pairs that match
// Substrate (sp_core), subkey and polkadot.js, secret URIs with derivation
// paths ("//Alice", "MNEMONIC//hard/soft///password"), substrate-bip39
// mnemonics and SS58 addresses.
//
// Signing and verification use the signing context "substrate", so a
// signature made here verifies in polkadot.js and Substrate runtimes and vice
// versa. Verification and batch verification use curve25519-voi; hierarchical
// derivation uses go-schnorrkel.
package keys

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"github.com/oasisprotocol/curve25519-voi/primitives/sr25519"
)

// DevPhrase is Substrate's well-known development mnemonic. A secret URI that
// starts with "/" (for example "//Alice") is derived from it.
const DevPhrase = "bottom drive obey lake curtain smoke basket hold race lonely fit walk"

// DefaultSS58Prefix is the generic Substrate SS58 address prefix (42), which
// gives addresses starting with "5".
const DefaultSS58Prefix = 42

// signingContext is the schnorrkel signing context Substrate uses for sr25519.
var signingContext = sr25519.NewSigningContext([]byte("substrate"))

// PublicKey is an sr25519 public key (a compressed Ristretto point). It is also
// the 32-byte AccountId of an account.
type PublicKey [32]byte

// Signature is a 64-byte schnorrkel signature (R ‖ s, with the schnorrkel
// marker bit set in the last byte).
type Signature [64]byte

// Hex returns the key as 0x-prefixed lowercase hex.
func (k PublicKey) Hex() string { return "0x" + hex.EncodeToString(k[:]) }

// String returns the key's SS58 address with the default prefix.
func (k PublicKey) String() string { return EncodeSS58(k, DefaultSS58Prefix) }

// Hex returns the signature as 0x-prefixed lowercase hex.
func (s Signature) Hex() string { return "0x" + hex.EncodeToString(s[:]) }

// Pair is an sr25519 key pair. A Pair is safe for concurrent use.
type Pair struct {
	kp      *sr25519.KeyPair
	pub     PublicKey
	seed    [32]byte
	hasSeed bool
}

// expandEd25519 expands a mini secret key the way schnorrkel's
// ExpansionMode::Ed25519 does (sp_core's choice) and returns the canonical
// scalar and the nonce, i.e. the 64-byte schnorrkel SecretKey encoding.
func expandEd25519(seed [32]byte) (key [32]byte, nonce [32]byte) {
	msk, err := schnorrkel.NewMiniSecretKeyFromRaw(seed)
	if err != nil { // cannot happen: any 32 bytes are a mini secret key
		panic("keys: " + err.Error())
	}
	key = msk.ExpandEd25519().Encode()
	h := sha512.Sum512(seed[:])
	copy(nonce[:], h[32:])
	return key, nonce
}

// newPair builds a Pair from a schnorrkel secret scalar and nonce.
func newPair(key, nonce [32]byte) (*Pair, error) {
	var b [64]byte
	copy(b[:32], key[:])
	copy(b[32:], nonce[:])
	sk, err := sr25519.NewSecretKeyFromBytes(b[:])
	if err != nil {
		return nil, fmt.Errorf("keys: invalid secret key: %w", err)
	}
	kp := sk.KeyPair()
	pb, err := kp.PublicKey().MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("keys: encoding public key: %w", err)
	}
	p := &Pair{kp: kp}
	copy(p.pub[:], pb)
	return p, nil
}

// FromSeed returns the pair for a 32-byte mini secret key ("secret seed" in
// subkey), expanded in Ed25519 mode exactly as sp_core's sr25519 Pair does.
func FromSeed(seed [32]byte) *Pair {
	key, nonce := expandEd25519(seed)
	p, err := newPair(key, nonce)
	if err != nil { // cannot happen: the expanded scalar is canonical
		panic(err)
	}
	p.seed = seed
	p.hasSeed = true
	return p
}

// FromSecretBytes restores a pair from its 64-byte schnorrkel secret key in
// the to_bytes form: the canonical secret scalar (little-endian, reduced mod
// the group order) followed by the 32-byte signing nonce. It is sp_core's
// Pair::from_seed_slice for 64 bytes (Phala's restore_from_secret_key). A
// non-canonical scalar is an error. The pair's seed is not known.
//
// This is not the 64-byte form polkadot.js returns, whose scalar is
// multiplied by the cofactor 8 (schnorrkel's to_ed25519_bytes).
func FromSecretBytes(secret [64]byte) (*Pair, error) {
	var key, nonce [32]byte
	copy(key[:], secret[:32])
	copy(nonce[:], secret[32:])
	return newPair(key, nonce)
}

// SecretBytes returns the pair's 64-byte schnorrkel secret key in the
// to_bytes form (canonical scalar ‖ nonce), as sp_core's Pair::to_raw_vec and
// Phala's dump_secret_key. Callers must keep it secret.
func (p *Pair) SecretBytes() [64]byte {
	b, err := p.kp.SecretKey().MarshalBinary()
	if err != nil { // cannot happen for a constructed pair
		panic("keys: encoding secret key: " + err.Error())
	}
	var out [64]byte
	copy(out[:], b)
	return out
}

// Public returns the pair's public key (its AccountId).
func (p *Pair) Public() PublicKey { return p.pub }

// Seed returns the pair's 32-byte mini secret key when it is known. It is not
// known for pairs whose derivation path contains a soft junction.
func (p *Pair) Seed() ([32]byte, bool) { return p.seed, p.hasSeed }

// Sign signs msg with the signing context "substrate". Signatures are
// randomized, so signing the same message twice gives different signatures.
func (p *Pair) Sign(msg []byte) Signature { return p.sign(msg, nil) }

// SignDeterministic signs msg with the signing context "substrate" and no
// fresh randomness: the same key and message always give the same
// signature. The witness is still derived from the secret nonce and the
// whole transcript (merlin's witness construction, fed zeros instead of
// random bytes), so it stays secret and differs for every message. pRuntime
// uses it so that a worker restored from a checkpoint re-signs its egress
// messages byte for byte.
func (p *Pair) SignDeterministic(msg []byte) Signature { return p.sign(msg, zeroReader{}) }

type zeroReader struct{}

func (zeroReader) Read(b []byte) (int, error) {
	clear(b)
	return len(b), nil
}

func (p *Pair) sign(msg []byte, rng io.Reader) Signature {
	sig, err := p.kp.Sign(rng, signingContext.NewTranscriptBytes(msg))
	if err != nil { // only on a failing system random source
		panic("keys: signing failed: " + err.Error())
	}
	b, err := sig.MarshalBinary()
	if err != nil {
		panic("keys: encoding signature: " + err.Error())
	}
	var out Signature
	copy(out[:], b)
	return out
}

// schnorrkelSecret returns the pair's secret key as a go-schnorrkel value, for
// hierarchical derivation.
func (p *Pair) schnorrkelSecret() (*schnorrkel.SecretKey, error) {
	b, err := p.kp.SecretKey().MarshalBinary()
	if err != nil {
		return nil, err
	}
	var key, nonce [32]byte
	copy(key[:], b[:32])
	copy(nonce[:], b[32:])
	return schnorrkel.NewSecretKey(key, nonce), nil
}

// Verify reports whether sig is pub's valid signature of msg under the signing
// context "substrate". Malformed keys or signatures are simply invalid.
func Verify(pub PublicKey, msg []byte, sig Signature) bool {
	pk, err := sr25519.NewPublicKeyFromBytes(pub[:])
	if err != nil {
		return false
	}
	s, err := sr25519.NewSignatureFromBytes(sig[:])
	if err != nil {
		return false
	}
	return pk.Verify(signingContext.NewTranscriptBytes(msg), s)
}

// BatchVerifier verifies many signatures at once, which is about twice as fast
// as verifying them one by one when all are valid. The zero value is not
// usable; call NewBatchVerifier.
type BatchVerifier struct {
	v *sr25519.BatchVerifier
	n int
	// bad marks entries whose key or signature could not even be decoded.
	bad []bool
}

// NewBatchVerifier returns an empty BatchVerifier with room for n entries.
func NewBatchVerifier(n int) *BatchVerifier {
	if n < 0 {
		n = 0
	}
	return &BatchVerifier{v: sr25519.NewBatchVerifierWithCapacity(n), bad: make([]bool, 0, n)}
}

// Add queues the signature sig by pub over msg.
func (b *BatchVerifier) Add(pub PublicKey, msg []byte, sig Signature) {
	b.n++
	pk, err1 := sr25519.NewPublicKeyFromBytes(pub[:])
	s, err2 := sr25519.NewSignatureFromBytes(sig[:])
	if err1 != nil || err2 != nil {
		b.bad = append(b.bad, true)
		return
	}
	b.bad = append(b.bad, false)
	b.v.Add(pk, signingContext.NewTranscriptBytes(msg), s)
}

// Len returns the number of queued entries.
func (b *BatchVerifier) Len() int { return b.n }

// Verify checks every queued signature. allValid is true when all of them are
// valid (and false for an empty batch); valid[i] tells whether the i-th added
// entry is valid. When the batch fails as a whole, every entry is verified on
// its own so valid is exact.
func (b *BatchVerifier) Verify() (allValid bool, valid []bool) {
	valid = make([]bool, b.n)
	if b.n == 0 {
		return false, valid
	}
	_, inner := b.v.Verify(nil)
	allValid = true
	j := 0
	for i := range b.bad {
		if b.bad[i] {
			allValid = false
			continue
		}
		if j < len(inner) && inner[j] {
			valid[i] = true
		} else {
			allValid = false
		}
		j++
	}
	return allValid, valid
}

// WrapBytes returns "<Bytes>" ‖ msg ‖ "</Bytes>", the wrapping the polkadot.js
// extension's signRaw applies before signing arbitrary data. A message that is
// already wrapped is returned unchanged, as polkadot.js's u8aWrapBytes does.
func WrapBytes(msg []byte) []byte {
	if IsWrapped(msg) {
		return append([]byte(nil), msg...)
	}
	out := make([]byte, 0, len(msg)+len(bytesPrefix)+len(bytesSuffix))
	out = append(out, bytesPrefix...)
	out = append(out, msg...)
	return append(out, bytesSuffix...)
}

const (
	bytesPrefix = "<Bytes>"
	bytesSuffix = "</Bytes>"
)

// IsWrapped reports whether msg is already wrapped in <Bytes>…</Bytes>.
func IsWrapped(msg []byte) bool {
	s := string(msg)
	return len(s) >= len(bytesPrefix)+len(bytesSuffix) &&
		strings.HasPrefix(s, bytesPrefix) && strings.HasSuffix(s, bytesSuffix)
}
