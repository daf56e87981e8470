package node

import (
	"errors"
	"sync"

	dbm "github.com/cometbft/cometbft-db"
)

// errDBClosed is returned by writes to a database after it was closed.
var errDBClosed = errors.New("node: database closed")

// stoppableDB wraps one of CometBFT's databases so that closing it is safe
// while CometBFT's goroutines still run. CometBFT v0.38 closes its block
// store when the node stops, but per-peer reactor goroutines (the consensus
// reactor's queryMaj23Routine, for one) are not waited for: one that passed
// its "still running?" check reads the store an instant later and panics on
// leveldb's "closed" error, taking the process down on an ordinary stop.
// After Close, reads here answer "not found" (every caller handles a missing
// record, it is what a pruned height looks like) and writes fail; the
// lock makes Close wait for reads already in progress.
type stoppableDB struct {
	dbm.DB
	mu     sync.RWMutex
	closed bool
}

func (d *stoppableDB) Get(key []byte) ([]byte, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, nil
	}
	return d.DB.Get(key)
}

func (d *stoppableDB) Has(key []byte) (bool, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return false, nil
	}
	return d.DB.Has(key)
}

func (d *stoppableDB) write(f func() error) error {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return errDBClosed
	}
	return f()
}

func (d *stoppableDB) Set(k, v []byte) error { return d.write(func() error { return d.DB.Set(k, v) }) }
func (d *stoppableDB) SetSync(k, v []byte) error {
	return d.write(func() error { return d.DB.SetSync(k, v) })
}
func (d *stoppableDB) Delete(k []byte) error { return d.write(func() error { return d.DB.Delete(k) }) }
func (d *stoppableDB) DeleteSync(k []byte) error {
	return d.write(func() error { return d.DB.DeleteSync(k) })
}

func (d *stoppableDB) Iterator(start, end []byte) (dbm.Iterator, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, errDBClosed
	}
	return d.DB.Iterator(start, end)
}

func (d *stoppableDB) ReverseIterator(start, end []byte) (dbm.Iterator, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if d.closed {
		return nil, errDBClosed
	}
	return d.DB.ReverseIterator(start, end)
}

// Close closes the database once; later calls do nothing.
func (d *stoppableDB) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	return d.DB.Close()
}
