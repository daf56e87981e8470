package abciapp

import (
	"bytes"
	"sync"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/state"
)

// Bounds of the committed-state read cache.
const (
	// readCacheBytes caps the bytes of keys and values cached; past it the
	// cache starts over empty.
	readCacheBytes = 32 << 20
	// readCacheMaxValue is the largest value cached (contract code and
	// other large records are read rarely and straight from the store).
	readCacheMaxValue = 16 << 10
)

// readCache is a state.Store of committed state that remembers what it read
// from the app store, including absent keys, until a commit changes them:
// CheckTx and the block of every command read the same accounts, contract,
// cluster and parameters again and again, and each pebble Get walks its
// memtables and levels. committed updates the entries a block wrote, so a
// read never returns a value older than the last commit; a read that
// started before a commit is not cached (the generation check). Values are
// copied in and out, so no caller can change what another one reads. Safe
// for concurrent use.
type readCache struct {
	db *appdb.DB

	mu    sync.Mutex
	gen   uint64
	m     map[string][]byte // nil: absent in the store
	bytes int
}

func newReadCache(db *appdb.DB) *readCache {
	return &readCache{db: db, m: make(map[string][]byte)}
}

// Get implements state.Store.
func (c *readCache) Get(key []byte) ([]byte, error) {
	c.mu.Lock()
	v, ok := c.m[string(key)]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return bytes.Clone(v), nil
	}
	v, err := c.db.Get(key)
	if err != nil || len(v) > readCacheMaxValue {
		return v, err
	}
	c.mu.Lock()
	if c.gen == gen {
		if c.bytes+len(key)+len(v) > readCacheBytes {
			clear(c.m)
			c.bytes = 0
		}
		c.m[string(key)] = bytes.Clone(v)
		c.bytes += len(key) + len(v)
	}
	c.mu.Unlock()
	return v, nil
}

// committed records that ws is now in the store: the cached entries it
// touches take their new values, and reads begun before are not cached.
func (c *readCache) committed(ws state.WriteSet) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	for _, w := range ws {
		old, ok := c.m[string(w.Key)]
		if !ok {
			continue
		}
		c.bytes -= len(old)
		switch {
		case w.Delete:
			c.m[string(w.Key)] = nil
		case len(w.Value) > readCacheMaxValue:
			delete(c.m, string(w.Key))
			c.bytes -= len(w.Key)
		default:
			v := bytes.Clone(w.Value)
			if v == nil {
				v = []byte{}
			}
			c.m[string(w.Key)] = v
			c.bytes += len(v)
		}
	}
}
