package state

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"strings"
	"testing"
)

// TestPurity fails when the state machine's non-test import graph reaches
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
	// The kernel, every module package, the table that wires them and the
	// messages they share.
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \" \"}}",
		"github.com/cella-network/cella/internal/state/...",
		"github.com/cella-network/cella/internal/msg").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	// Forbidden as a direct import of any non-standard package.
	direct := []string{"os", "os/exec", "os/signal", "net", "net/http", "time", "math/rand", "math/rand/v2", "syscall", "io/fs", "io/ioutil", "path/filepath", "unsafe", "runtime/cgo", "crypto/rand"}
	// Exceptions: package → imports it may use, with the reason.
	allowed := map[string][]string{
		// CPU feature detection reads /proc/self/auxv on some platforms.
		"golang.org/x/sys/cpu": {"os", "unsafe"},
		// Key generation and randomized signing (tx.Sign); the state machine only verifies.
		"github.com/cella-network/cella/internal/keys":               {"crypto/rand"},
		"github.com/ChainSafe/go-schnorrkel":                         {"crypto/rand"},
		"github.com/cosmos/go-bip39":                                 {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/curve":              {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/curve/scalar":       {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/primitives/merlin":  {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/primitives/sr25519": {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/internal/strobe":    {"unsafe"},
		"golang.org/x/crypto/internal/alias":                         {"unsafe"},
	}
	// Forbidden anywhere in the graph (prefixes).
	anywhere := []string{
		"net", "net/http", "os/exec", "database/sql",
		"github.com/cockroachdb/pebble",
		"github.com/cometbft/cometbft/node", "github.com/cometbft/cometbft/rpc",
		"github.com/cometbft/cometbft/p2p", "github.com/cometbft/cometbft-db",
		"github.com/syndtr/goleveldb", "github.com/tetratelabs/wazero",
		// The registry names TEE kinds (internal/tee); the verifiers are
		// injected, never imported.
		"github.com/cella-network/cella/internal/tee/dev", "github.com/cella-network/cella/internal/tee/tdx",
		"github.com/google/go-tdx-guest",
	}
	// internal/msg is shared by the chain and the workers: it stays a leaf.
	const msgPkg = "github.com/cella-network/cella/internal/msg"
	msgImports := []string{
		"github.com/cella-network/cella/internal/scale",
		"github.com/cella-network/cella/internal/keys",
		"github.com/cella-network/cella/internal/hashing",
		// Key shares carry cipher.EncryptedKey (pure: crypto, no I/O).
		"github.com/cella-network/cella/internal/cipher",
	}
	var pkgs int
	// Every module package must be in the graph checked here.
	seen := map[string]bool{}
	defer func() {
		for _, m := range []string{"balances", "validators", "mq", "registry", "admin", "gatekeeper", "phat", "modules"} {
			if !seen["github.com/cella-network/cella/internal/state/"+m] {
				t.Errorf("module package %s is not in the checked graph", m)
			}
		}
	}()
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		path, std, imports := parts[0], parts[1] == "true", strings.Fields(parts[2])
		seen[path] = true
		pkgs++
		for _, f := range anywhere {
			if path == f || strings.HasPrefix(path, f+"/") {
				t.Errorf("import graph of internal/state contains %s", path)
			}
		}
		if std {
			continue
		}
		if path == msgPkg {
			for _, imp := range imports {
				if !strings.Contains(imp, ".") || contains(msgImports, imp) {
					continue
				}
				t.Errorf("%s imports %s: messages may use only the codec, keys, hashing and cipher", path, imp)
			}
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

// TestNoFloats fails when the state machine (kernel and modules), tx,
// hashing or msg code (non-test files) mentions a floating-point type or
// literal.
func TestNoFloats(t *testing.T) {
	for _, dir := range []string{".", "balances", "validators", "mq", "registry", "admin", "gatekeeper", "phat", "modules", "../tx", "../hashing", "../msg"} {
		fset := token.NewFileSet()
		pkgs, err := parser.ParseDir(fset, dir, func(fi fs.FileInfo) bool { return !strings.HasSuffix(fi.Name(), "_test.go") }, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range pkgs {
			for name, f := range p.Files {
				ast.Inspect(f, func(n ast.Node) bool {
					switch x := n.(type) {
					case *ast.Ident:
						switch x.Name {
						case "float32", "float64", "complex64", "complex128":
							t.Errorf("%s: %s uses %s", name, fset.Position(x.Pos()), x.Name)
						}
					case *ast.BasicLit:
						if x.Kind == token.FLOAT || x.Kind == token.IMAG {
							t.Errorf("%s: float literal %s", fset.Position(x.Pos()), x.Value)
						}
					}
					return true
				})
			}
		}
	}
}
