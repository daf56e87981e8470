// Package oracletest finds the @phala/sdk oracle for differential tests: the
// vectors the real SDK made offline, kept beside the project in
// ../shared/oracle/phala (never copied into it; see its README), and a copy
// of that folder where `npm ci` was run, named by CELLA_PHALA_ORACLE:
//
//	d=$(mktemp -d) && cp -r ../shared/oracle/phala/. $d && (cd $d && npm ci)
//	CELLA_PHALA_ORACLE=$d go test ./internal/cipher -run Oracle
//
// Tests that need either skip, saying why, when it is absent. It is for
// tests only.
package oracletest

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// EnvVar names the oracle copy with node_modules.
const EnvVar = "CELLA_PHALA_ORACLE"

// ModuleRoot walks up from the test's directory to go.mod; it skips t when
// there is none.
func ModuleRoot(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("module root not found")
		}
		dir = parent
	}
}

// File returns the named file of ../shared/oracle/phala (relative to the
// module root); it skips t when the file is absent.
func File(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(ModuleRoot(t), "..", "shared", "oracle", "phala", name))
	if err != nil {
		t.Skipf("phala oracle %s not present (%v)", name, err)
	}
	return b
}

// Vectors returns the oracle's vectors.json; it skips t when it is absent.
func Vectors(t testing.TB) []byte {
	t.Helper()
	return File(t, "vectors.json")
}

// Dir returns the oracle copy named by CELLA_PHALA_ORACLE. It skips t in
// -short mode, when the variable is unset, when node is not installed and
// when the copy has no node_modules/@phala/sdk.
func Dir(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("runs node")
	}
	d := os.Getenv(EnvVar)
	if d == "" {
		t.Skip(EnvVar + " not set")
	}
	if _, err := exec.LookPath("node"); err != nil {
		t.Skip("node not found")
	}
	if _, err := os.Stat(filepath.Join(d, "node_modules", "@phala", "sdk")); err != nil {
		t.Skipf("oracle copy without node_modules (%v); run npm ci there", err)
	}
	return d
}

// RunNode runs node with args in the oracle copy dir (with ORACLE=dir in its
// environment and stdin, if not nil, as its input) and returns its stdout.
// It fails t when node cannot be run at all; a non-zero exit is returned as
// an *exec.ExitError, with node's stderr logged.
func RunNode(t testing.TB, dir string, stdin []byte, args ...string) ([]byte, error) {
	t.Helper()
	cmd := exec.Command("node", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ORACLE="+dir)
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		t.Fatalf("node %v: %v", args, err)
	}
	if err != nil && stderr.Len() > 0 {
		t.Logf("node stderr: %s", stderr.String())
	}
	return out, err
}
