package worker

import (
	"io"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tee"
)

// ChainView reads the parts of the verified chain state that the key
// hierarchy needs. The core builds one per block from Block.State through
// Options.View, so every answer is the state right after the block. An
// error means verified state that does not decode: the core cannot go on
// and the whole Step is undone.
type ChainView interface {
	// Gatekeepers returns the gatekeeper set, sorted by identity.
	Gatekeepers() ([]Gatekeeper, error)
	// MasterKey returns the current master-key record, if any.
	MasterKey() (MasterRecord, bool, error)
	// ClusterIDs returns the ids of every cluster, sorted.
	ClusterIDs() ([][32]byte, error)
	// Cluster returns one cluster's record.
	Cluster(id [32]byte) (Cluster, bool, error)
	// Worker returns a registered worker's record (with its last
	// attestation).
	Worker(id keys.PublicKey) (msg.WorkerRecord, bool, error)
	// AllowedMeasurements returns the measurement hashes on the allow-list.
	AllowedMeasurements() ([][32]byte, error)
	// DevAttestation says whether the chain accepts dev attestations, and
	// the dev root that signs them.
	DevAttestation() (allowed bool, root keys.PublicKey, err error)
	// Code returns the code uploaded under hash with its kind
	// (msg.CodeKindInk...), when it is available in cluster.
	Code(cluster, hash [32]byte) (kind uint8, code []byte, ok bool, err error)
	// Liveness returns the registry's liveness parameters (heartbeat
	// interval, stale factor).
	Liveness() (registry.Liveness, error)
	// WorkerLiveness returns a registered worker's last-seen height and
	// whether its operator deregistered it (zero for an unknown worker).
	WorkerLiveness(id keys.PublicKey) (registry.WorkerLiveness, error)
}

// Gatekeeper is one member of the gatekeeper set.
type Gatekeeper struct {
	Identity keys.PublicKey
	// Active: the gatekeeper holds the chain's master key (it announced
	// it, or it received it and said so).
	Active bool
}

// MasterRecord is the chain's record of the current master key.
type MasterRecord struct {
	Epoch  uint32
	Pubkey keys.PublicKey
}

// Cluster is the chain's record of a cluster.
type Cluster struct {
	ID [32]byte
	// Workers are the cluster's workers, sorted.
	Workers []keys.PublicKey
	// Pubkey is the cluster key's public key, once a gatekeeper sent it.
	Pubkey    keys.PublicKey
	HasPubkey bool
	// Epoch is the master-key epoch the cluster key derives from.
	Epoch uint32
	// Owner is the cluster's owner: contracts it deployed may set their
	// own block-end hooks.
	Owner keys.PublicKey
	// SystemContract is the cluster's system contract (Phala's per-cluster
	// system contract, e.g. pink-drivers' system.wasm deployed by the
	// owner); zero: none. Its SetHook events may hook any contract of the
	// cluster (Phala's ensure_system), and pink's system_contract_id
	// answers it (see ExecEnv.SystemContract).
	SystemContract [32]byte
	// Keyed are the workers a cluster-key share was delivered to, sorted.
	Keyed []keys.PublicKey
	// ReportInterval is how often (in blocks) the cluster's workers report
	// its state root (msg.TopicClusterStateRoot); 0: never.
	ReportInterval uint32
	// MaxGas is the largest gas limit of a command (the cluster's terms);
	// estimating queries run with it.
	MaxGas uint64
}

// AttestationVerifier checks another worker's attestation inside the
// core before a gatekeeper releases any key to it. It is pure (nowUnix,
// the block time, is its only clock) and deterministic. devRoot is nil
// when the chain refuses dev attestations; otherwise dev quotes must be
// signed by it.
type AttestationVerifier interface {
	Verify(att msg.Attestation, reportData [64]byte, nowUnix int64, devRoot *keys.PublicKey) (tee.Measurement, error)
}

// Options are what the shell gives the core beyond the worker's own keys.
// With no View the core plays no part in the key hierarchy.
type Options struct {
	// View builds the chain view of a block's verified state.
	View func(state.Store) ChainView
	// Verifier checks the attestations of workers a key is sent to. With
	// none, a gatekeeper sends no key to anyone.
	Verifier AttestationVerifier
	// Entropy is read only to generate a master key, by a gatekeeper when
	// the chain has none. The shell passes crypto/rand; tests a fixed
	// reader. The step that generates one reports ChangeKeys, and the
	// shell seals the key before it releases the step's egress.
	Entropy io.Reader
	// Contracts executes Phat contracts for the clusters whose key the
	// core holds (internal/worker/contracts). A core that holds a cluster
	// key and has none cannot step a block carrying the cluster's
	// instantiates or commands.
	Contracts ContractRuntime
	// PublicURL is the worker's public API URL as its operator configured
	// it (empty: none). Once registered, the core records it on chain with
	// a worker/endpoint message whenever the chain's record differs (read
	// through an EndpointView).
	PublicURL string
}

// EndpointView is the part of a chain view that reads the workers'
// recorded endpoints (chainview.View has it). With a view that lacks it,
// the core sends no worker/endpoint message.
type EndpointView interface {
	// WorkerEndpoint returns the URL a worker recorded ("" for none).
	WorkerEndpoint(id keys.PublicKey) (string, error)
}

// RotationView is the part of a chain view that reads master-key rotation
// (chainview.View has it). With a view that lacks it, the core neither
// generates a rotated master key nor checks the key grace period: every
// held epoch's contract keys decrypt commands.
type RotationView interface {
	// Rotation returns the master-key rotation in progress, if any.
	Rotation() (Rotation, bool, error)
	// KeyGrace returns the key grace period the chain will fix in the next
	// re-keyings (ClusterEpoch.Grace holds each re-keying's own).
	KeyGrace() (uint32, error)
	// ClusterEpochs returns a cluster's key history, oldest first (nil
	// for a cluster never rotated).
	ClusterEpochs(id [32]byte) ([]ClusterEpoch, error)
	// MasterEpochs returns the master key's history, oldest first (the
	// current epoch included).
	MasterEpochs() ([]MasterRecord, error)
}

// Rotation is the chain's record of a master-key rotation in progress.
type Rotation struct {
	// Epoch is the epoch being started.
	Epoch uint32
	// Generator is the gatekeeper that generates the new master key.
	Generator keys.PublicKey
}

// ClusterEpoch is one entry of a cluster's key history.
type ClusterEpoch struct {
	Epoch  uint32
	Pubkey keys.PublicKey
	// Height is the block the chain recorded the key at (0: unknown, the
	// key before the cluster's first rotation).
	Height uint64
	// Grace is the key grace period fixed when the key was recorded: the
	// keys of older epochs are retired after Height + Grace.
	Grace uint32
}
