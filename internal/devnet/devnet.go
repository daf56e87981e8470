// Package devnet composes a development network in one process: a
// single-validator node and, unless disabled, a worker — a pRuntime with the
// dev TEE and a pherry relaying to it from the node — set up the safe way
// (the pRuntime's internal API on a loopback port of its own behind its
// token, the operator fixed by configuration, the worker pinned to the
// chain's genesis). `cella dev` runs one; tests start one.
package devnet

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/abciapp"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/pherry"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/state"
	devtee "github.com/cella-network/cella/internal/tee/dev"
	"github.com/cella-network/cella/internal/worker"
)

// DefaultOperator is the dev account that operates the worker: it
// registers the worker and pays for its egress. Alice is left to the user,
// so that the two never race for nonces.
const DefaultOperator = "Ferdie"

// Config configures a Network. Zero values pick the defaults.
type Config struct {
	// Home holds the chain's data; a second start continues the chain.
	Home string
	// ChainID names a new chain.
	ChainID string
	// Node sets the node's options (block time, addresses, metrics).
	Node node.ConfigOptions
	// NoWorker runs the chain alone.
	NoWorker bool
	// Worker configures the worker (its Dir defaults to Home/pruntime, its
	// node to the network's node, its genesis pin to the chain's).
	Worker WorkerConfig
	// Log receives every component's logs (default: discarded).
	Log *slog.Logger
	// AllowMeasurements are more pRuntime measurement hashes for a new
	// chain's genesis allow-list (besides the dev worker's), so that
	// standalone pRuntimes can register. A continued chain keeps its
	// genesis.
	AllowMeasurements [][32]byte
}

// Network is a running dev network.
type Network struct {
	Node   *node.Node
	Worker *Worker // nil with NoWorker
	// Fresh says the chain was created by this start.
	Fresh bool

	home    string
	nodeURL string
	log     *slog.Logger
	mu      sync.Mutex
	added   []*Worker
}

// Start creates the chain in cfg.Home when there is none (allow-listing
// the dev worker's measurement at genesis), starts the node and the worker.
func Start(ctx context.Context, cfg Config) (*Network, error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	fresh := !node.IsInitialised(cfg.Home)
	if fresh {
		m := devtee.MeasurementOf(pruntime.DevBuildID()).Hash()
		ms := append([][32]byte{m}, cfg.AllowMeasurements...)
		if _, err := node.InitHome(cfg.Home, node.InitOptions{ChainID: cfg.ChainID, Dev: true, Config: cfg.Node, Measurements: ms}); err != nil {
			return nil, err
		}
	}
	// The options win over the stored config.toml, so they apply on every start.
	ncfg := node.NewConfig(cfg.Home, cfg.Node)
	n, err := node.Start(ncfg, cfg.Log)
	if err != nil {
		return nil, err
	}
	net := &Network{Node: n, Fresh: fresh, home: cfg.Home, nodeURL: HTTPURL(ncfg.RPC.ListenAddress), log: cfg.Log}
	if cfg.NoWorker {
		return net, nil
	}
	wc := cfg.Worker
	if wc.Dir == "" {
		wc.Dir = filepath.Join(cfg.Home, "pruntime")
	}
	if wc.NodeURL == "" {
		wc.NodeURL = HTTPURL(ncfg.RPC.ListenAddress)
	}
	if wc.GenesisHash == ([32]byte{}) {
		wc.GenesisHash = n.App.Machine().GenesisHash()
	}
	if wc.Log == nil {
		wc.Log = cfg.Log
	}
	if wc.Source == nil && wc.NodeURL == HTTPURL(ncfg.RPC.ListenAddress) {
		// The worker's pherry reads block records straight from the app
		// in this process; the rest (headers, commits, validators) it
		// reads over RPC as any pherry does.
		c, err := client.New(wc.NodeURL)
		if err != nil {
			n.Close()
			return nil, err
		}
		wc.Source = appRecords{Source: pherry.NewNodeSource(c), app: n.App}
	}
	if net.Worker, err = StartWorker(ctx, wc); err != nil {
		n.Close()
		return nil, err
	}
	return net, nil
}

// AddWorker starts one more worker on the network's node: its data folder
// defaults to Home/name, its APIs to ephemeral loopback ports, its node and
// genesis pin to the network's, its log to the network's (tagged with
// name). Give each worker an operator of its own (cfg.Operator; the dev
// accounts //Bob … //Ferdie are funded at genesis): workers sharing an
// operator race for its nonces. Network.Close closes it.
func (n *Network) AddWorker(ctx context.Context, name string, cfg WorkerConfig) (*Worker, error) {
	if name == "" || filepath.Base(name) != name || name == "." || name == ".." {
		return nil, fmt.Errorf("devnet: worker name %q is not a plain folder name", name)
	}
	if cfg.Dir == "" {
		cfg.Dir = filepath.Join(n.home, name)
	}
	if cfg.PublicAddr == "" {
		// An ephemeral port; spelt apart from the internal API's default
		// ("127.0.0.1:0"), which Serve would take for the same listener.
		cfg.PublicAddr = "localhost:0"
	}
	if cfg.NodeURL == "" {
		cfg.NodeURL = n.nodeURL
	}
	if cfg.GenesisHash == ([32]byte{}) {
		cfg.GenesisHash = n.Node.App.Machine().GenesisHash()
	}
	if cfg.Log == nil {
		cfg.Log = n.log.With("worker", name)
	}
	w, err := StartWorker(ctx, cfg)
	if err != nil {
		return nil, err
	}
	n.mu.Lock()
	n.added = append(n.added, w)
	n.mu.Unlock()
	return w, nil
}

// Close stops the workers (sealing their final checkpoints) and the node.
func (n *Network) Close() error {
	var errs []error
	n.mu.Lock()
	added := n.added
	n.added = nil
	n.mu.Unlock()
	for _, w := range added {
		if err := w.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sealing a pRuntime's final checkpoint: %w", err))
		}
	}
	if n.Worker != nil {
		if err := n.Worker.Close(); err != nil {
			errs = append(errs, fmt.Errorf("sealing the pRuntime's final checkpoint: %w", err))
		}
	}
	if err := n.Node.Close(); err != nil {
		errs = append(errs, fmt.Errorf("node shutdown: %w", err))
	}
	return errors.Join(errs...)
}

// WorkerConfig configures a Worker.
type WorkerConfig struct {
	// Dir is the pRuntime's data folder.
	Dir string
	// NodeURL is the node pherry relays from.
	NodeURL string
	// PublicAddr is the pRuntime's public API (default
	// defaults.PRuntimePublicAddr); InternalAddr its internal API (default:
	// an ephemeral loopback port).
	PublicAddr, InternalAddr string
	// Operator is the secret URI of the account that operates the worker
	// (default "//" + DefaultOperator).
	Operator string
	// GenesisHash pins the pRuntime to a chain (zero: not pinned).
	GenesisHash [32]byte
	// CheckpointInterval is the pRuntime's (default pruntime's).
	CheckpointInterval int64
	// BatchSize and PollInterval tune pherry (defaults pherry's).
	BatchSize    int
	PollInterval time.Duration
	// Metrics registers pherry's metrics and the pRuntime's cluster state
	// roots (pruntime.Runtime.Collector) (default: not registered).
	Metrics prometheus.Registerer
	// Contracts, when set, runs the pRuntime's contracts instead of the
	// default engine (tests inject faults with it).
	Contracts worker.ContractRuntime
	// Pink configures the pRuntime's pink services (outbound HTTP proxy,
	// extra test root CAs, cache).
	Pink pruntime.PinkConfig
	Log  *slog.Logger
	// SyncOnly runs pherry without an operator: it keeps the pRuntime in
	// sync but neither registers the worker nor submits its egress (an
	// observer, e.g. a copy of a worker's data folder replaying blocks).
	// Operator is then ignored; the pRuntime keeps its folder's operator.
	SyncOnly bool
	// Source overrides how pherry reads the chain (default: NodeURL's node).
	Source pherry.Source
	// PublicURL is the public API URL the worker records on chain
	// (default: the bound public address; none for a SyncOnly worker).
	// A replay of another worker's folder names that worker's URL, so
	// that it re-creates the same egress.
	PublicURL string
}

// Worker is a dev worker: a pRuntime serving its two APIs and a pherry
// relaying to it. It can be stopped (Close, or Kill for a crash) and
// started again from its data folder (Restart). Its fields are replaced by
// Restart: read them from the goroutine that restarts it.
type Worker struct {
	// PublicAddr and InternalAddr are the bound API addresses.
	PublicAddr, InternalAddr string
	// TokenFile holds the internal API's token.
	TokenFile string
	// Operator is the operating account (zero with SyncOnly).
	Operator keys.PublicKey
	Runtime  *pruntime.Runtime

	cfg    WorkerConfig
	cancel context.CancelFunc // ends the pRuntime's APIs (and pherry)
	wg     sync.WaitGroup     // the APIs
	pherry struct {
		cancel context.CancelFunc
		done   chan struct{}
		http   *http.Client
	}
	running bool
}

// StartWorker opens the pRuntime in cfg.Dir with the dev TEE, serves its
// APIs and starts a pherry operated by cfg.Operator.
func StartWorker(ctx context.Context, cfg WorkerConfig) (*Worker, error) {
	w := &Worker{}
	if err := w.start(ctx, cfg); err != nil {
		return nil, err
	}
	return w, nil
}

// Restart starts a stopped worker again from its data folder, with its
// configuration (a pRuntime resumes from its last sealed checkpoint). The
// APIs get new ports when they were ephemeral. pherry's metrics are
// registered at the first start only (a registry takes them once). ctx
// bounds the new run.
func (w *Worker) Restart(ctx context.Context) error {
	if w.running {
		return errors.New("devnet: the worker is running")
	}
	cfg := w.cfg
	cfg.Metrics = nil
	return w.start(ctx, cfg)
}

// Running says whether the worker was started and not stopped since.
func (w *Worker) Running() bool { return w.running }

func (w *Worker) start(ctx context.Context, cfg WorkerConfig) error {
	if cfg.Operator == "" {
		cfg.Operator = "//" + DefaultOperator
	}
	if cfg.PublicAddr == "" {
		cfg.PublicAddr = defaults.PRuntimePublicAddr
	}
	if cfg.InternalAddr == "" {
		cfg.InternalAddr = "127.0.0.1:0"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	w.cfg = cfg
	op, err := keys.FromURI(cfg.Operator)
	if err != nil {
		return errors.New("devnet: the operator's secret URI is not valid")
	}
	opPub := op.Public()
	if cfg.SyncOnly {
		op, opPub = nil, keys.PublicKey{}
	}
	prov, err := devtee.New(devtee.Config{BuildID: pruntime.DevBuildID(), SealDir: cfg.Dir, Log: cfg.Log})
	if err != nil {
		return err
	}
	rt, err := pruntime.Open(pruntime.Config{DataDir: cfg.Dir, TEE: prov, CheckpointInterval: cfg.CheckpointInterval,
		Operator: opPub, GenesisHash: cfg.GenesisHash, Log: cfg.Log, Contracts: cfg.Contracts, Pink: cfg.Pink})
	if err != nil {
		return err
	}
	if cfg.Metrics != nil {
		// A restarted worker in the same process replaces the old one's.
		cfg.Metrics.Unregister(rt.Collector())
		if err := cfg.Metrics.Register(rt.Collector()); err != nil {
			rt.Close()
			return fmt.Errorf("devnet: pRuntime metrics: %w", err)
		}
	}
	token, err := pruntime.LoadOrCreateToken(cfg.Dir)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	w.Runtime, w.cancel, w.TokenFile, w.Operator = rt, cancel, pruntime.TokenPath(cfg.Dir), opPub
	type addrs struct{ pub, in string }
	ready := make(chan addrs, 1)
	errc := make(chan error, 1)
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		errc <- pruntime.Serve(ctx, rt, pruntime.Listeners{PublicAddr: cfg.PublicAddr, InternalAddr: cfg.InternalAddr}, cfg.Log,
			func(pub, in string) { ready <- addrs{pub, in} })
	}()
	select {
	case a := <-ready:
		w.PublicAddr, w.InternalAddr = a.pub, a.in
		// The worker records its public API in the chain's registry
		// (PublicURL, when set, names another; an observer without one
		// announces nothing).
		url := cfg.PublicURL
		if url == "" && !cfg.SyncOnly {
			url = defaults.HTTP(w.PublicAddr)
		}
		if url != "" {
			if err := rt.SetPublicURL(url); err != nil {
				cancel()
				return err
			}
		}
	case err := <-errc:
		cancel()
		return fmt.Errorf("dev pRuntime: %w", err)
	}
	hc := &http.Client{Timeout: 2 * time.Minute}
	p, err := pherry.New(pherry.Config{
		NodeURL:      cfg.NodeURL,
		PublicURL:    defaults.HTTP(w.PublicAddr),
		InternalURL:  defaults.HTTP(w.InternalAddr),
		Token:        token,
		HTTPClient:   hc,
		Operator:     op,
		BatchSize:    cfg.BatchSize,
		PollInterval: cfg.PollInterval,
		Log:          cfg.Log,
		Metrics:      cfg.Metrics,
		Source:       cfg.Source,
	})
	if err != nil {
		cancel()
		w.wg.Wait()
		return err
	}
	pctx, pcancel := context.WithCancel(ctx)
	w.pherry.cancel, w.pherry.done, w.pherry.http = pcancel, make(chan struct{}), hc
	go func(done chan struct{}) {
		defer close(done)
		if err := p.Run(pctx); err != nil && !errors.Is(err, context.Canceled) {
			cfg.Log.Error("pherry stopped", "err", err)
		}
	}(w.pherry.done)
	w.running = true
	return nil
}

// Close ends pherry and the pRuntime's APIs, waits for them, and seals a
// final checkpoint. Closing a stopped worker does nothing.
func (w *Worker) Close() error {
	if !w.running {
		return nil
	}
	w.stop()
	return w.Runtime.Close()
}

// Kill stops the worker as a crash would: pherry and the APIs end, and no
// final checkpoint is sealed, so that Restart resumes from the last
// periodic (or key-sealing) checkpoint and replays the blocks after it.
// Killing a stopped worker does nothing.
func (w *Worker) Kill() {
	if w.running {
		w.stop()
	}
}

// stop ends pherry first, then the APIs. pherry's client may hold a
// connection it dialled for a request that was cancelled meanwhile; the
// server would wait seconds for its first request before shutting down,
// so it is closed in between.
func (w *Worker) stop() {
	w.pherry.cancel()
	<-w.pherry.done
	w.pherry.http.CloseIdleConnections()
	w.cancel()
	w.wg.Wait()
	w.running = false
}

// HTTPURL turns CometBFT's tcp://host:port into http://host:port.
func HTTPURL(laddr string) string {
	if rest, ok := strings.CutPrefix(laddr, "tcp://"); ok {
		return "http://" + rest
	}
	return laddr
}

// appRecords is a pherry.Source that reads block records from the app of
// the network's node, in this process, instead of over CometBFT's JSON-RPC
// (which base64- and JSON-encodes each record of megabytes, then decodes
// it: a tenth of a loaded dev node's CPU). Like every Source its answers are
// untrusted: the pRuntime checks each record against the next header's
// AppHash.
type appRecords struct {
	pherry.Source
	app *abciapp.App
}

// Records implements pherry.Source.
func (s appRecords) Records(ctx context.Context, from, to int64) ([]*state.BlockRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if from < 0 || to < from {
		return nil, fmt.Errorf("devnet: record range %d..%d", from, to)
	}
	return s.app.BlockRecords(uint64(from), uint64(to))
}
