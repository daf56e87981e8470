package metadata

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/cella-network/cella/internal/scale"
)

// Kind is the kind of a scale-info type definition.
type Kind int

// Type kinds.
const (
	KindPrimitive Kind = iota
	KindComposite
	KindVariant
	KindSequence
	KindArray
	KindTuple
	KindCompact
	KindBitSequence
)

// Field is a field of a composite or variant.
type Field struct {
	Name string
	Type int
}

// Variant is one variant of an enum.
type Variant struct {
	Name   string
	Index  uint8
	Fields []Field
}

// Type is a scale-info type.
type Type struct {
	Path      []string
	Kind      Kind
	Primitive string    // KindPrimitive
	Fields    []Field   // KindComposite
	Variants  []Variant // KindVariant
	Elem      int       // KindSequence, KindArray, KindCompact
	Len       uint32    // KindArray
	Tuple     []int     // KindTuple
	Params    []int     // generic parameters (type ids, -1 if absent)
}

// Registry is a scale-info portable type registry.
type Registry struct {
	types map[int]*Type
}

func (r *Registry) has(id int) bool { _, ok := r.types[id]; return ok }

// Type returns the type with the given id.
func (r *Registry) Type(id int) (*Type, bool) { t, ok := r.types[id]; return t, ok }

type jsonField struct {
	Name *string `json:"name"`
	Type int     `json:"type"`
}

// jsonParam is a generic parameter: {"name": "T", "type": id} in scale-info
// 1.0 and later (type may be null), a bare type id in the older format of
// metadataVersion 0.1.0.
type jsonParam struct{ Type *int }

func (p *jsonParam) UnmarshalJSON(b []byte) error {
	var id int
	if json.Unmarshal(b, &id) == nil {
		p.Type = &id
		return nil
	}
	var o struct {
		Type *int `json:"type"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return errors.New("type parameter: want a type id or {\"name\", \"type\"}")
	}
	p.Type = o.Type
	return nil
}

type jsonTypeDef struct {
	Path   []string                   `json:"path"`
	Params []jsonParam                `json:"params"`
	Def    map[string]json.RawMessage `json:"def"`
}

// parseRegistry reads the "types" section. It keeps type references exactly
// as written (no renumbering; see shiftRefs) and does not check them (see
// checkRefs). positional reports that the entries carry no "id" and take
// their array index as id, as in metadataVersion 0.1.0 documents.
func parseRegistry(raw json.RawMessage) (r *Registry, positional bool, err error) {
	r = &Registry{types: map[int]*Type{}}
	if len(raw) == 0 {
		return r, true, nil
	}
	var entries []json.RawMessage
	if err := json.Unmarshal(raw, &entries); err != nil {
		return nil, false, fmt.Errorf("metadata: types: %w", err)
	}
	withIDs := 0
	for i, e := range entries {
		var probe struct {
			ID   *int            `json:"id"`
			Type json.RawMessage `json:"type"`
		}
		if err := json.Unmarshal(e, &probe); err != nil {
			return nil, false, fmt.Errorf("metadata: type %d: %w", i, err)
		}
		var def jsonTypeDef
		id := i
		src := e
		if probe.ID != nil {
			withIDs++
			id, src = *probe.ID, probe.Type
			if id < 0 {
				return nil, false, fmt.Errorf("metadata: type entry %d: negative id %d", i, id)
			}
		}
		if err := json.Unmarshal(src, &def); err != nil {
			return nil, false, fmt.Errorf("metadata: type %d: %w", id, err)
		}
		if withIDs != 0 && withIDs != i+1 {
			return nil, false, fmt.Errorf("metadata: type entry %d: some entries have an \"id\" and some do not", i)
		}
		if _, dup := r.types[id]; dup {
			return nil, false, fmt.Errorf("metadata: type %d defined twice", id)
		}
		t, err := parseType(id, def)
		if err != nil {
			return nil, false, err
		}
		r.types[id] = t
	}
	return r, withIDs == 0, nil
}

func parseType(id int, def jsonTypeDef) (*Type, error) {
	t := &Type{Path: def.Path}
	for _, p := range def.Params {
		if p.Type != nil {
			if *p.Type < 0 {
				return nil, fmt.Errorf("metadata: type %d: parameter type %d", id, *p.Type)
			}
			t.Params = append(t.Params, *p.Type)
		} else {
			t.Params = append(t.Params, -1)
		}
	}
	// Ask! (AssemblyScript) writes the path inside "def"; accept it there.
	if p, ok := def.Def["path"]; ok && len(def.Def) == 2 {
		var inner []string
		if err := json.Unmarshal(p, &inner); err != nil {
			return nil, fmt.Errorf("metadata: type %d: def.path: %w", id, err)
		}
		if len(t.Path) == 0 {
			t.Path = inner
		}
		delete(def.Def, "path")
	}
	if len(def.Def) != 1 {
		return nil, fmt.Errorf("metadata: type %d: def must have exactly one kind", id)
	}
	for k, v := range def.Def {
		var err error
		switch k {
		case "primitive":
			t.Kind = KindPrimitive
			err = json.Unmarshal(v, &t.Primitive)
		case "composite":
			t.Kind = KindComposite
			var c struct{ Fields []jsonField }
			err = json.Unmarshal(v, &c)
			for _, f := range c.Fields {
				t.Fields = append(t.Fields, Field{Name: deref(f.Name), Type: f.Type})
			}
		case "variant":
			t.Kind = KindVariant
			var c struct {
				Variants []struct {
					Name  string `json:"name"`
					Index *int   `json:"index"`
					// Discriminant is the index of a field-less variant in
					// the scale-info of metadataVersion 0.1.0.
					Discriminant *int        `json:"discriminant"`
					Fields       []jsonField `json:"fields"`
				} `json:"variants"`
			}
			err = json.Unmarshal(v, &c)
			for j, vv := range c.Variants {
				idx := j
				switch {
				case vv.Index != nil:
					idx = *vv.Index
				case vv.Discriminant != nil:
					idx = *vv.Discriminant
				}
				if idx < 0 || idx > 255 {
					return nil, fmt.Errorf("metadata: type %d: variant index %d", id, idx)
				}
				var fs []Field
				for _, f := range vv.Fields {
					fs = append(fs, Field{Name: deref(f.Name), Type: f.Type})
				}
				t.Variants = append(t.Variants, Variant{Name: vv.Name, Index: uint8(idx), Fields: fs})
			}
		case "sequence", "compact":
			t.Kind = KindSequence
			if k == "compact" {
				t.Kind = KindCompact
			}
			var c struct{ Type int }
			err = json.Unmarshal(v, &c)
			t.Elem = c.Type
		case "array":
			t.Kind = KindArray
			var c struct {
				Len  uint32
				Type int
			}
			err = json.Unmarshal(v, &c)
			t.Elem, t.Len = c.Type, c.Len
		case "tuple":
			t.Kind = KindTuple
			err = json.Unmarshal(v, &t.Tuple)
		case "bitSequence":
			t.Kind = KindBitSequence
		default:
			return nil, fmt.Errorf("metadata: type %d: unknown kind %q", id, k)
		}
		if err != nil {
			return nil, fmt.Errorf("metadata: type %d: %w", id, err)
		}
	}
	return t, nil
}

// hasElem reports whether t.Elem is a type reference.
func (t *Type) hasElem() bool {
	return t.Kind == KindSequence || t.Kind == KindArray || t.Kind == KindCompact
}

// eachRef calls f with a pointer to every type reference of t: fields,
// variant fields, element and tuple types, and the generic parameters that
// are present.
func (t *Type) eachRef(f func(*int)) {
	for i := range t.Tuple {
		f(&t.Tuple[i])
	}
	for i := range t.Fields {
		f(&t.Fields[i].Type)
	}
	for i := range t.Variants {
		for j := range t.Variants[i].Fields {
			f(&t.Variants[i].Fields[j].Type)
		}
	}
	if t.hasElem() {
		f(&t.Elem)
	}
	for i := range t.Params {
		if t.Params[i] >= 0 {
			f(&t.Params[i])
		}
	}
}

// eachRef calls f with every type reference in the registry.
func (r *Registry) eachRef(f func(*int)) {
	for _, t := range r.types {
		t.eachRef(f)
	}
}

// shiftRefs adds d to every type reference (not to the ids themselves).
func (r *Registry) shiftRefs(d int) {
	r.eachRef(func(x *int) { *x += d })
}

// checkRefs makes sure encoding and decoding never meet a dangling id.
// Generic parameters are only names for humans and are not checked.
func (r *Registry) checkRefs() error {
	for _, id := range slices.Sorted(maps.Keys(r.types)) {
		t := r.types[id]
		refs := append([]int{}, t.Tuple...)
		for _, f := range t.Fields {
			refs = append(refs, f.Type)
		}
		for _, v := range t.Variants {
			for _, f := range v.Fields {
				refs = append(refs, f.Type)
			}
		}
		if t.hasElem() {
			refs = append(refs, t.Elem)
		}
		for _, x := range refs {
			if !r.has(x) {
				return fmt.Errorf("metadata: type %d refers to unknown type %d", id, x)
			}
		}
	}
	return nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

func (t *Type) last() string {
	if len(t.Path) == 0 {
		return ""
	}
	return t.Path[len(t.Path)-1]
}

// resultParts reports whether id is a Result and returns its Ok and Err types.
func (r *Registry) resultParts(id int) (ok, err int, is bool) {
	t := r.types[id]
	if t == nil || t.Kind != KindVariant || len(t.Path) != 1 || t.Path[0] != "Result" || len(t.Variants) != 2 {
		return 0, 0, false
	}
	if len(t.Variants[0].Fields) != 1 || len(t.Variants[1].Fields) != 1 {
		return 0, 0, false
	}
	return t.Variants[0].Fields[0].Type, t.Variants[1].Fields[0].Type, true
}

func (r *Registry) isOption(t *Type) bool {
	return t.Kind == KindVariant && len(t.Path) == 1 && t.Path[0] == "Option" && len(t.Variants) == 2 &&
		len(t.Variants[0].Fields) == 0 && len(t.Variants[1].Fields) == 1
}

func (r *Registry) isU8(id int) bool {
	t := r.types[id]
	return t != nil && t.Kind == KindPrimitive && t.Primitive == "u8"
}

// isAccountID: a composite named AccountId wrapping [u8; 32].
func (r *Registry) isAccountID(t *Type) bool {
	if t.Kind != KindComposite || t.last() != "AccountId" || len(t.Fields) != 1 {
		return false
	}
	a := r.types[t.Fields[0].Type]
	return a != nil && a.Kind == KindArray && a.Len == 32 && r.isU8(a.Elem)
}

// TypeName renders a type for humans (inspect output).
// A name has at most typeNameBudget parts (types named), so that
// self-referring generic parameters cannot make it exponentially long.
func (r *Registry) TypeName(id int) string {
	budget := typeNameBudget
	return r.typeName(id, 0, &budget)
}

const typeNameBudget = 64

func (r *Registry) typeName(id, depth int, budget *int) string {
	t := r.types[id]
	if t == nil {
		return fmt.Sprintf("?%d", id)
	}
	if depth > 8 || *budget <= 0 {
		return "…"
	}
	*budget--
	gen := func(name string) string {
		if len(t.Params) == 0 {
			return name
		}
		ps := make([]string, 0, len(t.Params))
		for _, p := range t.Params {
			if p >= 0 {
				ps = append(ps, r.typeName(p, depth+1, budget))
			}
		}
		if len(ps) == 0 {
			return name
		}
		return name + "<" + strings.Join(ps, ", ") + ">"
	}
	switch t.Kind {
	case KindPrimitive:
		return t.Primitive
	case KindSequence:
		return "Vec<" + r.typeName(t.Elem, depth+1, budget) + ">"
	case KindArray:
		return fmt.Sprintf("[%s; %d]", r.typeName(t.Elem, depth+1, budget), t.Len)
	case KindCompact:
		return "Compact<" + r.typeName(t.Elem, depth+1, budget) + ">"
	case KindTuple:
		ps := make([]string, len(t.Tuple))
		for i, x := range t.Tuple {
			ps[i] = r.typeName(x, depth+1, budget)
		}
		return "(" + strings.Join(ps, ", ") + ")"
	case KindBitSequence:
		return "BitVec"
	}
	if t.last() != "" {
		return gen(t.last())
	}
	return fmt.Sprintf("type%d", id)
}

// ---------------------------------------------------------------------------
// Decoding SCALE to JSON.

// ErrDecode wraps decoding failures.
var ErrDecode = errors.New("decode")

const (
	maxDepth  = 64
	maxOutput = 16 << 20
)

// DecodeJSON decodes one value of type id from r as JSON.
func (r *Registry) DecodeJSON(id int, rd *scale.Reader) (json.RawMessage, error) {
	var buf bytes.Buffer
	if err := r.decode(id, rd, &buf, 0); err != nil {
		return nil, err
	}
	if err := rd.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return buf.Bytes(), nil
}

func writeJSONString(b *bytes.Buffer, s string) {
	q, _ := json.Marshal(s)
	b.Write(q)
}

func writeBig(b *bytes.Buffer, v *big.Int) {
	if v.IsInt64() && v.Int64() < 1<<53 && v.Int64() > -(1<<53) {
		b.WriteString(v.String())
		return
	}
	b.WriteString(`"` + v.String() + `"`)
}

func leToBig(le []byte, signed bool) *big.Int {
	be := make([]byte, len(le))
	for i := range le {
		be[len(le)-1-i] = le[i]
	}
	v := new(big.Int).SetBytes(be)
	if signed && len(le) > 0 && le[len(le)-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*len(le))))
	}
	return v
}

var primSize = map[string]int{"u8": 1, "i8": 1, "u16": 2, "i16": 2, "u32": 4, "i32": 4, "u64": 8, "i64": 8,
	"u128": 16, "i128": 16, "u256": 32, "i256": 32}

func (r *Registry) decode(id int, rd *scale.Reader, b *bytes.Buffer, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: type nesting too deep", ErrDecode)
	}
	if b.Len() > maxOutput {
		return fmt.Errorf("%w: decoded value exceeds %d bytes of JSON", ErrDecode, maxOutput)
	}
	if rd.Err() != nil {
		return fmt.Errorf("%w: %w", ErrDecode, rd.Err())
	}
	t := r.types[id]
	if t == nil {
		return fmt.Errorf("%w: unknown type %d", ErrDecode, id)
	}
	switch t.Kind {
	case KindPrimitive:
		switch p := t.Primitive; p {
		case "bool":
			if rd.Bool() {
				b.WriteString("true")
			} else {
				b.WriteString("false")
			}
		case "str":
			writeJSONString(b, rd.String())
		case "char":
			writeJSONString(b, string(rune(rd.U32())))
		default:
			n, ok := primSize[p]
			if !ok {
				return fmt.Errorf("%w: unknown primitive %q", ErrDecode, p)
			}
			raw := rd.Raw(n)
			if raw == nil {
				return fmt.Errorf("%w: %w", ErrDecode, rd.Err())
			}
			writeBig(b, leToBig(raw, p[0] == 'i'))
		}
	case KindCompact:
		v := rd.CompactU128()
		writeBig(b, v.Big())
	case KindSequence:
		if r.isU8(t.Elem) {
			b.WriteString(`"0x` + hex.EncodeToString(rd.BytesVec()) + `"`)
			break
		}
		n := rd.Len(1)
		b.WriteByte('[')
		for i := 0; i < n; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := r.decode(t.Elem, rd, b, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case KindArray:
		if r.isU8(t.Elem) {
			raw := rd.Raw(int(min(t.Len, 1<<30)))
			b.WriteString(`"0x` + hex.EncodeToString(raw) + `"`)
			break
		}
		if int(t.Len) > rd.Remaining() {
			return fmt.Errorf("%w: array longer than input", ErrDecode)
		}
		b.WriteByte('[')
		for i := 0; i < int(t.Len); i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := r.decode(t.Elem, rd, b, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case KindTuple:
		if len(t.Tuple) == 0 {
			b.WriteString("null")
			break
		}
		b.WriteByte('[')
		for i, x := range t.Tuple {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := r.decode(x, rd, b, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case KindComposite:
		if r.isAccountID(t) {
			raw := rd.Raw(32)
			if raw == nil {
				return fmt.Errorf("%w: %w", ErrDecode, rd.Err())
			}
			writeJSONString(b, EncodeSS58(raw))
			break
		}
		return r.decodeFields(t.Fields, rd, b, depth)
	case KindVariant:
		tag := rd.U8()
		if rd.Err() != nil {
			return fmt.Errorf("%w: %w", ErrDecode, rd.Err())
		}
		var v *Variant
		for i := range t.Variants {
			if t.Variants[i].Index == tag {
				v = &t.Variants[i]
			}
		}
		if v == nil {
			return fmt.Errorf("%w: %s has no variant %d", ErrDecode, r.TypeName(id), tag)
		}
		if r.isOption(t) {
			if len(v.Fields) == 0 {
				b.WriteString("null")
				return nil
			}
			return r.decode(v.Fields[0].Type, rd, b, depth+1)
		}
		if len(v.Fields) == 0 {
			writeJSONString(b, v.Name)
			return nil
		}
		b.WriteByte('{')
		writeJSONString(b, v.Name)
		b.WriteByte(':')
		if err := r.decodeFields(v.Fields, rd, b, depth); err != nil {
			return err
		}
		b.WriteByte('}')
	case KindBitSequence:
		return fmt.Errorf("%w: bit sequences are not supported", ErrDecode)
	}
	return nil
}

// decodeFields writes named fields as an object, one unnamed field as its
// value, several unnamed fields as an array, and none as null.
func (r *Registry) decodeFields(fs []Field, rd *scale.Reader, b *bytes.Buffer, depth int) error {
	switch {
	case len(fs) == 0:
		b.WriteString("null")
	case fs[0].Name != "":
		b.WriteByte('{')
		for i, f := range fs {
			if i > 0 {
				b.WriteByte(',')
			}
			writeJSONString(b, f.Name)
			b.WriteByte(':')
			if err := r.decode(f.Type, rd, b, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	case len(fs) == 1:
		return r.decode(fs[0].Type, rd, b, depth+1)
	default:
		b.WriteByte('[')
		for i, f := range fs {
			if i > 0 {
				b.WriteByte(',')
			}
			if err := r.decode(f.Type, rd, b, depth+1); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	}
	return nil
}

// ---------------------------------------------------------------------------
// Encoding JSON to SCALE.

// ErrEncode wraps encoding failures.
var ErrEncode = errors.New("encode")

// EncodeJSON encodes the JSON value v as type id.
func (r *Registry) EncodeJSON(id int, v json.RawMessage, w *scale.Writer) error {
	d := json.NewDecoder(bytes.NewReader(v))
	d.UseNumber()
	var x any
	if err := d.Decode(&x); err != nil {
		return fmt.Errorf("%w: %w", ErrEncode, err)
	}
	return r.encode(id, x, w, 0)
}

func encErr(t string, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrEncode, t, fmt.Sprintf(format, args...))
}

func toBig(x any) (*big.Int, bool) {
	switch v := x.(type) {
	case json.Number:
		b, ok := new(big.Int).SetString(v.String(), 10)
		return b, ok
	case string:
		s := strings.ReplaceAll(v, "_", "")
		if strings.HasPrefix(s, "0x") {
			return new(big.Int).SetString(s[2:], 16)
		}
		return new(big.Int).SetString(s, 10)
	}
	return nil, false
}

func bytesOf(x any, n int) ([]byte, bool) {
	switch v := x.(type) {
	case string:
		if !strings.HasPrefix(v, "0x") {
			return nil, false
		}
		b, err := hex.DecodeString(v[2:])
		if err != nil || (n >= 0 && len(b) != n) {
			return nil, false
		}
		return b, true
	case []any:
		if n >= 0 && len(v) != n {
			return nil, false
		}
		out := make([]byte, len(v))
		for i, e := range v {
			bi, ok := toBig(e)
			if !ok || bi.Sign() < 0 || bi.BitLen() > 8 {
				return nil, false
			}
			out[i] = byte(bi.Uint64())
		}
		return out, true
	}
	return nil, false
}

func (r *Registry) encode(id int, x any, w *scale.Writer, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("%w: nesting too deep", ErrEncode)
	}
	t := r.types[id]
	if t == nil {
		return fmt.Errorf("%w: unknown type %d", ErrEncode, id)
	}
	name := r.TypeName(id)
	switch t.Kind {
	case KindPrimitive:
		switch p := t.Primitive; p {
		case "bool":
			v, ok := x.(bool)
			if !ok {
				return encErr(name, "want true or false, got %v", x)
			}
			w.Bool(v)
		case "str":
			s, ok := x.(string)
			if !ok {
				return encErr(name, "want a string")
			}
			w.String(s)
		case "char":
			s, ok := x.(string)
			if !ok || len([]rune(s)) != 1 {
				return encErr(name, "want a one-character string")
			}
			w.U32(uint32([]rune(s)[0]))
		default:
			n, ok := primSize[p]
			if !ok {
				return encErr(name, "unknown primitive")
			}
			v, ok := toBig(x)
			if !ok {
				return encErr(name, "want an integer, got %v", x)
			}
			signed := p[0] == 'i'
			bits := uint(8 * n)
			lo, hi := new(big.Int), new(big.Int).Lsh(big.NewInt(1), bits)
			if signed {
				half := new(big.Int).Lsh(big.NewInt(1), bits-1)
				lo.Neg(half)
				hi = half
			}
			if v.Cmp(lo) < 0 || v.Cmp(hi) >= 0 {
				return encErr(name, "%s out of range", v)
			}
			if v.Sign() < 0 {
				v = new(big.Int).Add(v, new(big.Int).Lsh(big.NewInt(1), bits))
			}
			be := v.FillBytes(make([]byte, n))
			for i := n - 1; i >= 0; i-- {
				w.U8(be[i])
			}
		}
	case KindCompact:
		v, ok := toBig(x)
		if !ok || v.Sign() < 0 || v.BitLen() > 128 {
			return encErr(name, "want a non-negative integer below 2^128")
		}
		u, _ := scale.U128FromBig(v)
		w.CompactU128(u)
	case KindSequence:
		if r.isU8(t.Elem) {
			b, ok := bytesOf(x, -1)
			if !ok {
				return encErr(name, "want 0x-hex bytes or an array of bytes")
			}
			w.BytesVec(b)
			break
		}
		arr, ok := x.([]any)
		if !ok {
			return encErr(name, "want an array")
		}
		w.Compact(uint64(len(arr)))
		for _, e := range arr {
			if err := r.encode(t.Elem, e, w, depth+1); err != nil {
				return err
			}
		}
	case KindArray:
		if r.isU8(t.Elem) {
			b, ok := bytesOf(x, int(t.Len))
			if !ok {
				return encErr(name, "want %d bytes as 0x-hex or an array", t.Len)
			}
			w.Raw(b)
			break
		}
		arr, ok := x.([]any)
		if !ok || len(arr) != int(t.Len) {
			return encErr(name, "want an array of %d elements", t.Len)
		}
		for _, e := range arr {
			if err := r.encode(t.Elem, e, w, depth+1); err != nil {
				return err
			}
		}
	case KindTuple:
		if len(t.Tuple) == 0 {
			if arr, ok := x.([]any); x != nil && (!ok || len(arr) != 0) {
				return encErr(name, "want null")
			}
			break
		}
		arr, ok := x.([]any)
		if !ok || len(arr) != len(t.Tuple) {
			return encErr(name, "want an array of %d elements", len(t.Tuple))
		}
		for i, e := range arr {
			if err := r.encode(t.Tuple[i], e, w, depth+1); err != nil {
				return err
			}
		}
	case KindComposite:
		if r.isAccountID(t) {
			s, _ := x.(string)
			if strings.HasPrefix(s, "0x") {
				b, ok := bytesOf(s, 32)
				if !ok {
					return encErr(name, "want 32 bytes of hex")
				}
				w.Raw(b)
				break
			}
			a, err := DecodeSS58(s)
			if err != nil {
				return encErr(name, "want an SS58 address or 0x-hex: %v", err)
			}
			w.Raw(a[:])
			break
		}
		return r.encodeFields(name, t.Fields, x, w, depth)
	case KindVariant:
		if r.isOption(t) {
			if x == nil {
				w.U8(0)
				return nil
			}
			w.U8(1)
			return r.encode(t.Variants[1].Fields[0].Type, x, w, depth+1)
		}
		var vname string
		var payload any
		switch v := x.(type) {
		case string:
			vname = v
		case map[string]any:
			if len(v) != 1 {
				return encErr(name, "want {\"Variant\": fields}")
			}
			for k, p := range v {
				vname, payload = k, p
			}
		default:
			return encErr(name, "want \"Variant\" or {\"Variant\": fields}")
		}
		for _, vv := range t.Variants {
			if vv.Name == vname {
				w.U8(vv.Index)
				if len(vv.Fields) == 0 {
					return nil
				}
				return r.encodeFields(name+"::"+vname, vv.Fields, payload, w, depth)
			}
		}
		return encErr(name, "no variant %q", vname)
	case KindBitSequence:
		return encErr(name, "bit sequences are not supported")
	}
	return nil
}

func (r *Registry) encodeFields(name string, fs []Field, x any, w *scale.Writer, depth int) error {
	switch {
	case len(fs) == 0:
		return nil
	case fs[0].Name != "":
		obj, ok := x.(map[string]any)
		if !ok {
			return encErr(name, "want an object with fields %s", fieldNames(fs))
		}
		if len(obj) != len(fs) {
			return encErr(name, "want exactly the fields %s", fieldNames(fs))
		}
		for _, f := range fs {
			v, ok := obj[f.Name]
			if !ok {
				return encErr(name, "missing field %q", f.Name)
			}
			if err := r.encode(f.Type, v, w, depth+1); err != nil {
				return err
			}
		}
	case len(fs) == 1:
		return r.encode(fs[0].Type, x, w, depth+1)
	default:
		arr, ok := x.([]any)
		if !ok || len(arr) != len(fs) {
			return encErr(name, "want an array of %d elements", len(fs))
		}
		for i, f := range fs {
			if err := r.encode(f.Type, arr[i], w, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func fieldNames(fs []Field) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = strconv.Quote(f.Name)
	}
	return strings.Join(s, ", ")
}
