package sdk

import (
	"context"
	"math/big"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
	"github.com/cella-network/cella/internal/tx"
)

// GovInfo is governance's state (see Client.Gov).
type GovInfo = chainapi.GovInfo

// ProposalInfo is a governance proposal (see Client.GovProposal).
type ProposalInfo = chainapi.ProposalInfo

// Gov returns governance's state: the council and its settings, the admin
// (if any), the scheduled upgrade, the open proposals and the latest ones.
func (c *Client) Gov(ctx context.Context) (*GovInfo, error) { return c.node.Gov(ctx) }

// GovProposal returns proposal id with its votes.
func (c *Client) GovProposal(ctx context.Context, id uint64) (*ProposalInfo, error) {
	return c.node.GovProposal(ctx, id)
}

// Propose sends gov.propose(call): a council proposal (key must be a
// council member; its aye counts) or, with referendum, a token holders'
// referendum (key locks the referendum deposit until it closes). call must
// be a privileged call (the builders below). With o.Wait, the proposal's id
// is returned too (0 otherwise, or when the transaction failed).
func (c *Client) Propose(ctx context.Context, key *Key, call Call, referendum bool, o TxOptions) (*TxResult, uint64, error) {
	res, err := c.Send(ctx, key, fromTx(gov.ProposeCall(toTx(call), referendum)), o)
	if err != nil || !res.OK() {
		return res, 0, err
	}
	r, err := c.node.Wait(ctx, res.Hash)
	if err != nil {
		return res, 0, err
	}
	id, err := client.ProposalID(r)
	return res, id, err
}

// Vote sends gov.vote: on a council proposal stake must be nil or 0 (key
// must be a council member); on a referendum, stake (in base units) is
// locked until the referendum closes and weighs the vote.
func (c *Client) Vote(ctx context.Context, key *Key, id uint64, aye bool, stake *big.Int, o TxOptions) (*TxResult, error) {
	s, err := toU128(stake)
	if err != nil {
		return nil, err
	}
	return c.Send(ctx, key, fromTx(gov.VoteCall(id, aye, s)), o)
}

func toTx(c Call) tx.Call   { return tx.Call{Module: c.Module, Method: c.Method, Args: c.Args} }
func fromTx(c tx.Call) Call { return Call{Module: c.Module, Method: c.Method, Args: c.Args} }

// Privileged calls, for Propose.

// AllowMeasurementCall allow-lists a pRuntime measurement hash.
func AllowMeasurementCall(hash Hash) Call { return fromTx(registry.AllowMeasurementCall(hash)) }

// DisallowMeasurementCall removes a measurement hash from the allow-list.
func DisallowMeasurementCall(hash Hash) Call { return fromTx(registry.DisallowMeasurementCall(hash)) }

// RemoveAdminCall removes the chain's admin account for good.
func RemoveAdminCall() Call { return fromTx(admin.RemoveCall()) }

// SetCouncilCall replaces the council and its threshold.
func SetCouncilCall(members []Address, threshold uint32) Call {
	ks := make([]keys.PublicKey, len(members))
	for i, m := range members {
		ks[i] = keys.PublicKey(m)
	}
	return fromTx(gov.SetCouncilCall(ks, threshold))
}

// SetValidatorCall sets a validator's power (0 removes it); without
// allowConcentration the enactment fails when one validator would hold
// more than a third of the power.
func SetValidatorCall(pubKey [32]byte, power uint64, allowConcentration bool) Call {
	return fromTx(validators.SetCall(pubKey, power, allowConcentration))
}

// ScheduleUpgradeCall schedules an app-version upgrade at a height: that
// block is the last of the current version, the next one runs appVersion
// (nodes whose binary lacks it stop at the height).
func ScheduleUpgradeCall(height, appVersion uint64) Call {
	return fromTx(gov.ScheduleUpgradeCall(height, appVersion))
}

// CancelUpgradeCall cancels the scheduled upgrade (app version 2 on).
func CancelUpgradeCall() Call { return fromTx(gov.CancelUpgradeCall()) }

// AddGatekeeperCall makes a registered worker (its identity key) a
// gatekeeper; the designated gatekeeper then shares the master key with it.
func AddGatekeeperCall(worker Address) Call {
	return fromTx(gatekeeper.AddCall(keys.PublicKey(worker)))
}

// RemoveGatekeeperCall removes a gatekeeper.
func RemoveGatekeeperCall(worker Address) Call {
	return fromTx(gatekeeper.RemoveCall(keys.PublicKey(worker)))
}

// RotateMasterKeyCall rotates the master key: the gatekeepers make the
// next epoch's key and re-key every cluster; the contracts' new keys then
// appear on chain (Client.Contract), which Call encrypts to.
func RotateMasterKeyCall() Call { return fromTx(gatekeeper.RotateMasterKeyCall()) }

// SetKeyGraceCall sets how many blocks after a re-keying a command
// encrypted to a contract's previous key still runs (later re-keyings only).
func SetKeyGraceCall(blocks uint32) Call { return fromTx(gatekeeper.SetKeyGraceCall(blocks)) }
