package pruntime

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"connectrpc.com/connect"
	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
)

// Selectors of the test contracts (testcontracts/flipper.json).
var (
	selFlipperNew = []byte{0x9b, 0xae, 0x9d, 0x5e}
	selFlip       = []byte{0x63, 0x3a, 0xa5, 0x51}
	selGet        = []byte{0x2f, 0x86, 0x5b, 0xd9}
)

// queryWorld is a fixed contract state: flipper (deployed with false) and
// float, behind an EngineQueryExecutor.
type queryWorld struct {
	st       *engine.MemState
	exec     *EngineQueryExecutor
	flipper  engine.AccountID
	float    engine.AccountID
	loop     engine.AccountID
	flipCode engine.Hash
	calls    atomic.Int64
}

func newQueryWorld(t testing.TB) *queryWorld {
	t.Helper()
	ctx := context.Background()
	e, err := NewQueryEngine(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = e.Close(ctx) })
	st := engine.NewMemState()
	env := engine.Environment{BlockNumber: 1, Timestamp: 1_700_000_000_000}
	deployer := engine.AccountID{0xde}
	deploy := func(name string, input []byte) (engine.AccountID, engine.Hash) {
		h, _, err := e.Upload(ctx, testcontracts.Wasm(name), func(_ engine.Hash, c []byte) { st.PutCode(c) })
		if err != nil {
			t.Fatal(err)
		}
		o := e.Instantiate(ctx, engine.Host{State: st, Env: env}, engine.InstantiateRequest{Caller: deployer, CodeHash: h, Input: input, GasLimit: 1e11})
		if !o.Success() {
			t.Fatalf("deploy %s: %v", name, o.Err)
		}
		return o.Address, h
	}
	w := &queryWorld{st: st}
	w.flipper, w.flipCode = deploy("flipper", append(append([]byte{}, selFlipperNew...), 0))
	w.float, _ = deploy("float", nil)
	w.loop, _ = deploy("loop", nil)
	w.exec = &EngineQueryExecutor{Engine: e, State: func([32]byte) (engine.State, engine.Environment, func(), bool) {
		w.calls.Add(1)
		return st, env, nil, true
	}}
	return w
}

// queryRuntime is an initialised runtime at height 5 serving w's contracts.
func queryRuntime(t testing.TB, w *queryWorld) *Runtime {
	t.Helper()
	return queryRuntimeWith(t, Config{CheckpointInterval: 100, QueryExecutor: w.exec})
}

func queryRuntimeWith(t testing.TB, cfg Config) *Runtime {
	t.Helper()
	r, err := openConfig(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	var id keys.PublicKey
	c := testChain(t, &id, 100)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	addBlocks(t, c, 6)
	syncTo(t, r, c, 10)
	if h := r.Info().Height; h != 5 {
		t.Fatalf("height %d", h)
	}
	return r
}

// qclient builds queries the way @phala/sdk does: //Alice certifies an
// ephemeral key, which signs every query's envelope; a second ephemeral
// key is the ECDH key of the channel.
type qclient struct {
	worker keys.PublicKey
	alice  *keys.Pair
	eph    *keys.Pair
	cert   *phatwire.Certificate
	ecdh   *cipher.EcdhKey
	nonce  byte
}

func newQClient(t testing.TB, worker keys.PublicKey, ttl uint32) *qclient {
	t.Helper()
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	eph := keys.FromSeed([32]byte{0x11})
	cert, err := phatwire.IssueCertificate(alice, eph.Public(), ttl, phatwire.Sr25519)
	if err != nil {
		t.Fatal(err)
	}
	return &qclient{worker: worker, alice: alice, eph: eph, cert: cert, ecdh: cipher.EcdhKeyFromSeed([32]byte{0x44})}
}

func (c *qclient) query(id [32]byte, data phatwire.Query) *phatwire.ContractQuery {
	c.nonce++
	return &phatwire.ContractQuery{Head: phatwire.ContractQueryHead{ID: id, Nonce: [32]byte{0xaa, c.nonce}}, Data: data}
}

func inkMessage(input ...[]byte) phatwire.Query {
	return phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{Payload: bytes.Join(input, nil)}}
}

// seal encrypts q to the worker and signs the envelope.
func (c *qclient) seal(t testing.TB, q *phatwire.ContractQuery) *prpcpb.ContractQueryRequest {
	t.Helper()
	env, err := phatwire.SealQuery(c.ecdh, c.worker, cipher.IV{c.nonce}, q)
	if err != nil {
		t.Fatal(err)
	}
	b := env.Encode()
	return &prpcpb.ContractQueryRequest{EncodedEncryptedData: b, Signature: prpcpb.FromSignature(phatwire.SignQuery(c.cert, c.eph, b))}
}

func (c *qclient) open(t testing.TB, q *phatwire.ContractQuery, res *prpcpb.ContractQueryResponse) *phatwire.ContractQueryResponse {
	t.Helper()
	resp, err := phatwire.OpenResponse(c.ecdh, c.worker, q.Head, res.GetEncodedEncryptedData())
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// prpcPost posts a protobuf body to a pRPC method and returns the status,
// the body and, for an error, the PrpcError message.
func prpcPost(t testing.TB, base, method string, body []byte) (int, []byte, string) {
	t.Helper()
	res, err := http.Post(base+"/prpc/PhactoryAPI."+method, "application/octet-stream", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode == http.StatusOK {
		return res.StatusCode, b, ""
	}
	var pe prpcpb.PrpcError
	if err := proto.Unmarshal(b, &pe); err != nil {
		t.Fatalf("%s: status %d with a body that is no PrpcError: %q", method, res.StatusCode, b)
	}
	return res.StatusCode, b, pe.Message
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func prpcQuery(t testing.TB, base string, req *prpcpb.ContractQueryRequest) *prpcpb.ContractQueryResponse {
	t.Helper()
	code, body, msg := prpcPost(t, base, "ContractQuery", marshal(t, req))
	if code != http.StatusOK {
		t.Fatalf("ContractQuery: %d %s", code, msg)
	}
	out := new(prpcpb.ContractQueryResponse)
	if err := proto.Unmarshal(body, out); err != nil {
		t.Fatal(err)
	}
	return out
}

func execResultOf(t *testing.T, resp *phatwire.ContractQueryResponse) *phatwire.ContractExecResult {
	t.Helper()
	if resp.Err != nil {
		t.Fatalf("query error: %v", resp.Err)
	}
	res, err := phatwire.DecodeContractExecResult(resp.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TestQueryEndToEnd queries contracts over pRPC and Connect with queries
// built by phatwire's signer and checks every answer kind.
func TestQueryEndToEnd(t *testing.T) {
	w := newQueryWorld(t)
	r := queryRuntime(t, w)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	c := newQClient(t, r.Info().EcdhPublicKey, 1000)
	before := r.Info()

	// GetInfo
	code, body, msg := prpcPost(t, srv.URL, "GetInfo", nil)
	if code != http.StatusOK {
		t.Fatalf("GetInfo: %d %s", code, msg)
	}
	var info prpcpb.PhactoryInfo
	if err := proto.Unmarshal(body, &info); err != nil {
		t.Fatal(err)
	}
	if !info.Initialized || info.GetEcdhPublicKey() != hex.EncodeToString(before.EcdhPublicKey[:]) ||
		info.Blocknum != 6 || info.Headernum != uint32(before.HeaderHeight+1) || !info.DevMode ||
		info.GetGenesisBlockHash() != hex.EncodeToString(before.GenesisHash[:]) || info.Version != "0.1.0" {
		t.Fatalf("GetInfo %v", &info)
	}

	pub := pruntimev1connect.NewPublicClient(http.DefaultClient, srv.URL)
	cjson := pruntimev1connect.NewPublicClient(http.DefaultClient, srv.URL, connect.WithProtoJSON())
	transports := map[string]func(*prpcpb.ContractQueryRequest) *prpcpb.ContractQueryResponse{
		"prpc": func(req *prpcpb.ContractQueryRequest) *prpcpb.ContractQueryResponse {
			return prpcQuery(t, srv.URL, req)
		},
		"connect": func(req *prpcpb.ContractQueryRequest) *prpcpb.ContractQueryResponse {
			res, err := pub.Query(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			return res
		},
		"connect-json": func(req *prpcpb.ContractQueryRequest) *prpcpb.ContractQueryResponse {
			res, err := cjson.Query(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			return res
		},
	}
	for name, send := range transports {
		t.Run(name, func(t *testing.T) {
			// get → Ok(false): ink!'s Result<bool, LangError>.
			q := c.query(w.flipper, inkMessage(selGet))
			res := send(c.seal(t, q))
			if res.Blocknum != 5 {
				t.Fatalf("blocknum %d", res.Blocknum)
			}
			er := execResultOf(t, c.open(t, q, res))
			if er.Err != nil || !bytes.Equal(er.Result.Data, []byte{0, 0}) || er.GasConsumed.RefTime == 0 {
				t.Fatalf("get: %+v", er)
			}
			// flip is executed but its write discarded: get stays false.
			q = c.query(w.flipper, inkMessage(selFlip))
			if er := execResultOf(t, c.open(t, q, send(c.seal(t, q)))); er.Err != nil || er.Result.Reverted() {
				t.Fatalf("flip: %+v", er)
			}
			q = c.query(w.flipper, inkMessage(selGet))
			if er := execResultOf(t, c.open(t, q, send(c.seal(t, q)))); !bytes.Equal(er.Result.Data, []byte{0, 0}) {
				t.Fatalf("get after flip: %x", er.Result.Data)
			}
			// float code runs in query mode: 7 × 1.5 = 10.
			q = c.query(w.float, inkMessage([]byte{7, 0, 0, 0}))
			if er := execResultOf(t, c.open(t, q, send(c.seal(t, q)))); !bytes.Equal(er.Result.Data, []byte{10, 0, 0, 0}) {
				t.Fatalf("float: %+v", er)
			}
			// Instantiate dry run: the would-be address, nothing deployed.
			input := append(append([]byte{}, selFlipperNew...), 1)
			q = c.query([32]byte{0x5e}, phatwire.Query{Kind: phatwire.QueryInkInstantiate, Instantiate: phatwire.InkInstantiateQuery{
				CodeHash: w.flipCode, Salt: []byte{1, 2}, InstantiateData: input}})
			resp := c.open(t, q, send(c.seal(t, q)))
			if resp.Err != nil {
				t.Fatal(resp.Err)
			}
			ir, err := phatwire.DecodeContractInstantiateResult(resp.Payload)
			if err != nil {
				t.Fatal(err)
			}
			alice := engine.AccountID(c.alice.Public())
			if want := engine.ContractAddress(alice, w.flipCode, input, []byte{1, 2}); ir.Err != nil || ir.AccountID != phatwire.AccountID(want) {
				t.Fatalf("instantiate: %+v", ir)
			}
			if _, ok := w.st.ContractCodeHash(engine.AccountID(ir.AccountID)); ok {
				t.Fatal("the dry run deployed the contract")
			}
			// Transfers need funds: refused without a deposit, paid from it
			// with one (Phala deposits it to the origin for the query).
			q = c.query(w.flipper, phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{
				Payload: selGet, Transfer: scale.U128From(5)}})
			if er := execResultOf(t, c.open(t, q, send(c.seal(t, q)))); er.Err == nil {
				t.Fatalf("transfer without funds: %+v", er)
			}
			q = c.query(w.flipper, phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{
				Payload: selGet, Transfer: scale.U128From(5), Deposit: scale.U128From(5)}})
			if er := execResultOf(t, c.open(t, q, send(c.seal(t, q)))); er.Err != nil {
				t.Fatalf("transfer from the deposit: %+v", er)
			}
			if b := w.st.Balance(engine.AccountID(c.alice.Public())); !b.IsZero() {
				t.Fatalf("the deposit stayed: %v", b)
			}
			// A trap is a result with a DispatchError, not a query error.
			q = c.query(w.flipper, inkMessage([]byte{0xde, 0xad, 0xbe, 0xef}))
			er = execResultOf(t, c.open(t, q, send(c.seal(t, q))))
			if er.Err != nil || !er.Result.Reverted() || !bytes.Equal(er.Result.Data, []byte{1, 1}) {
				t.Fatalf("unknown selector: %+v", er)
			}

			// Failures of the query itself come back encrypted.
			for _, tc := range []struct {
				name   string
				q      *phatwire.ContractQuery
				strip  bool // no signature
				kind   phatwire.QueryErrorKind
				substr string
			}{
				{"unknown contract", c.query([32]byte{0x99}, inkMessage(selGet)), false, phatwire.QueryErrRuntimeError, "contract not found: 0x9900"},
				{"unknown code", c.query([32]byte{0x5e}, phatwire.Query{Kind: phatwire.QueryInkInstantiate, Instantiate: phatwire.InkInstantiateQuery{CodeHash: [32]byte{7}}}), false, phatwire.QueryErrRuntimeError, "contract not found: code 0x0700"},
				{"no signature", c.query(w.flipper, inkMessage(selGet)), true, phatwire.QueryErrBadOrigin, ""},
				{"sidevm", c.query(w.flipper, phatwire.Query{Kind: phatwire.QuerySidevm, Sidevm: []byte("{}")}), false, phatwire.QueryErrSidevmNotFound, ""},
			} {
				req := c.seal(t, tc.q)
				if tc.strip {
					req.Signature = nil
				}
				resp := c.open(t, tc.q, send(req))
				if resp.Err == nil || resp.Err.Kind != tc.kind || !strings.Contains(resp.Err.Message, tc.substr) {
					t.Fatalf("%s: answer %+v", tc.name, resp)
				}
			}
		})
	}
	if after := r.Info(); after.Height != before.Height || after.AppHash != before.AppHash {
		t.Fatal("queries changed the runtime")
	}
	if ks := w.st.StorageKeys(w.flipper); len(ks) != 1 {
		t.Fatalf("flipper storage %d keys", len(ks))
	}
}

// TestQueryRefused sends hostile requests: each is refused with a specific
// error, the executor never runs and nothing changes.
func TestQueryRefused(t *testing.T) {
	w := newQueryWorld(t)
	r := queryRuntime(t, w)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	pub := pruntimev1connect.NewPublicClient(http.DefaultClient, srv.URL)
	worker := r.Info().EcdhPublicKey
	c := newQClient(t, worker, 1000)
	good := func() (*phatwire.ContractQuery, *prpcpb.ContractQueryRequest) {
		q := c.query(w.flipper, inkMessage(selGet))
		return q, c.seal(t, q)
	}
	// Sanity: the good request is answered.
	_, req := good()
	prpcQuery(t, srv.URL, req)
	calls := w.calls.Load()

	expired := newQClient(t, worker, 4) // ttl 4 < block 5
	other := newQClient(t, cipher.EcdhKeyFromSeed([32]byte{0x23}).Public(), 1000)
	bob, _ := keys.FromURI("//Bob")

	cases := []struct {
		name   string
		body   func() []byte
		status int
		code   connect.Code // of the same request on Connect (0: not sent there)
		substr string
	}{
		{"malformed protobuf", func() []byte { return []byte{0x0a, 0xff, 0xff} }, 400, connect.CodeInvalidArgument, "decode ContractQueryRequest"},
		{"expired certificate", func() []byte {
			q := expired.query(w.flipper, inkMessage(selGet))
			return marshal(t, expired.seal(t, q))
		}, 500, connect.CodeUnauthenticated, "certificate expired: ttl 4 < block 5"},
		{"signature over other bytes", func() []byte {
			_, req := good()
			req.Signature = prpcpb.FromSignature(phatwire.SignQuery(c.cert, c.eph, []byte("other bytes")))
			return marshal(t, req)
		}, 500, connect.CodeUnauthenticated, "signature verification failed"},
		{"forged certificate", func() []byte {
			// The ephemeral key claims //Alice as root, but //Bob signed it.
			forged, _ := phatwire.IssueCertificate(bob, c.eph.Public(), 1000, phatwire.Sr25519)
			forged.Signature.SignedBy = c.cert.Signature.SignedBy
			_, req := good()
			req.Signature = prpcpb.FromSignature(phatwire.SignQuery(forged, c.eph, req.EncodedEncryptedData))
			return marshal(t, req)
		}, 500, connect.CodeUnauthenticated, "signature verification failed"},
		{"unsupported signature type", func() []byte {
			_, req := good()
			req.Signature.SignatureType = prpcpb.SignatureType(phatwire.Ed25519)
			return marshal(t, req)
		}, 500, connect.CodeUnauthenticated, "signature type Ed25519 not supported"},
		{"encrypted to another worker", func() []byte {
			q := other.query(w.flipper, inkMessage(selGet))
			return marshal(t, other.seal(t, q))
		}, 500, connect.CodeInvalidArgument, "decryption failed"},
		{"truncated envelope", func() []byte {
			_, req := good()
			req.EncodedEncryptedData = req.EncodedEncryptedData[:40]
			req.Signature = prpcpb.FromSignature(phatwire.SignQuery(c.cert, c.eph, req.EncodedEncryptedData))
			return marshal(t, req)
		}, 500, connect.CodeInvalidArgument, "malformed envelope"},
		{"malformed SCALE inside", func() []byte {
			env, err := cipher.Encrypt(c.ecdh, worker, cipher.IV{1}, []byte{1, 2, 3})
			if err != nil {
				t.Fatal(err)
			}
			b := env.Encode()
			return marshal(t, &prpcpb.ContractQueryRequest{EncodedEncryptedData: b, Signature: prpcpb.FromSignature(phatwire.SignQuery(c.cert, c.eph, b))})
		}, 500, connect.CodeInvalidArgument, "malformed input: contract query"},
		{"oversized body", func() []byte {
			return marshal(t, &prpcpb.ContractQueryRequest{EncodedEncryptedData: make([]byte, 600<<10)})
		}, 413, 0, "body"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.body()
			code, _, msg := prpcPost(t, srv.URL, "ContractQuery", body)
			if code != tc.status || !strings.Contains(msg, tc.substr) {
				t.Fatalf("pRPC: %d %q, want %d with %q", code, msg, tc.status, tc.substr)
			}
			if tc.code == 0 {
				return
			}
			var req prpcpb.ContractQueryRequest
			if proto.Unmarshal(body, &req) != nil {
				return
			}
			_, err := pub.Query(context.Background(), &req)
			if connect.CodeOf(err) != tc.code || !strings.Contains(err.Error(), tc.substr) {
				t.Fatalf("Connect: %v, want %v with %q", err, tc.code, tc.substr)
			}
		})
	}
	if n := w.calls.Load(); n != calls {
		t.Fatalf("the executor ran %d times for refused queries", n-calls)
	}
	// Connect refuses an oversized envelope too.
	if _, err := pub.Query(context.Background(), &prpcpb.ContractQueryRequest{EncodedEncryptedData: make([]byte, MaxQueryEnvelope+1)}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("oversized on Connect: %v", err)
	}
	// Unknown methods and verbs.
	if code, _, msg := prpcPost(t, srv.URL, "GetRuntimeInfo", nil); code != http.StatusNotFound || !strings.Contains(msg, "method not found") {
		t.Fatalf("unknown method: %d %q", code, msg)
	}
	if code, _, msg := prpcPost(t, srv.URL, "GetInfo", make([]byte, 2<<10)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("GetInfo body: %d %q", code, msg)
	}
}

// TestQueryNotInitialized: before Init there is no key to decrypt with.
func TestQueryNotInitialized(t *testing.T) {
	r := openTest(t, t.TempDir(), 10)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	code, body, _ := prpcPost(t, srv.URL, "GetInfo", nil)
	var info prpcpb.PhactoryInfo
	if code != http.StatusOK || proto.Unmarshal(body, &info) != nil || info.Initialized || info.EcdhPublicKey != nil {
		t.Fatalf("GetInfo: %d %v", code, &info)
	}
	code, _, msg := prpcPost(t, srv.URL, "ContractQuery", marshal(t, &prpcpb.ContractQueryRequest{EncodedEncryptedData: []byte{1}}))
	if code != http.StatusInternalServerError || !strings.Contains(msg, "not initialised") {
		t.Fatalf("ContractQuery: %d %q", code, msg)
	}
}

// TestPrpcJSONMode: ?json and application/json answer JSON, errors as
// {"error": …}; GET works for GetInfo.
func TestPrpcJSONMode(t *testing.T) {
	w := newQueryWorld(t)
	r := queryRuntime(t, w)
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	res, err := http.Get(srv.URL + "/prpc/PhactoryAPI.GetInfo")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	ecdh := r.Info().EcdhPublicKey
	if res.StatusCode != 200 || !strings.Contains(string(b), `"ecdhPublicKey":"`+hex.EncodeToString(ecdh[:])+`"`) {
		t.Fatalf("GET GetInfo: %d %s", res.StatusCode, b)
	}
	res, err = http.Post(srv.URL+"/prpc/PhactoryAPI.ContractQuery?json", "application/octet-stream", strings.NewReader("{nope"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.HasPrefix(string(b), `{"error":"decode ContractQueryRequest`) {
		t.Fatalf("JSON error: %d %s", res.StatusCode, b)
	}
}

// TestQueryGate: beyond the slots and the backlog a query is refused at
// once.
func TestQueryGate(t *testing.T) {
	g := newQueryGate(1, 1)
	leave, err := g.enter(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waiting := make(chan error, 1)
	go func() {
		l, err := g.enter(context.Background())
		if err == nil {
			l()
		}
		waiting <- err
	}()
	for g.waiting.Load() != 1 {
		// the second query is queued before the third arrives
		select {
		case err := <-waiting:
			t.Fatalf("second query returned early: %v", err)
		default:
		}
	}
	if _, err := g.enter(context.Background()); err != ErrQueryBusy {
		t.Fatalf("third query: %v", err)
	}
	leave()
	if err := <-waiting; err != nil {
		t.Fatalf("queued query: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	leave, _ = g.enter(context.Background())
	cancel()
	if _, err := g.enter(ctx); err != ErrQueryBusy {
		t.Fatalf("cancelled wait: %v", err)
	}
	leave()
}

// recordingExecutor records the origin of every query it runs.
type recordingExecutor struct {
	trivialExecutor
	origins chan phatwire.AccountID
}

func (x *recordingExecutor) QueryMessage(ctx context.Context, q *MessageQuery) (*phatwire.ContractExecResult, error) {
	x.origins <- q.Origin
	return x.trivialExecutor.QueryMessage(ctx, q)
}

// TestQueryOrigin: the origin is the root of the certificate chain, for
// certificates signed directly (Sr25519) and by a wallet extension
// (Sr25519WrapBytes), and the signer itself without a parent certificate.
func TestQueryOrigin(t *testing.T) {
	x := &recordingExecutor{origins: make(chan phatwire.AccountID, 1)}
	r, err := openConfig(t.TempDir(), Config{CheckpointInterval: 100, QueryExecutor: x})
	if err != nil {
		t.Fatal(err)
	}
	var id keys.PublicKey
	ch := testChain(t, &id, 100)
	if _, err := r.Init(ch.Genesis(), ch.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	c := newQClient(t, r.Info().EcdhPublicKey, 1000)
	bob, _ := keys.FromURI("//Bob")
	wrapped, err := phatwire.IssueCertificate(bob, c.eph.Public(), 1000, phatwire.Sr25519WrapBytes)
	if err != nil {
		t.Fatal(err)
	}
	ephPub := c.eph.Public()
	selfCert := &phatwire.Certificate{EncodedBody: (&phatwire.CertificateBody{Pubkey: ephPub[:], TTL: 1000}).Encode()}
	for _, tc := range []struct {
		name string
		cert *phatwire.Certificate
		want keys.PublicKey
	}{
		{"Sr25519", c.cert, c.alice.Public()},
		{"Sr25519WrapBytes", wrapped, bob.Public()},
		{"no parent", selfCert, c.eph.Public()},
	} {
		q := c.query([32]byte{1}, inkMessage(selGet))
		req := c.seal(t, q)
		sig, err := prpcpb.ToSignature(prpcpb.FromSignature(phatwire.SignQuery(tc.cert, c.eph, req.EncodedEncryptedData)))
		if err != nil {
			t.Fatal(err)
		}
		ans, err := r.Query(context.Background(), req.EncodedEncryptedData, sig)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if got := <-x.origins; got != phatwire.AccountID(tc.want) {
			t.Fatalf("%s: origin %x, want %x", tc.name, got, tc.want)
		}
		if _, err := phatwire.OpenResponse(c.ecdh, c.worker, q.Head, ans.EncodedEncryptedData); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
	}
}

// TestQueryTimeout: a contract that spins is stopped by the wall-clock
// backstop (its gas, 5×10^13, would last far longer) and the client gets
// QueryError::Timeout.
func TestQueryTimeout(t *testing.T) {
	w := newQueryWorld(t)
	r := queryRuntimeWith(t, Config{CheckpointInterval: 100, QueryExecutor: w.exec, QueryTimeout: 50 * time.Millisecond})
	c := newQClient(t, r.Info().EcdhPublicKey, 1000)
	q := c.query(w.loop, inkMessage([]byte{0, 0, 0, 0}))
	req := c.seal(t, q)
	sig, _ := prpcpb.ToSignature(req.Signature)
	ans, err := r.Query(context.Background(), req.EncodedEncryptedData, sig)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := phatwire.OpenResponse(c.ecdh, c.worker, q.Head, ans.EncodedEncryptedData)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Err == nil || resp.Err.Kind != phatwire.QueryErrTimeout {
		t.Fatalf("answer %+v", resp)
	}
}

// TestEngineExecutorRefusesEstimating: an executor without a transaction
// engine and the cluster's command gas cap refuses an estimating query
// rather than answering a query-mode run as an estimate.
func TestEngineExecutorRefusesEstimating(t *testing.T) {
	w := newQueryWorld(t)
	q := &MessageQuery{Contract: w.flipper, Input: selGet, GasLimit: QueryGasLimit}
	if r, err := w.exec.QueryMessage(t.Context(), q); err != nil || r.Err != nil {
		t.Fatalf("query: %+v %v", r, err)
	}
	q.Estimating = true
	if r, err := w.exec.QueryMessage(t.Context(), q); !errors.Is(err, ErrNoEstimates) {
		t.Fatalf("estimating: %+v %v, want ErrNoEstimates", r, err)
	}
}
