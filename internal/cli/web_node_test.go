package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
)

// TestNodeServesWebApp runs `cella node` with --web-addr: the app, its
// config (no worker unless --web-worker) and the node's RPC through /rpc.
func TestNodeServesWebApp(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	home := t.TempDir()
	rpc, p2p, webAddr := nodetest.FreeAddr(t), nodetest.FreeAddr(t), nodetest.FreeAddr(t)
	if _, err := node.InitHome(home, node.InitOptions{ChainID: "web-test", Dev: true, Config: node.ConfigOptions{
		BlockTime: 100 * time.Millisecond, EmptyBlocks: true, RPCAddr: "tcp://" + rpc, P2PAddr: "tcp://" + p2p, Loopback: true,
	}}); err != nil {
		t.Fatal(err)
	}
	runCtx, stop := context.WithCancel(ctx)
	root := newRootCmd()
	var out safeBuffer
	root.SetArgs([]string{"node", "--home", home, "--web-addr", webAddr, "--log-level", "error"})
	root.SetOut(&out)
	root.SetErr(&out)
	done := make(chan error, 1)
	go func() { done <- root.ExecuteContext(runCtx) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("cella node: %v\n%s", err, out.String())
		}
	}()

	base := "http://" + webAddr
	get := func(path string) (int, []byte) {
		res, err := http.Get(base + path)
		if err != nil {
			return 0, nil
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, b
	}
	waitFor(ctx, t, "the web app", func() bool { code, _ := get("/api/config"); return code == 200 })
	_, b := get("/api/config")
	var cfg struct{ RPC, Worker string }
	if err := json.Unmarshal(b, &cfg); err != nil || cfg.RPC != "rpc" || cfg.Worker != "" {
		t.Fatalf("config %s (%v): want rpc and no worker", b, err)
	}
	if code, b := get("/"); code != 200 || !strings.Contains(string(b), "app.js") {
		t.Fatalf("index: %d %q", code, b)
	}
	waitFor(ctx, t, "the node's RPC through /rpc", func() bool {
		res, err := http.Post(base+"/rpc", "application/json", bytes.NewReader([]byte(`{"jsonrpc":"2.0","id":1,"method":"status","params":{}}`)))
		if err != nil {
			return false
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode == 200 && strings.Contains(string(b), `"network":"web-test"`)
	})
	if code, _ := get("/worker/cella.pruntime.v1.Public/Info"); code == 200 {
		t.Error("a node without --web-worker proxies a worker")
	}
}

// TestDevWebAddrTaken: an explicit --web-addr that cannot be bound stops
// `cella dev` with an error (only the default port is optional).
func TestDevWebAddrTaken(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a dev network")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	root := newRootCmd()
	var out safeBuffer
	root.SetArgs([]string{"dev", "--home", t.TempDir(), "--rpc-addr", "tcp://" + nodetest.FreeAddr(t), "--p2p-addr", "tcp://" + nodetest.FreeAddr(t),
		"--pruntime-addr", nodetest.FreeAddr(t), "--metrics-addr", "", "--log-level", "error", "--web-addr", ln.Addr().String()})
	root.SetOut(&out)
	root.SetErr(&out)
	err = root.ExecuteContext(ctx)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("cella dev with a taken --web-addr: %v\n%s", err, out.String())
	}
}
