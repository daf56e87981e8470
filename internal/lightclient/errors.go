package lightclient

import "errors"

// Sentinel errors of Verify. Every error Verify returns wraps exactly one of
// them (test with errors.Is); the wrapping message names the height and the
// values involved. A failed batch never changes the State it was checked
// against.
var (
	// ErrEmptyBatch means a batch carries no header.
	ErrEmptyBatch = errors.New("lightclient: empty batch")
	// ErrMalformedHeader means a header is nil, fails CometBFT's basic
	// validation, or cannot be hashed (for instance a time outside the range
	// protobuf timestamps can hold).
	ErrMalformedHeader = errors.New("lightclient: malformed header")
	// ErrWrongChainID means a header belongs to another chain.
	ErrWrongChainID = errors.New("lightclient: wrong chain id")
	// ErrReplayedBatch means a batch starts at or below the last verified
	// height: it (or part of it) was verified before.
	ErrReplayedBatch = errors.New("lightclient: replayed batch")
	// ErrHeightGap means a header's height is not the next one: a block was
	// skipped, or the headers are out of order.
	ErrHeightGap = errors.New("lightclient: height gap")
	// ErrBlockProtocol means a header's Version.Block is not CometBFT's
	// block protocol version this code was built with.
	ErrBlockProtocol = errors.New("lightclient: wrong block protocol version")
	// ErrBrokenLink means a header's LastBlockID does not point at the
	// previous header.
	ErrBrokenLink = errors.New("lightclient: broken LastBlockID link")
	// ErrNonMonotonicTime means a header's time is not strictly after the
	// previous header's.
	ErrNonMonotonicTime = errors.New("lightclient: header time not increasing")
	// ErrWrongValidatorSet means a header's ValidatorsHash is not the
	// previous header's NextValidatorsHash, or the validator set provided
	// does not hash to it.
	ErrWrongValidatorSet = errors.New("lightclient: wrong validator set")
	// ErrMissingValidatorSet means the validator set changed and the batch
	// does not carry the new one.
	ErrMissingValidatorSet = errors.New("lightclient: missing validator set")
	// ErrMalformedValidatorSet means a provided validator set is empty, has
	// a nil or non-ed25519 key, a non-positive power, a wrong or duplicate
	// address, or too much total power.
	ErrMalformedValidatorSet = errors.New("lightclient: malformed validator set")
	// ErrValidatorSetChange means a batch goes on past a header whose
	// NextValidatorsHash differs from its ValidatorsHash: a batch must end
	// where the validator set changes.
	ErrValidatorSetChange = errors.New("lightclient: batch does not end at a validator set change")
	// ErrMalformedCommit means the commit is missing or fails basic
	// validation.
	ErrMalformedCommit = errors.New("lightclient: malformed commit")
	// ErrCommitMismatch means the commit is not for the batch's last header
	// (another height or block id).
	ErrCommitMismatch = errors.New("lightclient: commit is not for the last header")
	// ErrInvalidCommit means the commit's signatures do not line up with the
	// validator set (count or addresses).
	ErrInvalidCommit = errors.New("lightclient: commit does not match the validator set")
	// ErrInsufficientVotingPower means the valid signatures of the commit
	// carry no more than 2/3 of the trusted voting power.
	ErrInsufficientVotingPower = errors.New("lightclient: insufficient voting power")
	// ErrBadSignature means a signature of the commit does not verify.
	ErrBadSignature = errors.New("lightclient: bad commit signature")
	// ErrNewerAppVersion means a verified header carries an app version
	// above the highest this code supports. The caller must stop cleanly:
	// only a newer build can go on. It is returned only for headers whose
	// commit verified, so a forged header cannot make a verifier stop.
	ErrNewerAppVersion = errors.New("lightclient: newer app version")
	// ErrCorruptState means an encoded State does not decode.
	ErrCorruptState = errors.New("lightclient: corrupt state")
)
