package worker

import (
	"bytes"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/tee"
)

// bootstrap returns a network whose first node is the chain's only
// gatekeeper and holds the master key on chain.
func bootstrap(t *testing.T) (*net, *node) {
	t.Helper()
	f := newFakeChain()
	a := newNode(t, f, 10)
	f.register(a.k, goodCode)
	f.addGatekeeper(a.id())
	n := &net{t: t, f: f, nodes: []*node{a}}
	n.step()
	if got := topics(a.rd.Egress); len(got) != 1 || got[0] != msg.TopicMasterPubkey {
		t.Fatalf("first gatekeeper emitted %v", got)
	}
	if hasChange(a.rd, ChangeKeys) == nil {
		t.Fatal("master key generated without ChangeKeys")
	}
	n.step()
	if f.master == nil || !f.gk(a.id()).Active || f.master.Pubkey != a.c.master.pair.Public() {
		t.Fatalf("chain master %+v, gatekeeper %+v", f.master, f.gk(a.id()))
	}
	return n, a
}

// join adds a node to the network at its current height.
func (n *net) join(t *testing.T, seed byte, code [32]byte) *node {
	nd := newNode(t, n.f, seed)
	nd.c.height = n.height
	n.f.register(nd.k, code)
	n.nodes = append(n.nodes, nd)
	return nd
}

func TestMasterKeyGeneratedOnce(t *testing.T) {
	f := newFakeChain()
	a := newNode(t, f, 10)
	f.register(a.k, goodCode)
	f.addGatekeeper(a.id())
	n := &net{t: t, f: f, nodes: []*node{a}, hold: true}
	n.step()
	first := a.c.master.pair.Public()
	for i := 0; i < 3; i++ {
		n.step() // not landed yet: nothing new
		if len(a.rd.Egress) != 0 || len(a.rd.Changes) != 0 {
			t.Fatalf("step %d while in flight: %v %+v", n.height, topics(a.rd.Egress), a.rd.Changes)
		}
	}
	if a.c.master.pair.Public() != first {
		t.Fatal("master key regenerated")
	}
	pend, _, _ := a.c.Pending(f.st)
	if len(pend) != 1 {
		t.Fatalf("%d pending", len(pend))
	}
	// It lands: the chain records it, and nothing more is sent.
	if _, ok := f.submit(pend[0]); !ok {
		t.Fatal("not accepted")
	}
	n.hold = false
	n.run(3)
	if len(a.rd.Egress) != 0 || f.master.Pubkey != first {
		t.Fatalf("after landing: %v", topics(a.rd.Egress))
	}
	if in := a.c.KeyInfo(f.st); !in.Gatekeeper || !in.HasMaster || in.MasterPublicKey != first {
		t.Fatalf("key info %+v", in)
	}
}

func TestNoMasterWithoutGatekeeperOrEntropy(t *testing.T) {
	f := newFakeChain()
	a := newNode(t, f, 10)
	f.register(a.k, goodCode)
	n := &net{t: t, f: f, nodes: []*node{a}}
	n.run(2) // not a gatekeeper
	if a.c.master != nil || len(a.rd.Egress) != 0 {
		t.Fatal("a worker that is no gatekeeper made a master key")
	}
	a.c.opts.Entropy = nil
	f.addGatekeeper(a.id())
	n.run(2)
	if a.c.master != nil || len(a.rd.Egress) != 0 {
		t.Fatal("master key made without entropy")
	}
}

func TestMasterKeyShare(t *testing.T) {
	n, a := bootstrap(t)
	b := n.join(t, 20, goodCode)
	n.f.addGatekeeper(b.id())
	var shares, readies int
	for i := 0; i < 4; i++ {
		n.step()
		for _, m := range a.rd.Egress {
			if string(m.Message.Topic) == msg.TopicMasterKeyShare {
				shares++
			}
		}
		for _, m := range b.rd.Egress {
			if string(m.Message.Topic) == msg.TopicGatekeeperReady {
				readies++
			}
		}
	}
	if shares != 1 || readies != 1 {
		t.Fatalf("%d shares, %d ready messages", shares, readies)
	}
	if !n.f.gk(b.id()).Active || b.c.master == nil || b.c.master.pair.Public() != n.f.master.Pubkey {
		t.Fatal("second gatekeeper did not get the master key")
	}
	if b.c.master.pair.SecretBytes() != a.c.master.pair.SecretBytes() {
		t.Fatal("master keys differ")
	}
}

// TestTwoGatekeepersAtGenesis: both generate a key; the chain keeps the
// first; the other receives it and drops its own.
func TestTwoGatekeepersAtGenesis(t *testing.T) {
	f := newFakeChain()
	a, b := newNode(t, f, 10), newNode(t, f, 20)
	for _, nd := range []*node{a, b} {
		f.register(nd.k, goodCode)
		f.addGatekeeper(nd.id())
	}
	n := &net{t: t, f: f, nodes: []*node{a, b}}
	n.run(5)
	if f.refused != 1 {
		t.Fatalf("%d refused, want the second master_pubkey", f.refused)
	}
	for _, nd := range []*node{a, b} {
		if !f.gk(nd.id()).Active || !nd.c.holdsMaster(*f.master) {
			t.Fatalf("gatekeeper %s: active %v", nd.id().Hex(), f.gk(nd.id()).Active)
		}
	}
}

func TestOnlyDesignatedGatekeeperSends(t *testing.T) {
	n, a := bootstrap(t)
	b := n.join(t, 20, goodCode)
	n.f.addGatekeeper(b.id())
	n.run(4)
	if !n.f.gk(b.id()).Active {
		t.Fatal("b not active")
	}
	c := n.join(t, 30, goodCode)
	n.f.addGatekeeper(c.id())
	n.f.addCluster([32]byte{7}, c.id())
	designated, other := a, b
	if bi, ai := b.id(), a.id(); bytes.Compare(bi[:], ai[:]) < 0 {
		designated, other = b, a
	}
	var sent int
	for i := 0; i < 4; i++ {
		n.step()
		for _, m := range other.rd.Egress {
			t.Errorf("non-designated gatekeeper sent %s", m.Message.Topic)
		}
		for _, m := range designated.rd.Egress {
			if s := string(m.Message.Topic); s == msg.TopicMasterKeyShare || s == msg.TopicClusterKeys {
				sent++
			}
		}
	}
	if sent != 2 || !n.f.gk(c.id()).Active || c.c.clusterKeys[[32]byte{7}] == nil {
		t.Fatalf("designated sent %d; c active %v", sent, n.f.gk(c.id()).Active)
	}
}

// TestReceiverRefused: a gatekeeper sends no key to a worker whose
// attestation it cannot verify itself, or whose measurement is not
// allowed; it reports why once, and sends the key when the receiver
// qualifies.
func TestReceiverRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		break_ func(f *fakeChain, b *node)
		fix    func(f *fakeChain, b *node)
		want   string
	}{
		{"measurement off the allow-list",
			func(f *fakeChain, b *node) { f.register(b.k, [32]byte{0xba, 0xd}) },
			func(f *fakeChain, b *node) { f.allowed = append(f.allowed, scaleHash([32]byte{0xba, 0xd})) },
			"not on the allow-list"},
		{"quote binds other report data",
			func(f *fakeChain, b *node) {
				rec := f.workers[b.id()]
				rec.Attestation.Quote = fakeQuote(goodCode, msg.RegistrationInfo{TeeKind: "other"}, f.devRoot)
				f.workers[b.id()] = rec
			},
			func(f *fakeChain, b *node) { f.register(b.k, goodCode) },
			"does not verify"},
		{"quote of another dev root",
			func(f *fakeChain, b *node) {
				rec := f.workers[b.id()]
				rec.Attestation.Quote = fakeQuote(goodCode, rec.Info, keys.PublicKey{9})
				f.workers[b.id()] = rec
			},
			func(f *fakeChain, b *node) { f.register(b.k, goodCode) },
			"does not verify"},
		{"dev attestations refused by the chain",
			func(f *fakeChain, b *node) { f.devAllowed = false },
			func(f *fakeChain, b *node) { f.devAllowed = true },
			"refuses them"},
		{"attestation kind differs from the registration",
			func(f *fakeChain, b *node) {
				rec := f.workers[b.id()]
				rec.Attestation.Kind = "tdx"
				f.workers[b.id()] = rec
			},
			func(f *fakeChain, b *node) { f.register(b.k, goodCode) },
			"kind"},
		{"deregistered by its operator",
			func(f *fakeChain, b *node) { f.dereg[b.id()] = 2 },
			func(f *fakeChain, b *node) { delete(f.dereg, b.id()) },
			"deregistered"},
		{"not registered",
			func(f *fakeChain, b *node) { delete(f.workers, b.id()) },
			func(f *fakeChain, b *node) { f.register(b.k, goodCode) },
			"not registered"},
	} {
		for _, cluster := range []bool{false, true} {
			name := tc.name + "/master"
			if cluster {
				name = tc.name + "/cluster"
			}
			t.Run(name, func(t *testing.T) {
				n, a := bootstrap(t)
				b := n.join(t, 20, goodCode)
				tc.break_(n.f, b)
				cid := [32]byte{3}
				if cluster {
					n.f.addCluster(cid, b.id())
				} else {
					n.f.addGatekeeper(b.id())
				}
				var refusals int
				for i := 0; i < 4; i++ {
					n.step()
					if len(a.rd.Egress) != 0 {
						t.Fatalf("sent %v to a receiver that does not qualify", topics(a.rd.Egress))
					}
					for _, ch := range a.rd.Changes {
						if ch.Kind != ChangeKeyRefused || ch.Subject != b.id() || !strings.Contains(ch.Detail, tc.want) {
							t.Fatalf("change %+v, want a refusal of b containing %q", ch, tc.want)
						}
						refusals++
					}
				}
				if refusals != 1 {
					t.Fatalf("%d refusals reported, want 1", refusals)
				}
				if b.c.master != nil || len(b.c.clusterKeys) != 0 {
					t.Fatal("receiver got a key")
				}
				tc.fix(n.f, b)
				n.run(4)
				if cluster && b.c.clusterKeys[cid] == nil || !cluster && !n.f.gk(b.id()).Active {
					t.Fatal("receiver did not get the key once it qualified")
				}
			})
		}
	}
}

func scaleHash(code [32]byte) [32]byte { return tee.NewDevMeasurement(code).Hash() }

// TestShareRejected: a chain whose master key is m, with b a gatekeeper
// not yet active, steps b with one share message.
func TestShareRejected(t *testing.T) {
	m := keys.FromSeed([32]byte{0x4d})
	other := keys.FromSeed([32]byte{0x4e})
	gen := cipher.NewIVGenerator(m, 0)
	cid := [32]byte{5}
	ck := cipher.ClusterKey(m, cid)
	enc := func(t *testing.T, salt string, to keys.PublicKey, key *keys.Pair) cipher.EncryptedKey {
		ek, err := cipher.EncryptKeyTo(m, gen, []byte(salt), to, key.SecretBytes(), 1)
		if err != nil {
			t.Fatal(err)
		}
		return *ek
	}
	gkOrigin := msg.OriginWorker(keys.PublicKey{0x01})
	masterMsg := func(p msg.MasterKeyShare) msg.Message {
		return msg.Message{Origin: gkOrigin, Topic: []byte(msg.TopicMasterKeyShare), Payload: scale.Encode(&p)}
	}
	clusterMsg := func(p msg.ClusterKeyShares) msg.Message {
		return msg.Message{Origin: gkOrigin, Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&p)}
	}
	bk := testKeys(20)
	me, ecdh := bk.Identity.Public(), bk.Ecdh.Public()
	cKeys := testKeys(30)
	tampered := enc(t, cipher.MasterKeySharingSalt, ecdh, m)
	tampered.EncryptedKey = append([]byte(nil), tampered.EncryptedKey...)
	tampered.EncryptedKey[3] ^= 1
	for _, tc := range []struct {
		name string
		m    func(t *testing.T) msg.Message
		// chainPub: the cluster's pubkey on chain (zero: none).
		chainPub keys.PublicKey
		want     string // "" → ignored silently; "ok" → key kept
	}{
		{"master: valid", func(t *testing.T) msg.Message {
			return masterMsg(msg.MasterKeyShare{Receiver: me, Key: enc(t, cipher.MasterKeySharingSalt, ecdh, m)})
		}, keys.PublicKey{}, "ok"},
		{"master: for another worker", func(t *testing.T) msg.Message {
			return masterMsg(msg.MasterKeyShare{Receiver: cKeys.Identity.Public(), Key: enc(t, cipher.MasterKeySharingSalt, ecdh, m)})
		}, keys.PublicKey{}, ""},
		{"master: does not decrypt", func(t *testing.T) msg.Message {
			return masterMsg(msg.MasterKeyShare{Receiver: me, Key: tampered})
		}, keys.PublicKey{}, "does not decrypt"},
		{"master: encrypted to another key", func(t *testing.T) msg.Message {
			return masterMsg(msg.MasterKeyShare{Receiver: me, Key: enc(t, cipher.MasterKeySharingSalt, cKeys.Ecdh.Public(), m)})
		}, keys.PublicKey{}, "does not decrypt"},
		{"master: not the chain's key", func(t *testing.T) msg.Message {
			return masterMsg(msg.MasterKeyShare{Receiver: me, Key: enc(t, cipher.MasterKeySharingSalt, ecdh, other)})
		}, keys.PublicKey{}, "does not match the chain's master"},
		{"master: other epoch", func(t *testing.T) msg.Message {
			return masterMsg(msg.MasterKeyShare{Receiver: me, Epoch: 1, Key: enc(t, cipher.MasterKeySharingSalt, ecdh, m)})
		}, keys.PublicKey{}, "epoch"},
		{"master: malformed", func(t *testing.T) msg.Message {
			x := masterMsg(msg.MasterKeyShare{Receiver: me, Key: enc(t, cipher.MasterKeySharingSalt, ecdh, m)})
			x.Payload = x.Payload[:len(x.Payload)-1]
			return x
		}, keys.PublicKey{}, ""},
		{"cluster: valid", func(t *testing.T) msg.Message {
			return clusterMsg(msg.ClusterKeyShares{Cluster: cid, Pubkey: ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: me, Key: enc(t, cipher.ClusterKeySharingSalt, ecdh, ck)}}})
		}, ck.Public(), "ok"},
		{"cluster: valid, no pubkey on chain yet", func(t *testing.T) msg.Message {
			return clusterMsg(msg.ClusterKeyShares{Cluster: cid, Pubkey: ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: me, Key: enc(t, cipher.ClusterKeySharingSalt, ecdh, ck)}}})
		}, keys.PublicKey{}, "ok"},
		{"cluster: share for another worker", func(t *testing.T) msg.Message {
			return clusterMsg(msg.ClusterKeyShares{Cluster: cid, Pubkey: ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: cKeys.Identity.Public(), Key: enc(t, cipher.ClusterKeySharingSalt, ecdh, ck)}}})
		}, ck.Public(), ""},
		{"cluster: does not decrypt", func(t *testing.T) msg.Message {
			return clusterMsg(msg.ClusterKeyShares{Cluster: cid, Pubkey: ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: me, Key: enc(t, cipher.ClusterKeySharingSalt, cKeys.Ecdh.Public(), ck)}}})
		}, ck.Public(), "does not decrypt"},
		{"cluster: key is not the payload's pubkey", func(t *testing.T) msg.Message {
			return clusterMsg(msg.ClusterKeyShares{Cluster: cid, Pubkey: ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: me, Key: enc(t, cipher.ClusterKeySharingSalt, ecdh, other)}}})
		}, ck.Public(), "share's public key"},
		{"cluster: payload and key agree, chain differs", func(t *testing.T) msg.Message {
			return clusterMsg(msg.ClusterKeyShares{Cluster: cid, Pubkey: other.Public(), Shares: []msg.ClusterKeyShare{{Worker: me, Key: enc(t, cipher.ClusterKeySharingSalt, ecdh, other)}}})
		}, ck.Public(), "chain's cluster public key"},
		{"cluster: unknown cluster", func(t *testing.T) msg.Message {
			return clusterMsg(msg.ClusterKeyShares{Cluster: [32]byte{6}, Pubkey: ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: me, Key: enc(t, cipher.ClusterKeySharingSalt, ecdh, ck)}}})
		}, ck.Public(), "no such cluster"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeChain()
			f.master = &MasterRecord{Pubkey: m.Public()}
			f.gks = []Gatekeeper{{Identity: me}}
			f.addCluster(cid, me)
			if tc.chainPub != (keys.PublicKey{}) {
				f.clusters[cid].Pubkey, f.clusters[cid].HasPubkey = tc.chainPub, true
			}
			b := newNode(t, f, 20)
			b.c.opts.Entropy = nil
			rd, err := b.c.Step(block(1, f.st, tc.m(t)))
			if err != nil {
				t.Fatal(err)
			}
			isCluster := strings.HasPrefix(tc.name, "cluster")
			got := b.c.master != nil
			if isCluster {
				got = b.c.clusterKeys[cid] != nil
			}
			switch tc.want {
			case "ok":
				if !got || hasChange(rd, ChangeKeys) == nil {
					t.Fatalf("key not kept: %+v", rd.Changes)
				}
				if isCluster {
					if b.c.clusterKeys[cid].pair.Public() != ck.Public() {
						t.Fatal("wrong cluster key")
					}
					if s := b.c.stream(msg.OriginCluster(cid)); s == nil || s.signer == nil {
						t.Fatal("no cluster stream signer")
					}
				} else if topics(rd.Egress)[0] != msg.TopicGatekeeperReady {
					t.Fatalf("egress %v, want ready", topics(rd.Egress))
				}
			case "":
				if got || len(rd.Changes) != 0 || len(rd.Egress) != 0 {
					t.Fatalf("share not ignored: key %v, %+v", got, rd)
				}
			default:
				ch := hasChange(rd, ChangeShareRejected)
				if got || ch == nil || !strings.Contains(ch.Detail, tc.want) || len(rd.Egress) != 0 {
					t.Fatalf("key %v, changes %+v, egress %v; want a rejection containing %q", got, rd.Changes, topics(rd.Egress), tc.want)
				}
			}
		})
	}
}

// TestKeyInfoHidesLostMaster: a gatekeeper that lost the race shows no
// master key until it receives the chain's.
func TestKeyInfoHidesLostMaster(t *testing.T) {
	f := newFakeChain()
	a := newNode(t, f, 10)
	f.register(a.k, goodCode)
	f.addGatekeeper(a.id())
	n := &net{t: t, f: f, nodes: []*node{a}, hold: true}
	n.step()
	if in := a.c.KeyInfo(f.st); !in.HasMaster {
		t.Fatal("generated master key not shown while the chain has none")
	}
	f.master = &MasterRecord{Pubkey: keys.PublicKey{1}}
	if in := a.c.KeyInfo(f.st); in.HasMaster || in.MasterPublicKey != (keys.PublicKey{}) {
		t.Fatalf("a master key that is not the chain's is shown: %+v", in)
	}
}
