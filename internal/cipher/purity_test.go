package cipher

import (
	"slices"
	"testing"

	"github.com/cella-network/cella/internal/puritytest"
)

// TestPurity fails when the package reaches I/O, the network, the clock or
// randomness. The package itself may import none of them (its randomness is
// an io.Reader its caller passes); in its non-standard dependencies only the
// listed exceptions may, and some packages may not appear at all.
func TestPurity(t *testing.T) {
	// Key generation and randomized signing in internal/keys and its
	// dependencies; this package uses neither (signing is not part of it,
	// IVs come from the caller).
	allowed := puritytest.KeysDeps()
	puritytest.Check(t, puritytest.Rules{
		Name:    "internal/cipher",
		Direct:  append(slices.Clone(puritytest.Forbidden), "log", "log/slog"),
		Allowed: allowed,
		Anywhere: append(slices.Clone(puritytest.Heavy), "github.com/cometbft/cometbft", "github.com/tetratelabs/wazero",
			"google.golang.org/grpc", "connectrpc.com/connect"),
	}, "github.com/cella-network/cella/internal/cipher")
}
