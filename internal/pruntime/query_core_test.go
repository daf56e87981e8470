package pruntime

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/synth"
	"github.com/cella-network/cella/internal/tee/dev"
	"github.com/cella-network/cella/internal/worker"
)

// codeView is keyWorld's chain view with flipper's code uploaded, and the
// cluster's command gas cap in maxGas.
type codeView struct {
	staticView
	hash   [32]byte
	code   []byte
	maxGas *atomic.Uint64
}

func (v codeView) Cluster(id [32]byte) (worker.Cluster, bool, error) {
	c, ok, err := v.staticView.Cluster(id)
	c.MaxGas = v.maxGas.Load()
	return c, ok, err
}

func (v codeView) Code(_, hash [32]byte) (uint8, []byte, bool, error) {
	if hash != v.hash {
		return 0, nil, false, nil
	}
	return msg.CodeKindInk, v.code, true, nil
}

// TestQueryCoreContracts queries a contract the worker core instantiated
// from a verified phat/instantiate, through the runtime's own executor
// (no QueryExecutor configured): the query reads the core's cluster state.
func TestQueryCoreContracts(t *testing.T) {
	r, kw, view, contract, c := flipperRuntime(t)
	defer r.Close()
	if in := r.Info(); len(in.Clusters) != 1 || in.Clusters[0].Contracts != 1 {
		t.Fatalf("clusters %+v", in.Clusters)
	}

	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	if pi := PhactoryInfo(r.Info()); pi.System.NumberOfClusters != 1 || pi.System.NumberOfContracts != 1 {
		t.Fatalf("GetInfo system %v", pi.System)
	}
	qc := newQClient(t, r.Info().EcdhPublicKey, 1000)
	q := qc.query(contract, inkMessage(selGet))
	er := execResultOf(t, qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q))))
	if er.Err != nil || !bytes.Equal(er.Result.Data, []byte{0, 1}) {
		t.Fatalf("get: %+v", er)
	}
	// flip in a query changes nothing.
	q = qc.query(contract, inkMessage(selFlip))
	execResultOf(t, qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q))))
	q = qc.query(contract, inkMessage(selGet))
	if er := execResultOf(t, qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q)))); !bytes.Equal(er.Result.Data, []byte{0, 1}) {
		t.Fatalf("get after flip: %+v", er)
	}
	// A transfer without funds fails as pallet-contracts' TransferFailed;
	// with a deposit it is paid from it.
	for _, dep := range []uint64{0, 5} {
		q = qc.query(contract, phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{
			Payload: selGet, Transfer: scale.U128From(5), Deposit: scale.U128From(dep)}})
		er := execResultOf(t, qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q))))
		want := &phatwire.DispatchError{Kind: phatwire.DispatchModule, Module: phatwire.ModuleError{Index: ContractsPalletIndex, Error: [4]byte{4}}}
		if dep > 0 {
			want = nil
		}
		if (er.Err == nil) != (want == nil) || (want != nil && *er.Err != *want) {
			t.Fatalf("transfer with deposit %d: %+v", dep, er.Err)
		}
	}
	// A constructor dry run addressed to the cluster.
	q = qc.query(kw.cluster, phatwire.Query{Kind: phatwire.QueryInkInstantiate, Instantiate: phatwire.InkInstantiateQuery{
		CodeHash: view.hash, Salt: []byte{9}, InstantiateData: append(append([]byte{}, selFlipperNew...), 0)}})
	resp := qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q)))
	if resp.Err != nil {
		t.Fatal(resp.Err)
	}
	if ir, err := phatwire.DecodeContractInstantiateResult(resp.Payload); err != nil || ir.Err != nil {
		t.Fatalf("instantiate: %+v %v", ir, err)
	}
	// Queries run while blocks are applied (run with -race: the query
	// lock keeps Sync off the state a query reads).
	done := make(chan error)
	go func() {
		for i := 0; i < 5; i++ {
			q := qc.query(contract, inkMessage(selGet))
			req := qc.seal(t, q)
			sig, err := prpcpb.ToSignature(req.Signature)
			if err != nil {
				done <- err
				return
			}
			ans, err := r.Query(t.Context(), req.EncodedEncryptedData, sig)
			if err != nil {
				done <- err
				return
			}
			resp, err := phatwire.OpenResponse(qc.ecdh, qc.worker, q.Head, ans.EncodedEncryptedData)
			if err != nil || resp.Err != nil {
				done <- fmt.Errorf("%v %+v", err, resp)
				return
			}
		}
		done <- nil
	}()
	addBlocks(t, c, 4)
	syncTo(t, r, c, 2)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	// Unknown contract.
	q = qc.query([32]byte{0x77}, inkMessage(selGet))
	if resp := qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q))); resp.Err == nil || resp.Err.Kind != phatwire.QueryErrRuntimeError {
		t.Fatalf("unknown contract: %+v", resp)
	}
}

// TestEstimatingQuery: an estimating InkMessage query runs the message as
// a command would — with the cluster's command gas cap rather than the
// query cap, writing nothing — and answers the gas it needs.
func TestEstimatingQuery(t *testing.T) {
	r, _, view, contract, _ := flipperRuntime(t)
	defer r.Close()
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	qc := newQClient(t, r.Info().EcdhPublicKey, 1000)
	ask := func(estimating bool, sel []byte) *phatwire.ContractExecResult {
		t.Helper()
		q := qc.query(contract, phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{Payload: sel, Estimating: estimating}})
		return execResultOf(t, qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q))))
	}
	est := ask(true, selFlip)
	if est.Err != nil || est.GasRequired.RefTime == 0 || est.GasConsumed != est.GasRequired {
		t.Fatalf("estimating flip: %+v", est)
	}
	if er := ask(false, selGet); !bytes.Equal(er.Result.Data, []byte{0, 1}) {
		t.Fatalf("get after an estimating flip: %+v", er)
	}
	// Below the flip's cost, the command cap stops the estimate (out of
	// gas) where a plain query, under the query cap, runs.
	view.maxGas.Store(est.GasRequired.RefTime - 1)
	outOfGas := &phatwire.DispatchError{Kind: phatwire.DispatchModule, Module: phatwire.ModuleError{Index: ContractsPalletIndex, Error: [4]byte{2}}}
	if er := ask(true, selFlip); er.Err == nil || *er.Err != *outOfGas {
		t.Fatalf("estimating flip under a cap of %d: %+v", est.GasRequired.RefTime-1, er)
	}
	if er := ask(false, selFlip); er.Err != nil {
		t.Fatalf("flip query: %+v", er.Err)
	}
	view.maxGas.Store(est.GasRequired.RefTime)
	if er := ask(true, selFlip); er.Err != nil || er.GasRequired != est.GasRequired {
		t.Fatalf("estimating flip at its cost: %+v", er)
	}
}

// flipperRuntime opens a keyed pRuntime whose cluster (kw.cluster) runs a
// flipper that Alice instantiated at block 5 (salt 1, command id {1}),
// with 8 blocks made and 4 synced; the caller closes it.
func flipperRuntime(t *testing.T) (*Runtime, *keyWorld, codeView, [32]byte, *synth.Chain) {
	t.Helper()
	return coreRuntime(t, "flipper", append(append([]byte{}, selFlipperNew...), 1))
}

// coreRuntime is a runtime whose core instantiated the named test contract
// with the constructor input ctor, deployed by //Alice.
func coreRuntime(t *testing.T, name string, ctor []byte) (*Runtime, *keyWorld, codeView, [32]byte, *synth.Chain) {
	t.Helper()
	kw := newKeyWorld()
	code := testcontracts.Wasm(name)
	view := codeView{staticView{kw}, engine.CodeHash(code), code, new(atomic.Uint64)}
	view.maxGas.Store(phat.DefaultMaxGas)
	dir := t.TempDir()
	p, err := dev.New(dev.Config{BuildID: DevBuildID(), SealDir: dir, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	r, err := Open(Config{DataDir: dir, TEE: p, CheckpointInterval: 100, Log: quietLog(),
		ChainView: func(state.Store) worker.ChainView { return view }, Entropy: &fixedEntropy{}})
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := keys.FromURI("//Alice")
	contract := msg.ContractID(alice.Public(), view.hash, kw.cluster, []byte{1})
	inst := msg.Instantiate{Cluster: kw.cluster, Contract: contract, Deployer: alice.Public(), CodeHash: view.hash,
		Data: ctor, Salt: []byte{1}, GasLimit: 1e11, CommandID: [32]byte{1}}
	c, err := synth.New(synth.Config{Messages: func(h int64) []msg.Message {
		switch h {
		case 2: // the worker registers
			rec := msg.WorkerRecord{Info: msg.RegistrationInfo{IdentityPublicKey: kw.id, TeeKind: "dev"}, RegisteredAt: uint64(h)}
			return []msg.Message{{Origin: msg.OriginModule(msg.RegistryModuleName), Topic: []byte(msg.TopicWorkerRegistered), Payload: scale.Encode(&rec)}}
		case 3: // and receives the cluster key
			ek, err := cipher.EncryptKeyTo(kw.m, cipher.NewIVGenerator(kw.m, 0), []byte(cipher.ClusterKeySharingSalt), kw.ecdh, kw.ck.SecretBytes(), uint32(h))
			if err != nil {
				t.Fatal(err)
			}
			sh := msg.ClusterKeyShares{Cluster: kw.cluster, Pubkey: kw.ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: kw.id, Key: *ek}}}
			return []msg.Message{{Origin: msg.OriginWorker(kw.m.Public()), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&sh)}}
		case 5:
			return []msg.Message{{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(msg.TopicPhatInstantiate), Payload: scale.Encode(&inst)}}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	initKeys(t, r, kw, c)
	addBlocks(t, c, 8)
	syncTo(t, r, c, 4)
	return r, kw, view, contract, c
}

// TestQueryCorePinkContext: a query on the core's contracts runs with the
// cluster's context, so pink's derive_sr25519_key works (it used to trap
// with KeySeedMissing: the query's ExecEnv carried no cluster key) and
// derives from the cluster key as Phala does.
func TestQueryCorePinkContext(t *testing.T) {
	url := "https://example.com/price"
	ctor := scale.NewWriter(64)
	ctor.Raw([]byte{0x9b, 0xae, 0x9d, 0x5e})
	ctor.String(url)
	r, kw, _, contract, _ := coreRuntime(t, "pricefeed", ctor.Bytes())
	defer r.Close()
	srv := httptest.NewServer(PublicHandler(r))
	defer srv.Close()
	qc := newQClient(t, r.Info().EcdhPublicKey, 1000)
	q := qc.query(contract, inkMessage([]byte{0xa2, 0xf4, 0x48, 0xa4})) // pubkey()
	er := execResultOf(t, qc.open(t, q, prpcQuery(t, srv.URL, qc.seal(t, q))))
	want := cipher.ContractDerivedKey(kw.ck, contract, []byte("pricefeed")).Public()
	if er.Err != nil || !bytes.Equal(er.Result.Data, append([]byte{0}, want[:]...)) {
		t.Fatalf("pubkey(): %+v, want Ok(%x)", er, want)
	}
}
