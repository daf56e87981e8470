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
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// fuzzTopics are the topics with on-chain handlers (and one without).
var fuzzTopics = []string{msg.TopicMasterPubkey, msg.TopicMasterKeyShare, msg.TopicGatekeeperReady, msg.TopicClusterKeys, msg.TopicContractKey, "worker/other",
	msg.TopicContractKeys, msg.TopicClusterKeyHistory, msg.TopicMasterKeyHistory}

// FuzzKeyHierarchy sends hostile key-hierarchy input to a chain where
// Worker1 is the active gatekeeper and cluster 0 (Worker3) is keyed: a
// payload on a handled topic from a worker or from the cluster (kind picks
// topic and origin), or arbitrary admin.sudo arguments signed by the admin
// (kind ≥ 2·len(fuzzTopics)). Execution must not fail, must be
// deterministic; a refused message must write only fees and its origin's
// sequence; a rejected transaction must write nothing.
func FuzzKeyHierarchy(f *testing.F) {
	c, ws := keysChain(f)
	alice, bob := dev(f, "Alice"), dev(f, "Bob")
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(ws[0].Public()))
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(ws[1].Public()))
	c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: bob.Public(), Workers: []keys.PublicKey{ws[2].Public()}}))
	master := keys.PublicKey{0x4d}
	c.do(state.CodeOK, c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(ws[0], 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: master})))
	clusterKey := dev(f, "ClusterKey0")
	sh := &msg.ClusterKeyShares{Pubkey: clusterKey.Public(), Shares: []msg.ClusterKeyShare{{Worker: ws[2].Public(), Key: dummyKey()}}}
	c.do(state.CodeOK, c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(ws[0], 1, msg.TopicClusterKeys, sh)))

	f.Add(uint8(0), scale.Encode(&msg.MasterPubkey{Pubkey: master}))
	f.Add(uint8(1), scale.Encode(&msg.MasterKeyShare{Receiver: ws[1].Public(), Key: dummyKey()}))
	f.Add(uint8(2), scale.Encode(&msg.GatekeeperReady{Pubkey: master}))
	f.Add(uint8(3), scale.Encode(sh))
	n := uint8(len(fuzzTopics))
	f.Add(n+4, scale.Encode(&msg.ContractKey{Contract: [32]byte{1}, Pubkey: keys.PublicKey{2}}))
	f.Add(2*n, admin.SudoCall(phat.AddWorkerCall([32]byte{}, ws[1].Public())).Args)
	f.Add(2*n, []byte{})
	// Rotation: the calls, a new epoch's announcement, contract keys of an
	// epoch and a history.
	f.Add(2*n, admin.SudoCall(gatekeeper.RotateMasterKeyCall()).Args)
	f.Add(2*n, admin.SudoCall(gatekeeper.SetKeyGraceCall(5)).Args)
	f.Add(uint8(0), scale.Encode(&msg.MasterPubkey{Epoch: 1, Pubkey: keys.PublicKey{0x4e}}))
	f.Add(n+6, scale.Encode(&msg.ContractKeys{Keys: []msg.ContractKey{{Contract: [32]byte{1}, Pubkey: keys.PublicKey{2}}}}))
	f.Add(uint8(7), scale.Encode(&msg.ClusterKeyHistory{Worker: ws[2].Public(), Keys: []msg.EpochKey{{Key: dummyKey()}}}))

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		c.t = t // the chain's helpers report to this run (runs in one process are sequential)
		n := len(fuzzTopics)
		var raw, origin []byte
		switch {
		case int(kind) < 2*n:
			topic := fuzzTopics[int(kind)%n]
			signer, o := ws[0], msg.OriginWorker(ws[0].Public())
			if int(kind) >= n {
				signer, o = clusterKey, msg.OriginCluster(phat.ClusterID(0))
			}
			seq, err := mq.NextSequence(c.st, o)
			if err != nil {
				t.Fatal(err)
			}
			s := msg.Sign(signer, msg.Message{Origin: o, Topic: []byte(topic), Payload: data}, seq)
			raw, origin = c.submit(bob, c.account(bob.Public()).Nonce, s), o
		default:
			raw = c.send(alice, tx.Call{Module: admin.Index, Method: admin.MethodSudo, Args: data})
		}
		h := c.header()
		res, err := c.m.ExecuteBlock(c.st, c.appHash, h, [][]byte{raw})
		if err != nil {
			t.Fatal(err)
		}
		res2, err := c.m.ExecuteBlock(c.st, c.appHash, h, [][]byte{raw})
		if err != nil || res2.AppHash != res.AppHash {
			t.Fatal("not deterministic")
		}
		code := res.TxResults[0].Code
		switch {
		case !state.Accepted(code):
			if len(res.WriteSet) != 0 || len(res.Messages) != 0 {
				t.Fatalf("rejection %s wrote", state.CodeName(code))
			}
		case code != state.CodeOK && origin != nil:
			for _, w := range res.WriteSet {
				if !bytes.HasPrefix(w.Key, state.PrefixAccount) && !bytes.Equal(w.Key, mq.IngressKey(origin)) {
					t.Fatalf("refusal %s wrote %q", state.CodeName(code), w.Key)
				}
			}
			if len(res.Messages) != 0 {
				t.Fatal("refused message delivered")
			}
		}
		if err := res.WriteSet.Validate(); err != nil {
			t.Fatal(err)
		}
	})
}
