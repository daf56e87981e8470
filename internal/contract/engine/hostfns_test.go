package engine

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"testing"
	"time"

	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"golang.org/x/crypto/sha3"

	"github.com/cella-network/cella/internal/contract/testcontracts"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Ops of testcontracts/hostfns.wat.
const (
	opDelegate      = 1
	opTerminate     = 2
	opSetCodeHash   = 3
	opTransfer      = 4
	opEcdsaRecover  = 5
	opEcdsaToEth    = 6
	opSr25519Verify = 7
	opCallerIsOrig  = 8
	opIsContract    = 9
	opCodeHash      = 10
	opOwnCodeHash   = 11
	opCall          = 12
	opCallerAddress = 13
	opBalance       = 14
	opTSet          = 20
	opTGet          = 21
	opTTake         = 22
	opTContains     = 23
	opTClear        = 24
	opSet           = 30
	opGet           = 31
	opRevert        = 1 << 31
)

func op(n uint32, args ...[]byte) []byte {
	return cat(append([][]byte{binary.LittleEndian.AppendUint32(nil, n)}, args...)...)
}

func u32le(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }

// kv is the key_len ‖ key ‖ value argument of the storage ops.
func kv(key string, value ...byte) []byte { return cat(u32le(uint32(len(key))), []byte(key), value) }

// hres splits a hostfns output into its return code and output bytes.
func hres(t *testing.T, o *Outcome) (uint32, []byte) {
	t.Helper()
	if o.Err != nil || len(o.Data) < 4 {
		t.Fatalf("hostfns call failed: err=%v data=%x debug=%q", o.Err, o.Data, o.Debug)
	}
	return binary.LittleEndian.Uint32(o.Data), o.Data[4:]
}

func (v *env) hcall(dest AccountID, in []byte) (uint32, []byte) {
	v.t.Helper()
	return hres(v.t.(*testing.T), v.call(dest, in))
}

func TestHostDelegateCall(t *testing.T) {
	v := newEnv(t, Config{})
	a := v.deploy("hostfns", nil)
	code := CodeHash(testcontracts.Wasm("hostfns"))
	missing := Hash{1, 2, 3}
	tests := []struct {
		name   string
		in     []byte
		rc     uint32
		out    string // hex; "-" = not checked
		revert bool
	}{
		// The delegated code runs as the delegator, seeing the original caller.
		{"context", op(opDelegate, code[:], op(opCallerAddress)), RCSuccess, "00000000" + hex.EncodeToString(alice[:]) + hex.EncodeToString(a[:]), false},
		{"writes delegator storage", op(opDelegate, code[:], op(opSet, kv("k", 7))), RCSuccess, "-", false},
		{"own_code_hash is delegator's", op(opDelegate, code[:], op(opOwnCodeHash)), RCSuccess, "00000000" + hex.EncodeToString(code[:]), false},
		{"callee reverts", op(opDelegate, code[:], op(opRevert|opCallerIsOrig)), RCCalleeReverted, "01000000", false},
		{"callee traps", op(opDelegate, code[:], op(99)), RCCalleeTrapped, "", false},
		{"code not found", op(opDelegate, missing[:], op(opCallerIsOrig)), RCCodeNotFound, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, out := v.hcall(a, tc.in)
			if rc != tc.rc || (tc.out != "-" && hex.EncodeToString(out) != tc.out) {
				t.Fatalf("rc=%d out=%x, want rc=%d out=%s", rc, out, tc.rc, tc.out)
			}
		})
	}
	if rc, out := v.hcall(a, op(opGet, kv("k"))); rc != RCSuccess || !bytes.Equal(out, []byte{7}) {
		t.Fatalf("storage written by delegate: rc=%d out=%x", rc, out)
	}
	// A reverting delegate discards its writes.
	v.hcall(a, op(opDelegate, code[:], op(opRevert|opSet, kv("r", 1))))
	if rc, _ := v.hcall(a, op(opGet, kv("r"))); rc != RCKeyNotFound {
		t.Fatalf("reverted delegate write kept: rc=%d", rc)
	}
}

func TestHostTerminate(t *testing.T) {
	v := newEnv(t, Config{})
	v.st.ED = scale.U128From(10)
	a := v.deploy("hostfns", nil)
	v.st.SetBalance(a, scale.U128From(500))
	if rc, _ := v.hcall(a, op(opSet, kv("k", 1, 2, 3))); rc != Sentinel {
		t.Fatalf("set: %d", rc)
	}
	benef := AccountID{0xbe}
	o := v.call(a, op(opTerminate, benef[:]))
	if !o.Success() {
		t.Fatalf("terminate: %+v", o)
	}
	if got := v.st.Balance(benef); got != scale.U128From(500) {
		t.Fatalf("beneficiary got %v", got)
	}
	if !v.st.Balance(a).IsZero() {
		t.Fatalf("contract keeps %v", v.st.Balance(a))
	}
	if _, ok := v.st.ContractCodeHash(a); ok {
		t.Fatal("contract still registered")
	}
	if len(v.st.StorageKeys(a)) != 0 {
		t.Fatal("storage survives terminate")
	}
	// Later calls fail as the pallet's (ContractNotFound), from outside and inside.
	if o := v.call(a, op(opCallerIsOrig)); !errors.Is(o.Err, ErrNotContract) {
		t.Fatalf("call after terminate: %+v", o)
	}
	b := v.deploy("hostfns", []byte{1})
	if rc, _ := v.hcall(b, op(opCall, u32le(0), a[:], op(opCallerIsOrig))); rc != RCNotCallable {
		t.Fatalf("nested call after terminate: rc=%d", rc)
	}
	if rc, _ := v.hcall(b, op(opIsContract, a[:])); rc != 0 {
		t.Fatal("is_contract after terminate")
	}

	// A terminate in a read-only call traps; one on the stack twice traps.
	c := v.deploy("hostfns", []byte{2})
	if rc, _ := v.hcall(b, op(opCall, u32le(CallReadOnly), c[:], op(opTerminate, benef[:]))); rc != RCCalleeTrapped {
		t.Fatalf("read-only terminate: rc=%d", rc)
	}
	// c → b → c.terminate: the inner call traps, b sees CalleeTrapped.
	if rc, out := v.hcall(c, op(opCall, u32le(CallAllowReentry), b[:], op(opCall, u32le(CallAllowReentry), c[:], op(opTerminate, benef[:])))); rc != RCSuccess || hex.EncodeToString(out) != "01000000" {
		t.Fatalf("terminate while on the stack: rc=%d out=%x", rc, out)
	}
	if _, ok := v.st.ContractCodeHash(c); !ok {
		t.Fatal("trapped terminate removed the contract")
	}
}

func TestHostSetCodeHash(t *testing.T) {
	v := newEnv(t, Config{})
	a := v.deploy("hostfns", nil)
	flip := v.upload("flipper")
	if rc, _ := v.hcall(a, op(opSetCodeHash, []byte{9: 1, 31: 0})); rc != RCCodeNotFound {
		t.Fatalf("unknown code: rc=%d", rc)
	}
	// A reverted set_code_hash changes nothing.
	if o := v.call(a, op(opRevert|opSetCodeHash, flip[:])); !o.Reverted() {
		t.Fatalf("revert: %+v", o)
	}
	if h, _ := v.st.ContractCodeHash(a); h != CodeHash(testcontracts.Wasm("hostfns")) {
		t.Fatal("reverted set_code_hash kept")
	}
	if rc, _ := v.hcall(a, op(opSetCodeHash, flip[:])); rc != RCSuccess {
		t.Fatalf("set_code_hash: rc=%d", rc)
	}
	if h, _ := v.st.ContractCodeHash(a); h != flip {
		t.Fatal("code hash not recorded")
	}
	// The next call runs flipper's code: flip then get.
	if o := v.call(a, sel("633aa551")); !o.Success() {
		t.Fatalf("flip on new code: %+v", o)
	}
	if o := v.call(a, sel("2f865bd9")); !o.Success() || hex.EncodeToString(o.Data) != "0001" {
		t.Fatalf("get on new code: %+v", o)
	}
}

func TestHostTransfer(t *testing.T) {
	v := newEnv(t, Config{})
	v.st.ED = scale.U128From(10)
	a := v.deploy("hostfns", nil)
	v.st.SetBalance(a, scale.U128From(100))
	carol, dave := AccountID{0xca}, AccountID{0xda}
	v.st.SetBalance(dave, scale.U128From(50))
	tests := []struct {
		name      string
		to        AccountID
		value     uint64
		rc        uint32
		contract  uint64 // balance of the contract after
		recipient uint64
	}{
		{"success to new account", carol, 20, RCSuccess, 80, 20},
		{"insufficient balance", carol, 1000, RCTransferFailed, 80, 20},
		{"new account below existential deposit", AccountID{0xee}, 5, RCTransferFailed, 80, 0},
		{"existing account below existential deposit", dave, 5, RCSuccess, 75, 55},
		{"sender would drop below existential deposit", carol, 70, RCTransferFailed, 75, 20},
		{"sender may not reap itself", carol, 75, RCTransferFailed, 75, 20},
		{"zero", AccountID{0xef}, 0, RCSuccess, 75, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, _ := v.hcall(a, op(opTransfer, tc.to[:], u128le(tc.value)))
			if rc != tc.rc {
				t.Fatalf("rc=%d want %d", rc, tc.rc)
			}
			if got := v.st.Balance(a); got != scale.U128From(tc.contract) {
				t.Fatalf("contract balance %v want %d", got, tc.contract)
			}
			if got := v.st.Balance(tc.to); got != scale.U128From(tc.recipient) {
				t.Fatalf("recipient balance %v want %d", got, tc.recipient)
			}
		})
	}
	// A transfer in a reverting call is undone.
	if o := v.call(a, op(opRevert|opTransfer, carol[:], u128le(10))); !o.Reverted() || v.st.Balance(carol) != scale.U128From(20) {
		t.Fatalf("reverted transfer: %+v, carol %v", o, v.st.Balance(carol))
	}
}

func TestHostEcdsa(t *testing.T) {
	v := newEnv(t, Config{})
	a := v.deploy("hostfns", nil)
	// A known vector, computed here: private key 1..32, message hash keccak("cella").
	var seed [32]byte
	for i := range seed {
		seed[i] = byte(i + 1)
	}
	priv := secp256k1.PrivKeyFromBytes(seed[:])
	k := sha3.NewLegacyKeccak256()
	k.Write([]byte("cella"))
	msg := k.Sum(nil)
	compact := ecdsa.SignCompact(priv, msg, true) // [27+4+recid] ‖ r ‖ s
	sig := append(append([]byte{}, compact[1:]...), compact[0]-27-4)
	wantPK := priv.PubKey().SerializeCompressed()
	k = sha3.NewLegacyKeccak256()
	k.Write(priv.PubKey().SerializeUncompressed()[1:])
	wantEth := k.Sum(nil)[12:]

	sig27 := append(append([]byte{}, sig[:64]...), sig[64]+27)
	badV := append(append([]byte{}, sig[:64]...), 9)
	zeroSig := make([]byte, 65)
	tests := []struct {
		name string
		in   []byte
		rc   uint32
		out  []byte
	}{
		{"recover", op(opEcdsaRecover, sig, msg), RCSuccess, wantPK},
		{"recover v+27", op(opEcdsaRecover, sig27, msg), RCSuccess, wantPK},
		{"recover bad v", op(opEcdsaRecover, badV, msg), RCEcdsaRecoveryFailed, nil},
		{"recover zero signature", op(opEcdsaRecover, zeroSig, msg), RCEcdsaRecoveryFailed, nil},
		{"to eth address", op(opEcdsaToEth, wantPK), RCSuccess, wantEth},
		{"to eth address of a non-key", op(opEcdsaToEth, make([]byte, 33)), RCEcdsaRecoveryFailed, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, out := v.hcall(a, tc.in)
			if rc != tc.rc || !bytes.Equal(out, tc.out) {
				t.Fatalf("rc=%d out=%x, want rc=%d out=%x", rc, out, tc.rc, tc.out)
			}
		})
	}
	// Recovery with another message gives another key.
	other := append([]byte{}, msg...)
	other[0] ^= 1
	if rc, out := v.hcall(a, op(opEcdsaRecover, sig, other)); rc == RCSuccess && bytes.Equal(out, wantPK) {
		t.Fatal("recovered the signer from another message")
	}
}

func TestHostSr25519Verify(t *testing.T) {
	v := newEnv(t, Config{})
	a := v.deploy("hostfns", nil)
	pair, err := keys.FromURI("//Alice")
	if err != nil {
		t.Fatal(err)
	}
	msg := []byte("cella sr25519 message")
	sig := pair.Sign(msg)
	pub := pair.Public()
	flip := func(b []byte, i int) []byte { c := append([]byte{}, b...); c[i] ^= 1; return c }
	tests := []struct {
		name          string
		sig, pub, msg []byte
		rc            uint32
	}{
		{"valid", sig[:], pub[:], msg, RCSuccess},
		{"flipped signature byte", flip(sig[:], 5), pub[:], msg, RCSr25519VerifyFailed},
		{"flipped message byte", sig[:], pub[:], flip(msg, 0), RCSr25519VerifyFailed},
		{"flipped key byte", sig[:], flip(pub[:], 31), msg, RCSr25519VerifyFailed},
		{"empty message", sig[:], pub[:], nil, RCSr25519VerifyFailed},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if rc, _ := v.hcall(a, op(opSr25519Verify, tc.sig, tc.pub, tc.msg)); rc != tc.rc {
				t.Fatalf("rc=%d want %d", rc, tc.rc)
			}
		})
	}
}

func TestHostCallerIsOriginIsContractCodeHash(t *testing.T) {
	v := newEnv(t, Config{})
	a := v.deploy("hostfns", nil)
	b := v.deploy("hostfns", []byte{1})
	code := CodeHash(testcontracts.Wasm("hostfns"))
	flip := v.deploy("flipper", cat(sel("9bae9d5e"), []byte{0}))
	flipHash := CodeHash(testcontracts.Wasm("flipper"))
	ok := "00000000"
	tests := []struct {
		name string
		in   []byte
		rc   uint32
		out  string
	}{
		{"caller_is_origin at top level", op(opCallerIsOrig), 1, ""},
		{"caller_is_origin nested", op(opCall, u32le(0), b[:], op(opCallerIsOrig)), RCSuccess, "00000000"},
		{"is_contract self", op(opIsContract, a[:]), 1, ""},
		{"is_contract other", op(opIsContract, flip[:]), 1, ""},
		{"is_contract plain account", op(opIsContract, alice[:]), 0, ""},
		{"code_hash of a contract", op(opCodeHash, flip[:]), RCSuccess, hex.EncodeToString(flipHash[:])},
		{"code_hash of a plain account", op(opCodeHash, bob[:]), RCKeyNotFound, ""},
		{"own_code_hash", op(opOwnCodeHash), RCSuccess, hex.EncodeToString(code[:])},
		{"own_code_hash nested", op(opCall, u32le(0), b[:], op(opOwnCodeHash)), RCSuccess, ok + hex.EncodeToString(code[:])},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, out := v.hcall(a, tc.in)
			if rc != tc.rc || hex.EncodeToString(out) != tc.out {
				t.Fatalf("rc=%d out=%x, want rc=%d out=%s", rc, out, tc.rc, tc.out)
			}
		})
	}
}

func TestTransientStorage(t *testing.T) {
	v := newEnv(t, Config{})
	// Validation knows them, under seal0 only (no seal_ alias, as the pallet).
	for _, n := range []string{"set", "get", "take", "contains", "clear"} {
		if _, ok := v.e.Policy().Imports["seal0."+n+"_transient_storage"]; !ok {
			t.Fatalf("%s_transient_storage not a known import", n)
		}
		if _, ok := v.e.Policy().Imports["seal0.seal_"+n+"_transient_storage"]; ok {
			t.Fatalf("seal_%s_transient_storage is a known import", n)
		}
	}
	a := v.deploy("hostfns", nil)
	b := v.deploy("hostfns", []byte{1})
	call := func(flags uint32, dest AccountID, in []byte) []byte { return op(opCall, u32le(flags), dest[:], in) }
	tests := []struct {
		name string
		in   []byte
		rc   uint32
		out  string
	}{
		{"get missing", op(opTGet, kv("k")), RCKeyNotFound, ""},
		{"contains missing", op(opTContains, kv("k")), Sentinel, ""},
		{"clear missing", op(opTClear, kv("k")), Sentinel, ""},
		{"take missing", op(opTTake, kv("k")), RCKeyNotFound, ""},
		{"set new", op(opTSet, kv("k", 1, 2)), Sentinel, ""},
		{"set in a read-only callee traps", call(CallReadOnly, b, op(opTSet, kv("k", 1))), RCCalleeTrapped, ""},
		{"get in a read-only callee", call(CallReadOnly, b, op(opTGet, kv("k"))), RCSuccess, "03000000"},
		{"value too large traps", call(0, b, op(opTSet, kv("k", make([]byte, MaxValueSize+1)...))), RCCalleeTrapped, ""},
		{"key too long traps", call(0, b, op(opTSet, kv(string(make([]byte, MaxStorageKey+1)), 1))), RCCalleeTrapped, ""},
		// Nothing survives the end of the outermost call.
		{"gone after the call", op(opTGet, kv("k")), RCKeyNotFound, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc, out := v.hcall(a, tc.in)
			if rc != tc.rc || hex.EncodeToString(out) != tc.out {
				t.Fatalf("rc=%d out=%x, want rc=%d out=%s", rc, out, tc.rc, tc.out)
			}
		})
	}

	// Delegated code shares the delegator's transient storage.
	code := CodeHash(testcontracts.Wasm("hostfns"))
	if rc, out := v.hcall(a, op(opDelegate, code[:], op(opTSet, kv("k", 5)))); rc != RCSuccess || hex.EncodeToString(out) != "ffffffff" {
		t.Fatalf("delegate set: rc=%d out=%x", rc, out)
	}

	// Journal semantics, driven through one execution with the engine's
	// own frames: a reverting callee's transient writes are discarded.
	x := v.e.newExecution(context.Background(), v.h, alice)
	x.j.push()
	if !x.j.setTransient(a, []byte("k"), []byte{1}, MaxTransientStorageSize) {
		t.Fatal("set")
	}
	x.j.push()
	x.j.setTransient(a, []byte("k"), []byte{2, 2}, MaxTransientStorageSize)
	x.j.setTransient(a, []byte("j"), []byte{3}, MaxTransientStorageSize)
	if got, _ := x.j.getTransient(a, []byte("k")); !bytes.Equal(got, []byte{2, 2}) {
		t.Fatalf("inner read %x", got)
	}
	x.j.pop() // revert
	if got, _ := x.j.getTransient(a, []byte("k")); !bytes.Equal(got, []byte{1}) {
		t.Fatalf("after revert %x", got)
	}
	if _, ok := x.j.getTransient(a, []byte("j")); ok {
		t.Fatal("reverted entry kept")
	}
	if x.j.top().transientSize != 2 {
		t.Fatalf("size %d", x.j.top().transientSize)
	}
	x.j.push()
	x.j.setTransient(a, []byte("j"), []byte{3}, MaxTransientStorageSize)
	x.j.commit()
	if got, _ := x.j.getTransient(a, []byte("j")); !bytes.Equal(got, []byte{3}) || x.j.top().transientSize != 4 {
		t.Fatalf("after commit %x size %d", got, x.j.top().transientSize)
	}
	if _, ok := x.j.getTransient(b, []byte("j")); ok {
		t.Fatal("transient storage shared between contracts")
	}
	// The limit counts key and value bytes of live entries.
	if x.j.setTransient(a, []byte("big"), make([]byte, MaxTransientStorageSize), MaxTransientStorageSize) {
		t.Fatal("over the limit accepted")
	}
	if x.j.top().transientSize != 4 {
		t.Fatal("failed set changed the size")
	}
	x.j.setTransient(a, []byte("j"), nil, MaxTransientStorageSize)
	if x.j.top().transientSize != 2 {
		t.Fatalf("clear: size %d", x.j.top().transientSize)
	}
	// Transient writes never reach the State.
	if len(v.st.StorageKeys(a)) != 0 {
		t.Fatal("transient storage reached the State")
	}
}

// recordingHook records every call of the storage-deposit hook.
type recordingHook struct{ calls [][]StorageDelta }

func (r *recordingHook) StorageChanged(d []StorageDelta) { r.calls = append(r.calls, d) }

func TestStorageDepositHook(t *testing.T) {
	v := newEnv(t, Config{})
	hook := &recordingHook{}
	v.h.Deposits = hook
	a := v.deploy("hostfns", nil)
	if len(hook.calls) != 1 || len(hook.calls[0]) != 1 || !hook.calls[0][0].Created || hook.calls[0][0].Contract != a {
		t.Fatalf("deploy: %+v", hook.calls)
	}
	steps := []struct {
		name string
		in   []byte
		want []StorageDelta // nil = hook not called
	}{
		{"add", op(opSet, kv("k", 1, 2, 3)), []StorageDelta{{Contract: a, BytesAdded: 3, ItemsAdded: 1}}},
		{"grow", op(opSet, kv("k", 1, 2, 3, 4, 5)), []StorageDelta{{Contract: a, BytesAdded: 5, BytesRemoved: 3}}},
		{"reverted", op(opRevert|opSet, kv("x", 1)), nil},
		{"trapped", op(99), nil},
		{"read only", op(opGet, kv("k")), nil},
		{"transient only", op(opTSet, kv("t", 1)), nil},
		{"add via delegate", op(opDelegate, CodeHash(testcontracts.Wasm("hostfns")).bytes(), op(opSet, kv("d", 9, 9))), []StorageDelta{{Contract: a, BytesAdded: 2, ItemsAdded: 1}}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			hook.calls = nil
			v.call(a, s.in)
			switch {
			case s.want == nil && len(hook.calls) != 0:
				t.Fatalf("hook called: %+v", hook.calls)
			case s.want != nil && (len(hook.calls) != 1 || !equalDeltas(hook.calls[0], s.want)):
				t.Fatalf("hook calls %+v, want %+v", hook.calls, s.want)
			}
		})
	}
	// A dry run never reaches the hook.
	hook.calls = nil
	v.e.Call(context.Background(), v.h, CallRequest{Caller: alice, Dest: a, Input: op(opSet, kv("z", 1)), GasLimit: gasLimit, DryRun: true})
	if len(hook.calls) != 0 {
		t.Fatal("dry run called the hook")
	}
	// Terminate reports the removal; nested writes of two contracts come sorted.
	b := v.deploy("hostfns", []byte{1})
	hook.calls = nil
	v.call(a, op(opCall, u32le(0), b[:], op(opSet, kv("n", 1))))
	v.call(b, op(opTerminate, bob[:]))
	want := [][]StorageDelta{{{Contract: b, BytesAdded: 1, ItemsAdded: 1}}, {{Contract: b, Removed: true}}}
	if len(hook.calls) != 2 || !equalDeltas(hook.calls[0], want[0]) || !equalDeltas(hook.calls[1], want[1]) {
		t.Fatalf("hook calls %+v", hook.calls)
	}
	// A State that implements the hook is used when Host.Deposits is nil.
	st := &hookState{MemState: v.st}
	h := v.h
	h.State, h.Deposits = st, nil
	v.e.Call(context.Background(), h, CallRequest{Caller: alice, Dest: a, Input: op(opSet, kv("k")), GasLimit: gasLimit})
	if len(st.calls) != 1 || !equalDeltas(st.calls[0], []StorageDelta{{Contract: a, BytesRemoved: 5}}) {
		t.Fatalf("state hook: %+v", st.calls)
	}
}

type hookState struct {
	*MemState
	recordingHook
}

func (h Hash) bytes() []byte { return h[:] }

func equalDeltas(a, b []StorageDelta) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestDeadlineBackstopQueriesOnly(t *testing.T) {
	// Query mode: an infinite loop with (practically) unlimited gas stops at
	// the deadline with a clear error.
	q := newEnv(t, Config{CloseOnContextDone: true})
	addr := q.deploy("loop", nil)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	o := q.e.Call(ctx, q.h, CallRequest{Caller: alice, Dest: addr, GasLimit: 1 << 62, DryRun: true})
	if !errors.Is(o.Err, ErrDeadline) {
		t.Fatalf("query: %+v", o)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("deadline took %v", d)
	}

	// Transaction mode: the clock never decides; an expired context still
	// runs to out of gas with the same gas as with no deadline.
	tx := newEnv(t, Config{})
	addr = tx.deploy("loop", nil)
	ctx, cancel = context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	<-ctx.Done()
	o = tx.e.Call(ctx, tx.h, CallRequest{Caller: alice, Dest: addr, GasLimit: 2_000_000})
	if !errors.Is(o.Err, ErrOutOfGas) || o.GasUsed != 2_000_000 {
		t.Fatalf("transaction: %+v", o)
	}
}
