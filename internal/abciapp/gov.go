package abciapp

import (
	"encoding/binary"
	"fmt"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/registry"
)

// queryGov answers PathGov and PathGovProposal at app version version: a
// JSON value, or a query code and log.
func (a *App) queryGov(path string, data []byte, version uint64) (any, uint32, string) {
	prefix := a.genesis.App.Params.SS58Prefix
	info := func(p *gov.Proposal) chainapi.ProposalInfo {
		out := chainapi.ProposalInfo{
			ID: p.ID, Kind: p.Kind.String(), Proposer: keys.EncodeSS58(p.Proposer, prefix),
			Call: a.m.Runtimes().CallName(version, p.Call), Module: p.Call.Module, Method: p.Call.Method,
			Args: fmt.Sprintf("0x%x", p.Call.Args), Status: p.Status.String(), Created: p.Created, VotingEnds: p.VotingEnds,
			EnactAt: p.EnactAt, Ayes: p.Ayes.String(), Nays: p.Nays.String(), Result: p.Result, Closed: p.Closed,
		}
		if !p.Deposit.IsZero() {
			out.Deposit = p.Deposit.String()
		}
		if p.Status == gov.StatusEnacted || p.Status == gov.StatusFailed {
			out.ResultName = state.CodeName(p.Result)
		}
		return out
	}
	if path == chainapi.PathGovProposal {
		if len(data) != 8 {
			return nil, chainapi.QueryBadInput, fmt.Sprintf("proposal query needs an 8-byte big-endian id, got %d bytes", len(data))
		}
		id := binary.BigEndian.Uint64(data)
		p, err := gov.GetProposal(a.db, id)
		if err != nil {
			return nil, chainapi.QueryInternal, err.Error()
		}
		if p == nil {
			return nil, chainapi.QueryNotFound, fmt.Sprintf("no proposal %d", id)
		}
		out := info(p)
		voters, err := gov.Voters(a.db, id)
		if err != nil {
			return nil, chainapi.QueryInternal, err.Error()
		}
		out.Votes = []chainapi.VoteInfo{}
		for _, v := range voters {
			vote, err := gov.GetVote(a.db, id, v)
			if err != nil || vote == nil {
				return nil, chainapi.QueryInternal, fmt.Sprintf("vote of %s: %v", v.Hex(), err)
			}
			out.Votes = append(out.Votes, chainapi.VoteInfo{Voter: keys.EncodeSS58(v, prefix), Aye: vote.Aye, Stake: vote.Stake.String()})
		}
		return out, chainapi.QueryOK, ""
	}
	cfg, err := gov.GetConfig(a.db)
	if err != nil {
		return nil, chainapi.QueryInternal, err.Error()
	}
	out := chainapi.GovInfo{Council: []string{}, Threshold: cfg.Threshold, EnactmentDelay: cfg.EnactmentDelay, VotingPeriod: cfg.VotingPeriod,
		ReferendumDeposit: cfg.ReferendumDeposit.String(), MinTurnout: cfg.MinTurnout.String(), Open: []uint64{}, Proposals: []chainapi.ProposalInfo{}}
	for _, m := range cfg.Council {
		out.Council = append(out.Council, keys.EncodeSS58(m, prefix))
	}
	if k, ok, err := admin.GetAdmin(a.db); err != nil {
		return nil, chainapi.QueryInternal, err.Error()
	} else if ok {
		out.Admin = keys.EncodeSS58(k, prefix)
	}
	ms, err := registry.AllowedMeasurements(a.db)
	if err != nil {
		return nil, chainapi.QueryInternal, err.Error()
	}
	out.Measurements = make([]string, len(ms))
	for i, m := range ms {
		out.Measurements[i] = fmt.Sprintf("0x%x", m)
	}
	if u, err := gov.GetUpgrade(a.db); err != nil {
		return nil, chainapi.QueryInternal, err.Error()
	} else if u != nil {
		out.Upgrade = &chainapi.UpgradeInfo{Height: u.Height, AppVersion: u.AppVersion}
	}
	out.AppVersion = version
	past, err := gov.UpgradeHistory(a.db)
	if err != nil {
		return nil, chainapi.QueryInternal, err.Error()
	}
	out.PastUpgrades = make([]chainapi.PastUpgradeInfo, len(past))
	for i, u := range past {
		out.PastUpgrades[i] = chainapi.PastUpgradeInfo{Height: u.Height, From: u.From, AppVersion: u.To}
	}
	if out.NextID, err = gov.NextID(a.db); err != nil {
		return nil, chainapi.QueryInternal, err.Error()
	}
	open, err := gov.OpenIDs(a.db)
	if err != nil {
		return nil, chainapi.QueryInternal, err.Error()
	}
	out.Open = append(out.Open, open...)
	for id := out.NextID; id > 0 && len(out.Proposals) < chainapi.MaxGovProposals; id-- {
		p, err := gov.GetProposal(a.db, id-1)
		if err != nil || p == nil {
			return nil, chainapi.QueryInternal, fmt.Sprintf("proposal %d: %v", id-1, err)
		}
		out.Proposals = append(out.Proposals, info(p))
	}
	return out, chainapi.QueryOK, ""
}
