;; pricefeed: a Phat-contract price oracle in the ink! 4 ABI that uses Phala's
;; pink chain extension (extension id 0) through seal0.call_chain_extension.
;;
;; Constructor: new(url: String) -> Result<Self, Error>         0x9bae9d5e
;; Messages:    set_url(url: String) -> Result<(), Error>        0x4075c526 (owner only)
;;              url() -> String                                  0xaeeee2bc
;;              fetch_price() -> Result<SignedPrice, Error>      0x5ed23f04 (query)
;;              verify(price: u128, block: u32, signature: Vec<u8>) -> bool  0x1860ff3b
;;              pubkey() -> [u8; 32]                             0xa2f448a4
;; SignedPrice { price: u128, block: u32, signature: Vec<u8>, pubkey: [u8; 32] }.
;; Error: 0 HttpStatus(u16), 1 BadBody, 2 NotInQuery, 3 NotOwner, 4 BadUrl,
;; 5 SigningFailed. Results wrap in Result<_, LangError>; an Err sets REVERT.
;;
;; Storage (seal1/seal2 variable keys): 0x00000000 -> SCALE(String) url,
;; 0x01000000 -> owner AccountId. A url is 1..2048 bytes of valid UTF-8.
;;
;; Pink calls (function id = func_id, ext id 0; input is the SCALE tuple of
;; the arguments, output the SCALE return value; none of these functions uses
;; the status code, which is ignored as ink! does with handle_status = false):
;;   1  http_request(HttpRequest{url, "GET", [("accept","application/json")], []}) -> HttpResponse
;;   2  sign(SigType::Sr25519 = 0x01, key: &[u8], message: &[u8]) -> Vec<u8>
;;   3  verify(0x01, pubkey: &[u8], message: &[u8], signature: &[u8]) -> bool
;;   4  derive_sr25519_key(salt = b"pricefeed") -> Vec<u8>
;;   5  get_public_key(0x01, key: &[u8]) -> Vec<u8>
;;   12 is_in_transaction() -> bool
;; The signed message is SCALE((price: u128, block: u32, url: String)).
;;
;; The price is read from the first "price" key of the JSON body followed by
;; ':' (whitespace allowed), an optional '"', digits, optionally '.' and
;; digits; decimals beyond the 8th are dropped (rounding toward zero). The
;; result is a u128 with 8 decimals; at most 30 significant integer digits.
;; The whole SCALE HttpResponse must fit in 64 KiB; a larger one traps the
;; contract (OutputBufferTooSmall), as ink!'s 16 KiB buffer would.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "seal0" "caller" (func $caller (param i32 i32)))
  (import "seal0" "block_number" (func $block_number (param i32 i32)))
  (import "seal1" "get_storage" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "call_chain_extension" (func $chain_ext (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 2 16))

  ;; Memory map:
  ;;   0x0000 length cell           0x0010 storage key (4 bytes)
  ;;   0x0020 block number (u32)    0x0040 caller (32)     0x0060 owner (32)
  ;;   0x0100 input     (cap 0x1000)
  ;;   0x1100 stored url, SCALE String (cap 0x1000)
  ;;   0x2100 derived key, SCALE Vec<u8> (cap 0x100)
  ;;   0x2200 public key output (cap 0x100)
  ;;   0x2300 signature output (cap 0x100)
  ;;   0x2400 bool output (cap 0x10)
  ;;   0x2500 seal_return output (cap 0x200)
  ;;   0x2800 constant data
  ;;   0x3000 extension input (cap 0x2000)
  ;;   0x5000 message to sign/verify (cap 0x1100)
  ;;  0x10000 http_request output (cap 0x10000)
  (global $cur (mut i32) (i32.const 0))
  (global $plo (mut i64) (i64.const 0))
  (global $phi (mut i64) (i64.const 0))

  ;; 0x2800: salt b"pricefeed" as SCALE &[u8] (compact 9 = 0x24).
  (data (i32.const 0x2800) "\24pricefeed")
  ;; 0x2810: "GET", headers [("accept", "application/json")], body [] as the
  ;; tail of an HttpRequest after its url (30 bytes = 0x1e).
  (data (i32.const 0x2810) "\0cGET\04\18accept\40application/json\00")

  (func $read_input (result i32)
    (i32.store (i32.const 0) (i32.const 0x1000))
    (call $input (i32.const 0x100) (i32.const 0))
    (i32.load (i32.const 0)))

  (func $bad_input
    (i32.store16 (i32.const 0x2500) (i32.const 0x0101))
    (call $return (i32.const 1) (i32.const 0x2500) (i32.const 2)))

  ;; Ok(Ok(())): 00 00.
  (func $ok_ok_unit
    (i32.store16 (i32.const 0x2500) (i32.const 0))
    (call $return (i32.const 0) (i32.const 0x2500) (i32.const 2)))

  ;; Ok(Err(Error::<variant>)) for variants without fields, reverted.
  (func $err (param $variant i32)
    (i32.store16 (i32.const 0x2500) (i32.const 0x0100))
    (i32.store8 (i32.const 0x2502) (local.get $variant))
    (call $return (i32.const 1) (i32.const 0x2500) (i32.const 3)))

  (func $memcpy (param $dst i32) (param $src i32) (param $n i32)
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (i32.store8 (local.get $dst) (i32.load8_u (local.get $src)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 1)))
        (local.set $src (i32.add (local.get $src) (i32.const 1)))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l))))

  ;; Decodes a canonical SCALE compact < 2^30 at $p (not reading at or past
  ;; $end); sets $cur past it. Returns -1 when it is truncated, too large or
  ;; not canonical.
  (func $compact (param $p i32) (param $end i32) (result i32)
    (local $b i32) (local $v i32)
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const -1))))
    (local.set $b (i32.and (i32.load8_u (local.get $p)) (i32.const 3)))
    (if (i32.eqz (local.get $b))
      (then
        (global.set $cur (i32.add (local.get $p) (i32.const 1)))
        (return (i32.shr_u (i32.load8_u (local.get $p)) (i32.const 2)))))
    (if (i32.eq (local.get $b) (i32.const 1))
      (then
        (if (i32.gt_u (i32.add (local.get $p) (i32.const 2)) (local.get $end)) (then (return (i32.const -1))))
        (local.set $v (i32.shr_u (i32.load16_u (local.get $p)) (i32.const 2)))
        (if (i32.lt_u (local.get $v) (i32.const 64)) (then (return (i32.const -1))))
        (global.set $cur (i32.add (local.get $p) (i32.const 2)))
        (return (local.get $v))))
    (if (i32.eq (local.get $b) (i32.const 2))
      (then
        (if (i32.gt_u (i32.add (local.get $p) (i32.const 4)) (local.get $end)) (then (return (i32.const -1))))
        (local.set $v (i32.shr_u (i32.load (local.get $p)) (i32.const 2)))
        (if (i32.lt_u (local.get $v) (i32.const 16384)) (then (return (i32.const -1))))
        (global.set $cur (i32.add (local.get $p) (i32.const 4)))
        (return (local.get $v))))
    (i32.const -1))

  ;; Decodes a SCALE byte string (compact length ‖ bytes) at $p within $end;
  ;; returns its length and sets $cur to its first byte, or -1.
  (func $bytes (param $p i32) (param $end i32) (result i32)
    (local $n i32)
    (local.set $n (call $compact (local.get $p) (local.get $end)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.gt_u (local.get $n) (i32.sub (local.get $end) (global.get $cur))) (then (return (i32.const -1))))
    (local.get $n))

  ;; Writes v (< 2^30) as a SCALE compact at $p; returns the end.
  (func $put_compact (param $p i32) (param $v i32) (result i32)
    (if (i32.lt_u (local.get $v) (i32.const 64))
      (then
        (i32.store8 (local.get $p) (i32.shl (local.get $v) (i32.const 2)))
        (return (i32.add (local.get $p) (i32.const 1)))))
    (if (i32.lt_u (local.get $v) (i32.const 16384))
      (then
        (i32.store16 (local.get $p) (i32.or (i32.shl (local.get $v) (i32.const 2)) (i32.const 1)))
        (return (i32.add (local.get $p) (i32.const 2)))))
    (i32.store (local.get $p) (i32.or (i32.shl (local.get $v) (i32.const 2)) (i32.const 2)))
    (i32.add (local.get $p) (i32.const 4)))

  ;; Reports whether the $n bytes at $p are well-formed UTF-8 (no overlongs,
  ;; no surrogates, nothing above U+10FFFF), as Rust's String requires.
  (func $utf8_ok (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $b i32) (local $k i32) (local $lo i32) (local $hi i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $b (i32.load8_u (local.get $p)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get $b) (i32.const 0x80)))
        ;; $k continuation bytes; the first must be in [$lo, $hi].
        (local.set $lo (i32.const 0x80))
        (local.set $hi (i32.const 0xbf))
        (if (i32.lt_u (local.get $b) (i32.const 0xc2)) (then (return (i32.const 0))))
        (if (i32.gt_u (local.get $b) (i32.const 0xf4)) (then (return (i32.const 0))))
        (local.set $k (i32.const 1))
        (if (i32.ge_u (local.get $b) (i32.const 0xe0)) (then (local.set $k (i32.const 2))))
        (if (i32.ge_u (local.get $b) (i32.const 0xf0)) (then (local.set $k (i32.const 3))))
        (if (i32.eq (local.get $b) (i32.const 0xe0)) (then (local.set $lo (i32.const 0xa0))))
        (if (i32.eq (local.get $b) (i32.const 0xed)) (then (local.set $hi (i32.const 0x9f))))
        (if (i32.eq (local.get $b) (i32.const 0xf0)) (then (local.set $lo (i32.const 0x90))))
        (if (i32.eq (local.get $b) (i32.const 0xf4)) (then (local.set $hi (i32.const 0x8f))))
        (if (i32.gt_u (local.get $k) (i32.sub (local.get $end) (local.get $p))) (then (return (i32.const 0))))
        (local.set $b (i32.load8_u (local.get $p)))
        (if (i32.or (i32.lt_u (local.get $b) (local.get $lo)) (i32.gt_u (local.get $b) (local.get $hi)))
          (then (return (i32.const 0))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (block $conts
          (loop $c
            (br_if $conts (i32.eqz (local.get $k)))
            (if (i32.ne (i32.and (i32.load8_u (local.get $p)) (i32.const 0xc0)) (i32.const 0x80))
              (then (return (i32.const 0))))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (local.set $k (i32.sub (local.get $k) (i32.const 1)))
            (br $c)))
        (br $l)))
    (i32.const 1))

  ;; Decodes the url argument (a SCALE String) at 0x104 of an input ending at
  ;; $end. Returns the length of its encoding (compact ‖ bytes), -1 when the
  ;; input cannot be decoded (not UTF-8 included, as ink! would), or -2 when
  ;; the url is empty or longer than 2048 bytes.
  (func $url_arg (param $end i32) (result i32)
    (local $n i32)
    (local.set $n (call $bytes (i32.const 0x104) (local.get $end)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (return (i32.const -1))))
    (if (i32.eqz (call $utf8_ok (global.get $cur) (local.get $n))) (then (return (i32.const -1))))
    (if (i32.or (i32.eqz (local.get $n)) (i32.gt_u (local.get $n) (i32.const 2048)))
      (then (return (i32.const -2))))
    (i32.sub (i32.add (global.get $cur) (local.get $n)) (i32.const 0x104)))

  (func $save_url (param $len i32)
    (i32.store (i32.const 0x10) (i32.const 0))
    (drop (call $set (i32.const 0x10) (i32.const 4) (i32.const 0x104) (local.get $len))))

  ;; Loads the stored url (its SCALE String encoding) to 0x1100; returns its
  ;; length.
  (func $load_url (result i32)
    (i32.store (i32.const 0x10) (i32.const 0))
    (i32.store (i32.const 0) (i32.const 0x1000))
    (if (call $get (i32.const 0x10) (i32.const 4) (i32.const 0x1100) (i32.const 0)) (then (unreachable)))
    (i32.load (i32.const 0)))

  ;; Calls pink function $id with input ($in, $n) and output to $out of
  ;; capacity $cap; returns the output length. The status is ignored.
  (func $ext (param $id i32) (param $in i32) (param $n i32) (param $out i32) (param $cap i32) (result i32)
    (i32.store (i32.const 0) (local.get $cap))
    (drop (call $chain_ext (local.get $id) (local.get $in) (local.get $n) (local.get $out) (i32.const 0)))
    (i32.load (i32.const 0)))

  ;; Reports whether the $n output bytes at $p are exactly one SCALE Vec<u8>
  ;; of $want bytes ($want = -1: any length).
  (func $vec_ok (param $p i32) (param $n i32) (param $want i32) (result i32)
    (local $len i32) (local $end i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (local.set $len (call $bytes (local.get $p) (local.get $end)))
    (if (i32.lt_s (local.get $len) (i32.const 0)) (then (return (i32.const 0))))
    (if (i32.ne (i32.add (global.get $cur) (local.get $len)) (local.get $end)) (then (return (i32.const 0))))
    (i32.or (i32.eq (local.get $want) (i32.const -1)) (i32.eq (local.get $len) (local.get $want))))

  ;; derive_sr25519_key(b"pricefeed") into 0x2100 (SCALE Vec<u8>, which is
  ;; also the encoding of the key argument of sign and get_public_key);
  ;; returns its encoded length, 0 when the output is not a non-empty Vec.
  (func $derive (result i32)
    (local $n i32)
    (local.set $n (call $ext (i32.const 4) (i32.const 0x2800) (i32.const 10) (i32.const 0x2100) (i32.const 0x100)))
    (if (i32.eqz (call $vec_ok (i32.const 0x2100) (local.get $n) (i32.const -1))) (then (return (i32.const 0))))
    (if (i32.eq (global.get $cur) (i32.add (i32.const 0x2100) (local.get $n))) (then (return (i32.const 0))))
    (local.get $n))

  ;; get_public_key(Sr25519, key) with the derived key of length $klen at
  ;; 0x2100; the public key is at 0x2201. Returns 0 unless it is 32 bytes.
  (func $pubkey (param $klen i32) (result i32)
    (local $n i32)
    (i32.store8 (i32.const 0x3000) (i32.const 1))
    (call $memcpy (i32.const 0x3001) (i32.const 0x2100) (local.get $klen))
    (local.set $n (call $ext (i32.const 5) (i32.const 0x3000) (i32.add (local.get $klen) (i32.const 1))
      (i32.const 0x2200) (i32.const 0x100)))
    (call $vec_ok (i32.const 0x2200) (local.get $n) (i32.const 32)))

  ;; Derives the key and its public key; returns the key's encoded length,
  ;; or 0 when the extension's answers have an unexpected shape.
  (func $keys (result i32)
    (local $klen i32)
    (local.set $klen (call $derive))
    (if (i32.eqz (local.get $klen)) (then (return (i32.const 0))))
    (if (i32.eqz (call $pubkey (local.get $klen))) (then (return (i32.const 0))))
    (local.get $klen))

  ;; Writes the message SCALE((price, block, url)) to 0x5000 from the price
  ;; at $price (16 bytes), the block at $block (4 bytes) and the stored url
  ;; of encoded length $ulen at 0x1100; returns its length.
  (func $message (param $price i32) (param $block i32) (param $ulen i32) (result i32)
    (i64.store (i32.const 0x5000) (i64.load (local.get $price)))
    (i64.store (i32.const 0x5008) (i64.load offset=8 (local.get $price)))
    (i32.store (i32.const 0x5010) (i32.load (local.get $block)))
    (call $memcpy (i32.const 0x5014) (i32.const 0x1100) (local.get $ulen))
    (i32.add (local.get $ulen) (i32.const 20)))

  ;; v = v * 10 + d on the u128 ($plo, $phi).
  (func $mul10add (param $d i64)
    (local $alo i64) (local $ahi i64) (local $blo i64) (local $bhi i64) (local $slo i64) (local $shi i64)
    (local.set $alo (i64.shl (global.get $plo) (i64.const 1)))
    (local.set $ahi (i64.or (i64.shl (global.get $phi) (i64.const 1)) (i64.shr_u (global.get $plo) (i64.const 63))))
    (local.set $blo (i64.shl (global.get $plo) (i64.const 3)))
    (local.set $bhi (i64.or (i64.shl (global.get $phi) (i64.const 3)) (i64.shr_u (global.get $plo) (i64.const 61))))
    (local.set $slo (i64.add (local.get $alo) (local.get $blo)))
    (local.set $shi (i64.add (i64.add (local.get $ahi) (local.get $bhi))
      (i64.extend_i32_u (i64.lt_u (local.get $slo) (local.get $alo)))))
    (global.set $plo (i64.add (local.get $slo) (local.get $d)))
    (global.set $phi (i64.add (local.get $shi)
      (i64.extend_i32_u (i64.lt_u (global.get $plo) (local.get $slo))))))

  (func $is_ws (param $c i32) (result i32)
    (i32.or (i32.or (i32.eq (local.get $c) (i32.const 0x20)) (i32.eq (local.get $c) (i32.const 0x09)))
            (i32.or (i32.eq (local.get $c) (i32.const 0x0a)) (i32.eq (local.get $c) (i32.const 0x0d)))))

  (func $skip_ws (param $p i32) (param $end i32) (result i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (br_if $done (i32.eqz (call $is_ws (i32.load8_u (local.get $p)))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l)))
    (local.get $p))

  ;; Parses the number at $p (< $end) into ($plo, $phi) with 8 decimals.
  ;; Returns 1 on success, 0 when it is not a number as documented above.
  (func $number (param $p i32) (param $end i32) (result i32)
    (local $quoted i32) (local $c i32) (local $d i32) (local $sig i32) (local $nint i32)
    (local $nd i32) (local $nfrac i32)
    (global.set $plo (i64.const 0))
    (global.set $phi (i64.const 0))
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x22))
          (then
            (local.set $quoted (i32.const 1))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))))))
    ;; integer part
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
        (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x30)))
        (br_if $done (i32.gt_u (local.get $d) (i32.const 9)))
        (if (i32.or (local.get $sig) (local.get $d))
          (then (local.set $sig (i32.add (local.get $sig) (i32.const 1)))))
        (if (i32.gt_u (local.get $sig) (i32.const 30)) (then (return (i32.const 0))))
        (call $mul10add (i64.extend_i32_u (local.get $d)))
        (local.set $nint (i32.add (local.get $nint) (i32.const 1)))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l)))
    (if (i32.eqz (local.get $nint)) (then (return (i32.const 0))))
    ;; fraction
    (if (i32.lt_u (local.get $p) (local.get $end))
      (then
        (if (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x2e))
          (then
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (block $fdone
              (loop $f
                (br_if $fdone (i32.ge_u (local.get $p) (local.get $end)))
                (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 0x30)))
                (br_if $fdone (i32.gt_u (local.get $d) (i32.const 9)))
                (if (i32.lt_u (local.get $nd) (i32.const 8))
                  (then
                    (call $mul10add (i64.extend_i32_u (local.get $d)))
                    (local.set $nd (i32.add (local.get $nd) (i32.const 1)))))
                (local.set $nfrac (i32.add (local.get $nfrac) (i32.const 1)))
                (local.set $p (i32.add (local.get $p) (i32.const 1)))
                (br $f)))
            (if (i32.eqz (local.get $nfrac)) (then (return (i32.const 0))))))))
    (block $sdone
      (loop $s
        (br_if $sdone (i32.ge_u (local.get $nd) (i32.const 8)))
        (call $mul10add (i64.const 0))
        (local.set $nd (i32.add (local.get $nd) (i32.const 1)))
        (br $s)))
    ;; terminator
    (if (local.get $quoted)
      (then
        (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 0))))
        (return (i32.eq (i32.load8_u (local.get $p)) (i32.const 0x22)))))
    (if (i32.ge_u (local.get $p) (local.get $end)) (then (return (i32.const 1))))
    (local.set $c (i32.load8_u (local.get $p)))
    (i32.or (call $is_ws (local.get $c))
      (i32.or (i32.eq (local.get $c) (i32.const 0x2c))
        (i32.or (i32.eq (local.get $c) (i32.const 0x7d)) (i32.eq (local.get $c) (i32.const 0x5d))))))

  ;; Finds the first `"price"` followed by ':' in the $n bytes at $p and
  ;; parses the number after it. Returns 1 with the price in ($plo, $phi).
  (func $parse_price (param $p i32) (param $n i32) (result i32)
    (local $end i32) (local $q i32)
    (local.set $end (i32.add (local.get $p) (local.get $n)))
    (block $notfound
      (loop $l
        (br_if $notfound (i32.gt_u (i32.add (local.get $p) (i32.const 7)) (local.get $end)))
        (if (i32.and
              (i32.eq (i32.load (local.get $p)) (i32.const 0x69727022))             ;; "pri
              (i32.and
                (i32.eq (i32.load16_u offset=4 (local.get $p)) (i32.const 0x6563)) ;; ce
                (i32.eq (i32.load8_u offset=6 (local.get $p)) (i32.const 0x22))))  ;; "
          (then
            (local.set $q (call $skip_ws (i32.add (local.get $p) (i32.const 7)) (local.get $end)))
            (if (i32.lt_u (local.get $q) (local.get $end))
              (then
                (if (i32.eq (i32.load8_u (local.get $q)) (i32.const 0x3a))
                  (then
                    (return (call $number
                      (call $skip_ws (i32.add (local.get $q) (i32.const 1)) (local.get $end))
                      (local.get $end)))))))))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))
        (br $l)))
    (i32.const 0))

  ;; Skips a SCALE String at $p within $end; returns the position after it.
  (func $skip_string (param $p i32) (param $end i32) (result i32)
    (local $n i32)
    (local.set $n (call $bytes (local.get $p) (local.get $end)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (unreachable)))
    (i32.add (global.get $cur) (local.get $n)))

  (func $fetch_price
    (local $n i32) (local $p i32) (local $end i32) (local $k i32) (local $ulen i32)
    (local $klen i32) (local $mlen i32) (local $status i32) (local $blen i32)
    ;; is_in_transaction() -> bool
    (local.set $n (call $ext (i32.const 12) (i32.const 0x3000) (i32.const 0) (i32.const 0x2400) (i32.const 0x10)))
    (if (i32.or (i32.ne (local.get $n) (i32.const 1)) (i32.gt_u (i32.load8_u (i32.const 0x2400)) (i32.const 1)))
      (then (unreachable)))
    (if (i32.load8_u (i32.const 0x2400)) (then (call $err (i32.const 2))))
    ;; http_request(HttpRequest { url, "GET", [("accept", "application/json")], [] })
    (local.set $ulen (call $load_url))
    (call $memcpy (i32.const 0x3000) (i32.const 0x1100) (local.get $ulen))
    (call $memcpy (i32.add (i32.const 0x3000) (local.get $ulen)) (i32.const 0x2810) (i32.const 0x1e))
    (local.set $n (call $ext (i32.const 1) (i32.const 0x3000) (i32.add (local.get $ulen) (i32.const 0x1e))
      (i32.const 0x10000) (i32.const 0x10000)))
    ;; HttpResponse { status_code: u16, reason_phrase: String,
    ;;                headers: Vec<(String, String)>, body: Vec<u8> }
    (if (i32.lt_u (local.get $n) (i32.const 2)) (then (unreachable)))
    (local.set $end (i32.add (i32.const 0x10000) (local.get $n)))
    (local.set $status (i32.load16_u (i32.const 0x10000)))
    (local.set $p (call $skip_string (i32.const 0x10002) (local.get $end)))
    (local.set $k (call $compact (local.get $p) (local.get $end)))
    (if (i32.lt_s (local.get $k) (i32.const 0)) (then (unreachable)))
    (local.set $p (global.get $cur))
    (block $hdone
      (loop $h
        (br_if $hdone (i32.eqz (local.get $k)))
        (local.set $p (call $skip_string (call $skip_string (local.get $p) (local.get $end)) (local.get $end)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $h)))
    (local.set $blen (call $bytes (local.get $p) (local.get $end)))
    (if (i32.lt_s (local.get $blen) (i32.const 0)) (then (unreachable)))
    (if (i32.ne (i32.add (global.get $cur) (local.get $blen)) (local.get $end)) (then (unreachable)))
    (if (i32.ne (local.get $status) (i32.const 200))
      (then ;; Ok(Err(Error::HttpStatus(status)))
        (i32.store16 (i32.const 0x2500) (i32.const 0x0100))
        (i32.store8 (i32.const 0x2502) (i32.const 0))
        (i32.store16 (i32.const 0x2503) (local.get $status))
        (call $return (i32.const 1) (i32.const 0x2500) (i32.const 5))))
    (if (i32.eqz (call $parse_price (global.get $cur) (local.get $blen))) (then (call $err (i32.const 1))))
    ;; Ok(Ok(SignedPrice { price, block, signature, pubkey })) at 0x2500
    (i32.store16 (i32.const 0x2500) (i32.const 0))
    (i64.store (i32.const 0x2502) (global.get $plo))
    (i64.store (i32.const 0x250a) (global.get $phi))
    (i32.store (i32.const 0) (i32.const 4))
    (call $block_number (i32.const 0x20) (i32.const 0))
    (i32.store (i32.const 0x2512) (i32.load (i32.const 0x20)))
    (local.set $klen (call $keys))
    (if (i32.eqz (local.get $klen)) (then (call $err (i32.const 5))))
    (local.set $mlen (call $message (i32.const 0x2502) (i32.const 0x20) (local.get $ulen)))
    ;; sign(Sr25519, key, message) -> Vec<u8>
    (i32.store8 (i32.const 0x3000) (i32.const 1))
    (call $memcpy (i32.const 0x3001) (i32.const 0x2100) (local.get $klen))
    (local.set $p (call $put_compact (i32.add (i32.const 0x3001) (local.get $klen)) (local.get $mlen)))
    (call $memcpy (local.get $p) (i32.const 0x5000) (local.get $mlen))
    (local.set $p (i32.add (local.get $p) (local.get $mlen)))
    (local.set $n (call $ext (i32.const 2) (i32.const 0x3000) (i32.sub (local.get $p) (i32.const 0x3000))
      (i32.const 0x2300) (i32.const 0x100)))
    (if (i32.eqz (call $vec_ok (i32.const 0x2300) (local.get $n) (i32.const 64))) (then (call $err (i32.const 5))))
    (call $memcpy (i32.const 0x2516) (i32.const 0x2300) (i32.const 66))
    (call $memcpy (i32.const 0x2558) (i32.const 0x2201) (i32.const 32))
    (call $return (i32.const 0) (i32.const 0x2500) (i32.const 120)))

  (func $verify (param $end i32)
    (local $n i32) (local $sig i32) (local $klen i32) (local $ulen i32) (local $mlen i32) (local $p i32)
    (if (i32.lt_u (local.get $end) (i32.const 0x119)) (then (call $bad_input)))
    (local.set $n (call $bytes (i32.const 0x118) (local.get $end)))
    (if (i32.lt_s (local.get $n) (i32.const 0)) (then (call $bad_input)))
    (local.set $sig (global.get $cur))
    (i32.store8 (i32.const 0x2500) (i32.const 0))
    (i32.store8 (i32.const 0x2501) (i32.const 0))
    ;; An sr25519 signature is 64 bytes; the extension would fail on others.
    (if (i32.ne (local.get $n) (i32.const 64))
      (then (call $return (i32.const 0) (i32.const 0x2500) (i32.const 2))))
    (local.set $klen (call $keys))
    (if (i32.eqz (local.get $klen)) (then (unreachable)))
    (local.set $ulen (call $load_url))
    (local.set $mlen (call $message (i32.const 0x104) (i32.const 0x114) (local.get $ulen)))
    ;; verify(Sr25519, pubkey, message, signature) -> bool
    (i32.store8 (i32.const 0x3000) (i32.const 1))
    (call $memcpy (i32.const 0x3001) (i32.const 0x2200) (i32.const 33))
    (local.set $p (call $put_compact (i32.const 0x3022) (local.get $mlen)))
    (call $memcpy (local.get $p) (i32.const 0x5000) (local.get $mlen))
    (local.set $p (i32.add (local.get $p) (local.get $mlen)))
    (i32.store16 (local.get $p) (i32.const 0x0101))
    (call $memcpy (i32.add (local.get $p) (i32.const 2)) (local.get $sig) (i32.const 64))
    (local.set $p (i32.add (local.get $p) (i32.const 66)))
    (local.set $n (call $ext (i32.const 3) (i32.const 0x3000) (i32.sub (local.get $p) (i32.const 0x3000))
      (i32.const 0x2400) (i32.const 0x10)))
    (if (i32.or (i32.ne (local.get $n) (i32.const 1)) (i32.gt_u (i32.load8_u (i32.const 0x2400)) (i32.const 1)))
      (then (unreachable)))
    (i32.store8 (i32.const 0x2501) (i32.load8_u (i32.const 0x2400)))
    (call $return (i32.const 0) (i32.const 0x2500) (i32.const 2)))

  (func (export "deploy")
    (local $n i32) (local $len i32)
    (local.set $n (call $read_input))
    (if (i32.lt_u (local.get $n) (i32.const 5)) (then (call $bad_input)))
    (if (i32.ne (i32.load (i32.const 0x100)) (i32.const 0x5e9dae9b)) (then (call $bad_input)))
    (local.set $len (call $url_arg (i32.add (i32.const 0x100) (local.get $n))))
    (if (i32.eq (local.get $len) (i32.const -1)) (then (call $bad_input)))
    (if (i32.eq (local.get $len) (i32.const -2)) (then (call $err (i32.const 4))))
    (call $save_url (local.get $len))
    (i32.store (i32.const 0) (i32.const 32))
    (call $caller (i32.const 0x40) (i32.const 0))
    (i32.store (i32.const 0x10) (i32.const 1))
    (drop (call $set (i32.const 0x10) (i32.const 4) (i32.const 0x40) (i32.const 32)))
    (call $ok_ok_unit))

  (func (export "call")
    (local $n i32) (local $sel i32) (local $end i32) (local $len i32) (local $ulen i32)
    (local.set $n (call $read_input))
    (if (i32.lt_u (local.get $n) (i32.const 4)) (then (call $bad_input)))
    (local.set $sel (i32.load (i32.const 0x100)))
    (local.set $end (i32.add (i32.const 0x100) (local.get $n)))
    (if (i32.eq (local.get $sel) (i32.const 0x043fd25e)) ;; fetch_price
      (then (call $fetch_price)))
    (if (i32.eq (local.get $sel) (i32.const 0xbce2eeae)) ;; url
      (then
        (local.set $ulen (call $load_url))
        (i32.store8 (i32.const 0x10ff) (i32.const 0))
        (call $return (i32.const 0) (i32.const 0x10ff) (i32.add (local.get $ulen) (i32.const 1)))))
    (if (i32.eq (local.get $sel) (i32.const 0xa448f4a2)) ;; pubkey
      (then
        (if (i32.eqz (call $keys)) (then (unreachable)))
        (i32.store8 (i32.const 0x2200) (i32.const 0)) ;; over the compact 32
        (call $return (i32.const 0) (i32.const 0x2200) (i32.const 33))))
    (if (i32.eq (local.get $sel) (i32.const 0x3bff6018)) ;; verify
      (then (call $verify (local.get $end))))
    (if (i32.eq (local.get $sel) (i32.const 0x26c57540)) ;; set_url
      (then
        (local.set $len (call $url_arg (local.get $end)))
        (if (i32.eq (local.get $len) (i32.const -1)) (then (call $bad_input)))
        (i32.store (i32.const 0) (i32.const 32))
        (call $caller (i32.const 0x40) (i32.const 0))
        (i32.store (i32.const 0x10) (i32.const 1))
        (i32.store (i32.const 0) (i32.const 32))
        (if (call $get (i32.const 0x10) (i32.const 4) (i32.const 0x60) (i32.const 0)) (then (unreachable)))
        (if (i32.or
              (i32.or (i64.ne (i64.load (i32.const 0x40)) (i64.load (i32.const 0x60)))
                      (i64.ne (i64.load (i32.const 0x48)) (i64.load (i32.const 0x68))))
              (i32.or (i64.ne (i64.load (i32.const 0x50)) (i64.load (i32.const 0x70)))
                      (i64.ne (i64.load (i32.const 0x58)) (i64.load (i32.const 0x78)))))
          (then (call $err (i32.const 3))))
        (if (i32.eq (local.get $len) (i32.const -2)) (then (call $err (i32.const 4))))
        (call $save_url (local.get $len))
        (call $ok_ok_unit)))
    (call $bad_input))
)
