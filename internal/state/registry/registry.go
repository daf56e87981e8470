// Package registry is the worker registry (index 4 of AppVersion1): it
// keeps the workers, pRuntimes that proved, through a TEE attestation
// verified at block time, that they run a measurement on the chain's
// allow-list and hold the keys they registered. Its record (msg.WorkerRecord)
// is also the payload of the msg.TopicWorkerRegistered message it emits.
package registry

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the registry module's index.
	Index uint8 = 4
	// MethodRegisterWorker is registry.register_worker(msg.RegistrationInfo, msg.Attestation).
	MethodRegisterWorker uint8 = 0
	// MethodAllowMeasurement is registry.allow_measurement(hash: [u8; 32])
	// (privileged): adds a measurement hash to the allow-list.
	MethodAllowMeasurement uint8 = 1
	// MethodDisallowMeasurement is registry.disallow_measurement(hash: [u8; 32])
	// (privileged): removes it. Registered workers stay registered.
	MethodDisallowMeasurement uint8 = 2
)

// MeasurementWeight is the weight of registry.allow_measurement and
// disallow_measurement.
const MeasurementWeight uint64 = 20_000

// FreshnessWindow is how many heights back a registration's RecentBlock may
// lie: at block height H it must be in [H-FreshnessWindow, H-1].
const FreshnessWindow = 600

// MaxMeasurementBytes bounds the canonical measurement a verifier returns.
const MaxMeasurementBytes = 4096

// RegisterWorkerWeight is the weight of registry.register_worker, dominated
// by the verification of a TDX quote and its collateral (about 5 ms).
const RegisterWorkerWeight uint64 = 5_000_000

// Storage of the registry:
//
//	"registry/config"               → SCALE(Config)
//	"registry/measurements"         → SCALE(Vec<[u8; 32]>), sorted: the allow-list
//	"registry/index"                → SCALE(Vec<[u8; 32]>), sorted: identity keys of all workers
//	"registry/worker/" ‖ identity   → SCALE(msg.WorkerRecord)
//	"registry/endpoint/" ‖ identity → the worker's public API URL (bytes), set by the worker
var (
	KeyConfig       = []byte("registry/config")
	KeyMeasurements = []byte("registry/measurements")
	KeyWorkerIndex  = []byte("registry/index")
	PrefixWorker    = []byte("registry/worker/")
	PrefixEndpoint  = []byte("registry/endpoint/")
)

// FirstWorkerHook runs, in register_worker's call, right after the chain's
// very first worker was stored (its record written, its message emitted). A
// non-zero code fails the registration. The table in internal/state/modules
// uses it for the dev bootstrap.
type FirstWorkerHook func(c *state.CallCtx, worker keys.PublicKey) (code uint32, log string, err error)

// DeregisterHook runs in deregister_worker's call once its own checks
// passed (the worker is registered, the signer is its operator, it is not
// deregistered yet) and before the deregistration is recorded. A non-zero
// code fails the deregistration (the call's writes are discarded). It
// returns the clusters it took the worker out of, sorted, for the
// worker_deregistered event. The table in internal/state/modules uses it
// to refuse deregistering a gatekeeper and to take the worker out of every
// cluster, in the same transaction.
type DeregisterHook func(c *state.CallCtx, worker keys.PublicKey) (clusters [][32]byte, code uint32, log string, err error)

// Module returns the registry module; onFirst and onDeregister may be nil.
func Module(onFirst FirstWorkerHook, onDeregister DeregisterHook) *state.Module {
	r := registrar{onFirst: onFirst, onDeregister: onDeregister}
	return &state.Module{Name: "registry", Methods: []*state.Method{
		MethodRegisterWorker:      {Name: "register_worker", Weight: RegisterWorkerWeight, Check: checkRegisterWorker, Exec: r.exec},
		MethodAllowMeasurement:    {Name: "allow_measurement", Weight: MeasurementWeight, Privileged: true, Check: checkMeasurementArg, Exec: execAllowMeasurement},
		MethodDisallowMeasurement: {Name: "disallow_measurement", Weight: MeasurementWeight, Privileged: true, Check: checkMeasurementArg, Exec: execDisallowMeasurement},
		MethodDeregisterWorker:    {Name: "deregister_worker", Weight: DeregisterWorkerWeight, Check: checkDeregister, Exec: r.deregister},
		MethodSetLiveness:         {Name: "set_liveness", Weight: SetLivenessWeight, Privileged: true, Check: checkSetLiveness, Exec: execSetLiveness},
	}, InitChain: initChain}
}

type registrar struct {
	onFirst      FirstWorkerHook
	onDeregister DeregisterHook
}

func (r registrar) exec(c *state.CallCtx, args []byte) (uint32, string, error) {
	first, code, log, err := execRegisterWorker(c, args)
	if err != nil || code != state.CodeOK || !first || r.onFirst == nil {
		return code, log, err
	}
	info, _, _ := DecodeRegisterWorkerArgs(args)
	return r.onFirst(c, info.IdentityPublicKey)
}

// initChain writes the registry's configuration and measurement allow-list
// from the genesis.
func initChain(ov *state.Overlay, g *state.Genesis) {
	reg := &g.App.Registry
	ov.SetOwned(KeyConfig, scale.Encode(&Config{AllowDevAttestation: reg.AllowDevAttestation, DevAttestationRoot: reg.DevAttestationRoot}))
	putKeyList(ov, KeyMeasurements, reg.Measurements)
}

// Config is the registry's stored configuration (from the genesis;
// governance will change it later).
type Config struct {
	// AllowDevAttestation admits attestations of kind "dev" (dev chains only).
	AllowDevAttestation bool
	// DevAttestationRoot is the sr25519 key that signs dev quotes.
	DevAttestationRoot [32]byte
}

// EncodeSCALE writes (bool, [u8; 32]).
func (c *Config) EncodeSCALE(w *scale.Writer) {
	w.Bool(c.AllowDevAttestation)
	w.Raw(c.DevAttestationRoot[:])
}

// DecodeSCALE reads the config.
func (c *Config) DecodeSCALE(r *scale.Reader) {
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
func GetWorker(st state.Store, identity keys.PublicKey) (msg.WorkerRecord, bool, error) {
	v, err := st.Get(WorkerKey(identity))
	if err != nil {
		return msg.WorkerRecord{}, false, fmt.Errorf("state: reading worker: %w", err)
	}
	if v == nil {
		return msg.WorkerRecord{}, false, nil
	}
	var rec msg.WorkerRecord
	if err := scale.Decode(v, &rec); err != nil {
		return msg.WorkerRecord{}, false, fmt.Errorf("%w: worker %s: %w", state.ErrCorruptState, identity.Hex(), err)
	}
	return rec, true, nil
}

// ListWorkers returns every worker's record, sorted by identity key.
func ListWorkers(st state.Store) ([]msg.WorkerRecord, error) {
	ids, err := getKeyList(st, KeyWorkerIndex)
	if err != nil {
		return nil, err
	}
	out := make([]msg.WorkerRecord, 0, len(ids))
	for _, id := range ids {
		rec, ok, err := GetWorker(st, keys.PublicKey(id))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, fmt.Errorf("%w: worker %s is indexed but has no record", state.ErrCorruptState, keys.PublicKey(id).Hex())
		}
		out = append(out, rec)
	}
	return out, nil
}

// GetConfig reads the registry's configuration (zero when absent).
func GetConfig(st state.Store) (Config, error) {
	v, err := st.Get(KeyConfig)
	if err != nil {
		return Config{}, fmt.Errorf("state: reading registry config: %w", err)
	}
	var c Config
	if v == nil {
		return c, nil
	}
	if err := scale.Decode(v, &c); err != nil {
		return Config{}, fmt.Errorf("%w: registry config: %w", state.ErrCorruptState, err)
	}
	return c, nil
}

// AllowMeasurementCall builds registry.allow_measurement(hash) (privileged).
func AllowMeasurementCall(hash [32]byte) tx.Call {
	return tx.Call{Module: Index, Method: MethodAllowMeasurement, Args: append([]byte(nil), hash[:]...)}
}

// DisallowMeasurementCall builds registry.disallow_measurement(hash) (privileged).
func DisallowMeasurementCall(hash [32]byte) tx.Call {
	return tx.Call{Module: Index, Method: MethodDisallowMeasurement, Args: append([]byte(nil), hash[:]...)}
}

// DecodeMeasurementArg decodes the argument of allow_measurement and
// disallow_measurement: exactly 32 bytes.
func DecodeMeasurementArg(args []byte) ([32]byte, error) {
	var h [32]byte
	if len(args) != 32 {
		return h, fmt.Errorf("registry: a measurement hash has 32 bytes, got %d", len(args))
	}
	copy(h[:], args)
	return h, nil
}

func checkMeasurementArg(args []byte) error {
	_, err := DecodeMeasurementArg(args)
	return err
}

func execAllowMeasurement(c *state.CallCtx, args []byte) (uint32, string, error) {
	return changeMeasurement(c, args, true)
}

func execDisallowMeasurement(c *state.CallCtx, args []byte) (uint32, string, error) {
	return changeMeasurement(c, args, false)
}

// changeMeasurement adds (allow) or removes a hash from the allow-list.
func changeMeasurement(c *state.CallCtx, args []byte, allow bool) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "the allow-list changes only with the root origin", nil
	}
	h, err := DecodeMeasurementArg(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	list, err := AllowedMeasurements(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	has := containsKey(list, h)
	switch {
	case allow && has:
		return state.CodeMeasurementAllowed, fmt.Sprintf("measurement %x is already allowed", h), nil
	case !allow && !has:
		return state.CodeMeasurementNotAllowed, fmt.Sprintf("measurement %x is not on the allow-list", h), nil
	case allow:
		list = append(list, h)
	default:
		list = slices.DeleteFunc(list, func(k [32]byte) bool { return k == h })
	}
	putKeyList(c.Overlay(), KeyMeasurements, list)
	ev := "measurement_allowed"
	if !allow {
		ev = "measurement_disallowed"
	}
	c.AddEvent(state.Event{Type: ev, Attributes: []state.EventAttribute{{Key: "hash", Value: fmt.Sprintf("0x%x", h), Index: true}}})
	return state.CodeOK, "", nil
}

// AllowedMeasurements returns the allow-list of measurement hashes, sorted.
func AllowedMeasurements(st state.Store) ([][32]byte, error) {
	return getKeyList(st, KeyMeasurements)
}

// getKeyList reads a sorted SCALE Vec<[u8; 32]>.
func getKeyList(st state.Store, key []byte) ([][32]byte, error) {
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
		return nil, fmt.Errorf("%w: %s: %w", state.ErrCorruptState, key, err)
	}
	return out, nil
}

// putKeyList stores a list of 32-byte keys after sorting and deduplicating it.
func putKeyList(ov *state.Overlay, key []byte, list [][32]byte) {
	list = slices.Clone(list)
	slices.SortFunc(list, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	list = slices.Compact(list)
	w := scale.NewWriter(1 + 32*len(list))
	scale.WriteVec(w, list, func(w *scale.Writer, k [32]byte) { w.Raw(k[:]) })
	ov.SetOwned(key, w.Bytes())
}

// containsKey reports whether the sorted list holds k.
func containsKey(list [][32]byte, k [32]byte) bool {
	_, ok := slices.BinarySearchFunc(list, k, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	return ok
}

// RegisterWorkerCall builds registry.register_worker(info, att).
func RegisterWorkerCall(info msg.RegistrationInfo, att msg.Attestation) tx.Call {
	w := scale.NewWriter(200 + len(att.Quote) + len(att.Collateral))
	info.EncodeSCALE(w)
	att.EncodeSCALE(w)
	return tx.Call{Module: Index, Method: MethodRegisterWorker, Args: w.Bytes()}
}

// DecodeRegisterWorkerArgs decodes the arguments of registry.register_worker
// and checks them statically: a well-formed TEE kind, equal in the info and
// the attestation.
func DecodeRegisterWorkerArgs(args []byte) (msg.RegistrationInfo, msg.Attestation, error) {
	var info msg.RegistrationInfo
	var att msg.Attestation
	r := scale.NewReader(args)
	info.DecodeSCALE(r)
	att.DecodeSCALE(r)
	if err := r.Finish(); err != nil {
		return info, att, fmt.Errorf("registry.register_worker args: %w", err)
	}
	if err := tee.Kind(info.TeeKind).Check(); err != nil {
		return info, att, fmt.Errorf("registry.register_worker args: %w", err)
	}
	if att.Kind != info.TeeKind {
		return info, att, fmt.Errorf("registry.register_worker args: attestation kind %q differs from the info's TEE kind %q", att.Kind, info.TeeKind)
	}
	return info, att, nil
}

func checkRegisterWorker(args []byte) error {
	_, _, err := DecodeRegisterWorkerArgs(args)
	return err
}

// verify calls the verifier, turning a panic into an error so that hostile
// input cannot stop the node.
func verify(v state.AttestationVerifier, att *msg.Attestation, rd [64]byte, now int64) (m []byte, err error) {
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
// stores or updates the record, emitting a msg.TopicWorkerRegistered
// message. first reports that the worker is the chain's first.
func execRegisterWorker(c *state.CallCtx, args []byte) (first bool, code uint32, log string, err error) {
	code, log, err = registerWorker(c, args, &first)
	return first, code, log, err
}

func registerWorker(c *state.CallCtx, args []byte, first *bool) (uint32, string, error) {
	info, att, err := DecodeRegisterWorkerArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	if info.GenesisHash != c.GenesisHash() {
		return state.CodeWorkerWrongGenesis, fmt.Sprintf("registration is for genesis %x, this chain's is %x", info.GenesisHash, c.GenesisHash()), nil
	}
	if info.MaxAppVersion < c.Header().AppVersion {
		return state.CodeAppVersionTooLow, fmt.Sprintf("pRuntime understands app versions up to %d, the chain runs %d", info.MaxAppVersion, c.Header().AppVersion), nil
	}
	if code, log := checkFreshness(c.Header(), info.RecentBlock); code != state.CodeOK {
		return code, log, nil
	}
	cfg, err := GetConfig(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if att.Kind == string(tee.KindDev) && !cfg.AllowDevAttestation {
		return state.CodeDevAttestationDisallowed, "this chain does not accept dev attestations", nil
	}
	old, exists, err := GetWorker(c.Overlay(), info.IdentityPublicKey)
	if err != nil {
		return 0, "", err
	}
	if exists {
		if at, dereg, err := DeregisteredAt(c.Overlay(), info.IdentityPublicKey); err != nil || dereg {
			if err != nil {
				return 0, "", err
			}
			return state.CodeWorkerDeregistered, fmt.Sprintf("worker %s was deregistered at height %d: register a new identity", info.IdentityPublicKey.Hex(), at), nil
		}
	}
	if exists && info.RecentBlock.Height < old.Info.RecentBlock.Height {
		return state.CodeOutdatedRegistration, fmt.Sprintf("registration's freshness block %d is older than the registered one's %d", info.RecentBlock.Height, old.Info.RecentBlock.Height), nil
	}
	if c.DryRun() {
		return state.CodeOK, "", nil
	}
	if c.Verifier() == nil {
		return state.CodeAttestationUnverifiable, "this node has no attestation verifier", nil
	}
	meas, err := verify(c.Verifier(), &att, info.ReportData(), c.Header().TimeUnixNano/1_000_000_000)
	if err != nil {
		if errors.Is(err, state.ErrReportDataMismatch) {
			return state.CodeReportDataMismatch, fmt.Sprintf("attestation does not bind this registration: %v", err), nil
		}
		if errors.Is(err, state.ErrAttestationUnverifiable) {
			return state.CodeAttestationUnverifiable, err.Error(), nil
		}
		return state.CodeBadAttestation, fmt.Sprintf("%s attestation rejected: %v", att.Kind, err), nil
	}
	if len(meas) == 0 || len(meas) > MaxMeasurementBytes {
		return state.CodeBadAttestation, fmt.Sprintf("verifier returned a measurement of %d bytes", len(meas)), nil
	}
	mh := MeasurementHash(meas)
	allowed, err := AllowedMeasurements(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if !containsKey(allowed, mh) {
		return state.CodeUnknownMeasurement, fmt.Sprintf("measurement %x is not on the allow-list", mh), nil
	}
	height := uint64(max(c.Header().Height, 0))
	rec := msg.WorkerRecord{Info: info, MeasurementHash: mh, Measurement: meas, RegisteredAt: height, FirstRegisteredAt: height, Attestation: att}
	if exists {
		rec.FirstRegisteredAt = old.FirstRegisteredAt
	} else {
		ids, err := getKeyList(c.Overlay(), KeyWorkerIndex)
		if err != nil {
			return 0, "", err
		}
		*first = len(ids) == 0
		putKeyList(c.Overlay(), KeyWorkerIndex, append(ids, [32]byte(info.IdentityPublicKey)))
	}
	enc := scale.Encode(&rec)
	c.Overlay().SetOwned(WorkerKey(info.IdentityPublicKey), enc)
	c.Emit(msg.Message{Origin: msg.OriginModule(msg.RegistryModuleName), Topic: []byte(msg.TopicWorkerRegistered), Payload: slices.Clone(enc)})
	c.AddEvent(state.Event{Type: "worker_registered", Attributes: []state.EventAttribute{
		{Key: "identity", Value: info.IdentityPublicKey.Hex(), Index: true},
		{Key: "operator", Value: info.Operator.Hex(), Index: true},
		{Key: "tee_kind", Value: info.TeeKind},
		{Key: "measurement_hash", Value: fmt.Sprintf("0x%x", mh)},
		{Key: "new", Value: strconv.FormatBool(!exists)},
	}})
	return state.CodeOK, "", nil
}

// checkFreshness checks that ref names a block in the FreshnessWindow below
// the current height, with the hash the chain recorded for it.
func checkFreshness(h *state.Header, ref msg.BlockRef) (uint32, string) {
	if h.Height < 2 || ref.Height < 1 || ref.Height >= uint64(h.Height) || uint64(h.Height)-ref.Height > FreshnessWindow {
		return state.CodeStaleFreshness, fmt.Sprintf("freshness block %d is not within the last %d blocks before height %d", ref.Height, FreshnessWindow, h.Height)
	}
	if h.BlockHashes == nil {
		return state.CodeBlockHashUnavailable, "block hashes are unavailable to the state machine here"
	}
	got, ok := h.BlockHashes.BlockHash(int64(ref.Height))
	if !ok {
		return state.CodeBlockHashUnavailable, fmt.Sprintf("the hash of block %d is not known", ref.Height)
	}
	if got != ref.Hash {
		return state.CodeFreshnessHashMismatch, fmt.Sprintf("freshness block %d has hash %x on this chain, registration says %x", ref.Height, got, ref.Hash)
	}
	return state.CodeOK, ""
}

// EndpointKey returns the storage key of a worker's endpoint.
func EndpointKey(identity keys.PublicKey) []byte {
	k := make([]byte, 0, len(PrefixEndpoint)+32)
	k = append(k, PrefixEndpoint...)
	return append(k, identity[:]...)
}

// GetEndpoint reads the URL of a worker's public API; "" when the worker
// recorded none.
func GetEndpoint(st state.Store, identity keys.PublicKey) (string, error) {
	b, err := st.Get(EndpointKey(identity))
	if err != nil {
		return "", fmt.Errorf("registry: reading an endpoint: %w", err)
	}
	return string(b), nil
}

// HandleEndpoint is the on-chain handler of msg.TopicWorkerEndpoint: a
// registered worker (mq admitted the message only if its identity key
// signed it, so a worker sets only its own) records the URL of its public
// API, replacing the previous one. A URL that is not a valid http(s)
// endpoint is refused (CodeBadEndpoint) and nothing changes.
func HandleEndpoint(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindWorker {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of workers, not of %s", msg.TopicWorkerEndpoint, o), nil
	}
	var p msg.EndpointPayload
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicWorkerEndpoint, err), nil
	}
	if err := msg.ValidEndpoint(p.URL); err != nil {
		return state.CodeBadEndpoint, err.Error(), nil
	}
	ov := c.Overlay()
	if _, ok, err := GetWorker(ov, o.Worker); err != nil || !ok {
		if err != nil {
			return 0, "", err
		}
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s is not a registered worker", o.Worker.Hex()), nil
	}
	ov.SetOwned(EndpointKey(o.Worker), []byte(p.URL))
	return state.CodeOK, "", nil
}
