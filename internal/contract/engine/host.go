package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"math"

	schnorrkel "github.com/ChainSafe/go-schnorrkel"
	"github.com/decred/dcrd/dcrec/secp256k1/v4"
	"github.com/decred/dcrd/dcrec/secp256k1/v4/ecdsa"
	"github.com/tetratelabs/wazero/api"
	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/sha3"

	"github.com/cella-network/cella/internal/contract/wasm"
	"github.com/cella-network/cella/internal/scale"
)

// HostCosts are the gas costs of host functions, in the same units as
// instruction costs (one unit is about one simple Wasm instruction).
type HostCosts struct {
	HostCall       uint64 // every host-function call
	PerByte        uint64 // every byte copied between memory and host
	StorageRead    uint64 // get/contains/take
	StorageWrite   uint64 // set/clear/take
	StoragePerByte uint64 // per byte of a stored or loaded value
	Event          uint64
	EventTopic     uint64
	EventPerByte   uint64
	HashBase       uint64
	HashPerByte    uint64
	EcdsaRecover   uint64
	EcdsaToEth     uint64
	Sr25519Verify  uint64
	Call           uint64 // call and delegate_call, before the callee's own gas
	Instantiate    uint64
	Transfer       uint64
	Terminate      uint64
	ChainExtension uint64
	CompileBase    uint64 // upload/deploy: compile cost
	CompilePerByte uint64 // per byte of code
}

// DefaultHostCosts is the host-cost schedule of Cella's first release.
var DefaultHostCosts = HostCosts{
	HostCall:       20,
	PerByte:        1,
	StorageRead:    500,
	StorageWrite:   1000,
	StoragePerByte: 2,
	Event:          500,
	EventTopic:     100,
	EventPerByte:   2,
	HashBase:       100,
	HashPerByte:    2,
	EcdsaRecover:   20000,
	EcdsaToEth:     2000,
	Sr25519Verify:  15000,
	Call:           2000,
	Instantiate:    5000,
	Transfer:       1000,
	Terminate:      2000,
	ChainExtension: 1000,
	CompileBase:    10000,
	CompilePerByte: 4,
}

const (
	i32 = api.ValueTypeI32
	i64 = api.ValueTypeI64
)

type hostFunc struct {
	module  string
	name    string
	alias   bool // also register seal_<name>
	params  []api.ValueType
	results []api.ValueType
	fn      func(f *frame, s []uint64)
}

func ps(n int) []api.ValueType {
	p := make([]api.ValueType, n)
	for i := range p {
		p[i] = i32
	}
	return p
}

var r32 = []api.ValueType{i32}

func toWasm(ts []api.ValueType) []wasm.ValType {
	out := make([]wasm.ValType, len(ts))
	for i, t := range ts {
		if t == i64 {
			out[i] = wasm.I64
		} else {
			out[i] = wasm.I32
		}
	}
	return out
}

// hostSignatures returns "module.name" → signature of every host function.
func hostSignatures() map[string]wasm.FuncType {
	m := map[string]wasm.FuncType{}
	for _, h := range hostFuncs {
		ft := wasm.FuncType{Params: toWasm(h.params), Results: toWasm(h.results)}
		m[h.module+"."+h.name] = ft
		if h.alias {
			m[h.module+".seal_"+h.name] = ft
		}
	}
	return m
}

func (e *Engine) instantiateHost(ctx context.Context) error {
	mods := []string{"seal0", "seal1", "seal2", "__unstable__"}
	for _, mod := range mods {
		b := e.rt.NewHostModuleBuilder(mod)
		for _, h := range hostFuncs {
			if h.module != mod {
				continue
			}
			fn := h.fn
			gf := api.GoModuleFunc(func(ctx context.Context, _ api.Module, stack []uint64) {
				f := ctx.Value(frameKey{}).(*frame)
				f.charge(f.x.e.cfg.Costs.HostCall)
				fn(f, stack)
			})
			b.NewFunctionBuilder().WithGoModuleFunction(gf, h.params, h.results).Export(h.name)
			if h.alias {
				b.NewFunctionBuilder().WithGoModuleFunction(gf, h.params, h.results).Export("seal_" + h.name)
			}
		}
		if _, err := b.Instantiate(ctx); err != nil {
			return err
		}
	}
	return nil
}

// --- memory helpers -------------------------------------------------------

func (f *frame) read(p, n uint32) []byte {
	b, ok := f.mem.Read(p, n)
	if !ok {
		f.trap(ErrOutOfBounds)
	}
	return b
}

// readCopy reads n bytes and copies them out of guest memory, charging per byte.
func (f *frame) readCopy(p, n uint32) []byte {
	f.charge(uint64(n) * f.x.e.cfg.Costs.PerByte)
	return append([]byte(nil), f.read(p, n)...)
}

func (f *frame) write(p uint32, b []byte) {
	if !f.mem.Write(p, b) {
		f.trap(ErrOutOfBounds)
	}
}

func (f *frame) readU32(p uint32) uint32 {
	v, ok := f.mem.ReadUint32Le(p)
	if !ok {
		f.trap(ErrOutOfBounds)
	}
	return v
}

func (f *frame) readAccount(p uint32) AccountID { return AccountID(f.read(p, 32)) }

func (f *frame) readHash(p uint32) Hash { return Hash(f.read(p, 32)) }

func (f *frame) readU128(p uint32) scale.U128 {
	b := f.read(p, 16)
	return scale.U128{Lo: binary.LittleEndian.Uint64(b), Hi: binary.LittleEndian.Uint64(b[8:])}
}

// writeOut implements the output-buffer convention: *lenPtr holds the
// capacity; data is written and its length stored back. With allowSkip, an
// out pointer of SENTINEL discards the output.
func (f *frame) writeOut(out, lenPtr uint32, data []byte, allowSkip bool) {
	if allowSkip && out == Sentinel {
		return
	}
	f.charge(uint64(len(data)) * f.x.e.cfg.Costs.PerByte)
	if c := f.readU32(lenPtr); uint64(c) < uint64(len(data)) {
		f.trap(ErrOutputBufferTooSmall)
	}
	f.write(out, data)
	if !f.mem.WriteUint32Le(lenPtr, uint32(len(data))) {
		f.trap(ErrOutOfBounds)
	}
}

func u128Bytes(v scale.U128) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint64(b, v.Lo)
	binary.LittleEndian.PutUint64(b[8:], v.Hi)
	return b
}

func (f *frame) mutating() {
	if f.readOnly {
		f.trap(ErrStateChangeDenied)
	}
}

// --- storage ----------------------------------------------------------------

func (f *frame) fixKey(p uint32) []byte {
	h := blake2b.Sum256(f.read(p, 32))
	return h[:]
}

func (f *frame) varKey(p, n uint32) []byte {
	if n > MaxStorageKey {
		f.trap(ErrKeyTooLong)
	}
	k := f.read(p, n)
	h, _ := blake2b.New(16, nil)
	h.Write(k)
	return append(h.Sum(make([]byte, 0, 16+len(k))), k...)
}

// space is one of a contract's key-value spaces: persistent storage, or
// transient storage, which lives for one execution (the outermost call and
// its nested frames) and never reaches the State. Both are journaled per
// frame (a frame that traps or reverts loses its writes), charged alike, and
// served by the same host-function code.
type space struct {
	get func(j *journal, c AccountID, key []byte) ([]byte, bool)
	// set stores (nil value: deletes) and reports false when the space is
	// full (transient storage's MaxTransientStorageSize).
	set func(j *journal, c AccountID, key, value []byte) bool
}

var (
	persistent = space{
		get: (*journal).getStorage,
		set: func(j *journal, c AccountID, k, v []byte) bool { j.setStorage(c, k, v); return true },
	}
	transient = space{
		get: (*journal).getTransient,
		set: func(j *journal, c AccountID, k, v []byte) bool {
			return j.setTransient(c, k, v, MaxTransientStorageSize)
		},
	}
)

func (f *frame) storageGet(sp space, key []byte) ([]byte, bool) {
	f.charge(f.x.e.cfg.Costs.StorageRead)
	v, ok := sp.get(&f.x.j, f.address, key)
	f.charge(uint64(len(v)) * f.x.e.cfg.Costs.StoragePerByte)
	return v, ok
}

// storageSet writes (or with del clears) and returns the old length or
// SENTINEL. Going over transient storage's size limit traps.
func (f *frame) storageSet(sp space, key []byte, vp, vl uint32, del bool) uint32 {
	f.mutating()
	c := &f.x.e.cfg.Costs
	var v []byte
	if !del {
		if vl > MaxValueSize {
			f.trap(ErrValueTooLarge)
		}
		f.charge(c.StorageWrite + uint64(vl)*c.StoragePerByte)
		v = f.read(vp, vl)
		if v == nil {
			v = []byte{}
		}
	} else {
		f.charge(c.StorageWrite)
	}
	old, ok := sp.get(&f.x.j, f.address, key)
	if !sp.set(&f.x.j, f.address, key, v) {
		f.trap(ErrOutOfTransientStorage)
	}
	if !ok {
		return Sentinel
	}
	return uint32(len(old))
}

func (f *frame) storageGetOut(sp space, key []byte, out, outLen uint32, take bool) uint32 {
	if take {
		f.mutating()
	}
	v, ok := f.storageGet(sp, key)
	if !ok {
		return RCKeyNotFound
	}
	if take {
		f.charge(f.x.e.cfg.Costs.StorageWrite)
		sp.set(&f.x.j, f.address, key, nil) // a deletion always fits
	}
	f.writeOut(out, outLen, v, false)
	return RCSuccess
}

func (f *frame) storageContains(sp space, key []byte) uint32 {
	v, ok := f.storageGet(sp, key)
	if !ok {
		return Sentinel
	}
	return uint32(len(v))
}

// --- calls --------------------------------------------------------------------

func (f *frame) budget(limit uint64) int64 {
	left := f.gasLeft()
	if limit != 0 && limit < uint64(max(left, 0)) {
		return int64(limit)
	}
	return left
}

func (f *frame) inputFor(flags, inP, inL uint32) []byte {
	switch {
	case flags&CallForwardInput != 0:
		if f.inputGone {
			f.trap(ErrInputForwarded)
		}
		f.inputGone = true
		return f.input
	case flags&CallCloneInput != 0:
		if f.inputGone {
			f.trap(ErrInputForwarded)
		}
		return append([]byte(nil), f.input...)
	}
	return f.readCopy(inP, inL)
}

func (f *frame) checkFlags(flags uint32) {
	if flags&^uint32(0x1F) != 0 || (flags&CallForwardInput != 0 && flags&CallCloneInput != 0) {
		f.trap(ErrInvalidCallFlags)
	}
}

func (f *frame) checkDepth() {
	if len(f.x.frames) >= f.x.e.cfg.MaxCallDepth {
		f.trap(ErrMaxCallDepth)
	}
}

// finishNested turns a nested result into a return code, copying output.
func (f *frame) finishNested(r result, flags, out, outLen uint32) uint32 {
	f.setGas(f.gasLeft() - int64(r.used))
	switch {
	case r.err == ErrTransferFailed:
		return RCTransferFailed
	case r.err == ErrNotContract:
		return RCNotCallable
	case r.err == ErrCodeNotFound:
		return RCCodeNotFound
	case r.err != nil:
		return RCCalleeTrapped
	}
	if flags&CallTailCall != 0 {
		panic(&returnSignal{flags: r.flags, data: r.data})
	}
	f.writeOut(out, outLen, r.data, true)
	if r.flags&FlagRevert != 0 {
		return RCCalleeReverted
	}
	return RCSuccess
}

func (f *frame) doCall(flags uint32, callee AccountID, gasLimit uint64, value scale.U128, inP, inL, out, outLen uint32) uint32 {
	f.charge(f.x.e.cfg.Costs.Call)
	f.checkFlags(flags)
	input := f.inputFor(flags, inP, inL)
	f.checkDepth()
	f.allowsReentry = flags&CallAllowReentry != 0
	for _, fr := range f.x.frames {
		if fr.address == callee && !fr.allowsReentry {
			f.trap(ErrReentranceDenied)
		}
	}
	readOnly := f.readOnly || flags&CallReadOnly != 0
	if readOnly && !value.IsZero() {
		f.trap(ErrStateChangeDenied)
	}
	if _, ok := f.x.j.codeHash(callee); !ok {
		return RCNotCallable
	}
	r := f.x.run(f.address, callee, nil, value, input, f.budget(gasLimit), true, readOnly, f.allowsReentry)
	return f.finishNested(r, flags, out, outLen)
}

func (f *frame) doDelegate(flags, hashP, inP, inL, out, outLen uint32) uint32 {
	f.charge(f.x.e.cfg.Costs.Call)
	f.checkFlags(flags)
	if flags&(CallAllowReentry|CallReadOnly) != 0 {
		f.trap(ErrInvalidCallFlags)
	}
	h := f.readHash(hashP)
	input := f.inputFor(flags, inP, inL)
	f.checkDepth()
	if _, ok := f.x.host.State.Code(h); !ok {
		return RCCodeNotFound
	}
	r := f.x.run(f.caller, f.address, &h, f.value, input, f.budget(0), true, f.readOnly, true)
	return f.finishNested(r, flags, out, outLen)
}

func (f *frame) doInstantiate(hashP uint32, gasLimit uint64, value scale.U128, inP, inL, addrP, addrLenP, out, outLen, saltP, saltL uint32) uint32 {
	f.charge(f.x.e.cfg.Costs.Instantiate)
	f.mutating()
	h := f.readHash(hashP)
	input := f.readCopy(inP, inL)
	salt := f.readCopy(saltP, saltL)
	f.checkDepth()
	f.x.nonce++
	r, addr := f.x.instantiate(f.address, h, nil, value, input, salt, f.budget(gasLimit), true)
	if r.err == ErrDuplicateContract {
		f.trap(ErrDuplicateContract)
	}
	rc := f.finishNested(r, 0, out, outLen)
	if rc == RCSuccess {
		f.writeOut(addrP, addrLenP, addr[:], true)
	}
	return rc
}

func (f *frame) doTerminate(benef AccountID) {
	f.charge(f.x.e.cfg.Costs.Terminate)
	f.mutating()
	x := f.x
	for _, fr := range x.frames[:len(x.frames)-1] {
		if fr.address == f.address {
			f.trap(ErrTerminatedInReentry)
		}
	}
	bal := x.j.balance(f.address)
	if !x.j.transfer(f.address, benef, bal, false) {
		f.trap(ErrTransferFailed)
	}
	x.j.setCodeHash(f.address, nil)
	panic(&terminateSignal{})
}

func (f *frame) doEvent(tp, tl, dp, dl uint32) {
	f.mutating()
	c := &f.x.e.cfg.Costs
	if dl > MaxValueSize {
		f.trap(ErrValueTooLarge)
	}
	var topics []Hash
	if tl > 0 {
		if tl > 1+32*MaxEventTopics {
			f.trap(ErrTooManyTopics)
		}
		r := scale.NewReader(f.read(tp, tl))
		n := r.Compact()
		if r.Err() == nil && n > MaxEventTopics {
			f.trap(ErrTooManyTopics)
		}
		topics = make([]Hash, n)
		for i := range topics {
			r.Fixed(topics[i][:])
		}
		if r.Finish() != nil {
			f.trap(ErrDecodingFailed)
		}
	}
	f.charge(c.Event + uint64(len(topics))*c.EventTopic + uint64(dl)*c.EventPerByte)
	data := append([]byte(nil), f.read(dp, dl)...)
	top := f.x.j.top()
	top.events = append(top.events, Event{Contract: f.address, Topics: topics, Data: data})
}

func (f *frame) doHash(inP, inL, out uint32, kind int) {
	c := &f.x.e.cfg.Costs
	f.charge(c.HashBase + uint64(inL)*c.HashPerByte)
	in := f.read(inP, inL)
	var h []byte
	switch kind {
	case 0:
		s := sha256.Sum256(in)
		h = s[:]
	case 1:
		k := sha3.NewLegacyKeccak256()
		k.Write(in)
		h = k.Sum(nil)
	case 2:
		s := blake2b.Sum256(in)
		h = s[:]
	default:
		b, _ := blake2b.New(16, nil)
		b.Write(in)
		h = b.Sum(nil)
	}
	f.write(out, h)
}

func (f *frame) random(subjP, subjL, out, outLen uint32, withBlock bool) {
	if subjL > MaxSubjectLen {
		f.trap(ErrValueTooLarge)
	}
	subj := f.read(subjP, subjL)
	var bn [4]byte
	binary.LittleEndian.PutUint32(bn[:], f.x.host.Env.BlockNumber)
	h := blake2b.Sum256(append(append([]byte("cella/random"), subj...), bn[:]...))
	data := h[:]
	if withBlock {
		data = append(data, bn[:]...)
	}
	f.writeOut(out, outLen, data, false)
}

func ecdsaRecover(sig, msg []byte) ([]byte, bool) {
	v := sig[64]
	if v >= 27 {
		v -= 27
	}
	if v > 3 {
		return nil, false
	}
	compact := make([]byte, 65)
	compact[0] = 27 + 4 + v
	copy(compact[1:], sig[:64])
	pk, _, err := ecdsa.RecoverCompact(compact, msg)
	if err != nil {
		return nil, false
	}
	return pk.SerializeCompressed(), true
}

func sr25519Verify(sig, pub, msg []byte) bool {
	var pk schnorrkel.PublicKey
	if pk.Decode([32]byte(pub)) != nil {
		return false
	}
	var s schnorrkel.Signature
	if s.Decode([64]byte(sig)) != nil {
		return false
	}
	ok, err := pk.Verify(&s, schnorrkel.NewSigningContext([]byte("substrate"), msg))
	return err == nil && ok
}

func (f *frame) envOut(out, outLen uint32, data []byte) { f.writeOut(out, outLen, data, false) }

func u32s(v uint32) uint64 { return uint64(v) }

// hostFuncs is the host ABI. Stack values are the raw parameters; results
// are written back to s[0].
var hostFuncs = []hostFunc{
	// --- input/output and control flow
	{"seal0", "input", true, ps(2), nil, func(f *frame, s []uint64) {
		if f.inputGone {
			f.trap(ErrInputForwarded)
		}
		f.writeOut(uint32(s[0]), uint32(s[1]), f.input, false)
	}},
	{"seal0", "seal_return", false, ps(3), nil, func(f *frame, s []uint64) {
		flags := uint32(s[0])
		if flags&^uint32(FlagRevert) != 0 {
			f.trap(ErrInvalidReturnFlags)
		}
		data := f.readCopy(uint32(s[1]), uint32(s[2]))
		panic(&returnSignal{flags: flags, data: data})
	}},
	{"seal0", "terminate", true, ps(2), nil, func(f *frame, s []uint64) { f.doTerminate(f.readAccount(uint32(s[0]))) }},
	{"seal1", "terminate", true, ps(1), nil, func(f *frame, s []uint64) { f.doTerminate(f.readAccount(uint32(s[0]))) }},
	{"seal0", "debug_message", true, ps(2), r32, debugMessage},
	{"__unstable__", "debug_message", true, ps(2), r32, debugMessage},

	// --- storage
	{"seal0", "set_storage", true, ps(3), nil, func(f *frame, s []uint64) {
		f.storageSet(persistent, f.fixKey(uint32(s[0])), uint32(s[1]), uint32(s[2]), false)
	}},
	{"seal1", "set_storage", true, ps(3), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageSet(persistent, f.fixKey(uint32(s[0])), uint32(s[1]), uint32(s[2]), false))
	}},
	{"seal2", "set_storage", true, ps(4), r32, setStorageVar},
	{"__unstable__", "set_storage", true, ps(4), r32, setStorageVar},
	{"seal0", "clear_storage", true, ps(1), nil, func(f *frame, s []uint64) {
		f.storageSet(persistent, f.fixKey(uint32(s[0])), 0, 0, true)
	}},
	{"seal1", "clear_storage", true, ps(2), r32, clearStorageVar},
	{"__unstable__", "clear_storage", true, ps(2), r32, clearStorageVar},
	{"seal0", "get_storage", true, ps(3), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageGetOut(persistent, f.fixKey(uint32(s[0])), uint32(s[1]), uint32(s[2]), false))
	}},
	{"seal1", "get_storage", true, ps(4), r32, getStorageVar},
	{"__unstable__", "get_storage", true, ps(4), r32, getStorageVar},
	{"seal0", "contains_storage", true, ps(1), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageContains(persistent, f.fixKey(uint32(s[0]))))
	}},
	{"seal1", "contains_storage", true, ps(2), r32, containsStorageVar},
	{"__unstable__", "contains_storage", true, ps(2), r32, containsStorageVar},
	{"seal0", "take_storage", true, ps(4), r32, takeStorageVar},
	{"__unstable__", "take_storage", true, ps(4), r32, takeStorageVar},

	// --- transient storage (unstable in the pallet: seal0, no seal_ alias)
	{"seal0", "set_transient_storage", false, ps(4), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageSet(transient, f.varKey(uint32(s[0]), uint32(s[1])), uint32(s[2]), uint32(s[3]), false))
	}},
	{"seal0", "clear_transient_storage", false, ps(2), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageSet(transient, f.varKey(uint32(s[0]), uint32(s[1])), 0, 0, true))
	}},
	{"seal0", "get_transient_storage", false, ps(4), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageGetOut(transient, f.varKey(uint32(s[0]), uint32(s[1])), uint32(s[2]), uint32(s[3]), false))
	}},
	{"seal0", "take_transient_storage", false, ps(4), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageGetOut(transient, f.varKey(uint32(s[0]), uint32(s[1])), uint32(s[2]), uint32(s[3]), true))
	}},
	{"seal0", "contains_transient_storage", false, ps(2), r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.storageContains(transient, f.varKey(uint32(s[0]), uint32(s[1]))))
	}},

	// --- value, calls, instantiation
	{"seal0", "transfer", true, ps(4), r32, func(f *frame, s []uint64) {
		f.charge(f.x.e.cfg.Costs.Transfer)
		f.mutating()
		to, v := f.readAccount(uint32(s[0])), f.readU128(uint32(s[2]))
		if f.x.j.transfer(f.address, to, v, true) {
			s[0] = RCSuccess
		} else {
			s[0] = RCTransferFailed
		}
	}},
	{"seal0", "call", true, []api.ValueType{i32, i32, i64, i32, i32, i32, i32, i32, i32}, r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.doCall(CallAllowReentry, f.readAccount(uint32(s[0])), s[2], f.readU128(uint32(s[3])),
			uint32(s[5]), uint32(s[6]), uint32(s[7]), uint32(s[8])))
	}},
	{"seal1", "call", true, []api.ValueType{i32, i32, i64, i32, i32, i32, i32, i32}, r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.doCall(uint32(s[0]), f.readAccount(uint32(s[1])), s[2], f.readU128(uint32(s[3])),
			uint32(s[4]), uint32(s[5]), uint32(s[6]), uint32(s[7])))
	}},
	{"seal2", "call", false, []api.ValueType{i32, i32, i64, i64, i32, i32, i32, i32, i32, i32}, r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.doCall(uint32(s[0]), f.readAccount(uint32(s[1])), s[2], f.readU128(uint32(s[5])),
			uint32(s[6]), uint32(s[7]), uint32(s[8]), uint32(s[9])))
	}},
	{"seal0", "delegate_call", true, ps(6), r32, delegateCall},
	{"__unstable__", "delegate_call", true, ps(6), r32, delegateCall},
	{"seal0", "instantiate", true, []api.ValueType{i32, i32, i64, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32}, r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.doInstantiate(uint32(s[0]), s[2], f.readU128(uint32(s[3])), uint32(s[5]), uint32(s[6]),
			uint32(s[7]), uint32(s[8]), uint32(s[9]), uint32(s[10]), uint32(s[11]), uint32(s[12])))
	}},
	{"seal1", "instantiate", true, []api.ValueType{i32, i64, i32, i32, i32, i32, i32, i32, i32, i32, i32}, r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.doInstantiate(uint32(s[0]), s[1], f.readU128(uint32(s[2])), uint32(s[3]), uint32(s[4]),
			uint32(s[5]), uint32(s[6]), uint32(s[7]), uint32(s[8]), uint32(s[9]), uint32(s[10])))
	}},
	{"seal2", "instantiate", false, []api.ValueType{i32, i64, i64, i32, i32, i32, i32, i32, i32, i32, i32, i32, i32}, r32, func(f *frame, s []uint64) {
		s[0] = u32s(f.doInstantiate(uint32(s[0]), s[1], f.readU128(uint32(s[4])), uint32(s[5]), uint32(s[6]),
			uint32(s[7]), uint32(s[8]), uint32(s[9]), uint32(s[10]), uint32(s[11]), uint32(s[12])))
	}},

	// --- environment
	{"seal0", "caller", true, ps(2), nil, func(f *frame, s []uint64) { f.envOut(uint32(s[0]), uint32(s[1]), f.caller[:]) }},
	{"seal0", "address", true, ps(2), nil, func(f *frame, s []uint64) { f.envOut(uint32(s[0]), uint32(s[1]), f.address[:]) }},
	{"seal0", "balance", true, ps(2), nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[0]), uint32(s[1]), u128Bytes(f.x.j.balance(f.address)))
	}},
	{"seal0", "value_transferred", true, ps(2), nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[0]), uint32(s[1]), u128Bytes(f.value))
	}},
	{"seal0", "minimum_balance", true, ps(2), nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[0]), uint32(s[1]), u128Bytes(f.x.host.State.MinimumBalance()))
	}},
	{"seal0", "block_number", true, ps(2), nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[0]), uint32(s[1]), binary.LittleEndian.AppendUint32(nil, f.x.host.Env.BlockNumber))
	}},
	{"seal0", "now", true, ps(2), nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[0]), uint32(s[1]), binary.LittleEndian.AppendUint64(nil, f.x.host.Env.Timestamp))
	}},
	{"seal0", "gas_left", true, ps(2), nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[0]), uint32(s[1]), binary.LittleEndian.AppendUint64(nil, uint64(max(f.gasLeft(), 0))))
	}},
	{"seal1", "gas_left", true, ps(2), nil, func(f *frame, s []uint64) {
		var w scale.Writer
		w.Compact(uint64(max(f.gasLeft(), 0)))
		w.Compact(0)
		f.envOut(uint32(s[0]), uint32(s[1]), w.Bytes())
	}},
	{"seal0", "weight_to_fee", true, []api.ValueType{i64, i32, i32}, nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[1]), uint32(s[2]), u128Bytes(scale.U128From(s[0])))
	}},
	{"seal1", "weight_to_fee", true, []api.ValueType{i64, i64, i32, i32}, nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[2]), uint32(s[3]), u128Bytes(scale.U128From(s[0])))
	}},
	{"seal0", "own_code_hash", true, ps(2), nil, func(f *frame, s []uint64) {
		h, _ := f.x.j.codeHash(f.address)
		f.envOut(uint32(s[0]), uint32(s[1]), h[:])
	}},
	{"seal0", "code_hash", true, ps(3), r32, func(f *frame, s []uint64) {
		h, ok := f.x.j.codeHash(f.readAccount(uint32(s[0])))
		if !ok {
			s[0] = RCKeyNotFound
			return
		}
		f.envOut(uint32(s[1]), uint32(s[2]), h[:])
		s[0] = RCSuccess
	}},
	{"seal0", "is_contract", true, ps(1), r32, func(f *frame, s []uint64) {
		_, ok := f.x.j.codeHash(f.readAccount(uint32(s[0])))
		s[0] = b2u(ok)
	}},
	{"seal0", "caller_is_origin", true, nil, r32, func(f *frame, s []uint64) { s[0] = b2u(f.caller == f.x.origin) }},
	{"seal0", "caller_is_root", false, nil, r32, func(f *frame, s []uint64) { s[0] = 0 }},
	{"seal0", "random", true, ps(4), nil, func(f *frame, s []uint64) {
		f.random(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3]), false)
	}},
	{"seal1", "random", true, ps(4), nil, func(f *frame, s []uint64) {
		f.random(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3]), true)
	}},
	{"seal0", "reentrance_count", true, nil, r32, func(f *frame, s []uint64) { s[0] = uint64(f.x.count(f.address) - 1) }},
	{"__unstable__", "reentrance_count", true, nil, r32, func(f *frame, s []uint64) { s[0] = uint64(f.x.count(f.address) - 1) }},
	{"seal0", "account_reentrance_count", true, ps(1), r32, func(f *frame, s []uint64) {
		s[0] = uint64(f.x.count(f.readAccount(uint32(s[0]))))
	}},
	{"seal0", "instantiation_nonce", true, nil, []api.ValueType{i64}, func(f *frame, s []uint64) { s[0] = f.x.nonce }},

	// --- events and hashes
	{"seal0", "deposit_event", true, ps(4), nil, func(f *frame, s []uint64) {
		f.doEvent(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3]))
	}},
	{"seal0", "hash_sha2_256", true, ps(3), nil, func(f *frame, s []uint64) { f.doHash(uint32(s[0]), uint32(s[1]), uint32(s[2]), 0) }},
	{"seal0", "hash_keccak_256", true, ps(3), nil, func(f *frame, s []uint64) { f.doHash(uint32(s[0]), uint32(s[1]), uint32(s[2]), 1) }},
	{"seal0", "hash_blake2_256", true, ps(3), nil, func(f *frame, s []uint64) { f.doHash(uint32(s[0]), uint32(s[1]), uint32(s[2]), 2) }},
	{"seal0", "hash_blake2_128", true, ps(3), nil, func(f *frame, s []uint64) { f.doHash(uint32(s[0]), uint32(s[1]), uint32(s[2]), 3) }},

	// --- crypto
	{"seal0", "ecdsa_recover", true, ps(3), r32, func(f *frame, s []uint64) {
		f.charge(f.x.e.cfg.Costs.EcdsaRecover)
		pk, ok := ecdsaRecover(f.read(uint32(s[0]), 65), f.read(uint32(s[1]), 32))
		if !ok {
			s[0] = RCEcdsaRecoveryFailed
			return
		}
		f.write(uint32(s[2]), pk)
		s[0] = RCSuccess
	}},
	{"seal0", "ecdsa_to_eth_address", true, ps(2), r32, func(f *frame, s []uint64) {
		f.charge(f.x.e.cfg.Costs.EcdsaToEth)
		pk, err := secp256k1.ParsePubKey(f.read(uint32(s[0]), 33))
		if err != nil {
			s[0] = RCEcdsaRecoveryFailed
			return
		}
		k := sha3.NewLegacyKeccak256()
		k.Write(pk.SerializeUncompressed()[1:])
		f.write(uint32(s[1]), k.Sum(nil)[12:])
		s[0] = RCSuccess
	}},
	{"seal0", "sr25519_verify", true, ps(4), r32, sr25519VerifyHost},
	{"__unstable__", "sr25519_verify", true, ps(4), r32, sr25519VerifyHost},

	// --- chain extension, runtime calls, XCM
	{"seal0", "call_chain_extension", true, ps(5), r32, func(f *frame, s []uint64) {
		ext := f.x.host.Extension
		if ext == nil {
			f.trap(ErrNoChainExtension)
		}
		f.charge(f.x.e.cfg.Costs.ChainExtension)
		in := f.readCopy(uint32(s[1]), uint32(s[2]))
		status, out, err := ext.Call(f, uint32(s[0]), in)
		if err != nil {
			f.trap(err)
		}
		f.writeOut(uint32(s[3]), uint32(s[4]), out, false)
		s[0] = u32s(status)
	}},
	{"seal0", "call_runtime", true, ps(2), r32, callRuntime},
	{"__unstable__", "call_runtime", true, ps(2), r32, callRuntime},
	{"seal0", "xcm_execute", false, ps(2), r32, func(f *frame, s []uint64) {
		f.mutating()
		s[0] = RCXcmExecutionFailed
	}},
	{"seal0", "xcm_send", false, ps(4), r32, func(f *frame, s []uint64) {
		f.mutating()
		s[0] = RCXcmSendFailed
	}},

	// --- code management
	{"seal0", "set_code_hash", true, ps(1), r32, func(f *frame, s []uint64) {
		f.mutating()
		h := f.readHash(uint32(s[0]))
		if _, ok := f.x.host.State.Code(h); !ok {
			s[0] = RCCodeNotFound
			return
		}
		f.x.j.setCodeHash(f.address, &h)
		s[0] = RCSuccess
	}},
	{"seal0", "lock_delegate_dependency", false, ps(1), nil, func(f *frame, s []uint64) { f.mutating(); f.readHash(uint32(s[0])) }},
	{"seal0", "unlock_delegate_dependency", false, ps(1), nil, func(f *frame, s []uint64) { f.mutating(); f.readHash(uint32(s[0])) }},

	// --- deprecated stubs, linked for code already on chain
	{"seal0", "tombstone_deposit", true, ps(2), nil, func(f *frame, s []uint64) { f.envOut(uint32(s[0]), uint32(s[1]), make([]byte, 16)) }},
	{"seal0", "rent_allowance", true, ps(2), nil, func(f *frame, s []uint64) {
		f.envOut(uint32(s[0]), uint32(s[1]), u128Bytes(scale.U128{Lo: math.MaxUint64, Hi: math.MaxUint64}))
	}},
	{"seal0", "restore_to", true, ps(8), nil, func(f *frame, s []uint64) {}},
	{"seal1", "restore_to", true, ps(5), nil, func(f *frame, s []uint64) {}},
	{"seal0", "set_rent_allowance", true, ps(2), nil, func(f *frame, s []uint64) {}},
	{"seal1", "set_rent_allowance", true, ps(1), nil, func(f *frame, s []uint64) {}},
}

func b2u(b bool) uint64 {
	if b {
		return 1
	}
	return 0
}

func (x *execution) count(a AccountID) int {
	n := 0
	for _, fr := range x.frames {
		if fr.address == a {
			n++
		}
	}
	return n
}

func debugMessage(f *frame, s []uint64) {
	n := uint32(s[1])
	b := f.read(uint32(s[0]), n)
	f.charge(uint64(n) * f.x.e.cfg.Costs.PerByte)
	f.x.appendDebug(b)
	s[0] = RCSuccess
}

func setStorageVar(f *frame, s []uint64) {
	s[0] = u32s(f.storageSet(persistent, f.varKey(uint32(s[0]), uint32(s[1])), uint32(s[2]), uint32(s[3]), false))
}

func clearStorageVar(f *frame, s []uint64) {
	s[0] = u32s(f.storageSet(persistent, f.varKey(uint32(s[0]), uint32(s[1])), 0, 0, true))
}

func getStorageVar(f *frame, s []uint64) {
	s[0] = u32s(f.storageGetOut(persistent, f.varKey(uint32(s[0]), uint32(s[1])), uint32(s[2]), uint32(s[3]), false))
}

func containsStorageVar(f *frame, s []uint64) {
	s[0] = u32s(f.storageContains(persistent, f.varKey(uint32(s[0]), uint32(s[1]))))
}

func takeStorageVar(f *frame, s []uint64) {
	s[0] = u32s(f.storageGetOut(persistent, f.varKey(uint32(s[0]), uint32(s[1])), uint32(s[2]), uint32(s[3]), true))
}

func delegateCall(f *frame, s []uint64) {
	s[0] = u32s(f.doDelegate(uint32(s[0]), uint32(s[1]), uint32(s[2]), uint32(s[3]), uint32(s[4]), uint32(s[5])))
}

func callRuntime(f *frame, s []uint64) {
	f.mutating()
	f.read(uint32(s[0]), uint32(s[1]))
	s[0] = RCCallRuntimeFailed
}

func sr25519VerifyHost(f *frame, s []uint64) {
	n := uint32(s[2])
	f.charge(f.x.e.cfg.Costs.Sr25519Verify + uint64(n)*f.x.e.cfg.Costs.PerByte)
	if sr25519Verify(f.read(uint32(s[0]), 64), f.read(uint32(s[1]), 32), f.read(uint32(s[3]), n)) {
		s[0] = RCSuccess
	} else {
		s[0] = RCSr25519VerifyFailed
	}
}
