package state_test

import (
	"bytes"
	"maps"
	"math/rand/v2"
	"sort"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// phatChain is a keys chain with two public clusters, each with a recorded
// cluster key: cluster 0 (Worker1) and cluster 1 (Worker2).
type phatChain struct {
	*chain
	ids     [2][32]byte
	ck      [2]*keys.Pair
	seq     [2]uint64 // next sequence of each cluster's egress
	relayer *keys.Pair
}

func newPhatChain(t testing.TB) *phatChain {
	t.Helper()
	c, ws := keysChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Workers: []keys.PublicKey{ws[0].Public()}}))
	c.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Workers: []keys.PublicKey{ws[1].Public()}}))
	c.sudo(state.CodeOK, alice, gatekeeper.AddCall(ws[0].Public()))
	pc := &phatChain{chain: c, ids: [2][32]byte{phat.ClusterID(0), phat.ClusterID(1)}, ck: [2]*keys.Pair{dev(t, "ClusterKey0"), dev(t, "ClusterKey1")}, relayer: bob}
	c.do(state.CodeOK, c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(ws[0], 0, msg.TopicMasterPubkey, &msg.MasterPubkey{Pubkey: keys.PublicKey{0x4d}})))
	for i := range 2 {
		sh := &msg.ClusterKeyShares{Cluster: pc.ids[i], Pubkey: pc.ck[i].Public(), Shares: []msg.ClusterKeyShare{{Worker: ws[i].Public(), Key: dummyKey()}}}
		c.do(state.CodeOK, c.submit(bob, c.account(bob.Public()).Nonce, gkMsg(ws[0], uint64(1+i), msg.TopicClusterKeys, sh)))
	}
	return pc
}

// report submits a message of cluster i's egress (relayed by Bob) and
// checks the code.
func (pc *phatChain) report(want uint32, i int, topic string, payload scale.Encodable) *state.BlockResult {
	pc.t.Helper()
	s := msg.Sign(pc.ck[i], msg.Message{Origin: msg.OriginCluster(pc.ids[i]), Topic: []byte(topic), Payload: scale.Encode(payload)}, pc.seq[i])
	pc.seq[i]++
	res := pc.do(want, pc.submit(pc.relayer, pc.account(pc.relayer.Public()).Nonce, s))
	if want != state.CodeOK {
		refused(pc.t.(*testing.T), pc.chain, res, msg.OriginCluster(pc.ids[i]), pc.seq[i])
	}
	return res
}

func (pc *phatChain) escrow(i int) scale.U128 { return pc.free(phat.ClusterAccount(pc.ids[i])) }

func (pc *phatChain) ledger(i int) scale.U128 {
	pc.t.Helper()
	v, err := phat.Ledger(pc.st, pc.ids[i])
	if err != nil {
		pc.t.Fatal(err)
	}
	return v
}

// upload stores code as kind in cluster i, signed by from.
func (pc *phatChain) upload(want uint32, from *keys.Pair, i int, kind uint8, code []byte) *state.BlockResult {
	pc.t.Helper()
	return pc.do(want, pc.send(from, phat.UploadCodeCall(phat.UploadArgs{Cluster: pc.ids[i], Kind: kind, Code: code})))
}

func TestPhatUploadCode(t *testing.T) {
	pc := newPhatChain(t)
	bob := dev(t, "Bob")
	flipper, float := testcontracts.Wasm("flipper"), testcontracts.Wasm("float")

	// Refused code: fee only, nothing stored.
	for name, x := range map[string]struct {
		kind uint8
		code []byte
		log  string
	}{
		"garbage":       {msg.CodeKindInk, []byte("not wasm at all"), "magic"},
		"floats in ink": {msg.CodeKindInk, float, "floating-point"},
		"truncated":     {msg.CodeKindInk, flipper[:len(flipper)/2], "malformed"},
	} {
		res := pc.upload(state.CodeCodeRejected, bob, 0, x.kind, x.code)
		feeOnly(t, res)
		if !strings.Contains(res.TxResults[0].Log, x.log) {
			t.Errorf("%s: log %q", name, res.TxResults[0].Log)
		}
	}
	// Statically refused: oversize, unknown kind, empty (no effect at all).
	for name, a := range map[string]phat.UploadArgs{
		"oversize": {Kind: msg.CodeKindInk, Code: make([]byte, msg.MaxCodeSize+1)},
		"kind":     {Kind: 2, Code: flipper},
		"empty":    {Kind: msg.CodeKindInk},
	} {
		a.Cluster = pc.ids[0]
		if res := pc.do(state.CodeBadArgs, pc.send(bob, phat.UploadCodeCall(a))); len(res.WriteSet) != 0 {
			t.Fatalf("%s: rejection wrote", name)
		}
	}
	feeOnly(t, pc.do(state.CodeUnknownCluster, pc.send(bob, phat.UploadCodeCall(phat.UploadArgs{Cluster: [32]byte{31: 9}, Code: flipper}))))

	// Accepted: stored once, available in the cluster, announced; the
	// weight grows with the arguments.
	res := pc.upload(state.CodeOK, bob, 0, msg.CodeKindInk, flipper)
	hash := phat.CodeHash(flipper)
	args := phat.UploadCodeCall(phat.UploadArgs{Cluster: pc.ids[0], Code: flipper}).Args
	if w := res.TxResults[0].Weight; w != state.TxBaseWeight+phat.UploadCodeWeight+phat.UploadCodeWeightPerByte*uint64(len(args)) {
		t.Fatalf("weight %d", w)
	}
	var cu msg.CodeUploaded
	if len(res.Messages) != 1 || string(res.Messages[0].Topic) != msg.TopicPhatCode || scale.Decode(res.Messages[0].Payload, &cu) != nil ||
		cu != (msg.CodeUploaded{Cluster: pc.ids[0], CodeHash: hash, Kind: msg.CodeKindInk}) {
		t.Fatalf("messages %+v", res.Messages)
	}
	code, ok, err := phat.GetCode(pc.st, hash)
	if err != nil || !ok || code.Kind != msg.CodeKindInk || !bytes.Equal(code.Code, flipper) {
		t.Fatalf("code %v %v", ok, err)
	}
	// A duplicate upload: accepted, nothing written but the fee.
	feeOnly(t, pc.upload(state.CodeOK, bob, 0, msg.CodeKindInk, flipper))
	// The same code to another cluster: only the availability is written.
	res = pc.upload(state.CodeOK, bob, 1, msg.CodeKindInk, flipper)
	onlyWrites(t, res.WriteSet, state.PrefixAccount, phat.PrefixClusterCode)
	if len(res.Messages) != 1 {
		t.Fatal("not announced in cluster 1")
	}
	// The same bytes as another kind: refused.
	feeOnly(t, pc.upload(state.CodeCodeRejected, bob, 0, msg.CodeKindIndeterministic, flipper))
	// Floats are fine in indeterministic code.
	pc.upload(state.CodeOK, bob, 0, msg.CodeKindIndeterministic, float)
	if k, ok, err := phat.CodeInCluster(pc.st, pc.ids[0], phat.CodeHash(float)); err != nil || !ok || k != msg.CodeKindIndeterministic {
		t.Fatalf("float kind %d %v %v", k, ok, err)
	}

	// An owner-only cluster takes code from its owner only.
	alice := dev(t, "Alice")
	pc.sudo(state.CodeOK, alice, phat.CreateClusterCall(phat.CreateArgs{Owner: alice.Public(), Permission: phat.PermissionOwnerOnly, Workers: []keys.PublicKey{dev(t, "Worker3").Public()}}))
	feeOnly(t, pc.do(state.CodeClusterPermission, pc.send(bob, phat.UploadCodeCall(phat.UploadArgs{Cluster: phat.ClusterID(2), Code: flipper}))))
	pc.do(state.CodeOK, pc.send(alice, phat.UploadCodeCall(phat.UploadArgs{Cluster: phat.ClusterID(2), Code: flipper})))
}

func TestPhatContractLifecycle(t *testing.T) {
	pc := newPhatChain(t)
	bob, charlie := dev(t, "Bob"), dev(t, "Charlie")
	flipper := testcontracts.Wasm("flipper")
	pc.upload(state.CodeOK, charlie, 0, msg.CodeKindInk, flipper)
	pc.upload(state.CodeOK, charlie, 0, msg.CodeKindIndeterministic, testcontracts.Wasm("float"))
	hash := phat.CodeHash(flipper)
	inst := func(a phat.InstantiateArgs) tx.Call {
		if a.Cluster == ([32]byte{}) && a.CodeHash == ([32]byte{}) {
			a.Cluster, a.CodeHash = pc.ids[0], hash
		}
		return phat.InstantiateCall(a)
	}
	base := phat.InstantiateArgs{Cluster: pc.ids[0], CodeHash: hash, Data: []byte{0x9b, 0xae, 0x9d, 0x5e}, Salt: []byte("s1"), Transfer: u(7_000), GasLimit: 5_000_000_001}

	// Refusals: fee only.
	for name, x := range map[string]struct {
		mut  func(a *phat.InstantiateArgs)
		code uint32
	}{
		"unknown code":      {func(a *phat.InstantiateArgs) { a.CodeHash = [32]byte{1} }, state.CodeUnknownCode},
		"other cluster":     {func(a *phat.InstantiateArgs) { a.Cluster = pc.ids[1] }, state.CodeUnknownCode},
		"unknown cluster":   {func(a *phat.InstantiateArgs) { a.Cluster = [32]byte{31: 9} }, state.CodeUnknownCluster},
		"indeterministic":   {func(a *phat.InstantiateArgs) { a.CodeHash = phat.CodeHash(testcontracts.Wasm("float")) }, state.CodeIndeterministicCode},
		"gas over max":      {func(a *phat.InstantiateArgs) { a.GasLimit = phat.DefaultMaxGas + 1 }, state.CodeGasLimitTooHigh},
		"balance":           {func(a *phat.InstantiateArgs) { a.Transfer = pc.free(bob.Public()) }, state.CodeInsufficientBalance},
		"transfer overflow": {func(a *phat.InstantiateArgs) { a.Transfer = scale.U128{Lo: ^uint64(0), Hi: ^uint64(0)} }, state.CodeOverflow},
	} {
		a := base
		x.mut(&a)
		res := pc.do(x.code, pc.send(bob, inst(a)))
		feeOnly(t, res)
		_ = name
	}
	if !pc.escrow(0).IsZero() || !pc.ledger(0).IsZero() {
		t.Fatal("a refused instantiate moved value")
	}
	// A reservation that would leave dust below the existential deposit.
	{
		a := base
		raw := pc.send(bob, inst(a))
		fee := pc.m.CheckTx(pc.st, pc.height+1, raw, nil, nil).Fee
		a.Transfer = sub(t, sub(t, sub(t, pc.free(bob.Public()), fee), u(5_001)), u(1))
		feeOnly(t, pc.do(state.CodeBelowExistentialDeposit, pc.send(bob, inst(a))))
	}
	// Oversize data or salt: rejected statically.
	for _, a := range []phat.InstantiateArgs{{Data: make([]byte, msg.MaxCommandPayload+1)}, {Salt: make([]byte, msg.MaxSaltLen+1)}} {
		if res := pc.do(state.CodeBadArgs, pc.send(bob, inst(a))); len(res.WriteSet) != 0 {
			t.Fatal("rejection wrote")
		}
	}

	// Accepted: gas and transfer reserved in the escrow, contract pending.
	before := pc.free(bob.Public())
	res := pc.do(state.CodeOK, pc.send(bob, inst(base)))
	id := msg.ContractID(bob.Public(), hash, pc.ids[0], base.Salt)
	cmd := msg.CommandID(uint64(pc.height), 0)
	gas, _ := phat.Cost(base.GasLimit, u(phat.DefaultGasPrice))
	if gas != u(5_001) {
		t.Fatalf("gas cost %s (rounded up)", gas)
	}
	if got, want := pc.free(bob.Public()), sub(t, sub(t, sub(t, before, res.TxResults[0].Fee), gas), base.Transfer); got != want {
		t.Fatalf("bob %s, want %s", got, want)
	}
	if pc.escrow(0) != add(t, gas, base.Transfer) || pc.ledger(0) != base.Transfer {
		t.Fatalf("escrow %s ledger %s", pc.escrow(0), pc.ledger(0))
	}
	var im msg.Instantiate
	if len(res.Messages) != 1 || string(res.Messages[0].Topic) != msg.TopicPhatInstantiate || scale.Decode(res.Messages[0].Payload, &im) != nil {
		t.Fatalf("messages %+v", res.Messages)
	}
	if im.Contract != id || im.CommandID != cmd || im.Deployer != bob.Public() || im.GasLimit != base.GasLimit || im.Transfer != base.Transfer ||
		!bytes.Equal(im.Data, base.Data) || !bytes.Equal(im.Salt, base.Salt) || im.StorageDepositLimit != nil || im.Cluster != pc.ids[0] {
		t.Fatalf("instantiate %+v", im)
	}
	ct, ok, err := phat.GetContract(pc.st, id)
	if err != nil || !ok || ct.State != phat.ContractPending || ct.Deployer != bob.Public() || ct.CodeHash != hash || ct.Pubkey != nil {
		t.Fatalf("contract %+v %v %v", ct, ok, err)
	}
	if p, ok, _ := phat.GetPending(pc.st, cmd); !ok || p.Reserved != gas || p.Payer != bob.Public() || p.Kind != phat.PendingInstantiate {
		t.Fatalf("pending %+v", p)
	}
	// Replayed: the id exists.
	feeOnly(t, pc.do(state.CodeContractExists, pc.send(bob, inst(base))))

	// Commands before the contract is instantiated, to unknown contracts, oversize.
	push := func(contract [32]byte, gasLimit uint64, deposit scale.U128, payload []byte) tx.Call {
		return phat.PushCommandCall(phat.PushArgs{Contract: contract, Payload: payload, GasLimit: gasLimit, Deposit: deposit})
	}
	feeOnly(t, pc.do(state.CodeContractNotReady, pc.send(bob, push(id, 1, u(0), []byte{0}))))
	feeOnly(t, pc.do(state.CodeUnknownContract, pc.send(bob, push([32]byte{5}, 1, u(0), []byte{0}))))
	if res := pc.do(state.CodeBadArgs, pc.send(bob, push(id, 1, u(0), make([]byte, msg.MaxCommandPayload+1)))); len(res.WriteSet) != 0 {
		t.Fatal("rejection wrote")
	}

	// The outcome of the instantiation: unknown command, wrong cluster, gas over the limit; then refunded.
	pc.report(state.CodeUnknownCommand, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: [32]byte{1}})
	pc.report(state.CodeWrongCluster, 1, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd})
	pc.report(state.CodeGasUsedOverLimit, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd, GasUsed: base.GasLimit + 1})
	// Payouts above the ledger, or to the escrow account itself, are refused.
	pc.report(state.CodePayoutOverLedger, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd,
		Payouts: []msg.Payout{{Account: [32]byte(bob.Public()), Amount: add(t, pc.ledger(0), u(1))}}})
	pc.report(state.CodePayoutOverLedger, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd,
		Payouts: []msg.Payout{{Account: [32]byte(phat.ClusterAccount(pc.ids[0])), Amount: u(1)}}})
	pc.report(state.CodeWrongCluster, 1, msg.TopicContractKey, &msg.ContractKey{Contract: id, Pubkey: keys.PublicKey{0xec}})
	bobBefore, trBefore := pc.free(bob.Public()), pc.free(state.TreasuryAccount)
	res = pc.report(state.CodeOK, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd, GasUsed: 2_000_000})
	// Bob relays: he pays the submit's fee and gets the refund 5001 − 2.
	fee := res.TxResults[0].Fee
	if got, want := pc.free(bob.Public()), add(t, sub(t, bobBefore, fee), u(4_999)); got != want {
		t.Fatalf("bob %s, want %s", got, want)
	}
	if got, want := pc.free(state.TreasuryAccount), add(t, add(t, trBefore, fee), u(2)); got != want {
		t.Fatalf("treasury %s, want %s", got, want)
	}
	if pc.escrow(0) != base.Transfer || pc.ledger(0) != base.Transfer {
		t.Fatalf("escrow %s", pc.escrow(0))
	}
	if _, ok, _ := phat.GetPending(pc.st, cmd); ok {
		t.Fatal("pending kept")
	}
	pc.report(state.CodeUnknownCommand, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd})

	// The cluster publishes the key: instantiated.
	pc.report(state.CodeOK, 0, msg.TopicContractKey, &msg.ContractKey{Contract: id, Pubkey: keys.PublicKey{0xec}})
	ct, _, _ = phat.GetContract(pc.st, id)
	if ct.State != phat.ContractInstantiated || ct.Pubkey == nil || *ct.Pubkey != (keys.PublicKey{0xec}) {
		t.Fatalf("contract %+v", ct)
	}
	pc.report(state.CodeContractNotPending, 0, msg.TopicInstantiateFailed, &msg.InstantiateFailed{Contract: id})

	// Commands.
	feeOnly(t, pc.do(state.CodeGasLimitTooHigh, pc.send(charlie, push(id, phat.DefaultMaxGas+1, u(0), []byte{0}))))
	feeOnly(t, pc.do(state.CodeInsufficientBalance, pc.send(charlie, push(id, 1, pc.free(charlie.Public()), []byte{0}))))
	res = pc.do(state.CodeOK, pc.send(charlie, push(id, 3_000_000, u(11), []byte{1, 2, 3})))
	var cm msg.Command
	if len(res.Messages) != 1 || string(res.Messages[0].Topic) != msg.TopicPhatCommand || scale.Decode(res.Messages[0].Payload, &cm) != nil {
		t.Fatal("no command message")
	}
	cmd2 := msg.CommandID(uint64(pc.height), 0)
	if cm.CommandID != cmd2 || cm.Origin != charlie.Public() || cm.Contract != id || cm.Cluster != pc.ids[0] || cm.GasLimit != 3_000_000 || cm.Deposit != u(11) || !bytes.Equal(cm.Payload, []byte{1, 2, 3}) {
		t.Fatalf("command %+v", cm)
	}
	if pc.escrow(0) != add(t, base.Transfer, u(3+11)) || pc.ledger(0) != add(t, base.Transfer, u(11)) {
		t.Fatalf("escrow %s ledger %s", pc.escrow(0), pc.ledger(0))
	}
	// A second command, then both outcomes in one cluster/outcomes
	// message, which is all or nothing.
	pc.do(state.CodeOK, pc.send(charlie, push(id, 2_000_000, u(0), []byte{4})))
	cmd3 := msg.CommandID(uint64(pc.height), 0)
	escrowBefore, ledgerBefore := pc.escrow(0), pc.ledger(0)
	for _, bad := range []struct {
		code    uint32
		entries []msg.Outcome
	}{
		{state.CodeGasUsedOverLimit, []msg.Outcome{{CommandID: cmd2, GasUsed: 3_000_000}, {CommandID: cmd3, GasUsed: 2_000_001}}},
		{state.CodeUnknownCommand, []msg.Outcome{{CommandID: cmd2}, {CommandID: cmd3}, {CommandID: [32]byte{9}}}},
		{state.CodeMqBadPayload, []msg.Outcome{{CommandID: cmd2}, {CommandID: cmd2}}},
		{state.CodeMqBadPayload, nil},
		// Payouts that fit the ledger one by one but not together.
		{state.CodePayoutOverLedger, []msg.Outcome{
			{CommandID: cmd2, Payouts: []msg.Payout{{Account: [32]byte(bob.Public()), Amount: ledgerBefore}}},
			{CommandID: cmd3, Payouts: []msg.Payout{{Account: [32]byte(bob.Public()), Amount: u(1)}}}}},
	} {
		pc.report(bad.code, 0, msg.TopicClusterOutcomes, &msg.Outcomes{Entries: bad.entries})
		if _, ok, _ := phat.GetPending(pc.st, cmd2); !ok || pc.escrow(0) != escrowBefore || pc.ledger(0) != ledgerBefore {
			t.Fatalf("refused batch (%s) changed state", state.CodeName(bad.code))
		}
	}
	pc.report(state.CodeWrongCluster, 1, msg.TopicClusterOutcomes, &msg.Outcomes{Entries: []msg.Outcome{{CommandID: cmd2}}})
	// All the gas of cmd2 used: nothing back, all to the treasury; cmd3
	// used none: its reservation (2) goes back to Charlie.
	charlieBefore := pc.free(charlie.Public())
	pc.report(state.CodeOK, 0, msg.TopicClusterOutcomes, &msg.Outcomes{Entries: []msg.Outcome{{CommandID: cmd2, GasUsed: 3_000_000}, {CommandID: cmd3}}})
	if pc.free(charlie.Public()) != add(t, charlieBefore, u(2)) || pc.escrow(0) != pc.ledger(0) {
		t.Fatalf("charlie %s (was %s), escrow %s ledger %s", pc.free(charlie.Public()), charlieBefore, pc.escrow(0), pc.ledger(0))
	}
	for _, c := range [][32]byte{cmd2, cmd3} {
		if _, ok, _ := phat.GetPending(pc.st, c); ok {
			t.Fatal("pending kept")
		}
	}

	// A failing constructor, instantiated in a block whose first message is
	// another call's: the command id counts every message of the block.
	b2 := base
	b2.Salt = []byte("s2")
	res = pc.block(pc.send(charlie, phat.UploadCodeCall(phat.UploadArgs{Cluster: pc.ids[1], Code: flipper})), pc.send(bob, inst(b2)))
	if len(res.Messages) != 2 || res.TxResults[1].Code != state.CodeOK || scale.Decode(res.Messages[1].Payload, &im) != nil ||
		im.CommandID != msg.CommandID(uint64(pc.height), 1) {
		t.Fatalf("second message of the block: %+v", im)
	}
	if _, ok, _ := phat.GetPending(pc.st, msg.CommandID(uint64(pc.height), 1)); !ok {
		t.Fatal("reservation not under message index 1")
	}
	id2 := msg.ContractID(bob.Public(), hash, pc.ids[0], b2.Salt)
	pc.report(state.CodeWrongCluster, 1, msg.TopicInstantiateFailed, &msg.InstantiateFailed{Contract: id2, Reason: "trapped"})
	pc.report(state.CodeUnknownContract, 0, msg.TopicInstantiateFailed, &msg.InstantiateFailed{Contract: [32]byte{3}})
	pc.report(state.CodeOK, 0, msg.TopicInstantiateFailed, &msg.InstantiateFailed{Contract: id2, Reason: "trapped"})
	if ct, _, _ := phat.GetContract(pc.st, id2); ct.State != phat.ContractFailed {
		t.Fatalf("contract %+v", ct)
	}
	pc.report(state.CodeContractNotPending, 0, msg.TopicInstantiateFailed, &msg.InstantiateFailed{Contract: id2})
	pc.report(state.CodeContractNotPending, 0, msg.TopicContractKey, &msg.ContractKey{Contract: id2, Pubkey: keys.PublicKey{1}})
	feeOnly(t, pc.do(state.CodeContractNotReady, pc.send(bob, push(id2, 1, u(0), []byte{0}))))
	feeOnly(t, pc.do(state.CodeContractExists, pc.send(bob, inst(b2))))
	if ids, err := phat.ClusterContracts(pc.st, pc.ids[0]); err != nil || len(ids) != 2 {
		t.Fatalf("cluster contracts %x %v", ids, err)
	}
	// A worker origin cannot report outcomes.
	w1 := dev(t, "Worker1")
	s := msg.Sign(w1, msg.Message{Origin: msg.OriginWorker(w1.Public()), Topic: []byte(msg.TopicClusterOutcome), Payload: scale.Encode(&msg.Outcome{})}, 3)
	pc.do(state.CodeMqWrongOrigin, pc.submit(bob, pc.account(bob.Public()).Nonce, s))
	s = msg.Sign(w1, msg.Message{Origin: msg.OriginWorker(w1.Public()), Topic: []byte(msg.TopicClusterOutcomes),
		Payload: scale.Encode(&msg.Outcomes{Entries: []msg.Outcome{{}}})}, 4)
	pc.do(state.CodeMqWrongOrigin, pc.submit(bob, pc.account(bob.Public()).Nonce, s))
}

func TestPhatCost(t *testing.T) {
	max128 := scale.U128{Lo: ^uint64(0), Hi: ^uint64(0)}
	for _, x := range []struct {
		gas   uint64
		price scale.U128
		want  scale.U128
		ok    bool
	}{
		{0, u(1), u(0), true},
		{1, u(1), u(1), true},
		{1_000_000, u(1), u(1), true},
		{1_000_001, u(1), u(2), true},
		{2_500_000_000_000, u(1), u(2_500_000), true},
		{1_000_000, u(0), u(0), true},
		{^uint64(0), max128, scale.U128{}, false},
		{1, max128, scale.U128{Lo: 0x8d36b4c7f3493859, Hi: 0x10c6f7a0b5ed}, true}, // ceil((2^128−1)/10^6)
	} {
		got, ok := phat.Cost(x.gas, x.price)
		if ok != x.ok || (ok && got != x.want) {
			t.Errorf("Cost(%d, %s) = %s %v, want %s %v", x.gas, x.price, got, ok, x.want, x.ok)
		}
	}
}

// TestPhatEscrowInvariant runs random sequences of instantiations,
// commands (reservations), user transfers (some straight into the escrow:
// donations) and outcomes, and checks after every block that the escrow
// holds exactly the cluster's ledger, the pending reservations and the
// donations, that the ledger is the sum of the values reserved with
// transfers and deposits, and that no token is created or destroyed.
func TestPhatEscrowInvariant(t *testing.T) {
	for seed := range uint64(4) {
		pc := newPhatChain(t)
		rng := rand.New(rand.NewPCG(seed, 0x9e3779b9))
		users := []*keys.Pair{dev(t, "Charlie"), dev(t, "Dave"), dev(t, "Eve")}
		flipper := testcontracts.Wasm("flipper")
		pc.upload(state.CodeOK, users[0], 0, msg.CodeKindInk, flipper)
		hash := phat.CodeHash(flipper)
		escrowAcct := phat.ClusterAccount(pc.ids[0])
		issuance := totalIssuance(t, pc.st)
		var (
			ledger, donations scale.U128
			pending           = map[[32]byte]phat.Pending{}
			live              [][32]byte // instantiated contracts
			salt, outcomes    int
			payouts           int
		)
		for step := range 60 {
			who := users[rng.IntN(len(users))]
			value := u(rng.Uint64N(1_000_000))
			gasLimit := rng.Uint64N(phat.DefaultMaxGas + 1)
			switch op := rng.IntN(5); {
			case op == 0:
				salt++
				a := phat.InstantiateArgs{Cluster: pc.ids[0], CodeHash: hash, Salt: []byte{byte(salt), byte(salt >> 8)}, Transfer: value, GasLimit: gasLimit}
				pc.do(state.CodeOK, pc.send(who, phat.InstantiateCall(a)))
				id := msg.ContractID(who.Public(), hash, pc.ids[0], a.Salt)
				cmd := msg.CommandID(uint64(pc.height), 0)
				p, _, _ := phat.GetPending(pc.st, cmd)
				pending[cmd] = p
				ledger = add(t, ledger, value)
				pc.report(state.CodeOK, 0, msg.TopicContractKey, &msg.ContractKey{Contract: id, Pubkey: keys.PublicKey{byte(salt)}})
				live = append(live, id)
			case op == 1 && len(live) > 0:
				id := live[rng.IntN(len(live))]
				pc.do(state.CodeOK, pc.send(who, phat.PushCommandCall(phat.PushArgs{Contract: id, Payload: []byte{byte(step)}, GasLimit: gasLimit, Deposit: value})))
				cmd := msg.CommandID(uint64(pc.height), 0)
				p, _, _ := phat.GetPending(pc.st, cmd)
				pending[cmd] = p
				ledger = add(t, ledger, value)
			case op == 2:
				value = add(t, value, state.DefaultParams().ExistentialDeposit)
				to := users[rng.IntN(len(users))].Public()
				if rng.IntN(3) == 0 {
					to = escrowAcct
					donations = add(t, donations, value)
				}
				pc.do(state.CodeOK, pc.send(who, balances.TransferCall(to, value)))
			case op >= 3 && len(pending) > 0:
				var cmd [32]byte
				for k := range pending { // any pending one
					cmd = k
					break
				}
				p := pending[cmd]
				used := rng.Uint64N(p.GasLimit + 1)
				if rng.IntN(4) == 0 {
					pc.report(state.CodeGasUsedOverLimit, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd, GasUsed: p.GasLimit + 1 + used})
					break
				}
				// Payouts: up to one per user, in account order, within the
				// ledger; sometimes one above it, refused with no change.
				var pays []msg.Payout
				room := ledger
				for _, i := range rng.Perm(len(users))[:rng.IntN(len(users)+1)] {
					if room.IsZero() {
						break
					}
					amt := scale.U128From(1 + rng.Uint64N(room.Lo))
					if room.Hi != 0 {
						amt = scale.U128From(1 + rng.Uint64N(1_000_000))
					}
					room = sub(t, room, amt)
					pays = append(pays, msg.Payout{Account: [32]byte(users[i].Public()), Amount: amt})
				}
				sort.Slice(pays, func(i, j int) bool { return bytes.Compare(pays[i].Account[:], pays[j].Account[:]) < 0 })
				if rng.IntN(5) == 0 {
					over := []msg.Payout{{Account: [32]byte(users[0].Public()), Amount: add(t, ledger, u(1))}}
					pc.report(state.CodePayoutOverLedger, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd, GasUsed: used, Payouts: over})
					break
				}
				before := map[keys.PublicKey]scale.U128{p.Payer: pc.free(p.Payer)}
				for _, po := range pays {
					before[keys.PublicKey(po.Account)] = pc.free(keys.PublicKey(po.Account))
				}
				res := pc.report(state.CodeOK, 0, msg.TopicClusterOutcome, &msg.Outcome{CommandID: cmd, GasUsed: used, Payouts: pays})
				charge, _ := phat.Cost(used, p.Price)
				refund := sub(t, p.Reserved, charge)
				want := maps.Clone(before)
				want[p.Payer] = add(t, want[p.Payer], refund)
				if p.Payer == pc.relayer.Public() {
					want[p.Payer] = sub(t, want[p.Payer], res.TxResults[0].Fee)
				}
				for _, po := range pays {
					want[keys.PublicKey(po.Account)] = add(t, want[keys.PublicKey(po.Account)], po.Amount)
					ledger = sub(t, ledger, po.Amount)
					payouts++
				}
				for a, w := range want {
					if got := pc.free(a); got != w {
						t.Fatalf("seed %d step %d: account %s has %s, want %s", seed, step, a.Hex(), got, w)
					}
				}
				delete(pending, cmd)
				outcomes++
			}
			var reserved scale.U128
			for cmd, p := range pending {
				reserved = add(t, reserved, p.Reserved)
				if _, ok, _ := phat.GetPending(pc.st, cmd); !ok {
					t.Fatalf("seed %d step %d: pending %x missing", seed, step, cmd)
				}
			}
			if l := pc.ledger(0); l != ledger {
				t.Fatalf("seed %d step %d: ledger %s, want %s", seed, step, l, ledger)
			}
			if e, want := pc.escrow(0), add(t, add(t, ledger, reserved), donations); e != want {
				t.Fatalf("seed %d step %d: escrow %s, want ledger %s + pending %s + donations %s", seed, step, e, ledger, reserved, donations)
			}
			if is := totalIssuance(t, pc.st); is != issuance {
				t.Fatalf("seed %d step %d: issuance %s, want %s", seed, step, is, issuance)
			}
		}
		if outcomes < 5 || len(live) < 3 || payouts < 2 {
			t.Fatalf("seed %d: only %d outcomes, %d contracts, %d payouts", seed, outcomes, len(live), payouts)
		}
	}
}

// TestPhatSystemContract: a cluster's owner names an instantiated contract
// of the cluster its system contract; anyone else, an unknown, pending or
// foreign contract is refused with its code and changes nothing.
func TestPhatSystemContract(t *testing.T) {
	pc := newPhatChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	flipper := testcontracts.Wasm("flipper")
	pc.upload(state.CodeOK, bob, 0, msg.CodeKindInk, flipper)
	hash := phat.CodeHash(flipper)
	a := phat.InstantiateArgs{Cluster: pc.ids[0], CodeHash: hash, Data: []byte{0x9b, 0xae, 0x9d, 0x5e}, Salt: []byte("sys"), GasLimit: 1_000_000}
	pc.do(state.CodeOK, pc.send(bob, phat.InstantiateCall(a)))
	id := msg.ContractID(bob.Public(), hash, pc.ids[0], a.Salt)
	set := func(want uint32, from *keys.Pair, cluster, contract [32]byte) {
		t.Helper()
		res := pc.do(want, pc.send(from, phat.SetSystemContractCall(cluster, contract)))
		if want != state.CodeOK {
			feeOnly(t, res)
		}
	}
	set(state.CodeContractNotReady, alice, pc.ids[0], id) // still pending
	pc.report(state.CodeOK, 0, msg.TopicContractKey, &msg.ContractKey{Contract: id, Pubkey: keys.PublicKey{0xec}})
	set(state.CodeClusterPermission, bob, pc.ids[0], id) // the deployer is not the owner
	set(state.CodeUnknownContract, alice, pc.ids[0], [32]byte{7})
	set(state.CodeWrongCluster, alice, pc.ids[1], id)
	set(state.CodeUnknownCluster, alice, [32]byte{31: 9}, id)
	if cl, _, err := phat.GetCluster(pc.st, pc.ids[0]); err != nil || cl.SystemContract != ([32]byte{}) {
		t.Fatalf("system contract before: %x %v", cl.SystemContract, err)
	}
	set(state.CodeOK, alice, pc.ids[0], id)
	if cl, _, err := phat.GetCluster(pc.st, pc.ids[0]); err != nil || cl.SystemContract != id {
		t.Fatalf("system contract: %x %v", cl.SystemContract, err)
	}
	if cl, _, _ := phat.GetCluster(pc.st, pc.ids[1]); cl.SystemContract != ([32]byte{}) {
		t.Fatal("the other cluster got a system contract")
	}
}
