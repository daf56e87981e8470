;; hostfns: a harness that exposes single host functions to tests.
;; Input of `call`: op (u32 LE) ‖ arguments. Output: rc (u32 LE) ‖ output
;; bytes. An op with bit 31 set returns with the REVERT flag.
;; Ops (A = arguments, L = their length):
;;   1 delegate_call(hash[32] ‖ input)            2 seal1.terminate(beneficiary[32])
;;   3 set_code_hash(hash[32])                     4 transfer(to[32] ‖ value u128)
;;   5 ecdsa_recover(sig[65] ‖ msg_hash[32])       6 ecdsa_to_eth_address(pubkey[33])
;;   7 sr25519_verify(sig[64] ‖ pub[32] ‖ msg)     8 caller_is_origin
;;   9 is_contract(acct[32])                      10 code_hash(acct[32])
;;  11 own_code_hash                              12 seal1.call(flags u32 ‖ callee[32] ‖ input)
;;  13 caller ‖ address                           14 balance
;;  20..24 set/get/take/contains/clear_transient_storage(key_len u32 ‖ key ‖ value)
;;  30 seal2.set_storage(key_len u32 ‖ key ‖ value)  31 seal1.get_storage(key_len u32 ‖ key)
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "seal0" "delegate_call" (func $delegate (param i32 i32 i32 i32 i32 i32) (result i32)))
  (import "seal1" "terminate" (func $terminate (param i32)))
  (import "seal0" "set_code_hash" (func $set_code_hash (param i32) (result i32)))
  (import "seal0" "transfer" (func $transfer (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "ecdsa_recover" (func $ecdsa_recover (param i32 i32 i32) (result i32)))
  (import "seal0" "ecdsa_to_eth_address" (func $to_eth (param i32 i32) (result i32)))
  (import "seal0" "sr25519_verify" (func $sr_verify (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "caller_is_origin" (func $caller_is_origin (result i32)))
  (import "seal0" "is_contract" (func $is_contract (param i32) (result i32)))
  (import "seal0" "code_hash" (func $code_hash (param i32 i32 i32) (result i32)))
  (import "seal0" "own_code_hash" (func $own_code_hash (param i32 i32)))
  (import "seal1" "call" (func $call (param i32 i32 i64 i32 i32 i32 i32 i32) (result i32)))
  (import "seal0" "caller" (func $caller (param i32 i32)))
  (import "seal0" "address" (func $address (param i32 i32)))
  (import "seal0" "balance" (func $balance (param i32 i32)))
  (import "seal0" "set_transient_storage" (func $t_set (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "get_transient_storage" (func $t_get (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "take_transient_storage" (func $t_take (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "contains_transient_storage" (func $t_contains (param i32 i32) (result i32)))
  (import "seal0" "clear_transient_storage" (func $t_clear (param i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "seal1" "get_storage" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 2 16))
  ;; 0x0 input length; 0x10 output capacity/length; 0x1000 input (28 KiB);
  ;; 0x8000 rc ‖ output (16 KiB); 0x10000 zero u128.
  (func (export "deploy"))
  ;; outlen returns the output length a call wrote if rc is 0 or 2, else 0.
  (func $outlen (param $rc i32) (result i32)
    (if (result i32) (i32.or (i32.eqz (local.get $rc)) (i32.eq (local.get $rc) (i32.const 2)))
      (then (i32.load (i32.const 0x10))) (else (i32.const 0))))
  (func (export "call")
    (local $op i32) (local $l i32) (local $rc i32) (local $n i32) (local $kl i32)
    (i32.store (i32.const 0) (i32.const 0x7000))
    (call $input (i32.const 0x1000) (i32.const 0))
    (local.set $l (i32.sub (i32.load (i32.const 0)) (i32.const 4)))
    (local.set $op (i32.load (i32.const 0x1000)))
    (local.set $kl (i32.load (i32.const 0x1004)))
    (i32.store (i32.const 0x10) (i32.const 0x4000))
    (block $done
      (block $unknown
        (block $o31 (block $o30 (block $o24 (block $o23 (block $o22 (block $o21 (block $o20
        (block $o14 (block $o13 (block $o12 (block $o11 (block $o10 (block $o9 (block $o8
        (block $o7 (block $o6 (block $o5 (block $o4 (block $o3 (block $o2 (block $o1
          (br_table $unknown $o1 $o2 $o3 $o4 $o5 $o6 $o7 $o8 $o9 $o10 $o11 $o12 $o13 $o14
            $unknown $unknown $unknown $unknown $unknown $o20 $o21 $o22 $o23 $o24
            $unknown $unknown $unknown $unknown $unknown $o30 $o31 $unknown
            (i32.and (local.get $op) (i32.const 0x7fffffff))))
          ;; 1
          (local.set $rc (call $delegate (i32.const 0) (i32.const 0x1004) (i32.const 0x1024)
            (i32.sub (local.get $l) (i32.const 32)) (i32.const 0x8004) (i32.const 0x10)))
          (local.set $n (call $outlen (local.get $rc))) (br $done))
        ;; 2
        (call $terminate (i32.const 0x1004)) (br $done))
        ;; 3
        (local.set $rc (call $set_code_hash (i32.const 0x1004))) (br $done))
        ;; 4
        (local.set $rc (call $transfer (i32.const 0x1004) (i32.const 32) (i32.const 0x1024) (i32.const 16))) (br $done))
        ;; 5
        (local.set $rc (call $ecdsa_recover (i32.const 0x1004) (i32.const 0x1045) (i32.const 0x8004)))
        (if (i32.eqz (local.get $rc)) (then (local.set $n (i32.const 33)))) (br $done))
        ;; 6
        (local.set $rc (call $to_eth (i32.const 0x1004) (i32.const 0x8004)))
        (if (i32.eqz (local.get $rc)) (then (local.set $n (i32.const 20)))) (br $done))
        ;; 7
        (local.set $rc (call $sr_verify (i32.const 0x1004) (i32.const 0x1044)
          (i32.sub (local.get $l) (i32.const 96)) (i32.const 0x1064))) (br $done))
        ;; 8
        (local.set $rc (call $caller_is_origin)) (br $done))
        ;; 9
        (local.set $rc (call $is_contract (i32.const 0x1004))) (br $done))
        ;; 10
        (local.set $rc (call $code_hash (i32.const 0x1004) (i32.const 0x8004) (i32.const 0x10)))
        (local.set $n (call $outlen (local.get $rc))) (br $done))
        ;; 11
        (call $own_code_hash (i32.const 0x8004) (i32.const 0x10))
        (local.set $n (i32.load (i32.const 0x10))) (br $done))
        ;; 12
        (local.set $rc (call $call (local.get $kl) (i32.const 0x1008) (i64.const 0) (i32.const 0x10000)
          (i32.const 0x1028) (i32.sub (local.get $l) (i32.const 36)) (i32.const 0x8004) (i32.const 0x10)))
        (local.set $n (call $outlen (local.get $rc))) (br $done))
        ;; 13
        (call $caller (i32.const 0x8004) (i32.const 0x10))
        (i32.store (i32.const 0x10) (i32.const 32))
        (call $address (i32.const 0x8024) (i32.const 0x10))
        (local.set $n (i32.const 64)) (br $done))
        ;; 14
        (call $balance (i32.const 0x8004) (i32.const 0x10))
        (local.set $n (i32.const 16)) (br $done))
        ;; 20
        (local.set $rc (call $t_set (i32.const 0x1008) (local.get $kl)
          (i32.add (i32.const 0x1008) (local.get $kl)) (i32.sub (i32.sub (local.get $l) (i32.const 4)) (local.get $kl))))
        (br $done))
        ;; 21
        (local.set $rc (call $t_get (i32.const 0x1008) (local.get $kl) (i32.const 0x8004) (i32.const 0x10)))
        (local.set $n (call $outlen (local.get $rc))) (br $done))
        ;; 22
        (local.set $rc (call $t_take (i32.const 0x1008) (local.get $kl) (i32.const 0x8004) (i32.const 0x10)))
        (local.set $n (call $outlen (local.get $rc))) (br $done))
        ;; 23
        (local.set $rc (call $t_contains (i32.const 0x1008) (local.get $kl))) (br $done))
        ;; 24
        (local.set $rc (call $t_clear (i32.const 0x1008) (local.get $kl))) (br $done))
        ;; 30
        (local.set $rc (call $set (i32.const 0x1008) (local.get $kl)
          (i32.add (i32.const 0x1008) (local.get $kl)) (i32.sub (i32.sub (local.get $l) (i32.const 4)) (local.get $kl))))
        (br $done))
        ;; 31
        (local.set $rc (call $get (i32.const 0x1008) (local.get $kl) (i32.const 0x8004) (i32.const 0x10)))
        (local.set $n (call $outlen (local.get $rc))) (br $done))
      (unreachable))
    (i32.store (i32.const 0x8000) (local.get $rc))
    (call $return (i32.shr_u (local.get $op) (i32.const 31)) (i32.const 0x8000)
      (i32.add (local.get $n) (i32.const 4)))))
