// Package pruntime is the worker runtime meant to run inside a TEE: the
// shell around the pure worker core (internal/worker). It makes and seals
// the worker's keys, keeps a verified copy of chain state
// (internal/chainsync: light client + write-set checks against the AppHash),
// steps the core with every applied block, seals checkpoints (checkpoint.go)
// and restores them, and serves its API to pherry (internal) and to anyone
// (public) with connect-go. The public listener also answers signed,
// encrypted contract queries (query.go) on the Connect service and on
// Phala's pRPC (prpc.go: /prpc/PhactoryAPI.GetInfo and .ContractQuery, what
// @phala/sdk's createPruntimeClient speaks). What the worker does with a block (egress
// messages, later keys and clusters) lives in the core, not here.
//
// Nothing that reaches it through the API is trusted: pherry, the host and
// the network may lie, withhold or replay. Every input is verified before it
// changes state, and a failed call changes nothing.
package pruntime

import (
	"fmt"
)

//go:generate sh ../../proto/gen.sh

// DevBuildID is the build identifier of a pRuntime run in-process by `cella
// dev` (and by `cella pruntime run` unless told otherwise): its dev
// measurement is blake2-256 of it, which the dev genesis allow-lists. A
// standalone pRuntime binary uses the hash of its own executable instead.
func DevBuildID() []byte {
	return []byte(fmt.Sprintf("cella-dev-pruntime/%d.%d.%d", Version[0], Version[1], Version[2]))
}
