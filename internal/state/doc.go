// Package state is Cella's state machine: a pure, deterministic function
// (committed state, block of transactions) → (write-set, per-transaction
// results, ordered messages, validator updates, AppHash). It does no I/O and
// reads no clock or randomness: state comes in through the Store interface,
// changes go out as a WriteSet, and the caller (the ABCI app, or a verifier)
// decides what to persist. TestPurity enforces the import rules.
//
// # Transactions and their outcomes
//
// Every transaction ends with a result code (see CodeName). Codes 1–31 are
// rejections: the transaction has no effect at all, CheckTx refuses it and
// CheckProposal refuses any block containing it. They are, in the order
// checked: oversize, malformed, unsupported (version, scheme, wrapping),
// wrong genesis hash, unknown call, dev-only call on a non-dev chain, bad
// call arguments, bad signature, expired (ValidUntil below the height),
// stale/future nonce (block execution requires nonce == account nonce),
// too heavy (weight above MaxBlockWeight), fee limit (fee above the signer's
// FeeLimit), block full (the block's weight so far plus this one exceeds
// MaxBlockWeight), cannot pay fee (free balance below the fee), and then
// the call's own admission checks: for mq.submit, an origin that is not a
// registered worker or a keyed cluster, a replayed, pending or gapped
// sequence, and a bad message signature. A privileged method sent directly
// is rejected (CodePrivilegedCall): only a dispatcher (admin.sudo, later
// governance) runs it, with the root origin (CallCtx.Dispatch).
//
// A transaction that passes those checks is accepted: its fee is moved to
// TreasuryAccount and the signer's nonce advances, whatever the call does.
// The call then runs in a nested overlay; if it fails (codes 32 and up:
// insufficient balance, existential deposit, overflow, invalid validator set)
// its writes and messages are discarded and the result carries the failure
// code. Every failed check of registry.register_worker is such a failure
// (codes 36–46): the chain did the (expensive) work of judging it. One call
// keeps a part of its writes on failure, by asking for it
// (CallCtx.KeepWritesOnFailure): mq.submit, whose message a topic handler
// refused, keeps the origin's sequence advance.
//
// CheckTx applies the same rules against committed state, with these
// differences: the nonce must equal the sender's next pending nonce (the
// account nonce when the mempool holds none of the sender's transactions;
// lower ones are stale or pending, higher ones future), an egress message's
// sequence follows its origin's pending ones (PendingSequences), and the
// call is dry-run, so that a transfer the sender cannot afford is refused at
// the door (funds arriving through pending transactions are not counted);
// attestations are left to block time.
//
// # Fees and weights
//
// weight(tx) = TxBaseWeight + the call's weight (one unit ≈ 1 ns on the
// reference machine). fee(tx) = BaseFee + ByteFee·len(raw tx) +
// WeightFee·weight(tx), in checked u128 arithmetic, with the Params stored in
// state. Fees go to TreasuryAccount = blake2-256("cella/treasury/v1"), an
// account nobody holds a key for; total issuance never changes.
//
// # Balances and the existential deposit
//
// A transfer fails (fee charged) if it would leave the sender or the
// recipient with a balance strictly between 0 and ExistentialDeposit.
// Accounts are never reaped: an emptied account keeps its nonce, so its old
// transactions cannot be replayed. Fees alone may leave an account below the
// existential deposit.
//
// # Storage layout, AppHash, genesis
//
// See storage.go for the key layout, AppHash for the AppHash rule and
// Genesis.Hash for the genesis hash. A block with no writes and no messages
// leaves the AppHash unchanged, and nothing is written merely because a
// block happened.
//
// # Kernel and modules
//
// This package is the kernel: the Machine, Overlay, Store and WriteSet,
// AppHash, result codes, Genesis and Params, accounts (the kernel charges
// fees), the validator set and BlockRecord. Each module lives in its own
// package — internal/state/balances (index 1: transfer), validators
// (index 2: set_power, dev chains only), mq (index 3: submit), registry
// (index 4: register_worker), admin (index 5: sudo), gatekeeper (index 6:
// add, remove), phat (index 7: create_cluster, add_worker,
// remove_worker, …) and gov (index 8: propose, vote; enacts approved
// privileged calls in its Module.EndBlock hook, which runs after a block's
// transactions) — and plugs in through Module, Method,
// CallCtx and AdmitCtx. internal/state/modules wires them into the one
// table per app version (Runtimes) that a Machine runs, together with the
// table of on-chain topic handlers (TopicHandler) that mq.submit offers
// messages to; a header with an unknown app version is an error. Messages, their origins, topics and
// payloads are in internal/msg, shared with the workers.
//
// Two inputs besides state come from the caller: Header.BlockHashes, the
// hashes of committed blocks (the registry's freshness check), and the
// AttestationVerifier given with WithAttestationVerifier. The block time in
// the header is the only clock.
package state
