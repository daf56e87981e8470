package pruntime

import (
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gov"
)

// TestSyncAcrossUpgrade: a chain that upgrades to AppVersion2 at height H
// (header H+1 is the first to carry it) syncs into pRuntime, whose worker
// core handles a v2 block's message (its registration, at H+2); a verifier
// that supports only AppVersion1 applies the blocks before H and stops
// with ErrNewerAppVersion at header H+1.
func TestSyncAcrossUpgrade(t *testing.T) {
	const upgradeAt = 6
	dir := t.TempDir()
	r := openTest(t, dir, 10)
	var id keys.PublicKey
	c := testChain(t, &id, upgradeAt+2)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	id = r.Info().IdentityPublicKey
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	sched, err := c.Tx(alice, admin.SudoCall(gov.ScheduleUpgradeCall(upgradeAt, state.AppVersion2)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.AddBlock(sched)
	if err != nil {
		t.Fatal(err)
	}
	if res := b.Results[0]; res.Code != state.CodeOK {
		t.Fatalf("schedule: %s %s", state.CodeName(res.Code), res.Log)
	}
	addBlocks(t, c, upgradeAt+4)
	if v, w := c.Header(upgradeAt).Version.App, c.Header(upgradeAt+1).Version.App; v != state.AppVersion1 || w != state.AppVersion2 {
		t.Fatalf("synthetic headers %d, %d carry app versions %d, %d", upgradeAt, upgradeAt+1, v, w)
	}

	syncTo(t, r, c, 3)
	in := r.Info()
	if in.HeaderHeight != c.Height() || in.AppHash != c.Block(c.Height()-1).Record.AppHash {
		t.Fatalf("info %+v, chain at %d", in, c.Height())
	}
	msgs, _, err := r.Egress()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || string(msgs[0].Message.Topic) != msg.TopicWorkerOnline {
		t.Fatalf("egress %+v, want the worker/online of its registration in a v2 block", msgs)
	}

	// A verifier of AppVersion1 only.
	s, err := chainsync.New(c.Genesis(), c.GenesisHash(), c.GenesisRecord(), state.AppVersion1)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := c.Batches(1, c.Height(), 1)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		err := s.SyncBatch(toBatch(b))
		if err == nil {
			continue
		}
		if !errors.Is(err, chainsync.ErrNewerAppVersion) || b.Headers[0].Height != upgradeAt+1 {
			t.Fatalf("batch at %d: %v", b.Headers[0].Height, err)
		}
		break
	}
	if s.Height() != upgradeAt-1 || s.VerifiedHeight() != upgradeAt {
		t.Fatalf("the v1 verifier applied up to %d and verified up to %d", s.Height(), s.VerifiedHeight())
	}
}
