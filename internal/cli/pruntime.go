package cli

import (
	"fmt"
	"net/http"
	"strings"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	devtee "github.com/cella-network/cella/internal/tee/dev"
)

// DefaultPRuntimeEndpoint is a local pRuntime's public API (and `cella dev`'s).
var DefaultPRuntimeEndpoint = defaults.HTTP(defaults.PRuntimePublicAddr)

func newPRuntimeCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "pruntime",
		Short: "Run or inspect a worker runtime (pRuntime)",
	}
	cmd.AddCommand(newPRuntimeInfoCmd(), newPRuntimeRunCmd())
	return cmd
}

// pruntimeInfo is `cella pruntime info --output json`.
type pruntimeInfo struct {
	Initialized       bool   `json:"initialized"`
	Registered        bool   `json:"registered"`
	Height            int64  `json:"height"`
	HeaderHeight      int64  `json:"headerHeight"`
	IdentityPublicKey string `json:"identityPublicKey"`
	EcdhPublicKey     string `json:"ecdhPublicKey"`
	TEEProvider       string `json:"teeProvider"`
	Measurement       string `json:"measurement"`
	GenesisHash       string `json:"genesisHash"`
	ChainID           string `json:"chainId"`
	AppHash           string `json:"appHash"`
	Version           string `json:"version"`
	MaxAppVersion     uint64 `json:"maxAppVersion"`
	EgressPending     uint64 `json:"egressPending"`
	Operator          string `json:"operator"`
	// Gatekeeper: the worker is in the chain's gatekeeper set.
	Gatekeeper bool `json:"gatekeeper"`
	// MasterPublicKey is the master key's public key when the worker
	// holds the master key (empty otherwise).
	MasterPublicKey string `json:"masterPublicKey"`
	// Clusters are the clusters whose key the worker holds.
	Clusters []pruntimeCluster `json:"clusters"`
}

// pruntimeCluster is a cluster whose key a pRuntime holds (public parts).
type pruntimeCluster struct {
	ID        string `json:"id"`
	Epoch     uint32 `json:"epoch"`
	PublicKey string `json:"publicKey"`
	// StateRoot is the cluster's contract state root after the last block
	// (0x hex); Contracts the number of its contracts.
	StateRoot string `json:"stateRoot"`
	Contracts uint32 `json:"contracts"`
}

func newPRuntimeInfoCmd() *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show a pRuntime's state: initialised, registered, height, keys, TEE",
		Example: `  cella pruntime info
  cella pruntime info --endpoint http://10.0.0.5:8000 --output json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			output := cmd.Flag("output").Value.String()
			if err := checkOutput(output); err != nil {
				return err
			}
			c := pruntimev1connect.NewPublicClient(http.DefaultClient, strings.TrimRight(endpoint, "/"))
			m, err := c.Info(cmd.Context(), &pruntimev1.InfoRequest{})
			if err != nil {
				if connect.CodeOf(err) == connect.CodeUnavailable || strings.Contains(err.Error(), "connection refused") {
					return unavailableErr(fmt.Errorf("cannot reach a pRuntime at %s (is `cella dev` or `cella pruntime run` running?)", endpoint))
				}
				return fmt.Errorf("pruntime %s: %w", endpoint, err)
			}
			in := pruntimeInfo{
				Initialized: m.Initialized, Registered: m.Registered, Height: m.Height, HeaderHeight: m.HeaderHeight,
				IdentityPublicKey: m.IdentityPublicKey, EcdhPublicKey: m.EcdhPublicKey, TEEProvider: m.TeeProvider,
				Measurement: m.Measurement, GenesisHash: m.GenesisHash, ChainID: m.ChainId, AppHash: m.AppHash,
				Version: m.Version, MaxAppVersion: m.MaxAppVersion, EgressPending: m.EgressPending, Operator: m.Operator,
				Gatekeeper: m.Gatekeeper, MasterPublicKey: m.MasterPublicKey, Clusters: []pruntimeCluster{},
			}
			for _, c := range m.Clusters {
				in.Clusters = append(in.Clusters, pruntimeCluster{ID: c.Id, Epoch: c.Epoch, PublicKey: c.PublicKey, StateRoot: c.StateRoot, Contracts: c.Contracts})
			}
			if output == "json" {
				return printJSON(cmd.OutOrStdout(), in)
			}
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "initialised    %v\n", in.Initialized)
			if !in.Initialized {
				fmt.Fprintf(w, "TEE            %s\n", in.TEEProvider)
				return nil
			}
			fmt.Fprintf(w, "registered     %v\n", in.Registered)
			if in.Operator != "" {
				fmt.Fprintf(w, "operator       %s\n", in.Operator)
			} else {
				fmt.Fprintf(w, "operator       none configured (--operator)\n")
			}
			fmt.Fprintf(w, "chain          %s (genesis %s)\n", in.ChainID, in.GenesisHash)
			fmt.Fprintf(w, "height         %d applied, %d headers verified\n", in.Height, in.HeaderHeight)
			fmt.Fprintf(w, "app hash       %s\n", in.AppHash)
			fmt.Fprintf(w, "identity       %s\n", in.IdentityPublicKey)
			fmt.Fprintf(w, "ecdh           %s\n", in.EcdhPublicKey)
			fmt.Fprintf(w, "TEE            %s (measurement %s)\n", in.TEEProvider, in.Measurement)
			fmt.Fprintf(w, "version        %s (app versions up to %d)\n", in.Version, in.MaxAppVersion)
			fmt.Fprintf(w, "egress pending %d\n", in.EgressPending)
			switch {
			case in.MasterPublicKey != "":
				fmt.Fprintf(w, "gatekeeper     %v (master key %s)\n", in.Gatekeeper, in.MasterPublicKey)
			default:
				fmt.Fprintf(w, "gatekeeper     %v (no master key held)\n", in.Gatekeeper)
			}
			if len(in.Clusters) == 0 {
				fmt.Fprintf(w, "clusters       none keyed\n")
			}
			for _, c := range in.Clusters {
				fmt.Fprintf(w, "cluster        %s (epoch %d, key %s)\n", c.ID, c.Epoch, c.PublicKey)
				fmt.Fprintf(w, "  state root   %s (%d contracts)\n", c.StateRoot, c.Contracts)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", DefaultPRuntimeEndpoint, "pRuntime public API address (host:port or http(s)://host:port)")
	markEndpoint(cmd, "endpoint", "http")
	outputFlag(cmd)
	return cmd
}

func newPRuntimeRunCmd() *cobra.Command {
	var (
		dataDir, listen, internal, teeKind, buildID string
		httpProxy, devRootCA                        string
		operator, genesisHash, publicURL            string
		metricsAddr                                 string
		interval                                    int64
		lf                                          logFlags
	)
	cmd := &cobra.Command{
		Use:   "run",
		Short: "Run a pRuntime in this process (dev TEE)",
		Long: `Run a pRuntime in this process, serving its public API on --listen and the
internal API for the operator's pherry on --internal-listen: a listener of its
own (loopback or a unix socket), where every call must carry the token the
pRuntime writes to <data-dir>/internal-api.token (mode 0600) at its first
start. The worker's operator is --operator (an account id, not a secret); it
is bound to the data folder when the worker is initialised.

This is the same runtime the standalone pruntime binary runs; use that binary
for a real worker, since its measurement covers only the runtime. Here the dev
TEE's measurement is the hash of --build-id, which dev chains allow-list by
default.`,
		Example: `  cella pruntime run --data-dir ./worker1 --operator 5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY \
    --listen 127.0.0.1:8100 --internal-listen unix:./worker1/internal.sock
  cella pherry --pruntime-public http://127.0.0.1:8100 --pruntime-internal unix:./worker1/internal.sock \
    --pruntime-token-file ./worker1/internal-api.token --operator-file ./operator.suri`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log, err := lf.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			dir, err := expandHome(dataDir)
			if err != nil {
				return err
			}
			if teeKind != "dev" {
				return fmt.Errorf("--tee %s: only the dev TEE runs in-process; a TDX worker runs the pruntime binary", teeKind)
			}
			wc := pruntime.Config{CheckpointInterval: interval, Log: log, PublicURL: publicURL}
			if wc.Pink, err = pruntime.PinkFlags(httpProxy, devRootCA); err != nil {
				return err
			}
			if operator != "" {
				if wc.Operator, err = pruntime.ParseOperator(operator); err != nil {
					return fmt.Errorf("--operator: %w", err)
				}
			}
			if genesisHash != "" {
				if wc.GenesisHash, err = pruntime.ParseGenesisHash(genesisHash); err != nil {
					return fmt.Errorf("--genesis-hash: %w", err)
				}
			}
			rt, err := openDevPRuntime(dir, []byte(buildID), wc)
			if err != nil {
				return err
			}
			if metricsAddr != "" {
				reg := prometheus.NewRegistry()
				reg.MustRegister(rt.Collector(), collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
				addr, stop, err := serveMetrics(metricsAddr, reg)
				if err != nil {
					rt.Close()
					return err
				}
				defer stop()
				log.Info("serving metrics", "url", "http://"+addr+"/metrics")
			}
			if err := pruntime.Serve(cmd.Context(), rt, pruntime.Listeners{PublicAddr: listen, InternalAddr: internal}, log, nil); err != nil {
				return err
			}
			return rt.Close()
		},
	}
	f := cmd.Flags()
	f.StringVar(&dataDir, "data-dir", "~/.cella/pruntime", "folder for sealed keys and checkpoints")
	f.StringVar(&listen, "listen", defaults.PRuntimePublicAddr, "public API address")
	f.StringVar(&internal, "internal-listen", defaults.PRuntimeInternalAddr, "internal API address for pherry (host:port or unix:/path; never the public one)")
	f.StringVar(&operator, "operator", "", "the worker's operator account (SS58 or 0x hex; bound to the data folder at initialisation)")
	f.StringVar(&genesisHash, "genesis-hash", "", "accept only the chain with this genesis hash (0x hex)")
	f.StringVar(&publicURL, "public-url", "", "URL clients reach the public API at (http or https), recorded in the chain's registry once the worker is registered")
	markEndpoint(cmd, "public-url", "http")
	f.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics (cluster state roots, contracts' HTTP, Go runtime) at http://ADDR/metrics")
	f.StringVar(&teeKind, "tee", "dev", "TEE provider (dev)")
	f.StringVar(&buildID, "build-id", string(pruntime.DevBuildID()), "dev TEE build identifier (its hash is the measurement)")
	f.Int64Var(&interval, "checkpoint-interval", pruntime.DefaultCheckpointInterval, "blocks between sealed checkpoints")
	f.StringVar(&httpProxy, "http-proxy", "", pruntime.HTTPProxyHelp)
	f.StringVar(&devRootCA, "dev-extra-root-ca", "", pruntime.DevExtraRootCAHelp)
	lf.add(cmd)
	return cmd
}

// openDevPRuntime opens a pRuntime with the dev TEE in dir, with cfg's
// other settings.
func openDevPRuntime(dir string, buildID []byte, cfg pruntime.Config) (*pruntime.Runtime, error) {
	p, err := devtee.New(devtee.Config{BuildID: buildID, SealDir: dir, Log: cfg.Log})
	if err != nil {
		return nil, err
	}
	cfg.DataDir, cfg.TEE = dir, p
	return pruntime.Open(cfg)
}
