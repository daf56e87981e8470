package sdk

import (
	"encoding/hex"
	"fmt"

	"github.com/cella-network/cella/internal/keys"
)

// Address is a 32-byte account id: an account's sr25519 public key, or a
// contract's id.
type Address [32]byte

// ParseAddress reads an SS58 address (any prefix) or a 0x-prefixed 32-byte
// hex id.
func ParseAddress(s string) (Address, error) {
	pub, err := keys.ParseAccount(s)
	if err != nil {
		return Address{}, err
	}
	return Address(pub), nil
}

// SS58 returns the address in SS58 form under prefix (Cella's default is
// DefaultSS58Prefix; a node's ChainInfo tells its own).
func (a Address) SS58(prefix uint16) string { return keys.EncodeSS58(keys.PublicKey(a), prefix) }

// Hex returns the address as 0x-prefixed hex.
func (a Address) Hex() string { return "0x" + hex.EncodeToString(a[:]) }

// String returns the SS58 form under DefaultSS58Prefix.
func (a Address) String() string { return a.SS58(DefaultSS58Prefix) }

// DefaultSS58Prefix is Cella's SS58 address prefix.
const DefaultSS58Prefix = keys.DefaultSS58Prefix

// Hash is a 32-byte hash (code hashes, transaction hashes, cluster ids).
type Hash [32]byte

// Hex returns the hash as 0x-prefixed hex.
func (h Hash) Hex() string { return "0x" + hex.EncodeToString(h[:]) }

// String is Hex.
func (h Hash) String() string { return h.Hex() }

// ParseHash reads a 0x-prefixed (or bare) 32-byte hex value.
func ParseHash(s string) (Hash, error) {
	if len(s) >= 2 && s[:2] == "0x" {
		s = s[2:]
	}
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != 32 {
		return Hash{}, fmt.Errorf("sdk: %q is not a 32-byte hex value", s)
	}
	return Hash(b), nil
}

// Key is an sr25519 signing key. It never prints its secret.
type Key struct{ pair *keys.Pair }

// KeyFromURI derives a key from a secret URI: a development name (//Alice),
// a BIP-39 mnemonic or a 0x seed, with optional /soft//hard derivations and
// ///password.
func KeyFromURI(suri string) (*Key, error) {
	p, err := keys.FromURI(suri)
	if err != nil {
		return nil, err
	}
	return &Key{pair: p}, nil
}

// Address is the key's account id.
func (k *Key) Address() Address { return Address(k.pair.Public()) }

// String shows the address only.
func (k *Key) String() string { return k.Address().String() }

// MarshalText writes the address in SS58 form (DefaultSS58Prefix).
func (a Address) MarshalText() ([]byte, error) { return []byte(a.String()), nil }

// UnmarshalText reads what ParseAddress reads.
func (a *Address) UnmarshalText(b []byte) error {
	v, err := ParseAddress(string(b))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// MarshalText writes the hash as 0x hex.
func (h Hash) MarshalText() ([]byte, error) { return []byte(h.Hex()), nil }

// UnmarshalText reads what ParseHash reads.
func (h *Hash) UnmarshalText(b []byte) error {
	v, err := ParseHash(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}
