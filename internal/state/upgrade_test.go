package state_test

import (
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/tx"
)

// upgradeHeight is the height the upgrade tests schedule AppVersion2 at:
// block upgradeHeight is the last block of AppVersion1.
const upgradeHeight = 5

// sudoAlice signs admin.sudo(inner) by //Alice, the dev chain's admin.
func (c *chain) sudoAlice(nonce uint64, inner tx.Call) []byte {
	alice := dev(c.t, "Alice")
	return tx.Sign(c.body(alice, nonce, admin.SudoCall(inner)), alice).Encode()
}

func hasEvent(evs []state.Event, typ string) bool {
	for _, e := range evs {
		if e.Type == typ {
			return true
		}
	}
	return false
}

// upgradeRun drives a dev chain through an upgrade to AppVersion2 at
// upgradeHeight and checks every block on the way; restartAt, when
// non-zero, rebuilds the machine over the committed store after that
// height (a node restart: everything it knows comes from the store). It
// returns every block's AppHash.
func upgradeRun(t *testing.T, restartAt int64) [][32]byte {
	t.Helper()
	c := newDevChain(t)
	var hashes [][32]byte
	step := func(txs ...[]byte) *state.BlockResult {
		t.Helper()
		res := c.block(txs...)
		hashes = append(hashes, res.AppHash)
		if c.height == restartAt {
			m, err := modules.NewMachine(c.m.Genesis())
			if err != nil {
				t.Fatal(err)
			}
			c.m = m
		}
		return res
	}
	version := func() uint64 {
		v, err := c.m.AppVersion(c.st)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	// Block 1: schedule the upgrade (accepted; nothing switches).
	res := step(c.sudoAlice(0, gov.ScheduleUpgradeCall(upgradeHeight, state.AppVersion2)))
	if r := res.TxResults[0]; r.Code != state.CodeOK {
		t.Fatalf("schedule: %s %s", state.CodeName(r.Code), r.Log)
	}
	nonce := uint64(1)
	for c.height < upgradeHeight+4 {
		h := c.header()
		want := state.AppVersion1
		if h.Height > upgradeHeight {
			want = state.AppVersion2
		}
		if h.AppVersion != want {
			t.Fatalf("block %d runs app version %d, want %d", h.Height, h.AppVersion, want)
		}
		// gov.cancel_upgrade exists only in AppVersion2: under v1 the
		// sudo is rejected statically (and cannot cancel the upgrade,
		// even in its last block); under v2 it dispatches and finds no
		// schedule.
		res := step(c.sudoAlice(nonce, gov.CancelUpgradeCall()))
		r := res.TxResults[0]
		switch {
		case h.AppVersion == state.AppVersion1 && r.Code != state.CodeBadArgs:
			t.Fatalf("block %d: cancel_upgrade under v1: %s %s", h.Height, state.CodeName(r.Code), r.Log)
		case h.AppVersion == state.AppVersion2 && r.Code != state.CodeNoUpgradeScheduled:
			t.Fatalf("block %d: cancel_upgrade under v2: %s %s", h.Height, state.CodeName(r.Code), r.Log)
		}
		if state.Accepted(r.Code) {
			nonce++
		}
		past, err := gov.UpgradeHistory(c.st)
		if err != nil {
			t.Fatal(err)
		}
		u, err := gov.GetUpgrade(c.st)
		if err != nil {
			t.Fatal(err)
		}
		if h.Height != upgradeHeight {
			if res.AppVersionUpdate != 0 || hasEvent(res.Events, "gov_upgrade_enacted") {
				t.Fatalf("block %d switches to %d", h.Height, res.AppVersionUpdate)
			}
			if v := version(); v != want {
				t.Fatalf("after block %d the store says app version %d", h.Height, v)
			}
			if h.Height < upgradeHeight && (u == nil || len(past) != 0) {
				t.Fatalf("block %d: schedule %v, history %v", h.Height, u, past)
			}
			if h.Height > upgradeHeight && (u != nil || len(past) != 1) {
				t.Fatalf("block %d: schedule %v, history %v (the migration must run once)", h.Height, u, past)
			}
			continue
		}
		// The scheduled block: the last of v1, it switches the chain.
		if res.AppVersionUpdate != state.AppVersion2 || !hasEvent(res.Events, "gov_upgrade_enacted") {
			t.Fatalf("block %d: update %d, events %v", h.Height, res.AppVersionUpdate, res.Events)
		}
		if v := version(); v != state.AppVersion2 {
			t.Fatalf("after the upgrade block the store says app version %d", v)
		}
		if u != nil {
			t.Fatalf("the schedule %v survived its height", u)
		}
		if want := []gov.PastUpgrade{{Height: upgradeHeight, From: state.AppVersion1, To: state.AppVersion2}}; len(past) != 1 || past[0] != want[0] {
			t.Fatalf("history %v, want %v", past, want)
		}
		// The block (with its migration) is hashed under the version its
		// header carried: v1.
		if want := state.AppHash(state.AppVersion1, hashes[len(hashes)-2], res.WriteSet, res.Messages); res.AppHash != want {
			t.Fatalf("upgrade block AppHash %x, want %x", res.AppHash, want)
		}
	}
	return hashes
}

// TestUpgradeSwitchesAtScheduledHeight: the blocks up to the scheduled
// height run AppVersion1, that block returns the update and runs
// AppVersion2's migration once, and the blocks after it run AppVersion2;
// two replicas agree on every AppHash, and so do replicas restarted
// before, at and after the upgrade height.
func TestUpgradeSwitchesAtScheduledHeight(t *testing.T) {
	a := upgradeRun(t, 0)
	for _, restart := range []int64{0, 3, upgradeHeight - 1, upgradeHeight, upgradeHeight + 1, upgradeHeight + 3} {
		b := upgradeRun(t, restart)
		if len(a) != len(b) {
			t.Fatalf("restart at %d: %d blocks, want %d", restart, len(b), len(a))
		}
		for i := range a {
			if a[i] != b[i] {
				t.Fatalf("restart at %d: block %d AppHash %x, the other replica %x", restart, i+1, b[i], a[i])
			}
		}
	}
}

// TestUpgradeUnsupportedStops: an upgrade to a version the binary lacks is
// accepted on chain (operators install binaries later), the blocks before
// its height run, and the block at its height fails with an UpgradeError
// naming the height and version, writing nothing; a binary that supports
// the version executes the same block.
func TestUpgradeUnsupportedStops(t *testing.T) {
	for _, tc := range []struct {
		name    string
		rs      state.Runtimes // the stopping binary's tables
		version uint64
	}{
		{"v1 binary, upgrade to v2", state.Runtimes{state.AppVersion1: modules.Runtimes()[state.AppVersion1]}, state.AppVersion2},
		{"v2 binary, upgrade to v7", modules.Runtimes(), 7},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newDevChain(t)
			old, err := state.New(c.m.Genesis(), tc.rs)
			if err != nil {
				t.Fatal(err)
			}
			c.m = old
			if r := c.block(c.sudoAlice(0, gov.ScheduleUpgradeCall(upgradeHeight, tc.version))).TxResults[0]; r.Code != state.CodeOK {
				t.Fatalf("schedule: %s %s", state.CodeName(r.Code), r.Log)
			}
			for c.height < upgradeHeight-1 {
				c.block()
			}
			before := c.st.Clone()
			_, err = c.m.ExecuteBlock(c.st, c.appHash, c.header(), nil)
			var ue *state.UpgradeError
			if !errors.As(err, &ue) || !errors.Is(err, state.ErrUnsupportedAppVersion) {
				t.Fatalf("block %d: %v", upgradeHeight, err)
			}
			if ue.Height != upgradeHeight || ue.From != state.AppVersion1 || ue.To != tc.version {
				t.Fatalf("%+v", ue)
			}
			if c.st.Len() != before.Len() {
				t.Fatal("the failed block wrote")
			}
			if tc.version != state.AppVersion2 {
				return
			}
			// The new binary takes over at the same block.
			if c.m, err = modules.NewMachine(c.m.Genesis()); err != nil {
				t.Fatal(err)
			}
			if res := c.block(); res.AppVersionUpdate != state.AppVersion2 {
				t.Fatalf("the v2 binary's update %d", res.AppVersionUpdate)
			}
		})
	}
}

// TestUpgradeRescheduleAndCancel: a later schedule replaces an earlier one
// (the earlier height passes without a switch), and under AppVersion2
// gov.cancel_upgrade removes a schedule before its height.
func TestUpgradeRescheduleAndCancel(t *testing.T) {
	c := newDevChain(t)
	c.block(c.sudoAlice(0, gov.ScheduleUpgradeCall(3, state.AppVersion2)))
	c.block(c.sudoAlice(1, gov.ScheduleUpgradeCall(6, state.AppVersion2)))
	for c.height < 6 {
		if res := c.block(); res.AppVersionUpdate != 0 && c.height != 6 {
			t.Fatalf("block %d switched", c.height)
		} else if c.height == 6 && res.AppVersionUpdate != state.AppVersion2 {
			t.Fatal("no switch at the replacing schedule's height")
		}
	}
	if r := c.block(c.sudoAlice(2, gov.ScheduleUpgradeCall(10, 3))).TxResults[0]; r.Code != state.CodeOK {
		t.Fatalf("schedule v3: %s %s", state.CodeName(r.Code), r.Log)
	}
	if r := c.block(c.sudoAlice(3, gov.CancelUpgradeCall())).TxResults[0]; r.Code != state.CodeOK {
		t.Fatalf("cancel: %s %s", state.CodeName(r.Code), r.Log)
	}
	for c.height < 12 {
		if res := c.block(); res.AppVersionUpdate != 0 {
			t.Fatalf("block %d switched after the cancel", c.height)
		}
	}
	if u, err := gov.GetUpgrade(c.st); err != nil || u != nil {
		t.Fatal(u, err)
	}
	// Scheduling a version that is not above the current one is refused.
	if r := c.block(c.sudoAlice(4, gov.ScheduleUpgradeCall(20, state.AppVersion2))).TxResults[0]; r.Code != state.CodeUpgradeUnsupported {
		t.Fatalf("schedule v2 on v2: %s %s", state.CodeName(r.Code), r.Log)
	}
}

// TestUpgradeStaleScheduleInert: a schedule whose height passed without a
// switch (recorded by code that did not switch yet) never fires late.
func TestUpgradeStaleScheduleInert(t *testing.T) {
	c := newDevChain(t)
	for c.height < 5 {
		c.block()
	}
	c.st.Apply(state.WriteSet{{Key: gov.KeyUpgrade, Value: scale.Encode(&gov.Upgrade{Height: 3, AppVersion: state.AppVersion2})}})
	for c.height < 10 {
		if res := c.block(); res.AppVersionUpdate != 0 {
			t.Fatalf("block %d switched on a stale schedule", c.height)
		}
	}
	if v, err := c.m.AppVersion(c.st); err != nil || v != state.AppVersion1 {
		t.Fatal(v, err)
	}
}
