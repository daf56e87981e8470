package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/httpserve"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pherry"
	"github.com/cella-network/cella/internal/pruntime"
)

// operatorEnv holds the operator's secret URI for `cella pherry` (the
// alternative to --operator-file; never a flag of its own, so that the
// secret does not appear in argv).
const operatorEnv = "CELLA_OPERATOR"

func newPherryCmd() *cobra.Command {
	var (
		nodeURL      *string
		publicURL    string
		internalURL  string
		tokenFile    string
		oldPRuntime  string
		operatorFile string
		batchSize    int
		pollInterval time.Duration
		metricsAddr  string
		noProgress   bool
		pcsURL       string
		workersFile  string
		cacheHeights int
		cacheBytes   int64
		logs         logFlags
	)
	cmd := &cobra.Command{
		Use:   "pherry",
		Short: "Relay between a node and one or more pRuntimes: sync them, register the workers, submit their egress",
		Long: `Run pherry, the untrusted relayer between one node and one pRuntime (or several,
with --workers).

pherry initialises a fresh pRuntime with the chain's genesis, feeds it the
chain in batches (headers, one commit per batch, validator sets where they
change, block write-sets and messages), then follows new blocks. Once the
pRuntime has caught up, pherry registers the worker (signed by the operator)
and submits the worker's egress messages. It survives restarts of the node,
the pRuntime and itself, in any order.

pherry talks to the pRuntime's public API (--pruntime-public) and to its
internal API (--pruntime-internal: a loopback address or unix:/path), where
every call carries the token the pRuntime wrote to its data folder
(--pruntime-token-file, or CELLA_PRUNTIME_TOKEN_FILE; the token itself never
appears on the command line).

The operator's secret URI comes from --operator-file or the CELLA_OPERATOR
environment variable, never from the command line; it must be the account the
pRuntime was started with (its --operator). Without one, pherry only syncs.

With --workers FILE one pherry serves several pRuntimes (like Phala's
runtime-bridge). FILE is JSON:

  {"workers": [{"name": "w1", "public": "http://127.0.0.1:8000",
                "internal": "unix:/var/lib/cella/w1/internal.sock",
                "token_file": "/var/lib/cella/w1/internal-api.token",
                "operator_file": "/etc/cella/w1.operator"}]}

Each worker gets its own loop, errors and backoff, so a slow or dead pRuntime
holds back no other; the chain is read once for all of them through a shared
block cache (--cache-heights heights, block records of at most --cache-bytes
bytes; a worker further behind fetches its blocks from the node again). Metrics carry the label worker=<name>. An
entry without operator_file uses the operator given to pherry itself.`,
		Example: `  CELLA_OPERATOR=//Alice cella pherry
  cella pherry --node http://10.0.0.5:26657 --pruntime-public http://127.0.0.1:8000 \
    --pruntime-internal unix:/var/lib/cella/pruntime/internal.sock \
    --pruntime-token-file /var/lib/cella/pruntime/internal-api.token --operator-file ~/.cella/operator
  cella pherry --metrics-addr ` + defaults.PherryMetricsAddr + ` --log-format json
  CELLA_OPERATOR=//Alice cella pherry --workers ~/.cella/workers.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// The log and the progress bar share stderr: records go above the bar.
			term := newTermShare(cmd.ErrOrStderr())
			log, err := logs.logger(term.Logs())
			if err != nil {
				return err
			}
			if oldPRuntime != "" {
				return errors.New("--pruntime is gone: the pRuntime's APIs have separate listeners; give --pruntime-public, --pruntime-internal and --pruntime-token-file")
			}
			op, err := readOperator(cmd, operatorFile)
			if err != nil {
				return err
			}
			if workersFile != "" {
				for _, single := range []string{"pruntime-public", "pruntime-internal", "pruntime-token-file"} {
					if cmd.Flags().Changed(single) {
						return invalidArg(fmt.Errorf("--%s and --workers: give the pRuntimes in the workers file only", single))
					}
				}
				if cacheBytes < 0 {
					return invalidArg(fmt.Errorf("--cache-bytes %d: want a positive number of bytes (0: the default, %d)", cacheBytes, pherry.DefaultCacheBytes))
				}
				specs, err := loadWorkers(workersFile, op)
				if err != nil {
					return err
				}
				reg := prometheus.NewRegistry()
				m, err := pherry.NewMulti(pherry.MultiConfig{Config: pherry.Config{
					NodeURL: *nodeURL, BatchSize: batchSize, PollInterval: pollInterval, Log: log, Metrics: reg, PCSURL: pcsURL,
				}, Workers: specs, CacheHeights: cacheHeights, CacheBytes: cacheBytes})
				if err != nil {
					return err
				}
				return runServingMetrics(cmd.Context(), log, metricsAddr, reg, m.Run)
			}
			tf, err := expandHome(tokenFile)
			if err != nil {
				return err
			}
			token, err := pherry.ReadTokenFile(tf)
			if err != nil {
				return fmt.Errorf("--pruntime-token-file: %w (the pRuntime writes %s to its data folder at its first start)", err, pruntime.TokenFile)
			}
			reg := prometheus.NewRegistry()
			cfg := pherry.Config{
				NodeURL:      *nodeURL,
				PublicURL:    publicURL,
				InternalURL:  internalURL,
				Token:        token,
				Operator:     op,
				BatchSize:    batchSize,
				PollInterval: pollInterval,
				Log:          log,
				Metrics:      reg,
				PCSURL:       pcsURL,
			}
			if !noProgress {
				cfg.Progress = term.Progress()
			}
			p, err := pherry.New(cfg)
			if err != nil {
				return err
			}
			return runServingMetrics(cmd.Context(), log, metricsAddr, reg, p.Run)
		},
	}
	nodeURL = nodeFlag(cmd)
	f := cmd.Flags()
	f.StringVar(&publicURL, "pruntime-public", pherry.DefaultPRuntimePublic, "public API address of the pRuntime")
	f.StringVar(&internalURL, "pruntime-internal", pherry.DefaultPRuntimeInternal, "internal API address of the pRuntime (http://host:port or unix:/path)")
	markEndpoint(cmd, "pruntime-public", "http")
	markEndpoint(cmd, "pruntime-internal", "http")
	f.StringVar(&tokenFile, "pruntime-token-file", "~/.cella/pruntime/"+pruntime.TokenFile, "the pRuntime's internal API token file (also CELLA_PRUNTIME_TOKEN_FILE)")
	f.StringVar(&oldPRuntime, "pruntime", "", "replaced by --pruntime-public and --pruntime-internal")
	_ = f.MarkHidden("pruntime")
	f.StringVar(&operatorFile, "operator-file", "", "file holding the operator's secret URI (or set CELLA_OPERATOR)")
	f.IntVar(&batchSize, "batch-size", pherry.DefaultBatchSize, fmt.Sprintf("most headers per batch (at most %d)", pherry.MaxBatchSize))
	f.DurationVar(&pollInterval, "poll-interval", pherry.DefaultPollInterval, "how often to poll the node when no websocket event arrives")
	f.StringVar(&metricsAddr, "metrics-addr", "", "serve Prometheus metrics at http://ADDR/metrics (e.g. "+defaults.PherryMetricsAddr+")")
	f.StringVar(&pcsURL, "pcs-url", pherry.DefaultPCSURL, "Intel PCS or PCCS base URL that TDX collateral is fetched from when the pRuntime supplies none (\"off\": never fetch)")
	f.BoolVar(&noProgress, "no-progress", false, "do not draw the catch-up progress bar")
	f.StringVar(&workersFile, "workers", "", "serve several pRuntimes listed in this JSON file (see above) instead of --pruntime-public/--pruntime-internal/--pruntime-token-file")
	f.IntVar(&cacheHeights, "cache-heights", pherry.DefaultCacheHeights, "with --workers: heights of headers, records, commits and validator sets the shared block cache keeps")
	f.Int64Var(&cacheBytes, "cache-bytes", pherry.DefaultCacheBytes, "with --workers: most bytes of block records the shared block cache keeps, oldest out first (a larger record is relayed, not kept)")
	logs.add(cmd)
	return cmd
}

// readOperator returns the operator's key from --operator-file or the
// CELLA_OPERATOR environment variable (exactly one of them), or nil when
// neither is given.
func readOperator(cmd *cobra.Command, file string) (*keys.Pair, error) {
	env, hasEnv := os.LookupEnv(operatorEnv)
	hasEnv = hasEnv && strings.TrimSpace(env) != ""
	hasFile := cmd.Flags().Changed("operator-file") && file != ""
	var suri string
	switch {
	case hasEnv && hasFile:
		return nil, fmt.Errorf("the operator key was given twice (--operator-file and %s): use only one", operatorEnv)
	case hasFile:
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("--operator-file: cannot read the secret file: %w", err)
		}
		suri = strings.TrimSpace(string(b))
		if suri == "" {
			return nil, fmt.Errorf("--operator-file: the secret file %s is empty", file)
		}
	case hasEnv:
		suri = strings.TrimSpace(env)
	default:
		return nil, nil
	}
	p, err := keys.FromURI(suri)
	if err != nil {
		// Never echo the secret.
		return nil, errors.New("the operator's secret URI is not valid (expected //Name, a mnemonic or 0xSEED, with an optional /derivation)")
	}
	return p, nil
}

// loadWorkers reads a --workers file and the token (and operator) files it
// names; an entry without operator_file gets op.
func loadWorkers(path string, op *keys.Pair) ([]pherry.WorkerSpec, error) {
	path, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	b, err := readFileLimited(path, pherry.MaxWorkersFileBytes)
	if err != nil {
		return nil, fmt.Errorf("--workers: %w", err)
	}
	wf, err := pherry.ParseWorkersFile(b)
	if err != nil {
		return nil, invalidArg(fmt.Errorf("--workers %s: %w", path, err))
	}
	specs := make([]pherry.WorkerSpec, len(wf.Workers))
	for i, w := range wf.Workers {
		tf, err := expandHome(w.TokenFile)
		if err != nil {
			return nil, err
		}
		token, err := pherry.ReadTokenFile(tf)
		if err != nil {
			return nil, fmt.Errorf("worker %q: token_file: %w", w.Name, err)
		}
		wop := op
		if w.OperatorFile != "" {
			if wop, err = readOperatorFile(w.OperatorFile); err != nil {
				return nil, fmt.Errorf("worker %q: operator_file: %w", w.Name, err)
			}
		}
		specs[i] = pherry.WorkerSpec{Name: w.Name, PublicURL: w.Public, InternalURL: w.Internal, Token: token, Operator: wop}
	}
	return specs, nil
}

// readFileLimited reads a file of at most limit bytes.
func readFileLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, limit)
	}
	return b, nil
}

// readOperatorFile reads an operator's secret URI from a file, never
// echoing it.
func readOperatorFile(path string) (*keys.Pair, error) {
	path, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	b, err := readFileLimited(path, 4096)
	if err != nil {
		return nil, fmt.Errorf("cannot read the secret file: %w", err)
	}
	suri := strings.TrimSpace(string(b))
	if suri == "" {
		return nil, fmt.Errorf("the secret file %s is empty", path)
	}
	p, err := keys.FromURI(suri)
	if err != nil {
		return nil, errors.New("the operator's secret URI is not valid (expected //Name, a mnemonic or 0xSEED, with an optional /derivation)")
	}
	return p, nil
}

// serveMetrics serves reg at addr/metrics until stop is called; it returns
// the bound address.
func serveMetrics(addr string, reg *prometheus.Registry) (bound string, stop func(), err error) {
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	srv, err := httpserve.Open(addr, mux, httpserve.Limits{MaxConns: 16})
	if err != nil {
		return "", nil, fmt.Errorf("--metrics-addr: %w", err)
	}
	go func() { _ = srv.Serve() }()
	return srv.Addr(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	}, nil
}

// runServingMetrics runs run until it returns, serving reg (with Go's and
// the process's collectors added) on metricsAddr meanwhile; an empty
// address serves nothing.
func runServingMetrics(ctx context.Context, log *slog.Logger, metricsAddr string, reg *prometheus.Registry, run func(context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if metricsAddr != "" {
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
		addr, stop, err := serveMetrics(metricsAddr, reg)
		if err != nil {
			return err
		}
		defer stop()
		log.Info("serving metrics", "url", "http://"+addr+"/metrics")
	}
	return run(ctx)
}
