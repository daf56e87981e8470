package loadgen_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/loadgen"
	"github.com/cella-network/cella/internal/nodetest"
)

// proxy forwards TCP connections to a node's RPC address. Its cut ends
// every connection, as a node process that stops does (an in-process
// node's RPC server keeps serving open keep-alive connections after Close).
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
}

func newProxy(t *testing.T, target string) *proxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target}
	go func() {
		for {
			in, err := l.Accept()
			if err != nil {
				return
			}
			out, err := net.Dial("tcp", p.target)
			if err != nil {
				_ = in.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, in, out)
			p.mu.Unlock()
			go func() { _, _ = io.Copy(out, in); _ = out.Close() }()
			go func() { _, _ = io.Copy(in, out); _ = in.Close() }()
		}
	}()
	t.Cleanup(func() { _ = l.Close(); p.cut() })
	return p
}

func (p *proxy) addr() string { return "tcp://" + p.l.Addr().String() }

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
	p.conns = nil
}

// TestNodeRestartMidRun restarts the node while the load generator sends.
// The node is stopped while its mempool holds accepted transfers, so they
// are lost: the senders must resync their nonces (the node answers
// future_nonce), the run must end normally rather than wait for a mempool
// that will never drain, and the summary must tell the outage and the loss.
func TestNodeRestartMidRun(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node for several seconds")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	// Slow blocks, so that the mempool holds transfers when the node stops.
	o := nodetest.Options(t)
	o.BlockTime = 500 * time.Millisecond
	n := nodetest.Start(t, home, o)
	px := newProxy(t, strings.TrimPrefix(o.RPCAddr, "tcp://"))
	c, err := client.New(px.addr())
	if err != nil {
		t.Fatal(err)
	}
	funder, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	type outcome struct {
		res *loadgen.Result
		err error
	}
	done := make(chan outcome, 1)
	go func() {
		r, err := loadgen.Run(ctx, c, loadgen.Config{Senders: 4, Workers: 2, Duration: 8 * time.Second, Funder: funder})
		done <- outcome{r, err}
	}()
	// Stop the node once its mempool holds the senders' transfers (the
	// funding transfers are committed before the load begins).
	for {
		mp, err := c.RPC().NumUnconfirmedTxs(ctx)
		if err == nil && mp.Total >= 20 {
			break
		}
		select {
		case o := <-done:
			t.Fatalf("the run ended before the restart: %+v %v", o.res, o.err)
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(5 * time.Millisecond):
		}
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	px.cut()
	time.Sleep(time.Second) // downtime; no assertion depends on its length
	nodetest.Start(t, home, o)
	out := <-done
	if out.err != nil {
		t.Fatalf("run: %v", out.err)
	}
	r := out.res
	t.Logf("%+v", *r)
	if r.Outages < 1 || r.DowntimeSeconds <= 0 {
		t.Errorf("outage not reported: %d outages, %.3fs", r.Outages, r.DowntimeSeconds)
	}
	if r.Resyncs < 1 || r.Lost < 1 {
		t.Errorf("the lost transfers were not reported: %d resyncs, %d lost", r.Resyncs, r.Lost)
	}
	if r.CommittedTxs < 1 || r.Accepted < r.Lost {
		t.Errorf("committed %d, accepted %d, lost %d", r.CommittedTxs, r.Accepted, r.Lost)
	}
}
