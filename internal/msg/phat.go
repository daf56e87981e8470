package msg

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Messages of Phat contracts: code uploads, instantiations and commands the
// phat module emits for the workers of a cluster, and the outcomes the
// cluster reports back (docs/state-machine.md, "phat"). Who sends each, and
// what the chain checks, is written beside its topic.

// Topics of Phat contracts.
const (
	// TopicPhatCode: Module("phat") → workers, payload CodeUploaded; a user's
	// phat.upload_code stored code (validated by the chain with the engine's
	// policy for its kind) and made it available in a cluster. Workers read
	// the code itself from verified state (phat/code/‖hash).
	TopicPhatCode = "phat/code"
	// TopicPhatInstantiate: Module("phat") → the cluster's workers, payload
	// Instantiate; a user's phat.instantiate. The chain checked that the code
	// is available in the cluster and is ink (deterministic), that the
	// contract id is new and that gas_limit is at most the cluster's maximum,
	// and reserved gas_limit × gas_price + transfer from the deployer into
	// the cluster's escrow account.
	TopicPhatInstantiate = "phat/instantiate"
	// TopicPhatCommand: Module("phat") → the cluster's workers, payload
	// Command; a user's phat.push_command to an instantiated contract. The
	// chain checked the payload's size, not its content (it may be encrypted
	// to the contract's key), and that gas_limit is at most the cluster's
	// maximum; it reserved gas_limit × gas_price + deposit from the signer
	// into the cluster's escrow account.
	TopicPhatCommand = "phat/command"
	// TopicClusterOutcome: Cluster → chain, payload Outcome; the gas an
	// instantiate or command used, reported by the cluster that ran it, and
	// the value its contracts transferred to plain accounts (payouts). The
	// chain checks that the command id is pending in that cluster and that
	// gas_used ≤ the reserved gas_limit, refunds the unused gas to the
	// signer and moves the used gas to the treasury; it pays every payout
	// out of the cluster's escrow and lowers the cluster's ledger total.
	TopicClusterOutcome = "cluster/outcome"
	// TopicClusterOutcomes: Cluster → chain, payload Outcomes; the outcomes
	// of all the instantiates and commands of one block of one cluster, in
	// block order (split into several messages of at most
	// MaxOutcomesPerMessage entries). The chain checks every entry as for
	// TopicClusterOutcome and applies the message all or nothing: one bad
	// entry refuses the whole message with that entry's code.
	TopicClusterOutcomes = "cluster/outcomes"
	// TopicInstantiateFailed: Cluster → chain, payload InstantiateFailed; the
	// contract's constructor failed. The chain checks that the contract is
	// pending in that cluster and marks it failed.
	TopicInstantiateFailed = "cluster/instantiate_failed"
)

// Code kinds (the kind byte of phat.upload_code and CodeUploaded).
const (
	// CodeKindInk is deterministic ink! code: no floating point; it may be
	// instantiated and run by commands and queries.
	CodeKindInk uint8 = 0
	// CodeKindIndeterministic is ink! code that may use floating point; it
	// runs only in queries (and cannot be instantiated on chain).
	CodeKindIndeterministic uint8 = 1
)

// Limits of Phat payloads (Phala's pallet-contracts schedule: MaxCodeLen
// 2 MiB, payload_len 1 MiB).
const (
	// MaxCodeSize bounds uploaded code.
	MaxCodeSize = 2 << 20
	// MaxCommandPayload bounds a command's payload and an instantiate's
	// constructor data.
	MaxCommandPayload = 1 << 20
	// MaxSaltLen bounds an instantiate's salt.
	MaxSaltLen = 256
	// MaxFailureReason bounds the reason of an InstantiateFailed.
	MaxFailureReason = 1024
)

// CommandID returns the id of the instantiate or command emitted as the
// index-th message (0-based, counting every message of the block in order)
// of the block at height: blake2-256(u64le(height) ‖ u32le(index)). Workers
// compute it from the block's messages; the chain keys reservations by it.
func CommandID(height uint64, index uint32) [32]byte {
	var b [12]byte
	binary.LittleEndian.PutUint64(b[:8], height)
	binary.LittleEndian.PutUint32(b[8:], index)
	return hashing.Blake2b256(b[:])
}

// ContractID returns a contract's id: blake2-256(deployer ‖ code_hash ‖
// cluster ‖ salt), Phala's contract_id_preimage.
func ContractID(deployer keys.PublicKey, codeHash, cluster [32]byte, salt []byte) [32]byte {
	return hashing.Blake2b256(deployer[:], codeHash[:], cluster[:], salt)
}

// CodeUploaded is the payload of TopicPhatCode.
type CodeUploaded struct {
	Cluster  [32]byte
	CodeHash [32]byte
	Kind     uint8
}

// EncodeSCALE writes (cluster [u8;32], code_hash [u8;32], kind u8).
func (p *CodeUploaded) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.Raw(p.CodeHash[:])
	w.U8(p.Kind)
}

// DecodeSCALE reads the payload; the kind must be known.
func (p *CodeUploaded) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	r.Fixed(p.CodeHash[:])
	p.Kind = r.U8()
	if r.Err() == nil && p.Kind > CodeKindIndeterministic {
		r.Fail(fmt.Errorf("code kind %d", p.Kind))
	}
}

// Instantiate is the payload of TopicPhatInstantiate.
type Instantiate struct {
	Cluster  [32]byte
	Contract [32]byte
	Deployer keys.PublicKey
	CodeHash [32]byte
	// Data is the constructor's selector ‖ SCALE arguments.
	Data     []byte
	Salt     []byte
	Transfer scale.U128
	GasLimit uint64
	// StorageDepositLimit is nil for None.
	StorageDepositLimit *scale.U128
	CommandID           [32]byte
}

func writeOptionU128(w *scale.Writer, v *scale.U128) {
	if v == nil {
		w.OptionNone()
		return
	}
	w.OptionSome()
	w.U128(*v)
}

func readOptionU128(r *scale.Reader) *scale.U128 {
	if !r.Option() {
		return nil
	}
	v := r.U128()
	return &v
}

func readBounded(r *scale.Reader, limit int, what string) []byte {
	b := r.BytesVec()
	if r.Err() == nil && len(b) > limit {
		r.Fail(fmt.Errorf("%s of %d bytes, at most %d", what, len(b), limit))
		return nil
	}
	return b
}

// EncodeSCALE writes (cluster [u8;32], contract [u8;32], deployer [u8;32],
// code_hash [u8;32], data Vec<u8>, salt Vec<u8>, transfer u128, gas_limit
// u64, storage_deposit_limit Option<u128>, command_id [u8;32]).
func (p *Instantiate) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.Raw(p.Contract[:])
	w.Raw(p.Deployer[:])
	w.Raw(p.CodeHash[:])
	w.BytesVec(p.Data)
	w.BytesVec(p.Salt)
	w.U128(p.Transfer)
	w.U64(p.GasLimit)
	writeOptionU128(w, p.StorageDepositLimit)
	w.Raw(p.CommandID[:])
}

// DecodeSCALE reads the payload: data at most MaxCommandPayload bytes, salt
// at most MaxSaltLen.
func (p *Instantiate) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	r.Fixed(p.Contract[:])
	r.Fixed(p.Deployer[:])
	r.Fixed(p.CodeHash[:])
	p.Data = readBounded(r, MaxCommandPayload, "constructor data")
	p.Salt = readBounded(r, MaxSaltLen, "salt")
	p.Transfer = r.U128()
	p.GasLimit = r.U64()
	p.StorageDepositLimit = readOptionU128(r)
	r.Fixed(p.CommandID[:])
}

// Command is the payload of TopicPhatCommand.
type Command struct {
	Cluster  [32]byte
	Contract [32]byte
	// Origin is the transaction's signer: the command's caller.
	Origin keys.PublicKey
	// Payload is SCALE CommandPayload (phatwire) exactly as the user sent it.
	Payload   []byte
	CommandID [32]byte
	// GasLimit is the gas the chain reserved for the command (the call's
	// gas_limit): the cluster refuses a command whose InkCommand asks for
	// more.
	GasLimit uint64
	// Deposit is the value the chain moved from the signer into the
	// cluster's escrow with the command (Phala's push_contract_message
	// deposit): the cluster credits it to Origin in its ledger, before the
	// command runs and whether or not it runs.
	Deposit scale.U128
}

// EncodeSCALE writes (cluster [u8;32], contract [u8;32], origin [u8;32],
// payload Vec<u8>, command_id [u8;32], gas_limit u64, deposit u128).
func (p *Command) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.Raw(p.Contract[:])
	w.Raw(p.Origin[:])
	w.BytesVec(p.Payload)
	w.Raw(p.CommandID[:])
	w.U64(p.GasLimit)
	w.U128(p.Deposit)
}

// DecodeSCALE reads the payload: at most MaxCommandPayload payload bytes.
func (p *Command) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	r.Fixed(p.Contract[:])
	r.Fixed(p.Origin[:])
	p.Payload = readBounded(r, MaxCommandPayload, "command payload")
	r.Fixed(p.CommandID[:])
	p.GasLimit = r.U64()
	p.Deposit = r.U128()
}

// MaxPayouts bounds the payouts of one Outcome. A cluster pays out at most
// this many accounts per execution (the first ones in account order); the
// others keep their balance in the cluster's ledger.
const MaxPayouts = 64

// Payout is value a contract transferred to a plain (non-contract) account
// during an execution, paid out of the cluster's escrow on chain.
type Payout struct {
	Account [32]byte
	Amount  scale.U128
}

// Outcome is the payload of TopicClusterOutcome.
type Outcome struct {
	CommandID [32]byte
	GasUsed   uint64
	// Payouts are in strictly increasing account order, at most MaxPayouts,
	// each non-zero; the cluster debited them from its ledger.
	Payouts []Payout
}

// EncodeSCALE writes (command_id [u8;32], gas_used u64, payouts
// Vec<(AccountId [u8;32], u128)>).
func (p *Outcome) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.CommandID[:])
	w.U64(p.GasUsed)
	w.Compact(uint64(len(p.Payouts)))
	for i := range p.Payouts {
		w.Raw(p.Payouts[i].Account[:])
		w.U128(p.Payouts[i].Amount)
	}
}

// MaxOutcomesPerMessage bounds the entries of one Outcomes message. A
// cluster worker splits a block's outcomes into ⌈n / MaxOutcomesPerMessage⌉
// messages, so the number it emits is a function of the block's inputs.
// At most MaxPayouts payouts each, a message stays below 400 KB.
const MaxOutcomesPerMessage = 128

// OutcomesMessages is the number of TopicClusterOutcomes messages a
// cluster emits for n outcomes in one block.
func OutcomesMessages(n int) int {
	return (n + MaxOutcomesPerMessage - 1) / MaxOutcomesPerMessage
}

// OutcomesOf returns the outcomes a delivered message reports: its entries
// for TopicClusterOutcomes, the outcome itself for TopicClusterOutcome, and
// none for other topics or an undecodable payload.
func OutcomesOf(topic string, payload []byte) []Outcome {
	switch topic {
	case TopicClusterOutcomes:
		var p Outcomes
		if scale.Decode(payload, &p) == nil {
			return p.Entries
		}
	case TopicClusterOutcome:
		var o Outcome
		if scale.Decode(payload, &o) == nil {
			return []Outcome{o}
		}
	}
	return nil
}

// Outcomes is the payload of TopicClusterOutcomes.
type Outcomes struct {
	// Entries are 1 to MaxOutcomesPerMessage outcomes, each with a distinct
	// command id.
	Entries []Outcome
}

// EncodeSCALE writes Vec<Outcome>.
func (p *Outcomes) EncodeSCALE(w *scale.Writer) {
	w.Compact(uint64(len(p.Entries)))
	for i := range p.Entries {
		p.Entries[i].EncodeSCALE(w)
	}
}

// outcomeMinBytes is the smallest encoded Outcome (no payouts).
const outcomeMinBytes = 32 + 8 + 1

// DecodeSCALE reads 1 to MaxOutcomesPerMessage outcomes (each checked as
// by Outcome.DecodeSCALE) with distinct command ids.
func (p *Outcomes) DecodeSCALE(r *scale.Reader) {
	n := r.Len(outcomeMinBytes)
	if r.Err() != nil {
		return
	}
	if n == 0 || n > MaxOutcomesPerMessage {
		r.Fail(fmt.Errorf("%d outcomes, need 1 to %d", n, MaxOutcomesPerMessage))
		return
	}
	p.Entries = make([]Outcome, n)
	seen := make(map[[32]byte]struct{}, n)
	for i := range p.Entries {
		p.Entries[i].DecodeSCALE(r)
		if r.Err() != nil {
			return
		}
		if _, dup := seen[p.Entries[i].CommandID]; dup {
			r.Fail(fmt.Errorf("outcome %d repeats command %x", i, p.Entries[i].CommandID))
			return
		}
		seen[p.Entries[i].CommandID] = struct{}{}
	}
}

// DecodeSCALE reads the payload: at most MaxPayouts payouts, non-zero and in
// strictly increasing account order (so an account is paid at most once).
func (p *Outcome) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.CommandID[:])
	p.GasUsed = r.U64()
	n := r.Len(48)
	if r.Err() != nil {
		return
	}
	if n > MaxPayouts {
		r.Fail(fmt.Errorf("%d payouts, at most %d", n, MaxPayouts))
		return
	}
	p.Payouts = nil
	if n > 0 {
		p.Payouts = make([]Payout, n)
	}
	for i := range p.Payouts {
		r.Fixed(p.Payouts[i].Account[:])
		p.Payouts[i].Amount = r.U128()
		if r.Err() != nil {
			return
		}
		if p.Payouts[i].Amount.IsZero() {
			r.Fail(fmt.Errorf("payout %d is zero", i))
			return
		}
		if i > 0 && bytes.Compare(p.Payouts[i-1].Account[:], p.Payouts[i].Account[:]) >= 0 {
			r.Fail(fmt.Errorf("payout %d out of account order", i))
			return
		}
	}
}

// InstantiateFailed is the payload of TopicInstantiateFailed.
type InstantiateFailed struct {
	Contract [32]byte
	// Reason says why the constructor failed (at most MaxFailureReason bytes).
	Reason string
}

// EncodeSCALE writes (contract [u8;32], reason String).
func (p *InstantiateFailed) EncodeSCALE(w *scale.Writer) { w.Raw(p.Contract[:]); w.String(p.Reason) }

// DecodeSCALE reads the payload: a reason of at most MaxFailureReason bytes.
func (p *InstantiateFailed) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Contract[:])
	p.Reason = string(readBounded(r, MaxFailureReason, "failure reason"))
}

// TopicClusterStateRoot: Worker → chain, payload StateRootReport; a worker
// of a cluster that holds the cluster key reports the cluster state root
// after block Height, at every height that is a multiple of the cluster's
// report interval. It is sent from the worker's own origin (signed by its
// identity key), not the cluster's, so that the chain can tell which
// worker said what: the workers of a cluster compute identical roots, and
// a report that differs from the first one for the same height raises a
// divergence alarm naming its worker.
const TopicClusterStateRoot = "cluster/state_root"

// StateRootReport is the payload of TopicClusterStateRoot.
type StateRootReport struct {
	Cluster [32]byte
	Height  uint64
	Root    [32]byte
}

// EncodeSCALE writes (cluster [u8;32], height u64, root [u8;32]).
func (p *StateRootReport) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Cluster[:])
	w.U64(p.Height)
	w.Raw(p.Root[:])
}

// DecodeSCALE reads the payload.
func (p *StateRootReport) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Cluster[:])
	p.Height = r.U64()
	r.Fixed(p.Root[:])
}
