// Package dev is the software-only "dev" TEE: it lets a whole Cella network
// run on a laptop with the same registration, attestation and sealing code
// paths as production, and protects nothing.
//
//   - Quotes are SCALE records signed (sr25519) by the dev root key, whose
//     secret is public by construction (RootURI). A chain accepts them only
//     where its genesis names that root and allows dev attestations.
//   - The measurement is blake2-256 of a build identifier the caller passes
//     in (the pRuntime binary's hash, or a constant in tests). Nothing checks
//     that the running code matches it.
//   - Sealing is AES-256-GCM under a key file on disk (0600), with the
//     sealed-blob header (kind "dev", dev flag, genesis hash) bound as
//     associated data and into the key derivation.
//
// Constructing a provider logs a loud warning.
package dev

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tee"
)

// RootURI is the secret URI of the dev TEE root key. Its public key
// (RootPublicKey) is what a dev genesis names as the dev attestation root.
// Anyone can derive the secret: dev quotes prove nothing.
const RootURI = "//CellaDevTeeRoot"

// QuoteVersion is the version of the dev quote format.
const QuoteVersion uint8 = 1

// quoteDomain prefixes the message the dev root signs.
const quoteDomain = "cella/tee/dev-quote/v1"

// MaxQuoteSize bounds a dev quote; real ones are about 170 bytes.
const MaxQuoteSize = 1024

// Errors of the dev TEE.
var (
	// ErrMalformedQuote means the bytes do not decode as a dev quote.
	ErrMalformedQuote = errors.New("dev tee: malformed quote")
	// ErrQuoteVersion means the quote has an unknown format version.
	ErrQuoteVersion = errors.New("dev tee: unknown quote version")
	// ErrBadSignature means the quote is not signed by the expected dev root.
	ErrBadSignature = errors.New("dev tee: quote not signed by the dev root")
	// ErrUnexpectedCollateral means collateral came with a dev quote, which
	// needs none.
	ErrUnexpectedCollateral = errors.New("dev tee: dev quotes take no collateral")
)

// RootPair returns the dev root key pair.
func RootPair() *keys.Pair {
	p, err := keys.FromURI(RootURI)
	if err != nil { // a fixed, valid URI
		panic(fmt.Sprintf("dev tee: deriving %s: %v", RootURI, err))
	}
	return p
}

// RootPublicKey returns the dev root's public key.
func RootPublicKey() keys.PublicKey { return RootPair().Public() }

// MeasurementOf returns the dev measurement of a build identifier:
// blake2-256 of its bytes.
func MeasurementOf(buildID []byte) tee.Measurement {
	return tee.NewDevMeasurement(hashing.Blake2b256(buildID))
}

// Quote is a decoded dev quote.
type Quote struct {
	// Version is QuoteVersion.
	Version uint8
	// Kind is always "dev".
	Kind tee.Kind
	// Measurement is the attested (claimed) measurement.
	Measurement tee.Measurement
	// ReportData is the data the quote binds.
	ReportData [64]byte
	// Signature is the dev root's sr25519 signature over SigningPayload.
	Signature keys.Signature
}

// EncodeSCALE writes (u8, String, Measurement, [u8; 64], [u8; 64]).
func (q *Quote) EncodeSCALE(w *scale.Writer) {
	q.encodeUnsigned(w)
	w.Raw(q.Signature[:])
}

func (q *Quote) encodeUnsigned(w *scale.Writer) {
	w.U8(q.Version)
	w.String(string(q.Kind))
	q.Measurement.EncodeSCALE(w)
	w.Raw(q.ReportData[:])
}

// DecodeSCALE reads a quote.
func (q *Quote) DecodeSCALE(r *scale.Reader) {
	q.Version = r.U8()
	q.Kind = tee.Kind(r.String())
	q.Measurement.DecodeSCALE(r)
	r.Fixed(q.ReportData[:])
	r.Fixed(q.Signature[:])
}

// SigningPayload is what the dev root signs: the domain string followed by
// the quote's encoding without its signature.
func (q *Quote) SigningPayload() []byte {
	w := scale.NewWriter(len(quoteDomain) + 160)
	w.Raw([]byte(quoteDomain))
	q.encodeUnsigned(w)
	return w.Bytes()
}

// DecodeQuote decodes a dev quote strictly: the whole input, the known
// version, kind "dev" and a dev measurement. It does not check the signature.
func DecodeQuote(b []byte) (*Quote, error) {
	if len(b) > MaxQuoteSize {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformedQuote, len(b))
	}
	var q Quote
	if err := scale.Decode(b, &q); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrMalformedQuote, err)
	}
	if q.Version != QuoteVersion {
		return nil, fmt.Errorf("%w: %d", ErrQuoteVersion, q.Version)
	}
	if q.Kind != tee.KindDev || q.Measurement.Kind != tee.KindDev {
		return nil, fmt.Errorf("%w: quote of kind %q with a %q measurement", tee.ErrKindMismatch, q.Kind, q.Measurement.Kind)
	}
	return &q, nil
}

// Verifier checks dev quotes against one dev root public key (the one the
// chain's genesis names). It is pure and safe for concurrent use.
type Verifier struct {
	root keys.PublicKey
}

// NewVerifier returns a verifier that trusts quotes signed by root.
func NewVerifier(root keys.PublicKey) *Verifier { return &Verifier{root: root} }

// Verify checks that quote is a dev quote signed by the verifier's root and
// that it binds reportData, and returns its measurement. Dev quotes carry no
// collateral and do not depend on time.
func (v *Verifier) Verify(quote, collateral []byte, reportData [64]byte, _ int64) (tee.Measurement, error) {
	if len(collateral) != 0 {
		return tee.Measurement{}, ErrUnexpectedCollateral
	}
	q, err := DecodeQuote(quote)
	if err != nil {
		return tee.Measurement{}, err
	}
	if !keys.Verify(v.root, q.SigningPayload(), q.Signature) {
		return tee.Measurement{}, ErrBadSignature
	}
	if q.ReportData != reportData {
		return tee.Measurement{}, fmt.Errorf("dev tee: %w", tee.ErrReportDataMismatch)
	}
	return q.Measurement, nil
}

// Config configures a dev Provider.
type Config struct {
	// BuildID identifies the code the provider claims to run: the pRuntime
	// binary's hash in a dev deployment, a constant in tests. The
	// measurement is its blake2-256. Required.
	BuildID []byte
	// SealDir is the folder that holds the sealing key file (created 0700
	// when missing; the key, 0600, at first use). Required.
	SealDir string
	// GenesisHash binds sealed data to a chain. When zero, the provider must
	// be bound later with BindGenesis before it seals or unseals.
	GenesisHash [32]byte
	// Root signs quotes; RootPair() when nil.
	Root *keys.Pair
	// Log receives the start-up warning; slog.Default() when nil.
	Log *slog.Logger
}

// Provider is the dev TEE. It is safe for concurrent use.
type Provider struct {
	root        *keys.Pair
	measurement tee.Measurement
	sealDir     string

	mu      sync.Mutex
	genesis [32]byte
	bound   bool
	key     []byte // the seal key file's 32 bytes, once loaded
}

var (
	_ tee.Provider      = (*Provider)(nil)
	_ tee.GenesisBinder = (*Provider)(nil)
	_ tee.Verifier      = (*Verifier)(nil)
)

// New returns a dev provider and logs, loudly, that it is not secure.
func New(cfg Config) (*Provider, error) {
	if len(cfg.BuildID) == 0 {
		return nil, errors.New("dev tee: no build identifier")
	}
	if cfg.SealDir == "" {
		return nil, errors.New("dev tee: no seal directory")
	}
	root := cfg.Root
	if root == nil {
		root = RootPair()
	}
	p := &Provider{
		root:        root,
		measurement: MeasurementOf(cfg.BuildID),
		sealDir:     cfg.SealDir,
	}
	if cfg.GenesisHash != ([32]byte{}) {
		p.genesis, p.bound = cfg.GenesisHash, true
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	log.Warn("DEV TEE: NOT SECURE. Software-only TEE: quotes are signed by a publicly known dev key and "+
		"sealed data is protected only by a key file on disk. Use on dev chains only.",
		"measurement", p.measurement.String(), "seal_key", p.keyPath(), "root", root.Public().Hex())
	return p, nil
}

// Kind returns tee.KindDev.
func (p *Provider) Kind() tee.Kind { return tee.KindDev }

// Measurement returns blake2-256 of the build identifier, as a dev measurement.
func (p *Provider) Measurement() (tee.Measurement, error) { return p.measurement, nil }

// Attest returns a dev quote binding reportData to the provider's measurement.
func (p *Provider) Attest(reportData [64]byte) ([]byte, error) {
	q := Quote{Version: QuoteVersion, Kind: tee.KindDev, Measurement: p.measurement, ReportData: reportData}
	q.Signature = p.root.SignDeterministic(q.SigningPayload())
	return scale.Encode(&q), nil
}

// BindGenesis binds the provider to a chain (see tee.GenesisBinder).
func (p *Provider) BindGenesis(genesisHash [32]byte) error {
	if genesisHash == ([32]byte{}) {
		return errors.New("dev tee: zero genesis hash")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bound {
		if p.genesis != genesisHash {
			return fmt.Errorf("%w: bound to %x, not %x", tee.ErrGenesisRebind, p.genesis, genesisHash)
		}
		return nil
	}
	p.genesis, p.bound = genesisHash, true
	return nil
}

// header returns the header this provider writes and expects.
func (p *Provider) header() (tee.SealHeader, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.bound {
		return tee.SealHeader{}, tee.ErrGenesisNotBound
	}
	return tee.SealHeader{Kind: tee.KindDev, Dev: true, GenesisHash: p.genesis}, nil
}
