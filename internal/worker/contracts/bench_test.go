package contracts_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"
	"time"

	"github.com/cella-network/cella/internal/cipher"
	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/sandbox"
	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/msg"
	"github.com/cella-network/cella/internal/phatwire"
	"github.com/cella-network/cella/internal/worker"
)

// benchBlock is how many commands one benchmarked block carries.
const benchBlock = 100

// BenchmarkCommandVsSandbox runs the same erc20 transfer (alice → bob, 1)
// through a worker core's cluster execution — a block of encrypted
// phat/command messages: decryption with the contract key, nonce check,
// execution on the transaction engine, the outcome kept, the signed
// cluster/outcome egress and the cluster state root — and through the
// sandbox (engine call on in-memory state), in the same run, and reports
// both per call and their ratio (issue 9: ≤ 1.5×).
func BenchmarkCommandVsSandbox(b *testing.B) {
	ch := newChain(b)
	erc := mustMeta(b, "erc20")
	// The core's contract runtime, timed: the call itself, apart from the
	// command's decryption, bookkeeping, egress and state root.
	rt := &timedRuntime{ContractRuntime: runtime(b)}
	k := workerKeys(1)
	opts := worker.Options{View: ch.view, Contracts: rt}
	core, err := worker.NewWithOptions(k, ch.height, opts)
	if err != nil {
		b.Fatal(err)
	}
	if core, err = worker.RestoreWith(k, opts, core.Snapshot(), ch.keysSnapshot(cid)); err != nil {
		b.Fatal(err)
	}
	mi, token, _ := ch.instantiate(cid, alice, "erc20", input(b, erc, "new(1000000000000000)", true), 1, 0)
	ch.height++
	rd, err := core.Step(ch.block(ch.height, mi))
	if err != nil {
		b.Fatal(err)
	}
	ks, _, _ := published(b, rd)
	tokenKey, ok := ks[token]
	if !ok {
		b.Fatal("erc20 not instantiated")
	}
	call := input(b, erc, `transfer("0x`+hex.EncodeToString(bob[:])+`", 1)`, false)

	sb, err := sandbox.New(context.Background(), testcontracts.Wasm("erc20"), sandbox.Config{Caller: engine.AccountID(alice), GasLimit: gas})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	if o := sb.Deploy(input(b, erc, "new(1000000000000000)", true)); !o.Success() {
		b.Fatal(o.Err)
	}

	var coreTime, sbTime time.Duration
	n := 0
	rt.spent = 0
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		ms := make([]msg.Message, benchBlock)
		ch.height++
		for i := range ms {
			ms[i], _ = command(cid, token, alice, sealed(b, tokenKey, fmt.Sprintf("n%d-%d", ch.height, i), call), gas, ch.height, uint32(i))
		}
		blk := ch.block(ch.height, ms...)
		b.StartTimer()
		t0 := time.Now()
		rd, err := core.Step(blk)
		coreTime += time.Since(t0)
		if err != nil {
			b.Fatal(err)
		}
		if _, outs, _ := published(b, rd); len(outs) != benchBlock {
			b.Fatalf("%d outcomes of %d commands", len(outs), benchBlock)
		}
		t0 = time.Now()
		for range benchBlock {
			if o := sb.Call(call); !o.Success() {
				b.Fatal(o.Err)
			}
		}
		sbTime += time.Since(t0)
		n += benchBlock
	}
	if n > 0 {
		b.ReportMetric(float64(coreTime.Nanoseconds())/float64(n), "core-ns/call")
		b.ReportMetric(float64(sbTime.Nanoseconds())/float64(n), "sandbox-ns/call")
		b.ReportMetric(float64(coreTime)/float64(sbTime), "core/sandbox")
		b.ReportMetric(float64(rt.spent.Nanoseconds())/float64(n), "runtime-ns/call")
		b.ReportMetric(float64(rt.spent)/float64(sbTime), "runtime/sandbox")
	}
}

// sealed is an encrypted command payload as @phala/sdk builds it: a fresh
// ephemeral key agreeing with the contract's key, a random IV.
func sealed(b *testing.B, to keys.PublicKey, nonce string, message []byte) []byte {
	var seed [32]byte
	if _, err := rand.Read(seed[:]); err != nil {
		b.Fatal(err)
	}
	iv, err := cipher.NewIV(rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	p, err := phatwire.EncryptCommand(cipher.EcdhKeyFromSeed(seed), to, iv, &phatwire.InkCommand{Nonce: []byte(nonce), Message: message, GasLimit: gas})
	if err != nil {
		b.Fatal(err)
	}
	out, err := p.Encode()
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// timedRuntime adds up the time spent in Call.
type timedRuntime struct {
	worker.ContractRuntime
	spent time.Duration
}

func (r *timedRuntime) Call(st worker.ContractStore, env worker.ExecEnv, req worker.CallRequest) worker.ExecResult {
	t0 := time.Now()
	defer func() { r.spent += time.Since(t0) }()
	return r.ContractRuntime.Call(st, env, req)
}
