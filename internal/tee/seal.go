package tee

import (
	"bytes"
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/scale"
)

// Sealed blobs start with a header in the clear, so that a provider can say
// exactly why it refuses a blob that is not its own:
//
//	magic "cella/sealed" ‖ u8 format version (1) ‖ kind: String ‖
//	dev: bool ‖ genesis hash: [u8; 32] ‖ provider-specific body
//
// Providers also authenticate the encoded header (as AEAD associated data),
// so editing it makes the blob fail to open.

// sealMagic starts every sealed blob.
const sealMagic = "cella/sealed"

// SealFormatVersion is the version of the sealed-blob header.
const SealFormatVersion uint8 = 1

// Errors about sealed blobs.
var (
	// ErrNotSealed means the bytes are not a sealed blob (no or a damaged
	// header).
	ErrNotSealed = errors.New("tee: not a sealed blob")
	// ErrSealVersion means the blob's header has an unknown format version.
	ErrSealVersion = errors.New("tee: unknown sealed-blob format version")
	// ErrSealedByOtherProvider means the blob was sealed by another kind of
	// provider.
	ErrSealedByOtherProvider = errors.New("tee: sealed by another TEE provider")
	// ErrSealedDevMismatch means the blob was sealed by a provider in the
	// other mode (dev versus production).
	ErrSealedDevMismatch = errors.New("tee: sealed in the other mode (dev versus production)")
	// ErrSealedOtherGenesis means the blob was sealed for another chain.
	ErrSealedOtherGenesis = errors.New("tee: sealed for another genesis")
	// ErrUnsealFailed means the blob's header is ours but it does not
	// decrypt: another sealing key, other aad, or tampering.
	ErrUnsealFailed = errors.New("tee: sealed blob does not open (wrong key, wrong aad or tampered)")
)

// SealHeader is what every sealed blob records in the clear.
type SealHeader struct {
	// Kind is the provider that sealed it.
	Kind Kind
	// Dev is true for providers that give no hardware protection.
	Dev bool
	// GenesisHash is the chain the provider was bound to.
	GenesisHash [32]byte
}

// Encode returns the encoded header, magic and format version included.
func (h SealHeader) Encode() []byte {
	w := scale.NewWriter(len(sealMagic) + 1 + 1 + len(h.Kind) + 1 + 32)
	w.Raw([]byte(sealMagic))
	w.U8(SealFormatVersion)
	w.String(string(h.Kind))
	w.Bool(h.Dev)
	w.Raw(h.GenesisHash[:])
	return w.Bytes()
}

// ParseSealed splits a sealed blob into its header, the header's encoded
// bytes (for use as associated data) and the provider-specific body.
func ParseSealed(blob []byte) (h SealHeader, headerBytes, body []byte, err error) {
	if !bytes.HasPrefix(blob, []byte(sealMagic)) {
		return SealHeader{}, nil, nil, ErrNotSealed
	}
	r := scale.NewReader(blob)
	r.Raw(len(sealMagic))
	if v := r.U8(); r.Err() == nil && v != SealFormatVersion {
		return SealHeader{}, nil, nil, fmt.Errorf("%w: %d", ErrSealVersion, v)
	}
	h.Kind = Kind(r.String())
	h.Dev = r.Bool()
	r.Fixed(h.GenesisHash[:])
	if r.Err() != nil {
		return SealHeader{}, nil, nil, fmt.Errorf("%w: header: %w", ErrNotSealed, r.Err())
	}
	if !h.Kind.Valid() {
		return SealHeader{}, nil, nil, fmt.Errorf("%w: bad kind %q", ErrNotSealed, h.Kind)
	}
	n := r.Offset()
	return h, blob[:n], blob[n:], nil
}

// Check compares a blob's header with the one a provider expects and returns
// the sentinel error that names the first difference: kind, then dev flag,
// then genesis hash.
func (h SealHeader) Check(want SealHeader) error {
	switch {
	case h.Kind != want.Kind:
		return fmt.Errorf("%w: sealed by %q, this is %q", ErrSealedByOtherProvider, h.Kind, want.Kind)
	case h.Dev != want.Dev:
		return fmt.Errorf("%w: sealed with dev=%t, this provider has dev=%t", ErrSealedDevMismatch, h.Dev, want.Dev)
	case h.GenesisHash != want.GenesisHash:
		return fmt.Errorf("%w: sealed for %x, bound to %x", ErrSealedOtherGenesis, h.GenesisHash, want.GenesisHash)
	}
	return nil
}
