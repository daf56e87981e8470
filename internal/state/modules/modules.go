// Package modules is the one table that wires the state machine's modules,
// each in its own package, into the kernel: for every supported app version,
// the module at each index. A Machine runs the table it is built with;
// NewMachine builds one with this table, and ValidateGenesis checks a
// genesis against it.
package modules

import (
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
)

// runtimeV1 is the module table of AppVersion1. Index 0 is reserved for a
// future "system" module.
func runtimeV1() *state.Runtime {
	rt := &state.Runtime{}
	rt.Modules[balances.Index] = balances.Module()     // 1: transfer
	rt.Modules[validators.Index] = validators.Module() // 2: set_power (dev chains only)
	rt.Modules[mq.Index] = mq.Module()                 // 3: submit
	rt.Modules[registry.Index] = registry.Module()     // 4: register_worker
	return rt
}

// runtimes is built once; nobody modifies it.
var runtimes = state.Runtimes{
	state.AppVersion1: runtimeV1(),
}

// Runtimes returns the module table of every supported app version. Callers
// must not modify it.
func Runtimes() state.Runtimes { return runtimes }

// NewMachine returns a Machine for the chain g running this table (see
// state.New).
func NewMachine(g *state.Genesis, opts ...state.Option) (*state.Machine, error) {
	return state.New(g, runtimes, opts...)
}

// ValidateGenesis checks g against CometBFT's limits, Cella's rules and this
// table (see state.Genesis.Validate).
func ValidateGenesis(g *state.Genesis) error { return g.Validate(runtimes) }
