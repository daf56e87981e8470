package phatwire

import (
	"slices"
	"testing"

	"github.com/cella-network/cella/internal/puritytest"
)

// TestPurity fails when the package reaches I/O, the network, the clock or
// randomness. The package itself may import none of them (IVs come from
// the caller; signing goes through the caller's Signer); in its non-standard
// dependencies only the listed exceptions may, and some packages may not
// appear at all.
func TestPurity(t *testing.T) {
	// Key generation and randomized signing in internal/keys and its
	// dependencies, which this package leaves to the caller's Signer
	// (keys.Verify is deterministic).
	allowed := puritytest.KeysDeps()
	// Key generation, unused here (ECDSA verification only).
	allowed["github.com/decred/dcrd/dcrec/secp256k1/v4"] = []string{"crypto/rand"}
	puritytest.Check(t, puritytest.Rules{
		Name:    "internal/phatwire",
		Direct:  append(slices.Clone(puritytest.Forbidden), "log", "log/slog"),
		Allowed: allowed,
		Anywhere: append(slices.Clone(puritytest.Heavy), "github.com/cometbft/cometbft", "github.com/tetratelabs/wazero",
			"google.golang.org/grpc", "connectrpc.com/connect",
			// The protobuf runtime reads the executable (detrand) and uses unsafe:
			// protobuf lives in the sub-package prpcpb.
			"google.golang.org/protobuf"),
	}, "github.com/cella-network/cella/internal/phatwire")
}
