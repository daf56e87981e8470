package state_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/tee"
	"github.com/cella-network/cella/internal/tx"
)

// testMeasurement is the canonical measurement the test verifiers attest.
var testMeasurement = []byte("cella-test-pruntime/measurement/v1")

// devQuoteDomain prefixes what the test dev root signs.
const devQuoteDomain = "cella/test-dev-quote/v1"

// devQuote is a dev-style quote: SCALE(measurement Vec<u8>, report data
// [u8; 64], signature [u8; 64]), the signature by root over
// devQuoteDomain ‖ measurement ‖ report data.
func devQuote(root *keys.Pair, measurement []byte, rd [64]byte) []byte {
	msg := append(append([]byte(devQuoteDomain), measurement...), rd[:]...)
	sig := root.SignDeterministic(msg)
	w := scale.NewWriter(0)
	w.BytesVec(measurement)
	w.Raw(rd[:])
	w.Raw(sig[:])
	return w.Bytes()
}

// devLikeVerifier verifies devQuote quotes against a dev root key, as the
// real dev verifier does with the genesis's DevAttestationRoot.
type devLikeVerifier struct{ root keys.PublicKey }

func (v devLikeVerifier) Verify(kind string, quote, _ []byte, rd [64]byte, _ int64) ([]byte, error) {
	if kind != string(tee.KindDev) {
		return nil, fmt.Errorf("unsupported TEE kind %q", kind)
	}
	r := scale.NewReader(quote)
	meas := r.BytesVec()
	var qrd [64]byte
	var sig keys.Signature
	r.Fixed(qrd[:])
	r.Fixed(sig[:])
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("dev quote: %w", err)
	}
	msg := append(append([]byte(devQuoteDomain), meas...), qrd[:]...)
	if !keys.Verify(v.root, msg, sig) {
		return nil, errors.New("dev quote: not signed by the dev root")
	}
	if qrd != rd {
		return nil, fmt.Errorf("dev quote: %w", state.ErrReportDataMismatch)
	}
	return meas, nil
}

// fakeTDX is a fake "tdx" kind: the quote is measurement ‖ report data, the
// collateral a u64 little-endian expiry (Unix seconds) judged at block time;
// the quote "panic" makes it panic.
func fakeTDXQuote(measurement []byte, rd [64]byte) []byte {
	return append(append([]byte(nil), measurement...), rd[:]...)
}

func fakeTDXCollateral(notAfter int64) []byte {
	return binary.LittleEndian.AppendUint64(nil, uint64(notAfter))
}

type testVerifier struct{ dev devLikeVerifier }

func (v testVerifier) Verify(kind string, quote, collateral []byte, rd [64]byte, now int64) ([]byte, error) {
	switch kind {
	case string(tee.KindDev):
		return v.dev.Verify(kind, quote, collateral, rd, now)
	case string(tee.KindTDX):
		if string(quote) == "panic" {
			panic("hostile quote")
		}
		if len(quote) < 64 || len(collateral) != 8 {
			return nil, errors.New("fake tdx: malformed")
		}
		if now > int64(binary.LittleEndian.Uint64(collateral)) {
			return nil, errors.New("fake tdx: collateral expired")
		}
		if !bytes.Equal(quote[len(quote)-64:], rd[:]) {
			return nil, fmt.Errorf("fake tdx: %w", state.ErrReportDataMismatch)
		}
		return quote[:len(quote)-64], nil
	}
	return nil, fmt.Errorf("unsupported TEE kind %q", kind)
}

func devRoot(t testing.TB) *keys.Pair {
	t.Helper()
	p, err := keys.FromURI(state.DevTeeRootURI)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// newRegistryChain is a dev chain that allows testMeasurement, with the
// test verifier and one empty block committed (so that there is a
// freshness block). The dev bootstrap is off (keys_test.go tests it).
func newRegistryChain(t testing.TB, mut ...func(g *state.Genesis)) *chain {
	t.Helper()
	g := state.DevGenesis("cella-test", testValidators())
	g.App.DevBootstrap = false
	g.App.Registry.AllowMeasurement(registry.MeasurementHash(testMeasurement))
	for _, f := range mut {
		f(g)
	}
	c := newChain(t, g, state.WithAttestationVerifier(testVerifier{devLikeVerifier{root: state.DevAttestationRoot()}}))
	c.block()
	return c
}

// regInfo is a valid registration of worker id operated by op, fresh at the
// chain's last block.
func (c *chain) regInfo(id *keys.Pair, op keys.PublicKey) msg.RegistrationInfo {
	return msg.RegistrationInfo{
		IdentityPublicKey: id.Public(),
		EcdhPublicKey:     [32]byte{0xec, id.Public()[0]},
		Operator:          op,
		GenesisHash:       c.m.GenesisHash(),
		PRuntimeVersion:   msg.PRuntimeVersion{Major: 0, Minor: 1, Patch: 0},
		MaxAppVersion:     state.AppVersion1,
		RecentBlock:       c.ref(c.height),
		TeeKind:           string(tee.KindDev),
	}
}

// devAtt is a valid dev attestation of info.
func devAtt(t testing.TB, info msg.RegistrationInfo) msg.Attestation {
	return msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(devRoot(t), testMeasurement, info.ReportData())}
}

func (c *chain) register(from *keys.Pair, nonce uint64, info msg.RegistrationInfo, att msg.Attestation) []byte {
	return tx.Sign(c.body(from, nonce, registry.RegisterWorkerCall(info, att)), from).Encode()
}

// registryKeysWritten reports whether the write-set touches registry or mq keys.
func registryKeysWritten(ws state.WriteSet) bool {
	for _, w := range ws {
		if bytes.HasPrefix(w.Key, []byte("registry/")) || bytes.HasPrefix(w.Key, mq.PrefixIngress) {
			return true
		}
	}
	return false
}

func TestDecodeRegisterWorkerArgs(t *testing.T) {
	info := msg.RegistrationInfo{TeeKind: "dev"}
	att := msg.Attestation{Kind: "dev", Quote: []byte{1}}
	if _, _, err := registry.DecodeRegisterWorkerArgs(registry.RegisterWorkerCall(info, att).Args); err != nil {
		t.Fatal(err)
	}
	cases := map[string]func() []byte{
		"kind mismatch": func() []byte { a := att; a.Kind = "tdx"; return registry.RegisterWorkerCall(info, a).Args },
		"empty kind": func() []byte {
			i, a := info, att
			i.TeeKind, a.Kind = "", ""
			return registry.RegisterWorkerCall(i, a).Args
		},
		"bad kind": func() []byte {
			i, a := info, att
			i.TeeKind, a.Kind = "DEV", "DEV"
			return registry.RegisterWorkerCall(i, a).Args
		},
		"long kind": func() []byte {
			i, a := info, att
			i.TeeKind = strings.Repeat("x", tee.MaxKindLen+1)
			a.Kind = i.TeeKind
			return registry.RegisterWorkerCall(i, a).Args
		},
		"truncated": func() []byte { a := registry.RegisterWorkerCall(info, att).Args; return a[:len(a)-1] },
		"trailing":  func() []byte { return append(registry.RegisterWorkerCall(info, att).Args, 0) },
		"empty":     func() []byte { return nil },
	}
	for name, args := range cases {
		if _, _, err := registry.DecodeRegisterWorkerArgs(args()); err == nil {
			t.Errorf("%s: decoded", name)
		}
	}
}

func TestRegisterWorker(t *testing.T) {
	c := newRegistryChain(t)
	alice, bob := dev(t, "Alice"), dev(t, "Bob")
	w1, w2 := dev(t, "Worker1"), dev(t, "Worker2")
	info1 := c.regInfo(w1, alice.Public())
	info2 := c.regInfo(w2, bob.Public())
	res := c.block(c.register(alice, 0, info1, devAtt(t, info1)), c.register(bob, 0, info2, devAtt(t, info2)))
	for i, r := range res.TxResults {
		if r.Code != state.CodeOK {
			t.Fatalf("tx %d: %s: %s", i, state.CodeName(r.Code), r.Log)
		}
		if r.Weight != state.TxBaseWeight+registry.RegisterWorkerWeight {
			t.Fatalf("weight %d", r.Weight)
		}
	}
	if len(res.Messages) != 2 {
		t.Fatalf("%d messages", len(res.Messages))
	}
	for i, info := range []msg.RegistrationInfo{info1, info2} {
		m := res.Messages[i]
		if !bytes.Equal(m.Origin, msg.OriginModule(msg.RegistryModuleName)) || string(m.Topic) != msg.TopicWorkerRegistered {
			t.Fatalf("message %d: %x %q", i, m.Origin, m.Topic)
		}
		var rec msg.WorkerRecord
		if err := scale.Decode(m.Payload, &rec); err != nil || rec.Info != info {
			t.Fatalf("message %d payload: %+v %v", i, rec, err)
		}
	}
	rec, ok, err := registry.GetWorker(c.st, w1.Public())
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if rec.Info != info1 || rec.MeasurementHash != registry.MeasurementHash(testMeasurement) || !bytes.Equal(rec.Measurement, testMeasurement) ||
		rec.RegisteredAt != 2 || rec.FirstRegisteredAt != 2 {
		t.Fatalf("record %+v", rec)
	}
	ws, err := registry.ListWorkers(c.st)
	if err != nil || len(ws) != 2 {
		t.Fatal(len(ws), err)
	}
	if bytes.Compare(ws[0].Info.IdentityPublicKey[:], ws[1].Info.IdentityPublicKey[:]) >= 0 {
		t.Fatal("workers not sorted")
	}

	// Re-registration updates the record (new version, operator and freshness)
	// and keeps the first registration height; the index is unchanged.
	c.block()
	upd := c.regInfo(w1, bob.Public())
	upd.PRuntimeVersion = msg.PRuntimeVersion{Major: 0, Minor: 2, Patch: 0}
	res = c.block(c.register(bob, 1, upd, devAtt(t, upd)))
	if r := res.TxResults[0]; r.Code != state.CodeOK {
		t.Fatalf("%s: %s", state.CodeName(r.Code), r.Log)
	}
	if len(res.Messages) != 1 {
		t.Fatal(res.Messages)
	}
	rec, _, _ = registry.GetWorker(c.st, w1.Public())
	if rec.Info != upd || rec.RegisteredAt != 4 || rec.FirstRegisteredAt != 2 {
		t.Fatalf("updated record %+v", rec)
	}
	for _, w := range res.WriteSet {
		if bytes.Equal(w.Key, registry.KeyWorkerIndex) {
			t.Fatal("re-registration rewrote the index")
		}
	}
	if ws, _ := registry.ListWorkers(c.st); len(ws) != 2 {
		t.Fatal(len(ws))
	}

	// Replaying the older registration cannot roll the record back.
	res = c.block(c.register(alice, 1, info1, devAtt(t, info1)))
	if r := res.TxResults[0]; r.Code != state.CodeOutdatedRegistration {
		t.Fatalf("%s: %s", state.CodeName(r.Code), r.Log)
	}
	if rec2, _, _ := registry.GetWorker(c.st, w1.Public()); rec2.Info != upd {
		t.Fatal("record rolled back")
	}
}

// TestRegisterWorkerRules runs every registration rule: each failure is a
// call failure with its own code (fee charged, nonce advanced) that writes
// no registry key and emits no message.
func TestRegisterWorkerRules(t *testing.T) {
	alice := dev(t, "Alice")
	w := dev(t, "Worker1")
	other := dev(t, "NotTheDevRoot")
	type tc struct {
		name  string
		setup func(c *chain)                          // optional, before the info is made
		mut   func(c *chain, i *msg.RegistrationInfo) // on a valid info
		att   func(c *chain, i msg.RegistrationInfo) msg.Attestation
		gen   func(g *state.Genesis)
		opts  []state.Option
		code  uint32
	}
	good := func(c *chain, i msg.RegistrationInfo) msg.Attestation { return devAtt(t, i) }
	tdx := func(notAfter int64) func(c *chain, i msg.RegistrationInfo) msg.Attestation {
		return func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			return msg.Attestation{Kind: string(tee.KindTDX), Quote: fakeTDXQuote(testMeasurement, i.ReportData()), Collateral: fakeTDXCollateral(notAfter)}
		}
	}
	asTDX := func(c *chain, i *msg.RegistrationInfo) { i.TeeKind = string(tee.KindTDX) }
	now := testTime / 1_000_000_000
	tcs := []tc{
		{name: "ok dev", code: state.CodeOK},
		{name: "ok tdx at block time", mut: asTDX, att: tdx(now), code: state.CodeOK},
		{name: "ok freshness at window edge", setup: func(c *chain) { c.height = registry.FreshnessWindow }, mut: func(c *chain, i *msg.RegistrationInfo) { i.RecentBlock = c.ref(1) }, code: state.CodeOK},
		{name: "wrong genesis", mut: func(c *chain, i *msg.RegistrationInfo) { i.GenesisHash[0] ^= 1 }, code: state.CodeWorkerWrongGenesis},
		{name: "app version too low", mut: func(c *chain, i *msg.RegistrationInfo) { i.MaxAppVersion = 0 }, code: state.CodeAppVersionTooLow},
		{name: "freshness height 0", mut: func(c *chain, i *msg.RegistrationInfo) { i.RecentBlock = msg.BlockRef{} }, code: state.CodeStaleFreshness},
		{name: "freshness current height", mut: func(c *chain, i *msg.RegistrationInfo) { i.RecentBlock = c.ref(c.height + 1) }, code: state.CodeStaleFreshness},
		{name: "freshness future", mut: func(c *chain, i *msg.RegistrationInfo) { i.RecentBlock = c.ref(c.height + 50) }, code: state.CodeStaleFreshness},
		{name: "freshness too old", setup: func(c *chain) { c.height = registry.FreshnessWindow + 1 }, mut: func(c *chain, i *msg.RegistrationInfo) { i.RecentBlock = c.ref(1) }, code: state.CodeStaleFreshness},
		{name: "freshness hash mismatch", mut: func(c *chain, i *msg.RegistrationInfo) { i.RecentBlock.Hash[0] ^= 1 }, code: state.CodeFreshnessHashMismatch},
		{name: "no block hashes", setup: func(c *chain) { c.noHashes = true }, code: state.CodeBlockHashUnavailable},
		{name: "dev disallowed on dev chain", gen: func(g *state.Genesis) { g.App.Registry.AllowDevAttestation = false }, code: state.CodeDevAttestationDisallowed},
		{name: "dev quote on non-dev chain", gen: func(g *state.Genesis) {
			g.App.Dev, g.App.DevBootstrap = false, false
			g.App.Registry.AllowDevAttestation = false
		}, code: state.CodeDevAttestationDisallowed},
		{name: "no verifier", opts: []state.Option{state.WithAttestationVerifier(nil)}, code: state.CodeAttestationUnverifiable},
		{name: "report data of another registration", att: func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			i.Operator = dev(t, "Mallory").Public()
			return devAtt(t, i)
		}, code: state.CodeReportDataMismatch},
		{name: "tdx report data mismatch", mut: asTDX, att: func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			a := tdx(now)(c, i)
			a.Quote[len(a.Quote)-1] ^= 1
			return a
		}, code: state.CodeReportDataMismatch},
		{name: "dev quote by another root", att: func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			return msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(other, testMeasurement, i.ReportData())}
		}, code: state.CodeBadAttestation},
		{name: "garbage quote", att: func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			return msg.Attestation{Kind: string(tee.KindDev), Quote: []byte{1, 2, 3}}
		}, code: state.CodeBadAttestation},
		{name: "collateral expired at block time", mut: asTDX, att: tdx(now - 1), code: state.CodeBadAttestation},
		{name: "verifier panics", mut: asTDX, att: func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			return msg.Attestation{Kind: string(tee.KindTDX), Quote: []byte("panic")}
		}, code: state.CodeBadAttestation},
		{name: "unsupported kind", mut: func(c *chain, i *msg.RegistrationInfo) { i.TeeKind = "sev-snp" }, att: func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			return msg.Attestation{Kind: "sev-snp", Quote: []byte{1}}
		}, code: state.CodeBadAttestation},
		{name: "unknown measurement", att: func(c *chain, i msg.RegistrationInfo) msg.Attestation {
			return msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(devRoot(t), []byte("other pruntime"), i.ReportData())}
		}, code: state.CodeUnknownMeasurement},
		{name: "empty allow-list", gen: func(g *state.Genesis) { g.App.Registry.Measurements = nil }, code: state.CodeUnknownMeasurement},
	}
	for _, x := range tcs {
		t.Run(x.name, func(t *testing.T) {
			g := state.DevGenesis("cella-test", testValidators())
			g.App.DevBootstrap = false
			g.App.Registry.AllowMeasurement(registry.MeasurementHash(testMeasurement))
			if x.gen != nil {
				x.gen(g)
			}
			opts := append([]state.Option{state.WithAttestationVerifier(testVerifier{devLikeVerifier{root: state.DevAttestationRoot()}})}, x.opts...)
			c := newChain(t, g, opts...)
			c.block()
			if x.setup != nil {
				x.setup(c)
			}
			info := c.regInfo(w, alice.Public())
			if x.mut != nil {
				x.mut(c, &info)
			}
			att := good
			if x.att != nil {
				att = x.att
			}
			raw := c.register(alice, 0, info, att(c, info))
			res := c.block(raw)
			r := res.TxResults[0]
			if r.Code != x.code {
				t.Fatalf("code %s (%s), want %s", state.CodeName(r.Code), r.Log, state.CodeName(x.code))
			}
			if r.Log == "" && r.Code != state.CodeOK {
				t.Fatal("failure without a message")
			}
			_, registered, err := registry.GetWorker(c.st, w.Public())
			if err != nil {
				t.Fatal(err)
			}
			if x.code == state.CodeOK {
				if !registered || len(res.Messages) != 1 {
					t.Fatalf("registered %v, %d messages", registered, len(res.Messages))
				}
				return
			}
			if !state.Accepted(r.Code) || r.Fee.IsZero() {
				t.Fatalf("a registration failure must be a call failure that pays its fee: %+v", r)
			}
			if registered || len(res.Messages) != 0 || registryKeysWritten(res.WriteSet) {
				t.Fatalf("failure changed the registry: registered %v, %d messages", registered, len(res.Messages))
			}
			if c.account(alice.Public()).Nonce != 1 {
				t.Fatal("nonce did not advance")
			}
		})
	}
}

// TestRegisterWorkerCheckTx: CheckTx dry-runs the cheap rules (refusing
// with the call's code) and leaves the attestation to block time.
func TestRegisterWorkerCheckTx(t *testing.T) {
	c := newRegistryChain(t)
	alice, w := dev(t, "Alice"), dev(t, "Worker1")
	hashes := chainHashes{upTo: c.height}
	info := c.regInfo(w, alice.Public())
	if cr := c.m.CheckTx(c.st, c.height+1, c.register(alice, 0, info, devAtt(t, info)), nil, hashes); cr.Code != state.CodeOK {
		t.Fatalf("%s: %s", state.CodeName(cr.Code), cr.Log)
	}
	stale := info
	stale.RecentBlock.Hash[3] ^= 1
	if cr := c.m.CheckTx(c.st, c.height+1, c.register(alice, 0, stale, devAtt(t, stale)), nil, hashes); cr.Code != state.CodeFreshnessHashMismatch {
		t.Fatalf("%s: %s", state.CodeName(cr.Code), cr.Log)
	}
	if cr := c.m.CheckTx(c.st, c.height+1, c.register(alice, 0, info, devAtt(t, info)), nil, nil); cr.Code != state.CodeBlockHashUnavailable {
		t.Fatalf("without hashes: %s", state.CodeName(cr.Code))
	}
	// A forged quote passes the door (it is judged, and paid for, at block time).
	forged := msg.Attestation{Kind: string(tee.KindDev), Quote: []byte("forged")}
	if cr := c.m.CheckTx(c.st, c.height+1, c.register(alice, 0, info, forged), nil, hashes); cr.Code != state.CodeOK {
		t.Fatalf("forged at CheckTx: %s", state.CodeName(cr.Code))
	}
	if st := c.m.CheckTx(c.st, c.height+1, c.register(alice, 0, info, forged), nil, hashes); st.MqOrigin != nil {
		t.Fatal("MqOrigin set for a registration")
	}
	// Nothing was written by CheckTx.
	if _, ok, _ := registry.GetWorker(c.st, w.Public()); ok {
		t.Fatal("CheckTx registered")
	}
}

func TestRegistryGenesis(t *testing.T) {
	g := state.DevGenesis("cella-test", testValidators())
	if !g.App.Registry.AllowDevAttestation || g.App.Registry.DevAttestationRoot != state.DevAttestationRoot() || len(g.App.Registry.Measurements) != 0 {
		t.Fatalf("dev registry genesis %+v", g.App.Registry)
	}
	m1, m2 := registry.MeasurementHash([]byte("b")), registry.MeasurementHash([]byte("a"))
	g.App.Registry.AllowMeasurement(m1)
	g.App.Registry.AllowMeasurement(m2)
	g.App.Registry.AllowMeasurement(m1)
	if len(g.App.Registry.Measurements) != 2 {
		t.Fatal("AllowMeasurement added a duplicate")
	}
	c := newChain(t, g)
	allowed, err := registry.AllowedMeasurements(c.st)
	if err != nil || len(allowed) != 2 || bytes.Compare(allowed[0][:], allowed[1][:]) >= 0 {
		t.Fatalf("allow-list in state %x %v", allowed, err)
	}
	cfg, err := registry.GetConfig(c.st)
	if err != nil || !cfg.AllowDevAttestation || cfg.DevAttestationRoot != state.DevAttestationRoot() {
		t.Fatalf("config %+v %v", cfg, err)
	}
	if ws, err := registry.ListWorkers(c.st); err != nil || len(ws) != 0 {
		t.Fatal(ws, err)
	}
	// SCALE round trip keeps the section.
	var back state.Genesis
	if err := scale.Decode(scale.Encode(g), &back); err != nil || back.Hash() != g.Hash() || len(back.App.Registry.Measurements) != 2 {
		t.Fatalf("round trip %v", err)
	}
}
