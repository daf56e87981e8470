;; compute: a compute-heavy loop for benchmarks. new() 0x9bae9d5e;
;; run(n: u32) -> u64 (0xb35e5bb9 little-endian b95b5eb3) iterates an
;; xorshift generator n times, summing, with a call per iteration.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "env" "memory" (memory 2 16))
  (func $read_input (result i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (call $input (i32.const 0x100) (i32.const 0))
    (i32.load (i32.const 0)))
  (func $ok_unit
    (i32.store8 (i32.const 0x40) (i32.const 0))
    (call $return (i32.const 0) (i32.const 0x40) (i32.const 1)))
  (func $bad_input
    (i32.store16 (i32.const 0x40) (i32.const 0x0101))
    (call $return (i32.const 1) (i32.const 0x40) (i32.const 2)))
  (func $step (param $x i64) (result i64)
    (local.set $x (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 13))))
    (local.set $x (i64.xor (local.get $x) (i64.shr_u (local.get $x) (i64.const 7))))
    (i64.xor (local.get $x) (i64.shl (local.get $x) (i64.const 17))))
  (func (export "deploy") (drop (call $read_input)) (call $ok_unit))
  (func (export "call")
    (local $n i32) (local $x i64) (local $sum i64)
    (if (i32.lt_u (call $read_input) (i32.const 8)) (then (call $bad_input)))
    (if (i32.ne (i32.load (i32.const 0x100)) (i32.const 0xb35e5bb9)) (then (call $bad_input)))
    (local.set $n (i32.load (i32.const 0x104)))
    (local.set $x (i64.const 88172645463325252))
    (block $done
      (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $x (call $step (local.get $x)))
        (local.set $sum (i64.add (local.get $sum) (i64.rem_u (local.get $x) (i64.const 1000))))
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
    (i32.store8 (i32.const 0x40) (i32.const 0))
    (i64.store (i32.const 0x41) (local.get $sum))
    (call $return (i32.const 0) (i32.const 0x40) (i32.const 9)))
)
