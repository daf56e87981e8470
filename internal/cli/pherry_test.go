package cli

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestReadOperator(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "operator")
	if err := os.WriteFile(file, []byte("  //Alice\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, []byte("\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"
	for _, tc := range []struct {
		name    string
		env     string // "" = unset
		file    string
		want    string // SS58, "" = no operator
		wantErr string
	}{
		{name: "neither"},
		{name: "file", file: file, want: alice},
		{name: "env", env: "//Alice", want: alice},
		{name: "both", env: "//Alice", file: file, wantErr: "given twice"},
		{name: "empty file", file: empty, wantErr: "empty"},
		{name: "missing file", file: filepath.Join(dir, "nope"), wantErr: "cannot read"},
		{name: "bad secret", env: "not a secret uri at all", wantErr: "not valid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.env != "" {
				t.Setenv(operatorEnv, tc.env)
			} else {
				t.Setenv(operatorEnv, "")
				os.Unsetenv(operatorEnv)
			}
			cmd := newPherryCmd()
			if tc.file != "" {
				if err := cmd.Flags().Set("operator-file", tc.file); err != nil {
					t.Fatal(err)
				}
			}
			p, err := readOperator(cmd, tc.file)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				if tc.env != "" && strings.Contains(err.Error(), tc.env) {
					t.Fatalf("the error echoes the secret: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if p != nil {
				got = p.Public().String()
			}
			if got != tc.want {
				t.Fatalf("operator %q, want %q", got, tc.want)
			}
		})
	}
}

func TestPherryCmdHasNoSecretFlag(t *testing.T) {
	cmd := newPherryCmd()
	for _, name := range []string{"operator", "suri", "mnemonic", "seed"} {
		if cmd.Flags().Lookup(name) != nil {
			t.Errorf("cella pherry has a --%s flag: secrets must not come from argv", name)
		}
	}
	if cmd.Short == "" || cmd.Flags().Lookup("operator-file") == nil || cmd.Flags().Lookup("metrics-addr") == nil {
		t.Fatal("missing help or flags")
	}
}

func TestServeMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "cella_pherry_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Inc()
	addr, stop, err := serveMetrics("127.0.0.1:0", reg)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if !strings.Contains(string(b), "cella_pherry_test_total 1") {
		t.Fatalf("metrics page:\n%s", b)
	}
}

// TestPherryCmdStops runs the command against nothing and checks that it
// keeps retrying quietly and returns when its context ends.
func TestPherryCmdStops(t *testing.T) {
	t.Setenv(operatorEnv, "//Alice")
	tok := filepath.Join(t.TempDir(), "internal-api.token")
	if err := os.WriteFile(tok, []byte("secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CELLA_PRUNTIME_TOKEN_FILE", tok)
	cmd := newRootCmd()
	cmd.SetArgs([]string{"pherry", "--node", "http://127.0.0.1:1", "--pruntime-public", "http://127.0.0.1:1",
		"--pruntime-internal", "unix:" + filepath.Join(t.TempDir(), "none.sock"), "--no-progress", "--log-level", "error"})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestPherryCmdToken: pherry needs the pRuntime's token file, refuses the
// old single --pruntime address, and never takes the token from argv.
func TestPherryCmdToken(t *testing.T) {
	t.Setenv(operatorEnv, "")
	os.Unsetenv(operatorEnv)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--pruntime-token-file", filepath.Join(t.TempDir(), "missing")}, "--pruntime-token-file"},
		{[]string{"--pruntime", "http://127.0.0.1:1"}, "--pruntime-public"},
	} {
		cmd := newRootCmd()
		cmd.SetArgs(append([]string{"pherry", "--node", "http://127.0.0.1:1", "--no-progress"}, tc.args...))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%v: error %v, want one naming %s", tc.args, err, tc.want)
		}
	}
	if newPherryCmd().Flags().Lookup("pruntime-token") != nil {
		t.Fatal("a flag takes the token itself")
	}
}

// TestPherryCmdWorkers: --workers serves the listed pRuntimes (it runs
// against nothing and stops with its context); bad files, missing token
// files and mixing with the single-pRuntime flags are refused.
func TestPherryCmdWorkers(t *testing.T) {
	t.Setenv(operatorEnv, "//Alice")
	dir := t.TempDir()
	tok := filepath.Join(dir, "internal-api.token")
	if err := os.WriteFile(tok, []byte("secret-token\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	opFile := filepath.Join(dir, "w2.operator")
	if err := os.WriteFile(opFile, []byte("//Bob\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("good.json", `{"workers": [
		{"name": "w1", "public": "http://127.0.0.1:1", "internal": "unix:`+filepath.Join(dir, "none.sock")+`", "token_file": "`+tok+`"},
		{"name": "w2", "public": "http://127.0.0.1:1", "internal": "http://127.0.0.1:1", "token_file": "`+tok+`", "operator_file": "`+opFile+`"}]}`)
	cmd := newRootCmd()
	cmd.SetArgs([]string{"pherry", "--node", "http://127.0.0.1:1", "--workers", good, "--log-level", "error"})
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	if err := cmd.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"with --pruntime-public", []string{"--workers", good, "--pruntime-public", "http://127.0.0.1:2"}, "--pruntime-public and --workers"},
		{"missing file", []string{"--workers", filepath.Join(dir, "none.json")}, "--workers"},
		{"unknown field", []string{"--workers", write("bad1.json", `{"workers": [{"name": "a", "public": "x", "internal": "y", "token_file": "z", "token": "s"}]}`)}, "unknown field"},
		{"missing token file", []string{"--workers", write("bad2.json", `{"workers": [{"name": "a", "public": "http://127.0.0.1:1", "internal": "http://127.0.0.1:1", "token_file": "`+filepath.Join(dir, "missing")+`"}]}`)}, "token_file"},
		{"bad operator file", []string{"--workers", write("bad3.json", `{"workers": [{"name": "a", "public": "http://127.0.0.1:1", "internal": "http://127.0.0.1:1", "token_file": "`+tok+`", "operator_file": "`+tok+`"}]}`)}, "not valid"},
	} {
		cmd := newRootCmd()
		cmd.SetArgs(append([]string{"pherry", "--node", "http://127.0.0.1:1", "--no-progress"}, tc.args...))
		cmd.SetOut(io.Discard)
		cmd.SetErr(io.Discard)
		err := cmd.ExecuteContext(context.Background())
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Fatalf("%s: error %v, want one containing %q", tc.name, err, tc.want)
		}
	}
}
