package phatwire

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// MaxCommandNonce is the bound of InkCommand's nonce (BoundedVec<u8, 32>).
const MaxCommandNonce = 32

// MaxCommandSize bounds the command payloads DecodeCommandPayload accepts
// (pallet-contracts' payload_len in pink is 1 MiB; an encrypted one adds
// its envelope).
const MaxCommandSize = 1<<20 + 128

// ErrNonceTooLong reports a command nonce over MaxCommandNonce bytes.
var ErrNonceTooLong = errors.New("phatwire: command nonce longer than 32 bytes")

// InkCommand is Phala's InkCommand, whose only variant (index 0) is
// InkMessage: a transaction calling a contract message.
type InkCommand struct {
	Nonce               []byte // at most 32 bytes
	Message             []byte // selector ‖ SCALE arguments
	Transfer            scale.U128
	GasLimit            uint64
	StorageDepositLimit *scale.U128 // nil: no limit
}

// Validate checks the bounds a decoder enforces.
func (c *InkCommand) Validate() error {
	if len(c.Nonce) > MaxCommandNonce {
		return fmt.Errorf("%w: %d bytes", ErrNonceTooLong, len(c.Nonce))
	}
	return nil
}

// EncodeSCALE writes InkCommand::InkMessage{…}. It does not check the nonce
// bound; Encode does.
func (c *InkCommand) EncodeSCALE(w *scale.Writer) {
	w.Enum(0)
	w.BytesVec(c.Nonce)
	w.BytesVec(c.Message)
	w.U128(c.Transfer)
	w.U64(c.GasLimit)
	scale.WriteOption(w, c.StorageDepositLimit, (*scale.Writer).U128)
}

// DecodeSCALE reads the command, rejecting a nonce over 32 bytes.
func (c *InkCommand) DecodeSCALE(r *scale.Reader) {
	*c = InkCommand{}
	r.Enum(0)
	c.Nonce = r.BytesVec()
	if r.Err() == nil && len(c.Nonce) > MaxCommandNonce {
		r.Fail(fmt.Errorf("%w: %d bytes", ErrNonceTooLong, len(c.Nonce)))
		return
	}
	c.Message = r.BytesVec()
	c.Transfer = r.U128()
	c.GasLimit = r.U64()
	c.StorageDepositLimit = scale.ReadOption(r, (*scale.Reader).U128)
}

// Encode returns the SCALE encoding after Validate.
func (c *InkCommand) Encode() ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return scale.Encode(c), nil
}

// DecodeInkCommand decodes a SCALE InkCommand that must fill b exactly.
func DecodeInkCommand(b []byte) (*InkCommand, error) {
	c := new(InkCommand)
	if err := decodeBounded(b, MaxCommandSize, c); err != nil {
		return nil, fmt.Errorf("%w: ink command: %w", ErrMalformed, err)
	}
	return c, nil
}

// CommandPayload is the payload of push_contract_message (Phala's
// secret_channel Payload, the SDK's CommandPayload): Plain (index 0) or
// Encrypted (index 1) to the contract's ECDH key. Exactly one is set.
type CommandPayload struct {
	Plain     *InkCommand
	Encrypted *cipher.EncryptedData
}

// EncodeSCALE writes the enum. A payload with neither field set writes
// nothing; Encode reports it.
func (p *CommandPayload) EncodeSCALE(w *scale.Writer) {
	switch {
	case p.Plain != nil:
		w.Enum(0)
		p.Plain.EncodeSCALE(w)
	case p.Encrypted != nil:
		w.Enum(1)
		p.Encrypted.EncodeSCALE(w)
	}
}

// DecodeSCALE reads the enum.
func (p *CommandPayload) DecodeSCALE(r *scale.Reader) {
	*p = CommandPayload{}
	switch r.Enum(1) {
	case 0:
		if r.Err() == nil {
			p.Plain = new(InkCommand)
			p.Plain.DecodeSCALE(r)
		}
	case 1:
		p.Encrypted = new(cipher.EncryptedData)
		p.Encrypted.DecodeSCALE(r)
	}
}

// Encode returns the SCALE encoding.
func (p *CommandPayload) Encode() ([]byte, error) {
	switch {
	case p.Plain != nil && p.Encrypted != nil:
		return nil, errors.New("phatwire: command payload is both plain and encrypted")
	case p.Plain != nil:
		if err := p.Plain.Validate(); err != nil {
			return nil, err
		}
	case p.Encrypted == nil:
		return nil, errors.New("phatwire: empty command payload")
	}
	return scale.Encode(p), nil
}

// DecodeCommandPayload decodes a SCALE CommandPayload that must fill b
// exactly. An encrypted payload is not opened; see Open.
func DecodeCommandPayload(b []byte) (*CommandPayload, error) {
	p := new(CommandPayload)
	if err := decodeBounded(b, MaxCommandSize, p); err != nil {
		return nil, fmt.Errorf("%w: command payload: %w", ErrMalformed, err)
	}
	return p, nil
}

// EncryptCommand seals cmd from the (ephemeral) sender to the contract's ECDH
// key with iv, as the SDK's EncryptedInkCommand does.
func EncryptCommand(sender *cipher.EcdhKey, contract keys.PublicKey, iv cipher.IV, cmd *InkCommand) (*CommandPayload, error) {
	plain, err := cmd.Encode()
	if err != nil {
		return nil, err
	}
	env, err := cipher.Encrypt(sender, contract, iv, plain)
	if err != nil {
		return nil, err
	}
	return &CommandPayload{Encrypted: env}, nil
}

// Open returns the command: the plain one, or the encrypted one decrypted
// with the contract's ECDH key and decoded.
func (p *CommandPayload) Open(contract *cipher.EcdhKey) (*InkCommand, error) {
	switch {
	case p.Plain != nil:
		return p.Plain, nil
	case p.Encrypted != nil:
		plain, err := p.Encrypted.Decrypt(contract)
		if err != nil {
			return nil, err
		}
		return DecodeInkCommand(plain)
	}
	return nil, errors.New("phatwire: empty command payload")
}
