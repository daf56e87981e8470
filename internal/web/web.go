// Package web serves Cella's web app (an explorer and a contract UI, built
// from web/ into dist and embedded here) and the two things the browser
// cannot reach on its own: neither CometBFT's RPC nor pRuntime's public API
// answers CORS, so the app talks to them through this server, which
// reverse-proxies /rpc to the node and /worker to one worker's public API,
// with bounded bodies and timeouts. /api/config tells the app those paths
// and the chain's call names.
//
// The built app is committed (see RATIONALE.md, "Web app"), so that a
// machine with only Go builds a cella that serves it; `go generate
// ./internal/web` rebuilds it with npm.
package web

//go:generate sh -c "cd ../../web && npm ci --no-audit --no-fund --loglevel=error && npm run build"

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/cella-network/cella/internal/httpserve"
	"github.com/cella-network/cella/internal/state"
)

//go:embed dist
var dist embed.FS

// DefaultAddr is where `cella dev` and `cella node` serve the app unless
// --web-addr says otherwise.
const DefaultAddr = "127.0.0.1:26680"

// Limits of the proxies.
const (
	// MaxRPCRequest bounds a request body to the node: a transaction of
	// tx.MaxTxBytes (4 MiB) is about 5.6 MB as base64 in JSON.
	MaxRPCRequest = 8 << 20
	// MaxRPCResponse bounds what the proxy relays back from the node.
	MaxRPCResponse = 32 << 20
	// MaxWorkerRequest bounds a request body to the worker (a sealed
	// query carries a contract message of at most 1 MiB).
	MaxWorkerRequest = 4 << 20
	// MaxWorkerResponse bounds what the proxy relays back from the worker.
	MaxWorkerResponse = 4 << 20
	// UpstreamTimeout bounds one proxied exchange with the node or worker,
	// up to the response headers.
	UpstreamTimeout = 60 * time.Second
)

// CSP is the Content-Security-Policy of every response: scripts from this
// origin only (and WebAssembly, for the sr25519 and blake2 code the SDK
// runs), connections to this origin only, no frames, no plugins.
const CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// Config says what the server serves.
type Config struct {
	// NodeRPC is the node's CometBFT RPC URL (http://host:port); required.
	NodeRPC string
	// Worker is a worker's public API URL (http://host:port); empty serves
	// no /worker proxy, and the contract UI cannot query.
	Worker string
	// Version is shown by the app.
	Version string
	// Calls names the chain's calls by "module.method" indices (see
	// CallNames).
	Calls map[string]string
	// LoopbackOnly accepts only requests whose Host is a loopback name or
	// address (against DNS rebinding); set it when listening on loopback.
	LoopbackOnly bool
	// Log receives proxy errors (default: discarded).
	Log *slog.Logger
}

// CallNames returns the names ("balances.transfer") of every call of the
// chain's runtime at the highest app version in rs, keyed "module.method"
// by index.
func CallNames(rs state.Runtimes) map[string]string {
	var top uint64
	for v := range rs {
		top = max(top, v)
	}
	out := map[string]string{}
	rt := rs[top]
	if rt == nil {
		return out
	}
	for mi, mod := range rt.Modules {
		if mod == nil {
			continue
		}
		for ci, m := range mod.Methods {
			if m != nil {
				out[fmt.Sprintf("%d.%d", mi, ci)] = mod.Name + "." + m.Name
			}
		}
	}
	return out
}

// Built reports whether the embedded app is a real build (dist/BUILD
// exists), not an empty placeholder.
func Built() bool {
	_, err := fs.Stat(dist, "dist/BUILD")
	return err == nil
}

// Handler returns the app's HTTP handler.
func Handler(cfg Config) (http.Handler, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	node, err := parseUpstream(cfg.NodeRPC)
	if err != nil {
		return nil, fmt.Errorf("web: node RPC: %w", err)
	}
	static, err := fs.Sub(dist, "dist")
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	conf := map[string]any{"rpc": "rpc", "worker": "", "calls": cfg.Calls, "version": cfg.Version}
	rpc := limitBody(MaxRPCRequest, onlyRPCMethods(proxy(node, "/rpc", MaxRPCResponse, cfg.Log)), http.MethodPost)
	mux.Handle("/rpc", rpc)
	mux.Handle("/rpc/", rpc)
	if cfg.Worker != "" {
		w, err := parseUpstream(cfg.Worker)
		if err != nil {
			return nil, fmt.Errorf("web: worker: %w", err)
		}
		conf["worker"] = "worker"
		wp := limitBody(MaxWorkerRequest, proxy(w, "/worker", MaxWorkerResponse, cfg.Log), http.MethodPost)
		// Only the worker's public service: nothing else of its listener
		// (metrics, health) is the browser's business.
		mux.Handle("/worker/cella.pruntime.v1.Public/", wp)
		mux.Handle("/worker/prpc/PhactoryAPI.ContractQuery", wp)
	}
	confJSON, err := json.Marshal(conf)
	if err != nil {
		return nil, err
	}
	mux.HandleFunc("GET /api/config", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(confJSON)
	})
	files := http.FileServerFS(static)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "web: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		w.Header().Set("Cache-Control", "no-cache")
		files.ServeHTTP(w, r)
	})
	return guard(cfg.LoopbackOnly, mux), nil
}

// guard sets the security headers of every response and refuses requests
// from other origins (a browser's Origin header naming another host) and,
// with loopbackOnly, requests for a Host that is not a loopback name.
func guard(loopbackOnly bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", CSP)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		// same-origin, not no-referrer: under no-referrer a browser sends
		// "Origin: null" on the app's own POSTs, which could then not be
		// told from a sandboxed page's.
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		if loopbackOnly && !isLoopbackHost(r.Host) {
			http.Error(w, "web: this server answers only to localhost, 127.0.0.1 or [::1]", http.StatusMisdirectedRequest)
			return
		}
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || u.Host != r.Host {
				http.Error(w, "web: cross-origin request refused", http.StatusForbidden)
				return
			}
		}
		if s := r.Header.Get("Sec-Fetch-Site"); s == "cross-site" || s == "same-site" {
			http.Error(w, "web: cross-site request refused", http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func isLoopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func parseUpstream(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q is not an http(s)://host:port URL", s)
	}
	if u.Path != "" && u.Path != "/" || u.RawQuery != "" {
		return nil, fmt.Errorf("%q: give the origin only, without a path", s)
	}
	return u, nil
}

// limitBody admits only the given methods and bounds the request body.
func limitBody(max int64, next http.Handler, methods ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ok := false
		for _, m := range methods {
			ok = ok || r.Method == m
		}
		if !ok {
			w.Header().Set("Allow", strings.Join(methods, ", "))
			http.Error(w, "web: method not allowed", http.StatusMethodNotAllowed)
			return
		}
		if r.ContentLength > max {
			http.Error(w, fmt.Sprintf("web: request body over %d bytes", max), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, max)
		next.ServeHTTP(w, r)
	})
}

// RPCMethods are the CometBFT JSON-RPC methods the /rpc proxy passes on:
// what the app and the SDK read and send. The rest (broadcast_tx_commit,
// which holds a connection per transaction, subscriptions, consensus
// dumps, net_info, genesis, unsafe_*) stay on the node's own listener, so
// that serving the app on a public address does not publish the whole RPC.
var RPCMethods = map[string]bool{
	"health": true, "status": true, "abci_info": true, "abci_query": true,
	"blockchain": true, "block": true, "block_by_hash": true, "block_results": true, "commit": true, "validators": true,
	"tx": true, "tx_search": true, "broadcast_tx_sync": true, "num_unconfirmed_txs": true,
}

// onlyRPCMethods passes JSON-RPC requests (one call per request, no
// batches) for RPCMethods at the proxy's root, and refuses the rest
// before they reach the node.
func onlyRPCMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rpc" && r.URL.Path != "/rpc/" {
			http.Error(w, "web: only JSON-RPC POSTs to /rpc are proxied", http.StatusNotFound)
			return
		}
		body, err := io.ReadAll(r.Body) // bounded by limitBody
		if err != nil {
			http.Error(w, "web: request body: "+err.Error(), http.StatusRequestEntityTooLarge)
			return
		}
		var call struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
		}
		if err := json.Unmarshal(body, &call); err != nil {
			http.Error(w, "web: want one JSON-RPC call object", http.StatusBadRequest)
			return
		}
		if !RPCMethods[call.Method] {
			http.Error(w, fmt.Sprintf("web: RPC method %.64q is not proxied", call.Method), http.StatusForbidden)
			return
		}
		if call.Method == "tx_search" {
			if err := checkTxSearch(call.Params); err != nil {
				http.Error(w, "web: tx_search: "+err.Error(), http.StatusForbidden)
				return
			}
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		r.ContentLength = int64(len(body))
		next.ServeHTTP(w, r)
	})
}

// MaxTxSearchPerPage is the largest per_page a proxied tx_search may ask
// for (CometBFT's own cap).
const MaxTxSearchPerPage = 100

// txSearchQuery is the one form of tx_search query the proxy passes on: a
// single equality on an event attribute (tx.signer='0x…',
// contract_outcome.command_id='0x…'). CometBFT's kv indexer loads every
// match of a query before it pages, so a range (tx.height>0) or a negation
// would make one request read the whole index; an equality reads that
// value's transactions only.
var txSearchQuery = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}\.[A-Za-z0-9_]{1,64}\s*=\s*'[A-Za-z0-9_:.-]{1,200}'$`)

// checkTxSearch admits tx_search parameters (named, as the app and the
// SDK send them) whose query is a single equality and whose per_page is at
// most MaxTxSearchPerPage.
func checkTxSearch(raw json.RawMessage) error {
	var p map[string]json.RawMessage
	if err := json.Unmarshal(raw, &p); err != nil {
		return errors.New("want named parameters")
	}
	var q string
	if err := json.Unmarshal(p["query"], &q); err != nil || !txSearchQuery.MatchString(strings.TrimSpace(q)) {
		return fmt.Errorf("query %.100q is not one attribute='value' equality", q)
	}
	if pp, ok := p["per_page"]; ok {
		var n json.Number
		s := strings.Trim(string(pp), `"`)
		n = json.Number(s)
		v, err := n.Int64()
		if err != nil || v < 1 || v > MaxTxSearchPerPage {
			return fmt.Errorf("per_page %.20s, want 1..%d", s, MaxTxSearchPerPage)
		}
	}
	return nil
}

var errResponseTooLarge = errors.New("web: upstream response too large")

// proxy forwards requests under prefix to target, with the prefix
// removed, and relays at most maxResp bytes of the answer.
func proxy(target *url.URL, prefix string, maxResp int64, log *slog.Logger) http.Handler {
	tr := &http.Transport{
		Proxy:                  nil, // a local upstream: never through an environment proxy
		DialContext:            (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		ResponseHeaderTimeout:  UpstreamTimeout,
		MaxIdleConnsPerHost:    16,
		IdleConnTimeout:        90 * time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
	return &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			pr.SetURL(target)
			p := strings.TrimPrefix(pr.In.URL.Path, prefix)
			if p == "" {
				p = "/"
			}
			pr.Out.URL.Path = p
			pr.Out.URL.RawPath = ""
			pr.Out.Host = target.Host
			// The upstream sees a local client, not the browser's origin.
			pr.Out.Header.Del("Origin")
			pr.Out.Header.Del("Referer")
			pr.Out.Header.Del("Cookie")
		},
		Transport: tr,
		ErrorLog:  slog.NewLogLogger(log.Handler(), slog.LevelDebug),
		ModifyResponse: func(res *http.Response) error {
			if res.ContentLength > maxResp {
				return errResponseTooLarge
			}
			res.Body = &limitedBody{r: res.Body, left: maxResp}
			// The upstream's own CORS or framing headers are not ours to pass on.
			res.Header.Del("Access-Control-Allow-Origin")
			res.Header.Del("Set-Cookie")
			return nil
		},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			log.Debug("web proxy", "path", r.URL.Path, "err", err)
			code := http.StatusBadGateway
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				code = http.StatusRequestEntityTooLarge
			case errors.Is(err, errResponseTooLarge):
				code = http.StatusBadGateway
			}
			http.Error(w, fmt.Sprintf("web: %s unreachable or refused: %v", prefix, err), code)
		},
	}
}

// limitedBody fails the read past left bytes, so that the proxy stops
// relaying an oversized answer.
type limitedBody struct {
	r    io.ReadCloser
	left int64
}

func (l *limitedBody) Read(p []byte) (int, error) {
	if l.left < 0 {
		return 0, errResponseTooLarge
	}
	// One byte past the limit tells an answer of exactly the limit (EOF
	// next) from a longer one.
	if int64(len(p)) > l.left+1 {
		p = p[:l.left+1]
	}
	n, err := l.r.Read(p)
	if int64(n) > l.left {
		n = int(l.left)
		l.left = -1
		return n, errResponseTooLarge
	}
	l.left -= int64(n)
	return n, err
}

func (l *limitedBody) Close() error { return l.r.Close() }

// Limits are the app server's listener limits: httpserve's defaults with
// room for a worker query to finish within the proxy's timeout.
var Limits = httpserve.Limits{WriteTimeout: UpstreamTimeout + 30*time.Second, ReadTimeout: 30 * time.Second}

// Server is the running app server.
type Server struct {
	srv *httpserve.Server
	url string
}

// Start listens on addr and serves the app in the background.
func Start(addr string, cfg Config) (*Server, error) {
	if !Built() {
		return nil, errors.New("web: this binary was built without the web app (run go generate ./internal/web)")
	}
	if host, _, err := net.SplitHostPort(addr); err == nil && isLoopbackHost(host) {
		cfg.LoopbackOnly = true
	}
	h, err := Handler(cfg)
	if err != nil {
		return nil, err
	}
	s, err := httpserve.Open(addr, h, Limits)
	if err != nil {
		return nil, fmt.Errorf("web: %w", err)
	}
	go func() {
		if err := s.Serve(); err != nil && cfg.Log != nil {
			cfg.Log.Error("web server stopped", "err", err)
		}
	}()
	return &Server{srv: s, url: "http://" + s.Addr() + "/"}, nil
}

// URL is the app's address (http://host:port/).
func (s *Server) URL() string { return s.url }

// Close stops the server.
func (s *Server) Close() { s.srv.Close() }
