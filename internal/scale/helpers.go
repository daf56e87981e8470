package scale

import "fmt"

// Enum writes an enum variant index (a single byte, as #[derive(Encode)] does
// for enums with fewer than 256 variants).
func (w *Writer) Enum(tag uint8) { w.U8(tag) }

// Enum reads an enum variant index and records ErrInvalid when it is greater
// than max (the highest valid index). After an error it returns 0.
func (r *Reader) Enum(max uint8) uint8 {
	t := r.U8()
	if r.err != nil {
		return 0
	}
	if t > max {
		r.Fail(fmt.Errorf("%w: enum variant %d (max %d)", ErrInvalid, t, max))
		return 0
	}
	return t
}

// ResultOk writes the Ok tag (0) of a Result<T, E>; the caller then writes T.
func (w *Writer) ResultOk() { w.U8(0) }

// ResultErr writes the Err tag (1) of a Result<T, E>; the caller then writes E.
func (w *Writer) ResultErr() { w.U8(1) }

// Result reads the tag of a Result<T, E> and reports whether it is Ok. Any tag
// other than 0 or 1 is ErrInvalid. The caller reads T when ok is true and E
// otherwise, after checking Err if it needs to tell Err from a failure.
func (r *Reader) Result() (ok bool) {
	switch r.U8() {
	case 0:
		return r.err == nil
	case 1:
		return false
	default:
		r.Fail(fmt.Errorf("%w: result tag", ErrInvalid))
		return false
	}
}

// OptionBool writes parity-scale-codec's OptionBool: one byte, 0 for None,
// 1 for Some(true), 2 for Some(false). (A plain Option<bool> is two bytes:
// OptionSome followed by Bool.)
func (w *Writer) OptionBool(v *bool) {
	switch {
	case v == nil:
		w.U8(0)
	case *v:
		w.U8(1)
	default:
		w.U8(2)
	}
}

// OptionBool reads parity-scale-codec's one-byte OptionBool; nil is None.
func (r *Reader) OptionBool() *bool {
	var v bool
	switch r.U8() {
	case 0:
		return nil
	case 1:
		v = true
	case 2:
		v = false
	default:
		r.Fail(fmt.Errorf("%w: OptionBool", ErrInvalid))
		return nil
	}
	if r.err != nil {
		return nil
	}
	return &v
}

// WriteVec writes a Vec<T>: a compact length followed by each item encoded by enc.
func WriteVec[T any](w *Writer, items []T, enc func(*Writer, T)) {
	w.Compact(uint64(len(items)))
	for _, it := range items {
		enc(w, it)
	}
}

// ReadVec reads a Vec<T> whose items are decoded by dec. elemMin is the
// smallest encoded size of one item; it bounds the length prefix against the
// remaining input so that a hostile prefix cannot force a large allocation.
// It returns nil on error; an empty vector decodes to an empty, non-nil slice.
func ReadVec[T any](r *Reader, elemMin int, dec func(*Reader) T) []T {
	n := r.Len(elemMin)
	if r.err != nil {
		return nil
	}
	out := make([]T, 0, n)
	for i := 0; i < n; i++ {
		v := dec(r)
		if r.err != nil {
			return nil
		}
		out = append(out, v)
	}
	return out
}

// WriteOption writes an Option<T>: None when v is nil, otherwise Some and *v
// encoded by enc.
func WriteOption[T any](w *Writer, v *T, enc func(*Writer, T)) {
	if v == nil {
		w.OptionNone()
		return
	}
	w.OptionSome()
	enc(w, *v)
}

// ReadOption reads an Option<T> decoded by dec; nil is None (or an error).
func ReadOption[T any](r *Reader, dec func(*Reader) T) *T {
	if !r.Option() {
		return nil
	}
	v := dec(r)
	if r.err != nil {
		return nil
	}
	return &v
}
