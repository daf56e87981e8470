;; hooker: an ink! 4 style contract using the pink chain extension, to test
;; block-end hooks and the off-chain cache without Phala's binaries.
;; Storage: a u32 counter under the 4-byte root key 0x00000000.
;; Constructor: new() 0x9bae9d5e (counter 0).
;; Messages:
;;   set_hook() 0xb9f71bfd deposits the pink event
;;     SetHook { hook: OnBlockEnd, contract: own address,
;;               selector: 0x857706ba (tick), gas_limit: 1_000_000_000 }
;;     with the single topic pink.PinkEventTopic (0x40 "phala.pink.event",
;;     zero-padded), as pink::set_hook does;
;;   tick() 0x857706ba increments the counter;
;;   get() -> u32 0x2f865bd9 returns it;
;;   cache_put(revert: bool) -> bool 0x4186547a calls pink cache_set("key",
;;     "value") (function 6), then cache_get("key") (function 8) and returns
;;     whether the value was found; with revert it then reverts (flags 1);
;;   bad_event() 0x17e29fef deposits a pink-topic event that does not decode
;;     (an ink! 3 pink SetHook, without gas_limit).
;; Results are wrapped in Result<_, LangError>; an unknown selector reverts
;; with 0x0101 as ink! 4 does.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "seal0" "address" (func $address (param i32 i32)))
  (import "seal0" "deposit_event" (func $event (param i32 i32 i32 i32)))
  (import "seal0" "call_chain_extension" (func $ext (param i32 i32 i32 i32 i32) (result i32)))
  (import "seal1" "get_storage" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "env" "memory" (memory 2 16))

  ;; 0x00 input length cell, 0x08 address length cell, 0x10 root key
  ;; (4 zero bytes), 0x20 counter, 0x40 output, 0x100 input buffer,
  ;; 0x200 event topics, 0x300 event data, 0x400 cache_set input,
  ;; 0x420 cache_get input, 0x470 extension output length, 0x480 extension
  ;; output.
  (data (i32.const 0x200) "\04\40phala.pink.event")
  (data (i32.const 0x300) "\02\00")
  (data (i32.const 0x322) "\ba\06\77\85\00\ca\9a\3b\00\00\00\00")
  (data (i32.const 0x400) "\0ckey\14value")
  (data (i32.const 0x420) "\0ckey")

  (func $read_input (result i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (call $input (i32.const 0x100) (i32.const 0))
    (i32.load (i32.const 0)))

  (func $store (param $v i32)
    (i32.store (i32.const 0x20) (local.get $v))
    (drop (call $set (i32.const 0x10) (i32.const 4) (i32.const 0x20) (i32.const 4))))

  (func $load (result i32)
    (i32.store (i32.const 0) (i32.const 4))
    (if (call $get (i32.const 0x10) (i32.const 4) (i32.const 0x20) (i32.const 0))
      (then (return (i32.const 0))))
    (i32.load (i32.const 0x20)))

  (func $bad_input
    (i32.store16 (i32.const 0x40) (i32.const 0x0101))
    (call $return (i32.const 1) (i32.const 0x40) (i32.const 2)))

  (func $ok_unit
    (i32.store8 (i32.const 0x40) (i32.const 0))
    (call $return (i32.const 0) (i32.const 0x40) (i32.const 1)))

  ;; deposit the pink-topic event whose data is 0x300[0..len)
  (func $pink_event (param $len i32)
    (i32.store (i32.const 0x08) (i32.const 32))
    (call $address (i32.const 0x302) (i32.const 0x08))
    (call $event (i32.const 0x200) (i32.const 33) (i32.const 0x300) (local.get $len)))

  (func (export "deploy")
    (if (i32.lt_u (call $read_input) (i32.const 4)) (then (call $bad_input)))
    (if (i32.ne (i32.load (i32.const 0x100)) (i32.const 0x5e9dae9b)) (then (call $bad_input)))
    (call $store (i32.const 0))
    (call $ok_unit))

  (func (export "call")
    (local $sel i32)
    (local $found i32)
    (if (i32.lt_u (call $read_input) (i32.const 4)) (then (call $bad_input)))
    (local.set $sel (i32.load (i32.const 0x100)))
    (if (i32.eq (local.get $sel) (i32.const 0xfd1bf7b9)) ;; set_hook()
      (then
        (call $pink_event (i32.const 46))
        (call $ok_unit)))
    (if (i32.eq (local.get $sel) (i32.const 0xef9fe217)) ;; bad_event()
      (then
        (call $pink_event (i32.const 38))
        (call $ok_unit)))
    (if (i32.eq (local.get $sel) (i32.const 0xba067785)) ;; tick()
      (then
        (call $store (i32.add (call $load) (i32.const 1)))
        (call $ok_unit)))
    (if (i32.eq (local.get $sel) (i32.const 0xd95b862f)) ;; get()
      (then
        (i32.store8 (i32.const 0x40) (i32.const 0))
        (i32.store (i32.const 0x41) (call $load))
        (call $return (i32.const 0) (i32.const 0x40) (i32.const 5))))
    (if (i32.eq (local.get $sel) (i32.const 0x7a548641)) ;; cache_put(bool)
      (then
        (i32.store (i32.const 0x470) (i32.const 64))
        (drop (call $ext (i32.const 6) (i32.const 0x400) (i32.const 10) (i32.const 0x480) (i32.const 0x470)))
        (i32.store (i32.const 0x470) (i32.const 64))
        (drop (call $ext (i32.const 8) (i32.const 0x420) (i32.const 4) (i32.const 0x480) (i32.const 0x470)))
        ;; Option<Vec<u8>>: Some is a leading 1
        (local.set $found (i32.eq (i32.load8_u (i32.const 0x480)) (i32.const 1)))
        (i32.store8 (i32.const 0x40) (i32.const 0))
        (i32.store8 (i32.const 0x41) (local.get $found))
        (call $return (i32.load8_u (i32.const 0x104)) (i32.const 0x40) (i32.const 2))))
    (call $bad_input))
)
