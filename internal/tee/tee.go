// Package tee is Cella's abstraction of a trusted execution environment: the
// interface a pRuntime uses to attest, seal and report its measurement
// (Provider), the interface the chain uses to check an attestation at block
// time (Verifier), the typed measurement the registry's allow-list holds, and
// the header every sealed blob carries.
//
// Backends live in their own packages: internal/tee/dev (software only, for
// dev chains) and internal/tee/tdx (Intel TDX: quotes through the kernel's
// configfs-tsm, verification of TDX v4 quotes against Intel collateral).
// docs/tee.md describes what each one guarantees.
//
// Verifiers run inside the chain's state machine: they are pure (no I/O, no
// clock — the block time is passed in), deterministic, and never panic on
// hostile input.
package tee

import (
	"errors"
	"fmt"
)

// Kind names a TEE backend. It appears in registrations, attestations and
// sealed blobs.
type Kind string

// The TEE kinds Cella knows.
const (
	// KindDev is the software-only dev TEE: no hardware, no security.
	KindDev Kind = "dev"
	// KindTDX is Intel TDX.
	KindTDX Kind = "tdx"
)

// MaxKindLen bounds the length of a Kind.
const MaxKindLen = 32

// Valid reports whether k is a well-formed kind name: 1 to MaxKindLen
// characters of [a-z0-9_-]. It says nothing about whether the kind is known.
func (k Kind) Valid() bool { return k.Check() == nil }

// Check returns nil when k is a well-formed kind name (see Valid), and
// otherwise an error saying what is wrong with it. The chain's registry
// checks a registration's TEE kind with it.
func (k Kind) Check() error {
	if k == "" || len(k) > MaxKindLen {
		return fmt.Errorf("TEE kind of %d bytes, want 1 to %d", len(k), MaxKindLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("TEE kind %q: only [a-z0-9_-] allowed", string(k))
		}
	}
	return nil
}

// Provider is the TEE as the pRuntime inside it sees it. Implementations are
// safe for concurrent use.
type Provider interface {
	// Kind names the backend.
	Kind() Kind
	// Attest returns a quote that binds reportData to this TEE's
	// measurement. Its format is the backend's; its kind's Verifier checks it.
	Attest(reportData [64]byte) (quote []byte, err error)
	// Measurement returns the measurement of the code running in this TEE,
	// as a Verifier would report it from this provider's quotes.
	Measurement() (Measurement, error)
	// Seal encrypts plaintext so that only this provider, for the same
	// chain, can open it; aad is authenticated but not stored. The blob
	// starts with a SealHeader naming the provider kind, its dev flag and
	// the chain's genesis hash.
	Seal(plaintext, aad []byte) ([]byte, error)
	// Unseal opens a blob made by Seal with the same aad. A blob of another
	// provider kind, dev flag or genesis is refused with
	// ErrSealedByOtherProvider, ErrSealedDevMismatch or ErrSealedOtherGenesis.
	Unseal(sealed, aad []byte) ([]byte, error)
}

// Verifier checks one kind's quotes. It runs in the chain's state machine at
// block time, so it must be pure (no I/O; nowUnix, the block time in Unix
// seconds, is its only clock), deterministic and safe on hostile input.
type Verifier interface {
	// Verify checks quote, with the collateral its kind needs (empty for
	// kinds that need none), and that it binds reportData; it returns the
	// measurement the quote attests. A genuine quote that binds other report
	// data fails with an error wrapping ErrReportDataMismatch.
	Verify(quote []byte, collateral []byte, reportData [64]byte, nowUnix int64) (Measurement, error)
}

// GenesisBinder is implemented by providers whose genesis hash can be set
// after construction, for a pRuntime that learns its chain only at Init.
type GenesisBinder interface {
	// BindGenesis sets the genesis hash that sealed blobs record and must
	// match. Binding the hash already bound is a no-op; binding another one
	// fails with ErrGenesisRebind.
	BindGenesis(genesisHash [32]byte) error
}

// BindGenesis binds p to a chain when p supports late binding (see
// GenesisBinder); for other providers it does nothing.
func BindGenesis(p Provider, genesisHash [32]byte) error {
	if b, ok := p.(GenesisBinder); ok {
		return b.BindGenesis(genesisHash)
	}
	return nil
}

// Errors shared by every backend.
var (
	// ErrReportDataMismatch means a genuine quote binds other report data
	// than the one expected.
	ErrReportDataMismatch = errors.New("tee: quote binds other report data")
	// ErrUnknownKind means no verifier is configured for a TEE kind.
	ErrUnknownKind = errors.New("tee: unknown or disallowed TEE kind")
	// ErrKindMismatch means a quote or measurement is of another kind than
	// the one it was presented as.
	ErrKindMismatch = errors.New("tee: TEE kind mismatch")
	// ErrBadMeasurement means a measurement's encoding is malformed.
	ErrBadMeasurement = errors.New("tee: malformed measurement")
	// ErrSealingUnsupported means the provider cannot seal (TDX has no
	// sealing instruction; keys will come from a key handover).
	ErrSealingUnsupported = errors.New("tee: sealing is not supported by this provider")
	// ErrGenesisNotBound means Seal or Unseal was called before the provider
	// learnt the chain's genesis hash.
	ErrGenesisNotBound = errors.New("tee: provider not bound to a genesis hash")
	// ErrGenesisRebind means BindGenesis was called with another genesis hash
	// than the one already bound.
	ErrGenesisRebind = errors.New("tee: provider already bound to another genesis hash")
	// ErrVerifierPanic means a verifier panicked; Verifiers turns the panic
	// into this error so that hostile input cannot stop a node.
	ErrVerifierPanic = errors.New("tee: verifier failed internally")
)

// Verifiers dispatches attestations to the verifier of their kind. A kind
// that is absent is refused (ErrUnknownKind): a production chain simply has
// no "dev" entry.
type Verifiers map[Kind]Verifier

// VerifyMeasurement verifies an attestation of the given kind and returns
// its typed measurement. The measurement must be of that kind. A panic in a
// verifier becomes ErrVerifierPanic.
func (vs Verifiers) VerifyMeasurement(kind Kind, quote, collateral []byte, reportData [64]byte, nowUnix int64) (m Measurement, err error) {
	v, ok := vs[kind]
	if !ok || v == nil {
		return Measurement{}, fmt.Errorf("%w: %q", ErrUnknownKind, kind)
	}
	defer func() {
		if r := recover(); r != nil {
			m, err = Measurement{}, fmt.Errorf("%w: %s: %v", ErrVerifierPanic, kind, r)
		}
	}()
	m, err = v.Verify(quote, collateral, reportData, nowUnix)
	if err != nil {
		return Measurement{}, err
	}
	if m.Kind != kind {
		return Measurement{}, fmt.Errorf("%w: %s verifier returned a %q measurement", ErrKindMismatch, kind, m.Kind)
	}
	return m, nil
}

// Verify verifies an attestation of the named kind and returns the canonical
// SCALE encoding of its measurement (whose blake2-256, Measurement.Hash, is
// what an allow-list holds). Its signature is the one the state machine's
// registry expects of an attestation verifier; the caller maps
// ErrReportDataMismatch to its own error if it needs to.
func (vs Verifiers) Verify(kind string, quote, collateral []byte, reportData [64]byte, nowUnix int64) ([]byte, error) {
	m, err := vs.VerifyMeasurement(Kind(kind), quote, collateral, reportData, nowUnix)
	if err != nil {
		return nil, err
	}
	return m.Encode(), nil
}
