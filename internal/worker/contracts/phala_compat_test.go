package contracts_test

// Phala's own pink contracts, run unmodified on Cella's contract runtime
// with the expectations of Phala's tests (phala-blockchain
// crates/pink/runtime/tests/test_pink_contract.rs). The fixtures are
// Phala's and are not part of this repository: the tests read them at run
// time from the directory named by CELLA_PHALA_FIXTURES (a checkout's
// crates/pink/runtime/tests/fixtures) and skip without it.
//
// Where Cella answers differently from Phala's test harness, the test
// asserts Cella's answer and says why next to it.

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/blake2b"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/pink"
	"github.com/cella-network/cella/internal/pink/outbound"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
	"github.com/cella-network/cella/internal/worker/contracts"
)

// phalaFixturesEnv names the directory of Phala's pink runtime test
// fixtures (crates/pink/runtime/tests/fixtures of a phala-blockchain
// checkout).
const phalaFixturesEnv = "CELLA_PHALA_FIXTURES"

func phalaDir(t testing.TB) string {
	t.Helper()
	d := os.Getenv(phalaFixturesEnv)
	if d == "" {
		t.Skip(phalaFixturesEnv + " is unset: set it to a phala-blockchain checkout's crates/pink/runtime/tests/fixtures to run Phala's pink contracts")
	}
	return d
}

func phalaFile(t testing.TB, rel string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(phalaDir(t), filepath.FromSlash(rel)))
	if err != nil {
		t.Fatalf("Phala fixture %s: %v", rel, err)
	}
	return b
}

// Phala's test accounts (helpers/mod.rs).
var (
	phALICE = [32]byte{1: 0}
	phGas   = worker.QueryGasLimit
)

func init() {
	for i := range phALICE {
		phALICE[i] = 1
	}
}

// memStore is worker.ContractStore over engine.MemState.
type memStore struct{ m *engine.MemState }

func (s memStore) GetStorage(c [32]byte, key []byte) ([]byte, bool) {
	return s.m.GetStorage(engine.AccountID(c), key)
}
func (s memStore) SetStorage(c [32]byte, key, value []byte) {
	s.m.SetStorage(engine.AccountID(c), key, value)
}
func (s memStore) ContractCodeHash(c [32]byte) ([32]byte, bool) {
	h, ok := s.m.ContractCodeHash(engine.AccountID(c))
	return h, ok
}
func (s memStore) SetContractCodeHash(c, code [32]byte) {
	s.m.SetContractCodeHash(engine.AccountID(c), engine.Hash(code))
}
func (s memStore) RemoveContract(c [32]byte)            { s.m.RemoveContract(engine.AccountID(c)) }
func (s memStore) Code(h [32]byte) ([]byte, bool)       { return s.m.Code(engine.Hash(h)) }
func (s memStore) Balance(a [32]byte) scale.U128        { return s.m.Balance(engine.AccountID(a)) }
func (s memStore) SetBalance(a [32]byte, v scale.U128) { s.m.SetBalance(engine.AccountID(a), v) }

type fixedClock uint64

func (c fixedClock) NowMillis() uint64 { return uint64(c) }

// phalaCluster is Phala's TestCluster on Cella: the real runtime with real
// pink services (MemCache, LogRing, the outbound HTTP client against a
// local TLS server answering for example.com), a cluster key, and a
// cluster state.
type phalaCluster struct {
	t      *testing.T
	rt     *contracts.Runtime
	st     memStore
	env    worker.ExecEnv
	cache  *pink.MemCache
	logs   *pink.LogRing
	wpub   [32]byte
	origin string // https://example.com:port
	n      int    // instantiations, for distinct addresses
}

func newPhalaCluster(t *testing.T) *phalaCluster {
	t.Helper()
	phalaDir(t)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Phala's mock (helpers/test_cluster.rs): /404 is Not Found,
		// anything else 200 with the URL as the body.
		if strings.HasSuffix(r.URL.Path, "/404") {
			http.NotFound(w, r)
			return
		}
		fmt.Fprintf(w, "https://%s%s", r.Host, r.URL.Path)
	}))
	srv.TLS = &tls.Config{}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	ap := netip.MustParseAddrPort(srv.Listener.Addr().String())
	ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	hc, err := outbound.New(outbound.Config{AllowPrivate: true, ExtraRootCAs: ca,
		Resolve: func(ctx context.Context, host string) ([]netip.Addr, error) {
			if host == "example.com" {
				return []netip.Addr{ap.Addr()}, nil
			}
			return nil, fmt.Errorf("no such host %q", host)
		}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(hc.Close)
	rt, err := contracts.New(context.Background(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	clock := fixedClock(1_700_000_000_000)
	c := &phalaCluster{t: t, rt: rt, st: memStore{engine.NewMemState()},
		cache: pink.NewMemCache(pink.MemCacheConfig{}, clock), logs: pink.NewLogRing(pink.LogRingConfig{}),
		wpub: [32]byte{1, 2, 3}, origin: fmt.Sprintf("https://example.com:%d", ap.Port())}
	master := keys.FromSeed([32]byte{42})
	c.env = worker.ExecEnv{BlockNumber: 1, TimestampMs: 1, Cluster: cid, ClusterKey: cipher.ClusterKey(master, cid), DevChain: true}
	rt.SetServices(&contracts.Services{DevHTTP: hc, Cache: c.cache, Logs: c.logs, Clock: clock,
		Rand: strings.NewReader(strings.Repeat("\x5a\xa5random bytes of the test worker", 64)), WorkerPubkey: c.wpub})
	return c
}

// upload puts code in the cluster (Phala's upload_code).
func (c *phalaCluster) upload(code []byte) [32]byte { return c.st.m.PutCode(code) }

// deploy instantiates code with the constructor selector and SCALE args,
// from origin, as a command; it fails the test unless it succeeds.
func (c *phalaCluster) deploy(origin [32]byte, code []byte, ctor uint32, args []byte, value uint64) [32]byte {
	c.t.Helper()
	h := c.upload(code)
	c.n++
	addr := [32]byte{0xcc, byte(c.n)}
	res := c.rt.Instantiate(c.st, c.env, worker.InstantiateRequest{Caller: origin, Address: addr, CodeHash: h,
		Value: scale.U128{Lo: value}, Input: append(be32(ctor), args...), GasLimit: phGas})
	if !res.Success() {
		c.t.Fatalf("instantiate %08x: err %q flags %d data %x", ctor, res.Err, res.Flags, res.Data)
	}
	return addr
}

// tx runs a message as a command (Phala's submit_tx / tx().call).
func (c *phalaCluster) tx(origin, dest [32]byte, sel uint32, args []byte) worker.ExecResult {
	return c.rt.Call(c.st, c.env, worker.CallRequest{Caller: origin, Dest: dest, Input: append(be32(sel), args...), GasLimit: phGas})
}

// query runs a message as a query (Phala's query()).
func (c *phalaCluster) query(origin, dest [32]byte, sel uint32, args []byte) worker.ExecResult {
	return c.rt.Query(context.Background(), c.st, c.env, worker.CallRequest{Caller: origin, Dest: dest, Input: append(be32(sel), args...), GasLimit: phGas})
}

func be32(v uint32) []byte { return []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)} }

// sel4 is ink!'s selector of a message label: blake2_256(label)[:4].
func sel4(label string) uint32 {
	h := blake2b.Sum256([]byte(label))
	return uint32(h[0])<<24 | uint32(h[1])<<16 | uint32(h[2])<<8 | uint32(h[3])
}

// ok checks a successful execution and returns its output; ink! ≥ 4
// messages' outputs are MessageResult (Ok = 0 then the value), whose Ok
// byte ok strips when ink4 is set.
func ok(t *testing.T, res worker.ExecResult, ink4 bool, what string) *scale.Reader {
	t.Helper()
	if !res.Success() {
		t.Fatalf("%s: err %q flags %d data %x", what, res.Err, res.Flags, res.Data)
	}
	r := scale.NewReader(res.Data)
	if ink4 && r.U8() != 0 {
		t.Fatalf("%s: LangError %x", what, res.Data)
	}
	return r
}

func done(t *testing.T, r *scale.Reader, what string) {
	t.Helper()
	if err := r.Finish(); err != nil {
		t.Fatalf("%s: output: %v", what, err)
	}
}

func enc(f func(w *scale.Writer)) []byte {
	w := scale.NewWriter(64)
	f(w)
	return w.Bytes()
}

// contractBundle reads the wasm of a cargo-contract .contract bundle.
func contractBundle(t *testing.T, b []byte) []byte {
	t.Helper()
	var v struct {
		Source struct {
			Wasm string `json:"wasm"`
		} `json:"source"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	w, err := hex.DecodeString(strings.TrimPrefix(v.Source.Wasm, "0x"))
	if err != nil || len(w) == 0 {
		t.Fatalf("bundle wasm: %v", err)
	}
	return w
}

// TestPhalaInkFlip is test_ink_flip (ink! 3 flip: no MessageResult): new(true),
// get → true, an estimate (query) of flip changes nothing, flip, get → false,
// echo(42, 24) → (42, 24). The same code from phactory's flip.contract bundle
// when the checkout has it.
func TestPhalaInkFlip(t *testing.T) {
	c := newPhalaCluster(t)
	code := phalaFile(t, "flip/flip.wasm")
	if b, err := os.ReadFile(filepath.Join(phalaDir(t), "../../../../phactory/src/contracts/fixtures/flip.contract")); err == nil {
		if w := contractBundle(t, b); !bytes.Equal(w, code) {
			t.Log("phactory's flip.contract holds other code than flip.wasm: running that")
			code = w
		}
	}
	flip := c.deploy(phALICE, code, 0x9bae9d5e, []byte{1}, 0)
	get := func() bool {
		r := ok(t, c.tx(phALICE, flip, 0x2f865bd9, nil), false, "get")
		v := r.Bool()
		done(t, r, "get")
		return v
	}
	if !get() {
		t.Fatal("get after new(true): false")
	}
	ok(t, c.query(phALICE, flip, 0x633aa551, nil), false, "estimate flip")
	if !get() {
		t.Fatal("an estimate changed the state")
	}
	ok(t, c.tx(phALICE, flip, 0x633aa551, nil), false, "flip")
	if get() {
		t.Fatal("get after flip: true")
	}
	r := ok(t, c.tx(phALICE, flip, 0xf7dff04c, enc(func(w *scale.Writer) { w.U32(42); w.U128(scale.U128{Lo: 24}) })), false, "echo")
	if a, b := r.U32(), r.U128(); a != 42 || b != (scale.U128{Lo: 24}) {
		t.Fatalf("echo: (%d, %v)", a, b)
	}
	done(t, r, "echo")
}

// TestPhalaCrossContractInstantiate is test_ink_cross_contract_instantiate:
// cross (ink! 3.4) instantiates flip, whose code is uploaded, with part of
// its endowment, and calls it.
func TestPhalaCrossContractInstantiate(t *testing.T) {
	c := newPhalaCluster(t)
	c.upload(phalaFile(t, "flip/flip.wasm"))
	c.st.SetBalance(phALICE, scale.U128{Lo: 1 << 62})
	cross := c.deploy(phALICE, phalaFile(t, "cross/cross.wasm"), 0x9bae9d5e, nil, 1<<40)
	r := ok(t, c.tx(phALICE, cross, 0xc3220014, nil), false, "call_other_contract")
	if !r.Bool() {
		t.Fatal("call_other_contract: false")
	}
	done(t, r, "call_other_contract")
}

// withWasm is Phala's test_with_wasm: deploy with the constructor, give the
// contract a cache quota of 1024 bytes, and call the message, which must
// return Ok(()).
func withWasm(t *testing.T, c *phalaCluster, rel string, ctor, msg uint32, query, ink4 bool) [32]byte {
	t.Helper()
	ct := c.deploy(phALICE, phalaFile(t, rel), ctor, nil, 0)
	c.cache.SetQuota(engine.AccountID(ct), 1024)
	var res worker.ExecResult
	if query {
		res = c.query(phALICE, ct, msg, nil)
	} else {
		res = c.tx(phALICE, ct, msg, nil)
	}
	done(t, ok(t, res, ink4, rel), rel)
	return ct
}

// TestPhalaSigning is test_signing: signing.wasm's test message (ink! 3.3)
// in a query.
func TestPhalaSigning(t *testing.T) {
	c := newPhalaCluster(t)
	withWasm(t, c, "signing/signing.wasm", 0xed4b9d1b, 0x928b2036, true, false)
}

// TestPhalaLogging is test_logging: logging.wasm in a transaction; its log
// lines reach the LogRing.
func TestPhalaLogging(t *testing.T) {
	c := newPhalaCluster(t)
	ct := withWasm(t, c, "logging.wasm", 0xed4b9d1b, 0x928b2036, false, false)
	var got []string
	for _, e := range c.logs.Since(engine.AccountID(ct), 0, 100) {
		got = append(got, fmt.Sprintf("%v %v %s", e.Level, e.Mode, e.Message))
	}
	want := []string{"INFO transaction instantiated", "INFO transaction a test message received"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("logs %q, want %q", got, want)
	}
}

// TestPhalaUseCache is test_use_cache (query) and test_use_cache_in_tx.
func TestPhalaUseCache(t *testing.T) {
	c := newPhalaCluster(t)
	withWasm(t, c, "use_cache/use_cache.wasm", 0xed4b9d1b, 0x928b2036, true, true)
	c = newPhalaCluster(t)
	withWasm(t, c, "use_cache/use_cache.wasm", 0xed4b9d1b, 0x7ec6db42, false, true)
}
