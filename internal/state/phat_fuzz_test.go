package state_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// phatFuzzTopics are the cluster → chain topics of contracts.
var phatFuzzTopics = []string{msg.TopicClusterOutcome, msg.TopicInstantiateFailed, msg.TopicContractKey}

// FuzzPhat sends hostile contract input to a chain where cluster 0 holds
// flipper, one instantiated contract and one pending instantiation: kind
// 0..2 are the arguments of upload_code, instantiate and push_command
// (signed by Bob), kind 3..5 a payload of cluster 0 on the outcome,
// instantiate_failed and contract_key topics, kind 6 a cluster/state_root
// payload of Worker1 (a worker of cluster 0, whose root at a report
// height is recorded: a different root there raises an alarm). Execution must not fail and
// must be deterministic; a rejection writes nothing; a failed call or a
// refused message writes only fees (and the origin's sequence) and emits
// nothing; no token is created or destroyed.
func FuzzPhat(f *testing.F) {
	pc := newPhatChain(f)
	bob := dev(f, "Bob")
	flipper := testcontracts.Wasm("flipper")
	hash := phat.CodeHash(flipper)
	pc.upload(state.CodeOK, bob, 0, msg.CodeKindInk, flipper)
	ia := phat.InstantiateArgs{Cluster: pc.ids[0], CodeHash: hash, Salt: []byte("a"), Transfer: u(5), GasLimit: 10_000_000}
	pc.do(state.CodeOK, pc.send(bob, phat.InstantiateCall(ia)))
	live := msg.ContractID(bob.Public(), hash, pc.ids[0], ia.Salt)
	pc.report(state.CodeOK, 0, msg.TopicContractKey, &msg.ContractKey{Contract: live, Pubkey: keys.PublicKey{1}})
	ia.Salt = []byte("b")
	pc.do(state.CodeOK, pc.send(bob, phat.InstantiateCall(ia)))
	pendingCmd := msg.CommandID(uint64(pc.height), 0)
	w1 := dev(f, "Worker1")
	rootSeq := func(tb testing.TB) uint64 {
		n, err := mq.NextSequence(pc.st, msg.OriginWorker(w1.Public()))
		if err != nil {
			tb.Fatal(err)
		}
		return n
	}
	for pc.height < 10 {
		pc.block()
	}
	rootHeight := uint64(pc.height+1) - uint64(pc.height+1)%uint64(phat.DefaultReportInterval)
	pc.do(state.CodeOK, pc.submit(bob, pc.account(bob.Public()).Nonce,
		gkMsg(w1, rootSeq(f), msg.TopicClusterStateRoot, &msg.StateRootReport{Cluster: pc.ids[0], Height: rootHeight, Root: [32]byte{1}})))
	issuance := totalIssuance(f, pc.st)

	f.Add(uint8(0), phat.UploadCodeCall(phat.UploadArgs{Cluster: pc.ids[0], Kind: 1, Code: testcontracts.Wasm("float")}).Args)
	f.Add(uint8(1), phat.InstantiateCall(phat.InstantiateArgs{Cluster: pc.ids[0], CodeHash: hash, Salt: []byte("c"), GasLimit: 1}).Args)
	f.Add(uint8(2), phat.PushCommandCall(phat.PushArgs{Contract: live, Payload: []byte{0}, GasLimit: 7, Deposit: u(1)}).Args)
	f.Add(uint8(3), scale.Encode(&msg.Outcome{CommandID: pendingCmd, GasUsed: 3}))
	f.Add(uint8(3), scale.Encode(&msg.Outcome{CommandID: pendingCmd, GasUsed: 3, Payouts: []msg.Payout{{Account: [32]byte(bob.Public()), Amount: u(1)}}}))
	f.Add(uint8(4), scale.Encode(&msg.InstantiateFailed{Contract: msg.ContractID(bob.Public(), hash, pc.ids[0], []byte("b")), Reason: "x"}))
	f.Add(uint8(5), scale.Encode(&msg.ContractKey{Contract: live, Pubkey: keys.PublicKey{2}}))
	f.Add(uint8(7), scale.Encode(&msg.Outcomes{Entries: []msg.Outcome{{CommandID: pendingCmd, GasUsed: 3}}}))
	f.Add(uint8(7), scale.Encode(&msg.Outcomes{Entries: []msg.Outcome{{CommandID: pendingCmd, GasUsed: 3,
		Payouts: []msg.Payout{{Account: [32]byte(bob.Public()), Amount: u(1)}}}, {CommandID: [32]byte{1}}}}))
	f.Add(uint8(6), scale.Encode(&msg.StateRootReport{Cluster: pc.ids[0], Height: rootHeight, Root: [32]byte{2}}))

	f.Fuzz(func(t *testing.T, kind uint8, data []byte) {
		pc.t = t
		var raw, origin []byte
		switch k := int(kind) % 8; {
		case k < 3:
			raw = pc.send(bob, tx.Call{Module: phat.Index, Method: phat.MethodUploadCode + uint8(k), Args: data})
		case k == 6:
			o := msg.OriginWorker(w1.Public())
			s := msg.Sign(w1, msg.Message{Origin: o, Topic: []byte(msg.TopicClusterStateRoot), Payload: data}, rootSeq(t))
			raw, origin = pc.submit(bob, pc.account(bob.Public()).Nonce, s), o
		default:
			o := msg.OriginCluster(pc.ids[0])
			seq, err := mq.NextSequence(pc.st, o)
			if err != nil {
				t.Fatal(err)
			}
			topic := msg.TopicClusterOutcomes
			if k < 6 {
				topic = phatFuzzTopics[k-3]
			}
			s := msg.Sign(pc.ck[0], msg.Message{Origin: o, Topic: []byte(topic), Payload: data}, seq)
			raw, origin = pc.submit(bob, pc.account(bob.Public()).Nonce, s), o
		}
		h := pc.header()
		res, err := pc.m.ExecuteBlock(pc.st, pc.appHash, h, [][]byte{raw})
		if err != nil {
			t.Fatal(err)
		}
		res2, err := pc.m.ExecuteBlock(pc.st, pc.appHash, h, [][]byte{raw})
		if err != nil || res2.AppHash != res.AppHash {
			t.Fatal("not deterministic")
		}
		code := res.TxResults[0].Code
		switch {
		case !state.Accepted(code):
			if len(res.WriteSet) != 0 || len(res.Messages) != 0 {
				t.Fatalf("rejection %s wrote", state.CodeName(code))
			}
		case code != state.CodeOK:
			for _, w := range res.WriteSet {
				if !bytes.HasPrefix(w.Key, state.PrefixAccount) && (origin == nil || !bytes.Equal(w.Key, mq.IngressKey(origin))) {
					t.Fatalf("failure %s wrote %q", state.CodeName(code), w.Key)
				}
			}
			if len(res.Messages) != 0 {
				t.Fatal("failure emitted")
			}
		}
		if err := res.WriteSet.Validate(); err != nil {
			t.Fatal(err)
		}
		st := state.NewMemStore()
		st.Apply(pc.st.Dump())
		st.Apply(res.WriteSet)
		if got := totalIssuance(t, st); got != issuance {
			t.Fatalf("issuance %s, want %s", got, issuance)
		}
	})
}
