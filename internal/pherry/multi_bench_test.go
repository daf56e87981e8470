package pherry

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
)

// nullRuntime is a pRuntime that accepts every batch without verifying
// it, so that a benchmark measures pherry's own work (fetching, caching,
// encoding, scheduling), not the light client's.
type nullRuntime struct {
	*fakeRuntime
	mu     sync.Mutex
	gh     [32]byte
	init   bool
	header int64
}

func (n *nullRuntime) Init(context.Context, *pruntimev1.InitRequest) (*pruntimev1.InitResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.init = true
	return &pruntimev1.InitResponse{GenesisHash: n.gh[:]}, nil
}

func (n *nullRuntime) Sync(_ context.Context, req *pruntimev1.SyncRequest) (*pruntimev1.SyncResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.header += int64(len(req.Headers))
	return &pruntimev1.SyncResponse{HeaderHeight: n.header, AppliedHeight: max(n.header-1, 0)}, nil
}

func (n *nullRuntime) Info(context.Context, *pruntimev1.InfoRequest) (*pruntimev1.InfoResponse, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return &pruntimev1.InfoResponse{Initialized: n.init, HeaderHeight: n.header, Height: max(n.header-1, 0),
		GenesisHash: fmt.Sprintf("0x%x", n.gh)}, nil
}

func (n *nullRuntime) heightNow() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.header
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkMultiWorkers measures the CPU pherry spends catching up N
// workers (nullRuntime) from genesis to the tip of a synthetic chain of
// CELLA_BENCH_BLOCKS blocks (default 600; batch size 100): "shared" is
// one Multi (one fetch per block), "separate" N independent pherries over
// the same node (N fetches per block). It reports process CPU per run
// (cpu-ms/op, which includes the fake node's serving) and per worker.
func BenchmarkMultiWorkers(b *testing.B) {
	blocks := 600
	if v, err := strconv.Atoi(os.Getenv("CELLA_BENCH_BLOCKS")); err == nil && v > 0 {
		blocks = v
	}
	c := buildChain(b, blocks, 0, 0)
	for _, mode := range []string{"shared", "separate"} {
		for _, n := range []int{1, 2, 4, 8} {
			b.Run(fmt.Sprintf("%s/workers=%d", mode, n), func(b *testing.B) {
				var cpu time.Duration
				for i := 0; i < b.N; i++ {
					node := newFakeNode(c)
					node.recordsPerCall = 100
					rts := make([]*nullRuntime, n)
					for j := range rts {
						rts[j] = &nullRuntime{fakeRuntime: &fakeRuntime{}, gh: c.GenesisHash()}
					}
					ctx, cancel := context.WithCancel(context.Background())
					var wg sync.WaitGroup
					start := cpuTime(b)
					if mode == "shared" {
						cfg := MultiConfig{Config: Config{NodeURL: "http://127.0.0.1:1", Source: node, NoWebsocket: true, BatchSize: 100, PollInterval: time.Hour}}
						for j, rt := range rts {
							cfg.Workers = append(cfg.Workers, WorkerSpec{Name: fmt.Sprintf("w%d", j), Internal: rt, Public: rt})
						}
						m, err := NewMulti(cfg)
						if err != nil {
							b.Fatal(err)
						}
						wg.Add(1)
						go func() { defer wg.Done(); _ = m.Run(ctx) }()
					} else {
						for _, rt := range rts {
							p, err := New(Config{NodeURL: "http://127.0.0.1:1", Source: node, Internal: rt, Public: rt, NoWebsocket: true, BatchSize: 100, PollInterval: time.Hour})
							if err != nil {
								b.Fatal(err)
							}
							wg.Add(1)
							go func() { defer wg.Done(); _ = p.Run(ctx) }()
						}
					}
					for _, rt := range rts {
						for rt.heightNow() < c.Height() {
							time.Sleep(200 * time.Microsecond)
						}
					}
					cpu += cpuTime(b) - start
					cancel()
					wg.Wait()
				}
				b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N), "cpu-ms/op")
				b.ReportMetric(float64(cpu.Microseconds())/1e3/float64(b.N)/float64(n), "cpu-ms/worker")
			})
		}
	}
}
