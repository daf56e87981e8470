package cli

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/loadgen"
)

func newBenchCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Load tests against a running node",
	}
	cmd.AddCommand(newBenchTransfersCmd(), newBenchQueriesCmd(), newBenchCommandsCmd())
	return cmd
}

func newBenchTransfersCmd() *cobra.Command {
	var (
		cfg        loadgen.Config
		funder     string
		funderFile string
	)
	cmd := &cobra.Command{
		Use:   "transfers",
		Short: "Send signed transfers from many accounts and measure committed transactions per second",
		Long: `Fund --senders accounts from --funder, then have them send signed transfers
with pipelined nonces over --workers concurrent RPC connections for --duration,
and report the committed transactions per second (counted from block headers
over the span of block times that carried them) and this process's CPU use.

Run it against a dev chain in another process, e.g.:
  cella dev --reset &   then   cella bench transfers --duration 60s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			if cmd.Flags().Changed("funder-file") {
				if cmd.Flags().Changed("funder") {
					return errors.New("give the funder's secret URI with --funder or --funder-file, not both")
				}
				b, err := os.ReadFile(funderFile)
				if err != nil {
					return fmt.Errorf("--funder-file: %w", err)
				}
				funder = strings.TrimSpace(string(b))
			}
			p, err := keys.FromURI(funder)
			if err != nil {
				return fmt.Errorf("--funder: %w", err)
			}
			cfg.Funder = p
			c, err := client.New(cmd.Flag("node").Value.String())
			if err != nil {
				return err
			}
			if flagOnArgv(cmd, "funder") {
				if err := warnArgvSecretOnChain(cmd.Context(), cmd.ErrOrStderr(), c, "--funder", funder, "--funder-file or the CELLA_FUNDER environment variable"); err != nil {
					return err
				}
			}
			w := cmd.OutOrStdout()
			if output == "text" {
				cfg.Progress = cmd.ErrOrStderr()
				fmt.Fprintf(cmd.ErrOrStderr(), "Funding %d senders, then sending for %s over %d connections...\n", cfg.Senders, cfg.Duration, cfg.Workers)
			}
			res, err := loadgen.Run(cmd.Context(), c, cfg)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(w, res)
			}
			fmt.Fprintf(w, "committed %d transfers in %d blocks (heights %d–%d) over %.1fs: %.0f tx/s (largest block %d txs)\n",
				res.CommittedTxs, res.Blocks, res.FirstHeight, res.LastHeight, res.WindowSeconds, res.CommittedTPS, res.MaxBlockTxs)
			fmt.Fprintf(w, "submitted %d, accepted %d; load generator used %.2f cores (%.0f%% of the machine)\n",
				res.Submitted, res.Accepted, res.GeneratorCores, 100*res.GeneratorCPU)
			if res.Outages > 0 || res.Resyncs > 0 || res.Lost > 0 {
				fmt.Fprintf(w, "node unreachable %d time(s) for %.1fs in all; %d nonce resyncs; %d accepted transfers lost (never committed), %d resent\n",
					res.Outages, res.DowntimeSeconds, res.Resyncs, res.Lost, res.Resent)
			}
			if len(res.Rejected) > 0 {
				names := make([]string, 0, len(res.Rejected))
				for k := range res.Rejected {
					names = append(names, k)
				}
				sort.Strings(names)
				for _, k := range names {
					fmt.Fprintf(w, "rejected %-20s %d\n", k, res.Rejected[k])
				}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Senders, "senders", 1000, "number of distinct sending accounts")
	f.IntVar(&cfg.Workers, "workers", 32, "concurrent RPC connections")
	f.DurationVar(&cfg.Duration, "duration", 60*time.Second, "how long to send")
	f.StringVar(&funder, "funder", "//Alice", "secret URI of the account that funds the senders (dev chains)")
	f.StringVar(&funderFile, "funder-file", "", "read the funder's secret URI from this file")
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}
