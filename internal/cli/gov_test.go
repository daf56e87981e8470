package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/nodetest"

	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/registry"
)

// TestGovArgs: bad arguments fail before any node is contacted.
func TestGovArgs(t *testing.T) {
	for _, args := range [][]string{
		{"gov", "propose", "measurement", "allow", "0x12", "--from", "//Alice"},
		{"gov", "propose", "validator", "set", "0x01", "10", "--from", "//Alice"},
		{"gov", "propose", "council", "set", "--member", "//Alice", "--threshold", "2", "--from", "//Alice"},
		{"gov", "propose", "council", "set", "--member", "//Alice", "--member", "//Alice", "--threshold", "1", "--from", "//Alice"},
		{"gov", "propose", "params", "set", `{"max_block_weight":1}`, "--from", "//Alice"},
		{"gov", "propose", "params", "set", `{"nope":1}`, "--from", "//Alice"},
		{"gov", "propose", "upgrade", "schedule", "x", "2", "--from", "//Alice"},
		{"gov", "propose", "call", "balances.transfer", "--from", "//Alice"},
		{"gov", "propose", "call", "registry.allow_measurement", "0x12", "--from", "//Alice"},
		{"gov", "vote", "x", "aye", "--from", "//Bob"},
		{"gov", "vote", "0", "maybe", "--from", "//Bob"},
		{"gov", "vote", "0", "aye", "--stake", "-1", "--from", "//Bob"},
		{"gov", "show", "x"},
		{"admin", "remove-admin", "extra", "--from", "//Alice"},
	} {
		t.Setenv("CELLA_SURI", "")
		_, err := runCmdErr(t, append(args, "--node", "http://127.0.0.1:1")...)
		if err == nil || strings.Contains(err.Error(), "cannot reach") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestPrivilegedCallByName(t *testing.T) {
	h := [32]byte{1, 2, 3}
	got, err := privilegedCallByName("registry.allow_measurement", h[:])
	if want := registry.AllowMeasurementCall(h); err != nil || got.Module != want.Module || got.Method != want.Method || !bytes.Equal(got.Args, want.Args) {
		t.Fatalf("%+v %v", got, err)
	}
	if got, err := privilegedCallByName("admin.remove", nil); err != nil || got.Module != admin.Index || got.Method != admin.MethodRemove {
		t.Fatalf("%+v %v", got, err)
	}
	for _, name := range []string{"admin.sudo", "balances.transfer", "nope", "registry.allow_measurement"} {
		if _, err := privilegedCallByName(name, nil); err == nil {
			t.Errorf("%s accepted", name)
		}
	}
}

// TestGovOnNode drives governance through the CLI on a dev node: //Alice
// proposes a measurement, //Bob approves, show and list report it enacted
// and the allow-list holds it; a referendum is proposed and voted on.
func TestGovOnNode(t *testing.T) {
	ctx, node := startJSONNode(t)
	h := "0x" + strings.Repeat("ab", 32)
	out := runCmd(t, append([]string{"gov", "propose", "measurement", "allow", h, "--from", "//Alice", "--wait"}, node...)...)
	if !strings.Contains(out, `"gov_proposed"`) {
		t.Fatalf("propose: %s", out)
	}
	runCmd(t, append([]string{"gov", "vote", "0", "aye", "--from", "//Bob", "--wait"}, node...)...)
	var p chainapi.ProposalInfo
	waitFor(ctx, t, "the enactment", func() bool {
		if err := json.Unmarshal([]byte(runCmd(t, append([]string{"gov", "show", "0"}, node...)...)), &p); err != nil {
			t.Fatal(err)
		}
		return p.Status == "enacted"
	})
	if p.Call != "registry.allow_measurement" || p.ResultName != "ok" || len(p.Votes) != 2 {
		t.Fatalf("proposal %+v", p)
	}
	var g chainapi.GovInfo
	if err := json.Unmarshal([]byte(runCmd(t, append([]string{"gov", "list"}, node...)...)), &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Proposals) != 1 || !slices.Contains(g.Measurements, h) || len(g.Council) != 3 {
		t.Fatalf("gov list: %+v", g)
	}
	// A referendum by //Dave, an aye stake from //Eve.
	runCmd(t, append([]string{"gov", "propose", "measurement", "disallow", h, "--referendum", "--from", "//Dave", "--wait"}, node...)...)
	runCmd(t, append([]string{"gov", "vote", "1", "aye", "--stake", "5000000000000", "--from", "//Eve", "--wait"}, node...)...)
	if err := json.Unmarshal([]byte(runCmd(t, append([]string{"gov", "show", "1"}, node...)...)), &p); err != nil {
		t.Fatal(err)
	}
	if p.Kind != "referendum" || p.Ayes != "5000000000000" || p.Deposit != "10000000000000" {
		t.Fatalf("referendum %+v", p)
	}
	// A referendum vote without a stake is refused with its code.
	_, err := runCmdErr(t, append([]string{"gov", "vote", "1", "aye", "--from", "//Dave", "--wait"}, node...)...)
	if err == nil || !strings.Contains(err.Error(), "code 107") {
		t.Fatalf("stake-less referendum vote: %v", err)
	}
}

// TestUpgradeThroughCLI: the council schedules app version 2 through
// `gov propose upgrade schedule`; once the chain passed the height, `gov
// list` shows app version 2 and the past upgrade, `status` the version, and `admin upgrade cancel` (a v2 call) reaches the chain's
// gov.cancel_upgrade, which finds nothing scheduled.
func TestUpgradeThroughCLI(t *testing.T) {
	ctx, node := startJSONNode(t)
	var st struct {
		Height     int64  `json:"height"`
		AppVersion uint64 `json:"appVersion"`
	}
	if err := json.Unmarshal([]byte(runCmd(t, append([]string{"status"}, node...)...)), &st); err != nil || st.AppVersion != 1 {
		t.Fatalf("status: %+v %v", st, err)
	}
	// Proposal, vote and the enactment delay take a few blocks; the
	// height leaves room for many more.
	h := st.Height + 80
	runCmd(t, append([]string{"gov", "propose", "upgrade", "schedule", strconv.FormatInt(h, 10), "2", "--from", "//Alice", "--wait"}, node...)...)
	runCmd(t, append([]string{"gov", "vote", "0", "aye", "--from", "//Bob", "--wait"}, node...)...)
	var g chainapi.GovInfo
	waitFor(ctx, t, "the upgrade", func() bool {
		g = chainapi.GovInfo{} // absent fields must not keep an earlier poll's values
		if err := json.Unmarshal([]byte(runCmd(t, append([]string{"gov", "list"}, node...)...)), &g); err != nil {
			t.Fatal(err)
		}
		return g.AppVersion == 2
	})
	if g.Upgrade != nil || len(g.PastUpgrades) != 1 || g.PastUpgrades[0] != (chainapi.PastUpgradeInfo{Height: uint64(h), From: 1, AppVersion: 2}) || g.Proposals[0].ResultName != "ok" {
		t.Fatalf("gov list: %+v", g)
	}
	if err := json.Unmarshal([]byte(runCmd(t, append([]string{"status"}, node...)...)), &st); err != nil || st.AppVersion != 2 {
		t.Fatalf("status: %+v %v", st, err)
	}
	text := runCmd(t, "gov", "list", node[0], node[1])
	if !strings.Contains(text, "app version   2") || !strings.Contains(text, "upgraded      app version 1 to 2 after height "+strconv.FormatInt(h, 10)) {
		t.Fatalf("gov list:\n%s", text)
	}
	_, err := runCmdErr(t, append([]string{"admin", "upgrade", "cancel", "--from", "//Alice", "--wait"}, node...)...)
	if err == nil || !strings.Contains(err.Error(), "code 117") {
		t.Fatalf("cancel with nothing scheduled: %v", err)
	}
}

// startJSONNode starts a dev node for a test (skipped with -short) and
// returns a context that ends with the test (at most 2 minutes) and the
// flags pointing a command at the node with JSON output.
func startJSONNode(t *testing.T) (context.Context, []string) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	o := nodetest.Options(t)
	nodetest.Start(t, t.TempDir(), o)
	return ctx, []string{"--node", o.RPCAddr, "--output", "json"}
}
