package cli

import (
	"bytes"
	"strings"
	"testing"

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
