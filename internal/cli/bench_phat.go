package cli

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/loadgen"
	"github.com/cella-network/cella/sdk"
)

// deployTestContract uploads (when needed) and instantiates one of the
// repository's test contracts (testcontracts name) in cluster with a random
// salt, and waits until the cluster has run the constructor.
// benchContract is the test contract a bench runs against: the one at
// address contract (its metadata the named test contract's), or, when
// contract is empty, a new one deployed in cluster.
func benchContract(ctx context.Context, w io.Writer, c *sdk.Client, key *sdk.Key, cluster, contract, name, ctor string, args ...string) (sdk.Address, *sdk.Metadata, error) {
	cl, err := parseClusterID(cluster)
	if err != nil {
		return sdk.Address{}, nil, err
	}
	if contract == "" {
		return deployTestContract(ctx, w, c, key, sdk.Hash(cl), name, ctor, args...)
	}
	addr, err := sdk.ParseAddress(contract)
	if err != nil {
		return sdk.Address{}, nil, fmt.Errorf("--contract: %w", err)
	}
	md, err := sdk.ParseMetadata(testcontracts.Metadata(name))
	return addr, md, err
}

func deployTestContract(ctx context.Context, w io.Writer, c *sdk.Client, key *sdk.Key, cluster sdk.Hash, name, ctor string, args ...string) (sdk.Address, *sdk.Metadata, error) {
	md, err := sdk.ParseMetadata(testcontracts.Metadata(name))
	if err != nil {
		return sdk.Address{}, nil, err
	}
	code := testcontracts.Wasm(name)
	hash := sdk.CodeHash(code)
	if _, err := c.Code(ctx, hash); errors.Is(err, sdk.ErrNotFound) {
		fmt.Fprintf(w, "uploading %s (%d bytes)...\n", name, len(code))
		_, up, err := c.Upload(ctx, key, code, sdk.UploadOptions{Cluster: cluster, TxOptions: sdk.TxOptions{Wait: true}})
		if err != nil {
			return sdk.Address{}, nil, err
		}
		if err := up.Err(); err != nil {
			return sdk.Address{}, nil, err
		}
	} else if err != nil {
		return sdk.Address{}, nil, err
	}
	data, err := md.EncodeConstructor(ctor, args...)
	if err != nil {
		return sdk.Address{}, nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return sdk.Address{}, nil, err
	}
	fmt.Fprintf(w, "instantiating %s...\n", name)
	addr, res, err := c.Instantiate(ctx, key, hash, data, sdk.InstantiateOptions{Cluster: cluster, Salt: salt, TxOptions: sdk.TxOptions{Wait: true}})
	if err != nil {
		return sdk.Address{}, nil, err
	}
	if err := res.Err(); err != nil {
		return sdk.Address{}, nil, err
	}
	ci, err := c.WaitContract(ctx, addr)
	if err != nil {
		return sdk.Address{}, nil, err
	}
	if ci.State != sdk.ContractInstantiated {
		return sdk.Address{}, nil, fmt.Errorf("%s's constructor failed in the cluster (contract %s)", name, addr.Hex())
	}
	fmt.Fprintf(w, "%s is at %s\n", name, addr.Hex())
	return addr, md, nil
}

// queryBenchReport is the JSON of `cella bench queries`.
type queryBenchReport struct {
	Contract sdk.Address          `json:"contract"`
	Worker   string               `json:"worker"`
	Floor    *loadgen.CryptoFloor `json:"cryptoFloor"`
	Peak     *loadgen.QueryResult `json:"peak"`
	Half     *loadgen.QueryResult `json:"half,omitempty"`
	// PeakCostRatio is the machine time per answered query at peak
	// (cores / queries per second) over the crypto floor per query.
	PeakCostRatio float64 `json:"peakCostRatio"`
}

func newBenchQueriesCmd() *cobra.Command {
	var (
		clients  int
		duration time.Duration
		rate     float64
		half     bool
		floorDur time.Duration
		contract string
	)
	cmd := &cobra.Command{
		Use:   "queries",
		Short: "Send signed encrypted contract queries to a worker and measure queries per second and latency",
		Long: `Query a flipper contract's get() on a worker's public API (pRPC ContractQuery,
signed through a certificate and encrypted to the worker's registered ECDH
key) from --clients concurrent clients for --duration, and report the
answered queries per second and the latency percentiles. Each client issues
ONE certificate and keeps one ECDH key (the worker verifies the certificate
once and caches it); every query has its own nonce, IV and signature.

Without --contract, a flipper is deployed first (as --from). With --rate,
the clients are paced to that total rate; with --half, a second run follows
at half of the peak rate measured. The per-query crypto floor (one sr25519
verification, one ECDH agreement, AES-GCM open and seal) is measured in the
same process before the load and compared with the machine time per query.

Run it against a dev network in another process, e.g.:
  cella dev --reset &   then   cella bench queries --duration 20s --half`,
		Args: cobra.NoArgs,
	}
	f := addChainFlags(cmd, false)
	worker := workerFlag(cmd)
	cluster := clusterFlag(cmd)
	fl := cmd.Flags()
	fl.StringVar(&contract, "contract", "", "flipper contract to query (default: deploy one)")
	fl.IntVar(&clients, "clients", 32, "concurrent clients")
	fl.DurationVar(&duration, "duration", 20*time.Second, "how long to query (each run)")
	fl.Float64Var(&rate, "rate", 0, "total queries per second to pace the clients to (0: as fast as the worker answers)")
	fl.BoolVar(&half, "half", false, "after the run, run again paced at half of the measured rate")
	fl.DurationVar(&floorDur, "floor", 2*time.Second, "how long to measure the crypto floor")
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		key, c, err := f.signer(cmd.Context(), cmd)
		if err != nil {
			return err
		}
		suri, _, err := readSecretURIArgv(cmd, "from", "from-file")
		if err != nil {
			return err
		}
		pair, err := keys.FromURI(suri)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout+3*duration)
		defer cancel()
		log := cmd.ErrOrStderr()
		addr, md, err := benchContract(ctx, log, c, key, *cluster, contract, "flipper", "new", "false")
		if err != nil {
			return err
		}
		wk, err := workerOf(ctx, c, *worker, &addr, sdk.Hash{})
		if err != nil {
			return err
		}
		input, err := md.EncodeMessage("get")
		if err != nil {
			return err
		}
		floor, err := loadgen.MeasureCryptoFloor(floorDur, input)
		if err != nil {
			return err
		}
		fmt.Fprintf(log, "crypto floor %.1f µs per query; querying for %s from %d clients...\n", floor.PerQueryMicros, duration, clients)
		cfg := loadgen.QueryConfig{WorkerURL: wk.URL, WorkerEcdh: keys.PublicKey(wk.Ecdh), Contract: addr, Input: input,
			Account: pair, Clients: clients, Duration: duration, Rate: rate,
			Check: func(out []byte) error {
				if len(out) != 2 || out[0] != 0 || out[1] > 1 {
					return fmt.Errorf("get() answered %x, not Ok(bool)", out)
				}
				return nil
			}}
		rep := &queryBenchReport{Contract: addr, Worker: wk.URL, Floor: floor}
		if rep.Peak, err = loadgen.RunQueries(ctx, cfg); err != nil {
			return err
		}
		if rep.Peak.QPS > 0 {
			rep.PeakCostRatio = float64(floor.Cores) / rep.Peak.QPS / (floor.PerQueryMicros / 1e6)
		}
		if half && rep.Peak.QPS > 0 {
			cfg.Rate = rep.Peak.QPS / 2
			fmt.Fprintf(log, "again at half of %.0f queries/s...\n", rep.Peak.QPS)
			if rep.Half, err = loadgen.RunQueries(ctx, cfg); err != nil {
				return err
			}
		}
		w := cmd.OutOrStdout()
		if *f.output == "json" {
			return printJSON(w, rep)
		}
		fmt.Fprintf(w, "crypto floor: %.1f µs per query on one core (%d rounds); %d cores → %.0f queries/s ceiling\n",
			floor.PerQueryMicros, floor.Rounds, floor.Cores, floor.CeilingQPS)
		printQueryRun(w, "peak", rep.Peak)
		fmt.Fprintf(w, "machine time per query at peak: %.1f× the crypto floor\n", rep.PeakCostRatio)
		if rep.Half != nil {
			printQueryRun(w, "half", rep.Half)
		}
		return nil
	}
	return cmd
}

func printQueryRun(w io.Writer, name string, r *loadgen.QueryResult) {
	paced := "unpaced"
	if r.Rate > 0 {
		paced = fmt.Sprintf("paced at %.0f/s", r.Rate)
	}
	fmt.Fprintf(w, "%s (%d clients, %s): %d answered, %d failed in %.1fs: %.0f queries/s; latency p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms; generator %.2f cores\n",
		name, r.Clients, paced, r.OK, r.Failed, r.Seconds, r.QPS, r.P50ms, r.P90ms, r.P99ms, r.MaxMs, r.GeneratorCores)
	names := make([]string, 0, len(r.Errors))
	for k := range r.Errors {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(w, "  error %-40s %d\n", k, r.Errors[k])
	}
}

// commandBenchReport is the JSON of `cella bench commands`.
type commandBenchReport struct {
	Contract sdk.Address `json:"contract"`
	*loadgen.CommandResult
}

func newBenchCommandsCmd() *cobra.Command {
	var (
		cfg      loadgen.CommandConfig
		contract string
	)
	cmd := &cobra.Command{
		Use:   "commands",
		Short: "Send encrypted erc20 transfer commands from many accounts and measure executed commands per second",
		Long: `Deploy the repository's erc20 test contract as --from (or use --contract, an
erc20 deployed by --from), fund --senders accounts from --from, give each
erc20 tokens, then have them send encrypted transfer commands
(phat.push_command, encrypted to the contract's key) with pipelined nonces
over --workers connections for --duration. Report the commands the cluster
executed per second (its outcomes on chain) and, in milliseconds and in
block times, the latency from submission to the command's block being
committed, to a worker of the cluster (--worker, default one from the
registry) having applied that block — its result can then be read from the
worker — and to the block holding the cluster's outcome report.

Run it against a dev network in another process, e.g.:
  cella dev --reset &   then   cella bench commands --duration 60s`,
		Args: cobra.NoArgs,
	}
	f := addChainFlags(cmd, false)
	cluster := clusterFlag(cmd)
	fl := cmd.Flags()
	fl.StringVar(&contract, "contract", "", "erc20 contract deployed by --from (default: deploy one)")
	fl.IntVar(&cfg.Senders, "senders", 200, "number of distinct sending accounts")
	fl.IntVar(&cfg.Workers, "workers", 32, "concurrent RPC connections")
	fl.DurationVar(&cfg.Duration, "duration", 60*time.Second, "how long to send")
	fl.Uint64Var(&cfg.GasLimit, "gas", sdk.DefaultGasLimit, "gas limit of each command")
	worker := workerFlag(cmd)
	cmd.RunE = func(cmd *cobra.Command, _ []string) error {
		key, c, err := f.signer(cmd.Context(), cmd)
		if err != nil {
			return err
		}
		suri, _, err := readSecretURIArgv(cmd, "from", "from-file")
		if err != nil {
			return err
		}
		if cfg.Funder, err = keys.FromURI(suri); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout+2*cfg.Duration)
		defer cancel()
		log := cmd.ErrOrStderr()
		addr, md, err := benchContract(ctx, log, c, key, *cluster, contract, "erc20", "new", "1000000000000000")
		if err != nil {
			return err
		}
		ci, err := c.Contract(ctx, addr)
		if err != nil {
			return err
		}
		if ci.Pubkey == nil {
			return fmt.Errorf("contract %s has no published key", addr.Hex())
		}
		cfg.Contract, cfg.ContractKey = addr, keys.PublicKey(*ci.Pubkey)
		wk, err := workerOf(ctx, c, *worker, &addr, sdk.Hash{})
		if err != nil {
			return fmt.Errorf("a worker of the contract's cluster: %w", err)
		}
		cfg.Applied = wk.AppliedHeight
		ic, err := client.New(*f.node)
		if err != nil {
			return err
		}
		data, err := md.EncodeMessage("transfer", key.Address().Hex(), "1")
		if err != nil {
			return err
		}
		cfg.Message = func(int, keys.PublicKey) []byte { return data }
		cfg.Before = func(ctx context.Context, senders []keys.PublicKey) error {
			fmt.Fprintf(log, "giving %d senders erc20 tokens...\n", len(senders))
			acc, err := ic.Account(ctx, keys.PublicKey(key.Address()))
			if err != nil {
				return err
			}
			nonce := acc.Nonce
			var last *sdk.TxResult
			for i, s := range senders {
				give, err := md.EncodeMessage("transfer", sdk.Address(s).Hex(), "1000000000")
				if err != nil {
					return err
				}
				n := nonce + uint64(i)
				last, err = c.Call(ctx, key, addr, give, sdk.CallOptions{GasLimit: cfg.GasLimit, TxOptions: sdk.TxOptions{Nonce: &n, Wait: i == len(senders)-1}})
				if err != nil {
					return err
				}
			}
			if err := last.Err(); err != nil {
				return err
			}
			_, err = c.WaitOutcome(ctx, last)
			return err
		}
		fmt.Fprintf(log, "funding %d senders, then sending for %s over %d connections...\n", cfg.Senders, cfg.Duration, cfg.Workers)
		res, err := loadgen.RunCommands(ctx, ic, cfg)
		if res == nil {
			return err
		}
		w := cmd.OutOrStdout()
		if *f.output == "json" {
			if perr := printJSON(w, commandBenchReport{Contract: addr, CommandResult: res}); perr != nil {
				return perr
			}
			return err
		}
		fmt.Fprintf(w, "executed %d commands over %.1fs: %.0f commands/s (submitted %d, accepted %d; load generator %.2f cores)\n",
			res.Executed, res.WindowSeconds, res.ExecutedPerSecond, res.Submitted, res.Accepted, res.GeneratorCores)
		lat := func(what string, l loadgen.Latency) {
			fmt.Fprintf(w, "submit → %s p50 %.0f ms (%.2f block times), p99 %.0f ms (%.2f block times)\n",
				what, l.P50ms, l.P50Blocks, l.P99ms, l.P99Blocks)
		}
		fmt.Fprintf(w, "block time %.0f ms\n", res.BlockTimeMs)
		lat("command's block committed:      ", res.Committed)
		if res.Available != nil {
			lat("result available on the worker:", *res.Available)
		}
		lat("outcome report on chain:        ", loadgen.Latency{P50ms: res.P50ms, P99ms: res.P99ms, P50Blocks: res.P50Blocks, P99Blocks: res.P99Blocks})
		names := make([]string, 0, len(res.Rejected))
		for k := range res.Rejected {
			names = append(names, k)
		}
		sort.Strings(names)
		for _, k := range names {
			fmt.Fprintf(w, "rejected %-20s %d\n", k, res.Rejected[k])
		}
		return err
	}
	return cmd
}
