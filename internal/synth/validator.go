package synth

import (
	"errors"
	"strconv"

	"github.com/cometbft/cometbft/crypto"
	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/state"
)

// Validator is a test validator: an ed25519 key held in memory, signing as
// CometBFT's privval does (it implements types.PrivValidator, without the
// double-sign protection of a file-backed privval).
type Validator struct {
	// Name is the seed the key was derived from (for messages).
	Name    string
	PrivKey ed25519.PrivKey
}

var _ types.PrivValidator = (*Validator)(nil)

// NewValidator returns the validator whose key derives deterministically
// from name.
func NewValidator(name string) *Validator {
	return &Validator{Name: name, PrivKey: ed25519.GenPrivKeyFromSecret([]byte("cella/synth/validator/" + name))}
}

// Validators returns n validators named "val-0" … "val-(n-1)".
func Validators(n int) []*Validator {
	out := make([]*Validator, n)
	for i := range out {
		out[i] = NewValidator("val-" + strconv.Itoa(i))
	}
	return out
}

// PubKey returns the validator's public key.
func (v *Validator) PubKey() crypto.PubKey { return v.PrivKey.PubKey() }

// PubKeyBytes returns the 32 bytes of the public key.
func (v *Validator) PubKeyBytes() [32]byte {
	var out [32]byte
	copy(out[:], v.PrivKey.PubKey().Bytes())
	return out
}

// Address returns the validator's CometBFT address.
func (v *Validator) Address() types.Address { return v.PrivKey.PubKey().Address() }

// State returns the validator as a state-machine validator with power.
func (v *Validator) State(power int64) state.Validator {
	return state.Validator{PubKey: v.PubKeyBytes(), Power: power}
}

// GetPubKey implements types.PrivValidator.
func (v *Validator) GetPubKey() (crypto.PubKey, error) { return v.PubKey(), nil }

// SignVote implements types.PrivValidator: it signs the vote's canonical
// sign bytes (types.VoteSignBytes). Vote extensions are not signed (Cella
// does not enable them).
func (v *Validator) SignVote(chainID string, vote *cmtproto.Vote) error {
	sig, err := v.PrivKey.Sign(types.VoteSignBytes(chainID, vote))
	if err != nil {
		return err
	}
	vote.Signature = sig
	return nil
}

// SignProposal implements types.PrivValidator.
func (v *Validator) SignProposal(chainID string, p *cmtproto.Proposal) error {
	if p == nil {
		return errors.New("synth: nil proposal")
	}
	sig, err := v.PrivKey.Sign(types.ProposalSignBytes(chainID, p))
	if err != nil {
		return err
	}
	p.Signature = sig
	return nil
}
