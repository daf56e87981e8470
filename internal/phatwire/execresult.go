package phatwire

import (
	"fmt"

	"github.com/cella-network/cella/internal/scale"
)

// Weight is pallet-contracts' two-dimensional weight (WeightV2): both parts
// are compact-encoded.
type Weight struct {
	RefTime   uint64
	ProofSize uint64
}

// EncodeSCALE writes the weight.
func (x *Weight) EncodeSCALE(w *scale.Writer) {
	w.Compact(x.RefTime)
	w.Compact(x.ProofSize)
}

// DecodeSCALE reads the weight.
func (x *Weight) DecodeSCALE(r *scale.Reader) {
	x.RefTime = r.Compact()
	x.ProofSize = r.Compact()
}

// StorageDeposit is enum {Refund(u128) = 0, Charge(u128) = 1}.
type StorageDeposit struct {
	Charge bool // false: Refund
	Amount scale.U128
}

// EncodeSCALE writes the enum.
func (d *StorageDeposit) EncodeSCALE(w *scale.Writer) {
	if d.Charge {
		w.Enum(1)
	} else {
		w.Enum(0)
	}
	w.U128(d.Amount)
}

// DecodeSCALE reads the enum.
func (d *StorageDeposit) DecodeSCALE(r *scale.Reader) {
	d.Charge = r.Enum(1) == 1
	d.Amount = r.U128()
}

// FlagRevert is the ReturnFlags bit of a contract that reverted its state.
const FlagRevert uint32 = 1

// ExecReturnValue is a contract's output: ReturnFlags (u32) and its SCALE
// return data (for ink! 4+ a Result<T, LangError>).
type ExecReturnValue struct {
	Flags uint32
	Data  []byte
}

// Reverted reports whether the REVERT flag is set.
func (v *ExecReturnValue) Reverted() bool { return v.Flags&FlagRevert != 0 }

// EncodeSCALE writes flags then data.
func (v *ExecReturnValue) EncodeSCALE(w *scale.Writer) {
	w.U32(v.Flags)
	w.BytesVec(v.Data)
}

// DecodeSCALE reads flags then data.
func (v *ExecReturnValue) DecodeSCALE(r *scale.Reader) {
	v.Flags = r.U32()
	v.Data = r.BytesVec()
}

// DispatchErrorKind is the variant index of sp_runtime's DispatchError as the
// SDK's registry (@polkadot/types 10.12.6) knows it: 13 variants.
type DispatchErrorKind uint8

// DispatchError variants. Token, Arithmetic and Transactional carry a
// one-byte inner enum (Sub); Module carries ModuleError; the rest nothing.
// Other's message is never encoded (Substrate skips it).
const (
	DispatchOther             DispatchErrorKind = 0
	DispatchCannotLookup      DispatchErrorKind = 1
	DispatchBadOrigin         DispatchErrorKind = 2
	DispatchModule            DispatchErrorKind = 3
	DispatchConsumerRemaining DispatchErrorKind = 4
	DispatchNoProviders       DispatchErrorKind = 5
	DispatchTooManyConsumers  DispatchErrorKind = 6
	DispatchToken             DispatchErrorKind = 7
	DispatchArithmetic        DispatchErrorKind = 8
	DispatchTransactional     DispatchErrorKind = 9
	DispatchExhausted         DispatchErrorKind = 10
	DispatchCorruption        DispatchErrorKind = 11
	DispatchUnavailable       DispatchErrorKind = 12
)

// Highest inner variant the SDK's registry accepts for Token (NoFunds …
// Overflow), Arithmetic (Underflow, Overflow, DivisionByZero) and
// Transactional (LimitReached, NoLayer).
const (
	maxTokenError         = 8
	maxArithmeticError    = 2
	maxTransactionalError = 1
)

var dispatchNames = [...]string{"Other", "CannotLookup", "BadOrigin", "Module", "ConsumerRemaining",
	"NoProviders", "TooManyConsumers", "Token", "Arithmetic", "Transactional", "Exhausted", "Corruption", "Unavailable"}

func (k DispatchErrorKind) String() string {
	if int(k) < len(dispatchNames) {
		return dispatchNames[k]
	}
	return fmt.Sprintf("DispatchErrorKind(%d)", uint8(k))
}

// ModuleError names a pallet error: the pallet's index and the error's
// 4-byte encoding (its variant index first).
type ModuleError struct {
	Index uint8
	Error [4]byte
}

// DispatchError is a failed call's error. All 13 variants encode and decode
// as the SDK's registry has them; a Cella worker is expected to emit Module
// (pallet-contracts errors: the pallet index and the error's variant index in
// Error[0]) and Other (no message on the wire), which are the variants
// pallet-contracts' bare_call returns.
type DispatchError struct {
	Kind   DispatchErrorKind
	Module ModuleError // Kind == DispatchModule
	Sub    uint8       // Kind == DispatchToken, DispatchArithmetic, DispatchTransactional
}

// Error implements error.
func (e *DispatchError) Error() string {
	switch e.Kind {
	case DispatchModule:
		return fmt.Sprintf("dispatch error: Module{index: %d, error: %x}", e.Module.Index, e.Module.Error[:])
	case DispatchToken, DispatchArithmetic, DispatchTransactional:
		return fmt.Sprintf("dispatch error: %s(%d)", e.Kind, e.Sub)
	}
	return "dispatch error: " + e.Kind.String()
}

// EncodeSCALE writes the enum.
func (e *DispatchError) EncodeSCALE(w *scale.Writer) {
	w.Enum(uint8(e.Kind))
	switch e.Kind {
	case DispatchModule:
		w.U8(e.Module.Index)
		w.Raw(e.Module.Error[:])
	case DispatchToken, DispatchArithmetic, DispatchTransactional:
		w.U8(e.Sub)
	}
}

// DecodeSCALE reads the enum, with the inner enums bounded as the SDK's.
func (e *DispatchError) DecodeSCALE(r *scale.Reader) {
	*e = DispatchError{Kind: DispatchErrorKind(r.Enum(uint8(DispatchUnavailable)))}
	if r.Err() != nil {
		return
	}
	switch e.Kind {
	case DispatchModule:
		e.Module.Index = r.U8()
		r.Fixed(e.Module.Error[:])
	case DispatchToken:
		e.Sub = r.Enum(maxTokenError)
	case DispatchArithmetic:
		e.Sub = r.Enum(maxArithmeticError)
	case DispatchTransactional:
		e.Sub = r.Enum(maxTransactionalError)
	}
}

// ContractExecResult is what an InkMessage query's InkMessageReturn carries
// (pallet-contracts' ContractExecResult as the SDK's registry has it: no
// events field). Exactly one of Result (Err == nil) and Err is meaningful.
type ContractExecResult struct {
	GasConsumed    Weight
	GasRequired    Weight
	StorageDeposit StorageDeposit
	DebugMessage   string
	Result         ExecReturnValue
	Err            *DispatchError
}

func (c *ContractExecResult) encodeHead(w *scale.Writer) {
	c.GasConsumed.EncodeSCALE(w)
	c.GasRequired.EncodeSCALE(w)
	c.StorageDeposit.EncodeSCALE(w)
	w.String(c.DebugMessage)
}

func (c *ContractExecResult) decodeHead(r *scale.Reader) {
	c.GasConsumed.DecodeSCALE(r)
	c.GasRequired.DecodeSCALE(r)
	c.StorageDeposit.DecodeSCALE(r)
	c.DebugMessage = r.String()
}

// EncodeSCALE writes the result.
func (c *ContractExecResult) EncodeSCALE(w *scale.Writer) {
	c.encodeHead(w)
	if c.Err != nil {
		w.ResultErr()
		c.Err.EncodeSCALE(w)
		return
	}
	w.ResultOk()
	c.Result.EncodeSCALE(w)
}

// DecodeSCALE reads the result.
func (c *ContractExecResult) DecodeSCALE(r *scale.Reader) {
	*c = ContractExecResult{}
	c.decodeHead(r)
	if r.Result() {
		c.Result.DecodeSCALE(r)
	} else if r.Err() == nil {
		c.Err = new(DispatchError)
		c.Err.DecodeSCALE(r)
	}
}

// Encode returns the SCALE encoding.
func (c *ContractExecResult) Encode() []byte { return scale.Encode(c) }

// DecodeContractExecResult decodes a SCALE ContractExecResult that must fill
// b exactly (the SDK ignores trailing bytes; we do not accept them).
func DecodeContractExecResult(b []byte) (*ContractExecResult, error) {
	c := new(ContractExecResult)
	if err := decodeBounded(b, MaxResponseSize, c); err != nil {
		return nil, fmt.Errorf("%w: contract exec result: %w", ErrMalformed, err)
	}
	return c, nil
}

// ContractInstantiateResult is what an InkInstantiate query's
// InkMessageReturn carries: as ContractExecResult, but Ok holds
// {result: ExecReturnValue, accountId}.
type ContractInstantiateResult struct {
	ContractExecResult
	AccountID AccountID // the would-be contract's address, when Err == nil
}

// EncodeSCALE writes the result.
func (c *ContractInstantiateResult) EncodeSCALE(w *scale.Writer) {
	c.encodeHead(w)
	if c.Err != nil {
		w.ResultErr()
		c.Err.EncodeSCALE(w)
		return
	}
	w.ResultOk()
	c.Result.EncodeSCALE(w)
	w.Raw(c.AccountID[:])
}

// DecodeSCALE reads the result.
func (c *ContractInstantiateResult) DecodeSCALE(r *scale.Reader) {
	*c = ContractInstantiateResult{}
	c.decodeHead(r)
	if r.Result() {
		c.Result.DecodeSCALE(r)
		r.Fixed(c.AccountID[:])
	} else if r.Err() == nil {
		c.Err = new(DispatchError)
		c.Err.DecodeSCALE(r)
	}
}

// Encode returns the SCALE encoding.
func (c *ContractInstantiateResult) Encode() []byte { return scale.Encode(c) }

// DecodeContractInstantiateResult decodes a SCALE ContractInstantiateResult
// that must fill b exactly.
func DecodeContractInstantiateResult(b []byte) (*ContractInstantiateResult, error) {
	c := new(ContractInstantiateResult)
	if err := decodeBounded(b, MaxResponseSize, c); err != nil {
		return nil, fmt.Errorf("%w: contract instantiate result: %w", ErrMalformed, err)
	}
	return c, nil
}
