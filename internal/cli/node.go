package cli

import (
	"context"
	"errors"
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
	"github.com/cella-network/cella/internal/testnet"
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
			select {
			case <-cmd.Context().Done():
				log.Info("shutting down")
				return n.Close()
			case <-n.App.Halted():
				// A block needs an app version this binary lacks: the
				// app refused it and consensus stopped there.
				herr := n.App.HaltErr()
				log.Error("node stopped for an upgrade", "err", herr)
				return errors.Join(herr, n.Close())
			}
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
		o   testnet.Options
		out string
	)
	cmd := &cobra.Command{
		Use:   "testnet",
		Short: "Write configs for a network of validators, gatekeepers and workers on this host",
		Long: `Write everything a multi-process network needs under --output: validator
homes node0 … sharing one genesis (every node a validator, peered with the
others), and per pRuntime (gatekeepers gk0 …, then workers w0 …) a data folder,
its internal API token and its operator's secret URI (operator.suri, mode
0600; the operator is funded at genesis). testnet.json lists every process
(node, pRuntime, pherry) with its command line and addresses; admin.suri holds
the dev admin's key, which 'cella testnet run' uses to make the gatekeepers
and cluster 0 (the workers) once the pRuntimes registered.

Ports: slot i (validators first, then the pRuntimes) takes --base-port+10i …
+9: a node its P2P (+0), RPC (+1) and metrics (+2) ports; a pRuntime its
public API (+0), internal API (+1), pherry's metrics (+2) and the pRuntime's
metrics (+3). They must stay below 32768 (the ephemeral range).`,
		Example: `  cella testnet --validators 4 --gatekeepers 2 --workers 3 --output ./testnet
  cella testnet run ./testnet`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return fmt.Errorf("--output is required")
			}
			m, err := testnet.Write(out, o)
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "Wrote a testnet under %s (chain id %s, genesis hash %s)\n", out, m.ChainID, m.GenesisHash)
			for _, p := range m.Processes {
				fmt.Fprintf(w, "  %-14s %-8s %-15s %s\n", p.Name, p.Kind, p.Host, addrList(p.Addrs))
			}
			if len(m.Council) > 0 {
				var files []string
				for _, c := range m.Council {
					files = append(files, c.SURIFile)
				}
				fmt.Fprintf(w, "Council: %d members, %d ayes approve (keys: %s; propose with cella gov propose … --from-file FILE)\n",
					len(m.Council), m.CouncilThreshold, strings.Join(files, ", "))
			}
			if len(m.Hosts) > 1 {
				fmt.Fprintf(w, "Copy it to each host and run there: cella testnet run %s --host HOST (see docs/operators.md)\n", out)
			} else {
				fmt.Fprintf(w, "Run it with: cella testnet run %s\n", out)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&o.Validators, "validators", 4, "number of validators")
	cmd.Flags().IntVar(&o.Gatekeepers, "gatekeepers", 2, "number of gatekeeper pRuntimes (0 with --workers 0: validators only)")
	cmd.Flags().IntVar(&o.Workers, "workers", 3, "number of worker pRuntimes (cluster 0)")
	cmd.Flags().StringVar(&out, "output", "", "folder to write the testnet into")
	cmd.Flags().StringVar(&o.ChainID, "chain-id", "cella-testnet", "chain id")
	cmd.Flags().StringSliceVar(&o.Hosts, "hosts", []string{"127.0.0.1"}, "addresses of the hosts the processes run on, listen on and are reached at (node i on host i mod n, pRuntime slot s on host s mod n)")
	cmd.Flags().IntVar(&o.BasePort, "base-port", defaults.NodeP2PPort, "first port; each process slot takes 10")
	cmd.Flags().DurationVar(&o.BlockTime, "block-time", time.Second, "time between blocks")
	cmd.Flags().Int64Var(&o.CheckpointInterval, "checkpoint-interval", 0, "the pRuntimes' blocks between sealed checkpoints (0: pRuntime's default)")
	cmd.AddCommand(newTestnetRunCmd())
	return cmd
}

func addrList(a map[string]string) string {
	var parts []string
	for _, k := range []string{"rpc", "p2p", "public", "internal", "metrics"} {
		if v := a[k]; v != "" {
			parts = append(parts, k+" "+v)
		}
	}
	return strings.Join(parts, ", ")
}

func newTestnetRunCmd() *cobra.Command {
	var (
		failFast, noBootstrap bool
		host                  string
		lf                    logFlags
	)
	cmd := &cobra.Command{
		Use:   "run DIR",
		Short: "Run every process of a testnet written by 'cella testnet'",
		Long: `Start every node, pRuntime and pherry listed in DIR/testnet.json as a separate
process (this cella binary), each in a process group of its own, logging to
DIR/logs/NAME.log; then, as the admin, make the gatekeepers and cluster 0
(skipping what the chain already has, so a second run continues).

A process that exits is never restarted: the runner reports it (name, exit
status, log file) and the other processes keep running, since the network
tolerates a process down; restart it by hand with the command line in
testnet.json. When the runner is stopped it exits non-zero if any process
exited meanwhile. With --fail-fast the first exit (or a failed bootstrap)
stops every process and the runner exits non-zero at once.

Ctrl-C or SIGTERM stops every process group (pherries, then pRuntimes, then
nodes; SIGKILL after a grace period); on Linux the processes also die with
the runner if it is killed.

On a testnet spread over several hosts (cella testnet --hosts), run one
runner per host with --host: it runs that host's processes only. The runner
on node0's host bootstraps; the others never do.`,
		Example: `  cella testnet run ./testnet
  cella testnet run ./testnet --fail-fast
  cella testnet run ./testnet --host 10.0.0.2`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			log, err := lf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			dir := args[0]
			m, err := testnet.ReadManifest(dir)
			if err != nil {
				return err
			}
			bin, err := os.Executable()
			if err != nil {
				return fmt.Errorf("cannot find the cella binary to run: %w", err)
			}
			s := testnet.NewSupervisor(bin, dir, m, log)
			s.Host = host
			w := cmd.ErrOrStderr()
			report := func(s string) { fmt.Fprintf(w, "testnet: %s\n", s) }
			var boot func(ctx context.Context) error
			if n0, ok := m.Get("node0"); ok && !noBootstrap && (host == "" || n0.Host == host) {
				boot = func(ctx context.Context) error {
					return testnet.Bootstrap(ctx, dir, m, testnet.BootstrapOptions{Log: log})
				}
			}
			what := "every process"
			if host != "" {
				what = "the processes of host " + host
			}
			report(fmt.Sprintf("starting %s of %s (logs in %s)", what, m.ChainID, filepath.Join(dir, "logs")))
			return s.Run(cmd.Context(), failFast, boot, report)
		},
	}
	cmd.Flags().BoolVar(&failFast, "fail-fast", false, "stop everything and exit non-zero when a process exits")
	cmd.Flags().BoolVar(&noBootstrap, "no-bootstrap", false, "do not make the gatekeepers and cluster 0")
	cmd.Flags().StringVar(&host, "host", "", "run only the processes of this host (a multi-host testnet; default: all)")
	lf.add(cmd)
	return cmd
}
