;; erc20: an ink! 4 style ERC-20 token written by hand in the ink! ABI.
;; Storage (seal1/seal2, variable keys): total supply under 0x00000000,
;; balances under 0x01000000 ++ AccountId. Balances are u128 (two i64 halves).
;; Constructor new(total_supply: u128) 0x9bae9d5e mints to the caller.
;; Messages: total_supply() 0xdb6375a8, balance_of(AccountId) 0x0f755a56,
;; transfer(AccountId, u128) -> Result<(), Error> 0x84a15da1.
;; Event 0 Transfer { from: Option<AccountId>, to: Option<AccountId>, value: u128 }.
(module
  (import "seal0" "input" (func $input (param i32 i32)))
  (import "seal0" "seal_return" (func $return (param i32 i32 i32)))
  (import "seal0" "caller" (func $caller (param i32 i32)))
  (import "seal1" "get_storage" (func $get (param i32 i32 i32 i32) (result i32)))
  (import "seal2" "set_storage" (func $set (param i32 i32 i32 i32) (result i32)))
  (import "seal0" "deposit_event" (func $event (param i32 i32 i32 i32)))
  (import "env" "memory" (memory 2 16))

  ;; 0x00 length cell; 0x10 key (36 bytes); 0x40 u128 value; 0x60 caller;
  ;; 0x80 output; 0x100 input; 0x600 event data; 0x700 topics.
  (data (i32.const 0x700) "\04erc20::Transfer\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00\00")

  (func $read_input (result i32)
    (i32.store (i32.const 0) (i32.const 1024))
    (call $input (i32.const 0x100) (i32.const 0))
    (i32.load (i32.const 0)))

  (func $copy32 (param $dst i32) (param $src i32)
    (i64.store (local.get $dst) (i64.load (local.get $src)))
    (i64.store offset=8 (local.get $dst) (i64.load offset=8 (local.get $src)))
    (i64.store offset=16 (local.get $dst) (i64.load offset=16 (local.get $src)))
    (i64.store offset=24 (local.get $dst) (i64.load offset=24 (local.get $src))))

  ;; balance key for the account at $acct into 0x10.
  (func $key (param $acct i32)
    (i32.store (i32.const 0x10) (i32.const 1))
    (call $copy32 (i32.const 0x14) (local.get $acct)))

  ;; loads the balance of $acct into 0x40 (zero when absent).
  (func $balance (param $acct i32)
    (call $key (local.get $acct))
    (i32.store (i32.const 0) (i32.const 16))
    (if (call $get (i32.const 0x10) (i32.const 36) (i32.const 0x40) (i32.const 0))
      (then
        (i64.store (i32.const 0x40) (i64.const 0))
        (i64.store (i32.const 0x48) (i64.const 0)))))

  (func $set_balance (param $acct i32) (param $lo i64) (param $hi i64)
    (call $key (local.get $acct))
    (i64.store (i32.const 0x40) (local.get $lo))
    (i64.store (i32.const 0x48) (local.get $hi))
    (drop (call $set (i32.const 0x10) (i32.const 36) (i32.const 0x40) (i32.const 16))))

  ;; Transfer event; $from = 0 means None.
  (func $emit (param $from i32) (param $to i32) (param $lo i64) (param $hi i64)
    (local $p i32)
    (i32.store8 (i32.const 0x600) (i32.const 0)) ;; event index
    (local.set $p (i32.const 0x601))
    (if (local.get $from)
      (then
        (i32.store8 (local.get $p) (i32.const 1))
        (call $copy32 (i32.add (local.get $p) (i32.const 1)) (local.get $from))
        (local.set $p (i32.add (local.get $p) (i32.const 33))))
      (else
        (i32.store8 (local.get $p) (i32.const 0))
        (local.set $p (i32.add (local.get $p) (i32.const 1)))))
    (i32.store8 (local.get $p) (i32.const 1))
    (call $copy32 (i32.add (local.get $p) (i32.const 1)) (local.get $to))
    (local.set $p (i32.add (local.get $p) (i32.const 33)))
    (i64.store (local.get $p) (local.get $lo))
    (i64.store offset=8 (local.get $p) (local.get $hi))
    (local.set $p (i32.add (local.get $p) (i32.const 16)))
    (call $event (i32.const 0x700) (i32.const 33)
      (i32.const 0x600) (i32.sub (local.get $p) (i32.const 0x600))))

  (func $bad_input
    (i32.store16 (i32.const 0x80) (i32.const 0x0101))
    (call $return (i32.const 1) (i32.const 0x80) (i32.const 2)))

  (func (export "deploy")
    (local $lo i64) (local $hi i64)
    (if (i32.lt_u (call $read_input) (i32.const 20)) (then (call $bad_input)))
    (if (i32.ne (i32.load (i32.const 0x100)) (i32.const 0x5e9dae9b)) (then (call $bad_input)))
    (local.set $lo (i64.load (i32.const 0x104)))
    (local.set $hi (i64.load (i32.const 0x10c)))
    ;; total supply
    (i32.store (i32.const 0x10) (i32.const 0))
    (i64.store (i32.const 0x40) (local.get $lo))
    (i64.store (i32.const 0x48) (local.get $hi))
    (drop (call $set (i32.const 0x10) (i32.const 4) (i32.const 0x40) (i32.const 16)))
    (i32.store (i32.const 0) (i32.const 32))
    (call $caller (i32.const 0x60) (i32.const 0))
    (call $set_balance (i32.const 0x60) (local.get $lo) (local.get $hi))
    (call $emit (i32.const 0) (i32.const 0x60) (local.get $lo) (local.get $hi))
    (i32.store8 (i32.const 0x80) (i32.const 0))
    (call $return (i32.const 0) (i32.const 0x80) (i32.const 1)))

  (func (export "call")
    (local $sel i32) (local $n i32)
    (local $vlo i64) (local $vhi i64) (local $flo i64) (local $fhi i64) (local $lo i64)
    (local.set $n (call $read_input))
    (if (i32.lt_u (local.get $n) (i32.const 4)) (then (call $bad_input)))
    (local.set $sel (i32.load (i32.const 0x100)))
    (i32.store8 (i32.const 0x80) (i32.const 0))
    (if (i32.eq (local.get $sel) (i32.const 0xa87563db)) ;; total_supply
      (then
        (i32.store (i32.const 0x10) (i32.const 0))
        (i32.store (i32.const 0) (i32.const 16))
        (drop (call $get (i32.const 0x10) (i32.const 4) (i32.const 0x81) (i32.const 0)))
        (call $return (i32.const 0) (i32.const 0x80) (i32.const 17))))
    (if (i32.eq (local.get $sel) (i32.const 0x565a750f)) ;; balance_of
      (then
        (if (i32.lt_u (local.get $n) (i32.const 36)) (then (call $bad_input)))
        (call $balance (i32.const 0x104))
        (i64.store (i32.const 0x81) (i64.load (i32.const 0x40)))
        (i64.store (i32.const 0x89) (i64.load (i32.const 0x48)))
        (call $return (i32.const 0) (i32.const 0x80) (i32.const 17))))
    (if (i32.eq (local.get $sel) (i32.const 0xa15da184)) ;; transfer
      (then
        (if (i32.lt_u (local.get $n) (i32.const 52)) (then (call $bad_input)))
        (local.set $vlo (i64.load (i32.const 0x124)))
        (local.set $vhi (i64.load (i32.const 0x12c)))
        (i32.store (i32.const 0) (i32.const 32))
        (call $caller (i32.const 0x60) (i32.const 0))
        (call $balance (i32.const 0x60))
        (local.set $flo (i64.load (i32.const 0x40)))
        (local.set $fhi (i64.load (i32.const 0x48)))
        (if (i32.or (i64.lt_u (local.get $fhi) (local.get $vhi))
                    (i32.and (i64.eq (local.get $fhi) (local.get $vhi))
                             (i64.lt_u (local.get $flo) (local.get $vlo))))
          (then ;; Ok(Err(Error::InsufficientBalance)), reverted
            (i32.store8 (i32.const 0x81) (i32.const 1))
            (i32.store8 (i32.const 0x82) (i32.const 0))
            (call $return (i32.const 1) (i32.const 0x80) (i32.const 3))))
        (local.set $lo (i64.sub (local.get $flo) (local.get $vlo)))
        (call $set_balance (i32.const 0x60) (local.get $lo)
          (i64.sub (i64.sub (local.get $fhi) (local.get $vhi))
                   (i64.extend_i32_u (i64.lt_u (local.get $flo) (local.get $vlo)))))
        (call $balance (i32.const 0x104))
        (local.set $flo (i64.load (i32.const 0x40)))
        (local.set $fhi (i64.load (i32.const 0x48)))
        (local.set $lo (i64.add (local.get $flo) (local.get $vlo)))
        (call $set_balance (i32.const 0x104) (local.get $lo)
          (i64.add (i64.add (local.get $fhi) (local.get $vhi))
                   (i64.extend_i32_u (i64.lt_u (local.get $lo) (local.get $flo)))))
        (call $emit (i32.const 0x60) (i32.const 0x104) (local.get $vlo) (local.get $vhi))
        (i32.store8 (i32.const 0x81) (i32.const 0))
        (call $return (i32.const 0) (i32.const 0x80) (i32.const 2))))
    (call $bad_input))
)
