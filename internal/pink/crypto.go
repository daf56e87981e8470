package pink

import (
	"bytes"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/oasisprotocol/curve25519-voi/primitives/ed25519"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
)

// SigType is pink's SigType (its SCALE index).
type SigType uint8

// The signature types, in Phala's order.
const (
	SigEd25519 SigType = 0
	SigSr25519 SigType = 1
	SigEcdsa   SigType = 2
)

// Key and signature sizes of sp_core.
const (
	Sr25519SeedLen   = 32
	Sr25519SecretLen = 64
	EcdsaPubkeyLen   = 33
	EcdsaSigLen      = 65
)

// sr25519Pair is sp_core's sr25519 Pair::from_seed_slice: a 32-byte mini
// secret (Ed25519 expansion) or a 64-byte secret key (canonical scalar ‖
// nonce).
func sr25519Pair(key []byte) (*keys.Pair, bool) {
	switch len(key) {
	case Sr25519SeedLen:
		return keys.FromSeed([32]byte(key)), true
	case Sr25519SecretLen:
		p, err := keys.FromSecretBytes([64]byte(key))
		return p, err == nil
	}
	return nil, false
}

// ecdsaKey is sp_core's ecdsa Pair::from_seed_slice: 32 bytes, a scalar in
// [1, n).
func ecdsaKey(key []byte) (*secp256k1.PrivateKey, bool) {
	if len(key) != 32 {
		return nil, false
	}
	var k secp256k1.ModNScalar
	if overflow := k.SetByteSlice(key); overflow || k.IsZero() {
		return nil, false
	}
	return secp256k1.NewPrivateKey(&k), true
}

// signPrehashed signs a 32-byte hash and returns sp_core's 65-byte
// recoverable signature r ‖ s ‖ v (v = recovery id 0..3, low s, RFC 6979
// nonce as libsecp256k1).
func signPrehashed(k *secp256k1.PrivateKey, hash []byte) [EcdsaSigLen]byte {
	compact := ecdsa.SignCompact(k, hash, true) // [27+4+v] ‖ r ‖ s
	var out [EcdsaSigLen]byte
	copy(out[:64], compact[1:])
	out[64] = compact[0] - 27 - 4
	return out
}

// ecdsaRecover is sp_core's Signature::recover_prehashed: the compressed
// public key that made sig over hash, or false.
func ecdsaRecover(sig, hash []byte) ([]byte, bool) {
	if len(sig) != EcdsaSigLen || sig[64] > 3 {
		return nil, false
	}
	compact := make([]byte, 65)
	compact[0] = 27 + 4 + sig[64]
	copy(compact[1:], sig[:64])
	pub, _, err := ecdsa.RecoverCompact(compact, hash)
	if err != nil {
		return nil, false
	}
	return pub.SerializeCompressed(), true
}

func (c *call) sigCost(t SigType, sign bool) uint64 {
	g := c.s.gas
	switch {
	case t == SigSr25519 && sign:
		return g.Sr25519Sign
	case t == SigSr25519:
		return g.Sr25519Verify
	case t == SigEd25519 && sign:
		return g.Ed25519Sign
	case t == SigEd25519:
		return g.Ed25519Verify
	case sign:
		return g.EcdsaSign
	}
	return g.EcdsaVerify
}

// sign is sign(sigtype, key, message) -> Vec<u8>. An unusable key traps
// ("Invalid key"), as Phala. Sr25519 signing is randomized, so a
// transaction gets an empty signature.
func (c *call) sign() (uint32, []byte, error) {
	t := SigType(c.r.Enum(2))
	key := c.bytesArg()
	msg := c.bytesArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if t == SigSr25519 && c.s.inTx() {
		return statusOK, encBytes(nil), nil
	}
	if err := c.charge(c.sigCost(t, true) + c.s.gas.HashPerByte*uint64(len(msg))); err != nil {
		return 0, nil, err
	}
	switch t {
	case SigSr25519:
		p, ok := sr25519Pair(key)
		if !ok {
			return 0, nil, c.fail(invalidKeyMessage)
		}
		sig := p.Sign(msg)
		return statusOK, encBytes(sig[:]), nil
	case SigEd25519:
		if len(key) != ed25519.SeedSize {
			return 0, nil, c.fail(invalidKeyMessage)
		}
		return statusOK, encBytes(ed25519.Sign(ed25519.NewKeyFromSeed(key), msg)), nil
	default:
		k, ok := ecdsaKey(key)
		if !ok {
			return 0, nil, c.fail(invalidKeyMessage)
		}
		h := hashing.Blake2b256(msg)
		sig := signPrehashed(k, h[:])
		return statusOK, encBytes(sig[:]), nil
	}
}

// verify is verify(sigtype, pubkey, message, signature) -> bool. A public
// key or signature of the wrong length traps, as Phala ("Invalid public
// key", "Invalid signature"); a well-sized but bad one is false.
func (c *call) verify() (uint32, []byte, error) {
	t := SigType(c.r.Enum(2))
	pub := c.bytesArg()
	msg := c.bytesArg()
	sig := c.bytesArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	pubLen, sigLen := 32, 64
	if t == SigEcdsa {
		pubLen, sigLen = EcdsaPubkeyLen, EcdsaSigLen
	}
	if len(pub) != pubLen {
		return 0, nil, c.fail(invalidPublicKeyMessage)
	}
	if len(sig) != sigLen {
		return 0, nil, c.fail(invalidSignatureMessage)
	}
	if err := c.charge(c.sigCost(t, false) + c.s.gas.HashPerByte*uint64(len(msg))); err != nil {
		return 0, nil, err
	}
	var ok bool
	switch t {
	case SigSr25519:
		ok = keys.Verify(keys.PublicKey(pub), msg, keys.Signature(sig))
	case SigEd25519:
		// sp_core verifies ed25519 with ed25519-zebra: ZIP-215 rules.
		ok = ed25519.VerifyWithOptions(ed25519.PublicKey(pub), msg, sig, &ed25519.Options{Verify: ed25519.VerifyOptionsZIP_215})
	default:
		h := hashing.Blake2b256(msg)
		got, rok := ecdsaRecover(sig, h[:])
		ok = rok && bytes.Equal(got, pub)
	}
	return statusOK, encBool(ok), nil
}

// getPublicKey is get_public_key(sigtype, key) -> Vec<u8>: 32 bytes for
// sr25519 and ed25519, 33 (compressed) for ecdsa.
func (c *call) getPublicKey() (uint32, []byte, error) {
	t := SigType(c.r.Enum(2))
	key := c.bytesArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.PublicKey); err != nil {
		return 0, nil, err
	}
	switch t {
	case SigSr25519:
		p, ok := sr25519Pair(key)
		if !ok {
			return 0, nil, c.fail(invalidKeyMessage)
		}
		pub := p.Public()
		return statusOK, encBytes(pub[:]), nil
	case SigEd25519:
		if len(key) != ed25519.SeedSize {
			return 0, nil, c.fail(invalidKeyMessage)
		}
		priv := ed25519.NewKeyFromSeed(key)
		return statusOK, encBytes(priv[32:]), nil
	default:
		k, ok := ecdsaKey(key)
		if !ok {
			return 0, nil, c.fail(invalidKeyMessage)
		}
		return statusOK, encBytes(k.PubKey().SerializeCompressed()), nil
	}
}

// deriveSr25519Key is derive_sr25519_key(salt) -> Vec<u8>: Phala's
//
//	derive_sr25519_pair(cluster_key, [contract_address, salt, "keygen"])
//
// returned as the 64-byte secret (canonical scalar ‖ nonce). It depends only
// on the cluster key, the contract and the salt, so every worker of the
// cluster derives the same key, in queries and transactions alike.
func (c *call) deriveSr25519Key() (uint32, []byte, error) {
	salt := c.bytesArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.DeriveKey + c.s.gas.HashPerByte*uint64(len(salt))); err != nil {
		return 0, nil, err
	}
	if c.s.env.ClusterKey == nil {
		return 0, nil, c.fail("KeySeedMissing")
	}
	p := cipher.ContractDerivedKey(c.s.env.ClusterKey, c.addr(), salt)
	sk := p.SecretBytes()
	out := encBytes(sk[:])
	clear(sk[:])
	return statusOK, out, nil
}

// ecdsaSignPrehashed is ecdsa_sign_prehashed(key, message_hash) -> [u8; 65].
func (c *call) ecdsaSignPrehashed() (uint32, []byte, error) {
	key := c.bytesArg()
	var h [32]byte
	c.r.Fixed(h[:])
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.EcdsaSign); err != nil {
		return 0, nil, err
	}
	k, ok := ecdsaKey(key)
	if !ok {
		return 0, nil, c.fail(invalidKeyMessage)
	}
	sig := signPrehashed(k, h[:])
	return statusOK, sig[:], nil
}

// ecdsaVerifyPrehashed is ecdsa_verify_prehashed(signature: [u8; 65],
// message_hash: [u8; 32], pubkey: [u8; 33]) -> bool.
func (c *call) ecdsaVerifyPrehashed() (uint32, []byte, error) {
	var sig [EcdsaSigLen]byte
	var h [32]byte
	var pub [EcdsaPubkeyLen]byte
	c.r.Fixed(sig[:])
	c.r.Fixed(h[:])
	c.r.Fixed(pub[:])
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.EcdsaVerify); err != nil {
		return 0, nil, err
	}
	got, ok := ecdsaRecover(sig[:], h[:])
	return statusOK, encBool(ok && bytes.Equal(got, pub[:])), nil
}
