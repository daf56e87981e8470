package state_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/modules"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// keysChain is a registry chain (dev bootstrap off, //Alice admin) with
// Worker1..Worker3 registered.
func keysChain(t testing.TB, mut ...func(g *state.Genesis)) (*chain, []*keys.Pair) {
	t.Helper()
	c := newRegistryChain(t, mut...)
	alice := dev(t, "Alice")
	ws := []*keys.Pair{dev(t, "Worker1"), dev(t, "Worker2"), dev(t, "Worker3")}
	var txs [][]byte
	for i, w := range ws {
		info := c.regInfo(w, alice.Public())
		txs = append(txs, c.register(alice, uint64(i), info, devAtt(t, info)))
	}
	for i, r := range c.block(txs...).TxResults {
		if r.Code != state.CodeOK {
			t.Fatalf("register %d: %s: %s", i, state.CodeName(r.Code), r.Log)
		}
	}
	return c, ws
}

// send signs call by from with its next nonce.
func (c *chain) send(from *keys.Pair, call tx.Call) []byte {
	return tx.Sign(c.body(from, c.account(from.Public()).Nonce, call), from).Encode()
}

// do runs one transaction in a block and checks its code; it returns the
// block's result.
func (c *chain) do(want uint32, raw []byte) *state.BlockResult {
	c.t.Helper()
	res := c.block(raw)
	if r := res.TxResults[0]; r.Code != want {
		c.t.Fatalf("got %s (%s), want %s", state.CodeName(r.Code), r.Log, state.CodeName(want))
	}
	return res
}

// sudo runs admin.sudo(call) signed by from and checks the code.
func (c *chain) sudo(want uint32, from *keys.Pair, call tx.Call) *state.BlockResult {
	c.t.Helper()
	return c.do(want, c.send(from, admin.SudoCall(call)))
}

// onlyWrites fails unless every key the block wrote starts with one of the
// prefixes.
func onlyWrites(t *testing.T, ws state.WriteSet, prefixes ...[]byte) {
	t.Helper()
next:
	for _, w := range ws {
		for _, p := range prefixes {
			if bytes.HasPrefix(w.Key, p) {
				continue next
			}
		}
		t.Fatalf("unexpected write of %q", w.Key)
	}
}

// feeOnly: a failed call only charged the fee and advanced the nonce.
func feeOnly(t *testing.T, res *state.BlockResult) {
	t.Helper()
	onlyWrites(t, res.WriteSet, state.PrefixAccount)
	if len(res.Messages) != 0 {
		t.Fatalf("%d messages", len(res.Messages))
	}
}

// refused: an mq.submit whose handler refused the message charged the fee,
// advanced the origin's sequence and delivered nothing.
func refused(t *testing.T, c *chain, res *state.BlockResult, origin []byte, next uint64) {
	t.Helper()
	onlyWrites(t, res.WriteSet, state.PrefixAccount, mq.PrefixIngress)
	if len(res.Messages) != 0 {
		t.Fatalf("%d messages", len(res.Messages))
	}
	if n, err := mq.NextSequence(c.st, origin); err != nil || n != next {
		t.Fatalf("next sequence %d, want %d (%v)", n, next, err)
	}
}

func TestAdminSudo(t *testing.T) {
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	w1 := ws[0].Public()

	// A privileged call sent directly is rejected: no effect at all.
	raw := c.send(alice, gatekeeper.AddCall(w1))
	if cr := c.m.CheckTx(c.st, c.height+1, raw, nil, nil); cr.Code != state.CodePrivilegedCall {
		t.Fatalf("CheckTx %s", state.CodeName(cr.Code))
	}
	res := c.do(state.CodePrivilegedCall, raw)
	if len(res.WriteSet) != 0 {
		t.Fatalf("rejection wrote %d keys", len(res.WriteSet))
	}
	// Not the admin: fee only.
	feeOnly(t, c.sudo(state.CodeNotAdmin, bob, gatekeeper.AddCall(w1)))
	// An unregistered worker.
	feeOnly(t, c.sudo(state.CodeWorkerNotRegistered, alice, gatekeeper.AddCall(dev(t, "Nobody").Public())))
	// sudo of a method that is not privileged, or of garbage: rejected statically.
	c.do(state.CodeBadArgs, c.send(alice, admin.SudoCall(balances.TransferCall(bob.Public(), u(1)))))
	c.do(state.CodeBadArgs, c.send(alice, admin.SudoCall(tx.Call{Module: 99})))
	c.do(state.CodeBadArgs, c.send(alice, tx.Call{Module: admin.Index, Method: admin.MethodSudo, Args: []byte{1}}))
	c.do(state.CodeBadArgs, c.send(alice, admin.SudoCall(tx.Call{Module: gatekeeper.Index, Method: gatekeeper.MethodAdd, Args: []byte{1, 2}})))

	// The admin adds Worker1: a gatekeeper, not active, announced by a message.
	res = c.sudo(state.CodeOK, alice, gatekeeper.AddCall(w1))
	if r := res.TxResults[0]; r.Weight != state.TxBaseWeight+admin.SudoWeight+phat.CreateClusterWeight {
		t.Fatalf("sudo weight %d", r.Weight)
	}
	if len(res.Messages) != 1 || string(res.Messages[0].Topic) != msg.TopicGatekeeperChanged ||
		!bytes.Equal(res.Messages[0].Origin, msg.OriginModule(msg.GatekeeperModuleName)) {
		t.Fatalf("messages %+v", res.Messages)
	}
	var ch msg.GatekeeperChange
	if err := scale.Decode(res.Messages[0].Payload, &ch); err != nil || ch.Kind != msg.GatekeeperAdded || ch.Worker != w1 {
		t.Fatalf("%+v %v", ch, err)
	}
	gks, err := gatekeeper.List(c.st)
	if err != nil || len(gks) != 1 || gks[0] != (gatekeeper.Gatekeeper{Identity: w1}) {
		t.Fatalf("%+v %v", gks, err)
	}
	feeOnly(t, c.sudo(state.CodeAlreadyGatekeeper, alice, gatekeeper.AddCall(w1)))
	feeOnly(t, c.sudo(state.CodeNotGatekeeper, alice, gatekeeper.RemoveCall(ws[1].Public())))
	// Sorted by identity.
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(ws[1].Public()))
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(ws[2].Public()))
	gks, _ = gatekeeper.List(c.st)
	for i := 1; i < len(gks); i++ {
		if bytes.Compare(gks[i-1].Identity[:], gks[i].Identity[:]) >= 0 {
			t.Fatalf("not sorted: %+v", gks)
		}
	}
	res = c.sudo(state.CodeOK, alice, gatekeeper.RemoveCall(w1))
	if err := scale.Decode(res.Messages[0].Payload, &ch); err != nil || ch.Kind != msg.GatekeeperRemoved || ch.Worker != w1 {
		t.Fatalf("%+v %v", ch, err)
	}
	if _, ok, _ := gatekeeper.Get(c.st, w1); ok {
		t.Fatal("still a gatekeeper")
	}
}

func TestSudoWithoutAdmin(t *testing.T) {
	c, ws := keysChain(t, func(g *state.Genesis) { g.App.Admin = nil })
	if _, ok, err := admin.GetAdmin(c.st); ok || err != nil {
		t.Fatal(ok, err)
	}
	feeOnly(t, c.sudo(state.CodeNoAdmin, dev(t, "Alice"), gatekeeper.AddCall(ws[0].Public())))
}

// gkMsg signs a gatekeeper-topic message of worker w at sequence seq.
func gkMsg(w *keys.Pair, seq uint64, topic string, payload scale.Encodable) msg.SignedMessage {
	return msg.Sign(w, msg.Message{Origin: msg.OriginWorker(w.Public()), Topic: []byte(topic), Payload: scale.Encode(payload)}, seq)
}

func dummyKey() cipher.EncryptedKey {
	return cipher.EncryptedKey{EcdhPubkey: keys.PublicKey{1}, EncryptedKey: make([]byte, cipher.EncryptedKeySize)}
}

func TestGatekeeperMessages(t *testing.T) {
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	w1, w2, w3 := ws[0], ws[1], ws[2]
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(w1.Public()))
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(w2.Public()))
	master := keys.PublicKey{0x4d, 1}
	submit := func(want uint32, s msg.SignedMessage) *state.BlockResult {
		t.Helper()
		return c.do(want, c.submit(bob, c.account(bob.Public()).Nonce, s))
	}
	o1, o2, o3 := msg.OriginWorker(w1.Public()), msg.OriginWorker(w2.Public()), msg.OriginWorker(w3.Public())

	// A CheckTx of a message its handler would refuse passes: the sequence
	// advance is an effect.
	s := gkMsg(w3, 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: master})
	if cr := c.m.CheckTx(c.st, c.height+1, c.submit(bob, c.account(bob.Public()).Nonce, s), nil, nil); cr.Code != state.CodeOK {
		t.Fatalf("CheckTx %s: %s", state.CodeName(cr.Code), cr.Log)
	}
	// Master pubkey from a non-gatekeeper.
	refused(t, c, submit(state.CodeGkNotGatekeeper, s), o3, 1)
	// Epoch other than 0.
	refused(t, c, submit(state.CodeGkMasterKeyExists, gkMsg(w1, 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Epoch: 1, Pubkey: master})), o1, 1)
	// A payload that does not decode.
	bad := msg.Sign(w1, msg.Message{Origin: o1, Topic: []byte(msg.TopicMasterPubkey), Payload: []byte{1, 2, 3}}, 1)
	refused(t, c, submit(state.CodeMqBadPayload, bad), o1, 2)
	// A replay of a refused message is rejected like any replay.
	c.do(state.CodeMqReplayedSequence, c.submit(bob, c.account(bob.Public()).Nonce, bad))
	if _, ok, _ := gatekeeper.GetMasterKey(c.st); ok {
		t.Fatal("master key recorded")
	}
	// Worker1 announces: recorded, active, delivered.
	res := submit(state.CodeOK, gkMsg(w1, 2, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: master}))
	if len(res.Messages) != 1 || string(res.Messages[0].Topic) != msg.TopicMasterPubkey {
		t.Fatalf("messages %+v", res.Messages)
	}
	mk, ok, err := gatekeeper.GetMasterKey(c.st)
	if err != nil || !ok || mk.Epoch != 0 || mk.Pubkey != master || len(mk.History) != 1 ||
		mk.History[0] != (gatekeeper.MasterKeyEpoch{Epoch: 0, Pubkey: master, Height: uint64(c.height)}) {
		t.Fatalf("%+v %v %v", mk, ok, err)
	}
	if a, _ := gatekeeper.IsActive(c.st, w1.Public()); !a {
		t.Fatal("Worker1 not active")
	}
	// A second announcement.
	refused(t, c, submit(state.CodeGkMasterKeyExists, gkMsg(w2, 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: keys.PublicKey{9}})), o2, 1)

	share := func(to keys.PublicKey) *msg.MasterKeyShare {
		return &msg.MasterKeyShare{Receiver: to, Key: dummyKey()}
	}
	// A share from a gatekeeper that is not active.
	refused(t, c, submit(state.CodeGkNotGatekeeper, gkMsg(w2, 1, msg.TopicMasterKeyShare, share(w1.Public()))), o2, 2)
	// To a worker that is not a gatekeeper, or already active.
	refused(t, c, submit(state.CodeGkBadReceiver, gkMsg(w1, 3, msg.TopicMasterKeyShare, share(w3.Public()))), o1, 4)
	refused(t, c, submit(state.CodeGkBadReceiver, gkMsg(w1, 4, msg.TopicMasterKeyShare, share(w1.Public()))), o1, 5)
	// Of another epoch.
	sh := share(w2.Public())
	sh.Epoch = 3
	refused(t, c, submit(state.CodeGkMasterKeyMismatch, gkMsg(w1, 5, msg.TopicMasterKeyShare, sh)), o1, 6)
	// A good share is delivered.
	if res := submit(state.CodeOK, gkMsg(w1, 6, msg.TopicMasterKeyShare, share(w2.Public()))); len(res.Messages) != 1 {
		t.Fatal("share not delivered")
	}
	// Ready with a wrong pubkey, or from a non-gatekeeper.
	refused(t, c, submit(state.CodeGkMasterKeyMismatch, gkMsg(w2, 2, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Pubkey: keys.PublicKey{9}})), o2, 3)
	refused(t, c, submit(state.CodeGkNotGatekeeper, gkMsg(w3, 1, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Pubkey: master})), o3, 2)
	submit(state.CodeOK, gkMsg(w2, 3, msg.TopicGatekeeperReady, &msg.GatekeeperReady{Pubkey: master}))
	if a, _ := gatekeeper.IsActive(c.st, w2.Public()); !a {
		t.Fatal("Worker2 not active")
	}
}

func TestClusters(t *testing.T) {
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	w1, w2, w3 := ws[0], ws[1], ws[2]
	submit := func(want uint32, s msg.SignedMessage) *state.BlockResult {
		t.Helper()
		return c.do(want, c.submit(bob, c.account(bob.Public()).Nonce, s))
	}
	// Static checks of create_cluster.
	for name, a := range map[string]phat.CreateArgs{
		"no workers": {Owner: bob.Public()},
		"permission": {Owner: bob.Public(), Permission: 2, Workers: []keys.PublicKey{w3.Public()}},
		"duplicate":  {Owner: bob.Public(), Workers: []keys.PublicKey{w3.Public(), w3.Public()}},
	} {
		if _, err := phat.DecodeCreateArgs(phat.CreateClusterCall(a).Args); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
	feeOnly(t, c.sudo(state.CodeWorkerNotRegistered, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: bob.Public(), Workers: []keys.PublicKey{dev(t, "Nobody").Public()}})))
	// Ids from the counter: 0, then 1.
	res := c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: bob.Public(), Permission: phat.PermissionOwnerOnly, Workers: []keys.PublicKey{w3.Public()}}))
	var cc msg.ClusterChange
	if err := scale.Decode(res.Messages[0].Payload, &cc); err != nil || cc.Cluster != ([32]byte{}) || cc.Kind != msg.ClusterCreated ||
		!bytes.Equal(res.Messages[0].Origin, msg.OriginModule(msg.PhatModuleName)) || string(res.Messages[0].Topic) != msg.TopicClusterChanged {
		t.Fatalf("%+v %v", cc, err)
	}
	c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Workers: []keys.PublicKey{w2.Public(), w1.Public()}}))
	id0, id1 := phat.ClusterID(0), phat.ClusterID(1)
	if id1 != ([32]byte{31: 1}) || id0 != ([32]byte{}) {
		t.Fatal("cluster ids")
	}
	ids, err := phat.ClusterIDs(c.st)
	if err != nil || len(ids) != 2 || ids[0] != id0 || ids[1] != id1 {
		t.Fatalf("%x %v", ids, err)
	}
	cl1, ok, err := phat.GetCluster(c.st, id1)
	if err != nil || !ok || cl1.Owner != alice.Public() || len(cl1.Workers) != 2 || bytes.Compare(cl1.Workers[0][:], cl1.Workers[1][:]) >= 0 || cl1.HasPubkey {
		t.Fatalf("%+v %v %v", cl1, ok, err)
	}
	// Worker1 becomes the active gatekeeper.
	master := keys.PublicKey{0x4d}
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(w1.Public()))
	submit(state.CodeOK, gkMsg(w1, 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: master}))

	clusterKey := dev(t, "ClusterKey0")
	shares := func(id [32]byte, pub keys.PublicKey, to ...*keys.Pair) *msg.ClusterKeyShares {
		p := &msg.ClusterKeyShares{Cluster: id, Pubkey: pub}
		for _, w := range to {
			p.Shares = append(p.Shares, msg.ClusterKeyShare{Worker: w.Public(), Key: dummyKey()})
		}
		return p
	}
	o1, o2 := msg.OriginWorker(w1.Public()), msg.OriginWorker(w2.Public())
	// From a non-gatekeeper.
	refused(t, c, submit(state.CodeGkNotGatekeeper, gkMsg(w2, 0, msg.TopicClusterKeys, shares(id0, clusterKey.Public(), w3))), o2, 1)
	// For a worker outside the cluster.
	refused(t, c, submit(state.CodeClusterKeyOutsideCluster, gkMsg(w1, 1, msg.TopicClusterKeys, shares(id0, clusterKey.Public(), w3, w2))), o1, 2)
	// For an unknown cluster.
	refused(t, c, submit(state.CodeUnknownCluster, gkMsg(w1, 2, msg.TopicClusterKeys, shares([32]byte{31: 9}, clusterKey.Public(), w3))), o1, 3)
	// Of another epoch than the master key's.
	sh := shares(id0, clusterKey.Public(), w3)
	sh.Epoch = 1
	refused(t, c, submit(state.CodeGkMasterKeyMismatch, gkMsg(w1, 3, msg.TopicClusterKeys, sh)), o1, 4)
	// Accepted: the pubkey is recorded, Worker3 keyed, the message delivered.
	if res := submit(state.CodeOK, gkMsg(w1, 4, msg.TopicClusterKeys, shares(id0, clusterKey.Public(), w3))); len(res.Messages) != 1 {
		t.Fatal("not delivered")
	}
	cl0, _, _ := phat.GetCluster(c.st, id0)
	if !cl0.HasPubkey || cl0.Pubkey != clusterKey.Public() || len(cl0.Keyed) != 1 || cl0.Keyed[0] != w3.Public() || cl0.Permission != phat.PermissionOwnerOnly {
		t.Fatalf("%+v", cl0)
	}
	// A pubkey differing from the recorded one.
	refused(t, c, submit(state.CodeClusterKeyMismatch, gkMsg(w1, 5, msg.TopicClusterKeys, shares(id0, keys.PublicKey{7}, w3))), o1, 6)

	// Cluster-origin messages: signed with the cluster key, verified against
	// the recorded pubkey.
	oc0 := msg.OriginCluster(id0)
	ck := func(p *keys.Pair, id [32]byte, seq uint64, contract [32]byte, pub keys.PublicKey) msg.SignedMessage {
		return msg.Sign(p, msg.Message{Origin: msg.OriginCluster(id), Topic: []byte(msg.TopicContractKey), Payload: scale.Encode(&msg.ContractKey{Contract: contract, Pubkey: pub})}, seq)
	}
	contract := [32]byte{0xcc}
	wrong := dev(t, "NotTheClusterKey")
	for name, x := range map[string]struct {
		s    msg.SignedMessage
		code uint32
	}{
		"wrong key":       {ck(wrong, id0, 0, contract, keys.PublicKey{5}), state.CodeMqBadSignature},
		"cluster no key":  {ck(clusterKey, id1, 0, contract, keys.PublicKey{5}), state.CodeMqUnknownOrigin},
		"unknown cluster": {ck(clusterKey, [32]byte{31: 9}, 0, contract, keys.PublicKey{5}), state.CodeMqUnknownOrigin},
	} {
		raw := c.submit(bob, c.account(bob.Public()).Nonce, x.s)
		if cr := c.m.CheckTx(c.st, c.height+1, raw, nil, nil); cr.Code != x.code {
			t.Fatalf("%s: CheckTx %s", name, state.CodeName(cr.Code))
		}
		if res := c.do(x.code, raw); len(res.WriteSet) != 0 {
			t.Fatalf("%s: rejection wrote", name)
		}
	}
	res = submit(state.CodeOK, ck(clusterKey, id0, 0, contract, keys.PublicKey{5}))
	if len(res.Messages) != 1 || !bytes.Equal(res.Messages[0].Origin, oc0) {
		t.Fatal("contract key not delivered")
	}
	rec, ok, err := phat.GetContractKey(c.st, contract)
	if err != nil || !ok || rec != (phat.ContractKey{Cluster: id0, Pubkey: keys.PublicKey{5}}) {
		t.Fatalf("%+v %v %v", rec, ok, err)
	}
	refused(t, c, submit(state.CodeContractKeyMismatch, ck(clusterKey, id0, 1, contract, keys.PublicKey{6})), oc0, 2)
	// A contract key from a worker origin.
	wk := msg.Sign(w1, msg.Message{Origin: o1, Topic: []byte(msg.TopicContractKey), Payload: scale.Encode(&msg.ContractKey{Contract: [32]byte{1}})}, 6)
	refused(t, c, submit(state.CodeMqWrongOrigin, wk), o1, 7)

	// Worker changes.
	feeOnly(t, c.sudo(state.CodeAlreadyInCluster, alice, phat.AddWorkerCall(id0, w3.Public())))
	feeOnly(t, c.sudo(state.CodeNotInCluster, alice, phat.RemoveWorkerCall(id0, w2.Public())))
	feeOnly(t, c.sudo(state.CodeUnknownCluster, alice, phat.AddWorkerCall([32]byte{31: 9}, w2.Public())))
	feeOnly(t, c.sudo(state.CodeWorkerNotRegistered, alice, phat.AddWorkerCall(id0, dev(t, "Nobody").Public())))
	res = c.sudo(state.CodeOK, alice, phat.AddWorkerCall(id0, w2.Public()))
	if err := scale.Decode(res.Messages[0].Payload, &cc); err != nil || cc.Kind != msg.ClusterWorkerAdded || cc.Worker != w2.Public() || cc.Cluster != id0 {
		t.Fatalf("%+v %v", cc, err)
	}
	c.sudo(state.CodeOK, alice, phat.RemoveWorkerCall(id0, w3.Public()))
	cl0, _, _ = phat.GetCluster(c.st, id0)
	if len(cl0.Workers) != 1 || cl0.Workers[0] != w2.Public() || len(cl0.Keyed) != 0 || cl0.Pubkey != clusterKey.Public() {
		t.Fatalf("%+v", cl0)
	}
}

func TestDevBootstrap(t *testing.T) {
	c := newRegistryChain(t, func(g *state.Genesis) { g.App.DevBootstrap = true })
	alice := dev(t, "Alice")
	w1, w2 := dev(t, "Worker1"), dev(t, "Worker2")
	info := c.regInfo(w1, alice.Public())
	res := c.do(state.CodeOK, c.register(alice, 0, info, devAtt(t, info)))
	if len(res.Messages) != 3 || string(res.Messages[0].Topic) != msg.TopicWorkerRegistered ||
		string(res.Messages[1].Topic) != msg.TopicGatekeeperChanged || string(res.Messages[2].Topic) != msg.TopicClusterChanged {
		t.Fatalf("messages %+v", res.Messages)
	}
	gks, _ := gatekeeper.List(c.st)
	if len(gks) != 1 || gks[0] != (gatekeeper.Gatekeeper{Identity: w1.Public()}) {
		t.Fatalf("%+v", gks)
	}
	cl, ok, err := phat.GetCluster(c.st, phat.ClusterID(0))
	if err != nil || !ok || cl.Owner != alice.Public() || cl.Permission != phat.PermissionPublic || len(cl.Workers) != 1 || cl.Workers[0] != w1.Public() {
		t.Fatalf("%+v %v %v", cl, ok, err)
	}
	// Later registrations (and a re-registration) change nothing else.
	c.block()
	info2 := c.regInfo(w2, alice.Public())
	info1 := c.regInfo(w1, alice.Public())
	res = c.block(c.register(alice, 1, info2, devAtt(t, info2)), c.register(alice, 2, info1, devAtt(t, info1)))
	if len(res.Messages) != 2 {
		t.Fatalf("%d messages", len(res.Messages))
	}
	onlyWrites(t, res.WriteSet, state.PrefixAccount, []byte("registry/"))
	if ids, _ := phat.ClusterIDs(c.st); len(ids) != 1 {
		t.Fatal(ids)
	}
}

func TestGenesisAdminRules(t *testing.T) {
	g := state.DevGenesis("cella-test", testValidators())
	if g.App.Admin == nil || *g.App.Admin != dev(t, "Alice").Public() || !g.App.DevBootstrap {
		t.Fatal("dev genesis: admin //Alice with the dev bootstrap")
	}
	var back state.Genesis
	if err := scale.Decode(scale.Encode(g), &back); err != nil || back.Hash() != g.Hash() || *back.App.Admin != *g.App.Admin || !back.App.DevBootstrap {
		t.Fatal("round trip", err)
	}
	g.App.Admin = nil
	if err := modules.ValidateGenesis(g); err == nil {
		t.Fatal("dev bootstrap without admin validated")
	}
	g.App.DevBootstrap = false
	if err := scale.Decode(scale.Encode(g), &back); err != nil || back.App.Admin != nil {
		t.Fatal("round trip without admin", err)
	}
	enc := scale.Encode(g)
	enc[len(enc)-2] = 2 // the option tag
	if err := scale.Decode(enc, &back); err == nil {
		t.Fatal("bad option tag decoded")
	}
}
