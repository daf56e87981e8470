package cipher

import (
	"encoding/binary"
	"fmt"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Salts (key-derivation info) of the encrypted key envelopes.
const (
	// MasterKeySharingSalt derives the gatekeeper key that encrypts master
	// keys to new gatekeepers (gk.rs MASTER_KEY_SHARING_SALT).
	MasterKeySharingSalt = "master_key_sharing"
	// ClusterKeySharingSalt derives the gatekeeper key that encrypts cluster
	// keys to the cluster's workers.
	ClusterKeySharingSalt = "cluster_key_sharing"
	// WorkerKeyHandoverSalt derives the key that encrypts a worker's
	// identity key to its successor pRuntime (with a random IV).
	WorkerKeyHandoverSalt = "worker_key_handover"
)

// EncryptedKeySize is the size of an encrypted sr25519 secret key: the 64-byte
// secret plus the GCM tag.
const EncryptedKeySize = SecretKeySize + TagSize

// EncryptedKey carries an sr25519 secret key encrypted to one receiver
// (phala-types EncryptedKey):
//
//	EncryptedKey { ecdh_pubkey: sr25519::Public, encrypted_key: Vec<u8>, iv: [u8; 12] }
//
// ecdh_pubkey is the public key of the sender's derived ECDH key.
type EncryptedKey struct {
	EcdhPubkey   keys.PublicKey
	EncryptedKey []byte
	IV           IV
}

// EncodeSCALE writes the SCALE encoding.
func (k *EncryptedKey) EncodeSCALE(w *scale.Writer) {
	w.Raw(k.EcdhPubkey[:])
	w.BytesVec(k.EncryptedKey)
	w.Raw(k.IV[:])
}

// DecodeSCALE reads the SCALE encoding; allocation is bounded by the input.
// An encrypted key shorter than the GCM tag is an error.
func (k *EncryptedKey) DecodeSCALE(r *scale.Reader) {
	r.Fixed(k.EcdhPubkey[:])
	k.EncryptedKey = r.BytesVec()
	r.Fixed(k.IV[:])
	if r.Err() == nil && len(k.EncryptedKey) < TagSize {
		r.Fail(fmt.Errorf("%w: encrypted key is %d bytes", ErrShortCiphertext, len(k.EncryptedKey)))
	}
}

// Encode returns the SCALE encoding.
func (k *EncryptedKey) Encode() []byte {
	w := scale.NewWriter(PublicKeySize + 2 + len(k.EncryptedKey) + IVSize)
	k.EncodeSCALE(w)
	return w.Bytes()
}

// DecodeEncryptedKey decodes a SCALE EncryptedKey that must consume b exactly.
func DecodeEncryptedKey(b []byte) (*EncryptedKey, error) {
	k := new(EncryptedKey)
	if err := scale.Decode(b, k); err != nil {
		return nil, fmt.Errorf("%w: encrypted key: %w", ErrMalformed, err)
	}
	return k, nil
}

// EncryptSecretTo encrypts a 64-byte secret key (to_bytes form) from the
// sender's key to the receiver's ECDH public key (phala-crypto key_share.rs
// encrypt_secret_to):
//
//	derived = derive_sr25519_pair(sender, [salt])          // DerivePair
//	shared  = agree(ecdh(derived), receiver)              // 32 bytes
//	ct      = AES-256-GCM(shared, iv, aad = ∅, secret)   // 64 + 16 bytes
//	EncryptedKey { ecdh_pubkey: derived.public, encrypted_key: ct, iv }
//
// salt is the derivation info (MasterKeySharingSalt, ClusterKeySharingSalt
// or WorkerKeyHandoverSalt); since HKDF info slices are concatenated, one
// slice is as general as several. Gatekeepers pass an IV from their
// IVGenerator; the handover uses a random one.
func EncryptSecretTo(sender *keys.Pair, salt []byte, receiver keys.PublicKey, secret [SecretKeySize]byte, iv IV) (*EncryptedKey, error) {
	ecdh := NewEcdhKey(DerivePair(sender, salt))
	shared, err := ecdh.Agree(receiver)
	if err != nil {
		return nil, err
	}
	defer clear(shared[:])
	return &EncryptedKey{
		EcdhPubkey:   ecdh.Public(),
		EncryptedKey: Seal(shared, iv, secret[:]),
		IV:           iv,
	}, nil
}

// Decrypt opens the envelope with the receiver's ECDH key and returns the
// 64-byte secret key (phala-crypto key_share.rs decrypt_secret_from). A
// ciphertext that is not exactly 64+16 bytes is refused before decryption.
func (k *EncryptedKey) Decrypt(receiver *EcdhKey) ([SecretKeySize]byte, error) {
	var out [SecretKeySize]byte
	if len(k.EncryptedKey) != EncryptedKeySize {
		return out, fmt.Errorf("%w: encrypted key is %d bytes, want %d", ErrMalformed, len(k.EncryptedKey), EncryptedKeySize)
	}
	shared, err := receiver.Agree(k.EcdhPubkey)
	if err != nil {
		return out, err
	}
	defer clear(shared[:])
	pt, err := Open(shared, k.IV, k.EncryptedKey)
	if err != nil {
		return out, err
	}
	copy(out[:], pt)
	clear(pt)
	return out, nil
}

// DecryptPair opens the envelope and restores the sr25519 pair (Phala's
// restore_from_secret_key). A secret whose scalar is not canonical is
// ErrInvalidSecretKey.
func (k *EncryptedKey) DecryptPair(receiver *EcdhKey) (*keys.Pair, error) {
	secret, err := k.Decrypt(receiver)
	if err != nil {
		return nil, err
	}
	defer clear(secret[:])
	p, err := keys.FromSecretBytes(secret)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrInvalidSecretKey, err)
	}
	return p, nil
}

// KeyShareIV is the gatekeeper's deterministic IV (gk.rs generate_iv):
//
//	iv = blake2_256(ivSecret ‖ block_number as u32 big-endian ‖ seq as u64 big-endian)[0..12]
//
// where ivSecret is IVGeneratorKey(master).SecretBytes().
func KeyShareIV(ivSecret *[SecretKeySize]byte, block uint32, seq uint64) IV {
	var tail [12]byte
	binary.BigEndian.PutUint32(tail[:4], block)
	binary.BigEndian.PutUint64(tail[4:], seq)
	h := hashing.Blake2b256(ivSecret[:], tail[:])
	var iv IV
	copy(iv[:], h[:IVSize])
	return iv
}

// IVGenerator produces a gatekeeper's deterministic IVs: the n-th IV it
// hands out (from a starting sequence number) is KeyShareIV(iv_generator
// secret, block, seq) with seq incremented after each one, as Keyfairy's
// iv_seq. The sequence number is part of the gatekeeper's persistent state:
// a pRuntime restored from a checkpoint resumes with NewIVGenerator(master,
// savedSeq) and produces byte-identical envelopes. After a master-key
// rotation, build a new generator from the new master key and the current
// Seq.
//
// An IVGenerator holds a secret and never prints it. It is not safe for
// concurrent use.
type IVGenerator struct {
	secret *hidden[[SecretKeySize]byte] // see hidden
	seq    uint64
}

// NewIVGenerator returns the generator for master starting at sequence
// number seq (0 for a fresh gatekeeper).
func NewIVGenerator(master *keys.Pair, seq uint64) *IVGenerator {
	sk := IVGeneratorKey(master).SecretBytes()
	return &IVGenerator{secret: &hidden[[SecretKeySize]byte]{&sk}, seq: seq}
}

// Next returns the IV for an envelope made while processing block, and
// advances the sequence number.
func (g *IVGenerator) Next(block uint32) IV {
	iv := KeyShareIV(g.secret.v, block, g.seq)
	g.seq++
	return iv
}

// Seq returns the sequence number the next IV will use.
func (g *IVGenerator) Seq() uint64 { return g.seq }

// String shows the sequence number only.
func (g IVGenerator) String() string {
	return fmt.Sprintf("cipher.IVGenerator{seq: %d, secret: redacted}", g.seq)
}

// GoString shows the sequence number only.
func (g IVGenerator) GoString() string { return g.String() }

// Format makes every fmt verb print String.
func (g IVGenerator) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(g.String())) }

// EncryptKeyTo is the gatekeeper's encrypt_key_to (gk.rs): EncryptSecretTo
// from the master key with salt, under the generator's next IV for block.
func EncryptKeyTo(master *keys.Pair, gen *IVGenerator, salt []byte, receiver keys.PublicKey, secret [SecretKeySize]byte, block uint32) (*EncryptedKey, error) {
	// Phala draws the IV before encrypting, so a failed encryption still
	// consumes a sequence number; so do we, to stay in step.
	iv := gen.Next(block)
	return EncryptSecretTo(master, salt, receiver, secret, iv)
}
