;; loop: call spins forever; only gas metering stops it.
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
  (func (export "deploy") (call $ok_unit))
  (func (export "call") (loop $l (br $l)))
)
