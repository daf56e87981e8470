package contracts_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/metadata"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/worker"
	"github.com/cella-network/cella/internal/worker/contracts"
)

// chain is a fake verified chain: clusters with their keys, uploaded code
// and an empty message queue.
type chain struct {
	t        testing.TB
	master   *keys.Pair
	clusters map[[32]byte]*keys.Pair
	codes    map[[32]byte]fakeCode
	st       *state.MemStore
	codeErr  error
	height   int64
	// interval and members are what Cluster answers as the report
	// interval and workers (zero: no reports).
	interval uint32
	members  []keys.PublicKey
	// owner is the clusters' owner.
	owner keys.PublicKey
	// system is the clusters' system contract (zero: none).
	system [32]byte
	// epoch and epochs are the clusters' master-key epochs and key
	// histories (rotation); grace is the key grace period.
	epoch  map[[32]byte]uint32
	epochs map[[32]byte][]worker.ClusterEpoch
	grace  uint32
}

type fakeCode struct {
	kind uint8
	code []byte
}

var (
	cid   = [32]byte{0xc1}
	cid2  = [32]byte{0xc2}
	alice = keys.PublicKey{0xa1}
	bob   = keys.PublicKey{0xb0}
)

func newChain(t testing.TB) *chain {
	ch := &chain{t: t, master: keys.FromSeed([32]byte{0x99}), clusters: map[[32]byte]*keys.Pair{},
		codes: map[[32]byte]fakeCode{}, st: state.NewMemStore(), epoch: map[[32]byte]uint32{},
		epochs: map[[32]byte][]worker.ClusterEpoch{}, grace: 100}
	for _, id := range [][32]byte{cid, cid2} {
		ch.clusters[id] = cipher.ClusterKey(ch.master, id)
	}
	for _, name := range []string{"flipper", "erc20", "reverter"} {
		ch.upload(msg.CodeKindInk, testcontracts.Wasm(name))
	}
	ch.upload(msg.CodeKindIndeterministic, testcontracts.Wasm("float"))
	return ch
}

func (ch *chain) upload(kind uint8, code []byte) [32]byte {
	h := engine.CodeHash(code)
	ch.codes[h] = fakeCode{kind, code}
	return h
}

func (ch *chain) view(state.Store) worker.ChainView { return view{ch} }

type view struct{ ch *chain }

func (view) Gatekeepers() ([]worker.Gatekeeper, error)     { return nil, nil }
func (view) MasterKey() (worker.MasterRecord, bool, error) { return worker.MasterRecord{}, false, nil }
func (view) AllowedMeasurements() ([][32]byte, error)      { return nil, nil }
func (view) DevAttestation() (bool, keys.PublicKey, error) { return false, keys.PublicKey{}, nil }
func (view) Worker(keys.PublicKey) (msg.WorkerRecord, bool, error) {
	return msg.WorkerRecord{}, false, nil
}
func (v view) ClusterIDs() ([][32]byte, error)    { return [][32]byte{cid, cid2}, nil }
func (view) Liveness() (registry.Liveness, error) { return registry.Liveness{}, nil }
func (view) WorkerLiveness(keys.PublicKey) (registry.WorkerLiveness, error) {
	return registry.WorkerLiveness{}, nil
}
func (v view) Cluster(id [32]byte) (worker.Cluster, bool, error) {
	p := v.ch.clusters[id]
	if p == nil {
		return worker.Cluster{}, false, nil
	}
	return worker.Cluster{ID: id, Pubkey: p.Public(), HasPubkey: true, Epoch: v.ch.epoch[id], Workers: v.ch.members, ReportInterval: v.ch.interval, Owner: v.ch.owner, SystemContract: v.ch.system}, true, nil
}
func (v view) Code(cluster, hash [32]byte) (uint8, []byte, bool, error) {
	if v.ch.codeErr != nil {
		return 0, nil, false, v.ch.codeErr
	}
	c, ok := v.ch.codes[hash]
	return c.kind, c.code, ok, nil
}

func (view) Rotation() (worker.Rotation, bool, error)     { return worker.Rotation{}, false, nil }
func (v view) KeyGrace() (uint32, error)                  { return v.ch.grace, nil }
func (view) MasterEpochs() ([]worker.MasterRecord, error) { return nil, nil }
func (v view) ClusterEpochs(id [32]byte) ([]worker.ClusterEpoch, error) {
	return append([]worker.ClusterEpoch(nil), v.ch.epochs[id]...), nil
}

var sharedRT worker.ContractRuntime

func runtime(t testing.TB) worker.ContractRuntime {
	t.Helper()
	if sharedRT == nil {
		rt, err := contracts.New(context.Background(), engine.Config{})
		if err != nil {
			t.Fatal(err)
		}
		sharedRT = rt
	}
	return sharedRT
}

func workerKeys(seed byte) worker.Keys {
	return worker.Keys{Identity: keys.FromSeed([32]byte{seed}), Ecdh: keys.FromSeed([32]byte{seed, 1})}
}

// keysSnapshot is a worker keys snapshot holding the given cluster keys
// (KeysSnapshot's v1 format, which restore still reads).
func (ch *chain) keysSnapshot(ids ...[32]byte) []byte {
	var w scale.Writer
	w.String(worker.KeysDomainV1)
	w.U8(0)
	w.Compact(uint64(len(ids)))
	for _, id := range ids {
		w.Raw(id[:])
		w.U32(0)
		sk := ch.clusters[id].SecretBytes()
		w.Raw(sk[:])
	}
	return w.Bytes()
}

func (ch *chain) opts() worker.Options {
	return worker.Options{View: ch.view, Contracts: runtime(ch.t)}
}

// core returns a worker core at the chain's height holding the keys of
// clusters ids.
func (ch *chain) core(seed byte, ids ...[32]byte) *worker.Core {
	ch.t.Helper()
	k := workerKeys(seed)
	c, err := worker.NewWithOptions(k, ch.height, ch.opts())
	if err != nil {
		ch.t.Fatal(err)
	}
	if len(ids) > 0 {
		if c, err = worker.RestoreWith(k, ch.opts(), c.Snapshot(), ch.keysSnapshot(ids...)); err != nil {
			ch.t.Fatal(err)
		}
	}
	return c
}

func (ch *chain) block(h int64, ms ...msg.Message) worker.Block {
	return worker.Block{Height: h, TimeUnixNano: 1_700_000_000_000_000_000 + h*6_000_000_000,
		AppVersion: state.AppVersion1, Messages: ms, State: ch.st}
}

// step steps every core with the next block and checks that they all
// emit the same bytes and end on the same cluster roots as the first.
func (ch *chain) step(cores []*worker.Core, ms ...msg.Message) []worker.Ready {
	ch.t.Helper()
	ch.height++
	var out []worker.Ready
	for i, c := range cores {
		rd, err := c.Step(ch.block(ch.height, ms...))
		if err != nil {
			ch.t.Fatalf("core %d block %d: %v", i, ch.height, err)
		}
		out = append(out, rd)
		if i > 0 {
			if !bytes.Equal(encode(rd.Egress), encode(out[0].Egress)) {
				ch.t.Fatalf("block %d: core %d egress differs from core 0 (%v vs %v)", ch.height, i, topics(rd.Egress), topics(out[0].Egress))
			}
			if r, r0 := roots(c), roots(cores[0]); r != r0 {
				ch.t.Fatalf("block %d: core %d roots %s, core 0 %s", ch.height, i, r, r0)
			}
		}
	}
	return out
}

func roots(c *worker.Core) string {
	var b bytes.Buffer
	for _, s := range c.ClusterStates() {
		if s.Backlog == 0 {
			b.WriteString(hex.EncodeToString(s.ID[:2]) + ":" + hex.EncodeToString(s.Root[:]) + " ")
		}
	}
	return b.String()
}

func root(c *worker.Core, id [32]byte) [32]byte {
	for _, s := range c.ClusterStates() {
		if s.ID == id {
			return s.Root
		}
	}
	return [32]byte{}
}

func encode(ms []msg.SignedMessage) []byte {
	var w scale.Writer
	for i := range ms {
		ms[i].EncodeSCALE(&w)
	}
	return w.Bytes()
}

func topics(ms []msg.SignedMessage) []string {
	var out []string
	for _, m := range ms {
		out = append(out, string(m.Message.Topic))
	}
	return out
}

func phatMsg(topic string, p scale.Encodable) msg.Message {
	return msg.Message{Origin: msg.OriginModule(msg.PhatModuleName), Topic: []byte(topic), Payload: scale.Encode(p)}
}

func mustMeta(t testing.TB, name string) *metadata.Metadata {
	t.Helper()
	md, err := metadata.Parse(testcontracts.Metadata(name))
	if err != nil {
		t.Fatal(err)
	}
	return md
}

func input(t testing.TB, md *metadata.Metadata, expr string, ctor bool) []byte {
	t.Helper()
	_, b, err := md.EncodeExpr(expr, ctor)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return b
}

const gas = 1_000_000_000

// instantiate is the chain's phat/instantiate for the index-th message of
// block h.
func (ch *chain) instantiate(cluster [32]byte, deployer keys.PublicKey, code string, data []byte, h int64, index uint32) (msg.Message, [32]byte, [32]byte) {
	hash := engine.CodeHash(testcontracts.Wasm(code))
	p := msg.Instantiate{Cluster: cluster, Contract: msg.ContractID(deployer, hash, cluster, []byte("salt")), Deployer: deployer,
		CodeHash: hash, Data: data, Salt: []byte("salt"), GasLimit: gas, CommandID: msg.CommandID(uint64(h), index)}
	return phatMsg(msg.TopicPhatInstantiate, &p), p.Contract, p.CommandID
}

// command is the chain's phat/command carrying payload.
func command(cluster, contract [32]byte, origin keys.PublicKey, payload []byte, reserved uint64, h int64, index uint32) (msg.Message, [32]byte) {
	p := msg.Command{Cluster: cluster, Contract: contract, Origin: origin, Payload: payload, GasLimit: reserved,
		CommandID: msg.CommandID(uint64(h), index)}
	return phatMsg(msg.TopicPhatCommand, &p), p.CommandID
}

func plain(t *testing.T, nonce string, message []byte, gasLimit uint64) []byte {
	t.Helper()
	b, err := (&phatwire.CommandPayload{Plain: &phatwire.InkCommand{Nonce: []byte(nonce), Message: message, GasLimit: gasLimit}}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// encrypted builds an encrypted payload as @phala/sdk does: an ephemeral
// sr25519 key agrees with the contract's published ECDH key.
func encrypted(t *testing.T, to keys.PublicKey, nonce string, message []byte, gasLimit uint64) []byte {
	t.Helper()
	eph := cipher.NewEcdhKey(keys.FromSeed([32]byte{0xe7, byte(len(nonce)), nonce[0]}))
	iv := cipher.IV{1, 2, 3, nonce[0]}
	p, err := phatwire.EncryptCommand(eph, to, iv, &phatwire.InkCommand{Nonce: []byte(nonce), Message: message, GasLimit: gasLimit})
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// published returns the contract keys and outcomes in rd's cluster egress.
func published(t testing.TB, rd worker.Ready) (map[[32]byte]keys.PublicKey, map[[32]byte]uint64, []msg.InstantiateFailed) {
	t.Helper()
	ks, outs := map[[32]byte]keys.PublicKey{}, map[[32]byte]uint64{}
	var failed []msg.InstantiateFailed
	for _, m := range rd.Egress {
		switch string(m.Message.Topic) {
		case msg.TopicContractKey:
			var p msg.ContractKey
			if err := scale.Decode(m.Message.Payload, &p); err != nil {
				t.Fatal(err)
			}
			ks[p.Contract] = p.Pubkey
		case msg.TopicClusterOutcomes:
			var p msg.Outcomes
			if err := scale.Decode(m.Message.Payload, &p); err != nil {
				t.Fatal(err)
			}
			for _, o := range p.Entries {
				outs[o.CommandID] = o.GasUsed
			}
		case msg.TopicInstantiateFailed:
			var p msg.InstantiateFailed
			if err := scale.Decode(m.Message.Payload, &p); err != nil {
				t.Fatal(err)
			}
			failed = append(failed, p)
		}
	}
	return ks, outs, failed
}

func outcome(t *testing.T, c *worker.Core, cluster [32]byte, origin keys.PublicKey, id [32]byte) worker.CommandOutcome {
	t.Helper()
	o, ok := c.Outcome(cluster, origin, id)
	if !ok {
		t.Fatalf("no outcome for %x", id[:4])
	}
	return o
}

// TestClusterExecution: two keyed workers of a cluster instantiate flipper
// and erc20 and run plain and encrypted commands with identical egress and
// state roots; a worker without the key counts the same sequences, keeps
// the inputs and, once keyed, replays them to the same root; a worker
// restored from a snapshot mid-way goes on with the same bytes.
func TestClusterExecution(t *testing.T) {
	ch := newChain(t)
	fl, erc := mustMeta(t, "flipper"), mustMeta(t, "erc20")
	a, b, late := ch.core(1, cid), ch.core(2, cid), ch.core(3)

	m1, flipper, id1 := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	m2, token, id2 := ch.instantiate(cid, alice, "erc20", input(t, erc, "new(1000)", true), 1, 1)
	rds := ch.step([]*worker.Core{a, b}, m1, m2)
	if _, err := late.Step(ch.block(1, m1, m2)); err != nil {
		t.Fatal(err)
	}
	if got := topics(rds[0].Egress); len(got) != 3 || got[0] != msg.TopicContractKey || got[1] != msg.TopicContractKey || got[2] != msg.TopicClusterOutcomes {
		t.Fatalf("instantiate egress %v", got)
	}
	ks, outs, _ := published(t, rds[0])
	if len(ks) != 2 || outs[id1] == 0 || outs[id2] == 0 || outs[id1] > gas {
		t.Fatalf("keys %v outcomes %v", ks, outs)
	}
	if want := cipher.NewEcdhKey(cipher.ContractKey(ch.clusters[cid], token)).Public(); ks[token] != want {
		t.Fatal("published contract key is not the derived one")
	}
	if sa, _ := a.ClusterSequence(cid); sa != 3 {
		t.Fatalf("cluster sequence %d", sa)
	}
	if sl, _ := late.ClusterSequence(cid); sl != 3 {
		t.Fatalf("keyless worker counts %d sequences, want 3", sl)
	}
	if st := late.ClusterStates(); len(st) != 1 || st[0].Backlog != 2 || st[0].Contracts != 0 {
		t.Fatalf("keyless worker's cluster state %+v", st)
	}
	if root(a, cid) == ([32]byte{}) {
		t.Fatal("no state root")
	}
	var sawRoot bool
	for _, c := range rds[0].Changes {
		sawRoot = sawRoot || (c.Kind == worker.ChangeClusterState && c.Cluster == cid && c.Root == root(a, cid))
	}
	if !sawRoot {
		t.Fatal("no ChangeClusterState with the new root")
	}

	// Block 2: bob flips in plain; alice sends bob 100 tokens encrypted to
	// the token's published key.
	m3, id3 := command(cid, flipper, bob, plain(t, "n1", input(t, fl, "flip()", false), gas), gas, 2, 0)
	m4, id4 := command(cid, token, alice, encrypted(t, ks[token], "n1", input(t, erc, `transfer("0x`+hex.EncodeToString(bob[:])+`", 100)`, false), gas), gas, 2, 1)
	ch.step([]*worker.Core{a, b}, m3, m4)
	if _, err := late.Step(ch.block(2, m3, m4)); err != nil {
		t.Fatal(err)
	}
	if o := outcome(t, a, cid, bob, id3); o.Refused != "" || !o.Result.Success() || o.Result.GasUsed == 0 {
		t.Fatalf("flip: %+v", o)
	}
	if o := outcome(t, a, cid, alice, id4); o.Refused != "" || !o.Result.Success() || len(o.Result.Events) != 1 || o.Result.Events[0].Contract != token {
		t.Fatalf("transfer: %+v", o)
	}

	// A worker restored from a's snapshot (with its keys and clusters).
	restored, err := worker.RestoreWith(workerKeys(1), ch.opts(), a.Snapshot(), a.KeysSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.RestoreClusters(a.ClustersSnapshot()); err != nil {
		t.Fatal(err)
	}
	if root(restored, cid) != root(a, cid) {
		t.Fatal("restored root differs")
	}

	// Block 3: reads through commands (their output is kept for the sender).
	m5, id5 := command(cid, flipper, bob, plain(t, "n2", input(t, fl, "get()", false), gas), gas, 3, 0)
	m6, id6 := command(cid, token, bob, plain(t, "b1", input(t, erc, `balance_of("0x`+hex.EncodeToString(bob[:])+`")`, false), gas), gas, 3, 1)
	ch.step([]*worker.Core{a, b, restored}, m5, m6)
	if _, err := late.Step(ch.block(3, m5, m6)); err != nil {
		t.Fatal(err)
	}
	if o := outcome(t, a, cid, bob, id5); hex.EncodeToString(o.Result.Data) != "0001" {
		t.Fatalf("get after flip: %x", o.Result.Data)
	}
	if o := outcome(t, a, cid, bob, id6); hex.EncodeToString(o.Result.Data) != "00"+hex.EncodeToString(u128(100)) {
		t.Fatalf("balance_of(bob): %x", o.Result.Data)
	}

	// Block 4: the keyless worker receives the cluster key and replays.
	ek, err := cipher.EncryptSecretTo(ch.master, []byte(cipher.ClusterKeySharingSalt), late.Ecdh(), ch.clusters[cid].SecretBytes(), cipher.IV{4})
	if err != nil {
		t.Fatal(err)
	}
	share := msg.ClusterKeyShares{Cluster: cid, Pubkey: ch.clusters[cid].Public(), Shares: []msg.ClusterKeyShare{{Worker: late.Identity(), Key: *ek}}}
	km := msg.Message{Origin: msg.OriginWorker(keys.PublicKey{0x6e}), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&share)}
	ch.step([]*worker.Core{a, b, restored, late}, km)
	if st := late.ClusterStates(); len(st) != 1 || st[0].Backlog != 0 || st[0].Contracts != 2 {
		t.Fatalf("late worker after replay: %+v", st)
	}
	if o := outcome(t, late, cid, bob, id5); hex.EncodeToString(o.Result.Data) != "0001" {
		t.Fatalf("late worker's replayed get: %x", o.Result.Data)
	}

	// Block 5: all four emit the same bytes.
	m7, _ := command(cid, flipper, alice, plain(t, "x", input(t, fl, "flip()", false), gas), gas, 5, 0)
	rds = ch.step([]*worker.Core{a, b, restored, late}, m7)
	if len(rds[3].Egress) != 1 {
		t.Fatalf("late worker emitted %v", topics(rds[3].Egress))
	}
}

func u128(v uint64) []byte {
	var w scale.Writer
	w.U128(scale.U128From(v))
	return w.Bytes()
}

// TestCommandRefusals: what cannot run is refused with a recorded reason,
// reported with zero gas, and changes no contract state.
func TestCommandRefusals(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	c := ch.core(1, cid, cid2)
	m1, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	m2, other, _ := ch.instantiate(cid2, alice, "flipper", input(t, fl, "new(false)", true), 1, 1)
	ch.step([]*worker.Core{c}, m1, m2)
	pub, _ := c.ContractPublicKey(cid, flipper)
	flip := input(t, fl, "flip()", false)
	wrongKey := cipher.NewEcdhKey(keys.FromSeed([32]byte{0x77})).Public()

	m3, first := command(cid, flipper, bob, plain(t, "once", input(t, fl, "get()", false), gas), gas, 2, 0)
	secret := encrypted(t, pub, "alice's", input(t, fl, "get()", false), gas)
	m4, second := command(cid, flipper, alice, secret, gas, 2, 1)
	ch.step([]*worker.Core{c}, m3, m4)
	if o := outcome(t, c, cid, bob, first); o.Refused != "" {
		t.Fatalf("first command refused: %s", o.Refused)
	}
	if o := outcome(t, c, cid, alice, second); o.Refused != "" {
		t.Fatalf("alice's encrypted command refused: %s", o.Refused)
	}
	cases := []struct {
		name     string
		contract [32]byte
		payload  []byte
		reserved uint64
		want     string
	}{
		{"garbage payload", flipper, []byte{7, 7, 7}, gas, worker.RefuseUndecodable},
		{"empty payload", flipper, nil, gas, worker.RefuseUndecodable},
		{"encrypted to another key", flipper, encrypted(t, wrongKey, "e1", flip, gas), gas, worker.RefuseUndecryptable},
		{"encrypted garbage command", flipper, encryptedRaw(t, pub, []byte{9, 9}), gas, worker.RefuseUndecodable},
		{"replayed nonce", flipper, plain(t, "once", flip, gas), gas, worker.RefuseNonceReplayed},
		{"another account's ciphertext copied", flipper, secret, gas, worker.RefuseNonceReplayed},
		{"unknown contract", [32]byte{0xde, 0xad}, plain(t, "n", flip, gas), gas, worker.RefuseUnknownContract},
		{"contract of another cluster", other, plain(t, "n", flip, gas), gas, worker.RefuseUnknownContract},
		{"gas above the reserved gas", flipper, plain(t, "g", flip, gas+1), gas, worker.RefuseGasOverLimit},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := root(c, cid)
			storage := c.ClustersSnapshot()
			m, id := command(cid, tc.contract, bob, tc.payload, tc.reserved, ch.height+1, uint32(i))
			rd := ch.step([]*worker.Core{c}, m)[0]
			o := outcome(t, c, cid, bob, id)
			if o.Refused != tc.want {
				t.Fatalf("refused %q, want %q", o.Refused, tc.want)
			}
			_, outs, _ := published(t, rd)
			if g, ok := outs[id]; !ok || g != 0 || len(rd.Egress) != 1 {
				t.Fatalf("outcome egress %v (gas %d)", topics(rd.Egress), g)
			}
			// The refusal is kept (in the snapshot) but is not part of
			// the state root, which covers contract state and ledger only.
			if bytes.Equal(storage, c.ClustersSnapshot()) {
				t.Fatal("refusal not recorded")
			}
			if root(c, cid) != before {
				t.Fatal("a refused command changed the state root")
			}
		})
	}
	// Nothing flipped: get() still answers false.
	m, id := command(cid, flipper, alice, plain(t, "final", input(t, fl, "get()", false), gas), gas, ch.height+1, 0)
	ch.step([]*worker.Core{c}, m)
	if o := outcome(t, c, cid, alice, id); hex.EncodeToString(o.Result.Data) != "0000" {
		t.Fatalf("flipper state changed by refused commands: %x", o.Result.Data)
	}
}

func encryptedRaw(t *testing.T, to keys.PublicKey, plaintext []byte) []byte {
	t.Helper()
	env, err := cipher.Encrypt(cipher.NewEcdhKey(keys.FromSeed([32]byte{0xe8})), to, cipher.IV{8}, plaintext)
	if err != nil {
		t.Fatal(err)
	}
	b, err := (&phatwire.CommandPayload{Encrypted: env}).Encode()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestTrapsAndFailures: a command that traps after writing leaves no
// write; one that runs out of gas reports the whole gas; a constructor
// that fails reports instantiate_failed and leaves no contract.
func TestTrapsAndFailures(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	c := ch.core(1, cid)
	m1, rev, _ := ch.instantiate(cid, alice, "reverter", []byte{0x9b, 0xae, 0x9d, 0x5e}, 1, 0)
	m2, bad, badID := ch.instantiate(cid, bob, "flipper", []byte{0xde, 0xad, 0xbe, 0xef}, 1, 1)
	m3, fc, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 2)
	rd := ch.step([]*worker.Core{c}, m1, m2, m3)[0]
	ks, outs, failed := published(t, rd)
	if _, ok := ks[rev]; !ok || len(failed) != 1 || failed[0].Contract != bad || failed[0].Reason == "" {
		t.Fatalf("keys %v failed %+v", ks, failed)
	}
	if _, ok := ks[bad]; ok || outs[badID] == 0 {
		t.Fatalf("failed constructor: key published or no gas reported (%v)", outs)
	}
	if got := topics(rd.Egress); len(got) != 4 || got[3] != msg.TopicClusterOutcomes {
		t.Fatalf("egress %v", got)
	}

	before, snap := root(c, cid), c.ClustersSnapshot()
	mTrap, trapID := command(cid, rev, bob, plain(t, "t", []byte{0x8e, 0xcc, 0xf7, 0xa6}, gas), gas, 2, 0)
	mGas, gasID := command(cid, fc, bob, plain(t, "g", input(t, fl, "flip()", false), 10), 10, 2, 1)
	mBad, badCmd := command(cid, bad, bob, plain(t, "b", input(t, fl, "flip()", false), gas), gas, 2, 2)
	ch.step([]*worker.Core{c}, mTrap, mGas, mBad)
	if o := outcome(t, c, cid, bob, trapID); o.Result.Err == "" || o.Refused != "" {
		t.Fatalf("trap: %+v", o)
	}
	if o := outcome(t, c, cid, bob, gasID); o.Result.Err != engine.ErrOutOfGas.Error() {
		t.Fatalf("out of gas: %+v", o)
	}
	if o := outcome(t, c, cid, bob, badCmd); o.Refused != worker.RefuseUnknownContract {
		t.Fatalf("command to a failed contract: %+v", o)
	}
	// A trap, running out of gas and a refusal write no contract state:
	// the outcomes are kept, but the root (contracts and ledger) stays.
	if bytes.Equal(snap, c.ClustersSnapshot()) {
		t.Fatal("outcomes not kept")
	}
	if root(c, cid) != before {
		t.Fatal("a trap, out-of-gas or refusal changed the state root")
	}
	m4, getRev := command(cid, rev, bob, plain(t, "r", []byte{0x2f, 0x86, 0x5b, 0xd9}, gas), gas, 3, 0)
	m5, getFl := command(cid, fc, bob, plain(t, "r", input(t, fl, "get()", false), gas), gas, 3, 1)
	ch.step([]*worker.Core{c}, m4, m5)
	if o := outcome(t, c, cid, bob, getRev); !bytes.HasSuffix(o.Result.Data, []byte{1}) {
		t.Fatalf("reverter state after trap: %x (want the constructor's 1)", o.Result.Data)
	}
	if o := outcome(t, c, cid, bob, getFl); hex.EncodeToString(o.Result.Data) != "0000" {
		t.Fatalf("flipper state after out of gas: %x", o.Result.Data)
	}
}

// TestStepUndoesClusterState: a step that fails after a command ran (code
// unreadable for a later instantiate) leaves the cluster state as it was,
// and the retried step gives the bytes of a core that never failed.
func TestStepUndoesClusterState(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	c, twin := ch.core(1, cid), ch.core(1, cid)
	m1, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	ch.step([]*worker.Core{c, twin}, m1)
	snap, cl, sq := c.Snapshot(), c.ClustersSnapshot(), root(c, cid)

	m2, _ := command(cid, flipper, bob, plain(t, "n", input(t, fl, "flip()", false), gas), gas, 2, 0)
	m3, _, _ := ch.instantiate(cid, bob, "erc20", nil, 2, 1)
	ch.codeErr = errors.New("code record does not decode")
	if _, err := c.Step(ch.block(2, m2, m3)); err == nil {
		t.Fatal("step with unreadable code succeeded")
	}
	if !bytes.Equal(c.Snapshot(), snap) || !bytes.Equal(c.ClustersSnapshot(), cl) || root(c, cid) != sq || c.Height() != 1 {
		t.Fatal("failed step changed the core")
	}
	ch.codeErr = nil
	ch.step([]*worker.Core{c, twin}, m2, m3)
}

// TestRestoreClustersRejectsCorrupt: truncated, trailing or reordered
// bytes are refused and leave the core empty.
func TestRestoreClustersRejectsCorrupt(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	a, late := ch.core(1, cid, cid2), ch.core(2)
	m1, _, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(true)", true), 1, 0)
	m2, _, _ := ch.instantiate(cid2, alice, "flipper", input(t, fl, "new(false)", true), 1, 1)
	ch.step([]*worker.Core{a}, m1, m2)
	if _, err := late.Step(ch.block(1, m1, m2)); err != nil {
		t.Fatal(err)
	}
	for _, src := range []*worker.Core{a, late} {
		good := src.ClustersSnapshot()
		fresh := ch.core(9)
		if err := fresh.RestoreClusters(good); err != nil || !bytes.Equal(fresh.ClustersSnapshot(), good) {
			t.Fatalf("round trip: %v", err)
		}
		for _, b := range [][]byte{good[:len(good)-1], append(bytes.Clone(good), 0), good[:30], nil} {
			fresh := ch.core(9)
			if err := fresh.RestoreClusters(b); !errors.Is(err, worker.ErrCorruptSnapshot) {
				t.Fatalf("corrupt snapshot (%d bytes): %v", len(b), err)
			}
			if len(fresh.ClusterStates()) != 0 {
				t.Fatal("failed restore left state")
			}
		}
	}
	// Two clusters in the wrong order.
	good := a.ClustersSnapshot()
	r := scale.NewReader(good)
	_ = r.String()
	n := r.Compact()
	if n != 2 {
		t.Fatalf("%d clusters", n)
	}
	head := len(good) - r.Remaining()
	body := good[head:]
	half := len(body) / 2
	// Both clusters hold one flipper with the same layout, so the halves
	// are the two clusters.
	swapped := append(append(bytes.Clone(good[:head]), body[half:]...), body[:half]...)
	if err := ch.core(9).RestoreClusters(swapped); !errors.Is(err, worker.ErrCorruptSnapshot) {
		t.Fatalf("unsorted clusters: %v", err)
	}
}

// TestOutcomesPruned: outcomes older than the retention are forgotten at
// a prune height, by key holders and by a late joiner's replay alike.
func TestOutcomesPruned(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	a, late := ch.core(1, cid), ch.core(3)
	m1, flipper, id1 := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	ch.step([]*worker.Core{a}, m1)
	if _, err := late.Step(ch.block(1, m1)); err != nil {
		t.Fatal(err)
	}
	pruneAt := int64(worker.OutcomeRetention/worker.OutcomePruneInterval+1) * worker.OutcomePruneInterval
	m2, id2 := command(cid, flipper, bob, plain(t, "n", input(t, fl, "flip()", false), gas), gas, pruneAt-1, 0)
	for ch.height < pruneAt-1 {
		var ms []msg.Message
		if ch.height == pruneAt-2 {
			ms = []msg.Message{m2}
		}
		ch.step([]*worker.Core{a}, ms...)
		if _, err := late.Step(ch.block(ch.height, ms...)); err != nil {
			t.Fatal(err)
		}
	}
	if _, ok := a.Outcome(cid, alice, id1); !ok {
		t.Fatal("outcome pruned before the prune height")
	}
	before, snap := root(a, cid), a.ClustersSnapshot()
	rd := ch.step([]*worker.Core{a})[0]
	if err := func() error { _, err := late.Step(ch.block(ch.height)); return err }(); err != nil {
		t.Fatal(err)
	}
	if _, ok := a.Outcome(cid, alice, id1); ok {
		t.Fatal("old outcome kept past the retention")
	}
	if _, ok := a.Outcome(cid, bob, id2); !ok {
		t.Fatal("recent outcome pruned")
	}
	// Outcomes are not part of the state root: pruning changes the kept
	// state but neither the root nor the reported changes.
	if bytes.Equal(snap, a.ClustersSnapshot()) {
		t.Fatal("pruning changed nothing")
	}
	if root(a, cid) != before || len(rd.Changes) != 0 {
		t.Fatalf("pruning changed the root (%d changes)", len(rd.Changes))
	}
	ek, err := cipher.EncryptSecretTo(ch.master, []byte(cipher.ClusterKeySharingSalt), late.Ecdh(), ch.clusters[cid].SecretBytes(), cipher.IV{4})
	if err != nil {
		t.Fatal(err)
	}
	share := msg.ClusterKeyShares{Cluster: cid, Pubkey: ch.clusters[cid].Public(), Shares: []msg.ClusterKeyShare{{Worker: late.Identity(), Key: *ek}}}
	km := msg.Message{Origin: msg.OriginWorker(keys.PublicKey{0x6e}), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&share)}
	ch.step([]*worker.Core{a, late}, km) // checks equal roots
	if _, ok := late.Outcome(cid, alice, id1); ok {
		t.Fatal("replay kept a pruned outcome")
	}
}

// TestQuery: a query reads the cluster state as of the last block and
// changes nothing, even when the message writes.
func TestQuery(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	c, keyless := ch.core(1, cid), ch.core(2)
	m1, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(true)", true), 1, 0)
	ch.step([]*worker.Core{c}, m1)
	if _, err := keyless.Step(ch.block(1, m1)); err != nil {
		t.Fatal(err)
	}
	env := worker.ExecEnv{BlockNumber: 1, TimestampMs: 1_700_000_000_000}
	ctx := context.Background()
	q := func(c *worker.Core, dest [32]byte, expr string) (worker.ExecResult, error) {
		return c.Query(ctx, ch.st, env, cid, worker.CallRequest{Caller: bob, Dest: dest, Input: input(t, fl, expr, false), GasLimit: 1 << 62})
	}
	before, snap := root(c, cid), c.ClustersSnapshot()
	res, err := q(c, flipper, "get()")
	if err != nil || !res.Success() || hex.EncodeToString(res.Data) != "0001" {
		t.Fatalf("get: %+v %v", res, err)
	}
	if res, err := q(c, flipper, "flip()"); err != nil || !res.Success() {
		t.Fatalf("flip: %+v %v", res, err)
	}
	if res, _ := q(c, flipper, "get()"); hex.EncodeToString(res.Data) != "0001" {
		t.Fatalf("a query's write stuck: %x", res.Data)
	}
	if root(c, cid) != before || !bytes.Equal(c.ClustersSnapshot(), snap) {
		t.Fatal("a query changed the cluster state")
	}
	if _, err := q(c, [32]byte{0xde}, "get()"); !errors.Is(err, worker.ErrUnknownContract) {
		t.Fatalf("unknown contract: %v", err)
	}
	if _, err := q(keyless, flipper, "get()"); !errors.Is(err, worker.ErrNoClusterKey) {
		t.Fatalf("keyless worker: %v", err)
	}
}

// TestOutcomesSplit: a block's outcomes of one cluster leave in messages of
// at most msg.MaxOutcomesPerMessage entries, in block order, and a worker
// without the key counts as many sequences.
func TestOutcomesSplit(t *testing.T) {
	ch := newChain(t)
	a, late := ch.core(1, cid), ch.core(3)
	n := msg.MaxOutcomesPerMessage + 1
	ms := make([]msg.Message, n)
	ids := make([][32]byte, n)
	for i := range ms {
		ms[i], ids[i] = command(cid, [32]byte{0xee}, bob, []byte{0}, gas, ch.height+1, uint32(i))
	}
	sa0, _ := a.ClusterSequence(cid)
	sl0, _ := late.ClusterSequence(cid)
	rd := ch.step([]*worker.Core{a}, ms...)[0]
	if _, err := late.Step(ch.block(ch.height, ms...)); err != nil {
		t.Fatal(err)
	}
	var got [][32]byte
	var sizes []int
	for _, m := range rd.Egress {
		var p msg.Outcomes
		if string(m.Message.Topic) != msg.TopicClusterOutcomes || scale.Decode(m.Message.Payload, &p) != nil {
			t.Fatalf("egress %v", topics(rd.Egress))
		}
		sizes = append(sizes, len(p.Entries))
		for _, o := range p.Entries {
			got = append(got, o.CommandID)
		}
	}
	if len(sizes) != 2 || sizes[0] != msg.MaxOutcomesPerMessage || sizes[1] != 1 || len(got) != n {
		t.Fatalf("outcome messages of sizes %v", sizes)
	}
	for i := range ids {
		if got[i] != ids[i] {
			t.Fatalf("outcome %d is %x, want %x", i, got[i][:4], ids[i][:4])
		}
	}
	sa, _ := a.ClusterSequence(cid)
	sl, _ := late.ClusterSequence(cid)
	if sa-sa0 != 2 || sl-sl0 != 2 {
		t.Fatalf("sequences advanced by %d (keyed) and %d (keyless), want 2", sa-sa0, sl-sl0)
	}
}

// TestKeyMidBlock: a worker that receives the cluster key between two
// commands of a block replays the first and emits the same outcomes
// message as the key holder, byte for byte.
func TestKeyMidBlock(t *testing.T) {
	ch := newChain(t)
	fl := mustMeta(t, "flipper")
	a, late := ch.core(1, cid), ch.core(3)
	m1, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	ch.step([]*worker.Core{a}, m1)
	if _, err := late.Step(ch.block(ch.height, m1)); err != nil {
		t.Fatal(err)
	}
	ek, err := cipher.EncryptSecretTo(ch.master, []byte(cipher.ClusterKeySharingSalt), late.Ecdh(), ch.clusters[cid].SecretBytes(), cipher.IV{7})
	if err != nil {
		t.Fatal(err)
	}
	share := msg.ClusterKeyShares{Cluster: cid, Pubkey: ch.clusters[cid].Public(), Shares: []msg.ClusterKeyShare{{Worker: late.Identity(), Key: *ek}}}
	km := msg.Message{Origin: msg.OriginWorker(keys.PublicKey{0x6e}), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&share)}
	c1, id1 := command(cid, flipper, alice, plain(t, "k1", input(t, fl, "flip()", false), gas), gas, ch.height+1, 0)
	c2, id2 := command(cid, flipper, bob, plain(t, "k2", input(t, fl, "flip()", false), gas), gas, ch.height+1, 2)
	// ch.step fails the test if the two cores' egress differ.
	rds := ch.step([]*worker.Core{a, late}, c1, km, c2)
	_, outs, _ := published(t, rds[1])
	if len(rds[1].Egress) != 1 || len(outs) != 2 || outs[id1] == 0 || outs[id2] == 0 {
		t.Fatalf("late worker emitted %v, outcomes %v", topics(rds[1].Egress), outs)
	}
}
