package tx

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

func alice(t testing.TB) *keys.Pair {
	t.Helper()
	p, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func sampleBody(p *keys.Pair, args []byte) Body {
	return Body{
		Version: Version1, Scheme: Sr25519, Signer: p.Public(),
		Genesis: [32]byte{1, 2, 3}, Nonce: 7, ValidUntil: 100,
		FeeLimit: scale.U128{Lo: 5, Hi: 1}, Call: Call{Module: 1, Method: 0, Args: args},
	}
}

func TestEncodingLayout(t *testing.T) {
	var pub keys.PublicKey
	for i := range pub {
		pub[i] = 0x11
	}
	tr := &Tx{Body: Body{
		Version: 1, Scheme: Sr25519, Signer: pub, Genesis: [32]byte{0xaa},
		Nonce: 0x0102, ValidUntil: 3, FeeLimit: scale.U128From(4),
		Call: Call{Module: 1, Method: 2, Args: []byte{0xde, 0xad}},
	}, Wrapping: WrapBytes}
	tr.Signature[0] = 0x77
	got := hex.EncodeToString(tr.Encode())
	want := "01" + "01" + hex.EncodeToString(pub[:]) +
		"aa" + "00000000000000000000000000000000000000000000000000000000000000" +
		"0201000000000000" + "0300000000000000" + "04000000000000000000000000000000" +
		"01" + "02" + "08dead" + "01" + "77" + hex.EncodeToString(make([]byte, 63))
	if got != want {
		t.Fatalf("encoding\n got %s\nwant %s", got, want)
	}
	// Signing payload: domain ‖ SCALE(body), short enough to be unhashed.
	p := tr.Body.SigningPayload()
	if !bytes.HasPrefix(p, []byte("cella/tx/v1")) || len(p) != len("cella/tx/v1")+bodyFixedLen+3 {
		t.Fatalf("payload %x", p)
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	p := alice(t)
	for _, n := range []int{0, 10, 256, 1000} { // short and prehashed payloads
		tr := Sign(sampleBody(p, make([]byte, n)), p)
		raw := tr.Encode()
		got, err := Decode(raw)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Verify() {
			t.Fatalf("args %d: signature does not verify", n)
		}
		if !bytes.Equal(got.Encode(), raw) {
			t.Fatal("re-encoding differs")
		}
		if Hash(raw) != hashing.Blake2b256(raw) {
			t.Fatal("hash")
		}
		payload := got.Body.SigningPayload()
		if n >= 200 && len(payload) != 32 {
			t.Fatalf("args %d: payload of %d bytes not prehashed", n, len(payload))
		}
		if n == 0 && len(payload) > MaxUnhashedPayload {
			t.Fatal("short payload hashed")
		}
		// Any change to the body breaks the signature.
		got.Body.Nonce++
		if got.Verify() {
			t.Fatal("signature survived a nonce change")
		}
	}
}

func TestPrehashBoundary(t *testing.T) {
	p := alice(t)
	base := len(SigningDomain) + bodyFixedLen
	for _, args := range []int{256 - base - 2, 256 - base - 1} {
		b := sampleBody(p, make([]byte, args)) // 1-byte length prefix for < 64, 2 for more
		w := scale.Writer{}
		w.Raw([]byte(SigningDomain))
		b.EncodeSCALE(&w)
		full := w.Bytes()
		got := b.SigningPayload()
		if len(full) <= 256 && !bytes.Equal(got, full) {
			t.Fatalf("%d bytes: hashed although ≤ 256", len(full))
		}
		if len(full) > 256 {
			h := hashing.Blake2b256(full)
			if !bytes.Equal(got, h[:]) {
				t.Fatalf("%d bytes: not hashed", len(full))
			}
		}
	}
}

func TestWrappedSignature(t *testing.T) {
	p := alice(t)
	tr := &Tx{Body: sampleBody(p, []byte{1}), Wrapping: WrapBytes}
	tr.Signature = p.Sign(keys.WrapBytes(tr.Body.SigningPayload()))
	got, err := Decode(tr.Encode())
	if err != nil || !got.Verify() {
		t.Fatalf("wrapped: %v", err)
	}
	got.Wrapping = WrapNone
	if got.Verify() {
		t.Fatal("wrapped signature verified unwrapped")
	}
}

func TestDecodeStrict(t *testing.T) {
	p := alice(t)
	raw := Sign(sampleBody(p, []byte{9, 9}), p).Encode()
	for n := 0; n < len(raw); n++ {
		if _, err := Decode(raw[:n]); !errors.Is(err, ErrMalformed) {
			t.Fatalf("truncated to %d: %v", n, err)
		}
	}
	if _, err := Decode(append(raw, 0)); !errors.Is(err, ErrMalformed) {
		t.Fatal("trailing byte accepted")
	}
	mut := func(i int, v byte) []byte { c := bytes.Clone(raw); c[i] = v; return c }
	for _, x := range []struct {
		raw  []byte
		want error
	}{
		{mut(0, 0), ErrUnsupportedVersion},
		{mut(0, 2), ErrUnsupportedVersion},
		{mut(1, 0), ErrUnsupportedScheme},
		{mut(1, 2), ErrUnsupportedScheme},
		{mut(1, 3), ErrUnsupportedScheme},
		{mut(len(raw)-65, 2), ErrUnsupportedWrapping},
		{make([]byte, MaxTxBytes+1), ErrOversize},
	} {
		if _, err := Decode(x.raw); !errors.Is(err, x.want) {
			t.Errorf("want %v, got %v", x.want, err)
		}
	}
	// Non-canonical compact length of Args.
	b := sampleBody(p, nil)
	w := scale.Writer{}
	b.Call.Args = nil
	b.EncodeSCALE(&w)
	enc := bytes.Clone(w.Bytes())
	enc = append(enc[:len(enc)-1], 0x01, 0x00) // two-byte form of length 0
	enc = append(enc, 0)
	enc = append(enc, make([]byte, 64)...)
	if _, err := Decode(enc); !errors.Is(err, ErrMalformed) {
		t.Fatalf("non-canonical length: %v", err)
	}
	// A max-size tx decodes.
	big := sampleBody(p, make([]byte, MaxTxBytes-bodyFixedLen-4-65))
	tr := &Tx{Body: big}
	enc = tr.Encode()
	if len(enc) != MaxTxBytes {
		t.Fatalf("len %d", len(enc))
	}
	if _, err := Decode(enc); err != nil {
		t.Fatal(err)
	}
	tr.Body.Call.Args = append(tr.Body.Call.Args, 0)
	if _, err := Decode(tr.Encode()); !errors.Is(err, ErrOversize) {
		t.Fatalf("one byte over: %v", err)
	}
}

func TestSignDefaults(t *testing.T) {
	p := alice(t)
	tr := Sign(Body{Nonce: 1}, p)
	if tr.Body.Version != Version1 || tr.Body.Scheme != Sr25519 || tr.Body.Signer != p.Public() || !tr.Verify() {
		t.Fatalf("%+v", tr.Body)
	}
	if Sr25519.String() != "sr25519" || Scheme(9).String() != "scheme(9)" {
		t.Fatal("scheme names")
	}
}

func FuzzDecode(f *testing.F) {
	p := alice(f)
	f.Add(Sign(sampleBody(p, []byte{1, 2, 3}), p).Encode())
	f.Add(Sign(sampleBody(p, make([]byte, 300)), p).Encode())
	f.Add([]byte{})
	f.Add([]byte{1, 1})
	f.Fuzz(func(t *testing.T, raw []byte) {
		tr, err := Decode(raw)
		if err != nil {
			if tr != nil {
				t.Fatal("tx with error")
			}
			return
		}
		// Strict decoding means a canonical encoding: re-encoding gives the input.
		if !bytes.Equal(tr.Encode(), raw) {
			t.Fatalf("re-encoding differs:\n%x\n%x", raw, tr.Encode())
		}
		_ = tr.Verify()
		_ = tr.SignedMessage()
	})
}

// TestWriteSeedCorpus regenerates the hand-made part of the checked-in seed
// corpus when CELLA_WRITE_SEEDS=1 (valid plain, wrapped and prehashed txs).
func TestWriteSeedCorpus(t *testing.T) {
	if os.Getenv("CELLA_WRITE_SEEDS") != "1" {
		t.Skip("set CELLA_WRITE_SEEDS=1 to rewrite testdata/fuzz/FuzzDecode/seed-*")
	}
	p := alice(t)
	wrapped := &Tx{Body: sampleBody(p, []byte{1}), Wrapping: WrapBytes}
	wrapped.Signature = p.Sign(keys.WrapBytes(wrapped.Body.SigningPayload()))
	seeds := map[string][]byte{
		"seed-plain":     Sign(sampleBody(p, []byte{0xd4, 0x35, 0x93, 0xc7, 4}), p).Encode(),
		"seed-wrapped":   wrapped.Encode(),
		"seed-prehashed": Sign(sampleBody(p, bytes.Repeat([]byte{7}, 300)), p).Encode(),
	}
	for name, raw := range seeds {
		content := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", raw)
		if err := os.WriteFile(filepath.Join("testdata", "fuzz", "FuzzDecode", name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
