// Package sandbox runs a contract in an in-memory chain: one engine, one
// in-memory state, a funded caller and a fixed block context. It uploads the
// code once, deploys it with the first input and calls the deployed contract
// with the others, and returns every outcome as data (JSON-able results).
//
// The sandbox never reads the wall clock or anything else of the machine, so
// the same code and inputs give the same results, gas included, everywhere.
// `cella contract sandbox` is a thin front end to it; worker tests can use it
// to compute the expected outcome of a contract run.
package sandbox

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/cella-network/cella/internal/contract/engine"
	"github.com/cella-network/cella/internal/contract/metadata"
	"github.com/cella-network/cella/internal/scale"
)

// Defaults of Config.
const (
	// DefaultGasLimit is the gas limit of each deploy or call.
	DefaultGasLimit = 100_000_000
	// DefaultBlockNumber and DefaultTimestamp (ms) are the fixed block
	// context.
	DefaultBlockNumber = 1
	DefaultTimestamp   = 1_700_000_000_000
)

// DefaultBalance is the free balance given to the caller.
var DefaultBalance = scale.U128From(1_000_000_000_000)

// Config configures a Sandbox. The zero value of a field means its default.
type Config struct {
	// Caller signs every deploy and call.
	Caller engine.AccountID
	// GasLimit is the gas limit of each deploy or call.
	GasLimit uint64
	// Balance is the caller's free balance.
	Balance scale.U128
	// Env is the block context of every execution.
	Env engine.Environment
	// Engine configures the engine.
	Engine engine.Config
}

// Sandbox is one in-memory chain with one uploaded code. It is not safe for
// concurrent use.
type Sandbox struct {
	ctx  context.Context
	cfg  Config
	e    *engine.Engine
	st   *engine.MemState
	host engine.Host
	hash engine.Hash
	addr *engine.AccountID
}

// New creates the engine and state, funds the caller and uploads code. A
// code that the engine rejects gives an error wrapping
// engine.ErrCodeRejected.
func New(ctx context.Context, code []byte, cfg Config) (*Sandbox, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if cfg.GasLimit == 0 {
		cfg.GasLimit = DefaultGasLimit
	}
	if cfg.Balance == (scale.U128{}) {
		cfg.Balance = DefaultBalance
	}
	if cfg.Env == (engine.Environment{}) {
		cfg.Env = engine.Environment{BlockNumber: DefaultBlockNumber, Timestamp: DefaultTimestamp}
	}
	e, err := engine.New(ctx, cfg.Engine)
	if err != nil {
		return nil, err
	}
	st := engine.NewMemState()
	st.SetBalance(cfg.Caller, cfg.Balance)
	h, _, err := e.Upload(ctx, code, func(_ engine.Hash, c []byte) { st.PutCode(c) })
	if err != nil {
		_ = e.Close(ctx)
		return nil, err
	}
	return &Sandbox{ctx: ctx, cfg: cfg, e: e, st: st, hash: h,
		host: engine.Host{State: st, Env: cfg.Env}}, nil
}

// Close releases the engine.
func (s *Sandbox) Close() error { return s.e.Close(s.ctx) }

// CodeHash returns the hash of the uploaded code.
func (s *Sandbox) CodeHash() engine.Hash { return s.hash }

// State returns the in-memory state (storage, balances, codes).
func (s *Sandbox) State() *engine.MemState { return s.st }

// Address returns the deployed contract, if a deploy succeeded.
func (s *Sandbox) Address() (engine.AccountID, bool) {
	if s.addr == nil {
		return engine.AccountID{}, false
	}
	return *s.addr, true
}

// ErrNotDeployed is the error of a call before any successful deploy.
var ErrNotDeployed = errors.New("no contract deployed (the constructor failed)")

// Deploy instantiates the code with input. On success the new contract is
// the target of later calls.
func (s *Sandbox) Deploy(input []byte) *engine.Outcome {
	o := s.e.Instantiate(s.ctx, s.host, engine.InstantiateRequest{Caller: s.cfg.Caller, CodeHash: s.hash,
		Input: input, GasLimit: s.cfg.GasLimit})
	if o.Success() {
		a := o.Address
		s.addr = &a
	}
	return o
}

// Call calls the deployed contract with input.
func (s *Sandbox) Call(input []byte) *engine.Outcome {
	if s.addr == nil {
		return &engine.Outcome{Err: ErrNotDeployed}
	}
	return s.e.Call(s.ctx, s.host, engine.CallRequest{Caller: s.cfg.Caller, Dest: *s.addr, Input: input,
		GasLimit: s.cfg.GasLimit})
}

// Result is the outcome of one call expression, decoded with the metadata.
type Result struct {
	// Call is the expression, e.g. "transfer(\"5F…\", 10)".
	Call string `json:"call"`
	// Success and Reverted are the outcome; a trap or a LangError leaves
	// both false.
	Success  bool `json:"success"`
	Reverted bool `json:"reverted"`
	// Value is the decoded return value (null if none could be decoded;
	// {"LangError": …} for an ink! language error; the raw bytes as a hex
	// string if they do not decode).
	Value json.RawMessage `json:"value"`
	// Events are the decoded events ({"undecoded": "0x…"} if unknown).
	Events []json.RawMessage `json:"events"`
	// GasUsed is the gas consumed.
	GasUsed uint64 `json:"gasUsed"`
	// Debug holds the debug messages.
	Debug string `json:"debug"`
	// Error says why the call failed or its value did not decode.
	Error string `json:"error,omitempty"`
}

// Exec encodes each expression with md and runs it in order: the first is a
// constructor (deployed), the others are messages (called). An expression
// that does not encode is an error and stops the run; a failing execution is
// a Result.
func (s *Sandbox) Exec(md *metadata.Metadata, exprs []string) ([]Result, error) {
	out := make([]Result, 0, len(exprs))
	for i, ex := range exprs {
		msg, input, err := md.EncodeExpr(ex, i == 0)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", ex, err)
		}
		var o *engine.Outcome
		if i == 0 {
			o = s.Deploy(input)
		} else {
			o = s.Call(input)
		}
		r := Result{Call: ex, Success: o.Success(), Reverted: o.Reverted(), Value: json.RawMessage("null"),
			Events: []json.RawMessage{}, GasUsed: o.GasUsed, Debug: o.Debug}
		if o.Err != nil {
			r.Error = o.Err.Error()
		} else {
			v, err := md.DecodeResult(msg, o.Data)
			var le *metadata.LangError
			switch {
			case errors.As(err, &le):
				r.Success = false
				v, _ = json.Marshal(map[string]string{"LangError": le.Value})
			case err != nil:
				v, _ = json.Marshal("0x" + hex.EncodeToString(o.Data))
				r.Error = err.Error()
			}
			r.Value = v
		}
		for _, ev := range o.Events {
			topics := make([][]byte, len(ev.Topics))
			for k := range ev.Topics {
				topics[k] = ev.Topics[k][:]
			}
			var b []byte
			if d, err := md.DecodeEvent(topics, ev.Data); err != nil {
				b, _ = json.Marshal(map[string]string{"undecoded": "0x" + hex.EncodeToString(ev.Data)})
			} else {
				b, _ = json.Marshal(d)
			}
			r.Events = append(r.Events, b)
		}
		out = append(out, r)
	}
	return out, nil
}

// RawInput is one raw execution: a deploy or a call with input bytes.
type RawInput struct {
	// Label names the input in its result, e.g. "deploy=0x9bae9d5e".
	Label  string
	Deploy bool
	Input  []byte
}

// ParseRaw parses "deploy=0xHEX" or "call=0xHEX" (the 0x is optional).
func ParseRaw(s string) (RawInput, error) {
	kind, hx, ok := strings.Cut(s, "=")
	if !ok || (kind != "deploy" && kind != "call") {
		return RawInput{}, fmt.Errorf("%q: want deploy=0xHEX or call=0xHEX", s)
	}
	hx = strings.TrimPrefix(strings.TrimSpace(hx), "0x")
	b, err := hex.DecodeString(hx)
	if err != nil {
		return RawInput{}, fmt.Errorf("%q: not hex: %q", s, hx)
	}
	return RawInput{Label: s, Deploy: kind == "deploy", Input: b}, nil
}

// RawResult is the outcome of one raw execution, undecoded.
type RawResult struct {
	Call     string     `json:"call"`
	Success  bool       `json:"success"`
	Reverted bool       `json:"reverted"`
	Flags    uint32     `json:"flags"`
	Data     string     `json:"data"` // 0x-hex output
	Events   []RawEvent `json:"events"`
	GasUsed  uint64     `json:"gasUsed"`
	Debug    string     `json:"debug"`
	Error    string     `json:"error,omitempty"`
}

// RawEvent is an undecoded event: 0x-hex topics and data.
type RawEvent struct {
	Topics []string `json:"topics"`
	Data   string   `json:"data"`
}

// ExecRaw runs each input in order.
func (s *Sandbox) ExecRaw(ins []RawInput) []RawResult {
	out := make([]RawResult, 0, len(ins))
	for _, in := range ins {
		var o *engine.Outcome
		if in.Deploy {
			o = s.Deploy(in.Input)
		} else {
			o = s.Call(in.Input)
		}
		r := RawResult{Call: in.Label, Success: o.Success(), Reverted: o.Reverted(), Flags: o.Flags,
			Data: "0x" + hex.EncodeToString(o.Data), Events: []RawEvent{}, GasUsed: o.GasUsed, Debug: o.Debug}
		if o.Err != nil {
			r.Error = o.Err.Error()
		}
		for _, ev := range o.Events {
			re := RawEvent{Topics: []string{}, Data: "0x" + hex.EncodeToString(ev.Data)}
			for _, t := range ev.Topics {
				re.Topics = append(re.Topics, "0x"+hex.EncodeToString(t[:]))
			}
			r.Events = append(r.Events, re)
		}
		out = append(out, r)
	}
	return out
}

// Files names where code and metadata come from, as the CLI takes them.
type Files struct {
	// Bundle is a .contract bundle (metadata with the code) or a .wasm file.
	Bundle string
	// Wasm is the code file; it overrides the bundle's code.
	Wasm string
	// Metadata is the metadata file; it overrides the bundle.
	Metadata string
}

// ReadMetadata reads and parses a metadata or .contract file.
func ReadMetadata(path string) (*metadata.Metadata, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := metadata.Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ErrNoCode is returned by Load when no file gives the code.
var ErrNoCode = errors.New("no code: give a .contract bundle, a .wasm file or --wasm")

// Load reads the code and, if any, the metadata named by f. The metadata is
// nil when only code was given.
func Load(f Files) (code []byte, md *metadata.Metadata, err error) {
	isWasm := strings.HasSuffix(f.Bundle, ".wasm")
	mp := f.Metadata
	if mp == "" && f.Bundle != "" && !isWasm {
		mp = f.Bundle
	}
	if mp != "" {
		if md, err = ReadMetadata(mp); err != nil {
			return nil, nil, err
		}
	}
	switch {
	case f.Wasm != "":
		code, err = os.ReadFile(f.Wasm)
	case isWasm:
		code, err = os.ReadFile(f.Bundle)
	case md != nil && md.Wasm != nil:
		code = md.Wasm
	default:
		err = ErrNoCode
	}
	if err != nil {
		return nil, nil, err
	}
	return code, md, nil
}
