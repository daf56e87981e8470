package worker

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

func readyBytes(rd Ready) []byte {
	b := encode(rd.Egress)
	for _, c := range rd.Changes {
		b = append(b, fmt.Sprintf("%+v", c)...)
	}
	return b
}

// TestTwinCoresAgree: two cores with the same keys, entropy and blocks
// emit identical bytes through the whole gatekeeper and cluster flow.
func TestTwinCoresAgree(t *testing.T) {
	f := newFakeChain()
	a, a2 := newNode(t, f, 10), newNode(t, f, 10)
	f.register(a.k, goodCode)
	f.addGatekeeper(a.id())
	n := &net{t: t, f: f, nodes: []*node{a, a2}}
	n.step()
	b := n.join(t, 20, goodCode)
	f.addGatekeeper(b.id())
	w := n.join(t, 30, goodCode)
	f.addCluster([32]byte{1}, w.id(), b.id())
	for i := 0; i < 6; i++ {
		n.step()
		if !bytes.Equal(readyBytes(a.rd), readyBytes(a2.rd)) {
			t.Fatalf("block %d: twin cores differ", n.height)
		}
	}
	if !bytes.Equal(a.c.Snapshot(), a2.c.Snapshot()) || !bytes.Equal(a.c.KeysSnapshot(), a2.c.KeysSnapshot()) {
		t.Fatal("twin snapshots differ")
	}
	if w.c.clusterKeys[[32]byte{1}] == nil || !f.gk(b.id()).Active {
		t.Fatal("flow did not complete")
	}
}

// TestRestoreMidFlow: cores restored from a snapshot taken while shares
// are in flight emit the same bytes as the originals from then on (the IV
// counter, the shares sent and the cluster sequences are restored).
func TestRestoreMidFlow(t *testing.T) {
	n, a := bootstrap(t)
	if err := a.c.Handle(topicTestContract, msg.OriginModule("test"), handleTestContract); err != nil {
		t.Fatal(err)
	}
	// b sorts after a, so that a stays the designated gatekeeper.
	seed := byte(20)
	for ai := a.id(); ; seed++ {
		if bi := testKeys(seed).Identity.Public(); bytes.Compare(bi[:], ai[:]) > 0 {
			break
		}
	}
	b := n.join(t, seed, goodCode)
	w1 := n.joinContract(t, 41)
	cid := [32]byte{2}
	n.f.addGatekeeper(b.id())
	n.f.addCluster(cid, w1.id())
	n.step() // a sends the master share and the cluster share: in flight
	if len(a.rd.Egress) != 2 {
		t.Fatalf("a sent %v", topics(a.rd.Egress))
	}
	restore := func(nd *node, seed byte) *node {
		c, err := RestoreWith(nd.k, Options{View: n.f.view, Verifier: &fakeVerifier{}, Entropy: &entropy{seed: 0xee}}, nd.c.Snapshot(), nd.c.KeysSnapshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Handle(topicTestContract, msg.OriginModule("test"), handleTestContract); err != nil {
			t.Fatal(err)
		}
		return &node{k: nd.k, c: c}
	}
	a2 := restore(a, 10)
	n.nodes = append(n.nodes, a2)
	n.run(3)
	w12 := restore(w1, 41)
	n.nodes = append(n.nodes, w12)
	// New work after the restore: a third gatekeeper, a second cluster
	// worker, two contracts.
	c := n.join(t, 30, goodCode)
	w2 := n.joinContract(t, 42)
	n.f.addGatekeeper(c.id())
	n.f.addClusterWorker(cid, w2.id())
	var shares, published int
	for i := 0; i < 5; i++ {
		if i == 3 {
			n.extra = []msg.Message{contractMsg(cid, [32]byte{0xc1}), contractMsg(cid, [32]byte{0xc2})}
		}
		n.step()
		shares += len(a.rd.Egress)
		published += len(clusterEgress(w1.rd, cid))
		if !bytes.Equal(readyBytes(a.rd), readyBytes(a2.rd)) {
			t.Fatalf("block %d: restored gatekeeper differs", n.height)
		}
		if !bytes.Equal(readyBytes(w1.rd), readyBytes(w12.rd)) {
			t.Fatalf("block %d: restored cluster worker differs", n.height)
		}
	}
	if shares != 2 || published != 2 || !n.f.gk(c.id()).Active || w2.c.clusterKeys[cid] == nil {
		t.Fatalf("flow after restore incomplete: %d shares", shares)
	}
	if !bytes.Equal(a.c.KeysSnapshot(), a2.c.KeysSnapshot()) || !bytes.Equal(w1.c.Snapshot(), w12.c.Snapshot()) {
		t.Fatal("snapshots differ after the same blocks")
	}
}

func TestRestoreKeysRefused(t *testing.T) {
	n, a := bootstrap(t)
	good := a.c.KeysSnapshot()
	snap := a.c.Snapshot()
	off := len(KeysDomain) + 1 + 1 + 4 // compact string len, option, epoch
	bad := bytes.Clone(good)
	bad[off+64+6] ^= 0xff // the IV sequence: any value restores
	trunc := good[:len(good)-1]
	wrongScalar := bytes.Clone(good)
	for i := 0; i < 32; i++ {
		wrongScalar[off+i] = 0xff
	}
	for name, ks := range map[string][]byte{"truncated": trunc, "bad scalar": wrongScalar, "not keys": []byte("xx")} {
		if _, err := RestoreWith(a.k, Options{View: n.f.view}, snap, ks); !errors.Is(err, ErrCorruptSnapshot) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := RestoreWith(a.k, Options{View: n.f.view}, snap, bad); err != nil {
		t.Errorf("changed IV sequence refused: %v", err)
	}
	// A cluster stream carrying messages without its key is refused.
	w := n.join(t, 41, goodCode)
	n.f.addCluster([32]byte{1}, w.id())
	if err := w.c.Handle(topicTestContract, nil, handleTestContract); err != nil {
		t.Fatal(err)
	}
	n.run(3)
	n.extra = []msg.Message{contractMsg([32]byte{1}, [32]byte{3})}
	n.hold = true
	n.step()
	if _, err := RestoreWith(w.k, Options{}, w.c.Snapshot(), nil); !errors.Is(err, ErrCorruptSnapshot) {
		t.Fatalf("cluster messages without the key: %v", err)
	}
	if _, err := RestoreWith(w.k, Options{}, w.c.Snapshot(), w.c.KeysSnapshot()); err != nil {
		t.Fatal(err)
	}
}

// captureHandler keeps every log record, rendered with its attributes.
type captureHandler struct {
	mu    *sync.Mutex
	lines *[]string
	attrs []slog.Attr
}

func (h captureHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h captureHandler) Handle(_ context.Context, r slog.Record) error {
	var b strings.Builder
	b.WriteString(r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(&b, " %s=%v", a.Key, a.Value)
	}
	r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
	h.mu.Lock()
	*h.lines = append(*h.lines, b.String())
	h.mu.Unlock()
	return nil
}
func (h captureHandler) WithAttrs(as []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return h
}
func (h captureHandler) WithGroup(string) slog.Handler { return h }

// TestNoSecretLeaks runs the gatekeeper and cluster flows (with every
// refusal and rejection) and scans everything that leaves the core in
// the clear — the log lines a shell writes about each step, error strings,
// the key info, printed cores and states, and every egress payload — for
// the master, cluster, contract and IV-generator secrets, raw and hex.
func TestNoSecretLeaks(t *testing.T) {
	var mu sync.Mutex
	var lines []string
	log := slog.New(captureHandler{mu: &mu, lines: &lines})
	var payloads [][]byte
	var texts []string

	n, a := bootstrap(t)
	payloads = append(payloads, encode(a.rd.Egress))
	if err := a.c.Handle(topicTestContract, msg.OriginModule("test"), handleTestContract); err != nil {
		t.Fatal(err)
	}
	b := n.join(t, 20, goodCode)
	bad := n.join(t, 21, [32]byte{0xba, 0xd})
	w1, w2 := n.joinContract(t, 41), n.joinContract(t, 42)
	cid := [32]byte{8}
	n.f.addGatekeeper(b.id())
	n.f.addGatekeeper(bad.id())
	n.f.addCluster(cid, w1.id(), w2.id(), bad.id())
	logStep := func() {
		n.step()
		for _, nd := range n.nodes {
			log.Info("step", "height", n.height, "ready", fmt.Sprintf("%+v", nd.rd), "egress", fmt.Sprintf("%v", nd.rd.Egress))
			for _, c := range nd.rd.Changes {
				log.Warn("worker core", "change", c.Kind.String(), "detail", c.Detail, "subject", c.Subject.Hex(), "all", c)
			}
			payloads = append(payloads, encode(nd.rd.Egress))
			texts = append(texts, fmt.Sprintf("%+v", nd.c), fmt.Sprintf("%#v", nd.c), fmt.Sprintf("%+v", nd.c.State()),
				fmt.Sprintf("%+v", nd.c.KeyInfo(n.f.st)))
		}
	}
	for i := 0; i < 5; i++ {
		logStep()
	}
	n.extra = []msg.Message{contractMsg(cid, [32]byte{0xc1})}
	logStep()
	logStep()
	// Rejected shares: tampered and mismatching ones addressed to w2.
	m := a.c.master.pair
	gen := cipher.NewIVGenerator(m, 1000)
	ek, err := cipher.EncryptKeyTo(m, gen, []byte(cipher.ClusterKeySharingSalt), w2.k.Ecdh.Public(), keys.FromSeed([32]byte{1}).SecretBytes(), 1)
	if err != nil {
		t.Fatal(err)
	}
	p := msg.ClusterKeyShares{Cluster: cid, Pubkey: keys.FromSeed([32]byte{1}).Public(), Shares: []msg.ClusterKeyShare{{Worker: w2.id(), Key: *ek}}}
	n.extra = []msg.Message{{Origin: msg.OriginWorker(a.id()), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&p)}}
	logStep()
	if !strings.Contains(strings.Join(lines, "\n"), "share_rejected") {
		t.Fatal("no rejected share logged")
	}
	// Errors.
	n.f.viewErr = errors.New("view broken")
	for _, nd := range n.nodes {
		if _, err := nd.c.Step(block(n.height+1, n.f.st)); err != nil {
			texts = append(texts, err.Error())
		}
	}
	n.f.viewErr = nil
	ks := a.c.KeysSnapshot()
	for i := 0; i < len(ks); i += 7 {
		c := bytes.Clone(ks)
		c[i] ^= 0xff
		if _, err := RestoreWith(a.k, Options{}, a.c.Snapshot(), c); err != nil {
			texts = append(texts, err.Error())
		}
	}
	texts = append(texts, lines...)

	secrets := map[string][]byte{}
	add := func(name string, p *keys.Pair) {
		sk := p.SecretBytes()
		secrets[name] = sk[:]
		secrets[name+" scalar"] = sk[:32]
		secrets[name+" nonce"] = sk[32:]
	}
	add("master", a.c.master.pair)
	add("iv generator", cipher.IVGeneratorKey(a.c.master.pair))
	ck := w1.c.clusterKeys[cid].pair
	add("cluster", ck)
	add("contract", cipher.ContractKey(ck, [32]byte{0xc1}))
	seed := make([]byte, 32)
	if _, err := (&entropy{seed: 10}).Read(seed); err != nil {
		t.Fatal(err)
	}
	secrets["master seed"] = seed

	all := strings.Join(texts, "\n")
	if len(lines) < 10 || !strings.Contains(all, "not on the allow-list") || !strings.Contains(all, "view broken") {
		t.Fatalf("the scan saw too little (%d log lines)", len(lines))
	}
	for name, s := range secrets {
		for i := 0; i+8 <= len(s); i += 8 {
			chunk := s[i : i+8]
			for _, enc := range []string{string(chunk), hex.EncodeToString(chunk), strings.ToUpper(hex.EncodeToString(chunk))} {
				if strings.Contains(all, enc) {
					t.Errorf("%s secret (bytes %d..%d) appears in logs, errors or printed state", name, i, i+8)
				}
			}
			for _, p := range payloads {
				if bytes.Contains(p, chunk) || bytes.Contains(p, []byte(hex.EncodeToString(chunk))) {
					t.Errorf("%s secret (bytes %d..%d) appears in an egress payload", name, i, i+8)
				}
			}
		}
	}
}
