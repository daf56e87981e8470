package abciapp

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/modules"
)

// upgradeAt is the height the tests schedule AppVersion2 at.
const upgradeAt = 4

func (ta *testApp) info() *abci.ResponseInfo {
	ta.t.Helper()
	r, err := ta.a.Info(context.Background(), &abci.RequestInfo{})
	if err != nil {
		ta.t.Fatal(err)
	}
	return r
}

func (ta *testApp) queryJSON(path string, out any) {
	ta.t.Helper()
	r, err := ta.a.Query(context.Background(), &abci.RequestQuery{Path: path})
	if err != nil || r.Code != chainapi.QueryOK {
		ta.t.Fatalf("%s: %v %s", path, err, r.GetLog())
	}
	if err := json.Unmarshal(r.Value, out); err != nil {
		ta.t.Fatal(err)
	}
}

// scheduleV2 schedules AppVersion2 at upgradeAt through admin.sudo in
// block 1.
func (ta *testApp) scheduleV2() {
	ta.t.Helper()
	alice := pairOf(ta.t, "//Alice")
	if r := ta.block(ta.sign(alice, 0, admin.SudoCall(gov.ScheduleUpgradeCall(upgradeAt, state.AppVersion2)))).TxResults[0]; r.Code != state.CodeOK {
		ta.t.Fatalf("schedule: %s %s", state.CodeName(r.Code), r.Log)
	}
}

func (ta *testApp) reopen(opts ...Option) {
	ta.t.Helper()
	ta.db.Close()
	ta.open(opts...)
}

// TestUpgradeThroughABCI: the block at the scheduled height, and only it,
// returns the consensus-param update Version.App = 2; from the next block
// on the app runs AppVersion2 (Info, /chain and /gov say so), also after a
// restart, and /gov lists the past upgrade.
func TestUpgradeThroughABCI(t *testing.T) {
	ta := newTestApp(t)
	ta.scheduleV2()
	for ta.a.last.Height < upgradeAt+2 {
		h := ta.a.last.Height + 1
		wantInfo := state.AppVersion1
		if h > upgradeAt {
			wantInfo = state.AppVersion2
		}
		if v := ta.info().AppVersion; v != wantInfo {
			t.Fatalf("before block %d Info says app version %d, want %d", h, v, wantInfo)
		}
		res := ta.block()
		switch {
		case h == upgradeAt && (res.ConsensusParamUpdates == nil || res.ConsensusParamUpdates.Version == nil || res.ConsensusParamUpdates.Version.App != state.AppVersion2):
			t.Fatalf("block %d: consensus-param update %v", h, res.ConsensusParamUpdates)
		case h == upgradeAt && (res.ConsensusParamUpdates.Block != nil || res.ConsensusParamUpdates.Validator != nil || res.ConsensusParamUpdates.Abci != nil):
			t.Fatalf("the update changes more than the version: %v", res.ConsensusParamUpdates)
		case h != upgradeAt && res.ConsensusParamUpdates != nil:
			t.Fatalf("block %d: consensus-param update %v", h, res.ConsensusParamUpdates)
		}
		if h == upgradeAt+1 {
			// The first v2 block: a restart here keeps the version.
			ta.reopen()
		}
	}
	if v := ta.info().AppVersion; v != state.AppVersion2 {
		t.Fatalf("Info app version %d", v)
	}
	var ci chainapi.ChainInfo
	ta.queryJSON(chainapi.PathChain, &ci)
	var gi chainapi.GovInfo
	ta.queryJSON(chainapi.PathGov, &gi)
	if ci.AppVersion != state.AppVersion2 || gi.AppVersion != state.AppVersion2 || gi.Upgrade != nil ||
		len(gi.PastUpgrades) != 1 || gi.PastUpgrades[0] != (chainapi.PastUpgradeInfo{Height: upgradeAt, From: state.AppVersion1, AppVersion: state.AppVersion2}) {
		t.Fatalf("chain %+v, gov %+v", ci, gi)
	}
	// CheckTx judges by AppVersion2's table: cancel_upgrade is known now.
	alice := pairOf(t, "//Alice")
	if code := ta.check(ta.sign(alice, 1, admin.SudoCall(gov.CancelUpgradeCall()))); code != state.CodeNoUpgradeScheduled {
		t.Fatal(state.CodeName(code))
	}
	// A binary that lacks AppVersion2 refuses to open the upgraded chain.
	ta.db.Close()
	db, err := appdb.Open(ta.dir)
	if err != nil {
		t.Fatal(err)
	}
	ta.db = db
	t.Cleanup(func() { db.Close() })
	if _, err := New(ta.g, db, ta.a.log, WithRuntimes(state.Runtimes{state.AppVersion1: modules.Runtimes()[state.AppVersion1]})); err == nil || !strings.Contains(err.Error(), "app version 2") {
		t.Fatalf("a v1 binary opened a v2 chain: %v", err)
	}
}

// TestUpgradeUnsupportedHalts: a binary without AppVersion2 runs the
// blocks before the scheduled height, refuses to finalize that block with
// an error naming the height and version, commits nothing and closes
// Halted; a binary with AppVersion2 then executes the same block.
func TestUpgradeUnsupportedHalts(t *testing.T) {
	ta := newTestApp(t)
	v1only := WithRuntimes(state.Runtimes{state.AppVersion1: modules.Runtimes()[state.AppVersion1]})
	ta.reopen(v1only)
	ta.scheduleV2()
	for ta.a.last.Height < upgradeAt-1 {
		ta.block()
	}
	select {
	case <-ta.a.Halted():
		t.Fatal("halted early")
	default:
	}
	_, err := ta.a.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: upgradeAt, Hash: blockHash(upgradeAt), Time: time.Unix(1_800_000_000, 0)})
	var ue *state.UpgradeError
	if !errors.As(err, &ue) || ue.Height != upgradeAt || ue.To != state.AppVersion2 ||
		!strings.Contains(err.Error(), "block 4") || !strings.Contains(err.Error(), "app version 2") {
		t.Fatalf("finalize: %v", err)
	}
	select {
	case <-ta.a.Halted():
	default:
		t.Fatal("not halted")
	}
	if !errors.As(ta.a.HaltErr(), &ue) {
		t.Fatal(ta.a.HaltErr())
	}
	if ta.a.last.Height != upgradeAt-1 || ta.a.pending != nil {
		t.Fatalf("height %d, pending %v", ta.a.last.Height, ta.a.pending)
	}
	if _, err := ta.a.Commit(context.Background(), &abci.RequestCommit{}); err == nil {
		t.Fatal("committed a refused block")
	}
	// The operator installs a v2 binary: the block executes and switches.
	ta.reopen()
	if res := ta.block(); res.ConsensusParamUpdates == nil || res.ConsensusParamUpdates.Version.App != state.AppVersion2 {
		t.Fatalf("update %v", res.ConsensusParamUpdates)
	}
	if v := ta.info().AppVersion; v != state.AppVersion2 {
		t.Fatalf("Info app version %d", v)
	}
}
