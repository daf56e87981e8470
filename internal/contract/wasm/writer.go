package wasm

// AppendU32 appends v as an unsigned LEB128.
func AppendU32(b []byte, v uint32) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if v != 0 {
			b = append(b, c|0x80)
			continue
		}
		return append(b, c)
	}
}

// AppendS64 appends v as a signed LEB128 (also valid for i32 values).
func AppendS64(b []byte, v int64) []byte {
	for {
		c := byte(v & 0x7F)
		v >>= 7
		if (v == 0 && c&0x40 == 0) || (v == -1 && c&0x40 != 0) {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

func appendName(b []byte, s string) []byte {
	b = AppendU32(b, uint32(len(s)))
	return append(b, s...)
}

func appendLimits(b []byte, l Limits) []byte {
	if l.HasMax {
		b = append(b, 1)
		b = AppendU32(b, l.Min)
		return AppendU32(b, l.Max)
	}
	b = append(b, 0)
	return AppendU32(b, l.Min)
}

func appendGlobalType(b []byte, g GlobalType) []byte {
	b = append(b, byte(g.Type))
	if g.Mutable {
		return append(b, 1)
	}
	return append(b, 0)
}

func appendSection(out []byte, id byte, payload []byte) []byte {
	out = append(out, id)
	out = AppendU32(out, uint32(len(payload)))
	return append(out, payload...)
}

// Encode writes m as a binary module. Custom sections are written only when
// keepCustom is set (they go at the end).
func Encode(m *Module, keepCustom bool) []byte {
	out := []byte("\x00asm\x01\x00\x00\x00")
	var p []byte
	if len(m.Types) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Types)))
		for _, t := range m.Types {
			p = append(p, 0x60)
			p = AppendU32(p, uint32(len(t.Params)))
			for _, v := range t.Params {
				p = append(p, byte(v))
			}
			p = AppendU32(p, uint32(len(t.Results)))
			for _, v := range t.Results {
				p = append(p, byte(v))
			}
		}
		out = appendSection(out, SecType, p)
	}
	if len(m.Imports) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Imports)))
		for _, im := range m.Imports {
			p = appendName(p, im.Module)
			p = appendName(p, im.Name)
			p = append(p, im.Kind)
			switch im.Kind {
			case KindFunc:
				p = AppendU32(p, im.TypeIndex)
			case KindTable:
				p = append(p, byte(im.Table.Elem))
				p = appendLimits(p, im.Table.Limits)
			case KindMemory:
				p = appendLimits(p, im.Memory)
			case KindGlobal:
				p = appendGlobalType(p, im.Global)
			}
		}
		out = appendSection(out, SecImport, p)
	}
	if len(m.Funcs) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Funcs)))
		for _, f := range m.Funcs {
			p = AppendU32(p, f)
		}
		out = appendSection(out, SecFunction, p)
	}
	if len(m.Tables) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Tables)))
		for _, t := range m.Tables {
			p = append(p, byte(t.Elem))
			p = appendLimits(p, t.Limits)
		}
		out = appendSection(out, SecTable, p)
	}
	if len(m.Memories) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Memories)))
		for _, l := range m.Memories {
			p = appendLimits(p, l)
		}
		out = appendSection(out, SecMemory, p)
	}
	if len(m.Globals) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Globals)))
		for _, g := range m.Globals {
			p = appendGlobalType(p, g.Type)
			p = append(p, g.Init...)
		}
		out = appendSection(out, SecGlobal, p)
	}
	if len(m.Exports) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Exports)))
		for _, e := range m.Exports {
			p = appendName(p, e.Name)
			p = append(p, e.Kind)
			p = AppendU32(p, e.Index)
		}
		out = appendSection(out, SecExport, p)
	}
	if m.Start != nil {
		out = appendSection(out, SecStart, AppendU32(p[:0], *m.Start))
	}
	if m.Elements != nil {
		out = appendSection(out, SecElement, m.Elements)
	}
	if m.DataCount != nil {
		out = appendSection(out, SecDataCount, AppendU32(p[:0], *m.DataCount))
	}
	if len(m.Codes) > 0 {
		p = AppendU32(p[:0], uint32(len(m.Codes)))
		var body []byte
		for _, c := range m.Codes {
			body = AppendU32(body[:0], uint32(len(c.Locals)))
			for _, l := range c.Locals {
				body = AppendU32(body, l.Count)
				body = append(body, byte(l.Type))
			}
			body = append(body, c.Expr...)
			p = AppendU32(p, uint32(len(body)))
			p = append(p, body...)
		}
		out = appendSection(out, SecCode, p)
	}
	if m.Data != nil {
		out = appendSection(out, SecData, m.Data)
	}
	if keepCustom {
		for _, c := range m.Customs {
			p = appendName(p[:0], c.Name)
			p = append(p, c.Data...)
			out = appendSection(out, SecCustom, p)
		}
	}
	return out
}
