// Package chainapi holds the node's query interface as data: the ABCI query
// paths and their request and answer types. The block record that PathBlocks
// answers is the kernel's (state.BlockRecord). The node, the Go client and
// pherry share it; it imports no storage or network code.
package chainapi

import (
	"encoding/hex"
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// Query paths served by the app (ABCI Query, reachable through CometBFT's
// /abci_query RPC). JSON answers are for people and the CLI; block ranges are
// SCALE, for pherry.
const (
	// PathAccount takes a 32-byte account id and answers AccountInfo as JSON.
	PathAccount = "/account"
	// PathChain answers ChainInfo as JSON.
	PathChain = "/chain"
	// PathValidators answers the validator set in app state as JSON.
	PathValidators = "/validators"
	// PathBlocks takes BlocksRequest and answers SCALE(Vec<state.BlockRecord>)
	// for the committed heights in [From, To], at most MaxBlocksPerQuery of
	// them and at most MaxBlocksQueryBytes in all. The answer may stop early;
	// the caller asks again from the next height.
	PathBlocks = "/blocks"
	// PathWorkers answers the registered workers as a JSON []WorkerInfo,
	// sorted by identity key. With a 32-byte identity key as data it
	// answers that worker alone (a list of one; QueryNotFound when absent).
	PathWorkers = "/workers"
	// PathMqSequence takes a message origin (SCALE, e.g.
	// msg.OriginWorker(key)) and answers MqSequence as JSON: the sequence
	// the origin's next egress message must carry.
	PathMqSequence = "/mq/sequence"
	// PathGatekeepers answers GatekeepersInfo as JSON: the gatekeeper set
	// (sorted by identity key) and the master key.
	PathGatekeepers = "/gatekeepers"
	// PathClusters answers every cluster as a JSON []ClusterInfo, sorted by id.
	PathClusters = "/clusters"
	// PathCluster takes a 32-byte cluster id and answers its ClusterInfo as
	// JSON (QueryNotFound when absent).
	PathCluster = "/cluster"
	// PathContracts answers contracts as a JSON []ContractInfo: with a
	// 32-byte cluster id as data, that cluster's (sorted by id;
	// QueryNotFound when the cluster does not exist); without data, every
	// cluster's, cluster by cluster.
	PathContracts = "/contracts"
	// PathContract takes a 32-byte contract id and answers its ContractInfo
	// as JSON (QueryNotFound when absent).
	PathContract = "/contract"
	// PathCode takes a 32-byte code hash and answers CodeInfo as JSON
	// (QueryNotFound when no such code was uploaded).
	PathCode = "/code"
)

// Limits of a PathBlocks query.
const (
	MaxBlocksPerQuery   = 1000
	MaxBlocksQueryBytes = 16 << 20
)

// Query codes (ABCI Query has its own code space, apart from tx codes).
const (
	QueryOK       uint32 = 0
	QueryBadPath  uint32 = 1
	QueryBadInput uint32 = 2
	QueryNotFound uint32 = 3
	QueryInternal uint32 = 4
)

// AccountInfo is the JSON answer of PathAccount.
type AccountInfo struct {
	Address string `json:"address"`
	Nonce   uint64 `json:"nonce"`
	Free    string `json:"free"`
}

// ChainInfo is the JSON answer of PathChain.
type ChainInfo struct {
	ChainID     string `json:"chainId"`
	GenesisHash string `json:"genesisHash"`
	AppVersion  uint64 `json:"appVersion"`
	Height      int64  `json:"height"`
	AppHash     string `json:"appHash"`
	SS58Prefix  uint16 `json:"ss58Prefix"`
	Dev         bool   `json:"dev"`
	Decimals    int    `json:"decimals"`
	Params      Params `json:"params"`
}

// Params is state.Params as JSON (in genesis.json's app_state and in
// ChainInfo). Amounts are decimal strings of base units.
type Params struct {
	ExistentialDeposit scale.U128 `json:"existential_deposit"`
	BaseFee            scale.U128 `json:"base_fee"`
	ByteFee            scale.U128 `json:"byte_fee"`
	WeightFee          scale.U128 `json:"weight_fee"`
	MaxBlockWeight     uint64     `json:"max_block_weight"`
	SS58Prefix         uint16     `json:"ss58_prefix"`
}

// ParamsFrom converts state.Params to their JSON form.
func ParamsFrom(p state.Params) Params {
	return Params{
		ExistentialDeposit: p.ExistentialDeposit, BaseFee: p.BaseFee, ByteFee: p.ByteFee,
		WeightFee: p.WeightFee, MaxBlockWeight: p.MaxBlockWeight, SS58Prefix: p.SS58Prefix,
	}
}

// State converts the JSON form back to state.Params.
func (p Params) State() state.Params {
	return state.Params{
		ExistentialDeposit: p.ExistentialDeposit, BaseFee: p.BaseFee, ByteFee: p.ByteFee,
		WeightFee: p.WeightFee, MaxBlockWeight: p.MaxBlockWeight, SS58Prefix: p.SS58Prefix,
	}
}

// ValidatorInfo is one entry of the PathValidators answer.
type ValidatorInfo struct {
	PubKey string `json:"pubKey"`
	Power  int64  `json:"power"`
}

// WorkerInfo is one entry of the PathWorkers answer. Keys and hashes are
// 0x-hex; the operator is an SS58 address with the chain's prefix.
type WorkerInfo struct {
	IdentityPublicKey     string `json:"identityPublicKey"`
	EcdhPublicKey         string `json:"ecdhPublicKey"`
	Operator              string `json:"operator"`
	TeeKind               string `json:"teeKind"`
	MeasurementHash       string `json:"measurementHash"`
	Measurement           string `json:"measurement"`
	PRuntimeVersion       string `json:"pruntimeVersion"`
	MaxAppVersion         uint64 `json:"maxAppVersion"`
	RecentBlockHeight     uint64 `json:"recentBlockHeight"`
	RegisteredHeight      uint64 `json:"registeredHeight"`
	FirstRegisteredHeight uint64 `json:"firstRegisteredHeight"`
	// Endpoint is the URL of the worker's public API, as the worker
	// recorded it (worker/endpoint); empty when it recorded none.
	Endpoint string `json:"endpoint,omitempty"`
	// LastSeenHeight is the later of the worker's registration and the
	// block that carried its last heartbeat (worker/heartbeat).
	LastSeenHeight uint64 `json:"lastSeenHeight"`
	// LastHeartbeatHeight is the block of its last heartbeat (0: none yet).
	LastHeartbeatHeight uint64 `json:"lastHeartbeatHeight"`
	// Stale: at the queried height the worker has not been seen for more
	// than StaleAfterBlocks (the registry's heartbeat interval times its
	// stale factor; 0: liveness is off). Gatekeepers send it no key.
	Stale            bool   `json:"stale"`
	StaleAfterBlocks uint64 `json:"staleAfterBlocks"`
	// Deregistered: its operator deregistered it (at DeregisteredHeight);
	// its egress is refused and gatekeepers send it no key.
	Deregistered       bool   `json:"deregistered"`
	DeregisteredHeight uint64 `json:"deregisteredHeight,omitempty"`
	// Clusters are the ids (0x-hex, sorted) of the clusters the worker is
	// a worker of; none once it is deregistered (deregistration takes it
	// out of every cluster).
	Clusters []string `json:"clusters,omitempty"`
}

// WorkerInfoFrom renders a registry record for PathWorkers.
func WorkerInfoFrom(rec *msg.WorkerRecord, ss58Prefix uint16) WorkerInfo {
	i := &rec.Info
	return WorkerInfo{
		IdentityPublicKey:     i.IdentityPublicKey.Hex(),
		EcdhPublicKey:         "0x" + hex.EncodeToString(i.EcdhPublicKey[:]),
		Operator:              keys.EncodeSS58(i.Operator, ss58Prefix),
		TeeKind:               i.TeeKind,
		MeasurementHash:       "0x" + hex.EncodeToString(rec.MeasurementHash[:]),
		Measurement:           "0x" + hex.EncodeToString(rec.Measurement),
		PRuntimeVersion:       i.PRuntimeVersion.String(),
		MaxAppVersion:         i.MaxAppVersion,
		RecentBlockHeight:     i.RecentBlock.Height,
		RegisteredHeight:      rec.RegisteredAt,
		FirstRegisteredHeight: rec.FirstRegisteredAt,
	}
}

// MqSequence is the JSON answer of PathMqSequence.
type MqSequence struct {
	// Origin is the queried origin, 0x-hex.
	Origin string `json:"origin"`
	// NextSequence is the sequence of the origin's next accepted message.
	NextSequence uint64 `json:"nextSequence"`
}

// GatekeeperInfo is one gatekeeper in GatekeepersInfo.
type GatekeeperInfo struct {
	Identity string `json:"identity"`
	// Active: it holds the master key.
	Active bool `json:"active"`
}

// MasterKeyEpochInfo is one epoch of the master key's history.
type MasterKeyEpochInfo struct {
	Epoch  uint32 `json:"epoch"`
	Pubkey string `json:"pubkey"`
	Height uint64 `json:"height"`
}

// GatekeepersInfo is the JSON answer of PathGatekeepers. MasterPubkey is
// empty (and MasterEpoch 0) while no master key is recorded.
type GatekeepersInfo struct {
	Gatekeepers   []GatekeeperInfo     `json:"gatekeepers"`
	MasterPubkey  string               `json:"masterPubkey,omitempty"`
	MasterEpoch   uint32               `json:"masterEpoch"`
	MasterHistory []MasterKeyEpochInfo `json:"masterHistory"`
}

// ClusterInfo is a cluster in the PathClusters and PathCluster answers:
// ids and keys 0x-hex, the owner an SS58 address, the permission "public"
// or "owner". Pubkey is empty until a gatekeeper published the cluster key.
type ClusterInfo struct {
	ID         string   `json:"id"`
	Owner      string   `json:"owner"`
	Permission string   `json:"permission"`
	Workers    []string `json:"workers"`
	Pubkey     string   `json:"pubkey,omitempty"`
	Epoch      uint32   `json:"epoch"`
	Keyed      []string `json:"keyedWorkers"`
	// ReportInterval is how often (blocks) the workers report the cluster
	// state root.
	ReportInterval uint32 `json:"reportInterval"`
	// The state root agreement (PathCluster only): the last root a
	// majority of the keyed workers agree on, the kept report records
	// (ascending height) and the divergence alarms (oldest first).
	LastAgreed *StateRootInfo  `json:"lastAgreed,omitempty"`
	Roots      []StateRootInfo `json:"roots,omitempty"`
	Alarms     []AlarmInfo     `json:"alarms,omitempty"`
}

// StateRootInfo is the chain's record of a cluster state root at a height:
// the first reported root and the workers that reported it (0x hex).
type StateRootInfo struct {
	Height   uint64   `json:"height"`
	Root     string   `json:"root"`
	Agreeing []string `json:"agreeing"`
}

// AlarmInfo is a divergence: Worker reported Root for the state after
// block Height, where ExpectedRoot had been reported first (0x hex).
type AlarmInfo struct {
	Height       uint64 `json:"height"`
	Worker       string `json:"worker"`
	Root         string `json:"root"`
	ExpectedRoot string `json:"expectedRoot"`
}

// PermissionName returns the JSON name of a cluster permission.
func PermissionName(p uint8) string {
	switch p {
	case 0:
		return "public"
	case 1:
		return "owner"
	}
	return fmt.Sprintf("permission(%d)", p)
}

// ParsePermission parses "public" or "owner".
func ParsePermission(s string) (uint8, error) {
	switch s {
	case "public":
		return 0, nil
	case "owner":
		return 1, nil
	}
	return 0, fmt.Errorf("cluster permission %q: want public or owner", s)
}

func hexKeys(ks []keys.PublicKey) []string {
	out := make([]string, len(ks))
	for i, k := range ks {
		out[i] = k.Hex()
	}
	return out
}

// ClusterInfoFrom renders a cluster record (fields as phat.Cluster).
func ClusterInfoFrom(id [32]byte, owner keys.PublicKey, permission uint8, workers []keys.PublicKey, pubkey *keys.PublicKey, epoch uint32, keyed []keys.PublicKey, ss58Prefix uint16) ClusterInfo {
	ci := ClusterInfo{
		ID: "0x" + hex.EncodeToString(id[:]), Owner: keys.EncodeSS58(owner, ss58Prefix), Permission: PermissionName(permission),
		Workers: hexKeys(workers), Epoch: epoch, Keyed: hexKeys(keyed),
	}
	if pubkey != nil {
		ci.Pubkey = pubkey.Hex()
	}
	return ci
}

// ContractInfo is a contract in the PathContracts and PathContract answers:
// ids, hashes and keys 0x-hex, the deployer an SS58 address, the state
// "pending", "instantiated" or "failed". Pubkey (the contract's ECDH public
// key, for encrypted commands) is empty until the cluster published it.
type ContractInfo struct {
	ID       string `json:"id"`
	Cluster  string `json:"cluster"`
	Deployer string `json:"deployer"`
	CodeHash string `json:"codeHash"`
	State    string `json:"state"`
	Pubkey   string `json:"pubkey,omitempty"`
}

// ContractInfoFrom renders a contract record (fields as phat.Contract).
func ContractInfoFrom(id, cluster [32]byte, deployer keys.PublicKey, codeHash [32]byte, stateName string, pubkey *keys.PublicKey, ss58Prefix uint16) ContractInfo {
	ci := ContractInfo{
		ID: "0x" + hex.EncodeToString(id[:]), Cluster: "0x" + hex.EncodeToString(cluster[:]),
		Deployer: keys.EncodeSS58(deployer, ss58Prefix), CodeHash: "0x" + hex.EncodeToString(codeHash[:]), State: stateName,
	}
	if pubkey != nil {
		ci.Pubkey = pubkey.Hex()
	}
	return ci
}

// CodeInfo is the JSON answer of PathCode: the code's hash, kind ("ink" or
// "indeterministic") and size in bytes.
type CodeInfo struct {
	Hash string `json:"hash"`
	Kind string `json:"kind"`
	Size int    `json:"size"`
}

// CodeKindName returns the JSON name of a code kind.
func CodeKindName(k uint8) string {
	switch k {
	case msg.CodeKindInk:
		return "ink"
	case msg.CodeKindIndeterministic:
		return "indeterministic"
	}
	return fmt.Sprintf("kind(%d)", k)
}

// BlocksRequest is the SCALE request of PathBlocks.
type BlocksRequest struct{ From, To uint64 }

// EncodeSCALE writes the request.
func (q *BlocksRequest) EncodeSCALE(w *scale.Writer) { w.U64(q.From); w.U64(q.To) }

// DecodeSCALE reads the request.
func (q *BlocksRequest) DecodeSCALE(r *scale.Reader) { q.From = r.U64(); q.To = r.U64() }

// minRecordBytes is the smallest encoding of a state.BlockRecord.
const minRecordBytes = 8 + 1 + 1 + 32

// DecodeBlocks decodes a PathBlocks answer.
func DecodeBlocks(b []byte) ([]*state.BlockRecord, error) {
	r := scale.NewReader(b)
	n := r.Len(minRecordBytes)
	out := make([]*state.BlockRecord, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		rec := new(state.BlockRecord)
		rec.DecodeSCALE(r)
		out = append(out, rec)
	}
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("decode blocks: %w", err)
	}
	return out, nil
}
