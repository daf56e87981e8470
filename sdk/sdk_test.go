package sdk_test

import (
	"encoding/json"
	"errors"
	"math/big"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/sdk"
)

func TestContractAddressMatchesChain(t *testing.T) {
	alice, err := sdk.KeyFromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	code, cl, salt := sdk.CodeHash([]byte{1, 2}), sdk.ClusterID(3), []byte("s")
	if got, want := sdk.ContractAddress(alice.Address(), code, cl, salt), msg.ContractID(keys.PublicKey(alice.Address()), code, cl, salt); [32]byte(got) != want {
		t.Fatalf("%x != %x", got, want)
	}
	if alice.String() != "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" || strings.Contains(alice.String(), "0x") {
		t.Fatalf("address %s", alice)
	}
}

func TestParse(t *testing.T) {
	for _, s := range []string{"", "0x12", "5Grw", "zz"} {
		if _, err := sdk.ParseAddress(s); err == nil {
			t.Errorf("ParseAddress(%q) accepted", s)
		}
		if _, err := sdk.ParseHash(s); err == nil {
			t.Errorf("ParseHash(%q) accepted", s)
		}
	}
	a, err := sdk.ParseAddress("5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY")
	if err != nil {
		t.Fatal(err)
	}
	if b, err := sdk.ParseAddress(a.Hex()); err != nil || b != a {
		t.Fatal("hex round trip")
	}
	if h, err := sdk.ParseHash(sdk.Hash{7}.Hex()); err != nil || h != (sdk.Hash{7}) {
		t.Fatal("hash round trip")
	}
}

func TestMetadataEncodeDecode(t *testing.T) {
	md, err := sdk.ParseMetadata(testcontracts.Metadata("flipper"))
	if err != nil {
		t.Fatal(err)
	}
	if md.Code() != nil {
		t.Fatal("plain metadata has no code")
	}
	tests := []struct {
		name   string
		ctor   bool
		args   []string
		errSub string
	}{
		{"new", true, []string{"true"}, ""},
		{"new", true, nil, "takes 1 arguments"},
		{"new", true, []string{"7"}, "bool"},
		{"nope", true, nil, "nope"},
		{"flip", false, nil, ""},
		{"get", false, []string{"1"}, "takes 0 arguments"},
	}
	for _, tc := range tests {
		var err error
		var data []byte
		if tc.ctor {
			data, err = md.EncodeConstructor(tc.name, tc.args...)
		} else {
			data, err = md.EncodeMessage(tc.name, tc.args...)
		}
		switch {
		case tc.errSub == "" && (err != nil || len(data) < 4):
			t.Errorf("%s%v: %x %v", tc.name, tc.args, data, err)
		case tc.errSub != "" && (err == nil || !strings.Contains(err.Error(), tc.errSub)):
			t.Errorf("%s%v: error %v, want %q", tc.name, tc.args, err, tc.errSub)
		}
	}
	if _, err := md.DecodeReturn("get", []byte{1, 0}); err == nil {
		t.Error("LangError output accepted")
	}
	if _, err := md.DecodeReturn("get", []byte{0, 1, 5}); err == nil {
		t.Error("trailing bytes accepted")
	}
	if _, err := sdk.ParseMetadata([]byte("{")); err == nil {
		t.Error("bad JSON accepted")
	}
}

func TestAmountBounds(t *testing.T) {
	c, err := sdk.Connect("http://127.0.0.1:1")
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := sdk.KeyFromURI("//Alice")
	huge := new(big.Int).Lsh(big.NewInt(1), 128)
	ctx := t.Context()
	if _, _, err := c.Instantiate(ctx, alice, sdk.Hash{}, nil, sdk.InstantiateOptions{Value: huge}); err == nil || !strings.Contains(err.Error(), "value") {
		t.Errorf("value 2^128: %v", err)
	}
	if _, _, err := c.Instantiate(ctx, alice, sdk.Hash{}, nil, sdk.InstantiateOptions{Salt: make([]byte, sdk.MaxSaltLen+1)}); err == nil {
		t.Error("long salt accepted")
	}
	if _, _, err := c.Upload(ctx, alice, nil, sdk.UploadOptions{}); err == nil {
		t.Error("empty code accepted")
	}
	if _, err := c.Call(ctx, alice, sdk.Address{}, nil, sdk.CallOptions{Plain: true, Value: big.NewInt(-1)}); err == nil {
		t.Error("negative value accepted")
	}
}

func TestJSON(t *testing.T) {
	type rec struct {
		A sdk.Address
		H sdk.Hash
	}
	alice, _ := sdk.KeyFromURI("//Alice")
	in := rec{A: alice.Address(), H: sdk.Hash{0xab}}
	b, err := json.Marshal(in)
	if err != nil || !strings.Contains(string(b), `"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"`) || !strings.Contains(string(b), `"0xab00`) {
		t.Fatalf("%s %v", b, err)
	}
	var out rec
	if err := json.Unmarshal(b, &out); err != nil || out != in {
		t.Fatalf("%+v %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"H":"0x12"}`), &out); err == nil {
		t.Fatal("short hash accepted")
	}
}

func TestCommandResultNeedsArguments(t *testing.T) {
	c, _ := sdk.Connect("http://127.0.0.1:1")
	if _, err := c.CommandResult(t.Context(), nil, nil, nil); err == nil || errors.Is(err, sdk.ErrNoOutcome) {
		t.Fatal(err)
	}
}

func TestDecodeEvent(t *testing.T) {
	evmd, err := sdk.ParseMetadata(testcontracts.Metadata("events")) // ink! 5
	if err != nil {
		t.Fatal(err)
	}
	erc20, err := sdk.ParseMetadata(testcontracts.Metadata("erc20")) // ink! 4
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := sdk.ParseHash("0xa9b5224022eaec9887e6689e1a28326393c63d4a7a564fa7932177c960dca558")
	to := sdk.Address{0xb0, 0xb}
	transfer := append([]byte{0, 0, 1}, to[:]...)                               // Transfer: from None, to Some
	transfer = append(transfer, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0) // value 5
	tests := []struct {
		name     string
		md       *sdk.Metadata
		ev       sdk.Event
		want     string // name and args, or "" for an error
		errorSub string
	}{
		{"ink5", evmd, sdk.Event{Topics: []sdk.Hash{sig, {7}}, Data: []byte{7, 0, 0, 0}}, `Emitted {"value":7}`, ""},
		{"ink5 unknown topic", evmd, sdk.Event{Topics: []sdk.Hash{{1}}, Data: []byte{7, 0, 0, 0}}, "", "no event matches"},
		{"ink5 no topics", evmd, sdk.Event{Data: []byte{7, 0, 0, 0}}, "", "no event matches"},
		{"ink5 short", evmd, sdk.Event{Topics: []sdk.Hash{sig}, Data: []byte{7, 0, 0}}, "", "Emitted"},
		{"ink5 trailing", evmd, sdk.Event{Topics: []sdk.Hash{sig}, Data: []byte{7, 0, 0, 0, 0}}, "", "Emitted"},
		{"ink4", erc20, sdk.Event{Data: transfer}, `Transfer {"from":null,"to":"` + to.String() + `","value":5}`, ""},
		{"ink4 index out of range", erc20, sdk.Event{Data: []byte{3}}, "", "out of range"},
		{"ink4 empty", erc20, sdk.Event{}, "", "empty"},
	}
	for _, tc := range tests {
		d, err := tc.md.DecodeEvent(tc.ev)
		switch {
		case tc.want != "" && (err != nil || d.Name+" "+string(d.Args) != tc.want):
			t.Errorf("%s: %+v %v, want %s", tc.name, d, err, tc.want)
		case tc.want == "" && (err == nil || !strings.Contains(err.Error(), tc.errorSub)):
			t.Errorf("%s: %+v %v, want an error with %q", tc.name, d, err, tc.errorSub)
		}
	}
}
