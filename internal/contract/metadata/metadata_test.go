package metadata

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/scale"
)

const aliceSS58 = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
const aliceHex = "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"

func TestSS58(t *testing.T) {
	a, err := DecodeSS58(aliceSS58)
	if err != nil || hex.EncodeToString(a[:]) != aliceHex {
		t.Fatalf("%x %v", a, err)
	}
	if EncodeSS58(a[:]) != aliceSS58 {
		t.Fatal("encode")
	}
	if _, err := DecodeSS58(aliceSS58[:len(aliceSS58)-1] + "Z"); err == nil {
		t.Fatal("bad checksum accepted")
	}
}

func load(t *testing.T, name string) *Metadata {
	t.Helper()
	m, err := Parse(testcontracts.Metadata(name))
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return m
}

func TestEncodeDecodeERC20(t *testing.T) {
	m := load(t, "erc20")
	if m.Version != 4 || !m.LangError || len(m.Messages) != 3 {
		t.Fatalf("%+v", m)
	}
	_, data, err := m.EncodeExpr(`transfer("`+aliceSS58+`", "340282366920938463463374607431768211455")`, false)
	if err != nil {
		t.Fatal(err)
	}
	if hex.EncodeToString(data) != "84a15da1"+aliceHex+strings.Repeat("ff", 16) {
		t.Fatalf("%x", data)
	}
	_, data, err = m.EncodeExpr(`new(1000)`, true)
	if err != nil || hex.EncodeToString(data) != "9bae9d5ee8030000000000000000000000000000" {
		t.Fatalf("%x %v", data, err)
	}
	for _, bad := range []string{`transfer(1, 2)`, `transfer("` + aliceSS58 + `", -1)`, `nope()`, `transfer(`, `new(1, 2)`} {
		if _, _, err := m.EncodeExpr(bad, strings.HasPrefix(bad, "new")); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	msg, _ := m.Message("balance_of")
	v, err := m.DecodeResult(msg, append([]byte{0}, make([]byte, 16)...))
	if err != nil || string(v) != "0" {
		t.Fatalf("%s %v", v, err)
	}
	big := append([]byte{0}, []byte{0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0}...) // 2^53
	if v, _ := m.DecodeResult(msg, big); string(v) != `"9007199254740992"` {
		t.Fatalf("2^53 = %s", v)
	}
	_, err = m.DecodeResult(msg, []byte{1, 1})
	var le *LangError
	if !errors.As(err, &le) || le.Value != "CouldNotReadInput" {
		t.Fatalf("lang error: %v", err)
	}
	tr, _ := m.Message("transfer")
	if v, err := m.DecodeResult(tr, []byte{0, 1, 0}); err != nil || string(v) != `{"Err":"InsufficientBalance"}` {
		t.Fatalf("%s %v", v, err)
	}
	if v, err := m.DecodeResult(tr, []byte{0, 0}); err != nil || string(v) != `{"Ok":null}` {
		t.Fatalf("%s %v", v, err)
	}
	if _, err := m.DecodeResult(tr, []byte{0, 0, 9}); err == nil {
		t.Fatal("trailing bytes accepted")
	}
	a, _ := hex.DecodeString(aliceHex)
	ev, err := m.DecodeEvent(nil, append(append([]byte{0, 0, 1}, a...), make([]byte, 16)...))
	if err != nil || ev.Name != "Transfer" || string(ev.Args) != `{"from":null,"to":"`+aliceSS58+`","value":0}` {
		t.Fatalf("%+v %v", ev, err)
	}
	if sig := m.Signature(tr); sig != "transfer(to: AccountId, value: u128) -> Result<(), Error>" {
		t.Fatalf("signature %q", sig)
	}
}

func TestV5Events(t *testing.T) {
	m := load(t, "events")
	if m.Version != 5 {
		t.Fatal(m.Version)
	}
	ev, err := m.DecodeEvent([][]byte{m.Events[0].SignatureTopic}, []byte{42, 0, 0, 0})
	if err != nil || string(ev.Args) != `{"value":42}` {
		t.Fatalf("%+v %v", ev, err)
	}
	if _, err := m.DecodeEvent([][]byte{make([]byte, 32)}, []byte{42, 0, 0, 0}); err == nil {
		t.Fatal("unknown topic accepted")
	}
}

func TestRegistryKinds(t *testing.T) {
	doc := `{"V3":{"spec":{"constructors":[],"messages":[{"label":"m","selector":"0x01020304","args":[{"label":"x","type":{"type":7,"displayName":["S"]}}],"returnType":{"type":7},"mutates":false,"payable":false,"docs":[]}],"events":[]},"storage":{},
	"types":[
	{"id":0,"type":{"def":{"primitive":"u8"}}},
	{"id":1,"type":{"def":{"sequence":{"type":0}}}},
	{"id":2,"type":{"def":{"primitive":"str"}}},
	{"id":3,"type":{"def":{"tuple":[0,2]}}},
	{"id":4,"type":{"def":{"compact":{"type":5}}}},
	{"id":5,"type":{"def":{"primitive":"u128"}}},
	{"id":6,"type":{"path":["E"],"def":{"variant":{"variants":[{"name":"A","index":0},{"name":"B","index":1,"fields":[{"type":0}]},{"name":"C","index":2,"fields":[{"name":"k","type":2}]}]}}}},
	{"id":7,"type":{"path":["S"],"def":{"composite":{"fields":[{"name":"bytes","type":1},{"name":"pair","type":3},{"name":"c","type":4},{"name":"e","type":8},{"name":"i","type":9}]}}}},
	{"id":8,"type":{"def":{"sequence":{"type":6}}}},
	{"id":9,"type":{"def":{"primitive":"i32"}}}
	]}}`
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := m.Message("m")
	arg := `{"bytes":"0x0102","pair":[7,"hé"],"c":"1000000000000","e":["A",{"B":5},{"C":{"k":"z"}}],"i":-2}`
	data, err := m.Encode(msg, []json.RawMessage{json.RawMessage(arg)})
	if err != nil {
		t.Fatal(err)
	}
	out, err := m.DecodeResult(msg, data[4:])
	want := strings.Replace(arg, `"1000000000000"`, `1000000000000`, 1)
	if err != nil || string(out) != want {
		t.Fatalf("%s %v\nwant %s", out, err, want)
	}
	// Truncations of valid data never decode (nor panic).
	for i := 0; i < len(data)-4; i++ {
		if _, err := m.DecodeResult(msg, data[4:4+i]); err == nil {
			t.Fatalf("prefix %d decoded", i)
		}
	}
	var w scale.Writer
	if err := m.Registry.EncodeJSON(6, json.RawMessage(`{"D":1}`), &w); err == nil {
		t.Fatal("unknown variant accepted")
	}
}

func TestUnsupportedVersion(t *testing.T) {
	for _, doc := range []string{`{"version":"9","spec":{},"types":[]}`, `{}`, `[]`, `{"V3":{"spec":{"messages":[{"label":"x","selector":"0x01","args":[]}]},"types":[]}}`} {
		if _, err := Parse([]byte(doc)); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}

func TestParseExpr(t *testing.T) {
	n, a, err := ParseExpr(` transfer("x", 10) `)
	if err != nil || n != "transfer" || len(a) != 2 {
		t.Fatal(n, a, err)
	}
	if n, a, err := ParseExpr("get"); err != nil || n != "get" || a != nil {
		t.Fatal(n, a, err)
	}
}

func TestAllTestMetadataParses(t *testing.T) {
	for _, n := range []string{"flipper", "erc20", "events", "reverter", "compute", "caller"} {
		m := load(t, n)
		for _, msg := range append(append([]*Message{}, m.Constructors...), m.Messages...) {
			_ = m.Signature(msg)
		}
	}
}
