package pruntime

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// A checkpoint (sealed; the plaintext is deterministic SCALE) is a header
// and a list of sections:
//
//	String "cella/pruntime/checkpoint" ‖ u32 format version (2) ‖
//	Vec<(u8 section id, Vec<u8> section)> with ids strictly increasing
//
// Version 1 ("cella/pruntime/checkpoint/v1" ‖ Vec<u8> chainsync snapshot ‖
// egress) is still read. A section this pRuntime does not know (a newer
// pRuntime's, or one of the reserved ids) makes the checkpoint unusable:
// restoring it would silently drop state.
const (
	checkpointDomain   = "cella/pruntime/checkpoint"
	checkpointVersion  = 2
	checkpointDomainV1 = "cella/pruntime/checkpoint/v1"
)

// Checkpoint section ids.
const (
	// sectionChain is the verified chain state: a chainsync snapshot.
	sectionChain uint8 = 1
	// sectionWorker is the worker core: a worker snapshot (egress
	// streams, online flag, height).
	sectionWorker uint8 = 2
	// sectionKeys is the keys the worker core learned from the chain
	// (worker.KeysSnapshot: master key with its epoch and IV sequence,
	// cluster keys with their epochs); the worker's own keys are sealed
	// apart. Absent in checkpoints of older pRuntimes: no key.
	sectionKeys uint8 = 3
	// sectionClusters is the cluster contract state
	// (worker.ClustersSnapshot: contracts and their storage, ledgers,
	// nonces, outcomes, retained inputs). Absent in checkpoints of older
	// pRuntimes: no contract state.
	sectionClusters uint8 = 4
)

func sectionName(id uint8) string {
	switch id {
	case sectionChain:
		return "chain state"
	case sectionWorker:
		return "worker core"
	case sectionKeys:
		return "keys"
	case sectionClusters:
		return "clusters"
	}
	return "unknown"
}

// errCheckpointFormat is wrapped by checkpoint decoding errors.
var errCheckpointFormat = errors.New("pruntime: checkpoint format")

// checkpoint is a decoded checkpoint: the sections this pRuntime restores.
type checkpoint struct {
	chain  []byte // chainsync snapshot
	worker []byte // worker snapshot; nil for a v1 checkpoint
	keys   []byte // worker keys snapshot; nil when absent
	// clusters is the worker clusters snapshot; nil when absent.
	clusters []byte
	// v1Egress is a v1 checkpoint's egress state (worker nil).
	v1Egress *v1Egress
}

type section struct {
	id   uint8
	body []byte
}

// encodeCheckpoint writes a v2 checkpoint of the given sections (sorted by
// id by the caller).
func encodeCheckpoint(secs []section) []byte {
	var w scale.Writer
	w.String(checkpointDomain)
	w.U32(checkpointVersion)
	w.Compact(uint64(len(secs)))
	for _, s := range secs {
		w.U8(s.id)
		w.BytesVec(s.body)
	}
	return w.Bytes()
}

// decodeCheckpoint reads a v2 or v1 checkpoint's plaintext.
func decodeCheckpoint(b []byte) (checkpoint, error) {
	bad := func(format string, a ...any) (checkpoint, error) {
		return checkpoint{}, fmt.Errorf("%w: %s", errCheckpointFormat, fmt.Sprintf(format, a...))
	}
	r := scale.NewReader(b)
	d := r.String()
	if r.Err() == nil && d == checkpointDomainV1 {
		return decodeV1(r)
	}
	if r.Err() != nil || d != checkpointDomain {
		return bad("not a checkpoint")
	}
	if v := r.U32(); r.Err() == nil && v != checkpointVersion {
		return bad("format version %d; this pRuntime reads versions 1 and %d (resync from genesis in a fresh data folder, or run a newer pRuntime)", v, checkpointVersion)
	}
	var cp checkpoint
	n := r.Len(2)
	last := -1
	for i := 0; i < n && r.Err() == nil; i++ {
		id := r.U8()
		body := r.BytesVec()
		if r.Err() != nil {
			break
		}
		if int(id) <= last {
			return bad("section %d after section %d (ids must increase)", id, last)
		}
		last = int(id)
		switch id {
		case sectionChain:
			cp.chain = body
		case sectionWorker:
			cp.worker = body
		case sectionKeys:
			cp.keys = body
		case sectionClusters:
			cp.clusters = body
		default:
			return bad("section %d (%s) is not known to this pRuntime version %d.%d.%d; it was written by a newer pRuntime", id, sectionName(id), Version[0], Version[1], Version[2])
		}
	}
	if err := r.Finish(); err != nil {
		return bad("%v", err)
	}
	if cp.chain == nil || cp.worker == nil {
		return bad("missing section (chain state %v, worker core %v)", cp.chain != nil, cp.worker != nil)
	}
	return cp, nil
}

// v1Egress is the egress state of a v1 checkpoint: the worker stream.
type v1Egress struct {
	online  bool
	nextSeq uint64
	out     []msg.SignedMessage
}

func decodeV1(r *scale.Reader) (checkpoint, error) {
	cp := checkpoint{chain: r.BytesVec(), v1Egress: &v1Egress{}}
	e := cp.v1Egress
	e.online = r.Bool()
	e.nextSeq = r.U64()
	n := r.Len(3 + 8 + 64)
	for i := 0; i < n && r.Err() == nil; i++ {
		var m msg.SignedMessage
		m.DecodeSCALE(r)
		e.out = append(e.out, m)
	}
	if err := r.Finish(); err != nil {
		return checkpoint{}, fmt.Errorf("%w: v1 checkpoint: %w", errCheckpointFormat, err)
	}
	return cp, nil
}

// workerState converts a v1 checkpoint's egress into the core's state at
// height (the chain state's: v1 dispatched every applied block before it
// checkpointed).
func (e *v1Egress) workerState(id keys.PublicKey, height int64) worker.State {
	return worker.State{Height: height, Online: e.online, Streams: []worker.StreamState{{
		Origin: msg.OriginWorker(id), Next: e.nextSeq, Out: e.out,
	}}}
}
