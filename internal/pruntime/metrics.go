package pruntime

import (
	"fmt"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics of the pRuntime's clusters, read from Info at each scrape.
var (
	clusterRootDesc = prometheus.NewDesc("cella_pruntime_cluster_state_root_info",
		"The cluster state root after the last block (label root, 0x hex), per cluster whose key the worker holds; always 1.",
		[]string{"cluster", "root"}, nil)
	clusterContractsDesc = prometheus.NewDesc("cella_pruntime_cluster_contracts",
		"The number of contracts of a cluster whose key the worker holds.", []string{"cluster"}, nil)
	clusterHeightDesc = prometheus.NewDesc("cella_pruntime_cluster_state_height",
		"The block the cluster state roots are of (the pRuntime's applied height).", nil, nil)
)

// Metrics of the pink extension's services.
var (
	pinkRequestsDesc = prometheus.NewDesc("cella_pruntime_pink_http_requests_total",
		"Contracts' outbound HTTP requests, by result: the status class (2xx…) or the pink HttpRequestError.", []string{"result"}, nil)
	pinkBytesDesc = prometheus.NewDesc("cella_pruntime_pink_http_body_bytes_total",
		"Body bytes of contracts' outbound HTTP requests, by direction (in: responses).", []string{"direction"}, nil)
	pinkCacheDesc = prometheus.NewDesc("cella_pruntime_pink_cache_bytes",
		"Bytes held by the contracts' off-chain cache.", nil, nil)
	pinkLogDesc = prometheus.NewDesc("cella_pruntime_pink_log_bytes",
		"Bytes held by the contracts' log ring.", nil, nil)
)

// collector exports a Runtime's cluster state roots.
type collector struct{ r *Runtime }

// Collector returns a Prometheus collector of the runtime's cluster state
// roots: an info gauge per keyed cluster whose root label is the state
// root (a 32-byte hash is no float), the cluster's contract count, and
// the height the roots are of. The pRuntime serves no metrics itself:
// `cella dev` registers it beside pherry's (devnet.WorkerConfig.Metrics).
func (r *Runtime) Collector() prometheus.Collector { return collector{r} }

func (collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- clusterRootDesc
	ch <- clusterContractsDesc
	ch <- clusterHeightDesc
	ch <- pinkRequestsDesc
	ch <- pinkBytesDesc
	ch <- pinkCacheDesc
	ch <- pinkLogDesc
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	pinkCollector(c).Collect(ch)
	c.collectClusters(ch)
}

// pinkCollector exports the pink services' metrics.
type pinkCollector struct{ r *Runtime }

func (pinkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pinkRequestsDesc
	ch <- pinkBytesDesc
	ch <- pinkCacheDesc
	ch <- pinkLogDesc
}

func (c pinkCollector) Collect(ch chan<- prometheus.Metric) {
	if p := c.r.pink; p != nil {
		p.mu.Lock()
		for result, n := range p.requests {
			ch <- prometheus.MustNewConstMetric(pinkRequestsDesc, prometheus.CounterValue, float64(n), result)
		}
		in, out := p.bytesIn, p.bytesOut
		p.mu.Unlock()
		ch <- prometheus.MustNewConstMetric(pinkBytesDesc, prometheus.CounterValue, float64(in), "in")
		ch <- prometheus.MustNewConstMetric(pinkBytesDesc, prometheus.CounterValue, float64(out), "out")
		_, total := p.cache.Size(engine.AccountID{})
		ch <- prometheus.MustNewConstMetric(pinkCacheDesc, prometheus.GaugeValue, float64(total))
		lb, _, _ := p.logs.Usage()
		ch <- prometheus.MustNewConstMetric(pinkLogDesc, prometheus.GaugeValue, float64(lb))
	}
}

func (c collector) collectClusters(ch chan<- prometheus.Metric) {
	in := c.r.Info()
	if !in.Initialized {
		return
	}
	ch <- prometheus.MustNewConstMetric(clusterHeightDesc, prometheus.GaugeValue, float64(in.Height))
	for _, cl := range in.Clusters {
		id := fmt.Sprintf("0x%x", cl.ID)
		ch <- prometheus.MustNewConstMetric(clusterRootDesc, prometheus.GaugeValue, 1, id, fmt.Sprintf("0x%x", cl.StateRoot))
		ch <- prometheus.MustNewConstMetric(clusterContractsDesc, prometheus.GaugeValue, float64(cl.Contracts), id)
	}
}
