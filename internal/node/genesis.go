package node

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
)

// AppStateJSON is the `app_state` of Cella's genesis.json: the state
// machine's part of the genesis, in a form people can edit. Amounts are
// decimal strings of base units (12 decimals); accounts are SS58 addresses
// or 0x-hex public keys.
type AppStateJSON struct {
	Dev      bool             `json:"dev"`
	Params   chainapi.Params  `json:"params"`
	Balances []AllocationJSON `json:"balances"`
}

// AllocationJSON is one genesis balance.
type AllocationJSON struct {
	Account string     `json:"account"`
	Free    scale.U128 `json:"free"`
}

// AppStateFrom renders the app part of g as JSON-friendly values.
func AppStateFrom(g *state.Genesis) AppStateJSON {
	p := g.App.Params
	out := AppStateJSON{
		Dev:    g.App.Dev,
		Params: chainapi.ParamsFrom(p),
	}
	for _, b := range g.App.Balances {
		out.Balances = append(out.Balances, AllocationJSON{Account: keys.EncodeSS58(b.Account, p.SS58Prefix), Free: b.Free})
	}
	return out
}

func (a *AppStateJSON) toState() (state.AppGenesis, error) {
	out := state.AppGenesis{
		Dev:    a.Dev,
		Params: a.Params.State(),
	}
	for i, b := range a.Balances {
		id, err := keys.ParseAccount(b.Account)
		if err != nil {
			return out, fmt.Errorf("balances[%d]: %w", i, err)
		}
		out.Balances = append(out.Balances, state.Allocation{Account: id, Free: b.Free})
	}
	return out, nil
}

// GenesisDoc renders a Cella genesis as CometBFT's genesis document.
func GenesisDoc(g *state.Genesis, genesisTime time.Time) (*cmttypes.GenesisDoc, error) {
	app, err := json.MarshalIndent(AppStateFrom(g), "", "  ")
	if err != nil {
		return nil, err
	}
	cp := cmttypes.DefaultConsensusParams()
	cp.Block.MaxBytes = g.Consensus.BlockMaxBytes
	cp.Block.MaxGas = g.Consensus.BlockMaxGas
	cp.Evidence.MaxAgeNumBlocks = g.Consensus.EvidenceMaxAgeNumBlocks
	cp.Evidence.MaxAgeDuration = time.Duration(g.Consensus.EvidenceMaxAgeNanos)
	cp.Evidence.MaxBytes = g.Consensus.EvidenceMaxBytes
	cp.Validator.PubKeyTypes = append([]string(nil), g.Consensus.ValidatorPubKeyTypes...)
	cp.ABCI.VoteExtensionsEnableHeight = g.Consensus.VoteExtensionsEnableHeight
	cp.Version.App = g.AppVersion
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     genesisTime.UTC(),
		ChainID:         g.ChainID,
		InitialHeight:   1,
		ConsensusParams: cp,
		AppState:        app,
	}
	for i, v := range g.Validators {
		pk := ed25519.PubKey(append([]byte(nil), v.PubKey[:]...))
		doc.Validators = append(doc.Validators, cmttypes.GenesisValidator{
			Address: pk.Address(), PubKey: pk, Power: v.Power, Name: fmt.Sprintf("validator-%d", i),
		})
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return doc, nil
}

// GenesisFromDoc reads the Cella genesis out of CometBFT's genesis document
// and validates it.
func GenesisFromDoc(doc *cmttypes.GenesisDoc) (*state.Genesis, error) {
	if doc.InitialHeight != 1 {
		return nil, fmt.Errorf("genesis: initial_height must be 1, is %d", doc.InitialHeight)
	}
	var as AppStateJSON
	if err := json.Unmarshal(doc.AppState, &as); err != nil {
		return nil, fmt.Errorf("genesis: app_state: %w", err)
	}
	app, err := as.toState()
	if err != nil {
		return nil, fmt.Errorf("genesis: app_state: %w", err)
	}
	cp := doc.ConsensusParams
	if cp == nil {
		return nil, errors.New("genesis: consensus_params missing")
	}
	g := &state.Genesis{
		ChainID:    doc.ChainID,
		AppVersion: cp.Version.App,
		Consensus: state.ConsensusParams{
			BlockMaxBytes:              cp.Block.MaxBytes,
			BlockMaxGas:                cp.Block.MaxGas,
			EvidenceMaxAgeNumBlocks:    cp.Evidence.MaxAgeNumBlocks,
			EvidenceMaxAgeNanos:        int64(cp.Evidence.MaxAgeDuration),
			EvidenceMaxBytes:           cp.Evidence.MaxBytes,
			ValidatorPubKeyTypes:       append([]string(nil), cp.Validator.PubKeyTypes...),
			VoteExtensionsEnableHeight: cp.ABCI.VoteExtensionsEnableHeight,
		},
		App: app,
	}
	for i, v := range doc.Validators {
		if v.PubKey == nil || v.PubKey.Type() != ed25519.KeyType {
			return nil, fmt.Errorf("genesis: validator %d: only ed25519 validator keys are supported", i)
		}
		var pk [32]byte
		copy(pk[:], v.PubKey.Bytes())
		g.Validators = append(g.Validators, state.Validator{PubKey: pk, Power: v.Power})
	}
	if err := g.Validate(); err != nil {
		return nil, err
	}
	return g, nil
}

// LoadGenesis reads and validates genesis.json.
func LoadGenesis(path string) (*cmttypes.GenesisDoc, *state.Genesis, error) {
	doc, err := cmttypes.GenesisDocFromFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read genesis %s: %w", path, err)
	}
	g, err := GenesisFromDoc(doc)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return doc, g, nil
}
