package pherry

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
)

// checkCache fails unless hc holds exactly the heights want (in insertion
// order) and its byte count is the sum of its heights' shares.
func checkCache[T any](t *testing.T, name string, hc *heightCache[T], want []int64) {
	t.Helper()
	if !slices.Equal(hc.order, want) {
		t.Errorf("%s: order %v, want %v", name, hc.order, want)
	}
	got := slices.Sorted(maps.Keys(hc.items))
	if !slices.Equal(got, slices.Sorted(slices.Values(want))) {
		t.Errorf("%s: items at %v, want %v", name, got, want)
	}
	var sum int64
	for h, n := range hc.sizes {
		if _, ok := hc.items[h]; !ok {
			t.Errorf("%s: a size for height %d, which is not cached", name, h)
		}
		sum += n
	}
	for h := range hc.enc {
		if _, ok := hc.items[h]; !ok {
			t.Errorf("%s: an encoding for height %d, which is not cached", name, h)
		}
	}
	if sum != hc.bytes || (hc.size != nil && hc.bytes > hc.maxBytes) {
		t.Errorf("%s: %d bytes counted, sizes sum to %d, bound %d", name, hc.bytes, sum, hc.maxBytes)
	}
}

// TestHeightCacheBounds: the cache evicts the oldest inserted heights
// beyond its height bound and its byte bound (an item's size plus its
// encoding's length); an item larger than the byte bound alone is not
// cached, and an encoding that would not fit beside its item is not kept.
func TestHeightCacheBounds(t *testing.T) {
	type op struct {
		h   int64
		n   int  // item size, or encoding length when enc
		enc bool // keep an encoding of n bytes for the item at h
	}
	for _, tc := range []struct {
		name      string
		heights   int
		maxBytes  int64
		ops       []op
		want      []int64
		wantBytes int64
		notCached []int64 // puts that must report false
	}{
		{"by heights", 3, 1000, []op{{h: 1, n: 10}, {h: 2, n: 10}, {h: 3, n: 10}, {h: 4, n: 10}, {h: 5, n: 10}}, []int64{3, 4, 5}, 30, nil},
		{"by bytes", 100, 100, []op{{h: 1, n: 40}, {h: 2, n: 40}, {h: 3, n: 40}}, []int64{2, 3}, 80, nil},
		{"by bytes, several out at once", 100, 100, []op{{h: 1, n: 30}, {h: 2, n: 30}, {h: 3, n: 30}, {h: 4, n: 90}}, []int64{4}, 90, nil},
		{"exactly the bound", 100, 100, []op{{h: 1, n: 1}, {h: 2, n: 99}}, []int64{1, 2}, 100, nil},
		{"one item of the bound", 100, 100, []op{{h: 1, n: 1}, {h: 2, n: 100}}, []int64{2}, 100, nil},
		{"larger than the bound: served, not cached", 100, 100, []op{{h: 1, n: 50}, {h: 2, n: 101}, {h: 3, n: 30}}, []int64{1, 3}, 80, []int64{2}},
		{"replaced at its height", 100, 100, []op{{h: 1, n: 60}, {h: 2, n: 10}, {h: 1, n: 30}}, []int64{1, 2}, 40, nil},
		{"replaced by one too large", 100, 100, []op{{h: 1, n: 60}, {h: 2, n: 10}, {h: 1, n: 150}}, []int64{2}, 10, []int64{1}},
		{"encodings count", 100, 100, []op{{h: 1, n: 40}, {h: 1, n: 40, enc: true}, {h: 2, n: 40}}, []int64{2}, 40, nil},
		{"encoding that does not fit beside its item", 100, 100, []op{{h: 1, n: 70}, {h: 1, n: 40, enc: true}}, []int64{1}, 70, nil},
		{"encoding evicts older heights", 100, 100, []op{{h: 1, n: 30}, {h: 2, n: 30}, {h: 2, n: 50, enc: true}}, []int64{2}, 80, nil},
		{"encoding kept once", 100, 100, []op{{h: 1, n: 30}, {h: 1, n: 20, enc: true}, {h: 1, n: 20, enc: true}}, []int64{1}, 50, nil},
	} {
		hc := newHeightCache[[]byte](tc.heights)
		hc.maxBytes, hc.size = tc.maxBytes, func(b []byte) int64 { return int64(len(b)) }
		var notCached []int64
		for _, o := range tc.ops {
			if o.enc {
				hc.putEnc(o.h, make([]byte, o.n))
				continue
			}
			if !hc.put(o.h, make([]byte, o.n)) {
				notCached = append(notCached, o.h)
			}
		}
		checkCache(t, tc.name, hc, tc.want)
		if hc.bytes != tc.wantBytes || !slices.Equal(notCached, tc.notCached) {
			t.Errorf("%s: %d bytes, not cached %v; want %d, %v", tc.name, hc.bytes, notCached, tc.wantBytes, tc.notCached)
		}
	}
	// Without a size function (headers, commits, validator sets) only
	// heights bound the cache.
	hc := newHeightCache[[]byte](2)
	for h := range int64(4) {
		if !hc.put(h, make([]byte, 1<<20)) {
			t.Fatal("an unsized item was not cached")
		}
	}
	checkCache(t, "unsized", hc, []int64{2, 3})
}

// sizedSource answers records whose messages carry payloads of given
// sizes (default 100 bytes), and counts the times each height was fetched.
type sizedSource struct {
	mu      sync.Mutex
	size    map[int64]int
	fetched map[int64]int
}

func (s *sizedSource) Height(context.Context) (int64, error) { return 1000, nil }
func (s *sizedSource) GenesisDoc(context.Context) (*cmttypes.GenesisDoc, error) {
	return nil, errors.New("no genesis")
}
func (s *sizedSource) Headers(context.Context, int64, int64) ([]*cmttypes.Header, error) {
	return nil, errors.New("no headers")
}
func (s *sizedSource) Commit(context.Context, int64) (*cmttypes.Commit, error) {
	return nil, errors.New("no commits")
}
func (s *sizedSource) Validators(context.Context, int64) ([]*cmttypes.Validator, error) {
	return nil, errors.New("no validators")
}

func (s *sizedSource) record(h int64) *state.BlockRecord {
	n, ok := s.size[h]
	if !ok {
		n = 100
	}
	return &state.BlockRecord{Height: h, Messages: []msg.Message{{Origin: []byte("o"), Topic: []byte("t"), Payload: make([]byte, n)}}}
}

func (s *sizedSource) Records(_ context.Context, from, to int64) ([]*state.BlockRecord, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*state.BlockRecord
	for h := from; h <= to; h++ {
		s.fetched[h]++
		out = append(out, s.record(h))
	}
	return out, nil
}

// TestCachedSourceRecordBytes: through a CachedSource, records are kept
// within the byte bound, oldest out first; a record larger than the bound
// is served, every time, but never kept; and heights that fell out are
// fetched from the node again for whoever asks.
func TestCachedSourceRecordBytes(t *testing.T) {
	ctx := context.Background()
	one := recordBytes((&sizedSource{}).record(1)) // a default record's size
	type read struct{ from, to int64 }
	for _, tc := range []struct {
		name     string
		heights  int
		maxBytes int64
		size     map[int64]int
		reads    []read
		cached   []int64       // heights cached at the end
		fetched  map[int64]int // node fetches per height at the end
	}{
		{"by bytes", 100, 3 * one, nil, []read{{1, 5}, {3, 5}}, []int64{3, 4, 5}, map[int64]int{1: 1, 2: 1, 3: 1, 4: 1, 5: 1}},
		{"by heights", 2, 100 * one, nil, []read{{1, 5}, {4, 5}}, []int64{4, 5}, map[int64]int{1: 1, 2: 1, 3: 1, 4: 1, 5: 1}},
		{"fell out: fetched again", 100, 2 * one, nil, []read{{1, 4}, {1, 1}, {2, 2}}, []int64{1, 2}, map[int64]int{1: 2, 2: 2, 3: 1, 4: 1}},
		{"larger than the bound: served, not kept", 100, 3 * one, map[int64]int{2: 10_000}, []read{{1, 3}, {2, 2}, {2, 2}, {1, 1}, {3, 3}}, []int64{1, 3}, map[int64]int{1: 1, 2: 3, 3: 1}},
	} {
		node := &sizedSource{size: tc.size, fetched: map[int64]int{}}
		src := NewCachedSource(node, tc.heights, tc.maxBytes)
		for _, r := range tc.reads {
			// A worker reads from..to, as pherry does: until it has all.
			for h := r.from; h <= r.to; {
				recs, err := src.Records(ctx, h, r.to)
				if err != nil {
					t.Fatalf("%s: %v", tc.name, err)
				}
				for _, rec := range recs {
					if rec.Height != h || len(rec.Messages[0].Payload) != len(node.record(h).Messages[0].Payload) {
						t.Fatalf("%s: got record %d (%d bytes), want %d", tc.name, rec.Height, len(rec.Messages[0].Payload), h)
					}
					h++
				}
			}
		}
		src.mu.Lock()
		checkCache(t, tc.name, src.records, tc.cached)
		src.mu.Unlock()
		if !maps.Equal(node.fetched, tc.fetched) {
			t.Errorf("%s: node fetches %v, want %v", tc.name, node.fetched, tc.fetched)
		}
	}
	if s := NewCachedSource(&sizedSource{}, 0, 0); s.maxBytes != DefaultCacheBytes || s.capacity != DefaultCacheHeights {
		t.Errorf("defaults: %d bytes, %d heights", s.maxBytes, s.capacity)
	}
}

// TestCachedSourceEncodingBytes: the shared encoding of a cached record
// counts against the byte bound, and evicts older records to fit.
func TestCachedSourceEncodingBytes(t *testing.T) {
	node := &sizedSource{fetched: map[int64]int{}}
	one := recordBytes(node.record(1))
	src := NewCachedSource(node, 100, 3*one)
	recs, err := src.Records(context.Background(), 1, 3)
	if err != nil || len(recs) != 3 {
		t.Fatal(len(recs), err)
	}
	e := encoderFor(src)
	b := e.record(recs[2])
	if b2 := e.record(recs[2]); &b[0] != &b2[0] {
		t.Fatal("the encoding of a cached record was not kept")
	}
	src.mu.Lock()
	defer src.mu.Unlock()
	checkCache(t, "encoded", src.records, []int64{2, 3}) // record 3 and its encoding pushed record 1 out
	if src.records.sizes[3] != one+int64(len(b)) {
		t.Fatalf("record 3 counts %d bytes, want %d", src.records.sizes[3], one+int64(len(b)))
	}
}

// TestMultiSlowWorkerFarBehind: with a byte bound that keeps only a few
// records, a worker held back while the others reach the tip finds its
// heights evicted; released, it still gets every block (its records
// fetched again from the node) and reaches the tip, and the cache stays
// within its bound.
func TestMultiSlowWorkerFarBehind(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := buildChain(t, 60, 0, 0)
	var biggest int64
	for h := int64(0); h <= c.Height(); h++ {
		biggest = max(biggest, recordBytes(c.Record(h)))
	}
	node := newFakeNode(c)
	src := newCountingSource(node)
	live := &fakeRuntime{}
	slow := stallRuntime{fakeRuntime: &fakeRuntime{}, release: make(chan struct{})}
	cfg := multiConfig(src, 8, nil, live, slow)
	cfg.CacheHeights, cfg.CacheBytes = 1000, 4*biggest
	m, _ := runMulti(t, cfg)
	waitFor(ctx, t, "the live pRuntime at the tip", func() bool {
		hh, _ := live.heights()
		return hh == c.Height()
	})
	close(slow.release)
	waitFor(ctx, t, "the slow pRuntime at the tip", func() bool {
		hh, _ := slow.heights()
		return hh == c.Height()
	})
	checkBatches(t, c, slow.logCopy(), 8)
	src.mu.Lock()
	again := 0
	for _, n := range src.counts["record"] {
		if n > 1 {
			again++
		}
	}
	src.mu.Unlock()
	if again == 0 {
		t.Fatal("no record was fetched again: the byte bound kept them all")
	}
	m.src.mu.Lock()
	defer m.src.mu.Unlock()
	checkCache(t, "after", m.src.records, m.src.records.order)
	if m.src.records.bytes > cfg.CacheBytes || len(m.src.records.order) == 0 {
		t.Fatalf("%d records of %d bytes kept, bound %d", len(m.src.records.order), m.src.records.bytes, cfg.CacheBytes)
	}
	t.Logf("%d heights fetched again; %d records kept", again, len(m.src.records.order))
}
