package cipher

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

func testKeys(t testing.TB) (sender, receiver *EcdhKey) {
	return EcdhKeyFromSeed(unhexN[[32]byte](t, seedHex(0x44))), EcdhKeyFromSeed(unhexN[[32]byte](t, seedHex(0x22)))
}

func sealedEnvelope(t testing.TB, pt []byte) []byte {
	s, r := testKeys(t)
	var iv IV
	copy(iv[:], "0123456789ab")
	e, err := Encrypt(s, r.Public(), iv, pt)
	if err != nil {
		t.Fatal(err)
	}
	return e.Encode()
}

// TestTamper flips every bit of an envelope in turn: each flip must make
// opening fail (decoding or authentication), never yield plaintext.
func TestTamper(t *testing.T) {
	_, receiver := testKeys(t)
	pt := []byte("hello phat")
	enc := sealedEnvelope(t, pt)
	if _, got, err := OpenEnvelope(receiver, enc); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("untampered envelope: %v", err)
	}
	for bit := 0; bit < len(enc)*8; bit++ {
		bad := bytes.Clone(enc)
		bad[bit/8] ^= 1 << (bit % 8)
		_, got, err := OpenEnvelope(receiver, bad)
		if err == nil {
			t.Fatalf("bit %d flipped: opened to %q", bit, got)
		}
		if got != nil {
			t.Fatalf("bit %d flipped: plaintext returned with error", bit)
		}
		switch {
		case bit/8 < IVSize, bit/8 >= IVSize+PublicKeySize+1:
			// IV or ciphertext/tag: authentication fails.
			if !errors.Is(err, ErrDecrypt) {
				t.Fatalf("bit %d (iv/data): %v, want ErrDecrypt", bit, err)
			}
		case bit/8 < IVSize+PublicKeySize:
			// Sender key: either no longer a point, or a different point.
			if !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrInvalidPublicKey) {
				t.Fatalf("bit %d (pubkey): %v", bit, err)
			}
		default:
			// Length prefix: the envelope no longer decodes.
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("bit %d (length): %v, want ErrMalformed", bit, err)
			}
		}
	}
}

func TestTruncatedAndHostileEnvelopes(t *testing.T) {
	enc := sealedEnvelope(t, []byte("hello phat"))
	for n := 0; n < len(enc); n++ {
		_, err := DecodeEncryptedData(enc[:n])
		if !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d: %v, want ErrMalformed", n, err)
		}
	}
	if _, err := DecodeEncryptedData(append(bytes.Clone(enc), 0)); !errors.Is(err, ErrMalformed) || !errors.Is(err, scale.ErrTrailing) {
		t.Fatalf("trailing byte: %v", err)
	}
	// A length prefix claiming 1 GiB over a short input is refused before
	// any allocation.
	w := scale.NewWriter(0)
	w.Raw(make([]byte, IVSize+PublicKeySize))
	w.Compact(1 << 30)
	w.Raw(make([]byte, 20))
	if _, err := DecodeEncryptedData(w.Bytes()); !errors.Is(err, ErrMalformed) || !strings.Contains(err.Error(), "exceeds remaining") {
		t.Fatalf("huge length: %v", err)
	}
	// Data shorter than a tag.
	short := &EncryptedData{Data: make([]byte, TagSize-1)}
	b := short.Encode()
	b = append(b, make([]byte, MinEncryptedDataSize)...) // long enough overall
	if _, err := DecodeEncryptedData(short.Encode()); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short data: %v", err)
	}
	if _, err := DecodeEncryptedData(b); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short data with trailing: %v", err)
	}
	// Non-canonical compact length.
	w = scale.NewWriter(0)
	w.Raw(make([]byte, IVSize+PublicKeySize))
	w.Raw([]byte{0x41, 0x00}) // 16 in two-byte mode
	w.Raw(make([]byte, 16))
	if _, err := DecodeEncryptedData(w.Bytes()); !errors.Is(err, scale.ErrNonCanonical) {
		t.Fatalf("non-canonical length: %v", err)
	}
	// Open on bare short ciphertexts.
	if _, err := Open([32]byte{}, IV{}, make([]byte, TagSize-1)); !errors.Is(err, ErrShortCiphertext) {
		t.Fatalf("short ciphertext: %v", err)
	}
}

func TestInvalidPeerKeys(t *testing.T) {
	k, _ := testKeys(t)
	var identity keys.PublicKey // all zeros encodes the identity
	if _, err := k.Agree(identity); !errors.Is(err, ErrInvalidPublicKey) {
		t.Fatalf("identity: %v", err)
	}
	var notPoint keys.PublicKey
	for i := range notPoint {
		notPoint[i] = 0xff
	}
	if _, err := k.Agree(notPoint); !errors.Is(err, ErrInvalidPublicKey) {
		t.Fatalf("non-canonical: %v", err)
	}
	if _, err := Encrypt(k, identity, IV{}, nil); !errors.Is(err, ErrInvalidPublicKey) {
		t.Fatalf("Encrypt to identity: %v", err)
	}
	e := &EncryptedData{Pubkey: notPoint, Data: make([]byte, TagSize)}
	if _, err := e.Decrypt(k); !errors.Is(err, ErrInvalidPublicKey) {
		t.Fatalf("Decrypt from bad point: %v", err)
	}
}

func TestSecretForms(t *testing.T) {
	var zero [64]byte
	if _, err := EcdhKeyFromSecret(zero); !errors.Is(err, ErrInvalidSecretKey) {
		t.Fatalf("zero scalar: %v", err)
	}
	var big [64]byte
	for i := 0; i < 32; i++ {
		big[i] = 0xff
	}
	big[31] = 0x1f // 2^253 - 1, above the group order
	if _, err := EcdhKeyFromSecret(big); !errors.Is(err, ErrInvalidSecretKey) {
		t.Fatalf("non-canonical scalar: %v", err)
	}
	if _, err := SecretToEd25519Form(big); !errors.Is(err, ErrInvalidSecretKey) {
		t.Fatalf("SecretToEd25519Form non-canonical: %v", err)
	}
	ed := [64]byte{1}
	if _, err := SecretFromEd25519Form(ed); !errors.Is(err, ErrInvalidSecretKey) {
		t.Fatalf("ed25519 form not a multiple of 8: %v", err)
	}
	var edBig [64]byte
	for i := 0; i < 32; i++ {
		edBig[i] = 0xff
	}
	edBig[0] = 0xf8
	if _, err := SecretFromEd25519Form(edBig); !errors.Is(err, ErrInvalidSecretKey) {
		t.Fatalf("ed25519 form too large: %v", err)
	}
	// Round trip on derived (non-clamped) scalars.
	p, _ := keys.FromURI("//Alice/soft")
	sk := p.SecretBytes()
	e, err := SecretToEd25519Form(sk)
	if err != nil {
		t.Fatal(err)
	}
	back, err := SecretFromEd25519Form(e)
	if err != nil || back != sk {
		t.Fatalf("round trip: %v", err)
	}
	k, err := EcdhKeyFromEd25519Secret(e)
	if err != nil || k.Public() != p.Public() {
		t.Fatalf("EcdhKeyFromEd25519Secret: %v", err)
	}
}

// TestEcdhKeyRedacted: no fmt verb prints the secret scalar.
func TestEcdhKeyRedacted(t *testing.T) {
	p := keys.FromSeed(unhexN[[32]byte](t, seedHex(0x22)))
	k := NewEcdhKey(p)
	sk := p.SecretBytes()
	secretHex := hex.EncodeToString(sk[:32])
	var limbs []string
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%d", "%q"} {
		limbs = append(limbs, fmt.Sprintf(f, k), fmt.Sprintf(f, *k), fmt.Sprintf(f, []*EcdhKey{k}), fmt.Sprintf(f, struct{ K EcdhKey }{*k}), fmt.Sprintf(f, struct{ k EcdhKey }{*k}))
	}
	limbs = append(limbs, k.String(), k.GoString())
	for _, s := range limbs {
		if strings.Contains(strings.ToLower(s), secretHex[:16]) || strings.Contains(s, fmt.Sprint(sk[0])+" "+fmt.Sprint(sk[1])) {
			t.Fatalf("EcdhKey printed as %q", s)
		}
		if strings.Contains(s, "redacted") && !strings.Contains(s, hex.EncodeToString(k.pub[:4])) {
			t.Fatalf("EcdhKey print lacks its public key: %q", s)
		}
	}
}

func TestEncryptRandomAndNewIV(t *testing.T) {
	s, r := testKeys(t)
	rng := bytes.NewReader(bytes.Repeat([]byte{7}, 24))
	e1, err := EncryptRandom(s, r.Public(), rng, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	if e1.IV != (IV{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}) {
		t.Fatalf("IV %x not read from rng", e1.IV)
	}
	if _, err := EncryptRandom(s, r.Public(), bytes.NewReader(make([]byte, 5)), nil); err == nil {
		t.Fatal("short randomness accepted")
	}
	if _, err := NewIV(nil); err == nil {
		t.Fatal("nil rng accepted")
	}
}

// TestResponseSpoof: anyone can seal to a client's ephemeral key under their
// own key; Decrypt trusts the envelope's Pubkey, DecryptWithPeer does not.
func TestResponseSpoof(t *testing.T) {
	client, worker := testKeys(t)
	mallory := EcdhKeyFromSeed(unhexN[[32]byte](t, seedHex(0x66)))
	e, err := Encrypt(mallory, client.Public(), IV{1}, []byte("forged"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Decrypt(client); err != nil {
		t.Fatalf("Decrypt: %v", err)
	}
	if _, err := e.DecryptWithPeer(client, worker.Public()); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("DecryptWithPeer accepted a forged response: %v", err)
	}
}

func TestEncryptedKeyHostile(t *testing.T) {
	_, receiver := testKeys(t)
	enc := unhex(t, keyShareGolden[0].encoded)
	for n := 0; n < len(enc); n++ {
		if _, err := DecodeEncryptedKey(enc[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	ek, err := DecodeEncryptedKey(enc)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ek.Encode(), enc) {
		t.Fatal("re-encoding differs")
	}
	// A ciphertext that is not 64+16 bytes is refused up front.
	odd := *ek
	odd.EncryptedKey = ek.EncryptedKey[:EncryptedKeySize-1]
	if _, err := odd.Decrypt(receiver); !errors.Is(err, ErrMalformed) {
		t.Fatalf("short encrypted key: %v", err)
	}
	// A valid encryption of a non-canonical "secret" is ErrInvalidSecretKey.
	master := keys.FromSeed(unhexN[[32]byte](t, seedHex(0x22)))
	var bad [64]byte
	for i := range bad {
		bad[i] = 0xff
	}
	bk, err := EncryptSecretTo(master, []byte(MasterKeySharingSalt), receiver.Public(), bad, IV{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bk.DecryptPair(receiver); !errors.Is(err, ErrInvalidSecretKey) {
		t.Fatalf("non-canonical decrypted secret: %v", err)
	}
	// Flipped tag bit.
	flip := *ek
	flip.EncryptedKey = bytes.Clone(ek.EncryptedKey)
	flip.EncryptedKey[EncryptedKeySize-1] ^= 0x80
	if _, err := flip.Decrypt(EcdhKeyFromSeed(unhexN[[32]byte](t, keyShareGolden[0].receiver))); !errors.Is(err, ErrDecrypt) {
		t.Fatalf("flipped tag: %v", err)
	}
}
