package keys

import (
	"encoding/hex"
	"strings"
	"testing"
)

// Vectors from paritytech/substrate-bip39 src/lib.rs (all with password "Substrate"):
// phrase, entropy, first 32 bytes of the seed (the mini secret key).
var substrateBIP39Vectors = [][3]string{
	{"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon about",
		"00000000000000000000000000000000", "44e9d125f037ac1d51f0a7d3649689d422c2af8b1ec8e00d71db4d7bf6d127e3"},
	{"legal winner thank year wave sausage worth useful legal winner thank yellow",
		"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "4313249608fe8ac10fd5886c92c4579007272cb77c21551ee5b8d60b78041685"},
	{"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo wrong",
		"ffffffffffffffffffffffffffffffff", "227d6256fd4f9ccaf06c45eaa4b2345969640462bbb00c5f51f43cb43418c7a7"},
	{"legal winner thank year wave sausage worth useful legal winner thank year wave sausage worth useful legal will",
		"7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f7f", "cb1d50e14101024a88905a098feb1553d4306d072d7460e167a60ccb3439a681"},
	{"zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo zoo vote",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", "047e89ef7739cbfe30da0ad32eb1720d8f62441dd4f139b981b8e2d0bd412ed4"},
	{"ozone drill grab fiber curtain grace pudding thank cruise elder eight picnic",
		"9e885d952ad362caeb4efe34a8e91bd2", "f4956be6960bc145cdab782e649a5056598fd07cd3f32ceb73421c3da2783324"},
	{"hamster diagram private dutch cause delay private meat slide toddler razor book happy fancy gospel tennis maple dilemma loan word shrug inflict delay length",
		"68a79eaca2324873eacc50cb9c6eca8cc68ea5d936f98787c60c7ebc74e6ce7c", "7c60c555126c297deddddd59f8cdcdc9e3608944455824dd604897984b5cc369"},
	{"light rule cinnamon wrap drastic word pride squirrel upgrade then income fatal apart sustain crack supply proud access",
		"8197a4a47f0425faeaa69deebc05ca29c0a5b5cc76ceacc0", "7ae1291db32d16457c248567f2b101e62c5549d2a64cd2b7605d503ec876d587"},
}

func TestSubstrateBIP39Vectors(t *testing.T) {
	for _, v := range substrateBIP39Vectors {
		ent, err := MnemonicToEntropy(v[0])
		if err != nil {
			t.Fatalf("%q: %v", v[0], err)
		}
		if hex.EncodeToString(ent) != v[1] {
			t.Errorf("%q entropy = %x, want %s", v[0], ent, v[1])
		}
		words, err := EntropyToMnemonic(ent)
		if err != nil || words != v[0] {
			t.Errorf("EntropyToMnemonic(%s) = %q, %v", v[1], words, err)
		}
		seed, err := MiniSecretFromMnemonic(v[0], "Substrate")
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(seed[:]) != v[2] {
			t.Errorf("%q mini secret = %x, want %s", v[0], seed, v[2])
		}
		// Through a secret URI: "PHRASE///Substrate".
		p, err := FromURI(v[0] + "///Substrate")
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := p.Seed(); got != seed {
			t.Errorf("FromURI seed mismatch for %q", v[0])
		}
	}
}

func TestNewMnemonic(t *testing.T) {
	for _, n := range []int{12, 24} {
		m, err := NewMnemonic(n)
		if err != nil {
			t.Fatal(err)
		}
		if len(strings.Fields(m)) != n {
			t.Errorf("NewMnemonic(%d) = %d words", n, len(strings.Fields(m)))
		}
		if _, err := FromURI(m); err != nil {
			t.Errorf("generated mnemonic rejected: %v", err)
		}
		m2, _ := NewMnemonic(n)
		if m == m2 {
			t.Error("two mnemonics are equal")
		}
	}
	for _, n := range []int{0, 11, 15, 25} {
		if _, err := NewMnemonic(n); err == nil {
			t.Errorf("NewMnemonic(%d) succeeded", n)
		}
	}
}

func TestMnemonicErrors(t *testing.T) {
	for _, m := range []string{
		"",
		"abandon",
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon", // checksum
		"abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon abandon About",   // case
		strings.Repeat("abandon ", 27) + "art",
	} {
		if _, err := MnemonicToEntropy(m); err == nil {
			t.Errorf("MnemonicToEntropy(%q) succeeded", m)
		}
	}
	if _, err := EntropyToMnemonic(make([]byte, 15)); err == nil {
		t.Error("15-byte entropy accepted")
	}
	if _, err := MiniSecretFromEntropy(make([]byte, 12), ""); err == nil {
		t.Error("12-byte entropy accepted")
	}
}
