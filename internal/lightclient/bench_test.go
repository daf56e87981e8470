package lightclient_test

import (
	"fmt"
	"testing"

	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/lightclient"
	"github.com/cella-network/cella/internal/synth"
)

// BenchmarkHeaders measures header verification alone (headers/s) on a
// chain of empty blocks, in batches of 100 and 1000 headers (one commit per
// batch), against a baseline in the same run: CometBFT's VerifyCommitLight
// on the commit of every header, which is what verifying each header
// separately would cost in signatures.
func BenchmarkHeaders(b *testing.B) {
	const n = 2000
	for _, nv := range []int{1, 4, 100} {
		c, err := synth.New(synth.Config{Validators: synth.Validators(nv)})
		if err != nil {
			b.Fatal(err)
		}
		if err := c.AddBlocks(n, nil); err != nil {
			b.Fatal(err)
		}
		g := genesisState(b, c)
		for _, size := range []int{100, 1000} {
			b.Run(fmt.Sprintf("vals=%d/batch=%d", nv, size), func(b *testing.B) {
				sbs, err := c.Batches(1, n, size)
				if err != nil {
					b.Fatal(err)
				}
				bs := make([]lightclient.Batch, len(sbs))
				for i := range sbs {
					bs[i] = lcBatch(sbs[i])
				}
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					s := g
					for _, bt := range bs {
						if s, err = s.Verify(bt); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "headers/s")
				b.ReportMetric(0, "ns/op")
			})
		}
		b.Run(fmt.Sprintf("vals=%d/baseline-commit-per-header", nv), func(b *testing.B) {
			const m = 200
			commits := make([]*types.Commit, m+1)
			for h := int64(1); h <= m; h++ {
				commits[h] = c.Commit(h)
			}
			vals := c.ValidatorSet(1)
			id := c.GenesisDoc().ChainID
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for h := int64(1); h <= m; h++ {
					if err := vals.VerifyCommitLight(id, commits[h].BlockID, h, commits[h]); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(b.N*m)/b.Elapsed().Seconds(), "headers/s")
			b.ReportMetric(0, "ns/op")
		})
	}
}
