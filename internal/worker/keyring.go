package worker

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// masterKey is a master key the core holds, with the gatekeeper's IV
// generator (whose sequence number is persistent state).
type masterKey struct {
	epoch uint32
	pair  *keys.Pair
	gen   *cipher.IVGenerator
}

// clusterKey is a cluster key the core holds.
type clusterKey struct {
	epoch uint32
	pair  *keys.Pair
	// contracts caches the contracts' ECDH keys derived from pair (a
	// derivation and a scalar decoding per command otherwise). A rotated
	// key is a new clusterKey, so the cache never outlives its key; it is
	// bounded by maxContractKeyCache and guarded by mu (snapshots share
	// clusterKey values).
	mu        sync.Mutex
	contracts map[[32]byte]*cipher.EcdhKey
}

// maxContractKeyCache bounds a cluster key's cache of contract keys (it is
// emptied when full: the keys are derived again on use).
const maxContractKeyCache = 4096

// contractEcdh is contract's ECDH key (cipher.ContractKey of the cluster
// key), from the cache when it holds it.
func (k *clusterKey) contractEcdh(contract [32]byte) *cipher.EcdhKey {
	k.mu.Lock()
	defer k.mu.Unlock()
	if e, ok := k.contracts[contract]; ok {
		return e
	}
	if k.contracts == nil || len(k.contracts) >= maxContractKeyCache {
		k.contracts = map[[32]byte]*cipher.EcdhKey{}
	}
	e := cipher.NewEcdhKey(cipher.ContractKey(k.pair, contract))
	k.contracts[contract] = e
	return e
}

// KeysDomain starts every keys snapshot (and names its format version).
// restoreKeys still reads KeysDomainV1 (no old epochs).
const (
	KeysDomain   = "cella/worker/keys/v2"
	KeysDomainV1 = "cella/worker/keys/v1"
)

// KeysSnapshot returns the keys the core learned from the chain (the
// master key with its epoch and IV sequence, the cluster keys with their
// epochs, and the keys of past epochs) as deterministic SCALE bytes. They
// are secrets: the shell seals them (checkpoint section 3) and never shows
// them.
//
//	String "cella/worker/keys/v2" ‖ Option<(u32 epoch, [u8;64] secret, u64 iv seq)> master ‖
//	Vec<([u8;32] cluster, u32 epoch, [u8;64] secret)> by cluster id ‖
//	Vec<(u32 epoch, [u8;64] secret, u64 iv seq)> old master keys by epoch ‖
//	Vec<([u8;32] cluster, u32 epoch, [u8;64] secret)> old cluster keys by (cluster id, epoch)
//
// v1 is v2 without the last two vectors.
func (c *Core) KeysSnapshot() []byte {
	var w scale.Writer
	w.String(KeysDomain)
	if c.master == nil {
		w.U8(0)
	} else {
		w.U8(1)
		writeMaster(&w, c.master)
	}
	ids := c.clusterKeyIDs()
	w.Compact(uint64(len(ids)))
	for _, id := range ids {
		writeClusterKey(&w, id, c.clusterKeys[id])
	}
	w.Compact(uint64(len(c.oldMasters)))
	for _, m := range c.oldMasters {
		writeMaster(&w, m)
	}
	old := make([][32]byte, 0, len(c.oldClusterKeys))
	n := 0
	for id, ks := range c.oldClusterKeys {
		old = append(old, id)
		n += len(ks)
	}
	sort.Slice(old, func(i, j int) bool { return bytes.Compare(old[i][:], old[j][:]) < 0 })
	w.Compact(uint64(n))
	for _, id := range old {
		for _, k := range c.oldClusterKeys[id] {
			writeClusterKey(&w, id, k)
		}
	}
	return w.Bytes()
}

func writeMaster(w *scale.Writer, m *masterKey) {
	w.U32(m.epoch)
	sk := m.pair.SecretBytes()
	w.Raw(sk[:])
	clear(sk[:])
	w.U64(m.gen.Seq())
}

func writeClusterKey(w *scale.Writer, id [32]byte, k *clusterKey) {
	w.Raw(id[:])
	w.U32(k.epoch)
	sk := k.pair.SecretBytes()
	w.Raw(sk[:])
	clear(sk[:])
}

func (c *Core) clusterKeyIDs() [][32]byte {
	ids := make([][32]byte, 0, len(c.clusterKeys))
	for id := range c.clusterKeys {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	return ids
}

func readMaster(r *scale.Reader) (*masterKey, error) {
	var sk [cipher.SecretKeySize]byte
	defer clear(sk[:])
	epoch := r.U32()
	r.Fixed(sk[:])
	seq := r.U64()
	if r.Err() != nil {
		return nil, nil
	}
	p, err := keys.FromSecretBytes(sk)
	if err != nil {
		return nil, fmt.Errorf("%w: master key is not a valid secret key", ErrCorruptSnapshot)
	}
	return &masterKey{epoch: epoch, pair: p, gen: cipher.NewIVGenerator(p, seq)}, nil
}

// readClusterKeys reads a vector of (cluster, epoch, secret) in strictly
// increasing (cluster, epoch) order and gives each to put.
func readClusterKeys(r *scale.Reader, put func(id [32]byte, k *clusterKey)) error {
	var sk [cipher.SecretKeySize]byte
	defer clear(sk[:])
	n := r.Len(32 + 4 + 64)
	var last []byte
	for i := 0; i < n && r.Err() == nil; i++ {
		var id [32]byte
		r.Fixed(id[:])
		epoch := r.U32()
		r.Fixed(sk[:])
		if r.Err() != nil {
			break
		}
		cur := binary.BigEndian.AppendUint32(bytes.Clone(id[:]), epoch)
		if last != nil && bytes.Compare(last, cur) >= 0 {
			return fmt.Errorf("%w: cluster keys not sorted", ErrCorruptSnapshot)
		}
		last = cur
		p, err := keys.FromSecretBytes(sk)
		if err != nil {
			return fmt.Errorf("%w: cluster %x key is not a valid secret key", ErrCorruptSnapshot, id)
		}
		put(id, &clusterKey{epoch: epoch, pair: p})
	}
	return nil
}

// restoreKeys loads KeysSnapshot's bytes (v2, or v1) into c (which holds
// no key yet). Errors never include key material.
func (c *Core) restoreKeys(b []byte) error {
	r := scale.NewReader(b)
	d := r.String()
	if r.Err() != nil || d != KeysDomain && d != KeysDomainV1 {
		return fmt.Errorf("%w: not a %s snapshot", ErrCorruptSnapshot, KeysDomain)
	}
	switch r.U8() {
	case 0:
	case 1:
		m, err := readMaster(r)
		if err != nil {
			return err
		}
		c.master = m
	default:
		if r.Err() == nil {
			return fmt.Errorf("%w: bad master key option", ErrCorruptSnapshot)
		}
	}
	if err := readClusterKeys(r, func(id [32]byte, k *clusterKey) { c.clusterKeys[id] = k }); err != nil {
		return err
	}
	if d == KeysDomain {
		n := r.Len(4 + 64 + 8)
		for i := 0; i < n && r.Err() == nil; i++ {
			m, err := readMaster(r)
			if err != nil {
				return err
			}
			if m == nil {
				break
			}
			if k := len(c.oldMasters); k > 0 && c.oldMasters[k-1].epoch >= m.epoch || c.master != nil && m.epoch >= c.master.epoch {
				return fmt.Errorf("%w: old master keys out of epoch order", ErrCorruptSnapshot)
			}
			c.oldMasters = append(c.oldMasters, m)
		}
		var bad error
		if err := readClusterKeys(r, func(id [32]byte, k *clusterKey) {
			if cur := c.clusterKeys[id]; cur != nil && k.epoch >= cur.epoch {
				bad = fmt.Errorf("%w: old cluster key of cluster %x is not older than a held one", ErrCorruptSnapshot, id)
				return
			}
			c.oldClusterKeys[id] = append(c.oldClusterKeys[id], k)
		}); err != nil {
			return err
		}
		if bad != nil {
			return bad
		}
	}
	if err := r.Finish(); err != nil {
		return fmt.Errorf("%w: keys: %w", ErrCorruptSnapshot, err)
	}
	return nil
}

// KeyInfo is what the core shows of its keys: public parts only.
type KeyInfo struct {
	// Gatekeeper: the worker is in the chain's gatekeeper set.
	Gatekeeper bool
	// MasterPublicKey is the held master key's public key (zero: none).
	MasterPublicKey keys.PublicKey
	HasMaster       bool
	MasterEpoch     uint32
	// Clusters are the clusters whose key the worker holds, by id.
	Clusters []ClusterKeyInfo
}

// ClusterKeyInfo names a held cluster key.
type ClusterKeyInfo struct {
	ID     [32]byte
	Epoch  uint32
	Pubkey keys.PublicKey
	// RetiredEpochs are the older epochs whose keys the worker keeps.
	RetiredEpochs []uint32
}

// KeyInfo returns the public side of the core's keys; gatekeeper
// membership is read from st (the verified state) when the core has a
// chain view, and a master key that is not the chain's is not shown.
func (c *Core) KeyInfo(st state.Store) KeyInfo {
	var in KeyInfo
	stale := false
	if c.opts.View != nil && st != nil {
		v := c.opts.View(st)
		if gks, err := v.Gatekeepers(); err == nil {
			for _, g := range gks {
				in.Gatekeeper = in.Gatekeeper || g.Identity == c.Identity()
			}
		}
		// A key generated by a gatekeeper that lost the race to the chain
		// is not the master key: it waits for a share.
		if mr, ok, err := v.MasterKey(); err == nil && ok && !c.holdsMaster(mr) {
			stale = true
		}
	}
	if c.master != nil && !stale {
		in.HasMaster, in.MasterPublicKey, in.MasterEpoch = true, c.master.pair.Public(), c.master.epoch
	}
	for _, id := range c.clusterKeyIDs() {
		k := c.clusterKeys[id]
		ki := ClusterKeyInfo{ID: id, Epoch: k.epoch, Pubkey: k.pair.Public()}
		for _, o := range c.oldClusterKeys[id] {
			ki.RetiredEpochs = append(ki.RetiredEpochs, o.epoch)
		}
		in.Clusters = append(in.Clusters, ki)
	}
	return in
}
