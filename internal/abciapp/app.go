// Package abciapp is the thin ABCI 2.0 shell around Cella's pure state
// machine (internal/state). It translates CometBFT's calls into state-machine
// calls, keeps the block that FinalizeBlock computed until Commit persists it
// in one atomic batch, tracks mempool nonces per sender, and answers queries.
//
// CometBFT's local client creator serialises every ABCI call under one mutex;
// App keeps its own mutex as well so that it is safe with any client creator.
package abciapp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/tx"
)

// Version is the application's software version, reported by Info.
const Version = "0.1.0"

// App implements abci.Application for Cella.
type App struct {
	abci.BaseApplication

	mu      sync.Mutex
	m       *state.Machine
	genesis *state.Genesis
	db      *appdb.DB
	// st reads committed state for CheckTx and block execution through a
	// cache (queries read db).
	st      *readCache
	log     *slog.Logger
	metrics *metrics

	last appdb.Meta
	// version is the app version of the block after the last committed one
	// (state.KeyAppVersion, or the genesis's); pendingVersion the one the
	// pending block switches to (0: none), adopted at Commit.
	version, pendingVersion uint64
	// rs are the module tables this binary runs (modules.Runtimes unless
	// WithRuntimes).
	rs state.Runtimes
	// halted is closed when a block needs an app version this binary does
	// not support (haltErr says which); the node must stop.
	halted  chan struct{}
	haltErr error

	pending *appdb.BlockRecord // FinalizeBlock's result, persisted by Commit
	// pendingHash is the pending block's hash, persisted with it.
	pendingHash [32]byte
	// pendingTxs counts the pending block's transactions, for the log.
	pendingTxs int
	// ran is the last block executed by PrepareProposal or ProcessProposal,
	// which the next call on the same block reuses instead of running it
	// again (see executed).
	ran *executed

	// hashes serves committed block hashes to the state machine.
	hashes *blockHashes
	// verifier holds the attestation verifier the machine calls.
	verifier *verifierSlot

	// nonces is the next nonce the mempool expects from each sender that has
	// transactions waiting, and seqs the next egress sequence of each
	// message origin with messages waiting; both are rebuilt by CometBFT's
	// recheck after each Commit.
	nonces map[keys.PublicKey]uint64
	seqs   map[string]uint64
}

// Option configures an App.
type Option func(*App)

// WithAttestationVerifier sets the verifier of worker attestations (the node
// wires internal/tee's). Without one, every registration fails with
// state.CodeAttestationUnverifiable.
func WithAttestationVerifier(v state.AttestationVerifier) Option {
	return func(a *App) { a.verifier.set(v) }
}

// WithRuntimes makes the app run the module tables rs instead of
// modules.Runtimes (tests: a binary that lacks a newer app version).
func WithRuntimes(rs state.Runtimes) Option {
	return func(a *App) { a.rs = rs }
}

// New returns an App over db for the chain that g describes. It fails when
// the chain already runs an app version this binary does not support.
func New(g *state.Genesis, db *appdb.DB, log *slog.Logger, opts ...Option) (*App, error) {
	last, err := db.Meta()
	if err != nil {
		return nil, err
	}
	m, err := newMetrics()
	if err != nil {
		return nil, fmt.Errorf("app metrics: %w", err)
	}
	a := &App{
		genesis:  g,
		db:       db,
		st:       newReadCache(db),
		log:      log.With("component", "app"),
		metrics:  m,
		last:     last,
		verifier: &verifierSlot{},
		nonces:   make(map[keys.PublicKey]uint64),
		seqs:     make(map[string]uint64),
		rs:       modules.Runtimes(),
		halted:   make(chan struct{}),
	}
	if a.hashes, err = newBlockHashes(db, last.Height, a.log); err != nil {
		return nil, err
	}
	for _, o := range opts {
		o(a)
	}
	a.m, err = state.New(g, a.rs, state.WithSigCache(state.NewSigCache(1<<17)), state.WithAttestationVerifier(a.verifier))
	if err != nil {
		return nil, err
	}
	if a.version, err = a.m.AppVersion(db); err != nil {
		return nil, err
	}
	if !a.rs.Supports(a.version) {
		return nil, fmt.Errorf("the chain runs app version %d since an upgrade, this binary supports app versions %v: install a binary that supports app version %d", a.version, a.rs.Supported(), a.version)
	}
	return a, nil
}

// AppVersion returns the app version that the next block runs.
func (a *App) AppVersion() uint64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.version
}

// Halted is closed when a block switches the chain to an app version this
// binary does not support: the app refused to finalize it (CometBFT's
// consensus stops there) and the node should shut down; HaltErr says why.
func (a *App) Halted() <-chan struct{} { return a.halted }

// HaltErr returns why the app halted (a *state.UpgradeError), or nil.
func (a *App) HaltErr() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.haltErr
}

// SetAttestationVerifier replaces the attestation verifier. It is for
// wiring a verifier after the App is built (by node.Start, or a test); all
// nodes of a chain must verify alike, so set it before blocks with
// registrations execute.
func (a *App) SetAttestationVerifier(v state.AttestationVerifier) { a.verifier.set(v) }

// Machine returns the state machine the app runs.
func (a *App) Machine() *state.Machine { return a.m }

// Info reports the last committed height and AppHash, so that CometBFT
// replays exactly the blocks the app has not committed, and the app version
// of the next block (the one an upgrade switched to, once it happened).
func (a *App) Info(_ context.Context, _ *abci.RequestInfo) (*abci.ResponseInfo, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	res := &abci.ResponseInfo{
		Data:            "cella",
		Version:         Version,
		AppVersion:      a.version,
		LastBlockHeight: a.last.Height,
	}
	if a.last.Height > 0 {
		res.LastBlockAppHash = bytes.Clone(a.last.AppHash[:])
	}
	return res, nil
}

// InitChain checks that CometBFT's genesis matches the one the app was built
// with, writes the genesis state and returns AppHash_0.
func (a *App) InitChain(_ context.Context, req *abci.RequestInitChain) (*abci.ResponseInitChain, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.ChainId != a.genesis.ChainID {
		return nil, fmt.Errorf("init chain: chain id %q does not match the genesis file's %q", req.ChainId, a.genesis.ChainID)
	}
	if req.ConsensusParams != nil && req.ConsensusParams.Version != nil && req.ConsensusParams.Version.App != a.genesis.AppVersion {
		return nil, fmt.Errorf("init chain: consensus params app version %d, genesis says %d", req.ConsensusParams.Version.App, a.genesis.AppVersion)
	}
	ws, appHash, err := a.m.InitChain()
	if err != nil {
		return nil, fmt.Errorf("init chain: %w", err)
	}
	rec := &appdb.BlockRecord{Height: 0, WriteSet: ws, AppHash: appHash}
	if err := a.db.Commit(rec); err != nil {
		return nil, err
	}
	a.st.committed(ws)
	a.last = appdb.Meta{Height: 0, AppHash: appHash}
	a.log.Info("genesis state written", "chain_id", req.ChainId, "genesis_hash", fmt.Sprintf("%x", a.m.GenesisHash()), "app_hash", fmt.Sprintf("%x", appHash), "writes", len(ws))
	return &abci.ResponseInitChain{AppHash: appHash[:]}, nil
}

// mempoolView shows CheckTx the nonces and egress sequences of the
// transactions waiting in the mempool (state.PendingNonces and
// state.PendingSequences).
type mempoolView struct {
	nonces map[keys.PublicKey]uint64
	seqs   map[string]uint64
}

func (v mempoolView) Next(acct keys.PublicKey) (uint64, bool) {
	n, ok := v.nonces[acct]
	return n, ok
}

func (v mempoolView) NextSequence(origin []byte) (uint64, bool) {
	n, ok := v.seqs[string(origin)]
	return n, ok
}

// CheckTx validates a transaction for the mempool against committed state and
// the nonces (and egress sequences) of the transactions already waiting.
func (a *App) CheckTx(_ context.Context, req *abci.RequestCheckTx) (*abci.ResponseCheckTx, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	r := a.m.CheckTx(a.st, a.last.Height+1, req.Tx, mempoolView{a.nonces, a.seqs}, a.hashes)
	if r.Code != state.CodeOK {
		a.metrics.checkRejected.WithLabelValues(state.CodeName(r.Code)).Inc()
		return &abci.ResponseCheckTx{Code: r.Code, Codespace: "cella", Log: r.Log}, nil
	}
	a.nonces[r.Sender] = r.Nonce + 1
	if r.MqOrigin != nil {
		a.seqs[string(r.MqOrigin)] = r.MqSequence + 1
	}
	return &abci.ResponseCheckTx{
		Code:      state.CodeOK,
		GasWanted: int64(r.Weight),
	}, nil
}

func (a *App) header(height int64, t time.Time, proposer []byte) state.Header {
	return state.Header{Height: height, TimeUnixNano: t.UnixNano(), AppVersion: a.version, ProposerAddress: proposer, BlockHashes: a.hashes}
}

// executed is a block the app ran before deciding on it: PrepareProposal
// runs the proposal it builds, ProcessProposal the block it judges. The
// state machine is a pure function of the committed state, the header
// fields below and the transactions, so while all of them are equal the
// result stands, and ProcessProposal and FinalizeBlock take it instead of
// running the block a second and third time (on a proposing node the three
// calls see the same block).
type executed struct {
	base     appdb.Meta // the committed state it ran on
	height   int64
	timeNano int64
	proposer []byte
	txs      [][]byte
	// hash is the block's hash once ProcessProposal has seen the block;
	// FinalizeBlock takes only a result with the hash of its block.
	hash []byte
	res  *state.BlockResult
}

// matches reports whether x ran exactly this block on the current committed
// state.
func (x *executed) matches(base appdb.Meta, height int64, t time.Time, proposer []byte, txs [][]byte) bool {
	if x == nil || x.base != base || x.height != height || x.timeNano != t.UnixNano() || !bytes.Equal(x.proposer, proposer) || len(x.txs) != len(txs) {
		return false
	}
	for i := range txs {
		if !bytes.Equal(x.txs[i], txs[i]) {
			return false
		}
	}
	return true
}

// PrepareProposal drops transactions that are invalid by now or do not fit
// the block's byte and weight limits. It runs the proposal to its end
// (state.Machine.ProposeBlock) and keeps the result for ProcessProposal.
func (a *App) PrepareProposal(_ context.Context, req *abci.RequestPrepareProposal) (*abci.ResponsePrepareProposal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.header(req.Height, req.Time, req.ProposerAddress)
	txs, res, err := a.m.ProposeBlock(a.st, a.last.AppHash, h, req.Txs, req.MaxTxBytes)
	a.ran = nil
	if err == nil {
		a.ran = &executed{base: a.last, height: req.Height, timeNano: req.Time.UnixNano(), proposer: bytes.Clone(req.ProposerAddress), txs: txs, res: res}
	}
	return &abci.ResponsePrepareProposal{Txs: txs}, nil
}

// ProcessProposal rejects a block that contains any invalid or over-limit
// transaction; an honest proposer never builds one. It keeps the block's
// result for FinalizeBlock, and takes PrepareProposal's when this node
// built the block.
func (a *App) ProcessProposal(_ context.Context, req *abci.RequestProcessProposal) (*abci.ResponseProcessProposal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.ran.matches(a.last, req.Height, req.Time, req.ProposerAddress, req.Txs) && (a.ran.hash == nil || bytes.Equal(a.ran.hash, req.Hash)) {
		// PrepareProposal kept only accepted transactions.
		a.ran.hash = bytes.Clone(req.Hash)
		a.metrics.blocksReused.Inc()
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
	}
	a.ran = nil
	h := a.header(req.Height, req.Time, req.ProposerAddress)
	res, err := a.m.ExecuteBlock(a.st, a.last.AppHash, h, req.Txs)
	var ue *state.UpgradeError
	if errors.As(err, &ue) {
		// The block switches the chain to an app version this binary
		// lacks: judge its transactions alone and let FinalizeBlock stop
		// the node, rather than vote against every block at this height
		// (a lone validator would never reach FinalizeBlock).
		if err = a.m.CheckProposal(a.st, h, req.Txs); err != nil {
			a.log.Warn("rejecting proposal", "height", req.Height, "err", err)
			a.metrics.proposalsRejected.Inc()
			return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
		}
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
	}
	if err == nil {
		for i, r := range res.TxResults {
			if !state.Accepted(r.Code) {
				err = fmt.Errorf("%w: tx %d (%x): %s: %s", state.ErrInvalidProposal, i, tx.Hash(req.Txs[i]), state.CodeName(r.Code), r.Log)
				break
			}
		}
	}
	if err != nil {
		a.log.Warn("rejecting proposal", "height", req.Height, "err", err)
		a.metrics.proposalsRejected.Inc()
		return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_REJECT}, nil
	}
	a.ran = &executed{base: a.last, height: req.Height, timeNano: req.Time.UnixNano(), proposer: bytes.Clone(req.ProposerAddress),
		txs: req.Txs, hash: bytes.Clone(req.Hash), res: res}
	return &abci.ResponseProcessProposal{Status: abci.ResponseProcessProposal_ACCEPT}, nil
}

// FinalizeBlock executes the decided block on top of committed state. It
// writes nothing to disk: the result waits in memory for Commit. A block
// that switches app versions returns the consensus-param update
// Version.App, so that CometBFT gives the next header the new version. A
// block that needs an app version this binary does not support is refused
// with an error (CometBFT's consensus stops at it, nothing is committed) and
// Halted is closed; a binary that supports it executes the block again
// after a restart.
func (a *App) FinalizeBlock(_ context.Context, req *abci.RequestFinalizeBlock) (*abci.ResponseFinalizeBlock, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if req.Height != a.last.Height+1 {
		return nil, fmt.Errorf("finalize block: height %d, but the last committed block is %d", req.Height, a.last.Height)
	}
	if len(req.Hash) != 32 {
		return nil, fmt.Errorf("finalize block %d: block hash of %d bytes, want 32", req.Height, len(req.Hash))
	}
	start := time.Now()
	var res *state.BlockResult
	if a.ran.matches(a.last, req.Height, req.Time, req.ProposerAddress, req.Txs) && a.ran.hash != nil && bytes.Equal(a.ran.hash, req.Hash) {
		res = a.ran.res
		a.metrics.blocksReused.Inc()
	} else {
		h := a.header(req.Height, req.Time, req.ProposerAddress)
		var err error
		res, err = a.m.ExecuteBlock(a.st, a.last.AppHash, h, req.Txs)
		var ue *state.UpgradeError
		if errors.As(err, &ue) {
			a.log.Error("UPGRADE NEEDED: this node stops here", "height", ue.Height, "app_version", ue.To, "running", ue.From, "supported", fmt.Sprint(ue.Supported),
				"action", fmt.Sprintf("install a binary that supports app version %d and restart the node", ue.To))
			if a.haltErr == nil {
				a.haltErr = err
				close(a.halted)
			}
		}
		if err != nil {
			return nil, fmt.Errorf("finalize block %d: %w", req.Height, err)
		}
	}
	a.ran = nil
	a.metrics.blockSeconds.Observe(time.Since(start).Seconds())
	a.pending = &appdb.BlockRecord{Height: req.Height, WriteSet: res.WriteSet, Messages: res.Messages, AppHash: res.AppHash}
	a.pendingHash = [32]byte(req.Hash)
	a.pendingTxs = len(req.Txs)

	out := &abci.ResponseFinalizeBlock{AppHash: res.AppHash[:], TxResults: make([]*abci.ExecTxResult, len(res.TxResults))}
	for i, r := range res.TxResults {
		out.TxResults[i] = execResult(r)
		a.metrics.txs.WithLabelValues(state.CodeName(r.Code)).Inc()
	}
	for _, v := range res.ValidatorUpdates {
		out.ValidatorUpdates = append(out.ValidatorUpdates, abci.Ed25519ValidatorUpdate(v.PubKey[:], v.Power))
	}
	out.Events = execResult(state.TxResult{Events: res.Events}).Events // EndBlock's (governance)
	a.pendingVersion = res.AppVersionUpdate
	if v := res.AppVersionUpdate; v != 0 {
		out.ConsensusParamUpdates = &cmtproto.ConsensusParams{Version: &cmtproto.VersionParams{App: v}}
		a.log.Info("app version upgrade", "height", req.Height, "from", a.version, "to", v, "first_block_of_new_version", req.Height+1)
	}
	return out, nil
}

// TxEventType and TxSignerKey name the event every accepted transaction
// carries last in its ExecTxResult: tx.signer = the signer's public key as
// lowercase 0x hex (64 digits), indexed, so that CometBFT's tx_search finds
// an account's transactions with the query tx.signer='0x…'. Hex rather than
// SS58, because it does not depend on the chain's address prefix. Events are
// not part of CometBFT's LastResultsHash (code, data, gas_wanted, gas_used),
// so this changes nothing in consensus.
const (
	TxEventType = "tx"
	TxSignerKey = "signer"
)

func execResult(r state.TxResult) *abci.ExecTxResult {
	n := len(r.Events)
	if r.Signer != nil {
		n++
	}
	ev := make([]abci.Event, 0, n)
	for _, e := range r.Events {
		attrs := make([]abci.EventAttribute, len(e.Attributes))
		for j, at := range e.Attributes {
			// Only the attributes a module marks for indexing go into
			// CometBFT's tx index (one key each per transaction there).
			attrs[j] = abci.EventAttribute{Key: at.Key, Value: at.Value, Index: at.Index}
		}
		ev = append(ev, abci.Event{Type: e.Type, Attributes: attrs})
	}
	if r.Signer != nil {
		// Last, after the call's own events, so that readers that take
		// the first event as the call's keep doing so.
		ev = append(ev, abci.Event{Type: TxEventType, Attributes: []abci.EventAttribute{{Key: TxSignerKey, Value: r.Signer.Hex(), Index: true}}})
	}
	return &abci.ExecTxResult{
		Code:      r.Code,
		Codespace: codespace(r.Code),
		Log:       r.Log,
		Data:      r.Data,
		GasUsed:   int64(r.Weight),
		Events:    ev,
	}
}

func codespace(code uint32) string {
	if code == state.CodeOK {
		return ""
	}
	return "cella"
}

// Commit persists the pending block (and its hash, a side record for the
// BlockHashes oracle) in one atomic batch and resets the mempool nonce and
// sequence views, which CometBFT's recheck then rebuilds.
func (a *App) Commit(_ context.Context, _ *abci.RequestCommit) (*abci.ResponseCommit, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		return nil, errors.New("commit: no finalized block to commit")
	}
	if err := a.db.CommitBlock(a.pending, a.pendingHash); err != nil {
		return nil, err
	}
	a.st.committed(a.pending.WriteSet)
	a.hashes.committed(a.pending.Height, a.pendingHash)
	a.last = appdb.Meta{Height: a.pending.Height, AppHash: a.pending.AppHash}
	if a.pendingVersion != 0 {
		a.version, a.pendingVersion = a.pendingVersion, 0
	}
	if a.pendingTxs > 0 || a.last.Height%1000 == 0 {
		a.log.Info("block committed", "height", a.last.Height, "txs", a.pendingTxs, "writes", len(a.pending.WriteSet), "app_hash", fmt.Sprintf("%X", a.last.AppHash[:8]))
	}
	a.pending = nil
	clear(a.nonces)
	clear(a.seqs)
	a.metrics.height.Set(float64(a.last.Height))
	return &abci.ResponseCommit{}, nil
}
