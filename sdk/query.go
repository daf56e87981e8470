package sdk

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strings"

	"connectrpc.com/connect"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
)

// DefaultWorkerURL is the public API of a worker (pRuntime) on this machine.
var DefaultWorkerURL = defaults.HTTP(defaults.PRuntimePublicAddr)

// maxAnswer bounds a worker's answer: a query answer is at most
// phatwire.MaxQuerySize plus its envelope.
const maxAnswer = 2 << 20

// Worker is a worker's public API, with the worker's ECDH key as the
// chain's registry has it.
type Worker struct {
	URL string
	// Identity is the worker's identity key; Ecdh the key queries are
	// encrypted to.
	Identity, Ecdh Address
	api            pruntimev1connect.PublicClient
}

// Worker connects to the worker whose public API is at url (empty:
// DefaultWorkerURL). It asks the worker for its identity and takes its ECDH
// key from the chain's registry, so that a query can be read only by a
// registered (attested) worker: a worker that is not registered, or that
// announces another ECDH key than its registration, is refused.
//
// ClusterWorker finds a worker of a cluster from the chain's registry
// instead.
func (c *Client) Worker(ctx context.Context, url string) (*Worker, error) {
	if url == "" {
		url = DefaultWorkerURL
	}
	if !strings.Contains(url, "://") {
		url = "http://" + url
	}
	api := pruntimev1connect.NewPublicClient(http.DefaultClient, strings.TrimRight(url, "/"), connect.WithReadMaxBytes(maxAnswer))
	info, err := api.Info(ctx, &pruntimev1.InfoRequest{})
	if err != nil {
		return nil, fmt.Errorf("worker %s: %w", url, err)
	}
	if !info.GetInitialized() {
		return nil, fmt.Errorf("worker %s is not initialized", url)
	}
	id, err := ParseAddress(info.GetIdentityPublicKey())
	if err != nil {
		return nil, fmt.Errorf("worker %s: identity: %w", url, err)
	}
	rec, err := c.node.Worker(ctx, keys.PublicKey(id))
	if err != nil {
		return nil, fmt.Errorf("worker %s (%s) in the chain's registry: %w", url, id.Hex(), notFound(err))
	}
	ecdh, err := ParseAddress(rec.EcdhPublicKey)
	if err != nil {
		return nil, fmt.Errorf("registry: worker %s's ECDH key: %w", id.Hex(), err)
	}
	if said, err := ParseAddress(info.GetEcdhPublicKey()); err != nil || said != ecdh {
		return nil, fmt.Errorf("worker %s announces ECDH key %q, its registration has %s", url, info.GetEcdhPublicKey(), ecdh.Hex())
	}
	return &Worker{URL: url, Identity: id, Ecdh: ecdh, api: api}, nil
}

// ErrNoWorkerEndpoint is wrapped by ClusterWorker's error when no worker
// holding the cluster's key recorded a reachable endpoint.
var ErrNoWorkerEndpoint = errors.New("no worker of the cluster with a reachable endpoint on chain")

// ClusterWorker connects to a worker that holds the key of cluster (and
// so executes its contracts and answers their queries), found in the
// chain's registry: the first keyed worker, in the cluster's order, whose
// recorded endpoint (the URL the worker signed on chain) answers as that
// worker (Worker's checks, and the identity it announces is the
// registry's).
func (c *Client) ClusterWorker(ctx context.Context, cluster Hash) (*Worker, error) {
	cl, err := c.Cluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, id := range cl.Keyed {
		rec, err := c.node.Worker(ctx, keys.PublicKey(id))
		if err != nil {
			errs = append(errs, fmt.Errorf("worker %s: %w", id.Hex(), notFound(err)))
			continue
		}
		if rec.Endpoint == "" {
			continue
		}
		w, err := c.Worker(ctx, rec.Endpoint)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if w.Identity != id {
			errs = append(errs, fmt.Errorf("worker %s's endpoint %s answers as %s", id.Hex(), rec.Endpoint, w.Identity.Hex()))
			continue
		}
		return w, nil
	}
	return nil, fmt.Errorf("cluster %s (%d workers hold its key): %w", cluster, len(cl.Keyed), errors.Join(append([]error{ErrNoWorkerEndpoint}, errs...)...))
}

// ContractWorker is ClusterWorker for the cluster of contract.
func (c *Client) ContractWorker(ctx context.Context, contract Address) (*Worker, error) {
	ci, err := c.Contract(ctx, contract)
	if err != nil {
		return nil, err
	}
	return c.ClusterWorker(ctx, ci.Cluster)
}

// QueryOptions are Query's options.
type QueryOptions struct {
	// Value is transferred to the contract in the dry run (nil: none).
	Value *big.Int
	// Deposit is credited to the querying account for the dry run.
	Deposit *big.Int
	// Estimating asks the worker to estimate the gas a command would need.
	Estimating bool
}

// QueryResult is a contract's answer to a query (pallet-contracts'
// ContractExecResult).
type QueryResult struct {
	// Output is the message's SCALE return value (Metadata.DecodeReturn
	// decodes it); Reverted is set when the contract reverted.
	Output   []byte `json:"output"`
	Reverted bool   `json:"reverted"`
	// GasConsumed and GasRequired are in ref-time units; GasRequired is the
	// gas limit a command doing the same needs.
	GasConsumed uint64 `json:"gasConsumed"`
	GasRequired uint64 `json:"gasRequired"`
	// StorageDeposit is the deposit charged (positive) or refunded.
	StorageDeposit *big.Int `json:"storageDeposit"`
	// Debug is the contract's debug output.
	Debug string `json:"debug,omitempty"`
}

// QueryCertTTL is the block until which a query's certificate is valid,
// as @phala/sdk's default (effectively no expiry: each query has a fresh
// ephemeral key).
const QueryCertTTL = 0x7fffffff

// ErrQuery is wrapped by the errors a worker answers a query with (in its
// encrypted answer) and by a contract's dispatch errors.
var ErrQuery = errors.New("contract query failed")

// Query asks worker w to run a contract message read-only as the account
// of key (the contract sees it as the caller): data is the call data
// (Metadata.EncodeMessage). The query is signed through a certificate the
// account issues for a fresh ephemeral key, encrypted to the worker's
// registered ECDH key, and the answer is decrypted and checked against the
// query's random nonce. Nothing changes on chain or in the contract.
func (c *Client) Query(ctx context.Context, key *Key, w *Worker, contract Address, data []byte, o QueryOptions) (*QueryResult, error) {
	if w == nil || key == nil {
		return nil, errors.New("sdk: Query needs a worker and a key")
	}
	value, err := toU128(o.Value)
	if err != nil {
		return nil, fmt.Errorf("value: %w", err)
	}
	deposit, err := toU128(o.Deposit)
	if err != nil {
		return nil, fmt.Errorf("deposit: %w", err)
	}
	payload, err := c.query(ctx, key, w, contract, phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{
		Payload: data, Deposit: deposit, Transfer: value, Estimating: o.Estimating}})
	if err != nil {
		return nil, err
	}
	r, err := phatwire.DecodeContractExecResult(payload)
	if err != nil {
		return nil, fmt.Errorf("worker %s's answer: %w", w.URL, err)
	}
	return queryResult(r)
}

// QueryInstantiate dry-runs a constructor on worker w in cluster as
// Instantiate would run it (codeHash uploaded to the cluster, data from
// Metadata.EncodeConstructor, salt), without creating anything: the result
// tells whether the constructor succeeds and the gas it needs, and the
// address is the contract's would-be address on chain (ContractAddress).
func (c *Client) QueryInstantiate(ctx context.Context, key *Key, w *Worker, cluster, codeHash Hash, data, salt []byte, o QueryOptions) (*QueryResult, Address, error) {
	if w == nil || key == nil {
		return nil, Address{}, errors.New("sdk: QueryInstantiate needs a worker and a key")
	}
	value, err := toU128(o.Value)
	if err != nil {
		return nil, Address{}, fmt.Errorf("value: %w", err)
	}
	deposit, err := toU128(o.Deposit)
	if err != nil {
		return nil, Address{}, fmt.Errorf("deposit: %w", err)
	}
	payload, err := c.query(ctx, key, w, Address(cluster), phatwire.Query{Kind: phatwire.QueryInkInstantiate, Instantiate: phatwire.InkInstantiateQuery{
		CodeHash: codeHash, Salt: salt, InstantiateData: data, Deposit: deposit, Transfer: value}})
	if err != nil {
		return nil, Address{}, err
	}
	r, err := phatwire.DecodeContractInstantiateResult(payload)
	if err != nil {
		return nil, Address{}, fmt.Errorf("worker %s's answer: %w", w.URL, err)
	}
	// The address is the chain's (ContractAddress), not the dry run's
	// AccountID: the worker's engine derives dry-run addresses its own way.
	out, err := queryResult(&r.ContractExecResult)
	return out, ContractAddress(key.Address(), codeHash, cluster, salt), err
}

func queryResult(r *phatwire.ContractExecResult) (*QueryResult, error) {
	out := &QueryResult{GasConsumed: r.GasConsumed.RefTime, GasRequired: r.GasRequired.RefTime, Debug: r.DebugMessage,
		StorageDeposit: r.StorageDeposit.Amount.Big()}
	if !r.StorageDeposit.Charge && r.StorageDeposit.Amount != (scale.U128{}) {
		out.StorageDeposit.Neg(out.StorageDeposit)
	}
	if r.Err != nil {
		return out, fmt.Errorf("%w: %w", ErrQuery, r.Err)
	}
	out.Output, out.Reverted = r.Result.Data, r.Result.Reverted()
	return out, nil
}

// query seals data to w for target (a contract, or a cluster for an
// instantiation dry run), signed by key through a fresh certificate, and
// returns the answer's InkMessageReturn payload.
func (c *Client) query(ctx context.Context, key *Key, w *Worker, target Address, data phatwire.Query,
	method ...func(context.Context, *prpcpb.ContractQueryRequest) (*prpcpb.ContractQueryResponse, error)) ([]byte, error) {
	call := w.api.Query
	if len(method) > 0 {
		call = method[0]
	}
	q := &phatwire.ContractQuery{Head: phatwire.ContractQueryHead{ID: target}, Data: data}
	if _, err := rand.Read(q.Head.Nonce[:]); err != nil {
		return nil, err
	}
	if len(q.Encode()) > phatwire.MaxQuerySize {
		return nil, fmt.Errorf("sdk: query over %d bytes", phatwire.MaxQuerySize)
	}
	// The certificate's key signs the envelope; the channel has an ECDH key
	// of its own, both fresh.
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		return nil, err
	}
	signer := keys.FromSeed(seed)
	clear(seed[:])
	cert, err := phatwire.IssueCertificate(key.pair, signer.Public(), QueryCertTTL, phatwire.Sr25519)
	if err != nil {
		return nil, err
	}
	ecdh, err := ephemeralECDH()
	if err != nil {
		return nil, err
	}
	iv, err := cipher.NewIV(rand.Reader)
	if err != nil {
		return nil, err
	}
	env, err := phatwire.SealQuery(ecdh, keys.PublicKey(w.Ecdh), iv, q)
	if err != nil {
		return nil, err
	}
	b := env.Encode()
	req := &prpcpb.ContractQueryRequest{EncodedEncryptedData: b, Signature: prpcpb.FromSignature(phatwire.SignQuery(cert, signer, b))}
	res, err := call(ctx, req)
	if err != nil {
		return nil, fmt.Errorf("worker %s: %w", w.URL, err)
	}
	resp, err := phatwire.OpenResponse(ecdh, keys.PublicKey(w.Ecdh), q.Head, res.GetEncodedEncryptedData())
	if err != nil {
		return nil, fmt.Errorf("worker %s's answer: %w", w.URL, err)
	}
	if resp.Err != nil {
		return nil, fmt.Errorf("%w: %w", ErrQuery, resp.Err)
	}
	return resp.Payload, nil
}

// LogLine is one line a contract logged through the pink extension's `log`.
type LogLine struct {
	// Seq is the line's sequence number on the worker (increasing, over
	// all contracts: not consecutive for one contract).
	Seq uint64 `json:"seq"`
	// Block is the block the worker had verified when the line was logged.
	Block uint32 `json:"block"`
	// TimeMs is a command's block time, or the worker's clock for a query.
	TimeMs uint64 `json:"timeMs"`
	// Level is "error", "warn", "info", "debug" or "trace".
	Level string `json:"level"`
	// InQuery is set for a line logged while answering a query.
	InQuery bool   `json:"inQuery"`
	Message string `json:"message"`
}

// LogPage is ContractLogs' answer.
type LogPage struct {
	Lines []LogLine `json:"lines"`
	// Next is the after to ask for the lines that follow.
	Next uint64 `json:"next"`
}

var logLevels = [...]string{"", "error", "warn", "info", "debug", "trace"}

// ContractLogs reads the log lines contract wrote on worker w after
// sequence after (0: from the oldest kept), at most max (0: the worker's
// page size). Only the contract's deployer may read them: key must be
// the deployer's. Logs live in each worker's memory, not on chain:
// another worker of the cluster has its own lines (of the same commands,
// and of the queries it answered).
func (c *Client) ContractLogs(ctx context.Context, key *Key, w *Worker, contract Address, after uint64, max uint32) (*LogPage, error) {
	payload, err := c.query(ctx, key, w, contract, phatwire.Query{Kind: phatwire.QueryInkMessage,
		Message: phatwire.InkMessageQuery{Payload: scale.Encode(&phatwire.LogRequest{After: after, Max: max})}}, w.api.ContractLogs)
	if err != nil {
		return nil, err
	}
	var p phatwire.LogPage
	if err := scale.Decode(payload, &p); err != nil {
		return nil, fmt.Errorf("worker %s's log page: %w", w.URL, err)
	}
	out := &LogPage{Lines: make([]LogLine, 0, len(p.Entries)), Next: p.Next}
	for _, e := range p.Entries {
		lv := fmt.Sprintf("level-%d", e.Level)
		if int(e.Level) < len(logLevels) && e.Level > 0 {
			lv = logLevels[e.Level]
		}
		out.Lines = append(out.Lines, LogLine{Seq: e.Seq, Block: e.Block, TimeMs: e.TimeMs, Level: lv, InQuery: e.InQuery, Message: e.Message})
	}
	return out, nil
}

// AppliedHeight returns the last block the worker has applied. Every
// command of a block is executed when the block is applied, so the
// outcome of a command in block h can be read from the worker
// (Client.CommandResult) once AppliedHeight is at least h, which is one
// block before the cluster's report of it is on chain.
func (w *Worker) AppliedHeight(ctx context.Context) (int64, error) {
	info, err := w.api.Info(ctx, &pruntimev1.InfoRequest{})
	if err != nil {
		return 0, fmt.Errorf("worker %s: %w", w.URL, err)
	}
	return info.GetHeight(), nil
}
