package lightclient

import (
	"bytes"
	"fmt"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
)

// trustedSet checks an untrusted validator set and returns an independent
// copy that keeps the validators' order (the order is part of the set's
// hash, and commits are matched to validators by index). The copy is never
// mutated afterwards: its proposer and total power are set here, so that
// CometBFT's lazy caches never write to it, and it may be shared between
// States. Only ed25519 keys are accepted, as Cella's genesis requires.
func trustedSet(vals *types.ValidatorSet) (*types.ValidatorSet, error) {
	if vals == nil || len(vals.Validators) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformedValidatorSet)
	}
	pvs := make([]*cmtproto.Validator, len(vals.Validators))
	seen := make(map[string]struct{}, len(vals.Validators))
	var total int64
	for i, v := range vals.Validators {
		if v == nil || v.PubKey == nil {
			return nil, fmt.Errorf("%w: validator %d has no key", ErrMalformedValidatorSet, i)
		}
		pk, ok := v.PubKey.(ed25519.PubKey)
		if !ok || len(pk) != ed25519.PubKeySize {
			return nil, fmt.Errorf("%w: validator %d: only ed25519 keys are supported", ErrMalformedValidatorSet, i)
		}
		pv, err := protoValidator(pk, v.VotingPower)
		if err != nil {
			return nil, fmt.Errorf("%w: validator %d: %w", ErrMalformedValidatorSet, i, err)
		}
		if !bytes.Equal(v.Address, pv.Address) {
			return nil, fmt.Errorf("%w: validator %d: address %X is not derived from its key", ErrMalformedValidatorSet, i, []byte(v.Address))
		}
		if _, dup := seen[string(pv.Address)]; dup {
			return nil, fmt.Errorf("%w: validator %d: duplicate address %X", ErrMalformedValidatorSet, i, pv.Address)
		}
		seen[string(pv.Address)] = struct{}{}
		if v.VotingPower > types.MaxTotalVotingPower-total {
			return nil, fmt.Errorf("%w: total voting power exceeds %d", ErrMalformedValidatorSet, types.MaxTotalVotingPower)
		}
		total += v.VotingPower
		pvs[i] = pv
	}
	return setFromProto(pvs)
}

// protoValidator returns the protobuf form of an ed25519 validator, with
// copies of the key bytes.
func protoValidator(pk []byte, power int64) (*cmtproto.Validator, error) {
	if len(pk) != ed25519.PubKeySize {
		return nil, fmt.Errorf("key of %d bytes", len(pk))
	}
	if power <= 0 {
		return nil, fmt.Errorf("voting power %d, want > 0", power)
	}
	key := ed25519.PubKey(bytes.Clone(pk))
	return &cmtproto.Validator{
		Address:     key.Address(),
		PubKey:      cmtcrypto.PublicKey{Sum: &cmtcrypto.PublicKey_Ed25519{Ed25519: key}},
		VotingPower: power,
	}, nil
}

// setFromProto builds a ValidatorSet in the given order through CometBFT's
// own decoder (which also records that all keys have one type, enabling
// batch signature verification). The first validator is named proposer:
// the proposer plays no part in hashing or commit verification.
func setFromProto(pvs []*cmtproto.Validator) (*types.ValidatorSet, error) {
	if len(pvs) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrMalformedValidatorSet)
	}
	vs, err := types.ValidatorSetFromProto(&cmtproto.ValidatorSet{Validators: pvs, Proposer: pvs[0]})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedValidatorSet, err)
	}
	return vs, nil
}

// GenesisValidatorSet returns the validator set that signs height 1 of the
// chain g: CometBFT's types.NewValidatorSet over the genesis validators (the
// same construction as CometBFT's genesis state), with ed25519 keys. g must
// be valid (state.Genesis.Validate).
func GenesisValidatorSet(g *state.Genesis) (*types.ValidatorSet, error) {
	if err := modules.ValidateGenesis(g); err != nil {
		return nil, err
	}
	vals := make([]*types.Validator, len(g.Validators))
	for i, v := range g.Validators {
		vals[i] = types.NewValidator(ed25519.PubKey(bytes.Clone(v.PubKey[:])), v.Power)
	}
	// Validate guarantees what NewValidatorSet would otherwise panic on:
	// positive powers, no duplicates, total power within bounds.
	return types.NewValidatorSet(vals), nil
}

// GenesisDocValidatorSet returns the validator set that signs height 1 of
// the chain described by CometBFT's genesis document.
func GenesisDocValidatorSet(doc *types.GenesisDoc) (*types.ValidatorSet, error) {
	if doc == nil || len(doc.Validators) == 0 {
		return nil, fmt.Errorf("%w: genesis has no validators", ErrMalformedValidatorSet)
	}
	vals := make([]*types.Validator, len(doc.Validators))
	for i, v := range doc.Validators {
		if v.PubKey == nil {
			return nil, fmt.Errorf("%w: genesis validator %d has no key", ErrMalformedValidatorSet, i)
		}
		vals[i] = types.NewValidator(v.PubKey, v.Power)
	}
	// Check first, so that NewValidatorSet cannot panic.
	if _, err := trustedSet(&types.ValidatorSet{Validators: vals}); err != nil {
		return nil, err
	}
	return types.NewValidatorSet(vals), nil
}
