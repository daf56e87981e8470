package pink

import (
	"context"
	"errors"
	"hash/fnv"
	"testing"
	"time"
)

// fuzzHTTP answers every request at once, with an outcome chosen by the URL.
type fuzzHTTP struct{}

func (fuzzHTTP) Do(ctx context.Context, req HTTPRequest) (HTTPResponse, error) {
	h := fnv.New32a()
	h.Write([]byte(req.URL))
	switch v := h.Sum32() % 14; {
	case v < 11:
		return HTTPResponse{}, HTTPError(v)
	case v == 11:
		return HTTPResponse{}, errors.New("refused")
	default:
		return HTTPResponse{StatusCode: 200, ReasonPhrase: "OK", Headers: []Header{{req.Method, req.URL}}, Body: req.Body}, nil
	}
}

// FuzzCall runs random function ids and inputs against a Session with fakes
// in both modes: it must never panic, and a call that does not trap returns a
// status Phala can return (0, StorageQuotaExceeded = 1, or an
// HttpRequestError code).
func FuzzCall(f *testing.F) {
	f.Add(uint32(FuncIsInTransaction), []byte{}, false)
	f.Add(uint32(FuncLog), []byte{3, 8, 'h', 'i'}, true)
	f.Fuzz(func(t *testing.T, id uint32, input []byte, tx bool) {
		r := newRig()
		r.env.HTTP = fuzzHTTP{}
		mode := Query
		if tx {
			mode = Transaction
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		s := NewSession(r.env, Exec{Mode: mode, Ctx: ctx, Chain: r.chain, BlockNumber: 1, Entry: testContract})
		x := &fakeExt{addr: testContract, gas: 50_000_000}
		status, _, err := s.Call(x, id, input)
		if err == nil && status > ErrTooManyHeaders.Code() {
			t.Fatalf("id %d: status %d", id, status)
		}
		if !tx && len(s.DeferredCacheOps()) != 0 {
			t.Fatal("query deferred cache ops")
		}
	})
}
