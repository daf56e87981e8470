package phatwire

import (
	"bytes"
	"fmt"

	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/cella-network/cella/internal/hashing"
)

// verifyEcdsa checks a Substrate ECDSA signature (sp_core::ecdsa): 65 bytes
// r ‖ s ‖ recovery id (0–3) over blake2_256(msg); the key recovered from it
// must be the certificate's 33-byte compressed key. The account is
// blake2_256 of that key, as Substrate maps ECDSA keys to accounts.
func verifyEcdsa(pubkey, sig, msg []byte) (AccountID, error) {
	if len(pubkey) != 33 {
		return AccountID{}, fmt.Errorf("%w: ecdsa key of %d bytes, want 33 (compressed)", ErrBadPublicKey, len(pubkey))
	}
	if len(sig) != 65 {
		return AccountID{}, fmt.Errorf("%w: ecdsa signature of %d bytes", ErrBadSignature, len(sig))
	}
	if sig[64] > 3 {
		return AccountID{}, fmt.Errorf("%w: ecdsa recovery id %d", ErrBadSignature, sig[64])
	}
	// decred's compact form: 27 + 4 (compressed) + recovery id, then r ‖ s.
	var compact [65]byte
	compact[0] = 27 + 4 + sig[64]
	copy(compact[1:], sig[:64])
	hash := hashing.Blake2b256(msg)
	pub, _, err := ecdsa.RecoverCompact(compact[:], hash[:])
	if err != nil || !bytes.Equal(pub.SerializeCompressed(), pubkey) {
		return AccountID{}, fmt.Errorf("%w (Ecdsa)", ErrBadSignature)
	}
	return AccountID(hashing.Blake2b256(pubkey)), nil
}
