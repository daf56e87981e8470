package node_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/genesisfile"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/node"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tee"
	devtee "github.com/cella-network/cella/internal/tee/dev"
)

// devAttester returns a dev TEE provider, as a dev pRuntime runs, claiming
// the build "cella-node-test-pruntime/v1", and its measurement.
func devAttester(t *testing.T) (*devtee.Provider, tee.Measurement) {
	t.Helper()
	p, err := devtee.New(devtee.Config{BuildID: []byte("cella-node-test-pruntime/v1"), SealDir: t.TempDir(), Log: nodetest.Log()})
	if err != nil {
		t.Fatal(err)
	}
	m, err := p.Measurement()
	if err != nil {
		t.Fatal(err)
	}
	return p, m
}

// devQuote is prov's dev quote of rd.
func devQuote(t *testing.T, prov *devtee.Provider, rd [64]byte) []byte {
	t.Helper()
	q, err := prov.Attest(rd)
	if err != nil {
		t.Fatal(err)
	}
	return q
}

// blockRef returns height h with its block hash, as a pRuntime would name it.
func blockRef(ctx context.Context, t *testing.T, c *client.Client, h int64) msg.BlockRef {
	t.Helper()
	b, err := c.RPC().Block(ctx, &h)
	if err != nil {
		t.Fatal(err)
	}
	var ref msg.BlockRef
	ref.Height = uint64(h)
	copy(ref.Hash[:], b.BlockID.Hash)
	return ref
}

func waitOK(ctx context.Context, t *testing.T, c *client.Client, hash [32]byte, err error) *client.TxResult {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.Wait(ctx, hash)
	if err != nil {
		t.Fatal(err)
	}
	if !res.OK() {
		t.Fatalf("transaction failed: %s: %s", res.Result, res.Log)
	}
	return res
}

// TestWorkerRegistrationAndEgress registers a worker with a dev TEE
// attestation (checked by the node's own verifier) on a running dev node,
// submits two egress messages, reads them back through /blocks and the
// client, checks the on-chain bad input over RPC, and re-registers after a
// restart with a block hash recorded before it.
func TestWorkerRegistrationAndEgress(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	home := t.TempDir()
	o := nodetest.Options(t)
	if _, err := node.InitHome(home, node.InitOptions{ChainID: "cella-test", Dev: true, Config: o}); err != nil {
		t.Fatal(err)
	}
	prov, meas := devAttester(t)
	genesisFile := node.NewConfig(home, o).GenesisFile()
	if err := genesisfile.EditAppState(genesisFile, func(app *state.AppGenesis) error {
		app.Registry.AllowMeasurement(meas.Hash())
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	n, c := startDev(t, home, o)
	waitHeight(ctx, t, c, 2)

	alice, bob := pair(t, "//Alice"), pair(t, "//Bob")
	worker := pair(t, "//Worker1")
	ci, err := c.ChainInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	gh, err := client.ParseHash(ci.GenesisHash)
	if err != nil {
		t.Fatal(err)
	}
	info := msg.RegistrationInfo{
		IdentityPublicKey: worker.Public(),
		EcdhPublicKey:     [32]byte{0xec},
		Operator:          alice.Public(),
		GenesisHash:       gh,
		PRuntimeVersion:   msg.PRuntimeVersion{Major: 0, Minor: 1},
		MaxAppVersion:     state.AppVersion1,
		RecentBlock:       blockRef(ctx, t, c, ci.Height),
		TeeKind:           string(tee.KindDev),
	}
	att := msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(t, prov, info.ReportData())}

	// A stale freshness hash is refused at the door.
	stale := info
	stale.RecentBlock.Hash[0] ^= 1
	_, err = c.RegisterWorker(ctx, alice, stale, msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(t, prov, stale.ReportData())})
	var te *client.TxError
	if !errors.As(err, &te) || te.Code != state.CodeFreshnessHashMismatch {
		t.Fatalf("stale registration: %v", err)
	}

	hash, err := c.RegisterWorker(ctx, alice, info, att)
	reg := waitOK(ctx, t, c, hash, err)
	ws, err := c.Workers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ws) != 1 || ws[0].IdentityPublicKey != worker.Public().Hex() || ws[0].Operator != alice.Public().String() ||
		ws[0].TeeKind != "dev" || ws[0].RegisteredHeight != uint64(reg.Height) || ws[0].PRuntimeVersion != "0.1.0" ||
		ws[0].MeasurementHash != fmt.Sprintf("0x%x", meas.Hash()) {
		t.Fatalf("workers %+v", ws)
	}
	if one, err := c.Worker(ctx, worker.Public()); err != nil || !reflect.DeepEqual(*one, ws[0]) {
		t.Fatalf("worker %+v %v", one, err)
	}
	var qe *client.QueryError
	if _, err := c.Worker(ctx, bob.Public()); !errors.As(err, &qe) || qe.Code != chainapi.QueryNotFound {
		t.Fatalf("unknown worker: %v", err)
	}

	// Two egress messages, relayed by Bob in one go (explicit nonces).
	origin := msg.OriginWorker(worker.Public())
	if seq, err := c.NextSequence(ctx, origin); err != nil || seq != 0 {
		t.Fatal(seq, err)
	}
	acc, err := c.Account(ctx, bob.Public())
	if err != nil {
		t.Fatal(err)
	}
	msgs := []msg.SignedMessage{
		msg.Sign(worker, msg.Message{Origin: origin, Topic: []byte("worker/e2e"), Payload: []byte("first")}, 0),
		msg.Sign(worker, msg.Message{Origin: origin, Topic: []byte("worker/e2e"), Payload: []byte("second")}, 1),
	}
	var hashes [][32]byte
	for i, m := range msgs {
		nonce := acc.Nonce + uint64(i)
		h, err := c.SubmitEgress(ctx, bob, m, client.TxOptions{Nonce: &nonce})
		if err != nil {
			t.Fatalf("egress %d: %v", i, err)
		}
		hashes = append(hashes, h)
	}
	var last int64
	for _, h := range hashes {
		last = max(last, waitOK(ctx, t, c, h, nil).Height)
	}
	if seq, err := c.NextSequence(ctx, origin); err != nil || seq != 2 {
		t.Fatal(seq, err)
	}

	// The messages are in the block records, in order, after the registry's.
	recs, err := c.Blocks(ctx, uint64(reg.Height), uint64(last))
	if err != nil {
		t.Fatal(err)
	}
	var got []msg.Message
	for _, r := range recs {
		got = append(got, r.Messages...)
	}
	// The dev bootstrap adds, after the registry's message, the first
	// worker's promotion to gatekeeper and cluster 0's creation.
	if len(got) != 5 || !bytes.Equal(got[0].Origin, msg.OriginModule(msg.RegistryModuleName)) ||
		string(got[0].Topic) != msg.TopicWorkerRegistered || string(got[1].Topic) != msg.TopicGatekeeperChanged ||
		string(got[2].Topic) != msg.TopicClusterChanged || string(got[3].Payload) != "first" || string(got[4].Payload) != "second" ||
		!bytes.Equal(got[3].Origin, origin) {
		t.Fatalf("messages %+v", got)
	}
	var rec msg.WorkerRecord
	if err := scale.Decode(got[0].Payload, &rec); err != nil || rec.Info != info {
		t.Fatalf("registry message payload %+v %v", rec, err)
	}
	prev, err := c.Blocks(ctx, uint64(reg.Height-1), uint64(reg.Height-1))
	if err != nil {
		t.Fatal(err)
	}
	ph := prev[0].AppHash
	for _, r := range recs {
		if h := state.AppHash(state.AppVersion1, ph, r.WriteSet, r.Messages); h != r.AppHash {
			t.Fatalf("height %d: recomputed app hash %x, recorded %x", r.Height, h, r.AppHash)
		}
		ph = r.AppHash
	}

	// Bad egress is refused by CheckTx with its code.
	forged := msg.Sign(bob, msgs[0].Message, 2)
	for _, x := range []struct {
		name string
		s    msg.SignedMessage
		code uint32
	}{
		{"replayed", msgs[0], state.CodeMqReplayedSequence},
		{"gapped", msg.Sign(worker, msgs[0].Message, 7), state.CodeMqGappedSequence},
		{"forged", forged, state.CodeMqBadSignature},
		{"unknown origin", msg.Sign(bob, msg.Message{Origin: msg.OriginWorker(bob.Public()), Topic: []byte("x")}, 0), state.CodeMqUnknownOrigin},
	} {
		_, err := c.SubmitEgress(ctx, bob, x.s)
		if !errors.As(err, &te) || te.Code != x.code {
			t.Fatalf("%s: %v, want %s", x.name, err, state.CodeName(x.code))
		}
	}
	if seq, err := c.NextSequence(ctx, origin); err != nil || seq != 2 {
		t.Fatal(seq, err)
	}
	if _, err := c.NextSequence(ctx, []byte{9}); !errors.As(err, &qe) || qe.Code != chainapi.QueryBadInput {
		t.Fatalf("bad origin: %v", err)
	}

	// Restart: the block hashes recorded before it still serve freshness.
	ref := blockRef(ctx, t, c, last)
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	n2, c2 := startDev(t, home, o)
	defer n2.Close()
	waitHeight(ctx, t, c2, last+1)
	upd := info
	upd.PRuntimeVersion.Minor = 2
	upd.RecentBlock = ref
	hash, err = c2.RegisterWorker(ctx, alice, upd, msg.Attestation{Kind: string(tee.KindDev), Quote: devQuote(t, prov, upd.ReportData())})
	waitOK(ctx, t, c2, hash, err)
	one, err := c2.Worker(ctx, worker.Public())
	if err != nil || one.PRuntimeVersion != "0.2.0" || one.FirstRegisteredHeight != uint64(reg.Height) {
		t.Fatalf("after re-registration %+v %v", one, err)
	}
}

// TestGenesisRegistryJSON: the registry section survives genesis.json, and
// a non-dev genesis allowing dev attestations is refused.
func TestGenesisRegistryJSON(t *testing.T) {
	g := state.DevGenesis("cella-json", []state.Validator{{PubKey: [32]byte{1}, Power: 1}})
	g.App.Registry.AllowMeasurement([32]byte{0xab})
	doc, err := genesisfile.GenesisDoc(g, time.Unix(1_700_000_000, 0))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc.AppState), `"allow_dev_attestation": true`) ||
		!strings.Contains(string(doc.AppState), fmt.Sprintf("0x%x", g.App.Registry.DevAttestationRoot)) {
		t.Fatalf("app_state %s", doc.AppState)
	}
	back, err := genesisfile.GenesisFromDoc(doc)
	if err != nil {
		t.Fatal(err)
	}
	if back.Hash() != g.Hash() {
		t.Fatal("genesis hash changed through JSON")
	}
	var as genesisfile.AppStateJSON
	if err := json.Unmarshal(doc.AppState, &as); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(a *genesisfile.AppStateJSON){
		"dev attestation on non-dev": func(a *genesisfile.AppStateJSON) { a.Dev = false },
		"bad root":                   func(a *genesisfile.AppStateJSON) { a.Registry.DevAttestationRoot = "0x12" },
		"bad measurement":            func(a *genesisfile.AppStateJSON) { a.Registry.Measurements = []string{"zz"} },
	} {
		a := as
		a.Registry.Measurements = append([]string(nil), as.Registry.Measurements...)
		mut(&a)
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		d := *doc
		d.AppState = b
		if _, err := genesisfile.GenesisFromDoc(&d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	// A genesis.json without a registry section is a chain without dev
	// attestations and with an empty allow-list.
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(doc.AppState, &raw); err != nil {
		t.Fatal(err)
	}
	delete(raw, "registry")
	delete(raw, "dev_bootstrap") // dev chains only
	raw["dev"] = json.RawMessage("false")
	d := *doc
	if d.AppState, err = json.Marshal(raw); err != nil {
		t.Fatal(err)
	}
	ng, err := genesisfile.GenesisFromDoc(&d)
	if err != nil {
		t.Fatal(err)
	}
	if ng.App.Registry.AllowDevAttestation || len(ng.App.Registry.Measurements) != 0 {
		t.Fatalf("registry %+v", ng.App.Registry)
	}
}
