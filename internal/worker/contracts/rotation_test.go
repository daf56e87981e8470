package contracts_test

import (
	"bytes"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// rekey makes the chain record cluster id's key of the next epoch (derived
// from a fresh master key) at the next block and returns that block's
// messages: the gatekeeper's shares to cores and the phat module's
// re-keying notice.
func (ch *chain) rekey(t *testing.T, id [32]byte, seed byte, cores ...*worker.Core) ([]msg.Message, *keys.Pair) {
	t.Helper()
	old := ch.clusters[id]
	if len(ch.epochs[id]) == 0 {
		ch.epochs[id] = []worker.ClusterEpoch{{Epoch: ch.epoch[id], Pubkey: old.Public()}}
	}
	master := keys.FromSeed([32]byte{seed})
	ck := cipher.ClusterKey(master, id)
	ch.epoch[id]++
	ch.clusters[id] = ck
	ch.epochs[id] = append(ch.epochs[id], worker.ClusterEpoch{Epoch: ch.epoch[id], Pubkey: ck.Public(), Height: uint64(ch.height + 1), Grace: ch.grace})
	share := msg.ClusterKeyShares{Cluster: id, Epoch: ch.epoch[id], Pubkey: ck.Public()}
	for i, c := range cores {
		ek, err := cipher.EncryptSecretTo(master, []byte(cipher.ClusterKeySharingSalt), c.Ecdh(), ck.SecretBytes(), cipher.IV{byte(i), seed})
		if err != nil {
			t.Fatal(err)
		}
		share.Shares = append(share.Shares, msg.ClusterKeyShare{Worker: c.Identity(), Key: *ek})
	}
	return []msg.Message{
		phatMsg(msg.TopicClusterRekeyed, &msg.ClusterRekeyed{Cluster: id, Epoch: ch.epoch[id]}),
		{Origin: msg.OriginWorker(keys.PublicKey{0x6e}), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&share)},
	}, ck
}

func contractKeysOf(t *testing.T, rd worker.Ready) *msg.ContractKeys {
	t.Helper()
	var out *msg.ContractKeys
	for _, m := range rd.Egress {
		if string(m.Message.Topic) == msg.TopicContractKeys {
			if out != nil {
				t.Fatal("two contract_keys messages")
			}
			out = new(msg.ContractKeys)
			if err := scale.Decode(m.Message.Payload, out); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

func ecdhOf(cluster *keys.Pair, contract [32]byte) keys.PublicKey {
	return cipher.NewEcdhKey(cipher.ContractKey(cluster, contract)).Public()
}

// TestRotation: two workers of a cluster with flipper and erc20 go through
// two re-keyings of the cluster. Each time both publish the same
// contract_keys message with the keys derived from the new cluster key;
// commands encrypted to the new key run; commands encrypted to an old key
// run up to the grace period after the next key was recorded and are
// refused with RefuseRetiredKey after it; a command's ciphertext sent again
// is refused whatever the key; a worker restored from a snapshot taken
// between the rotations keeps every epoch's key and emits the same bytes;
// contracts keep executing with the cluster's first key.
func TestRotation(t *testing.T) {
	ch := newChain(t)
	ch.grace = 3
	a, b := ch.core(1, cid), ch.core(2, cid)
	cores := []*worker.Core{a, b}
	// late holds no key: it counts the cluster's sequences and retains its
	// inputs until it is keyed at the end.
	late := ch.core(3)
	step := func(ms ...msg.Message) []worker.Ready {
		t.Helper()
		rds := ch.step(cores, ms...)
		rd, err := late.Step(ch.block(ch.height, ms...))
		if err != nil {
			t.Fatal(err)
		}
		if len(rd.Egress) != 0 {
			t.Fatalf("keyless worker emitted %v", topics(rd.Egress))
		}
		return rds
	}
	fl, erc := mustMeta(t, "flipper"), mustMeta(t, "erc20")
	ck0 := ch.clusters[cid]
	mi1, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	mi2, token, _ := ch.instantiate(cid, bob, "erc20", input(t, erc, "new(1000)", true), 1, 1)
	step(mi1, mi2)
	if k, _ := a.ContractPublicKey(cid, flipper); k != ecdhOf(ck0, flipper) {
		t.Fatal("epoch 0 contract key")
	}
	flip := input(t, fl, "flip()", false)
	refusedAs := func(c *worker.Core, id [32]byte, want string) {
		t.Helper()
		if o := outcome(t, c, cid, bob, id); o.Refused != want {
			t.Fatalf("command %x: refused %q, want %q", id[:4], o.Refused, want)
		}
	}

	// Rotation 1 at block 2: both workers publish the epoch-1 keys.
	ms, ck1 := ch.rekey(t, cid, 0x51, a, b)
	rekeyedAt := ch.height + 1
	rds := step(ms...)
	p := contractKeysOf(t, rds[0])
	want := []msg.ContractKey{{Contract: flipper, Pubkey: ecdhOf(ck1, flipper)}, {Contract: token, Pubkey: ecdhOf(ck1, token)}}
	if bytes.Compare(flipper[:], token[:]) > 0 {
		want[0], want[1] = want[1], want[0]
	}
	if p == nil || p.Epoch != 1 || len(p.Keys) != 2 || p.Keys[0] != want[0] || p.Keys[1] != want[1] {
		t.Fatalf("contract keys %+v", p)
	}
	// The cluster's egress is now signed by the new key.
	for _, m := range rds[0].Egress {
		if m.Message.Origin[0] == msg.OriginKindCluster && !m.Verify(ck1.Public()) {
			t.Fatal("cluster egress not signed by the new cluster key")
		}
	}
	if k, _ := a.ContractPublicKey(cid, flipper); k != ecdhOf(ck1, flipper) {
		t.Fatal("current contract key is not epoch 1's")
	}
	if env, _ := a.QueryEnv(cid); env.Public() != ck0.Public() {
		t.Fatal("contracts no longer execute with the cluster's first key")
	}
	if in := a.KeyInfo(nil); len(in.Clusters) != 1 || in.Clusters[0].Epoch != 1 || len(in.Clusters[0].RetiredEpochs) != 1 {
		t.Fatalf("key info %+v", in.Clusters)
	}

	// Block 3: new key, old key within grace, garbage.
	h := ch.height + 1
	mNew, idNew := command(cid, flipper, bob, encrypted(t, ecdhOf(ck1, flipper), "new1", flip, gas), gas, h, 0)
	oldPayload := encrypted(t, ecdhOf(ck0, flipper), "old1", flip, gas)
	mOld, idOld := command(cid, flipper, bob, oldPayload, gas, h, 1)
	mBad, idBad := command(cid, flipper, bob, encrypted(t, keys.FromSeed([32]byte{7}).Public(), "bad", flip, gas), gas, h, 2)
	step(mNew, mOld, mBad)
	refusedAs(a, idNew, "")
	refusedAs(a, idOld, "")
	refusedAs(a, idBad, worker.RefuseUndecryptable)

	// A snapshot between the rotations.
	restored, err := worker.RestoreWith(workerKeysFor(2), ch.opts(), b.Snapshot(), b.KeysSnapshot())
	if err != nil {
		t.Fatal(err)
	}
	if err := restored.RestoreClusters(b.ClustersSnapshot()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(restored.KeysSnapshot(), b.KeysSnapshot()) {
		t.Fatal("restored keys differ")
	}
	cores = append(cores, restored)

	// The same ciphertext in a new transaction: refused (its nonce ran).
	for ch.height+1 < int64(rekeyedAt)+int64(ch.grace) {
		step()
	}
	h = ch.height + 1 // the last block of the grace period
	mCopy, idCopy := command(cid, flipper, bob, oldPayload, gas, h, 0)
	mOld2, idOld2 := command(cid, flipper, bob, encrypted(t, ecdhOf(ck0, flipper), "old2", flip, gas), gas, h, 1)
	step(mCopy, mOld2)
	refusedAs(a, idCopy, worker.RefuseNonceReplayed)
	refusedAs(a, idOld2, "")
	refusedAs(restored, idOld2, "")
	// One block later the old key is retired.
	h = ch.height + 1
	mOld3, idOld3 := command(cid, flipper, bob, encrypted(t, ecdhOf(ck0, flipper), "old3", flip, gas), gas, h, 0)
	mNew2, idNew2 := command(cid, flipper, bob, encrypted(t, ecdhOf(ck1, flipper), "new2", flip, gas), gas, h, 1)
	step(mOld3, mNew2)
	refusedAs(a, idOld3, worker.RefuseRetiredKey)
	refusedAs(restored, idOld3, worker.RefuseRetiredKey)
	refusedAs(a, idNew2, "")

	// Rotation 2: epoch 2; epoch 1's key is within its grace, epoch 0's
	// still retired; all three cores agree.
	ms, ck2 := ch.rekey(t, cid, 0x52, cores...)
	rds = step(ms...)
	if p := contractKeysOf(t, rds[0]); p == nil || p.Epoch != 2 || len(p.Keys) != 2 {
		t.Fatalf("epoch 2 contract keys %+v", p)
	}
	h = ch.height + 1
	m1, id1 := command(cid, token, bob, encrypted(t, ecdhOf(ck1, token), "e1", input(t, erc, "total_supply()", false), gas), gas, h, 0)
	m0, id0 := command(cid, token, bob, encrypted(t, ecdhOf(ck0, token), "e0", input(t, erc, "total_supply()", false), gas), gas, h, 1)
	m2, id2 := command(cid, flipper, bob, encrypted(t, ecdhOf(ck2, flipper), "e2", flip, gas), gas, h, 2)
	step(m1, m0, m2)
	refusedAs(a, id1, "")
	refusedAs(a, id0, worker.RefuseRetiredKey)
	refusedAs(a, id2, "")
	if in := restored.KeyInfo(nil); in.Clusters[0].Epoch != 2 || len(in.Clusters[0].RetiredEpochs) != 2 {
		t.Fatalf("restored key info %+v", in.Clusters)
	}
	// late joins: the gatekeeper sends it the past keys (epochs 0 and 1),
	// then the current one; it replays every retained input, old-key
	// commands in and out of their grace periods included, to the same
	// root, and goes on at the same sequence.
	hist := msg.ClusterKeyHistory{Cluster: cid, Worker: late.Identity()}
	for e, k := range []*keys.Pair{ck0, ck1} {
		ek, err := cipher.EncryptSecretTo(ck2, []byte(cipher.ClusterKeySharingSalt), late.Ecdh(), k.SecretBytes(), cipher.IV{byte(e), 0x1a})
		if err != nil {
			t.Fatal(err)
		}
		hist.Keys = append(hist.Keys, msg.EpochKey{Epoch: uint32(e), Key: *ek})
	}
	ek2, err := cipher.EncryptSecretTo(ck2, []byte(cipher.ClusterKeySharingSalt), late.Ecdh(), ck2.SecretBytes(), cipher.IV{2, 0x1a})
	if err != nil {
		t.Fatal(err)
	}
	share := msg.ClusterKeyShares{Cluster: cid, Epoch: 2, Pubkey: ck2.Public(), Shares: []msg.ClusterKeyShare{{Worker: late.Identity(), Key: *ek2}}}
	gkOrigin := msg.OriginWorker(keys.PublicKey{0x6e})
	cores = append(cores, late)
	ch.step(cores, msg.Message{Origin: gkOrigin, Topic: []byte(msg.TopicClusterKeyHistory), Payload: scale.Encode(&hist)},
		msg.Message{Origin: gkOrigin, Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&share)})
	if root(late, cid) != root(a, cid) {
		t.Fatal("the late worker's replay does not reach the cluster's root")
	}
	refusedAs(late, idOld3, worker.RefuseRetiredKey)
	refusedAs(late, id1, "")
	if env, _ := late.QueryEnv(cid); env.Public() != ck0.Public() {
		t.Fatal("the late worker executes with another first key")
	}
	h = ch.height + 1
	mLast, _ := command(cid, flipper, bob, encrypted(t, ecdhOf(ck2, flipper), "last", flip, gas), gas, h, 0)
	ch.step(cores, mLast) // the same egress bytes from all four

	// A share of an older epoch than the key held is ignored.
	stale := msg.ClusterKeyShares{Cluster: cid, Epoch: 1, Pubkey: ck1.Public()}
	ek, err := cipher.EncryptSecretTo(ck0, []byte(cipher.ClusterKeySharingSalt), a.Ecdh(), ck1.SecretBytes(), cipher.IV{9})
	if err != nil {
		t.Fatal(err)
	}
	stale.Shares = []msg.ClusterKeyShare{{Worker: a.Identity(), Key: *ek}}
	rd, err := a.Step(ch.block(ch.height+1, msg.Message{Origin: msg.OriginWorker(keys.PublicKey{0x6e}), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&stale)}))
	if err != nil {
		t.Fatal(err)
	}
	if k, _ := a.ContractPublicKey(cid, flipper); k != ecdhOf(ck2, flipper) || len(rd.Egress) != 0 {
		t.Fatalf("stale share changed the key or emitted %v", topics(rd.Egress))
	}
}

func workerKeysFor(seed byte) worker.Keys { return workerKeys(seed) }

// TestRetiredKeysBounded: after five re-keyings a command is tried with the
// four newest old keys only: epoch 1's key still decrypts (within the
// grace fixed at the re-keying, whatever the grace is now), epoch 0's is
// refused as undecryptable.
func TestRetiredKeysBounded(t *testing.T) {
	ch := newChain(t)
	a := ch.core(1, cid)
	cores := []*worker.Core{a}
	fl := mustMeta(t, "flipper")
	mi, flipper, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), 1, 0)
	ch.step(cores, mi)
	ks := []*keys.Pair{ch.clusters[cid]}
	for i := 0; i < 5; i++ {
		ms, ck := ch.rekey(t, cid, byte(0x60+i), a)
		ch.step(cores, ms...)
		ks = append(ks, ck)
	}
	// A grace changed after the re-keyings does not change their own.
	ch.grace = 0
	flip := input(t, fl, "flip()", false)
	h := ch.height + 1
	m0, id0 := command(cid, flipper, bob, encrypted(t, ecdhOf(ks[0], flipper), "k0", flip, gas), gas, h, 0)
	m1, id1 := command(cid, flipper, bob, encrypted(t, ecdhOf(ks[1], flipper), "k1", flip, gas), gas, h, 1)
	ch.step(cores, m0, m1)
	if o := outcome(t, a, cid, bob, id0); o.Refused != worker.RefuseUndecryptable {
		t.Fatalf("epoch 0: refused %q", o.Refused)
	}
	if o := outcome(t, a, cid, bob, id1); o.Refused != "" {
		t.Fatalf("epoch 1: refused %q", o.Refused)
	}
}
