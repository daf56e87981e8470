package sandbox

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/metadata"
	"github.com/cella-network/cella/internal/contract/testcontracts"
)

var alice = engine.AccountID{1, 2, 3}

func flipper(t *testing.T) (*Sandbox, *metadata.Metadata) {
	t.Helper()
	md, err := metadata.Parse(testcontracts.Metadata("flipper"))
	if err != nil {
		t.Fatal(err)
	}
	sb, err := New(context.Background(), testcontracts.Wasm("flipper"), Config{Caller: alice})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sb.Close() })
	return sb, md
}

func TestExec(t *testing.T) {
	sb, md := flipper(t)
	if _, ok := sb.Address(); ok {
		t.Fatal("address before deploy")
	}
	res, err := sb.Exec(md, []string{"new(false)", "flip()", "get()"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 3 || !res[0].Success || !res[1].Success || string(res[2].Value) != "true" || res[2].GasUsed == 0 {
		t.Fatalf("%+v", res)
	}
	if _, ok := sb.Address(); !ok {
		t.Fatal("no address after deploy")
	}
	// Results are data: they survive a JSON round trip unchanged.
	b, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	var back []Result
	if err := json.Unmarshal(b, &back); err != nil || !reflect.DeepEqual(back, res) {
		t.Fatalf("round trip: %v\n%s", err, b)
	}
	// A second sandbox gives the same results, gas included.
	sb2, _ := flipper(t)
	res2, err := sb2.Exec(md, []string{"new(false)", "flip()", "get()"})
	if err != nil || !reflect.DeepEqual(res, res2) {
		t.Fatalf("not deterministic: %v\n%+v\n%+v", err, res, res2)
	}
	// An expression that does not encode stops the run.
	if _, err := sb.Exec(md, []string{"new(false)", "nope()"}); err == nil || !strings.Contains(err.Error(), `"nope()"`) {
		t.Fatalf("bad message: %v", err)
	}
}

func TestExecRaw(t *testing.T) {
	sb, md := flipper(t)
	// A call before any deploy fails cleanly.
	if o := sb.Call(nil); !errors.Is(o.Err, ErrNotDeployed) {
		t.Fatalf("call before deploy: %v", o.Err)
	}
	ctor, err := md.Constructor("new")
	if err != nil {
		t.Fatal(err)
	}
	get, err := md.Message("get")
	if err != nil {
		t.Fatal(err)
	}
	var ins []RawInput
	for _, s := range []string{"deploy=0x" + hex.EncodeToString(append(ctor.Selector[:], 1)), "call=" + hex.EncodeToString(get.Selector[:])} {
		in, err := ParseRaw(s)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, in)
	}
	res := sb.ExecRaw(ins)
	if len(res) != 2 || !res[0].Success || res[1].Data != "0x0001" || res[1].Flags != 0 || res[1].Error != "" {
		t.Fatalf("%+v", res)
	}
}

func TestParseRaw(t *testing.T) {
	for _, c := range []struct {
		in     string
		deploy bool
		input  string
		err    string
	}{
		{in: "deploy=0x9bae9d5e01", deploy: true, input: "9bae9d5e01"},
		{in: "call=2f865bd9", input: "2f865bd9"},
		{in: "call=", input: ""},
		{in: "call=0xzz", err: "not hex"},
		{in: "query=0x00", err: "want deploy=0xHEX or call=0xHEX"},
		{in: "0x00", err: "want deploy=0xHEX or call=0xHEX"},
	} {
		r, err := ParseRaw(c.in)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err = %v, want %q", c.in, err, c.err)
			}
			continue
		}
		if err != nil || r.Deploy != c.deploy || hex.EncodeToString(r.Input) != c.input || r.Label != c.in {
			t.Errorf("%s: %+v %v", c.in, r, err)
		}
	}
}

func TestRejectedCode(t *testing.T) {
	// The defect-3 module: a data section declaring 0xFFFFFFF0 segments.
	code := []byte{
		0x00, 0x61, 0x73, 0x6D, 0x01, 0x00, 0x00, 0x00,
		0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
		0x02, 0x0F, 0x01, 0x03, 0x65, 0x6E, 0x76, 0x06, 0x6D, 0x65, 0x6D, 0x6F, 0x72, 0x79, 0x02, 0x00, 0x01,
		0x03, 0x03, 0x02, 0x00, 0x00,
		0x07, 0x11, 0x02, 0x06, 0x64, 0x65, 0x70, 0x6C, 0x6F, 0x79, 0x00, 0x00, 0x04, 0x63, 0x61, 0x6C, 0x6C, 0x00, 0x01,
		0x0A, 0x07, 0x02, 0x02, 0x00, 0x0B, 0x02, 0x00, 0x0B,
		0x0B, 0x05, 0xF0, 0xFF, 0xFF, 0xFF, 0x0F,
	}
	_, err := New(context.Background(), code, Config{Caller: alice})
	if !errors.Is(err, engine.ErrCodeRejected) || !strings.Contains(err.Error(), "data segments exceed the limit") {
		t.Fatalf("err = %v", err)
	}
	// Without the data section the same module is accepted.
	sb, err := New(context.Background(), code[:len(code)-7], Config{Caller: alice})
	if err != nil {
		t.Fatal(err)
	}
	_ = sb.Close()
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	wasmFile := filepath.Join(dir, "flipper.wasm")
	metaFile := filepath.Join(dir, "flipper.json")
	var m map[string]any
	if err := json.Unmarshal(testcontracts.Metadata("flipper"), &m); err != nil {
		t.Fatal(err)
	}
	m["source"].(map[string]any)["wasm"] = "0x" + hex.EncodeToString(testcontracts.Wasm("flipper"))
	bundle, _ := json.Marshal(m)
	bundleFile := filepath.Join(dir, "flipper.contract")
	for p, b := range map[string][]byte{wasmFile: testcontracts.Wasm("flipper"), metaFile: testcontracts.Metadata("flipper"), bundleFile: bundle} {
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := testcontracts.Wasm("flipper")
	for _, c := range []struct {
		f      Files
		hasMD  bool
		errStr string
	}{
		{f: Files{Bundle: bundleFile}, hasMD: true},
		{f: Files{Bundle: wasmFile}},
		{f: Files{Wasm: wasmFile, Metadata: metaFile}, hasMD: true},
		{f: Files{Bundle: bundleFile, Wasm: wasmFile}, hasMD: true},
		{f: Files{Metadata: metaFile}, errStr: "no code"},
		{f: Files{}, errStr: "no code"},
		{f: Files{Bundle: filepath.Join(dir, "missing.contract")}, errStr: "no such file"},
		{f: Files{Bundle: wasmFile, Metadata: wasmFile}, errStr: "flipper.wasm"},
	} {
		code, md, err := Load(c.f)
		if c.errStr != "" {
			if err == nil || !strings.Contains(err.Error(), c.errStr) {
				t.Errorf("%+v: err = %v, want %q", c.f, err, c.errStr)
			}
			continue
		}
		if err != nil || string(code) != string(want) || (md != nil) != c.hasMD {
			t.Errorf("%+v: code %d bytes, md %v, err %v", c.f, len(code), md != nil, err)
		}
	}
}
