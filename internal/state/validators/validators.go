// Package validators is the module that changes the validator set (index 2
// of AppVersion1, dev chains only): validators.set_power. The validator set
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
)

// SetPowerWeight is the weight of validators.set_power.
const SetPowerWeight uint64 = 10_000

// Module returns the validators module.
func Module() *state.Module {
	return &state.Module{Name: "validators", Methods: []*state.Method{
		MethodSetPower: {Name: "set_power", Weight: SetPowerWeight, DevOnly: true, Check: checkSetPower, Exec: execSetPower},
	}}
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
	state.SortValidators(out)
	state.PutValidators(c.Overlay(), out)
	c.ValidatorsChanged()
	c.AddEvent(state.Event{Type: "validator", Attributes: []state.EventAttribute{
		{Key: "pubkey", Value: "0x" + hex.EncodeToString(pk[:]), Index: true},
		{Key: "power", Value: strconv.FormatUint(power, 10)},
	}})
	return state.CodeOK, "", nil
}
