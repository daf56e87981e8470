package node

import (
	"errors"
	"fmt"

	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tee/dev"
)

// AttestationVerifier returns the verifier the registry uses at block time
// for the chain g: dev quotes (signed by the genesis's dev root) only when
// the genesis allows them, and every hardware TEE Cella supports.
func AttestationVerifier(g *state.Genesis) state.AttestationVerifier {
	vs := tee.Verifiers{}
	if r := g.App.Registry; r.AllowDevAttestation {
		vs[tee.KindDev] = dev.NewVerifier(r.DevAttestationRoot)
	}
	addHardwareVerifiers(vs)
	return verifierAdapter{vs}
}

// verifierAdapter maps the TEE package's errors onto the state machine's.
type verifierAdapter struct{ vs tee.Verifiers }

func (a verifierAdapter) Verify(kind string, quote, collateral []byte, reportData [64]byte, nowUnix int64) ([]byte, error) {
	m, err := a.vs.Verify(kind, quote, collateral, reportData, nowUnix)
	if errors.Is(err, tee.ErrReportDataMismatch) {
		return nil, fmt.Errorf("%w: %v", state.ErrReportDataMismatch, err)
	}
	return m, err
}
