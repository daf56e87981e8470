package keys

import (
	"bytes"
	"testing"

	subkey "github.com/vedhavyas/go-subkey/v2"
	subsr "github.com/vedhavyas/go-subkey/v2/sr25519"
)

// TestAgainstGoSubkey is a differential test: go-subkey, an independent Go
// implementation of subkey's secret URIs, must derive the same public keys
// and addresses, and each side must verify the other's signatures.
func TestAgainstGoSubkey(t *testing.T) {
	uris := []string{
		"//Alice", "//Bob", "//Alice//stash", "//Alice/soft", "//Alice//hard/soft//hard2",
		"//1", "//42//7/9", "//" + string(bytes.Repeat([]byte("x"), 40)),
		DevPhrase + "//Charlie",
		"caution juice atom organ advance problem want pledge someone senior holiday very",
		"caution juice atom organ advance problem want pledge someone senior holiday very//polkadot/0",
		"0x9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60//x",
	}
	for _, uri := range uris {
		ours, err := FromURI(uri)
		if err != nil {
			t.Fatalf("%s: %v", uri, err)
		}
		theirs, err := subkey.DeriveKeyPair(subsr.Scheme{}, uri)
		if err != nil {
			t.Fatalf("go-subkey %s: %v", uri, err)
		}
		pub := ours.Public()
		if !bytes.Equal(pub[:], theirs.Public()) {
			t.Errorf("%s: public key %x, go-subkey %x", uri, pub, theirs.Public())
			continue
		}
		if got, want := EncodeSS58(pub, 42), theirs.SS58Address(42); got != want {
			t.Errorf("%s: address %s, go-subkey %s", uri, got, want)
		}
		msg := []byte("cella/subkey-differential")
		sig, err := theirs.Sign(msg)
		if err != nil {
			t.Fatal(err)
		}
		var s Signature
		copy(s[:], sig)
		if !Verify(pub, msg, s) {
			t.Errorf("%s: go-subkey's signature does not verify here", uri)
		}
		mine := ours.Sign(msg)
		if ok := theirs.Verify(msg, mine[:]); !ok {
			t.Errorf("%s: our signature does not verify in go-subkey", uri)
		}
	}
}
