package state

import (
	"encoding/binary"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// AppHashDomain prefixes the AppHash preimage of state-machine version 1.
const AppHashDomain = "cella/app/v1"

// Merkle-tree node prefixes (RFC 6962 style domain separation).
const (
	leafPrefix  = 0x00
	innerPrefix = 0x01
)

// AppHash computes the AppHash that a block with write-set ws and messages
// msgs produces, given the previous AppHash:
//
//	blake2-256("cella/app/v1" ‖ u64le(appVersion) ‖ prev ‖ WriteSetRoot(ws) ‖
//	           MessagesRoot(msgs) ‖ [32]byte{} /* state root placeholder */)
//
// A block with no writes and no messages returns prev unchanged. pRuntime
// recomputes this from the write-set and messages pherry hands it.
func AppHash(appVersion uint64, prev [32]byte, ws WriteSet, msgs []msg.Message) [32]byte {
	if len(ws) == 0 && len(msgs) == 0 {
		return prev
	}
	wr := WriteSetRoot(ws)
	mr := MessagesRoot(msgs)
	var v [8]byte
	binary.LittleEndian.PutUint64(v[:], appVersion)
	var stateRoot [32]byte
	return hashing.Blake2b256([]byte(AppHashDomain), v[:], prev[:], wr[:], mr[:], stateRoot[:])
}

// WriteSetRoot is the Merkle root over the writes' SCALE encodings (zero for
// an empty write-set).
func WriteSetRoot(ws WriteSet) [32]byte {
	leaves := make([][32]byte, len(ws))
	var w scale.Writer
	for i := range ws {
		w.Reset()
		w.U8(leafPrefix)
		ws[i].EncodeSCALE(&w)
		leaves[i] = hashing.Blake2b256(w.Bytes())
	}
	return MerkleRoot(leaves)
}

// MessagesRoot is the Merkle root over the messages' SCALE encodings (zero
// for no messages).
func MessagesRoot(msgs []msg.Message) [32]byte {
	leaves := make([][32]byte, len(msgs))
	var w scale.Writer
	for i := range msgs {
		w.Reset()
		w.U8(leafPrefix)
		msgs[i].EncodeSCALE(&w)
		leaves[i] = hashing.Blake2b256(w.Bytes())
	}
	return MerkleRoot(leaves)
}

// LeafHash returns blake2-256(0x00 ‖ data), the hash of one Merkle leaf.
func LeafHash(data []byte) [32]byte {
	return hashing.Blake2b256([]byte{leafPrefix}, data)
}

// MerkleRoot computes the RFC 6962 Merkle tree hash over already-hashed
// leaves (see LeafHash): an inner node is blake2-256(0x01 ‖ left ‖ right),
// the left subtree holding the largest power of two strictly below n leaves.
// The root of no leaves is 32 zero bytes; the root of one leaf is the leaf.
func MerkleRoot(leaves [][32]byte) [32]byte {
	switch len(leaves) {
	case 0:
		return [32]byte{}
	case 1:
		return leaves[0]
	}
	k := 1
	for k*2 < len(leaves) {
		k *= 2
	}
	l := MerkleRoot(leaves[:k])
	r := MerkleRoot(leaves[k:])
	return hashing.Blake2b256([]byte{innerPrefix}, l[:], r[:])
}
