package state

import (
	"container/list"
	"sync"
)

// SigCache remembers transactions (by tx.Hash of their raw bytes) whose
// signature was found valid, so that CheckTx, recheck, PrepareProposal,
// ProcessProposal and FinalizeBlock verify each signature once. Only valid
// signatures may be added. Implementations must be safe for concurrent use.
type SigCache interface {
	Contains(txHash [32]byte) bool
	Add(txHash [32]byte)
}

// LRUSigCache is a bounded, concurrency-safe SigCache that evicts the least
// recently used entry.
type LRUSigCache struct {
	mu    sync.Mutex
	cap   int
	ll    *list.List
	items map[[32]byte]*list.Element
}

// NewSigCache returns an LRU SigCache holding at most n entries (n ≥ 1).
func NewSigCache(n int) *LRUSigCache {
	if n < 1 {
		n = 1
	}
	return &LRUSigCache{cap: n, ll: list.New(), items: make(map[[32]byte]*list.Element, n)}
}

// Contains reports whether h is cached and marks it recently used.
func (c *LRUSigCache) Contains(h [32]byte) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[h]; ok {
		c.ll.MoveToFront(e)
		return true
	}
	return false
}

// Add caches h, evicting the least recently used entry when full.
func (c *LRUSigCache) Add(h [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.items[h]; ok {
		c.ll.MoveToFront(e)
		return
	}
	if c.ll.Len() >= c.cap {
		old := c.ll.Back()
		c.ll.Remove(old)
		delete(c.items, old.Value.([32]byte))
	}
	c.items[h] = c.ll.PushFront(h)
}

// Len returns the number of cached entries.
func (c *LRUSigCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
