package pherry

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"connectrpc.com/connect"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/pruntime"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	devtee "github.com/cella-network/cella/internal/tee/dev"
	"github.com/cella-network/cella/internal/tx"
)

// switchable serves the current pRuntime's API, or 503 while it is down.
type switchable struct {
	mu sync.Mutex
	h  http.Handler
}

func (s *switchable) set(h http.Handler) { s.mu.Lock(); s.h = h; s.mu.Unlock() }

func (s *switchable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	h := s.h
	s.mu.Unlock()
	if h == nil {
		http.Error(w, "pRuntime down", http.StatusServiceUnavailable)
		return
	}
	h.ServeHTTP(w, r)
}

func openRuntime(t *testing.T, dir string, operator keys.PublicKey) *pruntime.Runtime {
	t.Helper()
	prov, err := devtee.New(devtee.Config{BuildID: pruntime.DevBuildID(), SealDir: dir, Log: nodetest.Log()})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := pruntime.Open(pruntime.Config{DataDir: dir, TEE: prov, CheckpointInterval: 10, Log: nodetest.Log(), Operator: operator,
		Entropy: fixedEntropy{}})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

// fixedEntropy makes the master key of the test's gatekeeper known to the
// test: keys.FromSeed(testMasterSeed).
type fixedEntropy struct{}

var testMasterSeed = [32]byte{7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7}

func (fixedEntropy) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = 7
	}
	return len(b), nil
}

// injector serves the internal API by forwarding to a pRuntime's, and adds
// the messages of an extra egress stream to Egress answers, as a pRuntime
// holding a cluster key does; its view of that stream's next sequence is
// stale (always 0), as a lagging pRuntime's may be.
type injector struct {
	pruntimev1connect.InternalClient
	mu     sync.Mutex
	origin []byte
	extra  [][]byte
}

func (j *injector) set(origin []byte, msgs ...msg.SignedMessage) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.origin, j.extra = origin, nil
	for i := range msgs {
		j.extra = append(j.extra, scale.Encode(&msgs[i]))
	}
}

func (j *injector) Egress(ctx context.Context, req *pruntimev1.EgressRequest) (*pruntimev1.EgressResponse, error) {
	res, err := j.InternalClient.Egress(ctx, req)
	if err != nil {
		return nil, err
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.origin != nil {
		res.Messages = append(res.Messages, j.extra...)
		res.Streams = append(res.Streams, &pruntimev1.EgressStream{Origin: j.origin})
	}
	return res, nil
}

// runtimeServers serves a pRuntime's two APIs on two test servers, as
// pruntime.Serve does on two listeners, behind switches that can take the
// pRuntime down; it returns the switches, the URLs and the internal token.
type runtimeServers struct {
	pub, in       switchable
	pubURL, inURL string
	token         string
}

func serveRuntime(t *testing.T, dir string) *runtimeServers {
	t.Helper()
	tok, err := pruntime.LoadOrCreateToken(dir)
	if err != nil {
		t.Fatal(err)
	}
	rs := &runtimeServers{token: tok}
	ps, is := httptest.NewServer(&rs.pub), httptest.NewServer(&rs.in)
	t.Cleanup(ps.Close)
	t.Cleanup(is.Close)
	rs.pubURL, rs.inURL = ps.URL, is.URL
	return rs
}

func (rs *runtimeServers) set(rt *pruntime.Runtime) {
	if rt == nil {
		rs.pub.set(nil)
		rs.in.set(nil)
		return
	}
	rs.pub.set(pruntime.PublicHandler(rt))
	rs.in.set(pruntime.InternalHandler(rt, rs.token))
}

// startPherry runs a pherry until the returned stop is called.
func startPherry(t *testing.T, cfg Config) func() {
	t.Helper()
	p, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p.minBackoff, p.maxBackoff = 20*time.Millisecond, 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	var once sync.Once
	return func() { once.Do(func() { stopRun(t, cancel, done) }) }
}

// TestEndToEnd runs a dev node, a pRuntime with the dev TEE and pherry in
// process: the pRuntime catches up and follows with the node's AppHash, the
// worker gets registered and its "worker/online" message reaches the chain;
// the dev bootstrap gives it the master key and cluster 0's key; a cluster
// egress stream reaches the chain from its own sequence; then the pRuntime, pherry and the node restart in turn and everything
// resumes.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	// The node: a dev chain that allow-lists the in-process pRuntime.
	home, o, n, c := startPRuntimeChain(ctx, t, "cella-pherry", 50)

	// The pRuntime, behind a switch that can take it down.
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sw := serveRuntime(t, dir)
	sw.set(openRuntime(t, dir, alice.Public()))
	pub := pruntimev1connect.NewPublicClient(http.DefaultClient, sw.pubURL)
	info := func() *pruntimev1.InfoResponse {
		in, err := pub.Info(ctx, &pruntimev1.InfoRequest{})
		if err != nil {
			return &pruntimev1.InfoResponse{}
		}
		return in
	}

	// pherry reads the token from the pRuntime's data folder, as an
	// operator's would.
	token, err := ReadTokenFile(pruntime.TokenPath(dir))
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	// pherry reaches the internal API through the injector.
	inj := &injector{InternalClient: pruntimev1connect.NewInternalClient(http.DefaultClient, sw.inURL, connect.WithInterceptors(bearer(token)))}
	mux := http.NewServeMux()
	mux.Handle(pruntimev1connect.NewInternalHandler(inj))
	injSrv := httptest.NewServer(mux)
	defer injSrv.Close()
	cfg := Config{NodeURL: o.RPCAddr, PublicURL: sw.pubURL, InternalURL: injSrv.URL, Token: token, Operator: alice, BatchSize: 16,
		PollInterval: 100 * time.Millisecond, Log: nodetest.Log(), Metrics: reg}
	stop := startPherry(t, cfg)
	defer func() { stop() }()

	// synced waits until the pRuntime has every header the node had when
	// called, and checks its AppHash against the node's record.
	synced := func(what string) int64 {
		t.Helper()
		var target int64
		waitFor(ctx, t, what+": the node's height", func() bool {
			st, err := c.Status(ctx)
			if err == nil {
				target = st.SyncInfo.LatestBlockHeight
			}
			return err == nil
		})
		var in *pruntimev1.InfoResponse
		waitFor(ctx, t, fmt.Sprintf("%s: the pRuntime at height %d", what, target), func() bool {
			in = info()
			return in.HeaderHeight >= target
		})
		var recs []*state.BlockRecord
		waitFor(ctx, t, fmt.Sprintf("%s: record %d", what, in.Height), func() bool {
			recs, err = c.Blocks(ctx, uint64(in.Height), uint64(in.Height))
			return err == nil && len(recs) == 1
		})
		if want := fmt.Sprintf("0x%x", recs[0].AppHash); in.AppHash != want {
			t.Fatalf("%s: the pRuntime's AppHash after %d is %s, the node's %s", what, in.Height, in.AppHash, want)
		}
		return in.HeaderHeight
	}
	synced("catch-up")

	// Registration, then the worker's first egress message on chain.
	waitFor(ctx, t, "the worker registered", func() bool { return info().Registered })
	id, err := keys.ParseAccount(info().IdentityPublicKey)
	if err != nil {
		t.Fatal(err)
	}
	origin := msg.OriginWorker(id)
	seq := func() uint64 {
		s, err := c.NextSequence(ctx, origin)
		if err != nil {
			return 0
		}
		return s
	}
	waitFor(ctx, t, "the worker/online message on chain", func() bool { return seq() >= 1 })
	w, err := c.Worker(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("worker registered: %+v", *w)

	// The dev bootstrap: the worker generates the master key and keys
	// cluster 0 for itself, through the chain. Its egress then settles.
	master := keys.FromSeed(testMasterSeed)
	cid := [32]byte{}
	clusterKey := cipher.ClusterKey(master, cid)
	waitFor(ctx, t, "the master key and cluster 0's key on chain and in the pRuntime", func() bool {
		gks, err1 := c.Gatekeepers(ctx)
		cl, err2 := c.Cluster(ctx, cid)
		in := info()
		return err1 == nil && err2 == nil && gks.MasterPubkey == master.Public().Hex() && len(gks.Gatekeepers) == 1 && gks.Gatekeepers[0].Active &&
			cl.Pubkey == clusterKey.Public().Hex() && len(cl.Keyed) == 1 && cl.Keyed[0] == id.Hex() &&
			in.MasterPublicKey == master.Public().Hex() && len(in.Clusters) == 1 && in.EgressPending == 0
	})
	// The worker would also report cluster 0's state root every report
	// interval from its own origin; this test counts its other egress, so
	// the admin makes the interval longer than the test.
	// pherry signs with Alice too: a nonce it took meanwhile is retried.
	sudo := func(what string, call tx.Call) *client.TxResult {
		t.Helper()
		for attempt := 0; ; attempt++ {
			x, err := c.Build(ctx, alice, admin.SudoCall(call), client.TxOptions{})
			if err != nil {
				t.Fatal(err)
			}
			txh, err := c.Submit(ctx, x)
			var te *client.TxError
			if errors.As(err, &te) && (te.Code == state.CodePendingNonce || te.Code == state.CodeStaleNonce) && attempt < 20 {
				time.Sleep(20 * time.Millisecond)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", what, err)
			}
			r, err := c.Wait(ctx, txh)
			if err != nil || !r.OK() {
				t.Fatalf("%s: %+v %v", what, r, err)
			}
			return r
		}
	}
	set := sudo("set_report_interval", phat.SetReportIntervalCall(cid, phat.MaxReportInterval))
	// Likewise its heartbeats: the interval goes beyond the test.
	if r := sudo("set_liveness", registry.SetLivenessCall(registry.Liveness{HeartbeatInterval: registry.MaxHeartbeatInterval, StaleFactor: 1})); r.Height > set.Height {
		set = r
	}
	waitFor(ctx, t, "the reports before the change on chain", func() bool {
		in := info()
		return in.HeaderHeight > set.Height+2 && in.EgressPending == 0
	})
	settled := seq()
	if settled < 3 { // online, master_pubkey, cluster_key
		t.Fatalf("worker's next sequence %d after the bootstrap", settled)
	}

	// A cluster stream: pherry submits its messages from the cluster
	// origin's own next sequence (not the worker's), the chain verifies
	// them against cluster 0's recorded key, and nothing fails.
	corigin := msg.OriginCluster(cid)
	var cmsgs []msg.SignedMessage
	for i := range uint64(2) {
		m := msg.Message{Origin: corigin, Topic: []byte(msg.TopicContractKey),
			Payload: scale.Encode(&msg.ContractKey{Contract: [32]byte{0xc1, byte(i)}, Pubkey: keys.PublicKey{0xc2, byte(i)}})}
		cmsgs = append(cmsgs, msg.Sign(clusterKey, m, i))
	}
	egressErrors := func() float64 {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, mf := range mfs {
			if mf.GetName() != "cella_pherry_errors_total" {
				continue
			}
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "kind" && l.GetValue() == errKindEgress {
						return m.GetCounter().GetValue()
					}
				}
			}
		}
		return 0
	}
	errsBefore := egressErrors()
	inj.set(corigin, cmsgs...)
	waitFor(ctx, t, "the cluster's messages on chain", func() bool {
		n, err := c.NextSequence(ctx, corigin)
		return err == nil && n == 2
	})
	// Submitted again each round (the stream's view stays stale), they
	// are skipped as already on chain, without errors.
	h0 := info().HeaderHeight
	waitFor(ctx, t, "more rounds", func() bool { return info().HeaderHeight > h0+5 })
	if n, _ := c.NextSequence(ctx, corigin); n != 2 || egressErrors() != errsBefore || seq() != settled {
		t.Fatalf("cluster next %d, worker next %d (want %d), egress errors %v → %v", n, seq(), settled, errsBefore, egressErrors())
	}
	inj.set(nil)

	// The pRuntime restarts from its last checkpoint (older than its
	// height): pherry resyncs it; nothing is submitted twice.
	sw.set(nil)
	time.Sleep(200 * time.Millisecond)
	sw.set(openRuntime(t, dir, keys.PublicKey{})) // the folder keeps its operator
	synced("after a pRuntime restart")
	if !info().Registered || seq() != settled {
		t.Fatalf("after the pRuntime restart: registered %v, next sequence %d", info().Registered, seq())
	}

	// pherry restarts.
	stop()
	stop = startPherry(t, cfg)
	synced("after a pherry restart")

	// The node restarts (same home and ports).
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	nodetest.Start(t, home, o)
	// A fresh client: the old one's kept-alive connections may still reach
	// the stopped node's server.
	if c, err = client.New(o.RPCAddr); err != nil {
		t.Fatal(err)
	}
	h := synced("after a node restart")
	waitFor(ctx, t, "new blocks after the node restart", func() bool { return info().HeaderHeight > h+5 })
	if seq() != settled {
		t.Fatalf("next sequence %d after the restarts, want %d", seq(), settled)
	}
}

// startPRuntimeChain starts a dev node of chainID whose allow-list holds
// the in-process pRuntime's dev measurement, in a new home, and waits for
// height; it returns the home, the node's options, the node and a client.
func startPRuntimeChain(ctx context.Context, t *testing.T, chainID string, height int64) (string, node.ConfigOptions, *node.Node, *client.Client) {
	t.Helper()
	home := t.TempDir()
	o := nodetest.Options(t)
	meas := devtee.MeasurementOf(pruntime.DevBuildID()).Hash()
	n := nodetest.Start(t, home, o, node.InitOptions{ChainID: chainID, Measurements: [][32]byte{meas}})
	c, err := client.New(o.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(ctx, t, fmt.Sprintf("the node at height %d", height), func() bool {
		st, err := c.Status(ctx)
		return err == nil && st.SyncInfo.LatestBlockHeight >= height
	})
	return home, o, n, c
}
