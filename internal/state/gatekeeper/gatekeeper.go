// Package gatekeeper is the gatekeeper module (index 6 of AppVersion1): the
// set of gatekeepers (registered workers chosen by the admin, later by
// governance, that hold the master key) and the master-key record. Its
// privileged methods add and remove gatekeepers, rotate the master key and
// set the key grace period (rotation.go); its topic handlers judge the
// gatekeepers' messages (msg.TopicMasterPubkey, msg.TopicMasterKeyShare,
// msg.TopicGatekeeperReady, msg.TopicMasterKeyHistory) that arrive through
// mq.submit.
//
// Storage:
//
//	"gatekeeper/set"    → SCALE(Vec<([u8; 32], bool)>) sorted by identity: each gatekeeper and whether it is active
//	"gatekeeper/master" → SCALE(MasterKey) (absent: no master key yet)
//	"gatekeeper/rotation" → SCALE(Rotation) while a master-key rotation is in progress
//	"gatekeeper/key_grace" → u32 LE: blocks an old contract key stays usable after a rotation (absent: DefaultKeyGrace)
//
// A gatekeeper is active once it holds the master key: the first one by
// announcing the master public key it generated, the others by saying
// ready after receiving a share that matches the chain's public key.
package gatekeeper

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the gatekeeper module's index.
	Index uint8 = 6
	// MethodAdd is gatekeeper.add(worker [u8; 32]) (privileged).
	MethodAdd uint8 = 0
	// MethodRemove is gatekeeper.remove(worker [u8; 32]) (privileged).
	MethodRemove uint8 = 1
	// MethodRotateMasterKey is gatekeeper.rotate_master_key() (privileged,
	// no arguments): start the next master-key epoch.
	MethodRotateMasterKey uint8 = 2
	// MethodSetKeyGrace is gatekeeper.set_key_grace(blocks u32) (privileged).
	MethodSetKeyGrace uint8 = 3
)

// DefaultKeyGrace is the key grace period (blocks) when none was set.
const DefaultKeyGrace uint32 = 100

// MaxGatekeepers bounds the gatekeeper set.
const MaxGatekeepers = 64

// Weights of the privileged calls and of the handlers (read and write of
// the set and the master-key record).
const (
	AddWeight    uint64 = 100_000
	RemoveWeight uint64 = 60_000
	RotateWeight uint64 = 80_000
	GraceWeight  uint64 = 20_000
)

// Storage keys.
var (
	KeySet    = []byte("gatekeeper/set")
	KeyMaster = []byte("gatekeeper/master")
	// KeyRotation holds the rotation in progress.
	KeyRotation = []byte("gatekeeper/rotation")
	// KeyGraceKey holds the key grace period.
	KeyGraceKey = []byte("gatekeeper/key_grace")
)

// Gatekeeper is one member of the gatekeeper set.
type Gatekeeper struct {
	Identity keys.PublicKey
	// Active: it holds the master key (announced it, or said ready).
	Active bool
}

// MasterKeyEpoch is one entry of the master key's history.
type MasterKeyEpoch struct {
	Epoch  uint32
	Pubkey keys.PublicKey
	// Height is the block at which the chain recorded it.
	Height uint64
}

// MasterKey is the master-key record: the current epoch and public key, and
// every epoch's (the current one included).
type MasterKey struct {
	Epoch   uint32
	Pubkey  keys.PublicKey
	History []MasterKeyEpoch
}

// EncodeSCALE writes (u32, [u8; 32], Vec<(u32, [u8; 32], u64)>).
func (m *MasterKey) EncodeSCALE(w *scale.Writer) {
	w.U32(m.Epoch)
	w.Raw(m.Pubkey[:])
	scale.WriteVec(w, m.History, func(w *scale.Writer, e MasterKeyEpoch) { w.U32(e.Epoch); w.Raw(e.Pubkey[:]); w.U64(e.Height) })
}

// DecodeSCALE reads the record.
func (m *MasterKey) DecodeSCALE(r *scale.Reader) {
	m.Epoch = r.U32()
	r.Fixed(m.Pubkey[:])
	m.History = scale.ReadVec(r, 44, func(r *scale.Reader) (e MasterKeyEpoch) {
		e.Epoch = r.U32()
		r.Fixed(e.Pubkey[:])
		e.Height = r.U64()
		return e
	})
}

// Module returns the gatekeeper module.
func Module() *state.Module {
	return &state.Module{Name: "gatekeeper", Methods: []*state.Method{
		MethodAdd:             {Name: "add", Weight: AddWeight, Privileged: true, Check: checkWorkerArg, Exec: execAdd},
		MethodRemove:          {Name: "remove", Weight: RemoveWeight, Privileged: true, Check: checkWorkerArg, Exec: execRemove},
		MethodRotateMasterKey: {Name: "rotate_master_key", Weight: RotateWeight, Privileged: true, Check: checkNoArgs, Exec: execRotate},
		MethodSetKeyGrace:     {Name: "set_key_grace", Weight: GraceWeight, Privileged: true, Check: checkGraceArg, Exec: execSetGrace},
	}}
}

// AddCall builds gatekeeper.add(worker) (dispatch it through admin.sudo).
func AddCall(worker keys.PublicKey) tx.Call {
	return tx.Call{Module: Index, Method: MethodAdd, Args: bytes.Clone(worker[:])}
}

// RemoveCall builds gatekeeper.remove(worker).
func RemoveCall(worker keys.PublicKey) tx.Call {
	return tx.Call{Module: Index, Method: MethodRemove, Args: bytes.Clone(worker[:])}
}

func decodeWorkerArg(args []byte) (keys.PublicKey, error) {
	if len(args) != 32 {
		return keys.PublicKey{}, fmt.Errorf("gatekeeper: worker argument of %d bytes, want 32", len(args))
	}
	return keys.PublicKey(args), nil
}

func checkWorkerArg(args []byte) error { _, err := decodeWorkerArg(args); return err }

// List returns the gatekeeper set, sorted by identity.
func List(st state.Store) ([]Gatekeeper, error) {
	v, err := st.Get(KeySet)
	if err != nil {
		return nil, fmt.Errorf("state: reading gatekeepers: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 33, func(r *scale.Reader) (g Gatekeeper) {
		r.Fixed(g.Identity[:])
		g.Active = r.Bool()
		return g
	})
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: gatekeeper set: %w", state.ErrCorruptState, err)
	}
	return out, nil
}

// Get returns one gatekeeper; false when id is not a gatekeeper.
func Get(st state.Store, id keys.PublicKey) (Gatekeeper, bool, error) {
	set, err := List(st)
	if err != nil {
		return Gatekeeper{}, false, err
	}
	i, ok := find(set, id)
	if !ok {
		return Gatekeeper{}, false, nil
	}
	return set[i], true, nil
}

func find(set []Gatekeeper, id keys.PublicKey) (int, bool) {
	return slices.BinarySearchFunc(set, id, func(g Gatekeeper, id keys.PublicKey) int { return bytes.Compare(g.Identity[:], id[:]) })
}

func putSet(ov *state.Overlay, set []Gatekeeper) {
	if len(set) == 0 {
		ov.Delete(KeySet)
		return
	}
	w := scale.NewWriter(1 + 33*len(set))
	scale.WriteVec(w, set, func(w *scale.Writer, g Gatekeeper) { w.Raw(g.Identity[:]); w.Bool(g.Active) })
	ov.SetOwned(KeySet, w.Bytes())
}

// GetMasterKey reads the master-key record; false when there is none yet.
func GetMasterKey(st state.Store) (MasterKey, bool, error) {
	return state.Load[MasterKey](st, KeyMaster, "master key")
}

func emitChange(c *state.CallCtx, kind uint8, worker keys.PublicKey) {
	c.Emit(msg.Message{Origin: msg.OriginModule(msg.GatekeeperModuleName), Topic: []byte(msg.TopicGatekeeperChanged),
		Payload: scale.Encode(&msg.GatekeeperChange{Kind: kind, Worker: worker})})
	ev := "gatekeeper_added"
	if kind == msg.GatekeeperRemoved {
		ev = "gatekeeper_removed"
	}
	c.AddEvent(state.Event{Type: ev, Attributes: []state.EventAttribute{{Key: "worker", Value: worker.Hex(), Index: true}}})
}

// Add makes a registered worker a gatekeeper (not active yet) and emits
// msg.TopicGatekeeperChanged. It is gatekeeper.add's body, also run by the
// dev bootstrap; c must act as root.
func Add(c *state.CallCtx, worker keys.PublicKey) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "gatekeeper.add needs the root origin", nil
	}
	if _, ok, err := registry.GetWorker(c.Overlay(), worker); err != nil {
		return 0, "", err
	} else if !ok {
		return state.CodeWorkerNotRegistered, fmt.Sprintf("worker %s is not registered", worker.Hex()), nil
	}
	if at, dereg, err := registry.DeregisteredAt(c.Overlay(), worker); err != nil {
		return 0, "", err
	} else if dereg {
		return state.CodeWorkerDeregistered, fmt.Sprintf("worker %s was deregistered at height %d", worker.Hex(), at), nil
	}
	set, err := List(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	i, ok := find(set, worker)
	if ok {
		return state.CodeAlreadyGatekeeper, fmt.Sprintf("worker %s is already a gatekeeper", worker.Hex()), nil
	}
	if len(set) >= MaxGatekeepers {
		return state.CodeTooManyGatekeepers, fmt.Sprintf("the gatekeeper set is full (%d)", MaxGatekeepers), nil
	}
	putSet(c.Overlay(), slices.Insert(set, i, Gatekeeper{Identity: worker}))
	emitChange(c, msg.GatekeeperAdded, worker)
	return state.CodeOK, "", nil
}

func execAdd(c *state.CallCtx, args []byte) (uint32, string, error) {
	w, err := decodeWorkerArg(args)
	if err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	return Add(c, w)
}

func execRemove(c *state.CallCtx, args []byte) (uint32, string, error) {
	w, err := decodeWorkerArg(args)
	if err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	if !c.IsRoot() {
		return state.CodeNotRoot, "gatekeeper.remove needs the root origin", nil
	}
	set, err := List(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	i, ok := find(set, w)
	if !ok {
		return state.CodeNotGatekeeper, fmt.Sprintf("worker %s is not a gatekeeper", w.Hex()), nil
	}
	set = slices.Delete(set, i, i+1)
	putSet(c.Overlay(), set)
	emitChange(c, msg.GatekeeperRemoved, w)
	if err := afterRemoval(c, set, w); err != nil {
		return 0, "", err
	}
	return state.CodeOK, "", nil
}

// sender checks that the message comes from a worker and returns it.
func sender(o msg.Origin, topic string) (keys.PublicKey, uint32, string) {
	if o.Kind != msg.OriginKindWorker {
		return keys.PublicKey{}, state.CodeMqWrongOrigin, fmt.Sprintf("%s takes messages of workers, not of %s", topic, o)
	}
	return o.Worker, state.CodeOK, ""
}

func decodePayload(payload []byte, v scale.Decodable, topic string) (uint32, string) {
	if err := scale.Decode(payload, v); err != nil {
		return state.CodeMqBadPayload, fmt.Sprintf("%s payload: %v", topic, err)
	}
	return state.CodeOK, ""
}

// IsActive reports whether id is an active gatekeeper.
func IsActive(st state.Store, id keys.PublicKey) (bool, error) {
	g, ok, err := Get(st, id)
	return ok && g.Active, err
}

func setActive(ov *state.Overlay, id keys.PublicKey) error {
	set, err := List(ov)
	if err != nil {
		return err
	}
	if i, ok := find(set, id); ok && !set[i].Active {
		set[i].Active = true
		putSet(ov, set)
	}
	return nil
}

// HandleMasterPubkey: the sender must be a gatekeeper, the epoch 0 and no
// master key recorded; the key is recorded and the sender becomes active.
func HandleMasterPubkey(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	from, code, log := sender(o, msg.TopicMasterPubkey)
	if code != state.CodeOK {
		return code, log, nil
	}
	var p msg.MasterPubkey
	if code, log := decodePayload(payload, &p, msg.TopicMasterPubkey); code != state.CodeOK {
		return code, log, nil
	}
	if _, ok, err := Get(c.Overlay(), from); err != nil {
		return 0, "", err
	} else if !ok {
		return state.CodeGkNotGatekeeper, fmt.Sprintf("%s is not a gatekeeper", from.Hex()), nil
	}
	if mk, ok, err := GetMasterKey(c.Overlay()); err != nil {
		return 0, "", err
	} else if ok {
		return rotatedPubkey(c, from, mk, p)
	}
	if p.Epoch != 0 {
		return state.CodeGkMasterKeyExists, fmt.Sprintf("the first master key must be of epoch 0, not %d", p.Epoch), nil
	}
	h := uint64(max(c.Header().Height, 0))
	rec := MasterKey{Epoch: 0, Pubkey: p.Pubkey, History: []MasterKeyEpoch{{Epoch: 0, Pubkey: p.Pubkey, Height: h}}}
	c.Overlay().SetOwned(KeyMaster, scale.Encode(&rec))
	if err := setActive(c.Overlay(), from); err != nil {
		return 0, "", err
	}
	c.AddEvent(state.Event{Type: "master_pubkey", Attributes: []state.EventAttribute{
		{Key: "pubkey", Value: p.Pubkey.Hex()}, {Key: "gatekeeper", Value: from.Hex(), Index: true}}})
	return state.CodeOK, "", nil
}

// checkKeyRoute checks a master-key message from one gatekeeper to another
// (a share, or past keys): from must be an active gatekeeper and receiver a
// gatekeeper still waiting for the master key. It returns the chain's master
// key, if any.
func checkKeyRoute(c *state.CallCtx, from, receiver keys.PublicKey) (mk MasterKey, ok bool, code uint32, log string, err error) {
	if active, err := IsActive(c.Overlay(), from); err != nil {
		return mk, false, 0, "", err
	} else if !active {
		return mk, false, state.CodeGkNotGatekeeper, fmt.Sprintf("%s is not an active gatekeeper", from.Hex()), nil
	}
	g, found, err := Get(c.Overlay(), receiver)
	if err != nil {
		return mk, false, 0, "", err
	}
	if !found || g.Active {
		return mk, false, state.CodeGkBadReceiver, fmt.Sprintf("receiver %s is not a gatekeeper waiting for the master key", receiver.Hex()), nil
	}
	mk, ok, err = GetMasterKey(c.Overlay())
	return mk, ok, state.CodeOK, "", err
}

// HandleMasterKeyShare: the sender must be an active gatekeeper, the
// receiver a gatekeeper not active yet, the epoch the current one.
func HandleMasterKeyShare(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	from, code, log := sender(o, msg.TopicMasterKeyShare)
	if code != state.CodeOK {
		return code, log, nil
	}
	var p msg.MasterKeyShare
	if code, log := decodePayload(payload, &p, msg.TopicMasterKeyShare); code != state.CodeOK {
		return code, log, nil
	}
	mk, ok, code, log, err := checkKeyRoute(c, from, p.Receiver)
	if code != state.CodeOK || err != nil {
		return code, log, err
	}
	if !ok || p.Epoch != mk.Epoch {
		return state.CodeGkMasterKeyMismatch, fmt.Sprintf("share of epoch %d, the chain's master key is not of that epoch", p.Epoch), nil
	}
	return state.CodeOK, "", nil
}

// HandleReady: the sender must be a gatekeeper and name the chain's master
// public key and epoch; it becomes active.
func HandleReady(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	from, code, log := sender(o, msg.TopicGatekeeperReady)
	if code != state.CodeOK {
		return code, log, nil
	}
	var p msg.GatekeeperReady
	if code, log := decodePayload(payload, &p, msg.TopicGatekeeperReady); code != state.CodeOK {
		return code, log, nil
	}
	if _, ok, err := Get(c.Overlay(), from); err != nil {
		return 0, "", err
	} else if !ok {
		return state.CodeGkNotGatekeeper, fmt.Sprintf("%s is not a gatekeeper", from.Hex()), nil
	}
	mk, ok, err := GetMasterKey(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if !ok || p.Epoch != mk.Epoch || p.Pubkey != mk.Pubkey {
		return state.CodeGkMasterKeyMismatch, fmt.Sprintf("ready with key %s of epoch %d, not the chain's master key", p.Pubkey.Hex(), p.Epoch), nil
	}
	if err := setActive(c.Overlay(), from); err != nil {
		return 0, "", err
	}
	if err := maybeFinishRotation(c); err != nil {
		return 0, "", err
	}
	c.AddEvent(state.Event{Type: "gatekeeper_ready", Attributes: []state.EventAttribute{{Key: "gatekeeper", Value: from.Hex(), Index: true}}})
	return state.CodeOK, "", nil
}
