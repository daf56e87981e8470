package sdk_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/tx"
	"github.com/cella-network/cella/sdk"
)

// TestGatekeeperCalls: the SDK's gatekeeper builders are the chain's
// gatekeeper calls, each with its own method and arguments.
func TestGatekeeperCalls(t *testing.T) {
	w := sdk.Address{7, 8, 9}
	for name, c := range map[string]struct {
		got  sdk.Call
		want tx.Call
	}{
		"add":      {sdk.AddGatekeeperCall(w), gatekeeper.AddCall(keys.PublicKey(w))},
		"remove":   {sdk.RemoveGatekeeperCall(w), gatekeeper.RemoveCall(keys.PublicKey(w))},
		"rotate":   {sdk.RotateMasterKeyCall(), gatekeeper.RotateMasterKeyCall()},
		"grace 40": {sdk.SetKeyGraceCall(40), gatekeeper.SetKeyGraceCall(40)},
	} {
		if c.got.Module != gatekeeper.Index || c.got.Method != c.want.Method || !bytes.Equal(c.got.Args, c.want.Args) {
			t.Errorf("%s: %+v, want %+v", name, c.got, c.want)
		}
	}
	if sdk.SetKeyGraceCall(40).Method != gatekeeper.MethodSetKeyGrace || !bytes.Equal(sdk.SetKeyGraceCall(40).Args, []byte{40, 0, 0, 0}) {
		t.Error("set_key_grace(40) is not method 3 with a u32 LE argument")
	}
	if sdk.RotateMasterKeyCall().Method != gatekeeper.MethodRotateMasterKey || len(sdk.RotateMasterKeyCall().Args) != 0 {
		t.Error("rotate_master_key is not method 2 without arguments")
	}
}
