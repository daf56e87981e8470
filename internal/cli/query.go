package cli

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
)

func newQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "query",
		Aliases: []string{"q"},
		Short:   "Read chain state from a node",
	}
	cmd.AddCommand(newAccountQueryCmd("balance", "Show an account's free balance (base units)"),
		newAccountQueryCmd("nonce", "Show an account's next transaction nonce"),
		newValidatorsQueryCmd(),
		newWorkersQueryCmd(),
		newGatekeepersQueryCmd(),
		newClustersQueryCmd(),
		newClusterQueryCmd(),
		newContractsQueryCmd(),
		newContractQueryCmd(),
		newTxQueryCmd())
	return cmd
}

func newAccountQueryCmd(what, short string) *cobra.Command {
	cmd := &cobra.Command{
		Use:     what + " <address>",
		Short:   short,
		Example: "  cella query " + what + " 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY --output json",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			id, err := keys.ParseAccount(args[0])
			if err != nil {
				return invalidArg(err)
			}
			c, err := client.New(cmd.Flag("node").Value.String())
			if err != nil {
				return err
			}
			acc, err := c.Account(cmd.Context(), id)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			d := displayFromFlags(cmd)
			if output == "json" {
				return printJSON(w, struct {
					Address    string  `json:"address"`
					Nonce      uint64  `json:"nonce"`
					Free       string  `json:"free"`
					FreeTokens *string `json:"freeTokens,omitempty"`
				}{d.account(acc.Address), acc.Nonce, acc.Free, d.tokens(acc.Free)})
			}
			if what == "balance" {
				fmt.Fprintln(w, d.amountText(acc.Free))
			} else {
				fmt.Fprintln(w, acc.Nonce)
			}
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	addDisplayFlags(cmd)
	return cmd
}

func newValidatorsQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "validators",
		Short: "List the validator set recorded in app state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			vs, err := c.Validators(cmd.Context())
			if err != nil {
				return err
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), vs)
			}
			for _, v := range vs {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  power %d\n", v.PubKey, v.Power)
			}
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

func newWorkersQueryCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:     "workers",
		Short:   "List the registered workers (pRuntimes) with their TEE, measurement, registration height, public API endpoint, clusters and liveness (last seen, stale, deregistered)",
		Example: "  cella query workers\n  cella query workers --output json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			ws, err := c.Workers(cmd.Context())
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			if output == "json" {
				return printJSON(w, ws)
			}
			if len(ws) == 0 {
				fmt.Fprintln(w, "no workers registered")
				return nil
			}
			for _, x := range ws {
				fmt.Fprintf(w, "%s\n  ecdh key      %s\n  operator      %s\n  tee           %s (measurement %s)\n  pruntime      %s (app versions up to %d)\n  registered at %d (first %d)\n",
					x.IdentityPublicKey, x.EcdhPublicKey, x.Operator, x.TeeKind, x.MeasurementHash, x.PRuntimeVersion, x.MaxAppVersion, x.RegisteredHeight, x.FirstRegisteredHeight)
				ep := x.Endpoint
				if ep == "" {
					ep = "(none recorded)"
				}
				fmt.Fprintf(w, "  endpoint      %s\n", ep)
				cls := "(none)"
				if len(x.Clusters) > 0 {
					cls = strings.Join(x.Clusters, ", ")
				}
				fmt.Fprintf(w, "  clusters      %s\n", cls)
				fmt.Fprintf(w, "  last seen     %s\n", livenessText(x))
			}
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

// livenessText renders a worker's liveness for the text listing: its
// last-seen height, with STALE or DEREGISTERED when so.
func livenessText(x chainapi.WorkerInfo) string {
	s := fmt.Sprintf("%d", x.LastSeenHeight)
	if x.LastHeartbeatHeight == 0 {
		s += " (registration; no heartbeat yet)"
	} else {
		s += " (heartbeat)"
	}
	if x.Stale {
		s += fmt.Sprintf(" STALE (silent for more than %d blocks)", x.StaleAfterBlocks)
	}
	if x.Deregistered {
		s += fmt.Sprintf(" DEREGISTERED at %d", x.DeregisteredHeight)
	}
	return s
}

func newStatusCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show a node's chain, height, sync status and versions (Cella and CometBFT)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output, c, err := nodeQuery(cmd)
			if err != nil {
				return err
			}
			st, err := c.Status(cmd.Context())
			if err != nil {
				return err
			}
			ci, err := c.ChainInfo(cmd.Context())
			if err != nil {
				return err
			}
			// The node's Cella version is its ABCI application's.
			nodeVersion := ""
			if ai, err := c.RPC().ABCIInfo(cmd.Context()); err == nil {
				nodeVersion = ai.Response.Version
			}
			client := readBuildVersion()
			out := map[string]any{
				"chainId":          ci.ChainID,
				"genesisHash":      ci.GenesisHash,
				"appVersion":       ci.AppVersion,
				"height":           st.SyncInfo.LatestBlockHeight,
				"latestBlockTime":  st.SyncInfo.LatestBlockTime,
				"latestBlockHash":  hex0x(st.SyncInfo.LatestBlockHash),
				"appHash":          ci.AppHash,
				"catchingUp":       st.SyncInfo.CatchingUp,
				"nodeId":           string(st.NodeInfo.DefaultNodeID),
				"moniker":          st.NodeInfo.Moniker,
				"validatorAddress": hex0x(st.ValidatorInfo.Address),
				"validatorPower":   st.ValidatorInfo.VotingPower,
				"dev":              ci.Dev,
				"ss58Prefix":       ci.SS58Prefix,
				"cellaVersion":     nodeVersion,
				"cometbftVersion":  st.NodeInfo.Version,
				"clientVersion":    client.String(),
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), out)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "chain id       %s%s\n", ci.ChainID, map[bool]string{true: " (dev)", false: ""}[ci.Dev])
			fmt.Fprintf(w, "genesis hash   %s\n", ci.GenesisHash)
			fmt.Fprintf(w, "height         %d (%s)\n", st.SyncInfo.LatestBlockHeight, st.SyncInfo.LatestBlockTime.UTC().Format("2006-01-02 15:04:05Z"))
			fmt.Fprintf(w, "app hash       %s\n", ci.AppHash)
			fmt.Fprintf(w, "catching up    %v\n", st.SyncInfo.CatchingUp)
			fmt.Fprintf(w, "node           %s (%s)\n", st.NodeInfo.Moniker, st.NodeInfo.DefaultNodeID)
			fmt.Fprintf(w, "node version   cella %s, cometbft %s\n", orUnknown(nodeVersion), st.NodeInfo.Version)
			fmt.Fprintf(w, "this client    cella %s\n", client)
			return nil
		},
	}
	nodeFlag(cmd)
	outputFlag(cmd)
	return cmd
}

// hex0x writes bytes as 0x-prefixed lowercase hex.
func hex0x(b []byte) string { return "0x" + hex.EncodeToString(b) }

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
