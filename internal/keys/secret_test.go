package keys

import (
	"bytes"
	"encoding/hex"
	"testing"
)

func TestSecretBytesRoundTrip(t *testing.T) {
	for _, uri := range []string{"//Alice", "//Alice/soft", "//Bob//stash"} {
		p, err := FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		sk := p.SecretBytes()
		q, err := FromSecretBytes(sk)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		if q.Public() != p.Public() || q.SecretBytes() != sk {
			t.Fatalf("%s: restored pair differs", uri)
		}
		if _, ok := q.Seed(); ok {
			t.Fatalf("%s: restored pair claims a seed", uri)
		}
		msg := []byte("restored")
		if !Verify(p.Public(), msg, q.Sign(msg)) {
			t.Fatalf("%s: restored pair's signature does not verify", uri)
		}
	}
}

// TestSecretBytesKnown checks the to_bytes form against polkadot.js's
// ed25519-form secret for seed 0x22…22 (from @polkadot/util-crypto
// sr25519PairFromSeed): the scalar there is ours times 8, the nonce equal.
func TestSecretBytesKnown(t *testing.T) {
	var seed [32]byte
	for i := range seed {
		seed[i] = 0x22
	}
	ed, _ := hex.DecodeString("68c3eb1cd6dbdd0037d503e6655229500a83f464be62ca753bff884c4378877804e2cc143b6bb09094c635c03ad520f7984bd31a0784d345fc0ae92bd32a2dc4")
	sk := FromSeed(seed).SecretBytes()
	// Multiply the little-endian scalar by 8 (shift left by 3 bits).
	var x8 [32]byte
	var carry byte
	for i := 0; i < 32; i++ {
		x8[i] = sk[i]<<3 | carry
		carry = sk[i] >> 5
	}
	if carry != 0 || !bytes.Equal(x8[:], ed[:32]) || !bytes.Equal(sk[32:], ed[32:]) {
		t.Fatalf("secret %x does not match polkadot.js form %x", sk, ed)
	}
}

func TestFromSecretBytesRejectsNonCanonical(t *testing.T) {
	var sk [64]byte
	for i := 0; i < 32; i++ {
		sk[i] = 0xff
	}
	if _, err := FromSecretBytes(sk); err == nil {
		t.Fatal("non-canonical scalar accepted")
	}
}
