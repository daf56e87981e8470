package pruntime

import (
	"encoding/hex"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/oracletest"
)

// TestOracleSDKQuery runs @phala/sdk's own client against a live
// in-process pRuntime: createPruntimeClient(url).getInfo() and queries
// built, signed, encrypted and decoded by the SDK's pinkQuery path
// (testdata/sdk-query.mjs). It needs node and a copy of
// ../shared/oracle/phala with node_modules, named by CELLA_PHALA_ORACLE
// (read only; see internal/oracletest), and skips otherwise.
func TestOracleSDKQuery(t *testing.T) {
	dir := oracletest.Dir(t)
	w := newQueryWorld(t)
	r := queryRuntime(t, w)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	script, err := os.ReadFile(filepath.Join("testdata", "sdk-query.mjs"))
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "sdk-query.mjs")
	if err := os.WriteFile(tmp, script, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := oracletest.RunNode(t, dir, nil, tmp, srv.URL, "0x"+hex.EncodeToString(w.flipper[:]), "0x"+hex.EncodeToString(w.flipCode[:]))
	if err != nil {
		t.Fatalf("node: %v (stderr logged above)", err)
	}
	t.Logf("SDK: %s", out)
	var got struct {
		Info struct {
			Initialized      bool   `json:"initialized"`
			EcdhPublicKey    string `json:"ecdhPublicKey"`
			PublicKey        string `json:"publicKey"`
			Blocknum         uint32 `json:"blocknum"`
			GenesisBlockHash string `json:"genesisBlockHash"`
			DevMode          bool   `json:"devMode"`
		} `json:"info"`
		GetNonceOK bool `json:"get_nonce_ok"`
		Get        struct {
			OK          bool   `json:"ok"`
			Flags       uint32 `json:"flags"`
			Data        string `json:"data"`
			GasConsumed string `json:"gasConsumed"`
		} `json:"get"`
		Instantiate struct {
			OK        bool   `json:"ok"`
			AccountID string `json:"accountId"`
		} `json:"instantiate"`
		Unknown struct {
			IsErr bool            `json:"isErr"`
			Err   json.RawMessage `json:"err"`
		} `json:"unknown"`
		WrongKey   string `json:"wrong_key"`
		RandomLeft int    `json:"random_left"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	in := r.Info()
	if !got.Info.Initialized || got.Info.EcdhPublicKey != hex.EncodeToString(in.EcdhPublicKey[:]) ||
		got.Info.PublicKey != hex.EncodeToString(in.IdentityPublicKey[:]) || got.Info.Blocknum != uint32(in.Height+1) ||
		got.Info.GenesisBlockHash != hex.EncodeToString(in.GenesisHash[:]) || !got.Info.DevMode {
		t.Errorf("getInfo: %+v", got.Info)
	}
	if !got.GetNonceOK || !got.Get.OK || got.Get.Flags != 0 || got.Get.Data != "0x0000" || got.Get.GasConsumed == "0" {
		t.Errorf("get(): %+v (nonce echoed %v)", got.Get, got.GetNonceOK)
	}
	alice, _ := keys.FromURI("//Alice")
	want := engine.ContractAddress(engine.AccountID(alice.Public()), w.flipCode, []byte{0x9b, 0xae, 0x9d, 0x5e, 1}, []byte{1, 2})
	if !got.Instantiate.OK || got.Instantiate.AccountID != "0x"+hex.EncodeToString(want[:]) {
		t.Errorf("instantiate: %+v, want account 0x%x", got.Instantiate, want)
	}
	if !got.Unknown.IsErr || !strings.Contains(string(got.Unknown.Err), "contract not found: 0x9999") {
		t.Errorf("unknown contract: %+v", got.Unknown)
	}
	if !strings.HasPrefix(got.WrongKey, "PrpcError: ") || !strings.Contains(got.WrongKey, "decryption failed") {
		t.Errorf("query to another worker's key: %q", got.WrongKey)
	}
	if got.RandomLeft != 0 {
		t.Errorf("%d queued random draws unused", got.RandomLeft)
	}
}
