package engine

import (
	"context"
	"errors"
	"fmt"
	"unicode/utf8"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"

	"github.com/cella-network/cella/internal/contract/gas"
	"github.com/cella-network/cella/internal/scale"
)

// Errors that end a frame. Apart from a revert (which is a success with the
// REVERT flag), every one of them discards the frame's changes; a nested
// caller sees them as CalleeTrapped, or traps itself when the error is its own.
var (
	ErrOutOfGas              = errors.New("out of gas")
	ErrStackExhausted        = errors.New("stack height limit exceeded")
	ErrContractTrapped       = errors.New("contract trapped")
	ErrOutOfBounds           = errors.New("memory access out of bounds")
	ErrOutputBufferTooSmall  = errors.New("output buffer too small")
	ErrDecodingFailed        = errors.New("decoding failed")
	ErrValueTooLarge         = errors.New("value too large")
	ErrTooManyTopics         = errors.New("too many event topics")
	ErrStateChangeDenied     = errors.New("state change denied in a read-only call")
	ErrInputForwarded        = errors.New("input already forwarded")
	ErrMaxCallDepth          = errors.New("maximum call depth reached")
	ErrReentranceDenied      = errors.New("reentrance denied")
	ErrInvalidCallFlags      = errors.New("invalid call flags")
	ErrDuplicateContract     = errors.New("contract already exists at this address")
	ErrCodeNotFound          = errors.New("code not found")
	ErrNotContract           = errors.New("destination is not a contract")
	ErrTransferFailed        = errors.New("transfer failed")
	ErrTerminatedInReentry   = errors.New("contract terminated while on the call stack")
	ErrNoChainExtension      = errors.New("no chain extension")
	ErrDeadline              = errors.New("execution deadline exceeded")
	ErrInvalidReturnFlags    = errors.New("invalid return flags")
	ErrKeyTooLong            = errors.New("storage key too long")
	ErrOutOfTransientStorage = errors.New("out of transient storage")
	ErrDelegateFlags         = errors.New("delegate_call does not accept ALLOW_REENTRY or READ_ONLY")
	ErrUnsupportedEntrypoint = errors.New("entry point missing")
)

// Return flags and call flags.
const (
	FlagRevert = 1

	CallForwardInput = 0x01
	CallCloneInput   = 0x02
	CallTailCall     = 0x04
	CallAllowReentry = 0x08
	CallReadOnly     = 0x10
)

// Sentinel is u32::MAX: "no value" / "skip output" / "no limit".
const Sentinel = 0xFFFF_FFFF

// Return codes of host functions (ReturnErrorCode).
const (
	RCSuccess             = 0
	RCCalleeTrapped       = 1
	RCCalleeReverted      = 2
	RCKeyNotFound         = 3
	RCTransferFailed      = 5
	RCCodeNotFound        = 7
	RCNotCallable         = 8
	RCLoggingDisabled     = 9
	RCCallRuntimeFailed   = 10
	RCEcdsaRecoveryFailed = 11
	RCSr25519VerifyFailed = 12
	RCXcmExecutionFailed  = 13
	RCXcmSendFailed       = 14
)

// Event is a deposited event.
type Event struct {
	Contract AccountID
	Topics   []Hash
	Data     []byte
}

// Outcome is the result of a top-level call or instantiation.
type Outcome struct {
	// Flags are the return flags (FlagRevert) and Data the output bytes.
	Flags uint32
	Data  []byte
	// Err is nil on success and on revert, else why the call failed.
	Err error
	// GasUsed is the gas consumed, including compile and host costs.
	GasUsed uint64
	// Events are the events of the call, empty unless it succeeded.
	Events []Event
	// Debug holds the captured debug messages.
	Debug string
	// Address is the new contract of an instantiation.
	Address AccountID
}

// Reverted reports whether the call returned with the REVERT flag.
func (o *Outcome) Reverted() bool { return o.Err == nil && o.Flags&FlagRevert != 0 }

// Success reports whether the call neither trapped nor reverted.
func (o *Outcome) Success() bool { return o.Err == nil && o.Flags&FlagRevert == 0 }

// Host is what an execution sees of the world.
type Host struct {
	State     State
	Env       Environment
	Extension ChainExtension
	// Deposits, if set, is told how each contract's storage grew or shrank
	// after every successful outermost call or instantiation that is not a
	// dry run. When nil and the State implements StorageDepositHook, the
	// State is told. Without either, storage costs nothing beyond gas.
	Deposits StorageDepositHook
}

// StorageDelta is how one contract's persistent storage changed in one
// execution. Bytes count values only (a key's bytes are covered by the
// item); an overwritten value counts its old length as removed and its new
// length as added.
type StorageDelta struct {
	Contract     AccountID
	BytesAdded   uint64
	BytesRemoved uint64
	ItemsAdded   uint32
	ItemsRemoved uint32
	// Created is set for a contract instantiated in this execution and
	// Removed for one that terminated. A removed contract's storage in the
	// State is gone as a whole; its bytes are not listed here (the hook
	// knows them from the deltas it was given before).
	Created bool
	Removed bool
}

// StorageDepositHook is the storage-deposit hook of the ledger: pallet-
// contracts charges deposits for storage, Cella leaves that to its caller.
// StorageChanged is called once per successful, non-dry-run outermost call,
// before the changes are written to the State, with one delta per contract
// whose storage or existence changed, sorted by account. It must not touch
// the State and cannot fail the call; the default (no hook) costs nothing.
type StorageDepositHook interface {
	StorageChanged(deltas []StorageDelta)
}

// CallRequest is a top-level message call.
type CallRequest struct {
	Caller   AccountID
	Dest     AccountID
	Value    scale.U128
	Input    []byte
	GasLimit uint64
	// DryRun leaves the State untouched even on success (queries).
	DryRun bool
	// ReadOnly forbids state changes, as a READ_ONLY call.
	ReadOnly bool
}

// InstantiateRequest is a top-level deployment of uploaded code.
type InstantiateRequest struct {
	Caller   AccountID
	CodeHash Hash
	Value    scale.U128
	Input    []byte
	Salt     []byte
	GasLimit uint64
	DryRun   bool
	// Address, when set, is the new contract's address instead of
	// ContractAddress(Caller, CodeHash, Input, Salt): a Phat contract's id
	// is assigned by the chain (blake2_256(deployer ‖ code ‖ cluster ‖
	// salt)). Nested instantiations always derive theirs.
	Address *AccountID
}

// execution is one top-level call with all its nested frames.
type execution struct {
	e       *Engine
	host    Host
	j       journal
	frames  []*frame
	debug   []byte
	origin  AccountID
	nonce   uint64
	ctx     context.Context
	dropped bool // debug buffer overflowed
}

// frame is one running contract.
type frame struct {
	x             *execution
	address       AccountID
	caller        AccountID
	value         scale.U128
	codeHash      Hash // code being run
	input         []byte
	inputGone     bool
	readOnly      bool
	allowsReentry bool
	entry         bool // deploy rather than call
	mod           api.Module
	mem           api.Memory
	gasG          api.MutableGlobal
	stackG        api.Global
	unmeteredGas  int64 // gas counter when code is not instrumented
}

type frameKey struct{}

// signals carried by host-function panics; wazero returns them wrapped.
type returnSignal struct {
	flags uint32
	data  []byte
}

func (*returnSignal) Error() string { return "contract returned" }

type terminateSignal struct{}

func (*terminateSignal) Error() string { return "contract terminated" }

type hostTrap struct{ err error }

func (t *hostTrap) Error() string { return t.err.Error() }
func (t *hostTrap) Unwrap() error { return t.err }

func (f *frame) trap(err error) { panic(&hostTrap{err}) }

func (e *Engine) newExecution(ctx context.Context, h Host, origin AccountID) *execution {
	x := &execution{e: e, host: h, origin: origin, ctx: ctx}
	x.j.base = h.State
	x.j.push()
	return x
}

func (x *execution) finish(o *Outcome, dryRun bool) *Outcome {
	o.Debug = string(x.debug)
	if o.Err == nil && o.Flags&FlagRevert == 0 {
		o.Events = x.j.layers[0].events
		if !dryRun {
			hook := x.host.Deposits
			if hook == nil {
				hook, _ = x.host.State.(StorageDepositHook)
			}
			if hook != nil {
				if d := x.j.storageDeltas(); len(d) > 0 {
					hook.StorageChanged(d)
				}
			}
			x.j.apply()
		}
	}
	return o
}

// Call runs a message of a deployed contract.
func (e *Engine) Call(ctx context.Context, h Host, req CallRequest) *Outcome {
	x := e.newExecution(ctx, h, req.Caller)
	o := &Outcome{}
	if _, ok := x.j.codeHash(req.Dest); !ok {
		o.Err = ErrNotContract
		return x.finish(o, true)
	}
	r := x.run(req.Caller, req.Dest, nil, req.Value, req.Input, int64(req.GasLimit), false, req.ReadOnly, true)
	o.Flags, o.Data, o.Err = r.flags, r.data, r.err
	o.GasUsed = r.used
	return x.finish(o, req.DryRun)
}

// Instantiate deploys uploaded code: it derives the address, runs deploy and
// on success records the contract.
func (e *Engine) Instantiate(ctx context.Context, h Host, req InstantiateRequest) *Outcome {
	x := e.newExecution(ctx, h, req.Caller)
	o := &Outcome{}
	r, addr := x.instantiate(req.Caller, req.CodeHash, req.Address, req.Value, req.Input, req.Salt, int64(req.GasLimit), false)
	o.Flags, o.Data, o.Err, o.GasUsed, o.Address = r.flags, r.data, r.err, r.used, addr
	return x.finish(o, req.DryRun)
}

// Upload validates code and stores it through put, returning its hash and
// the gas it costs.
func (e *Engine) Upload(ctx context.Context, code []byte, put func(Hash, []byte)) (Hash, uint64, error) {
	h, err := e.Validate(code)
	if err != nil {
		return Hash{}, 0, err
	}
	if err := e.Prepare(ctx, h, code); err != nil {
		return Hash{}, 0, err
	}
	if put != nil {
		put(h, code)
	}
	return h, e.UploadCost(len(code)), nil
}

// ContractAddress derives the address of a new contract as pallet-contracts'
// DefaultAddressGenerator: blake2_256("contract_addr_v1" ‖ deployer ‖
// code_hash ‖ input ‖ salt).
func ContractAddress(deployer AccountID, code Hash, input, salt []byte) AccountID {
	b := make([]byte, 0, 16+64+len(input)+len(salt))
	b = append(b, "contract_addr_v1"...)
	b = append(b, deployer[:]...)
	b = append(b, code[:]...)
	b = append(b, input...)
	b = append(b, salt...)
	return AccountID(CodeHash(b))
}

type result struct {
	flags uint32
	data  []byte
	err   error
	used  uint64
}

// instantiate creates a contract in a new frame. The gas limit is the
// frame's budget. callerErr reports errors that belong to the calling frame
// (they trap it) as opposed to the callee.
func (x *execution) instantiate(caller AccountID, codeHash Hash, at *AccountID, value scale.U128, input, salt []byte, budget int64, nested bool) (result, AccountID) {
	code, ok := x.host.State.Code(codeHash)
	if !ok {
		return result{err: ErrCodeNotFound}, AccountID{}
	}
	addr := ContractAddress(caller, codeHash, input, salt)
	if at != nil {
		addr = *at
	}
	if _, exists := x.j.codeHash(addr); exists {
		return result{err: ErrDuplicateContract}, AccountID{}
	}
	cost := int64(x.e.UploadCost(len(code)))
	if budget < cost {
		return result{err: ErrOutOfGas, used: uint64(max(budget, 0))}, AccountID{}
	}
	x.j.push()
	h := codeHash
	x.j.setCodeHash(addr, &h)
	if !x.j.transfer(caller, addr, value, true) {
		x.j.pop()
		return result{err: ErrTransferFailed, used: uint64(cost)}, AccountID{}
	}
	r := x.runFrame(caller, addr, codeHash, code, value, input, budget-cost, true, false, true, nested)
	r.used += uint64(cost)
	return r, addr
}

// run calls dest in a new frame (code hash from the registry unless
// delegate is set, in which case the frame runs that code as address).
func (x *execution) run(caller, dest AccountID, delegate *Hash, value scale.U128, input []byte, budget int64, nested, readOnly, allowReentry bool) result {
	var codeHash Hash
	if delegate != nil {
		codeHash = *delegate
	} else {
		h, ok := x.j.codeHash(dest)
		if !ok {
			return result{err: ErrNotContract}
		}
		codeHash = h
	}
	code, ok := x.host.State.Code(codeHash)
	if !ok {
		return result{err: ErrCodeNotFound}
	}
	x.j.push()
	if delegate == nil && !x.j.transfer(caller, dest, value, true) {
		x.j.pop()
		return result{err: ErrTransferFailed}
	}
	return x.runFrame(caller, dest, codeHash, code, value, input, budget, false, readOnly, allowReentry, nested)
}

// runFrame runs deploy or call in a fresh instance. The journal layer for
// the frame has been pushed by the caller; runFrame commits or pops it.
func (x *execution) runFrame(caller, addr AccountID, codeHash Hash, code []byte, value scale.U128, input []byte, budget int64, deploy, readOnly, allowReentry, nested bool) result {
	if budget < 0 {
		budget = 0
	}
	c, err := x.e.prepare(x.ctx, codeHash, code)
	if err != nil {
		x.j.pop()
		return result{err: err}
	}
	f := &frame{x: x, address: addr, caller: caller, value: value, codeHash: codeHash,
		input: input, readOnly: readOnly, allowsReentry: true, entry: deploy}
	if len(x.frames) > 0 && x.frames[len(x.frames)-1].readOnly {
		f.readOnly = true
	}
	x.frames = append(x.frames, f)
	defer func() { x.frames = x.frames[:len(x.frames)-1] }()

	ctx := context.WithValue(x.ctx, frameKey{}, f)
	ctx = experimental.WithMemoryAllocator(ctx, x.e.pool)
	mod, err := x.e.rt.InstantiateModule(ctx, c.mod, instanceConfig)
	if err != nil {
		x.j.pop()
		return result{err: fmt.Errorf("%w: instantiate: %v", ErrContractTrapped, err), used: uint64(budget)}
	}
	defer mod.Close(ctx)
	f.mod = mod
	f.mem = mod.Memory()
	if g, ok := mod.ExportedGlobal(gas.GasGlobal).(api.MutableGlobal); ok {
		f.gasG = g
		g.Set(uint64(budget))
		f.stackG = mod.ExportedGlobal(gas.StackGlobal)
	} else {
		f.unmeteredGas = budget
	}
	name := "call"
	if deploy {
		name = "deploy"
	}
	fn := mod.ExportedFunction(name)
	if fn == nil {
		x.j.pop()
		return result{err: ErrUnsupportedEntrypoint}
	}
	var callErr error
	if st := mod.ExportedFunction(startExport); st != nil {
		_, callErr = st.Call(ctx)
	}
	if callErr == nil {
		_, callErr = fn.Call(ctx)
	}
	left := f.gasLeft()
	r := result{}
	var ret *returnSignal
	var term *terminateSignal
	var ht *hostTrap
	switch {
	case callErr == nil:
	case errors.As(callErr, &ret):
		r.flags, r.data = ret.flags, ret.data
	case errors.As(callErr, &term):
	case left < 0:
		r.err = ErrOutOfGas
	case f.stackG != nil && f.stackG.Get() > uint64(x.e.cfg.Schedule.StackLimit):
		r.err = ErrStackExhausted
	case errors.As(callErr, &ht):
		r.err = ht.err
	case x.ctx.Err() != nil:
		r.err = fmt.Errorf("%w: %v", ErrDeadline, x.ctx.Err())
	default:
		r.err = fmt.Errorf("%w: %s", ErrContractTrapped, trapMessage(callErr))
	}
	if left < 0 {
		left = 0
	}
	r.used = uint64(budget - left)
	if r.err != nil {
		x.j.pop()
		return r
	}
	if r.flags&FlagRevert != 0 {
		x.j.pop()
		return r
	}
	x.j.commit()
	return r
}

func trapMessage(err error) string {
	s := err.Error()
	for i := 0; i < len(s); i++ {
		if s[i] == '\n' {
			return s[:i]
		}
	}
	return s
}

// gasLeft returns the frame's remaining gas (negative after running out).
func (f *frame) gasLeft() int64 {
	if f.gasG != nil {
		return int64(f.gasG.Get())
	}
	return f.unmeteredGas
}

func (f *frame) setGas(v int64) {
	if f.gasG != nil {
		f.gasG.Set(uint64(v))
	} else {
		f.unmeteredGas = v
	}
}

// charge takes n units of gas or traps with ErrOutOfGas.
func (f *frame) charge(n uint64) {
	g := f.gasLeft()
	if n > uint64(max(g, 0)) {
		f.setGas(-1)
		f.trap(ErrOutOfGas)
	}
	f.setGas(g - int64(n))
}

// ChargeGas implements ExtContext.
func (f *frame) ChargeGas(n uint64) error {
	g := f.gasLeft()
	if n > uint64(max(g, 0)) {
		f.setGas(-1)
		return ErrOutOfGas
	}
	f.setGas(g - int64(n))
	return nil
}

// Address implements ExtContext.
func (f *frame) Address() AccountID { return f.address }

// Caller implements ExtContext.
func (f *frame) Caller() AccountID { return f.caller }

// ReadOnly implements ExtContext.
func (f *frame) ReadOnly() bool { return f.readOnly }

func (x *execution) appendDebug(b []byte) {
	if !utf8.Valid(b) || x.dropped {
		return
	}
	if len(x.debug)+len(b) > x.e.cfg.MaxDebugBuffer {
		x.dropped = true
		return
	}
	x.debug = append(x.debug, b...)
}

// instanceConfig is the configuration of every contract instance: no name,
// no start functions, and a fixed random source. Without one, wazero seeds
// a math/rand source for each instance (≈ 40% of instantiating an erc20, a
// few per cent of a loaded dev node). Contracts see no WASI, so nothing
// reads it; were something to, it would read zeros on every node alike.
// ModuleConfig is immutable, so one value serves every goroutine.
var instanceConfig = wazero.NewModuleConfig().WithName("").WithStartFunctions().WithRandSource(zeroReader{})

// zeroReader reads zeros.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}
