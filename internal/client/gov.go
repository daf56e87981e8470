package client

import (
	"context"
	"encoding/binary"
	"fmt"
	"strconv"

	"github.com/cella-network/cella/internal/chainapi"
)

// Gov returns governance's state: the council and settings, the admin, the
// scheduled upgrade, the open proposals and the latest proposals.
func (c *Client) Gov(ctx context.Context) (*chainapi.GovInfo, error) {
	var g chainapi.GovInfo
	if err := c.queryJSON(ctx, chainapi.PathGov, nil, &g); err != nil {
		return nil, err
	}
	return &g, nil
}

// GovProposal returns one proposal with its votes; a *QueryError with code
// chainapi.QueryNotFound when there is none with this id.
func (c *Client) GovProposal(ctx context.Context, id uint64) (*chainapi.ProposalInfo, error) {
	var p chainapi.ProposalInfo
	if err := c.queryJSON(ctx, chainapi.PathGovProposal, binary.BigEndian.AppendUint64(nil, id), &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// ProposalID returns the id of the proposal a successful gov.propose
// transaction made, from its gov_proposed event.
func ProposalID(r *TxResult) (uint64, error) {
	for _, e := range r.Events {
		if e.Type != "gov_proposed" {
			continue
		}
		for _, a := range e.Attributes {
			if a.Key == "id" {
				return strconv.ParseUint(a.Value, 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("transaction %s made no proposal (%s)", r.Hash, r.Result)
}
