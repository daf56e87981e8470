package pherry

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
)

// MaxWorkers bounds the pRuntimes one Multi serves.
const MaxWorkers = 256

// WorkerSpec is one pRuntime a Multi serves.
type WorkerSpec struct {
	// Name labels the worker in logs and metrics (label worker=Name):
	// 1 to 64 of [A-Za-z0-9._-]. Default "w<index>".
	Name string
	// PublicURL and InternalURL are the pRuntime's APIs, Token its
	// internal API token (see Config).
	PublicURL, InternalURL, Token string
	// Operator registers the worker and pays for its egress (nil: only
	// sync it). Workers with one operator share its nonces.
	Operator *keys.Pair
	// Internal and Public override the pRuntime clients (tests).
	Internal pruntimev1connect.InternalClient
	Public   pruntimev1connect.PublicClient
}

// MultiConfig configures a Multi.
type MultiConfig struct {
	// Config is shared by every worker: NodeURL, HTTPClient, BatchSize,
	// PollInterval, Log, Metrics, NoWebsocket, PCSURL and Source. Its
	// per-pRuntime fields (PublicURL, InternalURL, Token, Operator,
	// Internal, Public) and Progress are ignored: see Workers.
	Config
	// Workers are the pRuntimes served, at least one.
	Workers []WorkerSpec
	// CacheHeights bounds the shared block cache (default
	// DefaultCacheHeights heights of each kind).
	CacheHeights int
	// CacheBytes bounds the bytes of the block records (and their
	// encodings) the shared cache keeps (default DefaultCacheBytes); a
	// record larger than that alone is served but not kept.
	CacheBytes int64
}

var workerNameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Multi relays between one node and several pRuntimes, like Phala's
// runtime-bridge: every worker has its own pherry loop (its own cursor,
// errors, backoff and submitter) in its own goroutine, so a slow or dead
// pRuntime holds back no other; all read the chain through one
// CachedSource, so each block is fetched from the node once, and share
// one node client and one websocket subscription. Metrics carry the label
// worker=<name>.
type Multi struct {
	cfg     MultiConfig
	log     *slog.Logger
	node    *client.Client
	src     *CachedSource
	workers []*Pherry
	names   []string
}

// NewMulti checks cfg and returns a Multi. It connects to nothing yet.
func NewMulti(cfg MultiConfig) (*Multi, error) {
	if len(cfg.Workers) == 0 {
		return nil, errors.New("pherry: no pRuntime to serve")
	}
	if len(cfg.Workers) > MaxWorkers {
		return nil, fmt.Errorf("pherry: %d pRuntimes, at most %d", len(cfg.Workers), MaxWorkers)
	}
	if cfg.NodeURL == "" {
		cfg.NodeURL = client.DefaultNode
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	node, err := client.New(cfg.NodeURL)
	if err != nil {
		return nil, fmt.Errorf("pherry: %w", err)
	}
	base := cfg.Source
	if base == nil {
		base = NewNodeSource(node)
	}
	m := &Multi{cfg: cfg, log: cfg.Log.With("component", "pherry"), node: node, src: NewCachedSource(base, cfg.CacheHeights, cfg.CacheBytes)}
	if cfg.Metrics != nil {
		if err := m.registerCacheMetrics(cfg.Metrics); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	books := map[keys.PublicKey]*nonceBook{}
	for i, w := range cfg.Workers {
		name := w.Name
		if name == "" {
			name = fmt.Sprintf("w%d", i)
		}
		if !workerNameRE.MatchString(name) {
			return nil, fmt.Errorf("pherry: worker %d: name %q: want 1 to 64 of A-Z a-z 0-9 . _ -", i, name)
		}
		if seen[name] {
			return nil, fmt.Errorf("pherry: two workers named %q", name)
		}
		seen[name] = true
		wc := cfg.Config
		wc.PublicURL, wc.InternalURL, wc.Token, wc.Operator = w.PublicURL, w.InternalURL, w.Token, w.Operator
		wc.Internal, wc.Public = w.Internal, w.Public
		wc.Source = m.src
		wc.NoWebsocket = true // one subscription for all: see watch
		wc.Progress = nil
		wc.Log = cfg.Log.With("worker", name)
		if cfg.Metrics != nil {
			wc.Metrics = prometheus.WrapRegistererWith(prometheus.Labels{"worker": name}, cfg.Metrics)
		}
		p, err := New(wc)
		if err != nil {
			return nil, fmt.Errorf("worker %q: %w", name, err)
		}
		p.node = node
		if w.Operator != nil {
			b := books[w.Operator.Public()]
			if b == nil {
				b = &nonceBook{}
				books[w.Operator.Public()] = b
			}
			p.nonces = b
		}
		m.workers = append(m.workers, p)
		m.names = append(m.names, name)
	}
	return m, nil
}

// WorkerStatus is one worker's Status with its name.
type WorkerStatus struct {
	Name string
	Status
}

// Status returns every worker's status, in configuration order.
func (m *Multi) Status() []WorkerStatus {
	out := make([]WorkerStatus, len(m.workers))
	for i, p := range m.workers {
		out[i] = WorkerStatus{Name: m.names[i], Status: p.Status()}
	}
	return out
}

// CacheStats returns the shared block cache's counters.
func (m *Multi) CacheStats() CacheStats { return m.src.Stats() }

// Run relays for every worker until ctx is cancelled, then returns nil.
func (m *Multi) Run(ctx context.Context) error {
	m.log.Info("pherry starting", "node", m.cfg.NodeURL, "workers", len(m.workers), "cache_heights", m.src.capacity, "cache_bytes", m.src.maxBytes)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	if !m.cfg.NoWebsocket {
		wg.Add(1)
		go func() { defer wg.Done(); m.watch(ctx) }()
	}
	for _, p := range m.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = p.Run(ctx)
		}()
	}
	wg.Wait()
	return nil
}

// watch keeps one websocket subscription to new blocks and wakes every
// worker's loop for each, re-subscribing with backoff.
func (m *Multi) watch(ctx context.Context) {
	bo := backoff{min: 500 * time.Millisecond, max: 30 * time.Second}
	for ctx.Err() == nil {
		started := time.Now()
		err := m.subscribe(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(started) > time.Minute {
			bo.reset()
		}
		d := bo.next()
		m.log.Debug("websocket subscription failed; polling until it is back", "err", err, "retry_in", d.Round(time.Millisecond))
		if !sleep(ctx, d) {
			return
		}
	}
}

func (m *Multi) subscribe(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, callTimeout)
	sub, err := m.node.Subscribe(sctx, newBlockQuery)
	cancel()
	if err != nil {
		return err
	}
	defer func() { _ = sub.Close() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case _, ok := <-sub.Events():
			if !ok {
				return fmt.Errorf("%w: %v", errSessionEnded, sub.Err())
			}
			for _, p := range m.workers {
				select {
				case p.wake <- struct{}{}:
				default:
				}
			}
		}
	}
}

// registerCacheMetrics exports the shared cache's counters:
// cella_pherry_cache_fetched_total and cella_pherry_cache_served_total,
// by kind (header, record, commit, validators), and the gauge
// cella_pherry_cache_record_bytes.
func (m *Multi) registerCacheMetrics(reg prometheus.Registerer) error {
	for kind, name := range []string{kindHeader: "header", kindRecord: "record", kindCommit: "commit", kindValidators: "validators"} {
		for _, c := range []struct {
			metric, help string
			v            func() float64
		}{
			{"cache_fetched_total", "Heights fetched from the node by the shared block cache, by kind.", func() float64 { return float64(m.src.fetched[kind].Load()) }},
			{"cache_served_total", "Heights served to workers by the shared block cache (fetched or cached), by kind.", func() float64 { return float64(m.src.served[kind].Load()) }},
		} {
			f := prometheus.NewCounterFunc(prometheus.CounterOpts{Namespace: "cella", Subsystem: "pherry", Name: c.metric, Help: c.help,
				ConstLabels: prometheus.Labels{"kind": name}}, c.v)
			if err := reg.Register(f); err != nil {
				return fmt.Errorf("pherry: metrics: %w", err)
			}
		}
	}
	recordBytes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: "cella", Subsystem: "pherry", Name: "cache_record_bytes",
		Help: "Bytes of block records (and their encodings) the shared block cache holds; at most --cache-bytes."}, func() float64 {
		m.src.mu.Lock()
		defer m.src.mu.Unlock()
		return float64(m.src.records.bytes)
	})
	if err := reg.Register(recordBytes); err != nil {
		return fmt.Errorf("pherry: metrics: %w", err)
	}
	return nil
}

// MaxWorkersFileBytes bounds a workers file.
const MaxWorkersFileBytes = 1 << 20

// WorkersFile is the JSON file that lists the pRuntimes one pherry serves
// (`cella pherry --workers FILE`):
//
//	{"workers": [
//	  {"name": "w1", "public": "http://127.0.0.1:8000",
//	   "internal": "unix:/var/lib/cella/w1/internal.sock",
//	   "token_file": "/var/lib/cella/w1/internal-api.token",
//	   "operator_file": "/etc/cella/w1.operator"}
//	]}
//
// Secrets never appear in it: the token and the operator's secret URI are
// read from the files it names. operator_file may be left out to use the
// operator given to pherry itself (or none: sync only).
type WorkersFile struct {
	Workers []WorkerEntry `json:"workers"`
}

// WorkerEntry is one pRuntime of a WorkersFile.
type WorkerEntry struct {
	Name         string `json:"name"`
	Public       string `json:"public"`
	Internal     string `json:"internal"`
	TokenFile    string `json:"token_file"`
	OperatorFile string `json:"operator_file,omitempty"`
}

// ParseWorkersFile decodes and checks a workers file: known fields only,
// 1 to MaxWorkers entries, each with a unique valid name (default
// "w<index>"), a public and an internal address and a token file.
func ParseWorkersFile(b []byte) (*WorkersFile, error) {
	if len(b) > MaxWorkersFileBytes {
		return nil, fmt.Errorf("workers file of %d bytes, at most %d", len(b), MaxWorkersFileBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var f WorkersFile
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("workers file: %w", err)
	}
	if dec.More() {
		return nil, errors.New("workers file: trailing data after the JSON object")
	}
	if len(f.Workers) == 0 || len(f.Workers) > MaxWorkers {
		return nil, fmt.Errorf("workers file: %d workers, want 1 to %d", len(f.Workers), MaxWorkers)
	}
	seen := map[string]bool{}
	for i := range f.Workers {
		w := &f.Workers[i]
		if w.Name == "" {
			w.Name = fmt.Sprintf("w%d", i)
		}
		if !workerNameRE.MatchString(w.Name) {
			return nil, fmt.Errorf("workers file: worker %d: name %q: want 1 to 64 of A-Z a-z 0-9 . _ -", i, w.Name)
		}
		if seen[w.Name] {
			return nil, fmt.Errorf("workers file: two workers named %q", w.Name)
		}
		seen[w.Name] = true
		if w.Public == "" || w.Internal == "" || w.TokenFile == "" {
			return nil, fmt.Errorf("workers file: worker %q: public, internal and token_file are required", w.Name)
		}
	}
	return &f, nil
}
