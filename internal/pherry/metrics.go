package pherry

import (
	"fmt"

	"github.com/cella-network/cella/internal/promreg"
	"github.com/prometheus/client_golang/prometheus"
)

// Error kinds counted by cella_pherry_errors_total.
const (
	errKindNode         = "node"          // the node is unreachable or answered badly
	errKindPRuntime     = "pruntime"      // the pRuntime is unreachable or failed
	errKindRejected     = "rejected"      // the pRuntime refused a batch
	errKindGenesis      = "genesis"       // the pRuntime is bound to another chain
	errKindRegistration = "registration"  // a registration failed
	errKindEgress       = "egress"        // an egress submission failed
	errKindSubscription = "subscription"  // the websocket subscription failed
	errKindInit         = "init"          // initialising the pRuntime failed
	errKindStopped      = "pruntime_stop" // the pRuntime stopped (newer app version)
)

// metrics are pherry's Prometheus metrics.
type metrics struct {
	nodeHeight    prometheus.Gauge
	headerHeight  prometheus.Gauge
	appliedHeight prometheus.Gauge
	batches       prometheus.Counter
	headers       prometheus.Counter
	headersPerSec prometheus.Gauge
	batchBytes    prometheus.Counter
	egress        prometheus.Counter
	registrations *prometheus.CounterVec
	errors        *prometheus.CounterVec
	registered    prometheus.Gauge
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	const ns, sub = "cella", "pherry"
	m := &metrics{
		nodeHeight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "node_height", Help: "Last committed height of the node."}),
		headerHeight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "pruntime_header_height", Help: "Last header the pRuntime verified."}),
		appliedHeight: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "pruntime_applied_height", Help: "Last block the pRuntime applied."}),
		batches: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "batches_total", Help: "Batches the pRuntime accepted."}),
		headers: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "headers_total", Help: "Headers the pRuntime accepted."}),
		headersPerSec: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "headers_per_second", Help: "Sync speed over the last batches (headers per second)."}),
		batchBytes: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "sync_bytes_total", Help: "Bytes of headers, commits, validator sets and records sent to the pRuntime."}),
		egress: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "egress_submitted_total", Help: "Egress messages the node accepted into its mempool."}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "registrations_total", Help: "Worker registrations submitted, by result (ok, failed)."}, []string{"result"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Subsystem: sub,
			Name: "errors_total", Help: "Errors by kind."}, []string{"kind"}),
		registered: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: ns, Subsystem: sub,
			Name: "worker_registered", Help: "1 when the pRuntime sees its worker registered."}),
	}
	for _, k := range []string{errKindNode, errKindPRuntime, errKindRejected, errKindGenesis, errKindRegistration,
		errKindEgress, errKindSubscription, errKindInit, errKindStopped} {
		m.errors.WithLabelValues(k)
	}
	m.registrations.WithLabelValues("ok")
	m.registrations.WithLabelValues("failed")
	if reg != nil {
		// A second pherry in the same process (a restarted `cella dev`, tests)
		// shares the collectors the first one registered.
		var err error
		adopt := func(c prometheus.Collector) prometheus.Collector {
			if err != nil {
				return c
			}
			c, err = promreg.Register(reg, c)
			return c
		}
		m.nodeHeight = adopt(m.nodeHeight).(prometheus.Gauge)
		m.headerHeight = adopt(m.headerHeight).(prometheus.Gauge)
		m.appliedHeight = adopt(m.appliedHeight).(prometheus.Gauge)
		m.batches = adopt(m.batches).(prometheus.Counter)
		m.headers = adopt(m.headers).(prometheus.Counter)
		m.headersPerSec = adopt(m.headersPerSec).(prometheus.Gauge)
		m.batchBytes = adopt(m.batchBytes).(prometheus.Counter)
		m.egress = adopt(m.egress).(prometheus.Counter)
		m.registrations = adopt(m.registrations).(*prometheus.CounterVec)
		m.errors = adopt(m.errors).(*prometheus.CounterVec)
		m.registered = adopt(m.registered).(prometheus.Gauge)
		if err != nil {
			return nil, fmt.Errorf("pherry: metrics: %w", err)
		}
	}
	return m, nil
}
