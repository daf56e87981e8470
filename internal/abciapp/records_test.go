package abciapp

import (
	"context"
	"errors"
	"reflect"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/balances"
)

// BlockRecords answers what the /blocks query answers, and refuses the
// same ranges.
func TestBlockRecordsMatchBlocksQuery(t *testing.T) {
	ta := newTestApp(t)
	alice, bob := pairOf(t, "//Alice"), pairOf(t, "//Bob")
	for i := uint64(0); i < 4; i++ {
		ta.block(ta.sign(alice, i, balances.TransferCall(bob.Public(), scale.U128From(1+i))))
	}
	for _, r := range [][2]uint64{{0, 0}, {1, 4}, {2, 3}, {3, 99}, {4, 4}} {
		got, err := ta.a.BlockRecords(r[0], r[1])
		if err != nil {
			t.Fatalf("%v: %v", r, err)
		}
		q, err := ta.a.Query(context.Background(), &abci.RequestQuery{Path: chainapi.PathBlocks, Data: scale.Encode(&chainapi.BlocksRequest{From: r[0], To: r[1]})})
		if err != nil || q.Code != 0 {
			t.Fatalf("%v: query %v %v", r, q, err)
		}
		want, err := chainapi.DecodeBlocks(q.Value)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 || !reflect.DeepEqual(got, want) {
			t.Fatalf("%v: %d records, the query answers %d", r, len(got), len(want))
		}
		if got[0].Height != int64(r[0]) {
			t.Fatalf("%v: starts at %d", r, got[0].Height)
		}
	}
	if _, err := ta.a.BlockRecords(5, 9); !errors.Is(err, appdb.ErrNotFound) {
		t.Fatalf("uncommitted heights: %v", err)
	}
	if _, err := ta.a.BlockRecords(3, 2); err == nil {
		t.Fatal("from > to accepted")
	}
}
