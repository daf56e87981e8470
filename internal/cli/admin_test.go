package cli

import (
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/state/phat"
)

func TestParseClusterID(t *testing.T) {
	for in, want := range map[string][32]byte{
		"0":                                    phat.ClusterID(0),
		"7":                                    phat.ClusterID(7),
		"0x" + strings.Repeat("00", 31) + "05": phat.ClusterID(5),
	} {
		if got, err := parseClusterID(in); err != nil || got != want {
			t.Errorf("%s: %x %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "0x12", "abc", "0x" + strings.Repeat("zz", 32)} {
		if _, err := parseClusterID(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

// TestAdminArgs: bad arguments fail before any node is contacted.
func TestAdminArgs(t *testing.T) {
	for _, args := range [][]string{
		{"admin", "gatekeeper", "add", "nope", "--from", "//Alice"},
		{"admin", "cluster", "create", "--owner", "//Alice", "--worker", "0x01", "--from", "//Alice"},
		{"admin", "cluster", "create", "--owner", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "--permission", "all", "--worker", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "--from", "//Alice"},
		{"admin", "cluster", "add-worker", "x", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", "--from", "//Alice"},
		{"admin", "gatekeeper", "add", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"}, // no signer
	} {
		t.Setenv("CELLA_SURI", "")
		_, err := runCmdErr(t, append(args, "--node", "http://127.0.0.1:1")...)
		if err == nil || strings.Contains(err.Error(), "cannot reach") {
			t.Errorf("%v: %v", args, err)
		}
	}
}

func TestParseKeyGrace(t *testing.T) {
	for in, want := range map[string]uint32{"0": 0, "100": 100, "4294967295": 4294967295} {
		if got, err := parseKeyGrace(in); err != nil || got != want {
			t.Errorf("%s: %d %v", in, got, err)
		}
	}
	for _, in := range []string{"", "-1", "4294967296", "1.5", "0x10", "ten"} {
		if _, err := parseKeyGrace(in); err == nil {
			t.Errorf("%q parsed", in)
		}
	}
}

// TestRotationArgs: bad arguments to the rotation commands fail before any
// node is contacted, under admin and gov propose alike.
func TestRotationArgs(t *testing.T) {
	for _, pre := range [][]string{{"admin"}, {"gov", "propose"}} {
		for _, args := range [][]string{
			{"rotate-master-key", "now", "--from", "//Alice"},
			{"key-grace", "--from", "//Alice"},
			{"key-grace", "-1", "--from", "//Alice"},
			{"key-grace", "4294967296", "--from", "//Alice"},
			{"key-grace", "10", "20", "--from", "//Alice"},
			{"rotate-master-key"}, // no signer
		} {
			t.Setenv("CELLA_SURI", "")
			args = append(append(slices.Clone(pre), args...), "--node", "http://127.0.0.1:1")
			_, err := runCmdErr(t, args...)
			if err == nil || strings.Contains(err.Error(), "cannot reach") {
				t.Errorf("%v: %v", args, err)
			}
		}
	}
}

// TestRotationOnNode sends the rotation commands to a dev node (which has
// no gatekeeper): key-grace is set (its event says so), rotate-master-key
// reaches gatekeeper.rotate_master_key, which refuses with no master key
// (code 91), and both can be proposed to governance, where the council
// approves them and their enactment dispatches them.
func TestRotationOnNode(t *testing.T) {
	ctx, node := startJSONNode(t)
	out := runCmd(t, append([]string{"admin", "key-grace", "40", "--from", "//Alice", "--wait"}, node...)...)
	if !strings.Contains(out, `"key_grace"`) || !strings.Contains(out, `"40"`) {
		t.Fatalf("key-grace: %s", out)
	}
	_, err := runCmdErr(t, append([]string{"admin", "rotate-master-key", "--from", "//Alice", "--wait"}, node...)...)
	if err == nil || !strings.Contains(err.Error(), "code 91") {
		t.Fatalf("rotate-master-key without a master key: %v", err)
	}
	runCmd(t, append([]string{"gov", "propose", "key-grace", "7", "--from", "//Alice", "--wait"}, node...)...)
	runCmd(t, append([]string{"gov", "propose", "rotate-master-key", "--from", "//Bob", "--wait"}, node...)...)
	for id, call := range []string{"gatekeeper.set_key_grace", "gatekeeper.rotate_master_key"} {
		runCmd(t, append([]string{"gov", "vote", strconv.Itoa(id), "aye", "--from", "//Charlie", "--wait"}, node...)...)
		var p chainapi.ProposalInfo
		waitFor(ctx, t, call+" enacted", func() bool {
			if err := json.Unmarshal([]byte(runCmd(t, append([]string{"gov", "show", strconv.Itoa(id)}, node...)...)), &p); err != nil {
				t.Fatal(err)
			}
			return p.Status == "enacted" || p.Status == "failed"
		})
		if p.Call != call {
			t.Fatalf("proposal %d: %+v", id, p)
		}
		// The rotation is enacted and fails on this chain: no master key.
		want := map[int][2]string{0: {"enacted", "ok"}, 1: {"failed", "gk_no_master_key"}}[id]
		if p.Status != want[0] || p.ResultName != want[1] {
			t.Fatalf("proposal %d %s with %q, want %s with %q", id, p.Status, p.ResultName, want[0], want[1])
		}
	}
}
