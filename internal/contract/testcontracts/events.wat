;; events: an ink! 5 style event emitter. new() 0x9bae9d5e; emit(value: u32)
;; 0x07329efa deposits Emitted { value } with the signature topic
;; blake2_256("Emitted(u32)") and a second topic holding the value, and writes
;; a debug message.
(module
  (import "seal0" "deposit_event" (func $event (param i32 i32 i32 i32)))
  (import "seal0" "debug_message" (func $debug (param i32 i32) (result i32)))
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
  (data (i32.const 0x700) "\08\a9\b5\22\40\22\ea\ec\98\87\e6\68\9e\1a\28\32\63\93\c6\3d\4a\7a\56\4f\a7\93\21\77\c9\60\dc\a5\58")
  (data (i32.const 0x800) "emitted")
  (func (export "deploy")
    (drop (call $read_input))
    (if (i32.ne (i32.load (i32.const 0x100)) (i32.const 0x5e9dae9b)) (then (call $bad_input)))
    (call $ok_unit))
  (func (export "call")
    (if (i32.lt_u (call $read_input) (i32.const 8)) (then (call $bad_input)))
    (if (i32.ne (i32.load (i32.const 0x100)) (i32.const 0xfa9e3207)) (then (call $bad_input)))
    ;; second topic: the value, zero-padded to 32 bytes
    (i32.store (i32.const 0x721) (i32.load (i32.const 0x104)))
    (i32.store (i32.const 0x600) (i32.load (i32.const 0x104)))
    (call $event (i32.const 0x700) (i32.const 65) (i32.const 0x600) (i32.const 4))
    (drop (call $debug (i32.const 0x800) (i32.const 7)))
    (call $ok_unit))
)
