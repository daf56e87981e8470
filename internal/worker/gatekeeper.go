package worker

import (
	"bytes"
	"fmt"
	"io"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// The key hierarchy, from the worker's side (docs/keys.md):
//
//   - A gatekeeper that finds no master key on chain generates one (from
//     Options.Entropy), keeps it and announces its public key.
//   - The designated gatekeeper (the active one with the lowest identity)
//     sends the master key to every gatekeeper not yet active, and each
//     cluster's key to every worker of the cluster not yet keyed — each
//     time only after verifying the receiver's attestation itself, from
//     its registry record, and finding its measurement on the allow-list,
//     and only to a receiver that is neither deregistered nor stale.
//   - A worker that receives a share addressed to it decrypts it, checks
//     the key against the chain's public key and keeps it; a gatekeeper
//     then says it is ready.
//
// All of it is level-triggered: at the end of every Step the core compares
// the chain view with what it holds and with what its own stream still
// carries towards the chain (messages not yet accepted), and emits only
// what is missing. A message that lands but is refused by the chain leaves
// the condition true, so it is sent again at the next block.

// inflight is what the worker's own stream carries that the chain has not
// accepted yet.
type inflight struct {
	masterPubkey  bool
	ready         bool
	masterShares  map[keys.PublicKey]bool
	clusterShares map[[32]byte]map[keys.PublicKey]bool
}

func (c *Core) inflight() inflight {
	f := inflight{masterShares: map[keys.PublicKey]bool{}, clusterShares: map[[32]byte]map[keys.PublicKey]bool{}}
	for _, m := range c.stream(c.Origin()).out {
		switch string(m.Message.Topic) {
		case msg.TopicMasterPubkey:
			f.masterPubkey = true
		case msg.TopicGatekeeperReady:
			f.ready = true
		case msg.TopicMasterKeyShare:
			var p msg.MasterKeyShare
			if scale.Decode(m.Message.Payload, &p) == nil {
				f.masterShares[p.Receiver] = true
			}
		case msg.TopicClusterKeys:
			var p msg.ClusterKeyShares
			if scale.Decode(m.Message.Payload, &p) == nil {
				set := f.clusterShares[p.Cluster]
				if set == nil {
					set = map[keys.PublicKey]bool{}
					f.clusterShares[p.Cluster] = set
				}
				for _, s := range p.Shares {
					set[s.Worker] = true
				}
			}
		}
	}
	return f
}

func (c *Core) holdsMaster(mr MasterRecord) bool {
	return c.master != nil && c.master.epoch == mr.Epoch && c.master.pair.Public() == mr.Pubkey
}

// keysStep is the level-triggered part of a Step, run after the block's
// messages were handled and the accepted egress forgotten.
func (c *Core) keysStep(x *Context) error {
	v := c.view
	gks, err := v.Gatekeepers()
	if err != nil {
		return fmt.Errorf("gatekeepers: %w", err)
	}
	self := c.Identity()
	var me *Gatekeeper
	var designated *keys.PublicKey
	for i := range gks {
		if gks[i].Identity == self {
			me = &gks[i]
		}
		if gks[i].Active && (designated == nil || bytes.Compare(gks[i].Identity[:], designated[:]) < 0) {
			designated = &gks[i].Identity
		}
	}
	mr, hasMaster, err := v.MasterKey()
	if err != nil {
		return fmt.Errorf("master key: %w", err)
	}
	f := c.inflight()
	rotating := false
	if me != nil && hasMaster {
		if rotating, err = c.rotateMasterStep(x, mr, f); err != nil {
			return err
		}
	}
	if me != nil && !rotating {
		switch {
		case !hasMaster:
			if c.master == nil {
				if c.opts.Entropy == nil {
					break
				}
				if err := c.generateMaster(); err != nil {
					return err
				}
				x.recordChange(Change{Kind: ChangeKeys, Subject: self})
			}
			if !f.masterPubkey {
				p := msg.MasterPubkey{Epoch: c.master.epoch, Pubkey: c.master.pair.Public()}
				if err := x.Emit(c.Origin(), msg.TopicMasterPubkey, scale.Encode(&p)); err != nil {
					return err
				}
			}
		case !me.Active && c.holdsMaster(mr) && !f.ready:
			p := msg.GatekeeperReady{Epoch: mr.Epoch, Pubkey: mr.Pubkey}
			if err := x.Emit(c.Origin(), msg.TopicGatekeeperReady, scale.Encode(&p)); err != nil {
				return err
			}
		}
	}
	if !hasMaster || !c.holdsMaster(mr) || me == nil || !me.Active || designated == nil || *designated != self {
		return nil
	}
	// The designated gatekeeper.
	pending := map[keys.PublicKey]bool{}
	for _, g := range gks {
		if !g.Active {
			pending[g.Identity] = true
		}
	}
	for id := range c.masterSent {
		if !pending[id] {
			delete(c.masterSent, id)
		}
	}
	for _, g := range gks {
		if g.Active || g.Identity == self || f.masterShares[g.Identity] {
			continue
		}
		if at, sent := c.masterSent[g.Identity]; sent {
			rec, ok, err := v.Worker(g.Identity)
			if err != nil {
				return fmt.Errorf("worker %s: %w", g.Identity.Hex(), err)
			}
			if ok && rec.RegisteredAt == at {
				continue
			}
		}
		if err := c.shareMaster(x, g.Identity, mr); err != nil {
			return err
		}
	}
	ids, err := v.ClusterIDs()
	if err != nil {
		return fmt.Errorf("clusters: %w", err)
	}
	for _, id := range ids {
		if err := c.shareClusterKey(x, id, mr, f.clusterShares[id]); err != nil {
			return err
		}
	}
	return nil
}

// shareMaster sends the master key of record mr (the core's current one)
// to gatekeeper to, once it qualifies: its past master keys first (so that
// any gatekeeper can derive every epoch's cluster keys), then the key. It
// remembers the share in masterSent.
func (c *Core) shareMaster(x *Context, to keys.PublicKey, mr MasterRecord) error {
	rec, ok, err := c.qualify(x, to, [32]byte{})
	if err != nil || !ok {
		return err
	}
	h, err := c.masterHistoryFor(x, rec, to, mr)
	if err != nil {
		return err
	}
	if h != nil {
		if err := x.Emit(c.Origin(), msg.TopicMasterKeyHistory, scale.Encode(h)); err != nil {
			return err
		}
	}
	ek, err := c.encryptTo(x, cipher.MasterKeySharingSalt, rec, c.master.pair)
	if err != nil {
		c.refuse(x, to, [32]byte{}, err.Error())
		return nil
	}
	p := msg.MasterKeyShare{Receiver: to, Epoch: mr.Epoch, Key: *ek}
	if err := x.Emit(c.Origin(), msg.TopicMasterKeyShare, scale.Encode(&p)); err != nil {
		return err
	}
	c.masterSent[to] = rec.RegisteredAt
	return nil
}

// generateMaster makes a master key from the shell's entropy.
func (c *Core) generateMaster() error {
	var seed [32]byte
	defer clear(seed[:])
	if _, err := io.ReadFull(c.opts.Entropy, seed[:]); err != nil {
		return fmt.Errorf("entropy for the master key: %w", err)
	}
	p := keys.FromSeed(seed)
	c.master = &masterKey{epoch: 0, pair: p, gen: cipher.NewIVGenerator(p, 0)}
	return nil
}

// shareClusterKey sends cluster id's key to the workers of the cluster
// that are not keyed yet and have no share in flight.
func (c *Core) shareClusterKey(x *Context, id [32]byte, mr MasterRecord, flying map[keys.PublicKey]bool) error {
	cl, ok, err := c.view.Cluster(id)
	if err != nil {
		return fmt.Errorf("cluster %x: %w", id, err)
	}
	if !ok {
		return nil
	}
	keyed := map[keys.PublicKey]bool{}
	for _, w := range cl.Keyed {
		keyed[w] = true
	}
	// A cluster keyed at an older master-key epoch gets the new epoch's key
	// for all its workers (the chain then re-keys it).
	rekey := cl.HasPubkey && cl.Epoch < mr.Epoch
	var todo []keys.PublicKey
	for _, w := range cl.Workers {
		if (rekey || !keyed[w]) && !flying[w] {
			todo = append(todo, w)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	ck := cipher.ClusterKey(c.master.pair, id)
	if cl.HasPubkey && !rekey && cl.Pubkey != ck.Public() {
		c.refuse(x, keys.PublicKey{}, id, "the chain's cluster public key is not the one derived from the master key")
		return nil
	}
	var shares []msg.ClusterKeyShare
	for _, w := range todo {
		rec, ok, err := c.qualify(x, w, id)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		if !keyed[w] {
			// A worker new to the cluster gets its past keys first.
			h, err := c.historyFor(x, cl, mr.Epoch, rec, w)
			if err != nil {
				return err
			}
			if h != nil {
				if err := x.Emit(c.Origin(), msg.TopicClusterKeyHistory, scale.Encode(h)); err != nil {
					return err
				}
			}
		}
		ek, err := c.encryptTo(x, cipher.ClusterKeySharingSalt, rec, ck)
		if err != nil {
			c.refuse(x, w, id, err.Error())
			continue
		}
		shares = append(shares, msg.ClusterKeyShare{Worker: w, Key: *ek})
	}
	for len(shares) > 0 {
		n := min(len(shares), msg.MaxSharesPerMessage)
		p := msg.ClusterKeyShares{Cluster: id, Epoch: mr.Epoch, Pubkey: ck.Public(), Shares: shares[:n]}
		if err := x.Emit(c.Origin(), msg.TopicClusterKeys, scale.Encode(&p)); err != nil {
			return err
		}
		shares = shares[n:]
	}
	return nil
}

// encryptTo encrypts key's secret to rec's ECDH key under the master key
// with the gatekeeper's next deterministic IV.
func (c *Core) encryptTo(x *Context, salt string, rec msg.WorkerRecord, key *keys.Pair) (*cipher.EncryptedKey, error) {
	secret := key.SecretBytes()
	defer clear(secret[:])
	ek, err := cipher.EncryptKeyTo(c.master.pair, c.master.gen, []byte(salt), keys.PublicKey(rec.Info.EcdhPublicKey), secret, uint32(x.Block.Height))
	if err != nil {
		return nil, fmt.Errorf("cannot encrypt to the worker's ECDH key: %w", err)
	}
	return ek, nil
}

// qualify checks, inside the core, that worker id may receive a key: it is
// registered, not deregistered, not stale (seen within the chain's
// liveness window, registry.Liveness), its last attestation verifies at block time against its
// registration (dev attestations only where the chain allows them, with the
// chain's dev root), and its measurement is on the allow-list. A worker
// that fails is reported (ChangeKeyRefused) and skipped; the error is for
// verified state that does not decode.
func (c *Core) qualify(x *Context, id keys.PublicKey, cluster [32]byte) (msg.WorkerRecord, bool, error) {
	v := c.view
	rec, ok, err := v.Worker(id)
	if err != nil {
		return rec, false, fmt.Errorf("worker %s: %w", id.Hex(), err)
	}
	refuse := func(format string, a ...any) (msg.WorkerRecord, bool, error) {
		c.refuse(x, id, cluster, fmt.Sprintf(format, a...))
		return rec, false, nil
	}
	if !ok {
		return refuse("not registered")
	}
	if rec.Info.IdentityPublicKey != id {
		return refuse("registry record names another worker")
	}
	lv, err := v.WorkerLiveness(id)
	if err != nil {
		return rec, false, fmt.Errorf("worker %s liveness: %w", id.Hex(), err)
	}
	if lv.Deregistered {
		return refuse("deregistered by its operator at height %d", lv.DeregisteredAt)
	}
	live, err := v.Liveness()
	if err != nil {
		return rec, false, fmt.Errorf("liveness parameters: %w", err)
	}
	if live.Stale(lv.LastSeen, uint64(x.Block.Height)) {
		return refuse("stale: last seen at height %d, silent for more than %d blocks", lv.LastSeen, live.StaleAfter())
	}
	if c.opts.Verifier == nil {
		return refuse("this pRuntime has no attestation verifier")
	}
	if rec.Attestation.Kind != rec.Info.TeeKind {
		return refuse("attestation of kind %q for a %q registration", rec.Attestation.Kind, rec.Info.TeeKind)
	}
	devOK, root, err := v.DevAttestation()
	if err != nil {
		return rec, false, fmt.Errorf("dev attestation policy: %w", err)
	}
	var devRoot *keys.PublicKey
	if devOK {
		devRoot = &root
	} else if rec.Attestation.Kind == "dev" {
		return refuse("dev attestation on a chain that refuses them")
	}
	m, err := c.opts.Verifier.Verify(rec.Attestation, rec.Info.ReportData(), x.Block.TimeUnixNano/1e9, devRoot)
	if err != nil {
		return refuse("attestation does not verify: %v", err)
	}
	allowed, err := v.AllowedMeasurements()
	if err != nil {
		return rec, false, fmt.Errorf("allow-list: %w", err)
	}
	h := m.Hash()
	for _, a := range allowed {
		if a == h {
			delete(c.refused, refusalKey(id, cluster))
			return rec, true, nil
		}
	}
	return refuse("measurement 0x%x is not on the allow-list", h)
}

func refusalKey(id keys.PublicKey, cluster [32]byte) string {
	return string(id[:]) + string(cluster[:])
}

// refuse reports a receiver the gatekeeper skips, once per reason.
func (c *Core) refuse(x *Context, id keys.PublicKey, cluster [32]byte, detail string) {
	k := refusalKey(id, cluster)
	if c.refused[k] == detail {
		return
	}
	c.refused[k] = detail
	x.recordChange(Change{Kind: ChangeKeyRefused, Subject: id, Cluster: cluster, Detail: detail})
}

// handleMasterKeyShare takes the master key from a share addressed to this
// worker, once it checks against the chain's master public key.
func handleMasterKeyShare(x *Context, m msg.Message) error {
	c := x.core
	var p msg.MasterKeyShare
	if c.view == nil || scale.Decode(m.Payload, &p) != nil || p.Receiver != c.Identity() {
		return nil
	}
	reject := func(detail string) error {
		x.recordChange(Change{Kind: ChangeShareRejected, Subject: c.Identity(), Detail: "master key share: " + detail})
		return nil
	}
	mr, ok, err := c.view.MasterKey()
	if err != nil {
		return err
	}
	if !ok {
		return reject("no master key on chain")
	}
	if p.Epoch != mr.Epoch {
		return reject(fmt.Sprintf("epoch %d, the chain's is %d", p.Epoch, mr.Epoch))
	}
	if c.holdsMaster(mr) {
		return nil
	}
	pair, err := p.Key.DecryptPair(cipher.NewEcdhKey(c.keys.Ecdh))
	if err != nil {
		return reject("does not decrypt: " + err.Error())
	}
	if pair.Public() != mr.Pubkey {
		return reject("key does not match the chain's master public key")
	}
	if err := c.setMaster(&masterKey{epoch: mr.Epoch, pair: pair, gen: cipher.NewIVGenerator(pair, 0)}); err != nil {
		return err
	}
	x.recordChange(Change{Kind: ChangeKeys, Subject: c.Identity()})
	return nil
}

// handleClusterKeys takes a cluster key from a share addressed to this
// worker, once it checks against the payload's public key and the chain's
// recorded one.
func handleClusterKeys(x *Context, m msg.Message) error {
	c := x.core
	var p msg.ClusterKeyShares
	if c.view == nil || scale.Decode(m.Payload, &p) != nil {
		return nil
	}
	var share *msg.ClusterKeyShare
	for i := range p.Shares {
		if p.Shares[i].Worker == c.Identity() {
			share = &p.Shares[i]
			break
		}
	}
	if share == nil {
		return nil
	}
	reject := func(detail string) error {
		x.recordChange(Change{Kind: ChangeShareRejected, Subject: c.Identity(), Cluster: p.Cluster, Detail: "cluster key share: " + detail})
		return nil
	}
	cl, ok, err := c.view.Cluster(p.Cluster)
	if err != nil {
		return err
	}
	if !ok {
		return reject("no such cluster on chain")
	}
	if k := c.clusterKeys[p.Cluster]; k != nil && k.pair.Public() == p.Pubkey {
		return nil
	}
	pair, err := share.Key.DecryptPair(cipher.NewEcdhKey(c.keys.Ecdh))
	if err != nil {
		return reject("does not decrypt: " + err.Error())
	}
	if pair.Public() != p.Pubkey {
		return reject("key does not match the share's public key")
	}
	if cl.HasPubkey && cl.Pubkey != pair.Public() {
		return reject("key does not match the chain's cluster public key")
	}
	if k := c.clusterKeys[p.Cluster]; k != nil {
		if k.epoch >= p.Epoch {
			return reject(fmt.Sprintf("share of epoch %d, the key held is of epoch %d", p.Epoch, k.epoch))
		}
		c.retireClusterKey(p.Cluster)
	}
	c.clusterKeys[p.Cluster] = &clusterKey{epoch: p.Epoch, pair: pair}
	c.ensureClusterStream(p.Cluster).signer = pair
	x.recordChange(Change{Kind: ChangeKeys, Subject: c.Identity(), Cluster: p.Cluster})
	// Late joiner: run the cluster's inputs retained so far.
	return c.replayCluster(x, p.Cluster)
}

// trackClusters gives every cluster on chain a stream, so that its
// sequence is counted even before the core holds its key.
func (c *Core) trackClusters() error {
	ids, err := c.view.ClusterIDs()
	if err != nil {
		return fmt.Errorf("clusters: %w", err)
	}
	for _, id := range ids {
		c.ensureClusterStream(id)
	}
	return nil
}

func (c *Core) ensureClusterStream(id [32]byte) *stream {
	o := msg.OriginCluster(id)
	if s := c.stream(o); s != nil {
		return s
	}
	var signer *keys.Pair
	if k := c.clusterKeys[id]; k != nil {
		signer = k.pair
	}
	c.addStream(o, signer)
	return c.stream(o)
}

func isClusterOrigin(o []byte) bool { return len(o) == 33 && o[0] == msg.OriginKindCluster }

// PublishContractKey derives contract's key from cluster's key and
// publishes its ECDH public key on the cluster's egress
// (TopicContractKey). Every worker calls it while handling the same chain
// event, so every worker of the cluster emits identical bytes at the same
// sequence; a worker that does not hold the cluster key yet only counts
// the sequence. It returns the public key and whether it was published.
func (x *Context) PublishContractKey(cluster, contract [32]byte) (keys.PublicKey, bool, error) {
	c := x.core
	s := c.stream(msg.OriginCluster(cluster))
	if s == nil {
		return keys.PublicKey{}, false, fmt.Errorf("worker: unknown cluster %x", cluster)
	}
	if s.signer == nil {
		s.advance()
		return keys.PublicKey{}, false, nil
	}
	pub, _ := c.ContractPublicKey(cluster, contract)
	p := msg.ContractKey{Contract: contract, Pubkey: pub}
	x.ready.Egress = append(x.ready.Egress, s.emit(msg.TopicContractKey, scale.Encode(&p)))
	return pub, true, nil
}

// ContractPublicKey returns the ECDH public key of contract's key in
// cluster, when the core holds the cluster key.
func (c *Core) ContractPublicKey(cluster, contract [32]byte) (keys.PublicKey, bool) {
	k := c.clusterKeys[cluster]
	if k == nil {
		return keys.PublicKey{}, false
	}
	return k.contractEcdh(contract).Public(), true
}

// ClusterSequence returns the next sequence of cluster's egress, as the
// core counts it (whether or not it holds the key).
func (c *Core) ClusterSequence(cluster [32]byte) (uint64, bool) {
	s := c.stream(msg.OriginCluster(cluster))
	if s == nil {
		return 0, false
	}
	return s.nextSeq, true
}
