package phatwire

import (
	"bytes"
	"errors"
	"testing"

	"github.com/cella-network/cella/internal/keys"
)

func mustPair(t testing.TB, suri string) *keys.Pair {
	t.Helper()
	p, err := keys.FromURI(suri)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// querySig returns a query signature made the SDK's way: alice certifies an
// ephemeral key until ttl with typ, the ephemeral key signs msg.
func querySig(t testing.TB, typ SignatureType, ttl uint32, msg []byte) (*Signature, *keys.Pair, *keys.Pair) {
	t.Helper()
	alice, eph := mustPair(t, "//Alice"), mustPair(t, "//Ephemeral")
	cert, err := IssueCertificate(alice, eph.Public(), ttl, typ)
	if err != nil {
		t.Fatal(err)
	}
	return SignQuery(cert, eph, msg), alice, eph
}

func TestSignAndVerify(t *testing.T) {
	msg := []byte("encoded encrypted data")
	for _, typ := range []SignatureType{Sr25519, Sr25519WrapBytes} {
		sig, alice, eph := querySig(t, typ, 1000, msg)
		if sig.SignedBy.Signature.Type != typ || sig.Type != Sr25519 {
			t.Fatalf("%v: types %v / %v", typ, sig.SignedBy.Signature.Type, sig.Type)
		}
		for _, block := range []uint32{0, 999, 1000} {
			chain, err := sig.Verify(msg, block, MaxCertificateDepth)
			if err != nil {
				t.Fatalf("%v block %d: %v", typ, block, err)
			}
			if len(chain) != 2 || chain[0] != AccountID(alice.Public()) || chain[1] != AccountID(eph.Public()) {
				t.Fatalf("%v: chain %x", typ, chain)
			}
		}
		if _, err := sig.Verify(msg, 1001, MaxCertificateDepth); !errors.Is(err, ErrCertificateExpired) {
			t.Fatalf("%v: block after ttl: %v", typ, err)
		}
	}
	// A WrapBytes certificate signature does not verify as plain Sr25519
	// and vice versa.
	sig, _, _ := querySig(t, Sr25519WrapBytes, 10, msg)
	sig.SignedBy.Signature.Type = Sr25519
	if _, err := sig.Verify(msg, 0, MaxCertificateDepth); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrapped signature checked unwrapped: %v", err)
	}
	if _, err := IssueCertificate(mustPair(t, "//Alice"), keys.PublicKey{}, 1, Ecdsa); !errors.Is(err, ErrUnsupportedSigType) {
		t.Fatalf("ecdsa issue: %v", err)
	}
}

func TestVerifyRejects(t *testing.T) {
	msg := []byte("query bytes")
	fresh := func() *Signature { s, _, _ := querySig(t, Sr25519, 50, msg); return s }
	eph := mustPair(t, "//Ephemeral")
	cases := []struct {
		name   string
		mutate func(s *Signature) []byte // returns the message to verify
		block  uint32
		want   error
	}{
		{"message byte flipped", func(s *Signature) []byte { m := bytes.Clone(msg); m[3] ^= 1; return m }, 0, ErrBadSignature},
		{"query signature byte flipped", func(s *Signature) []byte { s.Signature[10] ^= 1; return msg }, 0, ErrBadSignature},
		{"certificate body byte flipped", func(s *Signature) []byte { s.SignedBy.EncodedBody[5] ^= 1; return msg }, 0, ErrBadSignature},
		{"certificate ttl raised", func(s *Signature) []byte {
			s.SignedBy.EncodedBody = (&CertificateBody{Pubkey: pk(eph), TTL: 1 << 30}).Encode()
			return msg
		}, 0, ErrBadSignature},
		{"parent signature byte flipped", func(s *Signature) []byte { s.SignedBy.Signature.Signature[0] ^= 1; return msg }, 0, ErrBadSignature},
		{"expired", func(s *Signature) []byte { return msg }, 51, ErrCertificateExpired},
		{"root expired", func(s *Signature) []byte {
			s.SignedBy.Signature.SignedBy.EncodedBody = (&CertificateBody{Pubkey: pk(mustPair(t, "//Alice")), TTL: 5}).Encode()
			return msg
		}, 6, ErrCertificateExpired},
		{"no certificate", func(s *Signature) []byte { s.SignedBy = nil; return msg }, 0, ErrMissingCertificate},
		{"parent without certificate", func(s *Signature) []byte { s.SignedBy.Signature.SignedBy = nil; return msg }, 0, ErrMissingCertificate},
		{"unsupported type", func(s *Signature) []byte { s.Type = Ed25519; return msg }, 0, ErrUnsupportedSigType},
		{"ecdsa with an sr25519 key", func(s *Signature) []byte { s.Type = Ecdsa; return msg }, 0, ErrBadPublicKey},
		{"eip712", func(s *Signature) []byte { s.SignedBy.Signature.Type = Eip712; return msg }, 0, ErrUnsupportedSigType},
		{"invalid type", func(s *Signature) []byte { s.Type = 9; return msg }, 0, ErrInvalidSignatureType},
		{"negative type", func(s *Signature) []byte { s.Type = -1; return msg }, 0, ErrInvalidSignatureType},
		{"short signature", func(s *Signature) []byte { s.Signature = s.Signature[:63]; return msg }, 0, ErrBadSignature},
		{"short key", func(s *Signature) []byte {
			s.SignedBy.EncodedBody = (&CertificateBody{Pubkey: make([]byte, 31), TTL: 50}).Encode()
			return msg
		}, 0, ErrBadPublicKey},
		{"body with trailing byte", func(s *Signature) []byte {
			s.SignedBy.EncodedBody = append(s.SignedBy.EncodedBody, 0)
			return msg
		}, 0, ErrMalformed},
		{"body truncated", func(s *Signature) []byte { s.SignedBy.EncodedBody = s.SignedBy.EncodedBody[:10]; return msg }, 0, ErrMalformed},
		{"body too large", func(s *Signature) []byte {
			s.SignedBy.EncodedBody = (&CertificateBody{Pubkey: make([]byte, 300)}).Encode()
			return msg
		}, 0, ErrMalformed},
		{"chain of three", func(s *Signature) []byte {
			// Bob certifies Alice's root certificate: a valid third level.
			bob := mustPair(t, "//Bob")
			root := s.SignedBy.Signature.SignedBy
			root.Signature = SignQuery(&Certificate{EncodedBody: (&CertificateBody{Pubkey: pk(bob), TTL: 50}).Encode()}, bob, root.EncodedBody)
			return msg
		}, 0, ErrTooLongChain},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := fresh()
			m := c.mutate(s)
			if chain, err := s.Verify(m, c.block, MaxCertificateDepth); !errors.Is(err, c.want) {
				t.Fatalf("got %x, %v; want %v", chain, err, c.want)
			}
			cache := NewVerifyCache(2)
			if chain, err := cache.VerifyQuery(s, m, c.block); !errors.Is(err, c.want) {
				t.Fatalf("cached: got %x, %v; want %v", chain, err, c.want)
			}
		})
	}
	// The chain of three verifies with a larger max depth: the error above is
	// the depth limit, not a bad signature.
	s := fresh()
	bob := mustPair(t, "//Bob")
	root := s.SignedBy.Signature.SignedBy
	root.Signature = SignQuery(&Certificate{EncodedBody: (&CertificateBody{Pubkey: pk(bob), TTL: 50}).Encode()}, bob, root.EncodedBody)
	if chain, err := s.Verify(msg, 0, 3); err != nil || len(chain) != 3 || chain[0] != AccountID(bob.Public()) {
		t.Fatalf("depth 3: %x, %v", chain, err)
	}
	if _, err := (*Signature)(nil).Verify(msg, 0, 2); !errors.Is(err, ErrMissingCertificate) {
		t.Fatalf("nil signature: %v", err)
	}
}

func TestVerifyCache(t *testing.T) {
	msg := []byte("q")
	c := NewVerifyCache(2)
	sigs := make([]*Signature, 3)
	for i := range sigs {
		eph := mustPair(t, "//E"+string(rune('a'+i)))
		cert, err := IssueCertificate(mustPair(t, "//Alice"), eph.Public(), 100, Sr25519)
		if err != nil {
			t.Fatal(err)
		}
		sigs[i] = SignQuery(cert, eph, msg)
	}
	for _, s := range sigs {
		if _, err := c.VerifyQuery(s, msg, 1); err != nil {
			t.Fatal(err)
		}
	}
	if c.Len() != 2 {
		t.Fatalf("len %d, want the bound 2", c.Len())
	}
	// sigs[0] was evicted (LRU), sigs[2] is cached.
	c.VerifyQuery(sigs[2], msg, 1)
	c.VerifyQuery(sigs[0], msg, 1)
	if hits, misses := c.Stats(); hits != 1 || misses != 4 {
		t.Fatalf("hits %d misses %d", hits, misses)
	}
	// A cached certificate still expires, and still needs a good query
	// signature.
	if _, err := c.VerifyQuery(sigs[0], msg, 101); !errors.Is(err, ErrCertificateExpired) {
		t.Fatalf("expired via cache: %v", err)
	}
	if _, err := c.VerifyQuery(sigs[0], []byte("other"), 1); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("other message via cache: %v", err)
	}
	// A failed certificate is not cached, and a tampered one is a different
	// key.
	bad := *sigs[0]
	badCert := *bad.SignedBy
	badParent := *badCert.Signature
	badParent.Signature = bytes.Clone(badParent.Signature)
	badParent.Signature[0] ^= 1
	badCert.Signature, bad.SignedBy = &badParent, &badCert
	for i := 0; i < 2; i++ {
		if _, err := c.VerifyQuery(&bad, msg, 1); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("tampered parent via cache: %v", err)
		}
	}
	if _, err := c.VerifyQuery(sigs[0], msg, 1); err != nil {
		t.Fatal(err)
	}
}

func pk(p *keys.Pair) []byte { k := p.Public(); return k[:] }
