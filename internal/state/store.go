package state

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/cella-network/cella/internal/scale"
)

// Store is read access to committed chain state. Get returns (nil, nil) when
// the key is absent; an error means the store itself failed (I/O), and makes
// the state machine stop with that error rather than decide anything.
type Store interface {
	Get(key []byte) ([]byte, error)
}

// Write is one entry of a write-set: a key set to Value, or deleted.
type Write struct {
	Key    []byte
	Value  []byte
	Delete bool
}

// EncodeSCALE writes the write as (Vec<u8>, Option<Vec<u8>>): None for a delete.
func (w *Write) EncodeSCALE(sw *scale.Writer) {
	sw.BytesVec(w.Key)
	if w.Delete {
		sw.OptionNone()
		return
	}
	sw.OptionSome()
	sw.BytesVec(w.Value)
}

// DecodeSCALE reads a write encoded by EncodeSCALE.
func (w *Write) DecodeSCALE(r *scale.Reader) {
	w.Key = r.BytesVec()
	if r.Option() {
		w.Value = r.BytesVec()
		w.Delete = false
	} else {
		w.Value = nil
		w.Delete = true
	}
}

// WriteSet is the ordered list of a block's writes: sorted by key, each key
// once. It is what a verifier (pRuntime) applies to its copy of state.
type WriteSet []Write

// ErrWriteSetOrder means a decoded write-set is not strictly sorted by key.
var ErrWriteSetOrder = errors.New("state: write-set keys not strictly increasing")

// EncodeSCALE writes the write-set as Vec<Write>.
func (ws WriteSet) EncodeSCALE(w *scale.Writer) {
	w.Compact(uint64(len(ws)))
	for i := range ws {
		ws[i].EncodeSCALE(w)
	}
}

// DecodeSCALE reads a write-set and checks that its keys are strictly
// increasing (sorted and unique).
func (ws *WriteSet) DecodeSCALE(r *scale.Reader) {
	n := r.Len(2) // an empty key and a None take 2 bytes
	out := make(WriteSet, 0, n)
	for i := 0; i < n && r.Err() == nil; i++ {
		var w Write
		w.DecodeSCALE(r)
		if r.Err() == nil && len(out) > 0 && bytes.Compare(out[len(out)-1].Key, w.Key) >= 0 {
			r.Fail(fmt.Errorf("%w: at index %d", ErrWriteSetOrder, i))
		}
		out = append(out, w)
	}
	if r.Err() != nil {
		*ws = nil
		return
	}
	*ws = out
}

// Validate checks that the keys are strictly increasing.
func (ws WriteSet) Validate() error {
	for i := 1; i < len(ws); i++ {
		if bytes.Compare(ws[i-1].Key, ws[i].Key) >= 0 {
			return fmt.Errorf("%w: at index %d", ErrWriteSetOrder, i)
		}
	}
	return nil
}

type entry struct {
	value   []byte
	deleted bool
}

// Overlay records writes over a Store (or over a parent Overlay) without
// changing it. Reads see the overlay's own writes first. A child overlay made
// with Child is either committed into its parent or discarded. An Overlay is
// not safe for concurrent use.
type Overlay struct {
	base   Store
	parent *Overlay
	writes map[string]entry
}

// NewOverlay returns an empty overlay over base.
func NewOverlay(base Store) *Overlay {
	return &Overlay{base: base, writes: make(map[string]entry)}
}

// Child returns a nested overlay that reads through o.
func (o *Overlay) Child() *Overlay {
	return &Overlay{parent: o, writes: make(map[string]entry, 4)}
}

// Get returns the current value of key, or (nil, nil) when absent. The
// returned slice must not be modified.
func (o *Overlay) Get(key []byte) ([]byte, error) {
	for cur := o; cur != nil; cur = cur.parent {
		if e, ok := cur.writes[string(key)]; ok {
			if e.deleted {
				return nil, nil
			}
			return e.value, nil
		}
		if cur.parent == nil {
			return cur.base.Get(key)
		}
	}
	return nil, nil
}

// Set records key = value. Value is copied; a nil value is stored as empty.
func (o *Overlay) Set(key, value []byte) {
	v := make([]byte, len(value))
	copy(v, value)
	o.writes[string(key)] = entry{value: v}
}

// SetOwned records key = value without copying value, which the caller
// hands over.
func (o *Overlay) SetOwned(key, value []byte) {
	if value == nil {
		value = []byte{}
	}
	o.writes[string(key)] = entry{value: value}
}

// Delete records the deletion of key.
func (o *Overlay) Delete(key []byte) {
	o.writes[string(key)] = entry{deleted: true}
}

// Commit moves the child's writes into its parent and empties the child. It
// does nothing on a root overlay.
func (o *Overlay) Commit() {
	if o.parent == nil {
		return
	}
	for k, e := range o.writes {
		o.parent.writes[k] = e
	}
	clear(o.writes)
}

// Discard drops the overlay's writes.
func (o *Overlay) Discard() { clear(o.writes) }

// Len returns the number of keys written in this overlay.
func (o *Overlay) Len() int { return len(o.writes) }

// WriteSet returns this overlay's writes sorted by key.
func (o *Overlay) WriteSet() WriteSet {
	ks := make([]string, 0, len(o.writes))
	for k := range o.writes {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	ws := make(WriteSet, len(ks))
	for i, k := range ks {
		e := o.writes[k]
		ws[i] = Write{Key: []byte(k), Value: e.value, Delete: e.deleted}
	}
	return ws
}

// MemStore is an in-memory Store for tests, benchmarks and tools. It is safe
// for concurrent use.
type MemStore struct {
	mu sync.RWMutex
	m  map[string][]byte
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{m: make(map[string][]byte)} }

// Get implements Store. The returned slice must not be modified.
func (s *MemStore) Get(key []byte) ([]byte, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if v, ok := s.m[string(key)]; ok {
		return v, nil
	}
	return nil, nil
}

// Apply applies a write-set.
func (s *MemStore) Apply(ws WriteSet) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, w := range ws {
		if w.Delete {
			delete(s.m, string(w.Key))
			continue
		}
		s.m[string(w.Key)] = slices.Clone(w.Value)
	}
}

// Len returns the number of keys held.
func (s *MemStore) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}

// Clone returns an independent copy.
func (s *MemStore) Clone() *MemStore {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c := &MemStore{m: make(map[string][]byte, len(s.m))}
	for k, v := range s.m {
		c.m[k] = v // values are never mutated in place
	}
	return c
}

// Dump returns every key-value pair as a write-set sorted by key.
func (s *MemStore) Dump() WriteSet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ks := make([]string, 0, len(s.m))
	for k := range s.m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	ws := make(WriteSet, len(ks))
	for i, k := range ks {
		ws[i] = Write{Key: []byte(k), Value: s.m[k]}
	}
	return ws
}
