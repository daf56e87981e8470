// Package lightclient verifies CometBFT headers sequentially, without a
// trusted clock and without a trusting period: pRuntime's view of the chain.
//
// A State holds what is trusted after the last verified header: the chain
// id, that header's height, BlockID and time, its app version, and the
// validator set that must sign the next header (known by hash through the
// header's NextValidatorsHash, and as a set once some batch provided it).
// State is an immutable value: Verify checks a Batch against it and returns
// the State after the batch, or an error and the State is untouched. The
// package does no I/O and reads no clock; see docs/light-client.md.
package lightclient

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/types"
	"github.com/cometbft/cometbft/version"

	"github.com/cella-network/cella/internal/state"
)

// Batch is a run of consecutive headers, signed as a whole by the commit of
// its last header.
//
// Every header of a batch is signed by one validator set: a batch must end
// at the first header whose NextValidatorsHash differs from its
// ValidatorsHash. Validators is the set that signs the batch; it is needed
// only when the set changed (the State does not hold it yet) and may be nil
// otherwise; when given it must hash to the trusted hash.
type Batch struct {
	Headers    []*types.Header
	Commit     *types.Commit
	Validators *types.ValidatorSet
}

// State is the light client's trusted state. The zero value is not usable;
// make one with New, FromGenesis or DecodeState. Methods never modify a
// State, so it can be copied and shared freely.
type State struct {
	chainID       string
	maxAppVersion uint64
	// height is the last verified header's height (0 before header 1).
	height int64
	// blockID is the last verified header's BlockID (zero at height 0).
	blockID types.BlockID
	// time is the last verified header's time (unused at height 0).
	time time.Time
	// appVersion is the last verified header's Version.App (the genesis
	// version at height 0).
	appVersion uint64
	// nextValsHash is the hash of the set that signs height+1.
	nextValsHash []byte
	// nextVals is that set when known (a trusted, never-mutated copy), else nil.
	nextVals *types.ValidatorSet
}

// New returns the State before height 1 of chain chainID, whose genesis
// validators vals sign height 1 (header 1's LastBlockID is empty).
// appVersion is the genesis app version; maxAppVersion is the highest app
// version this code understands.
func New(chainID string, vals *types.ValidatorSet, appVersion, maxAppVersion uint64) (State, error) {
	if chainID == "" || len(chainID) > types.MaxChainIDLen {
		return State{}, fmt.Errorf("%w: chain id of %d bytes", ErrWrongChainID, len(chainID))
	}
	tv, err := trustedSet(vals)
	if err != nil {
		return State{}, err
	}
	return State{
		chainID:       chainID,
		maxAppVersion: maxAppVersion,
		appVersion:    appVersion,
		nextValsHash:  tv.Hash(),
		nextVals:      tv,
	}, nil
}

// FromGenesis returns the State before height 1 of the chain g.
func FromGenesis(g *state.Genesis, maxAppVersion uint64) (State, error) {
	vals, err := GenesisValidatorSet(g)
	if err != nil {
		return State{}, err
	}
	return New(g.ChainID, vals, g.AppVersion, maxAppVersion)
}

// ChainID returns the chain id every header must carry.
func (s State) ChainID() string { return s.chainID }

// Height returns the last verified height (0 before header 1).
func (s State) Height() int64 { return s.height }

// BlockID returns the last verified header's BlockID (zero at height 0).
func (s State) BlockID() types.BlockID { return s.blockID }

// Time returns the last verified header's time (zero at height 0).
func (s State) Time() time.Time { return s.time }

// AppVersion returns the last verified header's app version (the genesis
// app version at height 0).
func (s State) AppVersion() uint64 { return s.appVersion }

// MaxAppVersion returns the highest app version accepted.
func (s State) MaxAppVersion() uint64 { return s.maxAppVersion }

// NextValidatorsHash returns the hash of the validator set that must sign
// the next header.
func (s State) NextValidatorsHash() []byte { return bytes.Clone(s.nextValsHash) }

// NextValidators returns a copy of the validator set that must sign the
// next header, or nil when the last batch ended at a validator-set change
// and the next batch must provide the new set.
func (s State) NextValidators() *types.ValidatorSet {
	if s.nextVals == nil {
		return nil
	}
	return s.nextVals.Copy()
}

// Verified describes one header of a verified batch, for callers that act
// on header fields (such as the AppHash) after verification.
type Verified struct {
	Height     int64
	Hash       []byte
	AppVersion uint64
}

// Verify checks a batch against s and returns the State after it. On error,
// s is unchanged (it is a value) and the error wraps one sentinel of this
// package. The checks, in order, are listed in docs/light-client.md.
func (s State) Verify(b Batch) (State, error) {
	next, _, err := s.verify(b, false)
	return next, err
}

// VerifyDetailed is Verify that also returns, for each header of the batch,
// its height, hash and app version.
func (s State) VerifyDetailed(b Batch) (State, []Verified, error) {
	return s.verify(b, true)
}

func (s State) verify(b Batch, detail bool) (State, []Verified, error) {
	if s.nextValsHash == nil {
		return s, nil, fmt.Errorf("%w: uninitialised state", ErrCorruptState)
	}
	if len(b.Headers) == 0 {
		return s, nil, ErrEmptyBatch
	}
	var out []Verified
	if detail {
		out = make([]Verified, 0, len(b.Headers))
	}
	var (
		prevHash     []byte
		prevTime     = s.time
		prevNextVals = s.nextValsHash
		newerAt      int64 // first height with an app version above the maximum
		newerVersion uint64
	)
	for i, h := range b.Headers {
		want := s.height + 1 + int64(i)
		if h == nil {
			return s, nil, fmt.Errorf("%w: header %d of the batch is nil", ErrMalformedHeader, i)
		}
		if h.ChainID != s.chainID {
			return s, nil, fmt.Errorf("%w: header %d has chain id %q, want %q", ErrWrongChainID, h.Height, h.ChainID, s.chainID)
		}
		if h.Height != want {
			if i == 0 && h.Height <= s.height {
				return s, nil, fmt.Errorf("%w: batch starts at height %d, already verified up to %d", ErrReplayedBatch, h.Height, s.height)
			}
			return s, nil, fmt.Errorf("%w: header height %d, want %d", ErrHeightGap, h.Height, want)
		}
		if h.Version.Block != version.BlockProtocol {
			return s, nil, fmt.Errorf("%w: header %d has block protocol %d, want %d", ErrBlockProtocol, h.Height, h.Version.Block, version.BlockProtocol)
		}
		if err := h.ValidateBasic(); err != nil {
			return s, nil, fmt.Errorf("%w: header %d: %w", ErrMalformedHeader, h.Height, err)
		}
		if (want > 1 || i > 0) && !h.Time.After(prevTime) {
			return s, nil, fmt.Errorf("%w: header %d has time %s, previous %s", ErrNonMonotonicTime, h.Height, h.Time.UTC().Format(time.RFC3339Nano), prevTime.UTC().Format(time.RFC3339Nano))
		}
		if i == 0 {
			if !h.LastBlockID.Equals(s.blockID) {
				return s, nil, fmt.Errorf("%w: header %d's LastBlockID is %v, the verified header %d is %v", ErrBrokenLink, h.Height, h.LastBlockID, s.height, s.blockID)
			}
		} else {
			if !bytes.Equal(h.LastBlockID.Hash, prevHash) {
				return s, nil, fmt.Errorf("%w: header %d's LastBlockID hash is %X, header %d hashes to %X", ErrBrokenLink, h.Height, []byte(h.LastBlockID.Hash), h.Height-1, prevHash)
			}
			if prev := b.Headers[i-1]; !bytes.Equal(prev.NextValidatorsHash, prev.ValidatorsHash) {
				return s, nil, fmt.Errorf("%w: the validator set changes after header %d", ErrValidatorSetChange, prev.Height)
			}
		}
		if !bytes.Equal(h.ValidatorsHash, prevNextVals) {
			return s, nil, fmt.Errorf("%w: header %d has ValidatorsHash %X, want %X", ErrWrongValidatorSet, h.Height, []byte(h.ValidatorsHash), prevNextVals)
		}
		if !timeEncodable(h.Time) {
			return s, nil, fmt.Errorf("%w: header %d: time out of range", ErrMalformedHeader, h.Height)
		}
		hash := h.Hash()
		if len(hash) == 0 {
			return s, nil, fmt.Errorf("%w: header %d cannot be hashed", ErrMalformedHeader, h.Height)
		}
		if h.Version.App > s.maxAppVersion && newerAt == 0 {
			newerAt, newerVersion = h.Height, h.Version.App
		}
		if detail {
			out = append(out, Verified{Height: h.Height, Hash: hash, AppVersion: h.Version.App})
		}
		prevHash, prevTime, prevNextVals = hash, h.Time, h.NextValidatorsHash
	}
	last := b.Headers[len(b.Headers)-1]

	vals := s.nextVals
	switch {
	case b.Validators != nil:
		tv, err := trustedSet(b.Validators)
		if err != nil {
			return s, nil, err
		}
		if got := tv.Hash(); !bytes.Equal(got, s.nextValsHash) {
			return s, nil, fmt.Errorf("%w: the batch's validator set hashes to %X, header %d wants %X", ErrWrongValidatorSet, got, b.Headers[0].Height, s.nextValsHash)
		}
		vals = tv
	case vals == nil:
		return s, nil, fmt.Errorf("%w: the set %X that signs header %d", ErrMissingValidatorSet, s.nextValsHash, b.Headers[0].Height)
	}

	blockID, err := checkCommit(s.chainID, vals, last, prevHash, b.Commit)
	if err != nil {
		return s, nil, err
	}
	if newerAt != 0 {
		return s, nil, fmt.Errorf("%w: header %d has app version %d, this code supports up to %d", ErrNewerAppVersion, newerAt, newerVersion, s.maxAppVersion)
	}

	next := s
	next.height = last.Height
	next.blockID = copyBlockID(blockID)
	next.time = last.Time
	next.appVersion = last.Version.App
	next.nextValsHash = bytes.Clone(last.NextValidatorsHash)
	if bytes.Equal(last.NextValidatorsHash, last.ValidatorsHash) {
		next.nextVals = vals
	} else {
		next.nextVals = nil
	}
	return next, out, nil
}

// checkCommit verifies that commit signs header h (whose hash is hash) by
// more than 2/3 of vals' voting power, and returns the signed BlockID.
func checkCommit(chainID string, vals *types.ValidatorSet, h *types.Header, hash []byte, c *types.Commit) (types.BlockID, error) {
	if c == nil {
		return types.BlockID{}, fmt.Errorf("%w: no commit for header %d", ErrMalformedCommit, h.Height)
	}
	if err := c.ValidateBasic(); err != nil {
		return types.BlockID{}, fmt.Errorf("%w: %w", ErrMalformedCommit, err)
	}
	if c.Height != h.Height || !bytes.Equal(c.BlockID.Hash, hash) {
		return types.BlockID{}, fmt.Errorf("%w: commit is for height %d block %X, last header is %d with hash %X", ErrCommitMismatch, c.Height, []byte(c.BlockID.Hash), h.Height, hash)
	}
	if len(c.Signatures) != vals.Size() {
		return types.BlockID{}, fmt.Errorf("%w: %d signatures for %d validators", ErrInvalidCommit, len(c.Signatures), vals.Size())
	}
	for i := range c.Signatures {
		cs := &c.Signatures[i]
		if cs.BlockIDFlag != types.BlockIDFlagCommit {
			continue
		}
		if !bytes.Equal(cs.ValidatorAddress, vals.Validators[i].Address) {
			return types.BlockID{}, fmt.Errorf("%w: signature %d is from %X, validator %d is %X", ErrInvalidCommit, i, []byte(cs.ValidatorAddress), i, []byte(vals.Validators[i].Address))
		}
		if !timeEncodable(cs.Timestamp) {
			return types.BlockID{}, fmt.Errorf("%w: signature %d: timestamp out of range", ErrMalformedCommit, i)
		}
	}
	if err := verifyCommitLight(chainID, vals, c); err != nil {
		if types.IsErrNotEnoughVotingPowerSigned(err) {
			return types.BlockID{}, fmt.Errorf("%w: header %d: %w", ErrInsufficientVotingPower, h.Height, err)
		}
		return types.BlockID{}, fmt.Errorf("%w: header %d: %w", ErrBadSignature, h.Height, err)
	}
	return c.BlockID, nil
}

// verifyCommitLight calls CometBFT's VerifyCommitLight. The inputs were
// checked so that it cannot panic; the recover is a last line of defence
// that turns a panic on unforeseen untrusted input into a rejection.
func verifyCommitLight(chainID string, vals *types.ValidatorSet, c *types.Commit) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("commit verification panicked: %v", r)
		}
	}()
	return vals.VerifyCommitLight(chainID, c.BlockID, c.Height, c)
}

// Protobuf timestamps (which CometBFT hashes and signs) hold seconds from
// 0001-01-01 to 9999-12-31 UTC.
const (
	minTimestampSeconds = -62135596800
	maxTimestampSeconds = 253402300799
)

func timeEncodable(t time.Time) bool {
	s := t.Unix()
	return s >= minTimestampSeconds && s <= maxTimestampSeconds
}

func copyBlockID(id types.BlockID) types.BlockID {
	return types.BlockID{
		Hash:          bytes.Clone(id.Hash),
		PartSetHeader: types.PartSetHeader{Total: id.PartSetHeader.Total, Hash: bytes.Clone(id.PartSetHeader.Hash)},
	}
}

// IsStop reports whether err means the verifier must stop for good (a
// verified newer app version) rather than wait for better input.
func IsStop(err error) bool { return errors.Is(err, ErrNewerAppVersion) }
