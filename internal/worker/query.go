package worker

import (
	"context"
	"errors"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// QueryGasLimit caps a query's gas (Phala's query gas limit, 5×10^13).
const QueryGasLimit uint64 = 50_000_000_000_000

// Errors of Query.
var (
	// ErrNoClusterKey: the worker does not hold the cluster's key, so it
	// keeps no contract state for it.
	ErrNoClusterKey = errors.New("worker: cluster key not held")
	// ErrUnknownContract: the cluster holds no such contract.
	ErrUnknownContract = errors.New("worker: unknown contract")
)

// Query runs a contract message read-only against the cluster state as of
// the last block stepped: st is that block's verified state (for code),
// env its context (the cluster's id, key, dev-chain switch and system
// contract fill what it leaves zero). Writes are discarded; gas is capped
// at QueryGasLimit.
// It changes nothing in the core; the shell must not call it while a Step
// runs (the core is not safe for concurrent use).
func (c *Core) Query(ctx context.Context, st state.Store, env ExecEnv, cluster [32]byte, req CallRequest) (ExecResult, error) {
	if c.opts.Contracts == nil || c.opts.View == nil {
		return ExecResult{}, errNoRuntime
	}
	if c.clusterKeys[cluster] == nil {
		return ExecResult{}, ErrNoClusterKey
	}
	cs := c.clusters[cluster]
	if cs == nil || cs.contracts[req.Dest] == nil {
		return ExecResult{}, ErrUnknownContract
	}
	req.GasLimit = min(req.GasLimit, QueryGasLimit)
	ro := &queryStore{store: store{c: c, cluster: cluster, cs: cs}, view: c.opts.View(st)}
	// The cluster's context fills what the caller left zero.
	env.Cluster = cluster
	if env.ClusterKey == nil {
		env.ClusterKey = c.clusterKeys[cluster].pair
	}
	env.DevChain = env.DevChain || c.devChain
	if env.SystemContract == ([32]byte{}) {
		if cl, ok, err := ro.view.Cluster(cluster); err == nil && ok {
			env.SystemContract = cl.SystemContract
		}
	}
	res := c.opts.Contracts.Query(ctx, ro, env, req)
	if ro.err != nil {
		return ExecResult{}, ro.err
	}
	return res, nil
}

// queryStore is a read-only ContractStore: writes are dropped (the engine
// makes none in a dry run; this only makes sure), and code of either kind
// is served.
type queryStore struct {
	store
	view ChainView
}

func (q *queryStore) SetStorage([32]byte, []byte, []byte)    {}
func (q *queryStore) SetContractCodeHash([32]byte, [32]byte) {}
func (q *queryStore) RemoveContract([32]byte)                {}
func (q *queryStore) SetBalance([32]byte, scale.U128)        {}

func (q *queryStore) Code(hash [32]byte) ([]byte, bool) {
	_, code, ok, err := q.view.Code(q.cluster, hash)
	if err != nil {
		if q.err == nil {
			q.err = err
		}
		return nil, false
	}
	return code, ok
}

// QueryStore returns a read-only ContractStore over the cluster state that
// holds target, a contract (or, for an instantiate dry run, a cluster id),
// for the shell's query executor: code is read through view (the chain view
// of the verified state) and may be of either kind; writes are dropped. It
// reads the core's live state: the caller must not step the core while the
// store is in use. ok is false when no cluster whose key the worker holds
// has target.
func (c *Core) QueryStore(target [32]byte, view ChainView) (cluster [32]byte, st ContractStore, ok bool) {
	if view == nil {
		return [32]byte{}, nil, false
	}
	if c.clusterKeys[target] != nil {
		cs := c.clusters[target]
		if cs == nil {
			// A keyed cluster that has executed nothing yet: its state is
			// empty (an instantiate dry run before the first contract).
			cs = newClusterState()
		}
		return target, &queryStore{store: store{c: c, cluster: target, cs: cs}, view: view}, true
	}
	for id, cs := range c.clusters {
		if cs.contracts[target] != nil && c.clusterKeys[id] != nil {
			return id, &queryStore{store: store{c: c, cluster: id, cs: cs}, view: view}, true
		}
	}
	return [32]byte{}, nil, false
}
