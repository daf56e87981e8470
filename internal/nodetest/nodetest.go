// Package nodetest starts in-process dev nodes for tests of the packages
// that drive a node (client, loadgen, devnet, cli, pherry, node's external
// tests): free loopback addresses, a dev home initialised once, a quiet
// logger, and a node closed when the test ends.
//
// It is for tests only; nothing outside _test.go files imports it.
package nodetest

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/tx"
)

// ChainID is the chain id of a home that Start initialises when the
// caller's node.InitOptions leave it empty.
const ChainID = "cella-test"

// Ports FreeAddr hands out: below Linux's ephemeral range (32768–60999),
// from which every outgoing connection of every process on the machine
// takes its local port. A port probed free there can be taken by a client
// socket of another test before the node binds it ("address already in
// use"); below it only listeners compete, and they probe too.
const (
	freeLo = 20000
	freeN  = 12000
)

var (
	freeMu   sync.Mutex
	freeNext = -1
	freeUsed = map[int]bool{}
)

// FreeAddr returns a loopback TCP address ("127.0.0.1:port") that was free
// when asked and that this process has not handed out before. Another
// process may take it before the caller listens; below the ephemeral range
// that is rare.
func FreeAddr(t testing.TB) string {
	t.Helper()
	freeMu.Lock()
	defer freeMu.Unlock()
	if freeNext < 0 {
		freeNext = int(time.Now().UnixNano()/1000) % freeN
	}
	for i := 0; i < freeN; i++ {
		p := freeLo + freeNext
		freeNext = (freeNext + 7919) % freeN // a prime step: every port once
		if freeUsed[p] {
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		freeUsed[p] = true
		return l.Addr().String()
	}
	t.Fatal("no free loopback port below the ephemeral range")
	return ""
}

// FreeURL returns "tcp://" + FreeAddr(t), the form CometBFT's listen
// addresses take.
func FreeURL(t testing.TB) string { return "tcp://" + FreeAddr(t) }

// Options returns the options of a fast dev node on one host: moniker
// "test", 20ms blocks, empty blocks on, free loopback RPC and P2P
// addresses. Callers change fields as they need.
func Options(t testing.TB) node.ConfigOptions {
	return node.ConfigOptions{
		Moniker: "test", BlockTime: 20 * time.Millisecond, EmptyBlocks: true,
		RPCAddr: FreeURL(t), P2PAddr: FreeURL(t), Loopback: true,
	}
}

// Log returns the nodes' logger: silent, or debug-level on standard error
// when the environment variable CELLA_TEST_LOG is set.
func Log() *slog.Logger {
	if os.Getenv("CELLA_TEST_LOG") != "" {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// Start starts a dev node from home with o. A home that is not initialised
// yet is first initialised from init (at most one; its Config is replaced by
// o, Dev is always set and ChainID defaults to ChainID). The node is closed
// when the test ends unless the test stopped it first; a test may close it
// itself (to check the error or to restart the same home).
//
// Start is for external test packages: node's own tests (package node)
// cannot import it.
func Start(t testing.TB, home string, o node.ConfigOptions, init ...node.InitOptions) *node.Node {
	t.Helper()
	if len(init) > 1 {
		t.Fatal("nodetest.Start: more than one node.InitOptions")
	}
	if !node.IsInitialised(home) {
		var opts node.InitOptions
		if len(init) == 1 {
			opts = init[0]
		}
		opts.Dev, opts.Config = true, o
		if opts.ChainID == "" {
			opts.ChainID = ChainID
		}
		if _, err := node.InitHome(home, opts); err != nil {
			t.Fatal(err)
		}
	}
	n, err := node.Start(node.NewConfig(home, o), Log())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// Close is not idempotent: a node the test closed is not running.
		// An error here is logged, not failed on: tests that care about
		// Close's error close the node themselves and check it.
		if n.Comet.IsRunning() {
			if err := n.Close(); err != nil {
				t.Logf("closing the node at cleanup: %v", err)
			}
		}
	})
	return n
}

// WaitFor polls cond every interval until it holds, and fails the test,
// naming what it waited for, when ctx ends first. The context's deadline is
// the only bound: tests assert no timing.
func WaitFor(ctx context.Context, t testing.TB, what string, every time.Duration, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(every):
		}
	}
}

// SubmitOK builds call signed by from, submits it, waits for its result
// and fails the test unless it executed OK.
func SubmitOK(ctx context.Context, t testing.TB, c *client.Client, from *keys.Pair, call tx.Call) *client.TxResult {
	t.Helper()
	x, err := c.Build(ctx, from, call, client.TxOptions{})
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.Submit(ctx, x)
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.Wait(ctx, h)
	if err != nil || !r.OK() {
		t.Fatalf("tx: %+v %v", r, err)
	}
	return r
}
