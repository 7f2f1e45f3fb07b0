package jsonata

import (
	"math"
	"strings"
	"unicode/utf8"
)

// fnString is $string: strings are returned as they are, functions become "", other values are
// JSON with every number rounded to 15 significant digits (jsonata-js's JSON.stringify replacer).
func fnString(v any, pretty bool) (string, *Error) {
	switch t := v.(type) {
	case string:
		return t, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return "", &Error{Code: "D3001", info: &errInfo{value: t}}
		}
	}
	if isFunction(v) {
		return "", nil
	}
	if a, ok := v.(*array); ok && a.outerWrapper && len(a.items) > 0 {
		v = a.items[0]
	}
	return stringify(v, pretty)
}

func stringify(v any, pretty bool) (string, *Error) {
	var b strings.Builder
	budget := maxResultNodes
	if !countNodes(v, &budget) {
		return "", &Error{Code: "U1003"}
	}
	budget = maxResultNodes
	if err := writeJSON(&b, v, pretty, "", &budget); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeJSON(b *strings.Builder, v any, pretty bool, indent string, budget *int) *Error {
	*budget--
	if b.Len() > maxStringBytes || *budget < 0 {
		return &Error{Code: "U1003"}
	}
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case float64:
		if math.IsInf(t, 0) {
			return &Error{Code: "D1001", info: &errInfo{value: t}}
		}
		if math.IsNaN(t) {
			b.WriteString("null")
			return nil
		}
		b.WriteString(formatNumber(toPrecision15(t)))
	case string:
		writeJSONString(b, t)
	case *array:
		if len(t.items) == 0 {
			b.WriteString("[]")
			return nil
		}
		b.WriteByte('[')
		inner := indent + "  "
		for i, e := range t.items {
			if i > 0 {
				b.WriteByte(',')
			}
			if pretty {
				b.WriteByte('\n')
				b.WriteString(inner)
			}
			if isUndef(e) {
				b.WriteString("null")
				continue
			}
			if err := writeJSON(b, e, pretty, inner, budget); err != nil {
				return err
			}
		}
		if pretty {
			b.WriteByte('\n')
			b.WriteString(indent)
		}
		b.WriteByte(']')
	case *object:
		inner := indent + "  "
		n := 0
		b.WriteByte('{')
		for i, k := range t.keys {
			e := t.vals[i]
			if isUndef(e) {
				continue
			}
			if n > 0 {
				b.WriteByte(',')
			}
			n++
			if pretty {
				b.WriteByte('\n')
				b.WriteString(inner)
			}
			writeJSONString(b, k)
			b.WriteByte(':')
			if pretty {
				b.WriteByte(' ')
			}
			if err := writeJSON(b, e, pretty, inner, budget); err != nil {
				return err
			}
		}
		if pretty && n > 0 {
			b.WriteByte('\n')
			b.WriteString(indent)
		}
		b.WriteByte('}')
	case undefinedType:
		b.WriteString("null")
	default:
		if isFunction(v) {
			b.WriteString(`""`)
			return nil
		}
		b.WriteString("null")
	}
	return nil
}

// countNodes counts the values in v, shared ones each time they appear, and reports whether they
// fit the budget. It allocates nothing, so a value that expands exponentially is refused quickly.
func countNodes(v any, budget *int) bool {
	*budget--
	if *budget < 0 {
		return false
	}
	switch t := v.(type) {
	case *array:
		for _, e := range t.items {
			if !countNodes(e, budget) {
				return false
			}
		}
	case *object:
		for i := range t.keys {
			if !countNodes(t.vals[i], budget) {
				return false
			}
		}
	}
	return true
}

const hexDigits = "0123456789abcdef"

// writeJSONString escapes as JSON.stringify does.
func writeJSONString(b *strings.Builder, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch c {
			case '"':
				b.WriteString(`\"`)
			case '\\':
				b.WriteString(`\\`)
			case '\n':
				b.WriteString(`\n`)
			case '\r':
				b.WriteString(`\r`)
			case '\t':
				b.WriteString(`\t`)
			case '\b':
				b.WriteString(`\b`)
			case '\f':
				b.WriteString(`\f`)
			default:
				if c < 0x20 {
					b.WriteString(`\u00`)
					b.WriteByte(hexDigits[c>>4])
					b.WriteByte(hexDigits[c&0xf])
				} else {
					b.WriteByte(c)
				}
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\ufffd`)
		} else {
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	b.WriteByte('"')
}
