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
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/blake2b"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"golang.org/x/crypto/sha3"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
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

// phALICE is Phala's test ALICE ([1u8; 32], helpers/mod.rs); phGas the gas
// limit of every execution (Phala's query limit).
var (
	phALICE = [32]byte(bytes.Repeat([]byte{1}, 32))
	phGas   = worker.QueryGasLimit
)

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
func (s memStore) RemoveContract(c [32]byte)           { s.m.RemoveContract(engine.AccountID(c)) }
func (s memStore) Code(h [32]byte) ([]byte, bool)      { return s.m.Code(engine.Hash(h)) }
func (s memStore) Balance(a [32]byte) scale.U128       { return s.m.Balance(engine.AccountID(a)) }
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
		if strings.HasSuffix(r.URL.Path, "/large") { // Phala's: 8 MiB
			_, _ = w.Write(make([]byte, 8<<20))
			return
		}
		if strings.HasSuffix(r.URL.Path, "/big") { // over ink!'s 16 KiB buffer
			_, _ = w.Write(make([]byte, 100<<10))
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

// mustOK checks a successful execution and returns its output; ink! ≥ 4
// messages' outputs are MessageResult (Ok = 0 then the value), whose Ok
// byte it strips when ink4 is set.
func mustOK(t *testing.T, res worker.ExecResult, ink4 bool, what string) *scale.Reader {
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
		r := mustOK(t, c.tx(phALICE, flip, 0x2f865bd9, nil), false, "get")
		v := r.Bool()
		done(t, r, "get")
		return v
	}
	if !get() {
		t.Fatal("get after new(true): false")
	}
	mustOK(t, c.query(phALICE, flip, 0x633aa551, nil), false, "estimate flip")
	if !get() {
		t.Fatal("an estimate changed the state")
	}
	mustOK(t, c.tx(phALICE, flip, 0x633aa551, nil), false, "flip")
	if get() {
		t.Fatal("get after flip: true")
	}
	r := mustOK(t, c.tx(phALICE, flip, 0xf7dff04c, enc(func(w *scale.Writer) { w.U32(42); w.U128(scale.U128{Lo: 24}) })), false, "echo")
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
	r := mustOK(t, c.tx(phALICE, cross, 0xc3220014, nil), false, "call_other_contract")
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
	done(t, mustOK(t, res, ink4, rel), rel)
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

// checker is Phala's check_system contract (ink! 4.3) in a cluster whose
// system contract is Phala's system.wasm, both deployed by ALICE (Phala's
// create_cluster: TestCluster::for_test + deploy_checker).
type checker struct {
	*phalaCluster
	addr, system [32]byte
}

func newChecker(t *testing.T) *checker {
	c := newPhalaCluster(t)
	sys := c.deploy(phALICE, phalaFile(t, "system/system.wasm"), 0xed4b9d1b, nil, 0)
	c.env.SystemContract = sys
	ck := c.deploy(phALICE, phalaFile(t, "check_system/check_system.wasm"), 0xed4b9d1b, nil, 0)
	return &checker{phalaCluster: c, addr: ck, system: sys}
}

// call runs a check_system message in a query or a transaction and
// returns its output past the MessageResult's Ok byte.
func (c *checker) call(inTx bool, label string, args []byte) *scale.Reader {
	c.t.Helper()
	var res worker.ExecResult
	if inTx {
		res = c.tx(phALICE, c.addr, sel4(label), args)
	} else {
		res = c.query(phALICE, c.addr, sel4(label), args)
	}
	return mustOK(c.t, res, true, label)
}

// both runs a message as a query and as a transaction.
func (c *checker) both(label string, args []byte) (q, tx *scale.Reader) {
	c.t.Helper()
	return c.call(false, label, args), c.call(true, label, args)
}

func bytesArg(b ...[]byte) []byte {
	return enc(func(w *scale.Writer) {
		for _, x := range b {
			w.BytesVec(x)
		}
	})
}

func readBool(t *testing.T, r *scale.Reader, what string) bool {
	t.Helper()
	v := r.Bool()
	done(t, r, what)
	return v
}

func readBytes(t *testing.T, r *scale.Reader, what string) []byte {
	t.Helper()
	v := bytes.Clone(r.BytesVec())
	done(t, r, what)
	return v
}

func readU64(t *testing.T, r *scale.Reader, what string) uint64 {
	t.Helper()
	v := r.U64()
	done(t, r, what)
	return v
}

// TestPhalaIsInTransaction is test_is_in_transaction (and test_bare_runtime's
// is_in_transaction in a transaction).
func TestPhalaIsInTransaction(t *testing.T) {
	c := newChecker(t)
	q, tx := c.both("is_in_transaction", nil)
	if readBool(t, q, "query") || !readBool(t, tx, "tx") {
		t.Fatal("is_in_transaction: want false in a query, true in a transaction")
	}
}

// TestPhalaGetRandom is test_getrandom: 32 random bytes in a query, none in a
// transaction.
func TestPhalaGetRandom(t *testing.T) {
	c := newChecker(t)
	q, tx := c.both("getrandom", []byte{32})
	if b := readBytes(t, q, "query"); len(b) != 32 || bytes.Equal(b, make([]byte, 32)) {
		t.Fatalf("query: %x", b)
	}
	if b := readBytes(t, tx, "tx"); len(b) != 0 {
		t.Fatalf("tx: %x", b)
	}
}

// TestPhalaSigning2 is test_signing2: the derived key and its public key are
// the same in queries and transactions; sr25519 signing is empty in a
// transaction; verification passes in both.
func TestPhalaSigning2(t *testing.T) {
	c := newChecker(t)
	q, tx := c.both("sr25519_derive_key", bytesArg([]byte("foo")))
	key, keyTx := readBytes(t, q, "derive"), readBytes(t, tx, "derive tx")
	if len(key) != 64 || !bytes.Equal(key, keyTx) {
		t.Fatalf("derived key %x, in tx %x", key, keyTx)
	}
	q, tx = c.both("sr25519_get_public_key", bytesArg(key))
	pub, pubTx := readBytes(t, q, "pubkey"), readBytes(t, tx, "pubkey tx")
	if len(pub) != 32 || !bytes.Equal(pub, pubTx) {
		t.Fatalf("public key %x, in tx %x", pub, pubTx)
	}
	msg := []byte("hello world")
	q, tx = c.both("sr25519_sign", bytesArg(msg, key))
	sig, sigTx := readBytes(t, q, "sign"), readBytes(t, tx, "sign tx")
	if len(sig) != 64 || len(sigTx) != 0 {
		t.Fatalf("signature %x, in tx %x", sig, sigTx)
	}
	q, tx = c.both("sr25519_verify", bytesArg(msg, pub, sig))
	if !readBool(t, q, "verify") || !readBool(t, tx, "verify tx") {
		t.Fatal("verify failed")
	}
	// Cella: a wrong message does not verify (the check is not vacuous).
	if readBool(t, c.call(false, "sr25519_verify", bytesArg([]byte("hello"), pub, sig)), "verify other") {
		t.Fatal("verify of another message passed")
	}
}

// TestPhalaEcdsaSigning is test_ecdsa_signing with //Alice's ecdsa secret:
// prehashed signatures are identical in queries and transactions (RFC 6979)
// and verify in both.
func TestPhalaEcdsaSigning(t *testing.T) {
	c := newChecker(t)
	secret, _ := hex.DecodeString("cb6df9de1efca7a3998a8ead4e02159d5fa99c3e0d4fd6432667390bb4726854")
	pub := secp256k1.PrivKeyFromBytes(secret).PubKey().SerializeCompressed()
	kh := sha3.NewLegacyKeccak256()
	kh.Write([]byte("hello world"))
	hash := kh.Sum(nil)
	q, tx := c.both("ecdsa_sign_prehashed", enc(func(w *scale.Writer) { w.BytesVec(secret); w.Raw(hash) }))
	sig, sigTx := q.Raw(65), tx.Raw(65)
	done(t, q, "sign")
	done(t, tx, "sign tx")
	if !bytes.Equal(sig, sigTx) {
		t.Fatalf("signature %x, in tx %x", sig, sigTx)
	}
	args := enc(func(w *scale.Writer) { w.Raw(sig); w.Raw(hash); w.Raw(pub) })
	q, tx = c.both("ecdsa_verify_prehashed", args)
	if !readBool(t, q, "verify") || !readBool(t, tx, "verify tx") {
		t.Fatal("verify failed")
	}
	hash[0] ^= 1
	args = enc(func(w *scale.Writer) { w.Raw(sig); w.Raw(hash); w.Raw(pub) })
	if readBool(t, c.call(false, "ecdsa_verify_prehashed", args), "verify other") {
		t.Fatal("verify of another hash passed")
	}
}

// TestPhalaCodeExists is test_code_exists, plus the checker's own code.
func TestPhalaCodeExists(t *testing.T) {
	c := newChecker(t)
	for _, sidevm := range []bool{false, true} {
		if readBool(t, c.call(true, "code_exists", enc(func(w *scale.Writer) { w.Raw(make([]byte, 32)); w.Bool(sidevm) })), "code_exists") {
			t.Fatalf("code_exists(0, %v): true", sidevm)
		}
	}
	h, _ := c.st.ContractCodeHash(c.addr)
	if !readBool(t, c.call(true, "code_exists", enc(func(w *scale.Writer) { w.Raw(h[:]); w.Bool(false) })), "code_exists own") {
		t.Fatal("code_exists(own code): false")
	}
}

// TestPhalaWorkerPubkey is test_worker_pubkey: the worker's key in a query,
// zeros in a transaction.
func TestPhalaWorkerPubkey(t *testing.T) {
	c := newChecker(t)
	q, tx := c.both("worker_pubkey", nil)
	a, b := q.Raw(32), tx.Raw(32)
	done(t, q, "query")
	done(t, tx, "tx")
	if !bytes.Equal(a, c.wpub[:]) || !bytes.Equal(b, make([]byte, 32)) {
		t.Fatalf("worker_pubkey: query %x, tx %x", a, b)
	}
}

// TestPhalaTimestamp is test_timestamp: the worker clock in a query, 0 in a
// transaction.
func TestPhalaTimestamp(t *testing.T) {
	c := newChecker(t)
	q, tx := c.both("timestamp", nil)
	if a, b := readU64(t, q, "query"), readU64(t, tx, "tx"); a == 0 || b != 0 {
		t.Fatalf("timestamp: query %d, tx %d", a, b)
	}
}

// TestPhalaEventChainHead is test_event_chain_head. Differs: Phala expects a
// head > 0 because its cluster setup produced system event blocks; Cella has
// no pink event chain (contract events leave through the cluster's egress),
// so it answers Phala's value before the first event block, (0, zero hash),
// unless the worker sets pink.Env.EventChainHead.
func TestPhalaEventChainHead(t *testing.T) {
	c := newChecker(t)
	q, tx := c.both("event_chain_head", nil)
	if a, b := readU64(t, q, "query"), readU64(t, tx, "tx"); a != 0 || b != 0 {
		t.Fatalf("event_chain_head: query %d, tx %d", a, b)
	}
}

// TestPhalaJsEval is test_pink_js_eval. The transaction answer is Phala's.
// Differs in a query: Phala's test harness mocks the JS ocall with
// Exception("Not implemented"); Cella has no JS runtime and answers as a
// Phala worker without one, Exception("No js runtime").
func TestPhalaJsEval(t *testing.T) {
	c := newChecker(t)
	args := enc(func(w *scale.Writer) { w.String("1 + 2"); w.Compact(0) })
	for _, tc := range []struct {
		tx   bool
		want string
	}{{false, "No js runtime"}, {true, "Js evaluation is not supported in transaction"}} {
		r := c.call(tc.tx, "pink_eval_js", args)
		if v := r.U8(); v != 5 { // JsValue::Exception
			t.Fatalf("tx %v: JsValue variant %d", tc.tx, v)
		}
		if s := r.String(); s != tc.want {
			t.Fatalf("tx %v: %q, want %q", tc.tx, s, tc.want)
		}
		done(t, r, "pink_eval_js")
	}
}

// TestPhalaGetBalance is test_get_balance: balance_of directly and through
// the system contract's total_balance_of, in a query and a transaction.
func TestPhalaGetBalance(t *testing.T) {
	c := newChecker(t)
	var acct [32]byte
	for i := range acct {
		acct[i] = 255
	}
	c.st.SetBalance(acct, scale.U128{Lo: 114514})
	arg := acct[:]
	r := c.call(false, "direct_balance_of", arg)
	if total, free := r.U128(), r.U128(); total.Lo != 114514 || free.Lo != 114514 {
		t.Fatalf("direct_balance_of: %v %v", total, free)
	}
	done(t, r, "direct_balance_of")
	q, tx := c.both("total_balance_of", arg)
	for _, r := range []*scale.Reader{q, tx} {
		v := r.U128()
		done(t, r, "total_balance_of")
		if v.Lo != 114514 || v.Hi != 0 {
			t.Fatalf("total_balance_of: %v", v)
		}
	}
}

// TestPhalaCovLog is test_cov_log: the line reaches the LogRing at Info.
func TestPhalaCovLog(t *testing.T) {
	c := newChecker(t)
	done(t, c.call(false, "log", enc(func(w *scale.Writer) { w.String("Hello, World!") })), "log")
	es := c.logs.Since(engine.AccountID(c.addr), 0, 10)
	if len(es) != 1 || es[0].Level != pink.LevelInfo || es[0].Message != "Hello, World!" || es[0].Mode != pink.Query {
		t.Fatalf("logs: %+v", es)
	}
}

// cacheOps runs test_set_cache_in_tx (inTx) or test_set_cache_in_query:
// set, expire, set again, remove, each read back by a query.
func cacheOps(t *testing.T, inTx bool) {
	c := newChecker(t)
	c.cache.SetQuota(engine.AccountID(c.addr), 1024)
	get := func() []byte {
		t.Helper()
		r := c.call(false, "cache_get", bytesArg([]byte("foo")))
		if !r.Option() {
			done(t, r, "cache_get")
			return nil
		}
		return readBytes(t, r, "cache_get")
	}
	if !readBool(t, c.call(inTx, "cache_set", bytesArg([]byte("foo"), []byte("bar"))), "cache_set") {
		t.Fatal("cache_set: false")
	}
	if v := get(); string(v) != "bar" {
		t.Fatalf("after set: %q", v)
	}
	done(t, c.call(inTx, "cache_set_expiration", enc(func(w *scale.Writer) { w.BytesVec([]byte("foo")); w.U64(0) })), "expire")
	if v := get(); v != nil {
		t.Fatalf("after expiration 0: %q", v)
	}
	c.call(inTx, "cache_set", bytesArg([]byte("foo"), []byte("baz")))
	if v := get(); string(v) != "baz" {
		t.Fatalf("after second set: %q", v)
	}
	c.call(inTx, "cache_remove", bytesArg([]byte("foo")))
	if v := get(); v != nil {
		t.Fatalf("after remove: %q", v)
	}
	if inTx {
		// The transaction's reads see nothing: its writes are deferred
		// until it commits (pink's CacheOp events).
		c.call(true, "cache_set", bytesArg([]byte("foo"), []byte("qux")))
		r := c.call(true, "cache_get", bytesArg([]byte("foo")))
		if r.Option() {
			t.Fatal("cache_get in a transaction: Some")
		}
		done(t, r, "cache_get tx")
		if v := get(); string(v) != "qux" {
			t.Fatalf("after committed set: %q", v)
		}
	}
}

// TestPhalaSetCacheInTx is test_set_cache_in_tx.
func TestPhalaSetCacheInTx(t *testing.T) { cacheOps(t, true) }

// TestPhalaSetCacheInQuery is test_set_cache_in_query.
func TestPhalaSetCacheInQuery(t *testing.T) { cacheOps(t, false) }

// TestPhalaHTTPRequest is test_http_req against a local TLS server for
// example.com. Differs on /not_allowed: Phala's test mock returns
// Err(NotAllowed) from the ocall, which traps; a Phala worker's real HTTP
// path (phactory's http_request → pink-chain-extension) turns NotAllowed
// into a 524 "IO Error" response whose body is "NotAllowed", which is what
// Cella does. A URL Cella's client refuses (plain http) shows it.
func TestPhalaHTTPRequest(t *testing.T) {
	c := newChecker(t)
	get := func(inTx bool, url string) (uint16, string) {
		t.Helper()
		r := c.call(inTx, "http_get", enc(func(w *scale.Writer) { w.String(url) }))
		st, body := r.U16(), r.String()
		done(t, r, "http_get")
		return st, body
	}
	if st, body := get(false, c.origin+"/"); st != 200 || body != c.origin+"/" {
		t.Fatalf("query: %d %q", st, body)
	}
	if st, _ := get(true, c.origin+"/"); st != 523 {
		t.Fatalf("tx: %d", st)
	}
	if st, body := get(false, "http://example.com/not_allowed"); st != 524 || body != "NotAllowed" {
		t.Fatalf("not allowed: %d %q", st, body)
	}
	if st, _ := get(false, c.origin+"/404"); st != 404 {
		t.Fatalf("404: %d", st)
	}
}

// TestPhalaBatchHTTPRequest is test_batch_http_req.
func TestPhalaBatchHTTPRequest(t *testing.T) {
	c := newChecker(t)
	batch := func(inTx bool, url string) (ok bool, sts []uint16, err string) {
		t.Helper()
		args := enc(func(w *scale.Writer) { w.Compact(1); w.String(url); w.U64(1000) })
		var res worker.ExecResult
		if inTx {
			res = c.tx(phALICE, c.addr, sel4("batch_http_get"), args)
		} else {
			res = c.query(phALICE, c.addr, sel4("batch_http_get"), args)
		}
		// ink! 4 reverts a message that returns Err (flags 1): the
		// output is still the MessageResult, as Phala's helper reads it.
		if res.Err != "" || len(res.Data) == 0 || res.Data[0] != 0 {
			t.Fatalf("batch_http_get: err %q flags %d data %x", res.Err, res.Flags, res.Data)
		}
		r := scale.NewReader(res.Data[1:])
		if r.Result() {
			n := r.Len(1)
			for i := 0; i < n; i++ {
				sts = append(sts, r.U16())
				_ = r.String()
			}
			done(t, r, "batch_http_get")
			return true, sts, ""
		}
		err = r.String()
		done(t, r, "batch_http_get")
		return false, nil, err
	}
	if ok, sts, _ := batch(false, c.origin+"/"); !ok || len(sts) != 1 || sts[0] != 200 {
		t.Fatalf("query: %v %v", ok, sts)
	}
	if ok, _, err := batch(true, c.origin+"/"); ok || err != "NotAllowed" {
		t.Fatalf("tx: %v %q", ok, err)
	}
	if ok, _, err := batch(true, c.origin+"/not_allowed"); ok || err != "NotAllowed" {
		t.Fatalf("tx not_allowed: %v %q", ok, err)
	}
}

// TestPhalaSetHookViaSystem is the SetHook path of Phala's check_system
// (set_hook → SystemRef::set_hook → pink::set_hook, emitted by the system
// contract): refused by the system contract until the owner grants the
// checker admin (its Err is ignored by the checker, so no event), then a
// hook request from the system contract for the checker's selector 0x01.
func TestPhalaSetHookViaSystem(t *testing.T) {
	c := newChecker(t)
	gasArg := enc(func(w *scale.Writer) { w.U64(10_000_000_000) })
	res := c.tx(phALICE, c.addr, sel4("set_hook"), gasArg)
	if !res.Success() || len(res.Hooks) != 0 {
		t.Fatalf("set_hook before grant_admin: %+v", res)
	}
	r := mustOK(t, c.tx(phALICE, c.system, 0x67612061, c.addr[:]), true, "grant_admin")
	if !r.Result() {
		t.Fatalf("grant_admin: Err")
	}
	done(t, r, "grant_admin")
	res = c.tx(phALICE, c.addr, sel4("set_hook"), gasArg)
	want := worker.HookRequest{Emitter: c.system, Target: c.addr, Selector: 1, GasLimit: 10_000_000_000}
	if !res.Success() || len(res.Hooks) != 1 || res.Hooks[0] != want {
		t.Fatalf("set_hook: %+v, want hook %+v", res, want)
	}
	// The hook's call (caller = the contract itself) sets the flag.
	if readBool(t, c.call(false, "on_block_end_called", nil), "on_block_end_called") {
		t.Fatal("on_block_end_called before the hook ran")
	}
	done(t, mustOK(t, c.tx(c.addr, c.addr, 1, nil), true, "on_block_end"), "on_block_end")
	if !readBool(t, c.call(false, "on_block_end_called", nil), "on_block_end_called") {
		t.Fatal("on_block_end_called after the hook ran: false")
	}
}

// TestPhalaHooksOnWorkers runs the same path through two worker cores whose
// chain names Phala's system.wasm as the cluster's system contract (the
// chain side of Cluster.SystemContract): the checker is deployed by
// another account than the owner, the hook is accepted because the system
// contract emitted it, runs at the end of the block, and both workers end
// on the same roots.
func TestPhalaHooksOnWorkers(t *testing.T) {
	sysCode := phalaFile(t, "system/system.wasm")
	ckCode := phalaFile(t, "check_system/check_system.wasm")
	ch := newChain(t)
	ch.owner = alice
	const pgas = 1_000_000_000_000
	deploy := func(deployer keys.PublicKey, code []byte, index uint32) (msg.Message, [32]byte) {
		hash := ch.upload(msg.CodeKindInk, code)
		p := msg.Instantiate{Cluster: cid, Contract: msg.ContractID(deployer, hash, cid, []byte("salt")), Deployer: deployer,
			CodeHash: hash, Data: be32(0xed4b9d1b), Salt: []byte("salt"), GasLimit: pgas, CommandID: msg.CommandID(uint64(ch.height+1), index)}
		return phatMsg(msg.TopicPhatInstantiate, &p), p.Contract
	}
	instSys, sys := deploy(alice, sysCode, 0)
	instCk, ck := deploy(bob, ckCode, 1)
	ch.system = sys
	cores := []*worker.Core{ch.core(1, cid), ch.core(2, cid)}
	ch.members = []keys.PublicKey{workerKeys(1).Identity.Public(), workerKeys(2).Identity.Public()}
	ch.step(cores, instSys, instCk)
	called := func() bool {
		t.Helper()
		var got []bool
		for _, c := range cores {
			res, err := c.Query(context.Background(), ch.st, worker.ExecEnv{}, cid, worker.CallRequest{Caller: [32]byte(bob), Dest: ck, Input: be32(sel4("on_block_end_called")), GasLimit: pgas})
			if err != nil || !res.Success() || len(res.Data) != 2 {
				t.Fatalf("on_block_end_called: %v %+v", err, res)
			}
			got = append(got, res.Data[1] == 1)
		}
		if got[0] != got[1] {
			t.Fatalf("workers disagree: %v", got)
		}
		return got[0]
	}
	grant, _ := command(cid, sys, alice, plain(t, "g1", append(be32(0x67612061), ck[:]...), pgas), pgas, ch.height+1, 0)
	hook, hookID := command(cid, ck, bob, plain(t, "h1", append(be32(sel4("set_hook")), enc(func(w *scale.Writer) { w.U64(10_000_000_000) })...), pgas), pgas, ch.height+1, 1)
	ch.step(cores, grant, hook)
	if o := outcome(t, cores[0], cid, bob, hookID); !o.Result.Success() {
		t.Fatalf("set_hook: %+v", o)
	}
	if !called() {
		t.Fatal("the hook did not run at the block's end")
	}
	// Queries through the core run with the cluster's key: the derived
	// key is the same on both workers.
	var derived [][]byte
	for _, c := range cores {
		res, err := c.Query(context.Background(), ch.st, worker.ExecEnv{}, cid, worker.CallRequest{Caller: [32]byte(bob), Dest: ck,
			Input: append(be32(sel4("sr25519_derive_key")), bytesArg([]byte("foo"))...), GasLimit: pgas})
		if err != nil || !res.Success() {
			t.Fatalf("sr25519_derive_key: %v %+v", err, res)
		}
		derived = append(derived, res.Data)
	}
	if len(derived[0]) != 1+2+64 || !bytes.Equal(derived[0], derived[1]) {
		t.Fatalf("derived keys: %x / %x", derived[0], derived[1])
	}
}

// TestPhalaHooksTest runs Phala's hooks_test fixture (ink! 3.3, the pink of
// that time). Its constructor emits a SetHook without gas_limit and its
// on_block_end an event of a variant that no longer exists: neither decodes
// as today's PinkEvent, so Phala's runtime drops both ("invalid pink
// event") and sets no hook; Cella drops them too.
func TestPhalaHooksTest(t *testing.T) {
	c := newPhalaCluster(t)
	h := c.upload(phalaFile(t, "hooks_test/hooks_test.wasm"))
	ct := [32]byte{0x4b}
	res := c.rt.Instantiate(c.st, c.env, worker.InstantiateRequest{Caller: phALICE, Address: ct, CodeHash: h, Input: be32(0xed4b9d1b), GasLimit: phGas})
	if !res.Success() || len(res.Events) != 0 || len(res.Hooks) != 0 {
		t.Fatalf("instantiate: %+v", res)
	}
	res = c.tx(ct, ct, 1, nil)
	if !res.Success() || len(res.Events) != 0 || len(res.Hooks) != 0 {
		t.Fatalf("on_block_end: %+v", res)
	}
}

// TestPhalaForErrors is test_for_errors: an unknown function and an unknown
// extension id trap in queries and transactions; a missing cluster key
// (KeySeedMissing) and a missing system contract (SystemContractMissing)
// trap; a response larger than the contract's buffer traps
// (ContractIoBufferOverflow). Differs on Phala's 8 MiB body: Cella's client
// refuses a body over pink.MaxResponseBody (2 MiB) before the contract sees
// it, which becomes Phala's 524 "IO Error" response (ResponseTooLarge), as
// a Phala worker's own size limit does. Also test_bare_runtime: without a
// system contract a transaction still runs.
func TestPhalaForErrors(t *testing.T) {
	c := newPhalaCluster(t)
	c.env.ClusterKey = nil // TestCluster::bare: no key
	ck := c.deploy(phALICE, phalaFile(t, "check_system/check_system.wasm"), 0xed4b9d1b, nil, 0)
	trap := func(res worker.ExecResult, what, want string) {
		t.Helper()
		if res.Err == "" || !strings.Contains(res.Err, want) {
			t.Fatalf("%s: %+v, want a trap with %q", what, res, want)
		}
	}
	u32 := func(v uint32) []byte { return enc(func(w *scale.Writer) { w.U32(v) }) }
	trap(c.query(phALICE, ck, sel4("call_chain_ext"), u32(0xffff)), "unknown function (query)", "unknown chain extension function")
	trap(c.tx(phALICE, ck, sel4("call_chain_ext"), u32(0xffff)), "unknown function (tx)", "unknown chain extension function")
	trap(c.query(phALICE, ck, sel4("call_chain_ext"), u32(0x010001)), "unknown extension", "unknown chain extension id")
	trap(c.query(phALICE, ck, sel4("sr25519_derive_key"), bytesArg([]byte("foo"))), "no cluster key", "KeySeedMissing")
	trap(c.query(phALICE, ck, sel4("system_contract_version"), nil), "no system contract", "SystemContractMissing")
	if !readBool(t, mustOK(t, c.tx(phALICE, ck, sel4("is_in_transaction"), nil), true, "bare is_in_transaction"), "bare is_in_transaction") {
		t.Fatal("is_in_transaction in a bare cluster's transaction: false")
	}
	// A response that fits Cella's limit but not the contract's buffer
	// traps, as ContractIoBufferOverflow does.
	url := func(u string) []byte { return enc(func(w *scale.Writer) { w.String(u) }) }
	res := c.query(phALICE, ck, sel4("http_get"), url(c.origin+"/big"))
	if res.Err == "" {
		t.Fatalf("100 KiB response: %+v, want a trap", res)
	}
	t.Logf("100 KiB response: %s", res.Err)
	r := mustOK(t, c.query(phALICE, ck, sel4("http_get"), url(c.origin+"/large")), true, "8 MiB response")
	if st, body := r.U16(), r.String(); st != 524 || body != "ResponseTooLarge" {
		t.Fatalf("8 MiB response: %d %q", st, body)
	}
	done(t, r, "8 MiB response")
}

// TestPhalaInitFailure is test_init_failure: a constructor returning Err
// reverts; one that panics traps.
func TestPhalaInitFailure(t *testing.T) {
	c := newPhalaCluster(t)
	h := c.upload(phalaFile(t, "check_system/check_system.wasm"))
	res := c.rt.Instantiate(c.st, c.env, worker.InstantiateRequest{Caller: phALICE, Address: [32]byte{0x1f}, CodeHash: h, Input: be32(sel4("init_fail")), GasLimit: phGas})
	if res.Err != "" || res.Flags&1 == 0 {
		t.Fatalf("init_fail: %+v, want a revert", res)
	}
	res = c.rt.Instantiate(c.st, c.env, worker.InstantiateRequest{Caller: phALICE, Address: [32]byte{0x1f}, CodeHash: h, Input: be32(sel4("init_panic")), GasLimit: phGas})
	if res.Err == "" {
		t.Fatalf("init_panic: %+v, want a trap", res)
	}
	if _, ok := c.st.ContractCodeHash([32]byte{0x1f}); ok {
		t.Fatal("a failed constructor left a contract")
	}
}

// TestPhalaSystemContract covers the system contract tests that need more
// than the pink extension: system_contract_version through SystemRef,
// runtime_version (test_upgrade_runtime's read) and can_emit_ink_events. Differs: Phala's
// upgrade_system_contract imports newer system code the chain holds;
// Cella's chain holds none, so import_latest_system_code is None and the
// upgrade answers Err(CodeNotFound), Phala's answer when there is nothing
// to import. upgrade_runtime's UpgradeRuntimeTo event is refused (logged):
// Cella's runtime version is the worker's, 1.2.
func TestPhalaSystemContract(t *testing.T) {
	c := newChecker(t)
	r := c.call(false, "system_contract_version", nil)
	major, minor, patch := r.U16(), r.U16(), r.U16()
	done(t, r, "system_contract_version")
	if major != 1 {
		t.Fatalf("system_contract_version: %d.%d.%d", major, minor, patch)
	}
	r = c.call(false, "runtime_version", nil)
	if a, b := r.U32(), r.U32(); a != 1 || b != 2 {
		t.Fatalf("runtime_version: %d.%d", a, b)
	}
	done(t, r, "runtime_version")
	res := c.tx(phALICE, c.system, 0xaf69ca03, nil) // System::upgrade_system_contract
	if res.Err != "" || len(res.Data) < 3 || res.Data[0] != 0 || res.Data[1] != 1 {
		t.Fatalf("upgrade_system_contract: %+v, want Ok(Err(_))", res)
	}
	if res.Data[2] != 2 { // pink::system::Error::CodeNotFound
		t.Fatalf("upgrade_system_contract: Err variant %d, want CodeNotFound (2)", res.Data[2])
	}
	res = c.tx(phALICE, c.system, 0x317f6bf3, enc(func(w *scale.Writer) { w.U32(1); w.U32(2) })) // System::upgrade_runtime
	if !res.Success() || len(res.Events) != 0 {
		t.Fatalf("upgrade_runtime: %+v", res)
	}
	// can_emit_ink_events: set_driver's DriverChanged is an ordinary ink!
	// event and stays in the result.
	res = c.tx(phALICE, c.system, 0xaa1e2030, enc(func(w *scale.Writer) { w.String("Hello"); w.Raw(make([]byte, 32)) }))
	if !res.Success() || len(res.Events) == 0 || res.Events[0].Contract != c.system {
		t.Fatalf("set_driver: %+v", res)
	}
}

// watFixture builds one of Phala's WAT fixtures with wabt's wat2wasm
// (skipping without it). Legacy instruction names (get_local), which
// pallet-contracts' parser accepts, are rewritten to today's.
func watFixture(t *testing.T, rel string) []byte {
	t.Helper()
	src := phalaFile(t, rel)
	bin, err := exec.LookPath("wat2wasm")
	if err != nil {
		t.Skip("wat2wasm (wabt) not found: needed to build " + rel)
	}
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.wat"), filepath.Join(dir, "out.wasm")
	if err := os.WriteFile(in, bytes.ReplaceAll(src, []byte("get_local"), []byte("local.get")), 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(bin, in, "-o", out).CombinedOutput(); err != nil {
		t.Fatalf("wat2wasm %s: %v: %s", rel, err, b)
	}
	code, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// TestPhalaCryptoHashes runs crypto_hashes.wat (pallet-contracts' fixture
// that Phala keeps): the four hash host functions, called through a table
// of imported functions (call_indirect), hash the input.
func TestPhalaCryptoHashes(t *testing.T) {
	c := newPhalaCluster(t)
	ct := c.deploy(phALICE, watFixture(t, "crypto_hashes.wat"), 0, nil, 0)
	in := []byte("_DEAD_BEEF")
	s := sha256.Sum256(in)
	k := sha3.NewLegacyKeccak256()
	k.Write(in)
	b := blake2b.Sum256(in)
	b16, _ := blake2b.New(16, nil)
	b16.Write(in)
	for id, want := range map[byte][]byte{1: s[:], 2: k.Sum(nil), 3: b[:], 4: b16.Sum(nil)} {
		res := c.rt.Call(c.st, c.env, worker.CallRequest{Caller: phALICE, Dest: ct, Input: append([]byte{id}, in...), GasLimit: phGas})
		if !res.Success() || !bytes.HasPrefix(res.Data, want) {
			t.Fatalf("hash %d: %+v, want %x…", id, res, want)
		}
	}
}

// TestPhalaEventSize runs event_size.wat: an event of up to 16 KiB of data
// is deposited (pallet-contracts' payload limit), a larger one traps.
func TestPhalaEventSize(t *testing.T) {
	c := newPhalaCluster(t)
	ct := c.deploy(phALICE, watFixture(t, "event_size.wat"), 0, nil, 0)
	for _, tc := range []struct {
		size uint32
		ok   bool
	}{{0, true}, {16 << 10, true}, {16<<10 + 1, false}} {
		res := c.rt.Call(c.st, c.env, worker.CallRequest{Caller: phALICE, Dest: ct, Input: enc(func(w *scale.Writer) { w.U32(tc.size) }), GasLimit: phGas})
		if res.Success() != tc.ok || (tc.ok && (len(res.Events) != 1 || len(res.Events[0].Data) != int(tc.size))) {
			t.Fatalf("event of %d bytes: %+v", tc.size, res.Err)
		}
	}
}
