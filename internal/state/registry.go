package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tx"
)

// The registry module (index 4) keeps the workers: pRuntimes that proved,
// through a TEE attestation verified at block time, that they run a
// measurement on the chain's allow-list and hold the keys they registered.
const (
	// ModuleRegistry is the worker registry.
	ModuleRegistry uint8 = 4
	// MethodRegisterWorker is registry.register_worker(RegistrationInfo, Attestation).
	MethodRegisterWorker uint8 = 0
)

// RegistryModuleName is the registry's name in its message origin.
const RegistryModuleName = "registry"

// TopicWorkerRegistered is the topic of the message the registry emits
// (origin OriginModule("registry")) for every successful registration; its
// payload is SCALE(WorkerRecord).
const TopicWorkerRegistered = "registry/worker"

// TEE kinds known today. Any kind of 1..MaxTeeKindLen bytes of [a-z0-9_-]
// decodes; the AttestationVerifier decides which it can verify.
const (
	TeeKindDev = "dev"
	TeeKindTDX = "tdx"
	// MaxTeeKindLen bounds a TEE kind name.
	MaxTeeKindLen = 32
)

// FreshnessWindow is how many heights back a registration's RecentBlock may
// lie: at block height H it must be in [H-FreshnessWindow, H-1].
const FreshnessWindow = 600

// MaxMeasurementBytes bounds the canonical measurement a verifier returns.
const MaxMeasurementBytes = 4096

// RegisterWorkerWeight is the weight of registry.register_worker, dominated
// by the verification of a TDX quote and its collateral (about 5 ms).
const RegisterWorkerWeight uint64 = 5_000_000

// DevTeeRootURI is the secret URI of the dev TEE root whose public key
// DevGenesis names as DevAttestationRoot. Dev quotes are signed with it;
// a chain that allows dev attestations trusts nothing else about them.
const DevTeeRootURI = "//CellaDevTeeRoot"

// Storage of the registry:
//
//	"registry/config"               → SCALE(RegistryConfig)
//	"registry/measurements"         → SCALE(Vec<[u8; 32]>), sorted: the allow-list
//	"registry/index"                → SCALE(Vec<[u8; 32]>), sorted: identity keys of all workers
//	"registry/worker/" ‖ identity   → SCALE(WorkerRecord)
var (
	KeyRegistryConfig = []byte("registry/config")
	KeyMeasurements   = []byte("registry/measurements")
	KeyWorkerIndex    = []byte("registry/index")
	PrefixWorker      = []byte("registry/worker/")
)

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
// registration with CodeAttestationUnverifiable.
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

// PRuntimeVersion is a pRuntime's semantic version.
type PRuntimeVersion struct{ Major, Minor, Patch uint32 }

// String renders "major.minor.patch".
func (v PRuntimeVersion) String() string { return fmt.Sprintf("%d.%d.%d", v.Major, v.Minor, v.Patch) }

// BlockRef names a block by height and hash.
type BlockRef struct {
	Height uint64
	Hash   [32]byte
}

// RegistrationInfo is what a worker registers, bound into its attestation
// through ReportData.
type RegistrationInfo struct {
	// IdentityPublicKey is the worker's sr25519 identity key: it signs egress.
	IdentityPublicKey keys.PublicKey
	// EcdhPublicKey is the worker's key for encrypted channels.
	EcdhPublicKey [32]byte
	// Operator is the account that runs the worker.
	Operator keys.PublicKey
	// GenesisHash is the chain the pRuntime was initialised with.
	GenesisHash [32]byte
	// PRuntimeVersion is the pRuntime's software version.
	PRuntimeVersion PRuntimeVersion
	// MaxAppVersion is the highest state-machine version the pRuntime understands.
	MaxAppVersion uint64
	// RecentBlock is a recent block the pRuntime verified, for freshness.
	RecentBlock BlockRef
	// TeeKind names the TEE ("dev", "tdx"); the attestation's kind must match.
	TeeKind string
}

// EncodeSCALE writes the info:
// ([u8;32], [u8;32], [u8;32], [u8;32], (u32, u32, u32), u64, (u64, [u8;32]), String).
func (i *RegistrationInfo) EncodeSCALE(w *scale.Writer) {
	w.Raw(i.IdentityPublicKey[:])
	w.Raw(i.EcdhPublicKey[:])
	w.Raw(i.Operator[:])
	w.Raw(i.GenesisHash[:])
	w.U32(i.PRuntimeVersion.Major)
	w.U32(i.PRuntimeVersion.Minor)
	w.U32(i.PRuntimeVersion.Patch)
	w.U64(i.MaxAppVersion)
	w.U64(i.RecentBlock.Height)
	w.Raw(i.RecentBlock.Hash[:])
	w.String(i.TeeKind)
}

// DecodeSCALE reads the info.
func (i *RegistrationInfo) DecodeSCALE(r *scale.Reader) {
	r.Fixed(i.IdentityPublicKey[:])
	r.Fixed(i.EcdhPublicKey[:])
	r.Fixed(i.Operator[:])
	r.Fixed(i.GenesisHash[:])
	i.PRuntimeVersion.Major = r.U32()
	i.PRuntimeVersion.Minor = r.U32()
	i.PRuntimeVersion.Patch = r.U32()
	i.MaxAppVersion = r.U64()
	i.RecentBlock.Height = r.U64()
	r.Fixed(i.RecentBlock.Hash[:])
	i.TeeKind = r.String()
}

// ReportData is what the attestation must bind: blake2-256(SCALE(info))
// followed by 32 zero bytes.
func (i *RegistrationInfo) ReportData() [64]byte {
	var rd [64]byte
	h := hashing.Blake2b256(scale.Encode(i))
	copy(rd[:], h[:])
	return rd
}

// Attestation is a TEE's evidence for a registration: the quote and the
// collateral needed to verify it at block time.
type Attestation struct {
	Kind       string
	Quote      []byte
	Collateral []byte
}

// EncodeSCALE writes (String, Vec<u8>, Vec<u8>).
func (a *Attestation) EncodeSCALE(w *scale.Writer) {
	w.String(a.Kind)
	w.BytesVec(a.Quote)
	w.BytesVec(a.Collateral)
}

// DecodeSCALE reads an attestation.
func (a *Attestation) DecodeSCALE(r *scale.Reader) {
	a.Kind = r.String()
	a.Quote = r.BytesVec()
	a.Collateral = r.BytesVec()
}

// WorkerRecord is the registry's record of a worker.
type WorkerRecord struct {
	// Info is the latest registration (operator, keys, versions, TEE kind).
	Info RegistrationInfo
	// MeasurementHash is blake2-256(Measurement), found on the allow-list.
	MeasurementHash [32]byte
	// Measurement is the canonical SCALE measurement the verifier returned.
	Measurement []byte
	// RegisteredAt is the height of the latest (re-)registration.
	RegisteredAt uint64
	// FirstRegisteredAt is the height of the first registration.
	FirstRegisteredAt uint64
}

// EncodeSCALE writes (RegistrationInfo, [u8;32], Vec<u8>, u64, u64).
func (w *WorkerRecord) EncodeSCALE(sw *scale.Writer) {
	w.Info.EncodeSCALE(sw)
	sw.Raw(w.MeasurementHash[:])
	sw.BytesVec(w.Measurement)
	sw.U64(w.RegisteredAt)
	sw.U64(w.FirstRegisteredAt)
}

// DecodeSCALE reads a record.
func (w *WorkerRecord) DecodeSCALE(r *scale.Reader) {
	w.Info.DecodeSCALE(r)
	r.Fixed(w.MeasurementHash[:])
	w.Measurement = r.BytesVec()
	w.RegisteredAt = r.U64()
	w.FirstRegisteredAt = r.U64()
}

// RegistryConfig is the registry's stored configuration (from the genesis;
// governance will change it later).
type RegistryConfig struct {
	// AllowDevAttestation admits attestations of kind "dev" (dev chains only).
	AllowDevAttestation bool
	// DevAttestationRoot is the sr25519 key that signs dev quotes.
	DevAttestationRoot [32]byte
}

// EncodeSCALE writes (bool, [u8; 32]).
func (c *RegistryConfig) EncodeSCALE(w *scale.Writer) {
	w.Bool(c.AllowDevAttestation)
	w.Raw(c.DevAttestationRoot[:])
}

// DecodeSCALE reads the config.
func (c *RegistryConfig) DecodeSCALE(r *scale.Reader) {
	c.AllowDevAttestation = r.Bool()
	r.Fixed(c.DevAttestationRoot[:])
}

// MeasurementHash is the allow-list entry of a canonical measurement:
// blake2-256 of its bytes.
func MeasurementHash(measurement []byte) [32]byte { return hashing.Blake2b256(measurement) }

// WorkerKey returns the storage key of a worker's record.
func WorkerKey(identity keys.PublicKey) []byte {
	k := make([]byte, 0, len(PrefixWorker)+32)
	k = append(k, PrefixWorker...)
	return append(k, identity[:]...)
}

// GetWorker reads a worker's record; false when it is not registered.
func GetWorker(st Store, identity keys.PublicKey) (WorkerRecord, bool, error) {
	v, err := st.Get(WorkerKey(identity))
	if err != nil {
		return WorkerRecord{}, false, fmt.Errorf("state: reading worker: %w", err)
	}
	if v == nil {
		return WorkerRecord{}, false, nil
	}
	var rec WorkerRecord
	if err := scale.Decode(v, &rec); err != nil {
		return WorkerRecord{}, false, fmt.Errorf("%w: worker %s: %w", ErrCorruptState, identity.Hex(), err)
	}
	return rec, true, nil
}

// ListWorkers returns every worker's record, sorted by identity key.
func ListWorkers(st Store) ([]WorkerRecord, error) {
	ids, err := getKeyList(st, KeyWorkerIndex)
	if err != nil {
		return nil, err
	}
	out := make([]WorkerRecord, 0, len(ids))
	for _, id := range ids {
		rec, ok, err := GetWorker(st, keys.PublicKey(id))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: worker %s is indexed but has no record", ErrCorruptState, keys.PublicKey(id).Hex())
		}
		out = append(out, rec)
	}
	return out, nil
}

// GetRegistryConfig reads the registry's configuration (zero when absent).
func GetRegistryConfig(st Store) (RegistryConfig, error) {
	v, err := st.Get(KeyRegistryConfig)
	if err != nil {
		return RegistryConfig{}, fmt.Errorf("state: reading registry config: %w", err)
	}
	var c RegistryConfig
	if v == nil {
		return c, nil
	}
	if err := scale.Decode(v, &c); err != nil {
		return RegistryConfig{}, fmt.Errorf("%w: registry config: %w", ErrCorruptState, err)
	}
	return c, nil
}

// AllowedMeasurements returns the allow-list of measurement hashes, sorted.
func AllowedMeasurements(st Store) ([][32]byte, error) {
	return getKeyList(st, KeyMeasurements)
}

// getKeyList reads a sorted SCALE Vec<[u8; 32]>.
func getKeyList(st Store, key []byte) ([][32]byte, error) {
	v, err := st.Get(key)
	if err != nil {
		return nil, fmt.Errorf("state: reading %s: %w", key, err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 32, func(r *scale.Reader) (k [32]byte) { r.Fixed(k[:]); return k })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptState, key, err)
	}
	return out, nil
}

// putKeyList stores a list of 32-byte keys after sorting and deduplicating it.
func putKeyList(ov *Overlay, key []byte, list [][32]byte) {
	list = slices.Clone(list)
	slices.SortFunc(list, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	list = slices.Compact(list)
	w := scale.NewWriter(1 + 32*len(list))
	scale.WriteVec(w, list, func(w *scale.Writer, k [32]byte) { w.Raw(k[:]) })
	ov.setOwned(key, w.Bytes())
}

// containsKey reports whether the sorted list holds k.
func containsKey(list [][32]byte, k [32]byte) bool {
	_, ok := slices.BinarySearchFunc(list, k, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return ok
}

// RegisterWorkerCall builds registry.register_worker(info, att).
func RegisterWorkerCall(info RegistrationInfo, att Attestation) tx.Call {
	w := scale.NewWriter(200 + len(att.Quote) + len(att.Collateral))
	info.EncodeSCALE(w)
	att.EncodeSCALE(w)
	return tx.Call{Module: ModuleRegistry, Method: MethodRegisterWorker, Args: w.Bytes()}
}

// DecodeRegisterWorkerArgs decodes the arguments of registry.register_worker
// and checks them statically: a well-formed TEE kind, equal in the info and
// the attestation.
func DecodeRegisterWorkerArgs(args []byte) (RegistrationInfo, Attestation, error) {
	var info RegistrationInfo
	var att Attestation
	r := scale.NewReader(args)
	info.DecodeSCALE(r)
	att.DecodeSCALE(r)
	if err := r.Finish(); err != nil {
		return info, att, fmt.Errorf("registry.register_worker args: %w", err)
	}
	if err := checkTeeKind(info.TeeKind); err != nil {
		return info, att, fmt.Errorf("registry.register_worker args: %w", err)
	}
	if att.Kind != info.TeeKind {
		return info, att, fmt.Errorf("registry.register_worker args: attestation kind %q differs from the info's TEE kind %q", att.Kind, info.TeeKind)
	}
	return info, att, nil
}

func checkTeeKind(k string) error {
	if k == "" || len(k) > MaxTeeKindLen {
		return fmt.Errorf("TEE kind of %d bytes, want 1 to %d", len(k), MaxTeeKindLen)
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return fmt.Errorf("TEE kind %q: only [a-z0-9_-] allowed", k)
		}
	}
	return nil
}

func checkRegisterWorker(args []byte) error {
	_, _, err := DecodeRegisterWorkerArgs(args)
	return err
}

// verify calls the verifier, turning a panic into an error so that hostile
// input cannot stop the node.
func verify(v AttestationVerifier, att *Attestation, rd [64]byte, now int64) (m []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			m, err = nil, fmt.Errorf("verifier panicked: %v", p)
		}
	}()
	return v.Verify(att.Kind, att.Quote, att.Collateral, rd, now)
}

// execRegisterWorker checks a registration in this order — genesis hash,
// app version, freshness block, dev kind allowed, not older than the stored
// registration, attestation (skipped when dry-running for CheckTx: it is
// expensive and judged at block time), measurement on the allow-list — and
// stores or updates the record, emitting a TopicWorkerRegistered message.
func execRegisterWorker(c *callCtx, args []byte) (uint32, string, error) {
	info, att, err := DecodeRegisterWorkerArgs(args)
	if err != nil {
		return CodeBadArgs, err.Error(), nil
	}
	if info.GenesisHash != c.m.genesisHash {
		return CodeWorkerWrongGenesis, fmt.Sprintf("registration is for genesis %x, this chain's is %x", info.GenesisHash, c.m.genesisHash), nil
	}
	if info.MaxAppVersion < c.h.AppVersion {
		return CodeAppVersionTooLow, fmt.Sprintf("pRuntime understands app versions up to %d, the chain runs %d", info.MaxAppVersion, c.h.AppVersion), nil
	}
	if code, log := checkFreshness(c.h, info.RecentBlock); code != CodeOK {
		return code, log, nil
	}
	cfg, err := GetRegistryConfig(c.ov)
	if err != nil {
		return 0, "", err
	}
	if att.Kind == TeeKindDev && !cfg.AllowDevAttestation {
		return CodeDevAttestationDisallowed, "this chain does not accept dev attestations", nil
	}
	old, exists, err := GetWorker(c.ov, info.IdentityPublicKey)
	if err != nil {
		return 0, "", err
	}
	if exists && info.RecentBlock.Height < old.Info.RecentBlock.Height {
		return CodeOutdatedRegistration, fmt.Sprintf("registration's freshness block %d is older than the registered one's %d", info.RecentBlock.Height, old.Info.RecentBlock.Height), nil
	}
	if c.dryRun {
		return CodeOK, "", nil
	}
	if c.m.verifier == nil {
		return CodeAttestationUnverifiable, "this node has no attestation verifier", nil
	}
	meas, err := verify(c.m.verifier, &att, info.ReportData(), c.h.TimeUnixNano/1_000_000_000)
	if err != nil {
		if errors.Is(err, ErrReportDataMismatch) {
			return CodeReportDataMismatch, fmt.Sprintf("attestation does not bind this registration: %v", err), nil
		}
		if errors.Is(err, ErrAttestationUnverifiable) {
			return CodeAttestationUnverifiable, err.Error(), nil
		}
		return CodeBadAttestation, fmt.Sprintf("%s attestation rejected: %v", att.Kind, err), nil
	}
	if len(meas) == 0 || len(meas) > MaxMeasurementBytes {
		return CodeBadAttestation, fmt.Sprintf("verifier returned a measurement of %d bytes", len(meas)), nil
	}
	mh := MeasurementHash(meas)
	allowed, err := AllowedMeasurements(c.ov)
	if err != nil {
		return 0, "", err
	}
	if !containsKey(allowed, mh) {
		return CodeUnknownMeasurement, fmt.Sprintf("measurement %x is not on the allow-list", mh), nil
	}
	height := uint64(max(c.h.Height, 0))
	rec := WorkerRecord{Info: info, MeasurementHash: mh, Measurement: meas, RegisteredAt: height, FirstRegisteredAt: height}
	if exists {
		rec.FirstRegisteredAt = old.FirstRegisteredAt
	} else {
		ids, err := getKeyList(c.ov, KeyWorkerIndex)
		if err != nil {
			return 0, "", err
		}
		putKeyList(c.ov, KeyWorkerIndex, append(ids, [32]byte(info.IdentityPublicKey)))
	}
	enc := scale.Encode(&rec)
	c.ov.setOwned(WorkerKey(info.IdentityPublicKey), enc)
	c.emit(RegistryModuleName, TopicWorkerRegistered, slices.Clone(enc))
	c.events = append(c.events, Event{Type: "worker_registered", Attributes: []EventAttribute{
		{Key: "identity", Value: info.IdentityPublicKey.Hex(), Index: true},
		{Key: "operator", Value: info.Operator.Hex(), Index: true},
		{Key: "tee_kind", Value: info.TeeKind},
		{Key: "measurement_hash", Value: fmt.Sprintf("0x%x", mh)},
		{Key: "new", Value: strconv.FormatBool(!exists)},
	}})
	return CodeOK, "", nil
}

// checkFreshness checks that ref names a block in the FreshnessWindow below
// the current height, with the hash the chain recorded for it.
func checkFreshness(h *Header, ref BlockRef) (uint32, string) {
	if h.Height < 2 || ref.Height < 1 || ref.Height >= uint64(h.Height) || uint64(h.Height)-ref.Height > FreshnessWindow {
		return CodeStaleFreshness, fmt.Sprintf("freshness block %d is not within the last %d blocks before height %d", ref.Height, FreshnessWindow, h.Height)
	}
	if h.BlockHashes == nil {
		return CodeBlockHashUnavailable, "block hashes are unavailable to the state machine here"
	}
	got, ok := h.BlockHashes.BlockHash(int64(ref.Height))
	if !ok {
		return CodeBlockHashUnavailable, fmt.Sprintf("the hash of block %d is not known", ref.Height)
	}
	if got != ref.Hash {
		return CodeFreshnessHashMismatch, fmt.Sprintf("freshness block %d has hash %x on this chain, registration says %x", ref.Height, got, ref.Hash)
	}
	return CodeOK, ""
}
