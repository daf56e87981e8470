package phat

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/gatekeeper"
)

// Rotation, the phat side (docs/keys.md, "Rotation"): a cluster_key
// message of a newer master-key epoch replaces the cluster's key (the
// workers named in it become the keyed ones), appends to the cluster's
// epoch history and tells the cluster's workers (msg.TopicClusterRekeyed);
// the cluster then publishes its contracts' keys of the new epoch
// (msg.TopicContractKeys), which become the contracts' current keys.

// Storage prefixes of rotation records.
var (
	PrefixClusterEpochs    = []byte("phat/cluster_epochs/")
	PrefixContractKeyEpoch = []byte("phat/contract_key_epoch/")
)

// ClusterEpoch is one entry of a cluster's key history.
type ClusterEpoch struct {
	Epoch  uint32
	Pubkey keys.PublicKey
	// Height is the block the chain recorded the key at (0: before the
	// history was kept, i.e. before the cluster's first rotation).
	Height uint64
	// Grace is the key grace period (gatekeeper.KeyGrace) when the key was
	// recorded: the keys of older epochs are retired after Height + Grace.
	// Fixed here, so a later change of the grace never changes how an
	// input already on chain is judged (a replaying worker decides like
	// the others).
	Grace uint32
}

func writeEpochs(w *scale.Writer, es []ClusterEpoch) {
	scale.WriteVec(w, es, func(w *scale.Writer, e ClusterEpoch) {
		w.U32(e.Epoch)
		w.Raw(e.Pubkey[:])
		w.U64(e.Height)
		w.U32(e.Grace)
	})
}

// ClusterEpochsKey returns the storage key of a cluster's key history.
func ClusterEpochsKey(id [32]byte) []byte { return append(slices.Clone(PrefixClusterEpochs), id[:]...) }

// ContractKeyEpochKey returns the storage key of a contract's key of epoch.
func ContractKeyEpochKey(contract [32]byte, epoch uint32) []byte {
	k := append(slices.Clone(PrefixContractKeyEpoch), contract[:]...)
	return binary.BigEndian.AppendUint32(k, epoch)
}

// ClusterEpochs returns a cluster's key history, oldest first; nil for a
// cluster never rotated (its record holds its only key).
func ClusterEpochs(st state.Store, id [32]byte) ([]ClusterEpoch, error) {
	v, err := st.Get(ClusterEpochsKey(id))
	if err != nil {
		return nil, fmt.Errorf("state: reading cluster epochs: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 48, func(r *scale.Reader) (e ClusterEpoch) {
		e.Epoch = r.U32()
		r.Fixed(e.Pubkey[:])
		e.Height = r.U64()
		e.Grace = r.U32()
		return e
	})
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: cluster %x epochs: %w", state.ErrCorruptState, id, err)
	}
	return out, nil
}

// ClusterPreviousPubkey returns the key the cluster had before its
// current one; false when it was never rotated. mq.submit accepts a
// cluster message signed by it too, so the messages its workers signed
// before they received the new key still land.
func ClusterPreviousPubkey(st state.Store, id [32]byte) (keys.PublicKey, bool, error) {
	es, err := ClusterEpochs(st, id)
	if err != nil || len(es) < 2 {
		return keys.PublicKey{}, false, err
	}
	return es[len(es)-2].Pubkey, true, nil
}

// ContractKeyOfEpoch returns a contract's key of epoch, as recorded by a
// rotation; false when none was recorded for that epoch.
func ContractKeyOfEpoch(st state.Store, contract [32]byte, epoch uint32) (keys.PublicKey, bool, error) {
	v, err := st.Get(ContractKeyEpochKey(contract, epoch))
	if err != nil {
		return keys.PublicKey{}, false, fmt.Errorf("state: reading contract key: %w", err)
	}
	if v == nil {
		return keys.PublicKey{}, false, nil
	}
	if len(v) != 32 {
		return keys.PublicKey{}, false, fmt.Errorf("%w: contract key of %d bytes", state.ErrCorruptState, len(v))
	}
	return keys.PublicKey(v), true, nil
}

// rekey records cluster cl's key of the newer epoch p.Epoch (already
// checked to be the master key's) with p's shares as its keyed workers.
func rekey(c *state.CallCtx, cl *Cluster, p *msg.ClusterKeyShares) (uint32, string, error) {
	es, err := ClusterEpochs(c.Overlay(), cl.ID)
	if err != nil {
		return 0, "", err
	}
	if slices.ContainsFunc(es, func(e ClusterEpoch) bool { return e.Pubkey == p.Pubkey }) || p.Pubkey == cl.Pubkey {
		return state.CodeClusterKeyMismatch, fmt.Sprintf("cluster %x: the key of epoch %d equals an older one", cl.ID, p.Epoch), nil
	}
	if len(es) == 0 {
		es = append(es, ClusterEpoch{Epoch: cl.Epoch, Pubkey: cl.Pubkey})
	}
	grace, err := gatekeeper.KeyGrace(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	h := uint64(max(c.Header().Height, 0))
	es = append(es, ClusterEpoch{Epoch: p.Epoch, Pubkey: p.Pubkey, Height: h, Grace: grace})
	w := scale.NewWriter(1 + 48*len(es))
	writeEpochs(w, es)
	c.Overlay().SetOwned(ClusterEpochsKey(cl.ID), w.Bytes())
	cl.Pubkey, cl.Epoch = p.Pubkey, p.Epoch
	cl.Keyed = cl.Keyed[:0]
	for _, s := range p.Shares {
		if i, in := slices.BinarySearchFunc(cl.Keyed, s.Worker, cmpKey); !in {
			cl.Keyed = slices.Insert(cl.Keyed, i, s.Worker)
		}
	}
	putCluster(c.Overlay(), cl)
	c.Emit(msg.Message{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(msg.TopicClusterRekeyed),
		Payload: scale.Encode(&msg.ClusterRekeyed{Cluster: cl.ID, Epoch: p.Epoch})})
	c.AddEvent(state.Event{Type: "cluster_rekeyed", Attributes: []state.EventAttribute{
		{Key: "cluster", Value: "0x" + hex.EncodeToString(cl.ID[:]), Index: true}, {Key: "epoch", Value: fmt.Sprint(p.Epoch)},
		{Key: "pubkey", Value: cl.Pubkey.Hex()}}})
	return state.CodeOK, "", nil
}

// HandleContractKeys: a cluster publishes its contracts' keys of epoch
// p.Epoch, which must be the cluster's current epoch; a contract with a
// recorded key must be of this cluster (one without is skipped, with a
// contract_keys_skipped event); a key already recorded for the epoch must
// be the same. The keys become the contracts' current keys
// (the contract-key and contract records) and are kept by epoch; the
// previous key is kept under its epoch too. All or nothing.
func HandleContractKeys(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindCluster {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of clusters, not of %s", msg.TopicContractKeys, o), nil
	}
	var p msg.ContractKeys
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicContractKeys, err), nil
	}
	cl, ok, err := GetCluster(c.Overlay(), o.Cluster)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeUnknownCluster, fmt.Sprintf("no cluster %x", o.Cluster), nil
	}
	if !cl.HasPubkey || cl.Epoch != p.Epoch {
		return state.CodeClusterKeyMismatch, fmt.Sprintf("contract keys of epoch %d, cluster %x is at epoch %d", p.Epoch, cl.ID, cl.Epoch), nil
	}
	es, err := ClusterEpochs(c.Overlay(), cl.ID)
	if err != nil {
		return 0, "", err
	}
	prevEpoch := p.Epoch
	if len(es) >= 2 {
		prevEpoch = es[len(es)-2].Epoch
	}
	h := uint64(max(c.Header().Height, 0))
	skipped := 0
	for _, k := range p.Keys {
		rec, ok, err := GetContractKey(c.Overlay(), k.Contract)
		if err != nil {
			return 0, "", err
		}
		if !ok {
			// A contract whose first key the chain refused (a cluster bug):
			// skipped, so that it cannot hold back the others' keys.
			skipped++
			continue
		}
		if rec.Cluster != cl.ID {
			return state.CodeWrongCluster, fmt.Sprintf("contract %x belongs to cluster %x, not %x", k.Contract, rec.Cluster, cl.ID), nil
		}
		if old, ok, err := ContractKeyOfEpoch(c.Overlay(), k.Contract, p.Epoch); err != nil {
			return 0, "", err
		} else if ok {
			if old != k.Pubkey {
				return state.CodeContractKeyMismatch, fmt.Sprintf("contract %x already has key %s of epoch %d", k.Contract, old.Hex(), p.Epoch), nil
			}
			continue
		}
		if rec.Pubkey != k.Pubkey && prevEpoch != p.Epoch {
			if _, ok, err := ContractKeyOfEpoch(c.Overlay(), k.Contract, prevEpoch); err != nil {
				return 0, "", err
			} else if !ok {
				c.Overlay().Set(ContractKeyEpochKey(k.Contract, prevEpoch), bytes.Clone(rec.Pubkey[:]))
			}
		}
		c.Overlay().Set(ContractKeyEpochKey(k.Contract, p.Epoch), bytes.Clone(k.Pubkey[:]))
		rec.Pubkey = k.Pubkey
		c.Overlay().SetOwned(ContractKeyKey(k.Contract), scale.Encode(&rec))
		ct, ok, err := GetContract(c.Overlay(), k.Contract)
		if err != nil {
			return 0, "", err
		}
		if ok && ct.State == ContractInstantiated {
			pub := k.Pubkey
			ct.Pubkey = &pub
			c.Overlay().SetOwned(ContractKeyOf(k.Contract), scale.Encode(&ct))
		}
		c.AddEvent(state.Event{Type: "contract_key", Attributes: []state.EventAttribute{
			{Key: "contract", Value: "0x" + hex.EncodeToString(k.Contract[:]), Index: true}, {Key: "pubkey", Value: k.Pubkey.Hex()},
			{Key: "epoch", Value: fmt.Sprint(p.Epoch)}, {Key: "height", Value: fmt.Sprint(h)}}})
	}
	if skipped > 0 {
		c.AddEvent(state.Event{Type: "contract_keys_skipped", Attributes: []state.EventAttribute{
			{Key: "cluster", Value: "0x" + hex.EncodeToString(cl.ID[:]), Index: true}, {Key: "count", Value: fmt.Sprint(skipped)}}})
	}
	return state.CodeOK, "", nil
}

// HandleClusterKeyHistory: the sender must be an active gatekeeper; the
// cluster exists and the worker is one of its workers; every epoch is one
// the cluster had a key of (its history, or its record's epoch when it is
// about to be re-keyed) and older than the master key's. Nothing is recorded: the
// message is delivered to the worker, which checks each key against the
// history.
func HandleClusterKeyHistory(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	var p msg.ClusterKeyHistory
	cl, code, log, err := gatekeeperMessage(c, o, msg.TopicClusterKeyHistory, payload, &p, func() [32]byte { return p.Cluster })
	if code != state.CodeOK || err != nil {
		return code, log, err
	}
	if _, in := slices.BinarySearchFunc(cl.Workers, p.Worker, cmpKey); !in {
		return state.CodeClusterKeyOutsideCluster, fmt.Sprintf("history for %s, not a worker of cluster %x", p.Worker.Hex(), cl.ID), nil
	}
	es, err := ClusterEpochs(c.Overlay(), cl.ID)
	if err != nil {
		return 0, "", err
	}
	mk, ok, err := gatekeeper.GetMasterKey(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	for _, k := range p.Keys {
		known := slices.ContainsFunc(es, func(e ClusterEpoch) bool { return e.Epoch == k.Epoch }) || cl.HasPubkey && cl.Epoch == k.Epoch
		if !ok || k.Epoch >= mk.Epoch || !known {
			return state.CodeClusterKeyMismatch, fmt.Sprintf("cluster %x has no past key of epoch %d", cl.ID, k.Epoch), nil
		}
	}
	return state.CodeOK, "", nil
}
