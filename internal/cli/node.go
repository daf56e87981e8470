package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/abciapp"
	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/web"
)

// defaultHome is the default node home; "~" is expanded by expandHome.
const defaultHome = "~/.cella"

// expandHome replaces a leading "~/" with the user's home folder.
func expandHome(p string) (string, error) {
	if p == "~" || strings.HasPrefix(p, "~/") {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("cannot find your home folder for %q: %w", p, err)
		}
		return filepath.Join(h, p[1:]), nil
	}
	return p, nil
}

func newInitCmd() *cobra.Command {
	var (
		home, chainID, moniker string
		dev                    bool
		allocs                 []string
	)
	cmd := &cobra.Command{
		Use:   "init",
		Short: "Create a node home folder: config, keys and a single-validator genesis",
		Long: `Create a node home folder with config/config.toml, node and validator keys,
and a genesis in which this node is the only validator. Edit genesis.json (or
use 'cella testnet') for more validators; then start the node with 'cella node'.`,
		Example: `  cella init --home ~/.cella --chain-id cella-1 --alloc 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY=1000000000000000
  cella init --home ./devnode --dev`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			home, err := expandHome(home)
			if err != nil {
				return err
			}
			o := node.InitOptions{ChainID: chainID, Dev: dev, Config: node.ConfigOptions{Moniker: moniker, EmptyBlocks: true}}
			for _, a := range allocs {
				al, err := parseAlloc(a)
				if err != nil {
					return err
				}
				o.Allocations = append(o.Allocations, al)
			}
			g, err := node.InitHome(home, o)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Initialised %s\n  chain id      %s\n  genesis hash  0x%x\nStart it with: cella node --home %s\n", home, g.ChainID, g.Hash(), home)
			return nil
		},
	}
	cmd.Flags().StringVar(&home, "home", defaultHome, "node home folder")
	cmd.Flags().StringVar(&chainID, "chain-id", "cella-1", "chain id")
	cmd.Flags().StringVar(&moniker, "moniker", "cella-node", "node name shown to peers")
	cmd.Flags().BoolVar(&dev, "dev", false, "dev genesis: funded //Alice…//Ferdie and dev-only calls (never for a public chain)")
	cmd.Flags().StringArrayVar(&allocs, "alloc", nil, "genesis balance ADDRESS=AMOUNT in base units (repeatable)")
	return cmd
}

func parseAlloc(s string) (state.Allocation, error) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '=' {
			id, err := keys.ParseAccount(s[:i])
			if err != nil {
				return state.Allocation{}, fmt.Errorf("--alloc %s: %w", s, err)
			}
			amt, err := scale.ParseU128(s[i+1:])
			if err != nil {
				return state.Allocation{}, fmt.Errorf("--alloc %s: amount: %w", s, err)
			}
			return state.Allocation{Account: id, Free: amt}, nil
		}
	}
	return state.Allocation{}, fmt.Errorf("--alloc %q: want ADDRESS=AMOUNT", s)
}

func newNodeCmd() *cobra.Command {
	var (
		home, webAddr, webWorker string
		lf                       logFlags
	)
	cmd := &cobra.Command{
		Use:   "node",
		Short: "Run a validator or full node from a home folder",
		Long: `Run a validator or full node from a home folder made by 'cella init' or
'cella testnet'. Settings come from <home>/config/config.toml (CometBFT's format)
and the chain from <home>/config/genesis.json. Stop with Ctrl-C.`,
		Example: `  cella node --home ~/.cella
  CELLA_HOME=/srv/cella cella node --log-format json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			home, err := expandHome(home)
			if err != nil {
				return err
			}
			if !node.IsInitialised(home) {
				return fmt.Errorf("%s is not a node home (create one with 'cella init --home %s' or 'cella testnet')", home, home)
			}
			lock, err := lockHome(home)
			if err != nil {
				return err
			}
			defer lock.release()
			cfg, err := node.LoadConfig(home)
			if err != nil {
				return err
			}
			n, err := node.Start(cfg, log)
			if err != nil {
				return err
			}
			log.Info("node started", "home", home, "chain_id", n.Genesis.ChainID,
				"genesis_hash", fmt.Sprintf("0x%x", n.App.Machine().GenesisHash()), "rpc", httpURL(cfg.RPC.ListenAddress))
			if webAddr != "" {
				app, err := web.Start(webAddr, web.Config{
					NodeRPC: httpURL(cfg.RPC.ListenAddress), Worker: webWorker, Version: abciapp.Version,
					Calls: web.CallNames(modules.Runtimes()), Log: log,
				})
				switch {
				case err == nil:
					defer app.Close()
					log.Info("web app", "url", app.URL(), "worker", webWorker)
				case !cmd.Flags().Changed("web-addr"):
					// The default port: several nodes on one host (cella
					// testnet) cannot all have it; the app is optional.
					log.Warn("web app not served", "err", err)
				default:
					_ = n.Close()
					return err
				}
			}
			<-cmd.Context().Done()
			log.Info("shutting down")
			return n.Close()
		},
	}
	cmd.Flags().StringVar(&home, "home", defaultHome, "node home folder")
	cmd.Flags().StringVar(&webAddr, "web-addr", web.DefaultAddr, "listen address of the web app, which proxies the node's RPC (empty disables)")
	cmd.Flags().StringVar(&webWorker, "web-worker", "", "a worker's public API URL (http://host:port) for the web app's contract UI to query through this server")
	lf.add(cmd)
	return cmd
}

func newTestnetCmd() *cobra.Command {
	var (
		o   node.TestnetOptions
		out string
	)
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Write configs for a network of N validators on this host",
		Long: `Write home folders node0 … node{N-1} under --output, sharing one genesis in
which every node is a validator, peered with each other on 127.0.0.1. Node i
listens for P2P on --base-port+10i and for RPC on --base-port+10i+1.`,
		Example: `  cella testnet --validators 4 --output ./testnet
  cella node --home ./testnet/node0 &  # … and node1, node2, node3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--output is required")
			}
			g, nodes, err := node.InitTestnet(out, o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Wrote %d validators under %s (chain id %s, genesis hash 0x%x)\n", len(nodes), out, g.ChainID, g.Hash())
			for _, n := range nodes {
				fmt.Fprintf(w, "  cella node --home %s    # RPC %s\n", n.Home, httpURL(n.RPCAddr))
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Validators, "validators", 4, "number of validators")
	cmd.Flags().StringVar(&out, "output", "", "folder to write the node homes into")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "cella-testnet", "chain id")
	cmd.Flags().BoolVar(&o.Dev, "dev", true, "dev genesis (funded dev accounts, dev-only calls)")
	cmd.Flags().IntVar(&o.BasePort, "base-port", defaults.NodeP2PPort, "first port; each node takes 10")
	cmd.Flags().DurationVar(&o.BlockTime, "block-time", time.Second, "time between blocks")
	return cmd
}
