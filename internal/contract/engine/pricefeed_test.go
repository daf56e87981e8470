package engine

import (
	"bytes"
	"context"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"testing"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"golang.org/x/crypto/blake2b"

	"github.com/cella-network/cella/internal/contract/metadata"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/scale"
)

// Selectors of testcontracts/pricefeed.wat.
const (
	pfNew        = "9bae9d5e"
	pfSetURL     = "4075c526"
	pfURL        = "aeeee2bc"
	pfFetchPrice = "5ed23f04"
	pfVerify     = "1860ff3b"
	pfPubkey     = "a2f448a4"
)

// pfError is the SCALE variant index of the contract's Error.
const (
	pfHTTPStatus = iota
	pfBadBody
	pfNotInQuery
	pfNotOwner
	pfBadURL
	pfSigningFailed
)

const pfURLString = "https://127.0.0.1:8443/price"

// fakeHeader is an HTTP header as pink encodes it: (String, String).
type fakeHeader struct{ name, value string }

// fakeRequest is a decoded pink HttpRequest.
type fakeRequest struct {
	url, method string
	headers     []fakeHeader
	body        []byte
}

// fakePink is a small stand-in for Phala's pink chain extension with ids 1
// (http_request), 2 (sign), 3 (verify), 4 (derive_sr25519_key), 5
// (get_public_key) and 12 (is_in_transaction), decoding its input as
// strictly as the pink runtime (a malformed input is an error, which traps
// the contract) and signing with real sr25519 (signing context "substrate",
// as sp_core).
type fakePink struct {
	inTx     bool
	status   uint16
	reason   string
	headers  []fakeHeader
	body     []byte
	requests []fakeRequest
	ids      []uint32
}

var errFake = errors.New("fake pink: bad input")

func (p *fakePink) Call(x ExtContext, id uint32, in []byte) (uint32, []byte, error) {
	p.ids = append(p.ids, id)
	r := scale.NewReader(in)
	w := scale.NewWriter(64)
	switch id {
	case 1:
		var q fakeRequest
		q.url = r.String()
		q.method = r.String()
		q.headers = scale.ReadVec(r, 2, func(r *scale.Reader) fakeHeader { return fakeHeader{r.String(), r.String()} })
		q.body = r.BytesVec()
		if r.Finish() != nil {
			return 0, nil, errFake
		}
		p.requests = append(p.requests, q)
		w.U16(p.status)
		w.String(p.reason)
		scale.WriteVec(w, p.headers, func(w *scale.Writer, h fakeHeader) { w.String(h.name); w.String(h.value) })
		w.BytesVec(p.body)
	case 2:
		sigType, key, msg := r.U8(), r.BytesVec(), r.BytesVec()
		if r.Finish() != nil || sigType != 1 {
			return 0, nil, errFake
		}
		if p.inTx { // pink: sr25519 signing in a transaction yields nothing
			w.BytesVec(nil)
			break
		}
		sk, err := fakeSecret(key)
		if err != nil {
			return 0, nil, err
		}
		sig, err := sk.Sign(schnorrkel.NewSigningContext([]byte("substrate"), msg))
		if err != nil {
			return 0, nil, err
		}
		b := sig.Encode()
		w.BytesVec(b[:])
	case 3:
		sigType, pub, msg, sig := r.U8(), r.BytesVec(), r.BytesVec(), r.BytesVec()
		if r.Finish() != nil || sigType != 1 || len(pub) != 32 || len(sig) != 64 {
			return 0, nil, errFake
		}
		w.Bool(pfSrVerify([32]byte(pub), msg, [64]byte(sig)))
	case 4:
		salt := r.BytesVec()
		if r.Finish() != nil {
			return 0, nil, errFake
		}
		addr := x.Address()
		w.BytesVec(fakeDerive(addr[:], salt))
	case 5:
		sigType, key := r.U8(), r.BytesVec()
		if r.Finish() != nil || sigType != 1 {
			return 0, nil, errFake
		}
		sk, err := fakeSecret(key)
		if err != nil {
			return 0, nil, err
		}
		pub, err := sk.Public()
		if err != nil {
			return 0, nil, err
		}
		b := pub.Encode()
		w.BytesVec(b[:])
	case 12:
		if len(in) != 0 {
			return 0, nil, errFake
		}
		w.Bool(p.inTx)
	default:
		return 0, nil, fmt.Errorf("fake pink: unknown function %d", id)
	}
	return 0, w.Bytes(), nil
}

// fakeDerive derives a 64-byte sr25519 secret (key ‖ nonce) from the
// contract address and the salt.
func fakeDerive(addr, salt []byte) []byte {
	mini := blake2b.Sum256(append(append([]byte(nil), addr...), salt...))
	ms, err := schnorrkel.NewMiniSecretKeyFromRaw(mini)
	if err != nil {
		panic(err)
	}
	key := ms.ExpandEd25519().Encode()
	h := sha512.Sum512(mini[:])
	return append(key[:], h[32:]...)
}

func fakeSecret(key []byte) (*schnorrkel.SecretKey, error) {
	if len(key) != 64 {
		return nil, errFake
	}
	return schnorrkel.NewSecretKey([32]byte(key[:32]), [32]byte(key[32:])), nil
}

func pfSrVerify(pub [32]byte, msg []byte, sig [64]byte) bool {
	pk, err := schnorrkel.NewPublicKey(pub)
	if err != nil {
		return false
	}
	var s schnorrkel.Signature
	if s.Decode(sig) != nil {
		return false
	}
	ok, err := pk.Verify(&s, schnorrkel.NewSigningContext([]byte("substrate"), msg))
	return err == nil && ok
}

func scaleString(s string) []byte {
	w := scale.NewWriter(len(s) + 4)
	w.String(s)
	return w.Bytes()
}

// pfMessage is the message the contract signs: SCALE((price, block, url)).
func pfMessage(price scale.U128, block uint32, url string) []byte {
	w := scale.NewWriter(64)
	w.U128(price)
	w.U32(block)
	w.String(url)
	return w.Bytes()
}

func newPricefeed(t testing.TB) (*env, *fakePink, AccountID) {
	t.Helper()
	v := newEnv(t, Config{})
	ext := &fakePink{status: 200, reason: "OK"}
	v.h.Extension = ext
	addr := v.deploy("pricefeed", cat(sel(pfNew), scaleString(pfURLString)))
	return v, ext, addr
}

func (v *env) callAs(caller AccountID, dest AccountID, input []byte) *Outcome {
	return v.e.Call(context.Background(), v.h, CallRequest{Caller: caller, Dest: dest, Input: input, GasLimit: gasLimit})
}

// signedPrice is a decoded Ok(Ok(SignedPrice)).
type signedPrice struct {
	price  scale.U128
	block  uint32
	sig    []byte
	pubkey [32]byte
}

func decodeSignedPrice(t *testing.T, data []byte) signedPrice {
	t.Helper()
	r := scale.NewReader(data)
	if !r.Result() || !r.Result() {
		t.Fatalf("not Ok(Ok(_)): %x", data)
	}
	var sp signedPrice
	sp.price = r.U128()
	sp.block = r.U32()
	sp.sig = r.BytesVec()
	r.Fixed(sp.pubkey[:])
	if err := r.Finish(); err != nil {
		t.Fatalf("SignedPrice %x: %v", data, err)
	}
	return sp
}

func u128Dec(t *testing.T, s string) scale.U128 {
	t.Helper()
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		t.Fatalf("bad number %q", s)
	}
	v, err := scale.U128FromBig(b)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestPricefeedValidatesWithoutFloats(t *testing.T) {
	v := newEnv(t, Config{}) // the transaction policy
	if _, err := v.e.Validate(testcontracts.Wasm("pricefeed")); err != nil {
		t.Fatalf("pricefeed rejected: %v", err)
	}
}

func TestPricefeedFetchPrice(t *testing.T) {
	cases := []struct {
		body  string
		price string // 8 decimals
	}{
		{`{"symbol":"BTC","price":"64123.45"}`, "6412345000000"},
		{`{"price": 64123.45}`, "6412345000000"},
		{`{"price":64123}`, "6412300000000"},
		{`{"price":"64123"}`, "6412300000000"},
		{`{"price" :  "0.00000001" }`, "1"},
		{`{"price":0.123456789}`, "12345678"}, // the 9th decimal is dropped
		{"{\n\t\"price\":\r\n 1.5\n}", "150000000"},
		{`{"price":12.5,"other":1}`, "1250000000"},
		{`[{"price":7}]`, "700000000"},
		{`{"price":7`, "700000000"}, // number ends at the end of the body
		{`{"name":"price","price":"3"}`, "300000000"},
		{`{"price":"000042.10"}`, "4210000000"},
		{`{"price":"123456789012345678901234567890.12345678"}`, "12345678901234567890123456789012345678"},
	}
	v, ext, addr := newPricefeed(t)
	for i, c := range cases {
		ext.body = []byte(c.body)
		o := v.call(addr, sel(pfFetchPrice))
		if !o.Success() {
			t.Fatalf("case %d %s: err=%v flags=%d data=%x", i, c.body, o.Err, o.Flags, o.Data)
		}
		sp := decodeSignedPrice(t, o.Data)
		if want := u128Dec(t, c.price); sp.price != want {
			t.Fatalf("case %d %s: price %s, want %s", i, c.body, sp.price, want)
		}
		if sp.block != v.h.Env.BlockNumber {
			t.Fatalf("case %d: block %d", i, sp.block)
		}
		msg := pfMessage(sp.price, sp.block, pfURLString)
		if len(sp.sig) != 64 || !pfSrVerify(sp.pubkey, msg, [64]byte(sp.sig)) {
			t.Fatalf("case %d: signature %x does not verify over %x with %x", i, sp.sig, msg, sp.pubkey)
		}
		// The same signature over another price or block must not verify.
		bad := pfMessage(sp.price, sp.block+1, pfURLString)
		if pfSrVerify(sp.pubkey, bad, [64]byte(sp.sig)) {
			t.Fatalf("case %d: signature verifies over another block", i)
		}
	}
	// The request: GET url with accept: application/json and no body.
	q := ext.requests[len(ext.requests)-1]
	if q.url != pfURLString || q.method != "GET" || len(q.body) != 0 ||
		len(q.headers) != 1 || q.headers[0] != (fakeHeader{"accept", "application/json"}) {
		t.Fatalf("request: %+v", q)
	}
	// The public key is the one derived for the contract with b"pricefeed".
	sk, _ := fakeSecret(fakeDerive(addr[:], []byte("pricefeed")))
	pub, _ := sk.Public()
	want := pub.Encode()
	o := v.call(addr, sel(pfPubkey))
	if !o.Success() || !bytes.Equal(o.Data, append([]byte{0}, want[:]...)) {
		t.Fatalf("pubkey: %+v, want 00%x", o, want)
	}
	if sp := decodeSignedPrice(t, v.call(addr, sel(pfFetchPrice)).Data); sp.pubkey != want {
		t.Fatalf("fetch_price pubkey %x, want %x", sp.pubkey, want)
	}
}

func TestPricefeedBadBodies(t *testing.T) {
	bodies := []string{
		``,
		`garbage`,
		`{"symbol":"BTC"}`,
		`{"price":null}`,
		`{"price":"abc"}`,
		`{"price":-1}`,
		`{"price":"64123.45}`, // unterminated quote
		`{"price":64123.45"}`, // stray quote
		`{"price":6.4e4}`,     // exponent
		`{"price":.5}`,        // no integer digits
		`{"price":5.}`,        // no decimals after the point
		`{"price":"1 2"}`,     // space inside a quoted number
		`{"price":12abc}`,     // junk after the number
		`{"price_usd":1}`,     // another key
		`{"Price":1}`,         // keys are case-sensitive
		`{"price" 1}`,         // no colon
		`{"price":"1234567890123456789012345678901"}`, // 31 integer digits
		`"price"`,
		`"price":`,
	}
	v, ext, addr := newPricefeed(t)
	for i, b := range bodies {
		ext.body = []byte(b)
		o := v.call(addr, sel(pfFetchPrice))
		if !o.Reverted() || !bytes.Equal(o.Data, []byte{0, 1, pfBadBody}) {
			t.Fatalf("case %d %q: err=%v flags=%d data=%x, want Ok(Err(BadBody)) reverted", i, b, o.Err, o.Flags, o.Data)
		}
	}
}

func TestPricefeedHTTPStatus(t *testing.T) {
	v, ext, addr := newPricefeed(t)
	for _, st := range []uint16{404, 500, 523, 201} {
		ext.status, ext.reason = st, "Nope"
		ext.headers = []fakeHeader{{"content-type", "application/json"}, {"x-a", "b"}}
		ext.body = []byte(`{"price":"1"}`)
		o := v.call(addr, sel(pfFetchPrice))
		want := []byte{0, 1, pfHTTPStatus, byte(st), byte(st >> 8)}
		if !o.Reverted() || !bytes.Equal(o.Data, want) {
			t.Fatalf("status %d: err=%v flags=%d data=%x want %x", st, o.Err, o.Flags, o.Data, want)
		}
	}
	// Response headers do not confuse the decoder on success either.
	ext.status = 200
	o := v.call(addr, sel(pfFetchPrice))
	if !o.Success() || decodeSignedPrice(t, o.Data).price != scale.U128From(100_000_000) {
		t.Fatalf("200 with headers: %+v", o)
	}
}

func TestPricefeedNotInQuery(t *testing.T) {
	v, ext, addr := newPricefeed(t)
	ext.inTx = true
	ext.body = []byte(`{"price":1}`)
	o := v.call(addr, sel(pfFetchPrice))
	if !o.Reverted() || !bytes.Equal(o.Data, []byte{0, 1, pfNotInQuery}) {
		t.Fatalf("in transaction: %+v", o)
	}
	if len(ext.requests) != 0 {
		t.Fatalf("http_request made in a transaction")
	}
}

func TestPricefeedVerify(t *testing.T) {
	v, ext, addr := newPricefeed(t)
	ext.body = []byte(`{"price":"64123.45"}`)
	sp := decodeSignedPrice(t, v.call(addr, sel(pfFetchPrice)).Data)
	verify := func(price scale.U128, block uint32, sig []byte) *Outcome {
		w := scale.NewWriter(128)
		w.Raw(sel(pfVerify))
		w.U128(price)
		w.U32(block)
		w.BytesVec(sig)
		return v.call(addr, w.Bytes())
	}
	flipped := append([]byte(nil), sp.sig...)
	flipped[10] ^= 1
	cases := []struct {
		name  string
		price scale.U128
		block uint32
		sig   []byte
		want  byte
	}{
		{"genuine", sp.price, sp.block, sp.sig, 1},
		{"other price", scale.U128From(sp.price.Lo + 1), sp.block, sp.sig, 0},
		{"other block", sp.price, sp.block + 1, sp.sig, 0},
		{"flipped bit", sp.price, sp.block, flipped, 0},
		{"short", sp.price, sp.block, sp.sig[:63], 0},
		{"empty", sp.price, sp.block, nil, 0},
	}
	for _, c := range cases {
		o := verify(c.price, c.block, c.sig)
		if !o.Success() || !bytes.Equal(o.Data, []byte{0, c.want}) {
			t.Fatalf("%s: err=%v flags=%d data=%x want 00%02x", c.name, o.Err, o.Flags, o.Data, c.want)
		}
	}
	// Truncated input: LangError::CouldNotReadInput.
	w := scale.NewWriter(64)
	w.Raw(sel(pfVerify))
	w.U128(sp.price)
	w.U32(sp.block)
	w.Compact(64)
	w.Raw(sp.sig[:10])
	if o := v.call(addr, w.Bytes()); !o.Reverted() || hex.EncodeToString(o.Data) != "0101" {
		t.Fatalf("truncated verify: %+v", o)
	}
	// After set_url the old signature no longer verifies: the url is signed.
	if o := v.call(addr, cat(sel(pfSetURL), scaleString("https://example.com/p"))); !o.Success() {
		t.Fatalf("set_url: %+v", o)
	}
	if o := verify(sp.price, sp.block, sp.sig); !bytes.Equal(o.Data, []byte{0, 0}) {
		t.Fatalf("verify after set_url: %+v", o)
	}
}

func TestPricefeedURLAndOwner(t *testing.T) {
	v, ext, addr := newPricefeed(t)
	url := func() []byte { return v.call(addr, sel(pfURL)).Data }
	if want := append([]byte{0}, scaleString(pfURLString)...); !bytes.Equal(url(), want) {
		t.Fatalf("url() = %x, want %x", url(), want)
	}
	// A non-owner is refused and nothing changes.
	o := v.callAs(bob, addr, cat(sel(pfSetURL), scaleString("https://evil.example/p")))
	if !o.Reverted() || !bytes.Equal(o.Data, []byte{0, 1, pfNotOwner}) {
		t.Fatalf("set_url by bob: %+v", o)
	}
	if want := append([]byte{0}, scaleString(pfURLString)...); !bytes.Equal(url(), want) {
		t.Fatalf("url changed by a non-owner: %x", url())
	}
	// The owner may change it; the next fetch uses the new url (with a
	// two-byte compact length).
	long := "https://example.com/" + string(bytes.Repeat([]byte("a"), 100))
	if o := v.call(addr, cat(sel(pfSetURL), scaleString(long))); !o.Success() || !bytes.Equal(o.Data, []byte{0, 0}) {
		t.Fatalf("set_url by owner: %+v", o)
	}
	if want := append([]byte{0}, scaleString(long)...); !bytes.Equal(url(), want) {
		t.Fatalf("url() = %x, want %x", url(), want)
	}
	ext.body = []byte(`{"price":2}`)
	o = v.call(addr, sel(pfFetchPrice))
	sp := decodeSignedPrice(t, o.Data)
	if ext.requests[0].url != long || !pfSrVerify(sp.pubkey, pfMessage(sp.price, sp.block, long), [64]byte(sp.sig)) {
		t.Fatalf("fetch after set_url: url %q", ext.requests[0].url)
	}
	// Bad urls: empty and too long are Err(BadUrl); not UTF-8 or truncated
	// input is CouldNotReadInput.
	bad := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", scaleString(""), "000104"},
		{"too long", scaleString(string(bytes.Repeat([]byte("a"), 2049))), "000104"},
		{"not utf-8", scaleString("https://a/\xff"), "0101"},
		{"surrogate", scaleString("https://a/\xed\xa0\x80"), "0101"},
		{"overlong", scaleString("https://a/\xc0\xaf"), "0101"},
		{"cut rune", scaleString("https://a/\xe2\x82"), "0101"},
		{"truncated", scaleString("https://a/")[:5], "0101"},
		{"no arg", nil, "0101"},
		{"big compact", []byte{0x03, 1, 2, 3, 4}, "0101"},
		{"non-canonical", []byte{0x01, 0x00}, "0101"},
	}
	for _, c := range bad {
		o := v.call(addr, cat(sel(pfSetURL), c.in))
		if !o.Reverted() || hex.EncodeToString(o.Data) != c.want {
			t.Fatalf("set_url %s: err=%v flags=%d data=%x want %s", c.name, o.Err, o.Flags, o.Data, c.want)
		}
		h := v.upload("pricefeed")
		d := v.e.Instantiate(context.Background(), v.h, InstantiateRequest{Caller: alice, CodeHash: h,
			Input: cat(sel(pfNew), c.in), Salt: []byte(c.name), GasLimit: gasLimit})
		if !d.Reverted() || hex.EncodeToString(d.Data) != c.want {
			t.Fatalf("new %s: err=%v flags=%d data=%x want %s", c.name, d.Err, d.Flags, d.Data, c.want)
		}
	}
	// Valid multi-byte UTF-8 is accepted.
	if o := v.call(addr, cat(sel(pfSetURL), scaleString("https://ex.com/€/𝄞/é"))); !o.Success() {
		t.Fatalf("set_url utf-8: %+v", o)
	}
	if o := v.call(addr, sel("deadbeef")); !o.Reverted() || hex.EncodeToString(o.Data) != "0101" {
		t.Fatalf("unknown selector: %+v", o)
	}
}

// The metadata describes the types well enough for cella contract
// query/encode/decode: encode new's argument and decode fetch_price's answer.
func TestPricefeedMetadata(t *testing.T) {
	m, err := metadata.Parse(testcontracts.Metadata("pricefeed"))
	if err != nil {
		t.Fatal(err)
	}
	_, in, err := m.EncodeExpr(`new("`+pfURLString+`")`, true)
	if err != nil || !bytes.Equal(in, cat(sel(pfNew), scaleString(pfURLString))) {
		t.Fatalf("encode new: %x %v", in, err)
	}
	for name, s := range map[string]string{"set_url": pfSetURL, "url": pfURL, "fetch_price": pfFetchPrice, "verify": pfVerify, "pubkey": pfPubkey} {
		msg, err := m.Message(name)
		if err != nil || hex.EncodeToString(msg.Selector[:]) != s {
			t.Fatalf("%s: selector %x, want %s (%v)", name, msg.Selector, s, err)
		}
	}
	v, ext, addr := newPricefeed(t)
	ext.body = []byte(`{"price":"64123.45"}`)
	fetch, _ := m.Message("fetch_price")
	out, err := m.DecodeResult(fetch, v.call(addr, sel(pfFetchPrice)).Data)
	if err != nil || !bytes.Contains(out, []byte(`"price":6412345000000`)) || !bytes.Contains(out, []byte(`"block":7`)) {
		t.Fatalf("decode fetch_price: %s %v", out, err)
	}
	ext.status = 404
	out, err = m.DecodeResult(fetch, v.call(addr, sel(pfFetchPrice)).Data)
	if err != nil || !bytes.Contains(out, []byte("HttpStatus")) || !bytes.Contains(out, []byte("404")) {
		t.Fatalf("decode 404: %s %v", out, err)
	}
	_, in, err = m.EncodeExpr(`verify(1, 2, "0x0102")`, false)
	if err != nil || !bytes.Equal(in, cat(sel(pfVerify), u128le(1), []byte{2, 0, 0, 0, 8, 1, 2})) {
		t.Fatalf("encode verify: %x %v", in, err)
	}
}

// A response that does not fit the contract's 64 KiB buffer traps it
// (OutputBufferTooSmall), as an ink! contract's 16 KiB buffer would.
func TestPricefeedResponseTooLarge(t *testing.T) {
	v, ext, addr := newPricefeed(t)
	ext.body = append([]byte(`{"price":1,"pad":"`), bytes.Repeat([]byte("x"), 64<<10)...)
	if o := v.call(addr, sel(pfFetchPrice)); !errors.Is(o.Err, ErrOutputBufferTooSmall) {
		t.Fatalf("oversized response: %+v", o)
	}
	ext.body = ext.body[:60<<10]
	if o := v.call(addr, sel(pfFetchPrice)); !o.Success() {
		t.Fatalf("60 KiB response: %+v", o)
	}
}

// refPrice is the documented body grammar in Go: the first `"price"` that
// is followed by ':' (whitespace around it allowed), an optional '"',
// digits (at most 30 significant), optionally '.' and at least one digit
// (only the first 8 count), then the closing '"' or, unquoted, the end of
// the body, whitespace, ',', '}' or ']'.
func refPrice(b []byte) (*big.Int, bool) {
	ws := func(i int) int {
		for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
			i++
		}
		return i
	}
	digits := func(i int) int {
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i
	}
	for i := 0; i+7 <= len(b); i++ {
		if string(b[i:i+7]) != `"price"` {
			continue
		}
		q := ws(i + 7)
		if q >= len(b) || b[q] != ':' {
			continue
		}
		p := ws(q + 1)
		quoted := p < len(b) && b[p] == '"'
		if quoted {
			p++
		}
		e := digits(p)
		intPart := strings.TrimLeft(string(b[p:e]), "0")
		if e == p || len(intPart) > 30 {
			return nil, false
		}
		frac := ""
		if e < len(b) && b[e] == '.' {
			f := digits(e + 1)
			if f == e+1 {
				return nil, false
			}
			frac, e = string(b[e+1:f]), f
		}
		if len(frac) > 8 {
			frac = frac[:8]
		}
		switch {
		case quoted && (e >= len(b) || b[e] != '"'):
			return nil, false
		case !quoted && e < len(b) && !strings.ContainsRune(" \t\n\r,}]", rune(b[e])):
			return nil, false
		}
		v, _ := new(big.Int).SetString("0"+intPart+frac+strings.Repeat("0", 8-len(frac)), 10)
		return v, true
	}
	return nil, false
}

// FuzzPricefeedBody runs fetch_price on arbitrary bodies: the contract must
// never trap and must agree with refPrice, and every price it returns must
// carry a valid signature.
func FuzzPricefeedBody(f *testing.F) {
	for _, s := range []string{`{"price":"64123.45"}`, `{"price": 1}`, `"price":007.123456789`, `{"price":"1e5"}`,
		`"price" : "9"`, `{"a":"price","price":[1]}`, `"price":.`, "\"price\":\xff"} {
		f.Add([]byte(s))
	}
	v, ext, addr := newPricefeed(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 8<<10 {
			return
		}
		ext.body = body
		o := v.call(addr, sel(pfFetchPrice))
		want, ok := refPrice(body)
		if !ok {
			if !o.Reverted() || !bytes.Equal(o.Data, []byte{0, 1, pfBadBody}) {
				t.Fatalf("%q: err=%v flags=%d data=%x, want BadBody", body, o.Err, o.Flags, o.Data)
			}
			return
		}
		if !o.Success() {
			t.Fatalf("%q: err=%v flags=%d data=%x, want %s", body, o.Err, o.Flags, o.Data, want)
		}
		sp := decodeSignedPrice(t, o.Data)
		if sp.price.Big().Cmp(want) != 0 {
			t.Fatalf("%q: price %s, want %s", body, sp.price, want)
		}
		if !pfSrVerify(sp.pubkey, pfMessage(sp.price, sp.block, pfURLString), [64]byte(sp.sig)) {
			t.Fatalf("%q: bad signature", body)
		}
	})
}
