// Package gov is on-chain governance (index 8 of AppVersion1): a council
// that proposes and approves privileged calls by a threshold, and token
// holders who propose them with a deposit and pass them by a stake-weighted
// referendum. An approved proposal is enacted, with the root origin, at the
// end of the block EnactmentDelay blocks after its approval: exactly the
// privileged methods admin.sudo dispatches (admin.LookupPrivileged), so that
// governance can do anything the admin can, including removing the admin
// (admin.remove).
//
// Methods:
//
//	0 propose(call: Call, referendum: bool)            Call = module u8 ‖ method u8 ‖ args Vec<u8>
//	1 vote(id: u64, aye: bool, stake: Compact<u128>)   stake 0 on council proposals
//	2 set_council(members: Vec<[u8; 32]>, threshold: u32)   privileged
//	3 set_params(state.Params)                              privileged
//	4 schedule_upgrade(height: u64, app_version: u64)       privileged
//	5 cancel_upgrade()                                      privileged, from AppVersion2
//
// Storage:
//
//	"gov/config"                      → SCALE(state.GovGenesis): council (sorted), threshold, timings, amounts
//	"gov/next"                        → u64: the next proposal id (absent: 0)
//	"gov/open"                        → SCALE(Vec<u64>), ascending: proposals still voting or awaiting enactment
//	"gov/proposal/" ‖ u64 BE id       → SCALE(Proposal)
//	"gov/voters/" ‖ u64 BE id         → SCALE(Vec<[u8; 32]>): the voters, in vote order
//	"gov/vote/" ‖ u64 BE id ‖ voter   → SCALE(Vote)
//	"gov/upgrade"                     → SCALE(Upgrade): the scheduled app-version upgrade
//	"gov/upgrade_history"             → SCALE(Vec<PastUpgrade>), oldest first: the upgrades done
//	                                    (from AppVersion2: its migration writes the first entry)
//
// At the end of the block at a scheduled upgrade's height, EndBlock removes
// the schedule and asks the kernel to switch the chain to its app version
// (state.CallCtx.SwitchAppVersion): that block is the last of the old
// version; the next one runs the new version's module table.
//
// Referendum stakes and deposits are moved from the voter's free balance to
// PotAccount (blake2-256("cella/gov/v1"), which nobody holds a key for)
// when voting or proposing, and moved back when the referendum closes: a
// vote weighs exactly what it locks, so a stake cannot be counted twice
// (transferring it after voting is impossible), and total issuance never
// changes.
package gov

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"

	"github.com/cella-network/cella/internal/hashing"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/tx"
)

const (
	// Index is the gov module's index.
	Index uint8 = 8

	MethodPropose         uint8 = 0 // propose(call, referendum)
	MethodVote            uint8 = 1 // vote(id, aye, stake)
	MethodSetCouncil      uint8 = 2 // set_council(members, threshold), privileged
	MethodSetParams       uint8 = 3 // set_params(params), privileged
	MethodScheduleUpgrade uint8 = 4 // schedule_upgrade(height, app_version), privileged
	MethodCancelUpgrade   uint8 = 5 // cancel_upgrade(), privileged, from AppVersion2
)

// Limits. EndBlock's work is bounded by MaxOpenProposals proposals, each
// refunding at most MaxVoters stakes.
const (
	// MaxOpenProposals bounds the proposals voting or awaiting enactment.
	MaxOpenProposals = 32
	// MaxOpenReferendums bounds the referendums among them, so that token
	// holders' deposits cannot crowd the council out.
	MaxOpenReferendums = 16
	// MaxVoters bounds the votes on one proposal.
	MaxVoters = 256
	// MaxProposalArgs bounds the proposed call's arguments in bytes.
	MaxProposalArgs = 16 << 10
)

// Weights.
const (
	ProposeWeight    uint64 = 60_000
	VoteWeight       uint64 = 40_000
	SetCouncilWeight uint64 = 20_000
	SetParamsWeight  uint64 = 10_000
	UpgradeWeight    uint64 = 10_000
)

// MaxUpgradeHistory bounds the upgrade history that the key
// "gov/upgrade_history" holds: the oldest entries go first. Upgrades are
// rare (one per app version); the bound only keeps the value small.
const MaxUpgradeHistory = 64

// PotDomain is the preimage of PotAccount.
const PotDomain = "cella/gov/v1"

// PotAccount holds referendum deposits and vote stakes while referendums
// are open.
var PotAccount = keys.PublicKey(hashing.Blake2b256([]byte(PotDomain)))

// Storage keys.
var (
	KeyConfig  = []byte("gov/config")
	KeyNext    = []byte("gov/next")
	KeyOpen    = []byte("gov/open")
	KeyUpgrade = []byte("gov/upgrade")
	// KeyUpgradeHistory holds the past upgrades (AppVersion2 on).
	KeyUpgradeHistory = []byte("gov/upgrade_history")
	PrefixProposal    = []byte("gov/proposal/")
	PrefixVoters      = []byte("gov/voters/")
	PrefixVote        = []byte("gov/vote/")
)

// Kind is who decides a proposal.
type Kind uint8

const (
	// KindCouncil proposals pass with Threshold council ayes.
	KindCouncil Kind = 0
	// KindReferendum proposals pass by stake: ayes > nays and ayes + nays ≥ MinTurnout.
	KindReferendum Kind = 1
)

func (k Kind) String() string {
	if k == KindReferendum {
		return "referendum"
	}
	return "council"
}

// Status is where a proposal stands.
type Status uint8

const (
	StatusVoting   Status = 0 // open for votes until VotingEnds
	StatusApproved Status = 1 // approved; enacted at the end of block EnactAt
	StatusRejected Status = 2 // rejected, or expired without approval
	StatusEnacted  Status = 3 // enacted: the call succeeded
	StatusFailed   Status = 4 // enacted: the call failed with Result
)

func (s Status) String() string {
	switch s {
	case StatusVoting:
		return "voting"
	case StatusApproved:
		return "approved"
	case StatusRejected:
		return "rejected"
	case StatusEnacted:
		return "enacted"
	case StatusFailed:
		return "failed"
	}
	return "status_" + strconv.Itoa(int(s))
}

// Proposal is a stored proposal.
type Proposal struct {
	ID       uint64
	Kind     Kind
	Proposer keys.PublicKey
	Call     tx.Call
	Status   Status
	// Created is the height of the propose transaction; the proposal is
	// open for votes through VotingEnds = Created + VotingPeriod.
	Created, VotingEnds uint64
	// EnactAt is set on approval: approval height + EnactmentDelay.
	EnactAt uint64
	// Ayes and Nays count council members, or sum referendum stakes.
	Ayes, Nays scale.U128
	// Deposit is the referendum deposit (returned at close).
	Deposit scale.U128
	// Result is the enacted call's result code (StatusEnacted: 0).
	Result uint32
	// Closed is the height it was rejected or enacted (0 while open).
	Closed uint64
}

// EncodeSCALE writes id u64, kind u8, proposer [u8; 32], call (u8, u8,
// Vec<u8>), status u8, created u64, voting_ends u64, enact_at u64, ayes
// u128, nays u128, deposit u128, result u32, closed u64.
func (p *Proposal) EncodeSCALE(w *scale.Writer) {
	w.U64(p.ID)
	w.U8(uint8(p.Kind))
	w.Raw(p.Proposer[:])
	w.U8(p.Call.Module)
	w.U8(p.Call.Method)
	w.BytesVec(p.Call.Args)
	w.U8(uint8(p.Status))
	w.U64(p.Created)
	w.U64(p.VotingEnds)
	w.U64(p.EnactAt)
	w.U128(p.Ayes)
	w.U128(p.Nays)
	w.U128(p.Deposit)
	w.U32(p.Result)
	w.U64(p.Closed)
}

// DecodeSCALE reads a proposal.
func (p *Proposal) DecodeSCALE(r *scale.Reader) {
	p.ID = r.U64()
	p.Kind = Kind(r.Enum(1))
	r.Fixed(p.Proposer[:])
	p.Call.Module = r.U8()
	p.Call.Method = r.U8()
	p.Call.Args = r.BytesVec()
	p.Status = Status(r.Enum(4))
	p.Created = r.U64()
	p.VotingEnds = r.U64()
	p.EnactAt = r.U64()
	p.Ayes = r.U128()
	p.Nays = r.U128()
	p.Deposit = r.U128()
	p.Result = r.U32()
	p.Closed = r.U64()
}

// Vote is a stored vote: (aye bool, stake u128); stake 1 on council votes.
type Vote struct {
	Aye   bool
	Stake scale.U128
}

// EncodeSCALE writes (bool, u128).
func (v *Vote) EncodeSCALE(w *scale.Writer) { w.Bool(v.Aye); w.U128(v.Stake) }

// DecodeSCALE reads a vote.
func (v *Vote) DecodeSCALE(r *scale.Reader) { v.Aye = r.Bool(); v.Stake = r.U128() }

// Upgrade is a scheduled app-version upgrade: (height u64, app_version u64).
type Upgrade struct {
	Height     uint64
	AppVersion uint64
}

// EncodeSCALE writes (u64, u64).
func (u *Upgrade) EncodeSCALE(w *scale.Writer) { w.U64(u.Height); w.U64(u.AppVersion) }

// DecodeSCALE reads an upgrade.
func (u *Upgrade) DecodeSCALE(r *scale.Reader) { u.Height = r.U64(); u.AppVersion = r.U64() }

// PastUpgrade is an app-version upgrade that happened: block Height was the
// last block of app version From; the blocks after it run To.
type PastUpgrade struct {
	Height   uint64
	From, To uint64
}

// EncodeSCALE writes (u64, u64, u64).
func (u *PastUpgrade) EncodeSCALE(w *scale.Writer) { w.U64(u.Height); w.U64(u.From); w.U64(u.To) }

// DecodeSCALE reads a past upgrade.
func (u *PastUpgrade) DecodeSCALE(r *scale.Reader) {
	u.Height = r.U64()
	u.From = r.U64()
	u.To = r.U64()
}

// --- calls ---

// ProposeCall builds gov.propose(inner, referendum).
func ProposeCall(inner tx.Call, referendum bool) tx.Call {
	w := scale.NewWriter(8 + len(inner.Args))
	w.U8(inner.Module)
	w.U8(inner.Method)
	w.BytesVec(inner.Args)
	w.Bool(referendum)
	return tx.Call{Module: Index, Method: MethodPropose, Args: w.Bytes()}
}

// DecodeProposeArgs decodes gov.propose's arguments.
func DecodeProposeArgs(args []byte) (inner tx.Call, referendum bool, err error) {
	r := scale.NewReader(args)
	inner.Module = r.U8()
	inner.Method = r.U8()
	inner.Args = r.BytesVec()
	referendum = r.Bool()
	if err := r.Finish(); err != nil {
		return tx.Call{}, false, fmt.Errorf("gov.propose args: %w", err)
	}
	return inner, referendum, nil
}

// VoteCall builds gov.vote(id, aye, stake); stake must be 0 on a council
// proposal and positive on a referendum.
func VoteCall(id uint64, aye bool, stake scale.U128) tx.Call {
	w := scale.NewWriter(26)
	w.U64(id)
	w.Bool(aye)
	w.CompactU128(stake)
	return tx.Call{Module: Index, Method: MethodVote, Args: w.Bytes()}
}

// DecodeVoteArgs decodes gov.vote's arguments.
func DecodeVoteArgs(args []byte) (id uint64, aye bool, stake scale.U128, err error) {
	r := scale.NewReader(args)
	id = r.U64()
	aye = r.Bool()
	stake = r.CompactU128()
	if err := r.Finish(); err != nil {
		return 0, false, scale.U128{}, fmt.Errorf("gov.vote args: %w", err)
	}
	return id, aye, stake, nil
}

// SetCouncilCall builds gov.set_council(members, threshold) (privileged).
func SetCouncilCall(members []keys.PublicKey, threshold uint32) tx.Call {
	w := scale.NewWriter(8 + 32*len(members))
	scale.WriteVec(w, members, func(w *scale.Writer, k keys.PublicKey) { w.Raw(k[:]) })
	w.U32(threshold)
	return tx.Call{Module: Index, Method: MethodSetCouncil, Args: w.Bytes()}
}

// DecodeSetCouncilArgs decodes gov.set_council's arguments (at most
// state.MaxCouncilMembers members).
func DecodeSetCouncilArgs(args []byte) (members []keys.PublicKey, threshold uint32, err error) {
	r := scale.NewReader(args)
	n := r.Len(32) // bounded by the bytes received
	if n > state.MaxCouncilMembers {
		return nil, 0, fmt.Errorf("gov.set_council: %d members, at most %d", n, state.MaxCouncilMembers)
	}
	for i := 0; i < n && r.Err() == nil; i++ {
		var k keys.PublicKey
		r.Fixed(k[:])
		members = append(members, k)
	}
	threshold = r.U32()
	if err := r.Finish(); err != nil {
		return nil, 0, fmt.Errorf("gov.set_council args: %w", err)
	}
	return members, threshold, nil
}

// SetParamsCall builds gov.set_params(p) (privileged).
func SetParamsCall(p state.Params) tx.Call {
	return tx.Call{Module: Index, Method: MethodSetParams, Args: scale.Encode(&p)}
}

// DecodeSetParamsArgs decodes gov.set_params's argument.
func DecodeSetParamsArgs(args []byte) (state.Params, error) {
	var p state.Params
	if err := scale.Decode(args, &p); err != nil {
		return p, fmt.Errorf("gov.set_params args: %w", err)
	}
	return p, nil
}

// ScheduleUpgradeCall builds gov.schedule_upgrade(height, appVersion) (privileged).
func ScheduleUpgradeCall(height, appVersion uint64) tx.Call {
	return tx.Call{Module: Index, Method: MethodScheduleUpgrade, Args: scale.Encode(&Upgrade{Height: height, AppVersion: appVersion})}
}

// CancelUpgradeCall builds gov.cancel_upgrade() (privileged, AppVersion2).
func CancelUpgradeCall() tx.Call {
	return tx.Call{Module: Index, Method: MethodCancelUpgrade}
}

// DecodeScheduleUpgradeArgs decodes gov.schedule_upgrade's arguments.
func DecodeScheduleUpgradeArgs(args []byte) (Upgrade, error) {
	var u Upgrade
	if err := scale.Decode(args, &u); err != nil {
		return u, fmt.Errorf("gov.schedule_upgrade args: %w", err)
	}
	return u, nil
}

// --- storage ---

func u64be(id uint64) []byte { return binary.BigEndian.AppendUint64(nil, id) }

// ProposalKey returns the storage key of proposal id.
func ProposalKey(id uint64) []byte { return append(slices.Clone(PrefixProposal), u64be(id)...) }

// VotersKey returns the storage key of proposal id's voter list.
func VotersKey(id uint64) []byte { return append(slices.Clone(PrefixVoters), u64be(id)...) }

// VoteKey returns the storage key of voter's vote on proposal id.
func VoteKey(id uint64, voter keys.PublicKey) []byte {
	k := append(slices.Clone(PrefixVote), u64be(id)...)
	return append(k, voter[:]...)
}

func get[T any, P interface {
	*T
	scale.Decodable
}](st state.Store, key []byte) (*T, error) {
	v, ok, err := state.Load[T, P](st, key, string(key))
	if !ok {
		return nil, err
	}
	return &v, nil
}

// GetConfig reads governance's configuration (the genesis's, or
// state.DefaultGovGenesis when the store has none).
func GetConfig(st state.Store) (state.GovGenesis, error) {
	c, err := get[state.GovGenesis](st, KeyConfig)
	if err != nil || c == nil {
		return state.DefaultGovGenesis(), err
	}
	return *c, nil
}

func putConfig(ov *state.Overlay, c state.GovGenesis) {
	c.Council = slices.Clone(c.Council)
	slices.SortFunc(c.Council, func(a, b keys.PublicKey) int { return compareKeys(a, b) })
	ov.SetOwned(KeyConfig, scale.Encode(&c))
}

func compareKeys(a, b keys.PublicKey) int {
	for i := range a {
		if a[i] != b[i] {
			if a[i] < b[i] {
				return -1
			}
			return 1
		}
	}
	return 0
}

// GetProposal reads proposal id; nil when there is none.
func GetProposal(st state.Store, id uint64) (*Proposal, error) {
	return get[Proposal](st, ProposalKey(id))
}

func putProposal(ov *state.Overlay, p *Proposal) { ov.SetOwned(ProposalKey(p.ID), scale.Encode(p)) }

// GetVote reads voter's vote on proposal id; nil when it has none.
func GetVote(st state.Store, id uint64, voter keys.PublicKey) (*Vote, error) {
	return get[Vote](st, VoteKey(id, voter))
}

// NextID returns the id the next proposal gets (the number of proposals so far).
func NextID(st state.Store) (uint64, error) {
	v, err := st.Get(KeyNext)
	if err != nil {
		return 0, fmt.Errorf("state: reading %s: %w", KeyNext, err)
	}
	if v == nil {
		return 0, nil
	}
	if len(v) != 8 {
		return 0, fmt.Errorf("%w: %s of %d bytes", state.ErrCorruptState, KeyNext, len(v))
	}
	return binary.LittleEndian.Uint64(v), nil
}

// OpenIDs returns the ids of the proposals voting or awaiting enactment, ascending.
func OpenIDs(st state.Store) ([]uint64, error) {
	v, err := st.Get(KeyOpen)
	if err != nil {
		return nil, fmt.Errorf("state: reading %s: %w", KeyOpen, err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	ids := scale.ReadVec(r, 8, func(r *scale.Reader) uint64 { return r.U64() })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", state.ErrCorruptState, KeyOpen, err)
	}
	return ids, nil
}

func putOpen(ov *state.Overlay, ids []uint64) {
	if len(ids) == 0 {
		ov.Delete(KeyOpen)
		return
	}
	w := scale.NewWriter(1 + 8*len(ids))
	scale.WriteVec(w, ids, func(w *scale.Writer, id uint64) { w.U64(id) })
	ov.SetOwned(KeyOpen, w.Bytes())
}

// Voters returns proposal id's voters in vote order.
func Voters(st state.Store, id uint64) ([]keys.PublicKey, error) {
	v, err := st.Get(VotersKey(id))
	if err != nil {
		return nil, fmt.Errorf("state: reading voters of proposal %d: %w", id, err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 32, func(r *scale.Reader) (k keys.PublicKey) { r.Fixed(k[:]); return k })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: voters of proposal %d: %w", state.ErrCorruptState, id, err)
	}
	return out, nil
}

func putVoters(ov *state.Overlay, id uint64, voters []keys.PublicKey) {
	w := scale.NewWriter(2 + 32*len(voters))
	scale.WriteVec(w, voters, func(w *scale.Writer, k keys.PublicKey) { w.Raw(k[:]) })
	ov.SetOwned(VotersKey(id), w.Bytes())
}

// GetUpgrade reads the scheduled upgrade; nil when none is.
func GetUpgrade(st state.Store) (*Upgrade, error) { return get[Upgrade](st, KeyUpgrade) }

// UpgradeHistory reads the past upgrades, oldest first (none on a chain
// that never left AppVersion1).
func UpgradeHistory(st state.Store) ([]PastUpgrade, error) {
	v, err := st.Get(KeyUpgradeHistory)
	if err != nil {
		return nil, fmt.Errorf("state: reading the upgrade history: %w", err)
	}
	if v == nil {
		return nil, nil
	}
	r := scale.NewReader(v)
	out := scale.ReadVec(r, 24, func(r *scale.Reader) (u PastUpgrade) { u.DecodeSCALE(r); return u })
	if err := r.Finish(); err != nil {
		return nil, fmt.Errorf("%w: upgrade history: %w", state.ErrCorruptState, err)
	}
	return out, nil
}

// RecordUpgrade appends u to the upgrade history, dropping the oldest
// entries beyond MaxUpgradeHistory. Every app version's migration from
// AppVersion2 on calls it.
func RecordUpgrade(ov *state.Overlay, u PastUpgrade) error {
	h, err := UpgradeHistory(ov)
	if err != nil {
		return err
	}
	h = append(h, u)
	if len(h) > MaxUpgradeHistory {
		h = h[len(h)-MaxUpgradeHistory:]
	}
	w := scale.NewWriter(1 + 24*len(h))
	scale.WriteVec(w, h, func(w *scale.Writer, u PastUpgrade) { u.EncodeSCALE(w) })
	ov.SetOwned(KeyUpgradeHistory, w.Bytes())
	return nil
}

// --- balances ---

// lock moves amount from who's free balance to PotAccount. It fails, with
// a code, when who cannot afford it or would keep a balance below the
// existential deposit.
func lock(c *state.CallCtx, who keys.PublicKey, amount scale.U128) (uint32, string, error) {
	ov := c.Overlay()
	k := state.AccountKey(who)
	a, err := state.GetAccountAt(ov, k)
	if err != nil {
		return 0, "", err
	}
	rest, under := a.Free.Sub(amount)
	if under {
		return state.CodeInsufficientBalance, fmt.Sprintf("locking %s exceeds the free balance %s", amount, a.Free), nil
	}
	if ed := c.Params().ExistentialDeposit; !rest.IsZero() && rest.Cmp(ed) < 0 {
		return state.CodeBelowExistentialDeposit, fmt.Sprintf("locking %s would leave %s, below the existential deposit %s", amount, rest, ed), nil
	}
	pk := state.AccountKey(PotAccount)
	pot, err := state.GetAccountAt(ov, pk)
	if err != nil {
		return 0, "", err
	}
	sum, of := pot.Free.Add(amount)
	if of {
		return state.CodeOverflow, "the governance pot would overflow", nil
	}
	a.Free = rest
	state.PutAccount(ov, k, a)
	pot.Free = sum
	state.PutAccount(ov, pk, pot)
	return state.CodeOK, "", nil
}

// unlock moves amount from PotAccount back to who. The pot holds every
// open lock, so it cannot run short; a shortfall is corrupt state.
func unlock(ov *state.Overlay, who keys.PublicKey, amount scale.U128) error {
	if amount.IsZero() {
		return nil
	}
	pk := state.AccountKey(PotAccount)
	pot, err := state.GetAccountAt(ov, pk)
	if err != nil {
		return err
	}
	rest, under := pot.Free.Sub(amount)
	if under {
		return fmt.Errorf("%w: governance pot %s below a lock of %s", state.ErrCorruptState, pot.Free, amount)
	}
	pot.Free = rest
	state.PutAccount(ov, pk, pot)
	k := state.AccountKey(who)
	a, err := state.GetAccountAt(ov, k)
	if err != nil {
		return err
	}
	// Cannot overflow: total issuance fits u128.
	a.Free, _ = a.Free.Add(amount)
	state.PutAccount(ov, k, a)
	return nil
}
