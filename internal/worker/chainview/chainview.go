// Package chainview implements worker.ChainView over verified chain state:
// the gatekeeper, phat and registry modules' records, read with the
// modules' own getters. It is pure (no I/O beyond the given state.Store)
// and sits outside the worker core so that the core does not depend on
// the chain modules' storage layout.
package chainview

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/worker"
)

// View is the chain view of one state. Its zero value is unusable; use New.
type View struct{ st state.Store }

var _ worker.ChainView = View{}

// New returns the view of st. Its signature fits worker.Options.View.
func New(st state.Store) worker.ChainView { return View{st: st} }

func cmpKey(a, b keys.PublicKey) int { return bytes.Compare(a[:], b[:]) }

// sortedKeys fails unless ks is strictly increasing: the chain stores its
// sets sorted and deduplicated, so anything else is corrupt state.
func sortedKeys(what string, ks []keys.PublicKey) error {
	for i := 1; i < len(ks); i++ {
		if cmpKey(ks[i-1], ks[i]) >= 0 {
			return fmt.Errorf("%w: %s not sorted", state.ErrCorruptState, what)
		}
	}
	return nil
}

// Gatekeepers returns the gatekeeper set, sorted by identity.
func (v View) Gatekeepers() ([]worker.Gatekeeper, error) {
	set, err := gatekeeper.List(v.st)
	if err != nil {
		return nil, err
	}
	out := make([]worker.Gatekeeper, len(set))
	ids := make([]keys.PublicKey, len(set))
	for i, g := range set {
		out[i] = worker.Gatekeeper{Identity: g.Identity, Active: g.Active}
		ids[i] = g.Identity
	}
	if err := sortedKeys("gatekeeper set", ids); err != nil {
		return nil, err
	}
	return out, nil
}

// MasterKey returns the current master-key record, if any.
func (v View) MasterKey() (worker.MasterRecord, bool, error) {
	m, ok, err := gatekeeper.GetMasterKey(v.st)
	if err != nil || !ok {
		return worker.MasterRecord{}, false, err
	}
	return worker.MasterRecord{Epoch: m.Epoch, Pubkey: m.Pubkey}, true, nil
}

// ClusterIDs returns the ids of every cluster, sorted.
func (v View) ClusterIDs() ([][32]byte, error) {
	ids, err := phat.ClusterIDs(v.st)
	if err != nil {
		return nil, err
	}
	for i := 1; i < len(ids); i++ {
		if bytes.Compare(ids[i-1][:], ids[i][:]) >= 0 {
			return nil, fmt.Errorf("%w: cluster ids not sorted", state.ErrCorruptState)
		}
	}
	return ids, nil
}

// Cluster returns one cluster's record.
func (v View) Cluster(id [32]byte) (worker.Cluster, bool, error) {
	c, ok, err := phat.GetCluster(v.st, id)
	if err != nil || !ok {
		return worker.Cluster{}, false, err
	}
	if err := sortedKeys(fmt.Sprintf("cluster %x workers", id), c.Workers); err != nil {
		return worker.Cluster{}, false, err
	}
	if err := sortedKeys(fmt.Sprintf("cluster %x keyed workers", id), c.Keyed); err != nil {
		return worker.Cluster{}, false, err
	}
	return worker.Cluster{
		ID:             id,
		Workers:        slices.Clone(c.Workers),
		Pubkey:         c.Pubkey,
		HasPubkey:      c.HasPubkey,
		Epoch:          c.Epoch,
		Owner:          c.Owner,
		SystemContract: c.SystemContract,
		Keyed:          slices.Clone(c.Keyed),
		ReportInterval: c.ReportInterval,
		MaxGas:         c.MaxGas,
	}, true, nil
}

// Worker returns a registered worker's record.
func (v View) Worker(id keys.PublicKey) (msg.WorkerRecord, bool, error) {
	return registry.GetWorker(v.st, id)
}

// WorkerEndpoint returns the URL a worker recorded with worker/endpoint
// ("" for none): worker.EndpointView.
func (v View) WorkerEndpoint(id keys.PublicKey) (string, error) {
	return registry.GetEndpoint(v.st, id)
}

// AllowedMeasurements returns the measurement allow-list, sorted.
func (v View) AllowedMeasurements() ([][32]byte, error) {
	return registry.AllowedMeasurements(v.st)
}

// DevAttestation says whether the chain accepts dev attestations and with
// which root.
func (v View) DevAttestation() (bool, keys.PublicKey, error) {
	c, err := registry.GetConfig(v.st)
	if err != nil {
		return false, keys.PublicKey{}, err
	}
	if !c.AllowDevAttestation {
		return false, keys.PublicKey{}, nil
	}
	return true, keys.PublicKey(c.DevAttestationRoot), nil
}

// Code returns code uploaded under hash and available in cluster, with
// its kind. The cluster's availability record and the code record must
// agree on the kind; anything else is corrupt state. (The chain hashed
// the code when it stored it; it is not hashed again on every read.)
func (v View) Code(cluster, hash [32]byte) (uint8, []byte, bool, error) {
	kind, ok, err := phat.CodeInCluster(v.st, cluster, hash)
	if err != nil || !ok {
		return 0, nil, false, err
	}
	c, ok, err := phat.GetCode(v.st, hash)
	if err != nil {
		return 0, nil, false, err
	}
	if !ok {
		return 0, nil, false, fmt.Errorf("%w: code %x available in cluster %x but not stored", state.ErrCorruptState, hash, cluster)
	}
	if c.Kind != kind {
		return 0, nil, false, fmt.Errorf("%w: code %x does not match its record", state.ErrCorruptState, hash)
	}
	return c.Kind, c.Code, true, nil
}

// Liveness returns the registry's liveness parameters.
func (v View) Liveness() (registry.Liveness, error) { return registry.GetLiveness(v.st) }

// WorkerLiveness returns a worker's last-seen height and deregistration
// (zero for a worker that is not registered).
func (v View) WorkerLiveness(id keys.PublicKey) (registry.WorkerLiveness, error) {
	rec, ok, err := registry.GetWorker(v.st, id)
	if err != nil || !ok {
		return registry.WorkerLiveness{}, err
	}
	return registry.GetWorkerLiveness(v.st, &rec)
}

// Rotation reads the rotation in progress (worker.RotationView).
func (v View) Rotation() (worker.Rotation, bool, error) {
	r, ok, err := gatekeeper.GetRotation(v.st)
	return worker.Rotation{Epoch: r.Epoch, Generator: r.Generator}, ok, err
}

// KeyGrace reads the key grace period (worker.RotationView).
func (v View) KeyGrace() (uint32, error) { return gatekeeper.KeyGrace(v.st) }

// ClusterEpochs reads a cluster's key history (worker.RotationView).
func (v View) ClusterEpochs(id [32]byte) ([]worker.ClusterEpoch, error) {
	es, err := phat.ClusterEpochs(v.st, id)
	if err != nil || es == nil {
		return nil, err
	}
	out := make([]worker.ClusterEpoch, len(es))
	for i, e := range es {
		out[i] = worker.ClusterEpoch{Epoch: e.Epoch, Pubkey: e.Pubkey, Height: e.Height, Grace: e.Grace}
	}
	return out, nil
}

// MasterEpochs reads the master key's history (worker.RotationView).
func (v View) MasterEpochs() ([]worker.MasterRecord, error) {
	mk, ok, err := gatekeeper.GetMasterKey(v.st)
	if err != nil || !ok {
		return nil, err
	}
	out := make([]worker.MasterRecord, len(mk.History))
	for i, e := range mk.History {
		out[i] = worker.MasterRecord{Epoch: e.Epoch, Pubkey: e.Pubkey}
	}
	return out, nil
}
