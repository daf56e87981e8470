package state

import "errors"

// The kernel's ports for the registry: the attestation verifier and the
// oracle of committed block hashes, both provided by the Machine's caller.

// ErrReportDataMismatch is wrapped by an AttestationVerifier's error when the
// quote is genuine but binds other report data than the registration's. The
// registry reports it as CodeReportDataMismatch; any other error is
// CodeBadAttestation.
var ErrReportDataMismatch = errors.New("state: attestation binds other report data")

// ErrAttestationUnverifiable is wrapped by an AttestationVerifier's error
// when it cannot judge the attestation at all (no verifier is configured);
// the registry reports it as CodeAttestationUnverifiable.
var ErrAttestationUnverifiable = errors.New("state: no attestation verifier")

// AttestationVerifier verifies TEE attestations for the registry. It is
// given the TEE kind, the quote and collateral from the transaction, the
// report data the quote must bind and the block time in Unix seconds (the
// only clock: collateral validity is judged against it). It returns the
// canonical SCALE encoding of the typed measurement the quote attests
// (whose blake2-256 the allow-list holds), or an error.
//
// It must be deterministic (the same inputs give the same answer on every
// node, at any later time) and safe on hostile input. The node wires the
// real verifiers (internal/tee); a Machine without one fails every
// registration with CodeAttestationUnverifiable. The registry module
// (internal/state/registry) calls it and judges its errors.
type AttestationVerifier interface {
	Verify(kind string, quote, collateral []byte, reportData [64]byte, nowUnix int64) (measurement []byte, err error)
}

// WithAttestationVerifier sets the verifier of worker attestations.
func WithAttestationVerifier(v AttestationVerifier) Option {
	return func(m *Machine) { m.verifier = v }
}

// BlockHashes answers the hash of a committed block: the state machine
// cannot know block hashes, so its caller provides them (the ABCI app records
// each block's hash at Commit). It must answer the same on every node.
type BlockHashes interface {
	// BlockHash returns the hash of the block at height, and false when it
	// is not known (not committed yet, or not recorded).
	BlockHash(height int64) ([32]byte, bool)
}
