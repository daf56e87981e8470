package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/state"
)

// txView is a transaction's outcome as `cella query tx` and every
// `tx … --wait` print it.
type txView struct {
	Hash string `json:"hash"`
	// Status is success or failed (committed), or pending (in the mempool).
	Status string `json:"status"`
	Height int64  `json:"height,omitempty"`
	// Code is the chain's result code and Result its name
	// (internal/state/codes.go).
	Code   uint32 `json:"code"`
	Result string `json:"result"`
	Log    string `json:"log,omitempty"`
	// Fee is the fee charged in base units; FeeTokens the same in tokens
	// (with --units).
	Fee       string      `json:"fee,omitempty"`
	FeeTokens *string     `json:"feeTokens,omitempty"`
	GasUsed   int64       `json:"gasUsed"`
	Events    []eventView `json:"events"`
}

// eventView is one event with its attributes in order; account attributes
// are SS58 addresses (0x keys with --hex) and amounts carry their token
// form with --units.
type eventView struct {
	Type       string     `json:"type"`
	Attributes []attrView `json:"attributes"`
}

type attrView struct {
	Key    string  `json:"key"`
	Value  string  `json:"value"`
	Tokens *string `json:"tokens,omitempty"`
}

// Event attributes that hold accounts (written as 0x public keys by the
// state machine) and amounts of base units.
var (
	accountAttrs = map[string]bool{"from": true, "to": true, "account": true, "deployer": true, "operator": true, "owner": true, "origin": true, "signer": true}
	amountAttrs  = map[string]bool{"amount": true, "charge": true, "refund": true, "fee": true}
)

// newTxView turns a committed result into its view.
func newTxView(r *client.TxResult, d *display) txView {
	v := txView{Hash: strings.ToLower(r.Hash), Status: "success", Height: r.Height, Code: r.Code, Result: r.Result,
		Log: r.Log, Fee: r.Fee, GasUsed: r.Weight, Events: []eventView{}}
	if !r.OK() {
		v.Status = "failed"
	}
	if v.Result == "" {
		v.Result = state.CodeName(r.Code)
	}
	if v.Fee != "" {
		v.FeeTokens = d.tokens(v.Fee)
	}
	for _, e := range r.Events {
		ev := eventView{Type: e.Type, Attributes: []attrView{}}
		for _, a := range e.Attributes {
			av := attrView{Key: a.Key, Value: a.Value}
			switch {
			case accountAttrs[a.Key] && strings.HasPrefix(a.Value, "0x") && len(a.Value) == 66:
				av.Value = d.account(a.Value)
			case amountAttrs[a.Key]:
				av.Tokens = d.tokens(a.Value)
			}
			ev.Attributes = append(ev.Attributes, av)
		}
		v.Events = append(v.Events, ev)
	}
	return v
}

// print writes the view as text.
func (v txView) print(w io.Writer) {
	fmt.Fprintf(w, "transaction  %s\n", v.Hash)
	switch v.Status {
	case "pending":
		fmt.Fprintf(w, "status       pending (in the node's mempool, not yet in a block)\n")
		return
	case "success":
		fmt.Fprintf(w, "status       success\n")
	default:
		fmt.Fprintf(w, "status       failed (the fee was charged)\n")
	}
	fmt.Fprintf(w, "block        %d\n", v.Height)
	fmt.Fprintf(w, "result       %d %s\n", v.Code, v.Result)
	if v.Log != "" {
		fmt.Fprintf(w, "log          %s\n", v.Log)
	}
	if v.Fee != "" {
		fee := v.Fee
		if v.FeeTokens != nil {
			fee += " (" + *v.FeeTokens + " " + TokenSymbol + ")"
		}
		fmt.Fprintf(w, "fee          %s\n", fee)
	}
	fmt.Fprintf(w, "gas used     %d\n", v.GasUsed)
	for _, e := range v.Events {
		fmt.Fprintf(w, "event        %s", e.Type)
		for _, a := range e.Attributes {
			fmt.Fprintf(w, " %s=%s", a.Key, a.Value)
			if a.Tokens != nil {
				fmt.Fprintf(w, " (%s %s)", *a.Tokens, TokenSymbol)
			}
		}
		fmt.Fprintln(w)
	}
}

func newTxQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx <hash>",
		Short: "Show a transaction's status, block, result code, fee, gas used and events",
		Long: `Show a committed transaction: success or failed, its block, its result code with
its name (docs/state-machine.md lists them), the fee charged, the gas used
(the call's weight) and its events, accounts as SS58 addresses. A transaction
still in the node's mempool shows as pending; one the node does not know is
not_found (exit 1).`,
		Example: `  cella query tx 0x5c0f…
  cella query tx 0x5c0f… --units --output json`,
		Args: cobra.ExactArgs(1),
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	d := addDisplayFlags(cmd)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		output, c, err := nodeQuery(cmd)
		if err != nil {
			return err
		}
		hash, err := client.ParseHash(args[0])
		if err != nil {
			return invalidArg(fmt.Errorf("transaction hash %q: %w", args[0], err))
		}
		res, err := c.Tx(cmd.Context(), hash)
		var v txView
		switch {
		case errors.Is(err, client.ErrTxNotFound):
			pending, perr := c.Pending(cmd.Context(), hash)
			if perr != nil || !pending {
				return notFound(fmt.Errorf("transaction 0x%x not found (not committed on this chain, or the node does not index transactions)", hash))
			}
			v = txView{Hash: fmt.Sprintf("0x%x", hash), Status: "pending", Events: []eventView{}}
		case err != nil:
			return err
		default:
			v = newTxView(res, d)
		}
		if output == "json" {
			return printJSON(cmd.OutOrStdout(), v)
		}
		v.print(cmd.OutOrStdout())
		return nil
	}
	return cmd
}
