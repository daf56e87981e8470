package pherry

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// DefaultBatchSize is the most headers pherry hands a pRuntime at once.
const DefaultBatchSize = 1000

// MaxBatchSize bounds the batch size (the pRuntime refuses more headers).
const MaxBatchSize = 10_000

// maxRecordBytes bounds the encoded block records of one batch, well below
// what a pRuntime accepts in one request (64 MiB). A batch whose records
// would exceed it ends earlier.
const maxRecordBytes = 40 << 20

// Cursor is where a pRuntime stands: its last verified header and its last
// applied block (Info's header_height and height, or a SyncResponse), and
// whether it holds the record of that header (Info's header_record).
type Cursor struct {
	HeaderHeight  int64
	AppliedHeight int64
	HasRecord     bool
}

// Span is the plan of the next batch before the headers are seen: headers
// First..Last, and block records from Records (the first block the
// pRuntime has not applied) to Last-1; record Last follows alone, once the
// batch is synced (see fetchBatch).
type Span struct {
	First, Last int64
	Records     int64
}

// PlanSpan returns the next batch for a pRuntime at c when the node's last
// committed height is nodeHeight, with at most size headers; ok is false
// when the pRuntime has every header the node has.
func PlanSpan(c Cursor, nodeHeight int64, size int) (Span, bool) {
	if size <= 0 {
		size = DefaultBatchSize
	}
	first := c.HeaderHeight + 1
	if first < 1 {
		first = 1
	}
	if nodeHeight < first {
		return Span{}, false
	}
	last := minInt(nodeHeight, first+int64(size)-1)
	rec := c.AppliedHeight + 1
	if rec < 1 {
		rec = 1
	}
	if rec > first {
		// A pRuntime never applies a block before verifying the next
		// header; give it what it asks for anyway, from its first header.
		rec = first
	}
	return Span{First: first, Last: last, Records: rec}, true
}

// SkipKept returns sp with its records starting at sp.First when the
// pRuntime at c keeps the record before it: a pRuntime that verified header
// h but applied only block h-1 may hold record h (it waits for header h+1's
// AppHash; chainsync keeps it, in checkpoints too; Info's header_record
// says so), so the batch from h+1 need not carry it again. Under load a
// block's record is megabytes, and sending it twice delays the block it
// confirms. After a rejected batch pherry sends the kept record again
// instead (a lying node may have given a bad one).
func SkipKept(sp Span, c Cursor) Span {
	if c.HasRecord && c.HeaderHeight >= 1 && c.AppliedHeight == c.HeaderHeight-1 && sp.First == c.HeaderHeight+1 && sp.Records == c.HeaderHeight {
		sp.Records = sp.First
	}
	return sp
}

// CutAtValidatorChange returns how many of headers (consecutive, the
// batch's) belong in one batch: every header up to and including the first
// whose NextValidatorsHash differs from its ValidatorsHash, since the
// header after it is signed by another set.
func CutAtValidatorChange(headers []*cmttypes.Header) int {
	for i, h := range headers {
		if !bytes.Equal(h.NextValidatorsHash, h.ValidatorsHash) {
			return i + 1
		}
	}
	return len(headers)
}

// NeedsValidators reports whether a batch starting right after prev must
// carry its validator set: when prev announced a change (the pRuntime then
// knows the new set only by hash). prev is nil for a batch starting at
// height 1, whose set the genesis gives.
func NeedsValidators(prev *cmttypes.Header) bool {
	return prev != nil && !bytes.Equal(prev.NextValidatorsHash, prev.ValidatorsHash)
}

// errNodeBehind means the node does not (yet) have what a batch needs.
var errNodeBehind = errors.New("node does not have the heights asked for")

// fetched is one batch, encoded for the pRuntime.
type fetched struct {
	span Span
	req  *pruntimev1.SyncRequest
	// bytes is the size of the encoded headers, commit, set and records.
	bytes int
}

// fetchBatch reads the batch sp from src and encodes it: the headers (cut
// at a validator-set change and at maxRecordBytes of records), the commit
// of the last one, the validator set where needed (or when forceVals), and
// the records from sp.Records to the one before the last header.
//
// The last header's record is left out: the pRuntime applies every block
// before it as soon as it has verified the headers, without waiting for a
// record that is megabytes under load (and holds no command it could run
// yet: its block's AppHash is in the next header). fetchRecord reads it
// for a record-only batch right after.
func fetchBatch(ctx context.Context, src Source, sp Span, forceVals bool) (*fetched, error) {
	lo := sp.First - 1
	if lo < 1 {
		lo = 1
	}
	enc := encoderFor(src)
	hs, err := src.Headers(ctx, lo, sp.Last)
	if err != nil {
		return nil, err
	}
	if int64(len(hs)) != sp.Last-lo+1 {
		return nil, fmt.Errorf("%w: %d headers for %d..%d", errNodeBehind, len(hs), lo, sp.Last)
	}
	for i, h := range hs {
		if h == nil || h.Height != lo+int64(i) {
			return nil, fmt.Errorf("node answered header %d out of order", lo+int64(i))
		}
	}
	var prev *cmttypes.Header
	if sp.First > 1 {
		prev, hs = hs[0], hs[1:]
	}
	hs = hs[:CutAtValidatorChange(hs)]
	last := hs[len(hs)-1].Height

	// Records, from the first unapplied block to the last header; the
	// node may answer fewer per query, and a batch ends early rather than
	// grow beyond maxRecordBytes.
	var recs [][]byte
	size := 0
	want := sp.Records
records:
	for want < last {
		got, err := src.Records(ctx, want, last-1)
		if err != nil {
			return nil, err
		}
		for _, r := range got {
			if r == nil || r.Height != want {
				return nil, fmt.Errorf("node answered record of height %d, want %d", recordHeight(r), want)
			}
			b := enc.record(r)
			if size+len(b) > maxRecordBytes && want >= sp.First {
				// Keep the records up to want-1 and end the headers at
				// want, whose record follows alone.
				last = want
				break records
			}
			recs = append(recs, b)
			size += len(b)
			want++
			if want >= last {
				break
			}
		}
	}
	hs = hs[:last-sp.First+1]

	commit, err := src.Commit(ctx, last)
	if err != nil {
		return nil, err
	}
	req := &pruntimev1.SyncRequest{Headers: make([][]byte, len(hs)), Records: recs}
	for i, h := range hs {
		if req.Headers[i], err = enc.header(h); err != nil {
			return nil, fmt.Errorf("encode header %d: %w", h.Height, err)
		}
		size += len(req.Headers[i])
	}
	if req.Commit, err = enc.commit(commit); err != nil {
		return nil, fmt.Errorf("encode commit %d: %w", last, err)
	}
	size += len(req.Commit)
	if forceVals || NeedsValidators(prev) {
		vals, err := src.Validators(ctx, sp.First)
		if err != nil {
			return nil, err
		}
		if req.Validators, err = EncodeValidatorSet(vals); err != nil {
			return nil, fmt.Errorf("validator set of height %d: %w", sp.First, err)
		}
		size += len(req.Validators)
	}
	return &fetched{span: Span{First: sp.First, Last: last, Records: sp.Records}, req: req, bytes: size}, nil
}

// fetchRecord reads record h for a record-only batch.
func fetchRecord(ctx context.Context, src Source, h int64) (*pruntimev1.SyncRequest, int, error) {
	got, err := src.Records(ctx, h, h)
	if err != nil {
		return nil, 0, err
	}
	if len(got) == 0 || got[0] == nil || got[0].Height != h {
		return nil, 0, fmt.Errorf("node answered record of height %d, want %d", recordHeight(firstRecord(got)), h)
	}
	enc := scale.Encode(got[0])
	return &pruntimev1.SyncRequest{Records: [][]byte{enc}}, len(enc), nil
}

func firstRecord(rs []*state.BlockRecord) *state.BlockRecord {
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}

func recordHeight(r *state.BlockRecord) int64 {
	if r == nil {
		return -1
	}
	return r.Height
}

// EncodeValidatorSet encodes validators, in the given order (the order is
// part of the set's hash), as a CometBFT protobuf ValidatorSet. The first
// validator is named proposer: the proposer plays no part in verification.
func EncodeValidatorSet(vals []*cmttypes.Validator) ([]byte, error) {
	if len(vals) == 0 {
		return nil, errors.New("empty validator set")
	}
	pv := &cmtproto.ValidatorSet{Validators: make([]*cmtproto.Validator, len(vals))}
	var total int64
	for i, v := range vals {
		if v == nil || v.PubKey == nil {
			return nil, fmt.Errorf("validator %d has no key", i)
		}
		p, err := v.ToProto()
		if err != nil {
			return nil, fmt.Errorf("validator %d: %w", i, err)
		}
		pv.Validators[i] = p
		if v.VotingPower < 0 || v.VotingPower > cmttypes.MaxTotalVotingPower-total {
			return nil, fmt.Errorf("validator %d: voting power out of range", i)
		}
		total += v.VotingPower
	}
	pv.Proposer = pv.Validators[0]
	pv.TotalVotingPower = total
	return pv.Marshal()
}
