package keys

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"golang.org/x/crypto/blake2b"
)

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func mustPub(t testing.TB, s string) PublicKey {
	t.Helper()
	return PublicKey(mustHex(t, s))
}

func mustSig(t testing.TB, s string) Signature {
	t.Helper()
	return Signature(mustHex(t, s))
}

// TestKnownURIs checks secret URIs against published subkey / sp_core outputs.
func TestKnownURIs(t *testing.T) {
	tests := []struct {
		uri, seed, pub, ss58 string
	}{
		// subkey inspect //Alice, //Bob (docs.substrate.io subkey reference; sp_core derive_hard_known_pair_should_work).
		{"//Alice", "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a",
			"d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"},
		{"//Bob", "398f0c28f98885e046333d4a41c19cee4c37368a9832c6502f6cfd182e2aef89",
			"8eaf04151687736326c9fea17e25fc5287613693c912909cb226aa4794f26a48", "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty"},
		{DevPhrase + "//Alice", "e5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a",
			"d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"},
		// Substrate dev chain stash account of Alice.
		{"//Alice//stash", "", "", "5GNJqTPyNqANBkUVMN1LPPrxXnFouWXoe2wNSmmEoLctxiZY"},
		// subkey inspect DevPhrase (the root account, DEV_ADDRESS in sp_core).
		{DevPhrase, "fac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e",
			"46ebddef8cd9bb167dc30878d7113b7e168e6f0646beffd77d69d39bad76b47a", "5DfhGyQdFobKM8NsWvEeAKk5EQQgYe9AydgJ7rMB6E1EqRzV"},
		// subkey docs: subkey inspect "caution juice ..." (docs.substrate.io/reference/command-line-tools/subkey).
		{"caution juice atom organ advance problem want pledge someone senior holiday very",
			"c8fa03532fb22ee1f7f6908b9c02b4e72483f0dbd66e4cd456b8f34c6230b849",
			"d6a3105d6768e956e9e5d41050ac29843f98561410d3a47f9dd5b3b227ab8746", "5Gv8YYFu8H1btvmrJy9FjjAWfb99wrhV3uhPFoNEr918utyR"},
		// sp_core derive_soft_known_pair_should_work: DEV_PHRASE/Alice.
		{DevPhrase + "/Alice", "", "d6c71059dbbe9ad2b0ed3f289738b800836eb425544ce694825285b958ca755e", ""},
		{"/Alice", "", "d6c71059dbbe9ad2b0ed3f289738b800836eb425544ce694825285b958ca755e", ""},
		// sp_core sr_test_vector_should_work: hex seed.
		{"0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
			"44a996beb1eef7bdcab976ab6d2ca26104834164ecf28fb375600576fcc6eb0f", ""},
		// sp_core seeded_pair_should_work: seed b"12345678901234567890123456789012".
		{"0x" + hex.EncodeToString([]byte("12345678901234567890123456789012")), "",
			"741c08a06f41c596608f6774259bd9043304adfa5d3eea62760bd9be97634d63", ""},
		// The Alice seed given as hex gives Alice; a path on a hex seed derives from it.
		{"0xe5be9a5092b81bca64be81d212e7f2f9eba183bb7a90954f7b76361f6edb5c0a", "",
			"d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", ""},
		{"0xfac7959dbfe72f052e5a0c3c8d6530f202b02fd8f9f5ca3580ec8deb7797479e//Alice", "",
			"d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", ""},
		// Whitespace between words is normalised.
		{"  bottom drive obey lake curtain smoke basket hold race lonely fit   walk//Alice", "",
			"d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d", ""},
	}
	for _, tc := range tests {
		p, err := FromURI(tc.uri)
		if err != nil {
			t.Fatalf("FromURI(%q): %v", tc.uri, err)
		}
		if tc.pub != "" && p.Public() != mustPub(t, tc.pub) {
			t.Errorf("FromURI(%q) public = %s, want 0x%s", tc.uri, p.Public().Hex(), tc.pub)
		}
		if tc.ss58 != "" && EncodeSS58(p.Public(), 42) != tc.ss58 {
			t.Errorf("FromURI(%q) address = %s, want %s", tc.uri, EncodeSS58(p.Public(), 42), tc.ss58)
		}
		if tc.seed != "" {
			seed, ok := p.Seed()
			if !ok || hex.EncodeToString(seed[:]) != tc.seed {
				t.Errorf("FromURI(%q) seed = %x (%v), want %s", tc.uri, seed, ok, tc.seed)
			}
		}
	}
}

func TestSeedKnowledge(t *testing.T) {
	for uri, want := range map[string]bool{
		"//Alice":          true,
		"//Alice//stash":   true,
		"//Alice/soft":     false,
		"//Alice/soft//hd": false, // sp_core: once soft, the seed stays unknown
		"/0//1":            false,
		DevPhrase:          true,
		"0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60": true,
	} {
		p, err := FromURI(uri)
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := p.Seed(); ok != want {
			t.Errorf("%q: seed known = %v, want %v", uri, ok, want)
		}
	}
}

// TestSoftDeriveKnown uses the schnorrkel HDKD vector (sr25519-crust / Sr25519.swift
// DeriveTests.testDeriveSoftKnown): secret ‖ nonce ‖ public, soft junction "foo".
func TestSoftDeriveKnown(t *testing.T) {
	kp := mustHex(t, "4c1250e05afcd79e74f6c035aee10248841090e009b6fd7ba6a98d5dc743250cafa4b32c608e3ee2ba624850b3f14c75841af84b16798bf1ee4a3875aa37a2cee661e416406384fe1ca091980958576d2bff7c461636e9f22c895f444905ea1f")
	p, err := newPair([32]byte(kp[:32]), [32]byte(kp[32:64]))
	if err != nil {
		t.Fatal(err)
	}
	if p.Public() != PublicKey(kp[64:]) {
		t.Fatalf("public = %s", p.Public().Hex())
	}
	j := NewJunction("foo", false)
	if hex.EncodeToString(j.Code[:]) != "0c666f6f00000000000000000000000000000000000000000000000000000000" {
		t.Fatalf("junction code = %x", j.Code)
	}
	d, err := p.Derive([]Junction{j})
	if err != nil {
		t.Fatal(err)
	}
	if want := mustPub(t, "b21e5aabeeb35d6a1bf76226a6c65cd897016df09ef208243e59eed2401f5357"); d.Public() != want {
		t.Errorf("soft derive = %s, want %s", d.Public().Hex(), want.Hex())
	}
	// Derived keys must sign verifiably.
	sig := d.Sign([]byte("x"))
	if !Verify(d.Public(), []byte("x"), sig) {
		t.Error("soft-derived pair's signature does not verify")
	}
}

func TestJunctionCodes(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"Alice", "14416c6963650000000000000000000000000000000000000000000000000000"},
		{"1", "0100000000000000000000000000000000000000000000000000000000000000"},
		{"+1", "0100000000000000000000000000000000000000000000000000000000000000"},
		{"18446744073709551615", "ffffffffffffffff000000000000000000000000000000000000000000000000"},
		// Too big for u64: text, 20 chars → 0x50 prefix.
		{"18446744073709551616", "503138343436373434303733373039353531363136000000000000000000000000"[:64]},
		{"-1", "082d310000000000000000000000000000000000000000000000000000000000"},
	}
	for _, tc := range tests {
		j := NewJunction(tc.in, true)
		if got := hex.EncodeToString(j.Code[:]); got != tc.want {
			t.Errorf("junction %q = %s, want %s", tc.in, got, tc.want)
		}
	}
	// 31 text bytes + 1 length byte = 32: padded, not hashed; 32 text bytes are hashed.
	s31 := strings.Repeat("a", 31)
	j := NewJunction(s31, true)
	if j.Code[0] != 31<<2 || j.Code[31] != 'a' {
		t.Errorf("31-byte junction not stored verbatim: %x", j.Code)
	}
	s32 := strings.Repeat("a", 32)
	enc := append([]byte{32 << 2}, s32...)
	if j := NewJunction(s32, true); j.Code != blake2b.Sum256(enc) {
		t.Errorf("32-byte junction not hashed: %x", j.Code)
	}
}

func TestURIPassword(t *testing.T) {
	// sp_core default_phrase_should_be_used: "//Alice///password" is DEV_PHRASE//Alice with password.
	a, err := FromURI("//Alice///password")
	if err != nil {
		t.Fatal(err)
	}
	b, err := FromURI(DevPhrase + "//Alice///password")
	if err != nil {
		t.Fatal(err)
	}
	seed, _ := MiniSecretFromMnemonic(DevPhrase, "password")
	c, err := FromSeed(seed).Derive([]Junction{NewJunction("Alice", true)})
	if err != nil {
		t.Fatal(err)
	}
	alice, _ := FromURI("//Alice")
	if a.Public() != b.Public() || a.Public() != c.Public() || a.Public() == alice.Public() {
		t.Error("password not applied consistently")
	}
	// The password may contain slashes.
	u, err := ParseURI("word//a/b///pa/ss//x")
	if err != nil {
		t.Fatal(err)
	}
	if u.Phrase != "word" || u.Password != "pa/ss//x" || len(u.Path) != 2 || !u.Path[0].Hard || u.Path[1].Hard {
		t.Errorf("ParseURI = %+v", u)
	}
	// A password on a hex seed is ignored, as in sp_core.
	h1, _ := FromURI("0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60///pw")
	if h1.Public() != mustPub(t, "44a996beb1eef7bdcab976ab6d2ca26104834164ecf28fb375600576fcc6eb0f") {
		t.Error("password changed a hex seed")
	}
}

func TestURIErrors(t *testing.T) {
	for _, uri := range []string{
		"",                  // empty phrase? no: empty means DevPhrase; see below
		"0x1234",            // short seed
		"0xzz",              // bad hex
		"bottom drive obey", // too few words
		"bottom drive obey lake curtain smoke basket hold race lonely fit fit",  // checksum
		"bottom drive obey lake curtain smoke basket hold race lonely fit walx", // unknown word
		"//Alice//",      // empty junction
		"//Alice/",       // empty junction
		"word-with-dash", // bad character
		"   ",            // blank phrase
	} {
		_, err := FromURI(uri)
		if uri == "" {
			if err != nil {
				t.Errorf("FromURI(\"\") = %v, want the DevPhrase root", err)
			}
			continue
		}
		if err == nil {
			t.Errorf("FromURI(%q) succeeded, want an error", uri)
		} else if strings.Contains(err.Error(), "\n") {
			t.Errorf("error for %q spans lines: %q", uri, err)
		}
	}
}

func TestSignVerifyInterop(t *testing.T) {
	p, _ := FromURI("//Alice")
	msg := []byte("cella interop")
	sig := p.Sign(msg)
	if !Verify(p.Public(), msg, sig) {
		t.Fatal("own signature does not verify")
	}
	if Verify(p.Public(), []byte("other"), sig) {
		t.Fatal("signature verifies for another message")
	}
	bob, _ := FromURI("//Bob")
	if Verify(bob.Public(), msg, sig) {
		t.Fatal("signature verifies for another key")
	}
	bad := sig
	bad[5] ^= 1
	if Verify(p.Public(), msg, bad) {
		t.Fatal("tampered signature verifies")
	}
	// Signed here, verified by go-schnorrkel.
	spk, err := schnorrkel.NewPublicKey(p.Public())
	if err != nil {
		t.Fatal(err)
	}
	ssig := new(schnorrkel.Signature)
	if err := ssig.Decode(sig); err != nil {
		t.Fatal(err)
	}
	ok, err := spk.Verify(ssig, schnorrkel.NewSigningContext([]byte("substrate"), msg))
	if err != nil || !ok {
		t.Fatalf("go-schnorrkel rejects our signature: %v %v", ok, err)
	}
	// Signed by go-schnorrkel (from the same mini secret), verified here.
	seed, _ := p.Seed()
	msk, _ := schnorrkel.NewMiniSecretKeyFromRaw(seed)
	ssig2, err := msk.ExpandEd25519().Sign(schnorrkel.NewSigningContext([]byte("substrate"), msg))
	if err != nil {
		t.Fatal(err)
	}
	if !Verify(p.Public(), msg, Signature(ssig2.Encode())) {
		t.Fatal("go-schnorrkel signature does not verify here")
	}
}

// Published signatures made by other implementations.
func TestKnownSignatures(t *testing.T) {
	tests := []struct {
		name, addr, msg, sig string
		want                 bool
	}{
		// polkadot-js/common util-crypto signature/verify.spec.ts: sr25519 over "hello world" (Kusama address).
		{"polkadot.js", "EK1bFgKm2FsghcttHT7TB7rNyXApFgs9fCbijMGQNyFGBQm", "hello world",
			"ca01419b5a17219f7b78335658cab3b126db523a5df7be4bfc2bef76c2eb3b1dcf4ca86eb877d0a6cf6df12db5995c51d13b00e005d053b892bd09c594434288", true},
		// Same spec: signRaw-style signature over "<Bytes>hello world</Bytes>".
		{"polkadot.js wrapped", "J9nD3s7zssCX7bion1xctAF6xcVexcpy2uwy4jTm9JL8yuK", "<Bytes>hello world</Bytes>",
			"84b6afb1c8e54bbcb3f4872baf172580e21310e9387a53742627d6652d121447fa406b82805ed3184fb7bd519175cc9f99f283f97954d95cf966ee164df85489", true},
		{"polkadot.js wrapped, unwrapped msg", "J9nD3s7zssCX7bion1xctAF6xcVexcpy2uwy4jTm9JL8yuK", "hello world",
			"84b6afb1c8e54bbcb3f4872baf172580e21310e9387a53742627d6652d121447fa406b82805ed3184fb7bd519175cc9f99f283f97954d95cf966ee164df85489", false},
		// subkey sign output used by logion's SubkeyService spec ("test message\n").
		{"subkey", "5Gv8YYFu8H1btvmrJy9FjjAWfb99wrhV3uhPFoNEr918utyR", "test message\n",
			"22f91b41ba12f8663ddce26bfc90dbfe6a51683fd3782ad679ab2a5fdbe7d44c2a119f22c74eea22555e5483eb7f42b828f189a38379d59c3b607d2461f0858e", true},
		{"subkey, other message", "5Gv8YYFu8H1btvmrJy9FjjAWfb99wrhV3uhPFoNEr918utyR", "another message\n",
			"22f91b41ba12f8663ddce26bfc90dbfe6a51683fd3782ad679ab2a5fdbe7d44c2a119f22c74eea22555e5483eb7f42b828f189a38379d59c3b607d2461f0858e", false},
		// sp_core verify_known_old_message_should_work: schnorrkel 0.1 signature, must NOT verify today.
		{"sp_core old", "0xb4bfa1f7a5166695eb75299fd1c4c03ea212871c342f2c5dfea0902b2c246918",
			"Verifying that I am the owner of 5G9hQLdsKQswNPgB499DeA5PkFBbgkLPJWkkS6FAM6xGQ8xD. Hash: 221455a3\n",
			"5a9755f069939f45d96aaf125cf5ce7ba1db998686f87f2fb3cbdea922078741a73891ba265f70c31436e18a9acd14d189d73c12317ab6c313285cd938453202", false},
	}
	bv := NewBatchVerifier(len(tests))
	for _, tc := range tests {
		pub, err := ParseAccount(tc.addr)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		sig := mustSig(t, tc.sig)
		if got := Verify(pub, []byte(tc.msg), sig); got != tc.want {
			t.Errorf("%s: Verify = %v, want %v", tc.name, got, tc.want)
		}
		bv.Add(pub, []byte(tc.msg), sig)
	}
	all, valid := bv.Verify()
	if all {
		t.Error("batch with invalid entries reported all valid")
	}
	for i, tc := range tests {
		if valid[i] != tc.want {
			t.Errorf("batch entry %d (%s) = %v, want %v", i, tc.name, valid[i], tc.want)
		}
	}
}

func TestBatchVerifier(t *testing.T) {
	if all, valid := NewBatchVerifier(0).Verify(); all || len(valid) != 0 {
		t.Error("empty batch must report false")
	}
	bv := NewBatchVerifier(8)
	var pairs []*Pair
	for _, u := range []string{"//Alice", "//Bob", "//Charlie", "//Dave", "//Alice/soft"} {
		p, err := FromURI(u)
		if err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, p)
		msg := []byte("msg " + u)
		bv.Add(p.Public(), msg, p.Sign(msg))
	}
	if all, valid := bv.Verify(); !all || len(valid) != 5 {
		t.Fatalf("all-valid batch: %v %v", all, valid)
	}
	// Add a wrong signature, a malformed public key and a malformed signature.
	sig := pairs[0].Sign([]byte("a"))
	bv.Add(pairs[1].Public(), []byte("a"), sig)
	var badPub PublicKey
	for i := range badPub {
		badPub[i] = 0xff
	}
	bv.Add(badPub, []byte("a"), sig)
	var badSig Signature // no schnorrkel marker bit
	bv.Add(pairs[0].Public(), []byte("a"), badSig)
	all, valid := bv.Verify()
	want := []bool{true, true, true, true, true, false, false, false}
	if all || len(valid) != len(want) {
		t.Fatalf("mixed batch: all=%v valid=%v", all, valid)
	}
	for i := range want {
		if valid[i] != want[i] {
			t.Errorf("entry %d = %v, want %v", i, valid[i], want[i])
		}
	}
	if bv.Len() != 8 {
		t.Errorf("Len = %d", bv.Len())
	}
}

func TestWrapBytes(t *testing.T) {
	if got := string(WrapBytes([]byte("hello world"))); got != "<Bytes>hello world</Bytes>" {
		t.Errorf("WrapBytes = %q", got)
	}
	if got := string(WrapBytes([]byte("<Bytes>x</Bytes>"))); got != "<Bytes>x</Bytes>" {
		t.Errorf("WrapBytes on wrapped = %q", got)
	}
	if got := string(WrapBytes(nil)); got != "<Bytes></Bytes>" {
		t.Errorf("WrapBytes(nil) = %q", got)
	}
	if IsWrapped([]byte("<Bytes>")) || !IsWrapped([]byte("<Bytes></Bytes>")) {
		t.Error("IsWrapped wrong")
	}
}

func TestSS58(t *testing.T) {
	alice := mustPub(t, "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
	tests := []struct {
		pub    string
		prefix uint16
		addr   string
	}{
		// polkadot-js/common util-crypto address/encode.spec.ts and decode.spec.ts.
		{alice.Hex(), 42, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY"},
		{alice.Hex(), 0, "15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5"},
		{alice.Hex(), 2, "HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F"},
		{"0x3050f8456519829fe03302da802d22d3233a5f4037b9a3e2bcc403ccfcb2d735", 42, "5DA4D4GL5iakrn22h5uKoevgvo18Pqj5BcdEUv8etEDPdijA"},
		{"0x08e8969768fc14399930d4b8d693f68a2ff6c6a597325d6946095e5e9d9d1b0e", 65, "cLtA6nCDyvwKcEHH4QkZDSHMhS9s78BvUJUsKUbUAn1Jc2SCF"},
		{"0x04a047d52fe542484c69bc528990cfeaf3a663dded0638ee1b51cf78bacd1072", 66, "cTGShekJ1L1UKFZR9xmv9UTJod7vqjFAPo4sDhXih2c3y1yLS"},
		{"0xae640d53cfa815f4a6a50ae70235cd7d9d134d0f1c3a4ccd118e321dfb6ab51f", 69, "cnVRwXfAnz3RSVQyBUC8f8McrK3YBX2QYd4WoctpeSC6VTJYm"},
		{"0x5c64f1151f0ce4358c27238fb20c88e7c899825436f565410724c8c2c5add869", 252, "xw5g1Eec8LT99pZLZMaTWwrwvNtfM6vrSuZeVbtEszCDUwByg"},
		{"0x66cd6cf085627d6c85af1aaf2bd10cf843033e929b4e3b1c2ba8e4aa46fe111b", 255, "yGF4JP7q5AK46d1FPCEm9sYQ4KooSjHMpyVAjLnsCSWVafPnf"},
		{"0x242fd5a078ac6b7c3c2531e9bcf1314343782aeb58e7bc6880794589e701db55", 255, "yGDYxQatQwuxqT39Zs4LtcTnpzE12vXb7ZJ6xpdiHv6gTu1hF"},
		{"0x44d5a3ac156335ea99d33a83c57c7146c40c8e2260a8a4adf4e7a86256454651", 4242, "mHm8k9Emsvyfp3piCauSH684iA6NakctF8dySQcX94GDdrJrE"},
		{"0x88f01441682a17b52d6ae12d1a5670cf675fd254897efabaa5069eb3a701ab73", 14269, "r6Gr4gaMP8TsjhFbqvZhv3YvnasugLiRJpzpRHifsqqG18UXa"},
		{"0x88eafe0305d460d1695cf34c2f786050df8e40d215e488790cc70929c9e8316d", 69, "cnUaoo5wodnTVA4bnr4woSweto8hWZADUvLFXkR9Q6U7BRsbF"},
		{"0xfc422da6c3bc6dfa2a436a506428072941662f816987baaa8914e02ff5947f4b", 252, "xw9Hca4RJTmBRgzJT4ieJBh7XCK9gE3NXBDSEmgGHd4TCrbnG"},
		// Kusama treasury: "modlpy/trsry" padded to 32 bytes.
		{"0x" + hex.EncodeToString(append([]byte("modlpy/trsry"), make([]byte, 20)...)), 2, "F3opxRbN5ZbjJNU511Kj2TLuzFcDq9BGduA9TgiECafpg29"},
	}
	for _, tc := range tests {
		pub := mustPub(t, tc.pub)
		if got := EncodeSS58(pub, tc.prefix); got != tc.addr {
			t.Errorf("EncodeSS58(%s, %d) = %s, want %s", tc.pub, tc.prefix, got, tc.addr)
		}
		gotPub, gotPrefix, err := DecodeSS58(tc.addr)
		if err != nil || gotPub != pub || gotPrefix != tc.prefix {
			t.Errorf("DecodeSS58(%s) = %s, %d, %v", tc.addr, gotPub.Hex(), gotPrefix, err)
		}
	}
	// Round trip over every prefix boundary.
	for _, prefix := range []uint16{0, 1, 42, 63, 64, 127, 128, 255, 256, 1000, 16383} {
		a := EncodeSS58(alice, prefix)
		p, pr, err := DecodeSS58(a)
		if err != nil || p != alice || pr != prefix {
			t.Errorf("round trip prefix %d: %s → %d %v", prefix, a, pr, err)
		}
	}
}

func TestSS58Errors(t *testing.T) {
	tests := []struct {
		addr string
		want error
	}{
		{"5GoKvZWG5ZPYL1WUovuHW3zJBWBP5eT8CbqjdRY4Q6iMa9cj", ErrSS58Checksum},
		{"5GoKvZWG5ZPYL1WUovuHW3zJBWBP5eT8CbqjdRY4Q6iMaDwU", ErrSS58Checksum},
		{"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ", ErrSS58Checksum},
		{"y9EMHt34JJo4rWLSaxoLGdYXvjgSXEd4zHUnQgfNzwES8b", ErrSS58Length},
		{"F7NZ", ErrSS58Length}, // a valid 1-byte "address"
		{"", ErrSS58Length},
		{"F3opIRbN5ZbjJNU511Kj2TLuzFcDq9BGduA9TgiECafpg29", ErrBase58},  // capital I
		{"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKut0Y", ErrBase58}, // zero
		{"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQYQ", ErrSS58Length},
	}
	for _, tc := range tests {
		_, _, err := DecodeSS58(tc.addr)
		if !errors.Is(err, tc.want) {
			t.Errorf("DecodeSS58(%q) = %v, want %v", tc.addr, err, tc.want)
		}
	}
	// First byte ≥ 128 is not an SS58 prefix.
	raw := append([]byte{0x80, 0x00}, make([]byte, 34)...)
	if _, _, err := DecodeSS58(base58Encode(raw)); !errors.Is(err, ErrSS58Prefix) {
		t.Errorf("prefix byte 0x80: %v", err)
	}
}

func TestParseAccount(t *testing.T) {
	alice := mustPub(t, "d43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d")
	for _, s := range []string{
		"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
		"15oF4uVJwmo4TdGW7VfQxNLavjCXviqxT9S1MgbjMNHr6Sp5",
		"HNZata7iMYWmk5RvZRTiAsSDhV8366zq2YGb3tLH5Upf74F",
		"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d",
		" 0xD43593C715FDD31C61141ABD04A99FD6822C8558854CCDE39A5684E7A56DA27D ",
	} {
		got, err := ParseAccount(s)
		if err != nil || got != alice {
			t.Errorf("ParseAccount(%q) = %s, %v", s, got.Hex(), err)
		}
	}
	for _, s := range []string{"0x1234", "0xzz", "hello", "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ", ""} {
		if _, err := ParseAccount(s); err == nil {
			t.Errorf("ParseAccount(%q) succeeded", s)
		}
	}
	if alice.Hex() != "0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d" {
		t.Error("Hex")
	}
	if alice.String() != "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY" {
		t.Error("String")
	}
}

func TestBase58(t *testing.T) {
	for _, b := range [][]byte{nil, {0}, {0, 0, 1}, {1}, {0xff, 0xff}, bytes.Repeat([]byte{0x42}, 40)} {
		s := base58Encode(b)
		got, err := base58Decode(s)
		if err != nil || !bytes.Equal(got, b) && !(len(b) == 0 && len(got) == 0) {
			t.Errorf("base58 round trip %x → %q → %x %v", b, s, got, err)
		}
	}
	// polkadot.js encode.spec: a one-byte "address" has a one-byte checksum.
	if s := base58Encode([]byte{42, 1, ss58Checksum([]byte{42, 1})[0]}); s != "F7NZ" {
		t.Errorf("1-byte address = %s", s)
	}
}

func TestSignDeterministic(t *testing.T) {
	p, err := FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("egress #7")
	a, b := p.SignDeterministic(msg), p.SignDeterministic(msg)
	if a != b {
		t.Fatal("deterministic signatures differ")
	}
	if !Verify(p.Public(), msg, a) {
		t.Fatal("deterministic signature does not verify")
	}
	if c := p.SignDeterministic([]byte("egress #8")); c == a || !Verify(p.Public(), []byte("egress #8"), c) {
		t.Fatal("another message must give another valid signature")
	}
	if bob, _ := FromURI("//Bob"); bob.SignDeterministic(msg) == a {
		t.Fatal("another key must give another signature")
	}
	if p.Sign(msg) == a {
		t.Fatal("randomized signing must differ from deterministic")
	}
}
