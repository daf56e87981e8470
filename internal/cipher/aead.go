package cipher

import (
	"crypto/aes"
	stdcipher "crypto/cipher"
	"errors"
	"fmt"
	"io"
)

// IVSize and TagSize are AES-256-GCM's nonce and tag sizes as Phala uses them.
const (
	IVSize  = 12
	TagSize = 16
)

// IV is a 12-byte AES-GCM nonce (Phala's AeadIV).
type IV [IVSize]byte

// ErrDecrypt means AES-GCM authentication failed: wrong key, wrong IV, or
// tampered ciphertext. It deliberately says nothing more.
var ErrDecrypt = errors.New("cipher: decryption failed (authentication tag mismatch)")

// ErrShortCiphertext means a ciphertext is shorter than the 16-byte tag.
var ErrShortCiphertext = errors.New("cipher: ciphertext shorter than the GCM tag")

// NewIV reads a random IV from rng (the caller's randomness source; the
// package has none of its own).
func NewIV(rng io.Reader) (IV, error) {
	var iv IV
	if rng == nil {
		return iv, errors.New("cipher: nil randomness source")
	}
	if _, err := io.ReadFull(rng, iv[:]); err != nil {
		return IV{}, fmt.Errorf("cipher: reading random IV: %w", err)
	}
	return iv, nil
}

func newGCM(key *[SharedKeySize]byte) stdcipher.AEAD {
	b, err := aes.NewCipher(key[:])
	if err != nil { // cannot happen: the key is 32 bytes
		panic("cipher: " + err.Error())
	}
	g, err := stdcipher.NewGCM(b)
	if err != nil { // cannot happen: standard nonce and tag sizes
		panic("cipher: " + err.Error())
	}
	return g
}

// Seal encrypts plaintext with AES-256-GCM under key and iv, with empty
// associated data, and returns ciphertext ‖ 16-byte tag (Phala's
// aead::encrypt and @phala/sdk's aes-256-gcm encrypt). Never reuse an IV
// with the same key.
func Seal(key [SharedKeySize]byte, iv IV, plaintext []byte) []byte {
	return AppendSeal(make([]byte, 0, len(plaintext)+TagSize), key, iv, plaintext)
}

// AppendSeal is Seal appending to dst.
func AppendSeal(dst []byte, key [SharedKeySize]byte, iv IV, plaintext []byte) []byte {
	return newGCM(&key).Seal(dst, iv[:], plaintext, nil)
}

// Open authenticates and decrypts ciphertext ‖ tag sealed by Seal. It returns
// ErrShortCiphertext for input shorter than the tag and ErrDecrypt for any
// authentication failure; it never returns unauthenticated plaintext.
func Open(key [SharedKeySize]byte, iv IV, sealed []byte) ([]byte, error) {
	return AppendOpen(nil, key, iv, sealed)
}

// AppendOpen is Open appending the plaintext to dst.
func AppendOpen(dst []byte, key [SharedKeySize]byte, iv IV, sealed []byte) ([]byte, error) {
	if len(sealed) < TagSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrShortCiphertext, len(sealed))
	}
	out, err := newGCM(&key).Open(dst, iv[:], sealed, nil)
	if err != nil {
		return nil, ErrDecrypt
	}
	return out, nil
}
