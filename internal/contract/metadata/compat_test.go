package metadata

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// legacyDoc builds a metadataVersion 0.1.0 document (the shape of ink! 3.0
// release candidates: "name" instead of "label", positional types, bare
// generic parameters) whose type references are base+0, base+1, ...
//
// Types by position: 0 bool, 1 u32, 2 Option<u32>, 3 Color (a field-less
// enum with explicit discriminants).
func legacyDoc(base int, storage string) string {
	id := func(i int) int { return base + i }
	return fmt.Sprintf(`{"metadataVersion":"0.1.0",
"source":{"hash":"0x00","language":"ink! 3.0.0-rc4","compiler":"rustc"},
"contract":{"name":"legacy","version":"0.1.0","authors":[]},
"spec":{"constructors":[{"args":[{"name":"init","type":{"displayName":["bool"],"type":%d}}],"docs":[],"name":["new"],"selector":"0x9bae9d5e"}],
 "docs":[],
 "events":[{"args":[{"docs":[],"indexed":true,"name":"value","type":{"displayName":["Option"],"type":%d}}],"docs":[],"name":"Changed"}],
 "messages":[
  {"args":[],"docs":[],"mutates":false,"name":["get"],"payable":false,"returnType":{"displayName":["bool"],"type":%d},"selector":"0x2f865bd9"},
  {"args":[{"name":"v","type":{"displayName":["u32"],"type":%d}}],"docs":[],"mutates":true,"name":["set"],"payable":false,"returnType":null,"selector":"0x0a0b0c0d"},
  {"args":[],"docs":[],"mutates":false,"name":["maybe"],"payable":false,"returnType":{"displayName":["Option"],"type":%d},"selector":"0x01020304"},
  {"args":[{"name":"c","type":{"displayName":["Color"],"type":%d}}],"docs":[],"mutates":true,"name":["paint"],"payable":false,"returnType":null,"selector":"0x05060708"}]},
"storage":{"struct":{"fields":[{"layout":{"cell":{"key":"0x00","ty":%s}},"name":"value"}]}},
"types":[
 {"def":{"primitive":"bool"}},
 {"def":{"primitive":"u32"}},
 {"def":{"variant":{"variants":[{"name":"None"},{"fields":[{"type":%d}],"name":"Some"}]}},"params":[%d],"path":["Option"]},
 {"def":{"variant":{"variants":[{"discriminant":5,"name":"Red"},{"discriminant":9,"name":"Blue"}]}},"path":["legacy","Color"]}
]}`, id(0), id(2), id(0), id(1), id(2), id(3), storage, id(1), id(1))
}

// checkLegacy checks that a legacy document resolves every reference to the
// intended type, whatever its base.
func checkLegacy(t *testing.T, m *Metadata) {
	t.Helper()
	if m.Version != 0 || m.LangError {
		t.Fatalf("version %d langError %v", m.Version, m.LangError)
	}
	want := map[string]string{"get": "get() -> bool", "set": "set(v: u32)", "maybe": "maybe() -> Option<u32>", "paint": "paint(c: Color)"}
	for name, sig := range want {
		msg, err := m.Message(name)
		if err != nil {
			t.Fatal(err)
		}
		if got := m.Signature(msg); got != sig {
			t.Errorf("%s: signature %q, want %q", name, got, sig)
		}
	}
	ctor, err := m.Constructor("new")
	if err != nil || m.Signature(ctor) != "new(init: bool)" {
		t.Fatalf("constructor %v", err)
	}
	get, _ := m.Message("get")
	if v, err := m.DecodeResult(get, []byte{1}); err != nil || string(v) != "true" {
		t.Errorf("get: %s %v", v, err)
	}
	maybe, _ := m.Message("maybe")
	if v, err := m.DecodeResult(maybe, []byte{1, 7, 0, 0, 0}); err != nil || string(v) != "7" {
		t.Errorf("maybe: %s %v", v, err)
	}
	_, data, err := m.EncodeExpr(`set(258)`, false)
	if err != nil || hex.EncodeToString(data) != "0a0b0c0d02010000" {
		t.Errorf("set: %x %v", data, err)
	}
	// Field-less variants take their old-style discriminant as index.
	_, data, err = m.EncodeExpr(`paint("Blue")`, false)
	if err != nil || hex.EncodeToString(data) != "0506070809" {
		t.Errorf("paint: %x %v", data, err)
	}
	if len(m.Events) != 1 || m.Registry.TypeName(m.Events[0].Args[0].Type) != "Option<u32>" {
		t.Errorf("events %+v", m.Events)
	}
}

func TestLegacyTypeIDBase(t *testing.T) {
	for _, tc := range []struct {
		name string
		doc  string
	}{
		// scale-info before 1.0: ids count from 1 (the last type, 4, is referred to).
		{"one-based", legacyDoc(1, "2")},
		// scale-info 1.0 under a 0.1.0 header: ids count from 0. The old code
		// rejected this with "unknown type -1".
		{"zero-based", legacyDoc(0, "1")},
		// Generic parameters in the {name, type} form of scale-info 1.0.
		{"zero-based, named params", strings.Replace(legacyDoc(0, "1"), `"params":[1]`, `"params":[{"name":"T","type":1}]`, 1)},
		{"one-based, named params", strings.Replace(legacyDoc(1, "2"), `"params":[2]`, `"params":[{"name":"T","type":2}]`, 1)},
		// Only the storage layout refers to type 0: still 0-based.
		{"zero-based via storage", strings.Replace(legacyDoc(0, "0"), `"name":"init","type":{"displayName":["bool"],"type":0}`, `"name":"init","type":{"displayName":["u32"],"type":1}`, 1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, err := Parse([]byte(tc.doc))
			if err != nil {
				t.Fatal(err)
			}
			if tc.name == "zero-based via storage" {
				ctor, _ := m.Constructor("new")
				if m.Signature(ctor) != "new(init: u32)" {
					t.Fatal(m.Signature(ctor))
				}
				return
			}
			checkLegacy(t, m)
		})
	}
}

func TestLegacyExplicitIDs(t *testing.T) {
	// A 0.1.0 header over types that carry their own ids: the ids are used as
	// written, whatever the smallest one is.
	for _, base := range []int{0, 1, 10} {
		doc := fmt.Sprintf(`{"metadataVersion":"0.1.0","spec":{"constructors":[],"events":[],
"messages":[{"args":[],"name":["get"],"selector":"0x2f865bd9","returnType":{"type":%d}}]},
"types":[{"id":%d,"type":{"def":{"primitive":"u8"}}},{"id":%d,"type":{"def":{"sequence":{"type":%d}}}}]}`, base+1, base, base+1, base)
		m, err := Parse([]byte(doc))
		if err != nil {
			t.Fatalf("base %d: %v", base, err)
		}
		get, _ := m.Message("get")
		if v, err := m.DecodeResult(get, []byte{8, 0xab, 0xcd}); err != nil || string(v) != `"0xabcd"` {
			t.Fatalf("base %d: %s %v", base, v, err)
		}
	}
}

func TestLegacyRejects(t *testing.T) {
	types2 := `"types":[{"def":{"primitive":"u8"}},{"def":{"sequence":{"type":%d}}}]`
	for _, tc := range []struct {
		name, doc, want string
	}{
		{"refers to 0 and to n", `{"metadataVersion":"0.1.0","spec":{"messages":[{"name":["a"],"selector":"0x01020304","args":[],"returnType":{"type":2}}]},` +
			fmt.Sprintf(types2, 0) + `}`, "neither 0-based nor 1-based"},
		{"one-based reference past the end", `{"metadataVersion":"0.1.0","spec":{"messages":[{"name":["a"],"selector":"0x01020304","args":[],"returnType":{"type":3}}]},` +
			fmt.Sprintf(types2, 1) + `}`, "unknown return type 2"},
		{"dangling field", `{"metadataVersion":"0.1.0","spec":{},` + fmt.Sprintf(types2, 7) + `}`, "refers to unknown type 6"},
		{"ids on some entries only", `{"metadataVersion":"0.1.0","spec":{},"types":[{"id":0,"type":{"def":{"primitive":"u8"}}},{"def":{"primitive":"u8"}}]}`, "some entries have"},
		{"duplicate id", `{"V3":{"spec":{},"types":[{"id":0,"type":{"def":{"primitive":"u8"}}},{"id":0,"type":{"def":{"primitive":"u16"}}}]}}`, "defined twice"},
		{"negative id", `{"V3":{"spec":{},"types":[{"id":-1,"type":{"def":{"primitive":"u8"}}}]}}`, "negative id"},
		{"bad parameter", `{"metadataVersion":"0.1.0","spec":{},"types":[{"def":{"primitive":"u8"},"params":["T"]}]}`, "type parameter"},
		{"storage not JSON", `{"metadataVersion":"0.1.0","spec":{},"storage":{"ty":},"types":[]}`, "invalid character"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestAskPathInsideDef(t *testing.T) {
	// Ask! writes "path" inside "def"; it names the type and is not a kind.
	doc := `{"V3":{"spec":{"messages":[{"label":"who","selector":"0x01020304","args":[],"returnType":{"type":2}}]},"types":[
{"id":0,"type":{"def":{"primitive":"u8"}}},
{"id":1,"type":{"def":{"array":{"len":32,"type":0}}}},
{"id":2,"type":{"def":{"composite":{"fields":[{"type":1}]},"path":["ask","AccountId"]}}}]}}`
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := m.Message("who")
	if sig := m.Signature(msg); sig != "who() -> AccountId" {
		t.Fatal(sig)
	}
	raw, _ := hex.DecodeString(aliceHex)
	if v, err := m.DecodeResult(msg, raw); err != nil || string(v) != `"`+aliceSS58+`"` {
		t.Fatalf("%s %v", v, err)
	}
	// Two real kinds beside "path" are still an error.
	bad := strings.Replace(doc, `"path":["ask","AccountId"]`, `"primitive":"u8"`, 1)
	if _, err := Parse([]byte(bad)); err == nil {
		t.Fatal("two kinds accepted")
	}
}

func TestInk6(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		ink6      bool
	}{
		{"version 6", `{"version":6,"source":{"language":"ink! 6.0.0"},"spec":{},"types":[]}`, true},
		{"version \"6\"", `{"version":"6","spec":{},"types":[]}`, true},
		{"PolkaVM bundle without version", `{"source":{"contract_binary":"0x50564d00"},"spec":{},"types":[]}`, true},
		{"version 7", `{"version":7,"spec":{},"types":[]}`, false},
		{"version 3 as a field", `{"version":3,"spec":{},"types":[]}`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.doc))
			if !errors.Is(err, ErrUnsupported) {
				t.Fatalf("got %v, want ErrUnsupported", err)
			}
			if errors.Is(err, ErrInk6) != tc.ink6 {
				t.Fatalf("ErrInk6 = %v, want %v: %v", !tc.ink6, tc.ink6, err)
			}
			if tc.ink6 {
				for _, s := range []string{"pallet-revive", "PolkaVM", "RISC-V", "pallet-contracts", "ink! 5"} {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("message lacks %q: %v", s, err)
					}
				}
			}
		})
	}
}

func TestTypeNameBounded(t *testing.T) {
	// A type whose twelve generic parameters are itself: unbounded, its name
	// has 12^9 parts (the old code never finished).
	ps := strings.TrimSuffix(strings.Repeat(`{"name":"T","type":0},`, 12), ",")
	doc := `{"V3":{"spec":{"messages":[{"label":"m","selector":"0x01020304","args":[{"label":"x","type":{"type":0}}]}]},
"types":[{"id":0,"type":{"path":["X"],"params":[` + ps + `],"def":{"composite":{"fields":[]}}}}]}}`
	m, err := Parse([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	msg, _ := m.Message("m")
	// At most typeNameBudget named parts, each listing 12 parameters.
	if sig := m.Signature(msg); len(sig) > typeNameBudget*12*8 || !strings.HasPrefix(sig, "m(x: X<X<") {
		t.Fatalf("signature of %d bytes: %.80s", len(sig), sig)
	}
	// Encoding names the type too (in its errors).
	if _, err := m.Encode(msg, nil); err == nil {
		t.Fatal("missing argument accepted")
	}
}

// FuzzParse checks that no document makes Parse, Signature, encoding or
// decoding panic or run away.
func FuzzParse(f *testing.F) {
	f.Add([]byte(legacyDoc(0, "1")))
	f.Add([]byte(legacyDoc(1, "2")))
	f.Add([]byte(`{"version":6,"spec":{},"types":[]}`))
	f.Add([]byte(`{"V3":{"spec":{"messages":[{"label":"m","selector":"0x01020304","args":[],"returnType":{"type":0}}]},"types":[{"id":0,"type":{"def":{"composite":{"fields":[{"type":0}]},"path":["A"]}}}]}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		for _, msg := range append(append([]*Message{}, m.Constructors...), m.Messages...) {
			_ = m.Signature(msg)
			_, _ = m.DecodeResult(msg, b[:min(len(b), 64)])
			args := make([]json.RawMessage, len(msg.Args))
			for i := range args {
				args[i] = json.RawMessage(`0`)
			}
			_, _ = m.Encode(msg, args)
		}
		_, _ = m.DecodeEvent(nil, b[:min(len(b), 64)])
	})
}
