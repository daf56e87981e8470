package pruntime

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"

	"connectrpc.com/connect"

	"github.com/cella-network/cella/internal/chainsync"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1"
	"github.com/cella-network/cella/internal/pruntime/api/pruntimev1/pruntimev1connect"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/synth"
	"github.com/cella-network/cella/internal/tee/dev"
)

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openTest(t *testing.T, dir string, interval int64) *Runtime {
	t.Helper()
	r, err := openConfig(dir, Config{CheckpointInterval: interval})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// openConfig opens a runtime with the dev TEE in dir and cfg's other fields.
func openConfig(dir string, cfg Config) (*Runtime, error) {
	p, err := dev.New(dev.Config{BuildID: DevBuildID(), SealDir: dir, Log: quietLog()})
	if err != nil {
		return nil, err
	}
	cfg.DataDir, cfg.TEE, cfg.Log = dir, p, quietLog()
	return Open(cfg)
}

// testChain is a synthetic chain whose registry announces the worker with
// identity *id at height regAt, with transfers in every block.
func testChain(t testing.TB, id *keys.PublicKey, regAt int64) *synth.Chain {
	t.Helper()
	c, err := synth.New(synth.Config{Messages: func(h int64) []msg.Message {
		if h != regAt {
			return nil
		}
		rec := msg.WorkerRecord{Info: msg.RegistrationInfo{IdentityPublicKey: *id, TeeKind: "dev"}, RegisteredAt: uint64(h)}
		return []msg.Message{{
			Origin:  msg.OriginModule(msg.RegistryModuleName),
			Topic:   []byte(msg.TopicWorkerRegistered),
			Payload: scale.Encode(&rec),
		}}
	}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func addBlocks(t testing.TB, c *synth.Chain, n int) {
	t.Helper()
	pairs := synth.DevPairs()
	if err := c.AddBlocks(n, func(h int64) [][]byte {
		txs, err := c.Transfers(pairs[:2], 2)
		if err != nil {
			t.Fatal(err)
		}
		return txs
	}); err != nil {
		t.Fatal(err)
	}
}

func toBatch(b synth.Batch) chainsync.Batch {
	return chainsync.Batch{Headers: b.Headers, Commit: b.Commit, Validators: b.Validators, Records: b.Records}
}

// syncTo feeds r the chain from its verified height to the chain's top in
// batches of size.
func syncTo(t testing.TB, r *Runtime, c *synth.Chain, size int) {
	t.Helper()
	from := r.Info().HeaderHeight + 1
	if from > c.Height() {
		return
	}
	bs, err := c.Batches(from, c.Height(), size)
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if err := r.Sync(toBatch(b)); err != nil {
			t.Fatalf("sync %d..: %v", b.Headers[0].Height, err)
		}
	}
}

func egressBytes(t *testing.T, r *Runtime) []byte {
	t.Helper()
	msgs, _, err := r.Egress()
	if err != nil {
		t.Fatal(err)
	}
	var w scale.Writer
	for i := range msgs {
		msgs[i].EncodeSCALE(&w)
	}
	return w.Bytes()
}

func TestInitSyncEgressRestart(t *testing.T) {
	dir := t.TempDir()
	r := openTest(t, dir, 10)
	if r.Info().Initialized {
		t.Fatal("fresh runtime says initialised")
	}
	var id keys.PublicKey
	c := testChain(t, &id, 5)
	gh, err := r.Init(c.Genesis(), c.GenesisRecord())
	if err != nil {
		t.Fatal(err)
	}
	if gh != c.GenesisHash() {
		t.Fatalf("genesis hash %x, want %x", gh, c.GenesisHash())
	}
	id = r.Info().IdentityPublicKey
	// Init again with the same genesis: a no-op.
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	addBlocks(t, c, 25)
	syncTo(t, r, c, 7)
	in := r.Info()
	if in.HeaderHeight != c.Height() || in.Height != c.Height()-1 {
		t.Fatalf("heights %d/%d, chain %d", in.Height, in.HeaderHeight, c.Height())
	}
	if in.AppHash != c.Block(c.Height()-1).Record.AppHash {
		t.Fatal("app hash differs from the chain's")
	}
	msgs, next, err := r.Egress()
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || next != 0 || string(msgs[0].Message.Topic) != msg.TopicWorkerOnline || msgs[0].Sequence != 0 {
		t.Fatalf("egress %+v next %d, want one worker/online message", msgs, next)
	}
	if !msgs[0].Verify(id) {
		t.Fatal("egress signature does not verify with the identity key")
	}
	before := egressBytes(t, r)

	// Restart: keys and state come back from the sealed files.
	r2 := openTest(t, dir, 10)
	in2 := r2.Info()
	if !in2.Initialized || in2.IdentityPublicKey != id || in2.GenesisHash != gh {
		t.Fatalf("after restart: %+v", in2)
	}
	syncTo(t, r2, c, 100)
	if got := r2.Info(); got.AppHash != in.AppHash || got.HeaderHeight != in.HeaderHeight {
		t.Fatalf("after restart and resync: %+v, want %+v", got, in)
	}
	if !bytes.Equal(egressBytes(t, r2), before) {
		t.Fatal("restored runtime re-signed different egress bytes")
	}

	// Another genesis is refused.
	other, err := synth.New(synth.Config{ChainID: "other"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r2.Init(other.Genesis(), other.GenesisRecord()); !errors.Is(err, ErrOtherGenesis) {
		t.Fatalf("init with another genesis: %v", err)
	}
}

func TestSyncBeforeInit(t *testing.T) {
	r := openTest(t, t.TempDir(), 10)
	if err := r.Sync(chainsync.Batch{}); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("got %v", err)
	}
	if _, _, err := r.Egress(); !errors.Is(err, ErrNotInitialized) {
		t.Fatalf("got %v", err)
	}
}

// TestAPI drives the runtime through its connect API, as pherry does, and
// checks that bad input is refused as InvalidArgument without effect.
func TestAPI(t *testing.T) {
	alice, _ := keys.FromURI("//Alice")
	op := alice.Public()
	r, err := openConfig(t.TempDir(), Config{CheckpointInterval: 10, Operator: op})
	if err != nil {
		t.Fatal(err)
	}
	isrv := httptest.NewServer(InternalHandler(r, testToken))
	defer isrv.Close()
	psrv := httptest.NewServer(PublicHandler(r))
	defer psrv.Close()
	ctx := context.Background()
	in := pruntimev1connect.NewInternalClient(http.DefaultClient, isrv.URL, withToken(testToken))
	pub := pruntimev1connect.NewPublicClient(http.DefaultClient, psrv.URL)

	var id keys.PublicKey
	c := testChain(t, &id, 3)
	g, rec := c.Genesis(), c.GenesisRecord()
	if _, err := in.Sync(ctx, &pruntimev1.SyncRequest{}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("empty sync: %v", err)
	}
	if _, err := in.Init(ctx, &pruntimev1.InitRequest{Genesis: []byte{1, 2}, GenesisRecord: scale.Encode(rec)}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("garbage genesis: %v", err)
	}
	res, err := in.Init(ctx, &pruntimev1.InitRequest{Genesis: scale.Encode(g), GenesisRecord: scale.Encode(rec)})
	if err != nil {
		t.Fatal(err)
	}
	if gh := c.GenesisHash(); !bytes.Equal(res.GenesisHash, gh[:]) {
		t.Fatal("wrong genesis hash")
	}
	id = r.Info().IdentityPublicKey
	info, err := pub.Info(ctx, &pruntimev1.InfoRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if !info.Initialized || info.TeeProvider != "dev" || info.Registered || info.Measurement == "" || info.Operator != op.String() {
		t.Fatalf("info %+v", info)
	}
	addBlocks(t, c, 6)
	b, err := c.Batch(1, c.Height())
	if err != nil {
		t.Fatal(err)
	}
	req := encodeBatch(t, b)

	// A tampered record: refused, nothing changes.
	bad := encodeBatch(t, b)
	var tampered = *b.Records[2]
	tampered.WriteSet = append(state.WriteSet{}, tampered.WriteSet...)
	if len(tampered.WriteSet) == 0 {
		t.Fatal("block without writes")
	}
	w0 := tampered.WriteSet[0]
	tampered.WriteSet[0] = state.Write{Key: w0.Key, Value: append([]byte{0xff}, w0.Value...)}
	bad.Records[2] = scale.Encode(&tampered)
	if _, err := in.Sync(ctx, bad); connect.CodeOf(err) != connect.CodeInvalidArgument || !errors.Is(r.Sync(mustDecode(t, bad)), chainsync.ErrAppHashMismatch) {
		t.Fatalf("tampered record: %v", err)
	}
	if r.Info().HeaderHeight != 0 {
		t.Fatal("a refused batch changed the runtime")
	}
	// Header first: the batch without its last header's record applies
	// every block before it; the record alone follows.
	last := req.Records[len(req.Records)-1]
	req.Records = req.Records[:len(req.Records)-1]
	sr, err := in.Sync(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if sr.HeaderHeight != c.Height() || sr.AppliedHeight != c.Height()-1 {
		t.Fatalf("sync response %+v", sr)
	}
	if info, err := pub.Info(ctx, &pruntimev1.InfoRequest{}); err != nil || info.HeaderRecord {
		t.Fatalf("info after a batch without its last record: %+v %v", info, err)
	}
	for name, bad := range map[string]*pruntimev1.SyncRequest{
		"two records":        {Records: [][]byte{last, last}},
		"record with commit": {Records: [][]byte{last}, Commit: req.Commit},
		"garbage record":     {Records: [][]byte{{1, 2, 3}}},
		"an applied record":  {Records: [][]byte{req.Records[0]}},
	} {
		if _, err := in.Sync(ctx, bad); connect.CodeOf(err) != connect.CodeInvalidArgument {
			t.Fatalf("records only, %s: %v", name, err)
		}
	}
	if _, err := in.Sync(ctx, &pruntimev1.SyncRequest{Records: [][]byte{last}}); err != nil {
		t.Fatal(err)
	}
	if info, err := pub.Info(ctx, &pruntimev1.InfoRequest{}); err != nil || !info.HeaderRecord || info.HeaderHeight != c.Height() {
		t.Fatalf("info after the last record: %+v %v", info, err)
	}
	eg, err := in.Egress(ctx, &pruntimev1.EgressRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(eg.Messages) != 1 {
		t.Fatalf("%d egress messages, want 1", len(eg.Messages))
	}
	var sm msg.SignedMessage
	if err := scale.Decode(eg.Messages[0], &sm); err != nil || !sm.Verify(r.Info().IdentityPublicKey) {
		t.Fatalf("egress message: %v", err)
	}
	if _, err := in.Registration(ctx, &pruntimev1.RegistrationRequest{Operator: []byte{1}}); connect.CodeOf(err) != connect.CodeInvalidArgument {
		t.Fatalf("short operator: %v", err)
	}
	bob, _ := keys.FromURI("//Bob")
	bobID := bob.Public()
	if _, err := in.Registration(ctx, &pruntimev1.RegistrationRequest{Operator: bobID[:]}); connect.CodeOf(err) != connect.CodePermissionDenied {
		t.Fatalf("registration for another operator: %v", err)
	}
	reg, err := in.Registration(ctx, &pruntimev1.RegistrationRequest{Operator: op[:]})
	if err != nil {
		t.Fatal(err)
	}
	// Naming no operator gets the configured one.
	if reg2, err := in.Registration(ctx, &pruntimev1.RegistrationRequest{}); err != nil {
		t.Fatal(err)
	} else if var2 := (msg.RegistrationInfo{}); scale.Decode(reg2.Info, &var2) != nil || var2.Operator != op {
		t.Fatalf("registration without an operator named %v", var2.Operator)
	}
	var ri msg.RegistrationInfo
	if err := scale.Decode(reg.Info, &ri); err != nil {
		t.Fatal(err)
	}
	if ri.Operator != op || ri.GenesisHash != c.GenesisHash() || ri.RecentBlock.Height != uint64(c.Height()) || ri.TeeKind != "dev" {
		t.Fatalf("registration info %+v", ri)
	}
	meas, err := dev.NewVerifier(dev.RootPublicKey()).Verify(reg.Quote, reg.Collateral, ri.ReportData(), 0)
	if err != nil {
		t.Fatalf("the registration's quote does not verify: %v", err)
	}
	if want := dev.MeasurementOf(DevBuildID()); !meas.Equal(want) {
		t.Fatal("quote carries another measurement")
	}
}

func encodeBatch(t *testing.T, b synth.Batch) *pruntimev1.SyncRequest {
	t.Helper()
	req := &pruntimev1.SyncRequest{}
	for _, h := range b.Headers {
		raw, err := h.ToProto().Marshal()
		if err != nil {
			t.Fatal(err)
		}
		req.Headers = append(req.Headers, raw)
	}
	raw, err := b.Commit.ToProto().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	req.Commit = raw
	if b.Validators != nil {
		pv, err := b.Validators.ToProto()
		if err != nil {
			t.Fatal(err)
		}
		if req.Validators, err = pv.Marshal(); err != nil {
			t.Fatal(err)
		}
	}
	for _, rec := range b.Records {
		req.Records = append(req.Records, scale.Encode(rec))
	}
	return req
}

func mustDecode(t *testing.T, req *pruntimev1.SyncRequest) chainsync.Batch {
	t.Helper()
	b, err := DecodeBatch(req)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestCrashRecovery kills the runtime at random points of a catch-up (it
// is dropped without warning, sometimes while a checkpoint is half written)
// in 20 rounds, restarts it from its data folder each time, and checks that
// the final state and egress bytes equal those of an uninterrupted run.
func TestCrashRecovery(t *testing.T) {
	base := t.TempDir()
	tmpl := filepath.Join(base, "template")
	r := openTest(t, tmpl, 8)
	var id keys.PublicKey
	c := testChain(t, &id, 40)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	id = r.Info().IdentityPublicKey
	addBlocks(t, c, 120)

	ref := openTest(t, copyDir(t, tmpl, filepath.Join(base, "ref")), 8)
	syncTo(t, ref, c, 9)
	want := ref.Info()
	wantEgress := egressBytes(t, ref)
	if len(wantEgress) == 0 {
		t.Fatal("reference run made no egress")
	}

	rng := rand.New(rand.NewPCG(7, 11))
	for round := 0; round < 20; round++ {
		dir := copyDir(t, tmpl, filepath.Join(base, "round", string(rune('a'+round))))
		rt := openTest(t, dir, 8)
		crashes := 0
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
				// Crash: drop the runtime; half the time leave a torn
				// checkpoint write behind, as a kill during a write would.
				if rng.IntN(2) == 0 {
					torn := filepath.Join(dir, fmt.Sprintf("%s%016d%s.tmp", checkpointPrefix, rt.Info().Height+1, checkpointSuffix))
					if err := os.WriteFile(torn, []byte("torn"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				// Now and then the newest checkpoint is damaged too: the
				// runtime must fall back to the older one.
				if cps, err := rt.checkpoints(); err == nil && len(cps) >= 2 && rng.IntN(4) == 0 {
					newest := filepath.Join(dir, cps[len(cps)-1].name)
					if err := os.WriteFile(newest, []byte("damaged"), 0o600); err != nil {
						t.Fatal(err)
					}
				}
				rt = openTest(t, dir, 8)
				crashes++
			}
		}
		got := rt.Info()
		if got.AppHash != want.AppHash || got.Height != want.Height || got.IdentityPublicKey != want.IdentityPublicKey {
			t.Fatalf("round %d (%d crashes): %+v, want %+v", round, crashes, got, want)
		}
		if !bytes.Equal(egressBytes(t, rt), wantEgress) {
			t.Fatalf("round %d (%d crashes): egress bytes differ from the uninterrupted run", round, crashes)
		}
	}
}

func copyDir(t *testing.T, from, to string) string {
	t.Helper()
	if err := os.MkdirAll(to, 0o700); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return to
}
