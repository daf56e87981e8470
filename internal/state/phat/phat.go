// Package phat is the Phat module (index 7 of AppVersion1). It keeps
// clusters: groups of registered workers that share a cluster key (derived
// by a gatekeeper from the master key and the cluster id, and sent to each
// worker encrypted); the contract code users upload to a cluster; the
// contracts they instantiate and the commands they push (executed by the
// cluster's workers, which report back through the cluster's egress); the
// gas reserved for them in the cluster's escrow account; and the ECDH public
// keys of contracts that clusters publish.
//
// Storage:
//
//	"phat/counter"                → u64 LE: the counter the next cluster id is made from
//	"phat/clusters"               → SCALE(Vec<[u8; 32]>) sorted: every cluster id
//	"phat/cluster/" ‖ id          → SCALE(Cluster) without its id
//	"phat/contract_key/" ‖ id     → SCALE(ContractKey): the contract's cluster and ECDH public key
//	"phat/code/" ‖ hash           → SCALE(Code): (kind u8, code Vec<u8>), stored once per hash
//	"phat/cluster_code/" ‖ cluster ‖ hash → [kind]: the code is available in the cluster
//	"phat/contract/" ‖ id         → SCALE(Contract) without its id
//	"phat/cluster_contracts/" ‖ cluster → SCALE(Vec<[u8; 32]>) sorted: the cluster's contracts
//	"phat/pending/" ‖ command_id  → SCALE(Pending): a reservation awaiting the cluster's outcome
//	"phat/ledger/" ‖ cluster      → u128 LE: value credited to the cluster's ledger (transfers, deposits)
//	"phat/cluster_epochs/" ‖ id   → SCALE(Vec<(u32 epoch, [u8;32] pubkey, u64 height, u32 grace)>): the cluster's keys by epoch, written from its first rotation on
//	"phat/contract_key_epoch/" ‖ contract ‖ epoch (u32 BE) → [u8;32]: a contract's ECDH public key of an epoch, written from its first rotation on
//	"phat/report_interval/", "phat/root_heights/", "phat/root/", "phat/alarms/" → state root agreement (roots.go)
//
// A cluster id is the H256 of the counter (big-endian u64 in the last 8
// bytes, as Phala's H256::from_low_u64_be): the first cluster is all zeros.
package phat

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the phat module's index.
	Index uint8 = 7
	// MethodCreateCluster is phat.create_cluster(owner [u8;32], permission u8, workers Vec<[u8;32]>) (privileged).
	MethodCreateCluster uint8 = 0
	// MethodAddWorker is phat.add_worker(cluster [u8;32], worker [u8;32]) (privileged).
	MethodAddWorker uint8 = 1
	// MethodRemoveWorker is phat.remove_worker(cluster [u8;32], worker [u8;32]) (privileged).
	MethodRemoveWorker uint8 = 2
)

// Cluster permissions: who may deploy contracts to it.
const (
	PermissionPublic    uint8 = 0
	PermissionOwnerOnly uint8 = 1
)

// MaxClusterWorkers bounds a cluster's workers.
const MaxClusterWorkers = 64

// Weights of the privileged calls.
const (
	CreateClusterWeight uint64 = 200_000 + 20_000*MaxClusterWorkers
	WorkerChangeWeight  uint64 = 150_000
)

// Storage keys.
var (
	KeyCounter        = []byte("phat/counter")
	KeyClusters       = []byte("phat/clusters")
	PrefixCluster     = []byte("phat/cluster/")
	PrefixContractKey = []byte("phat/contract_key/")
)

// Cluster is a cluster's record.
type Cluster struct {
	// ID is the cluster id (the key's suffix; not part of the stored value).
	ID         [32]byte
	Owner      keys.PublicKey
	Permission uint8
	// Workers are the cluster's workers, sorted.
	Workers []keys.PublicKey
	// Pubkey is the cluster's public key, once a gatekeeper published it.
	Pubkey    keys.PublicKey
	HasPubkey bool
	// Epoch is the master-key epoch the cluster key derives from.
	Epoch uint32
	// Keyed are the workers a gatekeeper sent the cluster key to, sorted.
	Keyed []keys.PublicKey
	// GasPrice is the price of GasPriceUnit gas in base units: commands and
	// instantiations reserve Cost(gas_limit, GasPrice). Not stored yet:
	// GetCluster sets DefaultGasPrice (a call to set it comes later, with
	// its own record, so the cluster record's format stays).
	GasPrice scale.U128
	// MaxGas bounds the gas_limit of a command or instantiation. Not stored
	// yet: GetCluster sets DefaultMaxGas.
	MaxGas uint64
	// ReportInterval is how often (in blocks) the cluster's workers report
	// its state root. Kept in its own record (roots.go), so the cluster
	// record's format stays: GetCluster reads it.
	ReportInterval uint32
	// SystemContract is the cluster's system contract (zero: none); its
	// own record (system.go), read by GetCluster.
	SystemContract [32]byte
}

func writeKeys(w *scale.Writer, ks []keys.PublicKey) {
	scale.WriteVec(w, ks, func(w *scale.Writer, k keys.PublicKey) { w.Raw(k[:]) })
}

func readKeys(r *scale.Reader) []keys.PublicKey {
	return scale.ReadVec(r, 32, func(r *scale.Reader) (k keys.PublicKey) { r.Fixed(k[:]); return k })
}

// EncodeSCALE writes (owner [u8;32], permission u8, workers Vec<[u8;32]>,
// pubkey Option<[u8;32]>, epoch u32, keyed Vec<[u8;32]>).
func (c *Cluster) EncodeSCALE(w *scale.Writer) {
	w.Raw(c.Owner[:])
	w.U8(c.Permission)
	writeKeys(w, c.Workers)
	if c.HasPubkey {
		w.U8(1)
		w.Raw(c.Pubkey[:])
	} else {
		w.U8(0)
	}
	w.U32(c.Epoch)
	writeKeys(w, c.Keyed)
}

// DecodeSCALE reads a record (the ID is left alone).
func (c *Cluster) DecodeSCALE(r *scale.Reader) {
	r.Fixed(c.Owner[:])
	c.Permission = r.U8()
	c.Workers = readKeys(r)
	switch tag := r.U8(); tag {
	case 0:
		c.HasPubkey, c.Pubkey = false, keys.PublicKey{}
	case 1:
		c.HasPubkey = true
		r.Fixed(c.Pubkey[:])
	default:
		if r.Err() == nil {
			r.Fail(fmt.Errorf("cluster pubkey option tag %d", tag))
		}
	}
	c.Epoch = r.U32()
	c.Keyed = readKeys(r)
}

// ContractKey is a contract's published key record.
type ContractKey struct {
	Cluster [32]byte
	Pubkey  keys.PublicKey
}

// EncodeSCALE writes ([u8;32], [u8;32]).
func (k *ContractKey) EncodeSCALE(w *scale.Writer) { w.Raw(k.Cluster[:]); w.Raw(k.Pubkey[:]) }

// DecodeSCALE reads the record.
func (k *ContractKey) DecodeSCALE(r *scale.Reader) { r.Fixed(k.Cluster[:]); r.Fixed(k.Pubkey[:]) }

// ClusterID returns the id made from counter n: big-endian n in the last 8 bytes.
func ClusterID(n uint64) [32]byte {
	var id [32]byte
	binary.BigEndian.PutUint64(id[24:], n)
	return id
}

// ClusterKey returns the storage key of a cluster's record.
func ClusterKey(id [32]byte) []byte { return append(slices.Clone(PrefixCluster), id[:]...) }

// ContractKeyKey returns the storage key of a contract's key record.
func ContractKeyKey(contract [32]byte) []byte {
	return append(slices.Clone(PrefixContractKey), contract[:]...)
}

// Module returns the phat module.
func Module() *state.Module {
	return &state.Module{Name: "phat", Methods: []*state.Method{
		MethodCreateCluster:     {Name: "create_cluster", Weight: CreateClusterWeight, Privileged: true, Check: checkCreate, Exec: execCreate},
		MethodAddWorker:         {Name: "add_worker", Weight: WorkerChangeWeight, Privileged: true, Check: checkPair, Exec: execAddWorker},
		MethodRemoveWorker:      {Name: "remove_worker", Weight: WorkerChangeWeight, Privileged: true, Check: checkPair, Exec: execRemoveWorker},
		MethodUploadCode:        {Name: "upload_code", Weight: UploadCodeWeight, WeightPerByte: UploadCodeWeightPerByte, Check: checkUpload, Exec: execUpload},
		MethodInstantiate:       {Name: "instantiate", Weight: InstantiateWeight, WeightPerByte: PayloadWeightPerByte, Check: checkInstantiate, Exec: execInstantiate},
		MethodPushCommand:       {Name: "push_command", Weight: PushCommandWeight, WeightPerByte: PayloadWeightPerByte, Check: checkPush, Exec: execPush},
		MethodSetReportInterval: {Name: "set_report_interval", Weight: SetReportIntervalWeight, Privileged: true, Check: checkSetInterval, Exec: execSetInterval},
		MethodSetSystemContract: {Name: "set_system_contract", Weight: SetSystemContractWeight, Check: checkSetSystem, Exec: execSetSystem},
	}}
}

// CreateArgs are phat.create_cluster's arguments.
type CreateArgs struct {
	Owner      keys.PublicKey
	Permission uint8
	Workers    []keys.PublicKey
}

// CreateClusterCall builds phat.create_cluster (dispatch it through admin.sudo).
func CreateClusterCall(a CreateArgs) tx.Call {
	w := scale.NewWriter(34 + 32*len(a.Workers))
	w.Raw(a.Owner[:])
	w.U8(a.Permission)
	writeKeys(w, a.Workers)
	return tx.Call{Module: Index, Method: MethodCreateCluster, Args: w.Bytes()}
}

// AddWorkerCall builds phat.add_worker(cluster, worker).
func AddWorkerCall(cluster [32]byte, worker keys.PublicKey) tx.Call {
	return tx.Call{Module: Index, Method: MethodAddWorker, Args: append(slices.Clone(cluster[:]), worker[:]...)}
}

// RemoveWorkerCall builds phat.remove_worker(cluster, worker).
func RemoveWorkerCall(cluster [32]byte, worker keys.PublicKey) tx.Call {
	return tx.Call{Module: Index, Method: MethodRemoveWorker, Args: append(slices.Clone(cluster[:]), worker[:]...)}
}

func cmpKey(a, b keys.PublicKey) int { return bytes.Compare(a[:], b[:]) }

// DecodeCreateArgs decodes phat.create_cluster's arguments: a known
// permission, 1..MaxClusterWorkers distinct workers.
func DecodeCreateArgs(args []byte) (CreateArgs, error) {
	r := scale.NewReader(args)
	var a CreateArgs
	r.Fixed(a.Owner[:])
	a.Permission = r.U8()
	a.Workers = readKeys(r)
	if err := r.Finish(); err != nil {
		return CreateArgs{}, fmt.Errorf("phat.create_cluster args: %w", err)
	}
	if a.Permission > PermissionOwnerOnly {
		return CreateArgs{}, fmt.Errorf("phat.create_cluster args: permission %d", a.Permission)
	}
	if len(a.Workers) == 0 || len(a.Workers) > MaxClusterWorkers {
		return CreateArgs{}, fmt.Errorf("phat.create_cluster args: %d workers, want 1 to %d", len(a.Workers), MaxClusterWorkers)
	}
	sorted := slices.Clone(a.Workers)
	slices.SortFunc(sorted, cmpKey)
	if len(slices.Compact(sorted)) != len(a.Workers) {
		return CreateArgs{}, fmt.Errorf("phat.create_cluster args: duplicate worker")
	}
	a.Workers = sorted
	return a, nil
}

func checkCreate(args []byte) error { _, err := DecodeCreateArgs(args); return err }

func decodePair(args []byte) ([32]byte, keys.PublicKey, error) {
	if len(args) != 64 {
		return [32]byte{}, keys.PublicKey{}, fmt.Errorf("phat: (cluster, worker) argument of %d bytes, want 64", len(args))
	}
	return [32]byte(args[:32]), keys.PublicKey(args[32:]), nil
}

func checkPair(args []byte) error { _, _, err := decodePair(args); return err }

// ClusterIDs returns every cluster id, sorted.
func ClusterIDs(st state.Store) ([][32]byte, error) {
	v, err := st.Get(KeyClusters)
	if err != nil {
		return nil, fmt.Errorf("state: reading clusters: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 32, func(r *scale.Reader) (k [32]byte) { r.Fixed(k[:]); return k })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: cluster ids: %w", state.ErrCorruptState, err)
	}
	return out, nil
}

// GetCluster reads a cluster's record; false when there is no such cluster.
func GetCluster(st state.Store, id [32]byte) (Cluster, bool, error) {
	v, err := st.Get(ClusterKey(id))
	if err != nil {
		return Cluster{}, false, fmt.Errorf("state: reading cluster: %w", err)
	}
	if v == nil {
		return Cluster{}, false, nil
	}
	var c Cluster
	if err := scale.Decode(v, &c); err != nil {
		return Cluster{}, false, fmt.Errorf("%w: cluster %x: %w", state.ErrCorruptState, id, err)
	}
	c.ID = id
	c.setTerms()
	if c.ReportInterval, err = ReportInterval(st, id); err != nil {
		return Cluster{}, false, err
	}
	if c.SystemContract, err = SystemContract(st, id); err != nil {
		return Cluster{}, false, err
	}
	return c, true, nil
}

// clusterTerms is what a command needs of its cluster — its id, gas price
// and gas limit (GetCluster's values) — without decoding the record or
// reading the report interval: one read that only checks the cluster
// exists (phat.push_command runs it for every command, in CheckTx and in
// the block). Its other fields are zero.
func clusterTerms(st state.Store, id [32]byte) (Cluster, bool, error) {
	v, err := st.Get(ClusterKey(id))
	if err != nil {
		return Cluster{}, false, fmt.Errorf("state: reading cluster: %w", err)
	}
	if v == nil {
		return Cluster{}, false, nil
	}
	c := Cluster{ID: id}
	c.setTerms()
	return c, true, nil
}

// setTerms sets the cluster's gas price and gas limit: the defaults, until
// a call to set them per cluster exists.
func (c *Cluster) setTerms() { c.GasPrice, c.MaxGas = scale.U128From(DefaultGasPrice), DefaultMaxGas }

// ClusterPubkey returns a cluster's recorded public key; false when the
// cluster does not exist or has no key yet. mq.submit verifies Cluster
// origins with it.
func ClusterPubkey(st state.Store, id [32]byte) (keys.PublicKey, bool, error) {
	c, ok, err := GetCluster(st, id)
	if err != nil || !ok || !c.HasPubkey {
		return keys.PublicKey{}, false, err
	}
	return c.Pubkey, true, nil
}

// GetContractKey reads a contract's published key; false when none.
func GetContractKey(st state.Store, contract [32]byte) (ContractKey, bool, error) {
	v, err := st.Get(ContractKeyKey(contract))
	if err != nil {
		return ContractKey{}, false, fmt.Errorf("state: reading contract key: %w", err)
	}
	if v == nil {
		return ContractKey{}, false, nil
	}
	var k ContractKey
	if err := scale.Decode(v, &k); err != nil {
		return ContractKey{}, false, fmt.Errorf("%w: contract key %x: %w", state.ErrCorruptState, contract, err)
	}
	return k, true, nil
}

func putCluster(ov *state.Overlay, c *Cluster) { ov.SetOwned(ClusterKey(c.ID), scale.Encode(c)) }

func getCounter(st state.Store) (uint64, error) {
	v, err := st.Get(KeyCounter)
	if err != nil {
		return 0, fmt.Errorf("state: reading cluster counter: %w", err)
	}
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: cluster counter of %d bytes", state.ErrCorruptState, len(v))
	}
	return binary.LittleEndian.Uint64(v), nil
}

func emitChange(c *state.CallCtx, id [32]byte, kind uint8, worker keys.PublicKey) {
	c.Emit(msg.Message{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(msg.TopicClusterChanged),
		Payload: scale.Encode(&msg.ClusterChange{Cluster: id, Kind: kind, Worker: worker})})
	names := [...]string{"cluster_created", "cluster_worker_added", "cluster_worker_removed"}
	attrs := []state.EventAttribute{{Key: "cluster", Value: "0x" + hex.EncodeToString(id[:]), Index: true}}
	if kind != msg.ClusterCreated {
		attrs = append(attrs, state.EventAttribute{Key: "worker", Value: worker.Hex(), Index: true})
	}
	c.AddEvent(state.Event{Type: names[kind], Attributes: attrs})
}

// requireRegistered refuses a worker that is not registered, or that its
// operator deregistered (a deregistered worker is in no cluster).
func requireRegistered(c *state.CallCtx, w keys.PublicKey) (uint32, string, error) {
	if _, ok, err := registry.GetWorker(c.Overlay(), w); err != nil {
		return 0, "", err
	} else if !ok {
		return state.CodeWorkerNotRegistered, fmt.Sprintf("worker %s is not registered", w.Hex()), nil
	}
	if at, dereg, err := registry.DeregisteredAt(c.Overlay(), w); err != nil {
		return 0, "", err
	} else if dereg {
		return state.CodeWorkerDeregistered, fmt.Sprintf("worker %s was deregistered at height %d", w.Hex(), at), nil
	}
	return state.CodeOK, "", nil
}

// RemoveFromClusters takes worker out of every cluster it is in, as
// phat.remove_worker would (out of the cluster's workers and keyed
// workers, with a msg.TopicClusterChanged message and a
// cluster_worker_removed event each), visiting the clusters in their
// sorted id order. It returns the clusters it changed, sorted. It is run
// by registry.deregister_worker (through the registry's DeregisterHook),
// with the operator's origin: it checks no origin itself.
func RemoveFromClusters(c *state.CallCtx, worker keys.PublicKey) ([][32]byte, error) {
	ids, err := ClusterIDs(c.Overlay())
	if err != nil {
		return nil, err
	}
	var changed [][32]byte
	for _, id := range ids {
		v, err := c.Overlay().Get(ClusterKey(id))
		if err != nil {
			return nil, fmt.Errorf("state: reading cluster: %w", err)
		}
		if v == nil {
			return nil, fmt.Errorf("%w: cluster %x is listed but has no record", state.ErrCorruptState, id)
		}
		cl := Cluster{ID: id}
		if err := scale.Decode(v, &cl); err != nil {
			return nil, fmt.Errorf("%w: cluster %x: %w", state.ErrCorruptState, id, err)
		}
		i, found := slices.BinarySearchFunc(cl.Workers, worker, cmpKey)
		if !found {
			continue
		}
		cl.Workers = slices.Delete(cl.Workers, i, i+1)
		if j, ok := slices.BinarySearchFunc(cl.Keyed, worker, cmpKey); ok {
			cl.Keyed = slices.Delete(cl.Keyed, j, j+1)
		}
		putCluster(c.Overlay(), &cl)
		emitChange(c, id, msg.ClusterWorkerRemoved, worker)
		changed = append(changed, id)
	}
	return changed, nil
}

// CreateCluster creates a cluster with the next id from the counter and
// emits msg.TopicClusterChanged (ClusterCreated). It is
// phat.create_cluster's body, also run by the dev bootstrap; c must act as
// root and a must have passed DecodeCreateArgs.
func CreateCluster(c *state.CallCtx, a CreateArgs) ([32]byte, uint32, string, error) {
	if !c.IsRoot() {
		return [32]byte{}, state.CodeNotRoot, "phat.create_cluster needs the root origin", nil
	}
	for _, w := range a.Workers {
		if code, log, err := requireRegistered(c, w); code != state.CodeOK || err != nil {
			return [32]byte{}, code, log, err
		}
	}
	n, err := getCounter(c.Overlay())
	if err != nil {
		return [32]byte{}, 0, "", err
	}
	ids, err := ClusterIDs(c.Overlay())
	if err != nil {
		return [32]byte{}, 0, "", err
	}
	id := ClusterID(n)
	c.Overlay().SetOwned(KeyCounter, binary.LittleEndian.AppendUint64(nil, n+1))
	i, _ := slices.BinarySearchFunc(ids, id, func(a, b [32]byte) int { return bytes.Compare(a[:], b[:]) })
	ids = slices.Insert(ids, i, id)
	w := scale.NewWriter(1 + 32*len(ids))
	scale.WriteVec(w, ids, func(w *scale.Writer, k [32]byte) { w.Raw(k[:]) })
	c.Overlay().SetOwned(KeyClusters, w.Bytes())
	putCluster(c.Overlay(), &Cluster{ID: id, Owner: a.Owner, Permission: a.Permission, Workers: a.Workers})
	emitChange(c, id, msg.ClusterCreated, keys.PublicKey{})
	return id, state.CodeOK, "", nil
}

func execCreate(c *state.CallCtx, args []byte) (uint32, string, error) {
	a, err := DecodeCreateArgs(args)
	if err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	_, code, log, err := CreateCluster(c, a)
	return code, log, err
}

func loadPair(c *state.CallCtx, args []byte, method string) (*Cluster, keys.PublicKey, uint32, string, error) {
	id, w, err := decodePair(args)
	if err != nil {
		return nil, w, state.CodeBadDispatchArgs, err.Error(), nil
	}
	if !c.IsRoot() {
		return nil, w, state.CodeNotRoot, "phat." + method + " needs the root origin", nil
	}
	cl, ok, err := GetCluster(c.Overlay(), id)
	if err != nil {
		return nil, w, 0, "", err
	}
	if !ok {
		return nil, w, state.CodeUnknownCluster, fmt.Sprintf("no cluster %x", id), nil
	}
	return &cl, w, state.CodeOK, "", nil
}

func execAddWorker(c *state.CallCtx, args []byte) (uint32, string, error) {
	cl, w, code, log, err := loadPair(c, args, "add_worker")
	if code != state.CodeOK || err != nil {
		return code, log, err
	}
	if code, log, err := requireRegistered(c, w); code != state.CodeOK || err != nil {
		return code, log, err
	}
	i, found := slices.BinarySearchFunc(cl.Workers, w, cmpKey)
	if found {
		return state.CodeAlreadyInCluster, fmt.Sprintf("worker %s is already in cluster %x", w.Hex(), cl.ID), nil
	}
	if len(cl.Workers) >= MaxClusterWorkers {
		return state.CodeTooManyClusterWorkers, fmt.Sprintf("cluster %x has %d workers already", cl.ID, MaxClusterWorkers), nil
	}
	cl.Workers = slices.Insert(cl.Workers, i, w)
	putCluster(c.Overlay(), cl)
	emitChange(c, cl.ID, msg.ClusterWorkerAdded, w)
	return state.CodeOK, "", nil
}

func execRemoveWorker(c *state.CallCtx, args []byte) (uint32, string, error) {
	cl, w, code, log, err := loadPair(c, args, "remove_worker")
	if code != state.CodeOK || err != nil {
		return code, log, err
	}
	i, found := slices.BinarySearchFunc(cl.Workers, w, cmpKey)
	if !found {
		return state.CodeNotInCluster, fmt.Sprintf("worker %s is not in cluster %x", w.Hex(), cl.ID), nil
	}
	cl.Workers = slices.Delete(cl.Workers, i, i+1)
	if j, ok := slices.BinarySearchFunc(cl.Keyed, w, cmpKey); ok {
		cl.Keyed = slices.Delete(cl.Keyed, j, j+1)
	}
	putCluster(c.Overlay(), cl)
	emitChange(c, cl.ID, msg.ClusterWorkerRemoved, w)
	return state.CodeOK, "", nil
}

// gatekeeperMessage checks a gatekeeper's message about a cluster: its
// origin is a worker that is an active gatekeeper, payload decodes into p,
// and the cluster that cluster(p) names exists, which it returns.
func gatekeeperMessage(c *state.CallCtx, o msg.Origin, topic string, payload []byte, p scale.Decodable, cluster func() [32]byte) (Cluster, uint32, string, error) {
	if o.Kind != msg.OriginKindWorker {
		return Cluster{}, state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of workers, not of %s", topic, o), nil
	}
	if err := scale.Decode(payload, p); err != nil {
		return Cluster{}, state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", topic, err), nil
	}
	if ok, err := gatekeeper.IsActive(c.Overlay(), o.Worker); err != nil {
		return Cluster{}, 0, "", err
	} else if !ok {
		return Cluster{}, state.CodeGkNotGatekeeper, fmt.Sprintf("%s is not an active gatekeeper", o.Worker.Hex()), nil
	}
	id := cluster()
	cl, ok, err := GetCluster(c.Overlay(), id)
	if err != nil {
		return Cluster{}, 0, "", err
	}
	if !ok {
		return Cluster{}, state.CodeUnknownCluster, fmt.Sprintf("no cluster %x", id), nil
	}
	return cl, state.CodeOK, "", nil
}

// HandleClusterKeys: the sender must be an active gatekeeper; the cluster
// exists; the epoch is the master key's; every share's worker is in the
// cluster; the public key equals the recorded one, or is recorded. The
// shares' workers are recorded as keyed.
func HandleClusterKeys(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	var p msg.ClusterKeyShares
	cl, code, log, err := gatekeeperMessage(c, o, msg.TopicClusterKeys, payload, &p, func() [32]byte { return p.Cluster })
	if code != state.CodeOK || err != nil {
		return code, log, err
	}
	mk, ok, err := gatekeeper.GetMasterKey(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if !ok || mk.Epoch != p.Epoch {
		return state.CodeGkMasterKeyMismatch, fmt.Sprintf("cluster key of master-key epoch %d, not the chain's", p.Epoch), nil
	}
	for _, s := range p.Shares {
		if _, in := slices.BinarySearchFunc(cl.Workers, s.Worker, cmpKey); !in {
			return state.CodeClusterKeyOutsideCluster, fmt.Sprintf("share for %s, not a worker of cluster %x", s.Worker.Hex(), cl.ID), nil
		}
	}
	if cl.HasPubkey && p.Epoch > cl.Epoch {
		return rekey(c, &cl, &p)
	}
	if cl.HasPubkey && (cl.Pubkey != p.Pubkey || cl.Epoch != p.Epoch) {
		return state.CodeClusterKeyMismatch, fmt.Sprintf("cluster %x has key %s of epoch %d, message says %s of epoch %d", cl.ID, cl.Pubkey.Hex(), cl.Epoch, p.Pubkey.Hex(), p.Epoch), nil
	}
	cl.Pubkey, cl.HasPubkey, cl.Epoch = p.Pubkey, true, p.Epoch
	for _, s := range p.Shares {
		if i, in := slices.BinarySearchFunc(cl.Keyed, s.Worker, cmpKey); !in {
			cl.Keyed = slices.Insert(cl.Keyed, i, s.Worker)
		}
	}
	putCluster(c.Overlay(), &cl)
	c.AddEvent(state.Event{Type: "cluster_key", Attributes: []state.EventAttribute{
		{Key: "cluster", Value: "0x" + hex.EncodeToString(cl.ID[:]), Index: true}, {Key: "pubkey", Value: cl.Pubkey.Hex()}}})
	return state.CodeOK, "", nil
}

// HandleContractKey: a cluster (its origin was verified against its key by
// mq.submit) publishes a contract's ECDH public key; a contract keeps the
// first key and cluster recorded for it. A contract instantiated through
// phat.instantiate must be of the publishing cluster and pending: the key
// marks it instantiated (commands may then be pushed to it).
func HandleContractKey(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindCluster {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of clusters, not of %s", msg.TopicContractKey, o), nil
	}
	var p msg.ContractKey
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicContractKey, err), nil
	}
	rec := ContractKey{Cluster: o.Cluster, Pubkey: p.Pubkey}
	old, ok, err := GetContractKey(c.Overlay(), p.Contract)
	if err != nil {
		return 0, "", err
	}
	if ok && old != rec {
		return state.CodeContractKeyMismatch, fmt.Sprintf("contract %x already has key %s from cluster %x", p.Contract, old.Pubkey.Hex(), old.Cluster), nil
	}
	if code, log, err := markInstantiated(c, o.Cluster, p.Contract, p.Pubkey); code != state.CodeOK || err != nil {
		return code, log, err
	}
	if ok {
		return state.CodeOK, "", nil
	}
	c.Overlay().SetOwned(ContractKeyKey(p.Contract), scale.Encode(&rec))
	c.AddEvent(state.Event{Type: "contract_key", Attributes: []state.EventAttribute{
		{Key: "contract", Value: "0x" + hex.EncodeToString(p.Contract[:]), Index: true}, {Key: "pubkey", Value: p.Pubkey.Hex()}}})
	return state.CodeOK, "", nil
}
