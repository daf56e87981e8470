package worker

import (
	"bytes"

	"github.com/cella-network/cella/internal/scale"
)

// QueryStore returns a read-only ContractStore over the cluster state that
// holds contract (target may also name a cluster: an instantiate dry run
// addresses the cluster), for contract queries. Code is read through view
// (the chain view of the verified state) and may be of either kind:
// queries may run indeterministic code. Its writes are ignored (a query is
// a dry run: the engine never writes to the store). It reads the core's
// live state: the caller must not step the core while the store is in use.
func (c *Core) QueryStore(target [32]byte, view ChainView) (cluster [32]byte, st ContractStore, ok bool) {
	if cs := c.clusters[target]; cs != nil {
		return target, &queryStore{cluster: target, cs: cs, view: view}, true
	}
	for id, cs := range c.clusters {
		if cs.contracts[target] != nil {
			return id, &queryStore{cluster: id, cs: cs, view: view}, true
		}
	}
	return [32]byte{}, nil, false
}

// queryStore is the read-only store of QueryStore.
type queryStore struct {
	cluster [32]byte
	cs      *clusterState
	view    ChainView
}

func (s *queryStore) GetStorage(ct [32]byte, key []byte) ([]byte, bool) {
	k := s.cs.contracts[ct]
	if k == nil {
		return nil, false
	}
	v, ok := k.storage[string(key)]
	return bytes.Clone(v), ok
}

func (s *queryStore) ContractCodeHash(ct [32]byte) ([32]byte, bool) {
	k := s.cs.contracts[ct]
	if k == nil {
		return [32]byte{}, false
	}
	return k.codeHash, true
}

func (s *queryStore) Code(hash [32]byte) ([]byte, bool) {
	if s.view == nil {
		return nil, false
	}
	_, code, ok, err := s.view.Code(s.cluster, hash)
	if err != nil || !ok {
		return nil, false
	}
	return code, true
}

func (s *queryStore) Balance(a [32]byte) scale.U128 { return s.cs.ledger[a] }

func (s *queryStore) SetStorage([32]byte, []byte, []byte)   {}
func (s *queryStore) SetContractCodeHash([32]byte, [32]byte) {}
func (s *queryStore) RemoveContract([32]byte)                {}
func (s *queryStore) SetBalance([32]byte, scale.U128)        {}
