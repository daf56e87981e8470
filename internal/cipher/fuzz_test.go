package cipher

import (
	"bytes"
	"errors"
	"testing"
)

// FuzzOpenEnvelope feeds arbitrary bytes to the receive path of a query or
// encrypted command (decode EncryptedData, agree, open) under the worker key
// of the oracle vectors (seed 0x22…), and checks that it never panics, that
// errors are the documented ones, that whatever decodes re-encodes to the
// same bytes, and that whatever opens re-seals to the same ciphertext.
// The checked-in corpus holds the SDK's real envelopes to this key.
func FuzzOpenEnvelope(f *testing.F) {
	f.Add([]byte{})
	f.Add(make([]byte, MinEncryptedDataSize))
	receiver := EcdhKeyFromSeed([32]byte(bytes.Repeat([]byte{0x22}, 32)))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, pt, err := OpenEnvelope(receiver, data)
		if err != nil {
			if pt != nil {
				t.Fatal("plaintext returned with an error")
			}
			switch {
			case errors.Is(err, ErrMalformed):
				if e != nil {
					t.Fatal("envelope returned for malformed input")
				}
				return
			case errors.Is(err, ErrDecrypt), errors.Is(err, ErrInvalidPublicKey):
			default:
				t.Fatalf("undocumented error %v", err)
			}
		}
		if !bytes.Equal(e.Encode(), data) {
			t.Fatalf("decoded envelope re-encodes to %x, input %x", e.Encode(), data)
		}
		if len(e.Data) > len(data) {
			t.Fatal("data larger than the input")
		}
		if err != nil {
			return
		}
		key, err := receiver.Agree(e.Pubkey)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(Seal(key, e.IV, pt), e.Data) {
			t.Fatal("opened plaintext does not re-seal to the ciphertext")
		}
	})
}

// FuzzDecodeEncryptedKey checks the key envelope decoder and Decrypt on
// arbitrary bytes.
func FuzzDecodeEncryptedKey(f *testing.F) {
	f.Add([]byte{})
	receiver := EcdhKeyFromSeed([32]byte(bytes.Repeat([]byte{0x33}, 32)))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := DecodeEncryptedKey(data)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || k != nil {
				t.Fatalf("bad error %v / %v", err, k)
			}
			return
		}
		if !bytes.Equal(k.Encode(), data) {
			t.Fatal("re-encoding differs")
		}
		if _, err := k.DecryptPair(receiver); err != nil &&
			!errors.Is(err, ErrMalformed) && !errors.Is(err, ErrDecrypt) &&
			!errors.Is(err, ErrInvalidPublicKey) && !errors.Is(err, ErrInvalidSecretKey) {
			t.Fatalf("undocumented error %v", err)
		}
	})
}
