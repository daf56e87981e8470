package loadgen

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
)

// fakeWorker answers pRPC ContractQuery as pRuntime does (signature
// verified, query decrypted, answer sealed to the client's key) with get()
// = Ok(true) for contract, and records the certificates it saw.
type fakeWorker struct {
	ecdh     *cipher.EcdhKey
	contract [32]byte
	mu       sync.Mutex
	certs    map[string]bool
	origins  map[phatwire.AccountID]bool
}

func (f *fakeWorker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path != "/prpc/PhactoryAPI.ContractQuery" {
		http.NotFound(w, r)
		return
	}
	b, _ := io.ReadAll(r.Body)
	req, sig, err := prpcpb.DecodeContractQueryRequest(b)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	chain, err := prpcpb.VerifyContractQueryRequest(req, sig, 1, nil)
	if err != nil || sig == nil {
		http.Error(w, "bad signature", http.StatusBadRequest)
		return
	}
	q, env, err := phatwire.OpenQuery(f.ecdh, req.GetEncodedEncryptedData())
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	origin, _ := phatwire.Origin(chain)
	f.mu.Lock()
	f.certs[string(sig.SignedBy.EncodedBody)] = true
	f.origins[origin] = true
	f.mu.Unlock()
	resp := &phatwire.ContractQueryResponse{Nonce: q.Head.Nonce}
	if q.Head.ID != f.contract {
		resp.Err = &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: "contract not found"}
	} else {
		resp.Payload = (&phatwire.ContractExecResult{Result: phatwire.ExecReturnValue{Data: []byte{0, 1}}}).Encode()
	}
	out, err := phatwire.SealResponse(f.ecdh, env.Pubkey, cipher.IV{9}, resp)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	ans, _ := proto.Marshal(&prpcpb.ContractQueryResponse{EncodedEncryptedData: out.Encode()})
	_, _ = w.Write(ans)
}

func newFakeWorker(t *testing.T) (*fakeWorker, *httptest.Server) {
	f := &fakeWorker{ecdh: cipher.EcdhKeyFromSeed([32]byte{7}), contract: [32]byte{0xf1},
		certs: map[string]bool{}, origins: map[phatwire.AccountID]bool{}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv
}

func TestRunQueries(t *testing.T) {
	f, srv := newFakeWorker(t)
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	cfg := QueryConfig{WorkerURL: srv.URL, WorkerEcdh: f.ecdh.Public(), Contract: f.contract, Input: []byte{0x2f, 0x86, 0x5b, 0xd9},
		Account: alice, Clients: 3, Duration: 200 * time.Millisecond}
	res, err := RunQueries(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.OK == 0 || res.Failed != 0 || res.Sent != res.OK || res.P50ms > res.P99ms || res.P99ms > res.MaxMs {
		t.Fatalf("result %+v", res)
	}
	// One certificate per client, all issued by the account.
	f.mu.Lock()
	nc, no, fromAlice := len(f.certs), len(f.origins), f.origins[phatwire.AccountID(alice.Public())]
	f.mu.Unlock()
	if nc != cfg.Clients || no != 1 || !fromAlice {
		t.Fatalf("%d certificates from %d origins, want %d from alice", nc, no, cfg.Clients)
	}

	// An answer the check refuses fails the run's first query.
	cfg.Check = func(out []byte) error {
		if string(out) != "\x00\x00" {
			return errors.New("not false")
		}
		return nil
	}
	if _, err := RunQueries(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "not false") {
		t.Fatalf("first query error %v", err)
	}
	// A contract the worker does not know fails the first query.
	cfg.Check, cfg.Contract = nil, [32]byte{0xee}
	if _, err := RunQueries(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "contract not found") {
		t.Fatalf("unknown contract: %v", err)
	}
	// A wrong worker key: the worker cannot decrypt.
	cfg.Contract, cfg.WorkerEcdh = f.contract, cipher.EcdhKeyFromSeed([32]byte{8}).Public()
	if _, err := RunQueries(context.Background(), cfg); err == nil {
		t.Fatal("wrong worker key accepted")
	}
}

func TestQuantile(t *testing.T) {
	d := func(ms ...int) []time.Duration {
		out := make([]time.Duration, len(ms))
		for i, m := range ms {
			out[i] = time.Duration(m) * time.Millisecond
		}
		return out
	}
	for _, tc := range []struct {
		in   []time.Duration
		q    float64
		want time.Duration
	}{
		{nil, 0.5, 0},
		{d(5), 0.99, 5 * time.Millisecond},
		{d(1, 2, 3, 4), 0.5, 2 * time.Millisecond},
		{d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.9, 9 * time.Millisecond},
		{d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 0.99, 10 * time.Millisecond},
		{d(1, 2), 0, time.Millisecond},
	} {
		if got := quantile(tc.in, tc.q); got != tc.want {
			t.Errorf("quantile(%v, %v) = %v, want %v", tc.in, tc.q, got, tc.want)
		}
	}
}

func TestMeasureCryptoFloor(t *testing.T) {
	f, err := MeasureCryptoFloor(time.Millisecond, []byte{1, 2, 3, 4})
	if err != nil {
		t.Fatal(err)
	}
	if f.Rounds < 10 || f.PerQueryMicros <= 0 || f.Cores < 1 || f.CeilingQPS <= 0 {
		t.Fatalf("%+v", f)
	}
}
