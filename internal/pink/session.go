package pink

import (
	"context"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/keys"
	"github.com/cella-network/cella/internal/scale"
)

// Mode is how the contract is being executed.
type Mode uint8

const (
	// Query is an RPC query on one worker: nondeterministic services
	// (HTTP, randomness, clock, cache reads) are available.
	Query Mode = iota
	// Transaction is a command executed by every worker of the cluster:
	// everything must be deterministic. Dry-runs of commands (Phala's
	// Estimating mode) also use Transaction and drop the deferred cache
	// operations.
	Transaction
)

// String returns Phala's name of the mode.
func (m Mode) String() string {
	if m == Query {
		return "query"
	}
	return "transaction"
}

// Clock is the worker's untrusted wall clock.
type Clock interface {
	// NowMillis returns milliseconds since the Unix epoch.
	NowMillis() uint64
}

// Chain is what the executing cluster's state says, read at the time of the
// call (so the worker binds it to the execution's state overlay).
type Chain interface {
	// Balance returns the account's total and free balance.
	Balance(account engine.AccountID) (total, free scale.U128)
	// CodeExists reports whether the cluster stores code with this hash
	// (sidevm: a SideVM program rather than contract code).
	CodeExists(hash engine.Hash, sidevm bool) bool
	// SystemContract returns the cluster's system contract, if any.
	SystemContract() (engine.AccountID, bool)
}

// AttestationType is pink-types' sgx::AttestationType.
type AttestationType uint8

// The attestation types.
const (
	AttestationEpid AttestationType = 0
	AttestationDcap AttestationType = 1
)

// Quote is pink-types' SgxQuote{attestation_type, quote}.
type Quote struct {
	Type  AttestationType
	Quote []byte
}

// Env holds the services and values shared by every execution of a
// cluster on a worker. Build it once (per cluster) and share it; it is only
// read by sessions. Nil services behave as documented on each field.
type Env struct {
	// HTTP makes query-mode HTTP requests. Nil: every request fails as
	// unreachable (status 523).
	HTTP HTTPClient
	// Cache is the off-chain cache. Nil: cache_get misses and cache_set
	// reports StorageQuotaExceeded.
	Cache Cache
	// Logs receives contract logs. Nil: logs are dropped.
	Logs Logger
	// Clock is the untrusted clock of untrusted_millis_since_unix_epoch
	// (queries) and of log timestamps. Nil: 0.
	Clock Clock
	// Rand is the randomness of getrandom (queries). Nil: getrandom
	// traps ("Failed to get random bytes"). Sr25519 signing, also
	// query-only, draws its nonce from crypto/rand.
	Rand io.Reader
	// ClusterKey is the cluster's key, from which derive_sr25519_key
	// derives as Phala does (see cipher.ContractDerivedKey). Nil:
	// derive_sr25519_key traps with KeySeedMissing, as Phala.
	ClusterKey *keys.Pair
	// WorkerPubkey is the worker's ECDH public key (queries).
	WorkerPubkey [32]byte
	// Quote returns the worker's attestation quote (queries); nil or a
	// nil result is None.
	Quote func() *Quote
	// RuntimeVersion is what runtime_version reports; zero means
	// DefaultRuntimeVersion.
	RuntimeVersion [2]uint32
	// EventChainHead returns (next event block number, last event block
	// hash) of the cluster's event chain; nil reports (0, zero hash),
	// Phala's value before the first event block.
	EventChainHead func() (uint64, engine.Hash)
	// Gas is the gas schedule; zero means DefaultGas.
	Gas *GasSchedule
}

// DefaultRuntimeVersion is the pink runtime version Cella reports: 1.2, the
// runtime whose function set (ids 1–25: batch_http_request and
// current_event_chain_head of 1.1, js_eval and worker_sgx_quote of 1.2) this
// package serves. js_eval answers as a 1.2 cluster without a JS runtime
// does, so contracts that check for ≥1.1 or ≥1.2 take their modern paths.
var DefaultRuntimeVersion = [2]uint32{1, 2}

// Exec describes one contract execution.
type Exec struct {
	// Mode is Query, or Transaction for commands and their dry-runs.
	Mode Mode
	// Ctx bounds HTTP requests (its deadline is the query's remaining
	// time); nil means context.Background().
	Ctx context.Context
	// Chain is the execution's view of cluster state; nil answers zero
	// balances, no code and no system contract.
	Chain Chain
	// BlockNumber and Entry (the contract the query or command was sent
	// to) are log metadata.
	BlockNumber uint32
	Entry       engine.AccountID
}

// Session is the pink chain extension for one contract execution (a query,
// a command, or a dry-run). It implements engine.ChainExtension. A Session
// is used by one execution at a time.
type Session struct {
	env   *Env
	gas   *GasSchedule
	mode  Mode
	ctx   context.Context
	chain Chain
	block uint32
	entry engine.AccountID

	deferred []ContractCacheOp
}

// NewSession returns the extension for one execution. env is shared and
// only read; NewSession allocates nothing but the Session.
func NewSession(env *Env, x Exec) *Session {
	if env == nil {
		env = &Env{}
	}
	ctx := x.Ctx
	if ctx == nil {
		ctx = context.Background()
	}
	g := env.Gas
	if g == nil {
		g = &DefaultGas
	}
	return &Session{env: env, gas: g, mode: x.Mode, ctx: ctx, chain: x.Chain, block: x.BlockNumber, entry: x.Entry}
}

// Mode returns the session's mode.
func (s *Session) Mode() Mode { return s.mode }

// DeferredCacheOps returns the cache writes made in Transaction mode, in
// call order, each with the contract that made it. They are Phala's
// PinkEvent::CacheOp events: apply them (ApplyDeferred, or ApplyCacheOps per
// contract) only after the command commits, and drop them for a dry-run or a
// failed command. The slice belongs to the caller once the execution is
// over.
func (s *Session) DeferredCacheOps() []ContractCacheOp { return s.deferred }

// Errors that trap the calling contract.
var (
	// ErrUnknownExtension: the upper 16 bits of the id (ink! 5's
	// extension id) are not 0, pink's extension id.
	ErrUnknownExtension = errors.New("pink: unknown chain extension id")
	// ErrUnknownFunction: no pink function has this id.
	ErrUnknownFunction = errors.New("pink: unknown chain extension function")
	// ErrDecode: the input is not the SCALE encoding of the function's
	// arguments.
	ErrDecode = errors.New("pink: malformed chain extension input")
	// ErrCall: the function failed the way Phala's does with a
	// DispatchError (invalid key, missing system contract, …).
	ErrCall = errors.New("pink: chain extension call failed")
)

// Function ids of the pink extension.
const (
	FuncHTTPRequest             = 1
	FuncSign                    = 2
	FuncVerify                  = 3
	FuncDeriveSr25519Key        = 4
	FuncGetPublicKey            = 5
	FuncCacheSet                = 6
	FuncCacheSetExpiration      = 7
	FuncCacheGet                = 8
	FuncCacheRemove             = 9
	FuncLog                     = 10
	FuncGetRandom               = 11
	FuncIsInTransaction         = 12
	FuncEcdsaSignPrehashed      = 13
	FuncEcdsaVerifyPrehashed    = 14
	FuncSystemContractID        = 15
	FuncBalanceOf               = 16
	FuncWorkerPubkey            = 17
	FuncUntrustedMillis         = 18
	FuncCodeExists              = 19
	FuncImportLatestSystemCode  = 20
	FuncRuntimeVersion          = 21
	FuncBatchHTTPRequest        = 22
	FuncCurrentEventChainHead   = 23
	FuncJsEval                  = 24
	FuncWorkerSgxQuote          = 25
	maxFunc                     = 25
	statusStorageQuotaExceeded  = 1
	statusOK                    = 0
	defaultHTTPTimeoutMs        = 10_000
	batchGraceMs                = 200
	maxUnreachableBodyBytes     = 1024
	unreachableStatus           = 523
	ioErrorStatus               = 524
	sidevmURLPrefix             = "sidevm://"
	sidevmInternalErrorStatus   = 500
	sidevmUnsupportedBody       = "SideVM is not supported by this worker"
	txHTTPUnavailableReason     = "API Unavailable"
	txHTTPUnavailableBody       = "HTTP request is not supported in transaction"
	jsNoRuntime                 = "No js runtime"
	jsNotInTransaction          = "Js evaluation is not supported in transaction"
	jsValueExceptionVariant     = 5
	unreachableReason           = "Unreachable"
	ioErrorReason               = "IO Error"
	sidevmInternalErrorReason   = "Internal Server Error"
	invalidKeyMessage           = "Invalid key"
	invalidPublicKeyMessage     = "Invalid public key"
	invalidSignatureMessage     = "Invalid signature"
	systemContractMissingReason = "SystemContractMissing"
)

var funcNames = [maxFunc + 1]string{
	"", "http_request", "sign", "verify", "derive_sr25519_key", "get_public_key",
	"cache_set", "cache_set_expiration", "cache_get", "cache_remove", "log",
	"getrandom", "is_in_transaction", "ecdsa_sign_prehashed", "ecdsa_verify_prehashed",
	"system_contract_id", "balance_of", "worker_pubkey", "untrusted_millis_since_unix_epoch",
	"code_exists", "import_latest_system_code", "runtime_version", "batch_http_request",
	"current_event_chain_head", "js_eval", "worker_sgx_quote",
}

// FuncName returns the pink function's name, or "" for an unknown id.
func FuncName(id uint32) string {
	if id == 0 || id > maxFunc {
		return ""
	}
	return funcNames[id]
}

// call is the state of one extension call: the decoder over its input and
// the calling contract.
type call struct {
	s    *Session
	x    engine.ExtContext
	r    *scale.Reader
	name string
}

// Call implements engine.ChainExtension. It returns the status and the
// SCALE output of the function, or an error that traps the contract: an
// extension id other than 0, an unknown function, malformed input (including
// trailing bytes, as pallet-contracts' decode_all), out of gas, or a failure
// Phala reports as a DispatchError.
func (s *Session) Call(x engine.ExtContext, id uint32, input []byte) (status uint32, output []byte, err error) {
	if ext := id >> 16; ext != 0 {
		return 0, nil, fmt.Errorf("%w %d (function %d): pink is extension 0", ErrUnknownExtension, ext, id&0xffff)
	}
	fn := id & 0xffff
	if fn == 0 || fn > maxFunc {
		return 0, nil, fmt.Errorf("%w %d", ErrUnknownFunction, fn)
	}
	c := &call{s: s, x: x, r: scale.NewReader(input), name: funcNames[fn]}
	if err := c.charge(s.gas.Base + s.gas.PerByte*uint64(len(input))); err != nil {
		return 0, nil, err
	}
	status, output, err = handlers[fn](c)
	if err != nil {
		return 0, nil, err
	}
	if err := c.charge(s.gas.PerByte * uint64(len(output))); err != nil {
		return 0, nil, err
	}
	return status, output, nil
}

var handlers [maxFunc + 1]func(c *call) (uint32, []byte, error)

func init() {
	handlers = [maxFunc + 1]func(c *call) (uint32, []byte, error){
		FuncHTTPRequest:            (*call).httpRequest,
		FuncSign:                   (*call).sign,
		FuncVerify:                 (*call).verify,
		FuncDeriveSr25519Key:       (*call).deriveSr25519Key,
		FuncGetPublicKey:           (*call).getPublicKey,
		FuncCacheSet:               (*call).cacheSet,
		FuncCacheSetExpiration:     (*call).cacheSetExpiration,
		FuncCacheGet:               (*call).cacheGet,
		FuncCacheRemove:            (*call).cacheRemove,
		FuncLog:                    (*call).log,
		FuncGetRandom:              (*call).getRandom,
		FuncIsInTransaction:        (*call).isInTransaction,
		FuncEcdsaSignPrehashed:     (*call).ecdsaSignPrehashed,
		FuncEcdsaVerifyPrehashed:   (*call).ecdsaVerifyPrehashed,
		FuncSystemContractID:       (*call).systemContractID,
		FuncBalanceOf:              (*call).balanceOf,
		FuncWorkerPubkey:           (*call).workerPubkey,
		FuncUntrustedMillis:        (*call).untrustedMillis,
		FuncCodeExists:             (*call).codeExists,
		FuncImportLatestSystemCode: (*call).importLatestSystemCode,
		FuncRuntimeVersion:         (*call).runtimeVersion,
		FuncBatchHTTPRequest:       (*call).batchHTTPRequest,
		FuncCurrentEventChainHead:  (*call).currentEventChainHead,
		FuncJsEval:                 (*call).jsEval,
		FuncWorkerSgxQuote:         (*call).workerSgxQuote,
	}
}

func (c *call) charge(n uint64) error {
	if n == 0 || c.x == nil {
		return nil
	}
	if err := c.x.ChargeGas(n); err != nil {
		return fmt.Errorf("pink %s: %w", c.name, err)
	}
	return nil
}

// done checks that the whole input decoded (pallet-contracts decodes
// chain-extension input with decode_all).
func (c *call) done() error {
	if err := c.r.Finish(); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrDecode, c.name, err)
	}
	return nil
}

// fail is a trap with Phala's DispatchError message.
func (c *call) fail(msg string) error {
	return fmt.Errorf("%w: %s: %s", ErrCall, c.name, msg)
}

// bytesArg reads a Vec<u8> / &[u8] / Cow<[u8]> argument without copying.
func (c *call) bytesArg() []byte {
	return c.r.Raw(c.r.Len(1))
}

// stringArg reads a String / &str argument; invalid UTF-8 fails to decode,
// as parity-scale-codec's String.
func (c *call) stringArg() string {
	b := c.r.Raw(c.r.Len(1))
	if c.r.Err() == nil && !utf8.Valid(b) {
		c.r.Fail(fmt.Errorf("%w: string is not UTF-8", scale.ErrInvalid))
		return ""
	}
	return string(b)
}

func (c *call) addr() engine.AccountID {
	if c.x == nil {
		return engine.AccountID{}
	}
	return c.x.Address()
}

func (s *Session) inTx() bool { return s.mode != Query }

// --- output encoders

func encBytes(b []byte) []byte {
	w := scale.NewWriter(5 + len(b))
	w.BytesVec(b)
	return w.Bytes()
}

func encBool(v bool) []byte {
	if v {
		return []byte{1}
	}
	return []byte{0}
}

func encOptionBytes(b []byte, ok bool) []byte {
	if !ok {
		return []byte{0}
	}
	w := scale.NewWriter(6 + len(b))
	w.OptionSome()
	w.BytesVec(b)
	return w.Bytes()
}

// --- simple functions

func (c *call) isInTransaction() (uint32, []byte, error) {
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	return statusOK, encBool(c.s.inTx()), nil
}

func (c *call) log() (uint32, []byte, error) {
	level := c.r.U8()
	msg := c.stringArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.Log + c.s.gas.StorePerByte*uint64(len(msg))); err != nil {
		return 0, nil, err
	}
	if l := c.s.env.Logs; l != nil {
		var ts uint64
		if c.s.env.Clock != nil {
			ts = c.s.env.Clock.NowMillis()
		}
		l.Log(LogEntry{
			Contract: c.addr(), Entry: c.s.entry, Level: normLevel(level),
			BlockNumber: c.s.block, TimestampMs: ts, Mode: c.s.mode, Message: msg,
		})
	}
	return statusOK, nil, nil
}

func (c *call) getRandom() (uint32, []byte, error) {
	n := int(c.r.U8())
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if c.s.inTx() {
		return statusOK, encBytes(nil), nil
	}
	if c.s.env.Rand == nil {
		return 0, nil, c.fail("Failed to get random bytes")
	}
	buf := make([]byte, n)
	if _, err := io.ReadFull(c.s.env.Rand, buf); err != nil {
		return 0, nil, c.fail("Failed to get random bytes")
	}
	return statusOK, encBytes(buf), nil
}

func (c *call) systemContractID() (uint32, []byte, error) {
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if c.s.chain != nil {
		if id, ok := c.s.chain.SystemContract(); ok {
			return statusOK, id[:], nil
		}
	}
	return 0, nil, c.fail(systemContractMissingReason)
}

func (c *call) balanceOf() (uint32, []byte, error) {
	var acc engine.AccountID
	c.r.Fixed(acc[:])
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.StateRead); err != nil {
		return 0, nil, err
	}
	var total, free scale.U128
	if c.s.chain != nil {
		total, free = c.s.chain.Balance(acc)
	}
	w := scale.NewWriter(32)
	w.U128(total)
	w.U128(free)
	return statusOK, w.Bytes(), nil
}

func (c *call) workerPubkey() (uint32, []byte, error) {
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	out := make([]byte, 32)
	if !c.s.inTx() {
		copy(out, c.s.env.WorkerPubkey[:])
	}
	return statusOK, out, nil
}

func (c *call) untrustedMillis() (uint32, []byte, error) {
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	var ms uint64
	if !c.s.inTx() && c.s.env.Clock != nil {
		ms = c.s.env.Clock.NowMillis()
	}
	w := scale.NewWriter(8)
	w.U64(ms)
	return statusOK, w.Bytes(), nil
}

func (c *call) codeExists() (uint32, []byte, error) {
	var h engine.Hash
	c.r.Fixed(h[:])
	sidevm := c.r.Bool()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.StateRead); err != nil {
		return 0, nil, err
	}
	ok := c.s.chain != nil && c.s.chain.CodeExists(h, sidevm)
	return statusOK, encBool(ok), nil
}

func (c *call) importLatestSystemCode() (uint32, []byte, error) {
	var payer engine.AccountID
	c.r.Fixed(payer[:])
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	var sys engine.AccountID
	ok := false
	if c.s.chain != nil {
		sys, ok = c.s.chain.SystemContract()
	}
	if !ok || sys != c.addr() {
		return 0, nil, c.fail("BadOrigin: only the system contract may import system code")
	}
	// Cella has no chain-stored system code to import: Phala's answer when
	// there is none is None.
	return statusOK, []byte{0}, nil
}

func (c *call) runtimeVersion() (uint32, []byte, error) {
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	v := c.s.env.RuntimeVersion
	if v == ([2]uint32{}) {
		v = DefaultRuntimeVersion
	}
	w := scale.NewWriter(8)
	w.U32(v[0])
	w.U32(v[1])
	return statusOK, w.Bytes(), nil
}

func (c *call) currentEventChainHead() (uint32, []byte, error) {
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	var n uint64
	var h engine.Hash
	if f := c.s.env.EventChainHead; f != nil {
		n, h = f()
	}
	w := scale.NewWriter(40)
	w.U64(n)
	w.Raw(h[:])
	return statusOK, w.Bytes(), nil
}

func (c *call) jsEval() (uint32, []byte, error) {
	// Vec<JsCode{Source(String) | Bytecode(Vec<u8>)}>, Vec<String>
	n := c.r.Len(2)
	for i := 0; i < n && c.r.Err() == nil; i++ {
		if c.r.Enum(1) == 0 {
			c.stringArg()
		} else {
			c.bytesArg()
		}
	}
	m := c.r.Len(1)
	for i := 0; i < m && c.r.Err() == nil; i++ {
		c.stringArg()
	}
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	msg := jsNoRuntime
	if c.s.inTx() {
		msg = jsNotInTransaction
	}
	w := scale.NewWriter(2 + len(msg))
	w.U8(jsValueExceptionVariant)
	w.String(msg)
	return statusOK, w.Bytes(), nil
}

func (c *call) workerSgxQuote() (uint32, []byte, error) {
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	var q *Quote
	if !c.s.inTx() && c.s.env.Quote != nil {
		q = c.s.env.Quote()
	}
	if q == nil {
		return statusOK, []byte{0}, nil
	}
	w := scale.NewWriter(8 + len(q.Quote))
	w.OptionSome()
	w.U8(uint8(q.Type))
	w.BytesVec(q.Quote)
	return statusOK, w.Bytes(), nil
}

// --- cache

func (c *call) deferOp(op CacheOp) {
	c.s.deferred = append(c.s.deferred, ContractCacheOp{Contract: c.addr(), Op: op})
}

func (c *call) cacheSet() (uint32, []byte, error) {
	key := c.bytesArg()
	value := c.bytesArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.CacheOp + c.s.gas.StorePerByte*uint64(len(key)+len(value))); err != nil {
		return 0, nil, err
	}
	if c.s.inTx() {
		c.deferOp(CacheOp{Kind: CacheSet, Key: clone(key), Value: clone(value)})
		return statusOK, nil, nil
	}
	if c.s.env.Cache == nil || c.s.env.Cache.Set(c.addr(), key, value) != nil {
		return statusStorageQuotaExceeded, nil, nil
	}
	return statusOK, nil, nil
}

func (c *call) cacheSetExpiration() (uint32, []byte, error) {
	key := c.bytesArg()
	exp := c.r.U64()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.CacheOp); err != nil {
		return 0, nil, err
	}
	if c.s.inTx() {
		c.deferOp(CacheOp{Kind: CacheSetExpiration, Key: clone(key), Expiration: exp})
		return statusOK, nil, nil
	}
	if c.s.env.Cache != nil {
		c.s.env.Cache.SetExpiration(c.addr(), key, exp)
	}
	return statusOK, nil, nil
}

func (c *call) cacheGet() (uint32, []byte, error) {
	key := c.bytesArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.CacheOp); err != nil {
		return 0, nil, err
	}
	if c.s.inTx() || c.s.env.Cache == nil {
		return statusOK, encOptionBytes(nil, false), nil
	}
	v, ok := c.s.env.Cache.Get(c.addr(), key)
	return statusOK, encOptionBytes(v, ok), nil
}

func (c *call) cacheRemove() (uint32, []byte, error) {
	key := c.bytesArg()
	if err := c.done(); err != nil {
		return 0, nil, err
	}
	if err := c.charge(c.s.gas.CacheOp); err != nil {
		return 0, nil, err
	}
	if c.s.inTx() {
		c.deferOp(CacheOp{Kind: CacheRemove, Key: clone(key)})
		return statusOK, encOptionBytes(nil, false), nil
	}
	if c.s.env.Cache == nil {
		return statusOK, encOptionBytes(nil, false), nil
	}
	v, ok := c.s.env.Cache.Remove(c.addr(), key)
	return statusOK, encOptionBytes(v, ok), nil
}

func clone(b []byte) []byte { return append([]byte{}, b...) }
