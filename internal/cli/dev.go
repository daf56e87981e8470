package cli

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/abciapp"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/devnet"
	"github.com/cella-network/cella/internal/httpserve"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/web"
)

// DevChainID is the chain id of `cella dev`.
const DevChainID = "cella-dev"

func newDevCmd() *cobra.Command {
	var (
		home              string
		blockTime         time.Duration
		emptyBlocks       bool
		reset             bool
		rpcAddr           string
		p2pAddr           string
		metrics           string
		pruntimeAt        string
		noWorker          bool
		allowMeasurements []string
		httpProxy         string
		devRootCA         string
		webAddr           string
		pprofAddr         string
		lf                logFlags
	)
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run a whole development network in one process",
		Long: `Run a whole development network in one process: a single validator making
blocks every --block-time, with the dev accounts Alice, Bob, Charlie, Dave, Eve
and Ferdie (//Alice ... //Ferdie) funded at genesis.

Data lives in --home; a second start continues the same chain. --reset wipes it
first. One process at a time runs on a home: a second 'cella dev' (or 'cella
node') on it is refused, naming the PID that holds it. Stop with Ctrl-C.

The genesis allow-lists the dev worker's pRuntime measurement; a standalone
'pruntime' binary has a measurement of its own (the hash of the binary, shown
by 'cella pruntime info'), which --allow-measurement adds to a new chain.`,
		Example: `  cella dev
  cella dev --block-time 200ms --empty-blocks=false
  cella dev --reset
  cella dev --reset --allow-measurement 0x8f1e…   # the measurement 'cella pruntime info' shows`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			pc, err := pruntime.PinkFlags(httpProxy, devRootCA)
			if err != nil {
				return err
			}
			var allowed [][32]byte
			for _, s := range allowMeasurements {
				h, err := client.ParseHash(s)
				if err != nil {
					return invalidArg(fmt.Errorf("--allow-measurement %q: want the 0x measurement hash `cella pruntime info` prints: %w", s, err))
				}
				allowed = append(allowed, h)
			}
			if pprofAddr != "" {
				stop, err := startPprof(pprofAddr)
				if err != nil {
					return err
				}
				defer stop()
				fmt.Fprintf(cmd.ErrOrStderr(), "pprof: http://%s/debug/pprof/\n", pprofAddr)
			}
			lock, err := lockHome(home)
			if err != nil {
				return err
			}
			defer lock.release()
			if reset {
				if err := resetHome(home); err != nil {
					return fmt.Errorf("reset %s: %w", home, err)
				}
			}
			opts := node.ConfigOptions{
				Moniker: "cella-dev", BlockTime: blockTime, EmptyBlocks: emptyBlocks,
				RPCAddr: rpcAddr, P2PAddr: p2pAddr, Prometheus: metrics, Loopback: true,
			}
			net, err := devnet.Start(cmd.Context(), devnet.Config{
				Home: home, ChainID: DevChainID, Node: opts, NoWorker: noWorker, Log: log, AllowMeasurements: allowed,
				Worker: devnet.WorkerConfig{PublicAddr: pruntimeAt, Metrics: prometheus.DefaultRegisterer, Pink: pc},
			})
			if err != nil {
				return err
			}
			n, worker := net.Node, net.Worker
			if missing := missingMeasurements(n.Genesis.App.Registry.Measurements, allowed); len(missing) > 0 {
				_ = net.Close()
				return invalidArg(fmt.Errorf("--allow-measurement: the chain in %s was created without %s, and a chain's genesis never changes: start a new chain with --reset (or use another --home)", home, strings.Join(missing, ", ")))
			}
			var app *web.Server
			if webAddr != "" {
				wc := web.Config{NodeRPC: httpURL(n.Config.RPC.ListenAddress), Version: abciapp.Version, Calls: web.CallNames(modules.Runtimes()), Log: log}
				if worker != nil && !strings.HasPrefix(worker.PublicAddr, httpserve.UnixPrefix) {
					// (A worker on a unix socket is not proxied: the app has no queries.)
					wc.Worker = "http://" + worker.PublicAddr
				}
				switch app, err = web.Start(webAddr, wc); {
				case err == nil:
					defer app.Close()
				case !cmd.Flags().Changed("web-addr"):
					// The default port may be another dev chain's or a
					// test's: the app is optional, the chain is not.
					fmt.Fprintf(cmd.ErrOrStderr(), "warning: web app not served: %v (choose --web-addr)\n", err)
				default:
					_ = net.Close()
					return err
				}
			}
			printDevBanner(cmd.OutOrStdout(), home, net.Fresh, n, metrics, worker)
			if app != nil {
				fmt.Fprintf(cmd.OutOrStdout(), "Web app (explorer and contract UI): %s\n", app.URL())
			}
			go reportFirstBlock(cmd, n)
			<-cmd.Context().Done()
			fmt.Fprintln(cmd.OutOrStdout(), "\nShutting down...")
			if err := net.Close(); err != nil {
				return fmt.Errorf("shutdown: %w", err)
			}
			fmt.Fprintln(cmd.OutOrStdout(), "Stopped. Run `cella dev` again to continue this chain.")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&home, "home", ".cella/dev", "folder for the dev chain's data")
	f.DurationVar(&blockTime, "block-time", time.Second, "time between blocks (CometBFT timeout_commit)")
	f.BoolVar(&emptyBlocks, "empty-blocks", true, "make blocks even when there are no transactions")
	f.BoolVar(&reset, "reset", false, "delete --home first and start a new chain")
	f.StringVar(&rpcAddr, "rpc-addr", node.DefaultRPCAddr, "CometBFT RPC listen address")
	f.StringVar(&p2pAddr, "p2p-addr", node.DefaultP2PAddr, "CometBFT P2P listen address")
	markEndpoint(cmd, "rpc-addr", "listen")
	markEndpoint(cmd, "p2p-addr", "listen")
	f.StringVar(&metrics, "metrics-addr", defaults.NodeMetricsAddr, "Prometheus metrics listen address (empty disables)")
	f.StringVar(&pruntimeAt, "pruntime-addr", defaults.PRuntimePublicAddr, "public API address of the dev worker's pRuntime (its internal API takes a loopback port of its own)")
	f.BoolVar(&noWorker, "no-worker", false, "run only the chain: no pRuntime, no pherry")
	f.StringVar(&httpProxy, "http-proxy", "", pruntime.HTTPProxyHelp)
	f.StringVar(&devRootCA, "dev-extra-root-ca", "", "PEM file of extra root CAs the dev worker trusts for contracts' HTTPS requests (a local test server's certificate)")
	f.StringArrayVar(&allowMeasurements, "allow-measurement", nil, "also allow-list this pRuntime measurement hash (0x…, as `cella pruntime info` prints it) in a new chain's genesis, so that a standalone pruntime can register (repeatable)")
	f.StringVar(&webAddr, "web-addr", web.DefaultAddr, "listen address of the web app, which proxies the node's RPC and the dev worker's API (empty disables)")
	f.StringVar(&pprofAddr, "pprof-addr", "", "serve Go's profiler (net/http/pprof) at http://ADDR/debug/pprof/ for profiling the whole process; loopback addresses only (empty disables)")
	lf.add(cmd)
	return cmd
}

func printDevBanner(w io.Writer, home string, fresh bool, n *node.Node, metrics string, worker *devnet.Worker) {
	gh := n.App.Machine().GenesisHash()
	what := "continuing the chain in"
	if fresh {
		what = "new chain in"
	}
	fmt.Fprintf(w, "Cella dev network (%s %s)\n", what, home)
	fmt.Fprintf(w, "  chain id       %s\n", n.Genesis.ChainID)
	fmt.Fprintf(w, "  genesis hash   0x%x\n", gh)
	fmt.Fprintf(w, "  node RPC       %s\n", httpURL(n.Config.RPC.ListenAddress))
	if metrics != "" {
		fmt.Fprintf(w, "  metrics        http://%s/metrics\n", metrics)
	}
	if worker != nil {
		fmt.Fprintf(w, "  pRuntime API   http://%s  (dev TEE, NOT secure; operated by //%s through pherry)\n", worker.PublicAddr, devnet.DefaultOperator)
		fmt.Fprintf(w, "  pRuntime internal API  http://%s  (pherry only; token in %s)\n", worker.InternalAddr, worker.TokenFile)
	}
	fmt.Fprintf(w, "Dev accounts (funded at genesis with %s base units each; %d decimals):\n", state.DevBalance, state.Decimals)
	for _, name := range state.DevAccountNames {
		p, err := keys.FromURI("//" + name)
		if err != nil {
			continue
		}
		fmt.Fprintf(w, "  %-8s %s  (--from //%s)\n", name, keys.EncodeSS58(p.Public(), n.Genesis.App.Params.SS58Prefix), name)
	}
	fmt.Fprintln(w, "Try: cella tx transfer --from //Alice --to 5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty --amount 1000000000000 --wait")
	if worker != nil {
		fmt.Fprintln(w, "     cella pruntime info      cella query workers")
		fmt.Fprintln(w, "     cella query gatekeepers  cella query cluster 0  (the dev worker is the gatekeeper and cluster 0)")
	}
	fmt.Fprintln(w, "Press Ctrl-C to stop.")
}

// httpURL turns CometBFT's tcp://host:port into http://host:port.
func httpURL(laddr string) string { return devnet.HTTPURL(laddr) }

// reportFirstBlock prints how long the process took to produce its first
// block (the figure BENCHMARKS.md tracks).
func reportFirstBlock(cmd *cobra.Command, n *node.Node) {
	start := n.Comet.BlockStore().Height()
	t := time.NewTicker(5 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-cmd.Context().Done():
			return
		case <-t.C:
			if h := n.Comet.BlockStore().Height(); h > start {
				fmt.Fprintf(cmd.OutOrStdout(), "Block %d committed %.2fs after start.\n", h, time.Since(processStart).Seconds())
				return
			}
		}
	}
}

// resetHome empties home except for its lock file (held by this process).
func resetHome(home string) error {
	entries, err := os.ReadDir(home)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if e.Name() == homeLockFile {
			continue
		}
		if err := os.RemoveAll(filepath.Join(home, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

// missingMeasurements returns the wanted hashes that have is lacks, as 0x hex.
func missingMeasurements(have, want [][32]byte) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			out = append(out, fmt.Sprintf("0x%x", w))
		}
	}
	return out
}
