// Package puritytest checks a package's non-test import graph against
// purity rules: which imports mean I/O, the network, the clock or
// randomness, which dependencies may use them anyway (and why), and which
// packages must not appear in the graph at all. It is for tests only.
//
// Go's standard library itself imports os and time (fmt → os → time), so the
// direct-import rule applies where it means something: to packages outside
// the standard library (ours or third-party).
package puritytest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// Forbidden lists the imports that mean I/O, the network, the clock or
// randomness; a Rules.Direct list usually starts from it.
var Forbidden = []string{"os", "os/exec", "os/signal", "net", "net/http", "time", "math/rand", "math/rand/v2",
	"syscall", "io/fs", "io/ioutil", "path/filepath", "unsafe", "runtime/cgo", "crypto/rand"}

// Heavy lists packages (prefixes) that no pure package's graph may contain:
// the network, storage and the contract engine.
var Heavy = []string{"net", "net/http", "os/exec", "database/sql", "github.com/cockroachdb/pebble"}

// KeysDeps returns the exceptions internal/keys and its dependencies need:
// CPU feature detection (golang.org/x/sys/cpu reads /proc/self/auxv on some
// platforms), unsafe in two crypto internals, and crypto/rand for key
// generation and randomized signing. The caller says, where it uses them,
// why its package does not reach the randomness.
func KeysDeps() map[string][]string {
	return map[string][]string{
		"golang.org/x/sys/cpu":                                       {"os", "unsafe"},
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
}

// Rules are one package's purity rules.
type Rules struct {
	// Name labels the checked graph in messages ("internal/state").
	Name string
	// Direct imports no non-standard package in the graph may have,
	// except as Allowed.
	Direct []string
	// Allowed maps a package to the Direct imports it may use. The
	// packages passed to Check by exact path get no exceptions.
	Allowed map[string][]string
	// Anywhere lists packages (and their sub-packages) that must not be
	// in the graph at all.
	Anywhere []string
	// MinPackages fails the check when go list returns fewer packages.
	MinPackages int
	// Require lists packages that must be in the graph (so that the rules
	// are known to cover them).
	Require []string
}

// Package is one package of the checked graph.
type Package struct {
	Path     string
	Standard bool
	Imports  []string
}

// Check lists the non-test dependencies of the patterns with go list, fails
// t for every broken rule and returns the graph for further checks. It
// skips in -short mode. Every pattern without "..." must be in the graph.
func Check(t *testing.T, r Rules, patterns ...string) []Package {
	t.Helper()
	if testing.Short() {
		t.Skip("runs go list")
	}
	args := append([]string{"list", "-deps", "-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \" \"}}"}, patterns...)
	out, err := exec.Command("go", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	var roots []string
	for _, p := range patterns {
		if !strings.Contains(p, "...") {
			roots = append(roots, p)
		}
	}
	var graph []Package
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		p := Package{Path: parts[0], Standard: parts[1] == "true", Imports: strings.Fields(parts[2])}
		graph = append(graph, p)
		seen[p.Path] = true
		for _, f := range r.Anywhere {
			if p.Path == f || strings.HasPrefix(p.Path, f+"/") {
				t.Errorf("import graph of %s contains %s", r.Name, p.Path)
			}
		}
		if p.Standard {
			continue
		}
		root := slices.Contains(roots, p.Path)
		for _, imp := range p.Imports {
			if slices.Contains(r.Direct, imp) && (root || !slices.Contains(r.Allowed[p.Path], imp)) {
				t.Errorf("%s imports %s", p.Path, imp)
			}
		}
	}
	for _, p := range append(roots, r.Require...) {
		if !seen[p] {
			t.Errorf("go list did not list %s", p)
		}
	}
	if len(graph) < r.MinPackages {
		t.Fatalf("go list returned only %d packages", len(graph))
	}
	return graph
}
