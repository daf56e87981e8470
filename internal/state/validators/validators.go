// Package validators is the module that changes the validator set (index 2
// of AppVersion1): validators.set_power (dev chains only, any signer) and
// validators.set (privileged: admin.sudo or governance). The validator set
// itself (storage, genesis, the block's ValidatorUpdates) belongs to the
// kernel.
package validators

import (
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the validators module's index.
	Index uint8 = 2
	// MethodSetPower is validators.set_power(pubkey: [u8; 32] ed25519, power: u64); power 0 removes.
	MethodSetPower uint8 = 0
	// MethodSet is validators.set(pubkey: [u8; 32] ed25519, power: u64,
	// allow_concentration: bool) (privileged); power 0 removes. It fails
	// with state.CodeInvalidValidatorSet when no validator would remain and
	// with state.CodePowerConcentration when one validator would hold more
	// than a third of the total power, unless allow_concentration is set
	// (a single-validator chain, or a deliberate bootstrap).
	MethodSet uint8 = 1
)

// SetPowerWeight is the weight of validators.set_power.
const SetPowerWeight uint64 = 10_000

// Module returns the validators module.
func Module() *state.Module {
	return &state.Module{Name: "validators", Methods: []*state.Method{
		MethodSetPower: {Name: "set_power", Weight: SetPowerWeight, DevOnly: true, Check: checkSetPower, Exec: execSetPower},
		MethodSet:      {Name: "set", Weight: SetPowerWeight, Privileged: true, Check: checkSet, Exec: execSet},
	}}
}

// SetCall builds validators.set(pubkey, power, allowConcentration) (privileged).
func SetCall(pubKey [32]byte, power uint64, allowConcentration bool) tx.Call {
	w := scale.NewWriter(41)
	w.Raw(pubKey[:])
	w.U64(power)
	w.Bool(allowConcentration)
	return tx.Call{Module: Index, Method: MethodSet, Args: w.Bytes()}
}

// DecodeSetArgs decodes the arguments of validators.set.
func DecodeSetArgs(args []byte) (pubKey [32]byte, power uint64, allowConcentration bool, err error) {
	r := scale.NewReader(args)
	r.Fixed(pubKey[:])
	power = r.U64()
	allowConcentration = r.Bool()
	if err := r.Finish(); err != nil {
		return [32]byte{}, 0, false, fmt.Errorf("validators.set args: %w", err)
	}
	if power > state.MaxTotalVotingPower {
		return [32]byte{}, 0, false, fmt.Errorf("validators.set: power %d exceeds %d", power, int64(state.MaxTotalVotingPower))
	}
	return pubKey, power, allowConcentration, nil
}

func checkSet(args []byte) error {
	_, _, _, err := DecodeSetArgs(args)
	return err
}

func execSet(c *state.CallCtx, args []byte) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "validators.set needs the root origin", nil
	}
	pk, power, allow, err := DecodeSetArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	return setPower(c, pk, power, !allow)
}

// SetPowerCall builds validators.set_power(pubkey, power) (dev chains only).
func SetPowerCall(pubKey [32]byte, power uint64) tx.Call {
	w := scale.NewWriter(40)
	w.Raw(pubKey[:])
	w.U64(power)
	return tx.Call{Module: Index, Method: MethodSetPower, Args: w.Bytes()}
}

// DecodeSetPowerArgs decodes the arguments of validators.set_power; the power
// must not exceed state.MaxTotalVotingPower.
func DecodeSetPowerArgs(args []byte) (pubKey [32]byte, power uint64, err error) {
	r := scale.NewReader(args)
	r.Fixed(pubKey[:])
	power = r.U64()
	if err := r.Finish(); err != nil {
		return [32]byte{}, 0, fmt.Errorf("validators.set_power args: %w", err)
	}
	if power > state.MaxTotalVotingPower {
		return [32]byte{}, 0, fmt.Errorf("validators.set_power: power %d exceeds %d", power, int64(state.MaxTotalVotingPower))
	}
	return pubKey, power, nil
}

func checkSetPower(args []byte) error {
	_, _, err := DecodeSetPowerArgs(args)
	return err
}

func execSetPower(c *state.CallCtx, args []byte) (uint32, string, error) {
	pk, power, err := DecodeSetPowerArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	return setPower(c, pk, power, false)
}

// setPower sets pk's power (0 removes) and checks the resulting set: not
// empty, total within CometBFT's limit and, when bounded, no validator
// above a third of the total.
func setPower(c *state.CallCtx, pk [32]byte, power uint64, bounded bool) (uint32, string, error) {
	vs, err := state.GetValidators(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	out := make([]state.Validator, 0, len(vs)+1)
	found := false
	for _, v := range vs {
		if v.PubKey == pk {
			found = true
			if power > 0 {
				out = append(out, state.Validator{PubKey: pk, Power: int64(power)})
			}
			continue
		}
		out = append(out, v)
	}
	if !found {
		if power == 0 {
			return state.CodeOK, "", nil // removing an absent validator changes nothing
		}
		out = append(out, state.Validator{PubKey: pk, Power: int64(power)})
	}
	var total int64
	for _, v := range out {
		if v.Power > state.MaxTotalVotingPower-total {
			return state.CodeInvalidValidatorSet, "total voting power would exceed the maximum", nil
		}
		total += v.Power
	}
	if total == 0 {
		return state.CodeInvalidValidatorSet, "the validator set would be empty", nil
	}
	if bounded {
		for _, v := range out {
			// v.Power > total/3, without rounding: 3·v.Power > total (no
			// overflow: total ≤ MaxInt64/8).
			if 3*v.Power > total {
				return state.CodePowerConcentration, fmt.Sprintf("validator %x would hold %d of %d voting power, more than 1/3 (set allow_concentration to mean it)", v.PubKey, v.Power, total), nil
			}
		}
	}
	state.SortValidators(out)
	state.PutValidators(c.Overlay(), out)
	c.ValidatorsChanged()
	c.AddEvent(state.Event{Type: "validator", Attributes: []state.EventAttribute{
		{Key: "pubkey", Value: "0x" + hex.EncodeToString(pk[:]), Index: true},
		{Key: "power", Value: strconv.FormatUint(power, 10)},
	}})
	return state.CodeOK, "", nil
}
