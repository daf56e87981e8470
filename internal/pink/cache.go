package pink

import (
	"bytes"
	"errors"
	"slices"
	"sync"

	"github.com/cella-network/cella/internal/contract/engine"
)

// ErrQuotaExceeded is Phala's StorageQuotaExceeded: the value does not fit
// the contract's cache quota (status 1 of cache_set).
var ErrQuotaExceeded = errors.New("pink cache: storage quota exceeded")

// DefaultCacheTTL is the lifetime of a cache entry set without an
// expiration, in seconds: 7 days, as Phala's local cache.
const DefaultCacheTTL = 7 * 24 * 3600

// Cache is the off-chain, per-worker key-value cache of Phat contracts
// (Phala's local_cache). It is not consensus state: entries differ between
// workers and may vanish at any time. Implementations must be safe for
// concurrent use (queries run in parallel).
type Cache interface {
	// Get returns the live (unexpired) value of key in contract's cache.
	Get(contract engine.AccountID, key []byte) ([]byte, bool)
	// Set stores value under key with the default lifetime, replacing any
	// old value. It returns ErrQuotaExceeded when the contract's quota
	// cannot hold it (the old value is then kept).
	Set(contract engine.AccountID, key, value []byte) error
	// SetExpiration sets key to expire expireSecs seconds from now; 0
	// removes it. A missing or already expired key is left alone (an
	// expired one is removed), as Phala's set_expire.
	SetExpiration(contract engine.AccountID, key []byte, expireSecs uint64)
	// Remove deletes key and returns the value it held (expired or not,
	// as Phala's remove).
	Remove(contract engine.AccountID, key []byte) ([]byte, bool)
}

// CacheOpKind is the variant of Phala's CacheOp (its SCALE index).
type CacheOpKind uint8

// The CacheOp variants, in Phala's order.
const (
	CacheSet           CacheOpKind = 0 // Set{key, value}
	CacheSetExpiration CacheOpKind = 1 // SetExpiration{key, expiration}
	CacheRemove        CacheOpKind = 2 // Remove{key}
)

// CacheOp is Phala's pink CacheOp: a cache write made in a transaction,
// applied only after the transaction commits (PinkEvent::CacheOp).
type CacheOp struct {
	Kind       CacheOpKind
	Key        []byte
	Value      []byte // CacheSet
	Expiration uint64 // CacheSetExpiration, seconds from when it is applied
}

// ContractCacheOp is a CacheOp together with the contract whose cache it
// writes.
type ContractCacheOp struct {
	Contract engine.AccountID
	Op       CacheOp
}

// ApplyCacheOps applies ops to contract's cache in order, as Phala's
// apply_cache_op: errors (a full quota) are ignored, as there is nobody to
// report them to once the transaction has committed.
func ApplyCacheOps(c Cache, contract engine.AccountID, ops []CacheOp) {
	if c == nil {
		return
	}
	for _, op := range ops {
		switch op.Kind {
		case CacheSet:
			_ = c.Set(contract, op.Key, op.Value)
		case CacheSetExpiration:
			c.SetExpiration(contract, op.Key, op.Expiration)
		case CacheRemove:
			c.Remove(contract, op.Key)
		}
	}
}

// MemCacheConfig sizes a MemCache. Sizes count key plus value bytes, as
// Phala.
type MemCacheConfig struct {
	// DefaultQuota is a contract's quota in bytes unless SetQuota set
	// another. 0 means a contract may not use the cache until given a
	// quota (Phala's behaviour for unstaked contracts).
	DefaultQuota int
	// Total caps the bytes of all contracts together. When a Set would
	// pass it, expired entries are dropped first, then the entries that
	// expire soonest (ties: lower contract id, then lower key) until the
	// cache is at most 7/8 full. 0 means no cap beyond the quotas.
	Total int
	// TTL is the default lifetime in seconds (0: DefaultCacheTTL).
	TTL uint64
}

// MemCache is an in-memory Cache with a per-contract quota, a total cap and
// expiry on an injected clock. Eviction is deterministic. It is safe for
// concurrent use.
type MemCache struct {
	mu      sync.Mutex
	cfg     MemCacheConfig
	clock   Clock
	stores  map[engine.AccountID]*cacheStore
	quotas  map[engine.AccountID]int
	total   int
	setsGC  int
	gcEvery int
}

type cacheStore struct {
	size int
	kvs  map[string]*cacheValue
}

type cacheValue struct {
	expireAt uint64 // seconds on the cache clock
	value    []byte
}

// NewMemCache returns an empty cache on clock (whose milliseconds are taken
// as the time base of expiry).
func NewMemCache(cfg MemCacheConfig, clock Clock) *MemCache {
	if cfg.TTL == 0 {
		cfg.TTL = DefaultCacheTTL
	}
	return &MemCache{
		cfg:     cfg,
		clock:   clock,
		stores:  map[engine.AccountID]*cacheStore{},
		quotas:  map[engine.AccountID]int{},
		gcEvery: 1000,
	}
}

func (m *MemCache) now() uint64 {
	if m.clock == nil {
		return 0
	}
	return m.clock.NowMillis() / 1000
}

// SetQuota sets contract's quota in bytes (Phala's apply_quotas). A quota of
// 0 drops the contract's cache; a smaller quota evicts the entries that
// expire soonest until the contract fits.
func (m *MemCache) SetQuota(contract engine.AccountID, quota int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.quotas[contract] = max(quota, 0)
	s := m.stores[contract]
	if s == nil {
		return
	}
	if quota <= 0 {
		m.total -= s.size
		delete(m.stores, contract)
		return
	}
	if s.size > quota {
		for _, k := range s.byExpiry() {
			if s.size <= quota {
				break
			}
			m.total -= s.remove(k)
		}
	}
}

func (m *MemCache) quota(contract engine.AccountID) int {
	if q, ok := m.quotas[contract]; ok {
		return q
	}
	return m.cfg.DefaultQuota
}

// Size returns the bytes held by contract and by all contracts.
func (m *MemCache) Size(contract engine.AccountID) (contractBytes, total int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s := m.stores[contract]; s != nil {
		contractBytes = s.size
	}
	return contractBytes, m.total
}

// Get implements Cache.
func (m *MemCache) Get(contract engine.AccountID, key []byte) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.stores[contract]
	if s == nil {
		return nil, false
	}
	v := s.kvs[string(key)]
	if v == nil || v.expireAt <= m.now() {
		return nil, false
	}
	return slices.Clone(v.value), true
}

// Set implements Cache.
func (m *MemCache) Set(contract engine.AccountID, key, value []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybeGC()
	q := m.quota(contract)
	if q <= 0 {
		return ErrQuotaExceeded
	}
	s := m.stores[contract]
	if s == nil {
		s = &cacheStore{kvs: map[string]*cacheValue{}}
	}
	now := m.now()
	n := len(key) + len(value)
	old := 0
	if v := s.kvs[string(key)]; v != nil {
		old = len(key) + len(v.value)
	}
	if s.size-old+n > q {
		m.total -= s.clearExpired(now)
		old = 0
		if v := s.kvs[string(key)]; v != nil {
			old = len(key) + len(v.value)
		}
		if s.size-old+n > q {
			m.dropIfEmpty(contract, s)
			return ErrQuotaExceeded
		}
	}
	if m.cfg.Total > 0 && m.total-old+n > m.cfg.Total {
		if n > m.cfg.Total {
			m.dropIfEmpty(contract, s)
			return ErrQuotaExceeded
		}
		m.stores[contract] = s
		m.evictGlobal(now, m.cfg.Total-m.cfg.Total/8-n)
		s = m.stores[contract]
		if s == nil {
			s = &cacheStore{kvs: map[string]*cacheValue{}}
		}
		old = 0
		if v := s.kvs[string(key)]; v != nil {
			old = len(key) + len(v.value)
		}
	}
	m.total -= s.remove(string(key))
	s.kvs[string(key)] = &cacheValue{expireAt: satAdd(now, m.cfg.TTL), value: slices.Clone(value)}
	s.size += n
	m.total += n
	m.stores[contract] = s
	return nil
}

func (m *MemCache) dropIfEmpty(contract engine.AccountID, s *cacheStore) {
	if len(s.kvs) == 0 {
		delete(m.stores, contract)
	}
}

// SetExpiration implements Cache.
func (m *MemCache) SetExpiration(contract engine.AccountID, key []byte, expireSecs uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybeGC()
	s := m.stores[contract]
	if s == nil {
		return
	}
	v := s.kvs[string(key)]
	if v == nil {
		return
	}
	now := m.now()
	if expireSecs == 0 || v.expireAt < now {
		m.total -= s.remove(string(key))
		m.dropIfEmpty(contract, s)
		return
	}
	v.expireAt = satAdd(now, expireSecs)
}

// Remove implements Cache.
func (m *MemCache) Remove(contract engine.AccountID, key []byte) ([]byte, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybeGC()
	s := m.stores[contract]
	if s == nil {
		return nil, false
	}
	v := s.kvs[string(key)]
	if v == nil {
		return nil, false
	}
	m.total -= s.remove(string(key))
	m.dropIfEmpty(contract, s)
	return v.value, true
}

// maybeGC drops expired entries every gcEvery writes, as Phala's
// maybe_clear_expired.
func (m *MemCache) maybeGC() {
	m.setsGC++
	if m.setsGC < m.gcEvery {
		return
	}
	m.setsGC = 0
	now := m.now()
	for id, s := range m.stores {
		m.total -= s.clearExpired(now)
		m.dropIfEmpty(id, s)
	}
}

// evictGlobal drops expired entries, then the soonest-expiring ones (ties:
// contract id, then key, both bytewise) until the total is at most target.
func (m *MemCache) evictGlobal(now uint64, target int) {
	for id, s := range m.stores {
		m.total -= s.clearExpired(now)
		m.dropIfEmpty(id, s)
	}
	if m.total <= target {
		return
	}
	type ref struct {
		id  engine.AccountID
		key string
		exp uint64
	}
	var all []ref
	for id, s := range m.stores {
		for k, v := range s.kvs {
			all = append(all, ref{id, k, v.expireAt})
		}
	}
	slices.SortFunc(all, func(a, b ref) int {
		if a.exp != b.exp {
			if a.exp < b.exp {
				return -1
			}
			return 1
		}
		if c := bytes.Compare(a.id[:], b.id[:]); c != 0 {
			return c
		}
		return bytes.Compare([]byte(a.key), []byte(b.key))
	})
	for _, r := range all {
		if m.total <= target {
			break
		}
		s := m.stores[r.id]
		m.total -= s.remove(r.key)
		m.dropIfEmpty(r.id, s)
	}
}

// remove deletes key and returns the bytes freed.
func (s *cacheStore) remove(key string) int {
	v := s.kvs[key]
	if v == nil {
		return 0
	}
	delete(s.kvs, key)
	n := len(key) + len(v.value)
	s.size -= n
	return n
}

// clearExpired drops entries with expireAt <= now and returns the bytes freed.
func (s *cacheStore) clearExpired(now uint64) int {
	freed := 0
	for k, v := range s.kvs {
		if v.expireAt <= now {
			freed += s.remove(k)
		}
	}
	return freed
}

// byExpiry returns the keys, soonest expiry first (ties by key).
func (s *cacheStore) byExpiry() []string {
	keys := make([]string, 0, len(s.kvs))
	for k := range s.kvs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		ea, eb := s.kvs[a].expireAt, s.kvs[b].expireAt
		if ea != eb {
			if ea < eb {
				return -1
			}
			return 1
		}
		return bytes.Compare([]byte(a), []byte(b))
	})
	return keys
}

func satAdd(a, b uint64) uint64 {
	if a+b < a {
		return ^uint64(0)
	}
	return a + b
}

// ApplyDeferred applies ops (as returned by Session.DeferredCacheOps) in
// order, each to its own contract's cache.
func ApplyDeferred(c Cache, ops []ContractCacheOp) {
	for _, o := range ops {
		ApplyCacheOps(c, o.Contract, []CacheOp{o.Op})
	}
}
