package pherry

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/cella-network/cella/internal/genesisfile"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
)

// Addresses of a local pRuntime's APIs.
var (
	// DefaultPRuntimePublic is its public API.
	DefaultPRuntimePublic = defaults.HTTP(defaults.PRuntimePublicAddr)
	// DefaultPRuntimeInternal is its internal API.
	DefaultPRuntimeInternal = defaults.HTTP(defaults.PRuntimeInternalAddr)
)

// DefaultPollInterval is how often pherry asks the node for its height
// when no websocket event woke it.
const DefaultPollInterval = 2 * time.Second

// Timeouts of single calls.
const (
	callTimeout  = 30 * time.Second // node queries, pRuntime Info, Egress, Registration
	fetchTimeout = 2 * time.Minute  // reading one batch from the node
	syncTimeout  = 5 * time.Minute  // the pRuntime verifying one batch
	initTimeout  = 2 * time.Minute  // the pRuntime checking the genesis
)

// Config configures a Pherry. Zero values pick the defaults.
type Config struct {
	// NodeURL is the node's RPC address (default client.DefaultNode).
	NodeURL string
	// PublicURL is the pRuntime's public API (default DefaultPRuntimePublic).
	PublicURL string
	// InternalURL is the pRuntime's internal API (default
	// DefaultPRuntimeInternal): an http(s) URL or "unix:/path/to/socket".
	InternalURL string
	// Token is the internal API's bearer token (the pRuntime's
	// internal-api.token; see ReadTokenFile). Required unless Internal is set.
	Token string
	// HTTPClient carries the pRuntime calls (default: a client of its own).
	HTTPClient *http.Client
	// Operator signs the worker's registration and the egress submissions
	// and pays their fees. Without it pherry only syncs.
	Operator *keys.Pair
	// BatchSize is the most headers per batch (default DefaultBatchSize,
	// at most MaxBatchSize).
	BatchSize int
	// PollInterval is how often the node's height is polled while
	// following the chain (default DefaultPollInterval). A websocket
	// subscription wakes pherry earlier for each new block.
	PollInterval time.Duration
	// Log receives structured logs (default: discarded).
	Log *slog.Logger
	// Metrics registers pherry's metrics (default: not registered).
	Metrics prometheus.Registerer
	// Progress receives a progress bar while pherry is more than a batch
	// behind (a terminal gets one redrawn line; default: none).
	Progress io.Writer

	// Source overrides how the chain is read (default: NodeURL's node).
	Source Source
	// Internal and Public override the pRuntime clients (default: connect
	// clients of InternalURL, with Token, and PublicURL).
	Internal pruntimev1connect.InternalClient
	Public   pruntimev1connect.PublicClient
	// NoWebsocket disables the websocket subscription (pherry then only polls).
	NoWebsocket bool
	// PCSURL is the base URL of Intel's PCS or a PCCS mirror that TDX
	// collateral is fetched from when the pRuntime's registration carries
	// none (default DefaultPCSURL; PCSOff disables fetching).
	PCSURL string
}

// Status is a snapshot of pherry's view.
type Status struct {
	// NodeHeight is the node's last committed height.
	NodeHeight int64
	// HeaderHeight and AppliedHeight are the pRuntime's.
	HeaderHeight  int64
	AppliedHeight int64
	// Initialized, Registered: as the pRuntime last said.
	Initialized bool
	Registered  bool
	// CaughtUp: the pRuntime has verified every header the node has.
	CaughtUp bool
}

// Pherry relays between one node and one pRuntime. Make it with New and
// start it with Run.
type Pherry struct {
	cfg Config
	log *slog.Logger
	// nodeMu guards node and src, which are replaced when the node keeps
	// failing (see reconnectNode).
	nodeMu sync.Mutex
	node   *client.Client
	src    Source
	rt     pruntimev1connect.InternalClient
	pub    pruntimev1connect.PublicClient
	m      *metrics
	prog   *progress

	// wake is signalled for every new block the websocket announces.
	wake chan struct{}
	// kick asks the submitter for a round (registration, egress).
	kick chan struct{}
	// resubscribe asks the watcher for a new websocket session: polling
	// keeps finding blocks that no event announced.
	resubscribe chan struct{}

	// genesisHash is the node's chain's genesis hash, once read.
	genesisHash []byte
	// forceVals sends the validator set, and the record the pRuntime
	// keeps, with the next batch (after a rejected batch: a pRuntime may
	// have lost the set it would need, or kept a bad record).
	forceVals bool
	// rate measures headers per second over recent batches.
	rateHeight int64
	rateAt     time.Time

	// nonces is the operator's nonce book, shared by the pherries of a
	// Multi with the same operator (nil: the submitter makes its own).
	nonces *nonceBook

	// minBackoff and maxBackoff bound the retry delays of the main loop.
	minBackoff, maxBackoff time.Duration

	mu     sync.Mutex
	status Status
}

// New checks cfg and returns a pherry. It connects to nothing yet.
func New(cfg Config) (*Pherry, error) {
	if cfg.NodeURL == "" {
		cfg.NodeURL = client.DefaultNode
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = DefaultPRuntimePublic
	}
	if cfg.InternalURL == "" {
		cfg.InternalURL = DefaultPRuntimeInternal
	}
	cfg.PublicURL = withScheme(cfg.PublicURL)
	cfg.InternalURL = withScheme(cfg.InternalURL)
	if cfg.Internal == nil && cfg.Token == "" {
		return nil, errors.New("pherry: no token for the pRuntime's internal API (give its internal-api.token file)")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
	}
	if cfg.BatchSize > MaxBatchSize {
		return nil, fmt.Errorf("pherry: batch size %d, at most %d", cfg.BatchSize, MaxBatchSize)
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.PCSURL == "" {
		cfg.PCSURL = DefaultPCSURL
	}
	if cfg.PCSURL != PCSOff {
		u, err := url.Parse(cfg.PCSURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("pherry: PCS URL %q: want an http(s) URL or %q", cfg.PCSURL, PCSOff)
		}
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: 4,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	c, err := client.New(cfg.NodeURL)
	if err != nil {
		return nil, fmt.Errorf("pherry: %w", err)
	}
	m, err := newMetrics(cfg.Metrics)
	if err != nil {
		return nil, err
	}
	p := &Pherry{
		cfg:  cfg,
		log:  cfg.Log.With("component", "pherry"),
		src:  cfg.Source,
		node: c,
		rt:   cfg.Internal,
		pub:  cfg.Public,
		m:    m,
		prog: newProgress(cfg.Progress),
		wake: make(chan struct{}, 1),
		kick: make(chan struct{}, 1),

		resubscribe: make(chan struct{}, 1),

		minBackoff: 200 * time.Millisecond,
		maxBackoff: 10 * time.Second,
	}
	if p.src == nil {
		p.src = NewNodeSource(c)
	}
	if p.rt == nil {
		hc, base := internalClient(cfg.HTTPClient, cfg.InternalURL)
		p.rt = pruntimev1connect.NewInternalClient(hc, base, connect.WithInterceptors(bearer(cfg.Token)))
	}
	if p.pub == nil {
		p.pub = pruntimev1connect.NewPublicClient(cfg.HTTPClient, cfg.PublicURL)
	}
	return p, nil
}

// nodeClient returns the current node client.
func (p *Pherry) nodeClient() *client.Client {
	p.nodeMu.Lock()
	defer p.nodeMu.Unlock()
	return p.node
}

// source returns the current chain source.
func (p *Pherry) source() Source {
	p.nodeMu.Lock()
	defer p.nodeMu.Unlock()
	return p.src
}

// reconnectNode replaces the node client (and the default source) with
// fresh ones, dropping their kept-alive connections: a node restarted in
// the same process can leave the old server answering on them.
func (p *Pherry) reconnectNode() {
	c, err := client.New(p.cfg.NodeURL)
	if err != nil {
		return // New checked the address once already
	}
	p.nodeMu.Lock()
	defer p.nodeMu.Unlock()
	p.node = c
	if p.cfg.Source == nil {
		p.src = NewNodeSource(c)
	}
}

// Status returns pherry's current view.
func (p *Pherry) Status() Status {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

func (p *Pherry) setStatus(f func(*Status)) {
	p.mu.Lock()
	f(&p.status)
	p.mu.Unlock()
}

// Run relays until ctx is cancelled, then returns nil. Failures of the node
// or the pRuntime are logged, counted and retried with backoff; none ends
// Run.
func (p *Pherry) Run(ctx context.Context) error {
	p.log.Info("pherry starting", "node", p.cfg.NodeURL, "pruntime_public", p.cfg.PublicURL, "pruntime_internal", p.cfg.InternalURL,
		"batch_size", p.cfg.BatchSize, "operator", operatorName(p.cfg.Operator))
	if p.cfg.Operator == nil {
		p.log.Warn("no operator key: pherry only syncs; it will not register the worker or submit its egress")
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if !p.cfg.NoWebsocket {
		wg.Add(1)
		go func() { defer wg.Done(); p.watch(ctx) }()
	}
	if p.cfg.Operator != nil {
		s := newSubmitter(p)
		wg.Add(1)
		go func() { defer wg.Done(); s.run(ctx) }()
	}
	defer p.prog.finish()

	bo := backoff{min: p.minBackoff, max: p.maxBackoff}
	var lastKind string
	nodeFailures := 0
	caughtUp, known := false, false
	// silentBlocks counts polls that found new blocks no event announced;
	// idleWakes, events after which the node showed no new block.
	silentBlocks, idleWakes := 0, 0
	// wokenBy is how the last wait ended: wokeNone (no wait yet, or a
	// step that failed), wokeEvent or wokePoll.
	wokenBy := wokeNone
	for ctx.Err() == nil {
		before := p.Status().HeaderHeight
		up, err := p.step(ctx)
		if ctx.Err() != nil {
			break
		}
		if err != nil {
			wokenBy = wokeNone
			kind := errKind(err)
			p.m.errors.WithLabelValues(kind).Inc()
			d := bo.next()
			// Repeated failures of one kind are logged at debug after the
			// first, so that a node down for an hour does not flood the log.
			lvl := slog.LevelWarn
			if kind == errKindRejected || kind == errKindGenesis || kind == errKindStopped || kind == errKindInit {
				lvl = slog.LevelError
			} else if kind == lastKind {
				lvl = slog.LevelDebug
			}
			p.log.Log(ctx, lvl, "step failed; retrying", "kind", kind, "err", err, "retry_in", d.Round(time.Millisecond))
			lastKind = kind
			if kind == errKindNode {
				if nodeFailures++; nodeFailures%2 == 0 {
					p.reconnectNode()
				}
			}
			if !sleep(ctx, d) {
				break
			}
			continue
		}
		if lastKind != "" {
			p.log.Info("recovered", "after", lastKind)
			lastKind = ""
		}
		nodeFailures = 0
		bo.reset()
		st := p.Status()
		if st.Initialized && (up != caughtUp || !known) {
			if up {
				p.log.Info("caught up; following new blocks", "height", st.HeaderHeight)
			} else {
				p.log.Info("behind the node; catching up", "pruntime", st.HeaderHeight, "node", st.NodeHeight)
			}
			caughtUp, known = up, true
		}
		if !up {
			wokenBy = wokeNone
			continue
		}
		// Following. A poll that finds a block no event announced hints at
		// a dead subscription; after a few, start a new one. Events after
		// which the node shows no new block hint at a stale connection to
		// the node (a server that outlived its node keeps answering on
		// kept-alive connections); after a few, dial again.
		progressed := st.HeaderHeight > before
		if wokenBy == wokePoll && progressed && !p.cfg.NoWebsocket {
			if silentBlocks++; silentBlocks >= 3 {
				silentBlocks = 0
				select {
				case p.resubscribe <- struct{}{}:
				default:
				}
			}
		}
		if wokenBy == wokeEvent && !progressed {
			if idleWakes++; idleWakes >= 3 {
				idleWakes = 0
				p.log.Debug("new-block events but no new height from the node; reconnecting")
				p.reconnectNode()
			}
		} else if progressed {
			idleWakes = 0
		}
		p.poke()
		wokenBy = wokePoll
		if p.waitForBlock(ctx) {
			wokenBy, silentBlocks = wokeEvent, 0
		}
	}
	p.log.Info("pherry stopped")
	return nil
}

// How a wait for a new block ended.
const (
	wokeNone = iota
	wokeEvent
	wokePoll
)

// poke asks the submitter for a round.
func (p *Pherry) poke() {
	select {
	case p.kick <- struct{}{}:
	default:
	}
}

// waitForBlock waits for a websocket wake-up, the poll interval, or ctx;
// it reports whether the websocket woke it.
func (p *Pherry) waitForBlock(ctx context.Context) bool {
	t := time.NewTimer(p.cfg.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-p.wake:
		return true
	case <-t.C:
	}
	return false
}

// stepError is a failed step with its kind.
type stepError struct {
	kind string
	err  error
}

func (e *stepError) Error() string { return e.err.Error() }
func (e *stepError) Unwrap() error { return e.err }

func fail(kind string, err error) error { return &stepError{kind: kind, err: err} }

func errKind(err error) string {
	var se *stepError
	if errors.As(err, &se) {
		return se.kind
	}
	return "other"
}

// pruntimeErr classifies an error of a pRuntime call.
func pruntimeErr(what string, err error) error {
	switch connect.CodeOf(err) {
	case connect.CodeInvalidArgument:
		return fail(errKindRejected, fmt.Errorf("pRuntime rejected %s: %w", what, err))
	case connect.CodeFailedPrecondition:
		return fail(errKindStopped, fmt.Errorf("pRuntime refused %s: %w", what, err))
	}
	return fail(errKindPRuntime, fmt.Errorf("pRuntime %s: %w", what, err))
}

// step does one unit of work: initialise the pRuntime, or sync one batch.
// It reports whether the pRuntime has every header the node has.
func (p *Pherry) step(ctx context.Context) (bool, error) {
	started := time.Now()
	cctx, cancel := context.WithTimeout(ctx, callTimeout)
	info, err := p.pub.Info(cctx, &pruntimev1.InfoRequest{})
	cancel()
	if err != nil {
		return false, fail(errKindPRuntime, fmt.Errorf("pRuntime info: %w", err))
	}
	p.setStatus(func(s *Status) {
		s.Initialized, s.Registered = info.Initialized, info.Registered
		s.HeaderHeight, s.AppliedHeight = info.HeaderHeight, info.Height
	})
	if info.Registered {
		p.m.registered.Set(1)
	} else {
		p.m.registered.Set(0)
	}
	if !info.Initialized {
		return false, p.initRuntime(ctx)
	}
	p.m.headerHeight.Set(float64(info.HeaderHeight))
	p.m.appliedHeight.Set(float64(info.Height))

	cctx, cancel = context.WithTimeout(ctx, callTimeout)
	src := p.source()
	nodeHeight, err := src.Height(cctx)
	cancel()
	if err != nil {
		return false, fail(errKindNode, err)
	}
	p.m.nodeHeight.Set(float64(nodeHeight))
	p.setStatus(func(s *Status) { s.NodeHeight = nodeHeight })
	if err := p.checkGenesis(ctx, info); err != nil {
		return false, err
	}

	cur := Cursor{HeaderHeight: info.HeaderHeight, AppliedHeight: info.Height, HasRecord: info.HeaderRecord}
	sp, ok := PlanSpan(cur, nodeHeight, p.cfg.BatchSize)
	p.prog.update(cur.HeaderHeight, nodeHeight, p.cfg.BatchSize)
	if !ok {
		p.setStatus(func(s *Status) { s.CaughtUp = true })
		return true, nil
	}
	if !p.forceVals {
		sp = SkipKept(sp, cur)
	}

	fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	tf := time.Now()
	f, err := fetchBatch(fctx, src, sp, p.forceVals)
	cancel()
	if err != nil {
		return false, fail(errKindNode, fmt.Errorf("reading batch %d..%d: %w", sp.First, sp.Last, err))
	}
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	t0 := time.Now()
	res, err := p.rt.Sync(sctx, f.req)
	cancel()
	if err != nil {
		err = pruntimeErr(fmt.Sprintf("batch %d..%d", f.span.First, f.span.Last), err)
		if errKind(err) == errKindRejected {
			// Send the validator set next time, and re-read the genesis:
			// the node may have been replaced.
			p.forceVals, p.genesisHash = true, nil
		}
		return false, err
	}
	p.forceVals = false
	n := f.span.Last - f.span.First + 1
	p.m.batches.Inc()
	p.m.headers.Add(float64(n))
	p.m.batchBytes.Add(float64(f.bytes))
	p.m.headerHeight.Set(float64(res.HeaderHeight))
	p.m.appliedHeight.Set(float64(res.AppliedHeight))
	p.measureRate(res.HeaderHeight)
	p.setStatus(func(s *Status) {
		s.HeaderHeight, s.AppliedHeight = res.HeaderHeight, res.AppliedHeight
		s.CaughtUp = res.HeaderHeight >= nodeHeight
	})
	p.log.Debug("batch synced", "first", f.span.First, "last", f.span.Last, "records_from", f.span.Records,
		"validators", len(f.req.Validators) > 0, "bytes", f.bytes, "plan_time", tf.Sub(started).Round(time.Microsecond),
		"fetch_time", t0.Sub(tf).Round(time.Microsecond), "sync_time", time.Since(t0).Round(time.Microsecond),
		"applied", res.AppliedHeight, "app_hash", fmt.Sprintf("%X", res.AppHash))
	// The blocks before the last header are applied: their egress (the
	// outcomes of their commands) can go. Then the last header's record.
	p.poke()
	if err := p.syncRecord(ctx, src, res.HeaderHeight); err != nil {
		return false, err
	}
	p.prog.update(res.HeaderHeight, nodeHeight, p.cfg.BatchSize)
	return res.HeaderHeight >= nodeHeight, nil
}

// syncRecord hands the pRuntime the record of its last verified header h
// (which the batch left out) in a record-only batch. Should it fail, the
// next step sees that the pRuntime lacks the record (Info's header_record)
// and the next batch carries it.
func (p *Pherry) syncRecord(ctx context.Context, src Source, h int64) error {
	fctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	req, size, err := fetchRecord(fctx, src, h)
	cancel()
	if err != nil {
		return fail(errKindNode, fmt.Errorf("reading record %d: %w", h, err))
	}
	sctx, cancel := context.WithTimeout(ctx, syncTimeout)
	_, err = p.rt.Sync(sctx, req)
	cancel()
	if err != nil {
		err = pruntimeErr(fmt.Sprintf("record %d", h), err)
		if errKind(err) == errKindRejected {
			p.forceVals, p.genesisHash = true, nil
		}
		return err
	}
	p.m.batchBytes.Add(float64(size))
	return nil
}

// measureRate updates the headers-per-second gauge over windows of at
// least a second.
func (p *Pherry) measureRate(height int64) {
	now := time.Now()
	if p.rateAt.IsZero() || height < p.rateHeight {
		p.rateHeight, p.rateAt = height, now
		return
	}
	if dt := now.Sub(p.rateAt).Seconds(); dt >= 1 {
		p.m.headersPerSec.Set(float64(height-p.rateHeight) / dt)
		p.rateHeight, p.rateAt = height, now
	}
}

// initRuntime gives a fresh pRuntime the chain's genesis and its height-0
// record.
func (p *Pherry) initRuntime(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, initTimeout)
	defer cancel()
	src := p.source()
	doc, err := src.GenesisDoc(ctx)
	if err != nil {
		return fail(errKindNode, err)
	}
	g, err := genesisfile.GenesisFromDoc(doc)
	if err != nil {
		return fail(errKindInit, fmt.Errorf("node's genesis: %w", err))
	}
	recs, err := src.Records(ctx, 0, 0)
	if err != nil {
		return fail(errKindNode, fmt.Errorf("genesis record: %w", err))
	}
	if len(recs) == 0 || recs[0] == nil || recs[0].Height != 0 {
		return fail(errKindNode, errors.New("node answered no height-0 record"))
	}
	p.log.Info("initialising the pRuntime", "chain_id", g.ChainID, "genesis_hash", fmt.Sprintf("0x%x", g.Hash()))
	res, err := p.rt.Init(ctx, &pruntimev1.InitRequest{Genesis: scale.Encode(g), GenesisRecord: scale.Encode(recs[0])})
	if err != nil {
		err = pruntimeErr("init", err)
		if errKind(err) != errKindPRuntime {
			err = fail(errKindInit, err)
		}
		return err
	}
	gh := g.Hash()
	if !bytes.Equal(res.GenesisHash, gh[:]) {
		return fail(errKindInit, fmt.Errorf("pRuntime reports genesis hash %x, the node's genesis is %x", res.GenesisHash, gh))
	}
	p.genesisHash = gh[:]
	p.log.Info("pRuntime initialised", "chain_id", g.ChainID, "genesis_hash", fmt.Sprintf("0x%x", gh))
	return nil
}

// checkGenesis checks that the pRuntime is bound to the node's chain, so
// that pherry does not feed one chain to a worker of another.
func (p *Pherry) checkGenesis(ctx context.Context, info *pruntimev1.InfoResponse) error {
	if p.genesisHash == nil {
		ctx, cancel := context.WithTimeout(ctx, callTimeout)
		defer cancel()
		doc, err := p.source().GenesisDoc(ctx)
		if err != nil {
			return fail(errKindNode, err)
		}
		g, err := genesisfile.GenesisFromDoc(doc)
		if err != nil {
			return fail(errKindGenesis, fmt.Errorf("node's genesis: %w", err))
		}
		gh := g.Hash()
		p.genesisHash = gh[:]
	}
	want := fmt.Sprintf("0x%x", p.genesisHash)
	if !strings.EqualFold(info.GenesisHash, want) {
		err := fmt.Errorf("the pRuntime is bound to genesis %s, the node's chain is %s (chain id %q): wrong node or pRuntime", info.GenesisHash, want, info.ChainId)
		p.genesisHash = nil
		return fail(errKindGenesis, err)
	}
	return nil
}

func operatorName(op *keys.Pair) string {
	if op == nil {
		return "none"
	}
	return op.Public().String()
}
