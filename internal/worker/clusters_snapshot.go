package worker

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// ClustersDomain starts every clusters snapshot (and names its format
// version).
const ClustersDomain = "cella/worker/clusters/v2"

// clustersDomainV1 is the format before block-end hooks (no hook field);
// RestoreClusters still reads it.
const clustersDomainV1 = "cella/worker/clusters/v1"

// StateRootDomain prefixes the encoding a cluster state root hashes.
const StateRootDomain = "cella/cluster-state/v2"

// ClustersSnapshot returns the contract state of every cluster the core
// keeps state for, as deterministic SCALE bytes (equal states give equal
// bytes). Contract storage is confidential: the shell seals it
// (checkpoint section 4) and never shows it.
//
//	String "cella/worker/clusters/v2" ‖ Vec<([u8;32] cluster id, ClusterState, Vec<Input> backlog)> by id
//	ClusterState = Vec<Contract> by id ‖ Vec<([u8;32] account, u128)> ledger by account (no zero balance) ‖
//	  Vec<([u8;32] origin, [u8;32] contract, Vec<u8> nonce)> seen nonces, sorted ‖
//	  Vec<([u8;32] origin, [u8;32] command id, Outcome)> by (origin, command id)
//	Contract = [u8;32] id ‖ [u8;32] code hash ‖ [u8;32] deployer ‖ Vec<(Vec<u8> key, Vec<u8> value)> by key ‖
//	  Option<(u32 selector, u64 gas limit)> block-end hook (absent in v1)
//	Outcome = i64 height ‖ [u8;32] contract ‖ String refused ‖ u32 flags ‖ Vec<u8> output ‖
//	  String error ‖ u64 gas used ‖ Vec<([u8;32] contract, Vec<[u8;32]> topics, Vec<u8> data)> events
//	Input = i64 height ‖ i64 block time (ns) ‖ String topic ‖ Vec<u8> verified payload
func (c *Core) ClustersSnapshot() []byte {
	var w scale.Writer
	w.String(ClustersDomain)
	ids := make([][32]byte, 0, len(c.clusters))
	for id := range c.clusters {
		ids = append(ids, id)
	}
	sortIDs(ids)
	w.Compact(uint64(len(ids)))
	for _, id := range ids {
		cs := c.clusters[id]
		w.Raw(id[:])
		encodeClusterState(&w, cs)
		w.Compact(uint64(len(cs.backlog)))
		for _, in := range cs.backlog {
			w.I64(in.height)
			w.I64(in.timeNano)
			w.String(in.topic)
			w.BytesVec(in.payload)
		}
	}
	return w.Bytes()
}

// stateRoot is a cluster's state root:
//
//	blake2-256(String "cella/cluster-state/v2" ‖ [u8;32] cluster id ‖
//	  Vec<([u8;32] contract id, [u8;32] contract digest)> by id ‖ [u8;32] ledger digest)
//	contract digest = blake2-256(String "cella/cluster-contract/v2" ‖ [u8;32] code hash ‖
//	  [u8;32] deployer ‖ Vec<(Vec<u8> key, Vec<u8> value)> by key [‖ u32 hook selector ‖ u64 hook gas])
//	  (the hook's 12 bytes only when the contract has a block-end hook: the
//	  storage vector is self-delimiting, so the two forms never collide)
//	ledger digest = blake2-256(String "cella/cluster-ledger/v2" ‖
//	  Vec<([u8;32] account, u128)> by account (no zero balance))
//
// It covers the contract state and the ledger only: the backlog is not
// part of it (every worker that executed the cluster's inputs has the same
// root, whenever it got the key), nor are the spent nonces and the kept
// outcomes. Those two are per-worker bookkeeping: a pure function of the
// verified inputs and of the contract and ledger state before each input,
// so workers that start from the same root and execute the same blocks
// derive the same ones; a worker whose execution differs writes different
// storage or balances, which the root catches at the next report. (A
// command that ran but wrote nothing leaves only its nonce and outcome:
// its gas is reported on the chain by the cluster's cluster/outcome
// egress, not by the root.) Leaving them out keeps a block's root
// cost proportional to what the block touched: each contract's digest and
// the ledger digest are cached and recomputed only after a change (see
// contractState.fresh), instead of re-encoding every nonce and outcome
// ever kept.
func stateRoot(id [32]byte, cs *clusterState) [32]byte {
	ids := make([][32]byte, 0, len(cs.contracts))
	for cid := range cs.contracts {
		ids = append(ids, cid)
	}
	sortIDs(ids)
	var w scale.Writer
	w.String(StateRootDomain)
	w.Raw(id[:])
	w.Compact(uint64(len(ids)))
	for _, cid := range ids {
		k := cs.contracts[cid]
		if !k.fresh {
			k.digest, k.fresh = contractDigest(k), true
		}
		w.Raw(cid[:])
		w.Raw(k.digest[:])
	}
	if !cs.ledgerFresh {
		cs.ledgerDigest, cs.ledgerFresh = ledgerDigest(cs), true
	}
	w.Raw(cs.ledgerDigest[:])
	return hashing.Blake2b256(w.Bytes())
}

// Domains of the per-contract and ledger digests a state root hashes.
const (
	contractDigestDomain = "cella/cluster-contract/v2"
	ledgerDigestDomain   = "cella/cluster-ledger/v2"
)

func contractDigest(k *contractState) [32]byte {
	var w scale.Writer
	w.String(contractDigestDomain)
	w.Raw(k.codeHash[:])
	w.Raw(k.deployer[:])
	encodeStorage(&w, k)
	if k.hook != nil {
		w.U32(k.hook.selector)
		w.U64(k.hook.gasLimit)
	}
	return hashing.Blake2b256(w.Bytes())
}

func ledgerDigest(cs *clusterState) [32]byte {
	var w scale.Writer
	w.String(ledgerDigestDomain)
	encodeLedger(&w, cs)
	return hashing.Blake2b256(w.Bytes())
}

func encodeStorage(w *scale.Writer, k *contractState) {
	keys := make([]string, 0, len(k.storage))
	for key := range k.storage {
		keys = append(keys, key)
	}
	sort.Strings(keys)
	w.Compact(uint64(len(keys)))
	for _, key := range keys {
		w.BytesVec([]byte(key))
		w.BytesVec(k.storage[key])
	}
}

func encodeLedger(w *scale.Writer, cs *clusterState) {
	accts := make([][32]byte, 0, len(cs.ledger))
	for a := range cs.ledger {
		accts = append(accts, a)
	}
	sortIDs(accts)
	w.Compact(uint64(len(accts)))
	for _, a := range accts {
		w.Raw(a[:])
		w.U128(cs.ledger[a])
	}
}

func sortIDs(ids [][32]byte) {
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
}

func encodeClusterState(w *scale.Writer, cs *clusterState) {
	ids := make([][32]byte, 0, len(cs.contracts))
	for id := range cs.contracts {
		ids = append(ids, id)
	}
	sortIDs(ids)
	w.Compact(uint64(len(ids)))
	for _, id := range ids {
		k := cs.contracts[id]
		w.Raw(id[:])
		w.Raw(k.codeHash[:])
		w.Raw(k.deployer[:])
		encodeStorage(w, k)
		if k.hook == nil {
			w.U8(0)
		} else {
			w.U8(1)
			w.U32(k.hook.selector)
			w.U64(k.hook.gasLimit)
		}
	}
	encodeLedger(w, cs)
	nonces := make([]nonceKey, 0, len(cs.nonces))
	for n := range cs.nonces {
		nonces = append(nonces, n)
	}
	sort.Slice(nonces, func(i, j int) bool { return nonceLess(nonces[i], nonces[j]) })
	w.Compact(uint64(len(nonces)))
	for _, n := range nonces {
		w.Raw(n.origin[:])
		w.Raw(n.contract[:])
		w.BytesVec([]byte(n.nonce))
	}
	outs := make([]outcomeKey, 0, len(cs.outcomes))
	for k := range cs.outcomes {
		outs = append(outs, k)
	}
	sort.Slice(outs, func(i, j int) bool { return outcomeLess(outs[i], outs[j]) })
	w.Compact(uint64(len(outs)))
	for _, k := range outs {
		o := cs.outcomes[k]
		w.Raw(k.origin[:])
		w.Raw(k.command[:])
		w.I64(o.Height)
		w.Raw(o.Contract[:])
		w.String(o.Refused)
		w.U32(o.Result.Flags)
		w.BytesVec(o.Result.Data)
		w.String(o.Result.Err)
		w.U64(o.Result.GasUsed)
		w.Compact(uint64(len(o.Result.Events)))
		for _, ev := range o.Result.Events {
			w.Raw(ev.Contract[:])
			w.Compact(uint64(len(ev.Topics)))
			for _, t := range ev.Topics {
				w.Raw(t[:])
			}
			w.BytesVec(ev.Data)
		}
	}
}

func nonceLess(a, b nonceKey) bool {
	if c := bytes.Compare(a.origin[:], b.origin[:]); c != 0 {
		return c < 0
	}
	if c := bytes.Compare(a.contract[:], b.contract[:]); c != 0 {
		return c < 0
	}
	return a.nonce < b.nonce
}

func outcomeLess(a, b outcomeKey) bool {
	if c := bytes.Compare(a.origin[:], b.origin[:]); c != 0 {
		return c < 0
	}
	return bytes.Compare(a.command[:], b.command[:]) < 0
}

// RestoreClusters loads ClustersSnapshot's bytes into a core that has not
// stepped since it was restored (it keeps no cluster state yet), checking
// that every list is strictly sorted. On error the core is unchanged.
func (c *Core) RestoreClusters(b []byte) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: clusters: %s", ErrCorruptSnapshot, fmt.Sprintf(format, a...))
	}
	if len(c.clusters) != 0 {
		return fmt.Errorf("worker: RestoreClusters on a core with cluster state")
	}
	r := scale.NewReader(b)
	d := r.String()
	if r.Err() != nil || (d != ClustersDomain && d != clustersDomainV1) {
		return bad("not a %s snapshot", ClustersDomain)
	}
	hooks := d == ClustersDomain
	out := map[[32]byte]*clusterState{}
	var last []byte
	n := r.Len(32 + 5)
	for i := 0; i < n && r.Err() == nil; i++ {
		var id [32]byte
		r.Fixed(id[:])
		if last != nil && bytes.Compare(last, id[:]) >= 0 {
			return bad("clusters not sorted")
		}
		last = bytes.Clone(id[:])
		cs, err := decodeClusterState(r, hooks)
		if err != nil {
			return bad("cluster %x: %v", id, err)
		}
		m := r.Len(8 + 8 + 1 + 1)
		for j := 0; j < m && r.Err() == nil; j++ {
			in := clusterInput{height: r.I64(), timeNano: r.I64(), topic: r.String(), payload: r.BytesVec()}
			if r.Err() == nil && in.topic != msg.TopicPhatInstantiate && in.topic != msg.TopicPhatCommand && in.topic != blockEndTopic {
				return bad("cluster %x: backlog input of topic %q", id, in.topic)
			}
			cs.backlog = append(cs.backlog, in)
		}
		if r.Err() != nil {
			break
		}
		// Rebuilds the contract and ledger digest caches too.
		cs.root = stateRoot(id, cs)
		out[id] = cs
	}
	if err := r.Finish(); err != nil {
		return bad("%v", err)
	}
	c.clusters = out
	return nil
}

func decodeClusterState(r *scale.Reader, hooks bool) (*clusterState, error) {
	cs := newClusterState()
	var last []byte
	n := r.Len(32 + 32 + 32 + 1)
	for i := 0; i < n && r.Err() == nil; i++ {
		var id [32]byte
		k := &contractState{storage: map[string][]byte{}}
		r.Fixed(id[:])
		r.Fixed(k.codeHash[:])
		r.Fixed(k.deployer[:])
		if last != nil && bytes.Compare(last, id[:]) >= 0 {
			return nil, fmt.Errorf("contracts not sorted")
		}
		last = bytes.Clone(id[:])
		m := r.Len(2)
		var lastKey *string
		for j := 0; j < m && r.Err() == nil; j++ {
			key, v := string(r.BytesVec()), r.BytesVec()
			if r.Err() != nil {
				break
			}
			if lastKey != nil && *lastKey >= key {
				return nil, fmt.Errorf("contract %x storage not sorted", id)
			}
			lastKey = &key
			k.storage[key] = v
		}
		if hooks {
			switch r.U8() {
			case 0:
			case 1:
				k.hook = &blockHook{selector: r.U32(), gasLimit: r.U64()}
			default:
				return nil, fmt.Errorf("contract %x: bad hook option", id)
			}
		}
		cs.contracts[id] = k
	}
	last = nil
	n = r.Len(32 + 16)
	for i := 0; i < n && r.Err() == nil; i++ {
		var a [32]byte
		r.Fixed(a[:])
		v := r.U128()
		if last != nil && bytes.Compare(last, a[:]) >= 0 {
			return nil, fmt.Errorf("ledger not sorted")
		}
		if r.Err() == nil && v.IsZero() {
			return nil, fmt.Errorf("ledger holds a zero balance")
		}
		last = bytes.Clone(a[:])
		cs.ledger[a] = v
	}
	var lastNonce *nonceKey
	n = r.Len(32 + 32 + 1)
	for i := 0; i < n && r.Err() == nil; i++ {
		var k nonceKey
		r.Fixed(k.origin[:])
		r.Fixed(k.contract[:])
		k.nonce = string(r.BytesVec())
		if lastNonce != nil && !nonceLess(*lastNonce, k) {
			return nil, fmt.Errorf("nonces not sorted")
		}
		lastNonce = &k
		cs.nonces[k] = struct{}{}
	}
	var lastOut *outcomeKey
	n = r.Len(32 + 32 + 8 + 32 + 1 + 4 + 1 + 1 + 8 + 1)
	for i := 0; i < n && r.Err() == nil; i++ {
		var k outcomeKey
		r.Fixed(k.origin[:])
		r.Fixed(k.command[:])
		o := &CommandOutcome{Height: r.I64()}
		r.Fixed(o.Contract[:])
		o.Refused = r.String()
		o.Result.Flags = r.U32()
		o.Result.Data = r.BytesVec()
		o.Result.Err = r.String()
		o.Result.GasUsed = r.U64()
		m := r.Len(32 + 1 + 1)
		for j := 0; j < m && r.Err() == nil; j++ {
			var ev ContractEvent
			r.Fixed(ev.Contract[:])
			t := r.Len(32)
			for q := 0; q < t && r.Err() == nil; q++ {
				var h [32]byte
				r.Fixed(h[:])
				ev.Topics = append(ev.Topics, h)
			}
			ev.Data = r.BytesVec()
			o.Result.Events = append(o.Result.Events, ev)
		}
		if lastOut != nil && !outcomeLess(*lastOut, k) {
			return nil, fmt.Errorf("outcomes not sorted")
		}
		lastOut = &k
		cs.outcomes[k] = o
	}
	return cs, r.Err()
}
