package state

import (
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/tx"
)

// Modules plug into the kernel through the types below. Each module lives
// in its own package under internal/state (balances, validators, mq,
// registry), and internal/state/modules wires them, per app version, into
// the one table (Runtimes) that a Machine is built with.

// Event is a display-only record of what a transaction did (CometBFT events
// are not covered by any hash; verifiers use TxResult.Data and the write-set).
// Accounts appear as 0x-prefixed hex public keys (SS58 encoding costs more
// than the rest of a transfer; clients convert for display).
type Event struct {
	Type       string
	Attributes []EventAttribute
}

// EventAttribute is one key/value of an Event; Index asks CometBFT to index it.
type EventAttribute struct {
	Key, Value string
	Index      bool
}

// CallOrigin is who a call acts as.
type CallOrigin uint8

const (
	// OriginSigned: the call acts as the transaction's signer.
	OriginSigned CallOrigin = iota
	// OriginRoot: the call acts with the chain's authority (dispatched by
	// admin.sudo today, by governance later); only root may run privileged
	// methods.
	OriginRoot
)

// CallCtx is what a call sees: its own nested overlay, the transaction's
// signer, the origin it acts as, the block header and the machine's
// configuration. What the call emits (messages, events, a validator change)
// is kept only if it succeeds; its writes too, unless it asked to keep them
// (KeepWritesOnFailure).
type CallCtx struct {
	ov        *Overlay
	origin    CallOrigin
	keepOnErr bool // the writes survive a failure code (KeepWritesOnFailure)
	params    *Params
	signer    keys.PublicKey
	signerKey []byte // AccountKey(signer)
	m         *Machine
	h         *Header
	// dryRun is set in CheckTx: the call's writes are thrown away, and
	// checks that need the block (attestations) are skipped.
	dryRun   bool
	events   []Event
	msgs     []msg.Message // messages the call emits, kept only if it succeeds
	msgBase  int           // the block's messages before this context's first
	valDirty bool          // the validator set was written
	switchTo uint64        // the app version the block switches to (SwitchAppVersion); 0: none
}

// Overlay returns the call's nested overlay: its writes survive only if the
// call succeeds (or asked to keep them, KeepWritesOnFailure).
func (c *CallCtx) Overlay() *Overlay { return c.ov }

// Origin returns who the call acts as.
func (c *CallCtx) Origin() CallOrigin { return c.origin }

// IsRoot reports whether the call acts with the chain's authority.
func (c *CallCtx) IsRoot() bool { return c.origin == OriginRoot }

// Genesis returns the chain's genesis (do not modify it).
func (c *CallCtx) Genesis() *Genesis { return c.m.genesis }

// KeepWritesOnFailure asks the kernel to keep the writes the call made to
// its own overlay even if it returns a failure code; its messages and events
// are still dropped. mq.submit uses it so that a message whose topic handler
// refuses it still advances its origin's sequence: the handler runs in a Sub
// context that is merged only when it accepts, so its writes never survive a
// refusal.
func (c *CallCtx) KeepWritesOnFailure() { c.keepOnErr = true }

// Sub returns a nested context acting as origin: its writes go to a child of
// c's overlay and what it emits is kept apart, until c.Merge(sub). Dropping a
// sub without merging it discards all of it.
func (c *CallCtx) Sub(origin CallOrigin) *CallCtx {
	return &CallCtx{ov: c.ov.Child(), origin: origin, params: c.params, signer: c.signer, signerKey: c.signerKey, m: c.m, h: c.h, dryRun: c.dryRun, msgBase: c.NextMessageIndex()}
}

// Merge commits sub's writes into c's overlay and appends what sub emitted
// to c's output.
func (c *CallCtx) Merge(sub *CallCtx) {
	sub.ov.Commit()
	c.msgs = append(c.msgs, sub.msgs...)
	c.events = append(c.events, sub.events...)
	c.valDirty = c.valDirty || sub.valDirty
	if sub.switchTo != 0 {
		c.switchTo = sub.switchTo
	}
}

// Dispatch runs meth(args) in a Sub context acting as origin and merges it
// when it succeeds. A privileged method needs OriginRoot (else
// CodeNotRoot); args are checked with meth.Check first (else
// CodeBadDispatchArgs). The returned code is the method's (a failure code of
// the dispatching call).
func (c *CallCtx) Dispatch(meth *Method, args []byte, origin CallOrigin) (uint32, string, error) {
	if meth.Privileged && origin != OriginRoot {
		return CodeNotRoot, meth.Name + " is privileged: it needs the root origin", nil
	}
	if err := meth.CheckArgs(args); err != nil {
		return CodeBadDispatchArgs, err.Error(), nil
	}
	sub := c.Sub(origin)
	code, log, err := meth.Exec(sub, args)
	if err != nil {
		return 0, "", err
	}
	if code != CodeOK && code < firstFailureCode {
		// A rejection code cannot end an accepted transaction.
		return CodeBadDispatchArgs, CodeName(code) + ": " + log, nil
	}
	if code != CodeOK {
		return code, log, nil
	}
	c.Merge(sub)
	return CodeOK, log, nil
}

// Params returns the chain's Params as stored at the start of the block.
func (c *CallCtx) Params() *Params { return c.params }

// Signer returns the transaction's signer.
func (c *CallCtx) Signer() keys.PublicKey { return c.signer }

// SignerKey returns AccountKey(Signer()).
func (c *CallCtx) SignerKey() []byte { return c.signerKey }

// Header returns the block's header.
func (c *CallCtx) Header() *Header { return c.h }

// GenesisHash returns the chain's genesis hash.
func (c *CallCtx) GenesisHash() [32]byte { return c.m.genesisHash }

// Verifier returns the Machine's AttestationVerifier (nil when none was given).
func (c *CallCtx) Verifier() AttestationVerifier { return c.m.verifier }

// DryRun reports whether the call runs for CheckTx: its writes are thrown
// away, and checks that need the block (attestations) should be skipped.
func (c *CallCtx) DryRun() bool { return c.dryRun }

// Emit appends a message to the call's output (the block's Messages, in
// execution order, if the call succeeds).
func (c *CallCtx) Emit(m msg.Message) { c.msgs = append(c.msgs, m) }

// NextMessageIndex returns the index in the block's Messages that the
// call's next Emit will have if the call succeeds (messages of earlier
// transactions, then this call's, in order). A Sub context counts from its
// parent's emitted messages at the time it was made: the parent must not
// emit between Sub and Merge.
func (c *CallCtx) NextMessageIndex() int { return c.msgBase + len(c.msgs) }

// AddEvent records a display-only event of the call.
func (c *CallCtx) AddEvent(e Event) { c.events = append(c.events, e) }

// ValidatorsChanged tells the kernel that the call wrote the validator set,
// so that the block's ValidatorUpdates are computed.
func (c *CallCtx) ValidatorsChanged() { c.valDirty = true }

// SwitchAppVersion asks the kernel to switch the chain to appVersion at the
// end of this block: once every EndBlock hook ran, the kernel runs
// appVersion's Runtime.Migrate, records appVersion under KeyAppVersion and
// returns it as BlockResult.AppVersionUpdate, so that the next block (whose
// header CometBFT gives the new version) runs appVersion's module table.
// When this code has no table for appVersion, ExecuteBlock fails with an
// *UpgradeError instead: the node stops at this block. Only EndBlock hooks
// may call it (governance's scheduled upgrade); elsewhere it is ignored.
func (c *CallCtx) SwitchAppVersion(appVersion uint64) { c.switchTo = appVersion }

// AdmitCtx is what a call's admission checks see: the block's state so far
// (read only), the signature cache (nil when disabled) and, in CheckTx, the
// mempool's pending mq sequences (nil otherwise).
type AdmitCtx struct {
	Store   Store
	Cache   SigCache
	Pending PendingSequences
}

// Method is one callable entry of a module.
type Method struct {
	// Name is the method's name in "module.method".
	Name string
	// Weight is the call's weight (the transaction adds TxBaseWeight).
	Weight uint64
	// WeightPerByte, when set, adds this weight per byte of the call's
	// arguments (calls whose cost grows with their input, such as code
	// uploads). See CallWeight.
	WeightPerByte uint64
	// MaxArgs, when set, bounds the call's arguments in bytes (longer ones
	// are bad arguments, see CheckArgs), and with it the call's heaviest
	// weight; otherwise tx.MaxTxBytes bounds them.
	MaxArgs int
	// DevOnly methods exist only on dev chains (CodeDevOnly elsewhere).
	DevOnly bool
	// Privileged methods act with the chain's authority: a transaction
	// calling one directly is rejected (CodePrivilegedCall); only a
	// dispatcher running them with OriginRoot (admin.sudo, later governance)
	// reaches their Exec, which should still check CallCtx.IsRoot.
	Privileged bool
	// Check decodes the arguments statically (no state); an error is CodeBadArgs.
	Check func(args []byte) error
	// Admit, when set, runs the call's stateful admission checks after the
	// fee checks and before the transaction is accepted. It must not write;
	// a non-zero code must be a rejection (below 32).
	Admit func(a *AdmitCtx, args []byte) (code uint32, log string, err error)
	// Exec runs the call. A non-zero code is a call failure (the caller
	// discards the call's writes); err is a store failure.
	Exec func(c *CallCtx, args []byte) (code uint32, log string, err error)
	// Egress, when set, names the origin and sequence of the worker message
	// the call carries, for CheckResult.MqOrigin and MqSequence.
	Egress func(args []byte) (origin []byte, sequence uint64, ok bool)
}

// CallWeight returns the weight of a call of m with these arguments:
// Weight + WeightPerByte·len(args) (the transaction adds TxBaseWeight).
func (m *Method) CallWeight(args []byte) uint64 {
	return m.Weight + m.WeightPerByte*uint64(len(args))
}

// CheckArgs checks a call's arguments statically: at most MaxArgs bytes
// (when set), then Check.
func (m *Method) CheckArgs(args []byte) error {
	if m.MaxArgs > 0 && len(args) > m.MaxArgs {
		return fmt.Errorf("%s: %d bytes of arguments, at most %d", m.Name, len(args), m.MaxArgs)
	}
	return m.Check(args)
}

// maxWeight is the weight of m's heaviest call: with arguments of
// MaxArgs (when set) or tx.MaxTxBytes at most.
func (m *Method) maxWeight() uint64 {
	n := uint64(tx.MaxTxBytes)
	if m.MaxArgs > 0 {
		n = min(n, uint64(m.MaxArgs))
	}
	return m.Weight + m.WeightPerByte*n
}

// Module is one module of an app version: its name and methods, by method
// index.
type Module struct {
	Name    string
	Methods []*Method
	// InitChain, when set, writes the module's genesis state.
	InitChain func(ov *Overlay, g *Genesis)
	// EndBlock, when set, runs after the block's last transaction, in
	// module index order, with the root origin and no signer (governance's
	// tallies and enactments). Its writes, messages and validator changes
	// are part of the block, its events are BlockResult.Events; it must
	// bound its own work, since no fee pays for it. An error is a store
	// failure.
	EndBlock func(c *CallCtx) error
}

// Runtime is the module table of one app version, keyed by module index.
// Index 0 is reserved for a future "system" module.
type Runtime struct {
	Modules [256]*Module
	// Migrate, when set, runs once, at the end of the block that switches
	// the chain to this version from version from (see
	// CallCtx.SwitchAppVersion), after the EndBlock hooks, with the root
	// origin. Its writes and messages are part of that block (and of its
	// AppHash); it must be deterministic and bound its own work. An error
	// is a store failure.
	Migrate func(c *CallCtx, from uint64) error
}

// Runtimes maps every supported app version to its module table.
// internal/state/modules builds the chain's one table.
type Runtimes map[uint64]*Runtime

// Supports reports whether appVersion has a module table.
func (rs Runtimes) Supports(appVersion uint64) bool { return rs[appVersion] != nil }

// Supported returns the app versions that have a module table, ascending.
func (rs Runtimes) Supported() []uint64 {
	out := make([]uint64, 0, len(rs))
	for v, rt := range rs {
		if rt != nil {
			out = append(out, v)
		}
	}
	slices.Sort(out)
	return out
}

// Lookup finds a call's method at an app version.
func (rs Runtimes) Lookup(appVersion uint64, c *tx.Call) (*Method, bool) {
	rt := rs[appVersion]
	if rt == nil {
		return nil, false
	}
	mod := rt.Modules[c.Module]
	if mod == nil || int(c.Method) >= len(mod.Methods) || mod.Methods[c.Method] == nil {
		return nil, false
	}
	return mod.Methods[c.Method], true
}

// CallName returns "module.method" for a known call at an app version, or
// "module(M).method(N)".
func (rs Runtimes) CallName(appVersion uint64, c tx.Call) string {
	if meth, ok := rs.Lookup(appVersion, &c); ok {
		return rs[appVersion].Modules[c.Module].Name + "." + meth.Name
	}
	return fmt.Sprintf("module(%d).method(%d)", c.Module, c.Method)
}

// MaxCallWeight returns the weight of the heaviest method at an app version.
func (rs Runtimes) MaxCallWeight(appVersion uint64) uint64 {
	var w uint64
	if rt := rs[appVersion]; rt != nil {
		for _, mod := range rt.Modules {
			if mod == nil {
				continue
			}
			for _, meth := range mod.Methods {
				if meth != nil {
					w = max(w, meth.maxWeight())
				}
			}
		}
	}
	return w
}

// PendingSequences is implemented by a CheckTx PendingNonces value that also
// tracks the egress messages the mempool holds: CheckTx then requires a
// message's sequence to follow the origin's pending ones instead of the
// committed one, so that a relayer can submit several messages of one origin
// in a row.
type PendingSequences interface {
	// NextSequence returns the sequence origin's next message must carry
	// after the mempool's messages, and false when the mempool holds none.
	NextSequence(origin []byte) (uint64, bool)
}

// TopicHandler is a topic's on-chain handler (wired per topic in
// internal/state/modules): mq.submit offers it every admitted message of its
// topic, with the decoded origin, in a Sub context. A non-zero code (a
// failure code) refuses the message: its writes and emissions are dropped,
// the message is not delivered, and the origin's sequence still advances.
type TopicHandler func(c *CallCtx, origin msg.Origin, payload []byte) (code uint32, log string, err error)
