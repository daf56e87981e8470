package contracts_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
	"github.com/cella-network/cella/internal/worker/contracts"
)

// mapStore is a worker.ContractStore in maps.
type mapStore struct {
	storage  map[string][]byte
	codeOf   map[[32]byte][32]byte
	codes    map[[32]byte][]byte
	balances map[[32]byte]scale.U128
	writes   int
}

func newMapStore(codes ...[]byte) *mapStore {
	s := &mapStore{storage: map[string][]byte{}, codeOf: map[[32]byte][32]byte{}, codes: map[[32]byte][]byte{},
		balances: map[[32]byte]scale.U128{}}
	for _, c := range codes {
		s.codes[engine.CodeHash(c)] = c
	}
	return s
}

func (s *mapStore) GetStorage(c [32]byte, key []byte) ([]byte, bool) {
	v, ok := s.storage[string(c[:])+string(key)]
	return v, ok
}
func (s *mapStore) SetStorage(c [32]byte, key, value []byte) {
	s.writes++
	if value == nil {
		delete(s.storage, string(c[:])+string(key))
		return
	}
	s.storage[string(c[:])+string(key)] = bytes.Clone(value)
}
func (s *mapStore) ContractCodeHash(c [32]byte) ([32]byte, bool) { h, ok := s.codeOf[c]; return h, ok }
func (s *mapStore) SetContractCodeHash(c, h [32]byte)            { s.writes++; s.codeOf[c] = h }
func (s *mapStore) RemoveContract(c [32]byte)                    { s.writes++; delete(s.codeOf, c) }
func (s *mapStore) Code(h [32]byte) ([]byte, bool)               { c, ok := s.codes[h]; return c, ok }
func (s *mapStore) Balance(a [32]byte) scale.U128                { return s.balances[a] }
func (s *mapStore) SetBalance(a [32]byte, v scale.U128)          { s.writes++; s.balances[a] = v }

// TestEstimateRunsAsACommand: Estimate runs a message under the
// transaction rules (floating point refused, as Call refuses it, while a
// query allows it) and writes nothing, answering the gas a command uses.
func TestEstimateRunsAsACommand(t *testing.T) {
	rt := runtime(t).(*contracts.Runtime)
	float, flipper := testcontracts.Wasm("float"), testcontracts.Wasm("flipper")
	st := newMapStore(float, flipper)
	env := worker.ExecEnv{BlockNumber: 7, TimestampMs: 1000}
	fAddr, pAddr := [32]byte{0xf1}, [32]byte{0xf2}
	// float cannot be instantiated by a command (the chain takes it as
	// indeterministic code, for queries): it is put in place directly.
	st.codeOf[fAddr] = engine.CodeHash(float)
	in := worker.InstantiateRequest{Address: pAddr, CodeHash: engine.CodeHash(flipper), Input: []byte{0x9b, 0xae, 0x9d, 0x5e, 0}, GasLimit: 1e11}
	if r := rt.Instantiate(st, env, in); !r.Success() {
		t.Fatalf("instantiate flipper: %+v", r)
	}

	four := binary.LittleEndian.AppendUint32(nil, 4)
	fq := worker.CallRequest{Caller: alice, Dest: fAddr, Input: four, GasLimit: 1e11}
	if r := rt.Query(t.Context(), st, env, fq); r.Err != "" || !bytes.Equal(r.Data, []byte{6, 0, 0, 0}) {
		t.Fatalf("float as a query: %+v", r)
	}
	if r := rt.Estimate(st, env, fq); r.Err == "" {
		t.Fatalf("float estimated as a command: %+v, want refused like a command", r)
	}
	if r := rt.Call(st, env, fq); r.Err == "" {
		t.Fatalf("float as a command: %+v", r)
	}

	writes := st.writes
	flip := worker.CallRequest{Caller: alice, Dest: pAddr, Input: []byte{0x63, 0x3a, 0xa5, 0x51}, GasLimit: 1e11}
	est := rt.Estimate(st, env, flip)
	if !est.Success() || est.GasUsed == 0 || st.writes != writes {
		t.Fatalf("estimate flip: %+v, %d writes", est, st.writes-writes)
	}
	get := worker.CallRequest{Caller: alice, Dest: pAddr, Input: []byte{0x2f, 0x86, 0x5b, 0xd9}, GasLimit: 1e11}
	if r := rt.Query(t.Context(), st, env, get); !bytes.Equal(r.Data, []byte{0, 0}) {
		t.Fatalf("get after an estimated flip: %+v", r)
	}
	// The estimate is what the command then uses.
	if r := rt.Call(st, env, flip); !r.Success() || r.GasUsed != est.GasUsed {
		t.Fatalf("flip: %+v, estimated %d", r, est.GasUsed)
	}
	// Gas alone stops it.
	flip.GasLimit = est.GasUsed - 1
	if r := rt.Estimate(st, env, flip); r.Err == "" {
		t.Fatalf("estimate with too little gas: %+v", r)
	}
}
