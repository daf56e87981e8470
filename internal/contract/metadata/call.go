package metadata

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/cella-network/cella/internal/scale"
)

// ParseExpr splits a call expression such as `transfer("5F…", 10)` into its
// name and JSON arguments: the text inside the parentheses is read as the
// contents of a JSON array. A bare name means no arguments.
func ParseExpr(expr string) (string, []json.RawMessage, error) {
	expr = strings.TrimSpace(expr)
	open := strings.IndexByte(expr, '(')
	if open < 0 {
		if expr == "" {
			return "", nil, errors.New("empty call expression")
		}
		return expr, nil, nil
	}
	if !strings.HasSuffix(expr, ")") {
		return "", nil, fmt.Errorf("call expression %q: missing closing parenthesis", expr)
	}
	name := strings.TrimSpace(expr[:open])
	if name == "" {
		return "", nil, fmt.Errorf("call expression %q: missing name", expr)
	}
	var args []json.RawMessage
	if err := json.Unmarshal([]byte("["+expr[open+1:len(expr)-1]+"]"), &args); err != nil {
		return "", nil, fmt.Errorf("call expression %q: arguments are not a JSON list: %w", expr, err)
	}
	return name, args, nil
}

// Encode returns selector ‖ SCALE(args) for msg.
func (m *Metadata) Encode(msg *Message, args []json.RawMessage) ([]byte, error) {
	if len(args) != len(msg.Args) {
		return nil, fmt.Errorf("%s takes %d arguments, got %d: %s", msg.Label, len(msg.Args), len(args), m.Signature(msg))
	}
	w := scale.NewWriter(64)
	w.Raw(msg.Selector[:])
	for i, a := range msg.Args {
		if err := m.Registry.EncodeJSON(a.Type, args[i], w); err != nil {
			return nil, fmt.Errorf("%s: argument %s: %w", msg.Label, a.Label, err)
		}
	}
	return w.Bytes(), nil
}

// EncodeExpr encodes a call expression against the constructors (ctor set)
// or the messages.
func (m *Metadata) EncodeExpr(expr string, ctor bool) (*Message, []byte, error) {
	name, args, err := ParseExpr(expr)
	if err != nil {
		return nil, nil, err
	}
	var msg *Message
	if ctor {
		msg, err = m.Constructor(name)
	} else {
		msg, err = m.Message(name)
	}
	if err != nil {
		return nil, nil, err
	}
	data, err := m.Encode(msg, args)
	return msg, data, err
}

// LangError is a dispatch error reported by ink! 4+ (e.g. CouldNotReadInput).
type LangError struct{ Value string }

func (e *LangError) Error() string { return "ink! LangError: " + e.Value }

// DecodeResult decodes the output of msg to JSON. For ink! 4+ the outer
// Result<_, LangError> is removed and an Err is returned as *LangError. A
// message without a return type decodes to null.
func (m *Metadata) DecodeResult(msg *Message, data []byte) (json.RawMessage, error) {
	if msg.ReturnType < 0 {
		if len(data) != 0 {
			return nil, fmt.Errorf("%w: %d bytes of output for a message without a return type", ErrDecode, len(data))
		}
		return json.RawMessage("null"), nil
	}
	rd := scale.NewReader(data)
	id := msg.ReturnType
	if m.LangError {
		if okT, errT, isRes := m.Registry.resultParts(id); isRes {
			tag := rd.U8()
			switch {
			case rd.Err() != nil:
				return nil, fmt.Errorf("%w: empty output", ErrDecode)
			case tag == 1:
				v, err := m.Registry.DecodeJSON(errT, rd)
				if err != nil {
					return nil, err
				}
				var s string
				if json.Unmarshal(v, &s) != nil {
					s = string(v)
				}
				return nil, &LangError{Value: s}
			case tag != 0:
				return nil, fmt.Errorf("%w: bad Result tag %d", ErrDecode, tag)
			}
			id = okT
		}
	}
	v, err := m.Registry.DecodeJSON(id, rd)
	if err != nil {
		return nil, err
	}
	// ink! 4/5 constructors without a Result encode Ok(Ok(())) (00 00) although
	// the metadata declares ConstructorResult<()>: accept the extra Ok tag.
	if string(v) == "null" && rd.Remaining() == 1 && data[len(data)-1] == 0 && m.isConstructor(msg) {
		return v, nil
	}
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return v, nil
}

// DecodedEvent is an event decoded with the metadata.
type DecodedEvent struct {
	Name string          `json:"name"`
	Args json.RawMessage `json:"args"`
}

// DecodeEvent identifies and decodes an event: by its signature topic (ink!
// 5) or by the leading variant index (ink! 3/4).
func (m *Metadata) DecodeEvent(topics [][]byte, data []byte) (*DecodedEvent, error) {
	var ev *EventSpec
	if m.Version >= 5 {
		if len(topics) > 0 {
			for _, e := range m.Events {
				if e.SignatureTopic != nil && bytes.Equal(e.SignatureTopic, topics[0]) {
					ev = e
				}
			}
		}
		if ev == nil {
			var anon []*EventSpec
			for _, e := range m.Events {
				if e.SignatureTopic == nil {
					anon = append(anon, e)
				}
			}
			if len(anon) != 1 {
				return nil, fmt.Errorf("%w: no event matches the topics", ErrDecode)
			}
			ev = anon[0]
		}
	} else {
		if len(data) == 0 {
			return nil, fmt.Errorf("%w: empty event", ErrDecode)
		}
		if int(data[0]) >= len(m.Events) {
			return nil, fmt.Errorf("%w: event index %d out of range", ErrDecode, data[0])
		}
		ev = m.Events[data[0]]
		data = data[1:]
	}
	rd := scale.NewReader(data)
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range ev.Args {
		if i > 0 {
			b.WriteByte(',')
		}
		writeJSONString(&b, a.Label)
		b.WriteByte(':')
		v, err := m.Registry.DecodeJSON(a.Type, rd)
		if err != nil {
			return nil, fmt.Errorf("event %s: %s: %w", ev.Label, a.Label, err)
		}
		b.Write(v)
	}
	b.WriteByte('}')
	if err := rd.Finish(); err != nil {
		return nil, fmt.Errorf("event %s: %w: %w", ev.Label, ErrDecode, err)
	}
	return &DecodedEvent{Name: ev.Label, Args: b.Bytes()}, nil
}

func (m *Metadata) isConstructor(msg *Message) bool {
	for _, c := range m.Constructors {
		if c == msg {
			return true
		}
	}
	return false
}
