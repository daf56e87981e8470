package pruntime

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
)

// trivialExecutor answers every query at once with a fixed result.
type trivialExecutor struct{}

func (trivialExecutor) QueryMessage(context.Context, *MessageQuery) (*phatwire.ContractExecResult, error) {
	return &phatwire.ContractExecResult{Result: phatwire.ExecReturnValue{Data: []byte{0, 0}}}, nil
}

func (trivialExecutor) QueryInstantiate(context.Context, *InstantiateQuery) (*phatwire.ContractInstantiateResult, error) {
	return &phatwire.ContractInstantiateResult{}, nil
}

// BenchmarkQueryCryptoFloor is the cryptography every query needs: one
// sr25519 verification (the query's signature; the certificate is cached),
// one ECDH agreement, AES-GCM open of the query and seal of the answer.
func BenchmarkQueryCryptoFloor(b *testing.B) {
	worker := cipher.EcdhKeyFromSeed([32]byte{1})
	client := cipher.EcdhKeyFromSeed([32]byte{2})
	signer := keys.FromSeed([32]byte{3})
	q := (&phatwire.ContractQuery{Data: phatwire.Query{Kind: phatwire.QueryInkMessage,
		Message: phatwire.InkMessageQuery{Payload: []byte{0x2f, 0x86, 0x5b, 0xd9}}}}).Encode()
	env, err := cipher.Encrypt(client, worker.Public(), cipher.IV{1}, q)
	if err != nil {
		b.Fatal(err)
	}
	msg := env.Encode()
	sig := signer.Sign(msg)
	answer := (&phatwire.ContractQueryResponse{Payload: (&phatwire.ContractExecResult{}).Encode()}).Encode()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if !keys.Verify(signer.Public(), msg, sig) {
			b.Fatal("verify")
		}
		k, err := worker.Agree(client.Public())
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cipher.Open(k, env.IV, env.Data); err != nil {
			b.Fatal(err)
		}
		_ = cipher.Seal(k, cipher.IV{2}, answer)
	}
}

// BenchmarkQueryHTTP is a full pRPC ContractQuery on loopback against a
// trivial executor: HTTP, protobuf, certificate check (cached), decrypt,
// dispatch, encrypt.
func BenchmarkQueryHTTP(b *testing.B) {
	r, err := openConfig(b.TempDir(), Config{CheckpointInterval: 100, QueryExecutor: trivialExecutor{}})
	if err != nil {
		b.Fatal(err)
	}
	var id keys.PublicKey
	c := testChain(b, &id, 100)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	qc := newQClient(b, r.Info().EcdhPublicKey, 1000)
	q := qc.query([32]byte{1}, inkMessage(selGet))
	body := marshal(b, qc.seal(b, q))
	url := srv.URL + "/prpc/PhactoryAPI.ContractQuery"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}

// BenchmarkQueryHTTPParallel is BenchmarkQueryHTTP with concurrent
// clients (through the query gate: cores+2 in flight).
func BenchmarkQueryHTTPParallel(b *testing.B) {
	r, err := openConfig(b.TempDir(), Config{CheckpointInterval: 100, QueryExecutor: trivialExecutor{}})
	if err != nil {
		b.Fatal(err)
	}
	var id keys.PublicKey
	c := testChain(b, &id, 100)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	qc := newQClient(b, r.Info().EcdhPublicKey, 1000)
	body := marshal(b, qc.seal(b, qc.query([32]byte{1}, inkMessage(selGet))))
	url := srv.URL + "/prpc/PhactoryAPI.ContractQuery"
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("status %d", res.StatusCode)
				return
			}
		}
	})
}

// BenchmarkQueryHTTPFlipper is a full pRPC query of flipper's get() on the
// engine (compiled code cached after the first query).
func BenchmarkQueryHTTPFlipper(b *testing.B) {
	w := newQueryWorld(b)
	r := queryRuntime(b, w)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	qc := newQClient(b, r.Info().EcdhPublicKey, 1000)
	body := marshal(b, qc.seal(b, qc.query(w.flipper, inkMessage(selGet))))
	url := srv.URL + "/prpc/PhactoryAPI.ContractQuery"
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		res, err := http.Post(url, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
