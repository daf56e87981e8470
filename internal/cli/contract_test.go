package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/sandbox"
	"github.com/cella-network/cella/internal/contract/testcontracts"
)

// bundle writes name.contract (metadata with source.wasm) into a temp dir.
func bundle(t *testing.T, name string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(testcontracts.Metadata(name), &m); err != nil {
		t.Fatal(err)
	}
	m["source"].(map[string]any)["wasm"] = "0x" + hex.EncodeToString(testcontracts.Wasm(name))
	b, _ := json.Marshal(m)
	p := filepath.Join(t.TempDir(), name+".contract")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func runContract(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newContractCmd()
	var out bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&out)
	cmd.SetArgs(args)
	err := cmd.Execute()
	return out.String(), err
}

func TestContractSandboxFlipper(t *testing.T) {
	p := bundle(t, "flipper")
	out, err := runContract(t, "sandbox", p, "--exec", "new(false)", "--exec", "flip()", "--exec", "get()", "--exec", "nope", "--output", "json")
	if err == nil || !strings.Contains(err.Error(), `no message "nope"`) {
		t.Fatalf("bad message: %v", err)
	}
	out, err = runContract(t, "sandbox", p, "--exec", "new(false)", "--exec", "flip()", "--exec", "get()", "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res []map[string]json.RawMessage
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res) != 3 || string(res[2]["value"]) != "true" || string(res[1]["success"]) != "true" {
		t.Fatalf("%s", out)
	}
	for _, r := range res {
		if len(r) != 7 {
			t.Fatalf("keys: %v", r)
		}
		for _, k := range []string{"call", "success", "reverted", "value", "events", "gasUsed", "debug"} {
			if _, ok := r[k]; !ok {
				t.Fatalf("missing %s", k)
			}
		}
	}
	// Same run twice: identical output (determinism).
	out2, _ := runContract(t, "sandbox", p, "--exec", "new(false)", "--exec", "flip()", "--exec", "get()", "--output", "json")
	if out != out2 {
		t.Fatal("sandbox output not deterministic")
	}
}

func TestContractSandboxERC20(t *testing.T) {
	p := bundle(t, "erc20")
	out, err := runContract(t, "sandbox", p, "--exec", "new(1000)",
		"--exec", `transfer("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", 10)`,
		"--exec", `balance_of("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY")`,
		"--exec", `transfer("5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty", 100000)`, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var res []sandbox.Result
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatal(err)
	}
	if string(res[2].Value) != "990" || len(res[1].Events) != 1 || !res[3].Reverted ||
		compact(res[3].Value) != `{"Err":"InsufficientBalance"}` {
		t.Fatalf("%s", out)
	}
	want := `{"name":"Transfer","args":{"from":"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY","to":"5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty","value":10}}`
	if compact(res[1].Events[0]) != want {
		t.Fatalf("event %s", res[1].Events[0])
	}
}

func TestContractRawInspectEncodeDecode(t *testing.T) {
	dir := t.TempDir()
	w := filepath.Join(dir, "flipper.wasm")
	os.WriteFile(w, testcontracts.Wasm("flipper"), 0o644)
	out, err := runContract(t, "sandbox", w, "--raw", "deploy=0x9bae9d5e01", "--raw", "call=0x2f865bd9", "--raw", "call=0xdeadbeef")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "call=0x2f865bd9: flags=0 data=0x0001") || !strings.Contains(out, "flags=1 data=0x0101") {
		t.Fatalf("%s", out)
	}
	p := bundle(t, "erc20")
	out, err = runContract(t, "inspect", p)
	if err != nil || !strings.Contains(out, "0x84a15da1  transfer(to: AccountId, value: u128) -> Result<(), Error>") {
		t.Fatalf("%v\n%s", err, out)
	}
	out, err = runContract(t, "encode", p, "balance_of(\"0x"+strings.Repeat("01", 32)+"\")")
	if err != nil || strings.TrimSpace(out) != "0x0f755a56"+strings.Repeat("01", 32) {
		t.Fatalf("%v %s", err, out)
	}
	out, err = runContract(t, "decode", p, "total_supply", "0x00e8030000000000000000000000000000")
	if err != nil || strings.TrimSpace(out) != "1000" {
		t.Fatalf("%v %s", err, out)
	}
	if _, err := runContract(t, "decode", p, "total_supply", "0x0101"); err == nil {
		t.Fatal("LangError not reported")
	}
	if _, err := runContract(t, "sandbox", w, "--raw", "deploy=0xzz"); err == nil {
		t.Fatal("bad hex accepted")
	}
	bad := filepath.Join(dir, "float.wasm")
	os.WriteFile(bad, testcontracts.Wasm("float"), 0o644)
	if _, err := runContract(t, "sandbox", bad, "--raw", "deploy=0x"); err == nil || !strings.Contains(err.Error(), "floating-point") {
		t.Fatalf("float code: %v", err)
	}
}

func compact(b []byte) string {
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		return string(b)
	}
	return out.String()
}
