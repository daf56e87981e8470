package state

import "fmt"

// Result codes of CheckTx and of each transaction in a block. The numbers are
// part of the consensus format (they are hashed into CometBFT's
// LastResultsHash) and never change meaning.
//
// Codes 1–31 reject a transaction: it has no effect at all (no fee, no nonce
// change); CheckTx refuses it and CheckProposal refuses a block containing
// it. Codes 32 and up are failures of an otherwise valid transaction's call:
// the fee is charged, the nonce advances, and the call's writes are
// discarded. Accepted tells the two classes apart.
const (
	CodeOK uint32 = 0

	// Rejections: the transaction has no effect.

	CodeMalformed               uint32 = 1  // bytes do not decode as a transaction
	CodeUnsupported             uint32 = 2  // unknown tx version, signature scheme or wrapping
	CodeOversize                uint32 = 3  // longer than tx.MaxTxBytes
	CodeWrongGenesis            uint32 = 4  // signed for another chain (genesis hash differs)
	CodeBadSignature            uint32 = 5  // signature does not verify
	CodeUnknownCall             uint32 = 6  // no such module or method at this app version
	CodeBadArgs                 uint32 = 7  // the call's arguments do not decode
	CodeExpired                 uint32 = 8  // ValidUntil is below the block height
	CodeStaleNonce              uint32 = 9  // nonce already used (below the account nonce)
	CodeFutureNonce             uint32 = 10 // nonce too far ahead (gap before it)
	CodePendingNonce            uint32 = 11 // CheckTx only: nonce taken by a transaction already in the mempool
	CodeFeeLimit                uint32 = 12 // fee exceeds the signer's FeeLimit
	CodeCannotPayFee            uint32 = 13 // balance below the fee
	CodeBlockFull               uint32 = 14 // the tx's weight does not fit the block's remaining weight
	CodeDevOnly                 uint32 = 15 // the call exists only on dev chains
	CodeTooHeavy                uint32 = 16 // the tx's weight alone exceeds MaxBlockWeight
	CodeInternal                uint32 = 30 // CheckTx only: the node could not read its state
	firstFailureCode            uint32 = 32 // codes from here are call failures
	CodeInsufficientBalance     uint32 = 32 // transfer exceeds the free balance
	CodeBelowExistentialDeposit uint32 = 33 // a balance would end in (0, ExistentialDeposit)
	CodeOverflow                uint32 = 34 // a balance would overflow u128
	CodeInvalidValidatorSet     uint32 = 35 // validator change would leave no validator or too much power
)

var codeNames = map[uint32]string{
	CodeOK:                      "ok",
	CodeMalformed:               "malformed",
	CodeUnsupported:             "unsupported",
	CodeOversize:                "oversize",
	CodeWrongGenesis:            "wrong_genesis",
	CodeBadSignature:            "bad_signature",
	CodeUnknownCall:             "unknown_call",
	CodeBadArgs:                 "bad_args",
	CodeExpired:                 "expired",
	CodeStaleNonce:              "stale_nonce",
	CodeFutureNonce:             "future_nonce",
	CodePendingNonce:            "pending_nonce",
	CodeFeeLimit:                "fee_limit",
	CodeCannotPayFee:            "cannot_pay_fee",
	CodeBlockFull:               "block_full",
	CodeDevOnly:                 "dev_only",
	CodeTooHeavy:                "too_heavy",
	CodeInternal:                "internal",
	CodeInsufficientBalance:     "insufficient_balance",
	CodeBelowExistentialDeposit: "below_existential_deposit",
	CodeOverflow:                "overflow",
	CodeInvalidValidatorSet:     "invalid_validator_set",
}

// CodeName returns the stable snake_case name of a code ("code_N" when unknown).
func CodeName(code uint32) string {
	if n, ok := codeNames[code]; ok {
		return n
	}
	return fmt.Sprintf("code_%d", code)
}

// Accepted reports whether a transaction with this result code belongs in a
// block: it paid its fee and advanced its nonce (CodeOK or a call failure).
func Accepted(code uint32) bool {
	return code == CodeOK || code >= firstFailureCode
}
