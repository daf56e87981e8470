package pherry

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/genesisfile"

	"connectrpc.com/connect"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
)

// fakeNode is a Source over a synthetic chain, of which only heights up to
// visible are shown. It answers at most recordsPerCall records per query,
// as a node may.
type fakeNode struct {
	mu             sync.Mutex
	c              *synth.Chain
	visible        int64
	recordsPerCall int
	down           int // fail this many calls
	calls          map[string]int
	// lieAt, when > 0, is a height whose record is answered once with a
	// forged message.
	lieAt int64
}

func newFakeNode(c *synth.Chain) *fakeNode {
	return &fakeNode{c: c, visible: c.Height(), recordsPerCall: 5, calls: map[string]int{}}
}

func (f *fakeNode) enter(what string) error {
	f.mu.Lock()
	f.calls[what]++
	if f.down > 0 {
		f.down--
		return errors.New("connection refused (fake)")
	}
	return nil
}

func (f *fakeNode) Height(context.Context) (int64, error) {
	if err := f.enter("height"); err != nil {
		f.mu.Unlock()
		return 0, err
	}
	defer f.mu.Unlock()
	return f.visible, nil
}

func (f *fakeNode) GenesisDoc(context.Context) (*cmttypes.GenesisDoc, error) {
	if err := f.enter("genesis"); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	return genesisfile.GenesisDoc(f.c.Genesis(), synth.DefaultGenesisTime)
}

func (f *fakeNode) Headers(_ context.Context, lo, hi int64) ([]*cmttypes.Header, error) {
	if err := f.enter("headers"); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	if lo < 1 || hi > f.visible || hi < lo {
		return nil, fmt.Errorf("headers %d..%d of %d", lo, hi, f.visible)
	}
	var out []*cmttypes.Header
	for h := lo; h <= hi; h++ {
		out = append(out, synth.CloneHeader(f.c.Header(h)))
	}
	return out, nil
}

func (f *fakeNode) Commit(_ context.Context, h int64) (*cmttypes.Commit, error) {
	if err := f.enter("commit"); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	if h < 1 || h > f.visible {
		return nil, fmt.Errorf("commit %d of %d", h, f.visible)
	}
	return synth.CloneCommit(f.c.Commit(h)), nil
}

func (f *fakeNode) Validators(_ context.Context, h int64) ([]*cmttypes.Validator, error) {
	if err := f.enter("validators"); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	if h < 1 || h > f.visible {
		return nil, fmt.Errorf("validators %d of %d", h, f.visible)
	}
	return f.c.ValidatorSet(h).Validators, nil
}

func (f *fakeNode) Records(_ context.Context, from, to int64) ([]*state.BlockRecord, error) {
	if err := f.enter("records"); err != nil {
		f.mu.Unlock()
		return nil, err
	}
	defer f.mu.Unlock()
	if from < 0 || from > f.visible || to < from {
		return nil, fmt.Errorf("records %d..%d of %d", from, to, f.visible)
	}
	var out []*state.BlockRecord
	for h := from; h <= min(to, f.visible) && len(out) < f.recordsPerCall; h++ {
		r := f.c.Record(h)
		if f.lieAt > 0 && h == f.lieAt {
			f.lieAt = 0
			r = r.Clone()
			r.Messages = append(r.Messages, msg.Message{Origin: msg.OriginModule("liar"), Topic: []byte("t"), Payload: []byte("forged")})
		}
		out = append(out, r)
	}
	return out, nil
}

// extend adds n blocks to the chain and shows them.
func (f *fakeNode) extend(t *testing.T, n int) {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.c.AddBlocks(n, nil); err != nil {
		t.Fatal(err)
	}
	f.visible = f.c.Height()
}

// syncLog is what the fake pRuntime saw of one accepted batch.
type syncLog struct {
	first, last   int64
	validators    bool
	recFrom       int64
	recTo         int64
	headerBefore  int64
	appliedBefore int64
	// afterReject: the batch before it was rejected.
	afterReject bool
	// recordBefore: the pRuntime held the record of headerBefore.
	recordBefore bool
}

// fakeRuntime is a pRuntime's internal and public API over a real
// chainsync.Syncer, without keys, TEE or checkpoints.
type fakeRuntime struct {
	mu       sync.Mutex
	s        *chainsync.Syncer
	gh       [32]byte
	log      []syncLog
	rejected int
	// lastRejected: the last batch was rejected.
	lastRejected bool
	// kept lists the heights of the record-only batches accepted.
	kept     []int64
	down     int // fail this many calls as unavailable
	rejectAt int64
	// snapAt, when > 0, keeps a snapshot once the header height reaches it.
	snapAt int64
	snap   []byte
}

func (f *fakeRuntime) unavailable() error {
	if f.down > 0 {
		f.down--
		return connect.NewError(connect.CodeUnavailable, errors.New("fake pRuntime down"))
	}
	return nil
}

func (f *fakeRuntime) Init(_ context.Context, req *pruntimev1.InitRequest) (*pruntimev1.InitResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	var g state.Genesis
	if err := scale.Decode(req.Genesis, &g); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	var rec state.BlockRecord
	if err := scale.Decode(req.GenesisRecord, &rec); err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	if f.s != nil {
		return &pruntimev1.InitResponse{GenesisHash: f.gh[:]}, nil
	}
	s, err := chainsync.New(&g, g.Hash(), &rec, state.AppVersion1)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	f.s, f.gh = s, g.Hash()
	return &pruntimev1.InitResponse{GenesisHash: f.gh[:]}, nil
}

// decodeSync decodes a Sync request as the pRuntime's server does.
func decodeSync(req *pruntimev1.SyncRequest) (chainsync.Batch, error) {
	var b chainsync.Batch
	if len(req.Headers) == 0 {
		if len(req.Records) != 1 || len(req.Commit) != 0 || len(req.Validators) != 0 {
			return b, errors.New("no headers")
		}
		rec := new(state.BlockRecord)
		if err := scale.Decode(req.Records[0], rec); err != nil {
			return b, err
		}
		b.Records = []*state.BlockRecord{rec}
		return b, nil
	}
	for i, raw := range req.Headers {
		var ph cmtproto.Header
		if err := ph.Unmarshal(raw); err != nil {
			return b, fmt.Errorf("header %d: %w", i, err)
		}
		h, err := cmttypes.HeaderFromProto(&ph)
		if err != nil {
			return b, fmt.Errorf("header %d: %w", i, err)
		}
		b.Headers = append(b.Headers, &h)
	}
	var pc cmtproto.Commit
	if err := pc.Unmarshal(req.Commit); err != nil {
		return b, err
	}
	c, err := cmttypes.CommitFromProto(&pc)
	if err != nil {
		return b, err
	}
	b.Commit = c
	if len(req.Validators) > 0 {
		var pv cmtproto.ValidatorSet
		if err := pv.Unmarshal(req.Validators); err != nil {
			return b, err
		}
		vs, err := cmttypes.ValidatorSetFromProto(&pv)
		if err != nil {
			return b, err
		}
		b.Validators = vs
	}
	for i, raw := range req.Records {
		rec := new(state.BlockRecord)
		if err := scale.Decode(raw, rec); err != nil {
			return b, fmt.Errorf("record %d: %w", i, err)
		}
		b.Records = append(b.Records, rec)
	}
	return b, nil
}

func (f *fakeRuntime) Sync(_ context.Context, req *pruntimev1.SyncRequest) (*pruntimev1.SyncResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	if f.s == nil {
		return nil, connect.NewError(connect.CodeFailedPrecondition, errors.New("not initialised"))
	}
	b, err := decodeSync(req)
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	if len(b.Headers) == 0 {
		if err := f.s.SyncBatch(b); err != nil {
			f.rejected++
			f.lastRejected = true
			return nil, connect.NewError(connect.CodeInvalidArgument, err)
		}
		f.kept = append(f.kept, b.Records[0].Height)
		ah := f.s.AppHash()
		return &pruntimev1.SyncResponse{HeaderHeight: f.s.VerifiedHeight(), AppliedHeight: f.s.Height(), AppHash: ah[:]}, nil
	}
	first, last := b.Headers[0].Height, b.Headers[len(b.Headers)-1].Height
	if f.rejectAt != 0 && first <= f.rejectAt && f.rejectAt <= last {
		f.rejectAt = 0
		f.rejected++
		f.lastRejected = true
		return nil, connect.NewError(connect.CodeInvalidArgument, errors.New("fake rejection"))
	}
	entry := syncLog{first: first, last: last, validators: b.Validators != nil,
		headerBefore: f.s.VerifiedHeight(), appliedBefore: f.s.Height(), afterReject: f.lastRejected, recordBefore: f.s.HasPending()}
	if len(b.Records) > 0 {
		entry.recFrom, entry.recTo = b.Records[0].Height, b.Records[len(b.Records)-1].Height
	}
	if err := f.s.SyncBatch(b); err != nil {
		f.rejected++
		f.lastRejected = true
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	f.s.DrainBlocks()
	f.lastRejected = false
	f.log = append(f.log, entry)
	if f.snapAt > 0 && f.snap == nil && f.s.VerifiedHeight() >= f.snapAt {
		f.snap = f.s.Snapshot()
	}
	ah := f.s.AppHash()
	return &pruntimev1.SyncResponse{HeaderHeight: f.s.VerifiedHeight(), AppliedHeight: f.s.Height(), AppHash: ah[:]}, nil
}

func (f *fakeRuntime) Egress(context.Context, *pruntimev1.EgressRequest) (*pruntimev1.EgressResponse, error) {
	return &pruntimev1.EgressResponse{}, nil
}

func (f *fakeRuntime) Registration(context.Context, *pruntimev1.RegistrationRequest) (*pruntimev1.RegistrationResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("fake"))
}

// Query is not used by pherry.
func (f *fakeRuntime) Query(context.Context, *prpcpb.ContractQueryRequest) (*prpcpb.ContractQueryResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("fake"))
}

func (f *fakeRuntime) CommandOutcome(context.Context, *prpcpb.ContractQueryRequest) (*prpcpb.ContractQueryResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("fake"))
}

// ContractLogs is not used by pherry.
func (f *fakeRuntime) ContractLogs(context.Context, *prpcpb.ContractQueryRequest) (*prpcpb.ContractQueryResponse, error) {
	return nil, connect.NewError(connect.CodeUnimplemented, errors.New("fake"))
}

func (f *fakeRuntime) Info(context.Context, *pruntimev1.InfoRequest) (*pruntimev1.InfoResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.unavailable(); err != nil {
		return nil, err
	}
	if f.s == nil {
		return &pruntimev1.InfoResponse{}, nil
	}
	ah := f.s.AppHash()
	return &pruntimev1.InfoResponse{
		Initialized:  true,
		Height:       f.s.Height(),
		HeaderHeight: f.s.VerifiedHeight(),
		HeaderRecord: f.s.HasPending(),
		GenesisHash:  fmt.Sprintf("0x%x", f.gh),
		ChainId:      f.s.ChainID(),
		AppHash:      fmt.Sprintf("0x%x", ah),
	}, nil
}

// restore replaces the syncer with the kept snapshot (a pRuntime restarted
// from an older checkpoint).
func (f *fakeRuntime) restore(t *testing.T) int64 {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.snap == nil {
		t.Fatal("no snapshot kept")
	}
	s, err := chainsync.Restore(f.snap, f.gh, state.AppVersion1)
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return s.VerifiedHeight()
}

func (f *fakeRuntime) heights() (int64, int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.s == nil {
		return 0, 0
	}
	return f.s.VerifiedHeight(), f.s.Height()
}

func (f *fakeRuntime) logCopy() []syncLog {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]syncLog(nil), f.log...)
}
