package cli

import (
	"strings"
	"testing"

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
