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
	CodeMqUnknownOrigin         uint32 = 17 // mq.submit: the origin is not a registered worker or a cluster with a recorded key
	CodeMqBadSignature          uint32 = 18 // mq.submit: the message signature is not the origin's key's
	CodeMqReplayedSequence      uint32 = 19 // mq.submit: the sequence was already accepted
	CodeMqGappedSequence        uint32 = 20 // mq.submit: the sequence is ahead of the next expected one
	CodeMqPendingSequence       uint32 = 21 // CheckTx only: the sequence is taken by a message in the mempool
	CodePrivilegedCall          uint32 = 22 // a privileged method called directly (dispatch it through admin.sudo)
	CodeMqWorkerDeregistered    uint32 = 23 // mq.submit: the origin is a worker its operator deregistered
	CodeInternal                uint32 = 30 // CheckTx only: the node could not read its state
	firstFailureCode            uint32 = 32 // codes from here are call failures
	CodeInsufficientBalance     uint32 = 32 // transfer exceeds the free balance
	CodeBelowExistentialDeposit uint32 = 33 // a balance would end in (0, ExistentialDeposit)
	CodeOverflow                uint32 = 34 // a balance would overflow u128
	CodeInvalidValidatorSet     uint32 = 35 // validator change would leave no validator or too much power

	// Failures of registry.register_worker.

	CodeWorkerWrongGenesis       uint32 = 36 // the registration names another genesis hash
	CodeAppVersionTooLow         uint32 = 37 // the pRuntime's MaxAppVersion is below the chain's app version
	CodeStaleFreshness           uint32 = 38 // the freshness block is outside the last FreshnessWindow heights
	CodeFreshnessHashMismatch    uint32 = 39 // the freshness block's hash is not the chain's
	CodeBlockHashUnavailable     uint32 = 40 // the machine has no hash for the freshness block
	CodeDevAttestationDisallowed uint32 = 41 // a dev attestation on a chain that does not allow them
	CodeAttestationUnverifiable  uint32 = 42 // the node has no attestation verifier
	CodeReportDataMismatch       uint32 = 43 // the quote does not bind the registration info
	CodeBadAttestation           uint32 = 44 // the verifier rejected the quote or its collateral
	CodeUnknownMeasurement       uint32 = 45 // the attested measurement is not on the allow-list
	CodeOutdatedRegistration     uint32 = 46 // older freshness block than the worker's current registration

	// Failures of privileged dispatch (admin.sudo).

	CodeNotAdmin        uint32 = 47 // admin.sudo signed by another account than the admin
	CodeNoAdmin         uint32 = 48 // admin.sudo on a chain without an admin
	CodeNotRoot         uint32 = 49 // a privileged method dispatched without the root origin
	CodeBadDispatchArgs uint32 = 50 // a dispatched call's arguments do not decode

	// Failures of mq.submit: the message's topic handler refused it. The
	// origin's sequence still advances; the message is not delivered.

	CodeMqBadPayload             uint32 = 51 // the payload does not decode as the topic's type
	CodeMqWrongOrigin            uint32 = 52 // the topic does not take messages of this origin kind
	CodeGkNotGatekeeper          uint32 = 53 // the sender is not a gatekeeper (or not an active one where required)
	CodeGkMasterKeyExists        uint32 = 54 // master_pubkey: a master key is already recorded, or the epoch is not 0
	CodeGkBadReceiver            uint32 = 55 // master_key share to a worker that is not a gatekeeper or already active
	CodeGkMasterKeyMismatch      uint32 = 56 // ready/master_key: pubkey or epoch differs from the chain's master key, or none yet
	CodeUnknownCluster           uint32 = 57 // no cluster with this id
	CodeClusterKeyOutsideCluster uint32 = 58 // cluster_key share for a worker outside the cluster
	CodeClusterKeyMismatch       uint32 = 59 // cluster_key pubkey differs from the recorded one
	CodeContractKeyMismatch      uint32 = 60 // contract_key differs from the contract's recorded key

	// Failures of the gatekeeper and phat privileged calls.

	CodeWorkerNotRegistered   uint32 = 61 // the worker is not registered
	CodeAlreadyGatekeeper     uint32 = 62 // gatekeeper.add of a gatekeeper
	CodeNotGatekeeper         uint32 = 63 // gatekeeper.remove of a worker that is not a gatekeeper
	CodeAlreadyInCluster      uint32 = 64 // phat.add_worker of a worker already in the cluster
	CodeNotInCluster          uint32 = 65 // phat.remove_worker of a worker outside the cluster
	CodeTooManyClusterWorkers uint32 = 66 // a cluster would have more than phat.MaxClusterWorkers workers
	CodeTooManyGatekeepers    uint32 = 67 // the gatekeeper set would exceed gatekeeper.MaxGatekeepers

	// Failures of the phat contract calls (upload_code, instantiate,
	// push_command) and of the cluster messages that report on them
	// (cluster/outcome, cluster/instantiate_failed, cluster/contract_key).

	CodeCodeRejected        uint32 = 68 // upload_code: the validator refused the code (reason in the log)
	CodeUnknownCode         uint32 = 69 // instantiate: no such code available in the cluster
	CodeIndeterministicCode uint32 = 70 // instantiate: the code may use floating point (query-only)
	CodeContractExists      uint32 = 71 // instantiate: a contract with this id exists
	CodeGasLimitTooHigh     uint32 = 72 // instantiate/push_command: gas_limit above the cluster's maximum
	CodeUnknownContract     uint32 = 73 // push_command: no such contract
	CodeContractNotReady    uint32 = 74 // push_command: the contract is not instantiated (pending or failed)
	CodeClusterPermission   uint32 = 75 // upload_code/instantiate in an owner-only cluster by another account
	CodeTooManyContracts    uint32 = 76 // the cluster has phat.MaxClusterContracts contracts already
	CodeUnknownCommand      uint32 = 77 // outcome: no pending instantiate or command with this id
	CodeWrongCluster        uint32 = 78 // a cluster reports on a command or contract of another cluster
	CodeGasUsedOverLimit    uint32 = 79 // outcome: gas_used above the reserved gas_limit
	CodeContractNotPending  uint32 = 80 // instantiate_failed/contract_key: the contract is not pending

	// Failures of cluster/state_root (a worker's report of a cluster state root).

	CodeNotClusterWorker uint32 = 81 // the reporting worker is not a worker of the cluster
	CodeBadReportHeight  uint32 = 82 // the height is 0, not a multiple of the report interval, or above the current block
	CodeStaleReport      uint32 = 83 // the height is older than every root record the cluster keeps

	// Failure of worker/endpoint (a worker records its public URL).

	CodeBadEndpoint uint32 = 84 // the URL is not a valid http(s) endpoint (msg.ValidEndpoint)

	// Failure of cluster/outcome's payouts.

	CodePayoutOverLedger uint32 = 85 // outcome: the payouts exceed the cluster's ledger total

	// Failures of worker liveness: registry.deregister_worker,
	// registry.set_liveness and worker/heartbeat.

	CodeWorkerDeregistered uint32 = 86 // the worker is deregistered (deregister again, or register_worker of its identity)
	CodeNotOperator        uint32 = 87 // deregister_worker signed by another account than the worker's operator
	CodeBadHeartbeat       uint32 = 88 // worker/heartbeat: height 0 or above the block carrying it
	CodeBadLiveness        uint32 = 89 // set_liveness: interval or stale factor out of range

	// Failures of governance (gov) and of the privileged methods it and
	// admin.sudo dispatch. Numbered from 100, apart from the codes above.

	CodeGovNotCouncil         uint32 = 100 // gov: a council proposal or vote by an account outside the council
	CodeGovAlreadyVoted       uint32 = 101 // gov.vote: the account already voted on this proposal
	CodeGovUnknownCall        uint32 = 102 // gov.propose: the call is not a known privileged method
	CodeGovUnknownProposal    uint32 = 103 // gov.vote: no proposal with this id
	CodeGovVotingClosed       uint32 = 104 // gov.vote: the proposal is no longer open for votes
	CodeGovTooManyProposals   uint32 = 105 // gov.propose: gov.MaxOpenProposals are open already
	CodeGovTooManyVotes       uint32 = 106 // gov.vote: the referendum has gov.MaxVoters votes already
	CodeGovBadVote            uint32 = 107 // gov.vote: a referendum vote locking nothing, or a stake on a council vote
	CodeGovBadCouncil         uint32 = 108 // gov.set_council: empty, duplicate members, too many, or threshold out of range
	CodeGovBadParams          uint32 = 109 // gov.set_params: parameters the chain cannot run with
	CodeUpgradeInPast         uint32 = 110 // gov.schedule_upgrade: the height is not above the current block
	CodeUpgradeUnsupported    uint32 = 111 // gov.schedule_upgrade: the app version is not supported or not above the current one
	CodePowerConcentration    uint32 = 112 // validators.set: one validator would hold more than 1/3 of the power without allow_concentration
	CodeMeasurementAllowed    uint32 = 113 // registry.allow_measurement: already on the allow-list
	CodeMeasurementNotAllowed uint32 = 114 // registry.disallow_measurement: not on the allow-list
	CodeGovNoCouncil          uint32 = 115 // gov.propose: a council proposal on a chain whose council is empty
	CodeNoUpgradeScheduled    uint32 = 117 // gov.cancel_upgrade (AppVersion2): no upgrade is scheduled

	// Failure of registry.deregister_worker (numbered after governance's).

	CodeDeregisterGatekeeper uint32 = 116 // deregister_worker of a gatekeeper: governance must remove it (gatekeeper.remove) first

	// Failures of master-key rotation (gatekeeper.rotate_master_key).

	CodeGkRotationInProgress uint32 = 90 // rotate_master_key while a rotation is still in progress
	CodeGkNoMasterKey        uint32 = 91 // rotate_master_key before any master key, or with no active gatekeeper
)

var codeNames = map[uint32]string{
	CodeOK:                       "ok",
	CodeMalformed:                "malformed",
	CodeUnsupported:              "unsupported",
	CodeOversize:                 "oversize",
	CodeWrongGenesis:             "wrong_genesis",
	CodeBadSignature:             "bad_signature",
	CodeUnknownCall:              "unknown_call",
	CodeBadArgs:                  "bad_args",
	CodeExpired:                  "expired",
	CodeStaleNonce:               "stale_nonce",
	CodeFutureNonce:              "future_nonce",
	CodePendingNonce:             "pending_nonce",
	CodeFeeLimit:                 "fee_limit",
	CodeCannotPayFee:             "cannot_pay_fee",
	CodeBlockFull:                "block_full",
	CodeDevOnly:                  "dev_only",
	CodeTooHeavy:                 "too_heavy",
	CodeMqUnknownOrigin:          "mq_unknown_origin",
	CodeMqBadSignature:           "mq_bad_signature",
	CodeMqReplayedSequence:       "mq_replayed_sequence",
	CodeMqGappedSequence:         "mq_gapped_sequence",
	CodeMqPendingSequence:        "mq_pending_sequence",
	CodeMqWorkerDeregistered:     "mq_worker_deregistered",
	CodeInternal:                 "internal",
	CodeInsufficientBalance:      "insufficient_balance",
	CodeBelowExistentialDeposit:  "below_existential_deposit",
	CodeOverflow:                 "overflow",
	CodeInvalidValidatorSet:      "invalid_validator_set",
	CodeWorkerWrongGenesis:       "registration_wrong_genesis",
	CodeAppVersionTooLow:         "app_version_too_low",
	CodeStaleFreshness:           "stale_freshness_block",
	CodeFreshnessHashMismatch:    "freshness_hash_mismatch",
	CodeBlockHashUnavailable:     "block_hash_unavailable",
	CodeDevAttestationDisallowed: "dev_attestation_disallowed",
	CodeAttestationUnverifiable:  "attestation_unverifiable",
	CodeReportDataMismatch:       "report_data_mismatch",
	CodeBadAttestation:           "bad_attestation",
	CodeUnknownMeasurement:       "unknown_measurement",
	CodeOutdatedRegistration:     "outdated_registration",
	CodePrivilegedCall:           "privileged_call",
	CodeNotAdmin:                 "not_admin",
	CodeNoAdmin:                  "no_admin",
	CodeNotRoot:                  "not_root",
	CodeBadDispatchArgs:          "bad_dispatch_args",
	CodeMqBadPayload:             "mq_bad_payload",
	CodeMqWrongOrigin:            "mq_wrong_origin",
	CodeGkNotGatekeeper:          "gk_not_gatekeeper",
	CodeGkMasterKeyExists:        "gk_master_key_exists",
	CodeGkBadReceiver:            "gk_bad_receiver",
	CodeGkMasterKeyMismatch:      "gk_master_key_mismatch",
	CodeUnknownCluster:           "unknown_cluster",
	CodeClusterKeyOutsideCluster: "cluster_key_outside_cluster",
	CodeClusterKeyMismatch:       "cluster_key_mismatch",
	CodeContractKeyMismatch:      "contract_key_mismatch",
	CodeWorkerNotRegistered:      "worker_not_registered",
	CodeAlreadyGatekeeper:        "already_gatekeeper",
	CodeNotGatekeeper:            "not_gatekeeper",
	CodeAlreadyInCluster:         "already_in_cluster",
	CodeNotInCluster:             "not_in_cluster",
	CodeTooManyClusterWorkers:    "too_many_cluster_workers",
	CodeTooManyGatekeepers:       "too_many_gatekeepers",
	CodeCodeRejected:             "code_rejected",
	CodeUnknownCode:              "unknown_code",
	CodeIndeterministicCode:      "indeterministic_code",
	CodeContractExists:           "contract_exists",
	CodeGasLimitTooHigh:          "gas_limit_too_high",
	CodeUnknownContract:          "unknown_contract",
	CodeContractNotReady:         "contract_not_instantiated",
	CodeClusterPermission:        "cluster_permission",
	CodeTooManyContracts:         "too_many_contracts",
	CodeUnknownCommand:           "unknown_command",
	CodeWrongCluster:             "wrong_cluster",
	CodeGasUsedOverLimit:         "gas_used_over_limit",
	CodeContractNotPending:       "contract_not_pending",
	CodeNotClusterWorker:         "not_cluster_worker",
	CodeBadReportHeight:          "bad_report_height",
	CodeStaleReport:              "stale_report",
	CodeBadEndpoint:              "bad_endpoint",
	CodePayoutOverLedger:         "payout_over_ledger",
	CodeWorkerDeregistered:       "worker_deregistered",
	CodeNotOperator:              "not_operator",
	CodeBadHeartbeat:             "bad_heartbeat",
	CodeBadLiveness:              "bad_liveness",
	CodeGovNotCouncil:            "gov_not_council",
	CodeGovAlreadyVoted:          "gov_already_voted",
	CodeGovUnknownCall:           "gov_unknown_call",
	CodeGovUnknownProposal:       "gov_unknown_proposal",
	CodeGovVotingClosed:          "gov_voting_closed",
	CodeGovTooManyProposals:      "gov_too_many_proposals",
	CodeGovTooManyVotes:          "gov_too_many_votes",
	CodeGovBadVote:               "gov_bad_vote",
	CodeGovBadCouncil:            "gov_bad_council",
	CodeGovBadParams:             "gov_bad_params",
	CodeUpgradeInPast:            "upgrade_in_past",
	CodeUpgradeUnsupported:       "upgrade_unsupported",
	CodePowerConcentration:       "power_concentration",
	CodeMeasurementAllowed:       "measurement_already_allowed",
	CodeMeasurementNotAllowed:    "measurement_not_allowed",
	CodeGovNoCouncil:             "gov_no_council",
	CodeDeregisterGatekeeper:     "deregister_gatekeeper",
	CodeNoUpgradeScheduled:       "no_upgrade_scheduled",
	CodeGkRotationInProgress:     "gk_rotation_in_progress",
	CodeGkNoMasterKey:            "gk_no_master_key",
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
