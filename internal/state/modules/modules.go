// Package modules is the one table that wires the state machine's modules,
// each in its own package, into the kernel: for every supported app version,
// the module at each index and the on-chain handler of each message topic.
// A Machine runs the table it is built with; NewMachine builds one with this
// table, and ValidateGenesis checks a genesis against it.
package modules

import (
	"fmt"

	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/state"
	"github.com/cella-network/cella/internal/state/admin"
	"github.com/cella-network/cella/internal/state/balances"
	"github.com/cella-network/cella/internal/state/gatekeeper"
	"github.com/cella-network/cella/internal/state/gov"
	"github.com/cella-network/cella/internal/state/mq"
	"github.com/cella-network/cella/internal/state/phat"
	"github.com/cella-network/cella/internal/state/registry"
	"github.com/cella-network/cella/internal/state/validators"
)

// topicHandlersV1 is AppVersion1's table of on-chain topic handlers:
// mq.submit offers every admitted message of these topics to its handler
// (see mq.Module); messages of other topics are delivered unjudged.
func topicHandlersV1() map[string]state.TopicHandler {
	return map[string]state.TopicHandler{
		msg.TopicMasterPubkey:      gatekeeper.HandleMasterPubkey,     // Worker: a gatekeeper's new master key
		msg.TopicMasterKeyShare:    gatekeeper.HandleMasterKeyShare,   // Worker: an active gatekeeper's share to a new one
		msg.TopicGatekeeperReady:   gatekeeper.HandleReady,            // Worker: a gatekeeper holds the master key
		msg.TopicMasterKeyHistory:  gatekeeper.HandleMasterKeyHistory, // Worker: an active gatekeeper's past master keys for a new one
		msg.TopicClusterKeys:       phat.HandleClusterKeys,            // Worker: an active gatekeeper's cluster key shares
		msg.TopicContractKey:       phat.HandleContractKey,            // Cluster: a contract's ECDH public key
		msg.TopicContractKeys:      phat.HandleContractKeys,           // Cluster: its contracts' keys of a new epoch
		msg.TopicClusterKeyHistory: phat.HandleClusterKeyHistory,      // Worker: an active gatekeeper's past cluster keys for a worker
		msg.TopicClusterOutcome:    phat.HandleOutcome,                // Cluster: gas used by an instantiate or command
		msg.TopicClusterOutcomes:   phat.HandleOutcomes,               // Cluster: a block's outcomes, all or nothing
		msg.TopicInstantiateFailed: phat.HandleInstantiateFailed,      // Cluster: a constructor failed
		msg.TopicClusterStateRoot:  phat.HandleStateRoot,              // Worker: a cluster worker's state root report
		msg.TopicWorkerEndpoint:    registry.HandleEndpoint,           // Worker: the URL of its public API
		msg.TopicWorkerHeartbeat:   registry.HandleHeartbeat,          // Worker: its sign of life (last-seen height)
	}
}

// runtimeV1 is the module table of AppVersion1. Index 0 is reserved for a
// future "system" module.
func runtimeV1() *state.Runtime {
	rt := &state.Runtime{}
	rt.Modules[balances.Index] = balances.Module()                        // 1: transfer
	rt.Modules[validators.Index] = validators.Module()                    // 2: set_power (dev chains only)
	rt.Modules[mq.Index] = mq.Module(topicHandlersV1())                   // 3: submit
	rt.Modules[registry.Index] = registry.Module(devBootstrap, leaveSets) // 4: register_worker, deregister_worker; set_liveness (privileged)
	rt.Modules[gatekeeper.Index] = gatekeeper.Module()                    // 6: add, remove (privileged)
	rt.Modules[phat.Index] = phat.Module()                                // 7: create_cluster, add_worker, remove_worker (privileged); upload_code, instantiate, push_command
	rt.Modules[gov.Index] = gov.Module(rt)                                // 8: propose, vote; set_council, set_params, schedule_upgrade (privileged); enacts at EndBlock
	rt.Modules[admin.Index] = admin.Module(rt)                            // 5: sudo, remove (built last: its weight covers the privileged methods)
	return rt
}

// runtimeV2 is the module table of AppVersion2: AppVersion1's modules, with
// gov.cancel_upgrade added, and a migration that starts the chain's
// upgrade history (gov.UpgradeHistory) with the upgrade to version 2.
func runtimeV2() *state.Runtime {
	rt := runtimeV1()
	rt.Modules[gov.Index] = gov.ModuleV2(rt)
	rt.Modules[admin.Index] = admin.Module(rt) // rebuilt: its weight covers gov.cancel_upgrade
	rt.Migrate = migrateToV2
	return rt
}

// migrateToV2 runs once, at the end of the last block of the chain's
// previous app version: it records that upgrade in gov's upgrade history,
// which v1 has no room for.
func migrateToV2(c *state.CallCtx, from uint64) error {
	return gov.RecordUpgrade(c.Overlay(), gov.PastUpgrade{Height: uint64(max(c.Header().Height, 0)), From: from, To: state.AppVersion2})
}

// devBootstrap runs when the chain's first worker registers: on a chain
// whose genesis sets DevBootstrap, that worker becomes a gatekeeper and the
// only worker of cluster 0, owned by the admin, through the same code (and
// with the same messages) as the admin's gatekeeper.add and
// phat.create_cluster.
func devBootstrap(c *state.CallCtx, worker keys.PublicKey) (uint32, string, error) {
	g := c.Genesis()
	if !g.App.DevBootstrap || g.App.Admin == nil {
		return state.CodeOK, "", nil
	}
	root := c.Sub(state.OriginRoot)
	if code, log, err := gatekeeper.Add(root, worker); code != state.CodeOK || err != nil {
		return code, "dev bootstrap: " + log, err
	}
	if _, code, log, err := phat.CreateCluster(root, phat.CreateArgs{Owner: *g.App.Admin, Permission: phat.PermissionPublic, Workers: []keys.PublicKey{worker}}); code != state.CodeOK || err != nil {
		return code, "dev bootstrap: " + log, err
	}
	c.Merge(root)
	return state.CodeOK, "", nil
}

// leaveSets is registry.deregister_worker's hook: a deregistered worker
// leaves every set it belongs to, in the same transaction.
//
// A gatekeeper (active or not yet) is refused with
// CodeDeregisterGatekeeper: the gatekeeper set is governance's to change
// (gatekeeper.remove), and removing a member has consequences the
// operator's transaction should not trigger on its own — it may be the
// last active holder of the master key, and its removal changes or
// cancels a master-key rotation in progress. The operator asks
// governance to remove it, then deregisters it.
//
// Any other worker is taken out of every cluster (phat.RemoveFromClusters:
// in cluster id order, the same on every node), so that clusters no longer
// expect its state-root reports or count it among their keyed workers.
func leaveSets(c *state.CallCtx, worker keys.PublicKey) ([][32]byte, uint32, string, error) {
	if _, ok, err := gatekeeper.Get(c.Overlay(), worker); err != nil {
		return nil, 0, "", err
	} else if ok {
		return nil, state.CodeDeregisterGatekeeper, fmt.Sprintf("worker %s is a gatekeeper: governance must remove it (gatekeeper.remove) before its operator deregisters it", worker.Hex()), nil
	}
	clusters, err := phat.RemoveFromClusters(c, worker)
	if err != nil {
		return nil, 0, "", err
	}
	return clusters, state.CodeOK, "", nil
}

// runtimes is built once; nobody modifies it.
var runtimes = state.Runtimes{
	state.AppVersion1: runtimeV1(),
	state.AppVersion2: runtimeV2(),
}

// MaxAppVersion is the highest app version this code runs.
const MaxAppVersion = state.AppVersion2

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
