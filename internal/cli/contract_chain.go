package cli

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/sdk"
)

// Phat contract commands on a live network, built on the public SDK
// (package sdk): upload, instantiate, call and query.

// chainFlags are the flags every contract command on a network shares.
type chainFlags struct {
	node    *string
	output  *string
	wait    bool
	timeout time.Duration
}

func addChainFlags(cmd *cobra.Command, withWait bool) *chainFlags {
	f := &chainFlags{node: nodeFlag(cmd), output: outputFlag(cmd)}
	if withWait {
		cmd.Flags().BoolVar(&f.wait, "wait", false, "wait until the transaction is committed (and for instantiate, until the cluster has run the constructor; for call, until the cluster reports the outcome)")
	}
	cmd.Flags().DurationVar(&f.timeout, "timeout", 2*time.Minute, "give up after this long")
	addSecretFlags(cmd, "from", "the signing account")
	return f
}

// signer reads the --from secret (or --from-file, CELLA_SURI), warns when it
// is on the command line, and connects to the node.
func (f *chainFlags) signer(ctx context.Context, cmd *cobra.Command) (*sdk.Key, *sdk.Client, error) {
	if err := checkOutput(*f.output); err != nil {
		return nil, nil, err
	}
	suri, onArgv, err := readSecretURIArgv(cmd, "from", "from-file")
	if err != nil {
		return nil, nil, err
	}
	key, err := sdk.KeyFromURI(suri)
	if err != nil {
		return nil, nil, fmt.Errorf("--from: %w", err)
	}
	if onArgv {
		ic, err := client.New(*f.node)
		if err != nil {
			return nil, nil, err
		}
		if err := warnArgvSecretOnChain(ctx, cmd.ErrOrStderr(), ic, "--from", suri, secretSources("from-file")); err != nil {
			return nil, nil, err
		}
	}
	c, err := sdk.Connect(*f.node)
	return key, c, err
}

// parseAmount reads a non-negative decimal amount of base units ("" is
// none).
func parseAmount(flag, s string) (*big.Int, error) {
	if s == "" {
		return nil, nil
	}
	v, ok := new(big.Int).SetString(s, 10)
	if !ok || v.Sign() < 0 || v.BitLen() > 128 {
		return nil, fmt.Errorf("--%s: %q is not an amount of base units (a decimal integer 0..2^128-1)", flag, s)
	}
	return v, nil
}

// parseSalt reads --salt: 0x-prefixed hex, or else the text's bytes.
func parseSalt(s string) ([]byte, error) {
	var b []byte
	if strings.HasPrefix(s, "0x") {
		var err error
		if b, err = hex.DecodeString(s[2:]); err != nil {
			return nil, fmt.Errorf("--salt: %q is not hex", s)
		}
	} else {
		b = []byte(s)
	}
	if len(b) > sdk.MaxSaltLen {
		return nil, fmt.Errorf("--salt: %d bytes, at most %d", len(b), sdk.MaxSaltLen)
	}
	return b, nil
}

// loadCode reads FILE: a .wasm file (the code alone) or a .contract
// bundle (metadata with the code).
func loadCode(path string) (code []byte, md *sdk.Metadata, err error) {
	if strings.HasSuffix(path, ".wasm") {
		st, err := os.Stat(path)
		if err != nil {
			return nil, nil, err
		}
		if st.Size() > sdk.MaxCodeSize {
			return nil, nil, fmt.Errorf("%s: %d bytes, code is at most %d", path, st.Size(), sdk.MaxCodeSize)
		}
		code, err = os.ReadFile(path)
		return code, nil, err
	}
	md, err = sdk.LoadMetadata(path)
	if err != nil {
		return nil, nil, err
	}
	if md.Code() == nil {
		return nil, nil, fmt.Errorf("%s has no code: give a .contract bundle or a .wasm file", path)
	}
	return md.Code(), md, nil
}

func clusterFlag(cmd *cobra.Command) *string {
	return cmd.Flags().String("cluster", "0", "cluster (0x id, or its number: 0 is the first cluster)")
}

func printTx(w io.Writer, what string, r *sdk.TxResult) {
	if !r.Committed {
		fmt.Fprintf(w, "%s submitted: 0x%x (nonce %d)\n", what, r.Hash, r.Nonce)
		return
	}
	fmt.Fprintf(w, "%s included in block %d: %s\n  tx          %s\n  fee         %s\n", what, r.Height, r.Result, r.Hash, r.Fee)
}

// txFailed turns a committed failure into the command's error.
func txFailed(r *sdk.TxResult) error {
	if err := r.Err(); err != nil {
		return txFailedErr(fmt.Errorf("%w (the fee was charged)", err))
	}
	return nil
}

func newContractUploadCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "upload FILE",
		Short: "Upload contract code (.contract bundle or .wasm) into a cluster",
		Example: `  cella contract upload flipper.contract --from-file alice.suri --wait
  cella contract upload pinkjs.wasm --indeterministic --cluster 0 --wait`,
		Args: cobra.ExactArgs(1),
	}
	cluster := clusterFlag(cmd)
	indet := cmd.Flags().Bool("indeterministic", false, "upload code for queries only (floats allowed); it cannot be instantiated")
	f := addChainFlags(cmd, true)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cl, err := parseClusterID(*cluster)
		if err != nil {
			return fmt.Errorf("--cluster: %w", err)
		}
		code, _, err := loadCode(args[0])
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		key, c, err := f.signer(ctx, cmd)
		if err != nil {
			return err
		}
		hash, res, err := c.Upload(ctx, key, code, sdk.UploadOptions{Cluster: cl, Indeterministic: *indet, TxOptions: sdk.TxOptions{Wait: f.wait}})
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if *f.output == "json" {
			if err := printJSON(w, map[string]any{"codeHash": hash, "size": len(code), "tx": res}); err != nil {
				return err
			}
		} else {
			printTx(w, "upload", res)
			fmt.Fprintf(w, "  code hash   %s (%d bytes)\n", hash, len(code))
		}
		return txFailed(res)
	}
	return cmd
}

func newContractInstantiateCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "instantiate FILE",
		Short: "Instantiate a contract in a cluster (uploading its code first when the chain lacks it)",
		Long: `Instantiate a contract from a .contract bundle (or --metadata with a .wasm FILE) by running a
constructor. Its address is computed before sending (blake2-256 of deployer, code hash, cluster and
salt). When the chain has no code with this hash, the code is uploaded first. With --wait, the
command waits until the cluster has run the constructor and the chain records the contract as
instantiated (or failed).`,
		Example: `  cella contract instantiate flipper.contract --constructor new --args false --salt 0x01 --from-file alice.suri --wait
  cella contract instantiate erc20.wasm --metadata erc20.json --args 1000000 --gas 5000000000 --wait`,
		Args: cobra.ExactArgs(1),
	}
	cluster := clusterFlag(cmd)
	metaPath := cmd.Flags().String("metadata", "", "metadata .json, when FILE is a .wasm file")
	ctor := cmd.Flags().String("constructor", "new", "constructor to run")
	ctorArgs := cmd.Flags().StringArray("args", nil, "constructor argument as JSON (repeat for each; a value that is not JSON is a string)")
	salt := cmd.Flags().String("salt", "", "salt distinguishing instances of the same code (0xHEX, or text)")
	value := cmd.Flags().String("value", "", "base units transferred to the contract")
	gas := cmd.Flags().Uint64("gas", sdk.DefaultGasLimit, "gas limit of the constructor (reserved at the cluster's gas price, the unused part refunded)")
	deposit := cmd.Flags().String("storage-deposit-limit", "", "cap on the storage deposit in base units (default: none)")
	dry := cmd.Flags().Bool("dry-run", false, "only estimate: run the constructor as a query on --worker (the code must be in the cluster) and send nothing")
	worker := workerFlag(cmd)
	f := addChainFlags(cmd, true)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		cl, err := parseClusterID(*cluster)
		if err != nil {
			return fmt.Errorf("--cluster: %w", err)
		}
		code, md, err := loadCode(args[0])
		if err != nil {
			return err
		}
		if *metaPath != "" {
			if md, err = sdk.LoadMetadata(*metaPath); err != nil {
				return err
			}
		}
		if md == nil {
			return errors.New("a .wasm FILE needs --metadata to encode the constructor")
		}
		data, err := md.EncodeConstructor(*ctor, *ctorArgs...)
		if err != nil {
			return fmt.Errorf("--constructor: %w", err)
		}
		s, err := parseSalt(*salt)
		if err != nil {
			return err
		}
		v, err := parseAmount("value", *value)
		if err != nil {
			return err
		}
		dl, err := parseAmount("storage-deposit-limit", *deposit)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		key, c, err := f.signer(ctx, cmd)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		hash := sdk.CodeHash(code)
		if *dry {
			wk, err := workerOf(ctx, c, *worker, nil, cl)
			if err != nil {
				return err
			}
			r, addr, err := c.QueryInstantiate(ctx, key, wk, cl, hash, data, s, sdk.QueryOptions{Value: v})
			if err != nil {
				return err
			}
			if *f.output == "json" {
				return printJSON(w, map[string]any{"address": addr, "codeHash": hash, "reverted": r.Reverted,
					"gasConsumed": r.GasConsumed, "gasRequired": r.GasRequired, "storageDeposit": r.StorageDeposit.String(), "debug": r.Debug})
			}
			status := "ok"
			if r.Reverted {
				status = "reverted"
			}
			fmt.Fprintf(w, "constructor %s: %s\n  contract    %s\n  gas consumed %d, required %d\n", *ctor, status, addr, r.GasConsumed, r.GasRequired)
			return nil
		}
		out := map[string]any{"codeHash": hash}
		// TODO(issue 9): the chain answers whether code exists, not whether
		// this cluster has it; code uploaded to another cluster only is
		// refused by instantiate and needs `cella contract upload --cluster`.
		if _, err := c.Code(ctx, hash); errors.Is(err, sdk.ErrNotFound) {
			_, up, err := c.Upload(ctx, key, code, sdk.UploadOptions{Cluster: cl, TxOptions: sdk.TxOptions{Wait: true}})
			if err != nil {
				return fmt.Errorf("uploading the code: %w", err)
			}
			out["upload"] = up
			if *f.output != "json" {
				printTx(w, "upload", up)
			}
			if err := txFailed(up); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		addr, res, err := c.Instantiate(ctx, key, hash, data, sdk.InstantiateOptions{Cluster: cl, Salt: s, Value: v, GasLimit: *gas,
			StorageDepositLimit: dl, TxOptions: sdk.TxOptions{Wait: f.wait}})
		if err != nil {
			return err
		}
		out["address"], out["tx"] = addr, res
		var ci *sdk.ContractInfo
		if res.OK() {
			if ci, err = c.WaitContract(ctx, addr); err != nil {
				return err
			}
			out["contract"] = ci
		}
		if *f.output == "json" {
			if err := printJSON(w, out); err != nil {
				return err
			}
		} else {
			printTx(w, "instantiate", res)
			fmt.Fprintf(w, "  contract    %s (%s)\n  code hash   %s\n", addr, addr.Hex(), hash)
			if ci != nil {
				fmt.Fprintf(w, "  state       %s\n", ci.State)
			}
		}
		if err := txFailed(res); err != nil {
			return err
		}
		if ci != nil && ci.State == sdk.ContractFailed {
			return fmt.Errorf("the cluster could not instantiate contract %s (its constructor failed; see the chain's cluster/instantiate_failed message)", addr)
		}
		return nil
	}
	return cmd
}

// messageCall is what call and query share: the contract, the message and
// its encoded call data.
type messageCall struct {
	addr sdk.Address
	md   *sdk.Metadata
	name string
	data []byte
}

func parseMessageCall(args []string, metaPath string) (*messageCall, error) {
	if metaPath == "" {
		return nil, errors.New("--metadata is required (the contract's .contract or .json) to encode the message")
	}
	addr, err := sdk.ParseAddress(args[0])
	if err != nil {
		return nil, fmt.Errorf("contract address: %w", err)
	}
	md, err := sdk.LoadMetadata(metaPath)
	if err != nil {
		return nil, err
	}
	data, err := md.EncodeMessage(args[1], args[2:]...)
	if err != nil {
		return nil, err
	}
	return &messageCall{addr: addr, md: md, name: args[1], data: data}, nil
}

// workerOf connects to the worker at url and checks, in the chain's
// records, that it holds the key of cluster (the cluster of the contract,
// when contract is not nil), so that a wrong --worker is told plainly.
func workerOf(ctx context.Context, c *sdk.Client, url string, contract *sdk.Address, cluster sdk.Hash) (*sdk.Worker, error) {
	if contract != nil {
		ci, err := c.Contract(ctx, *contract)
		if err != nil {
			return nil, err
		}
		cluster = ci.Cluster
	}
	if url == "" {
		// The chain's registry: a keyed worker of the cluster that recorded
		// its endpoint.
		return c.ClusterWorker(ctx, cluster)
	}
	cl, err := c.Cluster(ctx, cluster)
	if err != nil {
		return nil, err
	}
	wk, err := c.Worker(ctx, url)
	if err != nil {
		return nil, err
	}
	if !cl.HasKeyedWorker(wk.Identity) {
		return nil, fmt.Errorf("worker %s (%s) does not hold the key of cluster %s: give --worker the URL of one of its workers (%d hold its key)",
			url, wk.Identity.Hex(), cluster, len(cl.Keyed))
	}
	return wk, nil
}

func workerFlag(cmd *cobra.Command) *string {
	defer markEndpoint(cmd, "worker", "http")
	return cmd.Flags().String("worker", "", "public API URL of a worker of the contract's cluster (default: a worker of the cluster whose endpoint is in the chain's registry)")
}

// commandResultJSON is a command's outcome with its output decoded with
// the metadata.
func commandResultJSON(mc *messageCall, r *sdk.CommandOutcome) map[string]any {
	out := map[string]any{"status": commandStatus(r), "reverted": r.Reverted, "flags": r.Flags,
		"output": "0x" + hex.EncodeToString(r.Output), "gasUsed": r.GasUsed, "height": r.Height}
	if r.Refused != "" {
		out["refused"] = r.Refused
	}
	if r.Error != "" {
		out["error"] = r.Error
	}
	if r.Refused == "" && !r.Trapped {
		if v, err := mc.md.DecodeReturn(mc.name, r.Output); err == nil {
			out["value"] = v
		} else {
			out["decodeError"] = err.Error()
		}
	}
	evs := []map[string]any{}
	for _, ev := range r.Events {
		ts := []string{}
		for _, t := range ev.Topics {
			ts = append(ts, t.String())
		}
		e := map[string]any{"contract": ev.Contract.String(), "topics": ts, "data": "0x" + hex.EncodeToString(ev.Data)}
		if d, err := decodeEvent(mc, ev); err != nil {
			e["decodeError"] = err.Error()
		} else {
			e["name"], e["args"] = d.Name, d.Args
		}
		evs = append(evs, e)
	}
	out["events"] = evs
	return out
}

// decodeEvent decodes an event of mc's contract with its metadata. Events
// of other contracts (called by it) are not described by the metadata.
func decodeEvent(mc *messageCall, ev sdk.Event) (*sdk.DecodedEvent, error) {
	if ev.Contract != mc.addr {
		return nil, fmt.Errorf("emitted by another contract (%s), whose metadata was not given", ev.Contract)
	}
	return mc.md.DecodeEvent(ev)
}

func commandStatus(r *sdk.CommandOutcome) string {
	switch {
	case r.Refused != "":
		return "refused"
	case r.Trapped:
		return "trapped"
	case r.Reverted:
		return "reverted"
	}
	return "success"
}

// printCommandResult prints a command's outcome in text.
func printCommandResult(w io.Writer, mc *messageCall, r *sdk.CommandOutcome) {
	j := commandResultJSON(mc, r)
	fmt.Fprintf(w, "  result      %s", j["status"])
	switch {
	case r.Refused != "":
		fmt.Fprintf(w, ": %s", r.Refused)
	case r.Trapped:
		fmt.Fprintf(w, ": %s", r.Error)
	}
	fmt.Fprintf(w, " (flags %d, gas used %d)\n", r.Flags, r.GasUsed)
	if v, ok := j["value"].(json.RawMessage); ok {
		fmt.Fprintf(w, "  output      %s\n", v)
	} else if r.Refused == "" && !r.Trapped {
		fmt.Fprintf(w, "  output      0x%x (does not decode: %s)\n", r.Output, j["decodeError"])
	}
	for i, ev := range r.Events {
		d, err := decodeEvent(mc, ev)
		if err == nil {
			fmt.Fprintf(w, "  event %d     %s %s\n", i, d.Name, d.Args)
			continue
		}
		fmt.Fprintf(w, "  event %d     contract %s data 0x%x", i, ev.Contract, ev.Data)
		for _, t := range ev.Topics {
			fmt.Fprintf(w, " topic %s", t)
		}
		fmt.Fprintf(w, " (does not decode: %v)\n", err)
	}
}

// queryResult prints a query's answer decoded with the metadata.
// queryAndPrint runs mc as a signed query on the contract's worker (url, or
// one from the registry) and prints the decoded answer.
func queryAndPrint(ctx context.Context, w io.Writer, output string, c *sdk.Client, key *sdk.Key, url string, mc *messageCall, o sdk.QueryOptions) error {
	wk, err := workerOf(ctx, c, url, &mc.addr, sdk.Hash{})
	if err != nil {
		return err
	}
	r, err := c.Query(ctx, key, wk, mc.addr, mc.data, o)
	if err != nil {
		return err
	}
	return printQueryResult(w, output, mc, r)
}

func printQueryResult(w io.Writer, output string, mc *messageCall, r *sdk.QueryResult) error {
	v, derr := mc.md.DecodeReturn(mc.name, r.Output)
	if output == "json" {
		out := map[string]any{"output": "0x" + hex.EncodeToString(r.Output), "reverted": r.Reverted,
			"gasConsumed": r.GasConsumed, "gasRequired": r.GasRequired, "storageDeposit": r.StorageDeposit.String()}
		if derr == nil {
			out["value"] = v
		} else {
			out["decodeError"] = derr.Error()
		}
		if r.Debug != "" {
			out["debug"] = r.Debug
		}
		return printJSON(w, out)
	}
	if derr != nil {
		fmt.Fprintf(w, "output 0x%x (does not decode: %v)\n", r.Output, derr)
	} else {
		fmt.Fprintln(w, string(v))
	}
	if r.Reverted {
		fmt.Fprintln(w, "  reverted")
	}
	fmt.Fprintf(w, "  gas consumed %d, required %d\n", r.GasConsumed, r.GasRequired)
	if r.Debug != "" {
		fmt.Fprintf(w, "  debug: %q\n", r.Debug)
	}
	return nil
}

func newContractCallCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "call ADDRESS MESSAGE [ARGS…]",
		Short: "Call a contract message in a transaction (a command, encrypted to the contract unless --plain)",
		Long: `Call a contract message as a command: the cluster's workers execute it after its block. Arguments
are JSON values (a value that is not JSON is a string). The command is encrypted to the contract's
ECDH key unless --plain. The transaction reserves --gas at the cluster's gas price and the unused
part is refunded once the cluster reports the outcome. --wait waits for it and then asks --worker,
as the sender, for the message's result (success, revert, trap or refusal, gas used, output decoded
with the metadata, events): only the sender can read it. --dry-run sends
nothing: it runs the message as a signed query on --worker and prints the result and gas needed.`,
		Example: `  cella contract call 5Dfis6Xg… flip --metadata flipper.json --from-file alice.suri --wait
  cella contract call 5Dfis6Xg… transfer 5FHneW46… 10 --metadata erc20.json --dry-run`,
		Args: cobra.MinimumNArgs(2),
	}
	metaPath := cmd.Flags().String("metadata", "", "the contract's metadata (.contract or .json)")
	plain := cmd.Flags().Bool("plain", false, "send the command unencrypted (readable by anyone on chain)")
	value := cmd.Flags().String("value", "", "base units transferred to the contract with the call")
	gas := cmd.Flags().Uint64("gas", sdk.DefaultGasLimit, "gas limit (reserved at the cluster's gas price, the unused part refunded)")
	dry := cmd.Flags().Bool("dry-run", false, "only estimate: run the message on --worker as the command would (an estimating query) and send nothing")
	worker := workerFlag(cmd)
	f := addChainFlags(cmd, true)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		mc, err := parseMessageCall(args, *metaPath)
		if err != nil {
			return err
		}
		v, err := parseAmount("value", *value)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		key, c, err := f.signer(ctx, cmd)
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		if *dry {
			return queryAndPrint(ctx, w, *f.output, c, key, *worker, mc, sdk.QueryOptions{Value: v, Estimating: true})
		}
		res, err := c.Call(ctx, key, mc.addr, mc.data, sdk.CallOptions{Plain: *plain, Value: v, GasLimit: *gas, TxOptions: sdk.TxOptions{Wait: f.wait}})
		if err != nil {
			return err
		}
		out := map[string]any{"tx": res}
		var (
			o    *sdk.Outcome
			cr   *sdk.CommandOutcome
			rerr error
		)
		if res.OK() {
			if o, err = c.WaitOutcome(ctx, res); err != nil {
				return err
			}
			out["outcome"] = o
			// The message's result, from a worker, as the sender. The
			// command is on chain whatever happens here: a failure to read
			// it is reported, not the command's error.
			var wk *sdk.Worker
			if wk, rerr = workerOf(ctx, c, *worker, &mc.addr, sdk.Hash{}); rerr == nil {
				cr, rerr = c.CommandResult(ctx, key, wk, o)
			}
			if rerr != nil {
				out["resultError"] = rerr.Error()
			} else {
				out["result"] = commandResultJSON(mc, cr)
			}
		}
		if *f.output == "json" {
			if err := printJSON(w, out); err != nil {
				return err
			}
		} else {
			printTx(w, "call", res)
			if o != nil {
				fmt.Fprintf(w, "  command     %s\n  gas used    %d of %d\n", o.CommandID, o.GasUsed, *gas)
			}
			if rerr != nil {
				fmt.Fprintf(w, "  result      not read: %v\n", rerr)
			} else if cr != nil {
				printCommandResult(w, mc, cr)
			}
		}
		return txFailed(res)
	}
	return cmd
}

func newContractQueryMsgCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "query ADDRESS MESSAGE [ARGS…]",
		Short: "Run a contract message read-only on a worker (signed by --from, encrypted) and decode its answer",
		Example: `  cella contract query 5Dfis6Xg… get --metadata flipper.json --from //Alice
  cella contract query 5Dfis6Xg… balance_of 5FHneW46… --metadata erc20.json --worker http://worker:8000 --output json`,
		Args: cobra.MinimumNArgs(2),
	}
	metaPath := cmd.Flags().String("metadata", "", "the contract's metadata (.contract or .json)")
	value := cmd.Flags().String("value", "", "base units transferred to the contract in the dry run")
	worker := workerFlag(cmd)
	f := addChainFlags(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		mc, err := parseMessageCall(args, *metaPath)
		if err != nil {
			return err
		}
		v, err := parseAmount("value", *value)
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		key, c, err := f.signer(ctx, cmd)
		if err != nil {
			return err
		}
		return queryAndPrint(ctx, cmd.OutOrStdout(), *f.output, c, key, *worker, mc, sdk.QueryOptions{Value: v})
	}
	return cmd
}

func newContractLogsCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "logs ADDRESS",
		Short: "Print a contract's log lines (pink `log`) from a worker; only its deployer may read them",
		Long: `Print the lines a contract logged with the pink extension's log function on one
worker of its cluster. Lines are kept in the worker's memory, in a bounded ring
per contract (the oldest go first); they are never on chain. The request is
signed by --from and encrypted: the worker answers the contract's deployer only.`,
		Example: `  cella contract logs 5Dfis6Xg… --from //Alice
  cella contract logs 5Dfis6Xg… --from //Alice --follow
  cella contract logs 5Dfis6Xg… --from //Alice --after 120 --output json`,
		Args: cobra.ExactArgs(1),
	}
	follow := cmd.Flags().Bool("follow", false, "keep printing new lines as they come (until interrupted)")
	after := cmd.Flags().Uint64("after", 0, "print the lines after this sequence number")
	interval := cmd.Flags().Duration("interval", time.Second, "how often --follow asks the worker")
	worker := workerFlag(cmd)
	f := addChainFlags(cmd, false)
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		addr, err := sdk.ParseAddress(args[0])
		if err != nil {
			return fmt.Errorf("contract address: %w", err)
		}
		if *interval <= 0 {
			return fmt.Errorf("--interval must be positive")
		}
		setup, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		key, c, err := f.signer(setup, cmd)
		if err != nil {
			return err
		}
		wk, err := workerOf(setup, c, *worker, &addr, sdk.Hash{})
		if err != nil {
			return err
		}
		w := cmd.OutOrStdout()
		next := *after
		for {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			page, err := c.ContractLogs(ctx, key, wk, addr, next, 0)
			cancel()
			if err != nil {
				return err
			}
			if *f.output == "json" {
				if *follow {
					for _, l := range page.Lines {
						if err := printJSONLine(w, l); err != nil {
							return err
						}
					}
				} else if err := printJSON(w, page); err != nil {
					return err
				}
			} else {
				for _, l := range page.Lines {
					src := "cmd  "
					if l.InQuery {
						src = "query"
					}
					fmt.Fprintf(w, "%6d  #%-8d %s %-5s %s\n", l.Seq, l.Block, src, l.Level, l.Message)
				}
			}
			next = page.Next
			if !*follow {
				return nil
			}
			if len(page.Lines) > 0 {
				continue // more may be waiting
			}
			select {
			case <-cmd.Context().Done():
				return nil
			case <-time.After(*interval):
			}
		}
	}
	return cmd
}
