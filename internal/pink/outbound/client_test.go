package outbound

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/pink"
)

func TestRoundTripTLS(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Method", r.Method)
		w.Header().Set("X-Got-Token", r.Header.Get("X-Token"))
		w.Header().Set("X-Host", r.Host)
		w.Header().Set("X-UA", fmt.Sprintf("%q", r.Header.Values("User-Agent")))
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		w.Header().Set("X-Binary", "caf\xc3\xa9")
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(http.StatusCreated)
		w.Write(append([]byte("echo:"), body...))
	})
	var obs []Observation
	cfg := devConfig(srv)
	cfg.Observe = func(o Observation) { obs = append(obs, o) }
	c := newClient(t, cfg)

	for _, tc := range []struct {
		name    string
		url     string
		resolve map[string][]string
	}{
		{"ip", srv.URL + "/secret/path?key=hunter2", nil},
		{"name", "https://example.com:" + port(srv) + "/secret/path?key=hunter2",
			map[string][]string{"example.com": {"127.0.0.1"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c.dialer.resolve = resolveTo(tc.resolve)
			obs = nil
			resp, err := c.Do(context.Background(), pink.HTTPRequest{
				URL:    tc.url,
				Method: "POST",
				Headers: []pink.Header{
					pink.Header{Name: "X-Token", Value: "first"}, pink.Header{Name: "x-token", Value: "second"}, // later replaces, as Phala
					pink.Header{Name: "Content-Type", Value: "text/plain"},
				},
				Body: []byte("hello"),
			})
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.StatusCode != 201 || resp.ReasonPhrase != "Created" {
				t.Fatalf("status %d %q", resp.StatusCode, resp.ReasonPhrase)
			}
			if string(resp.Body) != "echo:hello" {
				t.Fatalf("body %q", resp.Body)
			}
			hv := map[string][]string{}
			var names []string
			for _, h := range resp.Headers {
				if h.Name != strings.ToLower(h.Name) {
					t.Errorf("header name %q not lower case", h.Name)
				}
				names = append(names, h.Name)
				hv[h.Name] = append(hv[h.Name], h.Value)
			}
			if !slices.IsSorted(names) {
				t.Errorf("header names not sorted: %v", names)
			}
			for name, want := range map[string][]string{
				"x-method":     {"POST"},
				"x-got-token":  {"second"},
				"x-ua":         {"[]"}, // no Go-http-client default
				"set-cookie":   {"a=1", "b=2"},
				"x-binary":     {""}, // not visible ASCII: "" as hyper's to_str
				"content-type": {"application/octet-stream"},
			} {
				if !slices.Equal(hv[name], want) {
					t.Errorf("header %s = %q, want %q", name, hv[name], want)
				}
			}
			if len(obs) != 1 {
				t.Fatalf("%d observations", len(obs))
			}
			o := obs[0]
			wantHost := "127.0.0.1"
			if tc.name == "name" {
				wantHost = "example.com"
			}
			if o.Host != wantHost || o.Status != 201 || o.Err != nil || o.RequestBytes != 5 || o.ResponseBytes != 10 {
				t.Fatalf("observation %+v", o)
			}
			if s := fmt.Sprintf("%+v", o); strings.Contains(s, "secret") || strings.Contains(s, "hunter2") {
				t.Fatalf("observation leaks the URL: %s", s)
			}
		})
	}
}

func TestHostHeader(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Host) })
	c := newClient(t, devConfig(srv))
	resp, err := c.Do(context.Background(), pink.HTTPRequest{
		URL: srv.URL, Method: "GET", Headers: []pink.Header{pink.Header{Name: "host", Value: "api.example"}},
	})
	if err != nil || string(resp.Body) != "api.example" {
		t.Fatalf("Host header: %q, %v", resp.Body, err)
	}
}

func TestTLSVerification(t *testing.T) {
	var hits atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	// httptest's certificate is valid for 127.0.0.1 and example.com only.
	for _, tc := range []struct {
		name  string
		extra []byte
		url   string
		want  pink.HTTPError
	}{
		{"self-signed, no extra root", nil, srv.URL, pink.ErrNetworkError},
		{"wrong name", certPEM(srv), "https://wrong.test:" + port(srv), pink.ErrNetworkError},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, Config{AllowPrivate: true, ExtraRootCAs: tc.extra,
				Resolve: resolveTo(map[string][]string{"wrong.test": {"127.0.0.1"}})})
			_, err := c.Do(context.Background(), get(tc.url))
			wantKind(t, err, tc.want)
		})
	}
	if hits.Load() != 0 {
		t.Fatalf("server saw %d requests over unverified TLS", hits.Load())
	}
}

func TestTransportNeverUsesHostSettings(t *testing.T) {
	t.Setenv("HTTPS_PROXY", "http://127.0.0.1:1")
	t.Setenv("HTTP_PROXY", "http://127.0.0.1:1")
	t.Setenv("ALL_PROXY", "socks5://127.0.0.1:1")
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {})
	c := newClient(t, devConfig(srv))
	if c.transport.Proxy != nil {
		t.Fatal("Transport.Proxy is set")
	}
	if c.transport.TLSClientConfig.RootCAs == nil {
		t.Fatal("RootCAs nil: the host's trust store would be used")
	}
	if _, err := c.Do(context.Background(), get(srv.URL)); err != nil {
		t.Fatalf("proxy variables were followed: %v", err)
	}
	base, err := mozillaRoots()
	if err != nil || base.Equal(c.transport.TLSClientConfig.RootCAs) {
		t.Fatalf("roots: %v (extra root not added?)", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for _, cfg := range []Config{
		{ExtraRootCAs: []byte("not pem")},
		{Proxy: "https://proxy:3128"},
		{Proxy: "socks5://proxy"},
		{Proxy: "socks5://proxy:1080/x"},
		{Proxy: "::"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) accepted", cfg)
		}
	}
	for _, p := range []string{"", "socks5://127.0.0.1:1080", "socks5h://u:p@proxy:1080", "http://proxy:3128"} {
		if _, err := New(Config{Proxy: p}); err != nil {
			t.Errorf("New(Proxy %q): %v", p, err)
		}
	}
}

func TestPlainHTTP(t *testing.T) {
	var hits atomic.Int32
	srv := newPlainServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1); io.WriteString(w, "plain") })
	for _, tc := range []struct {
		allow bool
		want  pink.HTTPError
		ok    bool
	}{
		{false, pink.ErrNotAllowed, false},
		{true, 0, true},
	} {
		c := newClient(t, Config{AllowPrivate: true, AllowPlainHTTP: tc.allow})
		resp, err := c.Do(context.Background(), get(srv.URL))
		if tc.ok {
			if err != nil || string(resp.Body) != "plain" {
				t.Fatalf("allowed plain http: %q %v", resp.Body, err)
			}
			continue
		}
		wantKind(t, err, tc.want)
		if hits.Load() != 0 {
			t.Fatal("refused plain http reached the server")
		}
	}
}

func TestAddressRules(t *testing.T) {
	var hits atomic.Int32
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) { hits.Add(1) })
	p := port(srv)
	dns := map[string][]string{
		"internal.example": {"10.1.2.3"},
		"example.com":      {"127.0.0.1"}, // a name in the test certificate
		"mixed.example":    {"93.184.215.14", "127.0.0.1"},
		"meta.example":     {"169.254.169.254"},
		"v6.example":       {"::1"},
	}
	for _, tc := range []struct {
		name string
		url  string
	}{
		{"loopback literal", srv.URL},
		{"loopback v6 literal", "https://[::1]:" + p},
		{"mapped loopback literal", "https://[::ffff:127.0.0.1]:" + p},
		{"name to 10.x", "https://internal.example:" + p},
		{"name rebinding to 127.0.0.1", "https://example.com:" + p},
		{"name with a public and a loopback address", "https://mixed.example:" + p},
		{"name to metadata", "https://meta.example:" + p},
		{"name to ::1", "https://v6.example:" + p},
		{"localhost", "https://localhost:" + p},
		{"unspecified", "https://0.0.0.0:" + p},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, Config{ExtraRootCAs: certPEM(srv), Resolve: resolveTo(dns)})
			_, err := c.Do(context.Background(), get(tc.url))
			wantKind(t, err, pink.ErrNotAllowed)
		})
	}
	if hits.Load() != 0 {
		t.Fatalf("refused addresses reached the server %d times", hits.Load())
	}
	// The same client config with AllowPrivate reaches it.
	c := newClient(t, Config{AllowPrivate: true, ExtraRootCAs: certPEM(srv), Resolve: resolveTo(dns)})
	if _, err := c.Do(context.Background(), get("https://example.com:"+p)); err != nil {
		t.Fatalf("AllowPrivate: %v", err)
	}
}

// TestControlRefusesDialledAddress checks the socket-level check on its own:
// a dial that got past the resolution check (a resolver answering
// differently the second time) is still refused at connect.
func TestControlRefusesDialledAddress(t *testing.T) {
	d, err := newDialer(Config{}.withDefaults(), nil)
	if err != nil {
		t.Fatal(err)
	}
	d.permit = publicAddr
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	_, err = d.net.DialContext(context.Background(), "tcp", ln.Addr().String())
	if classify(context.Background(), err) != pink.ErrNotAllowed {
		t.Fatalf("Control let %s through: %v", ln.Addr(), err)
	}
}

func TestValidation(t *testing.T) {
	var resolved atomic.Int32
	c := newClient(t, Config{Resolve: func(context.Context, string) ([]netip.Addr, error) {
		resolved.Add(1)
		return nil, fmt.Errorf("no I/O expected")
	}})
	many := func(n int) []pink.Header {
		h := make([]pink.Header, n)
		for i := range h {
			h[i] = pink.Header{Name: fmt.Sprintf("X-H%d", i), Value: "v"}
		}
		return h
	}
	ok := "https://api.example/x"
	for _, tc := range []struct {
		name string
		req  pink.HTTPRequest
		want pink.HTTPError
	}{
		{"unparseable", get("https://exa mple.com/"), pink.ErrInvalidURL},
		{"control char", get("https://example.com/\x00"), pink.ErrInvalidURL},
		{"bad percent", get("https://example.com/%zz"), pink.ErrInvalidURL},
		{"not UTF-8", get("https://\xad.example/"), pink.ErrInvalidURL},
		{"no scheme", get("example.com/x"), pink.ErrInvalidURL},
		{"empty", get(""), pink.ErrInvalidURL},
		{"ftp", get("ftp://example.com/x"), pink.ErrInvalidURL},
		{"file", get("file:///etc/passwd"), pink.ErrInvalidURL},
		{"no host", get("https:///x"), pink.ErrInvalidURL},
		{"opaque", get("https:example.com"), pink.ErrInvalidURL},
		{"port only", get("https://:443/"), pink.ErrInvalidURL},
		{"userinfo", get("https://user:pw@example.com/"), pink.ErrInvalidURL},
		{"port 0", get("https://example.com:0/"), pink.ErrInvalidURL},
		{"port too big", get("https://example.com:70000/"), pink.ErrInvalidURL},
		{"bad port", get("https://example.com:https/"), pink.ErrInvalidURL},
		{"plain http", get("http://example.com/"), pink.ErrNotAllowed},
		{"empty method", pink.HTTPRequest{URL: ok, Method: ""}, pink.ErrInvalidMethod},
		{"space in method", pink.HTTPRequest{URL: ok, Method: "GE T"}, pink.ErrInvalidMethod},
		{"non-token method", pink.HTTPRequest{URL: ok, Method: "GET\r\n"}, pink.ErrInvalidMethod},
		{"CONNECT", pink.HTTPRequest{URL: ok, Method: "CONNECT"}, pink.ErrInvalidMethod},
		{"257 headers", pink.HTTPRequest{URL: ok, Method: "GET", Headers: many(257)}, pink.ErrTooManyHeaders},
		{"300 headers", pink.HTTPRequest{URL: ok, Method: "GET", Headers: many(300)}, pink.ErrTooManyHeaders},
		{"300 headers, one invalid", pink.HTTPRequest{URL: ok, Method: "GET",
			Headers: append(many(299), pink.Header{Name: "bad name", Value: "v"})}, pink.ErrTooManyHeaders},
		{"empty header name", pink.HTTPRequest{URL: ok, Method: "GET", Headers: []pink.Header{pink.Header{Name: "", Value: "v"}}}, pink.ErrInvalidHeaderName},
		{"space in header name", pink.HTTPRequest{URL: ok, Method: "GET", Headers: []pink.Header{pink.Header{Name: "X Y", Value: "v"}}}, pink.ErrInvalidHeaderName},
		{"colon in header name", pink.HTTPRequest{URL: ok, Method: "GET", Headers: []pink.Header{pink.Header{Name: "X:Y", Value: "v"}}}, pink.ErrInvalidHeaderName},
		{"CRLF in header value", pink.HTTPRequest{URL: ok, Method: "GET", Headers: []pink.Header{pink.Header{Name: "X", Value: "a\r\nEvil: 1"}}}, pink.ErrInvalidHeaderValue},
		{"NUL in header value", pink.HTTPRequest{URL: ok, Method: "GET", Headers: []pink.Header{pink.Header{Name: "X", Value: "a\x00"}}}, pink.ErrInvalidHeaderValue},
		{"bad name before bad value", pink.HTTPRequest{URL: ok, Method: "GET",
			Headers: []pink.Header{pink.Header{Name: "ok", Value: "a\n"}, pink.Header{Name: "b d", Value: "v"}}}, pink.ErrInvalidHeaderValue},
		{"URL checked before method", pink.HTTPRequest{URL: "ftp://x", Method: ""}, pink.ErrInvalidURL},
		{"method checked before headers", pink.HTTPRequest{URL: ok, Method: "", Headers: many(300)}, pink.ErrInvalidMethod},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.Do(context.Background(), tc.req)
			wantKind(t, err, tc.want)
		})
	}
	if resolved.Load() != 0 {
		t.Fatalf("invalid requests did I/O (%d lookups)", resolved.Load())
	}
	// 256 headers is the limit, not over it.
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, fmt.Sprint(len(r.Header)))
	})
	c2 := newClient(t, devConfig(srv))
	resp, err := c2.Do(context.Background(), pink.HTTPRequest{URL: srv.URL, Method: "GET", Headers: many(256)})
	if err != nil || !strings.HasPrefix(string(resp.Body), "25") {
		t.Fatalf("256 headers: %q %v", resp.Body, err)
	}
	// An extension method is a token and passes.
	resp, err = c2.Do(context.Background(), pink.HTTPRequest{URL: srv.URL, Method: "PROPFIND"})
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("PROPFIND: %v", err)
	}
}

func TestResponseLimits(t *testing.T) {
	big := bytes.Repeat([]byte("x"), 3<<20)
	exact := bytes.Repeat([]byte("y"), pink.MaxResponseBody)
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big-length":
			w.Header().Set("Content-Length", fmt.Sprint(len(big)))
			w.Write(big)
		case "/big-chunked":
			for i := 0; i < len(big); i += 64 << 10 {
				if _, err := w.Write(big[i : i+64<<10]); err != nil {
					return
				}
				w.(http.Flusher).Flush()
			}
		case "/exact-chunked":
			w.Write(exact[:1])
			w.(http.Flusher).Flush()
			w.Write(exact[1:])
		case "/exact-length":
			w.Write(exact)
		case "/headers":
			for i := 0; i < 300; i++ {
				w.Header().Set(fmt.Sprintf("X-H%03d", i), "v")
			}
		case "/header-values":
			for i := 0; i < 300; i++ {
				w.Header().Add("X-Same", "v")
			}
		case "/header-bytes":
			w.Header().Set("X-Huge", strings.Repeat("z", MaxResponseHeaderBytes+1))
		case "/250-headers":
			for i := 0; i < 250; i++ {
				w.Header().Set(fmt.Sprintf("X-H%03d", i), "v")
			}
		}
	})
	c := newClient(t, devConfig(srv))
	// HEAD of a large resource: its Content-Length is not a body.
	resp, err := c.Do(context.Background(), pink.HTTPRequest{URL: srv.URL + "/big-length", Method: "HEAD"})
	if err != nil || resp.StatusCode != 200 || len(resp.Body) != 0 ||
		!slices.Contains(resp.Headers, pink.Header{Name: "content-length", Value: fmt.Sprint(len(big))}) {
		t.Fatalf("HEAD: %d %d bytes %v, %v", resp.StatusCode, len(resp.Body), resp.Headers, err)
	}
	for _, tc := range []struct {
		path string
		want pink.HTTPError
		size int
	}{
		{"/big-length", pink.ErrResponseTooLarge, 0},
		{"/big-chunked", pink.ErrResponseTooLarge, 0},
		{"/headers", pink.ErrTooManyHeaders, 0},
		{"/header-values", pink.ErrTooManyHeaders, 0},
		{"/header-bytes", pink.ErrTooManyHeaders, 0},
		{"/exact-chunked", 0, pink.MaxResponseBody},
		{"/exact-length", 0, pink.MaxResponseBody},
		{"/250-headers", 0, 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := c.Do(context.Background(), get(srv.URL+tc.path))
			if tc.want != 0 {
				wantKind(t, err, tc.want)
				return
			}
			if err != nil || len(resp.Body) != tc.size {
				t.Fatalf("got %d bytes, %v", len(resp.Body), err)
			}
		})
	}
}

func TestReadBody(t *testing.T) {
	const limit = pink.MaxResponseBody
	for _, tc := range []struct {
		name    string
		n       int
		length  int64
		wantErr bool
	}{
		{"empty unknown", 0, -1, false},
		{"small unknown", 10, -1, false},
		{"chunk boundary", bodyChunk, -1, false},
		{"limit unknown", limit, -1, false},
		{"limit+1 unknown", limit + 1, -1, true},
		{"known", 1000, 1000, false},
		{"server sends more than its length", 1001, 1000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := bytes.Repeat([]byte{7}, tc.n)
			var got int
			b, err := readBody(bytes.NewReader(src), tc.length, &got)
			if tc.wantErr {
				if classify(context.Background(), err) != pink.ErrResponseTooLarge {
					t.Fatalf("err %v", err)
				}
				if got > limit+bodyChunk {
					t.Fatalf("read %d bytes before refusing", got)
				}
				return
			}
			if err != nil || !bytes.Equal(b, src) || got != tc.n {
				t.Fatalf("read %d (%d), %v", len(b), got, err)
			}
		})
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow-body" {
			w.Write([]byte("start"))
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	short := func() context.Context {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		t.Cleanup(cancel)
		return ctx
	}
	expired, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	for _, tc := range []struct {
		name string
		cfg  func(*Config)
		ctx  func() context.Context
		path string
	}{
		{"ctx deadline, no headers", nil, short, "/slow"},
		{"ctx deadline, body", nil, short, "/slow-body"},
		{"config timeout", func(c *Config) { c.Timeout = 50 * time.Millisecond }, context.Background, "/slow"},
		{"expired before start", nil, func() context.Context { return expired }, "/slow"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := devConfig(srv)
			if tc.cfg != nil {
				tc.cfg(&cfg)
			}
			c := newClient(t, cfg)
			_, err := c.Do(tc.ctx(), get(srv.URL+tc.path))
			wantKind(t, err, pink.ErrTimeout)
		})
	}
}

func TestMaxInFlight(t *testing.T) {
	var hits atomic.Int32
	entered := make(chan struct{}, 1)
	release := make(chan struct{})
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		entered <- struct{}{}
		<-release
	})
	cfg := devConfig(srv)
	cfg.MaxInFlight = 1
	c := newClient(t, cfg)
	done := make(chan error)
	go func() {
		_, err := c.Do(context.Background(), get(srv.URL))
		done <- err
	}()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := c.Do(ctx, get(srv.URL))
	wantKind(t, err, pink.ErrTimeout)
	if hits.Load() != 1 {
		t.Fatalf("second request ran past MaxInFlight=1 (%d hits)", hits.Load())
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestRedirects(t *testing.T) {
	var plainHits atomic.Int32
	plain := newPlainServer(t, func(w http.ResponseWriter, r *http.Request) { plainHits.Add(1) })
	var srv *httptest.Server
	srv = newServer(t, func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == "/loop":
			http.Redirect(w, r, "/loop", http.StatusFound)
		case strings.HasPrefix(r.URL.Path, "/hops/"):
			var n int
			fmt.Sscanf(r.URL.Path, "/hops/%d", &n)
			if n == 0 {
				io.WriteString(w, "arrived")
				return
			}
			http.Redirect(w, r, fmt.Sprintf("/hops/%d", n-1), http.StatusFound)
		case r.URL.Path == "/to-plain":
			http.Redirect(w, r, plain.URL, http.StatusFound)
		case r.URL.Path == "/to-internal":
			http.Redirect(w, r, "https://internal.example:"+port(srv)+"/", http.StatusFound)
		case r.URL.Path == "/to-ftp":
			http.Redirect(w, r, "ftp://example.com/", http.StatusFound)
		}
	})
	dns := map[string][]string{"internal.example": {"10.0.0.7"}}
	for _, tc := range []struct {
		name  string
		path  string
		max   int
		want  pink.HTTPError
		body  string
		state int
	}{
		{"loop", "/loop", 0, pink.ErrNetworkError, "", 0},
		{"10 hops (reqwest's limit)", "/hops/10", 0, 0, "arrived", 200},
		{"11 hops", "/hops/11", 0, pink.ErrNetworkError, "", 0},
		{"3 hops over max 2", "/hops/3", 2, pink.ErrNetworkError, "", 0},
		{"no redirects followed", "/hops/3", -1, 0, "", 302},
		{"https to http", "/to-plain", 0, pink.ErrNotAllowed, "", 0},
		{"to a private address", "/to-internal", 0, pink.ErrNotAllowed, "", 0},
		{"to ftp", "/to-ftp", 0, pink.ErrNetworkError, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := devConfig(srv)
			cfg.MaxRedirects = tc.max
			cfg.Resolve = resolveTo(dns)
			c := newClient(t, cfg)
			// Public rules, except that the test server's loopback
			// address stands for a public one.
			c.dialer.permit = func(ip netip.Addr) bool { return ip == netip.MustParseAddr("127.0.0.1") || publicAddr(ip) }
			resp, err := c.Do(context.Background(), get(srv.URL+tc.path))
			if tc.want != 0 {
				wantKind(t, err, tc.want)
				return
			}
			if err != nil || (tc.body != "" && string(resp.Body) != tc.body) || int(resp.StatusCode) != tc.state {
				t.Fatalf("got %d %q, %v", resp.StatusCode, resp.Body, err)
			}
		})
	}
	if plainHits.Load() != 0 {
		t.Fatal("a redirect reached plain http")
	}
}

func TestNetworkErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	// A server that closes the connection mid-handshake.
	rude, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer rude.Close()
	go func() {
		for {
			c, err := rude.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("not tls\r\n"))
			c.Close()
		}
	}()
	// A TLS server that drops the response half way.
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.Write([]byte("short"))
		w.(http.Flusher).Flush()
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	})
	for _, tc := range []struct {
		name string
		url  string
		cfg  Config
	}{
		{"connection refused", "https://" + closed + "/", Config{AllowPrivate: true}},
		{"no such host", "https://nowhere.example/", Config{Resolve: resolveTo(nil)}},
		{"not TLS", "https://" + rude.Addr().String() + "/", Config{AllowPrivate: true}},
		{"truncated body", srv.URL, devConfig(srv)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, tc.cfg)
			_, err := c.Do(context.Background(), get(tc.url))
			wantKind(t, err, pink.ErrNetworkError)
		})
	}
}

// cutReader yields its data, then fails with err.
type cutReader struct {
	data []byte
	err  error
}

func (c *cutReader) Read(b []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, c.err
	}
	n := copy(b, c.data)
	c.data = c.data[n:]
	return n, nil
}

// TestReadBodyCut is a regression test: a body cut in the middle of a chunk
// (io.ErrUnexpectedEOF from the chunked reader) once passed as a short
// success.
func TestReadBodyCut(t *testing.T) {
	for _, cut := range []error{io.ErrUnexpectedEOF, context.DeadlineExceeded} {
		var got int
		_, err := readBody(&cutReader{data: []byte("start"), err: cut}, -1, &got)
		if err == nil || got != 5 {
			t.Fatalf("cut by %v: err %v, got %d", cut, err, got)
		}
	}
}

// TestHTTP2Server checks that a server offering HTTP/2 is spoken to in
// HTTP/1.1, where the limits hold exactly.
func TestHTTP2Server(t *testing.T) {
	big := bytes.Repeat([]byte("h"), 3<<20)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/big":
			w.Write(big)
		case "/headers":
			for i := 0; i < 300; i++ {
				w.Header().Set(fmt.Sprintf("X-H%03d", i), "v")
			}
		case "/header-bytes":
			w.Header().Set("X-Huge", strings.Repeat("z", MaxResponseHeaderBytes+1))
		default:
			w.Header().Set("X-Proto", r.Proto)
			body, _ := io.ReadAll(r.Body)
			w.Write(body)
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	c := newClient(t, devConfig(srv))
	resp, err := c.Do(context.Background(), pink.HTTPRequest{URL: srv.URL, Method: "PUT", Body: []byte("h2 body")})
	if err != nil || string(resp.Body) != "h2 body" {
		t.Fatalf("round trip: %q, %v", resp.Body, err)
	}
	if i := slices.IndexFunc(resp.Headers, func(h pink.Header) bool { return h.Name == "x-proto" }); i < 0 || resp.Headers[i].Value != "HTTP/1.1" {
		t.Fatalf("not HTTP/1.1: %v", resp.Headers)
	}
	_, err = c.Do(context.Background(), get(srv.URL+"/big"))
	wantKind(t, err, pink.ErrResponseTooLarge)
	_, err = c.Do(context.Background(), get(srv.URL+"/headers"))
	wantKind(t, err, pink.ErrTooManyHeaders)
	_, err = c.Do(context.Background(), get(srv.URL+"/header-bytes"))
	wantKind(t, err, pink.ErrTooManyHeaders)
}

func TestObserverOnFailure(t *testing.T) {
	var obs []Observation
	c := newClient(t, Config{Observe: func(o Observation) { obs = append(obs, o) }})
	c.Do(context.Background(), pink.HTTPRequest{URL: "https://127.0.0.1/private?token=x", Method: "POST", Body: []byte("abc")})
	c.Do(context.Background(), get("::bad"))
	want := []Observation{
		{Host: "127.0.0.1", Err: pink.ErrNotAllowed, RequestBytes: 3},
		{Host: "", Err: pink.ErrInvalidURL},
	}
	if len(obs) != len(want) {
		t.Fatalf("%d observations", len(obs))
	}
	for i := range want {
		obs[i].Duration = 0
		if obs[i] != want[i] {
			t.Errorf("observation %d: %+v, want %+v", i, obs[i], want[i])
		}
	}
}
