package keys

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/blake2b"
)

// Errors returned by DecodeSS58 (wrapped with details).
var (
	// ErrBase58 means the address contains a character outside the base58 alphabet.
	ErrBase58 = errors.New("not valid base58")
	// ErrSS58Length means the decoded address does not have the length of a 32-byte account.
	ErrSS58Length = errors.New("wrong SS58 address length")
	// ErrSS58Checksum means the address checksum does not match (a typo?).
	ErrSS58Checksum = errors.New("bad SS58 checksum")
	// ErrSS58Prefix means the address prefix is not a valid SS58 network prefix.
	ErrSS58Prefix = errors.New("invalid SS58 prefix")
)

const b58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// b58Index maps an ASCII byte to its base58 digit value, or -1.
var b58Index = func() (t [256]int8) {
	for i := range t {
		t[i] = -1
	}
	for i := 0; i < len(b58Alphabet); i++ {
		t[b58Alphabet[i]] = int8(i)
	}
	return t
}()

// base58Encode encodes b with the Bitcoin base58 alphabet.
func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	// Little-endian base58 digits of the big-endian number b.
	digits := make([]byte, 0, len(b)*138/100+1)
	for _, c := range b[zeros:] {
		carry := int(c)
		for i := range digits {
			carry += int(digits[i]) << 8
			digits[i] = byte(carry % 58)
			carry /= 58
		}
		for carry > 0 {
			digits = append(digits, byte(carry%58))
			carry /= 58
		}
	}
	out := make([]byte, zeros+len(digits))
	for i := 0; i < zeros; i++ {
		out[i] = '1'
	}
	for i, d := range digits {
		out[len(out)-1-i] = b58Alphabet[d]
	}
	return string(out)
}

// base58Decode decodes a Bitcoin-alphabet base58 string.
func base58Decode(s string) ([]byte, error) {
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	// Little-endian base-256 bytes.
	var num []byte
	for i := zeros; i < len(s); i++ {
		v := b58Index[s[i]]
		if v < 0 {
			return nil, fmt.Errorf("%w: unexpected character %q at position %d", ErrBase58, s[i], i+1)
		}
		carry := int(v)
		for j := range num {
			carry += int(num[j]) * 58
			num[j] = byte(carry)
			carry >>= 8
		}
		for carry > 0 {
			num = append(num, byte(carry))
			carry >>= 8
		}
	}
	out := make([]byte, zeros+len(num))
	for i, c := range num {
		out[len(out)-1-i] = c
	}
	return out, nil
}

// ss58Prefix returns the 1- or 2-byte SS58 encoding of a network prefix.
func ss58Prefix(prefix uint16) []byte {
	if prefix < 64 {
		return []byte{byte(prefix)}
	}
	return []byte{
		byte((prefix&0xfc)>>2) | 0x40,
		byte(prefix>>8) | byte(prefix&0x03)<<6,
	}
}

// ss58Checksum returns the first two bytes of blake2b-512("SS58PRE" ‖ data).
func ss58Checksum(data []byte) [2]byte {
	h, _ := blake2b.New512(nil)
	h.Write([]byte("SS58PRE"))
	h.Write(data)
	var sum [64]byte
	h.Sum(sum[:0])
	return [2]byte{sum[0], sum[1]}
}

// EncodeSS58 returns the SS58 address of pub for a network prefix
// (0..16383; 42 is generic Substrate, 0 Polkadot, 2 Kusama, 30 Phala).
// Prefixes 64 and above use the two-byte form. It panics for prefixes of
// 16384 and above, which SS58 cannot express.
func EncodeSS58(pub PublicKey, prefix uint16) string {
	if prefix > 16383 {
		panic(fmt.Sprintf("keys: SS58 prefix %d out of range (max 16383)", prefix))
	}
	data := append(ss58Prefix(prefix), pub[:]...)
	cs := ss58Checksum(data)
	return base58Encode(append(data, cs[:]...))
}

// DecodeSS58 parses an SS58 account address of any network prefix and returns
// the public key and the prefix. Errors wrap ErrBase58, ErrSS58Length,
// ErrSS58Checksum or ErrSS58Prefix.
func DecodeSS58(addr string) (PublicKey, uint16, error) {
	var pub PublicKey
	raw, err := base58Decode(addr)
	if err != nil {
		return pub, 0, err
	}
	if len(raw) == 0 {
		return pub, 0, fmt.Errorf("%w: empty address", ErrSS58Length)
	}
	var prefix uint16
	var plen int
	switch b := raw[0]; {
	case b < 64:
		prefix, plen = uint16(b), 1
	case b < 128:
		if len(raw) < 2 {
			return pub, 0, fmt.Errorf("%w: %d bytes", ErrSS58Length, len(raw))
		}
		lower := raw[0]<<2 | raw[1]>>6
		upper := raw[1] & 0x3f
		prefix, plen = uint16(lower)|uint16(upper)<<8, 2
	default:
		return pub, 0, fmt.Errorf("%w: first byte 0x%02x", ErrSS58Prefix, b)
	}
	if want := plen + 32 + 2; len(raw) != want {
		return pub, 0, fmt.Errorf("%w: decodes to %d bytes, want %d for a 32-byte account", ErrSS58Length, len(raw), want)
	}
	body := raw[:plen+32]
	cs := ss58Checksum(body)
	if raw[plen+32] != cs[0] || raw[plen+33] != cs[1] {
		return pub, 0, fmt.Errorf("%w (mistyped address?)", ErrSS58Checksum)
	}
	if plen == 2 && prefix < 64 {
		return pub, 0, fmt.Errorf("%w: %d must use the one-byte form", ErrSS58Prefix, prefix)
	}
	copy(pub[:], raw[plen:])
	return pub, prefix, nil
}

// ParseAccount parses an account given as an SS58 address (any prefix) or as
// 0x-prefixed hex of 32 bytes.
func ParseAccount(s string) (PublicKey, error) {
	var pub PublicKey
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return pub, fmt.Errorf("invalid account %q: not valid hex after 0x", s)
		}
		if len(b) != 32 {
			return pub, fmt.Errorf("invalid account %q: %d bytes of hex, want 32", s, len(b))
		}
		copy(pub[:], b)
		return pub, nil
	}
	pub, _, err := DecodeSS58(s)
	if err != nil {
		return pub, fmt.Errorf("invalid account %q: %w", s, err)
	}
	return pub, nil
}
