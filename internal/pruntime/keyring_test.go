package pruntime

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/synth"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tee/dev"
	"github.com/cella-network/cella/internal/worker"
)

// keyWorld is a chain, seen through a static chain view, on which the
// worker is a gatekeeper before any master key exists, and the only
// worker of a cluster whose key a gatekeeper (master key m) sends it at
// height shareAt.
type keyWorld struct {
	id, ecdh keys.PublicKey
	m        *keys.Pair
	cluster  [32]byte
	ck       *keys.Pair
}

func newKeyWorld() *keyWorld {
	m := keys.FromSeed([32]byte{0x4d})
	w := &keyWorld{m: m, cluster: [32]byte{31: 0}}
	w.ck = cipher.ClusterKey(m, w.cluster)
	return w
}

func (w *keyWorld) view(state.Store) worker.ChainView { return staticView{w} }

type staticView struct{ w *keyWorld }

func (v staticView) Gatekeepers() ([]worker.Gatekeeper, error) {
	return []worker.Gatekeeper{{Identity: v.w.id}}, nil
}
func (v staticView) MasterKey() (worker.MasterRecord, bool, error) {
	return worker.MasterRecord{}, false, nil
}
func (v staticView) ClusterIDs() ([][32]byte, error) { return [][32]byte{v.w.cluster}, nil }
func (v staticView) Cluster(id [32]byte) (worker.Cluster, bool, error) {
	if id != v.w.cluster {
		return worker.Cluster{}, false, nil
	}
	return worker.Cluster{ID: id, Workers: []keys.PublicKey{v.w.id}, Pubkey: v.w.ck.Public(), HasPubkey: true}, true, nil
}
func (v staticView) Worker(keys.PublicKey) (msg.WorkerRecord, bool, error) {
	return msg.WorkerRecord{}, false, nil
}
func (v staticView) AllowedMeasurements() ([][32]byte, error) { return nil, nil }
func (v staticView) DevAttestation() (bool, keys.PublicKey, error) {
	return false, keys.PublicKey{}, nil
}
func (v staticView) Code(_, _ [32]byte) (uint8, []byte, bool, error) { return 0, nil, false, nil }
func (v staticView) Liveness() (registry.Liveness, error)            { return registry.Liveness{}, nil }
func (v staticView) WorkerLiveness(keys.PublicKey) (registry.WorkerLiveness, error) {
	return registry.WorkerLiveness{}, nil
}

// chain is a synthetic chain that registers the worker at regAt and
// delivers its cluster key share at shareAt.
func (w *keyWorld) chain(t *testing.T, regAt, shareAt int64) *synth.Chain {
	t.Helper()
	c, err := synth.New(synth.Config{Messages: func(h int64) []msg.Message {
		switch h {
		case regAt:
			rec := msg.WorkerRecord{Info: msg.RegistrationInfo{IdentityPublicKey: w.id, TeeKind: "dev"}, RegisteredAt: uint64(h)}
			return []msg.Message{{Origin: msg.OriginModule(msg.RegistryModuleName), Topic: []byte(msg.TopicWorkerRegistered), Payload: scale.Encode(&rec)}}
		case shareAt:
			ek, err := cipher.EncryptKeyTo(w.m, cipher.NewIVGenerator(w.m, 0), []byte(cipher.ClusterKeySharingSalt), w.ecdh, w.ck.SecretBytes(), uint32(h))
			if err != nil {
				t.Fatal(err)
			}
			p := msg.ClusterKeyShares{Cluster: w.cluster, Pubkey: w.ck.Public(), Shares: []msg.ClusterKeyShare{{Worker: w.id, Key: *ek}}}
			return []msg.Message{{Origin: msg.OriginWorker(w.m.Public()), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&p)}}
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fixedEntropy is a deterministic entropy source.
type fixedEntropy struct{ n byte }

func (e *fixedEntropy) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = e.n*7 + 3
		e.n++
	}
	return len(b), nil
}

// flakyTEE fails Seal while fail is set.
type flakyTEE struct {
	tee.Provider
	fail *bool
}

func (f flakyTEE) BindGenesis(gh [32]byte) error { return tee.BindGenesis(f.Provider, gh) }

func (f flakyTEE) Seal(p, aad []byte) ([]byte, error) {
	if *f.fail {
		return nil, errors.New("seal failed")
	}
	return f.Provider.Seal(p, aad)
}

func openKeys(t *testing.T, dir string, interval int64, w *keyWorld, fail *bool, log *slog.Logger) *Runtime {
	t.Helper()
	p, err := dev.New(dev.Config{BuildID: DevBuildID(), SealDir: dir, Log: quietLog()})
	if err != nil {
		t.Fatal(err)
	}
	var tp tee.Provider = p
	if fail != nil {
		tp = flakyTEE{p, fail}
	}
	if log == nil {
		log = quietLog()
	}
	r, err := Open(Config{DataDir: dir, TEE: tp, CheckpointInterval: interval, Log: log,
		ChainView: w.view, Entropy: &fixedEntropy{}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func initKeys(t *testing.T, r *Runtime, w *keyWorld, c *synth.Chain) {
	t.Helper()
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	in := r.Info()
	w.id, w.ecdh = in.IdentityPublicKey, in.EcdhPublicKey
}

// TestKeysSealedBeforeEgress: the step that generates the master key
// makes egress (the master public key) that must not leave before the key
// is sealed; while sealing fails, Egress refuses; a restart from the
// sealed checkpoint has the same key and the same egress bytes.
func TestKeysSealedBeforeEgress(t *testing.T) {
	dir := t.TempDir()
	w := newKeyWorld()
	fail := false
	r := openKeys(t, dir, 1000, w, &fail, nil)
	c := w.chain(t, 3, 6)
	initKeys(t, r, w, c)
	addBlocks(t, c, 10)
	bs, err := c.Batches(1, c.Height(), 3)
	if err != nil {
		t.Fatal(err)
	}
	fail = true
	if err := r.Sync(toBatch(bs[0])); err == nil {
		t.Fatal("sync sealed nothing and said nothing")
	}
	if r.Info().Height < 1 {
		t.Fatal("no block stepped")
	}
	if _, _, err := r.Egress(); !errors.Is(err, ErrKeysNotSealed) {
		t.Fatalf("egress with an unsealed master key: %v", err)
	}
	// The API says so too.
	srv := httptest.NewServer(InternalHandler(r, ""))
	defer srv.Close()
	if _, err := pruntimev1connect.NewInternalClient(http.DefaultClient, srv.URL).Egress(context.Background(), &pruntimev1.EgressRequest{}); err == nil {
		t.Fatal("API released egress before the keys were sealed")
	}
	fail = false
	for _, b := range bs[1:] {
		if err := r.Sync(toBatch(b)); err != nil {
			t.Fatal(err)
		}
	}
	msgs, _, err := r.Egress()
	if err != nil {
		t.Fatal(err)
	}
	var mp *msg.MasterPubkey
	for _, m := range msgs {
		if string(m.Message.Topic) == msg.TopicMasterPubkey {
			mp = new(msg.MasterPubkey)
			if err := scale.Decode(m.Message.Payload, mp); err != nil {
				t.Fatal(err)
			}
		}
	}
	in := r.Info()
	if mp == nil || !in.HasMaster || mp.Pubkey != in.MasterPublicKey || !in.Gatekeeper {
		t.Fatalf("master pubkey egress %+v, info %+v", mp, in)
	}
	if len(in.Clusters) != 1 || in.Clusters[0].Pubkey != w.ck.Public() || in.Clusters[0].ID != w.cluster {
		t.Fatalf("clusters %+v", in.Clusters)
	}
	all, err := r.EgressAll()
	if err != nil || len(all) != 2 || !bytes.Equal(all[1].Origin, msg.OriginCluster(w.cluster)) {
		t.Fatalf("egress streams %+v: %v", all, err)
	}
	// The internal API hands over every stream, with each origin's next
	// sequence.
	authed := httptest.NewServer(InternalHandler(r, testToken))
	defer authed.Close()
	eg, err := pruntimev1connect.NewInternalClient(http.DefaultClient, authed.URL, withToken(testToken)).Egress(context.Background(), &pruntimev1.EgressRequest{})
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for _, e := range all {
		for i := range e.Messages {
			want = append(want, scale.Encode(&e.Messages[i]))
		}
	}
	if !slices.EqualFunc(eg.Messages, want, bytes.Equal) || len(eg.Streams) != 2 || in.EgressPending != len(want) ||
		!bytes.Equal(eg.Streams[0].Origin, all[0].Origin) || eg.Streams[0].NextChainSequence != all[0].Next || eg.NextChainSequence != all[0].Next ||
		!bytes.Equal(eg.Streams[1].Origin, all[1].Origin) || eg.Streams[1].NextChainSequence != all[1].Next {
		t.Fatalf("API egress: %d messages (want %d), streams %v, next %d; info pending %d", len(eg.Messages), len(want), eg.Streams, eg.NextChainSequence, in.EgressPending)
	}
	before := egressBytes(t, r)
	ks := r.core.KeysSnapshot()
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r2 := openKeys(t, dir, 1000, w, nil, nil)
	if got := r2.Info(); got.MasterPublicKey != in.MasterPublicKey || len(got.Clusters) != 1 {
		t.Fatalf("after restart: %+v", got)
	}
	if !bytes.Equal(egressBytes(t, r2), before) || !bytes.Equal(r2.core.KeysSnapshot(), ks) {
		t.Fatal("restart changed egress bytes or keys")
	}
}

// TestCrashRecoveryWithKeys is TestCrashRecovery on a chain where the
// worker generates a master key and receives a cluster key: random
// crashes, torn and damaged checkpoints; the keys and the egress bytes at
// the end equal the uninterrupted run's. Every log line and the public
// Info answer are scanned for the secrets.
func TestCrashRecoveryWithKeys(t *testing.T) {
	base := t.TempDir()
	tmpl := filepath.Join(base, "template")
	w := newKeyWorld()
	r := openKeys(t, tmpl, 8, w, nil, nil)
	c := w.chain(t, 40, 70)
	initKeys(t, r, w, c)
	addBlocks(t, c, 120)

	var mu sync.Mutex
	var lines []string
	log := slog.New(slog.NewTextHandler(lineWriter{&mu, &lines}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	ref := openKeys(t, copyDir(t, tmpl, filepath.Join(base, "ref")), 8, w, nil, log)
	syncTo(t, ref, c, 9)
	want := ref.Info()
	wantEgress, wantKeys := egressBytes(t, ref), ref.core.KeysSnapshot()
	if !want.HasMaster || len(want.Clusters) != 1 {
		t.Fatalf("reference run: %+v", want)
	}
	rng := rand.New(rand.NewPCG(5, 13))
	for round := 0; round < 8; round++ {
		dir := copyDir(t, tmpl, filepath.Join(base, "round", string(rune('a'+round))))
		rt := openKeys(t, dir, 8, w, nil, log)
		for rt.Info().HeaderHeight < c.Height() {
			from := rt.Info().HeaderHeight + 1
			size := 1 + rng.IntN(12)
			bs, err := c.Batches(from, min(c.Height(), from+int64(size)-1), size)
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range bs {
				if err := rt.Sync(toBatch(b)); err != nil {
					t.Fatalf("round %d: sync: %v", round, err)
				}
			}
			if rng.IntN(3) == 0 {
				if cps, err := rt.checkpoints(); err == nil && len(cps) >= 2 && rng.IntN(4) == 0 {
					if err := writeFileAtomic(filepath.Join(dir, cps[len(cps)-1].name), []byte("damaged")); err != nil {
						t.Fatal(err)
					}
				}
				rt = openKeys(t, dir, 8, w, nil, log)
			}
		}
		got := rt.Info()
		if got.MasterPublicKey != want.MasterPublicKey || len(got.Clusters) != 1 || got.AppHash != want.AppHash {
			t.Fatalf("round %d: %+v, want %+v", round, got, want)
		}
		if !bytes.Equal(egressBytes(t, rt), wantEgress) || !bytes.Equal(rt.core.KeysSnapshot(), wantKeys) {
			t.Fatalf("round %d: egress or keys differ from the uninterrupted run", round)
		}
	}

	// No secret in the logs, the Info answers or the egress.
	srv := httptest.NewServer(PublicHandler(ref))
	defer srv.Close()
	res, err := pruntimev1connect.NewPublicClient(http.DefaultClient, srv.URL).Info(context.Background(), &pruntimev1.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if res.MasterPublicKey != want.MasterPublicKey.Hex() || !res.Gatekeeper || len(res.Clusters) != 1 ||
		res.Clusters[0].PublicKey != w.ck.Public().Hex() || res.Clusters[0].Id != fmt.Sprintf("0x%x", w.cluster) {
		t.Fatalf("InfoResponse %+v", res)
	}
	off := len(scale.Encode(scaleStr(worker.KeysDomain))) + 1 + 4
	master := wantKeys[off : off+64]
	cluster := w.ck.SecretBytes()
	mu.Lock()
	all := strings.Join(lines, "\n") + fmt.Sprintf("%+v %+v %+v", res, want, ref.Info())
	mu.Unlock()
	if !strings.Contains(all, "change=keys") {
		t.Fatal("the scan saw no key change logged")
	}
	for name, s := range map[string][]byte{"master": master, "cluster": cluster[:]} {
		for i := 0; i+8 <= len(s); i += 8 {
			ch := s[i : i+8]
			if strings.Contains(all, hex.EncodeToString(ch)) || strings.Contains(all, string(ch)) || bytes.Contains(wantEgress, ch) {
				t.Errorf("%s secret bytes %d..%d leaked", name, i, i+8)
			}
		}
	}
}

type scaleStr string

func (s scaleStr) EncodeSCALE(w *scale.Writer) { w.String(string(s)) }

type lineWriter struct {
	mu    *sync.Mutex
	lines *[]string
}

func (l lineWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	*l.lines = append(*l.lines, string(b))
	l.mu.Unlock()
	return len(b), nil
}
