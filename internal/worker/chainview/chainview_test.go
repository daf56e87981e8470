package chainview_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"slices"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tx"
	"github.com/cella-network/cella/internal/worker"
	"github.com/cella-network/cella/internal/worker/chainview"
)

// measurement is what the test verifier says every dev quote attests.
var measurement = []byte("chainview-test-measurement")

// anyDev accepts every dev quote that is exactly its report data.
type anyDev struct{}

func (anyDev) Verify(kind string, quote, _ []byte, rd [64]byte, _ int64) ([]byte, error) {
	if kind != string(tee.KindDev) || !bytes.Equal(quote, rd[:]) {
		return nil, errors.New("test verifier: not a test quote")
	}
	return measurement, nil
}

// chain is a dev chain with the bootstrap on, run block by block.
type chain struct {
	t       *testing.T
	m       *state.Machine
	st      *state.MemStore
	height  int64
	appHash [32]byte
}

const blockTime int64 = 1_725_263_032 * 1_000_000_000

type hashes struct{ upTo int64 }

func blockHash(h int64) [32]byte {
	return hashing.Blake2b256([]byte("cv"), []byte{byte(h), byte(h >> 8), byte(h >> 16)})
}

func (o hashes) BlockHash(h int64) ([32]byte, bool) {
	if h < 1 || h > o.upTo {
		return [32]byte{}, false
	}
	return blockHash(h), true
}

func newChain(t *testing.T) *chain {
	g := state.DevGenesis("cella-cv", []state.Validator{{PubKey: [32]byte{0xaa}, Power: 10}})
	g.App.Registry.AllowMeasurement(registry.MeasurementHash(measurement))
	m, err := modules.NewMachine(g, state.WithAttestationVerifier(anyDev{}))
	if err != nil {
		t.Fatal(err)
	}
	ws, h, err := m.InitChain()
	if err != nil {
		t.Fatal(err)
	}
	st := state.NewMemStore()
	st.Apply(ws)
	c := &chain{t: t, m: m, st: st, appHash: h}
	c.block()
	return c
}

func (c *chain) block(txs ...[]byte) *state.BlockResult {
	c.t.Helper()
	hd := state.Header{Height: c.height + 1, AppVersion: state.AppVersion1, TimeUnixNano: blockTime + c.height*1e9, BlockHashes: hashes{upTo: c.height}}
	res, err := c.m.ExecuteBlock(c.st, c.appHash, hd, txs)
	if err != nil {
		c.t.Fatal(err)
	}
	for i, r := range res.TxResults {
		if r.Code != state.CodeOK {
			c.t.Fatalf("tx %d: %s (%s)", i, state.CodeName(r.Code), r.Log)
		}
	}
	c.st.Apply(res.WriteSet)
	c.height++
	c.appHash = res.AppHash
	return res
}

func (c *chain) send(from *keys.Pair, call tx.Call) {
	c.t.Helper()
	a, err := state.GetAccount(c.st, from.Public())
	if err != nil {
		c.t.Fatal(err)
	}
	b := tx.Body{Version: tx.Version1, Scheme: tx.Sr25519, Signer: from.Public(), Genesis: c.m.GenesisHash(),
		Nonce: a.Nonce, FeeLimit: scale.U128From(state.Unit), Call: call}
	c.block(tx.Sign(b, from).Encode())
}

func (c *chain) register(op, id *keys.Pair) msg.RegistrationInfo {
	c.t.Helper()
	info := msg.RegistrationInfo{
		IdentityPublicKey: id.Public(), EcdhPublicKey: [32]byte{0xec, id.Public()[0]}, Operator: op.Public(),
		GenesisHash: c.m.GenesisHash(), PRuntimeVersion: msg.PRuntimeVersion{Minor: 1}, MaxAppVersion: state.AppVersion1,
		RecentBlock: msg.BlockRef{Height: uint64(c.height), Hash: blockHash(c.height)}, TeeKind: string(tee.KindDev),
	}
	rd := info.ReportData()
	c.send(op, registry.RegisterWorkerCall(info, msg.Attestation{Kind: string(tee.KindDev), Quote: rd[:]}))
	return info
}

// egress submits a worker-origin message at sequence seq.
func (c *chain) egress(op, w *keys.Pair, seq uint64, topic string, payload scale.Encodable) {
	c.t.Helper()
	m := msg.Message{Origin: msg.OriginWorker(w.Public()), Topic: []byte(topic), Payload: scale.Encode(payload)}
	c.send(op, mq.SubmitCall(msg.Sign(w, m, seq)))
}

func pair(t *testing.T, uri string) *keys.Pair {
	p, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sortKeys(ks ...keys.PublicKey) []keys.PublicKey {
	slices.SortFunc(ks, func(a, b keys.PublicKey) int { return bytes.Compare(a[:], b[:]) })
	return ks
}

// TestViewOfRealState builds state with the chain's own calls (the dev
// bootstrap, admin.sudo, mq.submit) and checks every answer of the view
// at each step.
func TestViewOfRealState(t *testing.T) {
	c := newChain(t)
	alice := pair(t, "//Alice")
	w1, w2 := pair(t, "//CvWorker1"), pair(t, "//CvWorker2")
	v := func() worker.ChainView { return chainview.New(c.st) }

	// Fresh chain: nothing but the registry's genesis config.
	if gks, err := v().Gatekeepers(); err != nil || len(gks) != 0 {
		t.Fatalf("gatekeepers %v %v", gks, err)
	}
	if _, ok, err := v().MasterKey(); err != nil || ok {
		t.Fatalf("master %v %v", ok, err)
	}
	if ids, err := v().ClusterIDs(); err != nil || len(ids) != 0 {
		t.Fatalf("clusters %v %v", ids, err)
	}
	ok, root, err := v().DevAttestation()
	if err != nil || !ok || root != state.DevAttestationRoot() {
		t.Fatalf("dev attestation %v %x %v", ok, root, err)
	}
	meas, err := v().AllowedMeasurements()
	if err != nil || !slices.Contains(meas, registry.MeasurementHash(measurement)) {
		t.Fatalf("measurements %x %v", meas, err)
	}

	// First worker: the dev bootstrap makes it gatekeeper and cluster 0.
	info1 := c.register(alice, w1)
	info2 := c.register(alice, w2)
	for _, w := range []struct {
		p    *keys.Pair
		info msg.RegistrationInfo
	}{{w1, info1}, {w2, info2}} {
		rec, ok, err := v().Worker(w.p.Public())
		if err != nil || !ok || rec.Info.IdentityPublicKey != w.info.IdentityPublicKey || rec.Info.EcdhPublicKey != w.info.EcdhPublicKey || rec.Attestation.Kind != "dev" {
			t.Fatalf("worker %+v %v %v", rec, ok, err)
		}
	}
	if _, ok, err := v().Worker(alice.Public()); err != nil || ok {
		t.Fatalf("unregistered worker: %v %v", ok, err)
	}
	gks, err := v().Gatekeepers()
	if err != nil || !slices.Equal(gks, []worker.Gatekeeper{{Identity: w1.Public()}}) {
		t.Fatalf("gatekeepers %+v %v", gks, err)
	}
	cid0 := phat.ClusterID(0)
	cl, ok, err := v().Cluster(cid0)
	if err != nil || !ok || cl.ID != cid0 || !slices.Equal(cl.Workers, []keys.PublicKey{w1.Public()}) || cl.HasPubkey || len(cl.Keyed) != 0 || cl.MaxGas != phat.DefaultMaxGas {
		t.Fatalf("cluster 0 %+v %v %v", cl, ok, err)
	}

	// The admin adds w2 as a gatekeeper and creates cluster 1 of both.
	c.send(alice, admin.SudoCall(gatekeeper.AddCall(w2.Public())))
	c.send(alice, admin.SudoCall(phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Workers: []keys.PublicKey{w2.Public(), w1.Public()}})))
	gks, err = v().Gatekeepers()
	want := []worker.Gatekeeper{{Identity: w1.Public()}, {Identity: w2.Public()}}
	slices.SortFunc(want, func(a, b worker.Gatekeeper) int { return bytes.Compare(a.Identity[:], b.Identity[:]) })
	if err != nil || !slices.Equal(gks, want) {
		t.Fatalf("gatekeepers %+v %v", gks, err)
	}
	ids, err := v().ClusterIDs()
	if err != nil || !slices.Equal(ids, [][32]byte{cid0, phat.ClusterID(1)}) {
		t.Fatalf("cluster ids %x %v", ids, err)
	}
	cl, ok, err = v().Cluster(phat.ClusterID(1))
	if err != nil || !ok || !slices.Equal(cl.Workers, sortKeys(w1.Public(), w2.Public())) {
		t.Fatalf("cluster 1 %+v %v %v", cl, ok, err)
	}
	if _, ok, err := v().Cluster(phat.ClusterID(7)); err != nil || ok {
		t.Fatalf("missing cluster %v %v", ok, err)
	}

	// w1 announces the master key (becomes active), then keys cluster 1.
	master := keys.PublicKey{0x4d, 0x4b}
	c.egress(alice, w1, 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Epoch: 0, Pubkey: master})
	mr, ok, err := v().MasterKey()
	if err != nil || !ok || mr != (worker.MasterRecord{Epoch: 0, Pubkey: master}) {
		t.Fatalf("master %+v %v %v", mr, ok, err)
	}
	gks, _ = v().Gatekeepers()
	for _, g := range gks {
		if g.Active != (g.Identity == w1.Public()) {
			t.Fatalf("active flags %+v", gks)
		}
	}
	ck := keys.PublicKey{0xc1}
	c.egress(alice, w1, 1, msg.TopicClusterKeys, &msg.ClusterKeyShares{Cluster: phat.ClusterID(1), Pubkey: ck,
		Shares: []msg.ClusterKeyShare{{Worker: w2.Public(), Key: fakeShare}, {Worker: w1.Public(), Key: fakeShare}}})
	cl, ok, err = v().Cluster(phat.ClusterID(1))
	if err != nil || !ok || !cl.HasPubkey || cl.Pubkey != ck || cl.Epoch != 0 || !slices.Equal(cl.Keyed, sortKeys(w1.Public(), w2.Public())) {
		t.Fatalf("keyed cluster 1 %+v %v %v", cl, ok, err)
	}
}

// TestCorruptState: every getter fails (wrapping state.ErrCorruptState)
// on a record that does not decode or breaks the chain's sort order.
func TestCorruptState(t *testing.T) {
	k1, k2 := keys.PublicKey{1}, keys.PublicKey{2}
	unsortedSet := scale.NewWriter(0)
	scale.WriteVec(unsortedSet, []keys.PublicKey{k2, k1}, func(w *scale.Writer, k keys.PublicKey) { w.Raw(k[:]); w.Bool(false) })
	unsortedIDs := scale.NewWriter(0)
	scale.WriteVec(unsortedIDs, [][32]byte{{2}, {1}}, func(w *scale.Writer, k [32]byte) { w.Raw(k[:]) })
	unsortedCluster := scale.Encode(&phat.Cluster{Workers: []keys.PublicKey{k2, k1}})
	unsortedKeyed := scale.Encode(&phat.Cluster{Workers: []keys.PublicKey{k1, k2}, Keyed: []keys.PublicKey{k1, k1}})
	cases := []struct {
		name string
		key  []byte
		val  []byte
		call func(worker.ChainView) error
	}{
		{"gatekeepers truncated", gatekeeper.KeySet, []byte{4, 1}, func(v worker.ChainView) error { _, err := v.Gatekeepers(); return err }},
		{"gatekeepers unsorted", gatekeeper.KeySet, unsortedSet.Bytes(), func(v worker.ChainView) error { _, err := v.Gatekeepers(); return err }},
		{"master trailing", gatekeeper.KeyMaster, append(scale.Encode(&gatekeeper.MasterKey{}), 9), func(v worker.ChainView) error { _, _, err := v.MasterKey(); return err }},
		{"cluster ids truncated", phat.KeyClusters, []byte{8, 1}, func(v worker.ChainView) error { _, err := v.ClusterIDs(); return err }},
		{"cluster ids unsorted", phat.KeyClusters, unsortedIDs.Bytes(), func(v worker.ChainView) error { _, err := v.ClusterIDs(); return err }},
		{"cluster bad option", phat.ClusterKey([32]byte{}), append(make([]byte, 33), 0, 7), func(v worker.ChainView) error { _, _, err := v.Cluster([32]byte{}); return err }},
		{"cluster workers unsorted", phat.ClusterKey([32]byte{}), unsortedCluster, func(v worker.ChainView) error { _, _, err := v.Cluster([32]byte{}); return err }},
		{"cluster keyed duplicated", phat.ClusterKey([32]byte{}), unsortedKeyed, func(v worker.ChainView) error { _, _, err := v.Cluster([32]byte{}); return err }},
		{"worker garbage", registry.WorkerKey(k1), []byte{1, 2, 3}, func(v worker.ChainView) error { _, _, err := v.Worker(k1); return err }},
		{"measurements truncated", registry.KeyMeasurements, []byte{4}, func(v worker.ChainView) error { _, err := v.AllowedMeasurements(); return err }},
		{"config short", registry.KeyConfig, []byte{1, 2}, func(v worker.ChainView) error { _, _, err := v.DevAttestation(); return err }},
		{"liveness short", registry.KeyLiveness, []byte{1, 2}, func(v worker.ChainView) error { _, err := v.Liveness(); return err }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			st := state.NewMemStore()
			st.Apply(state.WriteSet{{Key: tc.key, Value: tc.val}})
			if err := tc.call(chainview.New(st)); !errors.Is(err, state.ErrCorruptState) {
				t.Fatalf("got %v, want corrupt state", err)
			}
		})
	}
}

// TestDevAttestationOff: a chain that refuses dev quotes answers false and
// no root.
func TestDevAttestationOff(t *testing.T) {
	st := state.NewMemStore()
	st.Apply(state.WriteSet{{Key: registry.KeyConfig, Value: scale.Encode(&registry.Config{DevAttestationRoot: [32]byte{9}})}})
	ok, root, err := chainview.New(st).DevAttestation()
	if err != nil || ok || root != (keys.PublicKey{}) {
		t.Fatalf("%v %x %v", ok, root, err)
	}
}

// fakeShare is a well-formed envelope (the chain cannot open it).
var fakeShare = cipher.EncryptedKey{EncryptedKey: make([]byte, 48)}

// TestCodeOfRealState: code uploaded with phat.upload_code is found in its
// cluster, with its kind, and nowhere else.
func TestCodeOfRealState(t *testing.T) {
	c := newChain(t)
	alice := pair(t, "//Alice")
	c.register(alice, pair(t, "//CvWorker1")) // dev bootstrap: cluster 0
	cl := [32]byte{}
	code := testcontracts.Wasm("flipper")
	c.send(alice, phat.UploadCodeCall(phat.UploadArgs{Cluster: cl, Kind: msg.CodeKindInk, Code: code}))
	v := chainview.New(c.st)
	kind, got, ok, err := v.Code(cl, phat.CodeHash(code))
	if err != nil || !ok || kind != msg.CodeKindInk || !bytes.Equal(got, code) {
		t.Fatalf("code: kind %d ok %v err %v (%d bytes)", kind, ok, err, len(got))
	}
	if _, _, ok, err := v.Code([32]byte{1}, phat.CodeHash(code)); ok || err != nil {
		t.Fatalf("code found in another cluster (%v)", err)
	}
	if _, _, ok, err := v.Code(cl, [32]byte{9}); ok || err != nil {
		t.Fatalf("unknown code found (%v)", err)
	}
}

func TestCorruptCode(t *testing.T) {
	cl, h := [32]byte{}, [32]byte{7}
	for _, tc := range []struct {
		name string
		ws   state.WriteSet
	}{
		{"availability without code", state.WriteSet{{Key: phat.ClusterCodeKey(cl, h), Value: []byte{0}}}},
		{"bad kind byte", state.WriteSet{{Key: phat.ClusterCodeKey(cl, h), Value: []byte{7}}}},
		{"kinds disagree", state.WriteSet{{Key: phat.ClusterCodeKey(cl, h), Value: []byte{0}},
			{Key: phat.CodeKey(h), Value: scale.Encode(&phat.Code{Kind: 1, Code: []byte{1}})}}},
		{"code garbage", state.WriteSet{{Key: phat.ClusterCodeKey(cl, h), Value: []byte{0}}, {Key: phat.CodeKey(h), Value: []byte{0, 9}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := state.NewMemStore()
			st.Apply(tc.ws)
			if _, _, _, err := chainview.New(st).Code(cl, h); !errors.Is(err, state.ErrCorruptState) {
				t.Fatalf("got %v, want corrupt state", err)
			}
		})
	}
}

// TestWorkerLiveness: the view reads the liveness parameters (default when
// unset) and a worker's last-seen height (the later of its registration
// and its last heartbeat) and deregistration; corrupt records fail.
func TestWorkerLiveness(t *testing.T) {
	k1, k2 := keys.PublicKey{1}, keys.PublicKey{2}
	le := func(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }
	rec := scale.Encode(&msg.WorkerRecord{Info: msg.RegistrationInfo{IdentityPublicKey: k1}, RegisteredAt: 5})
	st := state.NewMemStore()
	st.Apply(state.WriteSet{{Key: registry.WorkerKey(k1), Value: rec}})
	v := chainview.New(st)
	if l, err := v.Liveness(); err != nil || l != registry.DefaultLiveness {
		t.Fatalf("liveness %+v %v, want the default", l, err)
	}
	if lv, err := v.WorkerLiveness(k1); err != nil || lv.LastSeen != 5 || lv.LastHeartbeat != 0 || lv.Deregistered {
		t.Fatalf("registered only: %+v %v", lv, err)
	}
	want := registry.Liveness{HeartbeatInterval: 4, StaleFactor: 2}
	st.Apply(state.WriteSet{{Key: registry.LastSeenKey(k1), Value: le(9)}, {Key: registry.DeregisteredKey(k1), Value: le(12)},
		{Key: registry.KeyLiveness, Value: scale.Encode(&want)}})
	if lv, err := v.WorkerLiveness(k1); err != nil || lv.LastSeen != 9 || lv.LastHeartbeat != 9 || !lv.Deregistered || lv.DeregisteredAt != 12 {
		t.Fatalf("after a heartbeat and a deregistration: %+v %v", lv, err)
	}
	if l, err := v.Liveness(); err != nil || l != want {
		t.Fatalf("liveness %+v %v, want %+v", l, err, want)
	}
	if lv, err := v.WorkerLiveness(k2); err != nil || lv != (registry.WorkerLiveness{}) {
		t.Fatalf("unknown worker: %+v %v", lv, err)
	}
	st.Apply(state.WriteSet{{Key: registry.LastSeenKey(k1), Value: []byte{1, 2, 3}}})
	if _, err := v.WorkerLiveness(k1); !errors.Is(err, state.ErrCorruptState) {
		t.Fatalf("corrupt last seen: %v", err)
	}
}

// TestRotationView reads the rotation records, and refuses corrupt ones.
func TestRotationView(t *testing.T) {
	st := state.NewMemStore()
	v := chainview.New(st).(worker.RotationView)
	if _, ok, err := v.Rotation(); ok || err != nil {
		t.Fatalf("rotation on an empty chain: %v %v", ok, err)
	}
	if g, err := v.KeyGrace(); g != gatekeeper.DefaultKeyGrace || err != nil {
		t.Fatalf("grace %d %v", g, err)
	}
	if es, err := v.ClusterEpochs([32]byte{}); es != nil || err != nil {
		t.Fatalf("epochs %v %v", es, err)
	}
	if es, err := v.MasterEpochs(); es != nil || err != nil {
		t.Fatalf("master epochs %v %v", es, err)
	}
	mk := gatekeeper.MasterKey{Epoch: 1, Pubkey: keys.PublicKey{4}, History: []gatekeeper.MasterKeyEpoch{{Epoch: 0, Pubkey: keys.PublicKey{3}}, {Epoch: 1, Pubkey: keys.PublicKey{4}, Height: 8}}}
	st.Apply(state.WriteSet{{Key: gatekeeper.KeyMaster, Value: scale.Encode(&mk)}})
	if es, err := v.MasterEpochs(); err != nil || len(es) != 2 || es[1] != (worker.MasterRecord{Epoch: 1, Pubkey: keys.PublicKey{4}}) {
		t.Fatalf("master epochs %+v %v", es, err)
	}
	epochs := scale.NewWriter(0)
	scale.WriteVec(epochs, []phat.ClusterEpoch{{Epoch: 0, Pubkey: keys.PublicKey{1}}, {Epoch: 1, Pubkey: keys.PublicKey{2}, Height: 9, Grace: 3}},
		func(w *scale.Writer, e phat.ClusterEpoch) {
			w.U32(e.Epoch)
			w.Raw(e.Pubkey[:])
			w.U64(e.Height)
			w.U32(e.Grace)
		})
	st.Apply(state.WriteSet{
		{Key: gatekeeper.KeyRotation, Value: scale.Encode(&gatekeeper.Rotation{Epoch: 3, Generator: keys.PublicKey{7}, Height: 5})},
		{Key: gatekeeper.KeyGraceKey, Value: []byte{12, 0, 0, 0}},
		{Key: phat.ClusterEpochsKey([32]byte{}), Value: epochs.Bytes()},
	})
	if r, ok, err := v.Rotation(); !ok || err != nil || r != (worker.Rotation{Epoch: 3, Generator: keys.PublicKey{7}}) {
		t.Fatalf("rotation %+v %v %v", r, ok, err)
	}
	if g, err := v.KeyGrace(); g != 12 || err != nil {
		t.Fatalf("grace %d %v", g, err)
	}
	if es, err := v.ClusterEpochs([32]byte{}); err != nil || len(es) != 2 || es[1] != (worker.ClusterEpoch{Epoch: 1, Pubkey: keys.PublicKey{2}, Height: 9, Grace: 3}) {
		t.Fatalf("epochs %+v %v", es, err)
	}
	st.Apply(state.WriteSet{
		{Key: gatekeeper.KeyRotation, Value: []byte{1, 2}},
		{Key: gatekeeper.KeyGraceKey, Value: []byte{1}},
		{Key: phat.ClusterEpochsKey([32]byte{}), Value: []byte{4, 1}},
	})
	if _, _, err := v.Rotation(); !errors.Is(err, state.ErrCorruptState) {
		t.Fatalf("corrupt rotation: %v", err)
	}
	if _, err := v.KeyGrace(); !errors.Is(err, state.ErrCorruptState) {
		t.Fatalf("corrupt grace: %v", err)
	}
	if _, err := v.ClusterEpochs([32]byte{}); !errors.Is(err, state.ErrCorruptState) {
		t.Fatalf("corrupt epochs: %v", err)
	}
}
