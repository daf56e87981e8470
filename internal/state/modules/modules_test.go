package modules_test

import (
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

// TestTableV1 pins AppVersion1's table: each module package's call
// builders land on the method the table names, with the weight the package
// declares.
func TestTableV1(t *testing.T) {
	rs := modules.Runtimes()
	for _, tc := range []struct {
		call   tx.Call
		name   string
		weight uint64
		dev    bool
		priv   bool
	}{
		{balances.TransferCall(keys.PublicKey{1}, scale.U128From(1)), "balances.transfer", balances.TransferWeight, false, false},
		{validators.SetPowerCall([32]byte{1}, 1), "validators.set_power", validators.SetPowerWeight, true, false},
		{mq.SubmitCall(msg.SignedMessage{}), "mq.submit", mq.SubmitWeight, false, false},
		{registry.RegisterWorkerCall(msg.RegistrationInfo{}, msg.Attestation{}), "registry.register_worker", registry.RegisterWorkerWeight, false, false},
		{admin.SudoCall(gatekeeper.AddCall(keys.PublicKey{1})), "admin.sudo", admin.SudoWeight + phat.CreateClusterWeight, false, false},
		{gatekeeper.AddCall(keys.PublicKey{1}), "gatekeeper.add", gatekeeper.AddWeight, false, true},
		{gatekeeper.RemoveCall(keys.PublicKey{1}), "gatekeeper.remove", gatekeeper.RemoveWeight, false, true},
		{phat.CreateClusterCall(phat.CreateArgs{}), "phat.create_cluster", phat.CreateClusterWeight, false, true},
		{phat.AddWorkerCall([32]byte{}, keys.PublicKey{1}), "phat.add_worker", phat.WorkerChangeWeight, false, true},
		{phat.RemoveWorkerCall([32]byte{}, keys.PublicKey{1}), "phat.remove_worker", phat.WorkerChangeWeight, false, true},
		{phat.UploadCodeCall(phat.UploadArgs{}), "phat.upload_code", phat.UploadCodeWeight, false, false},
		{phat.InstantiateCall(phat.InstantiateArgs{}), "phat.instantiate", phat.InstantiateWeight, false, false},
		{phat.PushCommandCall(phat.PushArgs{}), "phat.push_command", phat.PushCommandWeight, false, false},
	} {
		meth, ok := rs.Lookup(state.AppVersion1, &tc.call)
		if !ok {
			t.Fatalf("%s: not in the table", tc.name)
		}
		if got := rs.CallName(state.AppVersion1, tc.call); got != tc.name {
			t.Errorf("call name %q, want %q", got, tc.name)
		}
		if meth.Weight != tc.weight || meth.DevOnly != tc.dev || meth.Privileged != tc.priv || meth.Check == nil || meth.Exec == nil {
			t.Errorf("%s: %+v", tc.name, meth)
		}
	}
	// The heaviest call: an mq.submit of mq.MaxSubmitArgs (heavier than an
	// upload of tx.MaxTxBytes), and it fits the genesis block weight.
	if got := state.MaxTxWeight(rs, state.AppVersion1); got != state.TxBaseWeight+mq.SubmitWeight+mq.SubmitWeightPerByte*mq.MaxSubmitArgs ||
		got <= state.TxBaseWeight+phat.UploadCodeWeight+phat.UploadCodeWeightPerByte*tx.MaxTxBytes || got > state.DefaultParams().MaxBlockWeight {
		t.Errorf("max tx weight %d", got)
	}
	if rs.Supports(modules.MaxAppVersion+1) || rs.Supports(0) {
		t.Error("supports an app version it has no table for")
	}
	unknown := tx.Call{Module: 0, Method: 0}
	if _, ok := rs.Lookup(state.AppVersion1, &unknown); ok || rs.CallName(state.AppVersion1, unknown) != "module(0).method(0)" {
		t.Error("module 0 is reserved")
	}
}

// TestTableV2 pins what AppVersion2 changes: every call of AppVersion1
// lands on a method of the same name and weight, gov.cancel_upgrade is
// added (and with it admin.sudo's weight stays that of the heaviest
// privileged method), and only AppVersion2 has a migration.
func TestTableV2(t *testing.T) {
	rs := modules.Runtimes()
	if modules.MaxAppVersion != state.AppVersion2 || !rs.Supports(state.AppVersion2) {
		t.Fatalf("max app version %d", modules.MaxAppVersion)
	}
	v1, v2 := rs[state.AppVersion1], rs[state.AppVersion2]
	for i := range v1.Modules {
		m1, m2 := v1.Modules[i], v2.Modules[i]
		if (m1 == nil) != (m2 == nil) {
			t.Fatalf("module %d in one version only", i)
		}
		if m1 == nil {
			continue
		}
		if m1.Name != m2.Name || len(m2.Methods) < len(m1.Methods) {
			t.Fatalf("module %d: %s with %d methods, then %s with %d", i, m1.Name, len(m1.Methods), m2.Name, len(m2.Methods))
		}
		for j, a := range m1.Methods {
			b := m2.Methods[j]
			if (a == nil) != (b == nil) || a != nil && (a.Name != b.Name || a.Weight != b.Weight || a.Privileged != b.Privileged || a.DevOnly != b.DevOnly) {
				t.Errorf("%s method %d differs", m1.Name, j)
			}
		}
		if len(m2.Methods) > len(m1.Methods) && i != int(gov.Index) {
			t.Errorf("module %s grew", m1.Name)
		}
	}
	cancel := gov.CancelUpgradeCall()
	if _, ok := rs.Lookup(state.AppVersion1, &cancel); ok {
		t.Error("gov.cancel_upgrade in AppVersion1")
	}
	meth, ok := rs.Lookup(state.AppVersion2, &cancel)
	if !ok || !meth.Privileged || rs.CallName(state.AppVersion2, cancel) != "gov.cancel_upgrade" {
		t.Fatalf("gov.cancel_upgrade: %v %+v", ok, meth)
	}
	if v1.Migrate != nil || v2.Migrate == nil {
		t.Error("only AppVersion2 migrates")
	}
	if state.MaxTxWeight(rs, state.AppVersion2) != state.MaxTxWeight(rs, state.AppVersion1) {
		t.Error("AppVersion2's heaviest call differs")
	}
}

// TestNewMachine: the table's machine accepts a dev genesis, and
// ValidateGenesis refuses an app version the table lacks.
func TestNewMachine(t *testing.T) {
	g := state.DevGenesis("cella-test", []state.Validator{{PubKey: [32]byte{1}, Power: 1}})
	if _, err := modules.NewMachine(g); err != nil {
		t.Fatal(err)
	}
	g.AppVersion = 99
	if err := modules.ValidateGenesis(g); err == nil {
		t.Fatal("app version 99 accepted")
	}
}
