package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/devnet"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/sdk"
)

func TestParseAmountAndSalt(t *testing.T) {
	for _, s := range []string{"-1", "1.5", "0x10", "abc", "340282366920938463463374607431768211456"} {
		if _, err := parseAmount("value", s); err == nil {
			t.Errorf("amount %q accepted", s)
		}
	}
	if v, err := parseAmount("value", "340282366920938463463374607431768211455"); err != nil || v.BitLen() != 128 {
		t.Errorf("max amount: %v %v", v, err)
	}
	if v, err := parseAmount("value", ""); err != nil || v != nil {
		t.Errorf("empty amount: %v %v", v, err)
	}
	for in, want := range map[string]string{"": "", "0x0102": "\x01\x02", "abc": "abc", "0x": ""} {
		if b, err := parseSalt(in); err != nil || string(b) != want {
			t.Errorf("salt %q: %q %v", in, b, err)
		}
	}
	for _, s := range []string{"0xzz", strings.Repeat("a", sdk.MaxSaltLen+1)} {
		if _, err := parseSalt(s); err == nil {
			t.Errorf("salt %q accepted", s)
		}
	}
}

// TestContractChainArgs checks the argument handling that fails before
// any network access.
func TestContractChainArgs(t *testing.T) {
	noEnvSecret(t)
	dir := t.TempDir()
	meta := filepath.Join(dir, "flipper.json")
	wasm := filepath.Join(dir, "flipper.wasm")
	os.WriteFile(meta, testcontracts.Metadata("flipper"), 0o644)
	os.WriteFile(wasm, testcontracts.Wasm("flipper"), 0o644)
	bun := bundle(t, "flipper")
	alice := "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	node := "http://127.0.0.1:1" // nothing listens: these must fail first
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"upload", meta, "--from", "//Alice"}, "has no code"},
		{[]string{"upload", bun, "--cluster", "0xzz", "--from", "//Alice"}, "--cluster"},
		{[]string{"upload", bun}, "no secret given"},
		{[]string{"upload", bun, "--from", "//Alice", "--output", "yaml"}, "--output"},
		{[]string{"instantiate", wasm, "--from", "//Alice"}, "needs --metadata"},
		{[]string{"instantiate", bun, "--constructor", "nope", "--from", "//Alice"}, "nope"},
		{[]string{"instantiate", bun, "--args", "1", "--from", "//Alice"}, "bool"},
		{[]string{"instantiate", bun, "--args", "true", "--value", "-3", "--from", "//Alice"}, "--value"},
		{[]string{"instantiate", bun, "--args", "true", "--salt", "0xq", "--from", "//Alice"}, "--salt"},
		{[]string{"instantiate", bun, "--args", "true", "--storage-deposit-limit", "x", "--from", "//Alice"}, "--storage-deposit-limit"},
		{[]string{"call", alice, "flip", "--from", "//Alice"}, "--metadata is required"},
		{[]string{"call", "nope", "flip", "--metadata", meta, "--from", "//Alice"}, "contract address"},
		{[]string{"call", alice, "flop", "--metadata", meta, "--from", "//Alice"}, "flop"},
		{[]string{"call", alice, "get", "3", "--metadata", meta, "--from", "//Alice"}, "takes 0 arguments"},
		{[]string{"call", alice}, "requires at least 2"},
		{[]string{"query", alice, "get", "--metadata", meta}, "no secret given"},
		{[]string{"query", alice, "get", "--metadata", meta, "--from", "not a uri"}, "--from"},
	}
	for _, tc := range tests {
		_, err := runContract(t, append(tc.args, "--node", node)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: error %v, want %q", tc.args, err, tc.want)
		}
	}
}

// TestContractCommandsDevnet runs the contract commands against an
// in-process dev network: upload and instantiate flipper (the chain's
// record becomes instantiated, with the cluster's published key), an
// encrypted call and a query that sees it, and a dry run.
func TestContractCommandsDevnet(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	noEnvSecret(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cfg := devnet.Config{
		Home: t.TempDir(), ChainID: "cella-cli-contract",
		Node: node.ConfigOptions{Moniker: "t", BlockTime: 30 * time.Millisecond, EmptyBlocks: true,
			RPCAddr: nodetest.FreeURL(t), P2PAddr: nodetest.FreeURL(t), Loopback: true},
		Worker: devnet.WorkerConfig{PublicAddr: nodetest.FreeAddr(t), PollInterval: 50 * time.Millisecond},
	}
	n, err := devnet.Start(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer n.Close()
	waitFor(ctx, t, "cluster 0's key", func() bool { return len(n.Worker.Runtime.Info().Clusters) == 1 })
	rpc, worker := cfg.Node.RPCAddr, "http://"+n.Worker.PublicAddr
	suri := writeFile(t, "//Alice")
	bun := bundle(t, "flipper")

	run := func(args ...string) map[string]json.RawMessage {
		t.Helper()
		out, err := runContract(t, append(args, "--node", rpc, "--from-file", suri, "--output", "json")...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		var m map[string]json.RawMessage
		if err := json.Unmarshal([]byte(out), &m); err != nil {
			t.Fatalf("%v: %s", args, out)
		}
		return m
	}
	// instantiate uploads the code the chain lacks, then waits for the
	// cluster to run the constructor.
	m := run("instantiate", bun, "--args", "false", "--salt", "cli", "--wait")
	if m["upload"] == nil {
		t.Fatal("instantiate did not upload the missing code")
	}
	var addr sdk.Address
	var ci sdk.ContractInfo
	if json.Unmarshal(m["address"], &addr) != nil || json.Unmarshal(m["contract"], &ci) != nil {
		t.Fatalf("instantiate output %s", m)
	}
	c, _ := sdk.Connect(rpc)
	rec, err := c.Contract(ctx, addr)
	if err != nil || rec.State != sdk.ContractInstantiated || rec.Pubkey == nil || ci.State != sdk.ContractInstantiated {
		t.Fatalf("chain's contract record %+v %v (command said %+v)", rec, err, ci)
	}
	// A dry run of the constructor sends nothing.
	m = run("instantiate", bun, "--args", "true", "--salt", "0x02", "--dry-run", "--worker", worker)
	var dryAddr sdk.Address
	if json.Unmarshal(m["address"], &dryAddr) != nil || string(m["reverted"]) != "false" || string(m["gasRequired"]) == "0" {
		t.Fatalf("instantiate dry run output %s", m)
	}
	if _, err := c.Contract(ctx, dryAddr); err == nil {
		t.Fatal("the dry run created the contract")
	}
	if _, err := runContract(t, "instantiate", bun, "--args", "true", "--dry-run", "--cluster", "1", "--worker", worker, "--node", rpc, "--from-file", suri); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Fatalf("dry run in a cluster that does not exist: %v", err)
	}
	// A second instance of the same code: no upload.
	if m := run("instantiate", bun, "--args", "true", "--salt", "0x02", "--wait"); m["upload"] != nil {
		t.Fatal("instantiate uploaded code the chain has")
	}
	// upload of code the cluster has succeeds and changes nothing.
	if m := run("upload", bun, "--wait"); !strings.Contains(string(m["codeHash"]), sdk.CodeHash(testcontracts.Wasm("flipper")).Hex()) {
		t.Fatalf("upload output %s", m)
	}

	// Without --worker: a worker of the contract's cluster from the
	// chain's registry (the dev worker records its endpoint once
	// registered).
	waitFor(ctx, t, "the worker's endpoint on chain", func() bool {
		_, err := c.ContractWorker(ctx, addr)
		return err == nil
	})
	get := func() string {
		m := run("query", addr.Hex(), "get", "--metadata", bun)
		return string(m["value"])
	}
	if v := get(); v != "false" {
		t.Fatalf("get = %s", v)
	}
	m = run("call", addr.String(), "flip", "--metadata", bun, "--wait", "--gas", "1000000000")
	var o sdk.Outcome
	if json.Unmarshal(m["outcome"], &o) != nil || !o.Reported || o.GasUsed == 0 || o.GasUsed > 1_000_000_000 {
		t.Fatalf("call output %s", m)
	}
	var cr struct {
		Status  string          `json:"status"`
		GasUsed uint64          `json:"gasUsed"`
		Value   json.RawMessage `json:"value"`
		Events  []any           `json:"events"`
	}
	if json.Unmarshal(m["result"], &cr) != nil || cr.Status != "success" || cr.GasUsed != o.GasUsed || string(cr.Value) != "null" || cr.Events == nil {
		t.Fatalf("call result %s", m)
	}
	waitFor(ctx, t, "the flip in the worker's state", func() bool { return get() == "true" })
	// get as a command, in text: the sender reads its output.
	out, err := runContract(t, "call", addr.String(), "get", "--metadata", bun, "--wait", "--worker", worker, "--node", rpc, "--from-file", suri)
	if err != nil || !strings.Contains(out, "result      success") || !strings.Contains(out, "output      true") {
		t.Fatalf("get command: %v\n%s", err, out)
	}
	m = run("call", addr.String(), "flip", "--metadata", bun, "--dry-run", "--worker", worker)
	var gas uint64
	if json.Unmarshal(m["gasRequired"], &gas) != nil || gas == 0 {
		t.Fatalf("dry run output %s", m)
	}
	if v := get(); v != "true" {
		t.Fatalf("the dry run changed the contract: get = %s", v)
	}
}

// TestContractChainArgvWarning: a real secret given with --from draws the
// warning; the same secret from --from-file does not.
func TestContractChainArgvWarning(t *testing.T) {
	noEnvSecret(t)
	meta := filepath.Join(t.TempDir(), "flipper.json")
	os.WriteFile(meta, testcontracts.Metadata("flipper"), 0o644)
	const seed = "0x1111111111111111111111111111111111111111111111111111111111111111"
	base := []string{"query", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "get", "--metadata", meta, "--node", "http://127.0.0.1:1", "--worker", "http://127.0.0.1:1", "--timeout", "2s"}
	out, err := runContract(t, append(base, "--from", seed)...)
	if err == nil || !strings.Contains(out, "warning:") || strings.Contains(out, seed) {
		t.Fatalf("argv secret: %v\n%s", err, out)
	}
	out, err = runContract(t, append(base, "--from-file", writeFile(t, seed))...)
	if err == nil || strings.Contains(out, "warning:") {
		t.Fatalf("file secret: %v\n%s", err, out)
	}
}

// TestCommandResultEvents: a command's events are printed decoded with the
// contract's metadata, in text and JSON; one that does not match (another
// contract's, an unknown topic) keeps its raw form with the reason.
func TestCommandResultEvents(t *testing.T) {
	md, err := sdk.ParseMetadata(testcontracts.Metadata("events"))
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := sdk.ParseHash("0xa9b5224022eaec9887e6689e1a28326393c63d4a7a564fa7932177c960dca558")
	mc := &messageCall{addr: sdk.Address{0xee}, md: md, name: "emit"}
	r := &sdk.CommandOutcome{Output: []byte{0}, GasUsed: 872, Events: []sdk.Event{
		{Contract: mc.addr, Topics: []sdk.Hash{sig, {7}}, Data: []byte{7, 0, 0, 0}},
		{Contract: sdk.Address{0xcc}, Topics: []sdk.Hash{sig}, Data: []byte{8, 0, 0, 0}},
		{Contract: mc.addr, Topics: []sdk.Hash{{1}}, Data: []byte{9}},
	}}
	var text strings.Builder
	printCommandResult(&text, mc, r)
	lines := strings.Split(text.String(), "\n")
	want := []string{`  event 0     Emitted {"value":7}`, "another contract", "no event matches"}
	var evLines []string
	for _, l := range lines {
		if strings.HasPrefix(l, "  event ") {
			evLines = append(evLines, l)
		}
	}
	if len(evLines) != 3 || evLines[0] != want[0] || !strings.Contains(evLines[1], want[1]) || !strings.Contains(evLines[1], "data 0x08000000") ||
		!strings.Contains(evLines[2], want[2]) || !strings.Contains(evLines[2], "data 0x09") {
		t.Fatalf("text:\n%s", text.String())
	}

	b, err := json.Marshal(commandResultJSON(mc, r))
	if err != nil {
		t.Fatal(err)
	}
	var j struct {
		Events []struct {
			Name        string          `json:"name"`
			Args        json.RawMessage `json:"args"`
			Data        string          `json:"data"`
			DecodeError string          `json:"decodeError"`
		} `json:"events"`
	}
	if err := json.Unmarshal(b, &j); err != nil || len(j.Events) != 3 {
		t.Fatalf("json %s: %v", b, err)
	}
	if e := j.Events[0]; e.Name != "Emitted" || string(e.Args) != `{"value":7}` || e.Data != "0x07000000" || e.DecodeError != "" {
		t.Fatalf("event 0: %+v", e)
	}
	for i, e := range j.Events[1:] {
		if e.Name != "" || e.Args != nil || !strings.Contains(e.DecodeError, want[i+1]) {
			t.Fatalf("event %d: %+v", i+1, e)
		}
	}
}
