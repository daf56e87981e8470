package contracts_test

import (
	"bytes"
	"encoding/hex"
	"io"
	"net/http"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/phatwire/prpcpb"
)

// queryPRPC sends a signed query as @phala/sdk does (//Alice certifies an
// ephemeral key that signs the envelope) to a worker's public pRPC at base
// (http://host:port) and returns the data of the contract's answer.
func queryPRPC(t *testing.T, base string, contract [32]byte, message []byte) []byte {
	t.Helper()
	post := func(method string, body []byte) []byte {
		t.Helper()
		res, err := http.Post(base+"/prpc/PhactoryAPI."+method, "application/octet-stream", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			var pe prpcpb.PrpcError
			_ = proto.Unmarshal(b, &pe)
			t.Fatalf("%s: %d %s", method, res.StatusCode, pe.Message)
		}
		return b
	}
	var info prpcpb.PhactoryInfo
	if err := proto.Unmarshal(post("GetInfo", nil), &info); err != nil {
		t.Fatal(err)
	}
	wk, err := hex.DecodeString(info.GetEcdhPublicKey())
	if err != nil || len(wk) != 32 {
		t.Fatalf("GetInfo ecdh key %q", info.GetEcdhPublicKey())
	}
	worker := keys.PublicKey(wk)
	alice, _ := keys.FromURI("//Alice")
	eph := keys.FromSeed([32]byte{0x51})
	cert, err := phatwire.IssueCertificate(alice, eph.Public(), 1<<31-1, phatwire.Sr25519)
	if err != nil {
		t.Fatal(err)
	}
	client := cipher.EcdhKeyFromSeed([32]byte{0x52})
	q := &phatwire.ContractQuery{Head: phatwire.ContractQueryHead{ID: contract, Nonce: [32]byte{0x53}},
		Data: phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{Payload: message}}}
	env, err := phatwire.SealQuery(client, worker, cipher.IV{0x54}, q)
	if err != nil {
		t.Fatal(err)
	}
	b := env.Encode()
	req := &prpcpb.ContractQueryRequest{EncodedEncryptedData: b, Signature: prpcpb.FromSignature(phatwire.SignQuery(cert, eph, b))}
	body, err := proto.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	var res prpcpb.ContractQueryResponse
	if err := proto.Unmarshal(post("ContractQuery", body), &res); err != nil {
		t.Fatal(err)
	}
	resp, err := phatwire.OpenResponse(client, worker, q.Head, res.EncodedEncryptedData)
	if err != nil {
		t.Fatal(err)
	}
	if resp.Err != nil {
		t.Fatalf("query: %v", resp.Err)
	}
	er, err := phatwire.DecodeContractExecResult(resp.Payload)
	if err != nil {
		t.Fatal(err)
	}
	if er.Err != nil {
		t.Fatalf("query: %v", er.Err)
	}
	return er.Result.Data
}
