package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

func newTxCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tx",
		Short: "Sign and send transactions",
		Long: `Sign and send transactions. With --wait a command returns once its transaction is in
a committed block and prints the outcome as 'cella query tx' does: status, block,
result code, fee, gas used and events. A transaction committed with a failed call
exits 3 (the fee was charged).`,
	}
	cmd.AddCommand(newTransferCmd(), newDeregisterWorkerCmd())
	return cmd
}

func newDeregisterWorkerCmd() *cobra.Command {
	var (
		wait    bool
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "deregister-worker <worker>",
		Short: "Deregister a worker for good (signed by its operator): its egress is refused and gatekeepers send it no key",
		Long: `Deregister the worker with this identity key (registry.deregister_worker). Only the
operator named in the worker's registration may do it. From the next block the
chain refuses the worker's egress (result mq_worker_deregistered) and gatekeepers
send it no key; its identity cannot register again. In the same transaction it
leaves every cluster it was a worker of (the worker_deregistered event names
them). A gatekeeper is refused (result deregister_gatekeeper): governance must
remove it from the gatekeeper set first. The operator's secret URI comes from
--from, --from-file or the CELLA_SURI environment variable.`,
		Example: "  cella tx deregister-worker 0x8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48 --from //Alice --wait",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			w, err := parseWorker(args[0])
			if err != nil {
				return err
			}
			return sendSigned(cmd, timeout, wait, output, registry.DeregisterWorkerCall(w))
		},
	}
	addSecretFlags(cmd, "from", "the worker's operator")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the transaction is committed and print its result")
	cmd.Flags().Uint64("nonce", 0, "the transaction's nonce (default: the account's next nonce on chain)")
	cmd.Flags().DurationVar(&timeout, "timeout", 60*time.Second, "give up after this long")
	nodeFlag(cmd)
	outputFlag(cmd)
	addDisplayFlags(cmd)
	return cmd
}

func newTransferCmd() *cobra.Command {
	var (
		from, fromFile, to, amount string
		wait                       bool
		timeout                    time.Duration
	)
	cmd := &cobra.Command{
		Use:   "transfer",
		Short: "Transfer tokens to another account",
		Long: `Transfer --amount base units (1 token = 10^12 base units) from the account of
--from to --to. The secret URI can instead come from --from-file or the
CELLA_SURI environment variable, so that it does not appear in the process list.
With --wait the command returns once the transaction is in a committed block.`,
		Example: `  cella tx transfer --from //Alice --to 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty --amount 1000000000000 --wait
  CELLA_SURI="word1 … word12" cella tx transfer --to 5FHn… --amount 5`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			suri, onArgv, err := readSecretURIArgv(cmd, "from", "from-file")
			if err != nil {
				return err
			}
			pair, err := keys.FromURI(suri)
			if err != nil {
				return fmt.Errorf("--from: %w", err)
			}
			dest, err := keys.ParseAccount(to)
			if err != nil {
				return fmt.Errorf("--to: %w", err)
			}
			amt, err := scale.ParseU128(amount)
			if err != nil {
				return fmt.Errorf("--amount: %w", err)
			}
			c, err := client.New(cmd.Flag("node").Value.String())
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
			defer cancel()
			if onArgv {
				if err := warnArgvSecretOnChain(ctx, cmd.ErrOrStderr(), c, "--from", suri, secretSources("from-file")); err != nil {
					return err
				}
			}
			return sendAndReport(ctx, cmd, c, pair, balances.TransferCall(dest, amt), wait, output)
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "secret URI of the sender (e.g. //Alice, a mnemonic, 0xSEED)")
	f.StringVar(&fromFile, "from-file", "", "read the sender's secret URI from this file")
	f.StringVar(&to, "to", "", "recipient address (SS58 or 0x public key)")
	f.StringVar(&amount, "amount", "", "amount in base units")
	f.BoolVar(&wait, "wait", false, "wait until the transaction is committed and print its result")
	f.Uint64("nonce", 0, "the transaction's nonce (default: the account's next nonce on chain), to send several before the first is committed")
	f.DurationVar(&timeout, "timeout", 60*time.Second, "give up after this long")
	nodeFlag(cmd)
	outputFlag(cmd)
	addDisplayFlags(cmd)
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("amount")
	return cmd
}

// sendAndReport builds, signs and submits call from pair, then prints the
// hash, or with wait the committed result. A call that failed in its block is
// an error (non-zero exit).
// sendSigned sends call signed by the key of --from (or --from-file, or
// CELLA_SURI) to --node, within timeout, and reports it as output says.
func sendSigned(cmd *cobra.Command, timeout time.Duration, wait bool, output string, call tx.Call) error {
	suri, err := readSecretURI(cmd, "from", "from-file")
	if err != nil {
		return err
	}
	pair, err := keys.FromURI(suri)
	if err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	c, err := client.New(cmd.Flag("node").Value.String())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
	defer cancel()
	return sendAndReport(ctx, cmd, c, pair, call, wait, output)
}

func sendAndReport(ctx context.Context, cmd *cobra.Command, c *client.Client, pair *keys.Pair, call tx.Call, wait bool, output string) error {
	var o client.TxOptions
	if f := cmd.Flags().Lookup("nonce"); f != nil && f.Changed {
		n, err := cmd.Flags().GetUint64("nonce")
		if err != nil {
			return invalidArg(fmt.Errorf("--nonce: %w", err))
		}
		o.Nonce = &n
	}
	t, err := c.Build(ctx, pair, call, o)
	if err != nil {
		return err
	}
	hash, err := c.Submit(ctx, t)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if !wait {
		if output == "json" {
			return printJSON(w, map[string]string{"hash": fmt.Sprintf("0x%x", hash)})
		}
		fmt.Fprintf(w, "Submitted 0x%x (nonce %d)\n", hash, t.Body.Nonce)
		return nil
	}
	res, err := c.Wait(ctx, hash)
	if err != nil {
		return err
	}
	v := newTxView(res, displayFromFlags(cmd))
	if output == "json" {
		if err := printJSON(w, v); err != nil {
			return err
		}
	} else {
		v.print(w)
	}
	if !res.OK() {
		var err error
		if res.Log != "" {
			err = fmt.Errorf("transaction failed in block %d: %s (%s; the fee was charged)", res.Height, res.Log, res.Result)
		} else {
			err = fmt.Errorf("transaction failed in block %d: %s (the fee was charged)", res.Height, res.Result)
		}
		// With --output json the result above (status "failed") is the
		// whole answer; the exit code says it failed.
		return &cliError{code: CodeTxFailed, exit: ExitTxFailed, err: err, shownAsJSON: output == "json"}
	}
	return nil
}

// displayFromFlags reads --hex and --units where cmd has them.
func displayFromFlags(cmd *cobra.Command) *display {
	d := &display{prefix: keys.DefaultSS58Prefix}
	if f := cmd.Flags().Lookup("hex"); f != nil {
		d.hex = f.Value.String() == "true"
	}
	if f := cmd.Flags().Lookup("units"); f != nil {
		d.units = f.Value.String() == "true"
	}
	return d
}
