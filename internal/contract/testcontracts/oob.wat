;; oob: out-of-bounds pointers handed to the host or used directly.
;; The first input byte selects: 0 seal_return with a data pointer past the
;; end of memory, 1 input into an out-of-bounds buffer, 2 a Wasm load past the
;; end of memory, 3 get_storage with a 1000-byte key, 4 debug_message with a
;; huge length, 5 an output length cell that is out of bounds, 6 a too-small
;; output buffer.
(module
  (import "seal1" "get_storage" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "debug_message" (func $debug (param i32 i32) (result i32)))
  (import "seal0" "caller" (func $caller (param i32 i32)))
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
  (func (export "deploy") (call $ok_unit))
  (func (export "call")
    (local $k i32)
    (drop (call $read_input))
    (local.set $k (i32.load8_u (i32.const 0x100)))
    (if (i32.eq (local.get $k) (i32.const 0))
      (then (call $return (i32.const 0) (i32.const 0xfffffff0) (i32.const 100))))
    (if (i32.eq (local.get $k) (i32.const 1))
      (then (call $input (i32.const 0x1fffff) (i32.const 0))))
    (if (i32.eq (local.get $k) (i32.const 2))
      (then (drop (i32.load (i32.const 0x200000)))))
    (if (i32.eq (local.get $k) (i32.const 3))
      (then (drop (call $get (i32.const 0) (i32.const 1000) (i32.const 0x400) (i32.const 0)))))
    (if (i32.eq (local.get $k) (i32.const 4))
      (then (drop (call $debug (i32.const 0) (i32.const 0x7fffffff)))))
    (if (i32.eq (local.get $k) (i32.const 5))
      (then (call $caller (i32.const 0x400) (i32.const 0xfffffffe))))
    (if (i32.eq (local.get $k) (i32.const 6))
      (then
        (i32.store (i32.const 0) (i32.const 8))
        (call $caller (i32.const 0x400) (i32.const 0))))
    (call $ok_unit))
)
