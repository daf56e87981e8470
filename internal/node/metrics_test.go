package node_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/nodetest"
)

// TestMetricsServer: the node's Prometheus metrics are served by our own
// listener (internal/httpserve: timeouts, connection cap; CometBFT's has
// neither) at the configured address, and the listener is gone after Close.
func TestMetricsServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	o := nodetest.Options(t)
	o.Prometheus = nodetest.FreeAddr(t)
	n, c := startDev(t, t.TempDir(), o)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	waitHeight(ctx, t, c, 2)
	if n.MetricsAddr() != o.Prometheus {
		t.Fatalf("metrics at %q, want %q", n.MetricsAddr(), o.Prometheus)
	}
	res, err := http.Get("http://" + o.Prometheus + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(b), "cometbft_consensus_height") {
		t.Fatalf("no consensus metrics in:\n%.500s", b)
	}
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", o.Prometheus); err == nil {
		c.Close()
		t.Fatal("the metrics listener is still open after Close")
	}
}
