package pruntime

import (
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tee/dev"
	"github.com/cella-network/cella/internal/tee/tdx"
)

// DefaultAttestationVerifier is the verifier a gatekeeper's core uses to
// check a worker before it sends it a key: TDX quotes always, dev quotes
// only when the chain allows them (devRoot non-nil), signed by the chain's
// dev root. It is what the registry runs at block time (node
// AttestationVerifier), re-run inside the pRuntime.
type DefaultAttestationVerifier struct{}

// Verify implements worker.AttestationVerifier.
func (DefaultAttestationVerifier) Verify(att msg.Attestation, reportData [64]byte, nowUnix int64, devRoot *keys.PublicKey) (tee.Measurement, error) {
	vs := tee.Verifiers{tee.KindTDX: tdx.NewVerifier(tdx.Policy{})}
	if devRoot != nil {
		vs[tee.KindDev] = dev.NewVerifier(*devRoot)
	}
	return vs.VerifyMeasurement(tee.Kind(att.Kind), att.Quote, att.Collateral, reportData, nowUnix)
}
