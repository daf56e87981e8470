package phatwire

import (
	"fmt"

	"github.com/cella-network/cella/internal/scale"
)

// Command outcomes (Cella's, Phala has none): the sender of a command asks
// a worker of the contract's cluster for what the command did with a
// ContractQuery whose head id is the command id (the chain's
// phat/command command_id), signed and sealed as any query; the answer's
// payload is a SCALE CommandOutcome. Only the certificate chain's root
// account that sent the command gets it.

// NoOutcome is the message of the RuntimeError a worker answers when it has
// no outcome of the command for the query's account: the same for a
// command of another account as for an unknown one.
const NoOutcome = "no outcome for this account and command"

// MaxOutcomeSize bounds an encoded CommandOutcome.
const MaxOutcomeSize = MaxQuerySize

// OutcomeEvent is one event a contract deposited.
type OutcomeEvent struct {
	Contract [32]byte
	Topics   [][32]byte
	Data     []byte
}

// CommandOutcome is what a cluster recorded for one command or
// instantiate:
//
//	u64 height ‖ [u8;32] contract ‖ String refused ‖ u32 flags ‖
//	Vec<u8> output ‖ String error ‖ u64 gas_used ‖
//	Vec<([u8;32] contract, Vec<[u8;32]> topics, Vec<u8> data)> events
type CommandOutcome struct {
	// Height is the block that carried the command.
	Height   uint64
	Contract [32]byte
	// Refused is non-empty when the command was not executed: why.
	Refused string
	// Flags are the contract's return flags (bit 0: revert).
	Flags uint32
	// Output is the message's SCALE return value.
	Output []byte
	// Error is non-empty when the execution trapped or failed.
	Error   string
	GasUsed uint64
	Events  []OutcomeEvent
}

// Reverted reports a contract that returned with the revert flag.
func (o *CommandOutcome) Reverted() bool { return o.Flags&1 != 0 }

// EncodeSCALE writes the outcome.
func (o *CommandOutcome) EncodeSCALE(w *scale.Writer) {
	w.U64(o.Height)
	w.Raw(o.Contract[:])
	w.String(o.Refused)
	w.U32(o.Flags)
	w.BytesVec(o.Output)
	w.String(o.Error)
	w.U64(o.GasUsed)
	w.Compact(uint64(len(o.Events)))
	for i := range o.Events {
		ev := &o.Events[i]
		w.Raw(ev.Contract[:])
		w.Compact(uint64(len(ev.Topics)))
		for _, t := range ev.Topics {
			w.Raw(t[:])
		}
		w.BytesVec(ev.Data)
	}
}

// DecodeSCALE reads the outcome.
func (o *CommandOutcome) DecodeSCALE(r *scale.Reader) {
	o.Height = r.U64()
	r.Fixed(o.Contract[:])
	o.Refused = r.String()
	o.Flags = r.U32()
	o.Output = r.BytesVec()
	o.Error = r.String()
	o.GasUsed = r.U64()
	n := r.Len(32 + 1 + 1)
	for i := 0; i < n && r.Err() == nil; i++ {
		var ev OutcomeEvent
		r.Fixed(ev.Contract[:])
		t := r.Len(32)
		for j := 0; j < t && r.Err() == nil; j++ {
			var h [32]byte
			r.Fixed(h[:])
			ev.Topics = append(ev.Topics, h)
		}
		ev.Data = r.BytesVec()
		o.Events = append(o.Events, ev)
	}
}

// DecodeCommandOutcome decodes a SCALE CommandOutcome that must fill b
// exactly.
func DecodeCommandOutcome(b []byte) (*CommandOutcome, error) {
	o := new(CommandOutcome)
	if err := decodeBounded(b, MaxOutcomeSize, o); err != nil {
		return nil, fmt.Errorf("%w: command outcome: %w", ErrMalformed, err)
	}
	return o, nil
}
