package contracts_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/scale"
	"github.com/cella-network/cella/internal/worker"
)

// hookRT is the real runtime whose flipper `flip` executions report a
// SetHook request for their own contract, as a pink SetHook event would.
type hookRT struct {
	worker.ContractRuntime
	flip []byte
	// target, when set, replaces the hooked contract (a hook on another).
	target *[32]byte
}

func (h hookRT) Call(st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult {
	res := h.ContractRuntime.Call(st, env, req)
	if res.Success() && bytes.HasPrefix(req.Input, h.flip) {
		t := req.Dest
		if h.target != nil {
			t = *h.target
		}
		res.Hooks = append(res.Hooks, worker.HookRequest{Emitter: req.Dest, Target: t, Selector: beU32(h.flip), GasLimit: 1 << 62})
	}
	return res
}

func (h hookRT) Query(ctx context.Context, st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult {
	return h.ContractRuntime.Query(ctx, st, env, req)
}

func beU32(b []byte) uint32 {
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// TestBlockEndHooks: a SetHook from a contract the cluster owner deployed
// makes every keyed worker call the hooked selector at each block end (the
// flipper flips every block), identically; the hook survives a snapshot;
// a hook asked by another deployer's contract, or for another contract, is
// refused; a worker that got the key late replays the hooks too.
func TestBlockEndHooks(t *testing.T) {
	for _, tc := range []struct {
		name     string
		owner    keys.PublicKey
		other    bool
		wantHook bool
	}{
		{"owner's contract", alice, false, true},
		{"another deployer", bob, false, false},
		{"hook on another contract", alice, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ch := newChain(t)
			ch.owner = tc.owner
			fl := mustMeta(t, "flipper")
			flip := input(t, fl, "flip()", false)
			rt := hookRT{ContractRuntime: runtime(t), flip: flip}
			if tc.other {
				rt.target = &[32]byte{0xee}
			}
			opts := ch.opts()
			opts.Contracts = rt
			mk := func(seed byte, ids ...[32]byte) *worker.Core {
				c, err := worker.NewWithOptions(workerKeys(seed), ch.height, opts)
				if err != nil {
					t.Fatal(err)
				}
				if len(ids) > 0 {
					if c, err = worker.RestoreWith(workerKeys(seed), opts, c.Snapshot(), ch.keysSnapshot(ids...)); err != nil {
						t.Fatal(err)
					}
				}
				return c
			}
			a, b, late := mk(1, cid), mk(2, cid), mk(3)
			ch.members = []keys.PublicKey{workerKeys(1).Identity.Public(), workerKeys(2).Identity.Public(), workerKeys(3).Identity.Public()}
			inst, ct, _ := ch.instantiate(cid, alice, "flipper", input(t, fl, "new(false)", true), ch.height+1, 0)
			ch.step([]*worker.Core{a, b}, inst)
			late.Step(ch.block(ch.height, inst))
			cmd, _ := command(cid, ct, alice, plain(t, "n1", flip, gas), gas, ch.height+1, 0)
			ch.step([]*worker.Core{a, b}, cmd) // flip: true; with a hook, flipped again at block end
			late.Step(ch.block(ch.height, cmd))
			get := func(c *worker.Core) bool {
				t.Helper()
				res, err := c.Query(context.Background(), ch.st, worker.ExecEnv{}, cid, worker.CallRequest{Caller: [32]byte(alice), Dest: ct, Input: input(t, fl, "get()", false), GasLimit: gas})
				if err != nil || !res.Success() {
					t.Fatalf("get: %v %+v", err, res)
				}
				return res.Data[len(res.Data)-1] == 1
			}
			want := !tc.wantHook // the command flipped to true; a hook flipped it back
			if got := get(a); got != want {
				t.Fatalf("after the command's block: %v, want %v", got, want)
			}
			for i := 0; i < 3; i++ {
				ch.step([]*worker.Core{a, b})
				late.Step(ch.block(ch.height))
				if tc.wantHook {
					want = !want
				}
				if got := get(a); got != want {
					t.Fatalf("block %d: %v, want %v", ch.height, got, want)
				}
			}
			// A restored worker keeps the hook.
			r, err := worker.RestoreWith(workerKeys(1), opts, a.Snapshot(), ch.keysSnapshot(cid))
			if err != nil {
				t.Fatal(err)
			}
			if err := r.RestoreClusters(a.ClustersSnapshot()); err != nil {
				t.Fatal(err)
			}
			ch.step([]*worker.Core{a, b, r})
			late.Step(ch.block(ch.height))
			// The late worker gets the key, replays the inputs and the
			// block ends it kept, and ends on the same root (ch.step checks).
			ek, err := cipher.EncryptSecretTo(ch.master, []byte(cipher.ClusterKeySharingSalt), late.Ecdh(), ch.clusters[cid].SecretBytes(), cipher.IV{4})
			if err != nil {
				t.Fatal(err)
			}
			share := msg.ClusterKeyShares{Cluster: cid, Pubkey: ch.clusters[cid].Public(), Shares: []msg.ClusterKeyShare{{Worker: late.Identity(), Key: *ek}}}
			km := msg.Message{Origin: msg.OriginWorker(keys.PublicKey{0x6e}), Topic: []byte(msg.TopicClusterKeys), Payload: scale.Encode(&share)}
			ch.step([]*worker.Core{a, b, r, late}, km)
			if got := get(late); got != want {
				t.Fatalf("late worker after replay: %v, want %v", got, want)
			}
		})
	}
}
