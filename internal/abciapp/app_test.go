package abciapp

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"

	"github.com/cella-network/cella/internal/appdb"
	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tx"
)

var measurement = []byte("abciapp-test-measurement")

// anyDev accepts any "dev" quote equal to its report data.
type anyDev struct{}

func (anyDev) Verify(kind string, quote, _ []byte, rd [64]byte, _ int64) ([]byte, error) {
	if kind != string(tee.KindDev) || string(quote) != string(rd[:]) {
		return nil, state.ErrReportDataMismatch
	}
	return measurement, nil
}

type testApp struct {
	t   testing.TB
	a   *App
	g   *state.Genesis
	dir string
	db  *appdb.DB
}

func blockHash(h int64) []byte { return []byte{0xb1, byte(h), 30: 0, 31: byte(h >> 8)} }

func newTestApp(t testing.TB) *testApp {
	g := state.DevGenesis("cella-app-test", []state.Validator{{PubKey: [32]byte{1}, Power: 1}})
	g.App.Registry.AllowMeasurement(registry.MeasurementHash(measurement))
	ta := &testApp{t: t, g: g, dir: t.TempDir()}
	ta.open()
	if _, err := ta.a.InitChain(context.Background(), &abci.RequestInitChain{ChainId: g.ChainID}); err != nil {
		t.Fatal(err)
	}
	return ta
}

func (ta *testApp) open(opts ...Option) {
	db, err := appdb.Open(ta.dir)
	if err != nil {
		ta.t.Fatal(err)
	}
	ta.db = db
	if ta.a, err = New(ta.g, db, slog.New(slog.NewTextHandler(io.Discard, nil)), opts...); err != nil {
		ta.t.Fatal(err)
	}
	ta.t.Cleanup(func() {
		if ta.db == db { // an older one was closed by the test
			db.Close()
		}
	})
}

func (ta *testApp) block(txs ...[]byte) *abci.ResponseFinalizeBlock {
	ta.t.Helper()
	ctx := context.Background()
	h := ta.a.last.Height + 1
	res, err := ta.a.FinalizeBlock(ctx, &abci.RequestFinalizeBlock{Height: h, Hash: blockHash(h), Time: time.Unix(1_800_000_000, 0), Txs: txs})
	if err != nil {
		ta.t.Fatal(err)
	}
	if _, err := ta.a.Commit(ctx, &abci.RequestCommit{}); err != nil {
		ta.t.Fatal(err)
	}
	return res
}

func (ta *testApp) sign(from *keys.Pair, nonce uint64, call tx.Call) []byte {
	return tx.Sign(tx.Body{Version: tx.Version1, Scheme: tx.Sr25519, Signer: from.Public(), Genesis: ta.a.m.GenesisHash(),
		Nonce: nonce, FeeLimit: scale.U128From(state.Unit), Call: call}, from).Encode()
}

func (ta *testApp) check(raw []byte) uint32 {
	ta.t.Helper()
	r, err := ta.a.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: raw})
	if err != nil {
		ta.t.Fatal(err)
	}
	return r.Code
}

func pairOf(t testing.TB, uri string) *keys.Pair {
	p, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestBlockHashesOracle(t *testing.T) {
	ta := newTestApp(t)
	for range hashWindow + 5 {
		ta.block()
	}
	last := ta.a.last.Height
	o := ta.a.hashes
	if len(o.recent) != hashWindow {
		t.Fatalf("%d hashes in memory, want %d", len(o.recent), hashWindow)
	}
	for _, h := range []int64{1, 2, last - hashWindow, last - 1, last} {
		v, ok := o.BlockHash(h)
		if !ok || string(v[:]) != string(blockHash(h)) {
			t.Fatalf("height %d: %x %v", h, v, ok)
		}
	}
	for _, h := range []int64{0, -1, last + 1} {
		if _, ok := o.BlockHash(h); ok {
			t.Fatalf("height %d answered", h)
		}
	}
	// A restarted app loads the recent window from the store.
	ta.db.Close()
	ta.open()
	if got := len(ta.a.hashes.recent); got != hashWindow {
		t.Fatalf("reloaded %d hashes", got)
	}
	if v, ok := ta.a.hashes.BlockHash(last); !ok || string(v[:]) != string(blockHash(last)) {
		t.Fatal("hash lost over restart")
	}
	// FinalizeBlock insists on a block hash.
	if _, err := ta.a.FinalizeBlock(context.Background(), &abci.RequestFinalizeBlock{Height: last + 1}); err == nil {
		t.Fatal("finalize without a hash")
	}
}

func TestRegistrationAndEgressThroughABCI(t *testing.T) {
	ta := newTestApp(t)
	ta.block()
	ta.block()
	alice, bob, worker := pairOf(t, "//Alice"), pairOf(t, "//Bob"), pairOf(t, "//Worker1")
	info := msg.RegistrationInfo{
		IdentityPublicKey: worker.Public(), Operator: alice.Public(), GenesisHash: ta.a.m.GenesisHash(),
		MaxAppVersion: state.AppVersion1, RecentBlock: msg.BlockRef{Height: 2, Hash: [32]byte(blockHash(2))}, TeeKind: string(tee.KindDev),
	}
	rd := info.ReportData()
	reg := ta.sign(alice, 0, registry.RegisterWorkerCall(info, msg.Attestation{Kind: string(tee.KindDev), Quote: rd[:]}))
	if code := ta.check(reg); code != state.CodeOK {
		t.Fatal(state.CodeName(code))
	}
	// Without a verifier the registration cannot be judged.
	if r := ta.block(reg).TxResults[0]; r.Code != state.CodeAttestationUnverifiable {
		t.Fatalf("%s: %s", state.CodeName(r.Code), r.Log)
	}
	ta.a.SetAttestationVerifier(anyDev{})
	reg = ta.sign(alice, 1, registry.RegisterWorkerCall(info, msg.Attestation{Kind: string(tee.KindDev), Quote: rd[:]}))
	if r := ta.block(reg).TxResults[0]; r.Code != state.CodeOK {
		t.Fatalf("%s: %s", state.CodeName(r.Code), r.Log)
	}

	// The mempool view follows pending sequences of one origin.
	origin := msg.OriginWorker(worker.Public())
	msg := func(seq uint64) msg.SignedMessage {
		return msg.Sign(worker, msg.Message{Origin: origin, Topic: []byte("t"), Payload: []byte{byte(seq)}}, seq)
	}
	e0, e1 := ta.sign(bob, 0, mq.SubmitCall(msg(0))), ta.sign(bob, 1, mq.SubmitCall(msg(1)))
	if c0, c1 := ta.check(e0), ta.check(e1); c0 != state.CodeOK || c1 != state.CodeOK {
		t.Fatal(state.CodeName(c0), state.CodeName(c1))
	}
	if c := ta.check(ta.sign(bob, 2, mq.SubmitCall(msg(1)))); c != state.CodeMqPendingSequence {
		t.Fatal(state.CodeName(c))
	}
	res := ta.block(e0, e1)
	for _, r := range res.TxResults {
		if r.Code != state.CodeOK {
			t.Fatal(r.Code, r.Log)
		}
	}
	// Queries.
	q := func(path string, data []byte) *abci.ResponseQuery {
		r, err := ta.a.Query(context.Background(), &abci.RequestQuery{Path: path, Data: data})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	var ws []chainapi.WorkerInfo
	if r := q(chainapi.PathWorkers, nil); r.Code != 0 || json.Unmarshal(r.Value, &ws) != nil || len(ws) != 1 || ws[0].IdentityPublicKey != worker.Public().Hex() ||
		!slices.Equal(ws[0].Clusters, []string{"0x" + strings.Repeat("0", 64)}) {
		t.Fatalf("workers %d %s", r.Code, r.Value)
	}
	if r := q(chainapi.PathWorkers, []byte{1, 2}); r.Code != chainapi.QueryBadInput {
		t.Fatal(r.Code)
	}
	if r := q(chainapi.PathWorkers, make([]byte, 32)); r.Code != chainapi.QueryNotFound {
		t.Fatal(r.Code)
	}
	var s chainapi.MqSequence
	if r := q(chainapi.PathMqSequence, origin); r.Code != 0 || json.Unmarshal(r.Value, &s) != nil || s.NextSequence != 2 {
		t.Fatalf("sequence %d %s", r.Code, r.Value)
	}
	if r := q(chainapi.PathMqSequence, []byte{0xff}); r.Code != chainapi.QueryBadInput {
		t.Fatal(r.Code)
	}
	rec, err := ta.db.Block(ta.a.last.Height)
	if err != nil || len(rec.Messages) != 2 {
		t.Fatalf("record %+v %v", rec, err)
	}
	// The dev bootstrap made the first worker a gatekeeper and the only
	// worker of cluster 0, owned by the admin (//Alice).
	var gk chainapi.GatekeepersInfo
	if r := q(chainapi.PathGatekeepers, nil); r.Code != 0 || json.Unmarshal(r.Value, &gk) != nil || len(gk.Gatekeepers) != 1 ||
		gk.Gatekeepers[0] != (chainapi.GatekeeperInfo{Identity: worker.Public().Hex()}) || gk.MasterPubkey != "" {
		t.Fatalf("gatekeepers %d %s", r.Code, r.Value)
	}
	var cs []chainapi.ClusterInfo
	if r := q(chainapi.PathClusters, nil); r.Code != 0 || json.Unmarshal(r.Value, &cs) != nil || len(cs) != 1 ||
		cs[0].ID != "0x"+strings.Repeat("0", 64) || cs[0].Owner != keys.EncodeSS58(alice.Public(), 42) || cs[0].Permission != "public" ||
		len(cs[0].Workers) != 1 || cs[0].Workers[0] != worker.Public().Hex() || cs[0].Pubkey != "" {
		t.Fatalf("clusters %d %s", r.Code, r.Value)
	}
	var c0 chainapi.ClusterInfo
	if r := q(chainapi.PathCluster, make([]byte, 32)); r.Code != 0 || json.Unmarshal(r.Value, &c0) != nil || c0.ID != cs[0].ID {
		t.Fatalf("cluster %d %s", r.Code, r.Value)
	}
	if r := q(chainapi.PathCluster, append(make([]byte, 31), 1)); r.Code != chainapi.QueryNotFound {
		t.Fatal(r.Code)
	}
	if r := q(chainapi.PathCluster, []byte{1}); r.Code != chainapi.QueryBadInput {
		t.Fatal(r.Code)
	}

	contractQueries(t, ta, alice, q, cs[0].ID)

	// Deregistration: refused while the worker is a gatekeeper; once the
	// admin removed it, it takes the worker out of cluster 0, and the
	// queries show it.
	for i, x := range []struct {
		call tx.Call
		want uint32
	}{
		{registry.DeregisterWorkerCall(worker.Public()), state.CodeDeregisterGatekeeper},
		{admin.SudoCall(gatekeeper.RemoveCall(worker.Public())), state.CodeOK},
		{registry.DeregisterWorkerCall(worker.Public()), state.CodeOK},
	} {
		if r := ta.block(ta.sign(alice, uint64(4+i), x.call)).TxResults[0]; r.Code != x.want {
			t.Fatalf("step %d: %s (%s), want %s", i, state.CodeName(r.Code), r.Log, state.CodeName(x.want))
		}
	}
	ws, c0 = nil, chainapi.ClusterInfo{}
	if r := q(chainapi.PathWorkers, pubBytes(worker.Public())); r.Code != 0 || json.Unmarshal(r.Value, &ws) != nil || len(ws) != 1 || !ws[0].Deregistered || len(ws[0].Clusters) != 0 {
		t.Fatalf("deregistered worker %d %s", r.Code, r.Value)
	}
	if r := q(chainapi.PathCluster, make([]byte, 32)); r.Code != 0 || json.Unmarshal(r.Value, &c0) != nil || len(c0.Workers) != 0 || len(c0.Keyed) != 0 {
		t.Fatalf("cluster 0 after the deregistration %d %s", r.Code, r.Value)
	}
}

func pubBytes(k keys.PublicKey) []byte { return k[:] }

// contractQueries: Alice uploads flipper to cluster 0 (id clusterHex) and
// instantiates it; the contract and code queries show them.
func contractQueries(t *testing.T, ta *testApp, alice *keys.Pair, q func(string, []byte) *abci.ResponseQuery, clusterHex string) {
	flipper := testcontracts.Wasm("flipper")
	hash := phat.CodeHash(flipper)
	res := ta.block(ta.sign(alice, 2, phat.UploadCodeCall(phat.UploadArgs{Kind: msg.CodeKindInk, Code: flipper})),
		ta.sign(alice, 3, phat.InstantiateCall(phat.InstantiateArgs{CodeHash: hash, Salt: []byte("x"), GasLimit: 1_000_000})))
	for _, r := range res.TxResults {
		if r.Code != state.CodeOK {
			t.Fatalf("%s: %s", state.CodeName(r.Code), r.Log)
		}
	}
	id := msg.ContractID(alice.Public(), hash, [32]byte{}, []byte("x"))
	want := chainapi.ContractInfo{ID: "0x" + hex.EncodeToString(id[:]), Cluster: clusterHex, Deployer: keys.EncodeSS58(alice.Public(), 42),
		CodeHash: "0x" + hex.EncodeToString(hash[:]), State: "pending"}
	for _, data := range [][]byte{nil, make([]byte, 32)} {
		var cts []chainapi.ContractInfo
		if r := q(chainapi.PathContracts, data); r.Code != 0 || json.Unmarshal(r.Value, &cts) != nil || len(cts) != 1 || cts[0] != want {
			t.Fatalf("contracts %d %s", r.Code, r.Value)
		}
	}
	var ct chainapi.ContractInfo
	if r := q(chainapi.PathContract, id[:]); r.Code != 0 || json.Unmarshal(r.Value, &ct) != nil || ct != want {
		t.Fatalf("contract %d %s", r.Code, r.Value)
	}
	var ci chainapi.CodeInfo
	if r := q(chainapi.PathCode, hash[:]); r.Code != 0 || json.Unmarshal(r.Value, &ci) != nil || ci != (chainapi.CodeInfo{Hash: want.CodeHash, Kind: "ink", Size: len(flipper)}) {
		t.Fatalf("code %d %s", r.Code, r.Value)
	}
	for _, x := range []struct {
		path string
		data []byte
		code uint32
	}{
		{chainapi.PathContracts, append(make([]byte, 31), 1), chainapi.QueryNotFound},
		{chainapi.PathContracts, []byte{1}, chainapi.QueryBadInput},
		{chainapi.PathContract, make([]byte, 32), chainapi.QueryNotFound},
		{chainapi.PathContract, nil, chainapi.QueryBadInput},
		{chainapi.PathCode, make([]byte, 32), chainapi.QueryNotFound},
		{chainapi.PathCode, []byte{1}, chainapi.QueryBadInput},
	} {
		if r := q(x.path, x.data); r.Code != x.code {
			t.Errorf("%s %x: code %d, want %d", x.path, x.data, r.Code, x.code)
		}
	}
}
