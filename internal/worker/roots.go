package worker

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

// ClusterRoot returns cluster id's state root as of the last step (the
// root of the empty state when the core has executed nothing for it): the
// root the worker reports.
func (c *Core) ClusterRoot(id [32]byte) [32]byte {
	if cs := c.clusters[id]; cs != nil && cs.root != ([32]byte{}) {
		return cs.root
	}
	cs := c.clusters[id]
	if cs == nil {
		cs = newClusterState()
	}
	return stateRoot(id, cs)
}

// reportRoots sends, on the worker's own egress (signed by its identity
// key, so the chain knows which worker said it), the state root of every
// cluster whose key the core holds, that has this worker among its
// workers, and whose report interval divides the block's height
// (msg.TopicClusterStateRoot). Every worker of a cluster computes the same
// root; the chain raises an alarm naming a worker whose root differs.
func (c *Core) reportRoots(x *Context) error {
	if len(c.clusterKeys) == 0 || x.Block.Height <= 0 {
		return nil
	}
	ids := make([][32]byte, 0, len(c.clusterKeys))
	for id := range c.clusterKeys {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return bytes.Compare(ids[i][:], ids[j][:]) < 0 })
	me := c.Identity()
	for _, id := range ids {
		cl, ok, err := c.view.Cluster(id)
		if err != nil {
			return fmt.Errorf("cluster %x: %w", id, err)
		}
		if !ok || cl.ReportInterval == 0 || x.Block.Height%int64(cl.ReportInterval) != 0 {
			continue
		}
		if _, in := slices.BinarySearchFunc(cl.Workers, me, func(a, b keys.PublicKey) int { return bytes.Compare(a[:], b[:]) }); !in {
			continue
		}
		p := msg.StateRootReport{Cluster: id, Height: uint64(x.Block.Height), Root: c.ClusterRoot(id)}
		if err := x.Emit(c.Origin(), msg.TopicClusterStateRoot, scale.Encode(&p)); err != nil {
			return err
		}
	}
	return nil
}
