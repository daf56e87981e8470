package client

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"

	"github.com/gorilla/websocket"
)

// endless answers every request with a JSON body that never ends, as a
// hostile node would, until the client hangs up.
func endless(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"jsonrpc":"2.0","id":-1,"result":{"response":{"value":"`))
	chunk := []byte(strings.Repeat("QUFB", 16<<10))
	// "Endless": 256 MiB, eight times the limit, so that a client without
	// the limit fails this test rather than running out of memory.
	for sent := 0; sent < 256<<20 && r.Context().Err() == nil; sent += len(chunk) {
		if _, err := w.Write(chunk); err != nil {
			return
		}
	}
}

func heapInuse() (inuse, total uint64) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse, m.TotalAlloc
}

// TestEndlessAnswer: a node streaming an endless answer makes every call
// fail with the limit named, having read no more than the limit.
func TestEndlessAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(endless))
	defer srv.Close()
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	calls := []struct {
		name string
		call func() error
	}{
		{"abci_query", func() error { _, err := c.ChainInfo(ctx); return err }},
		{"status", func() error { _, err := c.Status(ctx); return err }},
		{"blockchain", func() error { _, err := c.RPC().BlockchainInfo(ctx, 1, 20); return err }},
	}
	for _, x := range calls {
		inuse0, total0 := heapInuse()
		err := x.call()
		inuse1, total1 := heapInuse()
		if !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "32 MiB") {
			t.Errorf("%s: %v, want the response limit", x.name, err)
		}
		// Reading up to the limit (32 MiB) into a growing buffer allocates
		// a few times the limit; reading the whole 256 MiB answer would
		// allocate twice that at least.
		if d := total1 - total0; d > 200<<20 {
			t.Errorf("%s: allocated %d MiB for a refused answer", x.name, d>>20)
		}
		if inuse1 > inuse0+64<<20 {
			t.Errorf("%s: heap in use grew from %d to %d MiB", x.name, inuse0>>20, inuse1>>20)
		}
		t.Logf("%s: allocated %d MiB, heap in use %d → %d MiB", x.name, (total1-total0)>>20, inuse0>>20, inuse1>>20)
	}
}

// TestAnnouncedLength: an answer announcing more than the limit is refused
// before its body is read.
func TestAnnouncedLength(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000000000")
		w.WriteHeader(http.StatusOK)
	}))
	defer srv.Close()
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Status(context.Background()); !errors.Is(err, ErrResponseTooLarge) || !strings.Contains(err.Error(), "announced 1000000000") {
		t.Fatalf("got %v", err)
	}
}

// TestLimitedBodyExact: an answer of exactly the limit passes whole; one
// byte more fails.
func TestLimitedBodyExact(t *testing.T) {
	for _, x := range []struct {
		n    int
		fail bool
	}{{99, false}, {100, false}, {101, true}, {5000, true}} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Transfer-Encoding", "chunked") // no length announced
			_, _ = w.Write([]byte(strings.Repeat("x", x.n)))
		}))
		hc, err := newHTTPClient(srv.URL, 100)
		if err != nil {
			t.Fatal(err)
		}
		res, err := hc.Get(srv.URL)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		_, err = b.ReadFrom(res.Body)
		_ = res.Body.Close()
		srv.Close()
		if x.fail != errors.Is(err, ErrResponseTooLarge) || !x.fail && (err != nil || b.Len() != x.n) {
			t.Errorf("%d bytes: read %d, %v", x.n, b.Len(), err)
		}
	}
}

func TestDialTarget(t *testing.T) {
	for _, x := range []struct{ in, network, addr, ws string }{
		{"http://127.0.0.1:26657", "tcp", "127.0.0.1:26657", "ws://127.0.0.1:26657/websocket"},
		{"tcp://node:1", "tcp", "node:1", "ws://node:1/websocket"},
		{"https://node.example", "tcp", "node.example:443", "wss://node.example/websocket"},
		{"http://u:p@node/rpc", "tcp", "node:80", "ws://u:p@node/websocket"},
		{"unix:///tmp/n.sock", "unix", "/tmp/n.sock", "ws://localhost/websocket"},
	} {
		n, a, err := dialTarget(x.in)
		ws, err2 := wsURL(x.in)
		if err != nil || err2 != nil || n != x.network || a != x.addr || ws != x.ws {
			t.Errorf("%s: %s %s %s %v %v", x.in, n, a, ws, err, err2)
		}
	}
	if _, _, err := dialTarget("ftp://x"); err == nil {
		t.Error("ftp accepted")
	}
}

// wsServer upgrades and acknowledges a subscription, then runs then.
func wsServer(t *testing.T, then func(*websocket.Conn)) *httptest.Server {
	up := websocket.Upgrader{}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		if _, _, err := conn.ReadMessage(); err != nil {
			return
		}
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`))
		then(conn)
	}))
}

// TestSubscriptionEndlessMessage: a websocket message that never ends
// ends the subscription with the limit named, memory bounded.
func TestSubscriptionEndlessMessage(t *testing.T) {
	srv := wsServer(t, func(conn *websocket.Conn) {
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"result":{"query":"q","data":{"type":"x"}}}`))
		w, err := conn.NextWriter(websocket.TextMessage)
		if err != nil {
			return
		}
		chunk := []byte(strings.Repeat("A", 64<<10))
		for {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	defer srv.Close()
	c, err := New(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	_, total0 := heapInuse()
	sub, err := c.Subscribe(context.Background(), "tm.event='NewBlockHeader'")
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	n := 0
	for range sub.Events() {
		n++
	}
	if n != 1 {
		t.Errorf("%d events, want 1", n)
	}
	if err := sub.Err(); !errors.Is(err, ErrResponseTooLarge) {
		t.Fatalf("subscription ended with %v", err)
	}
	if _, total1 := heapInuse(); total1-total0 > 200<<20 {
		t.Errorf("allocated %d MiB", (total1-total0)>>20)
	}
}

// TestSubscriptionRefused: an error answer to the subscription is an
// error of Subscribe.
func TestSubscriptionRefused(t *testing.T) {
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		_, _, _ = conn.ReadMessage()
		_ = conn.WriteMessage(websocket.TextMessage, []byte(`{"jsonrpc":"2.0","id":1,"error":{"code":-32603,"message":"Internal error","data":"max_subscriptions_per_client reached"}}`))
	}))
	defer srv.Close()
	c, _ := New(srv.URL)
	if _, err := c.Subscribe(context.Background(), "q"); err == nil || !strings.Contains(err.Error(), "max_subscriptions") {
		t.Fatalf("got %v", err)
	}
}
