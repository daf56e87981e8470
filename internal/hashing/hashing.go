// Package hashing holds the hash functions of Cella's consensus formats:
// BLAKE2b with 256-bit output (transaction ids, genesis hash, AppHash, Merkle
// nodes) and with 128-bit output (storage-key prefixes, as Substrate's
// Blake2_128Concat).
package hashing

import (
	"hash"
	"sync"

	"golang.org/x/crypto/blake2b"
)

// Blake2b256 returns the BLAKE2b-256 hash of the concatenation of parts.
func Blake2b256(parts ...[]byte) [32]byte {
	if len(parts) == 1 {
		return blake2b.Sum256(parts[0])
	}
	h, err := blake2b.New256(nil)
	if err != nil { // only possible with an oversized key; there is none
		panic("hashing: blake2b.New256: " + err.Error())
	}
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Blake2b128 returns the BLAKE2b hash of b with a 128-bit output. This is a
// genuine 16-byte BLAKE2b digest (output length is a BLAKE2b parameter), not
// a truncated 256-bit one, so it matches Substrate's blake2_128.
func Blake2b128(b []byte) [16]byte {
	h := pool128.Get().(hash.Hash)
	h.Reset()
	h.Write(b)
	var out [16]byte
	h.Sum(out[:0])
	pool128.Put(h)
	return out
}

// pool128 recycles BLAKE2b-128 states: storage keys hash an account on every
// access, and allocating a state each time shows in block execution profiles.
var pool128 = sync.Pool{New: func() any {
	h, err := blake2b.New(16, nil)
	if err != nil { // 16 is a valid size and there is no key
		panic("hashing: blake2b.New(16): " + err.Error())
	}
	return h
}}
