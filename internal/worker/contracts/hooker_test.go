package contracts_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/pink"
	"github.com/cella-network/cella/internal/worker"
	"github.com/cella-network/cella/internal/worker/contracts"
)

// hookerRuntime is a real runtime whose pink services are a cache of its
// own (1 KiB per contract).
func hookerRuntime(t *testing.T) (*contracts.Runtime, *pink.MemCache) {
	t.Helper()
	rt, err := contracts.New(context.Background(), engine.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = rt.Close(context.Background()) })
	cache := pink.NewMemCache(pink.MemCacheConfig{DefaultQuota: 1024}, fixedClock(1_700_000_000_000))
	rt.SetServices(&contracts.Services{Cache: cache})
	return rt, cache
}

// TestHookerRuntime: the hooker contract's pink events on the real runtime.
// set_hook's SetHook event becomes a hook request and leaves the contract
// events; a pink-topic event that does not decode is dropped, as Phala
// drops it (it used to be passed on as an ordinary contract event); a
// transaction's cache_set is invisible to its own cache_get, applied once
// the transaction succeeds and dropped when it reverts; a query's is
// applied at once.
func TestHookerRuntime(t *testing.T) {
	rt, cache := hookerRuntime(t)
	st := memStore{engine.NewMemState()}
	h := st.m.PutCode(testcontracts.Wasm("hooker"))
	md := mustMeta(t, "hooker")
	ct := [32]byte{0x40, 0x0c}
	env := worker.ExecEnv{BlockNumber: 1, Cluster: cid}
	if res := rt.Instantiate(st, env, worker.InstantiateRequest{Caller: [32]byte(alice), Address: ct, CodeHash: h,
		Input: input(t, md, "new()", true), GasLimit: gas}); !res.Success() {
		t.Fatalf("new: %+v", res)
	}
	call := func(expr string) worker.ExecResult {
		t.Helper()
		return rt.Call(st, env, worker.CallRequest{Caller: [32]byte(alice), Dest: ct, Input: input(t, md, expr, false), GasLimit: gas})
	}
	res := call("set_hook()")
	want := []worker.HookRequest{{Emitter: ct, Target: ct, Selector: 0x857706ba, GasLimit: 1_000_000_000}}
	if !res.Success() || len(res.Events) != 0 || len(res.Hooks) != 1 || res.Hooks[0] != want[0] {
		t.Fatalf("set_hook: %+v", res)
	}
	res = call("bad_event()")
	if !res.Success() || len(res.Events) != 0 || len(res.Hooks) != 0 {
		t.Fatalf("bad_event: events %d hooks %d (%+v)", len(res.Events), len(res.Hooks), res)
	}
	key := engine.AccountID(ct)
	res = call("cache_put(true)")
	if res.Flags != 1 || !bytes.Equal(res.Data, []byte{0, 0}) {
		t.Fatalf("reverted cache_put: %+v", res)
	}
	if v, ok := cache.Get(key, []byte("key")); ok {
		t.Fatalf("a reverted transaction's cache write was applied: %q", v)
	}
	res = call("cache_put(false)")
	if !res.Success() || !bytes.Equal(res.Data, []byte{0, 0}) {
		t.Fatalf("cache_put: %+v (its own cache_get must miss)", res)
	}
	if v, ok := cache.Get(key, []byte("key")); !ok || string(v) != "value" {
		t.Fatalf("after the transaction: %q %v", v, ok)
	}
	cache.Remove(key, []byte("key"))
	res = rt.Query(context.Background(), st, env, worker.CallRequest{Caller: [32]byte(alice), Dest: ct, Input: input(t, md, "cache_put(false)", false), GasLimit: gas})
	if !res.Success() || !bytes.Equal(res.Data, []byte{0, 1}) {
		t.Fatalf("cache_put in a query: %+v (its cache_get must hit)", res)
	}
}

// TestHookerBlockEnd: with the real runtime, two workers run the hooker's
// block-end hook at every block once set_hook committed, and end every
// block on identical cluster roots (ch.step checks); a transaction's cache
// write reaches each worker's cache after the command, not during it, and
// not at all when the command reverts.
func TestHookerBlockEnd(t *testing.T) {
	ch := newChain(t)
	ch.owner = alice
	ch.upload(msg.CodeKindInk, testcontracts.Wasm("hooker"))
	md := mustMeta(t, "hooker")
	var caches []*pink.MemCache
	mk := func(seed byte) *worker.Core {
		rt, cache := hookerRuntime(t)
		caches = append(caches, cache)
		opts := ch.opts()
		opts.Contracts = rt
		c, err := worker.NewWithOptions(workerKeys(seed), ch.height, opts)
		if err != nil {
			t.Fatal(err)
		}
		if c, err = worker.RestoreWith(workerKeys(seed), opts, c.Snapshot(), ch.keysSnapshot(cid)); err != nil {
			t.Fatal(err)
		}
		return c
	}
	cores := []*worker.Core{mk(1), mk(2)}
	ch.members = []keys.PublicKey{workerKeys(1).Identity.Public(), workerKeys(2).Identity.Public()}
	inst, ct, _ := ch.instantiate(cid, alice, "hooker", input(t, md, "new()", true), ch.height+1, 0)
	ch.step(cores, inst)
	counter := func() uint32 {
		t.Helper()
		var got []uint32
		for _, c := range cores {
			res, err := c.Query(context.Background(), ch.st, worker.ExecEnv{}, cid, worker.CallRequest{Caller: [32]byte(alice), Dest: ct, Input: input(t, md, "get()", false), GasLimit: gas})
			if err != nil || !res.Success() || len(res.Data) != 5 {
				t.Fatalf("get: %v %+v", err, res)
			}
			got = append(got, uint32(res.Data[1])|uint32(res.Data[2])<<8|uint32(res.Data[3])<<16|uint32(res.Data[4])<<24)
		}
		if got[0] != got[1] {
			t.Fatalf("workers disagree: %v", got)
		}
		return got[0]
	}
	ch.step(cores)
	if n := counter(); n != 0 {
		t.Fatalf("without a hook: %d ticks", n)
	}
	cmd, _ := command(cid, ct, alice, plain(t, "h1", input(t, md, "set_hook()", false), gas), gas, ch.height+1, 0)
	ch.step(cores, cmd) // the hook is set by the command and runs at this block's end
	for want := uint32(1); want <= 4; want++ {
		if n := counter(); n != want {
			t.Fatalf("block %d: %d ticks, want %d", ch.height, n, want)
		}
		ch.step(cores)
	}

	key := engine.AccountID(ct)
	cached := func() []string {
		var out []string
		for _, c := range caches {
			v, _ := c.Get(key, []byte("key"))
			out = append(out, string(v))
		}
		return out
	}
	rev, revID := command(cid, ct, alice, plain(t, "c1", input(t, md, "cache_put(true)", false), gas), gas, ch.height+1, 0)
	ch.step(cores, rev)
	if o := outcome(t, cores[0], cid, alice, revID); o.Result.Flags != 1 {
		t.Fatalf("cache_put(true): %+v", o)
	}
	if got := cached(); got[0] != "" || got[1] != "" {
		t.Fatalf("a reverted command's cache write was applied: %q", got)
	}
	put, putID := command(cid, ct, alice, plain(t, "c2", input(t, md, "cache_put(false)", false), gas), gas, ch.height+1, 0)
	ch.step(cores, put)
	for _, c := range cores {
		// Within the command, cache_get missed: the write was deferred.
		if o := outcome(t, c, cid, alice, putID); !o.Result.Success() || !bytes.Equal(o.Result.Data, []byte{0, 0}) {
			t.Fatalf("cache_put(false): %+v", o)
		}
	}
	if got := cached(); got[0] != "value" || got[1] != "value" {
		t.Fatalf("after the command: %q", got)
	}
}

// TestSystemContractHooks: the cluster's system contract (Cluster.
// SystemContract) may hook another contract, whoever deployed either
// (Phala's ensure_system); the same request from a contract that is not
// the system contract is refused. Both workers run the hook identically.
func TestSystemContractHooks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		isSystem bool
		wantHook bool
	}{
		{"from the system contract", true, true},
		{"from another contract", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := newChain(t)
			ch.owner = alice
			fl := mustMeta(t, "flipper")
			flip := input(t, fl, "flip()", false)
			// sys (bob's) asks for a hook on target (alice's).
			instSys, sys, _ := ch.instantiate(cid, bob, "flipper", input(t, fl, "new(false)", true), ch.height+1, 0)
			instTarget, target, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), ch.height+1, 1)
			if tc.isSystem {
				ch.system = sys
			}
			rt := hookRT{ContractRuntime: runtime(t), flip: flip, target: &target}
			opts := ch.opts()
			opts.Contracts = rt
			var cores []*worker.Core
			for _, seed := range []byte{1, 2} {
				c, err := worker.NewWithOptions(workerKeys(seed), ch.height, opts)
				if err != nil {
					t.Fatal(err)
				}
				if c, err = worker.RestoreWith(workerKeys(seed), opts, c.Snapshot(), ch.keysSnapshot(cid)); err != nil {
					t.Fatal(err)
				}
				cores = append(cores, c)
			}
			ch.members = []keys.PublicKey{workerKeys(1).Identity.Public(), workerKeys(2).Identity.Public()}
			ch.step(cores, instSys, instTarget)
			cmd, _ := command(cid, sys, bob, plain(t, "s1", flip, gas), gas, ch.height+1, 0)
			ch.step(cores, cmd)
			get := func(c *worker.Core) bool {
				t.Helper()
				res, err := c.Query(context.Background(), ch.st, worker.ExecEnv{}, cid, worker.CallRequest{Caller: [32]byte(alice), Dest: target, Input: input(t, fl, "get()", false), GasLimit: gas})
				if err != nil || !res.Success() {
					t.Fatalf("get: %v %+v", err, res)
				}
				return res.Data[len(res.Data)-1] == 1
			}
			want := false
			for i := 0; i < 3; i++ {
				if tc.wantHook {
					want = !want // flipped at each block end, from the command's block on
				}
				for _, c := range cores {
					if got := get(c); got != want {
						t.Fatalf("block %d: target %v, want %v", ch.height, got, want)
					}
				}
				ch.step(cores)
			}
		})
	}
}
