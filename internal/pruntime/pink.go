package pruntime

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/pink"
	"github.com/cella-network/cella/internal/pink/outbound"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/worker/contracts"
)

// PinkConfig configures the pink extension's off-chain services in this
// pRuntime: outbound HTTP (queries only), the contracts' cache and their
// log ring. None of it is consensus state.
type PinkConfig struct {
	// HTTPProxy, when set, sends every outbound request through this proxy
	// (socks5://host:port, socks5h://… or http://host:port for CONNECT), as
	// Phala's all_proxy. TLS still ends in the pRuntime: the proxy sees
	// host names and sizes only.
	HTTPProxy string
	// DevExtraRootCA is PEM certificates trusted in addition to the
	// compiled-in roots, on dev chains only (chains that admit dev
	// attestations): a test HTTPS server's CA. On any other chain the
	// worker refuses to run with it (see checkPinkChain).
	DevExtraRootCA []byte
	// CacheQuota is each contract's cache quota in bytes
	// (DefaultCacheQuota when 0); CacheTotal caps all contracts together
	// (DefaultCacheTotal when 0).
	CacheQuota, CacheTotal int
	// HTTP and DevHTTP replace the outbound clients (tests).
	HTTP, DevHTTP pink.HTTPClient
}

// Defaults of the pink services.
const (
	DefaultCacheQuota = 1 << 20
	DefaultCacheTotal = 64 << 20
	// maxLogPageBytes bounds the messages of one ContractLogs answer.
	maxLogPageBytes = 1 << 20
)

// ErrDevRootOnProductionChain: --dev-extra-root-ca was given to a worker
// of a chain that does not admit dev attestations.
var ErrDevRootOnProductionChain = errors.New("pruntime: an extra root CA is allowed on dev chains only (this chain does not admit dev attestations)")

// pinkState is the runtime's pink services.
type pinkState struct {
	svc   *contracts.Services
	cache *pink.MemCache
	logs  *pink.LogRing
	// quote is the worker's attestation for worker_sgx_quote, made once.
	quoteOnce sync.Once
	quote     *pink.Quote
	devRoot   bool

	// Outbound HTTP, for metrics: requests by result, body bytes.
	mu       sync.Mutex
	requests map[string]uint64
	bytesIn  uint64
	bytesOut uint64
}

// statusClasses are the metric labels of status codes 100–599.
var statusClasses = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// observe counts one outbound request (never its URL or contents).
func (p *pinkState) observe(o outbound.Observation) {
	result := "error"
	switch {
	case o.Err != nil:
		if e, ok := o.Err.(pink.HTTPError); ok {
			result = e.Name()
		}
	case o.Status >= 100 && o.Status < 600:
		result = statusClasses[o.Status/100-1]
	}
	p.mu.Lock()
	p.requests[result]++
	p.bytesIn += uint64(max(o.ResponseBytes, 0))
	p.bytesOut += uint64(max(o.RequestBytes, 0))
	p.mu.Unlock()
}

// wallClock is the worker's untrusted clock.
type wallClock struct{}

func (wallClock) NowMillis() uint64 { return uint64(max(time.Now().UnixMilli(), 0)) }

// newPink builds the pink services of cfg.
func newPink(cfg PinkConfig) (*pinkState, error) {
	p := &pinkState{devRoot: len(cfg.DevExtraRootCA) > 0, requests: map[string]uint64{}}
	strict, dev := cfg.HTTP, cfg.DevHTTP
	if strict == nil {
		c, err := outbound.New(outbound.Config{Proxy: cfg.HTTPProxy, Observe: p.observe})
		if err != nil {
			return nil, fmt.Errorf("pruntime: outbound HTTP: %w", err)
		}
		strict = c
	}
	if dev == nil {
		c, err := outbound.New(outbound.Config{Proxy: cfg.HTTPProxy, AllowPlainHTTP: true, AllowPrivate: true, ExtraRootCAs: cfg.DevExtraRootCA, Observe: p.observe})
		if err != nil {
			return nil, fmt.Errorf("pruntime: outbound HTTP (dev chains): %w", err)
		}
		dev = c
	}
	quota, total := cfg.CacheQuota, cfg.CacheTotal
	if quota <= 0 {
		quota = DefaultCacheQuota
	}
	if total <= 0 {
		total = DefaultCacheTotal
	}
	lc := pink.DefaultLogRingConfig
	lc.MaxMessage = phatwire.MaxLogMessage
	p.cache = pink.NewMemCache(pink.MemCacheConfig{DefaultQuota: quota, Total: total}, wallClock{})
	p.logs = pink.NewLogRing(lc)
	p.svc = &contracts.Services{HTTP: slotYielding{strict}, DevHTTP: slotYielding{dev}, Cache: p.cache, Logs: p.logs, Clock: wallClock{}, Rand: rand.Reader}
	return p, nil
}

// slotYielding gives the query's admission slot and its query lock up
// while a request is on the network (awayForIO).
type slotYielding struct{ c pink.HTTPClient }

func (y slotYielding) Do(ctx context.Context, req pink.HTTPRequest) (pink.HTTPResponse, error) {
	back := awayForIO(ctx)
	defer back()
	return y.c.Do(ctx, req)
}

// Page implements LogSource over the log ring: at most max entries and
// maxLogPageBytes of messages.
func (p *pinkState) Page(contract [32]byte, after uint64, max int) phatwire.LogPage {
	es := p.logs.Since(engine.AccountID(contract), after, max)
	page := phatwire.LogPage{Next: after}
	size := 0
	for _, e := range es {
		size += len(e.Message)
		if size > maxLogPageBytes && len(page.Entries) > 0 {
			break
		}
		page.Entries = append(page.Entries, phatwire.LogEntry{Seq: e.Seq, Block: e.BlockNumber, TimeMs: e.TimestampMs,
			Level: uint8(e.Level), InQuery: e.Mode == pink.Query, Message: e.Message})
		page.Next = e.Seq
	}
	return page
}

// setWorker gives the services the worker's keys: its ECDH public key
// (worker_pubkey) and, lazily, an attestation over its identity and ECDH
// keys (worker_sgx_quote).
func (p *pinkState) setWorker(t tee.Provider, identity, ecdh [32]byte) {
	p.svc.WorkerPubkey = ecdh
	p.svc.Quote = func() *pink.Quote {
		p.quoteOnce.Do(func() {
			var rd [64]byte
			copy(rd[:32], identity[:])
			copy(rd[32:], ecdh[:])
			q, err := t.Attest(rd)
			if err != nil {
				return
			}
			// Phala knows only SGX's EPID and DCAP; every Cella quote
			// (TDX, SGX DCAP, dev) is reported as DCAP: the bytes are the
			// TEE's own format.
			p.quote = &pink.Quote{Type: pink.AttestationDcap, Quote: q}
		})
		return p.quote
	}
}

// PinkFlags builds a PinkConfig from the operator's flags: an outbound
// proxy URL and the path of a PEM file of extra root CAs (dev chains only).
func PinkFlags(proxy, devRootCAFile string) (PinkConfig, error) {
	c := PinkConfig{HTTPProxy: proxy}
	if devRootCAFile != "" {
		b, err := os.ReadFile(devRootCAFile)
		if err != nil {
			return c, fmt.Errorf("--dev-extra-root-ca: %w", err)
		}
		if len(b) > 1<<20 {
			return c, fmt.Errorf("--dev-extra-root-ca: %s is over 1 MiB", devRootCAFile)
		}
		c.DevExtraRootCA = b
	}
	if _, err := newPink(c); err != nil {
		return c, err
	}
	return c, nil
}

// Flag help of PinkFlags' flags, shared by the pruntime binary and `cella
// pruntime run`.
const (
	HTTPProxyHelp      = "send contracts' HTTP requests through this proxy: socks5://host:port or http://host:port (CONNECT); TLS still ends in the pRuntime"
	DevExtraRootCAHelp = "PEM file of extra root CAs for contracts' HTTPS requests, for test servers on dev chains only (the worker refuses to run with it on any other chain)"
)
