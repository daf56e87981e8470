// Package cli holds the cobra commands of the cella binary. Each command group
// lives in a file of its own and registers itself in newRootCmd.
package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
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
		Version:       readBuildVersion().String(),
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
		newGovCmd(),
		newQueryCmd(),
		newStatusCmd(),
		newBenchCmd(),
		newContractCmd(),
		newPRuntimeCmd(),
		newPherryCmd(),
		newVersionCmd(),
	)
	// Every flag can also come from the environment as CELLA_<FLAG>;
	// endpoint flags are then normalised (a missing scheme is http://).
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		if err := applyEnv(cmd); err != nil {
			return err
		}
		return normalizeEndpointFlags(cmd)
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &cliError{code: CodeUsage, exit: ExitUsage, err: err}
	})
	root.SetHelpCommand(newHelpCmd(root))
	harden(root)
	return root
}

// Main runs the cella command line with args and returns the process exit
// code (ExitOK, ExitUsage, …; docs/cli.md lists them).
func Main(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return run(ctx, args, os.Stdout, os.Stderr)
}

// run executes one command line with the given output streams.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := newRootCmd()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return ExitOK
	}
	return reportError(stdout, stderr, cmd, args, err)
}
