package msg

import (
	"fmt"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Messages of the key hierarchy: gatekeepers, the master key, clusters and
// their keys, contract keys (docs/keys.md). Who sends each, and what the
// chain checks, is written beside its topic.

// Module names in Module origins.
const (
	// GatekeeperModuleName is the gatekeeper module's name in its origin.
	GatekeeperModuleName = "gatekeeper"
	// PhatModuleName is the phat (clusters and contracts) module's name.
	PhatModuleName = "phat"
)

// Topics of the key hierarchy.
const (
	// TopicGatekeeperChanged: Module("gatekeeper") → workers, payload
	// GatekeeperChange; emitted when a gatekeeper is added or removed.
	TopicGatekeeperChanged = "gatekeeper/changed"
	// TopicMasterPubkey: Worker (a gatekeeper) → chain, payload
	// MasterPubkey; the first gatekeeper announces the master public key it
	// generated. The chain keeps the first for an epoch and marks the
	// sender active.
	TopicMasterPubkey = "gatekeeper/master_pubkey"
	// TopicMasterKeyShare: Worker (the designated active gatekeeper) →
	// chain → workers, payload MasterKeyShare; the master key encrypted to a
	// new gatekeeper's ECDH key.
	TopicMasterKeyShare = "gatekeeper/master_key"
	// TopicGatekeeperReady: Worker (a gatekeeper) → chain, payload
	// GatekeeperReady; a gatekeeper that received the master key and checked
	// it against the chain's public key says so, and becomes active.
	TopicGatekeeperReady = "gatekeeper/ready"
	// TopicClusterChanged: Module("phat") → workers, payload ClusterChange;
	// a cluster was created or its workers changed.
	TopicClusterChanged = "phat/cluster"
	// TopicClusterKeys: Worker (the designated active gatekeeper) → chain →
	// workers, payload ClusterKeyShares; the cluster key encrypted to each
	// named worker of the cluster, and the cluster's public key.
	TopicClusterKeys = "gatekeeper/cluster_key"
	// TopicContractKey: Cluster → chain, payload ContractKey; a contract's
	// ECDH public key, published by its cluster.
	TopicContractKey = "cluster/contract_key"
)

// OriginKindCluster is the origin kind of a cluster's egress: 0x02 ‖ the
// 32-byte cluster id. Its messages are signed with the cluster key; every
// worker of the cluster produces identical bytes.
const OriginKindCluster uint8 = 2

// OriginCluster returns the origin of a cluster's egress.
func OriginCluster(id [32]byte) []byte {
	out := make([]byte, 1+32)
	out[0] = OriginKindCluster
	copy(out[1:], id[:])
	return out
}

// MaxSharesPerMessage bounds the key shares of one ClusterKeyShares message.
const MaxSharesPerMessage = 64

// Kinds of GatekeeperChange.
const (
	GatekeeperAdded   uint8 = 0
	GatekeeperRemoved uint8 = 1
)

// GatekeeperChange is the payload of TopicGatekeeperChanged. Workers read
// the whole gatekeeper set from verified state; the message says what
// changed.
type GatekeeperChange struct {
	Kind   uint8
	Worker keys.PublicKey
}

// EncodeSCALE writes (u8, [u8;32]).
func (p *GatekeeperChange) EncodeSCALE(w *scale.Writer) { w.U8(p.Kind); w.Raw(p.Worker[:]) }

// DecodeSCALE reads the payload.
func (p *GatekeeperChange) DecodeSCALE(r *scale.Reader) {
	p.Kind = r.U8()
	r.Fixed(p.Worker[:])
	if r.Err() == nil && p.Kind > GatekeeperRemoved {
		r.Fail(fmt.Errorf("gatekeeper change kind %d", p.Kind))
	}
}

// MasterPubkey is the payload of TopicMasterPubkey.
type MasterPubkey struct {
	Epoch  uint32
	Pubkey keys.PublicKey
}

// EncodeSCALE writes (u32, [u8;32]).
func (p *MasterPubkey) EncodeSCALE(w *scale.Writer) { w.U32(p.Epoch); w.Raw(p.Pubkey[:]) }

// DecodeSCALE reads the payload.
func (p *MasterPubkey) DecodeSCALE(r *scale.Reader) { p.Epoch = r.U32(); r.Fixed(p.Pubkey[:]) }

// MasterKeyShare is the payload of TopicMasterKeyShare: the master key of
// Epoch, encrypted (cipher.EncryptKeyTo, salt cipher.MasterKeySharingSalt)
// to Receiver's registered ECDH key.
type MasterKeyShare struct {
	Receiver keys.PublicKey
	Epoch    uint32
	Key      cipher.EncryptedKey
}

// EncodeSCALE writes ([u8;32], u32, EncryptedKey).
func (p *MasterKeyShare) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Receiver[:])
	w.U32(p.Epoch)
	p.Key.EncodeSCALE(w)
}

// DecodeSCALE reads the payload.
func (p *MasterKeyShare) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Receiver[:])
	p.Epoch = r.U32()
	p.Key.DecodeSCALE(r)
}

// GatekeeperReady is the payload of TopicGatekeeperReady: the sender holds
// the master key of Epoch, whose public key is Pubkey.
type GatekeeperReady struct {
	Epoch  uint32
	Pubkey keys.PublicKey
}

// EncodeSCALE writes (u32, [u8;32]).
func (p *GatekeeperReady) EncodeSCALE(w *scale.Writer) { w.U32(p.Epoch); w.Raw(p.Pubkey[:]) }

// DecodeSCALE reads the payload.
func (p *GatekeeperReady) DecodeSCALE(r *scale.Reader) { p.Epoch = r.U32(); r.Fixed(p.Pubkey[:]) }

// Kinds of ClusterChange.
const (
	ClusterCreated       uint8 = 0
	ClusterWorkerAdded   uint8 = 1
	ClusterWorkerRemoved uint8 = 2
)

// ClusterChange is the payload of TopicClusterChanged. Worker is zero for
// ClusterCreated (the cluster record in verified state lists the workers).
type ClusterChange struct {
	Cluster [32]byte
	Kind    uint8
	Worker  keys.PublicKey
}

// EncodeSCALE writes ([u8;32], u8, [u8;32]).
func (p *ClusterChange) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.U8(p.Kind)
	w.Raw(p.Worker[:])
}

// DecodeSCALE reads the payload.
func (p *ClusterChange) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	p.Kind = r.U8()
	r.Fixed(p.Worker[:])
	if r.Err() == nil && p.Kind > ClusterWorkerRemoved {
		r.Fail(fmt.Errorf("cluster change kind %d", p.Kind))
	}
}

// ClusterKeyShare is the cluster key encrypted (cipher.EncryptKeyTo, salt
// cipher.ClusterKeySharingSalt) to one worker's registered ECDH key.
type ClusterKeyShare struct {
	Worker keys.PublicKey
	Key    cipher.EncryptedKey
}

// ClusterKeyShares is the payload of TopicClusterKeys.
type ClusterKeyShares struct {
	Cluster [32]byte
	// Epoch is the master-key epoch the cluster key derives from.
	Epoch  uint32
	Pubkey keys.PublicKey
	Shares []ClusterKeyShare
}

// EncodeSCALE writes ([u8;32], u32, [u8;32], Vec<([u8;32], EncryptedKey)>).
func (p *ClusterKeyShares) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.U32(p.Epoch)
	w.Raw(p.Pubkey[:])
	w.Compact(uint64(len(p.Shares)))
	for i := range p.Shares {
		w.Raw(p.Shares[i].Worker[:])
		p.Shares[i].Key.EncodeSCALE(w)
	}
}

// DecodeSCALE reads the payload; at most MaxSharesPerMessage shares.
func (p *ClusterKeyShares) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	p.Epoch = r.U32()
	r.Fixed(p.Pubkey[:])
	n := r.Len(32 + 32 + 1 + 12)
	if r.Err() == nil && n > MaxSharesPerMessage {
		r.Fail(fmt.Errorf("%d key shares, at most %d", n, MaxSharesPerMessage))
		return
	}
	p.Shares = make([]ClusterKeyShare, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var s ClusterKeyShare
		r.Fixed(s.Worker[:])
		s.Key.DecodeSCALE(r)
		p.Shares = append(p.Shares, s)
	}
}

// ContractKey is the payload of TopicContractKey.
type ContractKey struct {
	Contract [32]byte
	Pubkey   keys.PublicKey
}

// EncodeSCALE writes ([u8;32], [u8;32]).
func (p *ContractKey) EncodeSCALE(w *scale.Writer) { w.Raw(p.Contract[:]); w.Raw(p.Pubkey[:]) }

// DecodeSCALE reads the payload.
func (p *ContractKey) DecodeSCALE(r *scale.Reader) { r.Fixed(p.Contract[:]); r.Fixed(p.Pubkey[:]) }
