package abciapp

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	txs               *prometheus.CounterVec
	checkRejected     *prometheus.CounterVec
	proposalsRejected prometheus.Counter
	blockSeconds      prometheus.Histogram
	height            prometheus.Gauge
}

// newMetrics creates the app's Prometheus metrics and registers them with the
// default registry (the one CometBFT's instrumentation server exposes). A
// second App in the same process (tests) reuses the registered collectors.
func newMetrics() *metrics {
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
	m.txs = register(m.txs)
	m.checkRejected = register(m.checkRejected)
	m.proposalsRejected = register(m.proposalsRejected)
	m.blockSeconds = register(m.blockSeconds)
	m.height = register(m.height)
	return m
}

func register[C prometheus.Collector](c C) C {
	if err := prometheus.Register(c); err != nil {
		if are, ok := err.(prometheus.AlreadyRegisteredError); ok {
			return are.ExistingCollector.(C)
		}
	}
	return c
}
