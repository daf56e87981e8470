// Package client is the Go client of a Cella node: it builds, signs and
// submits transactions, waits for them to be committed, and queries accounts,
// chain info and block records. The `cella` CLI is built on it; it is the seed
// of the Go SDK.
package client

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/genesisfile"

	abci "github.com/cometbft/cometbft/abci/types"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

// DefaultNode is the RPC address of a local node (and of `cella dev`).
var DefaultNode = defaults.HTTP(defaults.NodeRPCAddr)

// DefaultValidity is how many blocks a transaction stays valid when the
// caller does not say.
const DefaultValidity = 600

// Client talks to one node over CometBFT's RPC. Every answer it reads is
// bounded by MaxResponseBytes and every call by RequestTimeout.
type Client struct {
	rpc  *rpchttp.HTTP
	addr string
}

// New returns a client of the node at addr (http://host:port or tcp://host:port).
func New(addr string) (*Client, error) {
	if addr == "" {
		addr = DefaultNode
	}
	if !strings.Contains(addr, "://") {
		addr = "http://" + addr
	}
	hc, err := newHTTPClient(addr, MaxResponseBytes)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", addr, err)
	}
	c, err := rpchttp.NewWithClient(addr, "/websocket", hc)
	if err != nil {
		return nil, fmt.Errorf("node %s: %w", addr, err)
	}
	return &Client{rpc: c, addr: addr}, nil
}

// RPC returns the underlying CometBFT RPC client.
func (c *Client) RPC() *rpchttp.HTTP { return c.rpc }

// Addr returns the node address.
func (c *Client) Addr() string { return c.addr }

// QueryError is an error answered by the node to a query.
type QueryError struct {
	Path string
	Code uint32
	Log  string
}

func (e *QueryError) Error() string {
	return fmt.Sprintf("query %s: %s (code %d)", e.Path, e.Log, e.Code)
}

func (c *Client) query(ctx context.Context, path string, data []byte) ([]byte, error) {
	res, err := c.rpc.ABCIQuery(ctx, path, data)
	if err != nil {
		return nil, c.wrapNet(err)
	}
	if res.Response.Code != chainapi.QueryOK {
		return nil, &QueryError{Path: path, Code: res.Response.Code, Log: res.Response.Log}
	}
	return res.Response.Value, nil
}

func (c *Client) queryJSON(ctx context.Context, path string, data []byte, v any) error {
	b, err := c.query(ctx, path, data)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("query %s: bad answer: %w", path, err)
	}
	return nil
}

// ErrUnreachable is wrapped by the errors of calls whose node could not be
// reached at all (connection refused, unknown host).
var ErrUnreachable = errors.New("node unreachable")

type unreachableError struct{ addr string }

func (e unreachableError) Error() string {
	return fmt.Sprintf("cannot reach a node at %s (is `cella dev` or `cella node` running?)", e.addr)
}

func (e unreachableError) Is(target error) bool { return target == ErrUnreachable }

// wrapNet turns a connection failure into an error a person understands.
func (c *Client) wrapNet(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	msg := err.Error()
	if strings.Contains(msg, "connection refused") || strings.Contains(msg, "no such host") {
		return unreachableError{addr: c.addr}
	}
	return fmt.Errorf("node %s: %w", c.addr, err)
}

// ChainInfo returns the chain's identity, parameters and last height.
func (c *Client) ChainInfo(ctx context.Context) (*chainapi.ChainInfo, error) {
	var ci chainapi.ChainInfo
	if err := c.queryJSON(ctx, chainapi.PathChain, nil, &ci); err != nil {
		return nil, err
	}
	return &ci, nil
}

// Account returns an account's nonce and free balance.
func (c *Client) Account(ctx context.Context, id keys.PublicKey) (*chainapi.AccountInfo, error) {
	var ai chainapi.AccountInfo
	if err := c.queryJSON(ctx, chainapi.PathAccount, id[:], &ai); err != nil {
		return nil, err
	}
	return &ai, nil
}

// Validators returns the validator set recorded in app state.
func (c *Client) Validators(ctx context.Context) ([]chainapi.ValidatorInfo, error) {
	var vs []chainapi.ValidatorInfo
	if err := c.queryJSON(ctx, chainapi.PathValidators, nil, &vs); err != nil {
		return nil, err
	}
	return vs, nil
}

// Blocks returns the block records of heights from..to; the node may answer
// fewer than asked (see chainapi.PathBlocks).
func (c *Client) Blocks(ctx context.Context, from, to uint64) ([]*state.BlockRecord, error) {
	b, err := c.query(ctx, chainapi.PathBlocks, scale.Encode(&chainapi.BlocksRequest{From: from, To: to}))
	if err != nil {
		return nil, err
	}
	return chainapi.DecodeBlocks(b)
}

// Workers returns the registered workers, sorted by identity key.
func (c *Client) Workers(ctx context.Context) ([]chainapi.WorkerInfo, error) {
	var ws []chainapi.WorkerInfo
	if err := c.queryJSON(ctx, chainapi.PathWorkers, nil, &ws); err != nil {
		return nil, err
	}
	return ws, nil
}

// Worker returns one registered worker by identity key; a *QueryError with
// code chainapi.QueryNotFound when it is not registered.
func (c *Client) Worker(ctx context.Context, identity keys.PublicKey) (*chainapi.WorkerInfo, error) {
	var ws []chainapi.WorkerInfo
	if err := c.queryJSON(ctx, chainapi.PathWorkers, identity[:], &ws); err != nil {
		return nil, err
	}
	if len(ws) != 1 {
		return nil, fmt.Errorf("query %s: %d answers for one worker", chainapi.PathWorkers, len(ws))
	}
	return &ws[0], nil
}

// NextSequence returns the sequence the next egress message of origin (e.g.
// msg.OriginWorker(key)) must carry, per committed state.
func (c *Client) NextSequence(ctx context.Context, origin []byte) (uint64, error) {
	var s chainapi.MqSequence
	if err := c.queryJSON(ctx, chainapi.PathMqSequence, origin, &s); err != nil {
		return 0, err
	}
	return s.NextSequence, nil
}

// Gatekeepers returns the gatekeeper set and the master key.
func (c *Client) Gatekeepers(ctx context.Context) (*chainapi.GatekeepersInfo, error) {
	var g chainapi.GatekeepersInfo
	if err := c.queryJSON(ctx, chainapi.PathGatekeepers, nil, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// Clusters returns every cluster, sorted by id.
func (c *Client) Clusters(ctx context.Context) ([]chainapi.ClusterInfo, error) {
	var cs []chainapi.ClusterInfo
	if err := c.queryJSON(ctx, chainapi.PathClusters, nil, &cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// Cluster returns one cluster; a *QueryError with code
// chainapi.QueryNotFound when there is none with this id.
func (c *Client) Cluster(ctx context.Context, id [32]byte) (*chainapi.ClusterInfo, error) {
	var ci chainapi.ClusterInfo
	if err := c.queryJSON(ctx, chainapi.PathCluster, id[:], &ci); err != nil {
		return nil, err
	}
	return &ci, nil
}

// Contracts returns contracts: of one cluster when cluster is not nil
// (sorted by id; a *QueryError with code chainapi.QueryNotFound when the
// cluster does not exist), else of every cluster.
func (c *Client) Contracts(ctx context.Context, cluster *[32]byte) ([]chainapi.ContractInfo, error) {
	var data []byte
	if cluster != nil {
		data = cluster[:]
	}
	var cs []chainapi.ContractInfo
	if err := c.queryJSON(ctx, chainapi.PathContracts, data, &cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// Contract returns one contract; a *QueryError with code
// chainapi.QueryNotFound when there is none with this id.
func (c *Client) Contract(ctx context.Context, id [32]byte) (*chainapi.ContractInfo, error) {
	var ci chainapi.ContractInfo
	if err := c.queryJSON(ctx, chainapi.PathContract, id[:], &ci); err != nil {
		return nil, err
	}
	return &ci, nil
}

// Code returns uploaded code's kind and size; a *QueryError with code
// chainapi.QueryNotFound when no code has this hash.
func (c *Client) Code(ctx context.Context, hash [32]byte) (*chainapi.CodeInfo, error) {
	var ci chainapi.CodeInfo
	if err := c.queryJSON(ctx, chainapi.PathCode, hash[:], &ci); err != nil {
		return nil, err
	}
	return &ci, nil
}

// Sudo builds, signs (by signer, who must be the chain's admin) and submits
// admin.sudo(inner) for a privileged call (gatekeeper.AddCall,
// phat.CreateClusterCall, …), and returns the transaction's hash once the
// mempool took it. At most one TxOptions applies.
func (c *Client) Sudo(ctx context.Context, signer *keys.Pair, inner tx.Call, o ...TxOptions) ([32]byte, error) {
	return c.buildAndSubmit(ctx, signer, admin.SudoCall(inner), o)
}

// RegisterWorker builds, signs (by signer, who pays the fee) and submits
// registry.register_worker(info, att), and returns the transaction's hash
// once the mempool took it (see Submit; Wait gives the outcome). At most one
// TxOptions applies.
func (c *Client) RegisterWorker(ctx context.Context, signer *keys.Pair, info msg.RegistrationInfo, att msg.Attestation, o ...TxOptions) ([32]byte, error) {
	return c.buildAndSubmit(ctx, signer, registry.RegisterWorkerCall(info, att), o)
}

// SubmitEgress builds, signs (by signer, who pays the fee: anyone may relay
// a worker's message) and submits mq.submit(signed), and returns the
// transaction's hash once the mempool took it. To send several in one block,
// pass TxOptions with explicit nonces. At most one TxOptions applies.
func (c *Client) SubmitEgress(ctx context.Context, signer *keys.Pair, signed msg.SignedMessage, o ...TxOptions) ([32]byte, error) {
	return c.buildAndSubmit(ctx, signer, mq.SubmitCall(signed), o)
}

func (c *Client) buildAndSubmit(ctx context.Context, signer *keys.Pair, call tx.Call, o []TxOptions) ([32]byte, error) {
	if len(o) > 1 {
		return [32]byte{}, errors.New("client: at most one TxOptions")
	}
	var opts TxOptions
	if len(o) == 1 {
		opts = o[0]
	}
	t, err := c.Build(ctx, signer, call, opts)
	if err != nil {
		return [32]byte{}, err
	}
	return c.Submit(ctx, t)
}

// Status returns CometBFT's node status.
func (c *Client) Status(ctx context.Context) (*coretypes.ResultStatus, error) {
	st, err := c.rpc.Status(ctx)
	if err != nil {
		return nil, c.wrapNet(err)
	}
	return st, nil
}

// DefaultFeeLimit is the fee limit of a transaction when the caller sets
// none: one token, far above the fee of any call today (a transfer costs
// about 0.00125 token with the default parameters). The chain charges the
// actual fee, never the limit.
var DefaultFeeLimit = scale.U128From(state.Unit)

// TxOptions tune how a transaction is built. Zero values pick the defaults:
// the account's next nonce, DefaultValidity blocks, and DefaultFeeLimit.
type TxOptions struct {
	Nonce      *uint64
	ValidUntil uint64
	FeeLimit   *scale.U128
	Wrapping   tx.Wrapping
}

// Build builds and signs a transaction from signer with call.
func (c *Client) Build(ctx context.Context, signer *keys.Pair, call tx.Call, o TxOptions) (*tx.Tx, error) {
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	gh, err := ParseHash(ci.GenesisHash)
	if err != nil {
		return nil, fmt.Errorf("chain info: genesis hash: %w", err)
	}
	body := tx.Body{
		Version: tx.Version1,
		Scheme:  tx.Sr25519,
		Signer:  signer.Public(),
		Genesis: gh,
		Call:    call,
	}
	if o.Nonce != nil {
		body.Nonce = *o.Nonce
	} else {
		acc, err := c.Account(ctx, signer.Public())
		if err != nil {
			return nil, err
		}
		body.Nonce = acc.Nonce
	}
	body.ValidUntil = o.ValidUntil
	if body.ValidUntil == 0 {
		body.ValidUntil = uint64(ci.Height) + DefaultValidity
	}
	if o.FeeLimit != nil {
		body.FeeLimit = *o.FeeLimit
	} else {
		body.FeeLimit = DefaultFeeLimit
	}
	if o.Wrapping == tx.WrapBytes {
		// As a wallet's signRaw would: the signature covers <Bytes>payload</Bytes>.
		t := &tx.Tx{Body: body, Wrapping: tx.WrapBytes}
		t.Signature = signer.Sign(t.SignedMessage())
		return t, nil
	}
	return tx.Sign(body, signer), nil
}

// TxError is a transaction rejected by the node or failed in its block.
type TxError struct {
	Code uint32
	Name string
	Log  string
}

func (e *TxError) Error() string {
	if e.Log == "" {
		return fmt.Sprintf("transaction rejected: %s (code %d)", e.Name, e.Code)
	}
	return fmt.Sprintf("transaction rejected: %s (code %d)", e.Log, e.Code)
}

// Submit sends a signed transaction and returns its hash once the node's
// mempool accepted it (CheckTx passed). The hash is CometBFT's transaction
// hash (SHA-256 of the bytes), the one /tx and block explorers know.
func (c *Client) Submit(ctx context.Context, t *tx.Tx) ([32]byte, error) {
	raw := t.Encode()
	res, err := c.rpc.BroadcastTxSync(ctx, raw)
	if err != nil {
		return [32]byte{}, c.wrapNet(err)
	}
	if res.Code != state.CodeOK {
		return [32]byte{}, &TxError{Code: res.Code, Name: state.CodeName(res.Code), Log: res.Log}
	}
	return TxHash(raw), nil
}

// TxHash returns CometBFT's hash of a raw transaction.
func TxHash(raw []byte) [32]byte {
	var h [32]byte
	copy(h[:], cmttypes.Tx(raw).Hash())
	return h
}

// SubmitAsync sends a raw transaction without waiting for CheckTx.
func (c *Client) SubmitAsync(ctx context.Context, raw []byte) error {
	_, err := c.rpc.BroadcastTxAsync(ctx, raw)
	if err != nil {
		return c.wrapNet(err)
	}
	return nil
}

// TxResult is a committed transaction's outcome.
type TxResult struct {
	Hash   string `json:"hash"`
	Height int64  `json:"height"`
	Code   uint32 `json:"code"`
	Result string `json:"result"`
	Log    string `json:"log,omitempty"`
	Weight int64  `json:"weight"`
	// Fee is the fee charged, in base units (decimal), from the
	// transaction's receipt; empty when the block holds no receipt.
	Fee    string        `json:"fee,omitempty"`
	Events []state.Event `json:"events,omitempty"`
	// Raw is the transaction as signed, when the answer carried it
	// (AccountTxs).
	Raw []byte `json:"-"`
}

// OK reports whether the transaction's call succeeded.
func (r *TxResult) OK() bool { return r.Code == state.CodeOK }

// ErrTxNotFound is returned (wrapped) by Tx for a transaction the node has
// not committed (or does not index).
var ErrTxNotFound = errors.New("transaction not found")

// Tx returns the result of the committed transaction with hash, or an
// error wrapping ErrTxNotFound.
func (c *Client) Tx(ctx context.Context, hash [32]byte) (*TxResult, error) {
	res, err := c.rpc.Tx(ctx, hash[:], false)
	if err != nil {
		if strings.Contains(err.Error(), "not found") {
			return nil, fmt.Errorf("transaction 0x%x: %w", hash, ErrTxNotFound)
		}
		return nil, c.wrapNet(err)
	}
	return txResultOf(hash[:], res.Height, &res.TxResult), nil
}

func txResultOf(hash []byte, height int64, r *abci.ExecTxResult) *TxResult {
	out := &TxResult{
		Hash:   "0x" + hex.EncodeToString(hash),
		Height: height,
		Code:   r.Code,
		Result: state.CodeName(r.Code),
		Log:    r.Log,
		Weight: r.GasUsed,
	}
	var rc state.Receipt
	if len(r.Data) > 0 && scale.Decode(r.Data, &rc) == nil {
		out.Fee = rc.Fee.String()
	}
	for _, e := range r.Events {
		ev := state.Event{Type: e.Type}
		for _, a := range e.Attributes {
			ev.Attributes = append(ev.Attributes, state.EventAttribute{Key: a.Key, Value: a.Value})
		}
		out.Events = append(out.Events, ev)
	}
	return out
}

// MaxTxsPerPage is the most transactions AccountTxs returns per page
// (CometBFT's tx_search caps per_page at 100).
const MaxTxsPerPage = 100

// TxPage is one page of an account's transactions, newest first.
type TxPage struct {
	// Total is how many transactions the account signed in all.
	Total int         `json:"total"`
	Txs   []*TxResult `json:"txs"`
}

// AccountTxs returns page (from 1) of the committed transactions account
// signed (every one the chain accepted: it paid its fee, whatever its call's
// outcome), newest first, perPage (1..MaxTxsPerPage) per page. It asks the
// node's tx index for tx.signer='0x…' (the app's tx event); a node that
// indexes no transactions answers with an error. A page past the last is an
// error from the node.
func (c *Client) AccountTxs(ctx context.Context, account keys.PublicKey, page, perPage int) (*TxPage, error) {
	if page < 1 {
		return nil, fmt.Errorf("account transactions: page %d, want 1 or more", page)
	}
	if perPage < 1 || perPage > MaxTxsPerPage {
		return nil, fmt.Errorf("account transactions: %d per page, want 1..%d", perPage, MaxTxsPerPage)
	}
	res, err := c.rpc.TxSearch(ctx, AccountTxsQuery(account), false, &page, &perPage, "desc")
	if err != nil {
		return nil, c.wrapNet(err)
	}
	out := &TxPage{Total: res.TotalCount, Txs: make([]*TxResult, 0, len(res.Txs))}
	for _, t := range res.Txs {
		r := txResultOf(t.Hash, t.Height, &t.TxResult)
		r.Raw = t.Tx
		out.Txs = append(out.Txs, r)
	}
	return out, nil
}

// AccountTxsQuery is the tx_search query for the transactions account
// signed: tx.signer='0x…' (lowercase hex of the public key).
func AccountTxsQuery(account keys.PublicKey) string {
	return "tx.signer='" + account.Hex() + "'"
}

// Pending reports whether the transaction with hash is in the node's
// mempool (among the first 100 unconfirmed transactions, CometBFT's most
// per page).
func (c *Client) Pending(ctx context.Context, hash [32]byte) (bool, error) {
	limit := 100
	res, err := c.rpc.UnconfirmedTxs(ctx, &limit)
	if err != nil {
		return false, c.wrapNet(err)
	}
	for _, t := range res.Txs {
		if TxHash(t) == hash {
			return true, nil
		}
	}
	return false, nil
}

// Wait polls until the transaction with hash is in a committed block and
// returns its result. It stops with ctx.
func (c *Client) Wait(ctx context.Context, hash [32]byte) (*TxResult, error) {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		res, err := c.Tx(ctx, hash)
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, ErrTxNotFound) {
			return nil, err
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for transaction 0x%x: %w", hash, ctx.Err())
		case <-tick.C:
		}
	}
}

// ParseHash parses a 0x-prefixed (or bare) 32-byte hex hash.
func ParseHash(s string) ([32]byte, error) { return genesisfile.ParseHash32(s) }
