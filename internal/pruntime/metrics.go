package pruntime

import (
	"fmt"

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
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
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
