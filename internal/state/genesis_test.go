package state_test

import (
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/modules"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -run %s -update to create it)", err, t.Name())
	}
	if string(want) != got {
		t.Fatalf("%s differs from golden (a consensus format changed? if intended, rerun with -update)\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func goldenValidators() []state.Validator {
	var pk [32]byte
	for i := range pk {
		pk[i] = 0xaa
	}
	return []state.Validator{{PubKey: pk, Power: 10}}
}

func TestGenesisHashGolden(t *testing.T) {
	g := state.DevGenesis("cella-golden", goldenValidators())
	h := g.Hash()
	var b strings.Builder
	b.WriteString("# blake2-256 of SCALE(\"cella/genesis/v1\", chain id, validators, consensus params, app state)\n")
	b.WriteString("dev_genesis cella-golden " + hexs(h[:]) + "\n")
	g.App.Dev, g.App.Admin, g.App.DevBootstrap = false, nil, false
	g.App.Registry = state.RegistryGenesis{}
	h2 := g.Hash()
	b.WriteString("non_dev " + hexs(h2[:]) + "\n")
	golden(t, "genesis.golden", b.String())
}

func TestGenesisSensitivity(t *testing.T) {
	base := state.DevGenesis("cella-golden", goldenValidators())
	h0 := base.Hash()
	muts := map[string]func(g *state.Genesis){
		"chain id":     func(g *state.Genesis) { g.ChainID = "other" },
		"app version":  func(g *state.Genesis) { g.AppVersion = 2 },
		"validator":    func(g *state.Genesis) { g.Validators[0].Power++ },
		"block bytes":  func(g *state.Genesis) { g.Consensus.BlockMaxBytes++ },
		"key types":    func(g *state.Genesis) { g.Consensus.ValidatorPubKeyTypes = []string{"ed25519", "x"} },
		"dev":          func(g *state.Genesis) { g.App.Dev = false },
		"fee":          func(g *state.Genesis) { g.App.Params.BaseFee = u(1) },
		"ss58":         func(g *state.Genesis) { g.App.Params.SS58Prefix = 0 },
		"balance":      func(g *state.Genesis) { g.App.Balances[0].Free = u(1) },
		"allocation":   func(g *state.Genesis) { g.App.Balances = g.App.Balances[1:] },
		"vote ext":     func(g *state.Genesis) { g.Consensus.VoteExtensionsEnableHeight = 1 },
		"evidence age": func(g *state.Genesis) { g.Consensus.EvidenceMaxAgeNanos++ },
		"allow dev":    func(g *state.Genesis) { g.App.Registry.AllowDevAttestation = false },
		"dev root":     func(g *state.Genesis) { g.App.Registry.DevAttestationRoot[0] ^= 1 },
		"measurement":  func(g *state.Genesis) { g.App.Registry.AllowMeasurement([32]byte{1}) },
	}
	for name, mut := range muts {
		g := state.DevGenesis("cella-golden", goldenValidators())
		mut(g)
		if g.Hash() == h0 {
			t.Errorf("%s does not change the genesis hash", name)
		}
	}
	// SCALE round trip.
	var back state.Genesis
	if err := scale.Decode(scale.Encode(base), &back); err != nil {
		t.Fatal(err)
	}
	if back.Hash() != h0 {
		t.Fatal("round trip changed the hash")
	}
}

func TestGenesisValidate(t *testing.T) {
	alice := dev(t, "Alice").Public()
	cases := map[string]func(g *state.Genesis){
		"empty chain id": func(g *state.Genesis) { g.ChainID = "" },
		"long chain id":  func(g *state.Genesis) { g.ChainID = strings.Repeat("x", 51) },
		"app version":    func(g *state.Genesis) { g.AppVersion = 9 },
		"no validators":  func(g *state.Genesis) { g.Validators = nil },
		"zero power":     func(g *state.Genesis) { g.Validators[0].Power = 0 },
		"dup validator":  func(g *state.Genesis) { g.Validators = append(g.Validators, g.Validators[0]) },
		"too much power": func(g *state.Genesis) { g.Validators[0].Power = state.MaxTotalVotingPower + 1 },
		"small blocks":   func(g *state.Genesis) { g.Consensus.BlockMaxBytes = 4 << 20 },
		"huge blocks":    func(g *state.Genesis) { g.Consensus.BlockMaxBytes = 200 << 20 },
		"gas":            func(g *state.Genesis) { g.Consensus.BlockMaxGas = 100 },
		"evidence age":   func(g *state.Genesis) { g.Consensus.EvidenceMaxAgeNumBlocks = 0 },
		"evidence bytes": func(g *state.Genesis) { g.Consensus.EvidenceMaxBytes = -1 },
		"key types":      func(g *state.Genesis) { g.Consensus.ValidatorPubKeyTypes = []string{"secp256k1"} },
		"vote ext":       func(g *state.Genesis) { g.Consensus.VoteExtensionsEnableHeight = -1 },
		"block weight":   func(g *state.Genesis) { g.App.Params.MaxBlockWeight = 1 },
		"ss58":           func(g *state.Genesis) { g.App.Params.SS58Prefix = 16384 },
		"fee overflow":   func(g *state.Genesis) { g.App.Params.WeightFee = scale.U128{Hi: 1 << 62} },
		"dup account": func(g *state.Genesis) {
			g.App.Balances = append(g.App.Balances, state.Allocation{Account: alice, Free: u(state.Unit)})
		},
		"zero balance":                     func(g *state.Genesis) { g.App.Balances[0].Free = u(0) },
		"below ED":                         func(g *state.Genesis) { g.App.Balances[0].Free = u(1) },
		"issuance overflows":               func(g *state.Genesis) { g.App.Balances[0].Free = scale.U128{Lo: ^uint64(0), Hi: ^uint64(0)} },
		"dev attestation on non-dev chain": func(g *state.Genesis) { g.App.Dev = false },
		"dev attestation without root":     func(g *state.Genesis) { g.App.Registry.DevAttestationRoot = [32]byte{} },
		"duplicate measurement": func(g *state.Genesis) {
			g.App.Registry.Measurements = [][32]byte{{1}, {2}, {1}}
		},
	}
	if err := state.DevGenesis("ok", goldenValidators()).Validate(modules.Runtimes()); err != nil {
		t.Fatal(err)
	}
	for name, mut := range cases {
		g := state.DevGenesis("ok", goldenValidators())
		mut(g)
		err := g.Validate(modules.Runtimes())
		if !errors.Is(err, state.ErrInvalidGenesis) {
			t.Errorf("%s: %v", name, err)
		}
		if _, err := modules.NewMachine(g); err == nil {
			t.Errorf("%s: New accepted it", name)
		}
	}
}

func hexs(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}
