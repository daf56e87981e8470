// Package node runs a Cella node: CometBFT v0.38 in-process with the Cella
// ABCI application over a pebble store. It also creates home folders,
// genesis files and multi-validator testnet layouts.
package node

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"

	"github.com/cella-network/cella/internal/genesisfile"

	dbm "github.com/cometbft/cometbft-db"

	cmtcfg "github.com/cometbft/cometbft/config"
	nm "github.com/cometbft/cometbft/node"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	"github.com/cometbft/cometbft/proxy"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/cella-network/cella/internal/abciapp"
	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/httpserve"
	"github.com/cella-network/cella/internal/state"
)

// Node is a running Cella node.
type Node struct {
	Comet   *nm.Node
	App     *abciapp.App
	Genesis *state.Genesis
	Config  *cmtcfg.Config

	db  *appdb.DB
	dbs *dbTracker
	log *slog.Logger
	// metrics serves Prometheus metrics (nil when disabled).
	metrics *httpserve.Server
}

func closeMetrics(s *httpserve.Server) {
	if s != nil {
		s.Close()
	}
}

// MetricsAddr is the bound address of the node's Prometheus metrics, or ""
// when they are disabled.
func (n *Node) MetricsAddr() string {
	if n.metrics == nil {
		return ""
	}
	return n.metrics.Addr()
}

// Start opens the home folder that cfg points at and starts CometBFT with the
// Cella app, built with opts after the node's own options (tests give a
// binary's module tables, abciapp.WithRuntimes). The home folder must have
// been initialised (InitHome).
//
// When a block switches the chain to an app version this binary does not
// support, the app refuses it: CometBFT's consensus stops at that block
// and App.Halted is closed; the caller should then Close the node and
// report App.HaltErr (cella node exits with it).
func Start(cfg *cmtcfg.Config, log *slog.Logger, opts ...abciapp.Option) (*Node, error) {
	if err := validateConfig(cfg); err != nil {
		return nil, err
	}
	doc, g, err := genesisfile.LoadGenesis(cfg.GenesisFile())
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(AppDataDir(cfg.RootDir), 0o700); err != nil {
		return nil, fmt.Errorf("create app data dir: %w", err)
	}
	db, err := appdb.Open(AppDataDir(cfg.RootDir))
	if err != nil {
		return nil, err
	}
	app, err := abciapp.New(g, db, log, append([]abciapp.Option{abciapp.WithAttestationVerifier(AttestationVerifier(g))}, opts...)...)
	if err != nil {
		db.Close()
		return nil, err
	}
	if _, err := os.Stat(cfg.PrivValidatorKeyFile()); err != nil {
		db.Close()
		return nil, fmt.Errorf("no validator key at %s (run `cella init` first): %w", cfg.PrivValidatorKeyFile(), err)
	}
	pv := privval.LoadOrGenFilePV(cfg.PrivValidatorKeyFile(), cfg.PrivValidatorStateFile())
	nodeKey, err := p2p.LoadOrGenNodeKey(cfg.NodeKeyFile())
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("node key: %w", err)
	}
	// CometBFT's own metrics server has no read or idle timeout and no
	// connection cap; ours (httpserve) has. CometBFT still collects the
	// metrics (Prometheus stays on) but serves none.
	ccfg := *cfg
	var metrics *httpserve.Server
	if cfg.Instrumentation.IsPrometheusEnabled() {
		inst := *cfg.Instrumentation
		inst.PrometheusListenAddr = ""
		ccfg.Instrumentation = &inst
		h := promhttp.InstrumentMetricHandler(prometheus.DefaultRegisterer,
			promhttp.HandlerFor(prometheus.DefaultGatherer, promhttp.HandlerOpts{MaxRequestsInFlight: cfg.Instrumentation.MaxOpenConnections}))
		if metrics, err = httpserve.Open(cfg.Instrumentation.PrometheusListenAddr, h, httpserve.Limits{MaxConns: 16}); err != nil {
			db.Close()
			return nil, fmt.Errorf("metrics: %w", err)
		}
		go func() { _ = metrics.Serve() }()
	}
	dbs := &dbTracker{}
	cn, err := nm.NewNode(&ccfg, pv, nodeKey,
		proxy.NewLocalClientCreator(app),
		func() (*cmttypes.GenesisDoc, error) { return doc, nil },
		dbs.provide,
		nm.DefaultMetricsProvider(cfg.Instrumentation),
		NewCometLogger(log),
	)
	if err != nil {
		// CometBFT's handshake fails here too (the app refusing a block it
		// replays, e.g. an upgrade this binary lacks): release the
		// databases it opened so that the home can be started again.
		closeMetrics(metrics)
		dbs.closeAll()
		db.Close()
		return nil, fmt.Errorf("create node: %w", err)
	}
	if err := cn.Start(); err != nil {
		closeMetrics(metrics)
		db.Close()
		return nil, fmt.Errorf("start node: %w", err)
	}
	return &Node{Comet: cn, App: app, Genesis: g, Config: cfg, db: db, dbs: dbs, log: log, metrics: metrics}, nil
}

// Close stops CometBFT, waits for it and closes the app store.
func (n *Node) Close() error {
	var errs []error
	if n.Comet.IsRunning() {
		if err := n.Comet.Stop(); err != nil {
			errs = append(errs, err)
		}
		n.Comet.Wait()
	}
	closeMetrics(n.metrics)
	n.dbs.closeAll()
	if err := n.db.Close(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// dbTracker opens CometBFT's databases and remembers them: CometBFT v0.38
// does not close its transaction-index database on stop, which would keep
// its lock and stop the same home from being reopened in this process.
type dbTracker struct {
	mu  sync.Mutex
	dbs []dbm.DB
}

func (t *dbTracker) provide(ctx *cmtcfg.DBContext) (dbm.DB, error) {
	db, err := cmtcfg.DefaultDBProvider(ctx)
	if err != nil {
		return nil, err
	}
	sdb := &stoppableDB{DB: db}
	t.mu.Lock()
	t.dbs = append(t.dbs, sdb)
	t.mu.Unlock()
	return sdb, nil
}

// closeAll closes every database (ones CometBFT already closed are left as
// they are).
func (t *dbTracker) closeAll() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, db := range t.dbs {
		_ = db.Close()
	}
	t.dbs = nil
}
