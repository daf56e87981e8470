package worker

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/phat"
)

// Cluster execution: every worker handles phat/instantiate and phat/command
// for every cluster, in block order. A worker holding the cluster key runs
// them with the ContractRuntime over the cluster's state and reports on the
// cluster's egress; one without the key emits nothing but counts the same
// number of sequences (whatever the result: instantiate 1, plus, at the
// end of the block, ⌈n / msg.MaxOutcomesPerMessage⌉ for the cluster's n
// instantiates and commands of the block), and retains the verified inputs (the cluster's backlog) so that it can
// replay them once it receives the key (late joiner; see replayCluster).
//
// Outcomes: at the end of each block, cluster/outcomes with the
// {command_id, gas_used, payouts} of every instantiate and command of the
// block, in block order, split into messages of at most
// msg.MaxOutcomesPerMessage entries (flushOutcomes); on top, for an
// instantiate, cluster/contract_key on success or
// cluster/instantiate_failed on failure, when it runs.

// Refusal reasons recorded in a CommandOutcome (stable strings).
const (
	RefuseUnknownContract = "unknown contract"
	RefuseUndecodable     = "payload does not decode"
	RefuseUndecryptable   = "payload does not decrypt"
	RefuseNonceReplayed   = "nonce already used"
	RefuseGasOverLimit    = "gas limit above the reserved gas"
)

// Outcome retention: every OutcomePruneInterval blocks (at heights that
// are multiples of it) the core forgets the outcomes recorded more than
// OutcomeRetention blocks before, so that they do not grow without bound.
// Every worker prunes at the same heights; a replaying late joiner prunes
// as of the last prune height (see replayCluster), so roots agree.
const (
	OutcomeRetention     = 14_400
	OutcomePruneInterval = 256
)

// outcomeCutoff is the oldest height of an outcome kept at height h.
func outcomeCutoff(h int64) int64 { return h - h%OutcomePruneInterval - OutcomeRetention }

// pruneOutcomes forgets cs's outcomes older than cutoff (journaled).
func (c *Core) pruneOutcomes(id [32]byte, cs *clusterState, cutoff int64) {
	for k, o := range cs.outcomes {
		if o.Height < cutoff {
			k, o := k, o
			delete(cs.outcomes, k)
			c.journal(func() { cs.outcomes[k] = o })
			c.markDirty(id)
		}
	}
}

// CommandOutcome is what the cluster recorded for one instantiate or
// command, kept for its sender's query.
type CommandOutcome struct {
	// Height is the block that carried it.
	Height   int64
	Contract [32]byte
	// Refused is non-empty when the command was not executed: why.
	Refused string
	// Result is the execution's result (zero when refused).
	Result ExecResult
}

type contractState struct {
	codeHash [32]byte
	deployer [32]byte
	storage  map[string][]byte
	// hook is the contract's block-end hook, if one was set.
	hook *blockHook
	// digest is contractDigest's value when fresh; every mutation (and
	// every undo of one) clears fresh, so the state root re-hashes only
	// the contracts a block touched.
	digest [32]byte
	fresh  bool
}

// blockHook is a pink OnBlockEnd hook: the selector called on the contract
// at the end of every block, with its gas limit.
type blockHook struct {
	selector uint32
	gasLimit uint64
}

// Hook limits: at most MaxHooksPerCluster contracts of a cluster have a
// block-end hook, each running with at most MaxHookGas. Hooks run at every
// block on every worker of the cluster, unpaid, so only the cluster owner's
// contracts may set them (Phala: only the cluster's system contract) and
// their total work per block is bounded.
const (
	MaxHooksPerCluster = 8
	MaxHookGas         = 250_000_000_000
)

// blockEndTopic marks, in a keyless worker's backlog, the end of a block
// whose hooks a replay must run.
const blockEndTopic = "cella/block-end"

type nonceKey struct {
	origin, contract [32]byte
	nonce            string
}

type outcomeKey struct{ origin, command [32]byte }

// clusterInput is a verified phat/instantiate or phat/command a worker
// without the cluster key retains, with its block context.
type clusterInput struct {
	height   int64
	timeNano int64
	topic    string
	payload  []byte
}

// clusterState is one cluster's contract state.
type clusterState struct {
	contracts map[[32]byte]*contractState
	ledger    map[[32]byte]scale.U128
	nonces    map[nonceKey]struct{}
	outcomes  map[outcomeKey]*CommandOutcome
	backlog   []clusterInput
	// root is StateRoot's value as of the last block that changed it.
	root [32]byte
	// ledgerDigest is ledgerDigest's value when ledgerFresh (cleared by
	// every balance change and its undo).
	ledgerDigest [32]byte
	ledgerFresh  bool
}

func newClusterState() *clusterState {
	return &clusterState{contracts: map[[32]byte]*contractState{}, ledger: map[[32]byte]scale.U128{},
		nonces: map[nonceKey]struct{}{}, outcomes: map[outcomeKey]*CommandOutcome{}}
}

// journal records how to undo a mutation of cluster state while a Step
// runs (nil outside a Step: nothing to record).
func (c *Core) journal(undo func()) {
	if c.undoing {
		c.undo = append(c.undo, undo)
	}
}

func (c *Core) rollbackClusters() {
	for i := len(c.undo) - 1; i >= 0; i-- {
		c.undo[i]()
	}
	c.undo = c.undo[:0]
}

// clusterOf returns cluster id's state, creating it (journaled).
func (c *Core) clusterOf(id [32]byte) *clusterState {
	cs := c.clusters[id]
	if cs == nil {
		cs = newClusterState()
		c.clusters[id] = cs
		c.journal(func() { delete(c.clusters, id) })
	}
	return cs
}

func (c *Core) markDirty(id [32]byte) { c.dirty[id] = true }

// store is a ContractStore over one cluster's state; every write is
// journaled. Code comes from the verified chain state (the cluster's
// uploaded, deterministic code); a view error is kept and fails the step.
type store struct {
	c       *Core
	cluster [32]byte
	cs      *clusterState
	err     error
	// before, when not nil, records the balance every account had before
	// its first change by the execution (see payouts).
	before map[[32]byte]scale.U128
}

func (s *store) GetStorage(ct [32]byte, key []byte) ([]byte, bool) {
	k := s.cs.contracts[ct]
	if k == nil {
		return nil, false
	}
	v, ok := k.storage[string(key)]
	return v, ok
}

func (s *store) contract(ct [32]byte) *contractState {
	k := s.cs.contracts[ct]
	if k == nil {
		k = &contractState{storage: map[string][]byte{}}
		s.cs.contracts[ct] = k
		s.c.journal(func() { delete(s.cs.contracts, ct) })
	}
	return k
}

func (s *store) SetStorage(ct [32]byte, key, value []byte) {
	k := s.contract(ct)
	old, had := k.storage[string(key)]
	sk := string(key)
	s.c.journal(func() {
		k.fresh = false
		if had {
			k.storage[sk] = old
		} else {
			delete(k.storage, sk)
		}
	})
	k.fresh = false
	if value == nil {
		delete(k.storage, sk)
		return
	}
	k.storage[sk] = bytes.Clone(value)
}

func (s *store) ContractCodeHash(ct [32]byte) ([32]byte, bool) {
	k := s.cs.contracts[ct]
	if k == nil {
		return [32]byte{}, false
	}
	return k.codeHash, true
}

func (s *store) SetContractCodeHash(ct, code [32]byte) {
	k := s.contract(ct)
	old := k.codeHash
	s.c.journal(func() { k.codeHash, k.fresh = old, false })
	k.codeHash, k.fresh = code, false
}

func (s *store) RemoveContract(ct [32]byte) {
	k := s.cs.contracts[ct]
	if k == nil {
		return
	}
	delete(s.cs.contracts, ct)
	s.c.journal(func() { s.cs.contracts[ct] = k })
}

func (s *store) Code(hash [32]byte) ([]byte, bool) {
	if s.c.view == nil {
		return nil, false
	}
	kind, code, ok, err := s.c.view.Code(s.cluster, hash)
	if err != nil {
		if s.err == nil {
			s.err = fmt.Errorf("code %x: %w", hash, err)
		}
		return nil, false
	}
	if !ok || kind != msg.CodeKindInk {
		return nil, false
	}
	return code, true
}

func (s *store) Balance(a [32]byte) scale.U128 { return s.cs.ledger[a] }

func (s *store) SetBalance(a [32]byte, v scale.U128) {
	old, had := s.cs.ledger[a]
	if s.before != nil {
		if _, seen := s.before[a]; !seen {
			s.before[a] = old
		}
	}
	s.c.journal(func() {
		s.cs.ledgerFresh = false
		if had {
			s.cs.ledger[a] = old
		} else {
			delete(s.cs.ledger, a)
		}
	})
	s.cs.ledgerFresh = false
	if v.IsZero() {
		delete(s.cs.ledger, a)
		return
	}
	s.cs.ledger[a] = v
}

// credit adds v to a's balance (saturating: the escrow behind it is a
// u128 on chain too, so it never overflows in practice).
func (s *store) credit(a [32]byte, v scale.U128) {
	if v.IsZero() {
		return
	}
	n, over := s.Balance(a).Add(v)
	if over {
		n = scale.U128{Lo: ^uint64(0), Hi: ^uint64(0)}
	}
	s.SetBalance(a, n)
}

// track starts recording the balances the execution changes.
func (s *store) track() { s.before = map[[32]byte]scale.U128{} }

// payouts ends an execution: every plain account (not a contract of the
// cluster, not the cluster's escrow account) whose ledger balance rose
// during it received value from a contract (only contracts transfer to
// others; a caller's own value only leaves it). That rise is paid out on
// chain from the escrow, so it is debited here: the ledger then counts it
// no more. At most msg.MaxPayouts accounts, the first in account order,
// are paid; the others keep the value in the ledger. Deterministic: the
// result depends only on the ledger before and after.
func (s *store) payouts() []msg.Payout {
	changed := s.before
	s.before = nil
	escrow := [32]byte(phat.ClusterAccount(s.cluster))
	var out []msg.Payout
	for a, old := range changed {
		if s.cs.contracts[a] != nil || a == escrow {
			continue
		}
		if rise, under := s.Balance(a).Sub(old); !under && !rise.IsZero() {
			out = append(out, msg.Payout{Account: a, Amount: rise})
		}
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i].Account[:], out[j].Account[:]) < 0 })
	if len(out) > msg.MaxPayouts {
		out = out[:msg.MaxPayouts]
	}
	for _, po := range out {
		left, _ := s.Balance(po.Account).Sub(po.Amount)
		s.SetBalance(po.Account, left)
	}
	return out
}

func (c *Core) recordOutcome(cs *clusterState, origin, command [32]byte, o *CommandOutcome) {
	k := outcomeKey{origin, command}
	old, had := cs.outcomes[k]
	c.journal(func() {
		if had {
			cs.outcomes[k] = old
		} else {
			delete(cs.outcomes, k)
		}
	})
	cs.outcomes[k] = o
}

// errNoRuntime: the core holds a cluster key but has no contract runtime.
var errNoRuntime = errors.New("worker: cluster key held but no contract runtime (Options.Contracts)")

// execEnv is a block's context for executions in cluster id.
func (c *Core) execEnv(id [32]byte, height, timeNano int64) ExecEnv {
	env := ExecEnv{BlockNumber: uint32(height), TimestampMs: uint64(max(timeNano, 0) / 1_000_000),
		Cluster: id, DevChain: c.devChain}
	if k := c.baseClusterKey(id); k != nil {
		env.ClusterKey = k.pair
	}
	_, env.SystemContract = c.clusterRoles(id)
	return env
}

// clusterRoles returns cluster id's owner and system contract as the
// verified chain records them (zero when unknown).
func (c *Core) clusterRoles(id [32]byte) (owner, system [32]byte) {
	if c.view == nil {
		return owner, system
	}
	if cl, ok, err := c.view.Cluster(id); err == nil && ok {
		owner, system = [32]byte(cl.Owner), cl.SystemContract
	}
	return owner, system
}

// applyHooks records the SetHook requests of a successful execution in
// cluster id: the cluster's system contract may hook any contract of the
// cluster (Phala's ensure_system); any other contract may hook itself
// only, and only when its deployer is the cluster's owner. The gas limit
// is clipped to MaxHookGas and a cluster holds at most MaxHooksPerCluster
// hooks. Refused requests change nothing (every worker refuses the same
// ones).
func (c *Core) applyHooks(id [32]byte, cs *clusterState, reqs []HookRequest) {
	if len(reqs) == 0 {
		return
	}
	owner, system := c.clusterRoles(id)
	for _, h := range reqs {
		k := cs.contracts[h.Target]
		if k == nil {
			continue
		}
		bySystem := system != ([32]byte{}) && h.Emitter == system && cs.contracts[system] != nil
		byOwnersContract := h.Emitter == h.Target && owner != ([32]byte{}) && k.deployer == owner
		if !bySystem && !byOwnersContract {
			continue
		}
		if k.hook == nil && countHooks(cs) >= MaxHooksPerCluster {
			continue
		}
		old := k.hook
		c.journal(func() { k.hook, k.fresh = old, false })
		k.hook, k.fresh = &blockHook{selector: h.Selector, gasLimit: min(h.GasLimit, MaxHookGas)}, false
	}
}

// backlogInputs counts the retained inputs, not the block-end marks.
func backlogInputs(cs *clusterState) int {
	n := 0
	for _, in := range cs.backlog {
		if in.topic != blockEndTopic {
			n++
		}
	}
	return n
}

func countHooks(cs *clusterState) int {
	n := 0
	for _, k := range cs.contracts {
		if k.hook != nil {
			n++
		}
	}
	return n
}

// blockEnd runs, at the end of the block, the block-end hooks of every
// cluster this core executes (clusters by id, contracts by id). A worker
// without a cluster's key marks the block end in the cluster's backlog
// (when it retains anything) so that its replay runs the same hooks.
func (c *Core) blockEnd(x *Context) error {
	for _, s := range c.streams {
		if !isClusterOrigin(s.origin) {
			continue
		}
		id := [32]byte(s.origin[1:])
		cs := c.clusters[id]
		if cs == nil {
			continue
		}
		if s.signer == nil {
			if len(cs.backlog) > 0 {
				n := len(cs.backlog)
				cs.backlog = append(cs.backlog, clusterInput{height: x.Block.Height, timeNano: x.Block.TimeUnixNano, topic: blockEndTopic})
				c.journal(func() { cs.backlog = cs.backlog[:n] })
			}
			continue
		}
		if err := c.runHooks(id, cs, x.Block.Height, x.Block.TimeUnixNano); err != nil {
			return err
		}
	}
	return nil
}

// runHooks calls every hooked contract of cluster id. A hook's value
// transfers stay in the cluster ledger (no payout: a hook has no outcome
// to carry one); a failing hook changes nothing and stays set.
func (c *Core) runHooks(id [32]byte, cs *clusterState, height, timeNano int64) error {
	var hooked [][32]byte
	for cid, k := range cs.contracts {
		if k.hook != nil {
			hooked = append(hooked, cid)
		}
	}
	if len(hooked) == 0 {
		return nil
	}
	if c.opts.Contracts == nil {
		return errNoRuntime
	}
	sortIDs(hooked)
	for _, cid := range hooked {
		k := cs.contracts[cid]
		if k == nil || k.hook == nil {
			continue // removed by an earlier hook
		}
		h := *k.hook
		st := &store{c: c, cluster: id, cs: cs}
		sel := []byte{byte(h.selector >> 24), byte(h.selector >> 16), byte(h.selector >> 8), byte(h.selector)}
		res := c.opts.Contracts.Call(st, c.execEnv(id, height, timeNano), CallRequest{Caller: cid, Dest: cid, Input: sel, GasLimit: h.gasLimit})
		if st.err != nil {
			return st.err
		}
		if res.Success() {
			c.applyHooks(id, cs, res.Hooks)
		}
		c.markDirty(id)
	}
	return nil
}

// retain keeps a verified input for a later replay.
func (c *Core) retain(x *Context, id [32]byte, m msg.Message) {
	cs := c.clusterOf(id)
	n := len(cs.backlog)
	cs.backlog = append(cs.backlog, clusterInput{height: x.Block.Height, timeNano: x.Block.TimeUnixNano,
		topic: string(m.Topic), payload: bytes.Clone(m.Payload)})
	c.journal(func() { cs.backlog = cs.backlog[:n] })
}

// emitter emits on a cluster's stream, or (replay) not at all: msg emits a
// message at once, outcome adds an outcome to the block's batch.
type emitter struct {
	msg     func(topic string, payload []byte)
	outcome func(o msg.Outcome)
}

// muted is the emitter of a replay.
var muted = emitter{msg: func(string, []byte) {}, outcome: func(msg.Outcome) {}}

func (c *Core) clusterEmitter(x *Context, s *stream, cluster [32]byte) emitter {
	return emitter{
		msg: func(topic string, payload []byte) {
			x.ready.Egress = append(x.ready.Egress, s.emit(topic, payload))
		},
		outcome: func(o msg.Outcome) {
			b := c.batchOf(cluster)
			b.n++
			b.entries = append(b.entries, o)
		},
	}
}

// outcomeBatch is a cluster's outcomes of the block being stepped: n
// instantiates and commands, of which the core ran (and holds the outcome
// of) entries; a core without the key only counts them.
type outcomeBatch struct {
	n       int
	entries []msg.Outcome
}

func (c *Core) batchOf(cluster [32]byte) *outcomeBatch {
	b := c.batches[cluster]
	if b == nil {
		b = &outcomeBatch{}
		c.batches[cluster] = b
	}
	return b
}

// flushOutcomes ends a block's messages: for every cluster with n
// instantiates or commands in the block (in cluster id order) it emits
// msg.OutcomesMessages(n) cluster/outcomes messages, or, without the key,
// counts as many sequences and emits nothing: the key holders report them.
// The count is thus a function of the block's inputs alone. A core whose key
// arrived during the block replayed the block's earlier inputs (adding their
// outcomes, in block order, see replayCluster), so it holds all n and emits
// the key holders' bytes; should it hold fewer, it only counts.
func (c *Core) flushOutcomes(x *Context) {
	ids := make([][32]byte, 0, len(c.batches))
	for id := range c.batches {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	for _, id := range ids {
		b := c.batches[id]
		s := c.stream(msg.OriginCluster(id))
		if s == nil || b.n == 0 {
			continue
		}
		if s.signer == nil || len(b.entries) != b.n {
			for range msg.OutcomesMessages(b.n) {
				s.advance()
			}
			continue
		}
		for i := 0; i < len(b.entries); i += msg.MaxOutcomesPerMessage {
			part := b.entries[i:min(i+msg.MaxOutcomesPerMessage, len(b.entries))]
			x.ready.Egress = append(x.ready.Egress, s.emit(msg.TopicClusterOutcomes, scale.Encode(&msg.Outcomes{Entries: part})))
		}
	}
	clear(c.batches)
}

func handleInstantiate(x *Context, m msg.Message) error {
	c := x.core
	var p msg.Instantiate
	if scale.Decode(m.Payload, &p) != nil {
		return nil
	}
	s := c.stream(msg.OriginCluster(p.Cluster))
	if s == nil {
		return nil
	}
	if s.signer == nil {
		c.retain(x, p.Cluster, m)
		s.advance()
		c.batchOf(p.Cluster).n++
		return nil
	}
	return c.instantiate(x, &p, x.Block.Height, x.Block.TimeUnixNano, c.clusterEmitter(x, s, p.Cluster))
}

func handleCommand(x *Context, m msg.Message) error {
	c := x.core
	var p msg.Command
	if scale.Decode(m.Payload, &p) != nil {
		return nil
	}
	s := c.stream(msg.OriginCluster(p.Cluster))
	if s == nil {
		return nil
	}
	if s.signer == nil {
		c.retain(x, p.Cluster, m)
		c.batchOf(p.Cluster).n++
		return nil
	}
	return c.command(x, &p, x.Block.Height, x.Block.TimeUnixNano, c.clusterEmitter(x, s, p.Cluster))
}

func (c *Core) instantiate(x *Context, p *msg.Instantiate, height, timeNano int64, emit emitter) error {
	if c.opts.Contracts == nil {
		return errNoRuntime
	}
	cs := c.clusterOf(p.Cluster)
	st := &store{c: c, cluster: p.Cluster, cs: cs}
	// The chain moved the transfer into the cluster's escrow: credit the
	// deployer, whose balance the constructor's value comes from.
	st.credit(p.Deployer, p.Transfer)
	st.track()
	res := c.opts.Contracts.Instantiate(st, c.execEnv(p.Cluster, height, timeNano), InstantiateRequest{
		Caller: p.Deployer, Address: p.Contract, CodeHash: p.CodeHash, Value: p.Transfer,
		Input: p.Data, Salt: p.Salt, GasLimit: p.GasLimit})
	if st.err != nil {
		return st.err
	}
	if res.Success() {
		k := cs.contracts[p.Contract]
		if k == nil {
			return fmt.Errorf("worker: contract runtime reported success but recorded no contract %x", p.Contract)
		}
		old := k.deployer
		c.journal(func() { k.deployer, k.fresh = old, false })
		k.deployer, k.fresh = p.Deployer, false
		c.applyHooks(p.Cluster, cs, res.Hooks)
		pub, _ := c.ContractPublicKey(p.Cluster, p.Contract)
		emit.msg(msg.TopicContractKey, scale.Encode(&msg.ContractKey{Contract: p.Contract, Pubkey: pub}))
	} else {
		reason := res.Err
		if reason == "" {
			reason = fmt.Sprintf("constructor reverted: 0x%x", res.Data)
		}
		if len(reason) > msg.MaxFailureReason {
			reason = reason[:msg.MaxFailureReason]
		}
		emit.msg(msg.TopicInstantiateFailed, scale.Encode(&msg.InstantiateFailed{Contract: p.Contract, Reason: reason}))
	}
	pays := st.payouts()
	c.recordOutcome(cs, p.Deployer, p.CommandID, &CommandOutcome{Height: height, Contract: p.Contract, Result: res})
	emit.outcome(msg.Outcome{CommandID: p.CommandID, GasUsed: min(res.GasUsed, p.GasLimit), Payouts: pays})
	c.markDirty(p.Cluster)
	return nil
}

func (c *Core) command(x *Context, p *msg.Command, height, timeNano int64, emit emitter) error {
	if c.opts.Contracts == nil {
		return errNoRuntime
	}
	cs := c.clusterOf(p.Cluster)
	st := &store{c: c, cluster: p.Cluster, cs: cs}
	c.markDirty(p.Cluster)
	// The deposit is in the escrow whether or not the command runs.
	st.credit(p.Origin, p.Deposit)
	done := func(o *CommandOutcome) {
		o.Height, o.Contract = height, p.Contract
		pays := st.payouts()
		c.recordOutcome(cs, p.Origin, p.CommandID, o)
		emit.outcome(msg.Outcome{CommandID: p.CommandID, GasUsed: min(o.Result.GasUsed, p.GasLimit), Payouts: pays})
	}
	refuse := func(why string) error {
		done(&CommandOutcome{Refused: why})
		return nil
	}
	if cs.contracts[p.Contract] == nil {
		return refuse(RefuseUnknownContract)
	}
	payload, err := phatwire.DecodeCommandPayload(p.Payload)
	if err != nil {
		return refuse(RefuseUndecodable)
	}
	var cmd *phatwire.InkCommand
	if payload.Encrypted != nil {
		k := c.clusterKeys[p.Cluster]
		plain, err := c.decryptCommand(p.Payload, payload.Encrypted, k.contractEcdh(p.Contract))
		if err != nil {
			// An older epoch's contract key, within the grace period.
			var why string
			if plain, why, err = c.decryptRetired(p.Cluster, p.Contract, payload.Encrypted, height); err != nil {
				return err
			} else if why != "" {
				return refuse(why)
			}
		}
		if cmd, err = phatwire.DecodeInkCommand(plain); err != nil {
			return refuse(RefuseUndecodable)
		}
	} else if cmd, err = payload.Open(nil); err != nil {
		return refuse(RefuseUndecodable)
	}
	// A nonce is spent for the contract, whoever sent it: a command's
	// ciphertext copied into another account's transaction carries the
	// same nonce and is refused, so it never runs (and never yields an
	// outcome) under a second origin. @phala/sdk draws 32 random bytes, so
	// honest senders do not collide. (The origin field stays in the key and
	// in the snapshot format; it is zero.)
	nk := nonceKey{contract: p.Contract, nonce: string(cmd.Nonce)}
	if _, seen := cs.nonces[nk]; seen {
		return refuse(RefuseNonceReplayed)
	}
	if cmd.GasLimit > p.GasLimit {
		return refuse(RefuseGasOverLimit)
	}
	cs.nonces[nk] = struct{}{}
	c.journal(func() { delete(cs.nonces, nk) })
	st.track()
	res := c.opts.Contracts.Call(st, c.execEnv(p.Cluster, height, timeNano), CallRequest{Caller: p.Origin, Dest: p.Contract,
		Value: cmd.Transfer, Input: cmd.Message, GasLimit: cmd.GasLimit})
	if st.err != nil {
		return st.err
	}
	if res.Success() {
		c.applyHooks(p.Cluster, cs, res.Hooks)
	}
	done(&CommandOutcome{Result: res})
	return nil
}

// replayCluster runs the inputs a worker retained while it lacked
// cluster id's key, in their block order and each with its block's
// context, now that it holds the key. It emits nothing: the cluster's
// key holders reported them, and this core counted their sequences. The
// code is read from the current verified state (uploaded code is never
// removed). Afterwards the cluster state is the key holders'.
func (c *Core) replayCluster(x *Context, id [32]byte) error {
	cs := c.clusters[id]
	if cs == nil || len(cs.backlog) == 0 {
		return nil
	}
	inputs := cs.backlog
	cs.backlog = nil
	c.journal(func() { cs.backlog = inputs })
	// The outcomes of this block's earlier inputs (counted, not run) join
	// the block's batch, ahead of the inputs still to come.
	current := emitter{msg: muted.msg, outcome: func(o msg.Outcome) {
		b := c.batchOf(id)
		b.entries = append(b.entries, o)
	}}
	for _, in := range inputs {
		emit := muted
		if in.height == x.Block.Height {
			emit = current
		}
		switch in.topic {
		case msg.TopicPhatInstantiate:
			var p msg.Instantiate
			if scale.Decode(in.payload, &p) != nil {
				continue
			}
			if err := c.instantiate(x, &p, in.height, in.timeNano, emit); err != nil {
				return err
			}
		case msg.TopicPhatCommand:
			var p msg.Command
			if scale.Decode(in.payload, &p) != nil {
				continue
			}
			if err := c.command(x, &p, in.height, in.timeNano, emit); err != nil {
				return err
			}
		case blockEndTopic:
			if err := c.runHooks(id, cs, in.height, in.timeNano); err != nil {
				return err
			}
		}
	}
	c.pruneOutcomes(id, cs, outcomeCutoff(x.Block.Height))
	c.markDirty(id)
	return nil
}

// Outcome returns what the cluster recorded for origin's command (or
// instantiate) commandID, when this worker executed it.
func (c *Core) Outcome(cluster, origin, commandID [32]byte) (CommandOutcome, bool) {
	cs := c.clusters[cluster]
	if cs == nil {
		return CommandOutcome{}, false
	}
	o, ok := cs.outcomes[outcomeKey{origin, commandID}]
	if !ok {
		return CommandOutcome{}, false
	}
	return *o, true
}

// OutcomeOf returns what any of this worker's clusters recorded for
// origin's command (or instantiate) commandID. Command ids are unique on
// the chain, so at most one cluster has it.
func (c *Core) OutcomeOf(origin, commandID [32]byte) (CommandOutcome, bool) {
	for _, cs := range c.clusters {
		if o, ok := cs.outcomes[outcomeKey{origin, commandID}]; ok {
			return *o, true
		}
	}
	return CommandOutcome{}, false
}

// ContractStorage returns a value of a contract's storage in cluster.
func (c *Core) ContractStorage(cluster, contract [32]byte, key []byte) ([]byte, bool) {
	cs := c.clusters[cluster]
	if cs == nil || cs.contracts[contract] == nil {
		return nil, false
	}
	v, ok := cs.contracts[contract].storage[string(key)]
	return bytes.Clone(v), ok
}

// QueryEnv is the context of a query of cluster id: its key and the
// dev-chain switch, as of the last block stepped (ExecEnv's fields).
func (c *Core) QueryEnv(id [32]byte) (clusterKey *keys.Pair, devChain bool) {
	if k := c.baseClusterKey(id); k != nil {
		clusterKey = k.pair
	}
	return clusterKey, c.devChain
}

// DevChain reports the verified chain's dev-attestation switch as of the
// last block stepped (false before the first one after a start).
func (c *Core) DevChain() bool { return c.devChain }

// ContractDeployer returns the cluster and the deployer of a contract this
// core executes (the account allowed to read its logs).
func (c *Core) ContractDeployer(contract [32]byte) (cluster, deployer [32]byte, ok bool) {
	for id, cs := range c.clusters {
		if k := cs.contracts[contract]; k != nil {
			return id, k.deployer, true
		}
	}
	return cluster, deployer, false
}

// ClusterState describes one cluster's contract state: public parts only.
type ClusterState struct {
	ID [32]byte
	// Root is the cluster state root (see StateRoot).
	Root [32]byte
	// Contracts counts the cluster's contracts.
	Contracts int
	// Backlog counts the inputs retained for a replay (the worker does
	// not hold the cluster key yet).
	Backlog int
}

// ClusterStates returns the clusters the core keeps state for, by id.
func (c *Core) ClusterStates() []ClusterState {
	ids := make([][32]byte, 0, len(c.clusters))
	for id := range c.clusters {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	out := make([]ClusterState, len(ids))
	for i, id := range ids {
		cs := c.clusters[id]
		out[i] = ClusterState{ID: id, Root: cs.root, Contracts: len(cs.contracts), Backlog: backlogInputs(cs)}
	}
	return out
}

// pruneAll forgets old outcomes at a prune height.
func (c *Core) pruneAll(h int64) {
	if h%OutcomePruneInterval != 0 {
		return
	}
	for id, cs := range c.clusters {
		c.pruneOutcomes(id, cs, outcomeCutoff(h))
	}
}

// updateRoots recomputes the root of every cluster the step changed and
// reports each new one.
func (c *Core) updateRoots(x *Context) {
	ids := make([][32]byte, 0, len(c.dirty))
	for id := range c.dirty {
		ids = append(ids, id)
	}
	clear(c.dirty)
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	for _, id := range ids {
		cs := c.clusters[id]
		if cs == nil {
			continue
		}
		r := stateRoot(id, cs)
		if r == cs.root {
			continue
		}
		old := cs.root
		c.journal(func() { cs.root = old })
		cs.root = r
		x.recordChange(Change{Kind: ChangeClusterState, Cluster: id, Root: r})
	}
}
