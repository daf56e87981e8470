// Package cipher implements Phala's secure channel and key derivation,
// byte-compatible with phala-blockchain (crates/phala-crypto) and @phala/sdk:
//
//   - ECDH on sr25519 keys: the sr25519 secret scalar used as a ristretto255
//     Diffie-Hellman key; the 32-byte compressed shared point is the
//     AES-256-GCM key, with no further KDF ([EcdhKey.Agree]).
//   - AES-256-GCM with a 12-byte IV, empty associated data and the 16-byte tag
//     appended to the ciphertext ([Seal], [Open]).
//   - The envelope EncryptedData{iv, pubkey, data} that carries queries,
//     responses and encrypted commands ([EncryptedData]).
//   - Phala's key derivation function and its key hierarchy (master key →
//     cluster key → contract key, contract-derived keys) ([DerivePair]).
//   - The encrypted key envelope EncryptedKey{ecdh_pubkey, encrypted_key, iv}
//     with which gatekeepers hand out master and cluster keys, and its
//     deterministic IVs ([EncryptSecretTo], [IVGenerator]).
//
// # Secret key forms
//
// An sr25519 secret key has two 64-byte encodings. Rust (schnorrkel's
// SecretKey::to_bytes, sp_core, Phala's dump_secret_key and sealed keys) uses
// the canonical scalar followed by the nonce; this package and
// [keys.Pair.SecretBytes] use that form. polkadot.js (@polkadot/util-crypto,
// hence @phala/sdk) returns schnorrkel's to_ed25519_bytes form, whose scalar is
// the canonical scalar multiplied by the cofactor 8.
// [SecretFromEd25519Form] and [SecretToEd25519Form] convert between them.
//
// # Purity
//
// The package does no I/O and reads no clock. Randomness (random IVs) comes
// only from an io.Reader the caller passes; the gatekeeper's key envelopes use
// deterministic IVs so a pRuntime restored from a checkpoint produces the
// same bytes.
package cipher
