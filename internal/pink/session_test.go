package pink

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/scale"
)

func unhex(s string) []byte {
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		panic(err)
	}
	return b
}

type callCase struct {
	name   string
	mode   Mode
	id     uint32
	in     []byte
	status uint32
	out    []byte // exact output, when check is nil
	check  func(t *testing.T, out []byte)
	err    error // trap wanted (errors.Is)
}

func runCases(t *testing.T, r *testRig, cases []callCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := r.session(tc.mode)
			status, out, err := s.Call(newExt(), tc.id, tc.in)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected trap: %v", err)
			}
			if status != tc.status {
				t.Fatalf("status = %d, want %d", status, tc.status)
			}
			if tc.check != nil {
				tc.check(t, out)
			} else if !bytes.Equal(out, tc.out) {
				t.Fatalf("out = %x, want %x", out, tc.out)
			}
		})
	}
}

// Hand derivations of the SCALE byte vectors below (parity-scale-codec):
//   - Vec<u8>/&[u8]/String: compact length (n<<2 for n < 64, one byte;
//     n<<2|1 as u16 LE for n < 2^14) then the bytes.
//   - bool: 00/01. Option<T>: 00 | 01 ‖ T. Result<T,E>: 00 ‖ T | 01 ‖ E.
//   - enum without fields: one byte, the variant index.
//   - u16/u32/u64/u128: little-endian, fixed width. [u8; N]: N raw bytes.
//   - tuple/struct: fields in order, no framing. () is empty.
func TestCallSimpleFunctions(t *testing.T) {
	r := newRig()
	sys := testSystem
	// balance_of(account 0x03…): fake total = 103, free = 3 + 2^64.
	//   (u128, u128) = 67 00×15 ‖ 03 00×7 01 00×7
	acct := engine.AccountID{3}
	balanceOut := unhex("67000000000000000000000000000000" + "03000000000000000100000000000000")
	// current_event_chain_head() -> (u64, Hash) = (9, 42 00…)
	headOut := append(unhex("0900000000000000"), append([]byte{0x42}, make([]byte, 31)...)...)
	// worker_sgx_quote() -> Option<SgxQuote{attestation_type: Dcap (1), quote: [aa bb]}>
	//   = 01 (Some) ‖ 01 (Dcap) ‖ 08 (len 2) aa bb
	quoteOut := unhex("01 01 08 aabb")
	// js_eval(vec![JsCode::Source("1")], vec![]) input = 04 (1 code) 00 (Source) 04 31 ‖ 00
	jsIn := unhex("04 00 04 31 00")
	// JsValue::Exception("No js runtime") = 05 ‖ 34 (13<<2) ‖ bytes
	jsQueryOut := append([]byte{5, 13 << 2}, "No js runtime"...)
	// "Js evaluation is not supported in transaction" is 45 bytes: compact 45<<2 = b4.
	jsTxOut := append([]byte{5, 45 << 2}, "Js evaluation is not supported in transaction"...)
	codeIn := func(h byte, sidevm bool) []byte {
		return enc(func(w *scale.Writer) { w.Raw(append([]byte{h}, make([]byte, 31)...)); w.Bool(sidevm) })
	}
	cases := []callCase{
		{name: "is_in_transaction/query", mode: Query, id: FuncIsInTransaction, out: []byte{0}},
		{name: "is_in_transaction/tx", mode: Transaction, id: FuncIsInTransaction, out: []byte{1}},
		{name: "is_in_transaction/trailing", id: FuncIsInTransaction, in: []byte{0}, err: ErrDecode},
		{name: "system_contract_id", id: FuncSystemContractID, out: sys[:]},
		{name: "balance_of", id: FuncBalanceOf, in: acct[:], out: balanceOut},
		{name: "balance_of/tx", mode: Transaction, id: FuncBalanceOf, in: acct[:], out: balanceOut},
		{name: "balance_of/short", id: FuncBalanceOf, in: acct[:31], err: ErrDecode},
		{name: "worker_pubkey/query", id: FuncWorkerPubkey, out: append([]byte{0xee, 0xff}, make([]byte, 30)...)},
		{name: "worker_pubkey/tx", mode: Transaction, id: FuncWorkerPubkey, out: make([]byte, 32)},
		// 1_700_000_000_000 = 0x018BCFE56800
		{name: "untrusted_millis/query", id: FuncUntrustedMillis, out: unhex("0068e5cf8b010000")},
		{name: "untrusted_millis/tx", mode: Transaction, id: FuncUntrustedMillis, out: make([]byte, 8)},
		{name: "code_exists/yes", id: FuncCodeExists, in: codeIn(0xaa, false), out: []byte{1}},
		{name: "code_exists/no", mode: Transaction, id: FuncCodeExists, in: codeIn(0xbb, false), out: []byte{0}},
		{name: "code_exists/sidevm", id: FuncCodeExists, in: codeIn(0xaa, true), out: []byte{0}},
		{name: "code_exists/bad bool", id: FuncCodeExists, in: append(codeIn(0xaa, false)[:32], 2), err: ErrDecode},
		{name: "import_latest_system_code/not system", id: FuncImportLatestSystemCode, in: make([]byte, 32), err: ErrCall},
		{name: "runtime_version", id: FuncRuntimeVersion, out: unhex("01000000 02000000")},
		{name: "event_chain_head", mode: Transaction, id: FuncCurrentEventChainHead, out: headOut},
		{name: "js_eval/query", id: FuncJsEval, in: jsIn, out: jsQueryOut},
		{name: "js_eval/tx", mode: Transaction, id: FuncJsEval, in: jsIn, out: jsTxOut},
		{name: "js_eval/bad variant", id: FuncJsEval, in: unhex("04 02 00 00"), err: ErrDecode},
		{name: "js_eval/huge vec", id: FuncJsEval, in: unhex("fe ff ff ff"), err: ErrDecode},
		{name: "sgx_quote/query", id: FuncWorkerSgxQuote, out: quoteOut},
		{name: "sgx_quote/tx", mode: Transaction, id: FuncWorkerSgxQuote, out: []byte{0}},
		// getrandom(4): Vec<u8> = 10 (4<<2) ‖ 00 01 02 03 from countRand
		{name: "getrandom/query", id: FuncGetRandom, in: []byte{4}, out: unhex("10 00010203")},
		{name: "getrandom/tx", mode: Transaction, id: FuncGetRandom, in: []byte{4}, out: []byte{0}},
		{name: "getrandom/missing arg", id: FuncGetRandom, err: ErrDecode},
		// log(3, "hi") = 03 ‖ 08 68 69 -> ()
		{name: "log", id: FuncLog, in: unhex("03 08 6869"), out: nil},
		{name: "log/bad utf8", id: FuncLog, in: unhex("03 04 ff"), err: ErrDecode},
		{name: "log/len past end", id: FuncLog, in: unhex("03 fd ff ff ff 00"), err: ErrDecode},
		{name: "unknown function 0", id: 0, err: ErrUnknownFunction},
		{name: "unknown function 26", id: 26, err: ErrUnknownFunction},
		{name: "ink5 ext id 1", id: 1<<16 | FuncIsInTransaction, err: ErrUnknownExtension},
		{name: "old 0xff000001 id", id: 0xff000001, err: ErrUnknownExtension},
		{name: "ink5 ext id 0", id: 0<<16 | FuncIsInTransaction, out: []byte{0}},
	}
	runCases(t, r, cases)

	// import_latest_system_code from the system contract: None.
	s := r.session(Transaction)
	_, out, err := s.Call(&fakeExt{addr: testSystem, gas: 1 << 30}, FuncImportLatestSystemCode, make([]byte, 32))
	if err != nil || !bytes.Equal(out, []byte{0}) {
		t.Fatalf("import_latest_system_code(system) = %x, %v; want 00", out, err)
	}
	// No system contract: system_contract_id traps (Phala: SystemContractMissing).
	r.chain.sys = nil
	if _, _, err := r.session(Query).Call(newExt(), FuncSystemContractID, nil); !errors.Is(err, ErrCall) {
		t.Fatalf("system_contract_id without one: %v", err)
	}
	// The log reached the ring with its metadata.
	got := r.logs.Since(testContract, 0, 0)
	if len(got) != 1 || got[0].Message != "hi" || got[0].Level != LevelInfo || got[0].BlockNumber != 77 || got[0].Entry != testContract {
		t.Fatalf("logs = %+v", got)
	}
}

func TestLogLevels(t *testing.T) {
	r := newRig()
	for _, lv := range []byte{0, 1, 5, 6, 255} {
		if _, _, err := r.session(Transaction).Call(newExt(), FuncLog, []byte{lv, 0}); err != nil {
			t.Fatal(err)
		}
	}
	want := []LogLevel{LevelError, LevelError, LevelTrace, LevelError, LevelError}
	got := r.logs.Since(testContract, 0, 0)
	for i, e := range got {
		if e.Level != want[i] || e.Mode != Transaction {
			t.Fatalf("entry %d: level %d mode %v, want %d", i, e.Level, e.Mode, want[i])
		}
	}
}

func TestCacheFunctions(t *testing.T) {
	r := newRig()
	// cache_set(b"k", b"v") input = 04 6b ‖ 04 76
	setKV := unhex("04 6b 04 76")
	key := unhex("04 6b")
	runCases(t, r, []callCase{
		{name: "set", id: FuncCacheSet, in: setKV, out: nil},
		// Option<Vec<u8>> Some(b"v") = 01 04 76
		{name: "get", id: FuncCacheGet, in: key, out: unhex("01 04 76")},
		{name: "get/tx is None", mode: Transaction, id: FuncCacheGet, in: key, out: []byte{0}},
		{name: "get/missing", id: FuncCacheGet, in: unhex("04 6c"), out: []byte{0}},
		// cache_set_expiration(b"k", 60) = 04 6b ‖ 3c 00×7 -> ()
		{name: "set_expiration", id: FuncCacheSetExpiration, in: unhex("04 6b 3c00000000000000"), out: nil},
		{name: "set/trailing", id: FuncCacheSet, in: append(setKV, 0), err: ErrDecode},
		{name: "set/value past end", id: FuncCacheSet, in: unhex("04 6b 08 76"), err: ErrDecode},
	})
	// Quota: 1024 bytes per contract. A value of 1100 bytes does not fit:
	// status 1 (StorageQuotaExceeded), empty output.
	big := enc(func(w *scale.Writer) { w.BytesVec([]byte("k2")); w.BytesVec(make([]byte, 1100)) })
	st, out, err := r.session(Query).Call(newExt(), FuncCacheSet, big)
	if err != nil || st != 1 || len(out) != 0 {
		t.Fatalf("over-quota cache_set = %d %x %v; want status 1", st, out, err)
	}
	// The value set earlier is still there, and remove returns it.
	runCases(t, r, []callCase{
		{name: "remove/tx is None and deferred", mode: Transaction, id: FuncCacheRemove, in: key, out: []byte{0}},
		{name: "remove", id: FuncCacheRemove, in: key, out: unhex("01 04 76")},
		{name: "remove/again", id: FuncCacheRemove, in: key, out: []byte{0}},
	})
	// Expiry: set, then move the clock past 60 s after set_expiration.
	runCases(t, r, []callCase{
		{name: "set2", id: FuncCacheSet, in: setKV},
		{name: "expire in 60s", id: FuncCacheSetExpiration, in: unhex("04 6b 3c00000000000000")},
	})
	*r.clock += 61_000
	runCases(t, r, []callCase{{name: "get/expired", id: FuncCacheGet, in: key, out: []byte{0}}})
}

func TestDeferredCacheOps(t *testing.T) {
	r := newRig()
	s := r.session(Transaction)
	x := newExt()
	for _, c := range []struct {
		id uint32
		in []byte
	}{
		{FuncCacheSet, unhex("04 6b 04 76")},
		{FuncCacheSetExpiration, unhex("04 6b 0a00000000000000")},
		{FuncCacheRemove, unhex("04 6a")},
		{FuncCacheSet, unhex("04 6a 00")},
	} {
		st, _, err := s.Call(x, c.id, c.in)
		if err != nil || st != 0 {
			t.Fatalf("call %d: %d %v", c.id, st, err)
		}
	}
	// Nothing was applied.
	if _, ok := r.cache.Get(testContract, []byte("k")); ok {
		t.Fatal("transaction cache_set was applied immediately")
	}
	ops := s.DeferredCacheOps()
	want := []CacheOp{
		{Kind: CacheSet, Key: []byte("k"), Value: []byte("v")},
		{Kind: CacheSetExpiration, Key: []byte("k"), Expiration: 10},
		{Kind: CacheRemove, Key: []byte("j")},
		{Kind: CacheSet, Key: []byte("j"), Value: []byte{}},
	}
	if len(ops) != len(want) {
		t.Fatalf("ops = %+v", ops)
	}
	plain := make([]CacheOp, len(ops))
	for i, o := range ops {
		if o.Contract != testContract {
			t.Fatalf("op %d contract %x", i, o.Contract)
		}
		if o.Op.Kind != want[i].Kind || !bytes.Equal(o.Op.Key, want[i].Key) || !bytes.Equal(o.Op.Value, want[i].Value) || o.Op.Expiration != want[i].Expiration {
			t.Fatalf("op %d = %+v, want %+v", i, o.Op, want[i])
		}
		plain[i] = o.Op
	}
	ApplyDeferred(r.cache, ops)
	if v, ok := r.cache.Get(testContract, []byte("k")); !ok || string(v) != "v" {
		t.Fatalf("after apply: %q %v", v, ok)
	}
	if v, ok := r.cache.Get(testContract, []byte("j")); !ok || len(v) != 0 {
		t.Fatalf("after apply j: %q %v", v, ok)
	}
	*r.clock += 11_000
	if _, ok := r.cache.Get(testContract, []byte("k")); ok {
		t.Fatal("expiration op not applied")
	}
	// The deferred op round-trips through the PinkEvent::CacheOp encoding.
	data := EncodeCacheOp(plain[0])
	if !bytes.Equal(data, unhex("05 00 04 6b 04 76")) {
		t.Fatalf("EncodeCacheOp = %x", data)
	}
}

func TestSignFunctions(t *testing.T) {
	r := newRig()
	// sign(Sr25519, key, msg) in a transaction: Vec::new() = 00 (Phala's
	// CallInTransaction), without looking at the key.
	srTx := enc(func(w *scale.Writer) { w.U8(1); w.BytesVec([]byte{1}); w.BytesVec([]byte("m")) })
	runCases(t, r, []callCase{
		{name: "sign/sr25519/tx empty", mode: Transaction, id: FuncSign, in: srTx, out: []byte{0}},
		{name: "sign/sr25519/bad key", id: FuncSign, in: srTx, err: ErrCall},
		{name: "sign/bad sigtype", id: FuncSign, in: unhex("03 00 00"), err: ErrDecode},
		{name: "sign/ed25519/bad key", mode: Transaction, id: FuncSign, in: unhex("00 04 01 00"), err: ErrCall},
		{name: "sign/ecdsa/zero key", mode: Transaction, id: FuncSign, in: enc(func(w *scale.Writer) { w.U8(2); w.BytesVec(make([]byte, 32)); w.BytesVec(nil) }), err: ErrCall},
		{name: "verify/short pubkey", id: FuncVerify, in: enc(func(w *scale.Writer) {
			w.U8(1)
			w.BytesVec(make([]byte, 31))
			w.BytesVec(nil)
			w.BytesVec(make([]byte, 64))
		}), err: ErrCall},
		{name: "verify/short sig", id: FuncVerify, in: enc(func(w *scale.Writer) {
			w.U8(0)
			w.BytesVec(make([]byte, 32))
			w.BytesVec(nil)
			w.BytesVec(make([]byte, 63))
		}), err: ErrCall},
		{name: "verify/ecdsa zero sig false", id: FuncVerify, in: enc(func(w *scale.Writer) {
			w.U8(2)
			w.BytesVec(make([]byte, 33))
			w.BytesVec(nil)
			w.BytesVec(make([]byte, 65))
		}), out: []byte{0}},
		{name: "get_public_key/ecdsa/bad", id: FuncGetPublicKey, in: unhex("02 00"), err: ErrCall},
		{name: "derive/no salt arg", id: FuncDeriveSr25519Key, err: ErrDecode},
		{name: "ecdsa_sign_prehashed/short hash", id: FuncEcdsaSignPrehashed, in: append(enc(func(w *scale.Writer) { w.BytesVec(make([]byte, 32)) }), make([]byte, 31)...), err: ErrDecode},
		{name: "ecdsa_verify_prehashed/zero", id: FuncEcdsaVerifyPrehashed, in: make([]byte, 65+32+33), out: []byte{0}},
		{name: "ecdsa_verify_prehashed/trailing", id: FuncEcdsaVerifyPrehashed, in: make([]byte, 65+32+34), err: ErrDecode},
	})
	// Without a cluster key derive traps (Phala: KeySeedMissing).
	env := *r.env
	env.ClusterKey = nil
	if _, _, err := NewSession(&env, Exec{Mode: Query}).Call(newExt(), FuncDeriveSr25519Key, []byte{0}); !errors.Is(err, ErrCall) {
		t.Fatalf("derive without key: %v", err)
	}
}

func TestGasCharged(t *testing.T) {
	r := newRig()
	in := enc(func(w *scale.Writer) { w.U8(0); w.BytesVec(make([]byte, 32)); w.BytesVec(make([]byte, 100)) })
	x := newExt()
	if _, _, err := r.session(Transaction).Call(x, FuncSign, in); err != nil {
		t.Fatal(err)
	}
	g := DefaultGas
	// base + input bytes + ed25519 sign + hashed message + output: a
	// Vec<u8> of 64 bytes, whose compact length 64 takes two bytes (01 01).
	want := g.Base + g.PerByte*uint64(len(in)) + g.Ed25519Sign + g.HashPerByte*100 + g.PerByte*66
	if x.used != want {
		t.Fatalf("gas used %d, want %d", x.used, want)
	}
	// Out of gas traps with the engine's error.
	x = &fakeExt{addr: testContract, gas: g.Base + 10}
	if _, _, err := r.session(Transaction).Call(x, FuncSign, in); !errors.Is(err, engine.ErrOutOfGas) {
		t.Fatalf("out of gas: %v", err)
	}
}

// response encodes HttpResponse for the expected outputs.
func response(status uint16, reason string, headers []Header, body string) []byte {
	return encResponse(HTTPResponse{StatusCode: status, ReasonPhrase: reason, Headers: headers, Body: []byte(body)})
}

func httpIn(url string) []byte {
	return enc(func(w *scale.Writer) {
		w.String(url)
		w.String("GET")
		w.Compact(1)
		w.String("X-A")
		w.String("b")
		w.BytesVec([]byte("body"))
	})
}

func TestHTTPRequest(t *testing.T) {
	r := newRig()
	r.http.resp["https://ok/"] = HTTPResponse{StatusCode: 200, ReasonPhrase: "OK", Headers: []Header{{"A", "b"}, {"Bad", "\xff"}}, Body: []byte("hi")}
	r.http.resp["https://big/"] = HTTPResponse{StatusCode: 200, Body: make([]byte, MaxResponseBody+1)}
	for e := ErrInvalidURL; e <= ErrTooManyHeaders; e++ {
		r.http.errs["https://err/"+e.Name()] = e
	}
	// HttpResponse{523, "API Unavailable", [], "HTTP request is not supported in transaction"}
	//   = 0b02 ‖ 3c "API Unavailable" ‖ 00 ‖ b0 (44<<2) body
	txOut := append(append(unhex("0b02 3c"), "API Unavailable"...), append(unhex("00 b0"), "HTTP request is not supported in transaction"...)...)
	if !bytes.Equal(txOut, response(523, "API Unavailable", nil, "HTTP request is not supported in transaction")) {
		t.Fatal("hand-derived tx response differs from the encoder")
	}
	// 200 "OK" [("A","b"), ("Bad","")] "hi" = c800 ‖ 08 4f4b ‖ 08 ‖ 04 41 04 62 ‖ 0c 426164 00 ‖ 08 6869
	okOut := unhex("c800 08 4f4b 08 0441 0462 0c426164 00 08 6869")
	cases := []callCase{
		{name: "tx", mode: Transaction, id: FuncHTTPRequest, in: httpIn("https://ok/"), out: txOut},
		{name: "ok", id: FuncHTTPRequest, in: httpIn("https://ok/"), out: okOut},
		{name: "unreachable", id: FuncHTTPRequest, in: httpIn("https://down/"), out: response(523, "Unreachable", nil, "dial tcp: connection refused")},
		{name: "too large", id: FuncHTTPRequest, in: httpIn("https://big/"), out: response(524, "IO Error", nil, "ResponseTooLarge")},
		{name: "sidevm", id: FuncHTTPRequest, in: httpIn("sidevm://" + strings.Repeat("ab", 32)), out: response(500, "Internal Server Error", nil, sidevmUnsupportedBody)},
		{name: "sidevm bad", id: FuncHTTPRequest, in: httpIn("sidevm://zz"), err: ErrCall},
		{name: "bad utf8 url", id: FuncHTTPRequest, in: unhex("04 ff 00 00 00"), err: ErrDecode},
		{name: "header count past end", id: FuncHTTPRequest, in: unhex("00 00 fdffffff"), err: ErrDecode},
	}
	for e := ErrInvalidURL; e <= ErrTooManyHeaders; e++ {
		c := callCase{name: "error " + e.Name(), id: FuncHTTPRequest, in: httpIn("https://err/" + e.Name())}
		if e <= ErrTimeout { // runtime-1.0 errors trap
			c.err = ErrCall
		} else { // later ones: 524 "IO Error" with the variant name
			c.out = response(524, "IO Error", nil, e.Name())
		}
		cases = append(cases, c)
	}
	runCases(t, r, cases)
	// The client got the request as decoded.
	got := r.http.calls[0]
	if got.URL != "https://ok/" || got.Method != "GET" || len(got.Headers) != 1 || got.Headers[0] != (Header{"X-A", "b"}) || string(got.Body) != "body" {
		t.Fatalf("request = %+v", got)
	}
	// An expired context is Timeout: a trap.
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(1, 0))
	defer cancel()
	s := NewSession(r.env, Exec{Mode: Query, Ctx: ctx, Chain: r.chain})
	if _, _, err := s.Call(newExt(), FuncHTTPRequest, httpIn("https://ok/")); !errors.Is(err, ErrCall) || !strings.Contains(err.Error(), "Timeout") {
		t.Fatalf("expired query: %v", err)
	}
	// No client: unreachable.
	env := *r.env
	env.HTTP = nil
	st, out, err := NewSession(&env, Exec{Mode: Query}).Call(newExt(), FuncHTTPRequest, httpIn("https://ok/"))
	if err != nil || st != 0 || !bytes.HasPrefix(out, unhex("0b02")) {
		t.Fatalf("no client: %d %x %v", st, out, err)
	}
}

func batchIn(timeout uint64, urls ...string) []byte {
	return enc(func(w *scale.Writer) {
		w.Compact(uint64(len(urls)))
		for _, u := range urls {
			w.String(u)
			w.String("GET")
			w.Compact(0)
			w.BytesVec(nil)
		}
		w.U64(timeout)
	})
}

func TestBatchHTTPRequest(t *testing.T) {
	r := newRig()
	r.http.resp["https://ok/"] = HTTPResponse{StatusCode: 200, ReasonPhrase: "OK", Body: []byte("hi")}
	for e := ErrInvalidURL; e <= ErrTooManyHeaders; e++ {
		r.http.errs["https://err/"+e.Name()] = e
	}
	ok := response(200, "OK", nil, "hi")
	cases := []callCase{
		// Err(NotAllowed): status 6+1 = 7, no output.
		{name: "tx", mode: Transaction, id: FuncBatchHTTPRequest, in: batchIn(1000, "https://ok/"), status: 7},
		{name: "too many", id: FuncBatchHTTPRequest, in: batchIn(1000, "a", "b", "c", "d", "e", "f"), status: 8},
		// Ok(vec![Ok(resp), Err(InvalidUrl), Ok(523 …)]) = 0c ‖ 00 resp ‖ 01 00 ‖ 00 resp523
		{name: "mixed", id: FuncBatchHTTPRequest, in: batchIn(1000, "https://ok/", "https://err/InvalidUrl", "https://down/"),
			out: append(append(append([]byte{0x0c, 0}, ok...), 1, 0, 0), response(523, "Unreachable", nil, "dial tcp: connection refused")...)},
		// timeout_ms 0: every request is Err(Timeout) = 01 05.
		{name: "zero timeout", id: FuncBatchHTTPRequest, in: batchIn(0, "https://ok/", "https://ok/"), out: unhex("08 0105 0105")},
		{name: "empty", id: FuncBatchHTTPRequest, in: batchIn(10), out: []byte{0}},
		// The requests do not finish within timeout + 200 ms: Err(Timeout), status 6.
		{name: "overall timeout", id: FuncBatchHTTPRequest, in: batchIn(1, "block://x"), status: 0, check: func(t *testing.T, out []byte) {
			// block:// returns ctx.Err() at its own 1 ms deadline: 523, not the batch timeout.
			if !bytes.HasPrefix(out, unhex("04 00 0b02")) {
				t.Fatalf("out = %x", out)
			}
		}},
		{name: "truncated", id: FuncBatchHTTPRequest, in: batchIn(1, "x")[:8], err: ErrDecode},
		{name: "count past end", id: FuncBatchHTTPRequest, in: unhex("fdffffff"), err: ErrDecode},
	}
	for e := ErrInvalidURL; e <= ErrTooManyHeaders; e++ {
		cases = append(cases, callCase{name: "error " + e.Name(), id: FuncBatchHTTPRequest,
			in: batchIn(1000, "https://err/"+e.Name()), out: []byte{4, 1, byte(e)}})
	}
	runCases(t, r, cases)
}

// stuckHTTP ignores its context, so that only the batch's own timer ends
// the wait.
type stuckHTTP struct{ release chan struct{} }

func (h stuckHTTP) Do(ctx context.Context, req HTTPRequest) (HTTPResponse, error) {
	<-h.release
	return HTTPResponse{}, nil
}

func TestBatchOverallTimeout(t *testing.T) {
	r := newRig()
	h := stuckHTTP{release: make(chan struct{})}
	defer close(h.release)
	r.env.HTTP = h
	st, out, err := r.session(Query).Call(newExt(), FuncBatchHTTPRequest, batchIn(1, "https://x/"))
	if err != nil || st != ErrTimeout.Code() || len(out) != 0 {
		t.Fatalf("= %d %x %v; want status 6", st, out, err)
	}
}
