package synth

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/state"
)

// GenesisDoc renders a Cella genesis as CometBFT's genesis document, with
// the same mapping as internal/node.GenesisDoc (chain id, initial height 1,
// consensus params, validators) but without the app state, which synthetic
// chains do not need (AppState is "{}"). It is replicated here so that synth
// does not import the node and its ~700 packages.
func GenesisDoc(g *state.Genesis, genesisTime time.Time) (*types.GenesisDoc, error) {
	cp := types.DefaultConsensusParams()
	cp.Block.MaxBytes = g.Consensus.BlockMaxBytes
	cp.Block.MaxGas = g.Consensus.BlockMaxGas
	cp.Evidence.MaxAgeNumBlocks = g.Consensus.EvidenceMaxAgeNumBlocks
	cp.Evidence.MaxAgeDuration = time.Duration(g.Consensus.EvidenceMaxAgeNanos)
	cp.Evidence.MaxBytes = g.Consensus.EvidenceMaxBytes
	cp.Validator.PubKeyTypes = append([]string(nil), g.Consensus.ValidatorPubKeyTypes...)
	cp.ABCI.VoteExtensionsEnableHeight = g.Consensus.VoteExtensionsEnableHeight
	cp.Version.App = g.AppVersion
	doc := &types.GenesisDoc{
		GenesisTime:     genesisTime.UTC(),
		ChainID:         g.ChainID,
		InitialHeight:   1,
		ConsensusParams: cp,
		AppState:        json.RawMessage(`{}`),
	}
	for i, v := range g.Validators {
		pk := ed25519.PubKey(append([]byte(nil), v.PubKey[:]...))
		doc.Validators = append(doc.Validators, types.GenesisValidator{
			Address: pk.Address(), PubKey: pk, Power: v.Power, Name: fmt.Sprintf("validator-%d", i),
		})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("synth: genesis: %w", err)
	}
	return doc, nil
}

// DevGenesis returns state.DevGenesis for chainID with the given validators,
// each with power 10 unless powers (same length) says otherwise.
func DevGenesis(chainID string, vals []*Validator, powers ...int64) *state.Genesis {
	sv := make([]state.Validator, len(vals))
	for i, v := range vals {
		p := int64(10)
		if i < len(powers) {
			p = powers[i]
		}
		sv[i] = v.State(p)
	}
	return state.DevGenesis(chainID, sv)
}
