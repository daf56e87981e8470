package msg

import (
	"bytes"
	"fmt"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Topics of master-key rotation (docs/keys.md, "Rotation").
const (
	// TopicClusterRekeyed: Module("phat") → workers, payload
	// ClusterRekeyed; the chain recorded a cluster key of a new master-key
	// epoch. Every worker of the cluster answers it at the end of the block
	// with one TopicContractKeys message (or counts its sequence when it
	// does not hold the new key).
	TopicClusterRekeyed = "phat/rekeyed"
	// TopicContractKeys: Cluster → chain, payload ContractKeys: the
	// cluster's contracts' ECDH public keys of an epoch, published after a
	// rotation.
	TopicContractKeys = "cluster/contract_keys"
	// TopicClusterKeyHistory: Worker (the designated active gatekeeper) →
	// chain → workers, payload ClusterKeyHistory: a rotated cluster's keys
	// of its past epochs, for a worker about to receive the current one
	// (sent just before its share), so that it replays the cluster's
	// history like the workers keyed all along.
	TopicClusterKeyHistory = "gatekeeper/cluster_key_history"
	// TopicMasterKeyHistory: Worker (the designated active gatekeeper) →
	// chain → workers, payload MasterKeyHistory: the master keys of past
	// epochs for a gatekeeper about to receive the current one (sent just
	// before its share), so that any gatekeeper can later derive every
	// epoch's cluster keys.
	TopicMasterKeyHistory = "gatekeeper/master_key_history"
)

// MaxHistoryKeys bounds the past epochs of a ClusterKeyHistory payload.
const MaxHistoryKeys = 256

// MaxContractKeysPerMessage bounds the entries of a ContractKeys payload
// (phat.MaxClusterContracts: one message covers a whole cluster).
const MaxContractKeysPerMessage = 1024

// ClusterRekeyed is the payload of TopicClusterRekeyed.
type ClusterRekeyed struct {
	Cluster [32]byte
	Epoch   uint32
}

// EncodeSCALE writes ([u8;32], u32).
func (p *ClusterRekeyed) EncodeSCALE(w *scale.Writer) { w.Raw(p.Cluster[:]); w.U32(p.Epoch) }

// DecodeSCALE reads the payload.
func (p *ClusterRekeyed) DecodeSCALE(r *scale.Reader) { r.Fixed(p.Cluster[:]); p.Epoch = r.U32() }

// ContractKeys is the payload of TopicContractKeys: the contract keys of
// master-key epoch Epoch, by contract id (strictly increasing).
type ContractKeys struct {
	Epoch uint32
	Keys  []ContractKey
}

// EncodeSCALE writes (u32, Vec<([u8;32], [u8;32])>).
func (p *ContractKeys) EncodeSCALE(w *scale.Writer) {
	w.U32(p.Epoch)
	scale.WriteVec(w, p.Keys, func(w *scale.Writer, k ContractKey) { w.Raw(k.Contract[:]); w.Raw(k.Pubkey[:]) })
}

// DecodeSCALE reads the payload: at most MaxContractKeysPerMessage entries
// in strictly increasing contract order (none: a cluster without
// contracts, which still answers its re-keying with one message).
func (p *ContractKeys) DecodeSCALE(r *scale.Reader) {
	p.Epoch = r.U32()
	n := r.Len(64)
	if r.Err() != nil {
		return
	}
	if n > MaxContractKeysPerMessage {
		r.Fail(fmt.Errorf("%d contract keys, at most %d", n, MaxContractKeysPerMessage))
		return
	}
	p.Keys = make([]ContractKey, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var k ContractKey
		r.Fixed(k.Contract[:])
		var pub keys.PublicKey
		r.Fixed(pub[:])
		k.Pubkey = pub
		if i > 0 && r.Err() == nil && bytes.Compare(p.Keys[i-1].Contract[:], k.Contract[:]) >= 0 {
			r.Fail(fmt.Errorf("contract keys not in strictly increasing contract order"))
			return
		}
		p.Keys = append(p.Keys, k)
	}
}

// EpochKey is a cluster key of one past epoch encrypted to a worker
// (salt cipher.ClusterKeySharingSalt).
type EpochKey struct {
	Epoch uint32
	Key   cipher.EncryptedKey
}

// ClusterKeyHistory is the payload of TopicClusterKeyHistory.
type ClusterKeyHistory struct {
	Cluster [32]byte
	Worker  keys.PublicKey
	// Keys are by strictly increasing epoch.
	Keys []EpochKey
}

// EncodeSCALE writes ([u8;32], [u8;32], Vec<(u32, EncryptedKey)>).
func (p *ClusterKeyHistory) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.Raw(p.Worker[:])
	writeEpochKeys(w, p.Keys)
}

// DecodeSCALE reads the payload: 1 to MaxHistoryKeys keys by strictly
// increasing epoch.
func (p *ClusterKeyHistory) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	r.Fixed(p.Worker[:])
	p.Keys = readEpochKeys(r)
}

// MasterKeyHistory is the payload of TopicMasterKeyHistory: past master
// keys encrypted to the receiver (salt cipher.MasterKeySharingSalt).
type MasterKeyHistory struct {
	Receiver keys.PublicKey
	// Keys are by strictly increasing epoch.
	Keys []EpochKey
}

// EncodeSCALE writes ([u8;32], Vec<(u32, EncryptedKey)>).
func (p *MasterKeyHistory) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Receiver[:])
	writeEpochKeys(w, p.Keys)
}

// DecodeSCALE reads the payload: 1 to MaxHistoryKeys keys by strictly
// increasing epoch.
func (p *MasterKeyHistory) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Receiver[:])
	p.Keys = readEpochKeys(r)
}

func writeEpochKeys(w *scale.Writer, ks []EpochKey) {
	w.Compact(uint64(len(ks)))
	for i := range ks {
		w.U32(ks[i].Epoch)
		ks[i].Key.EncodeSCALE(w)
	}
}

func readEpochKeys(r *scale.Reader) []EpochKey {
	n := r.Len(4 + 32 + 1 + 12)
	if r.Err() != nil {
		return nil
	}
	if n == 0 || n > MaxHistoryKeys {
		r.Fail(fmt.Errorf("%d history keys, want 1 to %d", n, MaxHistoryKeys))
		return nil
	}
	out := make([]EpochKey, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var k EpochKey
		k.Epoch = r.U32()
		k.Key.DecodeSCALE(r)
		if i > 0 && r.Err() == nil && out[i-1].Epoch >= k.Epoch {
			r.Fail(fmt.Errorf("history keys not in strictly increasing epoch order"))
			return nil
		}
		out = append(out, k)
	}
	return out
}
