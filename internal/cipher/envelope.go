package cipher

import (
	"errors"
	"fmt"
	"io"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// ErrMalformed means an envelope's SCALE bytes do not decode.
var ErrMalformed = errors.New("cipher: malformed envelope")

// EncryptedData is Phala's secure-channel envelope (phactory api crypto.rs;
// @phala/sdk's EncryptedData type):
//
//	EncryptedData { iv: [u8; 12], pubkey: [u8; 32], data: Vec<u8> }
//
// pubkey is the sender's ECDH public key; data is the AES-256-GCM ciphertext
// with its tag appended, under the key Agree(sender, receiver). The receiver
// decrypts with Agree(own key, pubkey).
type EncryptedData struct {
	IV     IV
	Pubkey keys.PublicKey
	Data   []byte
}

// MinEncryptedDataSize is the size of the shortest valid encoding: IV, public
// key, a one-byte compact length and a bare tag (empty plaintext).
const MinEncryptedDataSize = IVSize + PublicKeySize + 1 + TagSize

// EncodeSCALE writes the envelope's SCALE encoding.
func (e *EncryptedData) EncodeSCALE(w *scale.Writer) {
	w.Raw(e.IV[:])
	w.Raw(e.Pubkey[:])
	w.BytesVec(e.Data)
}

// DecodeSCALE reads the envelope. It copies Data out of the input and never
// allocates more than the input holds. Data shorter than a GCM tag is an
// error: no key could open it.
func (e *EncryptedData) DecodeSCALE(r *scale.Reader) {
	r.Fixed(e.IV[:])
	r.Fixed(e.Pubkey[:])
	e.Data = r.BytesVec()
	if r.Err() == nil && len(e.Data) < TagSize {
		r.Fail(fmt.Errorf("%w: data is %d bytes, shorter than the %d-byte tag", ErrShortCiphertext, len(e.Data), TagSize))
	}
}

// Encode returns the envelope's SCALE encoding.
func (e *EncryptedData) Encode() []byte {
	w := scale.NewWriter(IVSize + PublicKeySize + 5 + len(e.Data))
	e.EncodeSCALE(w)
	return w.Bytes()
}

// DecodeEncryptedData decodes a SCALE EncryptedData and requires that it
// consumes b exactly. Errors wrap ErrMalformed (and the scale or
// ErrShortCiphertext cause).
func DecodeEncryptedData(b []byte) (*EncryptedData, error) {
	if len(b) < MinEncryptedDataSize {
		return nil, fmt.Errorf("%w: %d bytes, need at least %d", ErrMalformed, len(b), MinEncryptedDataSize)
	}
	e := new(EncryptedData)
	if err := scale.Decode(b, e); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformed, err)
	}
	return e, nil
}

// Encrypt seals plaintext from sender to the receiver's ECDH public key with
// the given IV and returns the envelope (Phala's EncryptedData::encrypt;
// @phala/sdk's createEncryptedData). The IV must never repeat for the same
// sender and receiver; see EncryptRandom.
func Encrypt(sender *EcdhKey, receiver keys.PublicKey, iv IV, plaintext []byte) (*EncryptedData, error) {
	key, err := sender.Agree(receiver)
	if err != nil {
		return nil, err
	}
	defer clear(key[:])
	return &EncryptedData{IV: iv, Pubkey: sender.Public(), Data: Seal(key, iv, plaintext)}, nil
}

// EncryptRandom is Encrypt with an IV read from rng.
func EncryptRandom(sender *EcdhKey, receiver keys.PublicKey, rng io.Reader, plaintext []byte) (*EncryptedData, error) {
	iv, err := NewIV(rng)
	if err != nil {
		return nil, err
	}
	return Encrypt(sender, receiver, iv, plaintext)
}

// Decrypt opens the envelope with the receiver's ECDH key, agreeing with the
// sender key in Pubkey.
func (e *EncryptedData) Decrypt(receiver *EcdhKey) ([]byte, error) {
	key, err := receiver.Agree(e.Pubkey)
	if err != nil {
		return nil, err
	}
	defer clear(key[:])
	return Open(key, e.IV, e.Data)
}

// DecryptWithPeer opens the envelope agreeing with peer, ignoring Pubkey. A
// client opens a query response with it, naming the worker it sent the query
// to: Decrypt would trust Pubkey, and anyone can seal a message to the
// client's ephemeral key under a key of their own.
func (e *EncryptedData) DecryptWithPeer(own *EcdhKey, peer keys.PublicKey) ([]byte, error) {
	key, err := own.Agree(peer)
	if err != nil {
		return nil, err
	}
	defer clear(key[:])
	return Open(key, e.IV, e.Data)
}

// OpenEnvelope decodes SCALE EncryptedData bytes and decrypts them with the
// receiver's key: the whole receive path for a query or an encrypted
// command.
func OpenEnvelope(receiver *EcdhKey, b []byte) (*EncryptedData, []byte, error) {
	e, err := DecodeEncryptedData(b)
	if err != nil {
		return nil, nil, err
	}
	pt, err := e.Decrypt(receiver)
	if err != nil {
		return e, nil, err
	}
	return e, pt, nil
}
