package main

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

func TestServerOverTLSWithPrintedRoot(t *testing.T) {
	for _, c := range []struct {
		quoted bool
		want   string
	}{
		{true, `{"symbol":"ETH","price":"3120.5"}` + "\n"},
		{false, `{"symbol":"ETH","price":3120.5}` + "\n"},
	} {
		h, err := priceHandler("ETH", "3120.5", c.quoted)
		if err != nil {
			t.Fatal(err)
		}
		cert, certPEM, err := selfSigned(time.Now(), time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewUnstartedServer(h)
		srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
		srv.StartTLS()
		defer srv.Close()

		// A client that trusts only the printed PEM reaches the server.
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(certPEM) {
			t.Fatal("printed PEM does not parse")
		}
		client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
		resp, err := client.Get(srv.URL + "/price")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(body) != c.want {
			t.Fatalf("GET /price: %d %q, want %q", resp.StatusCode, body, c.want)
		}
		if resp, err := client.Get(srv.URL + "/other"); err != nil || resp.StatusCode != 404 {
			t.Fatalf("GET /other: %v %v", resp, err)
		}
		// Without the root the handshake fails.
		if _, err := http.Get(srv.URL + "/price"); err == nil {
			t.Fatal("untrusted certificate accepted")
		}
	}
}

func TestPriceFlagChecked(t *testing.T) {
	for _, p := range []string{"", "1e5", "-1", "1.", ".5", "1,5", `1"}`} {
		if _, err := priceHandler("BTC", p, true); err == nil {
			t.Fatalf("price %q accepted", p)
		}
	}
	if _, err := priceHandler(`B"TC`, "1", true); err != nil {
		t.Fatalf("symbol needing escapes: %v", err)
	}
}
