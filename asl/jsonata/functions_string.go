package jsonata

// String functions: $substring, $pad, $match, $split, $replace, $trim, case, base64 and URL
// encoding.

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

func runes(s string) []rune { return []rune(s) }

// jsSlice is Array.prototype.slice index normalisation.
func jsSliceIndex(f float64, n int) int {
	if math.IsNaN(f) {
		return 0
	}
	f = math.Trunc(f)
	if f < 0 {
		f += float64(n)
		if f < 0 {
			return 0
		}
	}
	if f > float64(n) {
		return n
	}
	return int(f)
}

func strFn(f func(string) string) fnImpl {
	return func(c *call, a []any) (any, *Error) {
		s, ok := str(a[0])
		if !ok {
			return Undefined, nil
		}
		return f(s), nil
	}
}

func urlFn(name string, f func(string) (string, bool)) fnImpl {
	return func(c *call, a []any) (any, *Error) {
		s, ok := str(a[0])
		if !ok {
			return Undefined, nil
		}
		r, ok := f(s)
		if !ok {
			return nil, &Error{Code: "D3140", Token: name, info: &errInfo{value: s}}
		}
		return r, nil
	}
}

// upperSpecial holds the unconditional one-to-many upper-case mappings of Unicode's
// SpecialCasing.txt that JavaScript's toUpperCase applies and Go's per-rune mapping does not.
var upperSpecial = map[rune]string{
	'\u00df': "SS", '\u0149': "\u02bcN", '\u01f0': "J\u030c", '\u0390': "\u0399\u0308\u0301",
	'\u03b0': "\u03a5\u0308\u0301", '\u0587': "\u0535\u0552", '\u1e96': "H\u0331", '\u1e97': "T\u0308",
	'\u1e98': "W\u030a", '\u1e99': "Y\u030a", '\u1e9a': "A\u02be", '\ufb00': "FF", '\ufb01': "FI", '\ufb02': "FL",
	'\ufb03': "FFI", '\ufb04': "FFL", '\ufb05': "ST", '\ufb06': "ST", '\ufb13': "\u0544\u0546",
	'\ufb14': "\u0544\u0535", '\ufb15': "\u0544\u053b", '\ufb16': "\u054e\u0546", '\ufb17': "\u0544\u053d",
}

// jsUpper is String.prototype.toUpperCase.
func jsUpper(s string) string {
	var b strings.Builder
	for _, r := range s {
		if m, ok := upperSpecial[r]; ok {
			b.WriteString(m)
		} else {
			b.WriteRune(unicode.ToUpper(r))
		}
	}
	return b.String()
}

// jsLower is String.prototype.toLowerCase: İ becomes i with a combining dot, and a capital sigma
// at the end of a word becomes a final sigma.
func jsLower(s string) string {
	rs := []rune(s)
	var b strings.Builder
	for i, r := range rs {
		switch {
		case r == 'İ':
			b.WriteString("i\u0307")
		case r == 'Σ' && i > 0 && unicode.IsLetter(rs[i-1]) && (i+1 >= len(rs) || !unicode.IsLetter(rs[i+1])):
			b.WriteRune('ς')
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

func jsTrim(s string) string {
	var b strings.Builder
	inWS := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			if !inWS {
				b.WriteByte(' ')
			}
			inWS = true
			continue
		}
		inWS = false
		b.WriteByte(c)
	}
	r := b.String()
	r = strings.TrimPrefix(r, " ")
	r = strings.TrimSuffix(r, " ")
	return r
}

func fnSubstring(c *call, a []any) (any, *Error) {
	s, ok := str(a[0])
	if !ok {
		return Undefined, nil
	}
	rs := runes(s)
	n := len(rs)
	start, _ := num(a[1])
	if float64(n)+start < 0 {
		start = 0
	}
	if length, ok := num(a[2]); ok {
		if length <= 0 || math.IsNaN(length) {
			return "", nil
		}
		var end float64
		if start >= 0 {
			end = start + length
		} else {
			end = float64(n) + start + length
		}
		i, j := jsSliceIndex(start, n), jsSliceIndex(end, n)
		if j <= i {
			return "", nil
		}
		return string(rs[i:j]), nil
	}
	return string(rs[jsSliceIndex(start, n):]), nil
}

func fnPad(c *call, a []any) (any, *Error) {
	s, ok := str(a[0])
	if !ok {
		return Undefined, nil
	}
	width, _ := num(a[1])
	ch, ok := str(a[2])
	if !ok || ch == "" {
		ch = " "
	}
	padLen := math.Abs(width) - float64(utf8.RuneCountInString(s))
	if !(padLen > 0) {
		return s, nil
	}
	if padLen > maxStringBytes {
		return nil, &Error{Code: "U1003"}
	}
	if padLen != math.Trunc(padLen) {
		// JavaScript's new Array(n) throws a RangeError for a fractional length
		return nil, &Error{Code: "D3001", info: &errInfo{message: "The padding length must be an integer"}}
	}
	n := int(padLen)
	if err := c.ev.charge(n); err != nil {
		return nil, err
	}
	cr := runes(ch)
	pad := make([]rune, 0, n)
	for len(pad) < n {
		pad = append(pad, cr...)
	}
	pad = pad[:n]
	if width > 0 {
		return s + string(pad), nil
	}
	return string(pad) + s, nil
}

func fnMatch(c *call, a []any) (any, *Error) {
	s, ok := str(a[0])
	if !ok {
		return Undefined, nil
	}
	limit, hasLimit := num(a[2])
	if hasLimit && limit < 0 {
		return nil, &Error{Code: "D3040", info: &errInfo{value: limit}}
	}
	res := newSeq()
	if hasLimit && !(limit > 0) {
		return res, nil
	}
	m, err := c.matcherFor(a[1])(s)
	if err != nil {
		return nil, err
	}
	count := 0.0
	for m != nil && (!hasLimit || count < limit) {
		o := newObject()
		o.set("match", m.match)
		o.set("index", float64(utf16Index(s, m.start)))
		o.set("groups", newArray(m.groups))
		res.items = append(res.items, o)
		m, err = m.next()
		if err != nil {
			return nil, err
		}
		count++
	}
	return res, nil
}

func fnSplit(c *call, a []any) (any, *Error) {
	s, ok := str(a[0])
	if !ok {
		return Undefined, nil
	}
	limit, hasLimit := num(a[2])
	if hasLimit && limit < 0 {
		return nil, &Error{Code: "D3020", info: &errInfo{value: limit}}
	}
	var out []any
	if hasLimit && !(limit > 0) {
		return newArray(out), nil
	}
	if sep, ok := str(a[1]); ok {
		var parts []string
		if sep == "" {
			for _, u := range utf16.Encode([]rune(s)) {
				parts = append(parts, string(utf16.Decode([]uint16{u})))
			}
		} else {
			parts = strings.Split(s, sep)
		}
		if hasLimit {
			lim := int(math.Min(math.Floor(limit), 4294967295))
			if lim < len(parts) {
				parts = parts[:lim]
			}
		}
		for _, p := range parts {
			out = append(out, p)
		}
		return newArray(out), nil
	}
	m, err := c.matcherFor(a[1])(s)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return newArray([]any{s}), nil
	}
	start := 0
	count := 0.0
	for m != nil && (!hasLimit || count < limit) {
		out = append(out, substr(s, start, m.start))
		start = m.end
		m, err = m.next()
		if err != nil {
			return nil, err
		}
		count++
	}
	if !hasLimit || count < limit {
		out = append(out, substr(s, start, len(s)))
	}
	return newArray(out), nil
}

// jsClosureSource is the source text of the closure jsonata-js 2.0.6 wraps a function argument
// in, which is what a function turns into where it is used as a string.
const jsClosureSource = "async function (...params) {\n                    // invoke func\n                    return await apply(arg, params, null, environment);\n                }"

// substr is JavaScript's substring on byte offsets.
func substr(s string, i, j int) string {
	if i > j {
		i, j = j, i
	}
	if i < 0 {
		i = 0
	}
	if j > len(s) {
		j = len(s)
	}
	return s[i:j]
}

func fnReplace(c *call, a []any) (any, *Error) {
	s, ok := str(a[0])
	if !ok {
		return Undefined, nil
	}
	if p, ok := str(a[1]); ok && p == "" {
		return nil, &Error{Code: "D3010", info: &errInfo{value: p}}
	}
	limit, hasLimit := num(a[3])
	if hasLimit && limit < 0 {
		return nil, &Error{Code: "D3011", info: &errInfo{value: limit}}
	}
	if hasLimit && !(limit > 0) {
		return s, nil
	}
	if p, ok := str(a[1]); ok {
		repl, _ := str(a[2])
		if !ok {
			repl = ""
		}
		if f := a[2]; isFunction(f) {
			// jsonata-js concatenates the source text of the closure it wraps function
			// arguments in
			repl = jsClosureSource
		}
		var b strings.Builder
		pos := 0
		count := 0.0
		for {
			if hasLimit && count >= limit {
				break
			}
			i := strings.Index(s[pos:], p)
			if i < 0 {
				break
			}
			b.WriteString(s[pos : pos+i])
			b.WriteString(repl)
			if b.Len() > maxStringBytes {
				return nil, &Error{Code: "U1003"}
			}
			pos += i + len(p)
			count++
		}
		b.WriteString(s[pos:])
		return b.String(), nil
	}
	m, err := c.matcherFor(a[1])(s)
	if err != nil {
		return nil, err
	}
	if m == nil {
		return s, nil
	}
	var b strings.Builder
	pos := 0
	count := 0.0
	for m != nil && (!hasLimit || count < limit) {
		b.WriteString(substr(s, pos, m.start))
		var r string
		if rs, ok := str(a[2]); ok {
			r = expandReplacement(rs, m)
		} else {
			v, err := c.callFn(a[2], m.toObject(s))
			if err != nil {
				return nil, err
			}
			rs, ok := v.(string)
			if !ok {
				return nil, &Error{Code: "D3012", info: &errInfo{value: v}}
			}
			r = rs
		}
		b.WriteString(r)
		if err := c.ev.chargeString(b.Len()); err != nil {
			return nil, err
		}
		pos = m.start + len(m.match)
		count++
		m, err = m.next()
		if err != nil {
			return nil, err
		}
	}
	b.WriteString(substr(s, pos, len(s)))
	return b.String(), nil
}

// expandReplacement substitutes $0, $1.. and $$ in a replacement string as jsonata-js does.
func expandReplacement(repl string, m *matchResult) string {
	var b strings.Builder
	pos := 0
	idx := strings.IndexByte(repl, '$')
	ng := len(m.groups)
	for idx >= 0 && pos < len(repl) {
		b.WriteString(repl[pos:idx])
		pos = idx + 1
		var dv byte
		if pos < len(repl) {
			dv = repl[pos]
		}
		switch {
		case dv == '$':
			b.WriteByte('$')
			pos++
		case dv == '0':
			b.WriteString(m.match)
			pos++
		default:
			maxDigits := 1
			if ng > 0 {
				maxDigits = int(math.Floor(math.Log(float64(ng))*math.Log10E)) + 1
			}
			index, ok := parseLeadingInt(repl[pos:min(pos+maxDigits, len(repl))])
			if ok && maxDigits > 1 && index > ng {
				index, ok = parseLeadingInt(repl[pos:min(pos+maxDigits-1, len(repl))])
			}
			if ok {
				if ng > 0 && index >= 1 && index <= ng {
					if g, ok := m.groups[index-1].(string); ok {
						b.WriteString(g)
					}
				}
				pos += len(strconv.Itoa(index))
			} else {
				b.WriteByte('$')
			}
		}
		next := strings.IndexByte(repl[min(pos, len(repl)):], '$')
		if next < 0 {
			idx = -1
		} else {
			idx = pos + next
		}
	}
	if pos < len(repl) {
		b.WriteString(repl[pos:])
	}
	return b.String()
}

// parseLeadingInt is parseInt(s, 10) for the digits at the start of s.
func parseLeadingInt(s string) (int, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, _ := strconv.Atoi(s[:i])
	return n, true
}

func base64DecodeLenient(s string) string {
	var clean []byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		} else if c == '-' {
			clean = append(clean, '+')
		} else if c == '_' {
			clean = append(clean, '/')
		} else if c == '=' {
			break
		}
	}
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	b, err := base64.RawStdEncoding.DecodeString(string(clean))
	if err != nil {
		return ""
	}
	// Node's Buffer.toString('binary'): each byte is one character.
	rs := make([]rune, len(b))
	for i, c := range b {
		rs[i] = rune(c)
	}
	return string(rs)
}

// latin1Bytes is Node's Buffer.from(s, 'binary'): the low byte of each UTF-16 code unit, which is
// how jsonata-js 2.0.6 encodes a string for $base64encode.
func latin1Bytes(s string) []byte {
	units := utf16.Encode([]rune(s))
	b := make([]byte, len(units))
	for i, u := range units {
		b[i] = byte(u)
	}
	return b
}

const (
	uriUnreservedComponent = "-_.!~*'()"
	uriUnreservedFull      = "-_.!~*'();/?:@&=+$,#"
)

func jsEncodeURI(s string, keep string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || strings.IndexByte(keep, c) >= 0 {
				b.WriteByte(c)
			} else {
				b.WriteString("%" + strings.ToUpper(hex2(c)))
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return "", false
		}
		for j := 0; j < size; j++ {
			b.WriteString("%" + strings.ToUpper(hex2(s[i+j])))
		}
		i += size
	}
	return b.String(), true
}

func hex2(c byte) string { return string([]byte{hexDigits[c>>4], hexDigits[c&0xf]}) }

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// jsDecodeURI is decodeURIComponent (reserved == "") or decodeURI (escapes of reserved characters
// are kept).
func jsDecodeURI(s string, reserved string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] != '%' {
			b.WriteByte(s[i])
			i++
			continue
		}
		readByte := func(at int) (byte, bool) {
			if at+2 >= len(s)+0 && at+2 > len(s)-1+1 {
				return 0, false
			}
			if at+2 >= len(s)+1 || s[at] != '%' {
				return 0, false
			}
			h, ok1 := unhex(s[at+1])
			l, ok2 := unhex(s[at+2])
			if !ok1 || !ok2 {
				return 0, false
			}
			return h<<4 | l, true
		}
		if i+2 >= len(s) {
			return "", false
		}
		c, ok := readByte(i)
		if !ok {
			return "", false
		}
		if c < 0x80 {
			if strings.IndexByte(reserved, c) >= 0 {
				b.WriteString(s[i : i+3])
			} else {
				b.WriteByte(c)
			}
			i += 3
			continue
		}
		n := 0
		switch {
		case c&0xe0 == 0xc0:
			n = 2
		case c&0xf0 == 0xe0:
			n = 3
		case c&0xf8 == 0xf0:
			n = 4
		default:
			return "", false
		}
		buf := []byte{c}
		for k := 1; k < n; k++ {
			at := i + 3*k
			if at+2 >= len(s) {
				return "", false
			}
			cc, ok := readByte(at)
			if !ok || cc&0xc0 != 0x80 {
				return "", false
			}
			buf = append(buf, cc)
		}
		r, size := utf8.DecodeRune(buf)
		if r == utf8.RuneError || size != n {
			return "", false
		}
		b.Write(buf)
		i += 3 * n
	}
	return b.String(), true
}
