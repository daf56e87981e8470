package state

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tx"
)

// Module and method indices of AppVersion1 (mq and registry have theirs in
// mq.go and registry.go). Index 0 is reserved for a future "system" module.
const (
	// ModuleBalances is the native token module.
	ModuleBalances uint8 = 1
	// MethodTransfer is balances.transfer(dest: [u8; 32], amount: Compact<u128>).
	MethodTransfer uint8 = 0

	// ModuleValidators changes the validator set (dev chains only).
	ModuleValidators uint8 = 2
	// MethodSetPower is validators.set_power(pubkey: [u8; 32] ed25519, power: u64); power 0 removes.
	MethodSetPower uint8 = 0
)

// Event is a display-only record of what a transaction did (CometBFT events
// are not covered by any hash; verifiers use TxResult.Data and the write-set).
// Accounts appear as 0x-prefixed hex public keys (SS58 encoding costs more
// than the rest of a transfer; clients convert for display).
type Event struct {
	Type       string
	Attributes []EventAttribute
}

// EventAttribute is one key/value of an Event; Index asks CometBFT to index it.
type EventAttribute struct {
	Key, Value string
	Index      bool
}

// callCtx is what a call sees: its own nested overlay, the transaction's
// signer, the block header and the machine's configuration.
type callCtx struct {
	ov        *Overlay
	params    *Params
	signer    keys.PublicKey
	signerKey []byte // AccountKey(signer)
	m         *Machine
	h         *Header
	// dryRun is set in CheckTx: the call's writes are thrown away, and
	// checks that need the block (attestations) are skipped.
	dryRun   bool
	events   []Event
	msgs     []Message // messages the call emits, kept only if it succeeds
	valDirty bool      // the validator set was written
}

// admitCtx is what a call's admission checks see: the block's state so far
// (read only), the signature cache and, in CheckTx, the mempool's pending
// mq sequences.
type admitCtx struct {
	st      Store
	cache   SigCache
	pending PendingSequences
}

// method is one callable entry of a module.
type method struct {
	name    string
	weight  uint64
	devOnly bool
	// check decodes the arguments statically (no state); an error is CodeBadArgs.
	check func(args []byte) error
	// admit, when set, runs the call's stateful admission checks after the
	// fee checks and before the transaction is accepted. It must not write;
	// a non-zero code must be a rejection (below 32).
	admit func(a *admitCtx, args []byte) (code uint32, log string, err error)
	// exec runs the call. A non-zero code is a call failure (the caller
	// discards the call's writes); err is a store failure.
	exec func(c *callCtx, args []byte) (code uint32, log string, err error)
}

type module struct {
	name    string
	methods []*method // by method index
}

// runtime is the module table of one app version, keyed by module index.
type runtime struct {
	modules [256]*module
}

// runtimes registers every module of every supported app version: the one
// place where modules are wired in.
var runtimes = map[uint64]*runtime{
	AppVersion1: runtimeV1(),
}

// runtimeV1 is the module table of AppVersion1.
func runtimeV1() *runtime {
	rt := &runtime{}
	rt.modules[ModuleBalances] = &module{name: "balances", methods: []*method{
		MethodTransfer: {name: "transfer", weight: TransferWeight, check: checkTransfer, exec: execTransfer},
	}}
	rt.modules[ModuleValidators] = &module{name: "validators", methods: []*method{
		MethodSetPower: {name: "set_power", weight: SetPowerWeight, devOnly: true, check: checkSetPower, exec: execSetPower},
	}}
	rt.modules[ModuleMq] = &module{name: "mq", methods: []*method{
		MethodSubmit: {name: "submit", weight: MqSubmitWeight, check: checkSubmit, admit: admitSubmit, exec: execSubmit},
	}}
	rt.modules[ModuleRegistry] = &module{name: "registry", methods: []*method{
		MethodRegisterWorker: {name: "register_worker", weight: RegisterWorkerWeight, check: checkRegisterWorker, exec: execRegisterWorker},
	}}
	return rt
}

func supportedAppVersion(v uint64) bool { _, ok := runtimes[v]; return ok }

// lookup finds a call's method at an app version.
func lookup(appVersion uint64, c *tx.Call) (*method, bool) {
	rt := runtimes[appVersion]
	if rt == nil {
		return nil, false
	}
	mod := rt.modules[c.Module]
	if mod == nil || int(c.Method) >= len(mod.methods) || mod.methods[c.Method] == nil {
		return nil, false
	}
	return mod.methods[c.Method], true
}

// CallName returns "module.method" for a known call at an app version, or
// "module(M).method(N)".
func CallName(appVersion uint64, c tx.Call) string {
	if rt := runtimes[appVersion]; rt != nil {
		if mod := rt.modules[c.Module]; mod != nil {
			if int(c.Method) < len(mod.methods) && mod.methods[c.Method] != nil {
				return mod.name + "." + mod.methods[c.Method].name
			}
		}
	}
	return fmt.Sprintf("module(%d).method(%d)", c.Module, c.Method)
}

// u128String formats v in decimal, without big.Int for values below 2^64.
func u128String(v scale.U128) string {
	if v.Hi == 0 {
		return strconv.FormatUint(v.Lo, 10)
	}
	return v.String()
}

// ---- balances ----

// TransferCall builds balances.transfer(dest, amount).
func TransferCall(dest keys.PublicKey, amount scale.U128) tx.Call {
	w := scale.NewWriter(32 + 17)
	w.Raw(dest[:])
	w.CompactU128(amount)
	return tx.Call{Module: ModuleBalances, Method: MethodTransfer, Args: w.Bytes()}
}

// DecodeTransferArgs decodes the arguments of balances.transfer.
func DecodeTransferArgs(args []byte) (dest keys.PublicKey, amount scale.U128, err error) {
	r := scale.NewReader(args)
	r.Fixed(dest[:])
	amount = r.CompactU128()
	if err := r.Finish(); err != nil {
		return keys.PublicKey{}, scale.U128{}, fmt.Errorf("balances.transfer args: %w", err)
	}
	return dest, amount, nil
}

func checkTransfer(args []byte) error {
	_, _, err := DecodeTransferArgs(args)
	return err
}

// belowED reports whether 0 < b < ed.
func belowED(b, ed scale.U128) bool { return !b.IsZero() && b.Cmp(ed) < 0 }

func execTransfer(c *callCtx, args []byte) (uint32, string, error) {
	dest, amount, err := DecodeTransferArgs(args)
	if err != nil { // checked before; kept for safety
		return CodeBadArgs, err.Error(), nil
	}
	from, err := getAccountAt(c.ov, c.signerKey)
	if err != nil {
		return 0, "", err
	}
	if from.Free.Cmp(amount) < 0 {
		return CodeInsufficientBalance, fmt.Sprintf("transfer of %s exceeds free balance %s", amount, from.Free), nil
	}
	if dest != c.signer && !amount.IsZero() {
		rest, _ := from.Free.Sub(amount) // amount ≤ free
		if belowED(rest, c.params.ExistentialDeposit) {
			return CodeBelowExistentialDeposit, fmt.Sprintf("sender would keep %s, below the existential deposit %s (send all or keep more)", rest, c.params.ExistentialDeposit), nil
		}
		destKey := AccountKey(dest)
		to, err := getAccountAt(c.ov, destKey)
		if err != nil {
			return 0, "", err
		}
		sum, of := to.Free.Add(amount)
		if of {
			return CodeOverflow, "recipient balance would overflow u128", nil
		}
		if belowED(sum, c.params.ExistentialDeposit) {
			return CodeBelowExistentialDeposit, fmt.Sprintf("recipient would hold %s, below the existential deposit %s", sum, c.params.ExistentialDeposit), nil
		}
		from.Free = rest
		to.Free = sum
		putAccount(c.ov, c.signerKey, from)
		putAccount(c.ov, destKey, to)
	}
	c.events = append(c.events, Event{Type: "transfer", Attributes: []EventAttribute{
		{Key: "from", Value: c.signer.Hex(), Index: true},
		{Key: "to", Value: dest.Hex(), Index: true},
		{Key: "amount", Value: u128String(amount)},
	}})
	return CodeOK, "", nil
}

// ---- validators ----

// SetPowerCall builds validators.set_power(pubkey, power) (dev chains only).
func SetPowerCall(pubKey [32]byte, power uint64) tx.Call {
	w := scale.NewWriter(40)
	w.Raw(pubKey[:])
	w.U64(power)
	return tx.Call{Module: ModuleValidators, Method: MethodSetPower, Args: w.Bytes()}
}

// DecodeSetPowerArgs decodes the arguments of validators.set_power; the power
// must not exceed MaxTotalVotingPower.
func DecodeSetPowerArgs(args []byte) (pubKey [32]byte, power uint64, err error) {
	r := scale.NewReader(args)
	r.Fixed(pubKey[:])
	power = r.U64()
	if err := r.Finish(); err != nil {
		return [32]byte{}, 0, fmt.Errorf("validators.set_power args: %w", err)
	}
	if power > MaxTotalVotingPower {
		return [32]byte{}, 0, fmt.Errorf("validators.set_power: power %d exceeds %d", power, int64(MaxTotalVotingPower))
	}
	return pubKey, power, nil
}

func checkSetPower(args []byte) error {
	_, _, err := DecodeSetPowerArgs(args)
	return err
}

func execSetPower(c *callCtx, args []byte) (uint32, string, error) {
	pk, power, err := DecodeSetPowerArgs(args)
	if err != nil {
		return CodeBadArgs, err.Error(), nil
	}
	vs, err := GetValidators(c.ov)
	if err != nil {
		return 0, "", err
	}
	out := make([]Validator, 0, len(vs)+1)
	found := false
	for _, v := range vs {
		if v.PubKey == pk {
			found = true
			if power > 0 {
				out = append(out, Validator{PubKey: pk, Power: int64(power)})
			}
			continue
		}
		out = append(out, v)
	}
	if !found {
		if power == 0 {
			return CodeOK, "", nil // removing an absent validator changes nothing
		}
		out = append(out, Validator{PubKey: pk, Power: int64(power)})
	}
	var total int64
	for _, v := range out {
		if v.Power > MaxTotalVotingPower-total {
			return CodeInvalidValidatorSet, "total voting power would exceed the maximum", nil
		}
		total += v.Power
	}
	if total == 0 {
		return CodeInvalidValidatorSet, "the validator set would be empty", nil
	}
	sortValidators(out)
	putValidators(c.ov, out)
	c.valDirty = true
	c.events = append(c.events, Event{Type: "validator", Attributes: []EventAttribute{
		{Key: "pubkey", Value: "0x" + hex.EncodeToString(pk[:]), Index: true},
		{Key: "power", Value: strconv.FormatUint(power, 10)},
	}})
	return CodeOK, "", nil
}
