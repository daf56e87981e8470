package phatwire

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestPurity fails when the package reaches I/O, the network, the clock or
// randomness. The package itself may import none of them (IVs come from
// the caller; signing goes through the caller's Signer); in its non-standard dependencies only the
// listed exceptions may, and some packages may not appear at all. (Go's
// standard library itself imports os and time, so the rule is checked on
// direct imports, as internal/state's purity test does.)
func TestPurity(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list")
	}
	const self = "github.com/cella-network/cella/internal/phatwire"
	out, err := exec.Command("go", "list", "-deps",
		"-f", "{{.ImportPath}}|{{.Standard}}|{{join .Imports \" \"}}", self).CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	direct := []string{"os", "os/exec", "os/signal", "net", "net/http", "time", "math/rand", "math/rand/v2",
		"syscall", "io/fs", "io/ioutil", "path/filepath", "unsafe", "runtime/cgo", "crypto/rand", "log", "log/slog"}
	allowed := map[string][]string{
		// CPU feature detection reads /proc/self/auxv on some platforms.
		"golang.org/x/sys/cpu": {"os", "unsafe"},
		// Key generation and randomized signing, which this package leaves
		// to the caller's Signer (keys.Verify is deterministic).
		"github.com/cella-network/cella/internal/keys": {"crypto/rand"},
		"github.com/ChainSafe/go-schnorrkel":           {"crypto/rand"},
		// Key generation, unused here (ECDSA verification only).
		"github.com/decred/dcrd/dcrec/secp256k1/v4":                  {"crypto/rand"},
		"github.com/cosmos/go-bip39":                                 {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/curve":              {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/curve/scalar":       {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/primitives/merlin":  {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/primitives/sr25519": {"crypto/rand"},
		"github.com/oasisprotocol/curve25519-voi/internal/strobe":    {"unsafe"},
		"golang.org/x/crypto/internal/alias":                         {"unsafe"},
	}
	anywhere := []string{"net", "net/http", "os/exec", "database/sql",
		"github.com/cockroachdb/pebble", "github.com/cometbft/cometbft", "github.com/tetratelabs/wazero",
		"google.golang.org/grpc", "connectrpc.com/connect",
		// The protobuf runtime reads the executable (detrand) and uses unsafe:
		// protobuf lives in the sub-package prpcpb.
		"google.golang.org/protobuf"}
	var sawSelf bool
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.SplitN(line, "|", 3)
		if len(parts) != 3 {
			t.Fatalf("unexpected go list line %q", line)
		}
		path, std, imports := parts[0], parts[1] == "true", strings.Fields(parts[2])
		for _, f := range anywhere {
			if path == f || strings.HasPrefix(path, f+"/") {
				t.Errorf("import graph of internal/phatwire contains %s", path)
			}
		}
		if std {
			continue
		}
		if path == self {
			sawSelf = true
		}
		for _, imp := range imports {
			if slices.Contains(direct, imp) && (path == self || !slices.Contains(allowed[path], imp)) {
				t.Errorf("%s imports %s", path, imp)
			}
		}
	}
	if !sawSelf {
		t.Fatal("go list did not list the package itself")
	}
}
