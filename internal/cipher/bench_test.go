package cipher

import (
	"crypto/aes"
	stdcipher "crypto/cipher"
	"testing"

	"github.com/oasisprotocol/curve25519-voi/curve"
	"github.com/oasisprotocol/curve25519-voi/curve/scalar"
)

// Benchmarks of the envelope (ECDH agreement + AES-256-GCM of 1 KiB, with
// SCALE framing) against the raw primitives it is made of, measured in the
// same run: ristretto255 decompress + variable-base scalar multiplication +
// compress (curve25519-voi), and crypto/aes GCM set-up + seal/open. Run one
// core at a time:
//
//	go test ./internal/cipher -run '^$' -bench . -cpu 1
//
// and compare EnvelopeSeal1K with RawDH + RawGCMSeal1K (likewise Open).

const benchSize = 1024

func benchInputs(b *testing.B) (sender, receiver *EcdhKey, iv IV, pt []byte) {
	sender, receiver = testKeys(b)
	pt = make([]byte, benchSize)
	for i := range pt {
		pt[i] = byte(i)
	}
	copy(iv[:], "benchmark-iv")
	return sender, receiver, iv, pt
}

func BenchmarkEnvelopeSeal1K(b *testing.B) {
	sender, receiver, iv, pt := benchInputs(b)
	peer := receiver.Public()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		e, err := Encrypt(sender, peer, iv, pt)
		if err != nil {
			b.Fatal(err)
		}
		_ = e.Encode()
	}
}

func BenchmarkEnvelopeOpen1K(b *testing.B) {
	sender, receiver, iv, pt := benchInputs(b)
	e, err := Encrypt(sender, receiver.Public(), iv, pt)
	if err != nil {
		b.Fatal(err)
	}
	enc := e.Encode()
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := OpenEnvelope(receiver, enc); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAgree(b *testing.B) {
	sender, receiver, _, _ := benchInputs(b)
	peer := receiver.Public()
	for b.Loop() {
		if _, err := sender.Agree(peer); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRawDH is the bare ristretto255 Diffie-Hellman an agreement needs:
// decompress the peer's point, multiply, compress.
func BenchmarkRawDH(b *testing.B) {
	sender, receiver, _, _ := benchInputs(b)
	var s scalar.Scalar
	s.Set(sender.s.v)
	c := curve.CompressedRistretto(receiver.Public())
	var out curve.CompressedRistretto
	for b.Loop() {
		var p curve.RistrettoPoint
		if _, err := p.SetCompressed(&c); err != nil {
			b.Fatal(err)
		}
		p.Mul(&p, &s)
		out.SetRistrettoPoint(&p)
	}
}

// BenchmarkRawScalarMul is the variable-base scalar multiplication alone.
func BenchmarkRawScalarMul(b *testing.B) {
	sender, receiver, _, _ := benchInputs(b)
	c := curve.CompressedRistretto(receiver.Public())
	var p curve.RistrettoPoint
	if _, err := p.SetCompressed(&c); err != nil {
		b.Fatal(err)
	}
	var q curve.RistrettoPoint
	for b.Loop() {
		q.Mul(&p, sender.s.v)
	}
}

func rawGCM(b *testing.B, key []byte) stdcipher.AEAD {
	blk, err := aes.NewCipher(key)
	if err != nil {
		b.Fatal(err)
	}
	g, err := stdcipher.NewGCM(blk)
	if err != nil {
		b.Fatal(err)
	}
	return g
}

// BenchmarkRawGCMSeal1K sets up AES-256-GCM for a fresh key (each envelope
// has its own) and seals 1 KiB into a reused buffer.
func BenchmarkRawGCMSeal1K(b *testing.B) {
	_, _, iv, pt := benchInputs(b)
	key := make([]byte, 32)
	buf := make([]byte, 0, benchSize+TagSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		buf = rawGCM(b, key).Seal(buf[:0], iv[:], pt, nil)
	}
}

func BenchmarkRawGCMOpen1K(b *testing.B) {
	_, _, iv, pt := benchInputs(b)
	key := make([]byte, 32)
	ct := rawGCM(b, key).Seal(nil, iv[:], pt, nil)
	buf := make([]byte, 0, benchSize)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = rawGCM(b, key).Open(buf[:0], iv[:], ct, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEnvelopeVsRaw interleaves, in every iteration, the raw primitives
// (DH + fresh-key GCM) and the envelope doing the same job, timing each, so
// both see the same machine load; it reports both times and
// raw/envelope (1.0 = no overhead; the target is ≥ 0.9).
func BenchmarkEnvelopeVsRaw(b *testing.B) {
	sender, receiver, iv, pt := benchInputs(b)
	peer := receiver.Public()
	env, err := Encrypt(sender, peer, iv, pt)
	if err != nil {
		b.Fatal(err)
	}
	enc := env.Encode()
	senderScalar, receiverScalar := sender.s.v, receiver.s.v
	cPeer, cSender := curve.CompressedRistretto(peer), curve.CompressedRistretto(sender.Public())
	rawDH := func(c *curve.CompressedRistretto, s *scalar.Scalar) []byte {
		var p curve.RistrettoPoint
		if _, err := p.SetCompressed(c); err != nil {
			b.Fatal(err)
		}
		p.Mul(&p, s)
		var out curve.CompressedRistretto
		out.SetRistrettoPoint(&p)
		return out[:]
	}
	ct := env.Data
	buf := make([]byte, 0, benchSize+TagSize)
	for _, mode := range []string{"seal", "open"} {
		b.Run(mode, func(b *testing.B) {
			var rawNs, envNs int64
			raw := func() {
				if mode == "seal" {
					buf = rawGCM(b, rawDH(&cPeer, senderScalar)).Seal(buf[:0], iv[:], pt, nil)
					return
				}
				var err error
				if buf, err = rawGCM(b, rawDH(&cSender, receiverScalar)).Open(buf[:0], iv[:], ct, nil); err != nil {
					b.Fatal(err)
				}
			}
			wrapped := func() {
				if mode == "seal" {
					e, err := Encrypt(sender, peer, iv, pt)
					if err != nil {
						b.Fatal(err)
					}
					_ = e.Encode()
				} else if _, _, err := OpenEnvelope(receiver, enc); err != nil {
					b.Fatal(err)
				}
			}
			i := 0
			for b.Loop() {
				// Alternate which goes first, so neither gains from order.
				t0 := nanotime()
				if i%2 == 0 {
					raw()
				} else {
					wrapped()
				}
				t1 := nanotime()
				if i%2 == 0 {
					wrapped()
				} else {
					raw()
				}
				t2 := nanotime()
				if i%2 == 0 {
					rawNs += t1 - t0
					envNs += t2 - t1
				} else {
					envNs += t1 - t0
					rawNs += t2 - t1
				}
				i++
			}
			n := float64(b.N)
			b.ReportMetric(float64(rawNs)/n, "raw-ns/op")
			b.ReportMetric(float64(envNs)/n, "envelope-ns/op")
			b.ReportMetric(float64(rawNs)/float64(envNs), "raw/envelope")
		})
	}
}
