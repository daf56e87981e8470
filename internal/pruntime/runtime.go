package pruntime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/worker"
	"github.com/cella-network/cella/internal/worker/chainview"
	"github.com/cella-network/cella/internal/worker/contracts"
)

// Version is pRuntime's software version, part of its registration.
var Version = [3]uint32{0, 1, 0}

// MaxAppVersion is the highest state-machine version this pRuntime
// understands; it stops cleanly at a header with a newer one. pRuntime
// replays no transactions: it reads the verified state (registry,
// gatekeepers, clusters, message queue) and the blocks' messages, whose
// layout AppVersion2 keeps from AppVersion1 (it adds gov.cancel_upgrade
// and gov's upgrade history, which the worker does not read), and hashes
// each block under the app version its header carries.
const MaxAppVersion = state.AppVersion2

// DefaultCheckpointInterval is how many blocks pass between sealed checkpoints.
const DefaultCheckpointInterval = 1000

// Errors of the runtime's API.
var (
	// ErrNotInitialized means Init has not been called yet.
	ErrNotInitialized = errors.New("pruntime: not initialised")
	// ErrOtherGenesis means Init was called with a genesis other than the one
	// this pRuntime is bound to.
	ErrOtherGenesis = errors.New("pruntime: bound to another genesis")
	// ErrStopped means the chain moved to an app version this pRuntime does
	// not understand; it verifies nothing more until it is upgraded.
	ErrStopped = errors.New("pruntime: stopped at a newer app version")
	// ErrKeysNotSealed means the worker core learned a key that is not
	// sealed yet (the checkpoint failed): no egress leaves until it is.
	ErrKeysNotSealed = errors.New("pruntime: new keys not sealed yet; egress held back")
)

// Config configures a Runtime.
type Config struct {
	// DataDir holds the sealed keys and checkpoints.
	DataDir string
	// TEE seals data and makes attestations.
	TEE tee.Provider
	// CheckpointInterval is the number of blocks between checkpoints
	// (DefaultCheckpointInterval when 0).
	CheckpointInterval int64
	// Log receives the runtime's structured logs.
	Log *slog.Logger
	// Operator is the account that operates the worker: its registration
	// names it (and the attestation covers it). It is bound to the data
	// folder at Init; a later start with another is refused. Zero: none
	// configured (the folder's bound operator, if any, is used).
	Operator keys.PublicKey
	// GenesisHash, when not zero, pins the chain: Init refuses any other
	// genesis.
	GenesisHash [32]byte
	// ChainView builds the worker core's view of the gatekeeper, cluster
	// and registry state from a block's verified state (chainview.New, the
	// chain modules' records, when nil).
	ChainView func(state.Store) worker.ChainView
	// Verifier checks other workers' attestations before a gatekeeper
	// sends them a key (DefaultAttestationVerifier when nil).
	Verifier worker.AttestationVerifier
	// Entropy generates a gatekeeper's master key (crypto/rand when nil).
	Entropy io.Reader
	// QueryExecutor runs contract queries read-only (when nil: a query
	// engine over the worker core's cluster state, made at the first
	// query).
	QueryExecutor QueryExecutor
	// QueryTimeout is the wall-clock backstop of one query
	// (DefaultQueryTimeout when 0).
	QueryTimeout time.Duration
	// Contracts runs the Phat contracts of the worker's clusters (a
	// transaction-mode wasm engine, contracts.New, when nil; the runtime
	// then closes it on Close).
	Contracts worker.ContractRuntime
	// Pink configures the pink extension's off-chain services (outbound
	// HTTP, cache, logs) of the contract runtime Open creates; ignored
	// when Contracts is given.
	Pink PinkConfig
	// PublicURL is the URL clients reach the worker's public API at, as
	// the operator configured it (empty: none). Once registered the worker
	// records it in the chain's registry (a signed worker/endpoint
	// message), where clients find the workers of a cluster.
	PublicURL string
}

// Runtime is one pRuntime: the shell around the pure worker core
// (internal/worker). It owns the TEE, the sealed files and the lock; it
// verifies and applies batches with chainsync and steps the core with each
// applied block. Its methods are safe for concurrent use.
type Runtime struct {
	mu  sync.Mutex
	cfg Config
	log *slog.Logger

	keys       *workerKeys
	sync       *chainsync.Syncer
	core       *worker.Core
	stopped    error
	checkpoint int64 // height of the last checkpoint written
	operator   keys.PublicKey
	// unsealed: the core learned a key since the last checkpoint; egress
	// is held back until a checkpoint seals it.
	unsealed bool

	// Queries (query.go): set at Open, never changed; own is the
	// runtime's own executor when the config names none.
	exec  QueryExecutor
	own   *coreQueries
	certs *phatwire.VerifyCache
	// qmu: queries reading the core's cluster state hold it for reading,
	// Sync for writing (taken before mu).
	qmu sync.RWMutex
	// lastBlockTime is the time of the last stepped block (0 after a
	// restart until the next block), the block context of queries.
	lastBlockTime int64
	// ownRT is the contract engine Open created (closed by Close).
	ownRT *contracts.Runtime
	// logs holds the contracts' log lines (ContractLogs); nil: none kept.
	logs LogSource
	// pink is the pink services of ownRT (nil with a given runtime).
	pink *pinkState
}

// Open starts a pRuntime on cfg.DataDir. When the folder holds sealed keys
// and a checkpoint from an earlier run, it restores them: the pRuntime then
// resumes from the checkpoint's height, and pherry resyncs from there.
func Open(cfg Config) (*Runtime, error) {
	if cfg.TEE == nil {
		return nil, errors.New("pruntime: no TEE provider")
	}
	if cfg.PublicURL != "" {
		if err := msg.ValidEndpoint(cfg.PublicURL); err != nil {
			return nil, fmt.Errorf("pruntime: public URL: %w", err)
		}
	}
	if cfg.CheckpointInterval <= 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.ChainView == nil {
		cfg.ChainView = chainview.New
	}
	if cfg.Verifier == nil {
		cfg.Verifier = DefaultAttestationVerifier{}
	}
	if cfg.Entropy == nil {
		cfg.Entropy = rand.Reader
	}
	var ownRT *contracts.Runtime
	if cfg.Contracts == nil {
		rt, err := contracts.New(context.Background(), engine.Config{})
		if err != nil {
			return nil, fmt.Errorf("pruntime: contract engine: %w", err)
		}
		cfg.Contracts, ownRT = rt, rt
	}
	r, err := open(cfg, ownRT)
	if err != nil && ownRT != nil {
		_ = ownRT.Close(context.Background())
	}
	return r, err
}

func open(cfg Config, ownRT *contracts.Runtime) (*Runtime, error) {
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return nil, fmt.Errorf("pruntime: data dir: %w", err)
	}
	r := &Runtime{cfg: cfg, log: cfg.Log.With("component", "pruntime"), ownRT: ownRT,
		exec: cfg.QueryExecutor, certs: phatwire.NewVerifyCache(QueryCertificateCacheSize)}
	if ownRT != nil {
		p, err := newPink(cfg.Pink)
		if err != nil {
			return nil, err
		}
		p.svc.Log = r.log
		ownRT.SetServices(p.svc)
		r.pink, r.logs = p, p
	}
	if r.exec == nil {
		r.own = &coreQueries{r: r}
		r.exec = r.own
	}
	gh, ok, err := r.readGenesisHash()
	if err != nil || !ok {
		return r, err
	}
	if err := r.checkGenesisPin(gh); err != nil {
		return nil, err
	}
	if err := r.restore(gh); err != nil {
		return nil, err
	}
	if err := r.bindOperator(gh, false); err != nil {
		return nil, err
	}
	return r, nil
}

// Init binds a fresh pRuntime to a chain: it checks the genesis against the
// height-0 record (the genesis write-set must hash to AppHash_0, which the
// first verified header must then carry), makes the worker's keys, and seals
// them with a first checkpoint. Calling it again with the same genesis is a
// no-op; with another, an error.
func (r *Runtime) Init(g *state.Genesis, rec *state.BlockRecord) ([32]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	gh := g.Hash()
	if err := r.checkGenesisPin(gh); err != nil {
		return [32]byte{}, err
	}
	if r.sync != nil {
		if r.sync.GenesisHash() != gh {
			return [32]byte{}, fmt.Errorf("%w: %x, not %x", ErrOtherGenesis, r.sync.GenesisHash(), gh)
		}
		return gh, nil
	}
	s, err := chainsync.New(g, gh, rec, MaxAppVersion)
	if err != nil {
		return [32]byte{}, err
	}
	if err := tee.BindGenesis(r.cfg.TEE, gh); err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", errInternal, err)
	}
	k, err := newWorkerKeys()
	if err != nil {
		return [32]byte{}, err
	}
	if err := r.writeSealed(keysFile, gh, k.encode()); err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", errInternal, err)
	}
	if err := r.bindOperator(gh, true); err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", errInternal, err)
	}
	core, err := worker.NewWithOptions(k.core(), s.Height(), r.coreOptions())
	if err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", errInternal, err)
	}
	r.keys, r.sync, r.core = k, s, core
	r.setPinkWorker()
	if err := r.writeCheckpoint(); err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", errInternal, err)
	}
	if err := r.writeGenesisHash(gh); err != nil {
		return [32]byte{}, fmt.Errorf("%w: %w", errInternal, err)
	}
	r.log.Info("initialised", "chain_id", g.ChainID, "genesis_hash", fmt.Sprintf("0x%x", gh),
		"identity", keys.EncodeSS58(k.identity.Public(), g.App.Params.SS58Prefix))
	return gh, nil
}

// Sync verifies one batch and applies the blocks it confirms; see
// chainsync.Syncer.SyncBatch. The worker core is stepped with each applied
// block in order, and a checkpoint is sealed when one is due.
func (r *Runtime) Sync(b chainsync.Batch) error {
	r.qmu.Lock()
	defer r.qmu.Unlock()
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sync == nil {
		return ErrNotInitialized
	}
	if r.stopped != nil {
		return r.stopped
	}
	if err := r.sync.SyncBatch(b); err != nil {
		if errors.Is(err, chainsync.ErrNewerAppVersion) {
			r.stopped = fmt.Errorf("%w: %w", ErrStopped, err)
			r.log.Error("chain moved to a newer app version; this pRuntime stops verifying", "err", err)
		}
		return err
	}
	for _, blk := range r.sync.DrainBlocks() {
		r.lastBlockTime = blk.TimeUnixNano
		rd, err := r.core.Step(worker.Block{Height: blk.Height, TimeUnixNano: blk.TimeUnixNano, AppVersion: blk.AppVersion, Messages: blk.Messages, State: blk.State})
		if err != nil {
			// The chain state moved on without the core: stop, so that
			// nothing diverging is signed; a restart resumes from the
			// last checkpoint, where both agree.
			r.stopped = fmt.Errorf("%w: worker core at block %d: %w", errInternal, blk.Height, err)
			r.log.Error("worker core failed; this pRuntime stops until restarted", "height", blk.Height, "err", err)
			return r.stopped
		}
		for _, c := range rd.Changes {
			r.logChange(c)
			if c.Kind == worker.ChangeKeys {
				r.unsealed = true
			}
		}
		if len(rd.Egress) > 0 {
			r.log.Debug("egress", "height", blk.Height, "messages", len(rd.Egress))
		}
		if r.pink != nil && r.pink.devRoot && !r.core.DevChain() {
			r.stopped = fmt.Errorf("%w: %w", ErrStopped, ErrDevRootOnProductionChain)
			r.log.Error("refusing to run: an extra root CA was given on a chain without dev attestations", "height", blk.Height)
			return r.stopped
		}
	}
	// A new key is sealed before any egress of its step can leave: Egress
	// refuses while r.unsealed, and it is cleared only by a checkpoint.
	if h := r.sync.Height(); r.unsealed || h-r.checkpoint >= r.cfg.CheckpointInterval {
		if err := r.writeCheckpoint(); err != nil {
			return fmt.Errorf("%w: %w", errInternal, err)
		}
	}
	return nil
}

// SetPublicURL sets the worker's public API URL (Config.PublicURL) after
// Open, for a shell that binds its listener first (an address chosen at
// bind time). It is recorded on chain from the next block on.
func (r *Runtime) SetPublicURL(u string) error {
	if u != "" {
		if err := msg.ValidEndpoint(u); err != nil {
			return fmt.Errorf("pruntime: public URL: %w", err)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cfg.PublicURL = u
	if r.core != nil {
		r.core.SetPublicURL(u)
	}
	return nil
}

// coreOptions are the worker core's options from the config.
func (r *Runtime) coreOptions() worker.Options {
	return worker.Options{View: r.cfg.ChainView, Verifier: r.cfg.Verifier, Entropy: r.cfg.Entropy, Contracts: r.cfg.Contracts, PublicURL: r.cfg.PublicURL}
}

// logChange logs a change of the worker core. Changes carry no secret.
func (r *Runtime) logChange(c worker.Change) {
	attrs := []any{"change", c.Kind.String(), "height", c.Height}
	if c.Subject != (keys.PublicKey{}) {
		attrs = append(attrs, "worker", c.Subject.Hex())
	}
	if c.Cluster != ([32]byte{}) {
		attrs = append(attrs, "cluster", fmt.Sprintf("0x%x", c.Cluster))
	}
	switch c.Kind {
	case worker.ChangeClusterState:
		r.log.Debug("worker core", append(attrs, "root", fmt.Sprintf("0x%x", c.Root))...)
	case worker.ChangeKeyRefused, worker.ChangeShareRejected:
		r.log.Warn("worker core", append(attrs, "detail", c.Detail)...)
	default:
		r.log.Info("worker core", attrs...)
	}
}

// Info describes the runtime, for operators and clients.
type Info struct {
	Initialized  bool
	Registered   bool
	Height       int64 // last applied block
	HeaderHeight int64 // last verified header
	// HeaderRecord: the block record of HeaderHeight is held, waiting
	// for the next header (chainsync.Syncer.HasPending).
	HeaderRecord      bool
	AppHash           [32]byte
	GenesisHash       [32]byte
	ChainID           string
	IdentityPublicKey keys.PublicKey
	EcdhPublicKey     keys.PublicKey
	TEEKind           string
	// EgressPending counts the messages of every egress stream (the
	// worker's own and its clusters') the chain has not accepted yet.
	EgressPending int
	Stopped       bool
	// Measurement is the hash of the TEE's measurement (what allow-lists hold).
	Measurement string
	// Gatekeeper: the worker is in the chain's gatekeeper set.
	Gatekeeper bool
	// MasterPublicKey is the master key's public key, when the worker
	// holds the master key (HasMaster).
	MasterPublicKey keys.PublicKey
	HasMaster       bool
	// Clusters are the clusters whose key the worker holds.
	Clusters []ClusterInfo
}

// ClusterInfo names a cluster whose key the worker holds: public parts only.
type ClusterInfo struct {
	ID     [32]byte
	Epoch  uint32
	Pubkey keys.PublicKey
	// StateRoot is the cluster's contract state root after the last
	// block (worker.Core.ClusterRoot: the root of the empty state before
	// the first execution), the one the worker reports to the chain, and
	// Contracts the number of its contracts.
	StateRoot [32]byte
	Contracts int
}

// Info returns the runtime's current state.
func (r *Runtime) Info() Info {
	r.mu.Lock()
	defer r.mu.Unlock()
	in := Info{TEEKind: string(r.cfg.TEE.Kind()), Stopped: r.stopped != nil}
	if m, err := r.cfg.TEE.Measurement(); err == nil {
		h := m.Hash()
		in.Measurement = fmt.Sprintf("0x%x", h)
	}
	if r.sync == nil {
		return in
	}
	in.Initialized = true
	in.Height = r.sync.Height()
	in.HeaderHeight = r.sync.VerifiedHeight()
	in.HeaderRecord = r.sync.HasPending()
	in.AppHash = r.sync.AppHash()
	in.GenesisHash = r.sync.GenesisHash()
	in.ChainID = r.sync.ChainID()
	in.IdentityPublicKey = r.keys.identity.Public()
	in.EcdhPublicKey = r.keys.ecdh.Public()
	in.Registered = r.core.Registered(r.sync.Store())
	if streams, err := r.core.PendingAll(r.sync.Store()); err == nil {
		for _, e := range streams {
			in.EgressPending += len(e.Messages)
		}
	}
	ki := r.core.KeyInfo(r.sync.Store())
	in.Gatekeeper, in.HasMaster = ki.Gatekeeper, ki.HasMaster
	if ki.HasMaster {
		in.MasterPublicKey = ki.MasterPublicKey
	}
	states := map[[32]byte]worker.ClusterState{}
	for _, s := range r.core.ClusterStates() {
		states[s.ID] = s
	}
	for _, c := range ki.Clusters {
		s := states[c.ID]
		in.Clusters = append(in.Clusters, ClusterInfo{ID: c.ID, Epoch: c.Epoch, Pubkey: c.Pubkey, StateRoot: r.core.ClusterRoot(c.ID), Contracts: s.Contracts})
	}
	return in
}

// Files in DataDir.
const (
	keysFile         = "keys.sealed"
	genesisHashFile  = "genesis-hash"
	checkpointPrefix = "checkpoint-"
	checkpointSuffix = ".sealed"
	keepCheckpoints  = 2
)

const sealDomain = "cella/pruntime/seal/v1"

// aad binds sealed data to its purpose and to the chain.
func aad(purpose string, gh [32]byte) []byte {
	return append([]byte(sealDomain+"/"+purpose+"/"), gh[:]...)
}

func (r *Runtime) path(name string) string { return filepath.Join(r.cfg.DataDir, name) }

func (r *Runtime) writeSealed(name string, gh [32]byte, plain []byte) error {
	sealed, err := r.cfg.TEE.Seal(plain, aad(name, gh))
	if err != nil {
		return fmt.Errorf("pruntime: seal %s: %w", name, err)
	}
	return writeFileAtomic(r.path(name), sealed)
}

func (r *Runtime) readSealed(name string, gh [32]byte) ([]byte, error) {
	b, err := os.ReadFile(r.path(name))
	if err != nil {
		return nil, err
	}
	plain, err := r.cfg.TEE.Unseal(b, aad(name, gh))
	if err != nil {
		return nil, fmt.Errorf("pruntime: unseal %s: %w", name, err)
	}
	return plain, nil
}

func (r *Runtime) writeGenesisHash(gh [32]byte) error {
	return writeFileAtomic(r.path(genesisHashFile), []byte(fmt.Sprintf("%x\n", gh)))
}

func (r *Runtime) readGenesisHash() ([32]byte, bool, error) {
	var gh [32]byte
	b, err := os.ReadFile(r.path(genesisHashFile))
	if errors.Is(err, os.ErrNotExist) {
		return gh, false, nil
	}
	if err != nil {
		return gh, false, err
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(raw) != 32 {
		return gh, false, fmt.Errorf("pruntime: %s does not hold a 32-byte hex hash", r.path(genesisHashFile))
	}
	copy(gh[:], raw)
	return gh, true, nil
}

// writeCheckpoint seals the verified state and the worker core's state
// (see checkpoint.go), then removes all but the newest checkpoints.
func (r *Runtime) writeCheckpoint() error {
	if ch, wh := r.sync.Height(), r.core.Height(); ch != wh {
		// Only after a failed step: never seal a state the core missed.
		return fmt.Errorf("pruntime: no checkpoint: chain state at %d, worker core at %d", ch, wh)
	}
	plain := encodeCheckpoint([]section{
		{sectionChain, r.sync.Snapshot()},
		{sectionWorker, r.core.Snapshot()},
		{sectionKeys, r.core.KeysSnapshot()},
		{sectionClusters, r.core.ClustersSnapshot()},
	})
	defer clear(plain)
	h := r.sync.Height()
	name := fmt.Sprintf("%s%016d%s", checkpointPrefix, h, checkpointSuffix)
	sealed, err := r.cfg.TEE.Seal(plain, aad(checkpointPurpose, r.sync.GenesisHash()))
	if err != nil {
		return fmt.Errorf("pruntime: seal checkpoint: %w", err)
	}
	if err := writeFileAtomic(r.path(name), sealed); err != nil {
		return fmt.Errorf("pruntime: checkpoint: %w", err)
	}
	r.checkpoint, r.unsealed = h, false
	olds, err := r.checkpoints()
	if err != nil {
		return err
	}
	for i := 0; i+keepCheckpoints < len(olds); i++ {
		_ = os.Remove(r.path(olds[i].name))
	}
	r.log.Debug("checkpoint sealed", "height", h)
	return nil
}

// checkpointPurpose is the AAD purpose of checkpoints.
const checkpointPurpose = "checkpoint"

type checkpointFile struct {
	name   string
	height int64
}

// checkpoints lists the checkpoint files, oldest first.
func (r *Runtime) checkpoints() ([]checkpointFile, error) {
	ents, err := os.ReadDir(r.cfg.DataDir)
	if err != nil {
		return nil, err
	}
	var out []checkpointFile
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, checkpointPrefix) || !strings.HasSuffix(n, checkpointSuffix) {
			continue
		}
		h, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(n, checkpointPrefix), checkpointSuffix), 10, 64)
		if err != nil {
			continue
		}
		out = append(out, checkpointFile{n, h})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].height < out[j].height })
	return out, nil
}

// restore unseals the keys and the newest checkpoint that opens.
func (r *Runtime) restore(gh [32]byte) error {
	if err := tee.BindGenesis(r.cfg.TEE, gh); err != nil {
		return err
	}
	kb, err := r.readSealed(keysFile, gh)
	if err != nil {
		return err
	}
	k, err := decodeKeys(kb)
	if err != nil {
		return err
	}
	cps, err := r.checkpoints()
	if err != nil {
		return err
	}
	var lastErr error
	for i := len(cps) - 1; i >= 0; i-- {
		if err := r.restoreCheckpoint(cps[i], gh, k); err != nil {
			lastErr = err
			r.log.Warn("checkpoint does not restore; trying an older one", "file", cps[i].name, "err", err)
			continue
		}
		// Set the unusable newer ones aside, so that they never count
		// among the checkpoints kept.
		for _, bad := range cps[i+1:] {
			_ = os.Rename(r.path(bad.name), r.path(bad.name+".corrupt"))
		}
		r.log.Info("restored from checkpoint", "height", cps[i].height,
			"identity", keys.EncodeSS58(k.identity.Public(), keys.DefaultSS58Prefix))
		return nil
	}
	if lastErr == nil {
		lastErr = errors.New("no checkpoint")
	}
	return fmt.Errorf("pruntime: cannot restore: %w", lastErr)
}

func (r *Runtime) restoreCheckpoint(cp checkpointFile, gh [32]byte, k *workerKeys) error {
	b, err := os.ReadFile(r.path(cp.name))
	if err != nil {
		return err
	}
	plain, err := r.cfg.TEE.Unseal(b, aad(checkpointPurpose, gh))
	if err != nil {
		return err
	}
	dec, err := decodeCheckpoint(plain)
	if err != nil {
		return err
	}
	s, err := chainsync.Restore(dec.chain, gh, MaxAppVersion)
	if err != nil {
		return err
	}
	if s.QueuedBlocks() != 0 {
		// Checkpoints are written after every applied block was stepped.
		return fmt.Errorf("%w: %d applied blocks not stepped", errCheckpointFormat, s.QueuedBlocks())
	}
	var core *worker.Core
	if dec.v1Egress != nil {
		core, err = worker.FromStateWith(k.core(), r.coreOptions(), dec.v1Egress.workerState(k.identity.Public(), s.Height()), nil)
	} else {
		core, err = worker.RestoreWith(k.core(), r.coreOptions(), dec.worker, dec.keys)
		if err == nil && dec.clusters != nil {
			err = core.RestoreClusters(dec.clusters)
		}
	}
	if err != nil {
		return err
	}
	if core.Height() != s.Height() {
		return fmt.Errorf("%w: worker core at height %d, chain state at %d", errCheckpointFormat, core.Height(), s.Height())
	}
	r.keys, r.sync, r.core, r.checkpoint = k, s, core, s.Height()
	r.setPinkWorker()
	return nil
}

// setPinkWorker gives the pink services the worker's keys.
func (r *Runtime) setPinkWorker() {
	if r.pink != nil && r.keys != nil {
		r.pink.setWorker(r.cfg.TEE, r.keys.identity.Public(), r.keys.ecdh.Public())
	}
}

// writeFileAtomic writes b to path through a synced temporary file and a rename.
func writeFileAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// Egress returns the signed messages the chain has not accepted yet, in
// sequence order, and the next sequence the chain expects (read from the
// verified state).
func (r *Runtime) Egress() ([]msg.SignedMessage, uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sync == nil {
		return nil, 0, ErrNotInitialized
	}
	if r.unsealed {
		return nil, 0, ErrKeysNotSealed
	}
	return r.core.Pending(r.sync.Store())
}

// EgressAll returns, for every egress stream (the worker's own and each
// cluster's it holds the key of), the messages the chain has not accepted
// yet and the next sequence it expects. Like Egress, it refuses while a
// new key is not sealed.
func (r *Runtime) EgressAll() ([]worker.Egress, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sync == nil {
		return nil, ErrNotInitialized
	}
	if r.unsealed {
		return nil, ErrKeysNotSealed
	}
	return r.core.PendingAll(r.sync.Store())
}

// Registration returns the worker's registration info for its configured
// operator, bound to the last verified block for freshness, and an
// attestation over it.
func (r *Runtime) Registration() (msg.RegistrationInfo, msg.Attestation, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sync == nil {
		return msg.RegistrationInfo{}, msg.Attestation{}, ErrNotInitialized
	}
	operator := r.operator
	if operator == (keys.PublicKey{}) {
		return msg.RegistrationInfo{}, msg.Attestation{}, ErrNoOperator
	}
	lc := r.sync.LightClient()
	info := msg.RegistrationInfo{
		IdentityPublicKey: r.keys.identity.Public(),
		EcdhPublicKey:     r.keys.ecdh.Public(),
		Operator:          operator,
		GenesisHash:       r.sync.GenesisHash(),
		PRuntimeVersion:   msg.PRuntimeVersion{Major: Version[0], Minor: Version[1], Patch: Version[2]},
		MaxAppVersion:     MaxAppVersion,
		RecentBlock:       msg.BlockRef{Height: uint64(max(lc.Height(), 0))},
		TeeKind:           string(r.cfg.TEE.Kind()),
	}
	copy(info.RecentBlock.Hash[:], lc.BlockID().Hash)
	quote, err := r.cfg.TEE.Attest(info.ReportData())
	if err != nil {
		return info, msg.Attestation{}, fmt.Errorf("pruntime: attest: %w", err)
	}
	return info, msg.Attestation{Kind: info.TeeKind, Quote: quote}, nil
}

// Close seals a checkpoint of the current state, so that the next start
// resumes from here rather than from the last periodic checkpoint, and
// releases the contract engine Open created. The runtime is not used
// after Close.
func (r *Runtime) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ownRT != nil {
		defer func() { _ = r.ownRT.Close(context.Background()); r.ownRT = nil }()
	}
	if r.own != nil {
		defer r.own.close()
	}
	if r.sync == nil || r.sync.Height() == r.checkpoint {
		return nil
	}
	return r.writeCheckpoint()
}
