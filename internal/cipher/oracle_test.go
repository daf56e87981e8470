package cipher

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"testing"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/oracletest"
)

// Differential tests against the @phala/sdk oracle's own scripts. They need
// `node` and CELLA_PHALA_ORACLE (see internal/oracletest) and skip otherwise.

func runNode(t *testing.T, dir string, args ...string) ([]byte, error) {
	t.Helper()
	return oracletest.RunNode(t, dir, nil, args...)
}

type decryptOut struct {
	Envelope struct {
		IV     string `json:"iv"`
		Pubkey string `json:"pubkey"`
	} `json:"envelope"`
	AgreementKey string `json:"agreement_key"`
	Plaintext    string `json:"plaintext"`
	Error        string `json:"error"`
}

func h(b []byte) string { return "0x" + hex.EncodeToString(b) }

// TestOracleDecrypt encrypts with Go and decrypts with the SDK's own
// decrypt() (node decrypt.mjs), for envelopes and encrypted commands, and
// checks that a flipped bit makes the SDK refuse.
func TestOracleDecrypt(t *testing.T) {
	dir := oracletest.Dir(t)
	rng := rand.New(rand.NewPCG(1, 2))
	seed := func() [32]byte {
		var s [32]byte
		for i := range s {
			s[i] = byte(rng.Uint32())
		}
		return s
	}
	for i, size := range []int{0, 1, 31, 1024, 4099} {
		senderSeed, receiverSeed := seed(), seed()
		sender, receiver := EcdhKeyFromSeed(senderSeed), EcdhKeyFromSeed(receiverSeed)
		pt := make([]byte, size)
		for j := range pt {
			pt[j] = byte(rng.Uint32())
		}
		var iv IV
		for j := range iv {
			iv[j] = byte(rng.Uint32())
		}
		env, err := Encrypt(sender, receiver.Public(), iv, pt)
		if err != nil {
			t.Fatal(err)
		}
		enc := env.Encode()
		args := []string{"decrypt.mjs", "--seed", h(receiverSeed[:]), h(enc)}
		if i%2 == 1 { // as CommandPayload::Encrypted
			args = []string{"decrypt.mjs", "--seed", h(receiverSeed[:]), "--kind", "command", h(append([]byte{1}, enc...))}
		}
		out, err := runNode(t, dir, args...)
		if err != nil {
			t.Fatalf("size %d: node decrypt: %v\n%s", size, err, out)
		}
		var d decryptOut
		if err := json.Unmarshal(out, &d); err != nil {
			t.Fatalf("size %d: %v\n%s", size, err, out)
		}
		shared, _ := receiver.Agree(sender.Public())
		if d.Plaintext != h(pt) || d.AgreementKey != h(shared[:]) || d.Envelope.Pubkey != sender.Public().Hex() || d.Envelope.IV != h(iv[:]) {
			t.Fatalf("size %d: oracle disagrees: %s", size, out)
		}
		t.Logf("size %d (command payload: %v): the SDK decrypted Go's envelope", size, i%2 == 1)

		if i == 3 { // tampered: the SDK must refuse
			bad := bytes.Clone(enc)
			bad[len(bad)-1] ^= 0x01
			out, err := runNode(t, dir, "decrypt.mjs", "--seed", h(receiverSeed[:]), h(bad))
			if err == nil {
				t.Fatalf("SDK decrypted a tampered envelope: %s", out)
			}
			_ = json.Unmarshal(out, &d)
			if d.Error == "" {
				t.Fatalf("SDK failed without a decrypt error: %s", out)
			}
		}
	}
}

// kdfScript re-implements Phala's KDF and encrypted key envelope
// independently in JavaScript: node's HKDF (OpenSSL), @polkadot/util-crypto's
// sr25519 (wasm schnorrkel), blake2 and node's AES-256-GCM. It converts
// polkadot.js's ed25519-form secrets to the to_bytes form with BigInt
// division by 8.
const kdfScript = `
import { createRequire } from 'module';
import crypto from 'crypto';
const require = createRequire(process.cwd() + '/');
const L = require('./lib/sdk-internals.cjs');
const U = L.utilCrypto;
await U.cryptoWaitReady();
const hx = (b) => '0x' + Buffer.from(b).toString('hex');
const un = (s) => Uint8Array.from(Buffer.from(s.replace(/^0x/, ''), 'hex'));
const toBytesForm = (ed) => {
  const le = BigInt('0x' + Buffer.from(ed.slice(0, 32)).reverse().toString('hex'));
  const s = (le / 8n).toString(16).padStart(64, '0');
  const out = new Uint8Array(64);
  out.set(Buffer.from(s, 'hex').reverse(), 0);
  out.set(ed.slice(32), 32);
  return out;
};
const SALT = un('18e876adfa74cc743b4b7d7f92c96e03de559a3c15270581fce445963d90f85e');
const derive = (pair, info) => {
  const seed = new Uint8Array(crypto.hkdfSync('sha256', toBytesForm(pair.secretKey), SALT, Buffer.concat((info || []).map(un)), 32));
  return { seed, pair: U.sr25519PairFromSeed(seed) };
};
const req = JSON.parse(process.argv[process.argv.length - 1]);
const res = { derive: [], keyshare: [] };
for (const c of req.derive) {
  const d = derive(U.sr25519PairFromSeed(un(c.parent)), c.info);
  res.derive.push({ seed: hx(d.seed), publicKey: hx(d.pair.publicKey), secret: hx(toBytesForm(d.pair.secretKey)) });
}
for (const c of req.keyshare) {
  const master = U.sr25519PairFromSeed(un(c.master));
  const derived = derive(master, [c.salt]).pair;
  const shared = U.sr25519Agreement(derived.secretKey, un(c.receiver));
  const ivs = toBytesForm(derive(master, [hx(Buffer.from('iv_generator'))]).pair.secretKey);
  const tail = Buffer.alloc(12); tail.writeUInt32BE(c.block, 0); tail.writeBigUInt64BE(BigInt(c.seq), 4);
  const iv = U.blake2AsU8a(Buffer.concat([ivs, tail]), 256).slice(0, 12);
  const g = crypto.createCipheriv('aes-256-gcm', shared, iv);
  const ct = Buffer.concat([g.update(un(c.secret)), g.final(), g.getAuthTag()]);
  res.keyshare.push({ ecdh_pubkey: hx(derived.publicKey), encrypted_key: hx(ct), iv: hx(iv) });
}
console.log(JSON.stringify(res));
`

type kdfReq struct {
	Derive []struct {
		Parent string   `json:"parent"`
		Info   []string `json:"info"`
	} `json:"derive"`
	Keyshare []struct {
		Master   string `json:"master"`
		Salt     string `json:"salt"`
		Receiver string `json:"receiver"`
		Secret   string `json:"secret"`
		Block    uint32 `json:"block"`
		Seq      uint64 `json:"seq"`
	} `json:"keyshare"`
}

type kdfRes struct {
	Derive []struct {
		Seed, PublicKey, Secret string
	} `json:"derive"`
	Keyshare []struct {
		EcdhPubkey   string `json:"ecdh_pubkey"`
		EncryptedKey string `json:"encrypted_key"`
		IV           string `json:"iv"`
	} `json:"keyshare"`
}

// TestOracleKDF checks DeriveSeed/DerivePair, the hierarchy helpers and
// EncryptKeyTo against the independent JavaScript implementation, and
// checks that the golden values in kdf_test.go are what it computes.
func TestOracleKDF(t *testing.T) {
	dir := oracletest.Dir(t)
	var req kdfReq
	for _, g := range kdfGolden {
		req.Derive = append(req.Derive, struct {
			Parent string   `json:"parent"`
			Info   []string `json:"info"`
		}{g.parent, g.info})
	}
	for _, g := range keyShareGolden {
		sk := g.secret(t)
		req.Keyshare = append(req.Keyshare, struct {
			Master   string `json:"master"`
			Salt     string `json:"salt"`
			Receiver string `json:"receiver"`
			Secret   string `json:"secret"`
			Block    uint32 `json:"block"`
			Seq      uint64 `json:"seq"`
		}{g.master, h([]byte(g.salt)), keys.FromSeed(unhexN[[32]byte](t, g.receiver)).Public().Hex(), h(sk[:]), g.block, g.seq})
	}
	rq, _ := json.Marshal(req)
	out, err := runNode(t, dir, "--input-type=module", "-e", kdfScript, string(rq))
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	var res kdfRes
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if len(res.Derive) != len(kdfGolden) || len(res.Keyshare) != len(keyShareGolden) {
		t.Fatalf("node answered %d/%d cases", len(res.Derive), len(res.Keyshare))
	}
	for i, g := range kdfGolden {
		r := res.Derive[i]
		parent := keys.FromSeed(unhexN[[32]byte](t, g.parent))
		var info [][]byte
		for _, s := range g.info {
			info = append(info, unhex(t, s))
		}
		seed := DeriveSeed(parent, info...)
		p := DerivePair(parent, info...)
		sk := p.SecretBytes()
		if h(seed[:]) != r.Seed || p.Public().Hex() != r.PublicKey || h(sk[:]) != r.Secret {
			t.Errorf("derive %d: Go seed %x pub %s, JS %s %s", i, seed, p.Public().Hex(), r.Seed, r.PublicKey)
		}
		if g.seed != r.Seed || g.public != r.PublicKey {
			t.Errorf("derive %d: golden value is stale: JS seed %s pub %s", i, r.Seed, r.PublicKey)
		}
	}
	for i, g := range keyShareGolden {
		r := res.Keyshare[i]
		ek := g.run(t)
		if ek.EcdhPubkey.Hex() != r.EcdhPubkey || h(ek.EncryptedKey) != r.EncryptedKey || h(ek.IV[:]) != r.IV {
			t.Errorf("keyshare %d: Go %s %x %x, JS %s %s %s", i, ek.EcdhPubkey.Hex(), ek.EncryptedKey, ek.IV, r.EcdhPubkey, r.EncryptedKey, r.IV)
		}
		if g.encoded != h(ek.Encode()) {
			t.Errorf("keyshare %d: golden value is stale: %x", i, ek.Encode())
		}
	}
	t.Logf("%d KDF and %d key-envelope cases agree with the JavaScript implementation", len(kdfGolden), len(keyShareGolden))
}
