package genesisfile

import (
	"testing"
	"time"

	"github.com/cella-network/cella/internal/state"
)

// TestGenesisDocRoundTrip: a genesis survives the CometBFT document and its
// JSON app state with the same hash, with and without an admin.
func TestGenesisDocRoundTrip(t *testing.T) {
	for name, mut := range map[string]func(g *state.Genesis){
		"dev":      func(*state.Genesis) {},
		"no admin": func(g *state.Genesis) { g.App.Admin, g.App.DevBootstrap = nil, false },
		"gov":      func(g *state.Genesis) { g.App.Gov = state.DevGovGenesis() },
		"empty council": func(g *state.Genesis) {
			d := state.DefaultGovGenesis()
			g.App.Gov = &d
		},
	} {
		g := state.DevGenesis("cella-test", []state.Validator{{PubKey: [32]byte{1}, Power: 1}})
		mut(g)
		doc, err := GenesisDoc(g, time.Unix(0, 0))
		if err != nil {
			t.Fatal(name, err)
		}
		back, err := GenesisFromDoc(doc)
		if err != nil {
			t.Fatal(name, err)
		}
		if back.Hash() != g.Hash() || (back.App.Admin == nil) != (g.App.Admin == nil) || back.App.DevBootstrap != g.App.DevBootstrap || (back.App.Gov == nil) != (g.App.Gov == nil) {
			t.Fatalf("%s: %+v", name, back.App)
		}
	}
}
