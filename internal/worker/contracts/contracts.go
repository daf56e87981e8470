// Package contracts implements worker.ContractRuntime with the wasm contract
// engine (internal/contract/engine). The shell (internal/pruntime) creates
// one and hands it to the worker core through worker.Options.Contracts, so
// that the core itself never imports the wasm runtime.
//
// Executions are transactions: no floating point (the engine's transaction
// policy), no wall-clock deadline (gas alone stops code), changes journaled
// by the engine and written to the cluster state only when the outermost
// call succeeds.
package contracts

import (
	"context"
	"errors"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/pink"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// Runtime runs Phat contracts: transactions on a transaction engine,
// queries on a query engine (floats allowed, stopped by the context's
// deadline). It is safe for concurrent use (the engines are).
type Runtime struct {
	e   *engine.Engine
	q   *engine.Engine
	svc *Services
}

var _ worker.ContractRuntime = (*Runtime)(nil)

// New creates the engines with cfg (the zero Config: default schedule).
// The transaction engine always rejects floats and ignores context
// deadlines (either would make executions nondeterministic); the query
// engine allows floats and stops at the context's deadline.
func New(ctx context.Context, cfg engine.Config) (*Runtime, error) {
	cfg.AllowFloats, cfg.CloseOnContextDone = false, false
	e, err := engine.New(ctx, cfg)
	if err != nil {
		return nil, err
	}
	cfg.AllowFloats, cfg.CloseOnContextDone = true, true
	q, err := engine.New(ctx, cfg)
	if err != nil {
		_ = e.Close(ctx)
		return nil, err
	}
	return &Runtime{e: e, q: q}, nil
}

// Close releases the engines.
func (r *Runtime) Close(ctx context.Context) error {
	return errors.Join(r.e.Close(ctx), r.q.Close(ctx))
}

// Query implements worker.ContractRuntime: a dry run on the query engine.
func (r *Runtime) Query(ctx context.Context, st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult {
	s := r.session(ctx, pink.Query, st, env, req.Dest)
	o := r.q.Call(ctx, host(st, env, s), engine.CallRequest{
		Caller: req.Caller, Dest: req.Dest, Value: req.Value, Input: req.Input, GasLimit: req.GasLimit, DryRun: true})
	res := result(o)
	r.finish(&res, s, false)
	return res
}

// Estimate runs a message as a command would run, without writing: on the
// transaction engine (no floating point; gas alone stops code, so
// req.GasLimit must be a command's cap), as a dry run. It answers an
// estimating query: the gas a command needs and what it would return.
// The pink extension runs in transaction mode (Phala's Estimating mode
// does too); its deferred effects are dropped.
func (r *Runtime) Estimate(st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult {
	s := r.session(context.Background(), pink.Transaction, st, env, req.Dest)
	o := r.e.Call(context.Background(), host(st, env, s), engine.CallRequest{
		Caller: req.Caller, Dest: req.Dest, Value: req.Value, Input: req.Input, GasLimit: req.GasLimit, DryRun: true})
	res := result(o)
	r.finish(&res, s, false)
	return res
}

// Instantiate implements worker.ContractRuntime.
func (r *Runtime) Instantiate(st worker.ContractStore, env worker.ExecEnv, req worker.InstantiateRequest) worker.ExecResult {
	at := engine.AccountID(req.Address)
	s := r.session(context.Background(), pink.Transaction, st, env, req.Address)
	o := r.e.Instantiate(context.Background(), host(st, env, s), engine.InstantiateRequest{
		Caller: req.Caller, CodeHash: req.CodeHash, Value: req.Value, Input: req.Input, Salt: req.Salt,
		GasLimit: req.GasLimit, Address: &at})
	res := result(o)
	r.finish(&res, s, true)
	return res
}

// Call implements worker.ContractRuntime.
func (r *Runtime) Call(st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult {
	s := r.session(context.Background(), pink.Transaction, st, env, req.Dest)
	o := r.e.Call(context.Background(), host(st, env, s), engine.CallRequest{
		Caller: req.Caller, Dest: req.Dest, Value: req.Value, Input: req.Input, GasLimit: req.GasLimit})
	res := result(o)
	r.finish(&res, s, true)
	return res
}

func host(st worker.ContractStore, env worker.ExecEnv, ext engine.ChainExtension) engine.Host {
	return engine.Host{State: state{st}, Env: engine.Environment{BlockNumber: env.BlockNumber, Timestamp: env.TimestampMs}, Extension: ext}
}

func result(o *engine.Outcome) worker.ExecResult {
	r := worker.ExecResult{Flags: o.Flags, Data: o.Data, GasUsed: o.GasUsed}
	if o.Err != nil {
		r.Err = o.Err.Error()
		r.Data = nil
	}
	for _, ev := range o.Events {
		e := worker.ContractEvent{Contract: ev.Contract, Data: ev.Data}
		for _, t := range ev.Topics {
			e.Topics = append(e.Topics, t)
		}
		r.Events = append(r.Events, e)
	}
	return r
}

// state is engine.State over the core's cluster store. The cluster ledger
// has no existential deposit.
type state struct{ st worker.ContractStore }

func (s state) GetStorage(c engine.AccountID, key []byte) ([]byte, bool) {
	return s.st.GetStorage(c, key)
}
func (s state) SetStorage(c engine.AccountID, key, value []byte) { s.st.SetStorage(c, key, value) }
func (s state) ContractCodeHash(c engine.AccountID) (engine.Hash, bool) {
	h, ok := s.st.ContractCodeHash(c)
	return h, ok
}
func (s state) SetContractCodeHash(c engine.AccountID, h engine.Hash) { s.st.SetContractCodeHash(c, h) }
func (s state) RemoveContract(c engine.AccountID)                     { s.st.RemoveContract(c) }
func (s state) Code(h engine.Hash) ([]byte, bool)                     { return s.st.Code(h) }
func (s state) Balance(a engine.AccountID) scale.U128                 { return s.st.Balance(a) }
func (s state) SetBalance(a engine.AccountID, v scale.U128)           { s.st.SetBalance(a, v) }
func (s state) MinimumBalance() scale.U128                            { return scale.U128{} }
