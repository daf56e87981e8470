package msg

import (
	"fmt"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Topics, with the origin that sends each and its payload.
const (
	// TopicWorkerRegistered is the topic of the message the registry emits
	// (origin OriginModule(RegistryModuleName)) for every successful
	// registration; its payload is SCALE(WorkerRecord).
	TopicWorkerRegistered = "registry/worker"
	// TopicWorkerOnline is the topic of the message a worker sends (origin
	// OriginWorker(identity)) once it sees its own registration in a
	// confirmed block: it announces that the worker is live and which keys
	// it serves with. Its payload is SCALE(OnlinePayload).
	TopicWorkerOnline = "worker/online"
)

// RegistryModuleName is the registry's name in its message origin.
const RegistryModuleName = "registry"

// OnlinePayload is the payload of a TopicWorkerOnline message.
type OnlinePayload struct {
	Identity keys.PublicKey
	Ecdh     keys.PublicKey
	// RegisteredAt is the height of the block that registered the worker.
	RegisteredAt int64
}

// EncodeSCALE writes ([u8;32], [u8;32], i64).
func (p *OnlinePayload) EncodeSCALE(w *scale.Writer) {
	w.Raw(p.Identity[:])
	w.Raw(p.Ecdh[:])
	w.I64(p.RegisteredAt)
}

// DecodeSCALE reads the payload.
func (p *OnlinePayload) DecodeSCALE(r *scale.Reader) {
	r.Fixed(p.Identity[:])
	r.Fixed(p.Ecdh[:])
	p.RegisteredAt = r.I64()
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

// Attestation is a TEE's evidence for a registration (the second argument
// of registry.register_worker, produced by the worker): the quote and the
// collateral needed to verify it at block time. Kind is a tee.Kind.
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

// WorkerRecord is the registry's record of a worker, stored under
// registry.WorkerKey and sent as the payload of TopicWorkerRegistered.
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
	// Attestation is the latest registration's evidence (quote and
	// collateral), kept so that a gatekeeper can verify the worker itself
	// inside its pRuntime before it releases any key to it.
	Attestation Attestation
}

// EncodeSCALE writes (RegistrationInfo, [u8;32], Vec<u8>, u64, u64, Attestation).
func (w *WorkerRecord) EncodeSCALE(sw *scale.Writer) {
	w.Info.EncodeSCALE(sw)
	sw.Raw(w.MeasurementHash[:])
	sw.BytesVec(w.Measurement)
	sw.U64(w.RegisteredAt)
	sw.U64(w.FirstRegisteredAt)
	w.Attestation.EncodeSCALE(sw)
}

// DecodeSCALE reads a record.
func (w *WorkerRecord) DecodeSCALE(r *scale.Reader) {
	w.Info.DecodeSCALE(r)
	r.Fixed(w.MeasurementHash[:])
	w.Measurement = r.BytesVec()
	w.RegisteredAt = r.U64()
	w.FirstRegisteredAt = r.U64()
	w.Attestation.DecodeSCALE(r)
}
