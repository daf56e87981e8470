// Package genesisfile maps a Cella genesis (state.Genesis) to and from
// CometBFT's genesis document and the genesis.json file people edit. The
// node, pherry (which reads the genesis from a node) and the synthetic chain
// generator share it; it imports no node or network code.
package genesisfile

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/cometbft/cometbft/crypto/ed25519"
	cmttypes "github.com/cometbft/cometbft/types"

	"github.com/cella-network/cella/internal/chainapi"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
)

// AppStateJSON is the `app_state` of Cella's genesis.json: the state
// machine's part of the genesis, in a form people can edit. Amounts are
// decimal strings of base units (12 decimals); accounts are SS58 addresses
// or 0x-hex public keys.
type AppStateJSON struct {
	Dev      bool             `json:"dev"`
	Params   chainapi.Params  `json:"params"`
	Balances []AllocationJSON `json:"balances"`
	Registry RegistryJSON     `json:"registry"`
	// Admin is the account that dispatches privileged calls (admin.sudo);
	// absent or empty: the chain has no admin.
	Admin string `json:"admin,omitempty"`
	// DevBootstrap (dev chains with an admin): the first registered worker
	// becomes a gatekeeper and the only worker of cluster 0.
	DevBootstrap bool `json:"dev_bootstrap,omitempty"`
	// Gov configures governance; absent: state.DefaultGovGenesis (no
	// council, referendums only).
	Gov *GovJSON `json:"gov,omitempty"`
}

// GovJSON is governance's genesis section (state.GovGenesis): council
// members as SS58 addresses or 0x-hex keys, amounts as decimal strings of
// base units, delays and periods in blocks.
type GovJSON struct {
	Council           []string   `json:"council"`
	Threshold         uint32     `json:"threshold"`
	EnactmentDelay    uint64     `json:"enactment_delay"`
	VotingPeriod      uint64     `json:"voting_period"`
	ReferendumDeposit scale.U128 `json:"referendum_deposit"`
	MinTurnout        scale.U128 `json:"min_turnout"`
}

// RegistryJSON is the registry's genesis section (state.RegistryGenesis):
// keys and hashes as 0x-hex strings. An absent section means no dev
// attestations and an empty allow-list.
type RegistryJSON struct {
	// AllowDevAttestation admits dev quotes (dev chains only).
	AllowDevAttestation bool `json:"allow_dev_attestation"`
	// DevAttestationRoot is the sr25519 public key that signs dev quotes
	// (empty or all zero when dev quotes are not allowed).
	DevAttestationRoot string `json:"dev_attestation_root"`
	// Measurements is the allow-list: blake2-256 hashes of canonical
	// pRuntime measurements.
	Measurements []string `json:"measurements"`
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
	if g.App.Admin != nil {
		out.Admin = keys.EncodeSS58(*g.App.Admin, p.SS58Prefix)
	}
	out.DevBootstrap = g.App.DevBootstrap
	if gv := g.App.Gov; gv != nil {
		out.Gov = &GovJSON{Council: []string{}, Threshold: gv.Threshold, EnactmentDelay: gv.EnactmentDelay,
			VotingPeriod: gv.VotingPeriod, ReferendumDeposit: gv.ReferendumDeposit, MinTurnout: gv.MinTurnout}
		for _, m := range gv.Council {
			out.Gov.Council = append(out.Gov.Council, keys.EncodeSS58(m, p.SS58Prefix))
		}
	}
	r := &g.App.Registry
	out.Registry = RegistryJSON{
		AllowDevAttestation: r.AllowDevAttestation,
		DevAttestationRoot:  "0x" + hex.EncodeToString(r.DevAttestationRoot[:]),
		Measurements:        make([]string, len(r.Measurements)),
	}
	for i, m := range r.Measurements {
		out.Registry.Measurements[i] = "0x" + hex.EncodeToString(m[:])
	}
	return out
}

// parseHash32 parses a 0x-hex (or bare hex) 32-byte value.
func ParseHash32(s string) ([32]byte, error) {
	var out [32]byte
	b, err := hex.DecodeString(strings.TrimPrefix(s, "0x"))
	if err != nil || len(b) != 32 {
		return out, fmt.Errorf("%q is not 32 bytes of hex", s)
	}
	copy(out[:], b)
	return out, nil
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
	if r := a.Registry.DevAttestationRoot; r != "" {
		root, err := ParseHash32(r)
		if err != nil {
			return out, fmt.Errorf("registry.dev_attestation_root: %w", err)
		}
		out.Registry.DevAttestationRoot = root
	}
	out.Registry.AllowDevAttestation = a.Registry.AllowDevAttestation
	if a.Admin != "" {
		id, err := keys.ParseAccount(a.Admin)
		if err != nil {
			return out, fmt.Errorf("admin: %w", err)
		}
		out.Admin = &id
	}
	out.DevBootstrap = a.DevBootstrap
	if gv := a.Gov; gv != nil {
		out.Gov = &state.GovGenesis{Threshold: gv.Threshold, EnactmentDelay: gv.EnactmentDelay,
			VotingPeriod: gv.VotingPeriod, ReferendumDeposit: gv.ReferendumDeposit, MinTurnout: gv.MinTurnout}
		for i, m := range gv.Council {
			id, err := keys.ParseAccount(m)
			if err != nil {
				return out, fmt.Errorf("gov.council[%d]: %w", i, err)
			}
			out.Gov.Council = append(out.Gov.Council, id)
		}
	}
	for i, m := range a.Registry.Measurements {
		h, err := ParseHash32(m)
		if err != nil {
			return out, fmt.Errorf("registry.measurements[%d]: %w", i, err)
		}
		out.Registry.Measurements = append(out.Registry.Measurements, h)
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
	if err := modules.ValidateGenesis(g); err != nil {
		return nil, err
	}
	return g, nil
}

// EditAppState rewrites the app_state of the genesis file at path: it
// loads and validates the genesis, lets edit change its app part (for
// instance Registry.AllowMeasurement for the dev pRuntime's measurement),
// validates the result and saves it, keeping everything else of the file.
// Only use it before the chain starts: the genesis hash changes.
func EditAppState(path string, edit func(app *state.AppGenesis) error) error {
	doc, g, err := LoadGenesis(path)
	if err != nil {
		return err
	}
	if err := edit(&g.App); err != nil {
		return err
	}
	if err := modules.ValidateGenesis(g); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	app, err := json.MarshalIndent(AppStateFrom(g), "", "  ")
	if err != nil {
		return err
	}
	doc.AppState = app
	if err := doc.SaveAs(path); err != nil {
		return fmt.Errorf("write genesis %s: %w", path, err)
	}
	return nil
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
