;; pinkcall: calls the pink chain extension with the message input
;; id: u32 LE ‖ extension input, and returns status: u32 LE ‖ output.
;; Build: wat2wasm pinkcall.wat -o pinkcall.wasm
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "seal0" "call_chain_extension" (func $ext (param i32 i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 16 16))
  ;; 0x0: input length; 0x4: output length; 0x100: input; 0x10000: status ‖ output
  (func (export "deploy")
    (call $return (i32.const 0) (i32.const 0) (i32.const 0)))
  (func (export "call")
    (i32.store (i32.const 0) (i32.const 0x8000))
    (call $input (i32.const 0x100) (i32.const 0))
    (i32.store (i32.const 4) (i32.const 0xe0000))
    (i32.store (i32.const 0x10000)
      (call $ext (i32.load (i32.const 0x100)) (i32.const 0x104)
        (i32.sub (i32.load (i32.const 0)) (i32.const 4))
        (i32.const 0x10004) (i32.const 4)))
    (call $return (i32.const 0) (i32.const 0x10000)
      (i32.add (i32.load (i32.const 4)) (i32.const 4)))))
