package abciapp

import (
	"context"
	"fmt"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	abci "github.com/cometbft/cometbft/abci/types"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	"github.com/cometbft/cometbft/state/txindex"
	"github.com/cometbft/cometbft/state/txindex/kv"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
)

// BenchmarkProposerBlock is a proposing node's work for one block of
// transfers: CheckTx for each transaction, then PrepareProposal,
// ProcessProposal, FinalizeBlock and Commit. "before" makes the calls the
// app made before results were reused and reads cached (the machine's
// CheckTx, ProposalTxs, CheckProposal and ExecuteBlock, each straight on the
// store); "after" goes through the App. Both run in the same process, on
// the same kind of chain, with the same signature cache behaviour.
func BenchmarkProposerBlock(b *testing.B) {
	const perBlock = 300
	senders := []string{"//Alice", "//Bob", "//Charlie", "//Dave", "//Eve", "//Ferdie"}
	for _, mode := range []string{"before", "after"} {
		b.Run(fmt.Sprintf("%s/txs=%d", mode, perBlock), func(b *testing.B) {
			ta := newTestApp(b)
			a := ta.a
			ctx := context.Background()
			pairs := make([]*keys.Pair, len(senders))
			for i, s := range senders {
				p, err := keys.FromURI(s)
				if err != nil {
					b.Fatal(err)
				}
				pairs[i] = p
			}
			to := keys.PublicKey{9}
			nonces := make([]uint64, len(pairs))
			proposer := []byte{0xaa, 19: 0}
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				b.StopTimer()
				txs := make([][]byte, perBlock)
				for i := range txs {
					s := i % len(pairs)
					txs[i] = ta.sign(pairs[s], nonces[s], balances.TransferCall(to, scale.U128From(state.Unit)))
					nonces[s]++
				}
				h := a.last.Height + 1
				tm := time.Unix(1_800_000_000+h, 0)
				b.StartTimer()
				if mode == "before" {
					pending := mempoolView{nonces: map[keys.PublicKey]uint64{}, seqs: map[string]uint64{}}
					for _, raw := range txs {
						r := a.m.CheckTx(a.db, h, raw, pending, a.hashes)
						if r.Code != state.CodeOK {
							b.Fatal(r.Log)
						}
						pending.nonces[r.Sender] = r.Nonce + 1
					}
					hd := a.header(h, tm, proposer)
					kept := a.m.ProposalTxs(a.db, hd, txs, 1<<30)
					if err := a.m.CheckProposal(a.db, hd, kept); err != nil {
						b.Fatal(err)
					}
					res, err := a.m.ExecuteBlock(a.db, a.last.AppHash, hd, kept)
					if err != nil {
						b.Fatal(err)
					}
					if err := a.db.CommitBlock(&state.BlockRecord{Height: h, WriteSet: res.WriteSet, Messages: res.Messages, AppHash: res.AppHash}, [32]byte(blockHash(h))); err != nil {
						b.Fatal(err)
					}
					a.hashes.committed(h, [32]byte(blockHash(h)))
					a.last.Height, a.last.AppHash = h, res.AppHash
					// (the read cache of "after" is not used on this app)
					continue
				}
				for _, raw := range txs {
					if r, err := a.CheckTx(ctx, &abci.RequestCheckTx{Tx: raw}); err != nil || r.Code != state.CodeOK {
						b.Fatal(r, err)
					}
				}
				pp, err := a.PrepareProposal(ctx, &abci.RequestPrepareProposal{Height: h, Time: tm, ProposerAddress: proposer, Txs: txs, MaxTxBytes: 1 << 30})
				if err != nil || len(pp.Txs) != perBlock {
					b.Fatal(err)
				}
				if r, err := a.ProcessProposal(ctx, &abci.RequestProcessProposal{Height: h, Time: tm, ProposerAddress: proposer, Txs: pp.Txs, Hash: blockHash(h)}); err != nil || r.Status != abci.ResponseProcessProposal_ACCEPT {
					b.Fatal(r, err)
				}
				if _, err := a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: h, Time: tm, ProposerAddress: proposer, Txs: pp.Txs, Hash: blockHash(h)}); err != nil {
					b.Fatal(err)
				}
				if _, err := a.Commit(ctx, &abci.RequestCommit{}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/tx")
		})
	}
}

// BenchmarkTxIndexOutcomes is CometBFT's kv tx indexer (goleveldb, as a
// node runs it) storing blocks of one push_command each plus one
// cluster/outcomes transaction reporting them, with every attribute
// indexed ("before": what the app asked for), with the attributes the
// modules mark ("after"), and with those plus each transaction's indexed
// tx.signer ("signer", what the app asks for now: the commands' signers
// distinct, the outcomes' signer a worker's).
func BenchmarkTxIndexOutcomes(b *testing.B) {
	const perBlock = 128
	hex := func(i int, tag byte) string { return fmt.Sprintf("0x%02x%062x", tag, i) }
	signer := func(i int) *keys.PublicKey {
		var k keys.PublicKey
		k[0], k[1], k[2] = 5, byte(i>>8), byte(i)
		return &k
	}
	for _, mode := range []string{"before", "after", "signer"} {
		b.Run(mode, func(b *testing.B) {
			db, err := dbm.NewGoLevelDB("txindex", b.TempDir())
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			idx := kv.NewTxIndex(db)
			b.ResetTimer()
			for n := 0; n < b.N; n++ {
				batch := txindex.NewBatch(perBlock + 1)
				var outcomes []state.Event
				for i := 0; i < perBlock; i++ {
					id := hex(n*perBlock+i, 1)
					cmd := state.TxResult{Events: []state.Event{{Type: "contract_command", Attributes: []state.EventAttribute{
						{Key: "contract", Value: hex(0, 2), Index: true}, {Key: "origin", Value: hex(i, 3), Index: true}, {Key: "command_id", Value: id, Index: true}}}}}
					outcomes = append(outcomes, state.Event{Type: "contract_outcome", Attributes: []state.EventAttribute{
						{Key: "command_id", Value: id, Index: true}, {Key: "contract", Value: hex(0, 2), Index: true},
						{Key: "gas_used", Value: "123456789"}, {Key: "refund", Value: "98765432100"}, {Key: "charge", Value: "1234567890"}}})
					if mode == "signer" {
						cmd.Signer = signer(i)
					}
					addTx(b, batch, mode, int64(n+1), uint32(i), []byte(id), cmd)
				}
				out := state.TxResult{Events: outcomes}
				if mode == "signer" {
					out.Signer = signer(perBlock)
				}
				addTx(b, batch, mode, int64(n+1), perBlock, []byte(hex(n, 4)), out)
				if err := idx.AddBatch(batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perBlock), "ns/command")
		})
	}
}

func addTx(b *testing.B, batch *txindex.Batch, mode string, h int64, i uint32, raw []byte, r state.TxResult) {
	if mode == "before" {
		for _, e := range r.Events {
			for j := range e.Attributes {
				e.Attributes[j].Index = true
			}
		}
	}
	if err := batch.Add(&abci.TxResult{Height: h, Index: i, Tx: raw, Result: *execResult(r)}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBlockRecordRelay is what relaying one loaded block's record
// (2,000 commands: ≈ 4,000 writes and 2,000 messages, ≈ 1.4 MB) to a pherry
// in the same process costs: "before" through the /blocks query as the
// node's JSON-RPC carries it (the query, CometBFT's JSON encoding of the
// answer, the client's decoding, the records' decoding), "after" through
// App.BlockRecords. (The HTTP transport of "before" is left out.)
func BenchmarkBlockRecordRelay(b *testing.B) {
	ta := newTestApp(b)
	rec := &state.BlockRecord{Height: 1}
	for i := 0; i < 4000; i++ {
		rec.WriteSet = append(rec.WriteSet, state.Write{Key: []byte(fmt.Sprintf("phat/pending/%08d-%040d", i, i)), Value: make([]byte, 150)})
	}
	for i := 0; i < 2000; i++ {
		rec.Messages = append(rec.Messages, msg.Message{Origin: []byte("phat"), Topic: []byte("phat/command"), Payload: make([]byte, 300)})
	}
	if err := ta.db.CommitBlock(rec, [32]byte{1}); err != nil {
		b.Fatal(err)
	}
	ta.a.last.Height = 1
	ctx := context.Background()
	b.Run("before", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			q, err := ta.a.Query(ctx, &abci.RequestQuery{Path: chainapi.PathBlocks, Data: scale.Encode(&chainapi.BlocksRequest{From: 1, To: 1})})
			if err != nil || q.Code != 0 {
				b.Fatal(q, err)
			}
			wire, err := cmtjson.Marshal(&coretypes.ResultABCIQuery{Response: *q})
			if err != nil {
				b.Fatal(err)
			}
			var got coretypes.ResultABCIQuery
			if err := cmtjson.Unmarshal(wire, &got); err != nil {
				b.Fatal(err)
			}
			if recs, err := chainapi.DecodeBlocks(got.Response.Value); err != nil || len(recs) != 1 {
				b.Fatal(err)
			}
		}
	})
	b.Run("after", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if recs, err := ta.a.BlockRecords(1, 1); err != nil || len(recs) != 1 {
				b.Fatal(err)
			}
		}
	})
}
