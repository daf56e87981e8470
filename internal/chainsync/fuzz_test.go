package chainsync_test

import (
	"bytes"
	"testing"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
)

// FuzzSyncBatch mutates an honest batch (heights 5..5+k) of a small chain
// with a program of 3-byte operations, some of which splice in blob decoded
// as a protobuf header, commit or validator set. SyncBatch must never
// panic; a rejected batch must leave the state unchanged; an accepted one
// must leave the state on the honest chain (its AppHash head equal to the
// node's at that height).
func FuzzSyncBatch(f *testing.F) {
	c := buildChain(f, chainOpts{blocks: 14, transfers: 2, messageEach: 2})
	base := newSyncer(f, c)
	syncTo(f, c, base, 4, 100)
	baseSnap := base.Snapshot()
	hdr, _ := c.Header(6).ToProto().Marshal()
	cm, _ := c.Commit(9).ToProto().Marshal()
	vp, _ := c.ValidatorSet(1).ToProto()
	vs, _ := vp.Marshal()
	f.Add([]byte{4}, []byte(nil))
	f.Add([]byte{4, 0, 2, 3}, []byte(nil))
	f.Add([]byte{9, 8, 1, 0}, hdr)
	f.Add([]byte{4, 9, 0, 0}, cm)
	f.Add([]byte{4, 10, 0, 0}, vs)
	f.Add([]byte{6, 5, 2, 7, 6, 0, 1}, []byte{1, 2, 3})

	f.Fuzz(func(t *testing.T, prog []byte, blob []byte) {
		if len(prog) == 0 {
			return
		}
		s, err := chainsync.Restore(baseSnap, c.GenesisHash(), state.AppVersion1)
		if err != nil {
			t.Fatal(err)
		}
		sb, err := c.Batch(5, 5+int64(prog[0]%10))
		if err != nil {
			t.Fatal(err)
		}
		b := toBatch(sb)
		for ops := prog[1:]; len(ops) >= 3; ops = ops[3:] {
			mutate(&b, ops[0], int(ops[1]), ops[2], blob)
		}
		err = s.SyncBatch(b)
		if err != nil {
			if !bytes.Equal(s.Snapshot(), baseSnap) {
				t.Fatalf("rejected batch (%v) changed the state", err)
			}
			return
		}
		if want := c.Record(s.Height()).AppHash; s.AppHash() != want {
			t.Fatalf("accepted a batch that leaves the honest chain: height %d AppHash %x, want %x", s.Height(), s.AppHash(), want)
		}
	})
}

func mutate(b *chainsync.Batch, op byte, i int, v byte, blob []byte) {
	pick := func(n int) int {
		if n <= 0 {
			return -1
		}
		return i % n
	}
	flip := func(p []byte) {
		if len(p) > 0 {
			p[int(v)%len(p)] ^= 1 << (v % 8)
		}
	}
	switch op % 16 {
	case 0: // flip a bit of a header field
		if k := pick(len(b.Headers)); k >= 0 && b.Headers[k] != nil {
			h := b.Headers[k]
			switch v % 6 {
			case 0:
				flip(h.AppHash)
			case 1:
				flip(h.LastBlockID.Hash)
			case 2:
				flip(h.ValidatorsHash)
			case 3:
				flip(h.NextValidatorsHash)
			case 4:
				flip(h.DataHash)
			case 5:
				h.Version.App += uint64(v)
			}
		}
	case 1:
		if k := pick(len(b.Headers)); k >= 0 && b.Headers[k] != nil {
			b.Headers[k].Height += int64(int8(v))
		}
	case 2:
		if k := pick(len(b.Headers) - 1); k >= 0 {
			b.Headers[k], b.Headers[k+1] = b.Headers[k+1], b.Headers[k]
		}
	case 3:
		if k := pick(len(b.Headers)); k >= 0 {
			b.Headers = append(b.Headers[:k:k], b.Headers[k+1:]...)
		}
	case 4:
		if k := pick(len(b.Records)); k >= 0 {
			b.Records = append(b.Records[:k:k], b.Records[k+1:]...)
		}
	case 5:
		if k := pick(len(b.Records) - 1); k >= 0 {
			b.Records[k], b.Records[k+1] = b.Records[k+1], b.Records[k]
		}
	case 6:
		if k := pick(len(b.Records)); k >= 0 && b.Records[k] != nil {
			if ws := b.Records[k].WriteSet; len(ws) > 0 {
				w := &ws[int(v)%len(ws)]
				if v&1 == 0 {
					flip(w.Value)
				} else {
					flip(w.Key)
				}
			}
		}
	case 7:
		if b.Commit != nil {
			if k := pick(len(b.Commit.Signatures)); k >= 0 {
				flip(b.Commit.Signatures[k].Signature)
			}
		}
	case 8:
		var ph cmtproto.Header
		if ph.Unmarshal(blob) == nil {
			if h, err := types.HeaderFromProto(&ph); err == nil {
				if k := pick(len(b.Headers)); k >= 0 {
					b.Headers[k] = &h
				}
			}
		}
	case 9:
		var pc cmtproto.Commit
		if pc.Unmarshal(blob) == nil {
			if cm, err := types.CommitFromProto(&pc); err == nil {
				b.Commit = cm
			}
		}
	case 10:
		var pv cmtproto.ValidatorSet
		if pv.Unmarshal(blob) == nil {
			if vs, err := types.ValidatorSetFromProto(&pv); err == nil {
				b.Validators = vs
			}
		}
	case 11:
		if k := pick(len(b.Records)); k >= 0 && b.Records[k] != nil {
			if ms := b.Records[k].Messages; len(ms) > 0 {
				flip(ms[int(v)%len(ms)].Payload)
			} else {
				b.Records[k].Messages = append(b.Records[k].Messages, msg.Message{Payload: blob})
			}
		}
	case 12:
		if k := pick(len(b.Records)); k >= 0 && b.Records[k] != nil {
			b.Records[k].Height += int64(int8(v))
		}
	case 13:
		if k := pick(len(b.Headers)); k >= 0 && b.Headers[k] != nil {
			b.Headers[k].Time = b.Headers[k].Time.Add(time.Duration(int8(v)) * time.Second)
		}
	case 14:
		if b.Commit != nil {
			if k := pick(len(b.Commit.Signatures)); k >= 0 {
				b.Commit.Signatures[k].BlockIDFlag = types.BlockIDFlag(v % 5)
			}
		}
	case 15:
		if k := pick(len(b.Records)); k >= 0 && b.Records[k] != nil {
			flip(b.Records[k].AppHash[:])
		}
	}
}
