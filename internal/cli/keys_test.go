package cli

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
)

const (
	aliceAddr = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	alicePub  = "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
	aliceSeed = "0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a"
	bobAddr   = "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"
)

// runCella runs the cella command line with args and returns what it printed.
func runCella(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	root := newRootCmd()
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	root.SetArgs(args)
	err := root.Execute()
	return out.String(), errOut.String(), err
}

// noEnvSecret unsets CELLA_SURI for the duration of the test.
func noEnvSecret(t *testing.T) {
	t.Setenv(suriEnv, "") // restores the old value after the test
	os.Unsetenv(suriEnv)
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "suri")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func mustContain(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(out, p) {
			t.Errorf("output lacks %q:\n%s", p, out)
		}
	}
}

func TestKeysInspectText(t *testing.T) {
	noEnvSecret(t)
	out, _, err := runCella(t, "keys", "inspect", "//Alice")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out,
		"Secret Key URI `//Alice` is account:",
		"  Secret seed:       "+aliceSeed+"\n",
		"  Public key (hex):  "+alicePub+"\n",
		"  Account ID:        "+alicePub+"\n",
		"  Public key (SS58): "+aliceAddr+"\n",
		"  SS58 Address:      "+aliceAddr+"\n")
	if strings.Contains(out, "Secret phrase") {
		t.Error("//Alice has no phrase of its own")
	}

	out, _, err = runCella(t, "keys", "inspect", keys.DevPhrase)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "Secret phrase:       "+keys.DevPhrase+"\n",
		"Secret seed:       0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e",
		"SS58 Address:      5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV")

	// Password hidden; soft path: no seed.
	out, _, err = runCella(t, "keys", "inspect", "//Alice/soft///hunter2")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "Secret Key URI `//Alice/soft///***` is account:")
	if strings.Contains(out, "hunter2") || strings.Contains(out, "Secret seed") {
		t.Errorf("password or unknown seed shown:\n%s", out)
	}

	// A hex seed.
	out, _, err = runCella(t, "keys", "inspect", aliceSeed)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "SS58 Address:      "+aliceAddr)
}

func TestKeysInspectJSON(t *testing.T) {
	noEnvSecret(t)
	phrase := "caution juice atom organ advance problem want pledge someone senior holiday very"
	out, _, err := runCella(t, "keys", "inspect", phrase, "--output", "json")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	want := map[string]string{
		"secretPhrase":  phrase,
		"secretSeed":    "0xc8fa03532fb22ee1f7f6908b9c02b4e72483f0dbd66e4cd456b8f34c6230b849",
		"publicKey":     "0xd6a3105d6768e956e9e5d41050ac29843f98561410d3a47f9dd5b3b227ab8746",
		"accountId":     "0xd6a3105d6768e956e9e5d41050ac29843f98561410d3a47f9dd5b3b227ab8746",
		"ss58PublicKey": "5Gv8YYFu8H1btvmrJy9FjjAWfb99wrhV3uhPFoNEr918utyR",
		"ss58Address":   "5Gv8YYFu8H1btvmrJy9FjjAWfb99wrhV3uhPFoNEr918utyR",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("fields %v", got)
	}
}

func TestKeysInspectAddress(t *testing.T) {
	noEnvSecret(t)
	out, _, err := runCella(t, "keys", "inspect", aliceAddr, "-o", "json", "--network-prefix", "0")
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]string
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if got["publicKey"] != alicePub || got["ss58Address"] != "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5" {
		t.Errorf("address inspect = %v", got)
	}
	if _, ok := got["secretSeed"]; ok {
		t.Error("address input shows a secret")
	}
	// A Kusama address keeps its own prefix unless --network-prefix is given.
	out, _, err = runCella(t, "keys", "inspect", "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "Public Key URI `HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F` is account:",
		"SS58 prefix:       2", "Account ID:        "+alicePub, "SS58 Address:      HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F")
	if strings.Contains(out, "Secret") {
		t.Error("secret shown for an address")
	}
	// --public makes 0x hex a public key instead of a seed.
	out, _, err = runCella(t, "keys", "inspect", "--public", alicePub)
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "SS58 Address:      "+aliceAddr)
}

func TestKeysInspectErrors(t *testing.T) {
	noEnvSecret(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ"}, "checksum"},
		{[]string{"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKut0Y"}, "base58"},
		{[]string{"bottom drive obey lake curtain smoke basket hold race lonely fit walx"}, "walx"},
		{[]string{"0x1234"}, "32"},
		{[]string{"--public", "0x1234"}, "32"},
		{[]string{"//Alice", "--network-prefix", "16384"}, "16383"},
		{[]string{"//Alice", "--output", "yaml"}, "--output"},
		{[]string{}, "nothing to inspect"},
	} {
		_, _, err := runCella(t, append([]string{"keys", "inspect"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("inspect %q: err %v, want mention of %q", tc.args, err, tc.want)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("inspect %q: multi-line error %q", tc.args, err)
		}
	}
}

func TestKeysInspectSecretSources(t *testing.T) {
	t.Setenv(suriEnv, "//Bob")
	out, _, err := runCella(t, "keys", "inspect")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "SS58 Address:      "+bobAddr)
	noEnvSecret(t)
	out, _, err = runCella(t, "keys", "inspect", "--suri-file", writeFile(t, "//Bob\n"))
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "SS58 Address:      "+bobAddr)
}

func TestKeysNew(t *testing.T) {
	noEnvSecret(t)
	for _, words := range []string{"12", "24"} {
		out, _, err := runCella(t, "keys", "new", "--words", words, "--output", "json")
		if err != nil {
			t.Fatal(err)
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatal(err)
		}
		phrase := got["secretPhrase"]
		if n := len(strings.Fields(phrase)); words == "12" && n != 12 || words == "24" && n != 24 {
			t.Errorf("--words %s gave %d words", words, n)
		}
		p, err := keys.FromURI(phrase)
		if err != nil {
			t.Fatal(err)
		}
		if got["ss58Address"] != keys.EncodeSS58(p.Public(), 42) || got["secretSeed"] == "" {
			t.Errorf("new = %v", got)
		}
	}
	out, _, err := runCella(t, "keys", "new")
	if err != nil {
		t.Fatal(err)
	}
	mustContain(t, out, "Secret phrase:       ", "Secret seed:       0x", "SS58 Address:      5")
	if _, _, err := runCella(t, "keys", "new", "--words", "13"); err == nil || !strings.Contains(err.Error(), "12 or 24") {
		t.Errorf("--words 13: %v", err)
	}
}

func signCLI(t *testing.T, args ...string) keys.Signature {
	t.Helper()
	out, _, err := runCella(t, append([]string{"keys", "sign"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	s := strings.TrimSpace(out)
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 64 || !strings.HasPrefix(s, "0x") {
		t.Fatalf("sign printed %q", out)
	}
	return keys.Signature(b)
}

func TestKeysSign(t *testing.T) {
	noEnvSecret(t)
	alice, _ := keys.FromURI("//Alice")
	msg := []byte("hello")
	if sig := signCLI(t, "--suri", "//Alice", "--message", "hello"); !keys.Verify(alice.Public(), msg, sig) {
		t.Error("text signature does not verify")
	}
	if sig := signCLI(t, "--suri", "//Alice", "--message", "0x68656c6c6f"); !keys.Verify(alice.Public(), msg, sig) {
		t.Error("hex message not decoded")
	}
	sig := signCLI(t, "--suri", "//Alice", "--message", "hello", "--wrap")
	if !keys.Verify(alice.Public(), []byte("<Bytes>hello</Bytes>"), sig) || keys.Verify(alice.Public(), msg, sig) {
		t.Error("--wrap did not sign <Bytes>hello</Bytes>")
	}
	if sig := signCLI(t, "--suri-file", writeFile(t, "  //Alice\n"), "--message", "hello"); !keys.Verify(alice.Public(), msg, sig) {
		t.Error("--suri-file")
	}
	t.Setenv(suriEnv, "//Alice")
	if sig := signCLI(t, "--message", "hello"); !keys.Verify(alice.Public(), msg, sig) {
		t.Error("CELLA_SURI")
	}
}

func TestKeysSignErrors(t *testing.T) {
	noEnvSecret(t)
	empty := writeFile(t, " \n")
	for _, tc := range []struct {
		env  string
		args []string
		want string
	}{
		{"", []string{"--message", "m"}, "no secret given: use --suri, --suri-file or the CELLA_SURI"},
		{"", []string{"--suri", "//Alice", "--suri-file", empty, "--message", "m"}, "--suri and --suri-file"},
		{"//Bob", []string{"--suri", "//Alice", "--message", "m"}, "--suri and CELLA_SURI"},
		{"", []string{"--suri-file", empty, "--message", "m"}, "is empty"},
		{"", []string{"--suri-file", "/nonexistent/suri", "--message", "m"}, "cannot read"},
		{"", []string{"--suri", "//Alice", "--message", "0xzz"}, "not valid hex"},
		{"", []string{"--suri", "//Alice"}, "message"},
		{"", []string{"--suri", "bad phrase", "--message", "m"}, "mnemonic"},
	} {
		t.Setenv(suriEnv, tc.env)
		_, _, err := runCella(t, append([]string{"keys", "sign"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("sign %q (env %q): err %v, want %q", tc.args, tc.env, err, tc.want)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("multi-line error %q", err)
		}
	}
}

func TestKeysVerify(t *testing.T) {
	noEnvSecret(t)
	alice, _ := keys.FromURI("//Alice")
	sig := alice.Sign([]byte("hello"))
	out, _, err := runCella(t, "keys", "verify", "--address", aliceAddr, "--message", "hello", "--signature", sig.Hex())
	if err != nil || strings.TrimSpace(out) != "Signature verifies correctly." {
		t.Errorf("valid: %q %v", out, err)
	}
	// 0x public key, hex message, 65-byte MultiSignature form.
	out, _, err = runCella(t, "keys", "verify", "--address", alicePub, "--message", "0x68656c6c6f", "--signature", "0x01"+sig.Hex()[2:])
	if err != nil || !strings.Contains(out, "verifies correctly") {
		t.Errorf("hex forms: %q %v", out, err)
	}
	// Invalid: exit code 1.
	out, _, err = runCella(t, "keys", "verify", "--address", bobAddr, "--message", "hello", "--signature", sig.Hex())
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 1 || strings.TrimSpace(out) != "Signature invalid." {
		t.Errorf("invalid: %q %v", out, err)
	}
	// polkadot.js signRaw over <Bytes>hello world</Bytes> (util-crypto signature/verify.spec.ts).
	out, _, err = runCella(t, "keys", "verify", "--address", "J9nD3s7zssCX7bion1xctAF6xcVexcpy2uwy4jTm9JL8yuK", "--message", "hello world",
		"--signature", "0x84b6afb1c8e54bbcb3f4872baf172580e21310e9387a53742627d6652d121447fa406b82805ed3184fb7bd519175cc9f99f283f97954d95cf966ee164df85489")
	if err != nil || !strings.Contains(out, "verifies correctly (over <Bytes>message</Bytes>") {
		t.Errorf("wrapped: %q %v", out, err)
	}
	// polkadot.js plain signature, Kusama address.
	out, _, err = runCella(t, "keys", "verify", "--address", "EK1bFgKm2FsghcttHT7TB7rNyXApFgs9fCbijMGQNyFGBQm", "--message", "hello world",
		"--signature", "0xca01419b5a17219f7b78335658cab3b126db523a5df7be4bfc2bef76c2eb3b1dcf4ca86eb877d0a6cf6df12db5995c51d13b00e005d053b892bd09c594434288")
	if err != nil || strings.TrimSpace(out) != "Signature verifies correctly." {
		t.Errorf("polkadot.js: %q %v", out, err)
	}
	// Sign with the CLI and verify with the CLI, wrapped.
	w := signCLI(t, "--suri", "//Bob", "--message", "x", "--wrap")
	out, _, err = runCella(t, "keys", "verify", "--address", bobAddr, "--message", "<Bytes>x</Bytes>", "--signature", w.Hex())
	if err != nil || strings.TrimSpace(out) != "Signature verifies correctly." {
		t.Errorf("explicitly wrapped message: %q %v", out, err)
	}
}

func TestKeysVerifyErrors(t *testing.T) {
	noEnvSecret(t)
	sig := "0x" + strings.Repeat("00", 64)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--address", "nope", "--message", "m", "--signature", sig}, "--address"},
		{[]string{"--address", aliceAddr, "--message", "m", "--signature", "0x1234"}, "2 bytes, want 64"},
		{[]string{"--address", aliceAddr, "--message", "m", "--signature", "xyz"}, "not valid hex"},
		{[]string{"--address", aliceAddr, "--message", "m"}, "signature"},
	} {
		_, _, err := runCella(t, append([]string{"keys", "verify"}, tc.args...)...)
		var ee exitError
		if err == nil || errors.As(err, &ee) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("verify %q: err %v, want %q", tc.args, err, tc.want)
		}
	}
}

func TestReadSecretURIAbsentFlags(t *testing.T) {
	noEnvSecret(t)
	cmd := newKeysVerifyCmd() // has neither flag
	if _, err := readSecretURI(cmd, "from", "from-file"); err == nil || !strings.Contains(err.Error(), "--from, --from-file or the CELLA_SURI") {
		t.Errorf("err %v", err)
	}
	t.Setenv(suriEnv, "//Eve")
	if s, err := readSecretURI(cmd, "from", "from-file"); err != nil || s != "//Eve" {
		t.Errorf("env: %q %v", s, err)
	}
}
