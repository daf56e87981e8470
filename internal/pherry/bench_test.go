package pherry

import (
	"context"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	devtee "github.com/cella-network/cella/internal/tee/dev"
)

// BenchmarkCatchUp measures catch-up through a real dev node: a chain of
// CELLA_BENCH_BLOCKS empty blocks (default 2,000) is made once, the node
// is restarted with empty blocks off so that the chain stands still, and
// each iteration syncs a fresh pRuntime (dev TEE, over HTTP) from genesis
// to the tip with the default batch size. It reports blocks/s.
func BenchmarkCatchUp(b *testing.B) {
	blocks := int64(2000)
	if v, err := strconv.ParseInt(os.Getenv("CELLA_BENCH_BLOCKS"), 10, 64); err == nil && v > 0 {
		blocks = v
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	// CELLA_BENCH_HOME keeps the chain between runs.
	home := os.Getenv("CELLA_BENCH_HOME")
	if home == "" {
		home = b.TempDir()
	}
	o := nodetest.Options(b)
	o.Moniker, o.BlockTime = "bench", time.Millisecond
	n := nodetest.Start(b, home, o, node.InitOptions{ChainID: "cella-bench"})
	c, err := client.New(o.RPCAddr)
	if err != nil {
		b.Fatal(err)
	}
	for {
		st, err := c.Status(ctx)
		if err == nil && st.SyncInfo.LatestBlockHeight >= blocks {
			break
		}
		if ctx.Err() != nil {
			b.Fatal(ctx.Err())
		}
		time.Sleep(50 * time.Millisecond)
	}
	n.Close()
	o.EmptyBlocks = false
	nodetest.Start(b, home, o)
	if c, err = client.New(o.RPCAddr); err != nil {
		b.Fatal(err)
	}
	// Let the restarted node settle (WAL replay, the one block it may
	// still make) before measuring.
	var tip int64
	for stable := 0; stable < 3; {
		time.Sleep(300 * time.Millisecond)
		st, err := c.Status(ctx)
		if err != nil {
			if ctx.Err() != nil {
				b.Fatal(ctx.Err())
			}
			continue
		}
		if h := st.SyncInfo.LatestBlockHeight; h == tip {
			stable++
		} else {
			tip, stable = h, 0
		}
	}

	b.ResetTimer()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		dir := b.TempDir()
		prov, err := devtee.New(devtee.Config{BuildID: pruntime.DevBuildID(), SealDir: dir, Log: nodetest.Log()})
		if err != nil {
			b.Fatal(err)
		}
		rt, err := pruntime.Open(pruntime.Config{DataDir: dir, TEE: prov, Log: nodetest.Log()})
		if err != nil {
			b.Fatal(err)
		}
		tok, err := pruntime.LoadOrCreateToken(dir)
		if err != nil {
			b.Fatal(err)
		}
		srv := httptest.NewServer(pruntime.PublicHandler(rt))
		isrv := httptest.NewServer(pruntime.InternalHandler(rt, tok))
		pub := pruntimev1connect.NewPublicClient(srv.Client(), srv.URL)
		p, err := New(Config{NodeURL: o.RPCAddr, PublicURL: srv.URL, InternalURL: isrv.URL, Token: tok, Log: nodetest.Log(), NoWebsocket: true})
		if err != nil {
			b.Fatal(err)
		}
		rctx, stop := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.StartTimer()
		start := time.Now()
		go func() { done <- p.Run(rctx) }()
		for {
			in, err := pub.Info(ctx, &pruntimev1.InfoRequest{})
			if err == nil && in.HeaderHeight >= tip {
				break
			}
			if ctx.Err() != nil {
				b.Fatal(ctx.Err())
			}
			time.Sleep(time.Millisecond)
		}
		total += time.Since(start)
		b.StopTimer()
		stop()
		<-done
		srv.Close()
		isrv.Close()
	}
	b.ReportMetric(float64(tip)*float64(b.N)/total.Seconds(), "blocks/s")
	b.ReportMetric(float64(tip), "blocks")
}
