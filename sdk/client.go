package sdk

import (
	"context"
	"errors"
	"fmt"
	"math/big"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tx"
)

// DefaultNodeURL is the RPC URL of a node on this machine.
var DefaultNodeURL = client.DefaultNode

// Client is a connection to one node. It is safe for concurrent use.
type Client struct {
	node *client.Client
}

// Connect returns a client of the node at rpcURL (http://host:26657). It
// does not contact the node.
func Connect(rpcURL string) (*Client, error) {
	c, err := client.New(rpcURL)
	if err != nil {
		return nil, err
	}
	return &Client{node: c}, nil
}

// ChainInfo is what a node says about its chain.
type ChainInfo struct {
	ChainID     string
	GenesisHash string
	Height      int64
	SS58Prefix  uint16
	// Dev is set on development chains, where //Alice's keys are public.
	Dev bool
}

// ChainInfo asks the node about its chain.
func (c *Client) ChainInfo(ctx context.Context) (*ChainInfo, error) {
	ci, err := c.node.ChainInfo(ctx)
	if err != nil {
		return nil, err
	}
	return &ChainInfo{ChainID: ci.ChainID, GenesisHash: ci.GenesisHash, Height: ci.Height, SS58Prefix: ci.SS58Prefix, Dev: ci.Dev}, nil
}

// Call is a chain call: module and method indices and SCALE arguments.
// The contract methods build theirs; Send takes any.
type Call struct {
	Module, Method uint8
	Args           []byte
}

// TxOptions tune how a transaction is sent. The zero value sends with the
// account's next nonce and the default fee limit and does not wait.
type TxOptions struct {
	// Wait makes the method return only once the transaction is in a
	// committed block, with its result.
	Wait bool
	// FeeLimit caps the fee in base units (nil: the client's default).
	FeeLimit *big.Int
	// Nonce overrides the account's next nonce.
	Nonce *uint64
}

// TxResult is a sent transaction: its hash and, when waited for, where and
// how it was committed.
type TxResult struct {
	Hash Hash `json:"hash"`
	// Nonce is the transaction's nonce.
	Nonce uint64 `json:"nonce"`
	// Committed is set when the result below was waited for.
	Committed bool `json:"committed"`
	// Height is the block that holds the transaction.
	Height int64 `json:"height,omitempty"`
	// Code is the chain's result code (0 success) and Result its name.
	Code   uint32 `json:"code"`
	Result string `json:"result,omitempty"`
	// Log explains a failure.
	Log string `json:"log,omitempty"`
	// Fee is the fee charged, in base units (a decimal integer), once
	// committed.
	Fee string `json:"fee,omitempty"`

	// match recognises the transaction's contract message in its block
	// (set by Instantiate and Call, for WaitOutcome).
	match func(msg.Message) (Hash, bool)
}

// OK reports whether a committed transaction succeeded.
func (r *TxResult) OK() bool { return r.Committed && r.Code == 0 }

// Err returns nil for a successful committed transaction, an error naming
// the failure for a failed one, and nil for one not waited for.
func (r *TxResult) Err() error {
	if !r.Committed || r.Code == 0 {
		return nil
	}
	if r.Log != "" {
		return fmt.Errorf("transaction %s failed in block %d: %s (%s)", r.Hash, r.Height, r.Log, r.Result)
	}
	return fmt.Errorf("transaction %s failed in block %d: %s", r.Hash, r.Height, r.Result)
}

// Send signs call with key, submits it and, with o.Wait, waits for its
// block. A transaction that is committed but failed is returned with a nil
// error: see TxResult.Err.
func (c *Client) Send(ctx context.Context, key *Key, call Call, o TxOptions) (*TxResult, error) {
	if key == nil {
		return nil, errors.New("sdk: no signing key")
	}
	var opts client.TxOptions
	opts.Nonce = o.Nonce
	if o.FeeLimit != nil {
		v, err := toU128(o.FeeLimit)
		if err != nil {
			return nil, fmt.Errorf("fee limit: %w", err)
		}
		opts.FeeLimit = &v
	}
	t, err := c.node.Build(ctx, key.pair, tx.Call{Module: call.Module, Method: call.Method, Args: call.Args}, opts)
	if err != nil {
		return nil, err
	}
	h, err := c.node.Submit(ctx, t)
	if err != nil {
		return nil, err
	}
	res := &TxResult{Hash: h, Nonce: t.Body.Nonce}
	if !o.Wait {
		return res, nil
	}
	return c.wait(ctx, res)
}

// Wait waits until the transaction hash is in a committed block.
func (c *Client) Wait(ctx context.Context, hash Hash) (*TxResult, error) {
	return c.wait(ctx, &TxResult{Hash: hash})
}

func (c *Client) wait(ctx context.Context, res *TxResult) (*TxResult, error) {
	r, err := c.node.Wait(ctx, res.Hash)
	if err != nil {
		return nil, err
	}
	res.Committed, res.Height, res.Code, res.Result, res.Log, res.Fee = true, r.Height, r.Code, r.Result, r.Log, r.Fee
	return res, nil
}

// toU128 converts a non-negative amount below 2^128.
func toU128(v *big.Int) (scale.U128, error) {
	if v == nil {
		return scale.U128{}, nil
	}
	return scale.U128FromBig(v)
}
