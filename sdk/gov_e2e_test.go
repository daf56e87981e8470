package sdk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/client"
	"github.com/cella-network/cella/internal/nodetest"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/sdk"
)

// TestGovCouncilOnNode: on a real dev node (council //Alice //Bob
// //Charlie, threshold 2), the council allow-lists a measurement and then
// removes the admin account, after which admin.sudo fails with no_admin;
// a vote from a non-member and a double vote fail with their codes.
func TestGovCouncilOnNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	o := nodetest.Options(t)
	nodetest.Start(t, t.TempDir(), o)
	c, err := sdk.Connect(o.RPCAddr)
	if err != nil {
		t.Fatal(err)
	}
	key := func(name string) *sdk.Key {
		k, err := sdk.KeyFromURI("//" + name)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	alice, bob, dave := key("Alice"), key("Bob"), key("Dave")
	g, err := c.Gov(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(g.Council) != 3 || g.Threshold != 2 || g.Admin == "" {
		t.Fatalf("dev governance: %+v", g)
	}
	wait := sdk.TxOptions{Wait: true}

	// enact proposes call by Alice, approves it by Bob and waits for the end.
	enact := func(call sdk.Call) *sdk.ProposalInfo {
		t.Helper()
		res, id, err := c.Propose(ctx, alice, call, false, wait)
		if err != nil || !res.OK() {
			t.Fatalf("propose: %+v %v", res, err)
		}
		if res, err := c.Vote(ctx, dave, id, true, nil, wait); resultCode(t, res, err) != state.CodeGovNotCouncil {
			t.Fatalf("vote by a non-member: %+v %v", res, err)
		}
		if res, err := c.Vote(ctx, alice, id, true, nil, wait); resultCode(t, res, err) != state.CodeGovAlreadyVoted {
			t.Fatalf("double vote: %+v %v", res, err)
		}
		if res, err := c.Vote(ctx, bob, id, true, nil, wait); err != nil || !res.OK() {
			t.Fatalf("vote: %+v %v", res, err)
		}
		var p *sdk.ProposalInfo
		nodetest.WaitFor(ctx, t, fmt.Sprintf("proposal %d's enactment", id), 20*time.Millisecond, func() bool {
			p, err = c.GovProposal(ctx, id)
			return err == nil && (p.Status == "enacted" || p.Status == "failed")
		})
		if p.Status != "enacted" || p.Closed != p.EnactAt || len(p.Votes) != 2 {
			t.Fatalf("proposal %+v", p)
		}
		return p
	}

	m := registry.MeasurementHash([]byte("a pRuntime build"))
	enact(sdk.AllowMeasurementCall(m))
	if g, err = c.Gov(ctx); err != nil || !slices.Contains(g.Measurements, sdk.Hash(m).Hex()) {
		t.Fatalf("allow-list after enactment: %+v %v", g, err)
	}

	enact(sdk.RemoveAdminCall())
	if g, err = c.Gov(ctx); err != nil || g.Admin != "" {
		t.Fatalf("admin after admin.remove: %+v %v", g, err)
	}
	// admin.sudo now fails: the admin is gone.
	sudo := admin.SudoCall(registry.AllowMeasurementCall([32]byte{1}))
	res, err := c.Send(ctx, alice, sdk.Call{Module: sudo.Module, Method: sudo.Method, Args: sudo.Args}, wait)
	if code := resultCode(t, res, err); code != state.CodeNoAdmin {
		t.Fatalf("admin.sudo after admin.remove: %s (%+v %v)", state.CodeName(code), res, err)
	}
}

// resultCode is a transaction's code: CheckTx's refusal, or its block result.
func resultCode(t *testing.T, res *sdk.TxResult, err error) uint32 {
	t.Helper()
	var te *client.TxError
	if errors.As(err, &te) {
		return te.Code
	}
	if err != nil {
		t.Fatal(err)
	}
	return res.Code
}
