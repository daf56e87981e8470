package sdk

import (
	"context"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/tx"
)

// MaxTxsPerPage is the most transactions AccountTxs returns per page.
const MaxTxsPerPage = client.MaxTxsPerPage

// AccountTx is one committed transaction in an account's history.
type AccountTx struct {
	TxResult
	// Call is the transaction's call (its module and method indices and
	// SCALE arguments).
	Call Call `json:"call"`
}

// AccountTxPage is one page of an account's transactions, newest first.
type AccountTxPage struct {
	// Total is how many transactions the account signed in all.
	Total int         `json:"total"`
	Txs   []AccountTx `json:"txs"`
}

// AccountTxs returns page (from 1) of the committed transactions account
// signed, newest first, perPage (1..MaxTxsPerPage) per page: every
// transaction the chain accepted from it (it paid its fee), whether its call
// succeeded (TxResult.Err says) or not. The node finds them in its tx index
// by the event tx.signer='0x…'; a node that indexes no transactions answers
// with an error.
func (c *Client) AccountTxs(ctx context.Context, account Address, page, perPage int) (*AccountTxPage, error) {
	p, err := c.node.AccountTxs(ctx, [32]byte(account), page, perPage)
	if err != nil {
		return nil, err
	}
	out := &AccountTxPage{Total: p.Total, Txs: make([]AccountTx, 0, len(p.Txs))}
	for _, r := range p.Txs {
		h, err := ParseHash(r.Hash)
		if err != nil {
			return nil, err
		}
		a := AccountTx{TxResult: TxResult{Hash: h, Committed: true, Height: r.Height, Code: r.Code, Result: r.Result, Log: r.Log, Fee: r.Fee}}
		if t, err := tx.Decode(r.Raw); err == nil {
			a.Nonce = t.Body.Nonce
			a.Call = fromTx(t.Body.Call)
		}
		out.Txs = append(out.Txs, a)
	}
	return out, nil
}
