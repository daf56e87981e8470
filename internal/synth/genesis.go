package synth

import (
	"time"

	"github.com/cella-network/cella/internal/genesisfile"

	"github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/state"
)

// GenesisDoc renders a Cella genesis as CometBFT's genesis document, as a
// node's genesis.json holds it.
func GenesisDoc(g *state.Genesis, genesisTime time.Time) (*types.GenesisDoc, error) {
	return genesisfile.GenesisDoc(g, genesisTime)
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
