package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"

	"github.com/tetratelabs/wazero"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/scale"
)

var (
	alice = AccountID{0xd4, 0x35, 0x93, 0xc7}
	bob   = AccountID{0x8e, 0xaf, 0x04, 0x15}
)

const gasLimit = 50_000_000

type env struct {
	t  testing.TB
	e  *Engine
	st *MemState
	h  Host
}

func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	e, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close(context.Background()) })
	st := NewMemState()
	st.SetBalance(alice, scale.U128From(1_000_000))
	return &env{t: t, e: e, st: st, h: Host{State: st, Env: Environment{BlockNumber: 7, Timestamp: 1_700_000_000_000}}}
}

func (v *env) upload(name string) Hash {
	v.t.Helper()
	h, _, err := v.e.Upload(context.Background(), testcontracts.Wasm(name), func(h Hash, c []byte) { v.st.PutCode(c) })
	if err != nil {
		v.t.Fatalf("upload %s: %v", name, err)
	}
	return h
}

func (v *env) deploy(name string, input []byte) AccountID {
	v.t.Helper()
	h := v.upload(name)
	o := v.e.Instantiate(context.Background(), v.h, InstantiateRequest{Caller: alice, CodeHash: h, Input: input, GasLimit: gasLimit})
	if !o.Success() {
		v.t.Fatalf("deploy %s: err=%v flags=%d data=%x debug=%q", name, o.Err, o.Flags, o.Data, o.Debug)
	}
	return o.Address
}

func (v *env) call(dest AccountID, input []byte) *Outcome {
	return v.e.Call(context.Background(), v.h, CallRequest{Caller: alice, Dest: dest, Input: input, GasLimit: gasLimit})
}

func sel(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(err)
	}
	return b
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestFlipper(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("flipper", cat(sel("9bae9d5e"), []byte{0}))
	steps := []struct {
		in   string
		want string
	}{
		{"2f865bd9", "0000"}, {"633aa551", "00"}, {"2f865bd9", "0001"}, {"633aa551", "00"}, {"2f865bd9", "0000"},
	}
	for i, s := range steps {
		o := v.call(addr, sel(s.in))
		if !o.Success() || hex.EncodeToString(o.Data) != s.want {
			t.Fatalf("step %d: err=%v flags=%d data=%x want %s", i, o.Err, o.Flags, o.Data, s.want)
		}
		if o.GasUsed == 0 {
			t.Fatalf("step %d: no gas used", i)
		}
	}
	// Unknown selector: LangError::CouldNotReadInput with REVERT.
	o := v.call(addr, sel("deadbeef"))
	if !o.Reverted() || hex.EncodeToString(o.Data) != "0101" {
		t.Fatalf("bad selector: %+v", o)
	}
	// Determinism: the same call costs the same gas every time.
	g1 := v.call(addr, sel("2f865bd9")).GasUsed
	g2 := v.call(addr, sel("2f865bd9")).GasUsed
	if g1 != g2 {
		t.Fatalf("gas differs: %d vs %d", g1, g2)
	}
}

func u128le(v uint64) []byte { return u128Bytes(scale.U128From(v)) }

func TestERC20(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("erc20", cat(sel("9bae9d5e"), u128le(1000)))
	o := v.call(addr, sel("db6375a8"))
	if hex.EncodeToString(o.Data) != "00"+hex.EncodeToString(u128le(1000)) {
		t.Fatalf("total_supply = %x (%v)", o.Data, o.Err)
	}
	o = v.call(addr, cat(sel("84a15da1"), bob[:], u128le(10)))
	if !o.Success() || hex.EncodeToString(o.Data) != "0000" {
		t.Fatalf("transfer: %+v", o)
	}
	if len(o.Events) != 1 || len(o.Events[0].Topics) != 1 || o.Events[0].Data[0] != 0 || len(o.Events[0].Data) != 1+33+33+16 {
		t.Fatalf("events: %+v", o.Events)
	}
	o = v.call(addr, cat(sel("0f755a56"), alice[:]))
	if hex.EncodeToString(o.Data) != "00"+hex.EncodeToString(u128le(990)) {
		t.Fatalf("balance_of(alice) = %x", o.Data)
	}
	o = v.call(addr, cat(sel("0f755a56"), bob[:]))
	if hex.EncodeToString(o.Data) != "00"+hex.EncodeToString(u128le(10)) {
		t.Fatalf("balance_of(bob) = %x", o.Data)
	}
	// Insufficient balance: Ok(Err(InsufficientBalance)), reverted, no event, no change.
	o = v.call(addr, cat(sel("84a15da1"), bob[:], u128le(5000)))
	if !o.Reverted() || hex.EncodeToString(o.Data) != "000100" || len(o.Events) != 0 {
		t.Fatalf("overdraft: %+v", o)
	}
	o = v.call(addr, cat(sel("0f755a56"), bob[:]))
	if hex.EncodeToString(o.Data) != "00"+hex.EncodeToString(u128le(10)) {
		t.Fatalf("balance_of(bob) after revert = %x", o.Data)
	}
}

func TestRevertAndTrapDiscardWrites(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("reverter", sel("9bae9d5e"))
	o := v.call(addr, sel("59588d40"))
	if !o.Reverted() || hex.EncodeToString(o.Data) != "00012a" || len(o.Events) != 0 {
		t.Fatalf("fail(): %+v", o)
	}
	o = v.call(addr, sel("8eccf7a6"))
	if o.Err == nil || !errors.Is(o.Err, ErrContractTrapped) {
		t.Fatalf("trap(): %+v", o)
	}
	o = v.call(addr, sel("2f865bd9"))
	if hex.EncodeToString(o.Data) != "0001" {
		t.Fatalf("get() = %x, want 0001 (writes of fail/trap discarded)", o.Data)
	}
}

func TestEventsAndDebug(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("events", sel("9bae9d5e"))
	o := v.call(addr, cat(sel("07329efa"), []byte{42, 0, 0, 0}))
	if !o.Success() || len(o.Events) != 1 || len(o.Events[0].Topics) != 2 || o.Debug != "emitted" {
		t.Fatalf("emit: %+v", o)
	}
	if o.Events[0].Topics[1][0] != 42 || !bytes.Equal(o.Events[0].Data, []byte{42, 0, 0, 0}) {
		t.Fatalf("event: %+v", o.Events[0])
	}
}

func TestInfiniteLoopRunsOutOfGas(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("loop", nil)
	o := v.e.Call(context.Background(), v.h, CallRequest{Caller: alice, Dest: addr, GasLimit: 200_000})
	if !errors.Is(o.Err, ErrOutOfGas) || o.GasUsed != 200_000 {
		t.Fatalf("loop: %+v", o)
	}
}

func TestDeepRecursionHitsStackLimit(t *testing.T) {
	// The interpreter (benchmarks only) has its own, lower frame ceiling.
	for _, interp := range []bool{false} {
		v := newEnv(t, Config{Interpreter: interp})
		addr := v.deploy("recurse", nil)
		o1 := v.call(addr, nil)
		o2 := v.call(addr, nil)
		if !errors.Is(o1.Err, ErrStackExhausted) {
			t.Fatalf("recurse (interpreter=%v): %+v", interp, o1)
		}
		if o1.GasUsed != o2.GasUsed || o1.GasUsed == 0 {
			t.Fatalf("gas not deterministic: %d vs %d", o1.GasUsed, o2.GasUsed)
		}
	}
}

func TestMemoryBombCapped(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("bomb", nil)
	o := v.call(addr, nil)
	if !o.Success() || binary.LittleEndian.Uint32(o.Data) != 16 {
		t.Fatalf("bomb: %+v", o)
	}
}

func TestOutOfBoundsPointersTrap(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("oob", nil)
	want := []error{ErrOutOfBounds, ErrOutOfBounds, ErrContractTrapped, ErrKeyTooLong, ErrOutOfBounds, ErrOutOfBounds, ErrOutputBufferTooSmall}
	for k, w := range want {
		o := v.call(addr, []byte{byte(k)})
		if !errors.Is(o.Err, w) {
			t.Fatalf("case %d: err=%v want %v", k, o.Err, w)
		}
	}
}

func TestFloatRejectedUnlessQueryMode(t *testing.T) {
	v := newEnv(t, Config{})
	if _, err := v.e.Validate(testcontracts.Wasm("float")); !errors.Is(err, ErrCodeRejected) {
		t.Fatalf("float accepted: %v", err)
	}
	q := newEnv(t, Config{AllowFloats: true})
	addr := q.deploy("float", nil)
	o := q.call(addr, []byte{10, 0, 0, 0})
	if !o.Success() || binary.LittleEndian.Uint32(o.Data) != 15 {
		t.Fatalf("float: %+v", o)
	}
}

func TestCrossContract(t *testing.T) {
	v := newEnv(t, Config{})
	flip := v.deploy("flipper", cat(sel("9bae9d5e"), []byte{0}))
	caller := v.deploy("caller", cat(sel("9bae9d5e"), flip[:]))
	o := v.call(caller, sel("63b47248"))
	if !o.Success() || hex.EncodeToString(o.Data) != "0001" {
		t.Fatalf("call_flip: %+v", o)
	}
	// instantiate_flip(code_hash)
	fh := CodeHash(testcontracts.Wasm("flipper"))
	o = v.call(caller, cat(sel("365f72ef"), fh[:]))
	if !o.Success() || len(o.Data) != 33 {
		t.Fatalf("instantiate_flip: %+v", o)
	}
	var child AccountID
	copy(child[:], o.Data[1:])
	if child != ContractAddress(caller, fh, cat(sel("9bae9d5e"), []byte{1}), nil) {
		t.Fatalf("address mismatch")
	}
	if g := v.call(child, sel("2f865bd9")); hex.EncodeToString(g.Data) != "0001" {
		t.Fatalf("child get: %+v", g)
	}
	// Same salt and input again: duplicate contract traps the caller.
	o = v.call(caller, cat(sel("365f72ef"), fh[:]))
	if !errors.Is(o.Err, ErrDuplicateContract) {
		t.Fatalf("duplicate: %+v", o)
	}
	// recurse(): nested self-calls until the depth limit. Frame 5 traps
	// (MaxCallDepth), frame 4 sees CalleeTrapped (1) and returns normally,
	// so frames 3..1 see Success (0).
	o = v.call(caller, sel("6f815c62"))
	if !o.Success() || hex.EncodeToString(o.Data) != "0000000000" {
		t.Fatalf("recurse: %+v", o)
	}
	v.e.cfg.MaxCallDepth = 2 // frame 2 traps, frame 1 sees CalleeTrapped
	o = v.call(caller, sel("6f815c62"))
	v.e.cfg.MaxCallDepth = DefaultMaxDepth
	if !o.Success() || hex.EncodeToString(o.Data) != "0001000000" {
		t.Fatalf("recurse at depth 2: %+v", o)
	}
}

func TestValidationErrors(t *testing.T) {
	v := newEnv(t, Config{MaxCodeSize: 600})
	if _, err := v.e.Validate(testcontracts.Wasm("erc20")); err == nil {
		t.Fatal("oversize code accepted")
	}
	for _, bad := range [][]byte{nil, []byte("\x00asm"), []byte("\x00asm\x01\x00\x00\x00\x01\xff"), testcontracts.Wasm("flipper")[:100]} {
		if _, err := v.e.Validate(bad); err == nil {
			t.Fatalf("accepted %x", bad)
		}
	}
}

func TestDryRunLeavesStateUntouched(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("flipper", cat(sel("9bae9d5e"), []byte{0}))
	o := v.e.Call(context.Background(), v.h, CallRequest{Caller: alice, Dest: addr, Input: sel("633aa551"), GasLimit: gasLimit, DryRun: true})
	if !o.Success() {
		t.Fatal(o.Err)
	}
	if g := v.call(addr, sel("2f865bd9")); hex.EncodeToString(g.Data) != "0000" {
		t.Fatalf("dry run changed state: %x", g.Data)
	}
	// Read-only calls may not write.
	o = v.e.Call(context.Background(), v.h, CallRequest{Caller: alice, Dest: addr, Input: sel("633aa551"), GasLimit: gasLimit, ReadOnly: true})
	if !errors.Is(o.Err, ErrStateChangeDenied) {
		t.Fatalf("read-only flip: %+v", o)
	}
}

func TestGasLinearInWork(t *testing.T) {
	v := newEnv(t, Config{})
	addr := v.deploy("compute", sel("9bae9d5e"))
	run := func(n uint32) uint64 {
		o := v.call(addr, cat(sel("b95b5eb3"), binary.LittleEndian.AppendUint32(nil, n)))
		if !o.Success() {
			t.Fatalf("run(%d): %+v", n, o)
		}
		return o.GasUsed
	}
	g1, g2, g3 := run(100), run(200), run(300)
	if g2-g1 != g3-g2 || g2 <= g1 {
		t.Fatalf("gas not linear: %d %d %d", g1, g2, g3)
	}
}

func benchCall(b *testing.B, cfg Config, name string, deployIn, in []byte) {
	v := newEnv(b, cfg)
	addr := v.deploy(name, deployIn)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if o := v.call(addr, in); !o.Success() {
			b.Fatal(o.Err)
		}
	}
}

func BenchmarkFlipperFlip(b *testing.B) {
	benchCall(b, Config{}, "flipper", cat(sel("9bae9d5e"), []byte{0}), sel("633aa551"))
}

func BenchmarkFlipperFlipUnmetered(b *testing.B) {
	benchCall(b, Config{Unmetered: true}, "flipper", cat(sel("9bae9d5e"), []byte{0}), sel("633aa551"))
}

func BenchmarkERC20Transfer(b *testing.B) {
	benchCall(b, Config{}, "erc20", cat(sel("9bae9d5e"), u128le(1<<40)), cat(sel("84a15da1"), bob[:], u128le(1)))
}

// BenchmarkInstanceConfig is an erc20 transfer with wazero's default random
// source ("before": a math/rand source seeded per instance) and with the
// engine's instanceConfig ("after"), in the same run.
func BenchmarkInstanceConfig(b *testing.B) {
	after := instanceConfig
	defer func() { instanceConfig = after }()
	for _, c := range []struct {
		name string
		cfg  wazero.ModuleConfig
	}{{"before", wazero.NewModuleConfig().WithName("").WithStartFunctions()}, {"after", after}} {
		b.Run(c.name, func(b *testing.B) {
			instanceConfig = c.cfg
			benchCall(b, Config{}, "erc20", cat(sel("9bae9d5e"), u128le(1<<40)), cat(sel("84a15da1"), bob[:], u128le(1)))
		})
	}
}

var computeIn = cat(sel("b95b5eb3"), binary.LittleEndian.AppendUint32(nil, 1_000_000))

func BenchmarkCompute(b *testing.B) {
	b.Run("metered", func(b *testing.B) { benchCall(b, Config{}, "compute", sel("9bae9d5e"), computeIn) })
	b.Run("unmetered", func(b *testing.B) { benchCall(b, Config{Unmetered: true}, "compute", sel("9bae9d5e"), computeIn) })
	b.Run("interpreter", func(b *testing.B) {
		benchCall(b, Config{Unmetered: true, Interpreter: true}, "compute", sel("9bae9d5e"), computeIn)
	})
}

func TestInstantiateAtGivenAddress(t *testing.T) {
	v := newEnv(t, Config{})
	h := v.upload("flipper")
	at := AccountID{0xc1, 0x05}
	o := v.e.Instantiate(context.Background(), v.h, InstantiateRequest{Caller: alice, CodeHash: h,
		Input: cat(sel("9bae9d5e"), []byte{1}), GasLimit: gasLimit, Address: &at})
	if !o.Success() || o.Address != at {
		t.Fatalf("deploy: err=%v address %x, want %x", o.Err, o.Address, at)
	}
	if got, ok := v.st.ContractCodeHash(at); !ok || got != h {
		t.Fatalf("contract not recorded at the given address")
	}
	if r := v.call(at, sel("2f865bd9")); !r.Success() || hex.EncodeToString(r.Data) != "0001" {
		t.Fatalf("get: %+v", r)
	}
	// The same address twice is a duplicate.
	o = v.e.Instantiate(context.Background(), v.h, InstantiateRequest{Caller: alice, CodeHash: h,
		Input: cat(sel("9bae9d5e"), []byte{0}), GasLimit: gasLimit, Address: &at})
	if !errors.Is(o.Err, ErrDuplicateContract) {
		t.Fatalf("second deploy: %v", o.Err)
	}
}
