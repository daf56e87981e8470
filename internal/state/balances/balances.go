// Package balances is the native token module (index 1 of AppVersion1):
// balances.transfer. Accounts themselves (storage, nonces, fees, the
// treasury) belong to the kernel, which charges every transaction's fee.
package balances

import (
	"fmt"
	"strconv"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the balances module's index.
	Index uint8 = 1
	// MethodTransfer is balances.transfer(dest: [u8; 32], amount: Compact<u128>).
	MethodTransfer uint8 = 0
)

// TransferWeight is the weight of balances.transfer.
const TransferWeight uint64 = 10_000

// Module returns the balances module.
func Module() *state.Module {
	return &state.Module{Name: "balances", Methods: []*state.Method{
		MethodTransfer: {Name: "transfer", Weight: TransferWeight, Check: checkTransfer, Exec: execTransfer},
	}}
}

// TransferCall builds balances.transfer(dest, amount).
func TransferCall(dest keys.PublicKey, amount scale.U128) tx.Call {
	w := scale.NewWriter(32 + 17)
	w.Raw(dest[:])
	w.CompactU128(amount)
	return tx.Call{Module: Index, Method: MethodTransfer, Args: w.Bytes()}
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

// u128String formats v in decimal, without big.Int for values below 2^64.
func u128String(v scale.U128) string {
	if v.Hi == 0 {
		return strconv.FormatUint(v.Lo, 10)
	}
	return v.String()
}

func execTransfer(c *state.CallCtx, args []byte) (uint32, string, error) {
	dest, amount, err := DecodeTransferArgs(args)
	if err != nil { // checked before; kept for safety
		return state.CodeBadArgs, err.Error(), nil
	}
	ov, signer, ed := c.Overlay(), c.Signer(), c.Params().ExistentialDeposit
	from, err := state.GetAccountAt(ov, c.SignerKey())
	if err != nil {
		return 0, "", err
	}
	if from.Free.Cmp(amount) < 0 {
		return state.CodeInsufficientBalance, fmt.Sprintf("transfer of %s exceeds free balance %s", amount, from.Free), nil
	}
	if dest != signer && !amount.IsZero() {
		rest, _ := from.Free.Sub(amount) // amount ≤ free
		if belowED(rest, ed) {
			return state.CodeBelowExistentialDeposit, fmt.Sprintf("sender would keep %s, below the existential deposit %s (send all or keep more)", rest, ed), nil
		}
		destKey := state.AccountKey(dest)
		to, err := state.GetAccountAt(ov, destKey)
		if err != nil {
			return 0, "", err
		}
		sum, of := to.Free.Add(amount)
		if of {
			return state.CodeOverflow, "recipient balance would overflow u128", nil
		}
		if belowED(sum, ed) {
			return state.CodeBelowExistentialDeposit, fmt.Sprintf("recipient would hold %s, below the existential deposit %s", sum, ed), nil
		}
		from.Free = rest
		to.Free = sum
		state.PutAccount(ov, c.SignerKey(), from)
		state.PutAccount(ov, destKey, to)
	}
	c.AddEvent(state.Event{Type: "transfer", Attributes: []state.EventAttribute{
		{Key: "from", Value: signer.Hex(), Index: true},
		{Key: "to", Value: dest.Hex(), Index: true},
		{Key: "amount", Value: u128String(amount)},
	}})
	return state.CodeOK, "", nil
}
