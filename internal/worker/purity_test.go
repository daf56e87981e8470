package worker

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"strings"
	"testing"
)

// TestPurity fails when the worker core's non-test import graph reaches
// I/O, the network, the clock or randomness, or the node's heavy parts.
//
// Go's standard library itself imports os and time (fmt → os → time), so the
// rule is checked where it means something: no package outside the standard
// library in the graph (ours or third-party) may import the forbidden
// packages directly, and some packages must not appear anywhere.
func TestPurity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \" \"}}",
		"github.com/cella-network/cella/internal/worker").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// Forbidden as a direct import of any non-standard package.
	direct := []string{"os", "os/exec", "os/signal", "net", "net/http", "time", "math/rand", "math/rand/v2", "syscall", "io/fs", "io/ioutil", "path/filepath", "unsafe", "runtime/cgo", "crypto/rand"}
	// Exceptions: package → imports it may use, with the reason.
	allowed := map[string][]string{
		// CPU feature detection reads /proc/self/auxv on some platforms.
		"golang.org/x/sys/cpu": {"os", "unsafe"},
		// Key generation and randomized signing; the core signs only with
		// SignDeterministic (TestDeterministicSigning).
		"github.com/cella-network/cella/internal/keys":               {"crypto/rand"},
		"github.com/ChainSafe/go-schnorrkel":                         {"crypto/rand"},
		"github.com/cosmos/go-bip39":                                 {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/curve":              {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/curve/scalar":       {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/primitives/merlin":  {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/primitives/sr25519": {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/internal/strobe":    {"unsafe"},
		"golang.org/x/crypto/internal/alias":                         {"unsafe"},
		// secp256k1 key generation (phatwire verifies Ethereum-signed
		// certificates with it); the core only decodes command payloads.
		"github.com/decred/dcrd/dcrec/secp256k1/v4": {"crypto/rand"},
	}
	// Forbidden anywhere in the graph (prefixes).
	anywhere := []string{
		"net", "net/http", "os/exec", "database/sql",
		"github.com/cockroachdb/pebble",
		"github.com/cometbft/cometbft/node", "github.com/cometbft/cometbft/rpc",
		"github.com/cometbft/cometbft/p2p", "github.com/cometbft/cometbft-db",
		"github.com/syndtr/goleveldb", "github.com/tetratelabs/wazero",
		// The shell and the TEE providers sit around the core, never inside
		// it (the root tee package holds only kinds and interfaces).
		"github.com/cella-network/cella/internal/pruntime",
		"github.com/cella-network/cella/internal/tee/dev", "github.com/cella-network/cella/internal/tee/tdx",
	}
	var pkgs int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		path, std, imports := parts[0], parts[1] == "true", strings.Fields(parts[2])
		pkgs++
		for _, f := range anywhere {
			if path == f || strings.HasPrefix(path, f+"/") {
				t.Errorf("import graph of internal/worker contains %s", path)
			}
		}
		if std {
			continue
		}
		for _, imp := range imports {
			for _, f := range direct {
				if imp != f || contains(allowed[path], imp) {
					continue
				}
				t.Errorf("%s imports %s", path, imp)
			}
		}
	}
	if pkgs < 10 {
		t.Fatalf("go list returned only %d packages", pkgs)
	}
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// TestDeterministicSigning fails when the core's non-test code calls a
// randomized signer or a key generator: a restored core must re-sign
// identical bytes, and its keys are given to it.
func TestDeterministicSigning(t *testing.T) {
	forbidden := map[string]bool{"Sign": true, "SignMessage": true, "NewMnemonic": true, "Read": true}
	fset := token.NewFileSet()
	pkgs, err := parser.ParseDir(fset, ".", func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, p := range pkgs {
		for _, f := range p.Files {
			ast.Inspect(f, func(n ast.Node) bool {
				if call, ok := n.(*ast.CallExpr); ok {
					if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
						calls++
						if forbidden[sel.Sel.Name] {
							t.Errorf("%s: calls %s", fset.Position(sel.Pos()), sel.Sel.Name)
						}
					}
				}
				return true
			})
		}
	}
	if calls == 0 {
		t.Fatal("parsed no calls")
	}
}
