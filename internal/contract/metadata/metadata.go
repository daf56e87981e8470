// Package metadata reads ink! contract metadata (.contract bundles and .json
// files, versions V0–V5; ink! 6 metadata is refused with ErrInk6), encodes
// constructor and message calls from JSON arguments through the scale-info
// type registry, and decodes return values and events to JSON.
//
// Decoded values follow one convention everywhere: integers as JSON numbers
// below 2^53 and decimal strings above; AccountId as SS58 (prefix 42);
// hashes and byte arrays as "0x…"; Option as null or the value; Result as
// {"Ok": x} / {"Err": x}; unit as null; unit enum variants as "Name", others
// as {"Name": fields}; structs as objects (in field order); tuples as arrays.
package metadata

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Metadata is a parsed ink! metadata document.
type Metadata struct {
	// Version is the metadata version: 0 (ink! 3.0-rc) to 5.
	Version int
	// Name and ContractVersion come from the "contract" section.
	Name, ContractVersion string
	// Language is source.language, e.g. "ink! 4.3.0".
	Language string
	// Wasm is source.wasm of a .contract bundle, nil for plain metadata.
	Wasm         []byte
	Constructors []*Message
	Messages     []*Message
	Events       []*EventSpec
	// Registry holds the scale-info types.
	Registry *Registry
	// LangError is set when results are wrapped in Result<_, LangError>
	// (ink! 4 and later).
	LangError bool
}

// Message is a constructor or message.
type Message struct {
	Label    string
	Selector [4]byte
	Args     []Arg
	// ReturnType is the type id of the return value, -1 if none.
	ReturnType int
	Payable    bool
	Mutates    bool
	Docs       []string
}

// Arg is an argument of a message or event.
type Arg struct {
	Label   string
	Type    int
	Display string // displayName joined with ::
	Indexed bool   // events only
}

// EventSpec is an event of the contract.
type EventSpec struct {
	Label string
	Args  []Arg
	// SignatureTopic is the V5 signature topic, nil if none (anonymous or older).
	SignatureTopic []byte
}

// ErrUnsupported is returned for metadata this package cannot read.
var ErrUnsupported = errors.New("unsupported metadata")

// ErrInk6 is returned (wrapped, with the reason) for ink! 6 metadata
// (version 6). It wraps ErrUnsupported.
var ErrInk6 = fmt.Errorf("%w: ink! 6 (metadata version 6)", ErrUnsupported)

// ink6Why says why ink! 6 cannot run here and what to do instead.
const ink6Why = "ink! 6 targets pallet-revive, whose contracts are PolkaVM (RISC-V) programs " +
	"with 20-byte H160 addresses and U256 balances, not Wasm; Cella runs Wasm contracts " +
	"under the pallet-contracts ABI (ink! 3 to 5, metadata V0 to V5): rebuild the contract with ink! 5 (cargo-contract 4)"

type jsonTypeRef struct {
	DisplayName []string `json:"displayName"`
	Type        int      `json:"type"`
}

type jsonArg struct {
	Label   string          `json:"label"`
	Name    json.RawMessage `json:"name"`
	Type    jsonTypeRef     `json:"type"`
	Indexed bool            `json:"indexed"`
}

type jsonMessage struct {
	Label      string          `json:"label"`
	Name       json.RawMessage `json:"name"`
	Selector   string          `json:"selector"`
	Args       []jsonArg       `json:"args"`
	ReturnType *jsonTypeRef    `json:"returnType"`
	Payable    bool            `json:"payable"`
	Mutates    bool            `json:"mutates"`
	Docs       []string        `json:"docs"`
}

type jsonEvent struct {
	Label          string          `json:"label"`
	Name           json.RawMessage `json:"name"`
	Args           []jsonArg       `json:"args"`
	SignatureTopic *string         `json:"signature_topic"`
}

type jsonSpec struct {
	Constructors []jsonMessage   `json:"constructors"`
	Messages     []jsonMessage   `json:"messages"`
	Events       []jsonEvent     `json:"events"`
	LangError    json.RawMessage `json:"lang_error"`
}

type jsonBody struct {
	Spec    jsonSpec        `json:"spec"`
	Types   json.RawMessage `json:"types"`
	Storage json.RawMessage `json:"storage"`
}

type jsonTop struct {
	jsonBody
	Version         json.RawMessage `json:"version"`
	MetadataVersion string          `json:"metadataVersion"`
	Source          struct {
		Language string `json:"language"`
		Wasm     string `json:"wasm"`
		// ContractBinary is the PolkaVM blob of an ink! 6 bundle.
		ContractBinary string `json:"contract_binary"`
	} `json:"source"`
	Contract struct {
		Name    string `json:"name"`
		Version string `json:"version"`
	} `json:"contract"`
	V1 *jsonBody `json:"V1"`
	V2 *jsonBody `json:"V2"`
	V3 *jsonBody `json:"V3"`
}

// Parse reads metadata JSON or a .contract bundle.
func Parse(b []byte) (*Metadata, error) {
	var top jsonTop
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	md := &Metadata{Name: top.Contract.Name, ContractVersion: top.Contract.Version, Language: top.Source.Language}
	body := &top.jsonBody
	legacy := false
	switch {
	case top.V3 != nil:
		md.Version, body = 3, top.V3
	case top.V2 != nil:
		md.Version, body = 2, top.V2
	case top.V1 != nil:
		md.Version, body = 1, top.V1
	case len(top.Version) > 0:
		var v int
		var s string
		if json.Unmarshal(top.Version, &v) != nil {
			if json.Unmarshal(top.Version, &s) != nil {
				return nil, fmt.Errorf("%w: bad version field", ErrUnsupported)
			}
			if _, err := fmt.Sscanf(s, "%d", &v); err != nil {
				return nil, fmt.Errorf("%w: version %q", ErrUnsupported, s)
			}
		}
		if v == 6 {
			return nil, ink6Error(top.Source.Language)
		}
		if v != 4 && v != 5 {
			return nil, fmt.Errorf("%w: version %d (this reader knows metadata V0 to V5, ink! 3 to 5)", ErrUnsupported, v)
		}
		md.Version = v
	case top.MetadataVersion != "":
		md.Version, legacy = 0, true
	case top.Source.ContractBinary != "":
		return nil, ink6Error(top.Source.Language)
	default:
		return nil, fmt.Errorf("%w: no version marker (V1/V2/V3/version/metadataVersion)", ErrUnsupported)
	}
	if top.Source.Wasm != "" {
		w, err := decodeHex(top.Source.Wasm)
		if err != nil {
			return nil, fmt.Errorf("metadata: source.wasm: %w", err)
		}
		md.Wasm = w
	}
	reg, positional, err := parseRegistry(body.Types)
	if err != nil {
		return nil, err
	}
	// Type references of metadataVersion 0.1.0 count from 1 (scale-info
	// before 1.0) or, when scale-info 1.0 wrote the types under the old
	// header, from 0.
	// Documents with explicit ids, and every later version, refer to the
	// ids as written.
	oneBased := false
	if legacy && positional {
		if oneBased, err = legacyOneBased(len(reg.types), reg, &body.Spec, body.Storage); err != nil {
			return nil, err
		}
		if oneBased {
			reg.shiftRefs(-1)
		}
	}
	if err := reg.checkRefs(); err != nil {
		return nil, err
	}
	md.Registry = reg
	md.LangError = md.Version >= 4 || len(body.Spec.LangError) > 0 && string(body.Spec.LangError) != "null"
	fix := func(id int) int {
		if oneBased {
			return id - 1
		}
		return id
	}
	conv := func(list []jsonMessage) ([]*Message, error) {
		out := make([]*Message, 0, len(list))
		for _, jm := range list {
			m := &Message{Label: label(jm.Label, jm.Name), Payable: jm.Payable, Mutates: jm.Mutates, Docs: jm.Docs, ReturnType: -1}
			sel, err := decodeHex(jm.Selector)
			if err != nil || len(sel) != 4 {
				return nil, fmt.Errorf("metadata: %s: bad selector %q", m.Label, jm.Selector)
			}
			copy(m.Selector[:], sel)
			for _, a := range jm.Args {
				m.Args = append(m.Args, Arg{Label: label(a.Label, a.Name), Type: fix(a.Type.Type), Display: strings.Join(a.Type.DisplayName, "::")})
			}
			if jm.ReturnType != nil {
				m.ReturnType = fix(jm.ReturnType.Type)
			}
			for _, a := range m.Args {
				if !reg.has(a.Type) {
					return nil, fmt.Errorf("metadata: %s: argument %s has unknown type %d", m.Label, a.Label, a.Type)
				}
			}
			if m.ReturnType >= 0 && !reg.has(m.ReturnType) {
				return nil, fmt.Errorf("metadata: %s: unknown return type %d", m.Label, m.ReturnType)
			}
			out = append(out, m)
		}
		return out, nil
	}
	if md.Constructors, err = conv(body.Spec.Constructors); err != nil {
		return nil, err
	}
	if md.Messages, err = conv(body.Spec.Messages); err != nil {
		return nil, err
	}
	for _, je := range body.Spec.Events {
		ev := &EventSpec{Label: label(je.Label, je.Name)}
		if je.SignatureTopic != nil {
			if t, err := decodeHex(*je.SignatureTopic); err == nil && len(t) == 32 {
				ev.SignatureTopic = t
			}
		}
		for _, a := range je.Args {
			if !reg.has(fix(a.Type.Type)) {
				return nil, fmt.Errorf("metadata: event %s: unknown type %d", ev.Label, a.Type.Type)
			}
			ev.Args = append(ev.Args, Arg{Label: label(a.Label, a.Name), Type: fix(a.Type.Type), Display: strings.Join(a.Type.DisplayName, "::"), Indexed: a.Indexed})
		}
		md.Events = append(md.Events, ev)
	}
	return md, nil
}

func ink6Error(language string) error {
	if language != "" {
		return fmt.Errorf("%w, built with %q: %s", ErrInk6, language, ink6Why)
	}
	return fmt.Errorf("%w: %s", ErrInk6, ink6Why)
}

// legacyOneBased decides, from the references alone, whether the positional
// type ids of a metadataVersion 0.1.0 document count from 1 or from 0.
// Every type in a registry is there because something refers to it, so a
// 0-based document refers to id 0 and a 1-based one to id n (the last of n
// types). A document that refers to both is neither and is rejected; one
// that refers to neither keeps the format's original 1-based reading (its
// references are then checked as usual).
func legacyOneBased(n int, reg *Registry, spec *jsonSpec, storage json.RawMessage) (bool, error) {
	zero, top := false, false
	see := func(x int) {
		zero = zero || x == 0
		top = top || x == n
	}
	reg.eachRef(func(x *int) { see(*x) })
	for _, list := range [][]jsonMessage{spec.Constructors, spec.Messages} {
		for _, m := range list {
			for _, a := range m.Args {
				see(a.Type.Type)
			}
			if m.ReturnType != nil {
				see(m.ReturnType.Type)
			}
		}
	}
	for _, e := range spec.Events {
		for _, a := range e.Args {
			see(a.Type.Type)
		}
	}
	if err := storageRefs(storage, see); err != nil {
		return false, err
	}
	switch {
	case n == 0:
		return true, nil
	case zero && top:
		return false, fmt.Errorf("%w: metadataVersion 0.1.0 with %d types refers to both type 0 and type %d, so its ids are neither 0-based nor 1-based", ErrUnsupported, n, n)
	case zero:
		return false, nil
	}
	return true, nil
}

// storageRefs calls see with every type id in a storage layout (the integer
// values of its "ty" keys).
func storageRefs(storage json.RawMessage, see func(int)) error {
	if len(storage) == 0 {
		return nil
	}
	d := json.NewDecoder(strings.NewReader(string(storage)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return fmt.Errorf("metadata: storage: %w", err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if n, ok := e.(json.Number); ok && k == "ty" {
					if i, err := n.Int64(); err == nil && i >= 0 && i <= 1<<31 {
						see(int(i))
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	return nil
}

// label returns the V3+ label or the older name (a string or an array of
// path segments).
func label(l string, name json.RawMessage) string {
	if l != "" {
		return l
	}
	var s string
	if json.Unmarshal(name, &s) == nil {
		return s
	}
	var parts []string
	if json.Unmarshal(name, &parts) == nil {
		return strings.Join(parts, "::")
	}
	return ""
}

func decodeHex(s string) ([]byte, error) {
	s = strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	return hex.DecodeString(s)
}

// Constructor finds a constructor by label.
func (m *Metadata) Constructor(name string) (*Message, error) {
	for _, c := range m.Constructors {
		if c.Label == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no constructor %q (have %s)", name, labels(m.Constructors))
}

// Message finds a message by label.
func (m *Metadata) Message(name string) (*Message, error) {
	for _, c := range m.Messages {
		if c.Label == name {
			return c, nil
		}
	}
	return nil, fmt.Errorf("no message %q (have %s)", name, labels(m.Messages))
}

func labels(ms []*Message) string {
	s := make([]string, len(ms))
	for i, m := range ms {
		s[i] = m.Label
	}
	return strings.Join(s, ", ")
}

// Signature renders a message as label(arg: Type, ...) -> Ret.
func (m *Metadata) Signature(msg *Message) string {
	var b strings.Builder
	b.WriteString(msg.Label)
	b.WriteByte('(')
	for i, a := range msg.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s: %s", a.Label, m.Registry.TypeName(a.Type))
	}
	b.WriteByte(')')
	if rt := m.resultType(msg); rt >= 0 {
		if n := m.Registry.TypeName(rt); n != "()" {
			b.WriteString(" -> " + n)
		}
	}
	return b.String()
}

// resultType is the type of the value a caller sees: the return type with an
// outer Result<_, LangError> removed, or -1.
func (m *Metadata) resultType(msg *Message) int {
	if msg.ReturnType < 0 {
		return -1
	}
	if m.LangError {
		if ok, _, isRes := m.Registry.resultParts(msg.ReturnType); isRes {
			return ok
		}
	}
	return msg.ReturnType
}
