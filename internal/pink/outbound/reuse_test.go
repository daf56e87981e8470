package outbound

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/cella-network/cella/internal/pink"
)

// TestKeepAliveOneHandshake: sequential requests to one host share one TCP
// connection and one TLS handshake, whatever the shape of each response
// (fixed length, chunked, empty, HEAD, a redirect, a request body), and
// speak HTTP/1.1. A response read short of its end, or a body not drained,
// would cost a new connection and handshake on the next request.
func TestKeepAliveOneHandshake(t *testing.T) {
	var conns, handshakes atomic.Int32
	var protos sync.Map
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		protos.Store(r.Proto, true)
		switch r.URL.Path {
		case "/fixed":
			fmt.Fprint(w, `{"symbol":"BTC","price":"64123.45"}`)
		case "/chunked":
			io.WriteString(w, "part one, ")
			w.(http.Flusher).Flush() // no Content-Length: chunked
			io.WriteString(w, "part two")
		case "/big-chunked":
			for i := 0; i < 5; i++ {
				w.Write(make([]byte, bodyChunk-7)) // across the reader's chunks
				w.(http.Flusher).Flush()
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/redirect":
			http.Redirect(w, r, "/fixed", http.StatusFound)
		case "/echo":
			io.Copy(w, r.Body)
		}
	}))
	srv.EnableHTTP2 = true // offered; the client must still speak HTTP/1.1
	srv.TLS = &tls.Config{GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
		handshakes.Add(1)
		return nil, nil
	}}
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()

	c := newClient(t, devConfig(srv))
	reqs := []pink.HTTPRequest{
		get(srv.URL + "/fixed"),
		get(srv.URL + "/chunked"),
		get(srv.URL + "/big-chunked"),
		get(srv.URL + "/empty"),
		{URL: srv.URL + "/fixed", Method: "HEAD"},
		get(srv.URL + "/redirect"),
		{URL: srv.URL + "/echo", Method: "POST", Body: []byte("a request body")},
	}
	const rounds = 3
	for i := 0; i < rounds; i++ {
		for _, req := range reqs {
			resp, err := c.Do(context.Background(), req)
			if err != nil {
				t.Fatalf("%s %s: %v", req.Method, req.URL, err)
			}
			if resp.StatusCode >= 300 {
				t.Fatalf("%s %s: status %d", req.Method, req.URL, resp.StatusCode)
			}
			if strings.HasSuffix(req.URL, "/echo") && string(resp.Body) != "a request body" {
				t.Fatalf("echo: %q", resp.Body)
			}
		}
	}
	if n, h := conns.Load(), handshakes.Load(); n != 1 || h != 1 {
		t.Fatalf("%d calls of Do made %d connections and %d TLS handshakes, want 1 and 1", rounds*len(reqs), n, h)
	}
	protos.Range(func(k, _ any) bool {
		if k != "HTTP/1.1" {
			t.Errorf("request over %v, want HTTP/1.1 only", k)
		}
		return true
	})
}
