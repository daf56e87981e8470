package lightclient

import (
	"bytes"
	"fmt"
	"time"

	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/scale"
)

// stateFormat is the version byte of an encoded State.
const stateFormat = 1

// EncodeSCALE writes s deterministically (for sealed checkpoints):
//
//	u8 format (1) ‖ String chain id ‖ i64 height ‖ Vec<u8> block hash ‖
//	u32 part-set total ‖ Vec<u8> part-set hash ‖ i64 unix seconds ‖
//	u32 nanoseconds (both 0 at height 0) ‖ u64 app version ‖ Vec<u8> next validators hash ‖
//	Option<Vec<([u8; 32] ed25519 key, i64 power)>> next validators, in set order
//
// The highest supported app version is not encoded: it belongs to the code
// that decodes, not to the chain.
func (s State) EncodeSCALE(w *scale.Writer) {
	w.U8(stateFormat)
	w.String(s.chainID)
	w.I64(s.height)
	w.BytesVec(s.blockID.Hash)
	w.U32(s.blockID.PartSetHeader.Total)
	w.BytesVec(s.blockID.PartSetHeader.Hash)
	if s.height == 0 {
		w.I64(0)
		w.U32(0)
	} else {
		w.I64(s.time.Unix())
		w.U32(uint32(s.time.Nanosecond()))
	}
	w.U64(s.appVersion)
	w.BytesVec(s.nextValsHash)
	if s.nextVals == nil {
		w.OptionNone()
		return
	}
	w.OptionSome()
	w.Compact(uint64(len(s.nextVals.Validators)))
	for _, v := range s.nextVals.Validators {
		w.Raw(v.PubKey.Bytes())
		w.I64(v.VotingPower)
	}
}

// Encode returns the SCALE encoding of s.
func (s State) Encode() []byte {
	var w scale.Writer
	s.EncodeSCALE(&w)
	return w.Bytes()
}

// DecodeState reads a State written by EncodeSCALE from r, for code that
// supports app versions up to maxAppVersion. Errors wrap ErrCorruptState.
func DecodeState(r *scale.Reader, maxAppVersion uint64) (State, error) {
	bad := func(format string, a ...any) (State, error) {
		return State{}, fmt.Errorf("%w: %s", ErrCorruptState, fmt.Sprintf(format, a...))
	}
	if f := r.U8(); r.Err() == nil && f != stateFormat {
		return bad("format %d", f)
	}
	s := State{maxAppVersion: maxAppVersion}
	s.chainID = r.String()
	s.height = r.I64()
	hash := r.BytesVec()
	total := r.U32()
	psh := r.BytesVec()
	sec := r.I64()
	nsec := r.U32()
	s.appVersion = r.U64()
	s.nextValsHash = bytes.Clone(r.BytesVec())
	var pvs []*cmtproto.Validator
	if r.Option() {
		n := r.Len(40)
		pvs = make([]*cmtproto.Validator, 0, n)
		for i := 0; i < n && r.Err() == nil; i++ {
			pk := r.Raw(32)
			power := r.I64()
			if r.Err() != nil {
				break
			}
			pv, err := protoValidator(pk, power)
			if err != nil {
				return bad("validator %d: %v", i, err)
			}
			pvs = append(pvs, pv)
		}
	}
	if err := r.Err(); err != nil {
		return bad("%v", err)
	}
	if s.chainID == "" || len(s.chainID) > types.MaxChainIDLen {
		return bad("chain id of %d bytes", len(s.chainID))
	}
	if s.height < 0 {
		return bad("height %d", s.height)
	}
	if nsec >= 1e9 || sec < minTimestampSeconds || sec > maxTimestampSeconds {
		return bad("time out of range")
	}
	s.blockID = types.BlockID{Hash: bytes.Clone(hash), PartSetHeader: types.PartSetHeader{Total: total, Hash: bytes.Clone(psh)}}
	if s.height == 0 {
		if !s.blockID.IsZero() || sec != 0 || nsec != 0 {
			return bad("height 0 with a block id or time")
		}
	} else {
		if err := s.blockID.ValidateBasic(); err != nil || !s.blockID.IsComplete() {
			return bad("block id %v", s.blockID)
		}
		s.time = time.Unix(sec, int64(nsec)).UTC()
	}
	if len(s.nextValsHash) != 32 {
		return bad("next validators hash of %d bytes", len(s.nextValsHash))
	}
	if pvs != nil {
		vs, err := setFromProto(pvs)
		if err != nil {
			return bad("%v", err)
		}
		if tv, err := trustedSet(vs); err != nil {
			return bad("%v", err)
		} else if !bytes.Equal(tv.Hash(), s.nextValsHash) {
			return bad("validator set does not hash to the next validators hash")
		} else {
			s.nextVals = tv
		}
	}
	return s, nil
}
