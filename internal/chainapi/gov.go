package chainapi

// Governance query paths.
const (
	// PathGov answers GovInfo as JSON: the council and governance's
	// settings, the scheduled upgrade, the open proposals and the latest
	// MaxGovProposals proposals.
	PathGov = "/gov"
	// PathGovProposal takes a proposal id (8 bytes, big-endian) and answers
	// its ProposalInfo with its votes as JSON (QueryNotFound when there is
	// no such proposal).
	PathGovProposal = "/gov/proposal"
)

// MaxGovProposals is how many proposals, newest first, PathGov lists.
const MaxGovProposals = 100

// GovInfo is the JSON answer of PathGov. Accounts are SS58 addresses;
// amounts are decimal strings of base units; heights and periods are in
// blocks.
type GovInfo struct {
	Council           []string `json:"council"`
	Threshold         uint32   `json:"threshold"`
	EnactmentDelay    uint64   `json:"enactmentDelay"`
	VotingPeriod      uint64   `json:"votingPeriod"`
	ReferendumDeposit string   `json:"referendumDeposit"`
	MinTurnout        string   `json:"minTurnout"`
	// Admin is the admin account; empty when the chain has none (never
	// had, or removed by admin.remove).
	Admin string `json:"admin,omitempty"`
	// Measurements is the registry's measurement allow-list (0x hashes,
	// sorted), which governance changes.
	Measurements []string `json:"measurements"`
	// AppVersion is the app version the chain's next block runs.
	AppVersion uint64 `json:"appVersion"`
	// Upgrade is the scheduled app-version upgrade, if any.
	Upgrade *UpgradeInfo `json:"upgrade,omitempty"`
	// PastUpgrades are the upgrades done, oldest first (kept from
	// AppVersion2 on, whose migration records the upgrade to it; empty on
	// a chain that never upgraded).
	PastUpgrades []PastUpgradeInfo `json:"pastUpgrades"`
	// NextID is the id the next proposal gets (the number of proposals so far).
	NextID uint64 `json:"nextId"`
	// Open are the ids of the proposals voting or awaiting enactment.
	Open []uint64 `json:"open"`
	// Proposals are the latest proposals, newest first, without their votes.
	Proposals []ProposalInfo `json:"proposals"`
}

// UpgradeInfo is a scheduled app-version upgrade.
type UpgradeInfo struct {
	Height     uint64 `json:"height"`
	AppVersion uint64 `json:"appVersion"`
}

// PastUpgradeInfo is an upgrade done: block Height was the last block of
// app version From; the blocks after it run AppVersion.
type PastUpgradeInfo struct {
	Height     uint64 `json:"height"`
	From       uint64 `json:"from"`
	AppVersion uint64 `json:"appVersion"`
}

// ProposalInfo is a proposal in the PathGov and PathGovProposal answers.
type ProposalInfo struct {
	ID uint64 `json:"id"`
	// Kind is "council" or "referendum".
	Kind     string `json:"kind"`
	Proposer string `json:"proposer"`
	// Call is the proposed call's "module.method" name; Module, Method and
	// Args (0x-hex SCALE) are the call itself.
	Call   string `json:"call"`
	Module uint8  `json:"module"`
	Method uint8  `json:"method"`
	Args   string `json:"args"`
	// Status is "voting", "approved", "rejected", "enacted" or "failed".
	Status     string `json:"status"`
	Created    uint64 `json:"created"`
	VotingEnds uint64 `json:"votingEnds"`
	// EnactAt is the height at whose end an approved proposal is enacted.
	EnactAt uint64 `json:"enactAt,omitempty"`
	// Ayes and Nays count council members or sum referendum stakes.
	Ayes    string `json:"ayes"`
	Nays    string `json:"nays"`
	Deposit string `json:"deposit,omitempty"`
	// Result and ResultName are the enacted call's result code (enacted: 0
	// "ok"; failed: its failure code).
	Result     uint32 `json:"result"`
	ResultName string `json:"resultName,omitempty"`
	// Closed is the height at which it was rejected or enacted.
	Closed uint64 `json:"closed,omitempty"`
	// Votes (PathGovProposal only) in vote order.
	Votes []VoteInfo `json:"votes,omitempty"`
}

// VoteInfo is one vote on a proposal: stake 1 for a council member.
type VoteInfo struct {
	Voter string `json:"voter"`
	Aye   bool   `json:"aye"`
	Stake string `json:"stake"`
}
