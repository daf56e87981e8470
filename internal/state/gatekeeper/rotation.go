package gatekeeper

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

// Master-key rotation (docs/keys.md, "Rotation"):
//
//  1. gatekeeper.rotate_master_key (root) records Rotation{epoch e+1,
//     generator = the first active gatekeeper by identity}.
//  2. The generator makes the new key in its pRuntime and announces it
//     with gatekeeper/master_pubkey {e+1, pubkey}; the chain appends it to
//     the history, makes it current and marks every other gatekeeper
//     inactive, so the generator (now the designated gatekeeper) sends
//     them the new key exactly as a first key is sent, and each says
//     ready.
//  3. The rotation ends when every gatekeeper is active at epoch e+1 (or
//     was removed); until then another rotation is refused
//     (CodeGkRotationInProgress). Cluster keys of epoch e+1 follow from the
//     designated gatekeeper independently (phat.HandleClusterKeys).

// Rotation is the rotation in progress.
type Rotation struct {
	// Epoch is the epoch being started.
	Epoch uint32
	// Generator is the gatekeeper that generates the new key.
	Generator keys.PublicKey
	// Height is the block the rotation was enacted at.
	Height uint64
}

// EncodeSCALE writes (u32, [u8;32], u64).
func (r *Rotation) EncodeSCALE(w *scale.Writer) {
	w.U32(r.Epoch)
	w.Raw(r.Generator[:])
	w.U64(r.Height)
}

// DecodeSCALE reads the record.
func (r *Rotation) DecodeSCALE(rd *scale.Reader) {
	r.Epoch = rd.U32()
	rd.Fixed(r.Generator[:])
	r.Height = rd.U64()
}

// RotateMasterKeyCall builds gatekeeper.rotate_master_key() (dispatch it
// through admin.sudo or governance).
func RotateMasterKeyCall() tx.Call {
	return tx.Call{Module: Index, Method: MethodRotateMasterKey, Args: []byte{}}
}

// SetKeyGraceCall builds gatekeeper.set_key_grace(blocks).
func SetKeyGraceCall(blocks uint32) tx.Call {
	return tx.Call{Module: Index, Method: MethodSetKeyGrace, Args: binary.LittleEndian.AppendUint32(nil, blocks)}
}

func checkNoArgs(args []byte) error {
	if len(args) != 0 {
		return fmt.Errorf("gatekeeper.rotate_master_key takes no arguments, got %d bytes", len(args))
	}
	return nil
}

func checkGraceArg(args []byte) error {
	if len(args) != 4 {
		return fmt.Errorf("gatekeeper.set_key_grace: argument of %d bytes, want a u32", len(args))
	}
	return nil
}

// GetRotation reads the rotation in progress; false when there is none.
func GetRotation(st state.Store) (Rotation, bool, error) {
	return state.Load[Rotation](st, KeyRotation, "rotation")
}

// KeyGrace returns the key grace period in blocks: how long after a
// cluster's key of a newer epoch was recorded a command encrypted to a
// contract key of an older epoch is still run.
func KeyGrace(st state.Store) (uint32, error) {
	v, err := st.Get(KeyGraceKey)
	if err != nil {
		return 0, fmt.Errorf("state: reading key grace: %w", err)
	}
	if v == nil {
		return DefaultKeyGrace, nil
	}
	if len(v) != 4 {
		return 0, fmt.Errorf("%w: key grace of %d bytes", state.ErrCorruptState, len(v))
	}
	return binary.LittleEndian.Uint32(v), nil
}

func execSetGrace(c *state.CallCtx, args []byte) (uint32, string, error) {
	if err := checkGraceArg(args); err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	if !c.IsRoot() {
		return state.CodeNotRoot, "gatekeeper.set_key_grace needs the root origin", nil
	}
	c.Overlay().Set(KeyGraceKey, bytes.Clone(args))
	c.AddEvent(state.Event{Type: "key_grace", Attributes: []state.EventAttribute{{Key: "blocks", Value: fmt.Sprint(binary.LittleEndian.Uint32(args))}}})
	return state.CodeOK, "", nil
}

func firstActive(set []Gatekeeper) (keys.PublicKey, bool) {
	for _, g := range set { // sorted by identity
		if g.Active {
			return g.Identity, true
		}
	}
	return keys.PublicKey{}, false
}

func execRotate(c *state.CallCtx, args []byte) (uint32, string, error) {
	if err := checkNoArgs(args); err != nil {
		return state.CodeBadDispatchArgs, err.Error(), nil
	}
	if !c.IsRoot() {
		return state.CodeNotRoot, "gatekeeper.rotate_master_key needs the root origin", nil
	}
	if r, ok, err := GetRotation(c.Overlay()); err != nil {
		return 0, "", err
	} else if ok {
		return state.CodeGkRotationInProgress, fmt.Sprintf("the rotation to epoch %d is still in progress", r.Epoch), nil
	}
	mk, ok, err := GetMasterKey(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if !ok {
		return state.CodeGkNoMasterKey, "no master key to rotate yet", nil
	}
	set, err := List(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	gen, ok := firstActive(set)
	if !ok {
		return state.CodeGkNoMasterKey, "no active gatekeeper holds the master key", nil
	}
	if mk.Epoch == ^uint32(0) {
		return state.CodeGkNoMasterKey, "master-key epochs exhausted", nil
	}
	r := Rotation{Epoch: mk.Epoch + 1, Generator: gen, Height: uint64(max(c.Header().Height, 0))}
	c.Overlay().SetOwned(KeyRotation, scale.Encode(&r))
	c.AddEvent(state.Event{Type: "master_key_rotation", Attributes: []state.EventAttribute{
		{Key: "epoch", Value: fmt.Sprint(r.Epoch)}, {Key: "generator", Value: gen.Hex(), Index: true}}})
	return state.CodeOK, "", nil
}

// rotatedPubkey judges a master_pubkey when a master key exists: only the
// rotation's generator may announce the key of the rotation's epoch.
func rotatedPubkey(c *state.CallCtx, from keys.PublicKey, mk MasterKey, p msg.MasterPubkey) (uint32, string, error) {
	r, ok, err := GetRotation(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if !ok || p.Epoch != r.Epoch || mk.Epoch+1 != r.Epoch {
		return state.CodeGkMasterKeyExists, fmt.Sprintf("a master key is already recorded (epoch %d)", mk.Epoch), nil
	}
	if from != r.Generator {
		return state.CodeGkNotGatekeeper, fmt.Sprintf("%s is not the rotation's generator %s", from.Hex(), r.Generator.Hex()), nil
	}
	if slices.ContainsFunc(mk.History, func(e MasterKeyEpoch) bool { return e.Pubkey == p.Pubkey }) {
		return state.CodeGkMasterKeyExists, "the new master key equals an old one", nil
	}
	h := uint64(max(c.Header().Height, 0))
	mk.Epoch, mk.Pubkey = p.Epoch, p.Pubkey
	mk.History = append(mk.History, MasterKeyEpoch{Epoch: p.Epoch, Pubkey: p.Pubkey, Height: h})
	c.Overlay().SetOwned(KeyMaster, scale.Encode(&mk))
	set, err := List(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	for i := range set {
		set[i].Active = set[i].Identity == from
	}
	putSet(c.Overlay(), set)
	c.AddEvent(state.Event{Type: "master_pubkey", Attributes: []state.EventAttribute{
		{Key: "pubkey", Value: p.Pubkey.Hex()}, {Key: "epoch", Value: fmt.Sprint(p.Epoch)}, {Key: "gatekeeper", Value: from.Hex(), Index: true}}})
	return state.CodeOK, "", maybeFinishRotation(c)
}

// maybeFinishRotation ends the rotation once the new key is recorded and
// every gatekeeper holds it.
func maybeFinishRotation(c *state.CallCtx) error {
	r, ok, err := GetRotation(c.Overlay())
	if err != nil || !ok {
		return err
	}
	mk, ok, err := GetMasterKey(c.Overlay())
	if err != nil || !ok || mk.Epoch != r.Epoch {
		return err
	}
	set, err := List(c.Overlay())
	if err != nil {
		return err
	}
	for _, g := range set {
		if !g.Active {
			return nil
		}
	}
	c.Overlay().Delete(KeyRotation)
	c.AddEvent(state.Event{Type: "master_key_rotated", Attributes: []state.EventAttribute{{Key: "epoch", Value: fmt.Sprint(r.Epoch)}}})
	return nil
}

// afterRemoval keeps a rotation going when a gatekeeper leaves: a removed
// generator that had not announced the new key is replaced by the first
// active gatekeeper (none left: the rotation is cancelled); a removed
// receiver may be the last one the rotation waited for.
func afterRemoval(c *state.CallCtx, set []Gatekeeper, removed keys.PublicKey) error {
	r, ok, err := GetRotation(c.Overlay())
	if err != nil || !ok {
		return err
	}
	mk, ok, err := GetMasterKey(c.Overlay())
	if err != nil || !ok {
		return err
	}
	if mk.Epoch < r.Epoch && r.Generator == removed {
		gen, ok := firstActive(set)
		if !ok {
			c.Overlay().Delete(KeyRotation)
			c.AddEvent(state.Event{Type: "master_key_rotation_cancelled", Attributes: []state.EventAttribute{{Key: "epoch", Value: fmt.Sprint(r.Epoch)}}})
			return nil
		}
		r.Generator = gen
		c.Overlay().SetOwned(KeyRotation, scale.Encode(&r))
		return nil
	}
	return maybeFinishRotation(c)
}

// HandleMasterKeyHistory: the sender must be an active gatekeeper, the
// receiver a gatekeeper not active yet, and every epoch a past epoch of
// the master-key history. Nothing is recorded: the message is delivered
// to the receiver, which checks each key against the history.
func HandleMasterKeyHistory(c *state.CallCtx, o msg.Origin, payload []byte) (uint32, string, error) {
	from, code, log := sender(o, msg.TopicMasterKeyHistory)
	if code != state.CodeOK {
		return code, log, nil
	}
	var p msg.MasterKeyHistory
	if code, log := decodePayload(payload, &p, msg.TopicMasterKeyHistory); code != state.CodeOK {
		return code, log, nil
	}
	mk, ok, code, log, err := checkKeyRoute(c, from, p.Receiver)
	if code != state.CodeOK || err != nil {
		return code, log, err
	}
	for _, k := range p.Keys {
		if !ok || k.Epoch >= mk.Epoch || !slices.ContainsFunc(mk.History, func(e MasterKeyEpoch) bool { return e.Epoch == k.Epoch }) {
			return state.CodeGkMasterKeyMismatch, fmt.Sprintf("no past master key of epoch %d", k.Epoch), nil
		}
	}
	return state.CodeOK, "", nil
}
