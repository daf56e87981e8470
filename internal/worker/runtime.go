package worker

import (
	"context"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// ContractRuntime executes Phat contracts for the core. The shell injects
// it (Options.Contracts; internal/worker/contracts wraps the wasm engine)
// so that the core stays free of the wasm runtime. Executions are
// transactions: deterministic (gas, never the wall clock, decides when
// code stops) and atomic: on success the runtime writes its changes to
// the store in a deterministic order; on a trap or a revert it writes
// nothing.
type ContractRuntime interface {
	// Instantiate runs code's constructor for a new contract at
	// req.Address.
	Instantiate(st ContractStore, env ExecEnv, req InstantiateRequest) ExecResult
	// Call runs a message of a deployed contract.
	Call(st ContractStore, env ExecEnv, req CallRequest) ExecResult
	// Query runs a message read-only, in query mode: floating point is
	// allowed, nothing is written to st, and ctx's deadline may stop the
	// code (queries are answered by one worker; their result is never
	// consensus).
	Query(ctx context.Context, st ContractStore, env ExecEnv, req CallRequest) ExecResult
}

// ContractStore is the cluster state a contract execution reads and, on
// success, writes: contract storage, the contract registry, code (read
// from verified chain state) and the cluster's balance ledger.
type ContractStore interface {
	// GetStorage returns the value under key in contract's storage.
	GetStorage(contract [32]byte, key []byte) ([]byte, bool)
	// SetStorage stores value under key; a nil value deletes it.
	SetStorage(contract [32]byte, key, value []byte)
	// ContractCodeHash returns a contract's code hash.
	ContractCodeHash(contract [32]byte) ([32]byte, bool)
	// SetContractCodeHash records a contract (instantiate, set_code_hash).
	SetContractCodeHash(contract, code [32]byte)
	// RemoveContract deletes a terminated contract and its storage.
	RemoveContract(contract [32]byte)
	// Code returns the code uploaded to the chain under hash.
	Code(hash [32]byte) ([]byte, bool)
	// Balance returns an account's balance in the cluster's ledger.
	Balance(acct [32]byte) scale.U128
	// SetBalance sets an account's balance in the cluster's ledger.
	SetBalance(acct [32]byte, v scale.U128)
}

// ExecEnv is the block context of an execution: the block being stepped.
type ExecEnv struct {
	BlockNumber uint32
	// TimestampMs is the verified header's time in milliseconds.
	TimestampMs uint64
	// Cluster is the executing cluster.
	Cluster [32]byte
	// ClusterKey is the cluster's key, from which the pink extension
	// derives contract keys (nil: none, e.g. tests). Secret: it never
	// leaves the worker.
	ClusterKey *keys.Pair
	// DevChain is set when the verified chain admits dev attestations:
	// its workers may relax what only matters with a real TEE (plain
	// HTTP, private addresses, extra test roots).
	DevChain bool
	// SystemContract is the cluster's system contract (Cluster.
	// SystemContract; zero: none): what pink's system_contract_id answers,
	// the only contract allowed import_latest_system_code, and an emitter
	// whose SetHook events the core accepts for any contract of the
	// cluster. Consensus input: every worker must see the same one.
	SystemContract [32]byte
}

// InstantiateRequest deploys uploaded code at a chain-assigned address.
type InstantiateRequest struct {
	Caller   [32]byte
	Address  [32]byte
	CodeHash [32]byte
	Value    scale.U128
	Input    []byte
	Salt     []byte
	GasLimit uint64
}

// CallRequest calls a deployed contract.
type CallRequest struct {
	Caller   [32]byte
	Dest     [32]byte
	Value    scale.U128
	Input    []byte
	GasLimit uint64
}

// ExecResult is what an execution gave. Err is empty on success and on a
// revert (Flags bit 0); otherwise it says why the execution trapped.
type ExecResult struct {
	Flags   uint32
	Data    []byte
	Err     string
	GasUsed uint64
	// Events are the events deposited, empty unless it succeeded. Pink
	// events (the extension's requests to the runtime) are not among
	// them: the runtime acts on those it serves itself (cache
	// operations) and reports the ones for the core in Hooks.
	Events []ContractEvent
	// Hooks are the pink SetHook(OnBlockEnd) requests of a successful
	// execution, in emission order.
	Hooks []HookRequest
}

// HookRequest is a pink SetHook(OnBlockEnd) event: run Selector on Target,
// with GasLimit, at the end of every block. Emitter is the contract that
// asked.
type HookRequest struct {
	Emitter, Target [32]byte
	Selector        uint32
	GasLimit        uint64
}

// Success reports an execution that neither trapped nor reverted.
func (r *ExecResult) Success() bool { return r.Err == "" && r.Flags&1 == 0 }

// ContractEvent is one event a contract deposited.
type ContractEvent struct {
	Contract [32]byte
	Topics   [][32]byte
	Data     []byte
}
