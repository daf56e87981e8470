package pruntime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// Contract queries (Phala's ContractQuery): a client encrypts a
// phatwire.ContractQuery to the worker's ECDH key and signs the envelope
// with a certificate chain; the worker verifies the chain against its last
// applied block, decrypts, runs the query read-only through a
// QueryExecutor and answers a phatwire.ContractQueryResponse encrypted to
// the client's ephemeral key, echoing the nonce.

// Limits of queries.
const (
	// QueryGasLimit caps a query's gas as Phala's pink runtime does
	// (GAS_PER_SECOND·10 = 5×10^13).
	QueryGasLimit uint64 = 50_000_000_000_000
	// DefaultQueryTimeout is the wall-clock backstop of one query
	// (Phala's --query-timeout default).
	DefaultQueryTimeout = 10 * time.Second
	// MaxQueryEnvelope bounds a query's encoded_encrypted_data (Phala's
	// ContractQuery body limit).
	MaxQueryEnvelope = phatwire.MaxQuerySize
)

// QueryCertificateCacheSize is how many client certificates the runtime
// remembers as verified.
const QueryCertificateCacheSize = 4096

// Errors of a query that is refused before it is answered (no encrypted
// answer can be made: the request does not decrypt or is not signed as it
// claims). They wrap ErrQueryRejected.
var (
	// ErrQueryRejected is wrapped by every refusal of a query request.
	ErrQueryRejected = errors.New("pruntime: query rejected")
	// ErrQueryBusy means the worker runs as many queries as it may and its
	// backlog is full.
	ErrQueryBusy = errors.New("pruntime: too many queries in flight; try again later")
	// ErrContractNotFound is what a QueryExecutor returns (wrapped) for a
	// contract or code the worker does not know; the client gets
	// QueryError::RuntimeError with the message.
	ErrContractNotFound = errors.New("contract not found")
)

// MessageQuery is an InkMessage query as the executor runs it.
type MessageQuery struct {
	// Contract is the contract called (the query head's id).
	Contract [32]byte
	// Origin is the root of the client's verified certificate chain.
	Origin phatwire.AccountID
	// Input is the message: selector ‖ SCALE arguments.
	Input    []byte
	Deposit  scale.U128
	Transfer scale.U128
	// Estimating asks for a gas estimate: the message runs as a command
	// would (transaction rules: no floating point, the cluster's command
	// gas cap), and nothing is written.
	Estimating bool
	// GasLimit is QueryGasLimit.
	GasLimit uint64
	// Height is the last applied block: the state the query reads.
	Height int64
}

// InstantiateQuery is an InkInstantiate query (a constructor dry run).
type InstantiateQuery struct {
	// Target is the query head's id (the SDK names the cluster's system
	// contract there).
	Target   [32]byte
	Origin   phatwire.AccountID
	CodeHash [32]byte
	Salt     []byte
	Input    []byte
	Deposit  scale.U128
	Transfer scale.U128
	GasLimit uint64
	Height   int64
}

// QueryExecutor runs queries read-only: in query mode (floats allowed, gas
// capped by the request's GasLimit), with every write discarded, stopping
// when ctx ends. It must be safe for concurrent use. An error it returns
// becomes the query's QueryError: a *phatwire.QueryError as is,
// ErrContractNotFound and any other error as RuntimeError with the message,
// a context deadline as Timeout. A contract that traps or runs out of gas
// is not an error but a result with a DispatchError.
type QueryExecutor interface {
	QueryMessage(ctx context.Context, q *MessageQuery) (*phatwire.ContractExecResult, error)
	QueryInstantiate(ctx context.Context, q *InstantiateQuery) (*phatwire.ContractInstantiateResult, error)
}

// QueryAnswer is the answer to a query: the SCALE EncryptedData of the
// response, sealed to the client, and the block the query read.
type QueryAnswer struct {
	EncodedEncryptedData []byte
	Blocknum             uint32
}

// queryHeight is a height as the u32 block number certificates compare with.
func queryHeight(h int64) uint32 {
	if h < 0 {
		return 0
	}
	if h > math.MaxUint32 {
		return math.MaxUint32
	}
	return uint32(h)
}

// Query answers one contract query. encodedEncryptedData is the request's
// SCALE EncryptedData, sig its signature (nil: no origin). It returns an
// error wrapping ErrQueryRejected when the request is refused outright
// (too large, malformed, not decryptable with this worker's key, a
// signature that does not verify or an expired certificate), and
// ErrNotInitialized before Init. Every other failure, the query's own, is
// answered encrypted as a phatwire.QueryError. Nothing changes either way.
func (r *Runtime) Query(ctx context.Context, encodedEncryptedData []byte, sig *phatwire.Signature) (*QueryAnswer, error) {
	return r.answer(ctx, encodedEncryptedData, sig, r.runQuery)
}

// ErrNoOutcome is the message of the QueryError CommandOutcome answers
// when it has no outcome of the command for the query's account.
const ErrNoOutcome = phatwire.NoOutcome

// CommandOutcome answers the outcome of a command to its sender: the
// request is sealed and signed as Query's, with the command id as the
// ContractQuery's head id (its data is not read), and the answer's payload
// is a SCALE phatwire.CommandOutcome. Only the certificate chain's root
// account that sent the command (the phat/command origin, or the deployer
// of an instantiate) gets it; anyone else gets ErrNoOutcome, as for an
// unknown command or one this worker did not execute. Refusals are
// Query's.
func (r *Runtime) CommandOutcome(ctx context.Context, encodedEncryptedData []byte, sig *phatwire.Signature) (*QueryAnswer, error) {
	return r.answer(ctx, encodedEncryptedData, sig, r.runOutcome)
}

// runOutcome looks up the outcome of q's command for origin.
func (r *Runtime) runOutcome(_ context.Context, q *phatwire.ContractQuery, origin *phatwire.AccountID, _ int64) ([]byte, *phatwire.QueryError) {
	if origin == nil {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrBadOrigin}
	}
	r.qmu.RLock()
	r.mu.Lock()
	var (
		o  worker.CommandOutcome
		ok bool
	)
	if r.core != nil {
		o, ok = r.core.OutcomeOf(*origin, q.Head.ID)
	}
	r.mu.Unlock()
	r.qmu.RUnlock()
	if !ok {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: ErrNoOutcome}
	}
	out := &phatwire.CommandOutcome{Height: uint64(max(o.Height, 0)), Contract: o.Contract, Refused: o.Refused,
		Flags: o.Result.Flags, Output: o.Result.Data, Error: o.Result.Err, GasUsed: o.Result.GasUsed}
	for _, ev := range o.Result.Events {
		out.Events = append(out.Events, phatwire.OutcomeEvent{Contract: ev.Contract, Topics: ev.Topics, Data: ev.Data})
	}
	b := scale.Encode(out)
	if len(b) > phatwire.MaxOutcomeSize {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: "the outcome is too large to answer"}
	}
	return b, nil
}

// ErrNoLogs is the message of the QueryError ContractLogs answers when the
// contract is unknown here or the query's account did not deploy it.
const ErrNoLogs = "no logs of this contract for this account"

// LogSource is where ContractLogs reads a contract's log lines (the pink
// extension's log ring).
type LogSource interface {
	// Page returns the lines of contract after sequence after, at most max.
	Page(contract [32]byte, after uint64, max int) phatwire.LogPage
}

// ContractLogs answers a contract's log lines to its deployer: the request
// is sealed and signed as Query's, with the contract as the
// ContractQuery's head id and a SCALE phatwire.LogRequest as its
// InkMessage payload; the answer's payload is a SCALE phatwire.LogPage.
// Anyone but the deployer gets ErrNoLogs, as for an unknown contract.
func (r *Runtime) ContractLogs(ctx context.Context, encodedEncryptedData []byte, sig *phatwire.Signature) (*QueryAnswer, error) {
	return r.answer(ctx, encodedEncryptedData, sig, r.runLogs)
}

func (r *Runtime) runLogs(_ context.Context, q *phatwire.ContractQuery, origin *phatwire.AccountID, _ int64) ([]byte, *phatwire.QueryError) {
	if origin == nil {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrBadOrigin}
	}
	var req phatwire.LogRequest
	if q.Data.Kind != phatwire.QueryInkMessage || scale.Decode(q.Data.Message.Payload, &req) != nil {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: "not a log request"}
	}
	r.qmu.RLock()
	r.mu.Lock()
	var (
		deployer [32]byte
		ok       bool
	)
	if r.core != nil {
		_, deployer, ok = r.core.ContractDeployer(q.Head.ID)
	}
	logs := r.logs
	r.mu.Unlock()
	r.qmu.RUnlock()
	if !ok || deployer != [32]byte(*origin) || logs == nil {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: ErrNoLogs}
	}
	max := int(req.Max)
	if max <= 0 || max > phatwire.MaxLogPage {
		max = phatwire.MaxLogPage
	}
	page := logs.Page(q.Head.ID, req.After, max)
	return scale.Encode(&page), nil
}

// answer opens a sealed, signed query, runs it with run and seals the
// answer (Query and CommandOutcome).
func (r *Runtime) answer(ctx context.Context, encodedEncryptedData []byte, sig *phatwire.Signature,
	run func(context.Context, *phatwire.ContractQuery, *phatwire.AccountID, int64) ([]byte, *phatwire.QueryError)) (*QueryAnswer, error) {
	if len(encodedEncryptedData) > MaxQueryEnvelope {
		return nil, fmt.Errorf("%w: encrypted query of %d bytes, limit %d", ErrQueryRejected, len(encodedEncryptedData), MaxQueryEnvelope)
	}
	r.mu.Lock()
	if r.sync == nil {
		r.mu.Unlock()
		return nil, ErrNotInitialized
	}
	height := r.sync.Height()
	ecdh := r.keys.channel
	r.mu.Unlock()
	block := queryHeight(height)

	// Origin: the root of the verified chain (Phala verifies before it
	// decrypts).
	var origin *phatwire.AccountID
	if sig != nil {
		chain, err := r.certs.VerifyQuery(sig, encodedEncryptedData, block)
		if err != nil {
			return nil, fmt.Errorf("%w: signature: %w", ErrQueryRejected, err)
		}
		o, _ := phatwire.Origin(chain)
		origin = &o
	}
	// One agreement serves both directions (phatwire.OpenQuery and
	// SealResponse would compute it twice).
	env, err := cipher.DecodeEncryptedData(encodedEncryptedData)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueryRejected, err)
	}
	key, err := ecdh.Agree(env.Pubkey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueryRejected, err)
	}
	defer clear(key[:])
	plain, err := cipher.Open(key, env.IV, env.Data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueryRejected, err)
	}
	q, err := phatwire.DecodeContractQuery(plain)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQueryRejected, err)
	}
	resp := &phatwire.ContractQueryResponse{Nonce: q.Head.Nonce}
	payload, qerr := run(ctx, q, origin, height)
	if qerr != nil {
		resp.Err = qerr
	} else {
		resp.Payload = payload
	}
	iv, err := cipher.NewIV(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errInternal, err)
	}
	// As phatwire.SealResponse: sealed from the worker's key to the
	// client's, under the agreement that opened the query.
	out := &cipher.EncryptedData{IV: iv, Pubkey: ecdh.Public(), Data: cipher.Seal(key, iv, resp.Encode())}
	return &QueryAnswer{EncodedEncryptedData: out.Encode(), Blocknum: block}, nil
}

// runQuery dispatches a decrypted query to the executor and returns the
// SCALE payload of InkMessageReturn or the QueryError.
func (r *Runtime) runQuery(ctx context.Context, q *phatwire.ContractQuery, origin *phatwire.AccountID, height int64) ([]byte, *phatwire.QueryError) {
	if q.Data.Kind == phatwire.QuerySidevm {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrSidevmNotFound}
	}
	if origin == nil {
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrBadOrigin}
	}
	ctx, cancel := context.WithTimeout(ctx, r.queryTimeout())
	defer cancel()
	var (
		res scale.Encodable
		err error
	)
	switch q.Data.Kind {
	case phatwire.QueryInkMessage:
		m := &q.Data.Message
		var out *phatwire.ContractExecResult
		out, err = r.exec.QueryMessage(ctx, &MessageQuery{Contract: q.Head.ID, Origin: *origin, Input: m.Payload,
			Deposit: m.Deposit, Transfer: m.Transfer, Estimating: m.Estimating, GasLimit: QueryGasLimit, Height: height})
		if out != nil {
			res = out
		}
	case phatwire.QueryInkInstantiate:
		m := &q.Data.Instantiate
		var out *phatwire.ContractInstantiateResult
		out, err = r.exec.QueryInstantiate(ctx, &InstantiateQuery{Target: q.Head.ID, Origin: *origin, CodeHash: m.CodeHash,
			Salt: m.Salt, Input: m.InstantiateData, Deposit: m.Deposit, Transfer: m.Transfer, GasLimit: QueryGasLimit, Height: height})
		if out != nil {
			res = out
		}
	default: // the decoder admits no other kind
		return nil, &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: "unknown query kind " + q.Data.Kind.String()}
	}
	if err == nil && res == nil {
		err = errors.New("the executor gave no result")
	}
	if err != nil {
		return nil, queryError(err, q)
	}
	return scale.Encode(res), nil
}

// queryError maps an executor error to the client's QueryError.
func queryError(err error, q *phatwire.ContractQuery) *phatwire.QueryError {
	var qe *phatwire.QueryError
	switch {
	case errors.As(err, &qe):
		return qe
	case errors.Is(err, context.DeadlineExceeded):
		return &phatwire.QueryError{Kind: phatwire.QueryErrTimeout}
	case errors.Is(err, ErrContractNotFound):
		return &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: err.Error()}
	}
	return &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: fmt.Sprintf("%s query of 0x%x: %v", q.Data.Kind, q.Head.ID, err)}
}

func (r *Runtime) queryTimeout() time.Duration {
	if r.cfg.QueryTimeout > 0 {
		return r.cfg.QueryTimeout
	}
	return DefaultQueryTimeout
}
