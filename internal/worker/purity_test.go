package worker

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

// TestPurity fails when the worker core's non-test import graph reaches
// I/O, the network, the clock or randomness, or the node's heavy parts: no
// package outside the standard library in the graph may import the
// forbidden packages directly, and some packages must not appear anywhere.
func TestPurity(t *testing.T) {
	// Key generation and randomized signing in internal/keys and its
	// dependencies; the core signs only with SignDeterministic
	// (TestDeterministicSigning).
	allowed := puritytest.KeysDeps()
	// secp256k1 key generation (phatwire verifies Ethereum-signed
	// certificates with it); the core only decodes command payloads.
	allowed["github.com/decred/dcrd/dcrec/secp256k1/v4"] = []string{"crypto/rand"}
	puritytest.Check(t, puritytest.Rules{
		Name:    "internal/worker",
		Direct:  puritytest.Forbidden,
		Allowed: allowed,
		Anywhere: append(slices.Clone(puritytest.Heavy),
			"github.com/cometbft/cometbft/node", "github.com/cometbft/cometbft/rpc",
			"github.com/cometbft/cometbft/p2p", "github.com/cometbft/cometbft-db",
			"github.com/syndtr/goleveldb", "github.com/tetratelabs/wazero",
			// The shell and the TEE providers sit around the core, never inside
			// it (the root tee package holds only kinds and interfaces).
			"github.com/cella-network/cella/internal/pruntime",
			"github.com/cella-network/cella/internal/tee/dev", "github.com/cella-network/cella/internal/tee/tdx"),
		MinPackages: 10,
	}, "github.com/cella-network/cella/internal/worker")
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
