package phatwire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/cella-network/cella/internal/hashing"
)

// substrateEcdsaSign signs like sp_core::ecdsa::Pair::sign: blake2_256 of the
// message, 65 bytes r ‖ s ‖ recovery id.
func substrateEcdsaSign(priv *secp256k1.PrivateKey, msg []byte) []byte {
	h := hashing.Blake2b256(msg)
	c := ecdsa.SignCompact(priv, h[:], true)
	return append(bytes.Clone(c[1:]), c[0]-27-4)
}

func TestEcdsaCertificate(t *testing.T) {
	priv := secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{0x42}, 32))
	pub := priv.PubKey().SerializeCompressed()
	eph := mustPair(t, "//Ephemeral")
	ephPub := eph.Public()
	msg := []byte("encrypted query")
	for _, typ := range []SignatureType{Ecdsa, EcdsaWrapBytes} {
		body := (&CertificateBody{Pubkey: ephPub[:], TTL: 10}).Encode()
		signed := body
		if typ == EcdsaWrapBytes {
			signed = wrapBytes(body)
		}
		cert := &Certificate{EncodedBody: body, Signature: &Signature{
			SignedBy:  &Certificate{EncodedBody: (&CertificateBody{Pubkey: pub, TTL: 10}).Encode()},
			Type:      typ,
			Signature: substrateEcdsaSign(priv, signed),
		}}
		sig := SignQuery(cert, eph, msg)
		chain, err := sig.Verify(msg, 3, MaxCertificateDepth)
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if chain[0] != AccountID(hashing.Blake2b256(pub)) || chain[1] != AccountID(ephPub) {
			t.Fatalf("%v: chain %x", typ, chain)
		}
		// Wrong wrapping, a changed body, another key, a bad recovery id.
		other := *cert.Signature
		if typ == Ecdsa {
			other.Type = EcdsaWrapBytes
		} else {
			other.Type = Ecdsa
		}
		bad := []*Signature{&other}
		flipped := other
		flipped.Type = typ
		flipped.Signature = bytes.Clone(cert.Signature.Signature)
		flipped.Signature[64] = 4
		bad = append(bad, &flipped)
		stranger := flipped
		stranger.Signature = substrateEcdsaSign(secp256k1.PrivKeyFromBytes(bytes.Repeat([]byte{7}, 32)), signed)
		bad = append(bad, &stranger)
		for i, b := range bad {
			c := &Certificate{EncodedBody: body, Signature: b}
			if _, err := SignQuery(c, eph, msg).Verify(msg, 3, MaxCertificateDepth); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("%v bad %d: %v", typ, i, err)
			}
		}
	}
}
