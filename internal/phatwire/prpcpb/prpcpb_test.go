package prpcpb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/oracletest"
	"github.com/cella-network/cella/internal/phatwire"
)

func vectors(t testing.TB) map[string]map[string]any {
	t.Helper()
	b := oracletest.Vectors(t)
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	v := make(map[string]map[string]any)
	for k, r := range raw {
		var m map[string]any
		if json.Unmarshal(r, &m) == nil {
			v[k] = m
		}
	}
	return v
}

func unhex(t testing.TB, s any) []byte {
	t.Helper()
	str, _ := s.(string)
	b, err := hex.DecodeString(strings.TrimPrefix(str, "0x"))
	if err != nil || str == "" {
		t.Fatalf("bad hex %v: %v", s, err)
	}
	return b
}

func marshal(t testing.TB, m proto.Message) []byte {
	t.Helper()
	b, err := proto.MarshalOptions{Deterministic: true}.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestVectorCertificateProtobuf(t *testing.T) {
	v := vectors(t)
	wire := unhex(t, v["certificate"]["protobuf"])
	c := new(Certificate)
	if err := proto.Unmarshal(wire, c); err != nil {
		t.Fatal(err)
	}
	if got := marshal(t, c); !bytes.Equal(got, wire) {
		t.Fatalf("re-encoded\n got %x\nwant %x", got, wire)
	}
	if !bytes.Equal(c.EncodedBody, unhex(t, v["certificate"]["body_scale"])) ||
		!bytes.Equal(c.Signature.SignedBy.EncodedBody, unhex(t, v["certificate"]["root_body_scale"])) ||
		c.Signature.SignatureType != SignatureType_Sr25519 || c.Signature.SignedBy.Signature != nil ||
		!bytes.Equal(c.Signature.Signature, unhex(t, v["certificate"]["signature"])) {
		t.Fatalf("decoded %v", c)
	}
	pc, err := ToCertificate(c)
	if err != nil {
		t.Fatal(err)
	}
	if got := marshal(t, FromCertificate(pc)); !bytes.Equal(got, wire) {
		t.Fatalf("converted back\n got %x\nwant %x", got, wire)
	}
	chain, err := pc.Signature.Verify(pc.EncodedBody, 0, phatwire.MaxCertificateDepth)
	if err != nil || len(chain) != 1 || hex.EncodeToString(chain[0][:]) != strings.TrimPrefix(v["keys"]["alice"].(map[string]any)["publicKey"].(string), "0x") {
		t.Fatalf("chain %x, %v", chain, err)
	}
}

func TestVectorQueryRequestProtobuf(t *testing.T) {
	v := vectors(t)
	wire := unhex(t, v["query_request"]["protobuf"])
	req, sig, err := DecodeContractQueryRequest(wire)
	if err != nil {
		t.Fatal(err)
	}
	if got := marshal(t, req); !bytes.Equal(got, wire) {
		t.Fatalf("re-encoded\n got %x\nwant %x", got, wire)
	}
	if got := marshal(t, &ContractQueryRequest{EncodedEncryptedData: req.EncodedEncryptedData, Signature: FromSignature(sig)}); !bytes.Equal(got, wire) {
		t.Fatalf("converted back\n got %x\nwant %x", got, wire)
	}
	if !bytes.Equal(req.EncodedEncryptedData, unhex(t, v["query_request"]["encrypted_data_scale"])) {
		t.Fatal("encoded_encrypted_data differs")
	}
	for _, cache := range []*phatwire.VerifyCache{nil, phatwire.NewVerifyCache(2)} {
		chain, err := VerifyContractQueryRequest(req, sig, 1, cache)
		if err != nil || len(chain) != 2 {
			t.Fatalf("chain %x, %v", chain, err)
		}
		if hex.EncodeToString(chain[1][:]) != strings.TrimPrefix(v["certificate"]["ephemeral_pubkey"].(string), "0x") {
			t.Fatalf("leaf %x", chain[1])
		}
	}
	// Every single-byte change of the signed data, the certificate or a
	// signature makes verification (or parsing) fail — except in the root
	// certificate's ttl and config_bits, which no signature covers (in
	// pRuntime either: only the root's key matters, and its ttl must still
	// not have passed).
	rootBody := unhex(t, v["certificate"]["root_body_scale"])
	off := bytes.Index(wire, rootBody)
	if off < 0 {
		t.Fatal("root body not found in the request")
	}
	unsigned := func(i int) bool { return i >= off+33 && i < off+len(rootBody) }
	for i := range wire {
		if unsigned(i) {
			continue
		}
		bad := bytes.Clone(wire)
		bad[i] ^= 0x01
		req, sig, err := DecodeContractQueryRequest(bad)
		if err != nil {
			continue
		}
		if sig == nil {
			continue // the flip turned the signature field into another
		}
		if chain, err := VerifyContractQueryRequest(req, sig, 1, nil); err == nil {
			t.Fatalf("byte %d flipped: still verifies, chain %x", i, chain)
		}
	}
}

func TestVectorQueryResponseProtobuf(t *testing.T) {
	v := vectors(t)
	wire := unhex(t, v["query_response"]["protobuf"])
	resp := new(ContractQueryResponse)
	if err := proto.Unmarshal(wire, resp); err != nil {
		t.Fatal(err)
	}
	if got := marshal(t, resp); !bytes.Equal(got, wire) || !bytes.Equal(resp.EncodedEncryptedData, unhex(t, v["query_response"]["encrypted_data_scale"])) {
		t.Fatalf("re-encoded %x", got)
	}
}

// TestFieldNumbers pins the field numbers of the messages no vector covers
// to the layout @phala/sdk 0.5.10's protobufjs code writes (tags by hand).
func TestFieldNumbers(t *testing.T) {
	cases := []struct {
		name string
		msg  proto.Message
		want string
	}{
		{"PrpcError", &PrpcError{Message: "x"}, "0a0178"},
		{"ContractQueryResponse.blocknum", &ContractQueryResponse{Blocknum: 7}, "1007"},
		{"PhactoryInfo", &PhactoryInfo{
			Initialized: true, Registered: true, GenesisBlockHash: proto.String("g"), PublicKey: proto.String("p"),
			EcdhPublicKey: proto.String("e"), Headernum: 1, ParaHeadernum: 2, Blocknum: 3, StateRoot: "s",
			DevMode: true, PendingMessages: 4, Score: 5, Gatekeeper: &GatekeeperStatus{Role: GatekeeperRole_Active, MasterPublicKey: "m"},
			Version: "v", GitRevision: "r", MemoryUsage: &MemoryUsage{RustUsed: 1, RustPeakUsed: 2, TotalPeakUsed: 3, Free: 4, RustSpike: 5},
			WaitingForParaheaders: true, System: &SystemInfo{Registered: true, PublicKey: "p", EcdhPublicKey: "e",
				Gatekeeper: &GatekeeperStatus{Role: GatekeeperRole_Dummy}, NumberOfClusters: 6, NumberOfContracts: 7,
				MaxSupportedConsensusVersion: 8, GenesisBlock: 9},
			CanLoadChainState: true, SafeModeLevel: 2, CurrentBlockTime: 10, MaxSupportedPinkRuntimeVersion: "1.2"},
			"0801" + "1001" + "220167" + "2a0170" + "320165" + "3801" + "4002" + "4803" + "520173" + "5801" + "6004" + "6805" +
				"7205" + "0802" + "12016d" + "7a0176" + "820101" + "72" + "92010a" + "0801100218032004" + "2805" +
				"a80101" + "ba0114" + "0801" + "120170" + "1a0165" + "22020801" + "2806" + "3007" + "3808" + "4009" +
				"c00101" + "c80102" + "d0010a" + "da0103312e32"},
		{"Signature.type=EvmEcdsaWrapBytes", &Signature{SignatureType: SignatureType_EvmEcdsaWrapBytes}, "1008"},
	}
	for _, c := range cases {
		if got := hex.EncodeToString(marshal(t, c.msg)); got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

func TestConversionDepth(t *testing.T) {
	body := (&phatwire.CertificateBody{Pubkey: make([]byte, 32), TTL: 9}).Encode()
	var s *Signature
	for i := 0; i < 6; i++ {
		s = &Signature{SignedBy: &Certificate{EncodedBody: body, Signature: s}, SignatureType: SignatureType_Sr25519, Signature: make([]byte, 64)}
	}
	if _, err := ToSignature(s); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("6 levels: %v", err)
	}
	req := &ContractQueryRequest{EncodedEncryptedData: []byte{1}, Signature: s}
	if _, _, err := DecodeContractQueryRequest(marshal(t, req)); !errors.Is(err, ErrTooDeep) {
		t.Fatalf("request with 6 levels: %v", err)
	}
	if _, _, err := DecodeContractQueryRequest(make([]byte, MaxContractQueryRequestSize+1)); err == nil {
		t.Fatal("oversized request accepted")
	}
	if _, _, err := DecodeContractQueryRequest([]byte{0x0a, 0xff}); err == nil {
		t.Fatal("truncated request accepted")
	}
}
