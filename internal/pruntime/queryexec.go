package pruntime

import (
	"context"
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/phatwire"
)

// EngineQueryExecutor runs queries with a contract engine over a state it
// is given and never writes (every run is a dry run). It serves a fixed
// state (tests, tools) and is the adapter a cluster's state plugs into.
// The engine should be a query engine: floats allowed, stopped by a
// context deadline (NewQueryEngine).
type EngineQueryExecutor struct {
	Engine *engine.Engine
	// State returns the state a query at height reads and its block
	// context; ok false means the contract's cluster is not served here.
	State func(height int64) (st engine.State, env engine.Environment, ok bool)
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

// QueryMessage implements QueryExecutor.
func (x *EngineQueryExecutor) QueryMessage(ctx context.Context, q *MessageQuery) (*phatwire.ContractExecResult, error) {
	st, env, ok := x.State(q.Height)
	if !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Contract)
	}
	if _, ok := st.ContractCodeHash(q.Contract); !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Contract)
	}
	o := x.Engine.Call(ctx, engine.Host{State: st, Env: env}, engine.CallRequest{
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
	st, env, ok := x.State(q.Height)
	if !ok {
		return nil, fmt.Errorf("%w: 0x%x", ErrContractNotFound, q.Target)
	}
	if _, ok := st.Code(q.CodeHash); !ok {
		return nil, fmt.Errorf("%w: code 0x%x", ErrContractNotFound, q.CodeHash)
	}
	o := x.Engine.Instantiate(ctx, engine.Host{State: st, Env: env}, engine.InstantiateRequest{
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
