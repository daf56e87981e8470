package pruntime

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
)

// Phala's pRPC on the public listener: POST /prpc/PhactoryAPI.<Method>
// with a protobuf body (or JSON with ?json or Content-Type
// application/json), errors as prpc.PrpcError with HTTP 400 (the body does
// not decode), 404 (no such method), 500 (the call failed) — what
// @phala/sdk's createPruntimeClient speaks. Served: GetInfo and
// ContractQuery.

// PrpcPrefix is the path prefix of pRPC methods.
const PrpcPrefix = "/prpc/"

// Body limits of pRPC methods (Phala's default_payload_limit_for_method).
const (
	prpcGetInfoBody       = 1 << 10
	prpcContractQueryBody = prpcpb.MaxContractQueryRequestSize
	// Connect's Query: the pRPC limit, plus room for JSON's base64.
	connectQueryBody = prpcContractQueryBody*4/3 + 16<<10
)

// Query admission: at most cores+2 queries run at once (Phala's query
// scheduler), at most queryBacklog more wait; beyond that a query is
// refused at once (503 / UNAVAILABLE). A running query gives its slot up
// when the pink extension goes to the network (awayForIO), so that slow
// HTTP servers hold no CPU slot (outbound requests are capped by the
// outbound client instead). Waiting queries hold their request (at most
// 64 KiB decompressed each).
const queryBacklog = 128

// queryGate admits queries.
type queryGate struct {
	slots   chan struct{}
	waiting atomic.Int64
	backlog int64
}

func newQueryGate(inflight, backlog int) *queryGate {
	return &queryGate{slots: make(chan struct{}, inflight), backlog: int64(backlog)}
}

func defaultQueryGate() *queryGate { return newQueryGate(runtime.NumCPU()+2, queryBacklog) }

// enter waits for a slot; it fails with ErrQueryBusy when the backlog is
// full, or with the context's error.
func (g *queryGate) enter(ctx context.Context) (func(), error) {
	_, leave, err := g.admit(ctx)
	return leave, err
}

// admit is enter that also returns ctx carrying the slot, so that the
// query can give it up when it waits on I/O (awayForIO).
func (g *queryGate) admit(ctx context.Context) (context.Context, func(), error) {
	s := &gateSlot{g: g, held: true}
	select {
	case g.slots <- struct{}{}:
		return context.WithValue(ctx, gateSlotKey{}, s), s.leave, nil
	default:
	}
	if g.waiting.Add(1) > g.backlog {
		g.waiting.Add(-1)
		return ctx, nil, ErrQueryBusy
	}
	defer g.waiting.Add(-1)
	select {
	case g.slots <- struct{}{}:
		return context.WithValue(ctx, gateSlotKey{}, s), s.leave, nil
	case <-ctx.Done():
		return ctx, nil, ErrQueryBusy
	}
}

// gateSlot is a query's slot in the gate.
type gateSlot struct {
	g    *queryGate
	mu   sync.Mutex
	held bool
}

type gateSlotKey struct{}

func (s *gateSlot) leave() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.held {
		<-s.g.slots
		s.held = false
	}
}

// leaveSlot gives up the slot of the query running in ctx, if any, for
// good: a query back from the network computes on without waiting for a
// slot again. (Waiting for one while holding the query lock could
// deadlock: queries holding slots wait for the lock behind a pending Sync,
// which waits for this query.) What runs unslotted is bounded by the
// outbound client's cap on requests in flight.
func leaveSlot(ctx context.Context) {
	if s, _ := ctx.Value(gateSlotKey{}).(*gateSlot); s != nil {
		s.leave()
	}
}

// queryLockKey marks a context whose query holds the runtime's query lock
// for reading (coreQueries).
type queryLockKey struct{}

// withQueryLock records in ctx that the query holds mu for reading.
func withQueryLock(ctx context.Context, mu *sync.RWMutex) context.Context {
	return context.WithValue(ctx, queryLockKey{}, mu)
}

// awayForIO is what a query does around a wait on the network: it gives
// up its admission slot and the query lock, so that neither other queries
// nor the application of blocks (Sync) wait for a remote server; the
// returned function takes the lock again. State read after the wait may
// be of a later block than state read before it.
func awayForIO(ctx context.Context) (back func()) {
	leaveSlot(ctx)
	mu, _ := ctx.Value(queryLockKey{}).(*sync.RWMutex)
	if mu == nil {
		return func() {}
	}
	mu.RUnlock()
	return mu.RLock
}

// prpcHandler serves /prpc/.
type prpcHandler struct {
	r    *Runtime
	gate *queryGate
}

func (h *prpcHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	method, _ := strings.CutPrefix(req.URL.Path, PrpcPrefix)
	method, _ = strings.CutPrefix(method, "PhactoryAPI.")
	jsonMode := req.URL.Query().Has("json")
	if ct, _, _ := strings.Cut(req.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) == "application/json" {
		jsonMode = true
	}
	var limit int64
	switch method {
	case "GetInfo":
		limit = prpcGetInfoBody
	case "ContractQuery":
		limit = prpcContractQueryBody
	default:
		prpcFail(w, jsonMode, http.StatusNotFound, "method not found: "+method)
		return
	}
	if req.Method == http.MethodGet {
		jsonMode = true // GET: JSON answer to an empty input, as Phala
	} else if req.Method != http.MethodPost {
		w.Header().Set("Allow", "GET, POST")
		prpcFail(w, jsonMode, http.StatusMethodNotAllowed, "use POST")
		return
	}
	var body []byte
	if req.Method == http.MethodPost {
		if req.ContentLength > limit {
			prpcFail(w, jsonMode, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s body of %d bytes, limit %d", method, req.ContentLength, limit))
			return
		}
		b, err := io.ReadAll(http.MaxBytesReader(w, req.Body, limit))
		if err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				prpcFail(w, jsonMode, http.StatusRequestEntityTooLarge, fmt.Sprintf("%s body over %d bytes", method, limit))
				return
			}
			prpcFail(w, jsonMode, http.StatusBadRequest, "reading body: "+err.Error())
			return
		}
		body = b
	}
	switch method {
	case "GetInfo":
		h.getInfo(w, jsonMode)
	case "ContractQuery":
		h.contractQuery(w, req, jsonMode, body)
	}
}

func (h *prpcHandler) getInfo(w http.ResponseWriter, jsonMode bool) {
	prpcReply(w, jsonMode, PhactoryInfo(h.r.Info()))
}

func (h *prpcHandler) contractQuery(w http.ResponseWriter, req *http.Request, jsonMode bool, body []byte) {
	in := new(prpcpb.ContractQueryRequest)
	var err error
	if jsonMode {
		err = protojson.Unmarshal(body, in)
	} else {
		err = proto.Unmarshal(body, in)
	}
	if err != nil {
		prpcFail(w, jsonMode, http.StatusBadRequest, "decode ContractQueryRequest: "+err.Error())
		return
	}
	sig, err := prpcpb.ToSignature(in.GetSignature())
	if err != nil {
		prpcFail(w, jsonMode, http.StatusBadRequest, "decode ContractQueryRequest: "+err.Error())
		return
	}
	qctx, leave, err := h.gate.admit(req.Context())
	if err != nil {
		prpcFail(w, jsonMode, http.StatusServiceUnavailable, err.Error())
		return
	}
	defer leave()
	ans, err := h.r.Query(qctx, in.GetEncodedEncryptedData(), sig)
	if err != nil {
		prpcFail(w, jsonMode, http.StatusInternalServerError, err.Error())
		return
	}
	prpcReply(w, jsonMode, &prpcpb.ContractQueryResponse{EncodedEncryptedData: ans.EncodedEncryptedData, Blocknum: ans.Blocknum})
}

func prpcReply(w http.ResponseWriter, jsonMode bool, m proto.Message) {
	var b []byte
	var err error
	if jsonMode {
		b, err = protojson.Marshal(m)
		w.Header().Set("Content-Type", "application/json")
	} else {
		b, err = proto.Marshal(m)
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	if err != nil {
		prpcFail(w, jsonMode, http.StatusInternalServerError, err.Error())
		return
	}
	_, _ = w.Write(b)
}

// prpcFail writes a PrpcError (JSON mode: {"error": message}).
func prpcFail(w http.ResponseWriter, jsonMode bool, status int, message string) {
	var b []byte
	if jsonMode {
		b, _ = protojsonError(message)
		w.Header().Set("Content-Type", "application/json")
	} else {
		b, _ = proto.Marshal(&prpcpb.PrpcError{Message: message})
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func protojsonError(message string) ([]byte, error) {
	s, err := protojson.Marshal(&prpcpb.PrpcError{Message: message})
	if err != nil {
		return nil, err
	}
	// {"message": "..."} → {"error": "..."} as Phala's JSON mode.
	return append(append([]byte(`{"error":`), s[len(`{"message":`):len(s)-1]...), '}'), nil
}

// PhactoryInfo is the runtime's Info as Phala's GetInfo answers it (hex
// without 0x, as Phala; headernum and blocknum are the next header and
// block to process).
func PhactoryInfo(in Info) *prpcpb.PhactoryInfo {
	out := &prpcpb.PhactoryInfo{
		Initialized: in.Initialized,
		Registered:  in.Registered,
		Version:     fmt.Sprintf("%d.%d.%d", Version[0], Version[1], Version[2]),
		DevMode:     in.TEEKind == "dev",
	}
	if !in.Initialized {
		return out
	}
	out.GenesisBlockHash = proto.String(hex.EncodeToString(in.GenesisHash[:]))
	out.PublicKey = proto.String(hex.EncodeToString(in.IdentityPublicKey[:]))
	out.EcdhPublicKey = proto.String(hex.EncodeToString(in.EcdhPublicKey[:]))
	out.Headernum = queryHeight(in.HeaderHeight + 1)
	out.Blocknum = queryHeight(in.Height + 1)
	out.StateRoot = hex.EncodeToString(in.AppHash[:])
	out.PendingMessages = uint64(in.EgressPending)
	gk := &prpcpb.GatekeeperStatus{}
	if in.Gatekeeper {
		gk.Role = prpcpb.GatekeeperRole_Active
	}
	if in.HasMaster {
		gk.MasterPublicKey = hex.EncodeToString(in.MasterPublicKey[:])
	}
	out.Gatekeeper = gk
	out.System = &prpcpb.SystemInfo{
		Registered:    in.Registered,
		PublicKey:     *out.PublicKey,
		EcdhPublicKey: *out.EcdhPublicKey,
		Gatekeeper:    gk,
		// NumberOfClusters counts the clusters whose key the worker holds.
		NumberOfClusters: uint64(len(in.Clusters)),
	}
	for _, c := range in.Clusters {
		out.System.NumberOfContracts += uint64(c.Contracts)
	}
	return out
}

// queryConnectError maps a refused query to a connect error.
func queryConnectError(err error) error {
	switch {
	case errors.Is(err, ErrQueryBusy):
		return connect.NewError(connect.CodeUnavailable, err)
	case errors.Is(err, ErrNotInitialized):
		return connect.NewError(connect.CodeFailedPrecondition, err)
	case errors.Is(err, phatwire.ErrBadSignature), errors.Is(err, phatwire.ErrCertificateExpired),
		errors.Is(err, phatwire.ErrMissingCertificate), errors.Is(err, phatwire.ErrBadPublicKey),
		errors.Is(err, phatwire.ErrUnsupportedSigType), errors.Is(err, phatwire.ErrInvalidSignatureType),
		errors.Is(err, phatwire.ErrTooLongChain):
		return connect.NewError(connect.CodeUnauthenticated, err)
	case errors.Is(err, ErrQueryRejected):
		return connect.NewError(connect.CodeInvalidArgument, err)
	}
	return connect.NewError(connect.CodeInternal, err)
}

// Query implements the public Connect service's Query.
func (a *publicAPI) Query(ctx context.Context, in *prpcpb.ContractQueryRequest) (*prpcpb.ContractQueryResponse, error) {
	return a.serveQuery(ctx, in, a.r.Query)
}

// ContractLogs is the Connect method Public.ContractLogs (Cella's):
// Runtime.ContractLogs behind the query gate.
func (a *publicAPI) ContractLogs(ctx context.Context, in *prpcpb.ContractQueryRequest) (*prpcpb.ContractQueryResponse, error) {
	return a.serveQuery(ctx, in, a.r.ContractLogs)
}

// CommandOutcome is the Connect method Public.CommandOutcome (Cella's; not
// on pRPC): Runtime.CommandOutcome behind the query gate.
func (a *publicAPI) CommandOutcome(ctx context.Context, in *prpcpb.ContractQueryRequest) (*prpcpb.ContractQueryResponse, error) {
	return a.serveQuery(ctx, in, a.r.CommandOutcome)
}

func (a *publicAPI) serveQuery(ctx context.Context, in *prpcpb.ContractQueryRequest,
	run func(context.Context, []byte, *phatwire.Signature) (*QueryAnswer, error)) (*prpcpb.ContractQueryResponse, error) {
	sig, err := prpcpb.ToSignature(in.GetSignature())
	if err != nil {
		return nil, connect.NewError(connect.CodeInvalidArgument, err)
	}
	qctx, leave, err := a.gate.admit(ctx)
	if err != nil {
		return nil, queryConnectError(err)
	}
	defer leave()
	ans, err := run(qctx, in.GetEncodedEncryptedData(), sig)
	if err != nil {
		return nil, queryConnectError(err)
	}
	return &prpcpb.ContractQueryResponse{EncodedEncryptedData: ans.EncodedEncryptedData, Blocknum: ans.Blocknum}, nil
}
