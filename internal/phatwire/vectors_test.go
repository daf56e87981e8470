package phatwire

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/oracletest"
	"github.com/cella-network/cella/internal/scale"
)

// Vectors made by the real @phala/sdk (0.5.10) run offline, kept beside the
// project in ../shared/oracle/phala (never copied into it). The tests skip
// when that folder is absent.

func oracleFile(t testing.TB, name string) map[string]any {
	t.Helper()
	b := oracletest.File(t, name)
	var v map[string]any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

// vget walks a dotted path through decoded JSON objects.
func vget(t testing.TB, v map[string]any, path string) any {
	t.Helper()
	var cur any = v
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			t.Fatalf("vector path %s: %q is not an object", path, k)
		}
		cur, ok = m[k]
		if !ok {
			t.Fatalf("vector path %s: no %q", path, k)
		}
	}
	return cur
}

func vstr(t testing.TB, v map[string]any, path string) string {
	t.Helper()
	s, ok := vget(t, v, path).(string)
	if !ok {
		t.Fatalf("vector %s is not a string", path)
	}
	return s
}

func vhex(t testing.TB, v map[string]any, path string) []byte { return unhex(t, vstr(t, v, path)) }

func vu128(t testing.TB, v map[string]any, path string) scale.U128 {
	t.Helper()
	x, err := scale.ParseU128(vstr(t, v, path))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return x
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func h32(t testing.TB, v map[string]any, path string) (out [32]byte) {
	t.Helper()
	b := vhex(t, v, path)
	if len(b) != 32 {
		t.Fatalf("%s: %d bytes", path, len(b))
	}
	copy(out[:], b)
	return out
}

func ecdhFromSeed(t testing.TB, v map[string]any, who string) *cipher.EcdhKey {
	t.Helper()
	k := cipher.EcdhKeyFromSeed(h32(t, v, "keys."+who+".seed"))
	if got, want := k.Public(), h32(t, v, "keys."+who+".publicKey"); got != keys.PublicKey(want) {
		t.Fatalf("%s public key %x, vectors say %x", who, got, want)
	}
	return k
}

// roundTrip decodes want with dec, re-encodes with enc and requires the same
// bytes.
func roundTrip[T any](t *testing.T, name string, want []byte, dec func([]byte) (T, error), enc func(T) []byte) T {
	t.Helper()
	v, err := dec(want)
	if err != nil {
		t.Fatalf("%s: decode: %v", name, err)
	}
	if got := enc(v); !bytes.Equal(got, want) {
		t.Fatalf("%s: re-encoded\n got %x\nwant %x", name, got, want)
	}
	return v
}

func TestVectorsContractQuery(t *testing.T) {
	v := oracleFile(t, "vectors.json")
	enc := func(q *ContractQuery) []byte { return q.Encode() }
	head := ContractQueryHead{ID: h32(t, v, "contract_query.ink_message.id"), Nonce: h32(t, v, "contract_query.ink_message.nonce")}

	cases := []struct {
		name string
		want ContractQuery
	}{
		{"ink_message", ContractQuery{Head: head, Data: Query{Kind: QueryInkMessage, Message: InkMessageQuery{
			Payload: vhex(t, v, "contract_query.ink_message.payload_raw")}}}},
		{"ink_message_values", ContractQuery{Head: head, Data: Query{Kind: QueryInkMessage, Message: InkMessageQuery{
			Payload:    vhex(t, v, "contract_query.ink_message_values.payload_raw"),
			Deposit:    vu128(t, v, "contract_query.ink_message_values.deposit"),
			Transfer:   vu128(t, v, "contract_query.ink_message_values.transfer"),
			Estimating: vget(t, v, "contract_query.ink_message_values.estimating").(bool)}}}},
		{"sidevm_message", ContractQuery{Head: head, Data: Query{Kind: QuerySidevm,
			Sidevm: []byte(vstr(t, v, "contract_query.sidevm_message.json"))}}},
		{"ink_instantiate", ContractQuery{Head: head, Data: Query{Kind: QueryInkInstantiate, Instantiate: InkInstantiateQuery{
			CodeHash:        h32(t, v, "contract_query.ink_instantiate.codeHash"),
			Salt:            vhex(t, v, "contract_query.ink_instantiate.salt"),
			InstantiateData: vhex(t, v, "contract_query.ink_instantiate.instantiateData"),
			Deposit:         vu128(t, v, "contract_query.ink_instantiate.deposit"),
			Transfer:        vu128(t, v, "contract_query.ink_instantiate.transfer")}}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := vhex(t, v, "contract_query."+c.name+".scale")
			got := roundTrip(t, c.name, want, DecodeContractQuery, enc)
			if !bytes.Equal(c.want.Encode(), want) {
				t.Fatalf("built from the vector's values:\n got %x\nwant %x", c.want.Encode(), want)
			}
			if got.Head != c.want.Head || got.Data.Kind != c.want.Data.Kind {
				t.Fatalf("decoded %+v, want %+v", got, c.want)
			}
		})
	}
}

// sdkCertificate rebuilds the SDK's certificate from the vectors.
func sdkCertificate(t testing.TB, v map[string]any) *Certificate {
	return &Certificate{
		EncodedBody: vhex(t, v, "certificate.body_scale"),
		Signature: &Signature{
			SignedBy:  &Certificate{EncodedBody: vhex(t, v, "certificate.root_body_scale")},
			Type:      SignatureType(vget(t, v, "certificate.signature_type").(float64)),
			Signature: vhex(t, v, "certificate.signature"),
		},
	}
}

// sdkQuerySignature rebuilds the SDK's query signature from the vectors.
func sdkQuerySignature(t testing.TB, v map[string]any) *Signature {
	return &Signature{
		SignedBy:  sdkCertificate(t, v),
		Type:      SignatureType(vget(t, v, "query_request.signature_type").(float64)),
		Signature: vhex(t, v, "query_request.signature"),
	}
}

func TestVectorsCertificate(t *testing.T) {
	v := oracleFile(t, "vectors.json")
	enc := func(b *CertificateBody) []byte { return b.Encode() }
	body := roundTrip(t, "body", vhex(t, v, "certificate.body_scale"), DecodeCertificateBody, enc)
	if !bytes.Equal(body.Pubkey, vhex(t, v, "certificate.ephemeral_pubkey")) ||
		float64(body.TTL) != vget(t, v, "certificate.ttl").(float64) || body.ConfigBits != 0 {
		t.Fatalf("body %+v", body)
	}
	root := roundTrip(t, "root body", vhex(t, v, "certificate.root_body_scale"), DecodeCertificateBody, enc)
	alice := h32(t, v, "keys.alice.publicKey")
	if !bytes.Equal(root.Pubkey, alice[:]) {
		t.Fatalf("root pubkey %x", root.Pubkey)
	}
	cert := sdkCertificate(t, v)
	if cert.Signature.Type != Sr25519 {
		t.Fatalf("type %v", cert.Signature.Type)
	}
	chain, err := cert.Signature.Verify(cert.EncodedBody, 0, MaxCertificateDepth)
	if err != nil {
		t.Fatal(err)
	}
	if len(chain) != 1 || chain[0] != alice {
		t.Fatalf("chain %x", chain)
	}
}

func TestVectorsQueryRequest(t *testing.T) {
	v := oracleFile(t, "vectors.json")
	worker := ecdhFromSeed(t, v, "worker")
	client := ecdhFromSeed(t, v, "query_ephemeral")
	msg := vhex(t, v, "query_request.encrypted_data_scale")

	q, env, err := OpenQuery(worker, msg)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(q.Encode(), vhex(t, v, "query_request.encoded_query")) || env.Pubkey != client.Public() {
		t.Fatalf("opened %+v from %x", q, env.Pubkey)
	}
	var iv cipher.IV
	copy(iv[:], vhex(t, v, "query_request.iv"))
	sealed, err := SealQuery(client, worker.Public(), iv, q)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sealed.Encode(), msg) {
		t.Fatalf("SealQuery\n got %x\nwant %x", sealed.Encode(), msg)
	}

	sig := sdkQuerySignature(t, v)
	chain, err := sig.Verify(msg, 100, MaxCertificateDepth)
	if err != nil {
		t.Fatal(err)
	}
	alice, eph := h32(t, v, "keys.alice.publicKey"), h32(t, v, "certificate.ephemeral_pubkey")
	if len(chain) != 2 || chain[0] != alice || chain[1] != eph {
		t.Fatalf("chain %x", chain)
	}
	if o, ok := Origin(chain); !ok || o != alice {
		t.Fatalf("origin %x", o)
	}
	cache := NewVerifyCache(4)
	for i := 0; i < 3; i++ {
		got, err := cache.VerifyQuery(sig, msg, 100)
		if err != nil || len(got) != 2 || got[0] != alice || got[1] != eph {
			t.Fatalf("cached verify %d: %x %v", i, got, err)
		}
	}
	if hits, misses := cache.Stats(); hits != 2 || misses != 1 {
		t.Fatalf("cache hits %d misses %d", hits, misses)
	}
}

func TestVectorsQueryResponse(t *testing.T) {
	v := oracleFile(t, "vectors.json")
	enc := func(r *ContractQueryResponse) []byte { return r.Encode() }
	ok := roundTrip(t, "ok", vhex(t, v, "query_response.ink_response.scale"), DecodeContractQueryResponse, enc)
	nonce := h32(t, v, "query_response.ink_response.nonce")
	if ok.Err != nil || ok.Nonce != nonce || !bytes.Equal(ok.Payload, vhex(t, v, "query_response.sdk_decoded.result.ok.inkMessageReturn")) {
		t.Fatalf("decoded %+v", ok)
	}
	bad := roundTrip(t, "err", vhex(t, v, "query_response.ink_response_err_example"), DecodeContractQueryResponse, enc)
	if bad.Err == nil || bad.Err.Kind != QueryErrRuntimeError || bad.Err.Message != "boom" {
		t.Fatalf("decoded %+v", bad)
	}

	worker := ecdhFromSeed(t, v, "worker")
	client := ecdhFromSeed(t, v, "query_ephemeral")
	wire := vhex(t, v, "query_response.encrypted_data_scale")
	resp, err := OpenResponse(client, worker.Public(), ContractQueryHead{Nonce: nonce}, wire)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(resp.Encode(), vhex(t, v, "query_response.sdk_pinkQuery_returned")) {
		t.Fatalf("opened %x", resp.Encode())
	}
	if _, err := OpenResponse(client, worker.Public(), ContractQueryHead{}, wire); err == nil {
		t.Fatal("a response with another nonce was accepted")
	}
	var iv cipher.IV
	copy(iv[:], vhex(t, v, "query_response.iv"))
	sealed, err := SealResponse(worker, client.Public(), iv, resp)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sealed.Encode(), wire) {
		t.Fatalf("SealResponse\n got %x\nwant %x", sealed.Encode(), wire)
	}
}

func TestVectorsCommand(t *testing.T) {
	v := oracleFile(t, "vectors.json")
	enc := func(p *CommandPayload) []byte {
		b, err := p.Encode()
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	nonce, msg := vhex(t, v, "command.nonce"), vhex(t, v, "command.message_raw")
	gas := vu128(t, v, "command.gas_limit").Lo
	limit := vu128(t, v, "command.plain_values.storage_deposit_limit")
	cases := []struct {
		name string
		want InkCommand
	}{
		{"plain", InkCommand{Nonce: nonce, Message: msg, GasLimit: gas}},
		{"plain_values", InkCommand{Nonce: nonce, Message: msg, GasLimit: gas,
			Transfer: vu128(t, v, "command.plain_values.transfer"), StorageDepositLimit: &limit}},
	}
	for _, c := range cases {
		want := vhex(t, v, "command."+c.name+".scale")
		p := roundTrip(t, c.name, want, DecodeCommandPayload, enc)
		if p.Plain == nil || !bytes.Equal(enc(&CommandPayload{Plain: &c.want}), want) {
			t.Fatalf("%s: decoded %+v; built %x", c.name, p.Plain, enc(&CommandPayload{Plain: &c.want}))
		}
	}

	want := vhex(t, v, "command.encrypted.scale")
	p := roundTrip(t, "encrypted", want, DecodeCommandPayload, enc)
	contract := ecdhFromSeed(t, v, "contract")
	cmd, err := p.Open(contract)
	if err != nil {
		t.Fatal(err)
	}
	inner, _ := cmd.Encode()
	if !bytes.Equal(inner, vhex(t, v, "command.encrypted.inner_plaintext_scale")) {
		t.Fatalf("inner %x", inner)
	}
	var iv cipher.IV
	copy(iv[:], vhex(t, v, "command.encrypted.iv"))
	sealed, err := EncryptCommand(ecdhFromSeed(t, v, "command_ephemeral"), contract.Public(), iv, &cases[0].want)
	if err != nil {
		t.Fatal(err)
	}
	if got := enc(sealed); !bytes.Equal(got, want) {
		t.Fatalf("EncryptCommand\n got %x\nwant %x", got, want)
	}
}

func TestVectorsExecResults(t *testing.T) {
	v := oracleFile(t, "exec-results.json")
	enc := func(c *ContractExecResult) []byte { return c.Encode() }
	ok := roundTrip(t, "exec", vhex(t, v, "contract_exec_result.scale"), DecodeContractExecResult, enc)
	want := ContractExecResult{GasConsumed: Weight{1000, 10}, GasRequired: Weight{2000, 20},
		StorageDeposit: StorageDeposit{Charge: true}, Result: ExecReturnValue{Data: []byte{0, 0}}}
	if !bytes.Equal(want.Encode(), vhex(t, v, "contract_exec_result.scale")) || ok.Err != nil || ok.Result.Reverted() {
		t.Fatalf("decoded %+v", ok)
	}
	rev := roundTrip(t, "reverted", vhex(t, v, "contract_exec_result_reverted.scale"), DecodeContractExecResult, enc)
	if !rev.Result.Reverted() || rev.DebugMessage != "boom" || rev.StorageDeposit.Charge || rev.StorageDeposit.Amount != scale.U128From(5) {
		t.Fatalf("decoded %+v", rev)
	}
	inst := roundTrip(t, "instantiate", vhex(t, v, "contract_instantiate_result.scale"), DecodeContractInstantiateResult,
		func(c *ContractInstantiateResult) []byte { return c.Encode() })
	if inst.Err != nil || inst.AccountID != [32]byte(bytes.Repeat([]byte{0xab}, 32)) || !bytes.Equal(inst.Result.Data, []byte{0}) {
		t.Fatalf("decoded %+v", inst)
	}
}
