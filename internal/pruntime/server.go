package pruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"connectrpc.com/connect"
	cmtproto "github.com/cometbft/cometbft/proto/tendermint/types"
	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// MaxRequestBytes bounds one API request: a batch of 1,000 headers and its
// block records (the node answers at most 16 MiB of records per query).
const MaxRequestBytes = 64 << 20

// MaxBatchHeaders bounds the headers of one Sync request.
const MaxBatchHeaders = 10_000

// InternalHandler serves the internal API (for the operator's pherry)
// behind the bearer token: a request without it is refused before its body
// is read. It takes binary protobuf only, uncompressed, checks a Sync
// request's counts on the wire before unmarshalling it, and verifies one
// Sync at a time. Serve it on a listener of its own, never beside the public API.
func InternalHandler(r *Runtime, token string) http.Handler {
	mux := http.NewServeMux()
	mux.Handle(pruntimev1connect.NewInternalHandler(&internalAPI{r}, internalOptions()))
	return requireToken(token, guardInternal(mux))
}

// PublicHandler serves the public API, and nothing else: the internal
// service's paths are not found here. It serves the Connect service and
// Phala's pRPC (/prpc/PhactoryAPI.GetInfo and .ContractQuery, prpc.go);
// both kinds of query share one admission gate.
func PublicHandler(r *Runtime) http.Handler {
	gate := defaultQueryGate()
	api := &publicAPI{r: r, gate: gate}
	mux := http.NewServeMux()
	mux.Handle(pruntimev1connect.NewPublicHandler(api, connect.WithReadMaxBytes(connectQueryBody)))
	// Sealed answers are sent uncompressed (compressed requests are still
	// read): see sealedProcedures.
	_, sealed := pruntimev1connect.NewPublicHandler(api, connect.WithReadMaxBytes(connectQueryBody),
		connect.WithCompressMinBytes(math.MaxInt32))
	for _, p := range sealedProcedures {
		mux.Handle(p, sealed)
	}
	mux.Handle(PrpcPrefix, &prpcHandler{r: r, gate: gate})
	return guardPublic(mux)
}

// sealedProcedures answer with a ContractQueryResponse, whose payload is
// ciphertext: it does not compress, so gzip (which Connect applies to every
// answer of a client that accepts it) would only cost the worker a deflate
// pass and a compressor reset per answer — tens of µs for the answer of a
// query carrying an HTTP response, milliseconds for one carrying 2 MiB.
var sealedProcedures = []string{
	pruntimev1connect.PublicQueryProcedure,
	pruntimev1connect.PublicContractLogsProcedure,
	pruntimev1connect.PublicCommandOutcomeProcedure,
}

type internalAPI struct{ r *Runtime }

func invalid(format string, a ...any) error {
	return connect.NewError(connect.CodeInvalidArgument, fmt.Errorf(format, a...))
}

// apiError maps runtime errors to connect codes: a rejected input is
// InvalidArgument, a call in the wrong state FailedPrecondition.
func apiError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotInitialized), errors.Is(err, ErrStopped), errors.Is(err, ErrOtherGenesis),
		errors.Is(err, ErrNoOperator), errors.Is(err, ErrOtherOperator):
		return connect.NewError(connect.CodeFailedPrecondition, err)
	case errors.Is(err, errInternal):
		return connect.NewError(connect.CodeInternal, err)
	default:
		// Everything else chainsync or the runtime refuses is a bad input.
		return connect.NewError(connect.CodeInvalidArgument, err)
	}
}

// errInternal marks failures of the runtime itself (disk, TEE).
var errInternal = errors.New("pruntime: internal error")

func (a *internalAPI) Init(_ context.Context, req *pruntimev1.InitRequest) (*pruntimev1.InitResponse, error) {
	var g state.Genesis
	if err := scale.Decode(req.Genesis, &g); err != nil {
		return nil, invalid("genesis: %v", err)
	}
	var rec state.BlockRecord
	if err := scale.Decode(req.GenesisRecord, &rec); err != nil {
		return nil, invalid("genesis record: %v", err)
	}
	gh, err := a.r.Init(&g, &rec)
	if err != nil {
		return nil, apiError(err)
	}
	return &pruntimev1.InitResponse{GenesisHash: gh[:]}, nil
}

// DecodeBatch turns a Sync request into a chainsync batch. Every part is
// decoded and basic-validated; the light client checks the rest. A request
// without headers must be one record alone (see chainsync.Batch).
func DecodeBatch(req *pruntimev1.SyncRequest) (chainsync.Batch, error) {
	var b chainsync.Batch
	if len(req.Headers) == 0 {
		if len(req.Records) != 1 || len(req.Commit) != 0 || len(req.Validators) != 0 {
			return b, errors.New("no headers (a batch without headers is one block record alone)")
		}
		rec := new(state.BlockRecord)
		if err := scale.Decode(req.Records[0], rec); err != nil {
			return b, fmt.Errorf("record 0: %v", err)
		}
		b.Records = []*state.BlockRecord{rec}
		return b, nil
	}
	if len(req.Headers) > MaxBatchHeaders {
		return b, fmt.Errorf("%d headers, at most %d per batch", len(req.Headers), MaxBatchHeaders)
	}
	for i, raw := range req.Headers {
		var ph cmtproto.Header
		if err := ph.Unmarshal(raw); err != nil {
			return b, fmt.Errorf("header %d: %v", i, err)
		}
		h, err := types.HeaderFromProto(&ph)
		if err != nil {
			return b, fmt.Errorf("header %d: %v", i, err)
		}
		b.Headers = append(b.Headers, &h)
	}
	var pc cmtproto.Commit
	if err := pc.Unmarshal(req.Commit); err != nil {
		return b, fmt.Errorf("commit: %v", err)
	}
	c, err := types.CommitFromProto(&pc)
	if err != nil {
		return b, fmt.Errorf("commit: %v", err)
	}
	b.Commit = c
	if len(req.Validators) > 0 {
		var pv cmtproto.ValidatorSet
		if err := pv.Unmarshal(req.Validators); err != nil {
			return b, fmt.Errorf("validators: %v", err)
		}
		vs, err := types.ValidatorSetFromProto(&pv)
		if err != nil {
			return b, fmt.Errorf("validators: %v", err)
		}
		b.Validators = vs
	}
	for i, raw := range req.Records {
		rec := new(state.BlockRecord)
		if err := scale.Decode(raw, rec); err != nil {
			return b, fmt.Errorf("record %d: %v", i, err)
		}
		b.Records = append(b.Records, rec)
	}
	return b, nil
}

func (a *internalAPI) Sync(_ context.Context, req *pruntimev1.SyncRequest) (*pruntimev1.SyncResponse, error) {
	b, err := DecodeBatch(req)
	if err != nil {
		return nil, invalid("sync: %v", err)
	}
	if err := a.r.Sync(b); err != nil {
		return nil, apiError(err)
	}
	in := a.r.Info()
	return &pruntimev1.SyncResponse{HeaderHeight: in.HeaderHeight, AppliedHeight: in.Height, AppHash: in.AppHash[:]}, nil
}

func (a *internalAPI) Egress(_ context.Context, _ *pruntimev1.EgressRequest) (*pruntimev1.EgressResponse, error) {
	streams, err := a.r.EgressAll()
	if err != nil {
		return nil, apiError(err)
	}
	own := msg.OriginWorker(a.r.Info().IdentityPublicKey)
	out := &pruntimev1.EgressResponse{Streams: make([]*pruntimev1.EgressStream, 0, len(streams))}
	for _, s := range streams {
		if bytes.Equal(s.Origin, own) {
			out.NextChainSequence = s.Next
		}
		out.Streams = append(out.Streams, &pruntimev1.EgressStream{Origin: s.Origin, NextChainSequence: s.Next})
		for i := range s.Messages {
			out.Messages = append(out.Messages, scale.Encode(&s.Messages[i]))
		}
	}
	return out, nil
}

func (a *internalAPI) Registration(_ context.Context, req *pruntimev1.RegistrationRequest) (*pruntimev1.RegistrationResponse, error) {
	// The operator is the worker's own configuration; a request may only
	// name the same one (pherry does, to catch a mismatch early).
	if len(req.Operator) != 0 {
		if len(req.Operator) != 32 {
			return nil, invalid("registration: operator must be a 32-byte account id, got %d bytes", len(req.Operator))
		}
		var op keys.PublicKey
		copy(op[:], req.Operator)
		if want := a.r.Operator(); op != want {
			return nil, connect.NewError(connect.CodePermissionDenied, fmt.Errorf(
				"registration: this worker is operated by %s (its --operator), not %s", want, op))
		}
	}
	info, att, err := a.r.Registration()
	if err != nil {
		return nil, apiError(err)
	}
	return &pruntimev1.RegistrationResponse{Info: scale.Encode(&info), TeeKind: att.Kind, Quote: att.Quote, Collateral: att.Collateral}, nil
}

type publicAPI struct {
	r    *Runtime
	gate *queryGate
}

func (a *publicAPI) Info(_ context.Context, _ *pruntimev1.InfoRequest) (*pruntimev1.InfoResponse, error) {
	in := a.r.Info()
	out := &pruntimev1.InfoResponse{
		Initialized:   in.Initialized,
		Registered:    in.Registered,
		Height:        in.Height,
		HeaderHeight:  in.HeaderHeight,
		HeaderRecord:  in.HeaderRecord,
		TeeProvider:   in.TEEKind,
		ChainId:       in.ChainID,
		Version:       fmt.Sprintf("%d.%d.%d", Version[0], Version[1], Version[2]),
		MaxAppVersion: MaxAppVersion,
		EgressPending: uint64(in.EgressPending),
		Measurement:   in.Measurement,
		Gatekeeper:    in.Gatekeeper,
	}
	if in.HasMaster {
		out.MasterPublicKey = in.MasterPublicKey.Hex()
	}
	for _, c := range in.Clusters {
		out.Clusters = append(out.Clusters, &pruntimev1.ClusterKeyInfo{Id: fmt.Sprintf("0x%x", c.ID), Epoch: c.Epoch, PublicKey: c.Pubkey.Hex(),
			StateRoot: fmt.Sprintf("0x%x", c.StateRoot), Contracts: uint32(c.Contracts)})
	}
	if op := a.r.Operator(); op != (keys.PublicKey{}) {
		out.Operator = op.String()
	}
	if in.Initialized {
		out.IdentityPublicKey = in.IdentityPublicKey.Hex()
		out.EcdhPublicKey = in.EcdhPublicKey.Hex()
		out.GenesisHash = fmt.Sprintf("0x%x", in.GenesisHash)
		out.AppHash = fmt.Sprintf("0x%x", in.AppHash)
	}
	return out, nil
}
