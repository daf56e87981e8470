package devnet

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/defaults"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/pherry"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/tx"
)

// warnLog is a slog handler that keeps the warnings and errors of one
// worker (pRuntime and pherry), and passes every record on to next.
type warnLog struct {
	next  slog.Handler
	mu    *sync.Mutex
	lines *[]string
}

func newWarnLog(next slog.Handler) warnLog {
	return warnLog{next: next, mu: new(sync.Mutex), lines: new([]string)}
}

func (h warnLog) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn || h.next.Enabled(ctx, l)
}

func (h warnLog) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelWarn {
		var b strings.Builder
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		h.mu.Lock()
		*h.lines = append(*h.lines, b.String())
		h.mu.Unlock()
	}
	if h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h warnLog) WithAttrs(as []slog.Attr) slog.Handler {
	return warnLog{next: h.next.WithAttrs(as), mu: h.mu, lines: h.lines}
}

func (h warnLog) WithGroup(name string) slog.Handler {
	return warnLog{next: h.next.WithGroup(name), mu: h.mu, lines: h.lines}
}

// devTEEWarning begins the warning every dev TEE logs at start.
const devTEEWarning = "DEV TEE: NOT SECURE"

// except returns the kept lines that do not begin with prefix.
func (h warnLog) except(prefix string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, l := range *h.lines {
		if !strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return out
}

// keyNet is a dev network with several workers, for the key-hierarchy tests.
type keyNet struct {
	t     testing.TB
	ctx   context.Context
	net   *Network
	c     *client.Client
	admin *keys.Pair
	// rpc is the node's RPC URL.
	rpc string
}

func startKeyNet(ctx context.Context, t testing.TB, blockTime time.Duration) *keyNet {
	t.Helper()
	o := nodetest.Options(t)
	o.BlockTime = blockTime
	n, err := Start(ctx, Config{Home: t.TempDir(), ChainID: "cella-keys-e2e", Node: o, NoWorker: true, Log: nodetest.Log()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("closing the network: %v", err)
		}
	})
	rpc := HTTPURL(node.NewConfig(n.home, o).RPC.ListenAddress)
	c, err := client.New(rpc)
	if err != nil {
		t.Fatal(err)
	}
	admin, _ := keys.FromURI("//Alice")
	return &keyNet{t: t, ctx: ctx, net: n, c: c, admin: admin, rpc: rpc}
}

// worker adds a worker operated by the dev account operator; its warnings
// are kept in the returned log.
func (k *keyNet) worker(name, operator string) (*Worker, warnLog) {
	k.t.Helper()
	wl := newWarnLog(nodetest.Log().Handler())
	w, err := k.net.AddWorker(k.ctx, name, WorkerConfig{
		Operator: "//" + operator, CheckpointInterval: 3, PollInterval: 50 * time.Millisecond,
		Log: slog.New(wl).With("worker", name),
	})
	if err != nil {
		k.t.Fatal(err)
	}
	return w, wl
}

func (k *keyNet) waitRegistered(ws ...*Worker) {
	k.t.Helper()
	for _, w := range ws {
		nodetest.WaitFor(k.ctx, k.t, "a worker's registration", 20*time.Millisecond, func() bool { return w.Runtime.Info().Registered })
	}
}

// sudo dispatches a privileged call as the admin and waits for its block.
func (k *keyNet) sudo(what string, call tx.Call) int64 {
	k.t.Helper()
	h, err := k.c.Sudo(k.ctx, k.admin, call)
	if err != nil {
		k.t.Fatalf("%s: %v", what, err)
	}
	r, err := k.c.Wait(k.ctx, h)
	if err != nil {
		k.t.Fatalf("%s: %v", what, err)
	}
	if !r.OK() {
		k.t.Fatalf("%s failed: %s %s", what, r.Result, r.Log)
	}
	return r.Height
}

func (k *keyNet) masterPubkey() string {
	k.t.Helper()
	g, err := k.c.Gatekeepers(k.ctx)
	if err != nil {
		k.t.Fatal(err)
	}
	return g.MasterPubkey
}

func (k *keyNet) cluster(id [32]byte) *chainapi.ClusterInfo {
	k.t.Helper()
	ci, err := k.c.Cluster(k.ctx, id)
	if err != nil {
		k.t.Fatal(err)
	}
	return ci
}

// clusterKey is the public key of cluster id that the pRuntime reports
// holding ("" when none).
func clusterKey(in pruntime.Info, id [32]byte) string {
	for _, c := range in.Clusters {
		if c.ID == id {
			return c.Pubkey.Hex()
		}
	}
	return ""
}

// masterKey is the master public key the pRuntime reports holding ("" when none).
func masterKey(in pruntime.Info) string {
	if !in.HasMaster {
		return ""
	}
	return in.MasterPublicKey.Hex()
}

// waitClusterKey waits until the chain records cluster id's key and w
// reports holding the same, and returns it.
func (k *keyNet) waitClusterKey(name string, w *Worker, id [32]byte) string {
	k.t.Helper()
	var want string
	nodetest.WaitFor(k.ctx, k.t, name+" holding the cluster key", 20*time.Millisecond, func() bool {
		if want == "" {
			want = k.cluster(id).Pubkey
		}
		return want != "" && clusterKey(w.Runtime.Info(), id) == want
	})
	return want
}

// waitHeight waits until every worker applied block h.
func (k *keyNet) waitHeight(h int64, ws ...*Worker) {
	k.t.Helper()
	for _, w := range ws {
		nodetest.WaitFor(k.ctx, k.t, fmt.Sprintf("a worker at block %d", h), 20*time.Millisecond, func() bool { return w.Runtime.Info().Height >= h })
	}
}

// checkEgress checks that every message the chain took from an origin's
// stream (a worker's or a cluster's) was delivered: its next sequence
// equals the number of messages of that origin in the block records up to
// the current height. A message refused on delivery (a duplicate share, a
// second master key, a stale ready…) advances the sequence without being
// delivered, and shows here. (A replayed sequence is refused before the
// chain takes it: pherry's warnings show that.)
func (k *keyNet) checkEgress(name string, origin []byte) {
	k.t.Helper()
	next, err := k.c.NextSequence(k.ctx, origin)
	if err != nil {
		k.t.Fatal(err)
	}
	delivered := uint64(len(k.delivered(origin, 1)))
	if next2, err := k.c.NextSequence(k.ctx, origin); err != nil || next2 != next {
		k.t.Fatalf("%s: egress still moving (%d then %d, %v): call checkEgress once the keys are settled", name, next, next2, err)
	}
	if delivered != next {
		k.t.Errorf("%s: the chain took %d messages of its stream but delivered %d", name, next, delivered)
	}
}

// TestKeyHierarchyE2E runs the key hierarchy of issue 8 end to end on a
// real node: two gatekeepers and workers in and out of a cluster, with
// crash restarts in between.
//
//   - A registers first: the dev bootstrap makes it the gatekeeper and the
//     only worker of cluster 0; it generates the master key.
//   - The admin adds B as the second gatekeeper: B receives the master key.
//   - The admin creates cluster 1 with C and D: both receive its key; E,
//     outside, holds none — until the admin adds it, when it catches up.
//   - B and C crash (no final checkpoint) before their keys arrive and
//     again after, and restart from their data folders: they end with the
//     chain's keys and keep them.
func TestKeyHierarchyE2E(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node and five workers")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	k := startKeyNet(ctx, t, 100*time.Millisecond)

	a, aLog := k.worker("a", "Bob")
	k.waitRegistered(a)
	b, bLog := k.worker("b", "Charlie")
	c, cLog := k.worker("c", "Dave")
	d, dLog := k.worker("d", "Eve")
	e, eLog := k.worker("e", "Ferdie")
	k.waitRegistered(b, c, d, e)
	names := map[*Worker]string{a: "A", b: "B", c: "C", d: "D", e: "E"}
	logs := map[*Worker]warnLog{a: aLog, b: bLog, c: cLog, d: dLog, e: eLog}
	id := func(w *Worker) keys.PublicKey { return w.Runtime.Info().IdentityPublicKey }

	// A: gatekeeper, master key, cluster 0.
	var master string
	nodetest.WaitFor(ctx, t, "the master key on chain", 20*time.Millisecond, func() bool {
		master = k.masterPubkey()
		return master != ""
	})
	nodetest.WaitFor(ctx, t, "A holding the master key", 20*time.Millisecond, func() bool { return masterKey(a.Runtime.Info()) == master })
	if !a.Runtime.Info().Gatekeeper {
		t.Fatal("A, the first worker registered, is not a gatekeeper")
	}
	cluster0 := phat.ClusterID(0)
	k.waitClusterKey("A", a, cluster0)

	// B: second gatekeeper; it crashes before the key can reach it and
	// restarts from its data folder.
	addB := k.sudo("gatekeeper.add(B)", gatekeeper.AddCall(id(b)))
	b.Kill()
	t.Logf("B killed at block %d, gatekeeper added at %d, holding the master key: %v", b.Runtime.Info().Height, addB, b.Runtime.Info().HasMaster)
	// C and D: cluster 1; C crashes the same way.
	cluster1 := phat.ClusterID(1)
	created := k.sudo("phat.create_cluster(C, D)", phat.CreateClusterCall(phat.CreateArgs{
		Owner: k.admin.Public(), Workers: []keys.PublicKey{id(c), id(d)}}))
	c.Kill()
	t.Logf("C killed at block %d, cluster created at %d, holding its key: %v", c.Runtime.Info().Height, created, clusterKey(c.Runtime.Info(), cluster1) != "")
	k.waitHeight(max(created, addB)+3, a, d)
	for _, w := range []*Worker{b, c} {
		if err := w.Restart(ctx); err != nil {
			t.Fatal(err)
		}
	}

	nodetest.WaitFor(ctx, t, "B holding the master key", 20*time.Millisecond, func() bool { return masterKey(b.Runtime.Info()) == master })
	if !b.Runtime.Info().Gatekeeper {
		t.Fatal("B does not see itself a gatekeeper")
	}
	key1 := k.waitClusterKey("C", c, cluster1)
	if got := k.waitClusterKey("D", d, cluster1); got != key1 {
		t.Fatalf("D holds cluster key %s, C %s", got, key1)
	}
	if key1 == k.cluster(cluster0).Pubkey {
		t.Fatal("clusters 0 and 1 have the same key")
	}
	// The chain shows both gatekeepers active (B said it is ready) with
	// one master key.
	var g *chainapi.GatekeepersInfo
	nodetest.WaitFor(ctx, t, "B active on chain", 20*time.Millisecond, func() bool {
		var err error
		if g, err = k.c.Gatekeepers(ctx); err != nil {
			t.Fatal(err)
		}
		return len(g.Gatekeepers) == 2 && g.Gatekeepers[0].Active && g.Gatekeepers[1].Active
	})
	wantGK := []string{id(a).Hex(), id(b).Hex()}
	slices.Sort(wantGK)
	if g.MasterPubkey != master || len(g.MasterHistory) != 1 ||
		!slices.Equal([]string{g.Gatekeepers[0].Identity, g.Gatekeepers[1].Identity}, wantGK) {
		t.Fatalf("gatekeepers on chain: %+v (master key %s)", g, master)
	}

	// E is outside every cluster: it holds no key.
	if in := e.Runtime.Info(); len(in.Clusters) != 0 || in.HasMaster || in.Gatekeeper {
		t.Fatalf("E, outside, holds keys: %+v", in.Clusters)
	}
	for _, w := range []*Worker{c, d} {
		if in := w.Runtime.Info(); in.HasMaster || len(in.Clusters) != 1 {
			t.Fatalf("%s holds the master key %v or clusters %+v", names[w], in.HasMaster, in.Clusters)
		}
	}

	// Crash B and C again, now that they hold their keys: they restart
	// from their last checkpoint with the same keys.
	before := map[*Worker]pruntime.Info{}
	for _, w := range []*Worker{b, c} {
		w.Kill()
		before[w] = w.Runtime.Info()
	}
	for _, w := range []*Worker{b, c} {
		if err := w.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		in := w.Runtime.Info()
		t.Logf("%s killed at block %d, restored at block %d", names[w], before[w].Height, in.Height)
		if in.IdentityPublicKey != before[w].IdentityPublicKey || masterKey(in) != masterKey(before[w]) ||
			!slices.Equal(in.Clusters, before[w].Clusters) {
			t.Fatalf("%s after its restart: master %s clusters %+v; before: %s %+v", names[w],
				masterKey(in), in.Clusters, masterKey(before[w]), before[w].Clusters)
		}
	}

	// Restart every pRuntime from its sealed checkpoint (crash-like, all
	// at once): each keeps its keys. The designated gatekeeper's folder
	// is copied while it is down, for the replay below.
	all := []*Worker{a, b, c, d, e}
	for _, w := range all {
		w.Kill()
		before[w] = w.Runtime.Info()
	}
	// The designated gatekeeper is the active one with the lowest identity.
	designated, ia, ib := a, id(a), id(b)
	if bytes.Compare(ib[:], ia[:]) < 0 {
		designated = b
	}
	replayDir := filepath.Join(t.TempDir(), "replay")
	copyDir(t, designated.cfg.Dir, replayDir)
	for _, w := range all {
		if err := w.Restart(ctx); err != nil {
			t.Fatal(err)
		}
		in := w.Runtime.Info()
		if masterKey(in) != masterKey(before[w]) || !slices.Equal(in.Clusters, before[w].Clusters) || in.Gatekeeper != before[w].Gatekeeper {
			t.Fatalf("%s after the restart of all: master %s clusters %+v; before: %s %+v", names[w],
				masterKey(in), in.Clusters, masterKey(before[w]), before[w].Clusters)
		}
	}

	// E joins cluster 1 later and catches up with the same key.
	joined := k.sudo("phat.add_worker(1, E)", phat.AddWorkerCall(cluster1, id(e)))
	if got := k.waitClusterKey("E", e, cluster1); got != key1 {
		t.Fatalf("E holds cluster key %s, C and D %s", got, key1)
	}
	ci := k.cluster(cluster1)
	want := []string{id(c).Hex(), id(d).Hex(), id(e).Hex()}
	slices.Sort(want)
	if ci.Pubkey != key1 || !slices.Equal(ci.Keyed, want) {
		t.Fatalf("cluster 1 on chain: %+v", ci)
	}

	// Settled: every worker past the last key share, with the same keys
	// as before, and no egress refused or resubmitted.
	k.waitHeight(joined+3, a, b, c, d, e)
	if masterKey(b.Runtime.Info()) != master || clusterKey(c.Runtime.Info(), cluster1) != key1 {
		t.Fatal("B or C lost a key")
	}
	k.checkEgress("cluster 0", msg.OriginCluster(cluster0))
	k.checkEgress("cluster 1", msg.OriginCluster(cluster1))
	for _, w := range all {
		k.checkEgress(names[w], msg.OriginWorker(id(w)))
		// No warning but the dev TEE's: no egress submission failed (a
		// replayed or gapped sequence), no key refused, no share rejected.
		if l := logs[w].except(devTEEWarning); len(l) > 0 {
			t.Errorf("%s: warnings: %q", names[w], l)
		}
	}

	// Same egress bytes: a second pRuntime restored from the designated
	// gatekeeper's folder as the crash left it replays the chain up to
	// the block that added E, without submitting anything; what it then
	// has to send (E's cluster-key share) is byte for byte what the chain
	// took from the gatekeeper restarted from the same folder.
	src := &cappedSource{Source: pherry.NewNodeSource(k.c)}
	src.cap.Store(joined + 1) // the records of block J are confirmed by header J+1
	// It is configured as the gatekeeper was after its restart (the same
	// public URL, which the gatekeeper announced on chain then).
	replay, err := k.net.AddWorker(ctx, "replay", WorkerConfig{Dir: replayDir, SyncOnly: true, Source: src,
		CheckpointInterval: 3, PollInterval: 20 * time.Millisecond, PublicURL: defaults.HTTP(designated.PublicAddr)})
	if err != nil {
		t.Fatal(err)
	}
	nodetest.WaitFor(ctx, t, "the replay at the block that added E", 20*time.Millisecond, func() bool { return replay.Runtime.Info().Height >= joined })
	if h := replay.Runtime.Info().Height; h != joined {
		t.Fatalf("the replay applied block %d, past %d", h, joined)
	}
	origin := msg.OriginWorker(id(designated))
	streams, err := replay.Runtime.EgressAll()
	if err != nil {
		t.Fatal(err)
	}
	var replayed []msg.Message
	for _, st := range streams {
		if bytes.Equal(st.Origin, origin) {
			for _, m := range st.Messages {
				replayed = append(replayed, m.Message)
			}
		}
	}
	if len(replayed) == 0 || string(replayed[0].Topic) != msg.TopicClusterKeys {
		t.Fatalf("the replay has %d messages to send at block %d, not E's cluster-key share", len(replayed), joined)
	}
	took := k.delivered(origin, joined+1)
	if len(took) < len(replayed) {
		t.Fatalf("the chain took %d messages from the gatekeeper after block %d, the replay has %d", len(took), joined, len(replayed))
	}
	for i, m := range replayed {
		if !bytes.Equal(scale.Encode(&m), scale.Encode(&took[i])) {
			t.Errorf("message %d after block %d: the replay's (%s) differs from the one the chain took (%s)", i, joined, m.Topic, took[i].Topic)
		}
	}
	if !t.Failed() {
		t.Logf("replay of %s from its crash folder: %d egress messages identical to the chain's", names[designated], len(replayed))
	}
}

// cappedSource is a chain source that shows a node's chain up to a height.
type cappedSource struct {
	pherry.Source
	cap atomic.Int64
}

func (s *cappedSource) Height(ctx context.Context) (int64, error) {
	h, err := s.Source.Height(ctx)
	return min(h, s.cap.Load()), err
}

// delivered returns the messages of origin delivered in blocks from..head,
// in order.
func (k *keyNet) delivered(origin []byte, from int64) []msg.Message {
	k.t.Helper()
	ci, err := k.c.ChainInfo(k.ctx)
	if err != nil {
		k.t.Fatal(err)
	}
	var out []msg.Message
	for f := uint64(from); f <= uint64(ci.Height); f += chainapi.MaxBlocksPerQuery {
		recs, err := k.c.Blocks(k.ctx, f, min(uint64(ci.Height), f+chainapi.MaxBlocksPerQuery-1))
		if err != nil {
			k.t.Fatal(err)
		}
		for _, r := range recs {
			for _, m := range r.Messages {
				if bytes.Equal(m.Origin, origin) {
					out = append(out, m)
				}
			}
		}
	}
	return out
}

// copyDir copies a pRuntime's data folder, keeping the files' permissions.
func copyDir(t testing.TB, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, path)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		if d.IsDir() {
			return os.MkdirAll(dst, 0o700)
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, b, fi.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}
