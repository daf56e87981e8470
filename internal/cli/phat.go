package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
)

func printContract(cmd *cobra.Command, ci *chainapi.ContractInfo) {
	pub := ci.Pubkey
	if pub == "" {
		pub = "none yet"
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s\n  state       %s\n  cluster     %s\n  deployer    %s\n  code hash   %s\n  pubkey      %s\n",
		ci.ID, ci.State, ci.Cluster, ci.Deployer, ci.CodeHash, pub)
}

func newContractsQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "contracts",
		Short:   "List the Phat contracts (of every cluster, or of one with --cluster)",
		Example: "  cella query contracts --cluster 0 --output json",
		Args:    cobra.NoArgs,
	}
	cluster := cmd.Flags().String("cluster", "", "only this cluster's contracts (0x id, or its number: 0 is the first cluster)")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		var id *[32]byte
		if *cluster != "" {
			v, err := parseClusterID(*cluster)
			if err != nil {
				return err
			}
			id = &v
		}
		output, c, err := nodeQuery(cmd)
		if err != nil {
			return err
		}
		cs, err := c.Contracts(cmd.Context(), id)
		if err != nil {
			return err
		}
		if output == "json" {
			return printJSON(cmd.OutOrStdout(), cs)
		}
		if len(cs) == 0 {
			fmt.Fprintln(cmd.OutOrStdout(), "no contracts")
		}
		for i := range cs {
			printContract(cmd, &cs[i])
		}
		return nil
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

func newContractQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "contract <address>",
		Short:   "Show one Phat contract (by its 0x id or SS58 address): state, cluster, deployer, code hash and ECDH public key",
		Example: "  cella query contract 0x6ef1b0c7e7adb03e927ad17c3ead48cece8a7ab0c48ee528581d4bb1945aa363 --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pub, err := keys.ParseAccount(args[0])
			if err != nil {
				return invalidArg(fmt.Errorf("contract address: %w", err))
			}
			id := [32]byte(pub)
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			ci, err := c.Contract(cmd.Context(), id)
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), ci)
			}
			printContract(cmd, ci)
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}
