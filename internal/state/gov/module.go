package gov

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/tx"
)

// Module returns the gov module of AppVersion1 for the module table rt,
// whose privileged methods it enacts (looked up per call, as admin.sudo
// does).
func Module(rt *state.Runtime) *state.Module {
	g := &gov{rt: rt}
	return &state.Module{Name: "gov", Methods: []*state.Method{
		MethodPropose:         {Name: "propose", Weight: ProposeWeight, WeightPerByte: 1, MaxArgs: MaxProposalArgs + 16, Check: g.checkPropose, Exec: g.execPropose},
		MethodVote:            {Name: "vote", Weight: VoteWeight, Check: checkVote, Exec: execVote},
		MethodSetCouncil:      {Name: "set_council", Weight: SetCouncilWeight, Privileged: true, Check: checkSetCouncil, Exec: execSetCouncil},
		MethodSetParams:       {Name: "set_params", Weight: SetParamsWeight, Privileged: true, Check: checkSetParams, Exec: g.execSetParams},
		MethodScheduleUpgrade: {Name: "schedule_upgrade", Weight: UpgradeWeight, Privileged: true, Check: checkUpgrade, Exec: execUpgrade},
	}, InitChain: initChain, EndBlock: g.endBlock}
}

// ModuleV2 returns the gov module of AppVersion2: Module's methods plus
// cancel_upgrade.
func ModuleV2(rt *state.Runtime) *state.Module {
	m := Module(rt)
	m.Methods = append(m.Methods, &state.Method{Name: "cancel_upgrade", Weight: UpgradeWeight, Privileged: true, Check: checkCancelUpgrade, Exec: execCancelUpgrade})
	return m
}

type gov struct{ rt *state.Runtime }

func initChain(ov *state.Overlay, g *state.Genesis) {
	if g.App.Gov != nil {
		putConfig(ov, *g.App.Gov)
	}
}

func height(c *state.CallCtx) uint64 {
	if h := c.Header().Height; h > 0 {
		return uint64(h)
	}
	return 0
}

func event(typ string, id uint64, attrs ...state.EventAttribute) state.Event {
	return state.Event{Type: typ, Attributes: append([]state.EventAttribute{{Key: "id", Value: strconv.FormatUint(id, 10), Index: true}}, attrs...)}
}

// --- propose ---

func (g *gov) checkPropose(args []byte) error {
	inner, _, err := DecodeProposeArgs(args)
	if err != nil {
		return err
	}
	if len(inner.Args) > MaxProposalArgs {
		return fmt.Errorf("gov.propose: the call has %d bytes of arguments, at most %d", len(inner.Args), MaxProposalArgs)
	}
	return nil
}

// checkInner judges a proposed call as its enactment will: a known
// privileged method with valid arguments; a schedule_upgrade must name a
// future height.
func (g *gov) checkInner(c *state.CallCtx, inner tx.Call) (uint32, string) {
	m, err := admin.LookupPrivileged(g.rt, inner)
	if err != nil {
		return state.CodeGovUnknownCall, "gov.propose: " + err.Error()
	}
	if err := m.CheckArgs(inner.Args); err != nil {
		return state.CodeBadDispatchArgs, err.Error()
	}
	if inner.Module == Index && inner.Method == MethodScheduleUpgrade {
		if code, log := judgeUpgrade(c, inner.Args); code != state.CodeOK {
			return code, log
		}
	}
	return state.CodeOK, ""
}

func (g *gov) execPropose(c *state.CallCtx, args []byte) (uint32, string, error) {
	inner, referendum, err := DecodeProposeArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	if code, log := g.checkInner(c, inner); code != state.CodeOK {
		return code, log, nil
	}
	ov := c.Overlay()
	cfg, err := GetConfig(ov)
	if err != nil {
		return 0, "", err
	}
	open, err := OpenIDs(ov)
	if err != nil {
		return 0, "", err
	}
	if len(open) >= MaxOpenProposals {
		return state.CodeGovTooManyProposals, fmt.Sprintf("%d proposals are open already", len(open)), nil
	}
	if referendum {
		n := 0
		for _, id := range open {
			p, err := GetProposal(ov, id)
			if err != nil {
				return 0, "", err
			}
			if p != nil && p.Kind == KindReferendum {
				n++
			}
		}
		if n >= MaxOpenReferendums {
			return state.CodeGovTooManyProposals, fmt.Sprintf("%d referendums are open already", n), nil
		}
	}
	id, err := NextID(ov)
	if err != nil {
		return 0, "", err
	}
	h := height(c)
	p := &Proposal{ID: id, Proposer: c.Signer(), Call: inner, Created: h, VotingEnds: h + cfg.VotingPeriod}
	if referendum {
		p.Kind = KindReferendum
		p.Deposit = cfg.ReferendumDeposit
		if code, log, err := lock(c, c.Signer(), p.Deposit); code != state.CodeOK || err != nil {
			return code, "referendum deposit: " + log, err
		}
	} else {
		if len(cfg.Council) == 0 {
			return state.CodeGovNoCouncil, "this chain has no council: propose a referendum", nil
		}
		if !isMember(cfg.Council, c.Signer()) {
			return state.CodeGovNotCouncil, fmt.Sprintf("%s is not a council member", c.Signer().Hex()), nil
		}
		// The proposer's aye counts, as in Substrate's collective.
		p.Ayes = scale.U128From(1)
		ov.SetOwned(VoteKey(id, c.Signer()), scale.Encode(&Vote{Aye: true, Stake: scale.U128From(1)}))
		putVoters(ov, id, []keys.PublicKey{c.Signer()})
		if uint64(cfg.Threshold) <= 1 {
			approve(p, h, cfg)
		}
	}
	putProposal(ov, p)
	ov.SetOwned(KeyNext, scale.Encode(u64le(id+1)))
	if p.Status == StatusVoting || p.Status == StatusApproved {
		putOpen(ov, append(open, id))
	}
	c.AddEvent(event("gov_proposed", id,
		state.EventAttribute{Key: "kind", Value: p.Kind.String()},
		state.EventAttribute{Key: "call", Value: fmt.Sprintf("%d.%d", inner.Module, inner.Method)},
		state.EventAttribute{Key: "status", Value: p.Status.String()}))
	return state.CodeOK, fmt.Sprintf("proposal %d", id), nil
}

type u64le uint64

func (v u64le) EncodeSCALE(w *scale.Writer) { w.U64(uint64(v)) }

func isMember(council []keys.PublicKey, k keys.PublicKey) bool {
	_, ok := slices.BinarySearchFunc(council, k, compareKeys)
	return ok
}

// approve marks p approved at height h: enacted at h + EnactmentDelay.
func approve(p *Proposal, h uint64, cfg state.GovGenesis) {
	p.Status = StatusApproved
	p.EnactAt = h + cfg.EnactmentDelay
}

// --- vote ---

func checkVote(args []byte) error {
	_, _, _, err := DecodeVoteArgs(args)
	return err
}

func execVote(c *state.CallCtx, args []byte) (uint32, string, error) {
	id, aye, stake, err := DecodeVoteArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	ov := c.Overlay()
	p, err := GetProposal(ov, id)
	if err != nil {
		return 0, "", err
	}
	if p == nil {
		return state.CodeGovUnknownProposal, fmt.Sprintf("no proposal %d", id), nil
	}
	if p.Status != StatusVoting {
		return state.CodeGovVotingClosed, fmt.Sprintf("proposal %d is %s", id, p.Status), nil
	}
	cfg, err := GetConfig(ov)
	if err != nil {
		return 0, "", err
	}
	who := c.Signer()
	if p.Kind == KindCouncil {
		if !isMember(cfg.Council, who) {
			return state.CodeGovNotCouncil, fmt.Sprintf("%s is not a council member", who.Hex()), nil
		}
		if !stake.IsZero() {
			return state.CodeGovBadVote, "a council vote locks no stake: give 0", nil
		}
		stake = scale.U128From(1)
	} else if min := MinVoteStake(cfg); stake.Cmp(min) < 0 {
		return state.CodeGovBadVote, fmt.Sprintf("a referendum vote locks at least %s (min_turnout / %d)", min, MaxVoters), nil
	}
	prev, err := GetVote(ov, id, who)
	if err != nil {
		return 0, "", err
	}
	if prev != nil {
		return state.CodeGovAlreadyVoted, fmt.Sprintf("%s already voted on proposal %d", who.Hex(), id), nil
	}
	voters, err := Voters(ov, id)
	if err != nil {
		return 0, "", err
	}
	if len(voters) >= MaxVoters {
		return state.CodeGovTooManyVotes, fmt.Sprintf("proposal %d has %d votes, the most it takes", id, len(voters)), nil
	}
	if p.Kind == KindReferendum {
		if code, log, err := lock(c, who, stake); code != state.CodeOK || err != nil {
			return code, "vote stake: " + log, err
		}
	}
	var of bool
	if aye {
		p.Ayes, of = p.Ayes.Add(stake)
	} else {
		p.Nays, of = p.Nays.Add(stake)
	}
	if of { // stakes are locked balances: cannot overflow while issuance fits u128
		return state.CodeOverflow, "vote tally overflows u128", nil
	}
	ov.SetOwned(VoteKey(id, who), scale.Encode(&Vote{Aye: aye, Stake: stake}))
	putVoters(ov, id, append(voters, who))
	h := height(c)
	if p.Kind == KindCouncil {
		members := uint64(len(cfg.Council))
		switch {
		case p.Ayes.Cmp(scale.U128From(uint64(cfg.Threshold))) >= 0:
			approve(p, h, cfg)
		case p.Nays.Cmp(scale.U128From(members-min(members, uint64(cfg.Threshold)))) > 0:
			// The threshold can no longer be reached.
			p.Status, p.Closed = StatusRejected, h
			if err := closeOpen(ov, id); err != nil {
				return 0, "", err
			}
		}
	}
	putProposal(ov, p)
	c.AddEvent(event("gov_voted", id,
		state.EventAttribute{Key: "voter", Value: who.Hex(), Index: true},
		state.EventAttribute{Key: "aye", Value: strconv.FormatBool(aye)},
		state.EventAttribute{Key: "stake", Value: stake.String()},
		state.EventAttribute{Key: "status", Value: p.Status.String()}))
	return state.CodeOK, "", nil
}

// MinVoteStake is the least stake of a referendum vote: MinTurnout /
// MaxVoters, at least 1, so that MaxVoters votes can always reach the
// turnout and filling the vote slots costs as much as the turnout.
func MinVoteStake(cfg state.GovGenesis) scale.U128 {
	q := new(big.Int).Quo(cfg.MinTurnout.Big(), big.NewInt(MaxVoters))
	v, _ := scale.U128FromBig(q) // below MinTurnout: fits
	if v.IsZero() {
		return scale.U128From(1)
	}
	return v
}

// closeOpen removes id from the open list.
func closeOpen(ov *state.Overlay, id uint64) error {
	open, err := OpenIDs(ov)
	if err != nil {
		return err
	}
	putOpen(ov, slices.DeleteFunc(open, func(x uint64) bool { return x == id }))
	return nil
}

// --- privileged methods ---

func checkSetCouncil(args []byte) error {
	_, _, err := DecodeSetCouncilArgs(args)
	return err
}

func execSetCouncil(c *state.CallCtx, args []byte) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "gov.set_council needs the root origin", nil
	}
	members, threshold, err := DecodeSetCouncilArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	if err := state.ValidateCouncil(members, threshold); err != nil {
		return state.CodeGovBadCouncil, "gov.set_council: " + err.Error(), nil
	}
	cfg, err := GetConfig(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	cfg.Council, cfg.Threshold = members, threshold
	putConfig(c.Overlay(), cfg)
	c.AddEvent(state.Event{Type: "gov_council", Attributes: []state.EventAttribute{
		{Key: "members", Value: strconv.Itoa(len(members))},
		{Key: "threshold", Value: strconv.FormatUint(uint64(threshold), 10)},
	}})
	return state.CodeOK, "", nil
}

func checkSetParams(args []byte) error {
	_, err := DecodeSetParamsArgs(args)
	return err
}

// ValidateParams checks chain parameters as Genesis.Validate does: an SS58
// prefix below 16384, room in a block for the heaviest transaction of rt,
// and fees that do not overflow u128 for the largest transaction.
func ValidateParams(rt *state.Runtime, p *state.Params) error {
	if p.SS58Prefix >= 16384 {
		return fmt.Errorf("ss58 prefix %d out of range [0, 16383]", p.SS58Prefix)
	}
	if maxW := state.MaxTxWeight(state.Runtimes{0: rt}, 0); p.MaxBlockWeight < maxW {
		return fmt.Errorf("max block weight %d is below one transaction's weight %d", p.MaxBlockWeight, maxW)
	}
	bytesFee, of1 := p.ByteFee.Mul64(uint64(tx.MaxTxBytes))
	weightFee, of2 := p.WeightFee.Mul64(p.MaxBlockWeight)
	fee, of3 := p.BaseFee.Add(bytesFee)
	_, of4 := fee.Add(weightFee)
	if of1 || of2 || of3 || of4 {
		return fmt.Errorf("fee parameters overflow u128 for the largest transaction")
	}
	return nil
}

func (g *gov) execSetParams(c *state.CallCtx, args []byte) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "gov.set_params needs the root origin", nil
	}
	p, err := DecodeSetParamsArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error(), nil
	}
	if err := ValidateParams(g.rt, &p); err != nil {
		return state.CodeGovBadParams, "gov.set_params: " + err.Error(), nil
	}
	if cur := c.Params().SS58Prefix; p.SS58Prefix != cur {
		// Addresses everywhere are shown with the genesis's prefix.
		return state.CodeGovBadParams, fmt.Sprintf("gov.set_params: the SS58 prefix is fixed at genesis (%d)", cur), nil
	}
	c.Overlay().SetOwned(state.KeyParams, scale.Encode(&p))
	c.AddEvent(state.Event{Type: "gov_params"})
	return state.CodeOK, "", nil
}

func checkUpgrade(args []byte) error {
	_, err := DecodeScheduleUpgradeArgs(args)
	return err
}

// judgeUpgrade checks a schedule_upgrade against the current block: a
// height above it, an app version above the current one.
func judgeUpgrade(c *state.CallCtx, args []byte) (uint32, string) {
	u, err := DecodeScheduleUpgradeArgs(args)
	if err != nil {
		return state.CodeBadArgs, err.Error()
	}
	if h := height(c); u.Height <= h || u.Height > math.MaxInt64 {
		return state.CodeUpgradeInPast, fmt.Sprintf("upgrade height %d is not above the current block %d", u.Height, h)
	}
	if cur := c.Header().AppVersion; u.AppVersion <= cur {
		return state.CodeUpgradeUnsupported, fmt.Sprintf("app version %d is not above the current %d", u.AppVersion, cur)
	}
	return state.CodeOK, ""
}

func execUpgrade(c *state.CallCtx, args []byte) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "gov.schedule_upgrade needs the root origin", nil
	}
	if code, log := judgeUpgrade(c, args); code != state.CodeOK {
		return code, log, nil
	}
	u, _ := DecodeScheduleUpgradeArgs(args)
	c.Overlay().SetOwned(KeyUpgrade, scale.Encode(&u))
	c.AddEvent(state.Event{Type: "gov_upgrade", Attributes: []state.EventAttribute{
		{Key: "height", Value: strconv.FormatUint(u.Height, 10)},
		{Key: "app_version", Value: strconv.FormatUint(u.AppVersion, 10)},
	}})
	return state.CodeOK, "", nil
}

func checkCancelUpgrade(args []byte) error {
	if len(args) != 0 {
		return fmt.Errorf("gov.cancel_upgrade takes no arguments, got %d bytes", len(args))
	}
	return nil
}

// execCancelUpgrade removes the scheduled upgrade (AppVersion2).
func execCancelUpgrade(c *state.CallCtx, _ []byte) (uint32, string, error) {
	if !c.IsRoot() {
		return state.CodeNotRoot, "gov.cancel_upgrade needs the root origin", nil
	}
	u, err := GetUpgrade(c.Overlay())
	if err != nil {
		return 0, "", err
	}
	if u == nil {
		return state.CodeNoUpgradeScheduled, "no upgrade is scheduled", nil
	}
	c.Overlay().Delete(KeyUpgrade)
	c.AddEvent(state.Event{Type: "gov_upgrade_cancelled", Attributes: []state.EventAttribute{
		{Key: "height", Value: strconv.FormatUint(u.Height, 10)},
		{Key: "app_version", Value: strconv.FormatUint(u.AppVersion, 10)},
	}})
	return state.CodeOK, "", nil
}

// --- end of block ---

// dueUpgrade ends the block at the scheduled upgrade's height: the schedule
// is removed and the kernel switches the chain to its app version once the
// hooks ran (or stops the block when this code does not support it; see
// state.UpgradeError). A schedule that is not above the current version by
// now (it cannot be: scheduling checks it and only an upgrade raises the
// version) is dropped with an event. Only the block at exactly the
// scheduled height switches: a schedule whose height passed unswitched
// (recorded by code that did not switch yet) stays inert, so that such a
// chain does not switch late on some nodes.
func dueUpgrade(c *state.CallCtx) error {
	ov := c.Overlay()
	u, err := GetUpgrade(ov)
	if err != nil || u == nil || u.Height != height(c) {
		return err
	}
	ov.Delete(KeyUpgrade)
	attrs := []state.EventAttribute{
		{Key: "height", Value: strconv.FormatUint(u.Height, 10)},
		{Key: "from", Value: strconv.FormatUint(c.Header().AppVersion, 10)},
		{Key: "app_version", Value: strconv.FormatUint(u.AppVersion, 10)},
	}
	if u.AppVersion <= c.Header().AppVersion {
		c.AddEvent(state.Event{Type: "gov_upgrade_dropped", Attributes: attrs})
		return nil
	}
	c.SwitchAppVersion(u.AppVersion)
	c.AddEvent(state.Event{Type: "gov_upgrade_enacted", Attributes: attrs})
	return nil
}

// endBlock closes what is due, in ascending proposal id order: a proposal
// whose voting period ended (a referendum is tallied and its locks
// returned; a council proposal expires), then an approved proposal whose
// enactment height came (its call dispatched with the root origin, the
// result recorded); then the scheduled upgrade, when its height came (see
// dueUpgrade): a schedule that a proposal enacted in this block replaced
// is the one judged.
func (g *gov) endBlock(c *state.CallCtx) error {
	if err := g.closeDue(c); err != nil {
		return err
	}
	return dueUpgrade(c)
}

func (g *gov) closeDue(c *state.CallCtx) error {
	ov := c.Overlay()
	open, err := OpenIDs(ov)
	if err != nil || len(open) == 0 {
		return err
	}
	cfg, err := GetConfig(ov)
	if err != nil {
		return err
	}
	h := height(c)
	still := make([]uint64, 0, len(open))
	for _, id := range open {
		p, err := GetProposal(ov, id)
		if err != nil {
			return err
		}
		if p == nil {
			return fmt.Errorf("%w: open proposal %d is missing", state.ErrCorruptState, id)
		}
		changed := false
		if p.Status == StatusVoting && h >= p.VotingEnds {
			changed = true
			if p.Kind == KindReferendum {
				if err := g.tally(ov, p, h, cfg); err != nil {
					return err
				}
			} else {
				p.Status, p.Closed = StatusRejected, h
			}
			c.AddEvent(event("gov_closed", id, state.EventAttribute{Key: "status", Value: p.Status.String()},
				state.EventAttribute{Key: "ayes", Value: p.Ayes.String()}, state.EventAttribute{Key: "nays", Value: p.Nays.String()}))
		} else if p.Status == StatusApproved && h >= p.EnactAt {
			changed = true
			if err := g.enact(c, p, h); err != nil {
				return err
			}
		}
		if changed {
			putProposal(ov, p)
		}
		if p.Status == StatusVoting || p.Status == StatusApproved {
			still = append(still, id)
		}
	}
	if len(still) != len(open) {
		putOpen(ov, still)
	}
	return nil
}

// tally decides a referendum whose voting period ended and returns its
// deposit and stakes.
func (g *gov) tally(ov *state.Overlay, p *Proposal, h uint64, cfg state.GovGenesis) error {
	turnout, of := p.Ayes.Add(p.Nays)
	if !of && p.Ayes.Cmp(p.Nays) > 0 && turnout.Cmp(cfg.MinTurnout) >= 0 {
		approve(p, h, cfg)
	} else {
		p.Status, p.Closed = StatusRejected, h
	}
	if err := unlock(ov, p.Proposer, p.Deposit); err != nil {
		return err
	}
	voters, err := Voters(ov, p.ID)
	if err != nil {
		return err
	}
	for _, v := range voters {
		vote, err := GetVote(ov, p.ID, v)
		if err != nil {
			return err
		}
		if vote == nil {
			return fmt.Errorf("%w: vote of %s on proposal %d is missing", state.ErrCorruptState, v.Hex(), p.ID)
		}
		if err := unlock(ov, v, vote.Stake); err != nil {
			return err
		}
	}
	return nil
}

// enact dispatches p's call with the root origin.
func (g *gov) enact(c *state.CallCtx, p *Proposal, h uint64) error {
	p.Closed = h
	m, err := admin.LookupPrivileged(g.rt, p.Call)
	if err != nil { // the table changed since the proposal
		p.Status, p.Result = StatusFailed, state.CodeGovUnknownCall
		c.AddEvent(event("gov_enacted", p.ID, state.EventAttribute{Key: "result", Value: state.CodeName(p.Result)}))
		return nil
	}
	code, log, err := c.Dispatch(m, p.Call.Args, state.OriginRoot)
	if err != nil {
		return err
	}
	p.Result = code
	p.Status = StatusEnacted
	if code != state.CodeOK {
		p.Status = StatusFailed
	}
	c.AddEvent(event("gov_enacted", p.ID,
		state.EventAttribute{Key: "result", Value: state.CodeName(code)},
		state.EventAttribute{Key: "log", Value: log}))
	return nil
}
