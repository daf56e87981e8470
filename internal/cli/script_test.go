package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/state"
)

// runMain runs a command line as cli.Main does and returns its exit code,
// standard output and standard error.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestGroupsRejectUnknownAndMissing: every command group fails with a
// usage error (exit 2, usage on stderr, nothing on stdout) when run without
// a subcommand or with an unknown one.
func TestGroupsRejectUnknownAndMissing(t *testing.T) {
	var groups [][]string
	var walk func(c *cobra.Command, path []string)
	walk = func(c *cobra.Command, path []string) {
		if c.Annotations[groupAnnotation] != "" {
			groups = append(groups, path)
		}
		for _, s := range c.Commands() {
			walk(s, append(append([]string{}, path...), s.Name()))
		}
	}
	walk(newRootCmd(), nil)
	if len(groups) < 8 {
		t.Fatalf("found only %d groups: %v", len(groups), groups)
	}
	for _, g := range groups {
		name := "cella " + strings.Join(g, " ")
		code, out, errOut := runMain(t, g...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, "Usage:") || !strings.Contains(errOut, "needs a subcommand") ||
			strings.Contains(errOut, name+" [flags]") {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
		code, out, errOut = runMain(t, append(append([]string{}, g...), "frobnicate")...)
		if code != ExitUsage || out != "" || !strings.Contains(errOut, `unknown command "frobnicate"`) {
			t.Errorf("%s frobnicate: exit %d, stdout %q, stderr %q", name, code, out, errOut)
		}
	}
	// The issue's own examples.
	if code, _, errOut := runMain(t, "tx", "foo"); code != ExitUsage || !strings.Contains(errOut, `unknown command "foo" for "cella tx"`) {
		t.Errorf("cella tx foo: exit %d, %q", code, errOut)
	}
	if code, _, errOut := runMain(t, "query", "balanse", "x"); code != ExitUsage || !strings.Contains(errOut, "did you mean balance?") {
		t.Errorf("cella query balanse: exit %d, %q", code, errOut)
	}
}

// TestUsageErrorsExit2 covers the other command-line mistakes.
func TestUsageErrorsExit2(t *testing.T) {
	for _, args := range [][]string{
		{"query", "balance"},                          // missing argument
		{"query", "balance", "a", "b"},                // too many
		{"status", "--no-such-flag"},                  // unknown flag
		{"tx", "transfer", "--from", "//Alice"},       // required flags missing
		{"status", "extra"},                           // NoArgs
		{"keys", "inspect", "--output", "json", "-z"}, // unknown shorthand
	} {
		code, _, _ := runMain(t, args...)
		if code != ExitUsage {
			t.Errorf("cella %s: exit %d, want %d", strings.Join(args, " "), code, ExitUsage)
		}
	}
	if code, out, _ := runMain(t, "--help"); code != ExitOK || !strings.Contains(out, "Available Commands") {
		t.Errorf("cella --help: exit %d", code)
	}
	if code, out, _ := runMain(t, "tx", "--help"); code != ExitOK || !strings.Contains(out, "transfer") {
		t.Errorf("cella tx --help: exit %d", code)
	}
	if code, out, _ := runMain(t, "tx", "transfer", "--help"); code != ExitOK || !strings.Contains(out, "cella tx transfer [flags]") {
		t.Errorf("cella tx transfer --help: exit %d\n%s", code, out)
	}
	if code, out, _ := runMain(t, "help", "tx", "transfer"); code != ExitOK || !strings.Contains(out, "cella tx transfer [flags]") {
		t.Errorf("cella help tx transfer: exit %d\n%s", code, out)
	}
	if code, _, errOut := runMain(t, "help", "tx", "frobnicate"); code != ExitUsage || !strings.Contains(errOut, "unknown help topic") {
		t.Errorf("cella help tx frobnicate: exit %d %s", code, errOut)
	}
}

// deadNode returns the address of a TCP port nothing listens on.
func deadNode(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// TestJSONErrors: with --output json a failure is one JSON object on
// stdout with a stable code, and the exit code matches the table.
func TestJSONErrors(t *testing.T) {
	dead := deadNode(t)
	for _, tc := range []struct {
		args []string
		code string
		exit int
	}{
		{[]string{"query", "balance", "--output", "json", "nonsense"}, CodeInvalidArgument, ExitError},
		{[]string{"query", "balance", "-o", "json"}, CodeUsage, ExitUsage},
		{[]string{"status", "--output=json", "--bogus"}, CodeUsage, ExitUsage},
		{[]string{"status", "--output", "json", "--node", dead}, CodeUnavailable, ExitUnavailable},
		{[]string{"query", "tx", "0x1234", "--output", "json", "--node", dead}, CodeInvalidArgument, ExitError},
		{[]string{"query", "contract", "nope", "--output", "json", "--node", dead}, CodeInvalidArgument, ExitError},
		{[]string{"query", "cluster", "0xzz", "--output", "json", "--node", dead}, CodeInvalidArgument, ExitError},
		{[]string{"admin", "gatekeeper", "add", "nope", "--from", "//Alice", "--output", "json", "--node", dead}, CodeInvalidArgument, ExitError},
		{[]string{"query", "tx", "--output", "json", "--node", "ftp://x:1", "0x" + strings.Repeat("00", 32)}, CodeInvalidArgument, ExitError},
		{[]string{"query", "tx", "--output", "json", "--node", dead, "0x" + strings.Repeat("00", 32)}, CodeUnavailable, ExitUnavailable},
	} {
		name := strings.Join(tc.args, " ")
		code, out, errOut := runMain(t, tc.args...)
		var je jsonError
		if err := json.Unmarshal([]byte(out), &je); err != nil {
			t.Errorf("cella %s: stdout is not a JSON error: %v\n%s\n%s", name, err, out, errOut)
			continue
		}
		if je.Error.Code != tc.code || code != tc.exit || je.Error.ExitCode != code || je.Error.Message == "" {
			t.Errorf("cella %s: exit %d, %+v; want %s exit %d", name, code, je.Error, tc.code, tc.exit)
		}
	}
	// testnet's --output is a folder, not a format.
	if code, out, errOut := runMain(t, "testnet", "--output", "json", "--validators", "0"); code != ExitError || out != "" || !strings.HasPrefix(errOut, "Error: ") {
		t.Errorf("testnet --output json: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	// Without --output json the same error is text on stderr.
	code, out, errOut := runMain(t, "status", "--node", dead)
	if code != ExitUnavailable || out != "" || !strings.HasPrefix(errOut, "Error: cannot reach a node") {
		t.Errorf("text error: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
		exit int
	}{
		{&client.TxError{Code: 9, Name: "stale_nonce"}, CodeTxRejected, ExitError},
		{&client.QueryError{Code: 3}, CodeNotFound, ExitError},
		{txFailedErr(errors.New("x")), CodeTxFailed, ExitTxFailed},
		{context.DeadlineExceeded, CodeTimeout, ExitTimeout},
		{errors.New("waiting: " + context.DeadlineExceeded.Error()), CodeError, ExitError},
		{errors.New("--amount: bad"), CodeInvalidArgument, ExitError},
		{errors.New("boom"), CodeError, ExitError},
	} {
		if code, exit := classify(tc.err); code != tc.code || exit != tc.exit {
			t.Errorf("%v: %s %d, want %s %d", tc.err, code, exit, tc.code, tc.exit)
		}
	}
}

func TestNormalizeEndpoint(t *testing.T) {
	for _, tc := range []struct{ in, kind, want, err string }{
		{"127.0.0.1:8000", "http", "http://127.0.0.1:8000", ""},
		{"localhost:26657", "http", "http://localhost:26657", ""},
		{"tcp://127.0.0.1:26657", "http", "http://127.0.0.1:26657", ""},
		{"http://h:1/base", "http", "http://h:1/base", ""},
		{"https://rpc.example.com", "http", "https://rpc.example.com", ""},
		{"[::1]:8000", "http", "http://[::1]:8000", ""},
		{"unix:/run/p.sock", "http", "unix:/run/p.sock", ""},
		{"", "http", "", ""},
		{"127.0.0.1:26657", "listen", "tcp://127.0.0.1:26657", ""},
		{"tcp://0.0.0.0:1", "listen", "tcp://0.0.0.0:1", ""},
		{"ftp://h:1", "http", "", "unknown scheme"},
		{"http://", "http", "", "no host"},
		{"h:port", "http", "", "bad port"},
		{"h:123456", "http", "", "bad port"},
		{"http://u@h:1", "http", "", "not host"},
		{"http://h:1", "listen", "", "listen address"},
		{"127.0.0.1", "listen", "", "needs a port"},
		{"unix:", "http", "", "no socket path"},
	} {
		got, err := normalizeEndpoint(tc.in, tc.kind)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q (%s): %q, %v; want error %q", tc.in, tc.kind, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q (%s): %q, %v; want %q", tc.in, tc.kind, got, err, tc.want)
		}
	}
}

// TestEndpointFlagsNormalised: every flag that names an address to
// connect to is marked, and a command sees the normalised value.
func TestEndpointFlagsNormalised(t *testing.T) {
	want := map[string]bool{"node": true, "endpoint": true, "worker": true, "pruntime-public": true, "pruntime-internal": true, "public-url": true, "rpc-addr": true, "p2p-addr": true}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			isURL := want[f.Name] && (f.Name != "worker" || c.Parent().Name() == "contract")
			if isURL && len(f.Annotations[endpointAnnotation]) == 0 {
				t.Errorf("%s --%s is not marked as an endpoint", c.CommandPath(), f.Name)
			}
		})
		for _, s := range c.Commands() {
			walk(s)
		}
	}
	walk(newRootCmd())
	// The normalised address reaches the client: the error names http://.
	dead := deadNode(t)
	_, _, errOut := runMain(t, "status", "--node", dead)
	if !strings.Contains(errOut, "http://"+dead) {
		t.Errorf("stderr %q does not name http://%s", errOut, dead)
	}
	// The same from the environment.
	t.Setenv("CELLA_NODE", dead)
	if _, _, errOut := runMain(t, "query", "validators"); !strings.Contains(errOut, "http://"+dead) {
		t.Errorf("CELLA_NODE: stderr %q does not name http://%s", errOut, dead)
	}
	_, _, errOut = runMain(t, "pruntime", "info", "--endpoint", dead)
	if !strings.Contains(errOut, "http://"+dead) {
		t.Errorf("pruntime info: stderr %q does not name http://%s", errOut, dead)
	}
	if code, _, _ := runMain(t, "pruntime", "info", "--endpoint", dead); code != ExitUnavailable {
		t.Errorf("pruntime info on a dead endpoint: exit %d", code)
	}
	if code, _, errOut := runMain(t, "pruntime", "info", "--endpoint", "gopher://x:1"); code != ExitError || !strings.Contains(errOut, "--endpoint") {
		t.Errorf("bad scheme: exit %d, %q", code, errOut)
	}
}

func TestFormatTokens(t *testing.T) {
	for in, want := range map[string]string{
		"0":                   "0 CELL",
		"1":                   "0.000000000001 CELL",
		"1000000000000":       "1 CELL",
		"1500000000000":       "1.5 CELL",
		"1250000000":          "0.00125 CELL",
		"1000000000000001000": "1000000.000000001 CELL",
		"340282366920938463463374607431768211455": "340282366920938463463374607.431768211455 CELL",
		"x": "x",
	} {
		if got := formatTokens(in); got != want {
			t.Errorf("formatTokens(%s) = %q, want %q", in, got, want)
		}
	}
	if state.Decimals != 12 {
		t.Fatal("the table above assumes 12 decimals")
	}
}

// TestTxView: accounts become SS58 (hex with --hex), amounts get tokens
// with --units, the fee and result name are shown.
func TestTxView(t *testing.T) {
	alice := "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d"
	r := &client.TxResult{Hash: "0xABCD", Height: 7, Code: state.CodeInsufficientBalance, Result: state.CodeName(state.CodeInsufficientBalance),
		Log: "too poor", Weight: 1000, Fee: "1250000000",
		Events: []state.Event{{Type: "transfer", Attributes: []state.EventAttribute{{Key: "from", Value: alice}, {Key: "amount", Value: "1500000000000"}, {Key: "worker", Value: alice}}}}}
	v := newTxView(r, &display{prefix: 42, units: true})
	if v.Status != "failed" || v.Hash != "0xabcd" || v.Fee != "1250000000" || v.FeeTokens == nil || *v.FeeTokens != "0.00125" {
		t.Fatalf("%+v", v)
	}
	at := v.Events[0].Attributes
	if at[0].Value != "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" || at[1].Tokens == nil || *at[1].Tokens != "1.5" || at[2].Value != alice {
		t.Fatalf("%+v", at)
	}
	var b bytes.Buffer
	v.print(&b)
	for _, s := range []string{"status       failed", "block        7", "result       32 insufficient_balance", "fee          1250000000 (0.00125 CELL)", "gas used     1000", "from=5Grw", "amount=1500000000000 (1.5 CELL)"} {
		if !strings.Contains(b.String(), s) {
			t.Errorf("text lacks %q:\n%s", s, b.String())
		}
	}
	v = newTxView(r, &display{prefix: 42, hex: true})
	if v.Events[0].Attributes[0].Value != alice || v.FeeTokens != nil {
		t.Fatalf("--hex: %+v", v)
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, _ := runMain(t, "version", "--output", "json")
	var v buildVersion
	if err := json.Unmarshal([]byte(out), &v); code != 0 || err != nil || v.Version == "" || v.CometBFT == "" || v.GoVersion == "" {
		t.Fatalf("exit %d, %v, %+v", code, err, v)
	}
	code, out, _ = runMain(t, "version")
	if code != 0 || !strings.Contains(out, "cella ") || !strings.Contains(out, "cometbft") {
		t.Fatalf("exit %d: %s", code, out)
	}
	if code, out, _ = runMain(t, "--version"); code != 0 || !strings.Contains(out, v.Version) {
		t.Fatalf("--version: exit %d: %s", code, out)
	}
}

// TestHomeLock: a second holder of a home is refused with the home and the
// holder's PID; the lock is free again once released.
func TestHomeLock(t *testing.T) {
	home := filepath.Join(t.TempDir(), "dev")
	l, err := lockHome(home)
	if err != nil {
		t.Fatal(err)
	}
	_, err = lockHome(home)
	if err == nil || !errors.Is(err, errHomeLocked) || !strings.Contains(err.Error(), home) || !strings.Contains(err.Error(), fmt.Sprintf("PID %d", os.Getpid())) {
		t.Fatalf("second lock: %v", err)
	}
	if code, _ := classify(err); code != CodeLocked {
		t.Fatalf("code %s", code)
	}
	// cella dev on the held home fails before starting anything.
	code, _, errOut := runMain(t, "dev", "--home", home, "--rpc-addr", deadNode(t), "--p2p-addr", deadNode(t))
	if code != ExitError || !strings.Contains(errOut, home+" is in use by another process (PID ") {
		t.Fatalf("dev on a held home: exit %d, %s", code, errOut)
	}
	// --reset does not wipe a home another process holds.
	if err := os.WriteFile(filepath.Join(home, "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, _ = runMain(t, "dev", "--home", home, "--reset"); code != ExitError {
		t.Fatalf("dev --reset on a held home: exit %d", code)
	}
	if _, err := os.Stat(filepath.Join(home, "keep")); err != nil {
		t.Fatalf("--reset wiped a held home: %v", err)
	}
	l.release()
	l2, err := lockHome(home)
	if err != nil {
		t.Fatalf("after release: %v", err)
	}
	l2.release()
}

func TestAllowMeasurementFlag(t *testing.T) {
	home := t.TempDir()
	code, _, errOut := runMain(t, "dev", "--home", home, "--allow-measurement", "0x1234")
	if code != ExitError || !strings.Contains(errOut, "--allow-measurement") || !strings.Contains(errOut, "cella pruntime info") {
		t.Fatalf("bad hash: exit %d %s", code, errOut)
	}
	a, b := [32]byte{1}, [32]byte{2}
	if m := missingMeasurements([][32]byte{a}, [][32]byte{a, b}); len(m) != 1 || m[0] != fmt.Sprintf("0x%x", b) {
		t.Fatalf("missing %v", m)
	}
	if m := missingMeasurements([][32]byte{a, b}, [][32]byte{b}); len(m) != 0 {
		t.Fatalf("missing %v", m)
	}
}

// TestNodeHome: cella node refuses a folder that is not a node home (it
// does not create one), and a home another process holds.
func TestNodeHome(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "nothing")
	code, _, errOut := runMain(t, "node", "--home", empty)
	if code != ExitError || !strings.Contains(errOut, "is not a node home") {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(empty); !os.IsNotExist(err) {
		t.Fatalf("cella node created %s: %v", empty, err)
	}
	home := filepath.Join(t.TempDir(), "n")
	if code, out, errOut := runMain(t, "init", "--home", home, "--dev"); code != ExitOK {
		t.Fatalf("init: exit %d %s %s", code, out, errOut)
	}
	l, err := lockHome(home)
	if err != nil {
		t.Fatal(err)
	}
	defer l.release()
	if code, _, errOut := runMain(t, "node", "--home", home); code != ExitError || !strings.Contains(errOut, home+" is in use") {
		t.Fatalf("held home: exit %d: %s", code, errOut)
	}
}
