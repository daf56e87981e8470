package registry

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

// Worker liveness. Every registered worker sends a heartbeat
// (msg.TopicWorkerHeartbeat) when it steps a block whose height is a
// multiple of Liveness.HeartbeatInterval; the registry records the height
// of the block that carried it. A worker is stale when it has not been
// seen (registered or heard from) for StaleFactor·HeartbeatInterval
// blocks. An operator may deregister its worker for good: its egress is
// refused from then on (state.CodeMqWorkerDeregistered), gatekeepers send
// it no key, its identity cannot register again, and (through the
// module's DeregisterHook) it leaves every cluster in the same
// transaction. A gatekeeper cannot be deregistered
// (state.CodeDeregisterGatekeeper) until governance removed it from the
// gatekeeper set.
//
// Storage (besides registry.go's):
//
//	"registry/liveness"               → SCALE(Liveness); absent: DefaultLiveness
//	"registry/last_seen/" ‖ identity  → u64le: height of the block with its last heartbeat
//	"registry/deregistered/" ‖ identity → u64le: height of its deregistration
var (
	KeyLiveness          = []byte("registry/liveness")
	PrefixLastSeen       = []byte("registry/last_seen/")
	PrefixDeregistered   = []byte("registry/deregistered/")
	errNotLivenessParams = fmt.Errorf("liveness parameters out of range")
)

const (
	// MethodDeregisterWorker is registry.deregister_worker([u8; 32]
	// identity), signed by the worker's operator.
	MethodDeregisterWorker uint8 = 3
	// MethodSetLiveness is registry.set_liveness(Liveness), privileged.
	MethodSetLiveness uint8 = 4
)

// Weights of the liveness calls: a few reads and a write.
const (
	DeregisterWorkerWeight uint64 = 60_000
	SetLivenessWeight      uint64 = 20_000
)

// Bounds of the liveness parameters.
const (
	// MaxHeartbeatInterval bounds Liveness.HeartbeatInterval (blocks).
	MaxHeartbeatInterval = 100_000
	// MaxStaleFactor bounds Liveness.StaleFactor.
	MaxStaleFactor = 1_000
)

// Liveness is the registry's liveness configuration, a chain parameter.
type Liveness struct {
	// HeartbeatInterval N: workers send a heartbeat at heights that are
	// multiples of N. 0 turns heartbeats and staleness off.
	HeartbeatInterval uint32
	// StaleFactor k: a worker not seen for more than k·N blocks is stale
	// (1..MaxStaleFactor when N > 0).
	StaleFactor uint32
}

// DefaultLiveness is the liveness configuration of a chain that never set
// one: a heartbeat every 10 blocks, stale after 30 blocks of silence.
var DefaultLiveness = Liveness{HeartbeatInterval: 10, StaleFactor: 3}

// EncodeSCALE writes (u32, u32).
func (l *Liveness) EncodeSCALE(w *scale.Writer) {
	w.U32(l.HeartbeatInterval)
	w.U32(l.StaleFactor)
}

// DecodeSCALE reads the configuration.
func (l *Liveness) DecodeSCALE(r *scale.Reader) {
	l.HeartbeatInterval = r.U32()
	l.StaleFactor = r.U32()
}

// Check reports parameters out of range.
func (l Liveness) Check() error {
	if l.HeartbeatInterval > MaxHeartbeatInterval {
		return fmt.Errorf("%w: heartbeat interval %d, at most %d", errNotLivenessParams, l.HeartbeatInterval, MaxHeartbeatInterval)
	}
	if l.HeartbeatInterval > 0 && (l.StaleFactor < 1 || l.StaleFactor > MaxStaleFactor) {
		return fmt.Errorf("%w: stale factor %d, want 1 to %d", errNotLivenessParams, l.StaleFactor, MaxStaleFactor)
	}
	return nil
}

// HeartbeatDue reports whether a worker sends a heartbeat when it steps
// block height.
func (l Liveness) HeartbeatDue(height uint64) bool {
	return l.HeartbeatInterval > 0 && height > 0 && height%uint64(l.HeartbeatInterval) == 0
}

// StaleAfter is how many blocks of silence make a worker stale (0: never).
func (l Liveness) StaleAfter() uint64 {
	return uint64(l.HeartbeatInterval) * uint64(l.StaleFactor)
}

// Stale reports whether a worker last seen at lastSeen is stale at height.
func (l Liveness) Stale(lastSeen, height uint64) bool {
	return l.HeartbeatInterval > 0 && height > lastSeen && height-lastSeen > l.StaleAfter()
}

// GetLiveness reads the liveness configuration (DefaultLiveness when the
// chain never set one).
func GetLiveness(st state.Store) (Liveness, error) {
	l, ok, err := state.Load[Liveness](st, KeyLiveness, "liveness config")
	if !ok && err == nil {
		return DefaultLiveness, nil
	}
	return l, err
}

func heightKey(prefix []byte, identity keys.PublicKey) []byte {
	k := make([]byte, 0, len(prefix)+32)
	k = append(k, prefix...)
	return append(k, identity[:]...)
}

// LastSeenKey returns the storage key of a worker's last heartbeat height.
func LastSeenKey(identity keys.PublicKey) []byte { return heightKey(PrefixLastSeen, identity) }

// DeregisteredKey returns the storage key of a worker's deregistration.
func DeregisteredKey(identity keys.PublicKey) []byte {
	return heightKey(PrefixDeregistered, identity)
}

func getHeight(st state.Store, key []byte, what string) (uint64, bool, error) {
	v, err := st.Get(key)
	if err != nil {
		return 0, false, fmt.Errorf("state: reading %s: %w", what, err)
	}
	if v == nil {
		return 0, false, nil
	}
	if len(v) != 8 {
		return 0, false, fmt.Errorf("%w: %s of %d bytes", state.ErrCorruptState, what, len(v))
	}
	return binary.LittleEndian.Uint64(v), true, nil
}

func putHeight(ov *state.Overlay, key []byte, h uint64) {
	v := make([]byte, 8)
	binary.LittleEndian.PutUint64(v, h)
	ov.SetOwned(key, v)
}

// LastHeartbeat returns the height of the block that carried the worker's
// last heartbeat; false when it never sent one.
func LastHeartbeat(st state.Store, identity keys.PublicKey) (uint64, bool, error) {
	return getHeight(st, LastSeenKey(identity), "last heartbeat")
}

// DeregisteredAt returns the height at which the worker was deregistered;
// false when it was not.
func DeregisteredAt(st state.Store, identity keys.PublicKey) (uint64, bool, error) {
	return getHeight(st, DeregisteredKey(identity), "deregistration")
}

// WorkerLiveness is what the chain knows of a worker's liveness.
type WorkerLiveness struct {
	// LastSeen is the later of its (last) registration and its last
	// heartbeat.
	LastSeen uint64
	// LastHeartbeat is the height of its last heartbeat (0: none).
	LastHeartbeat uint64
	// Deregistered: its operator deregistered it, at DeregisteredAt.
	Deregistered   bool
	DeregisteredAt uint64
}

// GetWorkerLiveness reads a registered worker's liveness (rec is its
// record).
func GetWorkerLiveness(st state.Store, rec *msg.WorkerRecord) (WorkerLiveness, error) {
	id := rec.Info.IdentityPublicKey
	hb, _, err := LastHeartbeat(st, id)
	if err != nil {
		return WorkerLiveness{}, err
	}
	at, dereg, err := DeregisteredAt(st, id)
	if err != nil {
		return WorkerLiveness{}, err
	}
	return WorkerLiveness{LastSeen: max(rec.RegisteredAt, hb), LastHeartbeat: hb, Deregistered: dereg, DeregisteredAt: at}, nil
}

// DeregisterWorkerCall builds registry.deregister_worker(identity); the
// worker's operator signs it.
func DeregisterWorkerCall(identity keys.PublicKey) tx.Call {
	return tx.Call{Module: Index, Method: MethodDeregisterWorker, Args: append([]byte(nil), identity[:]...)}
}

// SetLivenessCall builds registry.set_liveness(l) (dispatch it with root
// authority, e.g. through admin.sudo).
func SetLivenessCall(l Liveness) tx.Call {
	return tx.Call{Module: Index, Method: MethodSetLiveness, Args: scale.Encode(&l)}
}

func decodeIdentity(args []byte) (keys.PublicKey, error) {
	var id keys.PublicKey
	if len(args) != len(id) {
		return id, fmt.Errorf("registry.deregister_worker args: %d bytes, want 32", len(args))
	}
	copy(id[:], args)
	return id, nil
}

func checkDeregister(args []byte) error { _, err := decodeIdentity(args); return err }

func decodeLiveness(args []byte) (Liveness, error) {
	var l Liveness
	if err := scale.Decode(args, &l); err != nil {
		return l, fmt.Errorf("registry.set_liveness args: %w", err)
	}
	return l, nil
}

func checkSetLiveness(args []byte) error { _, err := decodeLiveness(args); return err }

// deregister deregisters a worker: the transaction's signer must be the
// operator named in the worker's registration. The record stays (for
// history); a marker refuses its egress, its keys and a new registration
// of its identity from then on. The onDeregister hook (if any) runs first:
// it may refuse (a gatekeeper) and takes the worker out of its clusters.
func (r registrar) deregister(c *state.CallCtx, args []byte) (uint32, string, error) {
	id, err := decodeIdentity(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	ov := c.Overlay()
	rec, ok, err := GetWorker(ov, id)
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeWorkerNotRegistered, fmt.Sprintf("%s is not a registered worker", id.Hex()), nil
	}
	if c.Signer() != rec.Info.Operator {
		return state.CodeNotOperator, fmt.Sprintf("worker %s is operated by %s, not %s", id.Hex(), rec.Info.Operator.Hex(), c.Signer().Hex()), nil
	}
	if at, dereg, err := DeregisteredAt(ov, id); err != nil || dereg {
		if err != nil {
			return 0, "", err
		}
		return state.CodeWorkerDeregistered, fmt.Sprintf("worker %s was deregistered at height %d", id.Hex(), at), nil
	}
	var clusters [][32]byte
	if r.onDeregister != nil {
		var code uint32
		var log string
		if clusters, code, log, err = r.onDeregister(c, id); err != nil || code != state.CodeOK {
			return code, log, err
		}
	}
	height := uint64(max(c.Header().Height, 0))
	putHeight(ov, DeregisteredKey(id), height)
	names := make([]string, len(clusters))
	for i, cl := range clusters {
		names[i] = "0x" + hex.EncodeToString(cl[:])
	}
	c.AddEvent(state.Event{Type: "worker_deregistered", Attributes: []state.EventAttribute{
		{Key: "identity", Value: id.Hex(), Index: true},
		{Key: "operator", Value: rec.Info.Operator.Hex(), Index: true},
		{Key: "height", Value: strconv.FormatUint(height, 10)},
		{Key: "clusters", Value: strings.Join(names, ",")},
	}})
	return state.CodeOK, "", nil
}

// execSetLiveness stores new liveness parameters (root only).
func execSetLiveness(c *state.CallCtx, args []byte) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "registry.set_liveness needs the root origin", nil
	}
	l, err := decodeLiveness(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	if err := l.Check(); err != nil {
		return state.CodeBadLiveness, err.Error(), nil
	}
	c.Overlay().SetOwned(KeyLiveness, scale.Encode(&l))
	return state.CodeOK, "", nil
}

// HandleHeartbeat is the on-chain handler of msg.TopicWorkerHeartbeat: a
// registered worker (mq admitted the message only if its identity key
// signed it and it is not deregistered) records the current height as its
// last heartbeat. A payload height of 0 or above the current block is
// refused (CodeBadHeartbeat) and nothing changes.
func HandleHeartbeat(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	if o.Kind != msg.OriginKindWorker {
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of workers, not of %s", msg.TopicWorkerHeartbeat, o), nil
	}
	var p msg.HeartbeatPayload
	if err := scale.Decode(payload, &p); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", msg.TopicWorkerHeartbeat, err), nil
	}
	height := uint64(max(c.Header().Height, 0))
	if p.Height == 0 || p.Height > height {
		return state.CodeBadHeartbeat, fmt.Sprintf("heartbeat of height %d in block %d", p.Height, height), nil
	}
	ov := c.Overlay()
	if _, ok, err := GetWorker(ov, o.Worker); err != nil || !ok {
		if err != nil {
			return 0, "", err
		}
		return state.CodeMqWrongOrigin, fmt.Sprintf("%s is not a registered worker", o.Worker.Hex()), nil
	}
	if _, dereg, err := DeregisteredAt(ov, o.Worker); err != nil || dereg {
		if err != nil {
			return 0, "", err
		}
		return state.CodeWorkerDeregistered, fmt.Sprintf("worker %s is deregistered", o.Worker.Hex()), nil
	}
	putHeight(ov, LastSeenKey(o.Worker), height)
	return state.CodeOK, "", nil
}
