package dev

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/cella-network/cella/internal/tee"
)

// KeyFileName is the name of the sealing key file inside Config.SealDir.
// The name says what it is: anyone who can read it can open every blob.
const KeyFileName = "DEV-INSECURE-tee-seal.key"

// keySize is the size of the key file and of the AES-256 key.
const keySize = 32

// sealKDFInfo prefixes the HKDF info; the encoded sealed-blob header follows.
const sealKDFInfo = "cella/tee/dev/seal/v1"

// nonceSize is AES-GCM's standard nonce size.
const nonceSize = 12

func (p *Provider) keyPath() string { return filepath.Join(p.sealDir, KeyFileName) }

// Seal encrypts plaintext with AES-256-GCM. The blob is
// SealHeader{dev, true, genesis} ‖ nonce (12 bytes) ‖ ciphertext ‖ tag; the
// encoded header followed by aad is the associated data, and the key is
// derived from the key file with the header as context, so a blob opens only
// under the same key file, header and aad. The key file is created at first
// use.
func (p *Provider) Seal(plaintext, aad []byte) ([]byte, error) {
	h, err := p.header()
	if err != nil {
		return nil, err
	}
	master, err := p.sealKey(true)
	if err != nil {
		return nil, err
	}
	hb := h.Encode()
	aead, err := newAEAD(master, hb)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, len(hb)+nonceSize+len(plaintext)+aead.Overhead())
	out = append(out, hb...)
	var nonce [nonceSize]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return nil, fmt.Errorf("dev tee: nonce: %w", err)
	}
	out = append(out, nonce[:]...)
	return aead.Seal(out, nonce[:], plaintext, associated(hb, aad)), nil
}

// Unseal opens a blob made by Seal. Blobs of another provider kind, mode or
// genesis are refused with the tee package's sentinel errors before any
// decryption; a blob that does not authenticate fails with
// tee.ErrUnsealFailed.
func (p *Provider) Unseal(sealed, aad []byte) ([]byte, error) {
	got, hb, body, err := tee.ParseSealed(sealed)
	if err != nil {
		return nil, err
	}
	want, err := p.header()
	if err != nil {
		return nil, err
	}
	if err := got.Check(want); err != nil {
		return nil, err
	}
	if len(body) < nonceSize {
		return nil, fmt.Errorf("%w: body too short", tee.ErrUnsealFailed)
	}
	master, err := p.sealKey(false)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", tee.ErrUnsealFailed, err)
	}
	aead, err := newAEAD(master, hb)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, body[:nonceSize], body[nonceSize:], associated(hb, aad))
	if err != nil {
		return nil, tee.ErrUnsealFailed
	}
	return plain, nil
}

// associated is the AEAD's associated data: the encoded header (which is
// self-delimiting) followed by the caller's aad.
func associated(hb, aad []byte) []byte {
	out := make([]byte, 0, len(hb)+len(aad))
	return append(append(out, hb...), aad...)
}

// newAEAD derives the blob key from the master key and the encoded header.
func newAEAD(master, hb []byte) (cipher.AEAD, error) {
	key, err := hkdf.Key(sha256.New, master, nil, sealKDFInfo+string(hb), keySize)
	if err != nil {
		return nil, fmt.Errorf("dev tee: key derivation: %w", err)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("dev tee: %w", err)
	}
	return cipher.NewGCM(block)
}

// sealKey returns the key file's contents, loading it once, and creating it
// when create is set and it does not exist yet.
func (p *Provider) sealKey(create bool) ([]byte, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.key != nil {
		return p.key, nil
	}
	k, err := readKeyFile(p.keyPath())
	if errors.Is(err, fs.ErrNotExist) && create {
		k, err = createKeyFile(p.sealDir, p.keyPath())
	}
	if err != nil {
		return nil, err
	}
	p.key = k
	return k, nil
}

func readKeyFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	if len(b) != keySize {
		return nil, fmt.Errorf("dev tee: seal key %s: %d bytes, want %d", path, len(b), keySize)
	}
	return b, nil
}

// createKeyFile writes 32 random bytes to path with mode 0600, without ever
// replacing an existing file: it writes a temporary file and hard-links it
// into place, so two processes racing to create the key agree on one.
func createKeyFile(dir, path string) ([]byte, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("dev tee: seal dir: %w", err)
	}
	k := make([]byte, keySize)
	if _, err := rand.Read(k); err != nil {
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".seal-key-*")
	if err != nil {
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	if _, err := tmp.Write(k); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) { // another process won the race
			return readKeyFile(path)
		}
		return nil, fmt.Errorf("dev tee: seal key: %w", err)
	}
	if d, err := os.Open(dir); err == nil { // persist the new directory entry
		_ = d.Sync()
		d.Close()
	}
	return k, nil
}
