package chainsync

import (
	"errors"

	"github.com/cella-network/cella/internal/lightclient"
)

// Errors of New, SyncBatch and Restore. Every error wraps exactly one of
// them or one of the light client's (re-exported below, the same values, so
// errors.Is works with either name). A failed call changes nothing.
var (
	// ErrInvalidGenesis means the genesis does not validate.
	ErrInvalidGenesis = errors.New("chainsync: invalid genesis")
	// ErrGenesisHash means the genesis does not hash to the genesis hash
	// the syncer was bound to.
	ErrGenesisHash = errors.New("chainsync: wrong genesis hash")
	// ErrGenesisMismatch means the height-0 record is not the genesis
	// state, or header 1 does not carry AppHash_0 (the chain does not start
	// from this genesis).
	ErrGenesisMismatch = errors.New("chainsync: chain does not match the genesis")
	// ErrMalformedRecord means a block record is nil or its write-set is
	// not strictly sorted by key.
	ErrMalformedRecord = errors.New("chainsync: malformed block record")
	// ErrBlockOrder means the block records are not exactly the heights
	// from the first unapplied block to the batch's last header, in order
	// (a block skipped, reordered, duplicated or missing).
	ErrBlockOrder = errors.New("chainsync: block records out of order")
	// ErrAppHashMismatch means block H's write-set and messages do not
	// recompute to the AppHash that verified header H+1 carries: the
	// write-set or messages were tampered with, or the header's AppHash is
	// wrong.
	ErrAppHashMismatch = errors.New("chainsync: AppHash mismatch")
	// ErrRecordAppHash means a record's contents are right but the AppHash
	// it claims is not (an inconsistent or tampered record).
	ErrRecordAppHash = errors.New("chainsync: block record claims a wrong AppHash")
	// ErrCorruptSnapshot means a snapshot does not decode or breaks an
	// invariant.
	ErrCorruptSnapshot = errors.New("chainsync: corrupt snapshot")
	// ErrStaleView means a drained block's State was read after a later
	// SyncBatch changed the verified state.
	ErrStaleView = errors.New("chainsync: stale view of an applied block's state")
)

// Light-client errors, re-exported.
var (
	ErrEmptyBatch              = lightclient.ErrEmptyBatch
	ErrMalformedHeader         = lightclient.ErrMalformedHeader
	ErrWrongChainID            = lightclient.ErrWrongChainID
	ErrReplayedBatch           = lightclient.ErrReplayedBatch
	ErrHeightGap               = lightclient.ErrHeightGap
	ErrBlockProtocol           = lightclient.ErrBlockProtocol
	ErrBrokenLink              = lightclient.ErrBrokenLink
	ErrNonMonotonicTime        = lightclient.ErrNonMonotonicTime
	ErrWrongValidatorSet       = lightclient.ErrWrongValidatorSet
	ErrMissingValidatorSet     = lightclient.ErrMissingValidatorSet
	ErrMalformedValidatorSet   = lightclient.ErrMalformedValidatorSet
	ErrValidatorSetChange      = lightclient.ErrValidatorSetChange
	ErrMalformedCommit         = lightclient.ErrMalformedCommit
	ErrCommitMismatch          = lightclient.ErrCommitMismatch
	ErrInvalidCommit           = lightclient.ErrInvalidCommit
	ErrInsufficientVotingPower = lightclient.ErrInsufficientVotingPower
	ErrBadSignature            = lightclient.ErrBadSignature
	ErrNewerAppVersion         = lightclient.ErrNewerAppVersion
)
