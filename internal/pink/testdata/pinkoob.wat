;; pinkoob: calls the pink chain extension (is_in_transaction) with pointers
;; outside its memory, chosen by the first input byte: 0 the input buffer,
;; 1 the output buffer, 2 the output length's cell; 3 is a valid call.
;; Build: wat2wasm pinkoob.wat -o pinkoob.wasm
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "seal0" "call_chain_extension" (func $ext (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 1 1))
  (func (export "deploy")
    (call $return (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "call")
    (local $sel i32)
    (i32.store (i32.const 0) (i32.const 16))
    (call $input (i32.const 16) (i32.const 0))
    (local.set $sel (i32.load8_u (i32.const 16)))
    (i32.store (i32.const 4) (i32.const 64))
    (if (i32.eq (local.get $sel) (i32.const 0))
      (then (drop (call $ext (i32.const 12) (i32.const 0xfffffff0) (i32.const 64) (i32.const 128) (i32.const 4)))))
    (if (i32.eq (local.get $sel) (i32.const 1))
      (then (drop (call $ext (i32.const 12) (i32.const 64) (i32.const 0) (i32.const 0x10000) (i32.const 4)))))
    (if (i32.eq (local.get $sel) (i32.const 2))
      (then (drop (call $ext (i32.const 12) (i32.const 64) (i32.const 0) (i32.const 128) (i32.const 0xfffffffe)))))
    (drop (call $ext (i32.const 12) (i32.const 64) (i32.const 0) (i32.const 128) (i32.const 4)))
    (call $return (i32.const 0) (i32.const 128) (i32.load (i32.const 4)))))
