package engine

import (
	"bytes"
	"sort"

	"github.com/cella-network/cella/internal/scale"
)

// AccountID is a 32-byte account (ink!'s DefaultEnvironment AccountId).
type AccountID [32]byte

// Hash is a 32-byte hash (code hashes, event topics).
type Hash [32]byte

// Storage is the persistent key-value storage of contracts. Keys are trie
// keys: blake2_256(k) for the fixed 32-byte key API (seal0) and
// blake2_128(k) ‖ k for the variable-key API (seal1, seal2), so the two
// namespaces never meet, as in pallet-contracts.
type Storage interface {
	// GetStorage returns the value under key in contract's storage.
	GetStorage(contract AccountID, key []byte) ([]byte, bool)
	// SetStorage stores value under key; a nil value deletes the key.
	SetStorage(contract AccountID, key []byte, value []byte)
}

// Contracts is the registry of deployed contracts and uploaded code.
type Contracts interface {
	// ContractCodeHash returns the code hash of a deployed contract.
	ContractCodeHash(contract AccountID) (Hash, bool)
	// SetContractCodeHash records a contract (instantiate, set_code_hash).
	SetContractCodeHash(contract AccountID, code Hash)
	// RemoveContract deletes a terminated contract and all its storage.
	RemoveContract(contract AccountID)
	// Code returns uploaded (original, uninstrumented) code by its hash.
	Code(hash Hash) ([]byte, bool)
}

// Ledger holds balances.
type Ledger interface {
	// Balance returns the free balance of an account.
	Balance(acct AccountID) scale.U128
	// SetBalance sets the free balance of an account.
	SetBalance(acct AccountID, v scale.U128)
	// MinimumBalance is the existential deposit.
	MinimumBalance() scale.U128
}

// State is everything the engine reads and, on success, writes. The engine
// never writes to it during execution: changes are journaled per call frame
// and applied, in a deterministic order, only when the top-level call
// succeeds and the request is not a dry run.
type State interface {
	Storage
	Contracts
	Ledger
}

// Environment is the block context of an execution.
type Environment struct {
	// BlockNumber is the current block number.
	BlockNumber uint32
	// Timestamp is the block time in milliseconds since the Unix epoch.
	Timestamp uint64
}

// ChainExtension serves seal0.call_chain_extension. The pink extension
// implements it later; without one, contracts that call it trap.
type ChainExtension interface {
	// Call runs function id with SCALE input and returns the status code the
	// contract sees and the output bytes. An error traps the contract.
	Call(x ExtContext, id uint32, input []byte) (status uint32, output []byte, err error)
}

// ExtContext is what a chain extension may know and do about the calling
// contract.
type ExtContext interface {
	// Address is the contract calling the extension.
	Address() AccountID
	// Caller is the account that called that contract.
	Caller() AccountID
	// ReadOnly reports whether state changes are forbidden (queries,
	// read-only calls).
	ReadOnly() bool
	// ChargeGas charges the contract; it fails once gas runs out.
	ChargeGas(units uint64) error
}

// MemState is an in-memory State for tests, the sandbox command and tools.
type MemState struct {
	storage   map[AccountID]map[string][]byte
	contracts map[AccountID]Hash
	codes     map[Hash][]byte
	balances  map[AccountID]scale.U128
	// ED is the existential deposit returned by MinimumBalance.
	ED scale.U128
}

// NewMemState returns an empty in-memory state.
func NewMemState() *MemState {
	return &MemState{
		storage:   map[AccountID]map[string][]byte{},
		contracts: map[AccountID]Hash{},
		codes:     map[Hash][]byte{},
		balances:  map[AccountID]scale.U128{},
	}
}

// GetStorage implements Storage.
func (s *MemState) GetStorage(c AccountID, key []byte) ([]byte, bool) {
	v, ok := s.storage[c][string(key)]
	return v, ok
}

// SetStorage implements Storage.
func (s *MemState) SetStorage(c AccountID, key, value []byte) {
	m := s.storage[c]
	if value == nil {
		delete(m, string(key))
		return
	}
	if m == nil {
		m = map[string][]byte{}
		s.storage[c] = m
	}
	m[string(key)] = append([]byte(nil), value...)
}

// StorageKeys returns the sorted trie keys of a contract's storage.
func (s *MemState) StorageKeys(c AccountID) [][]byte {
	keys := make([][]byte, 0, len(s.storage[c]))
	for k := range s.storage[c] {
		keys = append(keys, []byte(k))
	}
	sort.Slice(keys, func(i, j int) bool { return bytes.Compare(keys[i], keys[j]) < 0 })
	return keys
}

// ContractCodeHash implements Contracts.
func (s *MemState) ContractCodeHash(c AccountID) (Hash, bool) {
	h, ok := s.contracts[c]
	return h, ok
}

// SetContractCodeHash implements Contracts.
func (s *MemState) SetContractCodeHash(c AccountID, h Hash) { s.contracts[c] = h }

// RemoveContract implements Contracts.
func (s *MemState) RemoveContract(c AccountID) {
	delete(s.contracts, c)
	delete(s.storage, c)
}

// Code implements Contracts.
func (s *MemState) Code(h Hash) ([]byte, bool) {
	c, ok := s.codes[h]
	return c, ok
}

// PutCode stores code under its hash (blake2_256) and returns the hash. It
// does not validate; use Engine.Upload for that.
func (s *MemState) PutCode(code []byte) Hash {
	h := CodeHash(code)
	s.codes[h] = append([]byte(nil), code...)
	return h
}

// Balance implements Ledger.
func (s *MemState) Balance(a AccountID) scale.U128 { return s.balances[a] }

// SetBalance implements Ledger.
func (s *MemState) SetBalance(a AccountID, v scale.U128) {
	if v.IsZero() {
		delete(s.balances, a)
		return
	}
	s.balances[a] = v
}

// MinimumBalance implements Ledger.
func (s *MemState) MinimumBalance() scale.U128 { return s.ED }

// overlay is the journal of one call frame: the changes it made on top of
// the frames below it.
type overlay struct {
	storage   map[AccountID]map[string][]byte // nil value = deleted
	contracts map[AccountID]*Hash             // nil = removed
	balances  map[AccountID]scale.U128
	events    []Event
	// transient is the frame's transient storage writes (nil value =
	// deleted) and transientSize the live transient bytes of the whole
	// execution as of this layer.
	transient     map[AccountID]map[string][]byte
	transientSize int
}

func newOverlay() *overlay { return &overlay{} }

// journal is the stack of overlays over the caller's State.
type journal struct {
	base   State
	layers []*overlay
}

func (j *journal) push() {
	o := newOverlay()
	if len(j.layers) > 0 {
		o.transientSize = j.top().transientSize
	}
	j.layers = append(j.layers, o)
}

// pop discards the top layer.
func (j *journal) pop() { j.layers = j.layers[:len(j.layers)-1] }

// commit merges the top layer into the one below it.
func (j *journal) commit() {
	top := j.layers[len(j.layers)-1]
	j.layers = j.layers[:len(j.layers)-1]
	dst := j.layers[len(j.layers)-1]
	for c, m := range top.storage {
		if dst.storage == nil {
			dst.storage = map[AccountID]map[string][]byte{}
		}
		d := dst.storage[c]
		if d == nil {
			d = map[string][]byte{}
			dst.storage[c] = d
		}
		for k, v := range m {
			d[k] = v
		}
	}
	for c, h := range top.contracts {
		if dst.contracts == nil {
			dst.contracts = map[AccountID]*Hash{}
		}
		if h == nil {
			// A removed contract loses the storage written in lower layers.
			delete(dst.storage, c)
		}
		dst.contracts[c] = h
	}
	for a, v := range top.balances {
		if dst.balances == nil {
			dst.balances = map[AccountID]scale.U128{}
		}
		dst.balances[a] = v
	}
	dst.events = append(dst.events, top.events...)
	for c, m := range top.transient {
		if dst.transient == nil {
			dst.transient = map[AccountID]map[string][]byte{}
		}
		d := dst.transient[c]
		if d == nil {
			d = map[string][]byte{}
			dst.transient[c] = d
		}
		for k, v := range m {
			d[k] = v
		}
	}
	dst.transientSize = top.transientSize
}

// getTransient reads transient storage. It starts empty with every
// execution and never reaches the State.
func (j *journal) getTransient(c AccountID, key []byte) ([]byte, bool) {
	for i := len(j.layers) - 1; i >= 0; i-- {
		if v, ok := j.layers[i].transient[c][string(key)]; ok {
			return v, v != nil
		}
	}
	return nil, false
}

// setTransient writes (nil value: deletes) a transient entry. It fails,
// changing nothing, when the live transient bytes (key plus value of every
// entry) would exceed limit.
func (j *journal) setTransient(c AccountID, key, value []byte, limit int) bool {
	t := j.top()
	size := t.transientSize
	if old, ok := j.getTransient(c, key); ok {
		size -= len(key) + len(old)
	}
	if value != nil {
		size += len(key) + len(value)
		value = append(make([]byte, 0, len(value)), value...)
	}
	if size > limit {
		return false
	}
	if t.transient == nil {
		t.transient = map[AccountID]map[string][]byte{}
	}
	m := t.transient[c]
	if m == nil {
		m = map[string][]byte{}
		t.transient[c] = m
	}
	m[string(key)] = value
	t.transientSize = size
	return true
}

func (j *journal) top() *overlay { return j.layers[len(j.layers)-1] }

func (j *journal) getStorage(c AccountID, key []byte) ([]byte, bool) {
	for i := len(j.layers) - 1; i >= 0; i-- {
		l := j.layers[i]
		if h, ok := l.contracts[c]; ok && h == nil {
			return nil, false // removed in this layer; older values are gone
		}
		if v, ok := l.storage[c][string(key)]; ok {
			return v, v != nil
		}
	}
	return j.base.GetStorage(c, key)
}

func (j *journal) setStorage(c AccountID, key, value []byte) {
	t := j.top()
	if t.storage == nil {
		t.storage = map[AccountID]map[string][]byte{}
	}
	m := t.storage[c]
	if m == nil {
		m = map[string][]byte{}
		t.storage[c] = m
	}
	if value != nil {
		value = append(make([]byte, 0, len(value)), value...)
	}
	m[string(key)] = value
}

func (j *journal) codeHash(c AccountID) (Hash, bool) {
	for i := len(j.layers) - 1; i >= 0; i-- {
		if h, ok := j.layers[i].contracts[c]; ok {
			if h == nil {
				return Hash{}, false
			}
			return *h, true
		}
	}
	return j.base.ContractCodeHash(c)
}

func (j *journal) setCodeHash(c AccountID, h *Hash) {
	t := j.top()
	if t.contracts == nil {
		t.contracts = map[AccountID]*Hash{}
	}
	if h == nil {
		delete(t.storage, c)
	}
	t.contracts[c] = h
}

func (j *journal) balance(a AccountID) scale.U128 {
	for i := len(j.layers) - 1; i >= 0; i-- {
		if v, ok := j.layers[i].balances[a]; ok {
			return v
		}
	}
	return j.base.Balance(a)
}

func (j *journal) setBalance(a AccountID, v scale.U128) {
	t := j.top()
	if t.balances == nil {
		t.balances = map[AccountID]scale.U128{}
	}
	t.balances[a] = v
}

// transfer moves value from one account to another. The sender must keep at
// least the existential deposit unless keepAlive is false; a new receiver
// must receive at least the existential deposit. A zero transfer always
// succeeds and changes nothing.
func (j *journal) transfer(from, to AccountID, value scale.U128, keepAlive bool) bool {
	if value.IsZero() {
		return true
	}
	fb := j.balance(from)
	rest, under := fb.Sub(value)
	if under {
		return false
	}
	ed := j.base.MinimumBalance()
	if keepAlive && !rest.IsZero() && rest.Cmp(ed) < 0 {
		return false
	}
	if keepAlive && rest.IsZero() && !ed.IsZero() {
		return false
	}
	tb := j.balance(to)
	if tb.IsZero() && value.Cmp(ed) < 0 {
		return false
	}
	nb, over := tb.Add(value)
	if over {
		return false
	}
	if from == to {
		return true
	}
	j.setBalance(from, rest)
	j.setBalance(to, nb)
	return true
}

// apply writes the single remaining layer into the base state in a
// deterministic order: contracts, then storage, then balances, each sorted.
func (j *journal) apply() {
	l := j.layers[0]
	accts := make([]AccountID, 0, len(l.contracts))
	for a := range l.contracts {
		accts = append(accts, a)
	}
	sortAccounts(accts)
	for _, a := range accts {
		if h := l.contracts[a]; h == nil {
			j.base.RemoveContract(a)
		} else {
			j.base.SetContractCodeHash(a, *h)
		}
	}
	accts = accts[:0]
	for a := range l.storage {
		accts = append(accts, a)
	}
	sortAccounts(accts)
	for _, a := range accts {
		m := l.storage[a]
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			j.base.SetStorage(a, []byte(k), m[k])
		}
	}
	accts = accts[:0]
	for a := range l.balances {
		accts = append(accts, a)
	}
	sortAccounts(accts)
	for _, a := range accts {
		j.base.SetBalance(a, l.balances[a])
	}
}

// storageDeltas compares the single remaining layer with the base state.
func (j *journal) storageDeltas() []StorageDelta {
	l := j.layers[0]
	byAcct := map[AccountID]*StorageDelta{}
	get := func(a AccountID) *StorageDelta {
		d := byAcct[a]
		if d == nil {
			d = &StorageDelta{Contract: a}
			byAcct[a] = d
		}
		return d
	}
	for a, h := range l.contracts {
		_, existed := j.base.ContractCodeHash(a)
		switch {
		case h == nil && existed:
			get(a).Removed = true
		case h != nil && !existed:
			get(a).Created = true
		}
	}
	for a, m := range l.storage {
		if h, ok := l.contracts[a]; ok && h == nil {
			continue
		}
		for k, v := range m {
			old, had := j.base.GetStorage(a, []byte(k))
			if !had && v == nil {
				continue
			}
			d := get(a)
			if had {
				d.BytesRemoved += uint64(len(old))
				if v == nil {
					d.ItemsRemoved++
				}
			}
			if v != nil {
				d.BytesAdded += uint64(len(v))
				if !had {
					d.ItemsAdded++
				}
			}
		}
	}
	accts := make([]AccountID, 0, len(byAcct))
	for a := range byAcct {
		accts = append(accts, a)
	}
	sortAccounts(accts)
	out := make([]StorageDelta, len(accts))
	for i, a := range accts {
		out[i] = *byAcct[a]
	}
	return out
}

func sortAccounts(a []AccountID) {
	sort.Slice(a, func(i, k int) bool { return bytes.Compare(a[i][:], a[k][:]) < 0 })
}
