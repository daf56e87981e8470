package worker

import (
	"bytes"
	"cmp"
	"fmt"
	"io"
	"slices"
	"sort"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// Master-key rotation, from the worker's side (docs/keys.md, "Rotation"):
//
//   - The rotation's generator (the chain's Rotation record names it)
//     generates the next epoch's master key, keeps the old one and
//     announces the new public key; in the same step, right behind the
//     announcement, it sends the new key to every other gatekeeper (as a
//     first key is sent) and each cluster's key of the new epoch to all
//     the cluster's workers (shareNewEpoch). The chain judges them after
//     the announcement, so they land with it. A cluster key refused on
//     the way (a worker left the cluster meanwhile) is sent again by the
//     designated gatekeeper's level-triggered part (gatekeeper.go), which
//     finds the rest served and sends nothing twice.
//   - A worker that receives a cluster key of a newer epoch keeps the old
//     one and signs the cluster's egress with the new one. When the chain
//     tells the cluster it was re-keyed (msg.TopicClusterRekeyed), every
//     worker of the cluster answers at the end of the block with one
//     cluster/contract_keys message carrying the new contract keys (a
//     worker without the new key counts its sequence only).
//   - A command that decrypts only with an older epoch's contract key runs
//     while the block is within the chain's key grace period of the
//     recording of the cluster's next key, and is refused
//     (RefuseRetiredKey) after it.

// MaxRetiredKeysTried bounds the old epochs a command that the current
// contract key does not decrypt is tried with (the newest ones): a refused
// command costs its sender only the transaction fee, so the work it causes
// on every worker must stay small. A command encrypted to an older epoch
// is refused as undecryptable.
const MaxRetiredKeysTried = 4

// RefuseRetiredKey is the refusal of a command encrypted to a contract key
// of an epoch retired longer than the key grace period.
const RefuseRetiredKey = "encrypted to a retired contract key"

// generateMasterEpoch makes the master key of epoch from the shell's
// entropy, keeping the current one as an old key.
func (c *Core) generateMasterEpoch(epoch uint32) error {
	var seed [32]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(c.opts.Entropy, seed[:]); err != nil {
		return fmt.Errorf("entropy for the master key: %w", err)
	}
	p := keys.FromSeed(seed)
	c.retireMaster()
	c.master = &masterKey{epoch: epoch, pair: p, gen: cipher.NewIVGenerator(p, 0)}
	return nil
}

// retireMaster keeps the current master key among the old ones.
func (c *Core) retireMaster() {
	if c.master != nil {
		c.addOldMaster(c.master)
	}
}

// addOldMaster keeps m among the old master keys, in epoch order; false
// when a key of its epoch is held already.
func (c *Core) addOldMaster(m *masterKey) bool {
	i, found := slices.BinarySearchFunc(c.oldMasters, m.epoch, func(o *masterKey, e uint32) int { return cmp.Compare(o.epoch, e) })
	if found {
		return false
	}
	c.oldMasters = slices.Insert(slices.Clone(c.oldMasters), i, m)
	return true
}

// masterEpochs is the chain's master-key history (nil without a rotation
// view).
func (c *Core) masterEpochs() ([]MasterRecord, error) {
	rv, ok := c.view.(RotationView)
	if !ok {
		return nil, nil
	}
	es, err := rv.MasterEpochs()
	if err != nil {
		return nil, fmt.Errorf("master-key history: %w", err)
	}
	return es, nil
}

// setMaster makes m the current master key; the one it replaces is kept
// as an old key when it is the chain's key of its epoch (a key generated
// by a gatekeeper that lost the race to the chain is dropped).
func (c *Core) setMaster(m *masterKey) error {
	if c.master != nil && c.master.epoch < m.epoch {
		es, err := c.masterEpochs()
		if err != nil {
			return err
		}
		if slices.Contains(es, MasterRecord{Epoch: c.master.epoch, Pubkey: c.master.pair.Public()}) {
			c.retireMaster()
		}
	}
	c.master = m
	return nil
}

// masterHistoryFor builds the past master keys for gatekeeper rec (about
// to receive the current key mr): every past epoch of the chain's history
// the core holds; nil when there is none to send.
func (c *Core) masterHistoryFor(x *Context, rec msg.WorkerRecord, to keys.PublicKey, mr MasterRecord) (*msg.MasterKeyHistory, error) {
	es, err := c.masterEpochs()
	if err != nil {
		return nil, err
	}
	p := &msg.MasterKeyHistory{Receiver: to}
	for _, e := range es {
		if e.Epoch >= mr.Epoch {
			continue
		}
		m := c.masterOf(e.Epoch)
		if m == nil || m.pair.Public() != e.Pubkey {
			c.refuse(x, to, [32]byte{}, fmt.Sprintf("no master key of epoch %d to send", e.Epoch))
			continue
		}
		ek, err := c.encryptTo(x, cipher.MasterKeySharingSalt, rec, m.pair)
		if err != nil {
			c.refuse(x, to, [32]byte{}, err.Error())
			return nil, nil
		}
		p.Keys = append(p.Keys, msg.EpochKey{Epoch: e.Epoch, Key: *ek})
	}
	if len(p.Keys) == 0 {
		return nil, nil
	}
	if len(p.Keys) > msg.MaxHistoryKeys {
		p.Keys = p.Keys[len(p.Keys)-msg.MaxHistoryKeys:]
	}
	return p, nil
}

// handleMasterKeyHistory keeps the past master keys sent to this
// gatekeeper, each once it checks against the chain's history.
func handleMasterKeyHistory(x *Context, m msg.Message) error {
	c := x.core
	var p msg.MasterKeyHistory
	if c.view == nil || scale.Decode(m.Payload, &p) != nil || p.Receiver != c.Identity() {
		return nil
	}
	es, err := c.masterEpochs()
	if err != nil {
		return err
	}
	added := false
	for _, k := range p.Keys {
		i := slices.IndexFunc(es, func(e MasterRecord) bool { return e.Epoch == k.Epoch })
		if i < 0 {
			x.recordChange(Change{Kind: ChangeShareRejected, Subject: c.Identity(), Detail: fmt.Sprintf("master key history: epoch %d is not the chain's", k.Epoch)})
			continue
		}
		if c.masterOf(k.Epoch) != nil && c.masterOf(k.Epoch).pair.Public() == es[i].Pubkey {
			continue
		}
		pair, err := k.Key.DecryptPair(cipher.NewEcdhKey(c.keys.Ecdh))
		if err != nil || pair.Public() != es[i].Pubkey {
			x.recordChange(Change{Kind: ChangeShareRejected, Subject: c.Identity(), Detail: fmt.Sprintf("master key history: epoch %d does not decrypt to the chain's key", k.Epoch)})
			continue
		}
		if c.master != nil && c.master.epoch <= k.Epoch {
			// A key of this epoch or later that is not the chain's (lost a
			// race to the chain): dropped, the current one comes next.
			c.master = nil
		}
		if c.addOldMaster(&masterKey{epoch: k.Epoch, pair: pair, gen: cipher.NewIVGenerator(pair, 0)}) {
			added = true
		}
	}
	if added {
		x.recordChange(Change{Kind: ChangeKeys, Subject: c.Identity()})
	}
	return nil
}

// rotateMasterStep is the generator's part of keysStep: true when it
// handled the step (the caller then skips the other cases).
func (c *Core) rotateMasterStep(x *Context, mr MasterRecord, f inflight) (bool, error) {
	rv, ok := c.view.(RotationView)
	if !ok {
		return false, nil
	}
	rot, ok, err := rv.Rotation()
	if err != nil {
		return false, fmt.Errorf("rotation: %w", err)
	}
	if !ok || rot.Generator != c.Identity() || mr.Epoch+1 != rot.Epoch || c.opts.Entropy == nil {
		return false, nil
	}
	if !c.holdsMaster(mr) && (c.master == nil || c.master.epoch != rot.Epoch) {
		return false, nil
	}
	if c.master.epoch != rot.Epoch {
		if err := c.generateMasterEpoch(rot.Epoch); err != nil {
			return false, err
		}
		x.recordChange(Change{Kind: ChangeKeys, Subject: c.Identity()})
	}
	if !f.masterPubkey {
		p := msg.MasterPubkey{Epoch: c.master.epoch, Pubkey: c.master.pair.Public()}
		if err := x.Emit(c.Origin(), msg.TopicMasterPubkey, scale.Encode(&p)); err != nil {
			return false, err
		}
		if err := c.shareNewEpoch(x, MasterRecord{Epoch: p.Epoch, Pubkey: p.Pubkey}); err != nil {
			return false, err
		}
	}
	return true, nil
}

// shareNewEpoch sends, right behind the generator's announcement of the
// new master key next (epoch e+1), what the designated gatekeeper would
// send once the chain recorded it: the key to every other gatekeeper (the
// announcement makes them all inactive; each gets the past master keys
// first) and every cluster's key of epoch e+1 to the cluster's workers
// (re-keying the clusters keyed at an older epoch). The chain judges each
// message after the announcement, in the stream's order, so they land in
// the same block at the earliest, and the new epoch is usable two blocks
// sooner. It runs only with the announcement, so a gatekeeper restored
// from a sealed checkpoint sends exactly what is in flight and nothing
// twice; shares still in flight for epoch e are not counted (the new
// epoch's replace them), and no key of epoch e is sent in this step (the
// core no longer holds the chain's current key, so keysStep's designated
// part is skipped). Later designated steps find the receivers served
// (masterSent, the clusters' keyed workers) and send nothing again; the
// cluster keys are derived from the same master key whoever sends them.
func (c *Core) shareNewEpoch(x *Context, next MasterRecord) error {
	gks, err := c.view.Gatekeepers()
	if err != nil {
		return fmt.Errorf("gatekeepers: %w", err)
	}
	for _, g := range gks {
		if g.Identity == c.Identity() {
			continue
		}
		if err := c.shareMaster(x, g.Identity, next); err != nil {
			return err
		}
	}
	ids, err := c.view.ClusterIDs()
	if err != nil {
		return fmt.Errorf("clusters: %w", err)
	}
	for _, id := range ids {
		if err := c.shareClusterKey(x, id, next, nil); err != nil {
			return err
		}
	}
	return nil
}

// retireClusterKey keeps cluster id's current key among its old ones.
func (c *Core) retireClusterKey(id [32]byte) {
	if k := c.clusterKeys[id]; k != nil {
		c.addOldClusterKey(id, k)
	}
}

// addOldClusterKey keeps k among cluster id's old keys, in epoch order;
// false when a key of its epoch is held already.
func (c *Core) addOldClusterKey(id [32]byte, k *clusterKey) bool {
	old := c.oldClusterKeys[id]
	i, found := slices.BinarySearchFunc(old, k.epoch, func(o *clusterKey, e uint32) int { return cmp.Compare(o.epoch, e) })
	if found {
		return false
	}
	c.oldClusterKeys[id] = slices.Insert(slices.Clone(old), i, k)
	return true
}

// pastClusterEpochs are the epochs cluster cl had a key of before epoch
// (its history, and its record's epoch), with their public keys, oldest
// first.
func (c *Core) pastClusterEpochs(cl Cluster, epoch uint32) ([]ClusterEpoch, error) {
	var out []ClusterEpoch
	if rv, ok := c.view.(RotationView); ok {
		es, err := rv.ClusterEpochs(cl.ID)
		if err != nil {
			return nil, fmt.Errorf("cluster %x epochs: %w", cl.ID, err)
		}
		for _, e := range es {
			if e.Epoch < epoch {
				out = append(out, e)
			}
		}
	}
	if cl.HasPubkey && cl.Epoch < epoch && !slices.ContainsFunc(out, func(e ClusterEpoch) bool { return e.Epoch == cl.Epoch }) {
		out = append(out, ClusterEpoch{Epoch: cl.Epoch, Pubkey: cl.Pubkey})
	}
	return out, nil
}

// masterOf returns the master key of epoch the core holds, if any.
func (c *Core) masterOf(epoch uint32) *masterKey {
	if c.master != nil && c.master.epoch == epoch {
		return c.master
	}
	for _, m := range c.oldMasters {
		if m.epoch == epoch {
			return m
		}
	}
	return nil
}

// historyFor builds the past keys of cluster cl for worker rec (a worker
// about to receive its first key of cl at epoch): every past epoch whose
// master key the gatekeeper holds and whose derived key matches the
// chain's. nil when there is none to send.
func (c *Core) historyFor(x *Context, cl Cluster, epoch uint32, rec msg.WorkerRecord, w keys.PublicKey) (*msg.ClusterKeyHistory, error) {
	past, err := c.pastClusterEpochs(cl, epoch)
	if err != nil || len(past) == 0 {
		return nil, err
	}
	p := &msg.ClusterKeyHistory{Cluster: cl.ID, Worker: w}
	for _, e := range past {
		m := c.masterOf(e.Epoch)
		if m == nil {
			c.refuse(x, w, cl.ID, fmt.Sprintf("no master key of epoch %d to derive the cluster's past key", e.Epoch))
			continue
		}
		ck := cipher.ClusterKey(m.pair, cl.ID)
		if ck.Public() != e.Pubkey {
			c.refuse(x, w, cl.ID, fmt.Sprintf("the chain's cluster key of epoch %d is not the one derived from the master key", e.Epoch))
			continue
		}
		ek, err := c.encryptTo(x, cipher.ClusterKeySharingSalt, rec, ck)
		if err != nil {
			c.refuse(x, w, cl.ID, err.Error())
			return nil, nil
		}
		p.Keys = append(p.Keys, msg.EpochKey{Epoch: e.Epoch, Key: *ek})
	}
	if len(p.Keys) == 0 {
		return nil, nil
	}
	if len(p.Keys) > msg.MaxHistoryKeys {
		p.Keys = p.Keys[len(p.Keys)-msg.MaxHistoryKeys:]
	}
	return p, nil
}

// handleClusterKeyHistory keeps the past keys of a cluster sent to this
// worker, each once it checks against the chain's key of its epoch.
func handleClusterKeyHistory(x *Context, m msg.Message) error {
	c := x.core
	var p msg.ClusterKeyHistory
	if c.view == nil || scale.Decode(m.Payload, &p) != nil || p.Worker != c.Identity() {
		return nil
	}
	reject := func(detail string) {
		x.recordChange(Change{Kind: ChangeShareRejected, Subject: c.Identity(), Cluster: p.Cluster, Detail: "cluster key history: " + detail})
	}
	cl, ok, err := c.view.Cluster(p.Cluster)
	if err != nil {
		return err
	}
	if !ok {
		reject("no such cluster on chain")
		return nil
	}
	past, err := c.pastClusterEpochs(cl, ^uint32(0))
	if err != nil {
		return err
	}
	added := false
	for _, k := range p.Keys {
		i := slices.IndexFunc(past, func(e ClusterEpoch) bool { return e.Epoch == k.Epoch })
		if i < 0 {
			reject(fmt.Sprintf("epoch %d is not one of the cluster's", k.Epoch))
			continue
		}
		if cur := c.clusterKeys[p.Cluster]; cur != nil && cur.epoch <= k.Epoch {
			continue
		}
		pair, err := k.Key.DecryptPair(cipher.NewEcdhKey(c.keys.Ecdh))
		if err != nil {
			reject(fmt.Sprintf("epoch %d does not decrypt: %v", k.Epoch, err))
			continue
		}
		if pair.Public() != past[i].Pubkey {
			reject(fmt.Sprintf("epoch %d key does not match the chain's", k.Epoch))
			continue
		}
		if c.addOldClusterKey(p.Cluster, &clusterKey{epoch: k.Epoch, pair: pair}) {
			added = true
		}
	}
	if added {
		x.recordChange(Change{Kind: ChangeKeys, Subject: c.Identity(), Cluster: p.Cluster})
	}
	return nil
}

// baseClusterKey is the cluster key contracts execute with (pink's
// derive_sr25519_key and the query context): the oldest one held, so a
// rotation never changes what a contract derives.
func (c *Core) baseClusterKey(id [32]byte) *clusterKey {
	if old := c.oldClusterKeys[id]; len(old) > 0 {
		return old[0]
	}
	return c.clusterKeys[id]
}

func handleClusterRekeyed(x *Context, m msg.Message) error {
	c := x.core
	var p msg.ClusterRekeyed
	if scale.Decode(m.Payload, &p) != nil || c.stream(msg.OriginCluster(p.Cluster)) == nil {
		return nil
	}
	c.rekeyed[p.Cluster] = p.Epoch
	return nil
}

// publishRotatedKeys answers the block's re-keyed clusters: one
// cluster/contract_keys message each, from the workers holding the new
// key, with the keys of every contract the cluster published a key for
// (top-level instantiations, by id; possibly none). Every other worker
// counts the sequence, so the count never depends on what a worker holds.
func (c *Core) publishRotatedKeys(x *Context) {
	ids := make([][32]byte, 0, len(c.rekeyed))
	for id := range c.rekeyed {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	for _, id := range ids {
		epoch := c.rekeyed[id]
		s := c.stream(msg.OriginCluster(id))
		if s == nil {
			continue
		}
		k := c.clusterKeys[id]
		if k == nil || k.epoch != epoch || s.signer == nil {
			s.advance()
			continue
		}
		var contracts [][32]byte
		if cs := c.clusters[id]; cs != nil {
			for ct, st := range cs.contracts {
				if st.deployer != ([32]byte{}) {
					contracts = append(contracts, ct)
				}
			}
		}
		sort.Slice(contracts, func(i, j int) bool { return bytes.Compare(contracts[i][:], contracts[j][:]) < 0 })
		p := msg.ContractKeys{Epoch: epoch, Keys: []msg.ContractKey{}}
		for _, ct := range contracts[:min(len(contracts), msg.MaxContractKeysPerMessage)] {
			p.Keys = append(p.Keys, msg.ContractKey{Contract: ct, Pubkey: k.contractEcdh(ct).Public()})
		}
		x.ready.Egress = append(x.ready.Egress, s.emit(msg.TopicContractKeys, scale.Encode(&p)))
	}
}

// decryptRetired tries cluster id's old keys (newest first) on a command
// that the current contract key does not decrypt: the plaintext, or
// RefuseRetiredKey for a key whose grace period ended before height, or
// RefuseUndecryptable when no key decrypts it. The error is for verified
// state that does not decode.
func (c *Core) decryptRetired(id, contract [32]byte, enc *cipher.EncryptedData, height int64) ([]byte, string, error) {
	old := c.oldClusterKeys[id]
	for i := len(old) - 1; i >= 0 && i >= len(old)-MaxRetiredKeysTried; i-- {
		p, err := enc.Decrypt(old[i].contractEcdh(contract))
		if err != nil {
			continue
		}
		end, ok, err := c.graceEnd(id, old[i].epoch)
		if err != nil {
			return nil, "", err
		}
		if ok && height > end {
			return nil, RefuseRetiredKey, nil
		}
		return p, "", nil
	}
	return nil, RefuseUndecryptable, nil
}

// graceEnd is the last height at which a command encrypted to cluster
// id's contract keys of epoch runs: the recording of the cluster's next
// key plus the grace fixed then. False when the view cannot tell (no
// rotation view, or the history does not know): no limit.
func (c *Core) graceEnd(id [32]byte, epoch uint32) (int64, bool, error) {
	rv, ok := c.view.(RotationView)
	if c.view == nil || !ok {
		return 0, false, nil
	}
	es, err := rv.ClusterEpochs(id)
	if err != nil {
		return 0, false, fmt.Errorf("cluster %x epochs: %w", id, err)
	}
	for _, e := range es {
		if e.Epoch > epoch && e.Height > 0 {
			return int64(e.Height) + int64(e.Grace), true, nil
		}
	}
	return 0, false, nil
}

// signedByRetired reports whether m, of cluster origin, is signed by one of
// the cluster's retired keys the core holds.
func (c *Core) signedByRetired(origin []byte, m *msg.SignedMessage) bool {
	if !isClusterOrigin(origin) {
		return false
	}
	var id [32]byte
	copy(id[:], origin[1:])
	for _, k := range c.oldClusterKeys[id] {
		if m.Verify(k.pair.Public()) {
			return true
		}
	}
	return false
}
