package msg

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

func pair(t *testing.T, uri string) *keys.Pair {
	t.Helper()
	p, err := keys.FromURI(uri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestOrigins(t *testing.T) {
	w := pair(t, "//Worker1").Public()
	ow := OriginWorker(w)
	if len(ow) != 33 || ow[0] != OriginKindWorker || !bytes.Equal(ow[1:], w[:]) {
		t.Fatalf("worker origin %x", ow)
	}
	om := OriginModule("registry")
	if !bytes.Equal(om, append([]byte{0, 8 << 2}, "registry"...)) {
		t.Fatalf("module origin %x", om)
	}
	if o, err := ParseOrigin(ow); err != nil || o.Kind != OriginKindWorker || o.Worker != w || o.String() != "worker:"+w.Hex() {
		t.Fatalf("%+v %v", o, err)
	}
	if o, err := ParseOrigin(om); err != nil || o.Module != "registry" || o.String() != "module:registry" {
		t.Fatalf("%+v %v", o, err)
	}
	oc := OriginCluster([32]byte{31: 7})
	if o, err := ParseOrigin(oc); err != nil || o.Kind != OriginKindCluster || o.Cluster != ([32]byte{31: 7}) ||
		o.String() != "cluster:0x0000000000000000000000000000000000000000000000000000000000000007" {
		t.Fatalf("%+v %v", o, err)
	}
	bad := map[string][]byte{
		"short cluster":   oc[:32],
		"long cluster":    append(bytes.Clone(oc), 0),
		"empty":           nil,
		"short worker":    ow[:32],
		"long worker":     append(bytes.Clone(ow), 0),
		"reserved":        {OriginKindReserved},
		"unknown kind":    {7, 1, 2},
		"empty module":    OriginModule(""),
		"long module":     OriginModule(strings.Repeat("m", MaxModuleNameLen+1)),
		"module trailing": append(OriginModule("x"), 1),
	}
	for name, b := range bad {
		if _, err := ParseOrigin(b); !errors.Is(err, ErrBadOrigin) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSignedMessage(t *testing.T) {
	wp := pair(t, "//Worker1")
	m := Message{Origin: OriginWorker(wp.Public()), Topic: []byte("t"), Payload: []byte("hello")}
	s := Sign(wp, m, 7)
	if !s.Verify(wp.Public()) {
		t.Fatal("does not verify")
	}
	if s2 := s; func() bool { s2.Sequence = 8; return s2.Verify(wp.Public()) }() {
		t.Fatal("signature does not bind the sequence")
	}
	if s.Verify(pair(t, "//Alice").Public()) {
		t.Fatal("verifies for another key")
	}
	payload := SigningPayload(&m, 7)
	if !bytes.HasPrefix(payload, []byte(SigningDomain)) || !bytes.HasSuffix(payload, []byte{7, 0, 0, 0, 0, 0, 0, 0}) {
		t.Fatalf("payload %x", payload)
	}
}

func TestRegistrationInfoEncoding(t *testing.T) {
	info := RegistrationInfo{
		IdentityPublicKey: keys.PublicKey{1}, EcdhPublicKey: [32]byte{2}, Operator: keys.PublicKey{3},
		GenesisHash: [32]byte{4}, PRuntimeVersion: PRuntimeVersion{Major: 1, Minor: 2, Patch: 3}, MaxAppVersion: 7,
		RecentBlock: BlockRef{Height: 9, Hash: [32]byte{5}}, TeeKind: "tdx",
	}
	enc := scale.Encode(&info)
	if len(enc) != 4*32+12+8+8+32+1+3 {
		t.Fatalf("encoded length %d", len(enc))
	}
	var back RegistrationInfo
	if err := scale.Decode(enc, &back); err != nil || back != info {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	rd := info.ReportData()
	if [32]byte(rd[32:]) != ([32]byte{}) || rd == ([64]byte{}) {
		t.Fatalf("report data %x", rd)
	}
	info.TeeKind = "dev"
	if info.ReportData() == rd {
		t.Fatal("report data ignores the TEE kind")
	}
	rec := WorkerRecord{Info: info, MeasurementHash: [32]byte{8}, Measurement: []byte("m"), RegisteredAt: 5, FirstRegisteredAt: 3}
	var rb WorkerRecord
	if err := scale.Decode(scale.Encode(&rec), &rb); err != nil || rb.Info != rec.Info || rb.RegisteredAt != 5 || rb.FirstRegisteredAt != 3 || string(rb.Measurement) != "m" {
		t.Fatalf("record round trip: %+v %v", rb, err)
	}
}

// TestOnlinePayload pins the encoding of a worker's online announcement.
func TestOnlinePayload(t *testing.T) {
	p := OnlinePayload{Identity: keys.PublicKey{1}, Ecdh: keys.PublicKey{2}, RegisteredAt: 258}
	enc := scale.Encode(&p)
	want := append(append(append([]byte{1}, make([]byte, 31)...), append([]byte{2}, make([]byte, 31)...)...), 2, 1, 0, 0, 0, 0, 0, 0)
	if !bytes.Equal(enc, want) {
		t.Fatalf("encoding %x, want %x", enc, want)
	}
	var back OnlinePayload
	if err := scale.Decode(enc, &back); err != nil || back != p {
		t.Fatalf("round trip: %+v %v", back, err)
	}
	if err := scale.Decode(enc[:len(enc)-1], &back); err == nil {
		t.Fatal("truncated payload decoded")
	}
}
