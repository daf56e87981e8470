package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/balances"
)

// safeBuffer is a bytes.Buffer that a running command may write to while
// the test reads it.
type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startDevCmd runs `cella dev` in-process until the returned stop is called.
// The web app is off unless extra turns it on ("--web-addr", addr).
func startDevCmd(t *testing.T, home, rpc, p2p, pr string, extra ...string) (stop func(), out *safeBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out = &safeBuffer{}
	root := newRootCmd()
	root.SetArgs(append([]string{"dev", "--home", home, "--block-time", "50ms", "--rpc-addr", "tcp://" + rpc,
		"--p2p-addr", "tcp://" + p2p, "--pruntime-addr", pr, "--metrics-addr", "", "--log-level", "error", "--web-addr", ""}, extra...))
	root.SetOut(out)
	root.SetErr(out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(ctx) }()
	return func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("cella dev: %v", err)
		}
	}, out
}

// runCmd runs one cella command and returns its standard output.
func runCmd(t *testing.T, args ...string) string {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	if err := root.ExecuteContext(context.Background()); err != nil {
		t.Fatalf("cella %s: %v\n%s", strings.Join(args, " "), err, errOut.String())
	}
	return out.String()
}

// runCmdErr runs one cella command and returns its standard output and error.
func runCmdErr(t *testing.T, args ...string) (string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetArgs(args)
	root.SetOut(&out)
	root.SetErr(&errOut)
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func waitFor(ctx context.Context, t *testing.T, what string, cond func() bool) {
	t.Helper()
	nodetest.WaitFor(ctx, t, what, 50*time.Millisecond, cond)
}

// TestDevCommand runs `cella dev` as a user would: the chain makes blocks,
// the in-process worker registers and announces itself through pherry, a
// transfer shows in the balance, and after a restart the chain, the balance
// and the worker continue.
func TestDevCommand(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole dev network")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	rpc, p2p, pr := nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	extraM := "0x" + strings.Repeat("ab", 32)
	stop, out := startDevCmd(t, home, rpc, p2p, pr, "--allow-measurement", extraM)
	node := "http://" + rpc
	c, err := client.New(node)
	if err != nil {
		t.Fatal(err)
	}
	var worker keys.PublicKey
	waitFor(ctx, t, "the worker's registration and egress", func() bool {
		ws, err := c.Workers(ctx)
		if err != nil || len(ws) != 1 {
			return false
		}
		id, err := keys.ParseAccount(ws[0].IdentityPublicKey)
		if err != nil {
			t.Fatal(err)
		}
		worker = id
		seq, err := c.NextSequence(ctx, msg.OriginWorker(id))
		return err == nil && seq >= 1
	})
	if !strings.Contains(out.String(), "Cella dev network") {
		t.Fatalf("no banner in:\n%s", out.String())
	}

	// --allow-measurement reached the genesis allow-list.
	if g, err := os.ReadFile(filepath.Join(home, "config", "genesis.json")); err != nil || !strings.Contains(string(g), extraM) {
		t.Fatalf("genesis lacks %s (%v)", extraM, err)
	}
	// A second cella dev on the same home is refused, naming it and the PID.
	if _, err := runCmdErr(t, "dev", "--home", home, "--rpc-addr", nodetest.FreeAddr(t), "--p2p-addr", nodetest.FreeAddr(t)); err == nil ||
		!strings.Contains(err.Error(), home+" is in use") || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) {
		t.Fatalf("second cella dev: %v", err)
	}
	// The transfer prints its fee; query tx shows the same result.
	var sent txView
	if err := json.Unmarshal([]byte(runCmd(t, "tx", "transfer", "--node", rpc, "--from", "//Alice", "--to", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "--amount", "1000", "--wait", "--output", "json")), &sent); err != nil {
		t.Fatal(err)
	}
	if sent.Status != "success" || sent.Fee == "" || sent.Fee == "0" || sent.GasUsed <= 0 || len(sent.Events) == 0 || sent.Height <= 0 {
		t.Fatalf("transfer --wait: %+v", sent)
	}
	var got txView
	if err := json.Unmarshal([]byte(runCmd(t, "query", "tx", sent.Hash, "--node", node, "--output", "json")), &got); err != nil {
		t.Fatal(err)
	}
	if got.Hash != sent.Hash || got.Fee != sent.Fee || got.Height != sent.Height || got.Result != "ok" || got.Events[0].Type != "transfer" {
		t.Fatalf("query tx %+v, sent %+v", got, sent)
	}
	if a := got.Events[0].Attributes; a[0].Key != "from" || a[0].Value != "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" {
		t.Fatalf("transfer event %+v", a)
	}
	txt := runCmd(t, "query", "tx", strings.ToUpper(sent.Hash[2:]), "--node", node, "--units")
	if !strings.Contains(txt, "fee          "+sent.Fee+" (") || !strings.Contains(txt, " CELL)") || !strings.Contains(txt, "result       0 ok") {
		t.Fatalf("query tx text:\n%s", txt)
	}
	// A transfer that fails in its block exits 3 and still shows the fee.
	var sb, eb bytes.Buffer
	// CheckTx judges against committed state, so a second transfer that
	// the first leaves unfunded passes it and, when both land in one block,
	// fails there. (When the first is committed before the second is
	// included, recheck drops the second: try again.)
	charlie, err := keys.FromURI("//Charlie")
	if err != nil {
		t.Fatal(err)
	}
	var fv txView
	var failedOut string
	for attempt := 1; ; attempt++ {
		acc, err := c.Account(ctx, charlie.Public())
		if err != nil {
			t.Fatal(err)
		}
		bal, ok := new(big.Int).SetString(acc.Free, 10)
		if !ok {
			t.Fatal(acc.Free)
		}
		half := new(big.Int).Rsh(bal, 1)
		amt, err := scale.U128FromBig(new(big.Int).Add(half, big.NewInt(1)))
		if err != nil {
			t.Fatal(err)
		}
		first, err := c.Build(ctx, charlie, balances.TransferCall(mustAccount(t, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"), amt), client.TxOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Submit(ctx, first); err != nil {
			t.Fatal(err)
		}
		sb.Reset()
		eb.Reset()
		code := run(ctx, []string{"tx", "transfer", "--node", node, "--from", "//Charlie", "--to", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
			"--amount", half.String(), "--nonce", fmt.Sprint(acc.Nonce + 1), "--wait", "--timeout", "3s", "-o", "json"}, &sb, &eb)
		failedOut = sb.String()
		if code == ExitTxFailed {
			if err := json.Unmarshal(sb.Bytes(), &fv); err != nil || fv.Status != "failed" || fv.Fee == "" || fv.Result != "insufficient_balance" {
				t.Fatalf("failed transfer: %v, %+v, stdout %s stderr %s", err, fv, failedOut, eb.String())
			}
			t.Logf("a transfer failed in its block on attempt %d", attempt)
			break
		}
		// Otherwise the second was refused or dropped: exit 1 or 5.
		if (code != ExitError && code != ExitTimeout) || attempt == 8 {
			t.Fatalf("failed transfer, attempt %d: exit %d, stdout %s stderr %s", attempt, code, failedOut, eb.String())
		}
		if _, err := c.Wait(ctx, client.TxHash(first.Encode())); err != nil {
			t.Fatal(err)
		}
	}
	if strings.Contains(failedOut, `"error"`) {
		t.Fatalf("failed transfer: stdout is not the one result:\n%s", failedOut)
	}

	// A transfer CheckTx refuses is tx_rejected (exit 1).
	sb.Reset()
	code := run(ctx, []string{"tx", "transfer", "--node", node, "--from", "//Bob", "--to", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", "--amount", "999999999999999999999999", "--wait", "-o", "json"}, &sb, &eb)
	if code != ExitError || !strings.Contains(sb.String(), `"code": "tx_rejected"`) {
		t.Fatalf("rejected transfer: exit %d, %s", code, sb.String())
	}
	// An unknown transaction is not_found.
	sb.Reset()
	code = run(ctx, []string{"query", "tx", "0x" + strings.Repeat("11", 32), "--node", node, "-o", "json"}, &sb, &eb)
	if code != ExitError || !strings.Contains(sb.String(), `"code": "not_found"`) {
		t.Fatalf("unknown tx: exit %d, %s", code, sb.String())
	}
	// status names both versions.
	if st := runCmd(t, "status", "--node", node); !strings.Contains(st, "node version   cella 0.") || !strings.Contains(st, "cometbft 0.38") {
		t.Fatalf("status:\n%s", st)
	}
	var bal struct{ Free string }
	if err := json.Unmarshal([]byte(runCmd(t, "query", "balance", "--node", node, "--output", "json", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty")), &bal); err != nil {
		t.Fatal(err)
	}
	want := "1000000000000001000"
	if bal.Free != want {
		t.Fatalf("Bob's balance %s, want %s", bal.Free, want)
	}
	// The dev bootstrap made the worker a gatekeeper and the worker of
	// cluster 0; the worker generated the master key, keyed cluster 0 for
	// itself through the chain, and says so in pruntime info.
	var gks chainapi.GatekeepersInfo
	var c0 chainapi.ClusterInfo
	var info pruntimeInfo
	waitFor(ctx, t, "the master key and cluster 0's key", func() bool {
		gks, c0, info = chainapi.GatekeepersInfo{}, chainapi.ClusterInfo{}, pruntimeInfo{}
		if err := json.Unmarshal([]byte(runCmd(t, "query", "gatekeepers", "--node", node, "--output", "json")), &gks); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(runCmd(t, "query", "cluster", "0", "--node", node, "--output", "json")), &c0); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(runCmd(t, "pruntime", "info", "--endpoint", "http://"+pr, "--output", "json")), &info); err != nil {
			t.Fatal(err)
		}
		return gks.MasterPubkey != "" && len(c0.Keyed) == 1 && info.MasterPublicKey != "" && len(info.Clusters) == 1
	})
	if len(gks.Gatekeepers) != 1 || gks.Gatekeepers[0] != (chainapi.GatekeeperInfo{Identity: worker.Hex(), Active: true}) ||
		gks.MasterEpoch != 0 || len(gks.MasterHistory) != 1 || gks.MasterHistory[0].Pubkey != gks.MasterPubkey {
		t.Fatalf("gatekeepers %+v", gks)
	}
	if c0.ID != "0x"+strings.Repeat("0", 64) || c0.Pubkey == "" || c0.Epoch != 0 ||
		len(c0.Workers) != 1 || c0.Workers[0] != worker.Hex() || c0.Keyed[0] != worker.Hex() {
		t.Fatalf("cluster 0 %+v", c0)
	}
	if !info.Gatekeeper || info.MasterPublicKey != gks.MasterPubkey ||
		info.Clusters[0].ID != c0.ID || info.Clusters[0].Epoch != 0 || info.Clusters[0].PublicKey != c0.Pubkey || len(info.Clusters[0].StateRoot) != 66 {
		t.Fatalf("pruntime info %+v; chain: master %s, cluster 0 %+v", info, gks.MasterPubkey, c0)
	}
	// The worker recorded its public API on chain.
	waitFor(ctx, t, "the worker's endpoint in the registry", func() bool {
		return strings.Contains(runCmd(t, "query", "workers", "--node", node), "endpoint      http://"+pr+"\n")
	})
	if txt := runCmd(t, "pruntime", "info", "--endpoint", "http://"+pr); !strings.Contains(txt, "state root   0x") {
		t.Fatalf("pruntime info without the cluster state root:\n%s", txt)
	}
	// The worker reports cluster 0's state root every interval; the chain
	// records it as agreed (the worker is the only keyed one).
	runCmd(t, "admin", "cluster", "report-interval", "0", "2", "--node", node, "--from", "//Alice", "--wait")
	waitFor(ctx, t, "an agreed cluster state root", func() bool {
		c0 = chainapi.ClusterInfo{}
		if err := json.Unmarshal([]byte(runCmd(t, "query", "cluster", "0", "--node", node, "--output", "json")), &c0); err != nil {
			t.Fatal(err)
		}
		return c0.ReportInterval == 2 && c0.LastAgreed != nil && c0.LastAgreed.Height%2 == 0
	})
	if txt := runCmd(t, "query", "cluster", "0", "--node", node); !strings.Contains(txt, "state root every 2 blocks") ||
		!strings.Contains(txt, "agreed root 0x") || strings.Contains(txt, "DIVERGENCE") {
		t.Fatalf("query cluster 0:\n%s", txt)
	}
	// The admin (//Alice) creates cluster 1; anyone else is refused.
	if _, err := runCmdErr(t, "admin", "gatekeeper", "remove", worker.Hex(), "--node", node, "--from", "//Bob", "--wait"); err == nil || !strings.Contains(err.Error(), "not the admin") {
		t.Fatalf("sudo by Bob: %v", err)
	}
	runCmd(t, "admin", "cluster", "create", "--node", node, "--from", "//Alice", "--owner", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "--permission", "owner", "--worker", worker.Hex(), "--wait")
	var cs []chainapi.ClusterInfo
	if err := json.Unmarshal([]byte(runCmd(t, "query", "clusters", "--node", node, "--output", "json")), &cs); err != nil || len(cs) != 2 ||
		cs[0].Workers[0] != worker.Hex() || cs[1].Permission != "owner" {
		t.Fatalf("clusters %+v %v", cs, err)
	}
	var c1 chainapi.ClusterInfo
	if err := json.Unmarshal([]byte(runCmd(t, "query", "cluster", "1", "--node", node, "--output", "json")), &c1); err != nil || c1.ID != cs[1].ID {
		t.Fatalf("cluster 1 %+v %v", c1, err)
	}
	// No contracts yet: an empty list, a missing contract, a missing cluster.
	var cts []chainapi.ContractInfo
	if err := json.Unmarshal([]byte(runCmd(t, "query", "contracts", "--cluster", "1", "--node", node, "--output", "json")), &cts); err != nil || cts == nil || len(cts) != 0 {
		t.Fatalf("contracts %+v %v", cts, err)
	}
	if out := runCmd(t, "query", "contracts", "--node", node); !strings.Contains(out, "no contracts") {
		t.Fatalf("contracts: %q", out)
	}
	if _, err := runCmdErr(t, "query", "contract", "0x"+strings.Repeat("00", 32), "--node", node); err == nil || !strings.Contains(err.Error(), "no contract") {
		t.Fatalf("missing contract: %v", err)
	}
	if code, out, _ := runMain(t, "query", "contract", "0x"+strings.Repeat("00", 32), "--node", node, "-o", "json"); code != ExitError || !strings.Contains(out, `"code": "not_found"`) {
		t.Fatalf("missing contract: exit %d %s", code, out)
	}
	if _, err := runCmdErr(t, "query", "contracts", "--cluster", "7", "--node", node); err == nil || !strings.Contains(err.Error(), "no cluster") {
		t.Fatalf("missing cluster: %v", err)
	}
	info = pruntimeInfo{}
	if err := json.Unmarshal([]byte(runCmd(t, "pruntime", "info", "--endpoint", "http://"+pr, "--output", "json")), &info); err != nil {
		t.Fatal(err)
	}
	if !info.Initialized || !info.Registered || info.TEEProvider != "dev" || info.IdentityPublicKey != worker.Hex() ||
		info.Operator != "5CiPPseXPECbkjWCa6MnjNokrgYjMqmKndv2rSnekmSK2DjL" { // //Ferdie
		t.Fatalf("pruntime info %+v", info)
	}
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	stop()

	stop, _ = startDevCmd(t, home, rpc, p2p, pr)
	defer stop()
	// A new client: connections kept alive to the stopped node's RPC server
	// would still be answered by it (CometBFT closes only its listener).
	c, err = client.New(node)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, "blocks after the restart", func() bool {
		ci2, err := c.ChainInfo(ctx)
		return err == nil && ci2.Height > ci.Height+2
	})
	if err := json.Unmarshal([]byte(runCmd(t, "query", "balance", "--node", node, "--output", "json", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty")), &bal); err != nil {
		t.Fatal(err)
	}
	if bal.Free != want {
		t.Fatalf("after restart Bob's balance %s, want %s", bal.Free, want)
	}
	waitFor(ctx, t, "the restarted worker to catch up", func() bool {
		var in pruntimeInfo
		out := runCmd(t, "pruntime", "info", "--endpoint", "http://"+pr, "--output", "json")
		return json.Unmarshal([]byte(out), &in) == nil && in.IdentityPublicKey == worker.Hex() && in.HeaderHeight > ci.Height
	})
}

func mustAccount(t *testing.T, s string) keys.PublicKey {
	t.Helper()
	k, err := keys.ParseAccount(s)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
