package chainsync_test

import (
	"encoding/binary"
	"fmt"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
)

const (
	benchBlocks    = 1000
	benchTransfers = 100
	benchAccounts  = 1000
)

var (
	benchOnce  sync.Once
	benchChain *synth.Chain
	benchErr   error
)

// transferChain is built once per process: 1000 blocks of 100 transfers
// each, between 1000 funded accounts (each block has 100 distinct senders
// and 100 distinct recipients, so about 201 writes per block), 4 validators.
func transferChain(b *testing.B) *synth.Chain {
	b.Helper()
	benchOnce.Do(func() {
		vals := synth.Validators(4)
		g := synth.DevGenesis("cella-bench", vals)
		pairs := make([]*keys.Pair, benchAccounts)
		for i := range pairs {
			var seed [32]byte
			binary.LittleEndian.PutUint64(seed[:], uint64(i)+1)
			pairs[i] = keys.FromSeed(seed)
			g.App.Balances = append(g.App.Balances, state.Allocation{Account: pairs[i].Public(), Free: scale.U128From(1000 * state.Unit)})
		}
		c, err := synth.New(synth.Config{Validators: vals, Genesis: g})
		if err != nil {
			benchErr = err
			return
		}
		for h := 0; h < benchBlocks+1; h++ {
			txs := make([][]byte, 0, benchTransfers)
			if h < benchBlocks {
				for i := 0; i < benchTransfers; i++ {
					from := pairs[(h*benchTransfers+i)%benchAccounts]
					to := pairs[(h*benchTransfers+i+benchAccounts/2)%benchAccounts]
					tx, err := c.Transfer(from, to.Public(), state.Unit/100)
					if err != nil {
						benchErr = err
						return
					}
					txs = append(txs, tx)
				}
			}
			if _, err := c.AddBlock(txs...); err != nil {
				benchErr = err
				return
			}
		}
		benchChain = c
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchChain
}

func benchBatches(b *testing.B, c *synth.Chain, to int64, size int) []chainsync.Batch {
	b.Helper()
	sbs, err := c.Batches(1, to, size)
	if err != nil {
		b.Fatal(err)
	}
	out := make([]chainsync.Batch, len(sbs))
	for i, sb := range sbs {
		out[i] = toBatch(sb)
	}
	return out
}

// runSync verifies and applies headers 1..n+1 (blocks 1..n) per iteration,
// from a fresh syncer at genesis, and reports blocks/s.
func runSync(b *testing.B, c *synth.Chain, n int64, size int) {
	bs := benchBatches(b, c, n+1, size)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := newSyncer(b, c)
		b.StartTimer()
		for _, bt := range bs {
			if err := s.SyncBatch(bt); err != nil {
				b.Fatal(err)
			}
		}
		if s.Height() != n {
			b.Fatal(s.Height())
		}
	}
	b.ReportMetric(float64(int64(b.N)*n)/b.Elapsed().Seconds(), "blocks/s")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkSyncTransfers: verify + apply of blocks with 100 transfers each
// (about 201 writes), 4 validators, in batches of 100 and 1000 headers.
func BenchmarkSyncTransfers(b *testing.B) {
	c := transferChain(b)
	for _, size := range []int{100, 1000} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) { runSync(b, c, benchBlocks, size) })
	}
}

// BenchmarkSyncEmpty: verify + apply of empty blocks with 1, 4 and 100
// validators, in batches of 1000 (issue 4's target: ≥ 5,000 blocks/s with 1).
func BenchmarkSyncEmpty(b *testing.B) {
	for _, nv := range []int{1, 4, 100} {
		c, err := synth.New(synth.Config{Validators: synth.Validators(nv)})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.AddBlocks(5001, nil); err != nil {
			b.Fatal(err)
		}
		for _, size := range []int{100, 1000} {
			b.Run(fmt.Sprintf("vals=%d/batch=%d", nv, size), func(b *testing.B) { runSync(b, c, 5000, size) })
		}
	}
}
