package pink

import (
	"bytes"
	"context"
	"errors"
	"sync"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// fakeExt is an engine.ExtContext with a gas budget.
type fakeExt struct {
	addr, caller engine.AccountID
	gas          uint64
	used         uint64
}

func (f *fakeExt) Address() engine.AccountID { return f.addr }
func (f *fakeExt) Caller() engine.AccountID  { return f.caller }
func (f *fakeExt) ReadOnly() bool            { return false }
func (f *fakeExt) ChargeGas(n uint64) error {
	if n > f.gas-f.used {
		f.used = f.gas
		return engine.ErrOutOfGas
	}
	f.used += n
	return nil
}

// fakeHTTP answers by URL; "block://" URLs wait for the context.
type fakeHTTP struct {
	mu    sync.Mutex
	calls []HTTPRequest
	resp  map[string]HTTPResponse
	errs  map[string]error
}

func (h *fakeHTTP) Do(ctx context.Context, req HTTPRequest) (HTTPResponse, error) {
	h.mu.Lock()
	h.calls = append(h.calls, req)
	h.mu.Unlock()
	if bytes.HasPrefix([]byte(req.URL), []byte("block://")) {
		<-ctx.Done()
		return HTTPResponse{}, ctx.Err()
	}
	if err, ok := h.errs[req.URL]; ok {
		return HTTPResponse{}, err
	}
	if r, ok := h.resp[req.URL]; ok {
		return r, nil
	}
	return HTTPResponse{}, errors.New("dial tcp: connection refused")
}

type fixedClock uint64

func (c *fixedClock) NowMillis() uint64 { return uint64(*c) }

type fakeChain struct {
	sys   *engine.AccountID
	codes map[engine.Hash]bool
}

func (c *fakeChain) Balance(a engine.AccountID) (total, free scale.U128) {
	return scale.U128{Lo: uint64(a[0]) + 100}, scale.U128{Lo: uint64(a[0]), Hi: 1}
}
func (c *fakeChain) CodeExists(h engine.Hash, sidevm bool) bool { return !sidevm && c.codes[h] }
func (c *fakeChain) SystemContract() (engine.AccountID, bool) {
	if c.sys == nil {
		return engine.AccountID{}, false
	}
	return *c.sys, true
}

// zeroRand is a deterministic randomness source (0, 1, 2, …).
type countRand struct{ n byte }

func (r *countRand) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = r.n
		r.n++
	}
	return len(b), nil
}

var (
	testContract = engine.AccountID{0xc0, 0x01}
	testSystem   = engine.AccountID{0x5e}
	testCluster  = keys.FromSeed([32]byte{7})
)

type testRig struct {
	env   *Env
	http  *fakeHTTP
	cache *MemCache
	logs  *LogRing
	clock *fixedClock
	chain *fakeChain
}

func newRig() *testRig {
	clk := fixedClock(1_700_000_000_000)
	r := &testRig{
		http:  &fakeHTTP{resp: map[string]HTTPResponse{}, errs: map[string]error{}},
		clock: &clk,
		logs:  NewLogRing(LogRingConfig{}),
		chain: &fakeChain{sys: &testSystem, codes: map[engine.Hash]bool{{0xaa}: true}},
	}
	r.cache = NewMemCache(MemCacheConfig{DefaultQuota: 1024, Total: 1 << 20}, r.clock)
	r.env = &Env{
		HTTP: r.http, Cache: r.cache, Logs: r.logs, Clock: r.clock, Rand: &countRand{},
		ClusterKey: testCluster, WorkerPubkey: [32]byte{0xee, 0xff},
		Quote:          func() *Quote { return &Quote{Type: AttestationDcap, Quote: []byte{0xaa, 0xbb}} },
		EventChainHead: func() (uint64, engine.Hash) { return 9, engine.Hash{0x42} },
	}
	return r
}

func (r *testRig) session(m Mode) *Session {
	return NewSession(r.env, Exec{Mode: m, Ctx: context.Background(), Chain: r.chain, BlockNumber: 77, Entry: testContract})
}

func newExt() *fakeExt { return &fakeExt{addr: testContract, gas: 1 << 40} }

// enc builds SCALE input with a Writer.
func enc(f func(w *scale.Writer)) []byte {
	w := scale.NewWriter(64)
	f(w)
	return w.Bytes()
}
