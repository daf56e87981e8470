package outbound

import (
	"context"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"testing"

	"github.com/cella-network/cella/internal/pink"
)

// certPEM is the test server's certificate as PEM, for ExtraRootCAs.
func certPEM(srv *httptest.Server) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
}

// newServer starts a TLS test server; its certificate is valid for
// 127.0.0.1, ::1 and example.com.
func newServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are expected
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// newPlainServer starts a plain HTTP test server.
func newPlainServer(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// devConfig is a dev-chain config that trusts srv.
func devConfig(srv *httptest.Server) Config {
	return Config{AllowPrivate: true, ExtraRootCAs: certPEM(srv)}
}

func newClient(t testing.TB, cfg Config) *Client {
	t.Helper()
	c, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}

// port is srv's port.
func port(srv *httptest.Server) string {
	u, _ := url.Parse(srv.URL)
	return u.Port()
}

// resolveTo answers every name in m with its addresses; other names fail.
func resolveTo(m map[string][]string) func(context.Context, string) ([]netip.Addr, error) {
	return func(_ context.Context, host string) ([]netip.Addr, error) {
		var out []netip.Addr
		for _, s := range m[host] {
			out = append(out, netip.MustParseAddr(s))
		}
		if len(out) == 0 {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		return out, nil
	}
}

// wantKind fails unless err is exactly the pink.HTTPError want (Do promises
// a bare HTTPError, so that the extension may compare it directly).
func wantKind(t testing.TB, err error, want pink.HTTPError) {
	t.Helper()
	got, ok := err.(pink.HTTPError)
	if !ok {
		t.Fatalf("error %v (%T), want %v", err, err, want)
	}
	if got != want {
		t.Fatalf("error %v, want %v", got, want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("errors.Is(%v, %v) false", err, want)
	}
}

func get(u string) pink.HTTPRequest { return pink.HTTPRequest{URL: u, Method: "GET"} }
