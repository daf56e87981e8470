package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/state/modules"
)

// upstream records what reached it and answers with body.
type upstream struct {
	path, method, origin string
	got                  []byte
	body                 []byte
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.path, u.method, u.origin = r.URL.Path, r.Method, r.Header.Get("Origin")
	u.got, _ = io.ReadAll(r.Body)
	w.Header().Set("Access-Control-Allow-Origin", "*")
	_, _ = w.Write(u.body)
}

func newTestServer(t *testing.T, worker bool) (*httptest.Server, *upstream, *upstream) {
	t.Helper()
	node := &upstream{body: []byte(`{"jsonrpc":"2.0","id":1,"result":{}}`)}
	wk := &upstream{body: []byte("worker answer")}
	ns, ws := httptest.NewServer(node), httptest.NewServer(wk)
	t.Cleanup(ns.Close)
	t.Cleanup(ws.Close)
	cfg := Config{NodeRPC: ns.URL, Version: "test", Calls: CallNames(modules.Runtimes()), LoopbackOnly: true}
	if worker {
		cfg.Worker = ws.URL
	}
	h, err := Handler(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s, node, wk
}

func do(t *testing.T, method, url string, body []byte, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		if k == "Host" {
			req.Host = v
		} else {
			req.Header.Set(k, v)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, b
}

func TestBuiltAppIsEmbedded(t *testing.T) {
	if !Built() {
		t.Fatal("dist holds no build: run go generate ./internal/web")
	}
	s, _, _ := newTestServer(t, true)
	res, b := do(t, "GET", s.URL+"/", nil, nil)
	if res.StatusCode != 200 || !strings.Contains(string(b), `src="app.js"`) {
		t.Fatalf("GET /: %d %q", res.StatusCode, b)
	}
	for k, want := range map[string]string{
		"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
	} {
		if got := res.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("index content type %q", ct)
	}
	res, _ = do(t, "GET", s.URL+"/app.js", nil, nil)
	if ct := res.Header.Get("Content-Type"); res.StatusCode != 200 || !strings.Contains(ct, "javascript") {
		t.Errorf("app.js: %d %q", res.StatusCode, ct)
	}
	if res, _ := do(t, "POST", s.URL+"/", nil, nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d", res.StatusCode)
	}
}

func TestConfig(t *testing.T) {
	for _, worker := range []bool{true, false} {
		s, _, _ := newTestServer(t, worker)
		res, b := do(t, "GET", s.URL+"/api/config", nil, nil)
		var c struct {
			RPC, Worker, Version string
			Calls                map[string]string
		}
		if err := json.Unmarshal(b, &c); err != nil || res.StatusCode != 200 {
			t.Fatalf("config: %d %q %v", res.StatusCode, b, err)
		}
		wantWorker := ""
		if worker {
			wantWorker = "worker"
		}
		if c.RPC != "rpc" || c.Worker != wantWorker || c.Version != "test" {
			t.Errorf("config %+v (worker %v)", c, worker)
		}
		if c.Calls["1.0"] != "balances.transfer" || c.Calls["7.5"] != "phat.push_command" {
			t.Errorf("calls %v", c.Calls)
		}
	}
}

func TestRPCProxy(t *testing.T) {
	s, node, _ := newTestServer(t, true)
	req := []byte(`{"jsonrpc":"2.0","id":1,"method":"status","params":{}}`)
	res, b := do(t, "POST", s.URL+"/rpc", req, map[string]string{"Content-Type": "application/json", "Origin": s.URL})
	if res.StatusCode != 200 || !bytes.Equal(b, node.body) || !bytes.Equal(node.got, req) || node.path != "/" {
		t.Fatalf("POST /rpc: %d %q; node saw %s %q", res.StatusCode, b, node.path, node.got)
	}
	if node.origin != "" {
		t.Errorf("the node saw Origin %q", node.origin)
	}
	if res.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("the upstream's CORS header was relayed")
	}
	if res, _ := do(t, "POST", s.URL+"/rpc/", req, nil); res.StatusCode != 200 {
		t.Errorf("POST /rpc/: %d", res.StatusCode)
	}
	const txSearch = `{"jsonrpc":"2.0","id":1,"method":"tx_search","params":%s}`
	for _, c := range []struct {
		name, method, path, body string
		want                     int
	}{
		{"GET (URI form)", "GET", "/rpc/status", "", http.StatusMethodNotAllowed},
		{"PUT", "PUT", "/rpc", string(req), http.StatusMethodNotAllowed},
		{"a path under /rpc", "POST", "/rpc/status", string(req), http.StatusNotFound},
		{"websocket path", "POST", "/rpc/websocket", string(req), http.StatusNotFound},
		{"unsafe method", "POST", "/rpc", `{"jsonrpc":"2.0","id":1,"method":"unsafe_flush_mempool","params":{}}`, http.StatusForbidden},
		{"broadcast_tx_commit", "POST", "/rpc", `{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_commit","params":{}}`, http.StatusForbidden},
		{"subscribe", "POST", "/rpc", `{"jsonrpc":"2.0","id":1,"method":"subscribe","params":{}}`, http.StatusForbidden},
		{"batch", "POST", "/rpc", `[` + string(req) + `]`, http.StatusBadRequest},
		{"not JSON", "POST", "/rpc", "status", http.StatusBadRequest},
		{"tx_search: a range", "POST", "/rpc", fmt.Sprintf(txSearch, `{"query":"tx.height>0"}`), http.StatusForbidden},
		{"tx_search: two conditions", "POST", "/rpc", fmt.Sprintf(txSearch, `{"query":"tx.signer='0x01' AND tx.height>1"}`), http.StatusForbidden},
		{"tx_search: EXISTS", "POST", "/rpc", fmt.Sprintf(txSearch, `{"query":"tx.signer EXISTS"}`), http.StatusForbidden},
		{"tx_search: CONTAINS", "POST", "/rpc", fmt.Sprintf(txSearch, `{"query":"tx.signer CONTAINS '0x'"}`), http.StatusForbidden},
		{"tx_search: no query", "POST", "/rpc", fmt.Sprintf(txSearch, `{}`), http.StatusForbidden},
		{"tx_search: positional", "POST", "/rpc", fmt.Sprintf(txSearch, `["tx.signer='0x01'"]`), http.StatusForbidden},
		{"tx_search: per_page 101", "POST", "/rpc", fmt.Sprintf(txSearch, `{"query":"tx.signer='0x01'","per_page":"101"}`), http.StatusForbidden},
		{"tx_search: per_page 0", "POST", "/rpc", fmt.Sprintf(txSearch, `{"query":"tx.signer='0x01'","per_page":0}`), http.StatusForbidden},
	} {
		node.got = nil
		res, _ := do(t, c.method, s.URL+c.path, []byte(c.body), nil)
		if res.StatusCode != c.want || node.got != nil {
			t.Errorf("%s: %d (want %d), node got %q", c.name, res.StatusCode, c.want, node.got)
		}
	}
	// The queries the app and the SDKs send pass.
	for _, params := range []string{
		`{"query":"tx.signer='0x` + strings.Repeat("ab", 32) + `'","prove":false,"page":"2","per_page":"50","order_by":"desc"}`,
		`{"query":"contract_outcome.command_id='0x01'","prove":false,"order_by":"asc"}`,
		`{"query":"tx.signer='0x01'","per_page":100}`,
	} {
		node.got = nil
		body := []byte(fmt.Sprintf(txSearch, params))
		if res, _ := do(t, "POST", s.URL+"/rpc", body, nil); res.StatusCode != 200 || !bytes.Equal(node.got, body) {
			t.Errorf("tx_search %s: %d, node got %q", params, res.StatusCode, node.got)
		}
	}
	for m := range RPCMethods {
		node.got = nil
		params := `{}`
		if m == "tx_search" {
			params = `{"query":"tx.signer='0x01'"}`
		}
		body := []byte(`{"jsonrpc":"2.0","id":1,"method":"` + m + `","params":` + params + `}`)
		if res, _ := do(t, "POST", s.URL+"/rpc", body, nil); res.StatusCode != 200 || !bytes.Equal(node.got, body) {
			t.Errorf("%s: %d, node got %q", m, res.StatusCode, node.got)
		}
	}
	big := bytes.Repeat([]byte("a"), MaxRPCRequest+1)
	node.got = nil
	if res, _ := do(t, "POST", s.URL+"/rpc", big, nil); res.StatusCode != http.StatusRequestEntityTooLarge || node.got != nil {
		t.Errorf("oversized body: %d, node got %d bytes", res.StatusCode, len(node.got))
	}
}

func TestWorkerProxy(t *testing.T) {
	s, _, wk := newTestServer(t, true)
	res, b := do(t, "POST", s.URL+"/worker/cella.pruntime.v1.Public/Query", []byte("sealed"), map[string]string{"Content-Type": "application/proto"})
	if res.StatusCode != 200 || string(b) != "worker answer" || wk.path != "/cella.pruntime.v1.Public/Query" || string(wk.got) != "sealed" {
		t.Fatalf("query: %d %q; worker saw %s %q", res.StatusCode, b, wk.path, wk.got)
	}
	if res, _ := do(t, "POST", s.URL+"/worker/prpc/PhactoryAPI.ContractQuery", nil, nil); res.StatusCode != 200 {
		t.Errorf("pRPC ContractQuery: %d", res.StatusCode)
	}
	wk.path = ""
	for _, p := range []string{"/worker/metrics", "/worker/cella.pruntime.v1.Internal/Sync", "/worker/"} {
		res, _ := do(t, "POST", s.URL+p, nil, nil)
		if wk.path != "" || res.StatusCode == 200 {
			t.Errorf("%s reached the worker (%s) or answered %d", p, wk.path, res.StatusCode)
		}
	}
	if res, _ := do(t, "GET", s.URL+"/worker/cella.pruntime.v1.Public/Info", nil, nil); res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("GET worker: %d", res.StatusCode)
	}
	big := bytes.Repeat([]byte("a"), MaxWorkerRequest+1)
	if res, _ := do(t, "POST", s.URL+"/worker/cella.pruntime.v1.Public/Query", big, nil); res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized worker body: %d", res.StatusCode)
	}

	s2, _, _ := newTestServer(t, false)
	if res, _ := do(t, "POST", s2.URL+"/worker/cella.pruntime.v1.Public/Query", nil, nil); res.StatusCode == 200 {
		t.Error("a server without a worker proxied to one")
	}
}

func TestOversizedUpstreamAnswer(t *testing.T) {
	big := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for i := 0; i < MaxWorkerResponse>>20+2; i++ {
			if _, err := w.Write(chunk); err != nil {
				return
			}
			w.(http.Flusher).Flush() // chunked: no Content-Length to refuse early
		}
	}))
	defer big.Close()
	h, err := Handler(Config{NodeRPC: big.URL, Worker: big.URL})
	if err != nil {
		t.Fatal(err)
	}
	s := httptest.NewServer(h)
	defer s.Close()
	req, _ := http.NewRequest("POST", s.URL+"/worker/cella.pruntime.v1.Public/Query", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if err == nil || n > MaxWorkerResponse {
		t.Fatalf("relayed %d bytes (err %v), limit %d", n, err, MaxWorkerResponse)
	}
}

func TestRequestGuards(t *testing.T) {
	s, node, _ := newTestServer(t, true)
	req := []byte(`{"jsonrpc":"2.0","id":1,"method":"broadcast_tx_sync","params":{}}`)
	cases := []struct {
		name string
		hdr  map[string]string
		want int
	}{
		{"same origin", map[string]string{"Origin": s.URL}, 200},
		{"no origin (curl)", nil, 200},
		{"other origin", map[string]string{"Origin": "https://evil.example"}, http.StatusForbidden},
		{"cross-site fetch", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
		{"opaque origin (sandboxed page)", map[string]string{"Origin": "null"}, http.StatusForbidden},
		{"same origin, other port", map[string]string{"Origin": "http://127.0.0.1:1"}, http.StatusForbidden},
		{"rebound host name", map[string]string{"Host": "evil.example:26680"}, http.StatusMisdirectedRequest},
		{"localhost", map[string]string{"Host": "localhost:26680", "Origin": "http://localhost:26680"}, 200},
		{"ipv6 loopback", map[string]string{"Host": "[::1]:26680"}, 200},
	}
	for _, c := range cases {
		node.got = nil
		res, _ := do(t, "POST", s.URL+"/rpc", req, c.hdr)
		if res.StatusCode != c.want {
			t.Errorf("%s: %d, want %d", c.name, res.StatusCode, c.want)
		}
		if c.want != 200 && node.got != nil {
			t.Errorf("%s: the request reached the node", c.name)
		}
		if res.Header.Get("Content-Security-Policy") != CSP {
			t.Errorf("%s: no CSP on the answer", c.name)
		}
	}
}

func TestBadUpstreams(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:26657", "ftp://x", "http://x/path", "http://x?q=1", "http://"} {
		if _, err := Handler(Config{NodeRPC: u}); err == nil {
			t.Errorf("node RPC %q accepted", u)
		}
		if _, err := Handler(Config{NodeRPC: "http://127.0.0.1:1", Worker: u}); err == nil && u != "" {
			t.Errorf("worker %q accepted", u)
		}
	}
}

func TestUnreachableUpstream(t *testing.T) {
	h, err := Handler(Config{NodeRPC: "http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("POST", "http://127.0.0.1/rpc", strings.NewReader(`{"method":"status"}`)))
	if rec.Code != http.StatusBadGateway {
		t.Fatalf("unreachable node: %d %s", rec.Code, rec.Body)
	}
}

func TestIsLoopbackHost(t *testing.T) {
	for h, want := range map[string]bool{
		"localhost": true, "LOCALHOST:1": true, "127.0.0.1:26680": true, "127.1.2.3": true, "[::1]:80": true, "::1": true,
		"example.com": false, "10.0.0.1:80": false, "localhost.evil.example": false, "": false,
	} {
		if got := isLoopbackHost(h); got != want {
			t.Errorf("%q: %v", h, got)
		}
	}
}

// TestLimitedBody checks the answer bound at its edge: exactly the limit
// passes whole, one byte more fails (regression: the limit itself failed).
func TestLimitedBody(t *testing.T) {
	const limit = 1000
	for _, c := range []struct {
		size int
		ok   bool
	}{{0, true}, {limit - 1, true}, {limit, true}, {limit + 1, false}, {3 * limit, false}} {
		lb := &limitedBody{r: io.NopCloser(bytes.NewReader(bytes.Repeat([]byte("x"), c.size))), left: limit}
		b, err := io.ReadAll(lb)
		if c.ok && (err != nil || len(b) != c.size) {
			t.Errorf("%d bytes: read %d, %v", c.size, len(b), err)
		}
		if !c.ok && (err == nil || len(b) > limit) {
			t.Errorf("%d bytes: read %d, %v; want an error after at most %d", c.size, len(b), err, limit)
		}
	}
}
