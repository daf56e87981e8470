package sdk

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cella-network/cella/internal/contract/metadata"
	"github.com/cella-network/cella/internal/state/phat"
)

// MaxMetadataSize bounds a metadata file LoadMetadata reads: a .contract
// bundle carries the code as hex, and code is at most 2 MiB.
const MaxMetadataSize = 16 << 20

// Metadata is a contract's ink! metadata (versions 0 to 5): its
// constructors, messages and types, and for a .contract bundle its code.
type Metadata struct{ md *metadata.Metadata }

// LoadMetadata reads an ink! .contract bundle or metadata .json file.
func LoadMetadata(path string) (*Metadata, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, MaxMetadataSize+1))
	if err != nil {
		return nil, err
	}
	if len(b) > MaxMetadataSize {
		return nil, fmt.Errorf("%s: over %d bytes", path, MaxMetadataSize)
	}
	m, err := ParseMetadata(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ParseMetadata parses a .contract bundle or metadata JSON document.
func ParseMetadata(b []byte) (*Metadata, error) {
	md, err := metadata.Parse(b)
	if err != nil {
		return nil, err
	}
	return &Metadata{md: md}, nil
}

// Name is the contract's name.
func (m *Metadata) Name() string { return m.md.Name }

// Code is the contract's code from a .contract bundle; nil for plain
// metadata JSON.
func (m *Metadata) Code() []byte { return m.md.Wasm }

// CodeHash is the hash of code as the chain computes it (blake2-256).
func CodeHash(code []byte) Hash { return Hash(phat.CodeHash(code)) }

// MessageSpec describes a constructor or message.
type MessageSpec struct {
	Label    string `json:"label"`
	Selector string `json:"selector"`
	// Signature is label(arg: type, …) -> return type.
	Signature string `json:"signature"`
	Payable   bool   `json:"payable"`
	Mutates   bool   `json:"mutates"`
}

func (m *Metadata) specs(list []*metadata.Message) []MessageSpec {
	out := make([]MessageSpec, 0, len(list))
	for _, x := range list {
		out = append(out, MessageSpec{Label: x.Label, Selector: "0x" + hex.EncodeToString(x.Selector[:]),
			Signature: m.md.Signature(x), Payable: x.Payable, Mutates: x.Mutates})
	}
	return out
}

// Constructors lists the constructors.
func (m *Metadata) Constructors() []MessageSpec { return m.specs(m.md.Constructors) }

// Messages lists the messages.
func (m *Metadata) Messages() []MessageSpec { return m.specs(m.md.Messages) }

// Message looks up a message by label.
func (m *Metadata) Message(name string) (MessageSpec, error) {
	x, err := m.md.Message(name)
	if err != nil {
		return MessageSpec{}, err
	}
	return m.specs([]*metadata.Message{x})[0], nil
}

// jsonArgs reads each argument as JSON; one that is not JSON is taken as a
// string, so that addresses and names need no quotes.
func jsonArgs(args []string) []json.RawMessage {
	out := make([]json.RawMessage, len(args))
	for i, a := range args {
		if json.Valid([]byte(a)) {
			out[i] = json.RawMessage(a)
			continue
		}
		b, _ := json.Marshal(a)
		out[i] = b
	}
	return out
}

// EncodeConstructor returns selector ‖ SCALE(args) of the constructor name.
// Each argument is a JSON value (a number, true, "text", [1,2], {"Some":1});
// an argument that is not valid JSON is taken as a string.
func (m *Metadata) EncodeConstructor(name string, args ...string) ([]byte, error) {
	c, err := m.md.Constructor(name)
	if err != nil {
		return nil, err
	}
	return m.md.Encode(c, jsonArgs(args))
}

// EncodeMessage returns selector ‖ SCALE(args) of the message name; args as
// EncodeConstructor.
func (m *Metadata) EncodeMessage(name string, args ...string) ([]byte, error) {
	x, err := m.md.Message(name)
	if err != nil {
		return nil, err
	}
	return m.md.Encode(x, jsonArgs(args))
}

// ErrLang is wrapped by DecodeReturn's error for an ink! LangError (the
// contract could not dispatch the input, e.g. an unknown selector).
var ErrLang = errors.New("ink! dispatch error")

// DecodeReturn decodes the output of message name to JSON (null for a
// message without a return value). ink! 4+'s outer Result<_, LangError> is
// removed; an Err is an error wrapping ErrLang.
func (m *Metadata) DecodeReturn(name string, output []byte) (json.RawMessage, error) {
	x, err := m.md.Message(name)
	if err != nil {
		return nil, err
	}
	v, err := m.md.DecodeResult(x, output)
	var le *metadata.LangError
	if errors.As(err, &le) {
		return nil, fmt.Errorf("%w: %s", ErrLang, le.Value)
	}
	return v, err
}

// DecodedEvent is a contract event decoded with the contract's metadata.
type DecodedEvent struct {
	// Name is the event's label in the metadata.
	Name string `json:"name"`
	// Args are its fields as a JSON object, by label.
	Args json.RawMessage `json:"args"`
}

// DecodeEvent identifies ev among the metadata's events — by its signature
// topic (ink! 5) or its leading variant index (ink! 3 and 4) — and decodes
// its fields. An event that matches none of them, or whose data does not
// decode as the matching one's fields, is an error. The metadata says
// nothing of the emitting contract: callers decode only events that their
// contract emitted (Event.Contract).
func (m *Metadata) DecodeEvent(ev Event) (*DecodedEvent, error) {
	topics := make([][]byte, len(ev.Topics))
	for i := range ev.Topics {
		topics[i] = ev.Topics[i][:]
	}
	d, err := m.md.DecodeEvent(topics, ev.Data)
	if err != nil {
		return nil, err
	}
	return &DecodedEvent{Name: d.Name, Args: d.Args}, nil
}
