package node

import (
	"container/list"
	"errors"
	"fmt"
	"sync"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tee/dev"
)

// AttestationVerifier returns the verifier the registry uses at block time
// for the chain g: dev quotes (signed by the genesis's dev root) only when
// the genesis allows them, and every hardware TEE Cella supports.
func AttestationVerifier(g *state.Genesis) state.AttestationVerifier {
	vs := tee.Verifiers{}
	if r := g.App.Registry; r.AllowDevAttestation {
		vs[tee.KindDev] = dev.NewVerifier(r.DevAttestationRoot)
	}
	addHardwareVerifiers(vs)
	return &verifierAdapter{vs: vs, cache: newVerdictCache(256)}
}

// verifierAdapter maps the TEE package's errors onto the state machine's,
// and remembers recent verdicts: a registration's quote is checked when the
// proposal is prepared, when it is processed and when the block is
// finalized, and verification is pure, so the second and third answers are
// the first one.
type verifierAdapter struct {
	vs    tee.Verifiers
	cache *verdictCache
}

func (a *verifierAdapter) Verify(kind string, quote, collateral []byte, reportData [64]byte, nowUnix int64) ([]byte, error) {
	var w scale.Writer
	w.String(kind)
	w.BytesVec(quote)
	w.BytesVec(collateral)
	w.Raw(reportData[:])
	w.I64(nowUnix)
	key := hashing.Blake2b256(w.Bytes())
	if v, ok := a.cache.get(key); ok {
		return v.measurement, v.err
	}
	m, err := a.vs.Verify(kind, quote, collateral, reportData, nowUnix)
	if errors.Is(err, tee.ErrReportDataMismatch) {
		err = fmt.Errorf("%w: %v", state.ErrReportDataMismatch, err)
	}
	a.cache.put(key, verdict{m, err})
	return m, err
}

type verdict struct {
	measurement []byte
	err         error
}

// verdictCache is a small LRU of verification verdicts.
type verdictCache struct {
	mu    sync.Mutex
	max   int
	order *list.List // of [32]byte, most recent first
	m     map[[32]byte]*list.Element
	v     map[[32]byte]verdict
}

func newVerdictCache(max int) *verdictCache {
	return &verdictCache{max: max, order: list.New(), m: map[[32]byte]*list.Element{}, v: map[[32]byte]verdict{}}
}

func (c *verdictCache) get(k [32]byte) (verdict, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[k]
	if !ok {
		return verdict{}, false
	}
	c.order.MoveToFront(e)
	return c.v[k], true
}

func (c *verdictCache) put(k [32]byte, v verdict) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.m[k]; ok {
		c.order.MoveToFront(e)
		c.v[k] = v
		return
	}
	c.m[k] = c.order.PushFront(k)
	c.v[k] = v
	for c.order.Len() > c.max {
		old := c.order.Remove(c.order.Back()).([32]byte)
		delete(c.m, old)
		delete(c.v, old)
	}
}
