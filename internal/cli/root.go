// Package cli holds the cobra commands of the cella binary. Each command group
// lives in a file of its own and registers itself in newRootCmd.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/abciapp"
)

// exitError carries a specific process exit code (for example `keys verify`
// exits 1 on an invalid signature without printing an error).
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

// processStart is when the process started running Go code.
var processStart = time.Now()

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "cella",
		Short:         "Cella: a confidential smart-contract network",
		Long:          "Cella is a confidential smart-contract network: a CometBFT chain that orders encrypted commands,\nand workers (pRuntime) that verify the chain and run ink! contracts inside a TEE.",
		Version:       abciapp.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(
		newDevCmd(),
		newInitCmd(),
		newNodeCmd(),
		newTestnetCmd(),
		newKeysCmd(),
		newTxCmd(),
		newAdminCmd(),
		newQueryCmd(),
		newStatusCmd(),
		newBenchCmd(),
		newContractCmd(),
		newPRuntimeCmd(),
		newPherryCmd(),
	)
	// Every flag can also come from the environment as CELLA_<FLAG>.
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error { return applyEnv(cmd) }
	return root
}

// Main runs the cella command line with args and returns the process exit code.
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCmd()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "Error:", err)
	return 1
}
