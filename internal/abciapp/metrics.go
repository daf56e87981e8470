package abciapp

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/promreg"
)

type metrics struct {
	txs               *prometheus.CounterVec
	checkRejected     *prometheus.CounterVec
	proposalsRejected prometheus.Counter
	blocksReused      prometheus.Counter
	blockSeconds      prometheus.Histogram
	height            prometheus.Gauge
}

// newMetrics creates the app's Prometheus metrics and registers them with the
// default registry (the one CometBFT's instrumentation server exposes). A
// second App in the same process (tests) reuses the registered collectors.
func newMetrics() (*metrics, error) {
	m := &metrics{
		txs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cella", Subsystem: "app", Name: "txs_total",
			Help: "Transactions executed in committed blocks, by result code.",
		}, []string{"code"}),
		checkRejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "cella", Subsystem: "app", Name: "checktx_rejected_total",
			Help: "Transactions rejected by CheckTx, by result code.",
		}, []string{"code"}),
		proposalsRejected: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cella", Subsystem: "app", Name: "proposals_rejected_total",
			Help: "Block proposals rejected by ProcessProposal.",
		}),
		blocksReused: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: "cella", Subsystem: "app", Name: "block_results_reused_total",
			Help: "ProcessProposal and FinalizeBlock calls that took the result of the same block run by the call before instead of running it again.",
		}),
		blockSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "cella", Subsystem: "app", Name: "finalize_block_seconds",
			Help:    "Time to execute a block in FinalizeBlock.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 14),
		}),
		height: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "cella", Subsystem: "app", Name: "height",
			Help: "Last committed height.",
		}),
	}
	var err error
	reg := prometheus.DefaultRegisterer
	if m.txs, err = promreg.Register(reg, m.txs); err != nil {
		return nil, err
	}
	if m.checkRejected, err = promreg.Register(reg, m.checkRejected); err != nil {
		return nil, err
	}
	if m.proposalsRejected, err = promreg.Register(reg, m.proposalsRejected); err != nil {
		return nil, err
	}
	if m.blocksReused, err = promreg.Register(reg, m.blocksReused); err != nil {
		return nil, err
	}
	if m.blockSeconds, err = promreg.Register(reg, m.blockSeconds); err != nil {
		return nil, err
	}
	if m.height, err = promreg.Register(reg, m.height); err != nil {
		return nil, err
	}
	return m, nil
}
