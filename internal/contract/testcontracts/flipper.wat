;; flipper: an ink! 4 style flipper written by hand in the ink! ABI.
;; Storage: one bool under the 4-byte root key 0x00000000 (seal1/seal2 API).
;; Constructors: new(bool) 0x9bae9d5e, default() 0xed4b9d1b.
;; Messages: flip() 0x633aa551, get() -> bool 0x2f865bd9.
;; Results are wrapped in Result<_, LangError>; an unknown selector reverts
;; with 0x0101 (Err(LangError::CouldNotReadInput)) as ink! 4 does.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "seal1" "get_storage" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 2 16))

  ;; 0x00 length cell, 0x10 root key (4 zero bytes), 0x20 value, 0x40 output,
  ;; 0x100 input buffer.
  (func $read_input (result i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (call $input (i32.const 0x100) (i32.const 0))
    (i32.load (i32.const 0)))

  (func $store (param $v i32)
    (i32.store8 (i32.const 0x20) (local.get $v))
    (drop (call $set (i32.const 0x10) (i32.const 4) (i32.const 0x20) (i32.const 1))))

  (func $load (result i32)
    (i32.store (i32.const 0) (i32.const 1))
    (if (call $get (i32.const 0x10) (i32.const 4) (i32.const 0x20) (i32.const 0))
      (then (return (i32.const 0))))
    (i32.load8_u (i32.const 0x20)))

  (func $bad_input
    (i32.store16 (i32.const 0x40) (i32.const 0x0101))
    (call $return (i32.const 1) (i32.const 0x40) (i32.const 2)))

  (func $ok_unit
    (i32.store8 (i32.const 0x40) (i32.const 0))
    (call $return (i32.const 0) (i32.const 0x40) (i32.const 1)))

  (func (export "deploy")
    (local $sel i32)
    (if (i32.lt_u (call $read_input) (i32.const 4)) (then (call $bad_input)))
    (local.set $sel (i32.load (i32.const 0x100)))
    (if (i32.eq (local.get $sel) (i32.const 0x5e9dae9b)) ;; new(bool)
      (then
        (call $store (i32.load8_u (i32.const 0x104)))
        (call $ok_unit)))
    (if (i32.eq (local.get $sel) (i32.const 0x1b9d4bed)) ;; default()
      (then
        (call $store (i32.const 0))
        (call $ok_unit)))
    (call $bad_input))

  (func (export "call")
    (local $sel i32)
    (if (i32.lt_u (call $read_input) (i32.const 4)) (then (call $bad_input)))
    (local.set $sel (i32.load (i32.const 0x100)))
    (if (i32.eq (local.get $sel) (i32.const 0x51a53a63)) ;; flip()
      (then
        (call $store (i32.eqz (call $load)))
        (call $ok_unit)))
    (if (i32.eq (local.get $sel) (i32.const 0xd95b862f)) ;; get()
      (then
        (i32.store8 (i32.const 0x40) (i32.const 0))
        (i32.store8 (i32.const 0x41) (call $load))
        (call $return (i32.const 0) (i32.const 0x40) (i32.const 2))))
    (call $bad_input))
)
