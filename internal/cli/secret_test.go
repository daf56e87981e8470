package cli

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
)

// testMnemonic is a valid BIP39 phrase that is not the dev phrase.
const testMnemonic = "legal winner thank year wave sausage worth useful legal winner thank yellow"

func TestArgvSecretWarning(t *testing.T) {
	dev := &chainapi.ChainInfo{ChainID: "cella-dev", Dev: true}
	prod := &chainapi.ChainInfo{ChainID: "cella-main"}
	for _, x := range []struct {
		suri  string
		chain *chainapi.ChainInfo
		warn  string // "" for no warning
	}{
		{"//Alice", nil, ""},
		{"//Alice", dev, ""},
		{"//Bob//stash", dev, ""},
		{keys.DevPhrase + "//Alice", dev, ""},
		{"//Alice", prod, `chain "cella-main" is not a dev chain`},
		{"//Alice///secret", nil, "other users"},
		{"//Alice///secret", dev, "other users"},
		{testMnemonic, nil, "other users"},
		{testMnemonic, dev, "other users"},
		{testMnemonic + "//0", prod, "other users"},
		{"0x" + strings.Repeat("ab", 32), dev, "other users"},
		{"not a valid uri at all", nil, "other users"},
	} {
		got := argvSecretWarning("--from", x.suri, secretSources("from-file"), x.chain)
		if x.warn == "" {
			if got != "" {
				t.Errorf("%q on %v: unexpected warning %q", x.suri, x.chain, got)
			}
			continue
		}
		if !strings.Contains(got, x.warn) || !strings.Contains(got, "--from-file or the CELLA_SURI") || !strings.Contains(got, "--from") {
			t.Errorf("%q on %v: warning %q, want %q and the safer sources", x.suri, x.chain, got, x.warn)
		}
		if strings.Contains(got, x.suri) {
			t.Errorf("the warning repeats the secret: %q", got)
		}
	}
}

func TestKeysArgvWarnings(t *testing.T) {
	const warn = "other users of this machine"
	for _, x := range []struct {
		name string
		env  string // CELLA_SURI
		args []string
		warn bool
	}{
		{"sign dev key", "", []string{"keys", "sign", "--suri", "//Alice", "--message", "m"}, false},
		{"sign mnemonic", "", []string{"keys", "sign", "--suri", testMnemonic, "--message", "m"}, true},
		{"sign mnemonic from env", testMnemonic, []string{"keys", "sign", "--message", "m"}, false},
		{"sign mnemonic from file", "", []string{"keys", "sign", "--suri-file", writeFile(t, testMnemonic), "--message", "m"}, false},
		{"inspect dev key", "", []string{"keys", "inspect", "//Alice"}, false},
		{"inspect mnemonic", "", []string{"keys", "inspect", testMnemonic}, true},
		{"inspect seed", "", []string{"keys", "inspect", "0x" + strings.Repeat("ab", 32)}, true},
		{"inspect address", "", []string{"keys", "inspect", aliceAddr}, false},
		{"inspect public", "", []string{"keys", "inspect", "--public", "0x" + strings.Repeat("ab", 32)}, false},
		{"inspect from env", testMnemonic, []string{"keys", "inspect"}, false},
	} {
		t.Run(x.name, func(t *testing.T) {
			noEnvSecret(t)
			if x.env != "" {
				t.Setenv(suriEnv, x.env)
			}
			_, errOut, err := runCella(t, x.args...)
			if err != nil {
				t.Fatal(err)
			}
			if got := strings.Contains(errOut, warn); got != x.warn {
				t.Fatalf("warning %v, want %v; stderr %q", got, x.warn, errOut)
			}
		})
	}
}

// fakeChainNode answers /chain with info and fails every other call.
func fakeChainNode(t *testing.T, info chainapi.ChainInfo) *httptest.Server {
	ci, _ := json.Marshal(info)
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct {
			ID     json.RawMessage   `json:"id"`
			Method string            `json:"method"`
			Params map[string]string `json:"params"`
		}
		_ = json.NewDecoder(r.Body).Decode(&req)
		w.Header().Set("Content-Type", "application/json")
		if req.Method == "abci_query" && req.Params["path"] == chainapi.PathChain {
			_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"result":{"response":{"code":0,"value":"` + base64.StdEncoding.EncodeToString(ci) + `"}}}`))
			return
		}
		_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":` + string(req.ID) + `,"error":{"code":-32603,"message":"fake node","data":"no"}}`))
	}))
}

func TestNodeCommandArgvWarnings(t *testing.T) {
	const warn = "other users of this machine"
	to := aliceAddr
	for _, x := range []struct {
		name   string
		dev    bool
		envVar string // set to the secret instead of passing it
		args   []string
		warn   bool
	}{
		{"transfer dev key on dev chain", true, "", []string{"tx", "transfer", "--from", "//Alice"}, false},
		{"transfer dev key on other chain", false, "", []string{"tx", "transfer", "--from", "//Alice"}, true},
		{"transfer mnemonic on dev chain", true, "", []string{"tx", "transfer", "--from", testMnemonic}, true},
		{"transfer mnemonic from CELLA_SURI", false, "CELLA_SURI", []string{"tx", "transfer"}, false},
		{"transfer mnemonic from CELLA_FROM", false, "CELLA_FROM", []string{"tx", "transfer"}, false},
		{"bench default funder on other chain", false, "", []string{"bench", "transfers"}, false},
		{"bench dev funder on dev chain", true, "", []string{"bench", "transfers", "--funder", "//Bob"}, false},
		{"bench dev funder on other chain", false, "", []string{"bench", "transfers", "--funder", "//Bob"}, true},
		{"bench mnemonic funder", true, "", []string{"bench", "transfers", "--funder", testMnemonic}, true},
		{"bench mnemonic from CELLA_FUNDER", true, "CELLA_FUNDER", []string{"bench", "transfers"}, false},
	} {
		t.Run(x.name, func(t *testing.T) {
			noEnvSecret(t)
			srv := fakeChainNode(t, chainapi.ChainInfo{ChainID: "c", Dev: x.dev, GenesisHash: "0x" + strings.Repeat("00", 32)})
			defer srv.Close()
			args := append(x.args, "--node", srv.URL)
			if x.args[0] == "tx" {
				args = append(args, "--to", to, "--amount", "1")
			} else {
				args = append(args, "--duration", "1s", "--senders", "1", "--workers", "1")
			}
			if x.envVar != "" {
				t.Setenv(x.envVar, testMnemonic)
			}
			_, errOut, _ := runCella(t, args...) // the fake node fails the command later
			if got := strings.Contains(errOut, warn); got != x.warn {
				t.Fatalf("warning %v, want %v; stderr %q", got, x.warn, errOut)
			}
		})
	}
}
