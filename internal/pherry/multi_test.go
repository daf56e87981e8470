package pherry

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/state"
)

// countingSource counts, per kind and height, what is fetched from inner.
type countingSource struct {
	Source
	mu     sync.Mutex
	counts map[string]map[int64]int
}

func newCountingSource(inner Source) *countingSource {
	return &countingSource{Source: inner, counts: map[string]map[int64]int{}}
}

func (s *countingSource) note(kind string, lo, hi int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.counts[kind]
	if m == nil {
		m = map[int64]int{}
		s.counts[kind] = m
	}
	for h := lo; h <= hi; h++ {
		m[h]++
	}
}

func (s *countingSource) Headers(ctx context.Context, lo, hi int64) ([]*cmttypes.Header, error) {
	hs, err := s.Source.Headers(ctx, lo, hi)
	if err == nil {
		s.note("header", lo, hi)
	}
	return hs, err
}

func (s *countingSource) Records(ctx context.Context, from, to int64) ([]*state.BlockRecord, error) {
	rs, err := s.Source.Records(ctx, from, to)
	if err == nil && len(rs) > 0 {
		s.note("record", from, from+int64(len(rs))-1)
	}
	return rs, err
}

func (s *countingSource) Commit(ctx context.Context, h int64) (*cmttypes.Commit, error) {
	c, err := s.Source.Commit(ctx, h)
	if err == nil {
		s.note("commit", h, h)
	}
	return c, err
}

func (s *countingSource) Validators(ctx context.Context, h int64) ([]*cmttypes.Validator, error) {
	v, err := s.Source.Validators(ctx, h)
	if err == nil {
		s.note("validators", h, h)
	}
	return v, err
}

// checkOnce fails for a height of any kind fetched more than once, and
// returns how many header heights were fetched.
func (s *countingSource) checkOnce(t *testing.T) int {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	for kind, m := range s.counts {
		for h, n := range m {
			if n > 1 {
				t.Errorf("%s %d fetched %d times", kind, h, n)
			}
		}
	}
	return len(s.counts["header"])
}

// stallRuntime is a fakeRuntime whose Sync hangs until released.
type stallRuntime struct {
	*fakeRuntime
	release chan struct{}
}

func (s stallRuntime) Sync(ctx context.Context, req *pruntimev1.SyncRequest) (*pruntimev1.SyncResponse, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.fakeRuntime.Sync(ctx, req)
}

func runMulti(t *testing.T, cfg MultiConfig) (*Multi, func()) {
	t.Helper()
	m, err := NewMulti(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range m.workers {
		p.minBackoff, p.maxBackoff = time.Millisecond, 20*time.Millisecond
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = m.Run(ctx) }()
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return m, stop
}

func multiConfig(src Source, size int, reg prometheus.Registerer, rts ...pruntimev1connectBoth) MultiConfig {
	cfg := MultiConfig{Config: Config{NodeURL: "http://127.0.0.1:1", Source: src, NoWebsocket: true, BatchSize: size,
		PollInterval: 10 * time.Millisecond, Metrics: reg}}
	for i, rt := range rts {
		cfg.Workers = append(cfg.Workers, WorkerSpec{Name: fmt.Sprintf("w%d", i), Internal: rt, Public: rt})
	}
	return cfg
}

// pruntimev1connectBoth is a fake pRuntime's two APIs.
type pruntimev1connectBoth interface {
	pruntimev1connect.InternalClient
	pruntimev1connect.PublicClient
}

func both(rts []*fakeRuntime) []pruntimev1connectBoth {
	out := make([]pruntimev1connectBoth, len(rts))
	for i, rt := range rts {
		out[i] = rt
	}
	return out
}

// TestMultiFetchesEachBlockOnce: four pRuntimes served by one Multi reach
// the chain's height, and every header, record, commit and validator set
// was fetched from the node once — while catching up and while following.
func TestMultiFetchesEachBlockOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := buildChain(t, 90, 20, 50)
	node := newFakeNode(c)
	src := newCountingSource(node)
	rts := []*fakeRuntime{{}, {}, {}, {}}
	reg := prometheus.NewRegistry()
	m, stop := runMulti(t, multiConfig(src, 16, reg, both(rts)...))
	waitAll := func(h int64) {
		for i, rt := range rts {
			waitFor(ctx, t, fmt.Sprintf("pRuntime %d at height %d", i, h), func() bool {
				hh, _ := rt.heights()
				return hh == h
			})
		}
	}
	waitAll(c.Height())
	if n := src.checkOnce(t); n != int(c.Height()) {
		t.Fatalf("%d header heights fetched for a chain of %d", n, c.Height())
	}
	node.extend(t, 7)
	waitAll(c.Height())
	if n := src.checkOnce(t); n != int(c.Height()) {
		t.Fatalf("%d header heights fetched for a chain of %d", n, c.Height())
	}
	for i, rt := range rts {
		checkBatches(t, c, rt.logCopy(), 16)
		if len(rt.logCopy()) == 0 {
			t.Fatalf("pRuntime %d synced nothing", i)
		}
	}
	st := m.CacheStats()
	if st.HeadersFetched != c.Height() || st.HeadersServed < 4*c.Height() {
		t.Fatalf("cache stats %+v for 4 workers and %d heights", st, c.Height())
	}
	stop()
	// Metrics are labelled per worker.
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	perWorker := map[string]float64{}
	recordBytes := -1.0
	for _, mf := range mfs {
		if mf.GetName() == "cella_pherry_cache_record_bytes" {
			recordBytes = mf.GetMetric()[0].GetGauge().GetValue()
		}
		if mf.GetName() != "cella_pherry_pruntime_header_height" {
			continue
		}
		for _, mt := range mf.GetMetric() {
			for _, l := range mt.GetLabel() {
				if l.GetName() == "worker" {
					perWorker[l.GetValue()] = mt.GetGauge().GetValue()
				}
			}
		}
	}
	if recordBytes <= 0 || recordBytes > float64(DefaultCacheBytes) {
		t.Fatalf("cache_record_bytes %v", recordBytes)
	}
	for i := range rts {
		if got := perWorker[fmt.Sprintf("w%d", i)]; int64(got) != c.Height() {
			t.Fatalf("header height metrics %v, want %d for each worker", perWorker, c.Height())
		}
	}
}

// TestMultiStalledWorker: a pRuntime whose Sync hangs and one that is down
// hold back none of the others; released, the stalled one catches up.
func TestMultiStalledWorker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := buildChain(t, 60, 0, 0)
	node := newFakeNode(c)
	live1, live2 := &fakeRuntime{}, &fakeRuntime{}
	stalled := stallRuntime{fakeRuntime: &fakeRuntime{}, release: make(chan struct{})}
	dead := &fakeRuntime{down: 1 << 30}
	cfg := multiConfig(node, 8, nil, live1, stalled, dead, live2)
	m, _ := runMulti(t, cfg)
	for i, rt := range []*fakeRuntime{live1, live2} {
		waitFor(ctx, t, fmt.Sprintf("live pRuntime %d at the tip", i), func() bool {
			hh, _ := rt.heights()
			return hh == c.Height()
		})
	}
	node.extend(t, 5)
	for i, rt := range []*fakeRuntime{live1, live2} {
		waitFor(ctx, t, fmt.Sprintf("live pRuntime %d following", i), func() bool {
			hh, _ := rt.heights()
			return hh == c.Height()
		})
	}
	if hh, _ := stalled.heights(); hh != 0 {
		t.Fatalf("the stalled pRuntime synced to %d", hh)
	}
	if st := m.Status(); st[1].Name != "w1" || st[1].CaughtUp || st[2].Initialized {
		t.Fatalf("status %+v", st)
	}
	close(stalled.release)
	waitFor(ctx, t, "the released pRuntime at the tip", func() bool {
		hh, _ := stalled.heights()
		return hh == c.Height()
	})
}

func TestNewMultiChecks(t *testing.T) {
	rt := &fakeRuntime{}
	for _, tc := range []struct {
		name    string
		workers []WorkerSpec
	}{
		{"none", nil},
		{"bad name", []WorkerSpec{{Name: "a b", Internal: rt, Public: rt}}},
		{"duplicate", []WorkerSpec{{Name: "a", Internal: rt, Public: rt}, {Name: "a", Internal: rt, Public: rt}}},
		{"no token", []WorkerSpec{{Name: "a", Public: rt}}},
	} {
		if _, err := NewMulti(MultiConfig{Config: Config{NodeURL: "http://127.0.0.1:1"}, Workers: tc.workers}); err == nil {
			t.Errorf("%s: accepted", tc.name)
		}
	}
}

func TestParseWorkersFile(t *testing.T) {
	entry := func(name string) string {
		return `{"name": "` + name + `", "public": "http://127.0.0.1:8000", "internal": "unix:/s", "token_file": "/t"}`
	}
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"one", `{"workers": [` + entry("w1") + `]}`, true},
		{"default names", `{"workers": [` + entry("") + `,` + entry("") + `]}`, true},
		{"none", `{"workers": []}`, false},
		{"duplicate", `{"workers": [` + entry("a") + `,` + entry("a") + `]}`, false},
		{"bad name", `{"workers": [` + entry("a/b") + `]}`, false},
		{"unknown field", `{"workers": [{"name": "a", "public": "p", "internal": "i", "token_file": "t", "token": "secret"}]}`, false},
		{"missing internal", `{"workers": [{"name": "a", "public": "p", "token_file": "t"}]}`, false},
		{"trailing", `{"workers": [` + entry("a") + `]} {}`, false},
		{"not json", `workers: [a]`, false},
	} {
		f, err := ParseWorkersFile([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: error %v, want ok=%v", tc.name, err, tc.ok)
		}
		if tc.name == "default names" && err == nil && (f.Workers[0].Name != "w0" || f.Workers[1].Name != "w1") {
			t.Errorf("default names %q %q", f.Workers[0].Name, f.Workers[1].Name)
		}
	}
	if _, err := ParseWorkersFile(make([]byte, MaxWorkersFileBytes+1)); err == nil {
		t.Error("an oversized file was accepted")
	}
}

// TestCachedEncodings: a cached header's encoding is made once and shared;
// an item that is not the cached one (or was evicted) is encoded afresh,
// never answered with another item's bytes.
func TestCachedEncodings(t *testing.T) {
	c := buildChain(t, 6, 0, 0)
	src := NewCachedSource(newFakeNode(c), 3, 0)
	hs, err := src.Headers(context.Background(), 1, 3)
	if err != nil {
		t.Fatal(err)
	}
	e := encoderFor(src)
	a, err := e.header(hs[0])
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.header(hs[0])
	if &a[0] != &b[0] {
		t.Fatal("a cached header was encoded twice")
	}
	want, _ := hs[0].ToProto().Marshal()
	if string(a) != string(want) {
		t.Fatal("cached encoding differs")
	}
	other := *hs[0]
	other.Time = other.Time.Add(time.Second)
	got, _ := e.header(&other)
	if wantOther, _ := other.ToProto().Marshal(); string(got) != string(wantOther) || string(got) == string(a) {
		t.Fatal("another header at the same height got the cached bytes")
	}
	// Evicted (capacity 3): encoded afresh, still right.
	if _, err := src.Headers(context.Background(), 4, 6); err != nil {
		t.Fatal(err)
	}
	if _, ok := src.headers.enc[1]; ok {
		t.Fatal("an evicted header kept its encoding")
	}
	if got, _ := e.header(hs[0]); string(got) != string(want) {
		t.Fatal("evicted header encoded wrongly")
	}
}
