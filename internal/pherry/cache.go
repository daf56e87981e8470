package pherry

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// DefaultCacheHeights is how many heights of each kind (header, record,
// commit, validator set) a CachedSource keeps by default: two default
// batches, so that workers a batch apart still share their fetches.
const DefaultCacheHeights = 2 * DefaultBatchSize

// DefaultCacheBytes bounds, by default, the bytes of the block records (and
// their shared encodings) a CachedSource keeps: a record may be as large
// as a block's write-set and messages, so a bound in heights alone does
// not bound memory.
const DefaultCacheBytes int64 = 64 << 20

// CachedSource is a Source shared by the pherries of several workers (see
// Multi). It asks the inner source for each height's header, record,
// commit and validator set once, however many workers need it, also when
// they ask at the same time: a height being fetched for one worker is
// waited for by the others, not fetched again. The genesis document is
// read once; concurrent Height calls share one request.
//
// It keeps at most capacity heights of each kind, and block records (with
// their encodings) of at most maxBytes bytes in all, evicting the oldest
// inserted first; a record larger than maxBytes on its own is served but
// not kept. A worker that falls further behind than what is kept fetches
// its own heights again from the node (and shares them with any worker as
// far behind). Headers, commits and validator sets are small (a commit
// grows with the validator set, not with the block) and are bounded by
// heights only. What it returns is shared between workers and must not be
// modified (pherry only encodes it).
type CachedSource struct {
	inner Source

	mu       sync.Mutex
	headers  *heightCache[*cmttypes.Header]
	records  *heightCache[*state.BlockRecord]
	commits  *heightCache[*cmttypes.Commit]
	vals     *heightCache[[]*cmttypes.Validator]
	genesis  *cmttypes.GenesisDoc
	genWait  chan struct{} // a genesis read in flight
	hWait    chan struct{} // a Height call in flight
	hVal     int64
	hErr     error
	inFetch  atomic.Int64 // inner fetch calls (all kinds but Height)
	fetched  [4]atomic.Int64
	served   [4]atomic.Int64
	capacity int
	maxBytes int64
}

// Kinds of cached items, for CacheStats.
const (
	kindHeader = iota
	kindRecord
	kindCommit
	kindValidators
)

// CacheStats counts, per kind, the heights fetched from the inner source
// and the heights served (fetched or from the cache).
type CacheStats struct {
	HeadersFetched, HeadersServed       int64
	RecordsFetched, RecordsServed       int64
	CommitsFetched, CommitsServed       int64
	ValidatorsFetched, ValidatorsServed int64
	// InnerCalls is the number of calls made to the inner source (Height
	// excluded).
	InnerCalls int64
}

// NewCachedSource returns a CachedSource over inner keeping capacity
// heights of each kind (DefaultCacheHeights when capacity ≤ 0) and block
// records of at most maxBytes bytes (DefaultCacheBytes when maxBytes ≤ 0).
func NewCachedSource(inner Source, capacity int, maxBytes int64) *CachedSource {
	if capacity <= 0 {
		capacity = DefaultCacheHeights
	}
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	records := newHeightCache[*state.BlockRecord](capacity)
	records.maxBytes, records.size = maxBytes, recordBytes
	return &CachedSource{inner: inner, capacity: capacity, maxBytes: maxBytes,
		headers: newHeightCache[*cmttypes.Header](capacity), records: records,
		commits: newHeightCache[*cmttypes.Commit](capacity), vals: newHeightCache[[]*cmttypes.Validator](capacity)}
}

// recordBytes is about the memory a block record holds: its keys, values,
// messages and their slice headers.
func recordBytes(r *state.BlockRecord) int64 {
	n := int64(96) // the record: height, AppHash, two slice headers
	for i := range r.WriteSet {
		w := &r.WriteSet[i]
		n += int64(len(w.Key)+len(w.Value)) + 56
	}
	for i := range r.Messages {
		m := &r.Messages[i]
		n += int64(len(m.Origin)+len(m.Topic)+len(m.Payload)) + 72
	}
	return n
}

// Stats returns the cache's counters.
func (c *CachedSource) Stats() CacheStats {
	return CacheStats{
		HeadersFetched: c.fetched[kindHeader].Load(), HeadersServed: c.served[kindHeader].Load(),
		RecordsFetched: c.fetched[kindRecord].Load(), RecordsServed: c.served[kindRecord].Load(),
		CommitsFetched: c.fetched[kindCommit].Load(), CommitsServed: c.served[kindCommit].Load(),
		ValidatorsFetched: c.fetched[kindValidators].Load(), ValidatorsServed: c.served[kindValidators].Load(),
		InnerCalls: c.inFetch.Load(),
	}
}

// heightCache is a bounded map from height to item with the heights being
// fetched. Its owner's mutex guards it. It keeps at most capacity heights
// and, when size is set, items and encodings of at most maxBytes bytes,
// evicting the oldest inserted first.
type heightCache[T any] struct {
	items map[int64]T
	// enc holds items' encodings, made once for all workers (encodedOf).
	enc      map[int64][]byte
	order    []int64 // insertion order, for eviction
	inflight map[int64]chan struct{}
	capacity int

	// size, when set, is an item's size in bytes; maxBytes then bounds
	// bytes, the sum of the cached items' sizes and encodings' lengths
	// (sizes holds each height's share).
	size     func(T) int64
	maxBytes int64
	bytes    int64
	sizes    map[int64]int64
}

func newHeightCache[T any](capacity int) *heightCache[T] {
	return &heightCache[T]{items: map[int64]T{}, enc: map[int64][]byte{}, inflight: map[int64]chan struct{}{}, capacity: capacity,
		sizes: map[int64]int64{}}
}

// put caches v at height, evicting the oldest heights beyond the bounds.
// An item larger than maxBytes on its own is not cached (and an older item
// at its height is dropped); put reports whether v was cached.
func (h *heightCache[T]) put(height int64, v T) bool {
	var n int64
	if h.size != nil {
		n = h.size(v)
		if n > h.maxBytes {
			h.drop(height)
			return false
		}
	}
	if _, ok := h.items[height]; ok {
		h.items[height] = v
		delete(h.enc, height)
		h.bytes += n - h.sizes[height]
		h.sizes[height] = n
	} else {
		h.items[height] = v
		h.sizes[height] = n
		h.bytes += n
		h.order = append(h.order, height)
	}
	h.evict()
	return true
}

// evict drops the oldest heights while the cache is beyond its bounds.
func (h *heightCache[T]) evict() {
	for len(h.order) > 0 && (len(h.order) > h.capacity || (h.size != nil && h.bytes > h.maxBytes)) {
		old := h.order[0]
		h.order = h.order[1:]
		h.forget(old)
	}
	if cap(h.order) > 4*h.capacity { // let the dropped front go
		h.order = append([]int64(nil), h.order...)
	}
}

// forget removes height's item and encoding (not its place in order).
func (h *heightCache[T]) forget(height int64) {
	delete(h.items, height)
	delete(h.enc, height)
	h.bytes -= h.sizes[height]
	delete(h.sizes, height)
}

// drop removes height from the cache, if it is there.
func (h *heightCache[T]) drop(height int64) {
	if _, ok := h.items[height]; !ok {
		return
	}
	h.forget(height)
	if i := slices.Index(h.order, height); i >= 0 {
		h.order = slices.Delete(h.order, i, i+1)
	}
}

// putEnc keeps b as the encoding of the item cached at height, counting
// it against maxBytes (evicting older heights); an encoding that would not
// fit beside its item is not kept.
func (h *heightCache[T]) putEnc(height int64, b []byte) {
	if h.size == nil {
		h.enc[height] = b
		return
	}
	if _, had := h.enc[height]; had || h.sizes[height]+int64(len(b)) > h.maxBytes {
		return
	}
	h.enc[height] = b
	h.sizes[height] += int64(len(b))
	h.bytes += int64(len(b))
	h.evict()
}

// claim marks height as being fetched by the caller; false when it is
// cached or someone else fetches it (then wait is that fetch's channel).
func (h *heightCache[T]) claim(height int64) (mine bool, wait chan struct{}) {
	if _, ok := h.items[height]; ok {
		return false, nil
	}
	if ch, ok := h.inflight[height]; ok {
		return false, ch
	}
	h.inflight[height] = make(chan struct{})
	return true, nil
}

// release ends the caller's fetch of height (whether or not it stored it).
func (h *heightCache[T]) release(height int64) {
	if ch, ok := h.inflight[height]; ok {
		close(ch)
		delete(h.inflight, height)
	}
}

func waitAll(ctx context.Context, chs []chan struct{}) error {
	for _, ch := range chs {
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Height returns the inner source's height; concurrent calls share one
// request.
func (c *CachedSource) Height(ctx context.Context) (int64, error) {
	c.mu.Lock()
	if ch := c.hWait; ch != nil {
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		c.mu.Lock()
		v, err := c.hVal, c.hErr
		c.mu.Unlock()
		return v, err
	}
	ch := make(chan struct{})
	c.hWait = ch
	c.mu.Unlock()
	v, err := c.inner.Height(ctx)
	c.mu.Lock()
	c.hVal, c.hErr, c.hWait = v, err, nil
	c.mu.Unlock()
	close(ch)
	return v, err
}

// GenesisDoc returns the inner source's genesis document, read once.
func (c *CachedSource) GenesisDoc(ctx context.Context) (*cmttypes.GenesisDoc, error) {
	for {
		c.mu.Lock()
		if c.genesis != nil {
			g := c.genesis
			c.mu.Unlock()
			return g, nil
		}
		if ch := c.genWait; ch != nil {
			c.mu.Unlock()
			if err := waitAll(ctx, []chan struct{}{ch}); err != nil {
				return nil, err
			}
			continue
		}
		ch := make(chan struct{})
		c.genWait = ch
		c.mu.Unlock()
		c.inFetch.Add(1)
		g, err := c.inner.GenesisDoc(ctx)
		c.mu.Lock()
		if err == nil && g != nil {
			c.genesis = g
		}
		c.genWait = nil
		c.mu.Unlock()
		close(ch)
		if err != nil {
			return nil, err
		}
		if g == nil {
			return nil, errors.New("node answered no genesis document")
		}
		return g, nil
	}
}

// Headers returns the headers of min..max, each fetched from the inner
// source at most once while cached.
func (c *CachedSource) Headers(ctx context.Context, lo, hi int64) ([]*cmttypes.Header, error) {
	if lo < 1 || hi < lo {
		return nil, fmt.Errorf("headers %d..%d: bad range", lo, hi)
	}
	if hi-lo+1 > int64(MaxBatchSize)+1 {
		return nil, fmt.Errorf("headers %d..%d: more than %d", lo, hi, MaxBatchSize+1)
	}
	out := make([]*cmttypes.Header, hi-lo+1)
	for {
		var mine []int64
		var waits []chan struct{}
		missing := false
		c.mu.Lock()
		for h := lo; h <= hi; h++ {
			if out[h-lo] != nil {
				continue
			}
			if v, ok := c.headers.items[h]; ok {
				out[h-lo] = v
				continue
			}
			missing = true
			ok, ch := c.headers.claim(h)
			if ok {
				mine = append(mine, h)
			} else if ch != nil {
				waits = append(waits, ch)
			}
		}
		c.mu.Unlock()
		if !missing {
			c.served[kindHeader].Add(hi - lo + 1)
			return out, nil
		}
		err := c.fetchHeaders(ctx, mine, lo, out)
		if err != nil {
			return nil, err
		}
		if err := waitAll(ctx, waits); err != nil {
			return nil, err
		}
	}
}

// fetchHeaders fetches the claimed heights (sorted), in contiguous runs,
// into out (indexed from lo) and the cache; it releases every claim.
func (c *CachedSource) fetchHeaders(ctx context.Context, mine []int64, lo int64, out []*cmttypes.Header) error {
	defer func() {
		c.mu.Lock()
		for _, h := range mine {
			c.headers.release(h)
		}
		c.mu.Unlock()
	}()
	for i := 0; i < len(mine); {
		j := i
		for j+1 < len(mine) && mine[j+1] == mine[j]+1 {
			j++
		}
		a, b := mine[i], mine[j]
		c.inFetch.Add(1)
		hs, err := c.inner.Headers(ctx, a, b)
		if err != nil {
			return err
		}
		if int64(len(hs)) != b-a+1 {
			return fmt.Errorf("%w: %d headers for %d..%d", errNodeBehind, len(hs), a, b)
		}
		c.mu.Lock()
		for k, hd := range hs {
			if hd == nil || hd.Height != a+int64(k) {
				c.mu.Unlock()
				return fmt.Errorf("node answered header %d out of order", a+int64(k))
			}
			c.headers.put(hd.Height, hd)
			out[hd.Height-lo] = hd
		}
		c.mu.Unlock()
		c.fetched[kindHeader].Add(b - a + 1)
		i = j + 1
	}
	return nil
}

// Records returns records from from..to, starting at from: the cached run
// from from, or what one inner call answers for the heights no one else
// is fetching.
func (c *CachedSource) Records(ctx context.Context, from, to int64) ([]*state.BlockRecord, error) {
	if from < 0 || to < from {
		return nil, fmt.Errorf("records %d..%d: bad range", from, to)
	}
	for {
		c.mu.Lock()
		var out []*state.BlockRecord
		for h := from; h <= to; h++ {
			r, ok := c.records.items[h]
			if !ok {
				break
			}
			out = append(out, r)
		}
		if len(out) > 0 {
			c.mu.Unlock()
			c.served[kindRecord].Add(int64(len(out)))
			return out, nil
		}
		ok, ch := c.records.claim(from)
		if !ok {
			c.mu.Unlock()
			if err := waitAll(ctx, []chan struct{}{ch}); err != nil {
				return nil, err
			}
			continue
		}
		end := from
		for end < to {
			if ok, _ := c.records.claim(end + 1); !ok {
				break
			}
			end++
		}
		c.mu.Unlock()
		return c.fetchRecords(ctx, from, end)
	}
}

func (c *CachedSource) fetchRecords(ctx context.Context, from, end int64) ([]*state.BlockRecord, error) {
	defer func() {
		c.mu.Lock()
		for h := from; h <= end; h++ {
			c.records.release(h)
		}
		c.mu.Unlock()
	}()
	c.inFetch.Add(1)
	recs, err := c.inner.Records(ctx, from, end)
	if err != nil {
		return nil, err
	}
	if len(recs) == 0 {
		return nil, fmt.Errorf("node answered no record from %d", from)
	}
	if int64(len(recs)) > end-from+1 {
		recs = recs[:end-from+1]
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for i, r := range recs {
		if r == nil || r.Height != from+int64(i) {
			return nil, fmt.Errorf("node answered record of height %d, want %d", recordHeight(r), from+int64(i))
		}
		c.records.put(r.Height, r)
	}
	c.fetched[kindRecord].Add(int64(len(recs)))
	c.served[kindRecord].Add(int64(len(recs)))
	return recs, nil
}

// single fetches one height of one kind through cache hc.
func single[T any](ctx context.Context, c *CachedSource, hc *heightCache[T], kind int, h int64, fetch func(context.Context, int64) (T, error)) (T, error) {
	for {
		c.mu.Lock()
		if v, ok := hc.items[h]; ok {
			c.mu.Unlock()
			c.served[kind].Add(1)
			return v, nil
		}
		ok, ch := hc.claim(h)
		c.mu.Unlock()
		if !ok {
			if err := waitAll(ctx, []chan struct{}{ch}); err != nil {
				var zero T
				return zero, err
			}
			continue
		}
		c.inFetch.Add(1)
		v, err := fetch(ctx, h)
		c.mu.Lock()
		if err == nil {
			hc.put(h, v)
		}
		hc.release(h)
		c.mu.Unlock()
		if err == nil {
			c.fetched[kind].Add(1)
			c.served[kind].Add(1)
		}
		return v, err
	}
}

// Commit returns the commit of height h, fetched once while cached.
func (c *CachedSource) Commit(ctx context.Context, h int64) (*cmttypes.Commit, error) {
	return single(ctx, c, c.commits, kindCommit, h, c.inner.Commit)
}

// Validators returns the validator set of height h, fetched once while
// cached.
func (c *CachedSource) Validators(ctx context.Context, h int64) ([]*cmttypes.Validator, error) {
	return single(ctx, c, c.vals, kindValidators, h, c.inner.Validators)
}

var _ Source = (*CachedSource)(nil)

// encodedOf returns the encoding of v, the item cached at height, made
// once for all workers; an item that is not (or no longer) the cached one
// is encoded without being kept. Encodings are shared: callers must not
// modify them.
func encodedOf[T comparable](c *CachedSource, hc *heightCache[T], height int64, v T, encode func(T) ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	cur, ok := hc.items[height]
	if b, done := hc.enc[height]; ok && done && cur == v {
		c.mu.Unlock()
		return b, nil
	}
	c.mu.Unlock()
	b, err := encode(v)
	if err != nil || !ok || cur != v {
		return b, err
	}
	c.mu.Lock()
	if cur, ok := hc.items[height]; ok && cur == v {
		hc.putEnc(height, b)
	}
	c.mu.Unlock()
	return b, nil
}

// encoder is how fetchBatch encodes what it read: through a CachedSource,
// once for all workers; otherwise afresh.
type encoder struct{ c *CachedSource }

func encoderFor(src Source) encoder {
	c, _ := src.(*CachedSource)
	return encoder{c: c}
}

func (e encoder) header(h *cmttypes.Header) ([]byte, error) {
	enc := func(h *cmttypes.Header) ([]byte, error) { return h.ToProto().Marshal() }
	if e.c == nil {
		return enc(h)
	}
	return encodedOf(e.c, e.c.headers, h.Height, h, enc)
}

func (e encoder) record(r *state.BlockRecord) []byte {
	enc := func(r *state.BlockRecord) ([]byte, error) { return scale.Encode(r), nil }
	if e.c == nil {
		b, _ := enc(r)
		return b
	}
	b, _ := encodedOf(e.c, e.c.records, r.Height, r, enc)
	return b
}

func (e encoder) commit(cm *cmttypes.Commit) ([]byte, error) {
	enc := func(cm *cmttypes.Commit) ([]byte, error) { return cm.ToProto().Marshal() }
	if e.c == nil || cm == nil {
		return enc(cm)
	}
	return encodedOf(e.c, e.c.commits, cm.Height, cm, enc)
}
