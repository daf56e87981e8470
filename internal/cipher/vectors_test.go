package cipher

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/oracletest"
)

// Vectors made by the real @phala/sdk (0.5.10) run offline, kept beside the
// project in ../shared/oracle/phala (never copied into it; see its README).
// The tests skip when that folder is absent.

type vecKey struct {
	Suri      string `json:"suri"`
	Seed      string `json:"seed"`
	PublicKey string `json:"publicKey"`
	SecretKey string `json:"secretKey"`
}

type phalaVectors struct {
	Keys map[string]vecKey `json:"keys"`
	ECDH []struct {
		SkOf    string `json:"sk_of"`
		PkOf    string `json:"pk_of"`
		Shared  string `json:"shared"`
		Reverse string `json:"reverse"`
	} `json:"ecdh"`
	AES []struct {
		Key, IV, Plaintext string
		CT                 string `json:"ciphertext_and_tag"`
	} `json:"aes_256_gcm"`
	EncryptedData struct {
		Sender, Receiver, Plaintext, IV, Pubkey, Data, Scale string
	} `json:"encrypted_data"`
	QueryRequest struct {
		EncodedQuery       string `json:"encoded_query"`
		AgreementKey       string `json:"agreement_key"`
		IV                 string `json:"iv"`
		EncryptedDataScale string `json:"encrypted_data_scale"`
	} `json:"query_request"`
	QueryResponse struct {
		InkResponse struct {
			Scale string `json:"scale"`
		} `json:"ink_response"`
		IV                 string `json:"iv"`
		Pubkey             string `json:"pubkey"`
		EncryptedDataScale string `json:"encrypted_data_scale"`
	} `json:"query_response"`
	Command struct {
		Encrypted struct {
			ContractPubkey  string `json:"contract_pubkey"`
			EphemeralPubkey string `json:"ephemeral_pubkey"`
			AgreementKey    string `json:"agreement_key"`
			IV              string `json:"iv"`
			Inner           string `json:"inner_plaintext_scale"`
			Scale           string `json:"scale"`
		} `json:"encrypted"`
	} `json:"command"`
}

func loadVectors(t testing.TB) *phalaVectors {
	t.Helper()
	b := oracletest.Vectors(t)
	v := new(phalaVectors)
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("vectors.json: %v", err)
	}
	return v
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func unhexN[T ~[32]byte | ~[12]byte | ~[64]byte](t testing.TB, s string) T {
	t.Helper()
	var out T
	b := unhex(t, s)
	if len(b) != len(out) {
		t.Fatalf("hex %q: %d bytes, want %d", s, len(b), len(out))
	}
	switch o := any(&out).(type) {
	case *[32]byte:
		copy(o[:], b)
	case *[12]byte:
		copy(o[:], b)
	case *[64]byte:
		copy(o[:], b)
	case *keys.PublicKey:
		copy(o[:], b)
	case *IV:
		copy(o[:], b)
	default:
		t.Fatalf("unhexN: unsupported type %T", o)
	}
	return out
}

// vecPair returns the sr25519 pair of a named vector key.
func vecPair(t testing.TB, v *phalaVectors, name string) *keys.Pair {
	t.Helper()
	k, ok := v.Keys[name]
	if !ok {
		t.Fatalf("no key %q in vectors", name)
	}
	if k.Seed != "" {
		return keys.FromSeed(unhexN[[32]byte](t, k.Seed))
	}
	p, err := keys.FromURI(k.Suri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVectorKeys: public keys from seeds, and both 64-byte secret forms.
func TestVectorKeys(t *testing.T) {
	v := loadVectors(t)
	n := 0
	for name, k := range v.Keys {
		p := vecPair(t, v, name)
		if got := p.Public().Hex(); got != k.PublicKey {
			t.Errorf("%s: public key %s, want %s", name, got, k.PublicKey)
		}
		ecdh := NewEcdhKey(p)
		if ecdh.Public() != p.Public() {
			t.Errorf("%s: ECDH public key differs from the sr25519 one", name)
		}
		if k.SecretKey != "" {
			ed := unhexN[[64]byte](t, k.SecretKey)
			got, err := SecretToEd25519Form(p.SecretBytes())
			if err != nil || got != ed {
				t.Errorf("%s: ed25519-form secret %x (%v), want %x", name, got, err, ed)
			}
			back, err := SecretFromEd25519Form(ed)
			if err != nil || back != p.SecretBytes() {
				t.Errorf("%s: to_bytes form from ed25519 form wrong (%v)", name, err)
			}
			fromEd, err := EcdhKeyFromEd25519Secret(ed)
			if err != nil || fromEd.Public() != p.Public() {
				t.Errorf("%s: EcdhKeyFromEd25519Secret public key wrong (%v)", name, err)
			}
		}
		n++
	}
	if n < 5 {
		t.Fatalf("only %d keys in vectors", n)
	}
	t.Logf("%d keys matched", n)
}

func TestVectorECDH(t *testing.T) {
	v := loadVectors(t)
	for _, e := range v.ECDH {
		a := NewEcdhKey(vecPair(t, v, e.SkOf))
		b := NewEcdhKey(vecPair(t, v, e.PkOf))
		ab, err := a.Agree(b.Public())
		if err != nil {
			t.Fatal(err)
		}
		ba, err := b.Agree(a.Public())
		if err != nil {
			t.Fatal(err)
		}
		if want := unhexN[[32]byte](t, e.Shared); ab != want {
			t.Errorf("%s x %s: shared %x, want %x", e.SkOf, e.PkOf, ab, want)
		}
		if want := unhexN[[32]byte](t, e.Reverse); ba != want {
			t.Errorf("%s x %s reverse: shared %x, want %x", e.PkOf, e.SkOf, ba, want)
		}
	}
	if len(v.ECDH) == 0 {
		t.Fatal("no ECDH vectors")
	}
	t.Logf("%d ECDH vectors matched both ways", len(v.ECDH))
}

func TestVectorAES(t *testing.T) {
	v := loadVectors(t)
	for i, a := range v.AES {
		key := unhexN[[32]byte](t, a.Key)
		iv := unhexN[IV](t, a.IV)
		pt, ct := unhex(t, a.Plaintext), unhex(t, a.CT)
		if got := Seal(key, iv, pt); !bytes.Equal(got, ct) {
			t.Errorf("vector %d: seal %x, want %x", i, got, ct)
		}
		got, err := Open(key, iv, ct)
		if err != nil || !bytes.Equal(got, pt) {
			t.Errorf("vector %d: open %x (%v), want %x", i, got, err, pt)
		}
	}
	if len(v.AES) == 0 {
		t.Fatal("no AES vectors")
	}
	t.Logf("%d AES-256-GCM vectors matched", len(v.AES))
}

// checkEnvelope encrypts plaintext from sender to receiverPub with iv and
// requires the SCALE bytes wantScale, then decodes wantScale and decrypts it
// with receiver.
func checkEnvelope(t *testing.T, name string, sender, receiver *EcdhKey, iv IV, plaintext, wantScale []byte) {
	t.Helper()
	env, err := Encrypt(sender, receiver.Public(), iv, plaintext)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if got := env.Encode(); !bytes.Equal(got, wantScale) {
		t.Errorf("%s: envelope\n got %x\nwant %x", name, got, wantScale)
	}
	dec, pt, err := OpenEnvelope(receiver, wantScale)
	if err != nil {
		t.Fatalf("%s: open: %v", name, err)
	}
	if !bytes.Equal(pt, plaintext) || dec.IV != iv || dec.Pubkey != sender.Public() {
		t.Errorf("%s: opened %x from %x, want %x from %x", name, pt, dec.Pubkey, plaintext, sender.Public())
	}
	pt2, err := dec.DecryptWithPeer(receiver, sender.Public())
	if err != nil || !bytes.Equal(pt2, plaintext) {
		t.Errorf("%s: DecryptWithPeer: %v", name, err)
	}
}

func TestVectorEnvelopes(t *testing.T) {
	v := loadVectors(t)
	worker := NewEcdhKey(vecPair(t, v, "worker"))
	query := NewEcdhKey(vecPair(t, v, "query_ephemeral"))
	contract := NewEcdhKey(vecPair(t, v, "contract"))
	command := NewEcdhKey(vecPair(t, v, "command_ephemeral"))

	ed := v.EncryptedData
	if ed.Sender != "query_ephemeral" || ed.Receiver != "worker" {
		t.Fatalf("encrypted_data is %s -> %s", ed.Sender, ed.Receiver)
	}
	if got := query.Public().Hex(); got != ed.Pubkey {
		t.Errorf("encrypted_data pubkey %s, want %s", got, ed.Pubkey)
	}
	checkEnvelope(t, "encrypted_data", query, worker, unhexN[IV](t, ed.IV), unhex(t, ed.Plaintext), unhex(t, ed.Scale))
	e, err := DecodeEncryptedData(unhex(t, ed.Scale))
	if err != nil || !bytes.Equal(e.Data, unhex(t, ed.Data)) {
		t.Errorf("encrypted_data: data field %x (%v), want %s", e.Data, err, ed.Data)
	}

	// A query, as pinkQuery sends it to the worker.
	qr := v.QueryRequest
	k, _ := query.Agree(worker.Public())
	if want := unhexN[[32]byte](t, qr.AgreementKey); k != want {
		t.Errorf("query agreement key %x, want %x", k, want)
	}
	checkEnvelope(t, "query_request", query, worker, unhexN[IV](t, qr.IV), unhex(t, qr.EncodedQuery), unhex(t, qr.EncryptedDataScale))

	// The worker's answer, which the SDK decrypted.
	rs := v.QueryResponse
	if worker.Public().Hex() != rs.Pubkey {
		t.Errorf("response pubkey is not the worker's")
	}
	checkEnvelope(t, "query_response", worker, query, unhexN[IV](t, rs.IV), unhex(t, rs.InkResponse.Scale), unhex(t, rs.EncryptedDataScale))

	// An encrypted command: CommandPayload::Encrypted(EncryptedData) = 0x01 ‖ envelope.
	c := v.Command.Encrypted
	if contract.Public().Hex() != c.ContractPubkey || command.Public().Hex() != c.EphemeralPubkey {
		t.Fatalf("command keys do not match the vector keys")
	}
	k, _ = command.Agree(contract.Public())
	if want := unhexN[[32]byte](t, c.AgreementKey); k != want {
		t.Errorf("command agreement key %x, want %x", k, want)
	}
	payload := unhex(t, c.Scale)
	if len(payload) == 0 || payload[0] != 1 {
		t.Fatalf("command payload is not Encrypted")
	}
	checkEnvelope(t, "command", command, contract, unhexN[IV](t, c.IV), unhex(t, c.Inner), payload[1:])
	t.Log("4 envelopes matched byte for byte (encrypted_data, query_request, query_response, command)")
}
