package contracts

import (
	"context"
	"encoding/hex"
	"io"
	"log/slog"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/pink"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// Services are the worker's off-chain services behind the pink chain
// extension: the network, the cache, the log ring, the clock and the
// attestation. They are the shell's (pRuntime's); none of them is
// consensus state, and commands never see the network, the clock or
// randomness (the extension refuses them in transactions).
type Services struct {
	// HTTP makes queries' HTTP requests on production chains: TLS against
	// the compiled-in roots only, public addresses only.
	HTTP pink.HTTPClient
	// DevHTTP makes them on dev chains (chains that admit dev
	// attestations): plain http and private addresses allowed, extra
	// test roots. Nil: HTTP is used on dev chains too.
	DevHTTP pink.HTTPClient
	// Cache is the contracts' off-chain cache.
	Cache pink.Cache
	// Logs receives the contracts' log lines.
	Logs pink.Logger
	// Clock is the worker's untrusted clock (queries only).
	Clock pink.Clock
	// Rand is the randomness of queries' getrandom.
	Rand io.Reader
	// WorkerPubkey is the worker's ECDH public key (worker_pubkey).
	WorkerPubkey [32]byte
	// Quote returns the worker's attestation (worker_sgx_quote).
	Quote func() *pink.Quote
	// Log receives refused pink events (nil: discarded).
	Log *slog.Logger
}

// SetServices gives the runtime the worker's pink services. Call it before
// the first execution; without it the extension answers as a worker with
// no network, cache or logs does (see pink.Env).
func (r *Runtime) SetServices(s *Services) { r.svc = s }

// session is the pink extension of one execution in cluster env.Cluster.
func (r *Runtime) session(ctx context.Context, mode pink.Mode, st worker.ContractStore, env worker.ExecEnv, entry [32]byte) *pink.Session {
	return pink.NewSession(r.pinkEnv(env), pink.Exec{Mode: mode, Ctx: ctx, Chain: pinkChain{st, env.SystemContract}, BlockNumber: env.BlockNumber, Entry: entry})
}

// pinkEnv is the extension's environment for an execution in env's cluster.
func (r *Runtime) pinkEnv(env worker.ExecEnv) *pink.Env {
	pe := &pink.Env{ClusterKey: env.ClusterKey}
	if s := r.svc; s != nil {
		pe.HTTP, pe.Cache, pe.Logs, pe.Clock, pe.Rand = s.HTTP, s.Cache, s.Logs, s.Clock, s.Rand
		if env.DevChain && s.DevHTTP != nil {
			pe.HTTP = s.DevHTTP
		}
		pe.WorkerPubkey, pe.Quote = s.WorkerPubkey, s.Quote
	}
	return pe
}

// QueryExtension is the pink extension, in query mode, of a query run
// directly on an engine over st (pRuntime's instantiate dry runs).
// Deferred effects are dropped: a query commits nothing.
func (r *Runtime) QueryExtension(ctx context.Context, st engine.State, env worker.ExecEnv, entry [32]byte) engine.ChainExtension {
	return pink.NewSession(r.pinkEnv(env), pink.Exec{Mode: pink.Query, Ctx: ctx, Chain: engineChain{st}, BlockNumber: env.BlockNumber, Entry: entry})
}

// engineChain is pinkChain over an engine.State.
type engineChain struct{ st engine.State }

func (c engineChain) Balance(a engine.AccountID) (total, free scale.U128) {
	b := c.st.Balance(a)
	return b, b
}

func (c engineChain) CodeExists(h engine.Hash, sidevm bool) bool {
	if sidevm {
		return false
	}
	_, ok := c.st.Code(h)
	return ok
}

func (engineChain) SystemContract() (engine.AccountID, bool) { return engine.AccountID{}, false }

// pinkChain is the extension's view of the cluster state: the cluster
// ledger has no reserved balance (total = free), code is what the chain
// stores for the cluster, and the system contract is the execution's
// (ExecEnv.SystemContract; zero: none) when it exists in the cluster.
type pinkChain struct {
	st     worker.ContractStore
	system [32]byte
}

func (c pinkChain) Balance(a engine.AccountID) (total, free scale.U128) {
	b := c.st.Balance(a)
	return b, b
}

func (c pinkChain) CodeExists(h engine.Hash, sidevm bool) bool {
	if sidevm {
		return false
	}
	_, ok := c.st.Code(h)
	return ok
}

func (c pinkChain) SystemContract() (engine.AccountID, bool) {
	if c.system == ([32]byte{}) {
		return engine.AccountID{}, false
	}
	if _, ok := c.st.ContractCodeHash(c.system); !ok {
		return engine.AccountID{}, false
	}
	return engine.AccountID(c.system), true
}

// finish ends an execution with the extension: pink events leave the
// contract events (those that do not decode are dropped, as Phala drops
// them); SetHook requests go to the core (res.Hooks); in a
// transaction that succeeded, the deferred cache operations and the
// CacheOp events are applied to the worker's cache (a failed or dry-run
// execution drops them); other pink events are refused with a log line.
func (r *Runtime) finish(res *worker.ExecResult, s *pink.Session, commit bool) {
	events := res.Events[:0]
	var cache pink.Cache
	if r.svc != nil {
		cache = r.svc.Cache
	}
	for _, ev := range res.Events {
		topics := make([]engine.Hash, len(ev.Topics))
		for i, t := range ev.Topics {
			topics[i] = engine.Hash(t)
		}
		pe, ok, err := pink.DecodePinkEvent(topics, ev.Data)
		if !ok {
			events = append(events, ev)
			continue
		}
		if err != nil {
			// Phala's get_side_effects drops an event with the pink topic
			// that does not decode ("invalid pink event"): it is neither a
			// pink event nor an ink! event (e.g. ink! 3 pink's SetHook
			// without gas_limit).
			if r.svc != nil && r.svc.Log != nil {
				r.svc.Log.Info("invalid pink event dropped", "err", err, "contract", hex.EncodeToString(ev.Contract[:]))
			}
			continue
		}
		switch {
		case pe.Kind == pink.EventSetHook && pe.SetHook != nil:
			if pe.SetHook.Hook == pink.HookOnBlockEnd {
				res.Hooks = append(res.Hooks, worker.HookRequest{Emitter: ev.Contract, Target: pe.SetHook.Contract,
					Selector: pe.SetHook.Selector, GasLimit: pe.SetHook.GasLimit})
			}
		case pe.Kind == pink.EventCacheOp && pe.CacheOp != nil:
			if commit && cache != nil {
				pink.ApplyCacheOps(cache, engine.AccountID(ev.Contract), []pink.CacheOp{*pe.CacheOp})
			}
		default:
			if r.svc != nil && r.svc.Log != nil {
				r.svc.Log.Info("pink event refused: not supported by Cella", "event", pe.Name(), "contract", hex.EncodeToString(ev.Contract[:]))
			}
		}
	}
	res.Events = events
	if commit && cache != nil && res.Success() {
		pink.ApplyDeferred(cache, s.DeferredCacheOps())
	}
}
