// Package jsonv holds JSON values as Step Functions sees them: objects keep their key order and
// numbers keep their text (DESIGN.md, "Data is ordered and exact"). States.JsonToString, States.Hash
// and JSONata's $string and $keys all depend on both, so every part of the ASL interpreter works on
// these values instead of encoding/json's maps and float64s.
//
// A value is one of: nil (null), bool, [Number], string, []any (array), *[Object].
package jsonv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"unicode/utf8"
)

// Number is a JSON number kept as its exact text.
type Number string

// Float64 parses the number.
func (n Number) Float64() (float64, error) { return strconv.ParseFloat(string(n), 64) }

// Int64 returns the number as an integer if its value is integral and fits.
func (n Number) Int64() (int64, bool) {
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i, true
	}
	f, err := n.Float64()
	if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int64(f), true
}

// NumberFromFloat formats f the way JavaScript's Number.prototype.toString does for the common range
// (shortest round-trip digits, exponent form only for very large or small magnitudes), so numbers that
// Duro computes print as they do on AWS. NaN and infinities have no JSON form; callers must reject them.
func NumberFromFloat(f float64) Number {
	if f == 0 {
		return "0"
	}
	abs := math.Abs(f)
	if abs >= 1e21 || abs < 1e-6 {
		s := strconv.FormatFloat(f, 'e', -1, 64)
		// Go prints e+21 / e-07; JavaScript prints e+21 / e-7.
		mant, exp, _ := cutByte(s, 'e')
		sign := exp[0]
		digits := exp[1:]
		for len(digits) > 1 && digits[0] == '0' {
			digits = digits[1:]
		}
		return Number(mant + "e" + string(sign) + digits)
	}
	return Number(strconv.FormatFloat(f, 'f', -1, 64))
}

// NumberFromInt formats an integer.
func NumberFromInt(i int64) Number { return Number(strconv.FormatInt(i, 10)) }

func cutByte(s string, b byte) (string, string, bool) {
	if i := bytes.IndexByte([]byte(s), b); i >= 0 {
		return s[:i], s[i+1:], true
	}
	return s, "", false
}

// Object is a JSON object that remembers the order its keys were first set in.
type Object struct {
	keys []string
	m    map[string]any
}

// NewObject returns an empty object.
func NewObject() *Object { return &Object{m: map[string]any{}} }

// Get returns the value of key k.
func (o *Object) Get(k string) (any, bool) {
	v, ok := o.m[k]
	return v, ok
}

// Set sets key k; an existing key keeps its position, a new one goes last.
func (o *Object) Set(k string, v any) {
	if _, ok := o.m[k]; !ok {
		o.keys = append(o.keys, k)
	}
	o.m[k] = v
}

// Delete removes key k if present.
func (o *Object) Delete(k string) {
	if _, ok := o.m[k]; !ok {
		return
	}
	delete(o.m, k)
	for i, key := range o.keys {
		if key == k {
			o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
			break
		}
	}
}

// Keys returns the keys in order. The slice must not be modified.
func (o *Object) Keys() []string { return o.keys }

// Len returns the number of keys.
func (o *Object) Len() int { return len(o.keys) }

// ErrSyntax is wrapped by every Parse error.
var ErrSyntax = errors.New("invalid JSON")

// Parse decodes one JSON text. Trailing non-space data is an error. A duplicate key keeps its first
// position and its last value, as JavaScript's JSON.parse does.
//
// Valid input (json.Valid, the standard library's own checker) is decoded by a direct scanner,
// several times faster than a token stream; strings are unescaped exactly as encoding/json
// unescapes them. Invalid input goes through the token stream for its error message.
func Parse(data []byte) (any, error) {
	if json.Valid(data) {
		p := fastParser{data: data}
		return p.value(), nil
	}
	return parseTokens(data)
}

// parseTokens is Parse on encoding/json's token stream.
func parseTokens(data []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	v, err := parseValue(dec)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: unexpected data after the value", ErrSyntax)
	}
	return v, nil
}

func parseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := NewObject()
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("object key is not a string")
				}
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				obj.Set(key, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return obj, nil
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := parseValue(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, err
			}
			return arr, nil
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		return Number(t), nil
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// fastParser decodes a JSON text already known to be valid.
type fastParser struct {
	data []byte
	pos  int
}

func (p *fastParser) skipSpace() {
	for p.pos < len(p.data) {
		switch p.data[p.pos] {
		case ' ', '\t', '\n', '\r':
			p.pos++
		default:
			return
		}
	}
}

func (p *fastParser) value() any {
	p.skipSpace()
	switch c := p.data[p.pos]; c {
	case '{':
		p.pos++
		obj := NewObject()
		p.skipSpace()
		if p.data[p.pos] == '}' {
			p.pos++
			return obj
		}
		for {
			p.skipSpace()
			key := p.str()
			p.skipSpace()
			p.pos++ // ':'
			obj.Set(key, p.value())
			p.skipSpace()
			c := p.data[p.pos]
			p.pos++
			if c == '}' {
				return obj
			}
		}
	case '[':
		p.pos++
		arr := []any{}
		p.skipSpace()
		if p.data[p.pos] == ']' {
			p.pos++
			return arr
		}
		for {
			arr = append(arr, p.value())
			p.skipSpace()
			c := p.data[p.pos]
			p.pos++
			if c == ']' {
				return arr
			}
		}
	case '"':
		return p.str()
	case 't':
		p.pos += 4
		return true
	case 'f':
		p.pos += 5
		return false
	case 'n':
		p.pos += 4
		return nil
	default:
		start := p.pos
		for p.pos < len(p.data) {
			switch p.data[p.pos] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return Number(p.data[start:p.pos])
			}
			p.pos++
		}
		return Number(p.data[start:p.pos])
	}
}

// str decodes the string at pos: a plain one directly, one with escapes or bytes that are not
// UTF-8 through encoding/json, whose replacement rules it must share.
func (p *fastParser) str() string {
	start := p.pos
	p.pos++
	plain := true
	for {
		c := p.data[p.pos]
		if c == '"' {
			break
		}
		if c == '\\' {
			plain = false
			p.pos += 2
			continue
		}
		if c >= utf8.RuneSelf {
			plain = false
		}
		p.pos++
	}
	p.pos++
	raw := p.data[start:p.pos]
	if plain || (utf8.Valid(raw) && !bytes.ContainsRune(raw, '\\')) {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return string(raw[1 : len(raw)-1]) // unreachable: json.Valid accepted the string
	}
	return s
}

// Marshal encodes v compactly, keeping key order and number text. Strings are escaped as
// JavaScript's JSON.stringify escapes them (no HTML escaping). It panics on a value that is not a
// jsonv value: that is a programming error, not bad input.
func Marshal(v any) []byte {
	var b bytes.Buffer
	write(&b, v)
	return b.Bytes()
}

// String is Marshal as a string.
func String(v any) string { return string(Marshal(v)) }

func write(b *bytes.Buffer, v any) {
	switch t := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if t {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case Number:
		b.WriteString(string(t))
	case string:
		writeString(b, t)
	case []any:
		b.WriteByte('[')
		for i, e := range t {
			if i > 0 {
				b.WriteByte(',')
			}
			write(b, e)
		}
		b.WriteByte(']')
	case *Object:
		b.WriteByte('{')
		for i, k := range t.keys {
			if i > 0 {
				b.WriteByte(',')
			}
			writeString(b, k)
			b.WriteByte(':')
			write(b, t.m[k])
		}
		b.WriteByte('}')
	default:
		panic(fmt.Sprintf("jsonv: not a JSON value: %T", v))
	}
}

const hexDigits = "0123456789abcdef"

func writeString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"':
				b.WriteString(`\"`)
			case c == '\\':
				b.WriteString(`\\`)
			case c == '\n':
				b.WriteString(`\n`)
			case c == '\r':
				b.WriteString(`\r`)
			case c == '\t':
				b.WriteString(`\t`)
			case c == '\b':
				b.WriteString(`\b`)
			case c == '\f':
				b.WriteString(`\f`)
			case c < 0x20:
				b.WriteString(`\u00`)
				b.WriteByte(hexDigits[c>>4])
				b.WriteByte(hexDigits[c&0xf])
			default:
				b.WriteByte(c)
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

// Equal reports deep equality; numbers compare by value, objects ignore key order.
func Equal(a, b any) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case Number:
		y, ok := b.(Number)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		fx, err1 := x.Float64()
		fy, err2 := y.Float64()
		return err1 == nil && err2 == nil && fx == fy
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case *Object:
		y, ok := b.(*Object)
		if !ok || x.Len() != y.Len() {
			return false
		}
		for _, k := range x.keys {
			yv, ok := y.m[k]
			if !ok || !Equal(x.m[k], yv) {
				return false
			}
		}
		return true
	}
	return false
}

// Clone returns a deep copy of v.
func Clone(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = Clone(e)
		}
		return out
	case *Object:
		out := &Object{keys: append([]string(nil), t.keys...), m: make(map[string]any, len(t.m))}
		for k, e := range t.m {
			out.m[k] = Clone(e)
		}
		return out
	}
	return v
}
