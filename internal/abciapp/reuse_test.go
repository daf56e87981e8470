package abciapp

import (
	"context"
	"reflect"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
)

// A block run by PrepareProposal or ProcessProposal is reused by the next
// call only when it is the same block on the same state; every path gives
// exactly what a node that only runs FinalizeBlock gives.
func TestProposalResultReuse(t *testing.T) {
	ctx := context.Background()
	alice, bob := pairOf(t, "//Alice"), pairOf(t, "//Bob")
	ta, twin := newTestApp(t), newTestApp(t)
	proposer := []byte{0xaa, 20: 0}
	var nonce uint64
	transfer := func(amount uint64) []byte {
		nonce++
		return ta.sign(alice, nonce-1, balances.TransferCall(bob.Public(), scale.U128From(amount)))
	}
	bad := ta.sign(alice, 999, balances.TransferCall(bob.Public(), scale.U128From(1))) // nonce gap
	type path struct {
		name string
		// run takes the block's candidate transactions through ta and
		// returns the decided block's transactions, hash and time.
		run     func(h int64, txs [][]byte) ([][]byte, []byte, time.Time)
		wantRan bool // a result for the block is kept before FinalizeBlock
		// wantReuses counts the calls that take the result of the call
		// before (ProcessProposal's from PrepareProposal, FinalizeBlock's).
		wantReuses float64
	}
	at := func(h int64) time.Time { return time.Unix(1_800_000_000+h, 0) }
	prepare := func(h int64, txs [][]byte) [][]byte {
		r, err := ta.a.PrepareProposal(ctx, &abci.RequestPrepareProposal{Height: h, Time: at(h), ProposerAddress: proposer, Txs: txs, MaxTxBytes: 1 << 20})
		if err != nil {
			t.Fatal(err)
		}
		return r.Txs
	}
	process := func(h int64, txs [][]byte, hash []byte, tm time.Time) {
		r, err := ta.a.ProcessProposal(ctx, &abci.RequestProcessProposal{Height: h, Time: tm, ProposerAddress: proposer, Txs: txs, Hash: hash})
		if err != nil || r.Status != abci.ResponseProcessProposal_ACCEPT {
			t.Fatalf("process: %v %v", r, err)
		}
	}
	paths := []path{
		{"prepare, process, finalize", func(h int64, txs [][]byte) ([][]byte, []byte, time.Time) {
			kept := prepare(h, txs)
			process(h, kept, blockHash(h), at(h))
			return kept, blockHash(h), at(h)
		}, true, 2},
		{"process, finalize (another proposer's block)", func(h int64, txs [][]byte) ([][]byte, []byte, time.Time) {
			process(h, txs[:len(txs)-1], blockHash(h), at(h)) // the bad tx is last
			return txs[:len(txs)-1], blockHash(h), at(h)
		}, true, 1},
		{"prepared, but another block processed", func(h int64, txs [][]byte) ([][]byte, []byte, time.Time) {
			kept := prepare(h, txs)
			process(h, kept[:1], blockHash(h), at(h))
			return kept[:1], blockHash(h), at(h)
		}, true, 1},
		{"processed, another time decided", func(h int64, txs [][]byte) ([][]byte, []byte, time.Time) {
			kept := prepare(h, txs)
			process(h, kept, blockHash(h), at(h))
			return kept, blockHash(h), at(h).Add(time.Second)
		}, true, 1},
		{"processed, another hash decided", func(h int64, txs [][]byte) ([][]byte, []byte, time.Time) {
			kept := prepare(h, txs)
			process(h, kept, blockHash(h), at(h))
			return kept, append([]byte{0xff}, blockHash(h)[1:]...), at(h)
		}, true, 1},
		{"prepared only (no ProcessProposal)", func(h int64, txs [][]byte) ([][]byte, []byte, time.Time) {
			return prepare(h, txs), blockHash(h), at(h)
		}, true, 0},
		{"finalize only (replay)", func(h int64, txs [][]byte) ([][]byte, []byte, time.Time) {
			return txs[:len(txs)-1], blockHash(h), at(h)
		}, false, 0},
	}
	for _, p := range paths {
		h := ta.a.last.Height + 1
		if twin.a.last.Height+1 != h {
			t.Fatal("apps out of step")
		}
		reuses := counterValue(t, ta.a.metrics.blocksReused)
		decided, hash, tm := p.run(h, [][]byte{transfer(1), transfer(2), bad})
		if (ta.a.ran != nil) != p.wantRan {
			t.Fatalf("%s: kept result %v", p.name, ta.a.ran != nil)
		}
		fin := func(a *App) *abci.ResponseFinalizeBlock {
			r, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: h, Hash: hash, Time: tm, ProposerAddress: proposer, Txs: decided})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
				t.Fatal(err)
			}
			return r
		}
		got, want := fin(ta.a), fin(twin.a)
		if n := counterValue(t, ta.a.metrics.blocksReused) - reuses; n != p.wantReuses {
			t.Fatalf("%s: %v results reused, want %v", p.name, n, p.wantReuses)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%s: FinalizeBlock\n%v\nwant\n%v", p.name, got, want)
		}
		if ta.a.ran != nil {
			t.Fatalf("%s: a result outlived its block", p.name)
		}
		for _, r := range got.TxResults {
			if r.Code != state.CodeOK {
				t.Fatalf("%s: %v", p.name, r)
			}
		}
		if len(decided) == 0 {
			t.Fatalf("%s: empty block", p.name)
		}
		// Keep the nonce in step with what was committed.
		acct, err := state.GetAccount(ta.db, alice.Public())
		if err != nil {
			t.Fatal(err)
		}
		nonce = acct.Nonce
	}
	// A block with an invalid transaction is rejected and nothing is kept.
	h := ta.a.last.Height + 1
	r, err := ta.a.ProcessProposal(ctx, &abci.RequestProcessProposal{Height: h, Time: at(h), ProposerAddress: proposer, Txs: [][]byte{transfer(1), bad}, Hash: blockHash(h)})
	if err != nil || r.Status != abci.ResponseProcessProposal_REJECT || ta.a.ran != nil {
		t.Fatalf("invalid block: %v %v, kept %v", r, err, ta.a.ran != nil)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}

// CometBFT indexes exactly the attributes a module marks for indexing.
func TestExecResultIndexesMarkedAttributes(t *testing.T) {
	r := execResult(state.TxResult{Events: []state.Event{{Type: "contract_outcome", Attributes: []state.EventAttribute{
		{Key: "command_id", Value: "0x01", Index: true}, {Key: "gas_used", Value: "7"}}}}})
	if len(r.Events) != 1 || len(r.Events[0].Attributes) != 2 {
		t.Fatalf("events %v", r.Events)
	}
	if a := r.Events[0].Attributes; !a[0].Index || a[1].Index || a[0].Key != "command_id" || a[1].Value != "7" {
		t.Fatalf("attributes %v", a)
	}
}
