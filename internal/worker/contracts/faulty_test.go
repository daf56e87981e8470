package contracts_test

import (
	"github.com/cella-network/cella/internal/worker"
)

// faultKey is the storage key faultyRuntime writes.
const faultKey = "cella/fault"

// faultyRuntime wraps a ContractRuntime with a deliberate fault, for tests of the
// cluster's divergence alarm: after every successful instantiate and call
// it writes one extra storage entry (FaultKey → the block number) into the
// contract, so that its cluster state, and root, differ from an honest
// worker's.
type faultyRuntime struct{ worker.ContractRuntime }

func (f faultyRuntime) corrupt(st worker.ContractStore, ct [32]byte, env worker.ExecEnv, r worker.ExecResult) worker.ExecResult {
	if r.Success() {
		st.SetStorage(ct, []byte(faultKey), []byte{byte(env.BlockNumber), byte(env.BlockNumber >> 8)})
	}
	return r
}

// Instantiate runs the wrapped runtime's and corrupts the new contract's storage.
func (f faultyRuntime) Instantiate(st worker.ContractStore, env worker.ExecEnv, req worker.InstantiateRequest) worker.ExecResult {
	return f.corrupt(st, req.Address, env, f.ContractRuntime.Instantiate(st, env, req))
}

// Call runs the wrapped runtime's and corrupts the callee's storage.
func (f faultyRuntime) Call(st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult {
	return f.corrupt(st, req.Dest, env, f.ContractRuntime.Call(st, env, req))
}
