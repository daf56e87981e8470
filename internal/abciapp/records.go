package abciapp

import (
	"fmt"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/state"
)

// BlockRecords returns the records of the committed heights from..to, as
// the /blocks query answers them (from the first asked height, at most
// chainapi.MaxBlocksPerQuery records and about chainapi.MaxBlocksQueryBytes,
// at least one), for a pherry in the same process: the dev network's
// relays each block's record (megabytes under load) without CometBFT's
// JSON-RPC, which would base64 and JSON-encode it here and decode it there.
// A height above the last committed one is an error wrapping
// appdb.ErrNotFound.
func (a *App) BlockRecords(from, to uint64) ([]*state.BlockRecord, error) {
	a.mu.Lock()
	last := a.last
	a.mu.Unlock()
	if from > to {
		return nil, fmt.Errorf("block records: from %d > to %d", from, to)
	}
	if to > uint64(last.Height) {
		to = uint64(last.Height)
	}
	if from > to {
		return nil, fmt.Errorf("%w: block records: height %d is not committed yet (last %d)", appdb.ErrNotFound, from, last.Height)
	}
	var out []*state.BlockRecord
	size := 0
	for h := from; h <= to && len(out) < chainapi.MaxBlocksPerQuery; h++ {
		rec, err := a.db.Block(int64(h))
		if err != nil {
			return nil, err
		}
		size += recordSize(rec)
		if len(out) > 0 && size > chainapi.MaxBlocksQueryBytes {
			break
		}
		out = append(out, rec)
	}
	return out, nil
}

// recordSize is about the size of rec's encoding (its keys, values and
// message payloads).
func recordSize(rec *state.BlockRecord) int {
	n := 64
	for _, w := range rec.WriteSet {
		n += len(w.Key) + len(w.Value) + 4
	}
	for _, m := range rec.Messages {
		n += len(m.Origin) + len(m.Topic) + len(m.Payload) + 16
	}
	return n
}
