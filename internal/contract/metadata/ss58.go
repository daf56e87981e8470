package metadata

import "github.com/cella-network/cella/internal/keys"

// SS58Prefix is the address prefix used when decoded AccountIds are printed.
const SS58Prefix = keys.DefaultSS58Prefix

// EncodeSS58 renders a 32-byte AccountId as an SS58 address.
func EncodeSS58(acct []byte) string {
	var k keys.PublicKey
	copy(k[:], acct)
	return keys.EncodeSS58(k, SS58Prefix)
}

// DecodeSS58 parses an SS58 address of any prefix into its AccountId.
func DecodeSS58(s string) ([32]byte, error) {
	k, _, err := keys.DecodeSS58(s)
	return k, err
}
