package pruntime

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// EngineQueryExecutor runs queries with a contract engine over a state it
// is given and never writes (every run is a dry run). It serves a fixed
// state (tests, tools) and is the adapter a cluster's state plugs into.
// The engine should be a query engine: floats allowed, stopped by a
// context deadline (NewQueryEngine).
type EngineQueryExecutor struct {
	Engine *engine.Engine
	// State returns the state a query of target (a contract, or for an
	// instantiate dry run the id the query names) reads and its block
	// context, and release, called when the query is done with the state
	// (nil: nothing to release); ok false means no state here holds target.
	State func(target [32]byte) (st engine.State, env engine.Environment, release func(), ok bool)
	// Extension, when set, gives the chain extension of a query of target
	// over st (the pink extension in query mode); nil: contracts that call
	// the extension trap.
	Extension func(ctx context.Context, target [32]byte, st engine.State, env engine.Environment) engine.ChainExtension
}

// ext is x's extension for a query of target, or nil.
func (x *EngineQueryExecutor) ext(ctx context.Context, target [32]byte, st engine.State, env engine.Environment) engine.ChainExtension {
	if x.Extension == nil {
		return nil
	}
	return x.Extension(ctx, target, st, env)
}

// NewQueryEngine returns an engine configured for queries: floats allowed,
// a context deadline stops running code.
func NewQueryEngine(ctx context.Context) (*engine.Engine, error) {
	return engine.New(ctx, engine.Config{AllowFloats: true, CloseOnContextDone: true})
}

// ContractsPalletIndex is the pallet index of pallet-contracts in Phala's
// pink runtime: the SDK reads a Module error with it as a ContractError.
const ContractsPalletIndex = 4

// Variant indexes of pallet-contracts' Error as the SDK's ContractError
// enum lists them.
var contractErrors = []struct {
	err   error
	index uint8
}{
	{engine.ErrInvalidCallFlags, 1},
	{engine.ErrOutOfGas, 2},
	{engine.ErrStackExhausted, 11}, // a trap in pallet-contracts
	{engine.ErrOutputBufferTooSmall, 3},
	{engine.ErrTransferFailed, 4},
	{engine.ErrMaxCallDepth, 5},
	{engine.ErrNotContract, 6},
	{engine.ErrCodeNotFound, 8},
	{engine.ErrOutOfBounds, 9},
	{engine.ErrDecodingFailed, 10},
	{engine.ErrContractTrapped, 11},
	{engine.ErrValueTooLarge, 12},
	{engine.ErrTerminatedInReentry, 13},
	{engine.ErrInputForwarded, 14},
	{engine.ErrTooManyTopics, 16},
	{engine.ErrNoChainExtension, 17},
	{engine.ErrDuplicateContract, 18},
	{engine.ErrReentranceDenied, 20},
	{engine.ErrStateChangeDenied, 11},
}

// DispatchErrorOf maps an engine error to the DispatchError a pink runtime
// would report: a pallet-contracts Module error where one matches, else
// ContractTrapped.
func DispatchErrorOf(err error) *phatwire.DispatchError {
	idx := uint8(11) // ContractTrapped
	for _, e := range contractErrors {
		if errors.Is(err, e.err) {
			idx = e.index
			break
		}
	}
	return &phatwire.DispatchError{Kind: phatwire.DispatchModule, Module: phatwire.ModuleError{Index: ContractsPalletIndex, Error: [4]byte{idx}}}
}

func execResult(o *engine.Outcome) phatwire.ContractExecResult {
	gas := phatwire.Weight{RefTime: o.GasUsed}
	r := phatwire.ContractExecResult{GasConsumed: gas, GasRequired: gas, DebugMessage: o.Debug}
	if o.Err != nil {
		r.Err = DispatchErrorOf(o.Err)
	} else {
		r.Result = phatwire.ExecReturnValue{Flags: o.Flags, Data: o.Data}
	}
	return r
}

// ErrNoEstimates is the error of an estimating query on an executor that
// cannot run messages as commands.
var ErrNoEstimates = errors.New("this worker does not run estimating queries")

// QueryMessage implements QueryExecutor. It refuses estimating queries
// (ErrNoEstimates): it knows neither a transaction engine nor the
// cluster's command gas cap.
func (x *EngineQueryExecutor) QueryMessage(ctx context.Context, q *MessageQuery) (*phatwire.ContractExecResult, error) {
	if q.Estimating {
		return nil, ErrNoEstimates
	}
	st, env, release, ok := x.State(q.Contract)
	if !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Contract)
	}
	if release != nil {
		defer release()
	}
	if _, ok := st.ContractCodeHash(q.Contract); !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Contract)
	}
	o := x.Engine.Call(ctx, engine.Host{State: withDeposit(st, q.Origin, q.Deposit), Env: env, Extension: x.ext(ctx, q.Contract, st, env)}, engine.CallRequest{
		Caller: engine.AccountID(q.Origin), Dest: q.Contract, Value: q.Transfer, Input: q.Input,
		GasLimit: q.GasLimit, DryRun: true})
	if errors.Is(o.Err, engine.ErrDeadline) || ctx.Err() != nil {
		return nil, context.DeadlineExceeded
	}
	r := execResult(o)
	return &r, nil
}

// QueryInstantiate implements QueryExecutor.
func (x *EngineQueryExecutor) QueryInstantiate(ctx context.Context, q *InstantiateQuery) (*phatwire.ContractInstantiateResult, error) {
	st, env, release, ok := x.State(q.Target)
	if !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Target)
	}
	if release != nil {
		defer release()
	}
	if _, ok := st.Code(q.CodeHash); !ok {
		return nil, fmt.Errorf("%w: code 0x%x", ErrContractNotFound, q.CodeHash)
	}
	o := x.Engine.Instantiate(ctx, engine.Host{State: withDeposit(st, q.Origin, q.Deposit), Env: env, Extension: x.ext(ctx, q.Target, st, env)}, engine.InstantiateRequest{
		Caller: engine.AccountID(q.Origin), CodeHash: q.CodeHash, Value: q.Transfer, Input: q.Input, Salt: q.Salt,
		GasLimit: q.GasLimit, DryRun: true})
	if errors.Is(o.Err, engine.ErrDeadline) || ctx.Err() != nil {
		return nil, context.DeadlineExceeded
	}
	r := phatwire.ContractInstantiateResult{ContractExecResult: execResult(o)}
	if o.Err == nil {
		r.AccountID = phatwire.AccountID(o.Address)
	}
	return &r, nil
}

// coreQueries is the runtime's own executor: queries read the worker
// core's cluster state (worker.Core.QueryStore); messages run on the
// worker's contract runtime (its query engine), instantiate dry runs on a
// query engine made at the first one. A query holds the runtime's query lock for reading
// while it runs; Sync takes it for writing, so a block is never applied
// under a running query (a query delays a Sync by at most its timeout).
type coreQueries struct {
	r    *Runtime
	once sync.Once
	x    *EngineQueryExecutor
	err  error
}

func (c *coreQueries) executor() (*EngineQueryExecutor, error) {
	c.once.Do(func() {
		e, err := NewQueryEngine(context.Background())
		if err != nil {
			c.err = fmt.Errorf("query engine: %w", err)
			return
		}
		c.x = &EngineQueryExecutor{Engine: e, State: c.r.queryState}
		if rt := c.r.ownRT; rt != nil {
			c.x.Extension = func(ctx context.Context, target [32]byte, st engine.State, env engine.Environment) engine.ChainExtension {
				return rt.QueryExtension(withQueryLock(ctx, &c.r.qmu), st, c.r.execEnv(target, env), target)
			}
		}
	})
	return c.x, c.err
}

// CommandEstimator is a worker.ContractRuntime that can run a message as a
// command would, writing nothing (contracts.Runtime.Estimate): the
// transaction engine (no floating point, gas alone stops code).
type CommandEstimator interface {
	Estimate(st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult
}

// QueryMessage runs a message on the worker's contract runtime (its query
// engine, worker.ContractRuntime.Query), over the core's cluster state. An
// estimating query runs as a command would (CommandEstimator), with the
// cluster's command gas cap (worker.Cluster.MaxGas) as its gas limit, and
// answers the gas it needs and its result; nothing is written either way.
func (c *coreQueries) QueryMessage(ctx context.Context, q *MessageQuery) (*phatwire.ContractExecResult, error) {
	rt := c.r.cfg.Contracts
	if rt == nil {
		x, err := c.executor()
		if err != nil {
			return nil, err
		}
		return x.QueryMessage(ctx, q)
	}
	est, canEstimate := rt.(CommandEstimator)
	if q.Estimating && !canEstimate {
		return nil, ErrNoEstimates
	}
	st, env, release, ok := c.r.coreStore(q.Contract)
	if !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Contract)
	}
	defer release()
	ctx = withQueryLock(ctx, &c.r.qmu)
	if _, ok := st.ContractCodeHash(q.Contract); !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Contract)
	}
	if !q.Deposit.IsZero() {
		st = depositStore{ContractStore: st, origin: q.Origin, deposit: q.Deposit}
	}
	xenv := env
	req := worker.CallRequest{Caller: q.Origin, Dest: q.Contract, Value: q.Transfer, Input: q.Input, GasLimit: q.GasLimit}
	var res worker.ExecResult
	if q.Estimating {
		// The query lock (held until release) keeps the chain state
		// still, so the cap is the one of the state the query reads.
		cap, err := c.r.commandGasCap(env.Cluster)
		if err != nil {
			return nil, err
		}
		req.GasLimit = min(req.GasLimit, cap)
		res = est.Estimate(st, xenv, req)
	} else {
		res = rt.Query(ctx, st, xenv, req)
	}
	if ctx.Err() != nil {
		return nil, context.DeadlineExceeded
	}
	gas := phatwire.Weight{RefTime: res.GasUsed}
	out := &phatwire.ContractExecResult{GasConsumed: gas, GasRequired: gas}
	if res.Err != "" {
		out.Err = dispatchErrorOfMessage(res.Err)
	} else {
		out.Result = phatwire.ExecReturnValue{Flags: res.Flags, Data: res.Data}
	}
	return out, nil
}

// dispatchErrorOfMessage is DispatchErrorOf for an engine error that
// reached us as its message (worker.ExecResult.Err).
func dispatchErrorOfMessage(msg string) *phatwire.DispatchError {
	for _, e := range contractErrors {
		if strings.HasPrefix(msg, e.err.Error()) {
			return DispatchErrorOf(e.err)
		}
	}
	return DispatchErrorOf(errors.New(msg))
}

// depositStore shows origin's balance increased by a query's deposit (see
// depositState).
type depositStore struct {
	worker.ContractStore
	origin  [32]byte
	deposit scale.U128
}

func (s depositStore) Balance(a [32]byte) scale.U128 {
	b := s.ContractStore.Balance(a)
	if a != s.origin {
		return b
	}
	n, over := b.Add(s.deposit)
	if over {
		return scale.U128{Lo: ^uint64(0), Hi: ^uint64(0)}
	}
	return n
}

func (c *coreQueries) QueryInstantiate(ctx context.Context, q *InstantiateQuery) (*phatwire.ContractInstantiateResult, error) {
	x, err := c.executor()
	if err != nil {
		return nil, err
	}
	return x.QueryInstantiate(ctx, q)
}

func (c *coreQueries) close() {
	c.once.Do(func() {}) // no engine after close
	if c.x != nil {
		_ = c.x.Engine.Close(context.Background())
	}
}

// queryState is the state of target in the worker core's clusters.
func (r *Runtime) queryState(target [32]byte) (engine.State, engine.Environment, func(), bool) {
	st, x, release, ok := r.coreStore(target)
	env := engine.Environment{BlockNumber: x.BlockNumber, Timestamp: x.TimestampMs}
	if !ok {
		return nil, env, nil, false
	}
	return coreState{st}, env, release, true
}

// coreStore is the read-only store of target in the worker core's
// clusters, with the query lock held for reading until release, and the
// query's execution context: the block, and the cluster's id, key,
// dev-chain switch and system contract, which the pink extension needs
// (derive_sr25519_key, dev-chain HTTP, system_contract_id).
func (r *Runtime) coreStore(target [32]byte) (worker.ContractStore, worker.ExecEnv, func(), bool) {
	r.qmu.RLock()
	r.mu.Lock()
	if r.sync == nil {
		r.mu.Unlock()
		r.qmu.RUnlock()
		return nil, worker.ExecEnv{}, nil, false
	}
	view := r.cfg.ChainView(r.sync.Store())
	cluster, st, ok := r.core.QueryStore(target, view)
	env := worker.ExecEnv{BlockNumber: queryHeight(r.sync.Height()), TimestampMs: uint64(max(r.lastBlockTime, 0) / 1e6)}
	if ok {
		env.Cluster = cluster
		env.ClusterKey, env.DevChain = r.core.QueryEnv(cluster)
		if cl, found, err := view.Cluster(cluster); err == nil && found {
			env.SystemContract = cl.SystemContract
		}
	}
	r.mu.Unlock()
	if !ok {
		r.qmu.RUnlock()
		return nil, env, nil, false
	}
	return st, env, r.qmu.RUnlock, true
}

// commandGasCap is the largest gas limit a command of cluster may carry,
// from the verified chain state (the cluster's terms).
func (r *Runtime) commandGasCap(cluster [32]byte) (uint64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.sync == nil {
		return 0, ErrNotInitialized
	}
	cl, ok, err := r.cfg.ChainView(r.sync.Store()).Cluster(cluster)
	if err != nil {
		return 0, fmt.Errorf("cluster 0x%x: %w", cluster, err)
	}
	if !ok {
		return 0, fmt.Errorf("%w: cluster 0x%x", ErrContractNotFound, cluster)
	}
	return cl.MaxGas, nil
}

// execEnv is the execution context of an engine query of target (a
// contract, or the cluster of an instantiate dry run): the block env and,
// for the pink extension, the cluster, its key and the dev-chain switch.
func (r *Runtime) execEnv(target [32]byte, env engine.Environment) worker.ExecEnv {
	x := worker.ExecEnv{BlockNumber: env.BlockNumber, TimestampMs: env.Timestamp}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.core != nil {
		cluster, _, ok := r.core.ContractDeployer(target)
		if !ok {
			cluster = target // an instantiate dry run names its cluster
		}
		x.Cluster = cluster
		x.ClusterKey, x.DevChain = r.core.QueryEnv(cluster)
	}
	return x
}

// coreState is engine.State over a worker.ContractStore (no existential
// deposit in a cluster's ledger).
type coreState struct{ st worker.ContractStore }

func (s coreState) GetStorage(c engine.AccountID, key []byte) ([]byte, bool) {
	return s.st.GetStorage(c, key)
}
func (s coreState) SetStorage(c engine.AccountID, key, value []byte) { s.st.SetStorage(c, key, value) }
func (s coreState) ContractCodeHash(c engine.AccountID) (engine.Hash, bool) {
	h, ok := s.st.ContractCodeHash(c)
	return h, ok
}
func (s coreState) SetContractCodeHash(c engine.AccountID, h engine.Hash) {
	s.st.SetContractCodeHash(c, h)
}
func (s coreState) RemoveContract(c engine.AccountID)           { s.st.RemoveContract(c) }
func (s coreState) Code(h engine.Hash) ([]byte, bool)           { return s.st.Code(h) }
func (s coreState) Balance(a engine.AccountID) scale.U128       { return s.st.Balance(a) }
func (s coreState) SetBalance(a engine.AccountID, v scale.U128) { s.st.SetBalance(a, v) }
func (s coreState) MinimumBalance() scale.U128                  { return scale.U128{} }

// depositState shows origin's balance increased by a query's deposit, as
// Phala's pink runtime deposits it to the origin before a query runs (so
// that a query may transfer value). Being a dry run, nothing is written.
type depositState struct {
	engine.State
	origin  engine.AccountID
	deposit scale.U128
}

func withDeposit(st engine.State, origin phatwire.AccountID, deposit scale.U128) engine.State {
	if deposit.IsZero() {
		return st
	}
	return depositState{State: st, origin: engine.AccountID(origin), deposit: deposit}
}

func (s depositState) Balance(a engine.AccountID) scale.U128 {
	b := s.State.Balance(a)
	if a != s.origin {
		return b
	}
	n, over := b.Add(s.deposit)
	if over {
		return scale.U128{Lo: ^uint64(0), Hi: ^uint64(0)}
	}
	return n
}
