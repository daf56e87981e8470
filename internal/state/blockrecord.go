package state

import (
	"bytes"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// BlockRecord is what the node keeps for each committed height: the block's
// write-set, its ordered messages and the AppHash after it. Height 0 holds
// the genesis write-set and AppHash_0. The node serves records to pherry,
// which hands them to pRuntime to verify (internal/chainsync).
type BlockRecord struct {
	Height   int64
	WriteSet WriteSet
	Messages []msg.Message
	AppHash  [32]byte
}

// EncodeSCALE writes r in its fixed SCALE form.
func (r *BlockRecord) EncodeSCALE(w *scale.Writer) {
	w.I64(r.Height)
	r.WriteSet.EncodeSCALE(w)
	w.Compact(uint64(len(r.Messages)))
	for i := range r.Messages {
		r.Messages[i].EncodeSCALE(w)
	}
	w.Raw(r.AppHash[:])
}

// DecodeSCALE reads r from its SCALE form.
func (r *BlockRecord) DecodeSCALE(rd *scale.Reader) {
	r.Height = rd.I64()
	r.WriteSet.DecodeSCALE(rd)
	n := rd.Len(3)
	r.Messages = make([]msg.Message, n)
	for i := range r.Messages {
		r.Messages[i].DecodeSCALE(rd)
	}
	rd.Fixed(r.AppHash[:])
}

// Clone returns a deep copy of r (nil for nil).
func (r *BlockRecord) Clone() *BlockRecord {
	if r == nil {
		return nil
	}
	out := &BlockRecord{Height: r.Height, AppHash: r.AppHash}
	if r.WriteSet != nil {
		out.WriteSet = make(WriteSet, len(r.WriteSet))
		for i, w := range r.WriteSet {
			out.WriteSet[i] = Write{Key: bytes.Clone(w.Key), Value: bytes.Clone(w.Value), Delete: w.Delete}
		}
	}
	if r.Messages != nil {
		out.Messages = make([]msg.Message, len(r.Messages))
		for i, m := range r.Messages {
			out.Messages[i] = msg.Message{Origin: bytes.Clone(m.Origin), Topic: bytes.Clone(m.Topic), Payload: bytes.Clone(m.Payload)}
		}
	}
	return out
}
