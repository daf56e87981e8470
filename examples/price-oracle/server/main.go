// Command server is a tiny HTTPS price API for trying the pricefeed Phat
// contract locally. It makes a fresh self-signed certificate for 127.0.0.1,
// ::1 and localhost at every start, prints it as PEM on stdout (so that a
// dev worker can be told to trust it) and serves
//
//	GET /price  →  {"symbol":"BTC","price":"64123.45"}
//
// It is an example, not part of Cella.
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"regexp"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8443", "listen address")
	symbol := flag.String("symbol", "BTC", "symbol in the answer")
	price := flag.String("price", "64123.45", "price in the answer: digits with an optional fraction")
	unquoted := flag.Bool("unquoted", false, `answer {"price": 64123.45} (a JSON number) instead of a string`)
	certOut := flag.String("cert-out", "", "also write the certificate PEM to this file")
	flag.Parse()

	h, err := priceHandler(*symbol, *price, !*unquoted)
	if err != nil {
		log.Fatal(err)
	}
	cert, certPEM, err := selfSigned(time.Now(), 7*24*time.Hour)
	if err != nil {
		log.Fatal(err)
	}
	os.Stdout.Write(certPEM)
	if *certOut != "" {
		if err := os.WriteFile(*certOut, certPEM, 0o644); err != nil {
			log.Fatal(err)
		}
	}
	srv := &http.Server{
		Addr:              *addr,
		Handler:           h,
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 5 * time.Second,
	}
	log.Printf("serving https://%s/price", *addr)
	log.Fatal(srv.ListenAndServeTLS("", ""))
}

var priceRE = regexp.MustCompile(`^[0-9]{1,30}(\.[0-9]{1,18})?$`)

// priceHandler answers GET /price with the symbol and price as JSON, the
// price as a string when quoted and as a number otherwise.
func priceHandler(symbol, price string, quoted bool) (http.Handler, error) {
	if !priceRE.MatchString(price) {
		return nil, fmt.Errorf("price %q is not digits with an optional fraction", price)
	}
	sym, err := json.Marshal(symbol)
	if err != nil {
		return nil, err
	}
	p := price
	if quoted {
		p = `"` + price + `"`
	}
	body := []byte(`{"symbol":` + string(sym) + `,"price":` + p + "}\n")
	mux := http.NewServeMux()
	mux.HandleFunc("GET /price", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	})
	return mux, nil
}

// selfSigned makes an ECDSA P-256 certificate for 127.0.0.1, ::1 and
// localhost, valid from now for ttl, that is its own root (CA:true), and
// returns it with its PEM encoding.
func selfSigned(now time.Time, ttl time.Duration) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "cella price-oracle example"},
		NotBefore:             now.Add(-time.Minute),
		NotAfter:              now.Add(ttl),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	if len(der) == 0 {
		return tls.Certificate{}, nil, errors.New("empty certificate")
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, certPEM, nil
}
