package outbound

import (
	"bytes"
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"testing"

	"github.com/cella-network/cella/internal/pink"
)

// benchServer answers every request with a 1 KiB body over TLS.
func benchServer(b *testing.B) (string, []byte) {
	body := bytes.Repeat([]byte("b"), 1<<10)
	srv := newServer(b, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	return srv.URL + "/price?pair=DOT-USD", certPEM(srv)
}

// BenchmarkBareGoClient is the baseline: net/http's client with the same
// TLS configuration (roots, minimum version) and keep-alive, reading the
// whole body.
func BenchmarkBareGoClient(b *testing.B) {
	url, pemCert := benchServer(b)
	roots, err := rootPool(pemCert)
	if err != nil {
		b.Fatal(err)
	}
	tr := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
		req.Header.Set("Accept", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || len(body) != 1<<10 {
			b.Fatal(err)
		}
	}
}

// BenchmarkClient is the same request through Client.Do: validation,
// address checks, bounded reading and the conversion to pink types.
func BenchmarkClient(b *testing.B) {
	url, pemCert := benchServer(b)
	c := newClient(b, Config{AllowPrivate: true, ExtraRootCAs: pemCert})
	req := pink.HTTPRequest{URL: url, Method: "GET", Headers: []pink.Header{{Name: "Accept", Value: "application/json"}}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := c.Do(ctx, req)
		if err != nil || len(resp.Body) != 1<<10 {
			b.Fatal(err)
		}
	}
}
