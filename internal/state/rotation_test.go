package state_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
)

// TestMasterKeyRotation drives the chain side of a rotation: the call's
// refusals, the generator's announcement, the other gatekeeper's share and
// ready, the cluster's re-keying and its contract keys of the new epoch.
func TestMasterKeyRotation(t *testing.T) {
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	w1, w2, w3 := ws[0], ws[1], ws[2]
	// Order the gatekeepers so that g1 is the first by identity.
	g1, g2 := w1, w2
	if p1, p2 := g1.Public(), g2.Public(); bytes.Compare(p1[:], p2[:]) > 0 {
		g1, g2 = g2, g1
	}
	submit := func(want uint32, s msg.SignedMessage) *state.BlockResult {
		t.Helper()
		return c.do(want, c.submit(bob, c.account(bob.Public()).Nonce, s))
	}
	seq := map[*keys.Pair]uint64{}
	gk := func(want uint32, w *keys.Pair, topic string, p scale.Encodable) *state.BlockResult {
		t.Helper()
		s := gkMsg(w, seq[w], topic, p)
		seq[w]++
		return submit(want, s)
	}

	// Static and origin checks of the calls.
	if err := gatekeeper.Module().Methods[gatekeeper.MethodRotateMasterKey].Check([]byte{1}); err == nil {
		t.Fatal("rotate_master_key took arguments")
	}
	if err := gatekeeper.Module().Methods[gatekeeper.MethodSetKeyGrace].Check([]byte{1, 2}); err == nil {
		t.Fatal("set_key_grace took 2 bytes")
	}
	c.do(state.CodePrivilegedCall, c.send(alice, gatekeeper.RotateMasterKeyCall()))
	c.do(state.CodeNotAdmin, c.send(bob, admin.SudoCall(gatekeeper.RotateMasterKeyCall())))
	// No master key yet.
	feeOnly(t, c.sudo(state.CodeGkNoMasterKey, alice, gatekeeper.RotateMasterKeyCall()))

	// Grace: default, then set by the admin.
	if g, err := gatekeeper.KeyGrace(c.st); err != nil || g != gatekeeper.DefaultKeyGrace {
		t.Fatalf("grace %d %v", g, err)
	}
	c.sudo(state.CodeOK, alice, gatekeeper.SetKeyGraceCall(7))
	if g, _ := gatekeeper.KeyGrace(c.st); g != 7 {
		t.Fatalf("grace %d", g)
	}

	// Epoch 0: g1 announces, g2 receives and says ready; cluster 0 of w3.
	m0, m1, m2 := keys.PublicKey{0x4d, 0}, keys.PublicKey{0x4d, 1}, keys.PublicKey{0x4d, 2}
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(g1.Public()))
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(g2.Public()))
	gk(state.CodeOK, g1, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: m0})
	gk(state.CodeOK, g1, msg.TopicMasterKeyShare, &msg.MasterKeyShare{Receiver: g2.Public(), Key: dummyKey()})
	gk(state.CodeOK, g2, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Pubkey: m0})
	c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: bob.Public(), Workers: []keys.PublicKey{w3.Public()}}))
	id0 := phat.ClusterID(0)
	ck0, ck1 := dev(t, "ClusterKey0"), dev(t, "ClusterKey1")
	shares := func(epoch uint32, pub keys.PublicKey) *msg.ClusterKeyShares {
		return &msg.ClusterKeyShares{Cluster: id0, Epoch: epoch, Pubkey: pub, Shares: []msg.ClusterKeyShare{{Worker: w3.Public(), Key: dummyKey()}}}
	}
	gk(state.CodeOK, g1, msg.TopicClusterKeys, shares(0, ck0.Public()))
	contract := [32]byte{0xcc}
	oc0 := msg.OriginCluster(id0)
	var cseq uint64
	cmsg := func(want uint32, signer *keys.Pair, topic string, p scale.Encodable) *state.BlockResult {
		t.Helper()
		s := msg.Sign(signer, msg.Message{Origin: oc0, Topic: []byte(topic), Payload: scale.Encode(p)}, cseq)
		cseq++
		return submit(want, s)
	}
	cmsg(state.CodeOK, ck0, msg.TopicContractKey, &msg.ContractKey{Contract: contract, Pubkey: keys.PublicKey{5}})

	// The rotation starts: generator g1, epoch 1.
	res := c.sudo(state.CodeOK, alice, gatekeeper.RotateMasterKeyCall())
	onlyWrites(t, res.WriteSet, state.PrefixAccount, gatekeeper.KeyRotation)
	rot, ok, err := gatekeeper.GetRotation(c.st)
	if err != nil || !ok || rot.Epoch != 1 || rot.Generator != g1.Public() || rot.Height != uint64(c.height) {
		t.Fatalf("%+v %v %v", rot, ok, err)
	}
	// A second proposal while this one is in progress.
	feeOnly(t, c.sudo(state.CodeGkRotationInProgress, alice, gatekeeper.RotateMasterKeyCall()))

	for name, x := range map[string]struct {
		w    *keys.Pair
		p    msg.MasterPubkey
		code uint32
	}{
		"not the generator": {g2, msg.MasterPubkey{Epoch: 1, Pubkey: m1}, state.CodeGkNotGatekeeper},
		"wrong epoch":       {g1, msg.MasterPubkey{Epoch: 2, Pubkey: m1}, state.CodeGkMasterKeyExists},
		"epoch 0 again":     {g1, msg.MasterPubkey{Epoch: 0, Pubkey: m1}, state.CodeGkMasterKeyExists},
		"old key again":     {g1, msg.MasterPubkey{Epoch: 1, Pubkey: m0}, state.CodeGkMasterKeyExists},
	} {
		t.Run(name, func(t *testing.T) {
			next := seq[x.w] + 1
			p := x.p
			refused(t, c, gk(x.code, x.w, msg.TopicMasterPubkey, &p), msg.OriginWorker(x.w.Public()), next)
		})
	}
	// The generator announces epoch 1: recorded, g2 inactive.
	gk(state.CodeOK, g1, msg.TopicMasterPubkey, &msg.MasterPubkey{Epoch: 1, Pubkey: m1})
	mk, _, _ := gatekeeper.GetMasterKey(c.st)
	if mk.Epoch != 1 || mk.Pubkey != m1 || len(mk.History) != 2 || mk.History[1].Epoch != 1 || mk.History[0].Pubkey != m0 {
		t.Fatalf("%+v", mk)
	}
	if a, _ := gatekeeper.IsActive(c.st, g2.Public()); a {
		t.Fatal("g2 still active after the rotation")
	}
	if a, _ := gatekeeper.IsActive(c.st, g1.Public()); !a {
		t.Fatal("generator not active")
	}
	// Still in progress until g2 holds the key.
	feeOnly(t, c.sudo(state.CodeGkRotationInProgress, alice, gatekeeper.RotateMasterKeyCall()))
	// g2 saying ready with the old key is refused.
	gk(state.CodeGkMasterKeyMismatch, g2, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Pubkey: m0})
	// Past master keys for g2, before its share.
	mhist := func(to keys.PublicKey, epochs ...uint32) *msg.MasterKeyHistory {
		p := &msg.MasterKeyHistory{Receiver: to}
		for _, e := range epochs {
			p.Keys = append(p.Keys, msg.EpochKey{Epoch: e, Key: dummyKey()})
		}
		return p
	}
	for name, x := range map[string]struct {
		from *keys.Pair
		p    *msg.MasterKeyHistory
		code uint32
	}{
		"not active":       {g2, mhist(g2.Public(), 0), state.CodeGkNotGatekeeper},
		"active receiver":  {g1, mhist(g1.Public(), 0), state.CodeGkBadReceiver},
		"not a gatekeeper": {g1, mhist(w3.Public(), 0), state.CodeGkBadReceiver},
		"current epoch":    {g1, mhist(g2.Public(), 0, 1), state.CodeGkMasterKeyMismatch},
	} {
		t.Run("master history "+name, func(t *testing.T) {
			next := seq[x.from] + 1
			refused(t, c, gk(x.code, x.from, msg.TopicMasterKeyHistory, x.p), msg.OriginWorker(x.from.Public()), next)
		})
	}
	if res := gk(state.CodeOK, g1, msg.TopicMasterKeyHistory, mhist(g2.Public(), 0)); len(res.Messages) != 1 {
		t.Fatal("master history not delivered")
	}
	gk(state.CodeOK, g1, msg.TopicMasterKeyShare, &msg.MasterKeyShare{Receiver: g2.Public(), Epoch: 1, Key: dummyKey()})
	gk(state.CodeOK, g2, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Epoch: 1, Pubkey: m1})
	if _, ok, _ := gatekeeper.GetRotation(c.st); ok {
		t.Fatal("rotation not finished")
	}

	// The cluster: a share of epoch 0 is now refused; epoch 1 re-keys it.
	gk(state.CodeGkMasterKeyMismatch, g1, msg.TopicClusterKeys, shares(0, ck0.Public()))
	gk(state.CodeClusterKeyMismatch, g1, msg.TopicClusterKeys, shares(1, ck0.Public()))
	res = gk(state.CodeOK, g1, msg.TopicClusterKeys, shares(1, ck1.Public()))
	var rk msg.ClusterRekeyed
	if len(res.Messages) != 2 || string(res.Messages[0].Topic) != msg.TopicClusterRekeyed ||
		scale.Decode(res.Messages[0].Payload, &rk) != nil || rk != (msg.ClusterRekeyed{Cluster: id0, Epoch: 1}) {
		t.Fatalf("messages %+v", res.Messages)
	}
	rekeyedAt := uint64(c.height)
	cl, _, _ := phat.GetCluster(c.st, id0)
	if cl.Pubkey != ck1.Public() || cl.Epoch != 1 || len(cl.Keyed) != 1 {
		t.Fatalf("%+v", cl)
	}
	es, err := phat.ClusterEpochs(c.st, id0)
	if err != nil || len(es) != 2 || es[0] != (phat.ClusterEpoch{Epoch: 0, Pubkey: ck0.Public()}) ||
		es[1] != (phat.ClusterEpoch{Epoch: 1, Pubkey: ck1.Public(), Height: rekeyedAt, Grace: 7}) {
		t.Fatalf("%+v %v", es, err)
	}
	// Past cluster keys for a worker joining the rotated cluster.
	hist := func(worker keys.PublicKey, epochs ...uint32) *msg.ClusterKeyHistory {
		p := &msg.ClusterKeyHistory{Cluster: id0, Worker: worker}
		for _, e := range epochs {
			p.Keys = append(p.Keys, msg.EpochKey{Epoch: e, Key: dummyKey()})
		}
		return p
	}
	for name, x := range map[string]struct {
		from *keys.Pair
		p    *msg.ClusterKeyHistory
		code uint32
	}{
		"not a gatekeeper":  {w3, hist(w3.Public(), 0), state.CodeGkNotGatekeeper},
		"outside cluster":   {g1, hist(g2.Public(), 0), state.CodeClusterKeyOutsideCluster},
		"current epoch":     {g1, hist(w3.Public(), 0, 1), state.CodeClusterKeyMismatch},
		"epoch never there": {g1, hist(w3.Public(), 7), state.CodeClusterKeyMismatch},
	} {
		t.Run(name, func(t *testing.T) {
			next := seq[x.from] + 1
			refused(t, c, gk(x.code, x.from, msg.TopicClusterKeyHistory, x.p), msg.OriginWorker(x.from.Public()), next)
		})
	}
	if res := gk(state.CodeOK, g1, msg.TopicClusterKeyHistory, hist(w3.Public(), 0)); len(res.Messages) != 1 {
		t.Fatal("history not delivered")
	}
	// A message the workers signed with the old cluster key still lands;
	// one signed by another key does not.
	keysOf := func(epoch uint32, pub keys.PublicKey) *msg.ContractKeys {
		return &msg.ContractKeys{Epoch: epoch, Keys: []msg.ContractKey{{Contract: contract, Pubkey: pub}}}
	}
	c.do(state.CodeMqBadSignature, c.submit(bob, c.account(bob.Public()).Nonce,
		msg.Sign(ck0, msg.Message{Origin: oc0, Topic: []byte(msg.TopicContractKeys), Payload: scale.Encode(keysOf(1, keys.PublicKey{6}))}, cseq)))
	// Other topics signed by the old key are admitted (and judged).
	refused(t, c, cmsg(state.CodeUnknownCommand, ck0, msg.TopicClusterOutcomes, &msg.Outcomes{Entries: []msg.Outcome{{CommandID: [32]byte{0xee}}}}), oc0, cseq)
	refused(t, c, cmsg(state.CodeClusterKeyMismatch, ck1, msg.TopicContractKeys, keysOf(0, keys.PublicKey{6})), oc0, cseq)
	c.do(state.CodeMqBadSignature, c.submit(bob, c.account(bob.Public()).Nonce,
		msg.Sign(dev(t, "Mallory"), msg.Message{Origin: oc0, Topic: []byte(msg.TopicContractKeys), Payload: scale.Encode(keysOf(1, keys.PublicKey{6}))}, cseq)))
	// A contract without a recorded key is skipped; the others' keys are
	// recorded.
	res = cmsg(state.CodeOK, ck1, msg.TopicContractKeys, &msg.ContractKeys{Epoch: 1, Keys: []msg.ContractKey{{Contract: [32]byte{1}, Pubkey: keys.PublicKey{6}}, contractKey(contract, keys.PublicKey{6})}})
	if _, ok, _ := phat.ContractKeyOfEpoch(c.st, [32]byte{1}, 1); ok {
		t.Fatal("a key recorded for a contract without one")
	}
	rec, _, _ := phat.GetContractKey(c.st, contract)
	if rec.Pubkey != (keys.PublicKey{6}) {
		t.Fatalf("current contract key %s", rec.Pubkey.Hex())
	}
	for e, want := range map[uint32]keys.PublicKey{0: {5}, 1: {6}} {
		if k, ok, err := phat.ContractKeyOfEpoch(c.st, contract, e); err != nil || !ok || k != want {
			t.Fatalf("epoch %d: %s %v %v", e, k.Hex(), ok, err)
		}
	}
	// The same keys again are fine; a different key for epoch 1 is not.
	cmsg(state.CodeOK, ck1, msg.TopicContractKeys, keysOf(1, keys.PublicKey{6}))
	refused(t, c, cmsg(state.CodeContractKeyMismatch, ck1, msg.TopicContractKeys, keysOf(1, keys.PublicKey{7})), oc0, cseq)

	// A second rotation; its generator is removed before announcing, so
	// the next active gatekeeper takes over.
	c.sudo(state.CodeOK, alice, gatekeeper.RotateMasterKeyCall())
	c.sudo(state.CodeOK, alice, gatekeeper.RemoveCall(g1.Public()))
	rot, _, _ = gatekeeper.GetRotation(c.st)
	if rot.Epoch != 2 || rot.Generator != g2.Public() {
		t.Fatalf("%+v", rot)
	}
	gk(state.CodeOK, g2, msg.TopicMasterPubkey, &msg.MasterPubkey{Epoch: 2, Pubkey: m2})
	if _, ok, _ := gatekeeper.GetRotation(c.st); ok {
		t.Fatal("a rotation with a single gatekeeper did not finish at once")
	}
	// Only the previous cluster key (epoch 1) is accepted besides the
	// current one after the cluster's next re-keying.
	ck2 := dev(t, "ClusterKey2")
	gk(state.CodeOK, g2, msg.TopicClusterKeys, shares(2, ck2.Public()))
	outcomes := &msg.Outcomes{Entries: []msg.Outcome{{CommandID: [32]byte{0xee}}}}
	c.do(state.CodeMqBadSignature, c.submit(bob, c.account(bob.Public()).Nonce,
		msg.Sign(ck0, msg.Message{Origin: oc0, Topic: []byte(msg.TopicClusterOutcomes), Payload: scale.Encode(outcomes)}, cseq)))
	refused(t, c, cmsg(state.CodeUnknownCommand, ck1, msg.TopicClusterOutcomes, outcomes), oc0, cseq)
	cmsg(state.CodeOK, ck2, msg.TopicContractKeys, keysOf(2, keys.PublicKey{8}))
	if ct, _, _ := phat.GetContractKey(c.st, contract); ct.Pubkey != (keys.PublicKey{8}) {
		t.Fatal("epoch 2 key not current")
	}
}

func contractKey(contract [32]byte, pub keys.PublicKey) msg.ContractKey {
	return msg.ContractKey{Contract: contract, Pubkey: pub}
}

// TestRotationBundleInOneBlock: the generator's announcement of epoch 1,
// the past master keys and the share for the other gatekeeper, and the
// cluster's key of epoch 1 land in one block, in that order (as the
// generator sends them in one step): each is judged after the ones before
// it, so all are accepted, the cluster is re-keyed in that block
// (phat/rekeyed before the cluster keys' delivery), and in the next block
// the cluster's contract keys of epoch 1 and the other gatekeeper's ready
// are accepted. The same messages in one block without the announcement
// first are refused.
func TestRotationBundleInOneBlock(t *testing.T) {
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	g1, g2, w3 := ws[0], ws[1], ws[2]
	if p1, p2 := g1.Public(), g2.Public(); bytes.Compare(p1[:], p2[:]) > 0 {
		g1, g2 = g2, g1
	}
	seq := map[*keys.Pair]uint64{}
	var pendingTxs [][]byte // the next block's
	next := func(w *keys.Pair, topic string, p scale.Encodable) {
		s := gkMsg(w, seq[w], topic, p)
		seq[w]++
		pendingTxs = append(pendingTxs, c.submit(bob, c.account(bob.Public()).Nonce+uint64(len(pendingTxs)), s))
	}
	blockOf := func() *state.BlockResult {
		t.Helper()
		res := c.block(pendingTxs...)
		pendingTxs = nil
		return res
	}
	allOK := func(res *state.BlockResult) {
		t.Helper()
		for i, r := range res.TxResults {
			if r.Code != state.CodeOK {
				t.Fatalf("tx %d: %s: %s", i, state.CodeName(r.Code), r.Log)
			}
		}
	}
	m0, m1 := keys.PublicKey{0x4d, 0}, keys.PublicKey{0x4d, 1}
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(g1.Public()))
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(g2.Public()))
	next(g1, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: m0})
	next(g1, msg.TopicMasterKeyShare, &msg.MasterKeyShare{Receiver: g2.Public(), Key: dummyKey()})
	allOK(blockOf())
	next(g2, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Pubkey: m0})
	allOK(blockOf())
	c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: bob.Public(), Workers: []keys.PublicKey{w3.Public()}}))
	id0 := phat.ClusterID(0)
	ck0, ck1 := dev(t, "ClusterKey0"), dev(t, "ClusterKey1")
	shares := func(epoch uint32, pub keys.PublicKey) *msg.ClusterKeyShares {
		return &msg.ClusterKeyShares{Cluster: id0, Epoch: epoch, Pubkey: pub, Shares: []msg.ClusterKeyShare{{Worker: w3.Public(), Key: dummyKey()}}}
	}
	next(g1, msg.TopicClusterKeys, shares(0, ck0.Public()))
	allOK(blockOf())
	c.sudo(state.CodeOK, alice, gatekeeper.RotateMasterKeyCall())

	// Without the announcement first: the share's receiver is still
	// active and the cluster key's epoch is not the chain's.
	next(g1, msg.TopicMasterKeyShare, &msg.MasterKeyShare{Receiver: g2.Public(), Epoch: 1, Key: dummyKey()})
	next(g1, msg.TopicClusterKeys, shares(1, ck1.Public()))
	res := blockOf()
	if res.TxResults[0].Code != state.CodeGkBadReceiver || res.TxResults[1].Code != state.CodeGkMasterKeyMismatch {
		t.Fatalf("before the announcement: %s, %s", state.CodeName(res.TxResults[0].Code), state.CodeName(res.TxResults[1].Code))
	}

	// The bundle, in one block.
	next(g1, msg.TopicMasterPubkey, &msg.MasterPubkey{Epoch: 1, Pubkey: m1})
	next(g1, msg.TopicMasterKeyHistory, &msg.MasterKeyHistory{Receiver: g2.Public(), Keys: []msg.EpochKey{{Epoch: 0, Key: dummyKey()}}})
	next(g1, msg.TopicMasterKeyShare, &msg.MasterKeyShare{Receiver: g2.Public(), Epoch: 1, Key: dummyKey()})
	next(g1, msg.TopicClusterKeys, shares(1, ck1.Public()))
	res = blockOf()
	allOK(res)
	var got []string
	for _, m := range res.Messages {
		got = append(got, string(m.Topic))
	}
	want := []string{msg.TopicMasterPubkey, msg.TopicMasterKeyHistory, msg.TopicMasterKeyShare, msg.TopicClusterRekeyed, msg.TopicClusterKeys}
	if len(got) != len(want) {
		t.Fatalf("delivered %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("delivered %v, want %v", got, want)
		}
	}
	mk, _, _ := gatekeeper.GetMasterKey(c.st)
	cl, _, _ := phat.GetCluster(c.st, id0)
	if mk.Epoch != 1 || mk.Pubkey != m1 || cl.Epoch != 1 || cl.Pubkey != ck1.Public() || len(cl.Keyed) != 1 {
		t.Fatalf("after the bundle: master %+v, cluster %+v", mk, cl)
	}
	if a, _ := gatekeeper.IsActive(c.st, g2.Public()); a {
		t.Fatal("g2 active before its ready")
	}

	// Next block: the cluster's contract keys of epoch 1 (signed by the new
	// key) and g2's ready; the rotation ends.
	ck := msg.Sign(ck1, msg.Message{Origin: msg.OriginCluster(id0), Topic: []byte(msg.TopicContractKeys),
		Payload: scale.Encode(&msg.ContractKeys{Epoch: 1, Keys: []msg.ContractKey{}})}, 0)
	pendingTxs = append(pendingTxs, c.submit(bob, c.account(bob.Public()).Nonce, ck))
	next(g2, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Epoch: 1, Pubkey: m1})
	allOK(blockOf())
	if _, ok, _ := gatekeeper.GetRotation(c.st); ok {
		t.Fatal("rotation still in progress")
	}
}
