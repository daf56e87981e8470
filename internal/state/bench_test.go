package state_test

import (
	"encoding/binary"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/tx"
)

const benchSenders = 1000

// benchChain returns a dev chain with benchSenders extra funded accounts and
// one block of signed transfers, one from each of them.
func benchChain(b *testing.B, opts ...state.Option) (*chain, [][]byte, []*tx.Tx) {
	b.Helper()
	g := state.DevGenesis("cella-bench", testValidators())
	pairs := make([]*keys.Pair, benchSenders)
	for i := range pairs {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(i)+1)
		pairs[i] = keys.FromSeed(seed)
		g.App.Balances = append(g.App.Balances, state.Allocation{Account: pairs[i].Public(), Free: u(1000 * state.Unit)})
	}
	c := newChain(b, g, opts...)
	txs := make([][]byte, benchSenders)
	decoded := make([]*tx.Tx, benchSenders)
	for i, p := range pairs {
		dest := pairs[(i+1)%benchSenders].Public()
		decoded[i] = tx.Sign(c.body(p, 0, balances.TransferCall(dest, u(state.Unit+uint64(i)))), p)
		txs[i] = decoded[i].Encode()
	}
	return c, txs, decoded
}

// BenchmarkExecuteBlock1000Transfers executes a block of 1000 signed
// transfers from 1000 distinct senders on an in-memory store, with batch
// signature verification and no signature cache (every signature is
// verified), write-set and AppHash included.
func BenchmarkExecuteBlock1000Transfers(b *testing.B) {
	c, txs, _ := benchChain(b, state.WithSigCache(nil))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.m.ExecuteBlock(c.st, c.appHash, c.header(), txs)
		if err != nil {
			b.Fatal(err)
		}
		if res.TxResults[0].Code != state.CodeOK || len(res.WriteSet) != benchSenders+1 {
			b.Fatalf("%+v, %d writes", res.TxResults[0], len(res.WriteSet))
		}
	}
	b.ReportMetric(float64(b.N*len(txs))/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkExecuteBlock1000TransfersCached is the same block when every
// signature is already in the cache (FinalizeBlock after CheckTx).
func BenchmarkExecuteBlock1000TransfersCached(b *testing.B) {
	c, txs, _ := benchChain(b)
	if _, err := c.m.ExecuteBlock(c.st, c.appHash, c.header(), txs); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.m.ExecuteBlock(c.st, c.appHash, c.header(), txs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*len(txs))/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkVerifyOneByOne is the baseline: the same 1000 signatures verified
// one at a time (no batching), nothing else.
func BenchmarkVerifyOneByOne(b *testing.B) {
	_, _, decoded := benchChain(b)
	msgs := make([][]byte, len(decoded))
	for i, t := range decoded {
		msgs[i] = t.SignedMessage()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for j, t := range decoded {
			if !keys.Verify(t.Body.Signer, msgs[j], t.Signature) {
				b.Fatal("invalid")
			}
		}
	}
	b.ReportMetric(float64(b.N*len(decoded))/b.Elapsed().Seconds(), "tx/s")
}

// BenchmarkVerifyBatch verifies the same 1000 signatures as one batch, nothing else.
func BenchmarkVerifyBatch(b *testing.B) {
	_, _, decoded := benchChain(b)
	msgs := make([][]byte, len(decoded))
	for i, t := range decoded {
		msgs[i] = t.SignedMessage()
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bv := keys.NewBatchVerifier(len(decoded))
		for j, t := range decoded {
			bv.Add(t.Body.Signer, msgs[j], t.Signature)
		}
		if ok, _ := bv.Verify(); !ok {
			b.Fatal("invalid")
		}
	}
	b.ReportMetric(float64(b.N*len(decoded))/b.Elapsed().Seconds(), "tx/s")
}
