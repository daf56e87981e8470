package state_test

import (
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/tx"
)

var (
	devOnce  sync.Once
	devPairs map[string]*keys.Pair
)

// dev returns the pair of //name.
func dev(t testing.TB, name string) *keys.Pair {
	t.Helper()
	devOnce.Do(func() {
		devPairs = make(map[string]*keys.Pair)
		for _, n := range state.DevAccountNames {
			p, err := keys.FromURI("//" + n)
			if err != nil {
				panic(err)
			}
			devPairs[n] = p
		}
	})
	p, ok := devPairs[name]
	if !ok {
		p2, err := keys.FromURI("//" + name)
		if err != nil {
			t.Fatal(err)
		}
		return p2
	}
	return p
}

func testValidators() []state.Validator {
	return []state.Validator{{PubKey: [32]byte{0xaa, 1}, Power: 10}}
}

// chain is a test chain: a machine and a MemStore that blocks are committed to.
type chain struct {
	t       testing.TB
	m       *state.Machine
	st      *state.MemStore
	height  int64
	appHash [32]byte
	// timeNano is the time of the next block (nanoseconds since the epoch).
	timeNano int64
	// noHashes leaves BlockHashes out of the headers.
	noHashes bool
}

// testTime is the block time of test chains: 2024-09-02, the day of the
// TDX test vectors (an arbitrary fixed instant).
const testTime int64 = 1_725_263_032 * 1_000_000_000

// fakeBlockHash is the test chains' hash of the block at height h.
func fakeBlockHash(h int64) [32]byte {
	var b [8]byte
	for i := range b {
		b[i] = byte(uint64(h) >> (8 * i))
	}
	return hashing.Blake2b256([]byte("test-block"), b[:])
}

// chainHashes is a BlockHashes oracle answering fakeBlockHash for the
// committed heights 1..upTo.
type chainHashes struct{ upTo int64 }

func (o chainHashes) BlockHash(h int64) ([32]byte, bool) {
	if h < 1 || h > o.upTo {
		return [32]byte{}, false
	}
	return fakeBlockHash(h), true
}

func newChain(t testing.TB, g *state.Genesis, opts ...state.Option) *chain {
	t.Helper()
	m, err := modules.NewMachine(g, opts...)
	if err != nil {
		t.Fatal(err)
	}
	ws, h, err := m.InitChain()
	if err != nil {
		t.Fatal(err)
	}
	st := state.NewMemStore()
	st.Apply(ws)
	return &chain{t: t, m: m, st: st, appHash: h, timeNano: testTime}
}

func newDevChain(t testing.TB, opts ...state.Option) *chain {
	return newChain(t, state.DevGenesis("cella-test", testValidators()), opts...)
}

// header is the next block's header; its app version is the one committed
// state says (as the node's), AppVersion1 until an upgrade.
func (c *chain) header() state.Header {
	v, err := c.m.AppVersion(c.st)
	if err != nil {
		c.t.Fatal(err)
	}
	h := state.Header{Height: c.height + 1, AppVersion: v, TimeUnixNano: c.timeNano}
	if !c.noHashes {
		h.BlockHashes = chainHashes{upTo: c.height}
	}
	return h
}

// ref returns a BlockRef to the committed block at height h.
func (c *chain) ref(h int64) msg.BlockRef {
	return msg.BlockRef{Height: uint64(h), Hash: fakeBlockHash(h)}
}

// block executes and commits a block.
func (c *chain) block(txs ...[]byte) *state.BlockResult {
	c.t.Helper()
	res, err := c.m.ExecuteBlock(c.st, c.appHash, c.header(), txs)
	if err != nil {
		c.t.Fatal(err)
	}
	c.st.Apply(res.WriteSet)
	c.height++
	c.appHash = res.AppHash
	return res
}

func (c *chain) account(p keys.PublicKey) state.Account {
	c.t.Helper()
	a, err := state.GetAccount(c.st, p)
	if err != nil {
		c.t.Fatal(err)
	}
	return a
}

func (c *chain) free(p keys.PublicKey) scale.U128 { return c.account(p).Free }

// body returns a body for this chain with a generous fee limit.
func (c *chain) body(from *keys.Pair, nonce uint64, call tx.Call) tx.Body {
	return tx.Body{
		Version: tx.Version1, Scheme: tx.Sr25519, Signer: from.Public(),
		Genesis: c.m.GenesisHash(), Nonce: nonce, FeeLimit: u(state.Unit), Call: call,
	}
}

func (c *chain) transfer(from *keys.Pair, nonce uint64, to keys.PublicKey, amount scale.U128) []byte {
	return tx.Sign(c.body(from, nonce, balances.TransferCall(to, amount)), from).Encode()
}

func u(v uint64) scale.U128 { return scale.U128From(v) }

func add(t testing.TB, a, b scale.U128) scale.U128 {
	t.Helper()
	s, of := a.Add(b)
	if of {
		t.Fatal("overflow")
	}
	return s
}

func sub(t testing.TB, a, b scale.U128) scale.U128 {
	t.Helper()
	s, of := a.Sub(b)
	if of {
		t.Fatalf("underflow %s - %s", a, b)
	}
	return s
}

// totalIssuance sums every account in the store.
func totalIssuance(t testing.TB, st *state.MemStore) scale.U128 {
	t.Helper()
	var sum scale.U128
	for _, w := range st.Dump() {
		if len(w.Key) < len(state.PrefixAccount) || string(w.Key[:len(state.PrefixAccount)]) != string(state.PrefixAccount) {
			continue
		}
		var a state.Account
		if err := scale.Decode(w.Value, &a); err != nil {
			t.Fatal(err)
		}
		sum = add(t, sum, a.Free)
	}
	return sum
}

type pendingMap map[keys.PublicKey]uint64

func (p pendingMap) Next(a keys.PublicKey) (uint64, bool) { n, ok := p[a]; return n, ok }
