package state_test

import (
	"encoding/binary"
	"testing"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// benchCommandPayload is the size of a realistic encrypted command (an
// @phala/sdk ECDH envelope around a SCALE-encoded ink! message).
const benchCommandPayload = 400

// pushBench returns a phat chain with an instantiated contract and
// benchSenders funded senders, a block of one phat.push_command (with a
// benchCommandPayload-byte payload) from each of them, and the baseline:
// a block of one balances.transfer from each of them.
func pushBench(b *testing.B) (pc *phatChain, pushes, transfers [][]byte) {
	b.Helper()
	pc = newPhatChain(b)
	alice, bob := dev(b, "Alice"), dev(b, "Bob")
	flipper := testcontracts.Wasm("flipper")
	pc.upload(state.CodeOK, bob, 0, msg.CodeKindInk, flipper)
	ia := phat.InstantiateArgs{Cluster: pc.ids[0], CodeHash: phat.CodeHash(flipper), Salt: []byte("bench"), GasLimit: 10_000_000}
	pc.do(state.CodeOK, pc.send(bob, phat.InstantiateCall(ia)))
	live := msg.ContractID(bob.Public(), ia.CodeHash, pc.ids[0], ia.Salt)
	pc.report(state.CodeOK, 0, msg.TopicContractKey, &msg.ContractKey{Contract: live, Pubkey: keys.PublicKey{1}})

	pairs := make([]*keys.Pair, benchSenders)
	fund := make([][]byte, benchSenders)
	nonce := pc.account(alice.Public()).Nonce
	for i := range pairs {
		var seed [32]byte
		binary.LittleEndian.PutUint64(seed[:], uint64(i)+1)
		pairs[i] = keys.FromSeed(seed)
		fund[i] = pc.transfer(alice, nonce+uint64(i), pairs[i].Public(), u(10*state.Unit))
	}
	if res := pc.block(fund...); res.TxResults[benchSenders-1].Code != state.CodeOK {
		b.Fatalf("funding: %s", state.CodeName(res.TxResults[benchSenders-1].Code))
	}
	payload := make([]byte, benchCommandPayload)
	for i, p := range pairs {
		payload[0], payload[1] = byte(i), byte(i>>8)
		pushes = append(pushes, tx.Sign(pc.body(p, 0, phat.PushCommandCall(phat.PushArgs{Contract: live, Payload: payload,
			GasLimit: 1_000_000, Deposit: u(0)})), p).Encode())
		transfers = append(transfers, pc.transfer(p, 0, pairs[(i+1)%benchSenders].Public(), u(state.Unit+uint64(i))))
	}
	return pc, pushes, transfers
}

// runBlock executes txs as the next block repeatedly (never committed), every
// signature already in the cache (FinalizeBlock after CheckTx, so the cost
// measured is the execution the call weight covers, plus the per-transaction
// work both blocks share), and reports ns per transaction.
func runBlock(b *testing.B, pc *phatChain, txs [][]byte) {
	res, err := pc.m.ExecuteBlock(pc.st, pc.appHash, pc.header(), txs)
	if err != nil {
		b.Fatal(err)
	}
	for i, r := range res.TxResults {
		if r.Code != state.CodeOK {
			b.Fatalf("tx %d: %s: %s", i, state.CodeName(r.Code), r.Log)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := pc.m.ExecuteBlock(pc.st, pc.appHash, pc.header(), txs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(txs)), "ns/tx")
}

// BenchmarkExecuteBlockPushCommands: a block of benchSenders
// phat.push_command with 400-byte payloads (phat.PushCommandWeight is
// calibrated against BenchmarkExecuteBlockPushBaseline, see there).
func BenchmarkExecuteBlockPushCommands(b *testing.B) {
	pc, pushes, _ := pushBench(b)
	runBlock(b, pc, pushes)
}

// BenchmarkExecuteBlockPushBaseline: the same senders on the same chain
// each sending one balances.transfer (weight TxBaseWeight +
// balances.TransferWeight), the same-run baseline for push_command.
func BenchmarkExecuteBlockPushBaseline(b *testing.B) {
	pc, _, transfers := pushBench(b)
	runBlock(b, pc, transfers)
}

// BenchmarkExecuteBlockOutcomes: one mq.submit of a cluster/outcomes
// message settling the benchSenders commands of a committed push block
// (refund to each sender, charge to the treasury), reported per outcome
// entry; mq.SubmitWeightPerByte is checked against it.
func BenchmarkExecuteBlockOutcomes(b *testing.B) {
	pc, pushes, _ := pushBench(b)
	pc.block(pushes...)
	entries := make([]msg.Outcome, len(pushes))
	for i := range entries {
		entries[i] = msg.Outcome{CommandID: msg.CommandID(uint64(pc.height), uint32(i)), GasUsed: 500_000}
	}
	s := msg.Sign(pc.ck[0], msg.Message{Origin: msg.OriginCluster(pc.ids[0]), Topic: []byte(msg.TopicClusterOutcomes),
		Payload: scale.Encode(&msg.Outcomes{Entries: entries})}, pc.seq[0])
	raw := pc.submit(pc.relayer, pc.account(pc.relayer.Public()).Nonce, s)
	res, err := pc.m.ExecuteBlock(pc.st, pc.appHash, pc.header(), [][]byte{raw})
	if err != nil || res.TxResults[0].Code != state.CodeOK {
		b.Fatalf("%v %+v", err, res.TxResults[0])
	}
	b.ReportMetric(float64(res.TxResults[0].Weight)/float64(len(entries)), "weight/outcome")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := pc.m.ExecuteBlock(pc.st, pc.appHash, pc.header(), [][]byte{raw}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(entries)), "ns/outcome")
}
