package state

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/puritytest"
)

// TestPurity fails when the state machine's non-test import graph reaches
// I/O, the network, the clock or randomness, or the node's heavy parts: no
// package outside the standard library in the graph may import the
// forbidden packages directly, and some packages must not appear anywhere.
func TestPurity(t *testing.T) {
	// Key generation and randomized signing (tx.Sign) in internal/keys and
	// its dependencies; the state machine only verifies.
	allowed := puritytest.KeysDeps()
	var modules []string
	// Every module package must be in the graph checked here.
	for _, m := range []string{"balances", "validators", "mq", "registry", "admin", "gatekeeper", "phat", "modules"} {
		modules = append(modules, "github.com/cella-network/cella/internal/state/"+m)
	}
	// The kernel, every module package, the table that wires them and the
	// messages they share.
	graph := puritytest.Check(t, puritytest.Rules{
		Name:    "internal/state",
		Direct:  puritytest.Forbidden,
		Allowed: allowed,
		Anywhere: append(slices.Clone(puritytest.Heavy),
			"github.com/cometbft/cometbft/node", "github.com/cometbft/cometbft/rpc",
			"github.com/cometbft/cometbft/p2p", "github.com/cometbft/cometbft-db",
			"github.com/syndtr/goleveldb", "github.com/tetratelabs/wazero",
			// The registry names TEE kinds (internal/tee); the verifiers are
			// injected, never imported.
			"github.com/cella-network/cella/internal/tee/dev", "github.com/cella-network/cella/internal/tee/tdx",
			"github.com/google/go-tdx-guest"),
		MinPackages: 10,
		Require:     modules,
	}, "github.com/cella-network/cella/internal/state/...", "github.com/cella-network/cella/internal/msg")
	// internal/msg is shared by the chain and the workers: it stays a leaf.
	const msgPkg = "github.com/cella-network/cella/internal/msg"
	msgImports := []string{
		"github.com/cella-network/cella/internal/scale",
		"github.com/cella-network/cella/internal/keys",
		"github.com/cella-network/cella/internal/hashing",
		// Key shares carry cipher.EncryptedKey (pure: crypto, no I/O).
		"github.com/cella-network/cella/internal/cipher",
	}
	for _, p := range graph {
		if p.Path != msgPkg {
			continue
		}
		for _, imp := range p.Imports {
			if strings.Contains(imp, ".") && !slices.Contains(msgImports, imp) {
				t.Errorf("%s imports %s: messages may use only the codec, keys, hashing and cipher", p.Path, imp)
			}
		}
	}
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
