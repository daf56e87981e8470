package outbound

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/pink"
)

// testProxy records the targets a proxy was asked for and connects them
// all to one address (the test server), as a proxy that resolves names
// would.
type testProxy struct {
	addr    string
	mu      sync.Mutex
	targets []string
}

func (p *testProxy) record(target string) {
	p.mu.Lock()
	p.targets = append(p.targets, target)
	p.mu.Unlock()
}

func (p *testProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.targets...)
}

func splice(a, b net.Conn) {
	go func() { io.Copy(a, b); a.Close() }()
	io.Copy(b, a)
	b.Close()
}

// newSOCKS5 starts a minimal SOCKS5 server (RFC 1928: no authentication,
// CONNECT only) that sends every connection to dst.
func newSOCKS5(t *testing.T, dst string) *testProxy {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	p := &testProxy{addr: ln.Addr().String()}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go p.serveSOCKS(c, dst)
		}
	}()
	return p
}

func (p *testProxy) serveSOCKS(c net.Conn, dst string) {
	defer c.Close()
	var hdr [2]byte
	if _, err := io.ReadFull(c, hdr[:]); err != nil || hdr[0] != 5 {
		return
	}
	methods := make([]byte, hdr[1])
	if _, err := io.ReadFull(c, methods); err != nil {
		return
	}
	c.Write([]byte{5, 0}) // no authentication
	var req [4]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || req[1] != 1 {
		return
	}
	var host string
	switch req[3] {
	case 1, 4:
		ip := make([]byte, map[byte]int{1: 4, 4: 16}[req[3]])
		io.ReadFull(c, ip)
		host = net.IP(ip).String()
	case 3:
		var n [1]byte
		io.ReadFull(c, n[:])
		name := make([]byte, n[0])
		io.ReadFull(c, name)
		host = string(name)
	default:
		return
	}
	var port [2]byte
	if _, err := io.ReadFull(c, port[:]); err != nil {
		return
	}
	p.record(net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port[:])))))
	up, err := net.Dial("tcp", dst)
	if err != nil {
		c.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return
	}
	c.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	splice(c, up)
}

// newCONNECT starts an HTTP proxy that answers CONNECT only, tunnelling
// every target to dst.
func newCONNECT(t *testing.T, dst string) *testProxy {
	p := &testProxy{}
	srv := newPlainServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodConnect {
			http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
			return
		}
		p.record(r.Host)
		up, err := net.Dial("tcp", dst)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		c, brw, err := w.(http.Hijacker).Hijack()
		if err != nil {
			up.Close()
			return
		}
		io.WriteString(c, "HTTP/1.1 200 Connection established\r\n\r\n")
		if n := brw.Reader.Buffered(); n > 0 {
			b, _ := brw.Reader.Peek(n)
			up.Write(b)
		}
		splice(c, up)
	})
	p.addr = srv.Listener.Addr().String()
	return p
}

func TestProxy(t *testing.T) {
	srv := newServer(t, func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "via proxy "+r.Host)
	})
	dst := srv.Listener.Addr().String()
	p := port(srv)
	for _, kind := range []string{"socks5", "http"} {
		t.Run(kind, func(t *testing.T) {
			var px *testProxy
			if kind == "socks5" {
				px = newSOCKS5(t, dst)
			} else {
				px = newCONNECT(t, dst)
			}
			// Production rules (no AllowPrivate): the proxy itself is on
			// loopback, which is operator configuration and allowed.
			c := newClient(t, Config{
				Proxy:        kind + "://" + px.addr,
				ExtraRootCAs: certPEM(srv),
				Resolve: func(context.Context, string) ([]netip.Addr, error) {
					t.Error("a name was resolved locally behind a proxy")
					return nil, nil
				},
			})
			resp, err := c.Do(context.Background(), get("https://example.com:"+p+"/x"))
			if err != nil || string(resp.Body) != "via proxy example.com:"+p {
				t.Fatalf("through proxy: %q, %v", resp.Body, err)
			}
			if got := px.seen(); len(got) != 1 || got[0] != "example.com:"+p {
				t.Fatalf("proxy saw %v", got)
			}
			// Refused before the proxy is asked: IP literals and localhost.
			for _, u := range []string{
				"https://10.0.0.1/", "https://127.0.0.1:" + p, "https://[::1]/",
				"https://169.254.169.254/", "https://localhost:" + p,
			} {
				_, err := c.Do(context.Background(), get(u))
				wantKind(t, err, pink.ErrNotAllowed)
			}
			if got := px.seen(); len(got) != 1 {
				t.Fatalf("proxy was asked for refused targets: %v", got)
			}
			// The tunnel carries TLS end to end: an unknown root fails.
			c2 := newClient(t, Config{Proxy: kind + "://" + px.addr})
			_, err = c2.Do(context.Background(), get("https://example.com:"+p+"/x"))
			wantKind(t, err, pink.ErrNetworkError)
		})
	}
}

func TestProxyFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	refusing := newPlainServer(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	})
	for _, tc := range []struct{ name, proxy string }{
		{"socks5 down", "socks5://" + closed},
		{"http proxy down", "http://" + closed},
		{"http proxy refuses", "http://" + refusing.Listener.Addr().String()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newClient(t, Config{Proxy: tc.proxy})
			_, err := c.Do(context.Background(), get("https://example.com/"))
			wantKind(t, err, pink.ErrNetworkError)
		})
	}
}
