package pink

import (
	"bytes"
	"testing"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// mustCall runs a call that must succeed with status 0 and returns the
// output.
func mustCall(t testing.TB, s *Session, id uint32, in []byte) []byte {
	t.Helper()
	st, out, err := s.Call(newExt(), id, in)
	if err != nil || st != 0 {
		t.Fatalf("call %s: status %d, %v", FuncName(id), st, err)
	}
	return out
}

// vecOut strips the compact length of a Vec<u8> output and checks it.
func vecOut(t testing.TB, out []byte) []byte {
	t.Helper()
	r := scale.NewReader(out)
	b := r.BytesVec()
	if err := r.Finish(); err != nil {
		t.Fatalf("output %x is not a Vec<u8>: %v", out, err)
	}
	return b
}

func signIn(t SigType, key, msg []byte) []byte {
	return enc(func(w *scale.Writer) { w.U8(uint8(t)); w.BytesVec(key); w.BytesVec(msg) })
}

func verifyIn(t SigType, pub, msg, sig []byte) []byte {
	return enc(func(w *scale.Writer) { w.U8(uint8(t)); w.BytesVec(pub); w.BytesVec(msg); w.BytesVec(sig) })
}

func pubIn(t SigType, key []byte) []byte {
	return enc(func(w *scale.Writer) { w.U8(uint8(t)); w.BytesVec(key) })
}

func TestSr25519SignCrossCheck(t *testing.T) {
	s := newRig().session(Query)
	msg := []byte("hello pink")
	for _, key := range [][]byte{bytes.Repeat([]byte{9}, 32), derived(t, s, "salt")} {
		pub := vecOut(t, mustCall(t, s, FuncGetPublicKey, pubIn(SigSr25519, key)))
		sig := vecOut(t, mustCall(t, s, FuncSign, signIn(SigSr25519, key, msg)))
		if len(pub) != 32 || len(sig) != 64 {
			t.Fatalf("pub %d sig %d bytes", len(pub), len(sig))
		}
		// go-schnorrkel, signing context "substrate".
		pk, err := schnorrkel.NewPublicKey([32]byte(pub))
		if err != nil {
			t.Fatal(err)
		}
		var ss schnorrkel.Signature
		if err := ss.Decode([64]byte(sig)); err != nil {
			t.Fatal(err)
		}
		if ok, err := pk.Verify(&ss, schnorrkel.NewSigningContext([]byte("substrate"), msg)); !ok || err != nil {
			t.Fatalf("go-schnorrkel rejects pink's signature: %v", err)
		}
		// And pink's verify agrees, and rejects another message.
		if out := mustCall(t, s, FuncVerify, verifyIn(SigSr25519, pub, msg, sig)); !bytes.Equal(out, []byte{1}) {
			t.Fatalf("verify = %x", out)
		}
		if out := mustCall(t, s, FuncVerify, verifyIn(SigSr25519, pub, []byte("other"), sig)); !bytes.Equal(out, []byte{0}) {
			t.Fatalf("verify other = %x", out)
		}
	}
	// A 64-byte key with a non-canonical scalar is "Invalid key".
	bad := bytes.Repeat([]byte{0xff}, 64)
	if _, _, err := s.Call(newExt(), FuncSign, signIn(SigSr25519, bad, nil)); err == nil {
		t.Fatal("non-canonical sr25519 secret accepted")
	}
}

// RFC 8032 §7.1 TEST 1: seed, public key, signature of the empty message.
func TestEd25519KnownAnswer(t *testing.T) {
	s := newRig().session(Transaction) // ed25519 works in transactions
	seed := unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
	wantPub := unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
	wantSig := unhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
	if pub := vecOut(t, mustCall(t, s, FuncGetPublicKey, pubIn(SigEd25519, seed))); !bytes.Equal(pub, wantPub) {
		t.Fatalf("pub = %x", pub)
	}
	if sig := vecOut(t, mustCall(t, s, FuncSign, signIn(SigEd25519, seed, nil))); !bytes.Equal(sig, wantSig) {
		t.Fatalf("sig = %x", sig)
	}
	if out := mustCall(t, s, FuncVerify, verifyIn(SigEd25519, wantPub, nil, wantSig)); !bytes.Equal(out, []byte{1}) {
		t.Fatal("verify rejects the RFC 8032 vector")
	}
	wantSig[0] ^= 1
	if out := mustCall(t, s, FuncVerify, verifyIn(SigEd25519, wantPub, nil, wantSig)); !bytes.Equal(out, []byte{0}) {
		t.Fatal("verify accepts a corrupted signature")
	}
}

func TestEcdsaSignRecover(t *testing.T) {
	s := newRig().session(Transaction) // ecdsa works in transactions, deterministically
	key := bytes.Repeat([]byte{0x11}, 32)
	msg := []byte("pink ecdsa")
	pub := vecOut(t, mustCall(t, s, FuncGetPublicKey, pubIn(SigEcdsa, key)))
	if len(pub) != 33 || (pub[0] != 2 && pub[0] != 3) {
		t.Fatalf("pub = %x", pub)
	}
	sig := vecOut(t, mustCall(t, s, FuncSign, signIn(SigEcdsa, key, msg)))
	if len(sig) != 65 || sig[64] > 1 {
		t.Fatalf("sig = %x", sig)
	}
	if again := vecOut(t, mustCall(t, s, FuncSign, signIn(SigEcdsa, key, msg))); !bytes.Equal(again, sig) {
		t.Fatal("ecdsa signing is not deterministic")
	}
	// Recover independently: the message is hashed with blake2_256 first.
	h := hashing.Blake2b256(msg)
	compact := append([]byte{27 + 4 + sig[64]}, sig[:64]...)
	rec, _, err := ecdsa.RecoverCompact(compact, h[:])
	if err != nil || !bytes.Equal(rec.SerializeCompressed(), pub) {
		t.Fatalf("recovered %x, %v; want %x", rec.SerializeCompressed(), err, pub)
	}
	// Low s, as libsecp256k1.
	var sc secp256k1.ModNScalar
	sc.SetByteSlice(sig[32:64])
	if sc.IsOverHalfOrder() {
		t.Fatal("high-s signature")
	}
	if out := mustCall(t, s, FuncVerify, verifyIn(SigEcdsa, pub, msg, sig)); !bytes.Equal(out, []byte{1}) {
		t.Fatal("verify rejects")
	}
	if out := mustCall(t, s, FuncVerify, verifyIn(SigEcdsa, pub, []byte("x"), sig)); !bytes.Equal(out, []byte{0}) {
		t.Fatal("verify accepts another message")
	}

	// Prehashed: sign(key, hash) output is the raw [u8; 65].
	pre := mustCall(t, s, FuncEcdsaSignPrehashed, enc(func(w *scale.Writer) { w.BytesVec(key); w.Raw(h[:]) }))
	if !bytes.Equal(pre, sig) {
		t.Fatalf("sign_prehashed(blake2(msg)) = %x, want sign(msg) = %x", pre, sig)
	}
	vin := append(append(append([]byte{}, pre...), h[:]...), pub...)
	if out := mustCall(t, s, FuncEcdsaVerifyPrehashed, vin); !bytes.Equal(out, []byte{1}) {
		t.Fatal("verify_prehashed rejects")
	}
	vin[65] ^= 1 // another hash
	if out := mustCall(t, s, FuncEcdsaVerifyPrehashed, vin); !bytes.Equal(out, []byte{0}) {
		t.Fatal("verify_prehashed accepts another hash")
	}
}

func derived(t testing.TB, s *Session, salt string) []byte {
	t.Helper()
	out := mustCall(t, s, FuncDeriveSr25519Key, enc(func(w *scale.Writer) { w.BytesVec([]byte(salt)) }))
	// Vec<u8> of 64 bytes: compact 64 = (64<<2)|1 = 0x0101 LE.
	if len(out) != 66 || out[0] != 1 || out[1] != 1 {
		t.Fatalf("derive output %x", out)
	}
	return out[2:]
}

func TestDeriveDeterministic(t *testing.T) {
	// Two workers of the cluster: separate Envs holding the same cluster key.
	w1, w2 := newRig(), newRig()
	w2.env.ClusterKey = keys.FromSeed([32]byte{7})
	a := derived(t, w1.session(Query), "salt")
	b := derived(t, w2.session(Transaction), "salt")
	if !bytes.Equal(a, b) {
		t.Fatal("workers derive different keys")
	}
	want := cipher.ContractDerivedKey(testCluster, testContract, []byte("salt")).SecretBytes()
	if !bytes.Equal(a, want[:]) {
		t.Fatal("derive differs from cipher.ContractDerivedKey")
	}
	if bytes.Equal(a, derived(t, w1.session(Query), "salt2")) {
		t.Fatal("salt ignored")
	}
	other := NewSession(w1.env, Exec{Mode: Query})
	x := &fakeExt{addr: engine.AccountID{9}, gas: 1 << 30}
	_, out, err := other.Call(x, FuncDeriveSr25519Key, enc(func(w *scale.Writer) { w.BytesVec([]byte("salt")) }))
	if err != nil || bytes.Equal(out[2:], a) {
		t.Fatalf("contract ignored: %v", err)
	}
}

func BenchmarkSr25519SignVerify(b *testing.B) {
	s := newRig().session(Query)
	key := derived(b, s, "bench")
	pub := vecOut(b, mustCall(b, s, FuncGetPublicKey, pubIn(SigSr25519, key)))
	msg := bytes.Repeat([]byte("m"), 64)
	in := signIn(SigSr25519, key, msg)
	b.ReportAllocs()
	for b.Loop() {
		sig := vecOut(b, mustCall(b, s, FuncSign, in))
		if out := mustCall(b, s, FuncVerify, verifyIn(SigSr25519, pub, msg, sig)); out[0] != 1 {
			b.Fatal("verify failed")
		}
	}
}
