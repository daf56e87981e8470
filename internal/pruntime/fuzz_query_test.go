package pruntime

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
)

// fuzzWorkerSeeds fix the worker's keys in the fuzz target, so that the
// checked-in corpus holds requests that decrypt and verify.
var fuzzWorkerSeeds = [2][32]byte{{0xf1}, {0xf2}}

// fuzzRuntime is queryRuntime with the worker's keys replaced by fixed ones.
func fuzzRuntime(tb testing.TB) (*Runtime, *queryWorld) {
	w := newQueryWorld(tb)
	r := queryRuntime(tb, w)
	r.mu.Lock()
	r.keys = keysFromSeeds(fuzzWorkerSeeds[0], fuzzWorkerSeeds[1])
	r.mu.Unlock()
	return r, w
}

// fuzzSeeds are valid requests of every kind and some broken ones.
func fuzzSeeds(tb testing.TB, r *Runtime, w *queryWorld) [][]byte {
	c := newQClient(tb, r.Info().EcdhPublicKey, 1000)
	var seeds [][]byte
	for _, q := range []*phatwire.ContractQuery{
		c.query(w.flipper, inkMessage(selGet)),
		c.query(w.float, inkMessage([]byte{7, 0, 0, 0})),
		c.query([32]byte{0x99}, inkMessage(selGet)),
		c.query([32]byte{0x5e}, phatwire.Query{Kind: phatwire.QueryInkInstantiate, Instantiate: phatwire.InkInstantiateQuery{
			CodeHash: w.flipCode, Salt: []byte{1}, InstantiateData: append(append([]byte{}, selFlipperNew...), 1)}}),
		c.query(w.flipper, phatwire.Query{Kind: phatwire.QuerySidevm, Sidevm: []byte("{}")}),
	} {
		req := c.seal(tb, q)
		seeds = append(seeds, marshal(tb, req))
		req.Signature = nil
		seeds = append(seeds, marshal(tb, req))
	}
	return append(seeds, nil, []byte{0x0a, 0x00}, []byte{0x12, 0x02, 0x0a, 0x00})
}

// FuzzPrpcContractQuery feeds arbitrary bodies to POST
// /prpc/PhactoryAPI.ContractQuery: the handler never panics, answers only
// 200, 400, 413 or 500 with a PrpcError on failure, and a 200 answer is a
// ContractQueryResponse. Regenerate the corpus with
// CELLA_WRITE_FUZZ_CORPUS=1 go test -run FuzzPrpcContractQuery.
func FuzzPrpcContractQuery(f *testing.F) {
	r, w := fuzzRuntime(f)
	seeds := fuzzSeeds(f, r, w)
	if os.Getenv("CELLA_WRITE_FUZZ_CORPUS") != "" {
		dir := filepath.Join("testdata", "fuzz", "FuzzPrpcContractQuery")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			f.Fatal(err)
		}
		for i, s := range seeds {
			body := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", s)
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed-%02d", i)), []byte(body), 0o644); err != nil {
				f.Fatal(err)
			}
		}
	}
	for _, s := range seeds {
		f.Add(s)
	}
	h := PublicHandler(r)
	// The corpus reaches the executor: its first seed is answered.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/prpc/PhactoryAPI.ContractQuery", bytes.NewReader(seeds[0])))
	if rec.Code != http.StatusOK || w.calls.Load() == 0 {
		f.Fatalf("seed 0: %d %q", rec.Code, rec.Body.Bytes())
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, "/prpc/PhactoryAPI.ContractQuery", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/octet-stream")
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusOK:
			var res prpcpb.ContractQueryResponse
			if err := proto.Unmarshal(rec.Body.Bytes(), &res); err != nil || len(res.EncodedEncryptedData) == 0 {
				t.Fatalf("200 with %x (%v)", rec.Body.Bytes(), err)
			}
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusInternalServerError:
			var pe prpcpb.PrpcError
			if err := proto.Unmarshal(rec.Body.Bytes(), &pe); err != nil || pe.Message == "" {
				t.Fatalf("%d with %x (%v)", rec.Code, rec.Body.Bytes(), err)
			}
		default:
			t.Fatalf("status %d", rec.Code)
		}
	})
}
