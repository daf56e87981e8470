package pruntime

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
)

func TestCheckpointFormat(t *testing.T) {
	chain, core := []byte("chain"), []byte("core")
	good := encodeCheckpoint([]section{{sectionChain, chain}, {sectionWorker, core}})
	cp, err := decodeCheckpoint(good)
	if err != nil || !bytes.Equal(cp.chain, chain) || !bytes.Equal(cp.worker, core) || cp.v1Egress != nil {
		t.Fatalf("round trip: %+v %v", cp, err)
	}
	ks := []byte("keys")
	cp, err = decodeCheckpoint(encodeCheckpoint([]section{{sectionChain, chain}, {sectionWorker, core}, {sectionKeys, ks}}))
	if err != nil || !bytes.Equal(cp.keys, ks) || !bytes.Equal(cp.worker, core) {
		t.Fatalf("round trip with keys: %+v %v", cp, err)
	}
	if cp.clusters != nil {
		t.Fatal("clusters without a clusters section")
	}
	cl := []byte("clusters")
	cp, err = decodeCheckpoint(encodeCheckpoint([]section{{sectionChain, chain}, {sectionWorker, core}, {sectionKeys, ks}, {sectionClusters, cl}}))
	if err != nil || !bytes.Equal(cp.keys, ks) || !bytes.Equal(cp.clusters, cl) {
		t.Fatalf("round trip with clusters: %+v %v", cp, err)
	}
	withVersion := func(v uint32) []byte {
		var w scale.Writer
		w.String(checkpointDomain)
		w.U32(v)
		w.Compact(0)
		return w.Bytes()
	}
	for _, tc := range []struct {
		name string
		b    []byte
		msg  string // part of the error
	}{
		{"unknown section", encodeCheckpoint([]section{{sectionChain, chain}, {sectionWorker, core}, {9, nil}}), "section 9 (unknown) is not known"},
		{"keys after clusters", encodeCheckpoint([]section{{sectionChain, chain}, {sectionWorker, core}, {sectionClusters, nil}, {sectionKeys, nil}}), "ids must increase"},
		{"missing worker", encodeCheckpoint([]section{{sectionChain, chain}}), "missing section"},
		{"missing chain", encodeCheckpoint([]section{{sectionWorker, core}}), "missing section"},
		{"repeated section", encodeCheckpoint([]section{{sectionChain, chain}, {sectionChain, chain}, {sectionWorker, core}}), "ids must increase"},
		{"out of order", encodeCheckpoint([]section{{sectionWorker, core}, {sectionChain, chain}}), "ids must increase"},
		{"newer version", withVersion(3), "format version 3"},
		{"other domain", scale.Encode(&msg.OnlinePayload{}), "not a checkpoint"},
		{"trailing byte", append(bytes.Clone(good), 0), ""},
		{"empty", nil, "not a checkpoint"},
	} {
		_, err := decodeCheckpoint(tc.b)
		if !errors.Is(err, errCheckpointFormat) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	for i := 0; i < len(good); i++ {
		if _, err := decodeCheckpoint(good[:i]); err == nil {
			t.Fatalf("truncated at %d accepted", i)
		}
	}
}

// v1Checkpoint encodes r's state in the checkpoint format of pRuntime
// 0.1.0 (before the worker core), as that version wrote it.
func v1Checkpoint(t *testing.T, r *Runtime) []byte {
	t.Helper()
	snap := r.sync.Snapshot()
	var d scale.Writer
	d.String("cella/chainsync/v2")
	if !bytes.HasPrefix(snap, d.Bytes()) {
		t.Fatal("unexpected chainsync snapshot domain")
	}
	var v1snap scale.Writer
	v1snap.String("cella/chainsync/v1")
	v1snap.Raw(snap[len(d.Bytes()):])
	st := r.core.State()
	var w scale.Writer
	w.String(checkpointDomainV1)
	w.BytesVec(v1snap.Bytes())
	w.Bool(st.Online)
	w.U64(st.Streams[0].Next)
	w.Compact(uint64(len(st.Streams[0].Out)))
	for i := range st.Streams[0].Out {
		st.Streams[0].Out[i].EncodeSCALE(&w)
	}
	return w.Bytes()
}

// TestRestoreV1Checkpoint: a data folder whose only checkpoint is in the
// v1 format restores, and the resumed runtime ends with the state and
// egress bytes of an uninterrupted run.
func TestRestoreV1Checkpoint(t *testing.T) {
	dir := t.TempDir()
	r := openTest(t, dir, 1000)
	var id keys.PublicKey
	c := testChain(t, &id, 6)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	id = r.Info().IdentityPublicKey
	addBlocks(t, c, 30)
	syncTo(t, r, c, 11)
	if !r.core.Online() {
		t.Fatal("not online after its registration")
	}
	plain := v1Checkpoint(t, r)
	h := r.sync.Height()
	cps, err := r.checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	for _, cp := range cps {
		if err := os.Remove(r.path(cp.name)); err != nil {
			t.Fatal(err)
		}
	}
	sealed, err := r.cfg.TEE.Seal(plain, aad(checkpointPurpose, r.sync.GenesisHash()))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(r.path(checkpointPrefix+leftPad(h)+checkpointSuffix), sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	syncTo(t, r, c, 100) // the uninterrupted run
	want, wantEgress := r.Info(), egressBytes(t, r)

	r2 := openTest(t, dir, 1000)
	if got := r2.Info(); got.Height != h || got.IdentityPublicKey != id {
		t.Fatalf("restored from v1: %+v", got)
	}
	syncTo(t, r2, c, 100)
	if got := r2.Info(); got.AppHash != want.AppHash || got.Height != want.Height || !bytes.Equal(egressBytes(t, r2), wantEgress) {
		t.Fatalf("resumed from v1: %+v, want %+v", got, want)
	}
	if len(wantEgress) == 0 {
		t.Fatal("no egress to compare")
	}
}

// TestUnknownSectionFallsBack: a newer checkpoint with a section this
// version does not know is set aside, and the older one restores.
func TestUnknownSectionFallsBack(t *testing.T) {
	dir := t.TempDir()
	r := openTest(t, dir, 5)
	var id keys.PublicKey
	c := testChain(t, &id, 3)
	if _, err := r.Init(c.Genesis(), c.GenesisRecord()); err != nil {
		t.Fatal(err)
	}
	addBlocks(t, c, 12)
	syncTo(t, r, c, 100)
	cps, err := r.checkpoints()
	if err != nil || len(cps) == 0 {
		t.Fatal(cps, err)
	}
	older := cps[len(cps)-1].height
	plain := encodeCheckpoint([]section{{sectionChain, r.sync.Snapshot()}, {sectionWorker, r.core.Snapshot()}, {200, []byte("future")}})
	sealed, err := r.cfg.TEE.Seal(plain, aad(checkpointPurpose, r.sync.GenesisHash()))
	if err != nil {
		t.Fatal(err)
	}
	newer := checkpointPrefix + leftPad(older+50) + checkpointSuffix
	if err := os.WriteFile(r.path(newer), sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	r2 := openTest(t, dir, 5)
	if got := r2.Info().Height; got != older {
		t.Fatalf("restored height %d, want %d", got, older)
	}
	if _, err := os.Stat(r2.path(newer + ".corrupt")); err != nil {
		t.Fatalf("unusable checkpoint not set aside: %v", err)
	}
}

func leftPad(h int64) string { return fmt.Sprintf("%016d", h) }
