// Package engine runs ink! contracts (pallet-contracts Wasm ABI) on wazero.
//
// The engine knows nothing of the chain. Its caller provides the State
// (storage, contract registry, balances), the Environment (block number and
// time) and optionally a ChainExtension. Code is validated at upload
// (wasm.Validate), instrumented for gas and stack height (package gas),
// compiled once by wazero's compiler and cached by (code hash, schedule
// version). Every deploy or call instantiates the compiled module afresh (as
// the pallet does), with a pooled linear memory.
//
// Execution follows pallet-contracts' observable semantics: the seal0, seal1,
// seal2 and __unstable__ host modules under plain and seal_-prefixed names,
// the output-buffer convention with SENTINEL, return codes, call flags,
// journaled storage that a trapping or reverting frame discards, events,
// debug messages, cross-contract calls up to depth 5. Gas and results are the
// same on every run and machine.
package engine

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
	"golang.org/x/crypto/blake2b"

	"github.com/cella-network/cella/internal/contract/gas"
	"github.com/cella-network/cella/internal/contract/wasm"
)

// Config configures an Engine. The zero value of a field means its default.
type Config struct {
	// Schedule holds instruction costs and the stack limit.
	Schedule gas.Schedule
	// Costs holds host-function costs.
	Costs HostCosts
	// MaxCodeSize is the code-size limit (default 2 MiB).
	MaxCodeSize int
	// MaxCallDepth is the largest number of nested frames (default 5).
	MaxCallDepth int
	// AllowFloats accepts floating-point code: for query-only engines.
	AllowFloats bool
	// Start is the start-section policy (default: reject).
	Start wasm.StartPolicy
	// Interpreter selects wazero's interpreter instead of its compiler (for
	// comparisons; the compiler is the production mode).
	Interpreter bool
	// Unmetered skips gas and stack instrumentation. Only for benchmarks:
	// unmetered code can run forever.
	Unmetered bool
	// CloseOnContextDone lets a context deadline stop running code. It is a
	// backstop for queries only: wall-clock time must never decide the
	// outcome of a transaction.
	CloseOnContextDone bool
	// MaxDebugBuffer bounds the captured debug messages (default 2 MiB).
	MaxDebugBuffer int
}

// Limits of the pallet that the engine enforces.
const (
	MaxMemoryPages = 16
	MaxStorageKey  = 128
	MaxValueSize   = 16 * 1024
	MaxEventTopics = 4
	MaxSubjectLen  = 32
	// MaxTransientStorageSize bounds the live transient storage of one
	// execution: key plus value bytes of every entry, all contracts together.
	MaxTransientStorageSize = 1 << 20
	DefaultMaxDepth         = 5
	defaultDebugMax         = 2 << 20
)

// Engine validates, compiles and runs contracts. It is safe for concurrent
// use; each execution uses its own module instances.
type Engine struct {
	cfg    Config
	rt     wazero.Runtime
	policy wasm.Policy
	pool   *memPool

	mu    sync.Mutex
	cache map[cacheKey]*compiled
}

const startExport = "__cella_start"

type cacheKey struct {
	hash    Hash
	version uint32
}

type compiled struct {
	mod      wazero.CompiledModule
	codeSize int
}

// New creates an engine and instantiates its host modules.
func New(ctx context.Context, cfg Config) (*Engine, error) {
	if cfg.Schedule.Version == 0 {
		cfg.Schedule = gas.DefaultSchedule
	}
	if cfg.Costs == (HostCosts{}) {
		cfg.Costs = DefaultHostCosts
	}
	if cfg.MaxCodeSize == 0 {
		cfg.MaxCodeSize = wasm.DefaultMaxCodeSize
	}
	if cfg.MaxCallDepth == 0 {
		cfg.MaxCallDepth = DefaultMaxDepth
	}
	if cfg.MaxDebugBuffer == 0 {
		cfg.MaxDebugBuffer = defaultDebugMax
	}
	var rc wazero.RuntimeConfig
	if cfg.Interpreter {
		rc = wazero.NewRuntimeConfigInterpreter()
	} else {
		rc = wazero.NewRuntimeConfigCompiler()
	}
	rc = rc.WithCoreFeatures(api.CoreFeaturesV1 | api.CoreFeatureSignExtensionOps | api.CoreFeatureMutableGlobal).
		WithMemoryLimitPages(MaxMemoryPages).
		WithCloseOnContextDone(cfg.CloseOnContextDone)
	e := &Engine{cfg: cfg, rt: wazero.NewRuntimeWithConfig(ctx, rc), cache: map[cacheKey]*compiled{}, pool: newMemPool()}
	e.policy = wasm.Policy{
		Imports:        hostSignatures(),
		MaxCodeSize:    cfg.MaxCodeSize,
		MaxMemoryPages: MaxMemoryPages,
		AllowFloats:    cfg.AllowFloats,
		Start:          cfg.Start,
		MaxLocals:      16384,
		MaxGlobals:     1024,
		MaxTableSize:   16384,
		MaxFunctions:   100000,
	}
	if err := e.instantiateHost(ctx); err != nil {
		_ = e.rt.Close(ctx)
		return nil, err
	}
	return e, nil
}

// Close releases the runtime and every compiled module.
func (e *Engine) Close(ctx context.Context) error { return e.rt.Close(ctx) }

// Config returns the engine's effective configuration.
func (e *Engine) Config() Config { return e.cfg }

// Policy returns the validation policy of uploads.
func (e *Engine) Policy() wasm.Policy { return e.policy }

// CodeHash returns the code hash of code: blake2_256, as pallet-contracts.
func CodeHash(code []byte) Hash { return blake2b.Sum256(code) }

// ErrCodeRejected wraps validation failures at upload.
var ErrCodeRejected = errors.New("code rejected")

// Validate checks code against the upload rules and returns its hash.
func (e *Engine) Validate(code []byte) (Hash, error) {
	if _, err := wasm.Check(code, e.policy); err != nil {
		return Hash{}, fmt.Errorf("%w: %w", ErrCodeRejected, err)
	}
	return CodeHash(code), nil
}

// UploadCost is the gas charged for uploading (and compiling) code of n bytes.
func (e *Engine) UploadCost(n int) uint64 {
	return e.cfg.Costs.CompileBase + e.cfg.Costs.CompilePerByte*uint64(n)
}

// Prepare validates, instruments and compiles code, or returns the cached
// module. The hash must be CodeHash(code).
func (e *Engine) Prepare(ctx context.Context, hash Hash, code []byte) error {
	_, err := e.prepare(ctx, hash, code)
	return err
}

func (e *Engine) prepare(ctx context.Context, hash Hash, code []byte) (*compiled, error) {
	key := cacheKey{hash, e.cfg.Schedule.Version}
	e.mu.Lock()
	c := e.cache[key]
	e.mu.Unlock()
	if c != nil {
		return c, nil
	}
	m, err := wasm.Check(code, e.policy)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCodeRejected, err)
	}
	if !e.cfg.Unmetered {
		m, err = gas.Instrument(m, e.cfg.Schedule)
		if err != nil {
			return nil, fmt.Errorf("%w: %w", ErrCodeRejected, err)
		}
	} else {
		cp := *m
		m = &cp
	}
	// Turn the env.memory import into a memory of the module's own, so each
	// instance (nested calls included) has its own memory.
	// A start function (if the policy allows one) is run by the engine after
	// the gas budget is set, not by wazero at instantiation.
	if m.Start != nil {
		m.Exports = append(append([]wasm.Export{}, m.Exports...), wasm.Export{Name: startExport, Kind: wasm.KindFunc, Index: *m.Start})
		m.Start = nil
	}
	imports := make([]wasm.Import, 0, len(m.Imports))
	for _, im := range m.Imports {
		if im.Kind == wasm.KindMemory {
			l := im.Memory
			if !l.HasMax {
				l.Max, l.HasMax = MaxMemoryPages, true
			}
			m.Memories = []wasm.Limits{l}
			continue
		}
		imports = append(imports, im)
	}
	m.Imports = imports
	bin := wasm.Encode(m, false)
	cm, err := e.rt.CompileModule(ctx, bin)
	if err != nil {
		return nil, fmt.Errorf("%w: compile: %w", ErrCodeRejected, err)
	}
	c = &compiled{mod: cm, codeSize: len(code)}
	e.mu.Lock()
	if old := e.cache[key]; old != nil {
		e.mu.Unlock()
		_ = cm.Close(ctx)
		return old, nil
	}
	e.cache[key] = c
	e.mu.Unlock()
	return c, nil
}

// memPool recycles 1 MiB linear memories between instances.
type memPool struct{ p sync.Pool }

func newMemPool() *memPool {
	return &memPool{p: sync.Pool{New: func() any { b := make([]byte, MaxMemoryPages*65536); return &b }}}
}

type pooledMem struct {
	pool *memPool
	buf  *[]byte
	used int // high-water mark of handed-out length
}

func (p *memPool) Allocate(_, max uint64) experimental.LinearMemory {
	if max > MaxMemoryPages*65536 {
		max = MaxMemoryPages * 65536
	}
	return &pooledMem{pool: p, buf: p.p.Get().(*[]byte)}
}

func (m *pooledMem) Reallocate(size uint64) []byte {
	if m.buf == nil || size > uint64(len(*m.buf)) {
		return nil
	}
	if int(size) > m.used {
		m.used = int(size)
	}
	return (*m.buf)[:size:size]
}

func (m *pooledMem) Free() {
	if m.buf == nil {
		return
	}
	clear((*m.buf)[:m.used])
	m.pool.p.Put(m.buf)
	m.buf = nil
}
