package prpcpb

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"testing"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/oracletest"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/scale"
)

// Differential tests against the @phala/sdk oracle's scripts: bytes this
// package and phatwire produce are decoded, decrypted and verified by the
// real SDK code, and inputs encoded by the SDK are compared with ours. They
// need `node` and CELLA_PHALA_ORACLE (see internal/oracletest) and skip
// otherwise.

// node runs a script; it returns stdout and whether it exited 0.
func node(t *testing.T, dir string, stdin []byte, args ...string) ([]byte, bool) {
	t.Helper()
	out, err := oracletest.RunNode(t, dir, stdin, args...)
	return out, err == nil
}

func h(b []byte) string { return "0x" + hex.EncodeToString(b) }

func pbHex(t *testing.T, m proto.Message) string {
	t.Helper()
	b, err := proto.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

type verifyOut struct {
	OK    bool     `json:"ok"`
	Chain []string `json:"chain"`
	Why   string   `json:"why"`
}

// verifyRequest runs verify.mjs at max depth 2 and requires its JSON verdict
// (so that a crash does not pass for a rejection).
func verifyRequest(t *testing.T, dir, wire string, args ...string) verifyOut {
	t.Helper()
	out, ok := node(t, dir, nil, append([]string{"verify.mjs", "--request", wire, "--max-depth", "2"}, args...)...)
	var v verifyOut
	if err := json.Unmarshal(out, &v); err != nil || ok != v.OK {
		t.Fatalf("verify.mjs: exit ok=%v, output %s (%v)", ok, out, err)
	}
	return v
}

// TestOracleVerifyRequest builds ContractQuery requests the way our client
// does and has the SDK-based checker decrypt and verify them.
func TestOracleVerifyRequest(t *testing.T) {
	dir := oracletest.Dir(t)
	workerSeed := [32]byte(bytes.Repeat([]byte{0x22}, 32))
	worker := cipher.EcdhKeyFromSeed(workerSeed)
	alice, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	eph := keys.FromSeed([32]byte(bytes.Repeat([]byte{0x77}, 32)))
	client := cipher.NewEcdhKey(eph) // the SDK also uses one ephemeral key for both
	q := &phatwire.ContractQuery{
		Head: phatwire.ContractQueryHead{ID: [32]byte{1, 2, 3}, Nonce: [32]byte{9, 9}},
		Data: phatwire.Query{Kind: phatwire.QueryInkMessage, Message: phatwire.InkMessageQuery{
			Payload: []byte{0x27, 0x40, 0xcf, 0x0a}, Deposit: scale.U128From(5), Estimating: true}},
	}
	env, err := phatwire.SealQuery(client, worker.Public(), cipher.IV{7}, q)
	if err != nil {
		t.Fatal(err)
	}
	msg := env.Encode()
	for _, typ := range []phatwire.SignatureType{phatwire.Sr25519, phatwire.Sr25519WrapBytes} {
		cert, err := phatwire.IssueCertificate(alice, eph.Public(), 1000, typ)
		if err != nil {
			t.Fatal(err)
		}
		sig := phatwire.SignQuery(cert, eph, msg)
		req := &ContractQueryRequest{EncodedEncryptedData: msg, Signature: FromSignature(sig)}
		wire := pbHex(t, req)

		out, ok := node(t, dir, nil, "verify.mjs", "--request", wire, "--block", "1000", "--max-depth", "2")
		var v verifyOut
		if err := json.Unmarshal(out, &v); err != nil || !ok || !v.OK {
			t.Fatalf("%v: oracle rejects our request: %s (%v)", typ, out, err)
		}
		alicePub, ephPub := alice.Public(), eph.Public()
		if len(v.Chain) != 2 || v.Chain[0] != h(alicePub[:]) || v.Chain[1] != h(ephPub[:]) {
			t.Fatalf("%v: oracle chain %v", typ, v.Chain)
		}
		// Expired, and one byte of the signed data changed: both sides reject.
		if v := verifyRequest(t, dir, wire, "--block", "1001"); v.OK {
			t.Fatalf("%v: oracle accepts an expired certificate: %+v", typ, v)
		}
		bad := proto.Clone(req).(*ContractQueryRequest)
		bad.EncodedEncryptedData = bytes.Clone(msg)
		bad.EncodedEncryptedData[len(msg)-1] ^= 1
		if v := verifyRequest(t, dir, pbHex(t, bad)); v.OK {
			t.Fatalf("%v: oracle accepts a changed message: %+v", typ, v)
		}
		if _, err := VerifyContractQueryRequest(bad, sig, 0, nil); err == nil {
			t.Fatalf("%v: we accept a changed message", typ)
		}

		// The SDK decrypts it with the worker key and decodes our query.
		out, ok = node(t, dir, nil, "decrypt.mjs", "--seed", h(workerSeed[:]), "--kind", "request", wire)
		var d struct {
			Plaintext string         `json:"plaintext"`
			Decoded   map[string]any `json:"decoded"`
		}
		if err := json.Unmarshal(out, &d); err != nil || !ok {
			t.Fatalf("decrypt.mjs: %s (%v)", out, err)
		}
		if d.Plaintext != h(q.Encode()) || d.Decoded["InkQuery"] == nil {
			t.Fatalf("oracle decrypted %s, decoded %v", d.Plaintext, d.Decoded)
		}
	}
}

// TestOracleEncryptedCommand has the SDK decrypt and decode a command we
// encrypt to a contract key.
func TestOracleEncryptedCommand(t *testing.T) {
	dir := oracletest.Dir(t)
	contractSeed := [32]byte(bytes.Repeat([]byte{0x33}, 32))
	contract := cipher.EcdhKeyFromSeed(contractSeed)
	limit := scale.U128From(12345)
	cmd := &phatwire.InkCommand{Nonce: bytes.Repeat([]byte{5}, 32), Message: []byte{0xaa, 0x1e, 0x20, 0x30, 1},
		Transfer: scale.U128From(1 << 40), GasLimit: 1e9, StorageDepositLimit: &limit}
	p, err := phatwire.EncryptCommand(cipher.EcdhKeyFromSeed([32]byte{6}), contract.Public(), cipher.IV{1, 2}, cmd)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Encode()
	if err != nil {
		t.Fatal(err)
	}
	out, ok := node(t, dir, nil, "decrypt.mjs", "--seed", h(contractSeed[:]), "--kind", "command", h(b))
	var d struct {
		Plaintext string         `json:"plaintext"`
		Decoded   map[string]any `json:"decoded"`
	}
	if err := json.Unmarshal(out, &d); err != nil || !ok {
		t.Fatalf("decrypt.mjs: %s (%v)", out, err)
	}
	inner, _ := cmd.Encode()
	if d.Plaintext != h(inner) || d.Decoded["InkCommand"] == nil {
		t.Fatalf("oracle decrypted %s, decoded %v", d.Plaintext, d.Decoded)
	}
}

// TestOracleEncode encodes random inputs with the SDK (encode.mjs) and
// requires our encoders to produce the same bytes.
func TestOracleEncode(t *testing.T) {
	dir := oracletest.Dir(t)
	rng := rand.New(rand.NewPCG(1, 2))
	bytesN := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	u128 := func() scale.U128 {
		switch rng.IntN(3) {
		case 0:
			return scale.U128{}
		case 1:
			return scale.U128From(rng.Uint64())
		}
		return scale.U128{Lo: rng.Uint64(), Hi: rng.Uint64()}
	}
	var specs []map[string]any
	var want [][]byte
	for i := 0; i < 60; i++ {
		head := phatwire.ContractQueryHead{ID: [32]byte(bytesN(32)), Nonce: [32]byte(bytesN(32))}
		switch i % 6 {
		case 0:
			m := phatwire.InkMessageQuery{Payload: bytesN(rng.IntN(300)), Deposit: u128(), Transfer: u128(), Estimating: rng.IntN(2) == 1}
			specs = append(specs, map[string]any{"kind": "ink_query", "id": h(head.ID[:]), "nonce": h(head.Nonce[:]),
				"payload": h(m.Payload), "deposit": m.Deposit.String(), "transfer": m.Transfer.String(), "estimating": m.Estimating})
			want = append(want, (&phatwire.ContractQuery{Head: head, Data: phatwire.Query{Kind: phatwire.QueryInkMessage, Message: m}}).Encode())
		case 1:
			// Keys in sorted order: Go marshals the map sorted, and the SDK
			// JSON.stringify's the value in that order.
			msg := fmt.Sprintf(`{"action":"GetLog","count":%d,"from":%d}`, rng.IntN(100), rng.IntN(1000))
			var js any
			_ = json.Unmarshal([]byte(msg), &js)
			specs = append(specs, map[string]any{"kind": "sidevm_query", "id": h(head.ID[:]), "nonce": h(head.Nonce[:]), "message": js})
			want = append(want, (&phatwire.ContractQuery{Head: head, Data: phatwire.Query{Kind: phatwire.QuerySidevm, Sidevm: []byte(msg)}}).Encode())
		case 2:
			in := phatwire.InkInstantiateQuery{CodeHash: [32]byte(bytesN(32)), Salt: bytesN(rng.IntN(40)),
				InstantiateData: bytesN(rng.IntN(200)), Deposit: u128(), Transfer: u128()}
			specs = append(specs, map[string]any{"kind": "instantiate_query", "id": h(head.ID[:]), "nonce": h(head.Nonce[:]),
				"code_hash": h(in.CodeHash[:]), "salt": h(in.Salt), "instantiate_data": h(in.InstantiateData),
				"deposit": in.Deposit.String(), "transfer": in.Transfer.String()})
			want = append(want, (&phatwire.ContractQuery{Head: head, Data: phatwire.Query{Kind: phatwire.QueryInkInstantiate, Instantiate: in}}).Encode())
		case 3, 4:
			cmd := &phatwire.InkCommand{Nonce: bytesN(32), Message: bytesN(rng.IntN(200)), Transfer: u128(), GasLimit: rng.Uint64()}
			spec := map[string]any{"contract_pubkey": h(bytesN(32)), "message": h(cmd.Message), "nonce": h(cmd.Nonce),
				"transfer": cmd.Transfer.String(), "gas_limit": fmt.Sprint(cmd.GasLimit), "storage_deposit_limit": nil}
			if rng.IntN(2) == 1 {
				l := u128()
				cmd.StorageDepositLimit = &l
				spec["storage_deposit_limit"] = l.String()
			}
			p := &phatwire.CommandPayload{Plain: cmd}
			if i%6 == 3 {
				spec["kind"] = "plain_command"
			} else {
				seed, iv := [32]byte(bytesN(32)), cipher.IV(bytesN(12))
				contract := cipher.EcdhKeyFromSeed([32]byte(bytesN(32))).Public()
				spec["kind"], spec["contract_pubkey"], spec["ephemeral_seed"], spec["iv"] = "encrypted_command", h(contract[:]), h(seed[:]), h(iv[:])
				var err error
				if p, err = phatwire.EncryptCommand(cipher.EcdhKeyFromSeed(seed), contract, iv, cmd); err != nil {
					t.Fatal(err)
				}
			}
			b, err := p.Encode()
			if err != nil {
				t.Fatal(err)
			}
			specs, want = append(specs, spec), append(want, b)
		case 5:
			r := &phatwire.ContractQueryResponse{Nonce: head.Nonce}
			spec := map[string]any{"kind": "ink_response", "nonce": h(head.Nonce[:])}
			switch rng.IntN(3) {
			case 0:
				r.Payload = bytesN(rng.IntN(100))
				spec["ok_return"] = h(r.Payload)
			case 1:
				r.Err = &phatwire.QueryError{Kind: phatwire.QueryErrRuntimeError, Message: fmt.Sprintf("err %d", rng.IntN(1e6))}
				spec["err"] = map[string]any{"RuntimeError": r.Err.Message}
			default:
				r.Err = &phatwire.QueryError{Kind: phatwire.QueryErrorKind(rng.IntN(6))}
				if r.Err.Kind == phatwire.QueryErrRuntimeError {
					r.Err.Kind = phatwire.QueryErrTimeout
				}
				spec["err"] = r.Err.Kind.String()
			}
			specs, want = append(specs, spec), append(want, r.Encode())
		}
		// A certificate body with each query.
		body := &phatwire.CertificateBody{Pubkey: bytesN(32 + rng.IntN(2)), TTL: rng.Uint32(), ConfigBits: rng.Uint32()}
		specs = append(specs, map[string]any{"kind": "certificate_body", "pubkey": h(body.Pubkey), "ttl": body.TTL, "config_bits": body.ConfigBits})
		want = append(want, body.Encode())
	}
	in, err := json.Marshal(specs)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := node(t, dir, in, "encode.mjs")
	var got []struct {
		Kind, Hex, Error string
	}
	if err := json.Unmarshal(out, &got); err != nil || !ok || len(got) != len(want) {
		t.Fatalf("encode.mjs: %d results for %d inputs (%v): %.400s", len(got), len(want), err, out)
	}
	for i, g := range got {
		if g.Error != "" || g.Hex != h(want[i]) {
			t.Errorf("%d %s: SDK %s %s\n                ours %s", i, g.Kind, g.Hex, g.Error, h(want[i]))
		}
	}
	t.Logf("%d encodings compared", len(got))
}

// TestOracleDepth: a valid three-level chain (Bob certifies Alice, Alice the
// ephemeral key) is refused at pRuntime's max depth 2 by both sides.
func TestOracleDepth(t *testing.T) {
	dir := oracletest.Dir(t)
	alice, _ := keys.FromURI("//Alice")
	bob, _ := keys.FromURI("//Bob")
	eph := keys.FromSeed([32]byte{0x78})
	cert, err := phatwire.IssueCertificate(alice, eph.Public(), 100, phatwire.Sr25519)
	if err != nil {
		t.Fatal(err)
	}
	root := cert.Signature.SignedBy
	bobPub := bob.Public()
	root.Signature = phatwire.SignQuery(&phatwire.Certificate{EncodedBody: (&phatwire.CertificateBody{Pubkey: bobPub[:], TTL: 100}).Encode()}, bob, root.EncodedBody)
	env, err := cipher.Encrypt(cipher.NewEcdhKey(eph), keys.PublicKey(cipher.EcdhKeyFromSeed([32]byte{0x22}).Public()), cipher.IV{}, []byte("q"))
	if err != nil {
		t.Fatal(err)
	}
	msg := env.Encode()
	sig := phatwire.SignQuery(cert, eph, msg)
	wire := pbHex(t, &ContractQueryRequest{EncodedEncryptedData: msg, Signature: FromSignature(sig)})
	out, ok := node(t, dir, nil, "verify.mjs", "--request", wire, "--max-depth", "2")
	var v verifyOut
	if err := json.Unmarshal(out, &v); err != nil || ok || v.OK || v.Why != "TooLongCertificateChain" {
		t.Fatalf("oracle at max depth 2: %s (%v)", out, err)
	}
	out, ok = node(t, dir, nil, "verify.mjs", "--request", wire, "--max-depth", "3")
	v = verifyOut{}
	if err := json.Unmarshal(out, &v); err != nil || !ok || len(v.Chain) != 3 || v.Chain[0] != h(bobPub[:]) {
		t.Fatalf("oracle at max depth 3: %s (%v)", out, err)
	}
	if _, err := sig.Verify(msg, 0, phatwire.MaxCertificateDepth); err == nil {
		t.Fatal("we accept depth 3")
	}
	if chain, err := sig.Verify(msg, 0, 3); err != nil || len(chain) != 3 {
		t.Fatalf("we at max depth 3: %x, %v", chain, err)
	}
}

// TestOracleProtobufLayout encodes PhactoryInfo with the SDK's protobufjs
// class from the same values and compares bytes (the oracle does not export
// PrpcError; TestFieldNumbers pins it).
func TestOracleProtobufLayout(t *testing.T) {
	dir := oracletest.Dir(t)
	info := &PhactoryInfo{
		Initialized: true, Registered: true, GenesisBlockHash: proto.String("0xgen"), PublicKey: proto.String("pk"),
		EcdhPublicKey: proto.String("ecdh"), Headernum: 11, ParaHeadernum: 12, Blocknum: 13, StateRoot: "root",
		DevMode: true, PendingMessages: 14, Score: 15, Gatekeeper: &GatekeeperStatus{Role: GatekeeperRole_Active, MasterPublicKey: "mpk"},
		Version: "1.0", GitRevision: "abc", MemoryUsage: &MemoryUsage{RustUsed: 1, RustPeakUsed: 2, TotalPeakUsed: 3, Free: 4, RustSpike: 5},
		WaitingForParaheaders: true, System: &SystemInfo{Registered: true, PublicKey: "p", EcdhPublicKey: "e",
			Gatekeeper: &GatekeeperStatus{Role: GatekeeperRole_Dummy, MasterPublicKey: "m"}, NumberOfClusters: 6, NumberOfContracts: 7,
			MaxSupportedConsensusVersion: 8, GenesisBlock: 9},
		CanLoadChainState: true, SafeModeLevel: 2, CurrentBlockTime: 1700000000000, MaxSupportedPinkRuntimeVersion: "1.2",
	}
	script := `const L = require('./lib/sdk-internals.cjs'); const P = L.internals.pruntime_rpc;
const hex = (u) => Buffer.from(u).toString('hex');
console.log(JSON.stringify({info: hex(P.PhactoryInfo.encode(P.PhactoryInfo.fromObject(JSON.parse(process.argv[1]))).finish())}));`
	js, err := protojson.Marshal(info)
	if err != nil {
		t.Fatal(err)
	}
	out, ok := node(t, dir, nil, "-e", script, string(js))
	var got struct{ Info string }
	if err := json.Unmarshal(out, &got); err != nil || !ok {
		t.Fatalf("node: %s (%v)", out, err)
	}
	if want := pbHex(t, info); got.Info != want {
		t.Fatalf("PhactoryInfo\n SDK  %s\n ours %s", got.Info, want)
	}
}

// TestOracleEcdsa: a polkadot.js ECDSA key pair (seed 0x42…) signs our
// certificate body, plainly and "<Bytes>"-wrapped; we verify the chain and
// derive the account the way polkadot.js does (blake2_256 of the compressed
// key).
func TestOracleEcdsa(t *testing.T) {
	dir := oracletest.Dir(t)
	eph := keys.FromSeed([32]byte{0x79})
	ephPub := eph.Public()
	body := (&phatwire.CertificateBody{Pubkey: ephPub[:], TTL: 50}).Encode()
	script := `const L = require('./lib/sdk-internals.cjs'); const { Keyring } = L.keyringPkg;
(async () => { await L.utilCrypto.cryptoWaitReady();
const p = new Keyring({ type: 'ecdsa' }).addFromSeed(Buffer.alloc(32, 0x42));
const m = Buffer.from(process.argv[1], 'hex'); const hex = (u) => Buffer.from(u).toString('hex');
const w = Buffer.concat([Buffer.from('<Bytes>'), m, Buffer.from('</Bytes>')]);
console.log(JSON.stringify({ pub: hex(p.publicKey), account: hex(L.utilCrypto.blake2AsU8a(p.publicKey)), sig: hex(p.sign(m)), wrapped: hex(p.sign(w)) })); })();`
	out, ok := node(t, dir, nil, "-e", script, hex.EncodeToString(body))
	var got struct{ Pub, Account, Sig, Wrapped string }
	if err := json.Unmarshal(out, &got); err != nil || !ok {
		t.Fatalf("node: %s (%v)", out, err)
	}
	un := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	msg := []byte("query")
	for typ, s := range map[phatwire.SignatureType]string{phatwire.Ecdsa: got.Sig, phatwire.EcdsaWrapBytes: got.Wrapped} {
		cert := &phatwire.Certificate{EncodedBody: body, Signature: &phatwire.Signature{
			SignedBy: &phatwire.Certificate{EncodedBody: (&phatwire.CertificateBody{Pubkey: un(got.Pub), TTL: 50}).Encode()},
			Type:     typ, Signature: un(s)}}
		chain, err := phatwire.SignQuery(cert, eph, msg).Verify(msg, 1, phatwire.MaxCertificateDepth)
		if err != nil {
			t.Fatalf("%v: %v", typ, err)
		}
		if hex.EncodeToString(chain[0][:]) != got.Account {
			t.Fatalf("%v: account %x, polkadot.js %s", typ, chain[0], got.Account)
		}
	}
}
