package state

import (
	"errors"
	"fmt"
	"math"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tx"
)

// Errors of the Machine. Transaction problems are never errors: they are
// result codes. Errors mean the caller or the store is at fault.
var (
	// ErrUnsupportedAppVersion means a header carries an app version this
	// code does not implement; a node or pRuntime must stop, not guess.
	ErrUnsupportedAppVersion = errors.New("state: unsupported app version")
	// ErrInvalidProposal is wrapped by CheckProposal when a block must be rejected.
	ErrInvalidProposal = errors.New("state: invalid proposal")
)

// UpgradeError is ExecuteBlock's error when the block must switch the chain
// to an app version this code has no module table for (an upgrade that
// governance scheduled for a newer binary). It wraps
// ErrUnsupportedAppVersion. The node must stop before committing the block;
// a binary that supports To executes it again after a restart.
type UpgradeError struct {
	// Height is the block that switches the chain (the last block of From).
	Height int64
	// From is the app version the block runs; To the one it switches to.
	From, To uint64
	// Supported are the app versions this code runs, ascending.
	Supported []uint64
}

func (e *UpgradeError) Error() string {
	return fmt.Sprintf("state: block %d switches the chain from app version %d to app version %d, which this binary does not support (it runs app versions %v): install a binary that supports app version %d and restart the node",
		e.Height, e.From, e.To, e.Supported, e.To)
}

// Unwrap returns ErrUnsupportedAppVersion.
func (e *UpgradeError) Unwrap() error { return ErrUnsupportedAppVersion }

// Header is what the state machine needs from a block header, plus the
// oracle of committed block hashes its caller provides.
type Header struct {
	Height          int64
	TimeUnixNano    int64
	AppVersion      uint64
	ProposerAddress []byte
	// BlockHashes answers the hashes of committed blocks below Height (for
	// the registry's freshness check). Nil makes that check fail with
	// CodeBlockHashUnavailable.
	BlockHashes BlockHashes
}

// Receipt is TxResult.Data of an accepted transaction: SCALE (u128 fee, u64 weight).
type Receipt struct {
	Fee    scale.U128
	Weight uint64
}

// EncodeSCALE writes the receipt.
func (r *Receipt) EncodeSCALE(w *scale.Writer) { w.U128(r.Fee); w.U64(r.Weight) }

// DecodeSCALE reads a receipt.
func (r *Receipt) DecodeSCALE(rd *scale.Reader) { r.Fee = rd.U128(); r.Weight = rd.U64() }

// TxResult is the outcome of one transaction in a block. Code, Data and
// Weight are deterministic (Data = SCALE(Receipt) for accepted transactions,
// empty for rejected ones); Log and Events are for display.
type TxResult struct {
	Code   uint32
	Log    string
	Data   []byte
	Weight uint64
	Fee    scale.U128
	Events []Event
	// Signer is the signer of an accepted transaction (one that paid its
	// fee, whatever its call's outcome); nil for a rejected one. It is for
	// display and indexing (the app layer's tx.signer event), not consensus.
	Signer *keys.PublicKey
}

// BlockResult is the outcome of a block.
type BlockResult struct {
	TxResults []TxResult
	// WriteSet is every key the block wrote or deleted, sorted.
	WriteSet WriteSet
	// Messages is the message queue's ordered output: the egress accepted
	// by mq.submit and the messages modules emitted, in execution order
	// (a failed call's messages are dropped with its writes).
	Messages []msg.Message
	// ValidatorUpdates are the changed validators (power 0 = removed), sorted
	// by public key, each key at most once, for CometBFT.
	ValidatorUpdates []Validator
	// AppHash is AppHash(version, prev, WriteSet, Messages).
	AppHash [32]byte
	// Events are the display-only events of the modules' EndBlock hooks
	// (governance's tallies and enactments), in hook order.
	Events []Event
	// AppVersionUpdate, when non-zero, is the app version the chain runs
	// from the next block on: this block switched it (see
	// CallCtx.SwitchAppVersion), ran its migration and wrote
	// KeyAppVersion. The node hands it to CometBFT as the consensus-param
	// update Version.App, so that the next header carries it.
	AppVersionUpdate uint64
}

// Machine is Cella's state machine: pure and deterministic, with no I/O. All
// state comes in through a Store and goes out as a WriteSet. Its methods are
// safe for concurrent use (the SigCache must be too).
type Machine struct {
	genesis     *Genesis
	genesisHash [32]byte
	rs          Runtimes
	cache       SigCache
	verifier    AttestationVerifier
}

// Option configures a Machine.
type Option func(*Machine)

// WithSigCache sets the signature cache; nil disables caching. Without this
// option a Machine uses NewSigCache(DefaultSigCacheSize).
func WithSigCache(c SigCache) Option { return func(m *Machine) { m.cache = c } }

// DefaultSigCacheSize is the size of a Machine's default signature cache.
const DefaultSigCacheSize = 1 << 16

// New returns a Machine for the chain g, which must be valid, running the
// modules of rs (modules.Runtimes for the chain's own table; modules.NewMachine
// is the shorthand).
func New(g *Genesis, rs Runtimes, opts ...Option) (*Machine, error) {
	if err := g.Validate(rs); err != nil {
		return nil, err
	}
	m := &Machine{genesis: g, genesisHash: g.Hash(), rs: rs, cache: NewSigCache(DefaultSigCacheSize)}
	for _, o := range opts {
		o(m)
	}
	return m, nil
}

// GenesisHash returns the chain's genesis hash.
func (m *Machine) GenesisHash() [32]byte { return m.genesisHash }

// Genesis returns the chain's genesis (do not modify it).
func (m *Machine) Genesis() *Genesis { return m.genesis }

// Runtimes returns the module tables the Machine runs.
func (m *Machine) Runtimes() Runtimes { return m.rs }

// AppVersion returns the app version that the block after committed state
// st runs: the last switch's (KeyAppVersion), or the genesis's.
func (m *Machine) AppVersion(st Store) (uint64, error) {
	return GetAppVersion(st, m.genesis.AppVersion)
}

type emptyStore struct{}

func (emptyStore) Get([]byte) ([]byte, error) { return nil, nil }

// InitChain returns the genesis write-set (params, validator set sorted by
// public key, balances, then each module's genesis state in module order:
// the registry's config and measurement allow-list) and
// AppHash_0 = AppHash(version, zero, ws, nil).
func (m *Machine) InitChain() (WriteSet, [32]byte, error) {
	g := m.genesis
	ov := NewOverlay(emptyStore{})
	ov.SetOwned(KeyParams, scale.Encode(&g.App.Params))
	vs := append([]Validator(nil), g.Validators...)
	SortValidators(vs)
	PutValidators(ov, vs)
	for _, b := range g.App.Balances {
		PutAccount(ov, AccountKey(b.Account), Account{Free: b.Free})
	}
	for _, mod := range m.rs[g.AppVersion].Modules {
		if mod != nil && mod.InitChain != nil {
			mod.InitChain(ov, g)
		}
	}
	ws := ov.WriteSet()
	return ws, AppHash(g.AppVersion, [32]byte{}, ws, nil), nil
}

// prepared is a transaction after the checks that need no state.
type prepared struct {
	raw   []byte
	hash  [32]byte
	tx    *tx.Tx
	meth  *Method
	code  uint32 // non-zero: rejected statically
	log   string
	sigOK bool
}

// static runs the stateless checks: size, decoding, genesis hash, call lookup.
func (m *Machine) static(raw []byte, appVersion uint64) prepared {
	p := prepared{raw: raw}
	if len(raw) > tx.MaxTxBytes {
		p.code, p.log = CodeOversize, fmt.Sprintf("transaction of %d bytes exceeds %d", len(raw), tx.MaxTxBytes)
		return p
	}
	t, err := tx.Decode(raw)
	if err != nil {
		p.code, p.log = CodeMalformed, err.Error()
		if errors.Is(err, tx.ErrUnsupportedVersion) || errors.Is(err, tx.ErrUnsupportedScheme) || errors.Is(err, tx.ErrUnsupportedWrapping) {
			p.code = CodeUnsupported
		}
		return p
	}
	p.tx = t
	if t.Body.Genesis != m.genesisHash {
		p.code, p.log = CodeWrongGenesis, fmt.Sprintf("transaction is for genesis %x, this chain's is %x", t.Body.Genesis, m.genesisHash)
		return p
	}
	meth, ok := m.rs.Lookup(appVersion, &t.Body.Call)
	if !ok {
		p.code, p.log = CodeUnknownCall, fmt.Sprintf("unknown call %s at app version %d", m.rs.CallName(appVersion, t.Body.Call), appVersion)
		return p
	}
	if meth.DevOnly && !m.genesis.App.Dev {
		p.code, p.log = CodeDevOnly, m.rs.CallName(appVersion, t.Body.Call)+" is only available on dev chains"
		return p
	}
	if meth.Privileged {
		p.code, p.log = CodePrivilegedCall, m.rs.CallName(appVersion, t.Body.Call)+" is privileged: dispatch it through admin.sudo"
		return p
	}
	if err := meth.CheckArgs(t.Body.Call.Args); err != nil {
		p.code, p.log = CodeBadArgs, err.Error()
		return p
	}
	p.meth = meth
	p.hash = tx.Hash(raw)
	return p
}

// prepare runs the static checks on every transaction and verifies the
// signatures of those that pass, in one batch, skipping cached ones.
func (m *Machine) prepare(txs [][]byte, appVersion uint64) []prepared {
	ps := make([]prepared, len(txs))
	idx := make([]int, 0, len(txs))
	for i, raw := range txs {
		ps[i] = m.static(raw, appVersion)
		if ps[i].code != CodeOK {
			continue
		}
		if m.cache != nil && m.cache.Contains(ps[i].hash) {
			ps[i].sigOK = true
			continue
		}
		idx = append(idx, i)
	}
	switch len(idx) {
	case 0:
	case 1:
		p := &ps[idx[0]]
		p.sigOK = p.tx.Verify()
	default:
		bv := keys.NewBatchVerifier(len(idx))
		for _, i := range idx {
			t := ps[i].tx
			bv.Add(t.Body.Signer, t.SignedMessage(), t.Signature)
		}
		_, valid := bv.Verify()
		for j, i := range idx {
			ps[i].sigOK = valid[j]
		}
	}
	if m.cache != nil {
		for _, i := range idx {
			if ps[i].sigOK {
				m.cache.Add(ps[i].hash)
			}
		}
	}
	return ps
}

// computeFee returns BaseFee + ByteFee·size + WeightFee·weight, and false on
// u128 overflow.
func computeFee(p *Params, size int, weight uint64) (scale.U128, bool) {
	bytesFee, of1 := p.ByteFee.Mul64(uint64(size))
	weightFee, of2 := p.WeightFee.Mul64(weight)
	fee, of3 := p.BaseFee.Add(bytesFee)
	fee, of4 := fee.Add(weightFee)
	return fee, !(of1 || of2 || of3 || of4)
}

// executor applies transactions one after another on a block overlay.
type executor struct {
	m           *Machine
	h           Header
	ov          *Overlay
	params      Params
	height      int64
	blockWeight uint64
	valDirty    bool
	msgs        []msg.Message
	events      []Event // of the EndBlock hooks
	switchTo    uint64  // asked by an EndBlock hook (CallCtx.SwitchAppVersion)
}

// nonceRule replaces the block rule (nonce == account nonce) in CheckTx.
type nonceRule struct {
	pending PendingNonces
	seqs    PendingSequences // pending, when it also tracks mq sequences
}

func reject(code uint32, format string, a ...any) TxResult {
	return TxResult{Code: code, Log: fmt.Sprintf(format, a...)}
}

// apply runs one prepared transaction. It returns an error only when the
// store fails. Rejected transactions leave e.ov untouched.
func (e *executor) apply(p *prepared, check *nonceRule) (TxResult, error) {
	if p.code != CodeOK {
		return TxResult{Code: p.code, Log: p.log}, nil
	}
	if !p.sigOK {
		return reject(CodeBadSignature, "signature does not verify for signer %s", keys.EncodeSS58(p.tx.Body.Signer, e.params.SS58Prefix)), nil
	}
	b := &p.tx.Body
	if b.ValidUntil != 0 && (e.height < 0 || uint64(e.height) > b.ValidUntil) {
		return reject(CodeExpired, "valid until height %d, block height is %d", b.ValidUntil, e.height), nil
	}
	signerKey := AccountKey(b.Signer)
	acct, err := GetAccountAt(e.ov, signerKey)
	if err != nil {
		return TxResult{}, err
	}
	if b.Nonce < acct.Nonce {
		return reject(CodeStaleNonce, "nonce %d already used: account nonce is %d", b.Nonce, acct.Nonce), nil
	}
	// Only an account that already sent 2^64-1 transactions has no nonce
	// left (its nonce could not be incremented); a nonce of 2^64-1 on any
	// other account is merely far ahead and is judged below.
	if acct.Nonce == math.MaxUint64 {
		return reject(CodeStaleNonce, "nonce space exhausted"), nil
	}
	if check != nil {
		want := acct.Nonce
		if check.pending != nil {
			if next, ok := check.pending.Next(b.Signer); ok && next > want {
				want = next
			}
		}
		if b.Nonce < want {
			return reject(CodePendingNonce, "nonce %d is taken by a pending transaction: next free nonce is %d", b.Nonce, want), nil
		}
		if b.Nonce > want {
			return reject(CodeFutureNonce, "nonce %d is too far ahead: expected %d", b.Nonce, want), nil
		}
	} else if b.Nonce > acct.Nonce {
		return reject(CodeFutureNonce, "nonce %d is too far ahead: account nonce is %d", b.Nonce, acct.Nonce), nil
	}
	weight := TxBaseWeight + p.meth.CallWeight(b.Call.Args)
	if weight > e.params.MaxBlockWeight {
		return reject(CodeTooHeavy, "transaction weight %d exceeds the block limit %d", weight, e.params.MaxBlockWeight), nil
	}
	fee, ok := computeFee(&e.params, len(p.raw), weight)
	if !ok {
		return reject(CodeCannotPayFee, "fee overflows u128"), nil
	}
	if fee.Cmp(b.FeeLimit) > 0 {
		return reject(CodeFeeLimit, "fee %s exceeds the fee limit %s", fee, b.FeeLimit), nil
	}
	if e.blockWeight+weight > e.params.MaxBlockWeight {
		return reject(CodeBlockFull, "block weight %d + %d exceeds %d", e.blockWeight, weight, e.params.MaxBlockWeight), nil
	}
	if acct.Free.Cmp(fee) < 0 {
		return reject(CodeCannotPayFee, "fee %s exceeds free balance %s", fee, acct.Free), nil
	}
	if p.meth.Admit != nil {
		a := &AdmitCtx{Store: e.ov, Cache: e.m.cache}
		if check != nil {
			a.Pending = check.seqs
		}
		code, log, err := p.meth.Admit(a, b.Call.Args)
		if err != nil {
			return TxResult{}, err
		}
		if code != CodeOK {
			return TxResult{Code: code, Log: log}, nil
		}
	}
	// Check the treasury credit before writing anything, so that a rejection
	// has no effect. (It cannot overflow while total issuance fits u128.)
	if b.Signer != TreasuryAccount {
		tr, err := GetAccountAt(e.ov, treasuryKey)
		if err != nil {
			return TxResult{}, err
		}
		if _, of := tr.Free.Add(fee); of {
			return reject(CodeCannotPayFee, "treasury balance would overflow"), nil
		}
	}

	// Accepted: charge the fee and advance the nonce.
	acct.Free, _ = acct.Free.Sub(fee)
	acct.Nonce = b.Nonce + 1
	PutAccount(e.ov, signerKey, acct)
	tr, err := GetAccountAt(e.ov, treasuryKey)
	if err != nil {
		return TxResult{}, err
	}
	tr.Free, _ = tr.Free.Add(fee)
	PutAccount(e.ov, treasuryKey, tr)
	e.blockWeight += weight

	// Run the call in a nested overlay: its writes survive only if it succeeds.
	c := &CallCtx{ov: e.ov.Child(), params: &e.params, signer: b.Signer, signerKey: signerKey, m: e.m, h: &e.h, dryRun: check != nil, msgBase: len(e.msgs)}
	code, log, err := p.meth.Exec(c, b.Call.Args)
	if err != nil {
		return TxResult{}, err
	}
	signer := b.Signer
	res := TxResult{Code: code, Log: log, Weight: weight, Fee: fee, Data: scale.Encode(&Receipt{Fee: fee, Weight: weight}), Signer: &signer}
	if code == CodeOK {
		c.ov.Commit()
		e.valDirty = e.valDirty || c.valDirty
		e.msgs = append(e.msgs, c.msgs...)
		res.Events = c.events
	} else if c.keepOnErr {
		c.ov.Commit()
	} else {
		c.ov.Discard()
	}
	return res, nil
}

// endBlock runs the modules' EndBlock hooks in module index order, each in
// its own nested overlay acting as root.
func (e *executor) endBlock() error {
	rt := e.m.rs[e.h.AppVersion]
	for _, mod := range rt.Modules {
		if mod == nil || mod.EndBlock == nil {
			continue
		}
		c := &CallCtx{ov: e.ov.Child(), origin: OriginRoot, params: &e.params, signerKey: AccountKey(keys.PublicKey{}), m: e.m, h: &e.h, msgBase: len(e.msgs)}
		if err := mod.EndBlock(c); err != nil {
			return err
		}
		c.ov.Commit()
		e.valDirty = e.valDirty || c.valDirty
		e.msgs = append(e.msgs, c.msgs...)
		e.events = append(e.events, c.events...)
		if c.switchTo != 0 {
			e.switchTo = c.switchTo
		}
	}
	if e.switchTo == 0 {
		return nil
	}
	return e.switchVersion()
}

// switchVersion ends a block that switches the chain to e.switchTo: the
// target's migration runs (with the root origin), then KeyAppVersion is
// written. A target without a module table stops the block (UpgradeError).
func (e *executor) switchVersion() error {
	from, to := e.h.AppVersion, e.switchTo
	rt := e.m.rs[to]
	if rt == nil {
		return &UpgradeError{Height: e.h.Height, From: from, To: to, Supported: e.m.rs.Supported()}
	}
	if rt.Migrate != nil {
		c := &CallCtx{ov: e.ov.Child(), origin: OriginRoot, params: &e.params, signerKey: AccountKey(keys.PublicKey{}), m: e.m, h: &e.h, msgBase: len(e.msgs)}
		if err := rt.Migrate(c, from); err != nil {
			return fmt.Errorf("migration to app version %d: %w", to, err)
		}
		c.ov.Commit()
		e.valDirty = e.valDirty || c.valDirty
		e.msgs = append(e.msgs, c.msgs...)
		e.events = append(e.events, c.events...)
	}
	e.ov.SetOwned(KeyAppVersion, scale.Encode(u64le(to)))
	return nil
}

type u64le uint64

func (v u64le) EncodeSCALE(w *scale.Writer) { w.U64(uint64(v)) }

func (m *Machine) newExecutor(st Store, h Header) (*executor, error) {
	if !m.rs.Supports(h.AppVersion) {
		return nil, fmt.Errorf("%w: %d", ErrUnsupportedAppVersion, h.AppVersion)
	}
	params, err := GetParams(st)
	if err != nil {
		return nil, err
	}
	return &executor{m: m, h: h, ov: NewOverlay(st), params: params, height: h.Height}, nil
}

// ExecuteBlock runs a block's transactions in order on committed state st.
// It first verifies all signatures in one batch (skipping cached ones), then
// applies each transaction on an overlay: rejected transactions (codes 1–31)
// have no effect, accepted ones pay their fee and advance the nonce, and a
// failing call's writes are discarded; then the modules' EndBlock hooks run
// in module index order (Module.EndBlock), and, when one of them switched
// the chain's app version, the new version's migration
// (BlockResult.AppVersionUpdate). It writes nothing to st. An error means
// the store failed, the header's app version is unsupported, or the block
// switches to an unsupported version (*UpgradeError).
func (m *Machine) ExecuteBlock(st Store, prevAppHash [32]byte, h Header, txs [][]byte) (*BlockResult, error) {
	e, err := m.newExecutor(st, h)
	if err != nil {
		return nil, err
	}
	ps := m.prepare(txs, h.AppVersion)
	results := make([]TxResult, len(txs))
	for i := range ps {
		if results[i], err = e.apply(&ps[i], nil); err != nil {
			return nil, err
		}
	}
	return e.finish(st, prevAppHash, results)
}

// finish runs the EndBlock hooks after the block's transactions (whose
// results are txResults) and assembles the block's result.
func (e *executor) finish(st Store, prevAppHash [32]byte, txResults []TxResult) (*BlockResult, error) {
	if err := e.endBlock(); err != nil {
		return nil, err
	}
	res := &BlockResult{TxResults: txResults}
	res.WriteSet = e.ov.WriteSet()
	res.Messages = e.msgs
	res.Events = e.events
	if e.valDirty {
		var err error
		if res.ValidatorUpdates, err = validatorDiff(st, e.ov); err != nil {
			return nil, err
		}
	}
	res.AppHash = AppHash(e.h.AppVersion, prevAppHash, res.WriteSet, res.Messages)
	res.AppVersionUpdate = e.switchTo
	return res, nil
}

// validatorDiff returns the validators whose power differs between before and
// after, sorted by public key (power 0 for removed ones).
func validatorDiff(before, after Store) ([]Validator, error) {
	old, err := GetValidators(before)
	if err != nil {
		return nil, err
	}
	cur, err := GetValidators(after)
	if err != nil {
		return nil, err
	}
	var out []Validator
	i, j := 0, 0
	for i < len(old) || j < len(cur) {
		switch {
		case j == len(cur) || (i < len(old) && cmpKey(old[i].PubKey, cur[j].PubKey) < 0):
			out = append(out, Validator{PubKey: old[i].PubKey, Power: 0})
			i++
		case i == len(old) || cmpKey(old[i].PubKey, cur[j].PubKey) > 0:
			out = append(out, cur[j])
			j++
		default:
			if old[i].Power != cur[j].Power {
				out = append(out, cur[j])
			}
			i++
			j++
		}
	}
	return out, nil
}

func cmpKey(a, b [32]byte) int {
	for k := range a {
		if a[k] != b[k] {
			if a[k] < b[k] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// PendingNonces tells CheckTx the next nonce of a sender after the
// transactions the mempool already holds. The ABCI app implements it; at
// Commit it should reset its tracker, because rechecks arrive in mempool
// order and rebuild it.
type PendingNonces interface {
	// Next returns the nonce the sender's next transaction must carry, and
	// false when the mempool holds none of the sender's transactions.
	Next(acct keys.PublicKey) (uint64, bool)
}

// CheckResult is CheckTx's verdict. Sender, Nonce, Weight and Fee are set
// whenever the transaction decoded (Weight and Fee once its call is known).
// MqOrigin and MqSequence are set when an mq.submit passes, so that the
// caller can track the origin's pending sequence (see PendingSequences).
type CheckResult struct {
	Code       uint32
	Log        string
	Sender     keys.PublicKey
	Nonce      uint64
	Weight     uint64
	Fee        scale.U128
	MqOrigin   []byte
	MqSequence uint64
}

// CheckTx decides whether the mempool should take raw, for inclusion at
// nextHeight. It applies every rule of block execution against committed
// state st, except that the nonce must equal the sender's next pending
// nonce (the account nonce when none is pending), an egress message's
// sequence must follow its origin's pending ones when pending also
// implements PendingSequences, and the call itself is dry-run on committed
// state: a call that would fail (insufficient balance, existential deposit,
// stale registration, …) is refused with the call's code. Funds that pending
// transactions would bring are not counted, and the registry's attestation
// check is left to block time (it needs the block time and is expensive).
// hashes answers committed block hashes (below nextHeight); nil is allowed.
func (m *Machine) CheckTx(st Store, nextHeight int64, raw []byte, pending PendingNonces, hashes BlockHashes) CheckResult {
	var cr CheckResult
	appVersion, err := m.AppVersion(st)
	if err != nil {
		cr.Code, cr.Log = CodeInternal, err.Error()
		return cr
	}
	p := m.static(raw, appVersion)
	if p.tx != nil {
		cr.Sender, cr.Nonce = p.tx.Body.Signer, p.tx.Body.Nonce
	}
	if p.code != CodeOK {
		cr.Code, cr.Log = p.code, p.log
		return cr
	}
	if m.cache != nil && m.cache.Contains(p.hash) {
		p.sigOK = true
	} else if p.sigOK = p.tx.Verify(); p.sigOK && m.cache != nil {
		m.cache.Add(p.hash)
	}
	e, err := m.newExecutor(st, Header{Height: nextHeight, AppVersion: appVersion, BlockHashes: hashes})
	if err != nil {
		cr.Code, cr.Log = CodeInternal, err.Error()
		return cr
	}
	rule := &nonceRule{pending: pending}
	rule.seqs, _ = pending.(PendingSequences)
	res, err := e.apply(&p, rule)
	if err != nil {
		cr.Code, cr.Log = CodeInternal, err.Error()
		return cr
	}
	cr.Code, cr.Log = res.Code, res.Log
	if res.Code == CodeOK && p.meth.Egress != nil {
		if origin, seq, ok := p.meth.Egress(p.tx.Body.Call.Args); ok {
			cr.MqOrigin, cr.MqSequence = origin, seq
		}
	}
	cr.Weight = TxBaseWeight + p.meth.CallWeight(p.tx.Body.Call.Args)
	cr.Fee, _ = computeFee(&e.params, len(raw), cr.Weight)
	return cr
}

// protoTxSize is the size a transaction adds to CometBFT's block Data
// (protobuf field tag, varint length, bytes), as CometBFT's
// ComputeProtoSizeForTxs counts it.
func protoTxSize(n int) int64 {
	l := 1
	for v := uint64(n); v >= 0x80; v >>= 7 {
		l++
	}
	return int64(1 + l + n)
}

// ProposalTxs chooses the transactions of a proposal (PrepareProposal): it
// executes txs in order and keeps those that are accepted and fit in
// maxBytes (counted as CometBFT counts them) and in MaxBlockWeight, dropping
// the rest. A store failure or an unsupported app version ends the list
// early (the kept prefix is still valid).
func (m *Machine) ProposalTxs(st Store, h Header, txs [][]byte, maxBytes int64) [][]byte {
	out, _, _, _ := m.propose(st, h, txs, maxBytes)
	return out
}

// ProposeBlock is ProposalTxs that also finishes the block: it returns the
// kept transactions and what ExecuteBlock(st, prevAppHash, h, kept) returns,
// computed in the same pass. A transaction dropped from a proposal left no
// effect (rejected transactions leave the block's state untouched), so the
// kept ones ran on exactly the states ExecuteBlock would give them. An error
// means the store failed or the app version is unsupported; the kept list is
// then still valid but there is no result.
func (m *Machine) ProposeBlock(st Store, prevAppHash [32]byte, h Header, txs [][]byte, maxBytes int64) ([][]byte, *BlockResult, error) {
	out, results, e, err := m.propose(st, h, txs, maxBytes)
	if err != nil {
		return out, nil, err
	}
	res, err := e.finish(st, prevAppHash, results)
	if err != nil {
		return out, nil, err
	}
	return out, res, nil
}

// propose runs ProposalTxs and returns the kept transactions, their results
// and the executor after them (nil with an error).
func (m *Machine) propose(st Store, h Header, txs [][]byte, maxBytes int64) ([][]byte, []TxResult, *executor, error) {
	e, err := m.newExecutor(st, h)
	if err != nil {
		return nil, nil, nil, err
	}
	ps := m.prepare(txs, h.AppVersion)
	out := make([][]byte, 0, len(txs))
	results := make([]TxResult, 0, len(txs))
	var size int64
	for i := range ps {
		sz := protoTxSize(len(ps[i].raw))
		if maxBytes >= 0 && size+sz > maxBytes {
			continue
		}
		res, err := e.apply(&ps[i], nil)
		if err != nil {
			return out, nil, nil, err
		}
		if Accepted(res.Code) {
			out = append(out, ps[i].raw)
			results = append(results, res)
			size += sz
		}
	}
	return out, results, e, nil
}

// CheckProposal decides ProcessProposal: it returns an error wrapping
// ErrInvalidProposal when any transaction would be rejected in this order
// (bad encoding, signature, genesis, nonce sequence, fee, expiry, size, or
// the block's total weight over MaxBlockWeight). Other errors are store
// failures or an unsupported app version.
func (m *Machine) CheckProposal(st Store, h Header, txs [][]byte) error {
	e, err := m.newExecutor(st, h)
	if err != nil {
		return err
	}
	ps := m.prepare(txs, h.AppVersion)
	for i := range ps {
		res, err := e.apply(&ps[i], nil)
		if err != nil {
			return err
		}
		if !Accepted(res.Code) {
			return fmt.Errorf("%w: tx %d (%x): %s: %s", ErrInvalidProposal, i, tx.Hash(ps[i].raw), CodeName(res.Code), res.Log)
		}
	}
	return nil
}
