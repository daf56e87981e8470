package hashing

import (
	"encoding/hex"
	"testing"
)

func TestBlake2bKnownAnswers(t *testing.T) {
	// blake2b-256("") and blake2_128("") from the BLAKE2 reference / Substrate.
	if got := hex.EncodeToString(sliceOf32(Blake2b256())); got != "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8" {
		t.Fatalf("blake2b-256(empty) = %s", got)
	}
	h := Blake2b128(nil)
	if got := hex.EncodeToString(h[:]); got != "cae66941d9efbd404e4d88758ea67670" {
		t.Fatalf("blake2b-128(empty) = %s", got)
	}
	// Multi-part hashing equals hashing the concatenation.
	a := Blake2b256([]byte("ab"), []byte("c"))
	b := Blake2b256([]byte("abc"))
	if a != b {
		t.Fatal("parts are not concatenated")
	}
	if got := hex.EncodeToString(b[:]); got != "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319" {
		t.Fatalf("blake2b-256(abc) = %s", got)
	}
}

func sliceOf32(a [32]byte) []byte { return a[:] }
