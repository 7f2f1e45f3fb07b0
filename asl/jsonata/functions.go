package jsonata

import (
	"encoding/base64"
	"math"
	"strconv"
	"strings"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
)

type fnImpl = func(c *call, args []any) (any, *Error)

// def declares a built-in: its name, signature, JavaScript Function.length (arity) and declared
// parameter count.
func def(name, sig string, arity, nparams int, fn fnImpl) *builtin {
	var s *signature
	if sig != "" {
		s = mustSig(sig)
	}
	return &builtin{name: name, sig: s, arity: arity, nparams: nparams, fn: fn}
}

var (
	tablesOnce sync.Once
	stdTable   map[string]*builtin
	sfnTable   map[string]*builtin
)

func builtinTable(sfn bool) map[string]*builtin {
	tablesOnce.Do(func() {
		stdTable = map[string]*builtin{}
		for _, b := range standardFunctions() {
			stdTable[b.name] = b
		}
		sfnTable = map[string]*builtin{}
		for k, v := range stdTable {
			sfnTable[k] = v
		}
		for _, b := range stepFunctionsFunctions() {
			sfnTable[b.name] = b
		}
	})
	if sfn {
		return sfnTable
	}
	return stdTable
}

func str(v any) (string, bool) { s, ok := v.(string); return s, ok }

func num(v any) (float64, bool) { f, ok := v.(float64); return f, ok }

func arr(v any) *array {
	if a, ok := v.(*array); ok {
		return a
	}
	if isUndef(v) {
		return nil
	}
	return newArray([]any{v})
}

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

func standardFunctions() []*builtin {
	return []*builtin{
		def("sum", "<a<n>:n>", 1, 1, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			if x == nil {
				return Undefined, nil
			}
			t := 0.0
			for _, v := range x.items {
				t += v.(float64)
			}
			return t, nil
		}),
		def("count", "<a:n>", 1, 1, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			if x == nil {
				return 0.0, nil
			}
			return float64(len(x.items)), nil
		}),
		def("max", "<a<n>:n>", 1, 1, func(c *call, a []any) (any, *Error) { return extreme(a[0], 1) }),
		def("min", "<a<n>:n>", 1, 1, func(c *call, a []any) (any, *Error) { return extreme(a[0], -1) }),
		def("average", "<a<n>:n>", 1, 1, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			if x == nil || len(x.items) == 0 {
				return Undefined, nil
			}
			t := 0.0
			for _, v := range x.items {
				t += v.(float64)
			}
			return t / float64(len(x.items)), nil
		}),
		def("string", "<x-b?:s>", 1, 2, func(c *call, a []any) (any, *Error) {
			if isUndef(a[0]) {
				return Undefined, nil
			}
			pretty, _ := a[1].(bool)
			s, err := fnString(a[0], pretty)
			if err != nil {
				return nil, err
			}
			return s, nil
		}),
		def("substring", "<s-nn?:s>", 3, 3, fnSubstring),
		def("substringBefore", "<s-s:s>", 2, 2, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			chars, _ := str(a[1])
			if i := strings.Index(s, chars); i >= 0 {
				return s[:i], nil
			}
			return s, nil
		}),
		def("substringAfter", "<s-s:s>", 2, 2, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			chars, _ := str(a[1])
			if i := strings.Index(s, chars); i >= 0 {
				return s[i+len(chars):], nil
			}
			return s, nil
		}),
		def("lowercase", "<s-:s>", 1, 1, strFn(strings.ToLower)),
		def("uppercase", "<s-:s>", 1, 1, strFn(jsUpper)),
		def("length", "<s-:n>", 1, 1, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			return float64(utf8.RuneCountInString(s)), nil
		}),
		def("trim", "<s-:s>", 1, 1, strFn(jsTrim)),
		def("pad", "<s-ns?:s>", 3, 3, fnPad),
		def("match", "<s-f<s:o>n?:a<o>>", 3, 3, fnMatch),
		def("contains", "<s-(sf):b>", 2, 2, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			if t, ok := str(a[1]); ok {
				return strings.Contains(s, t), nil
			}
			m, err := c.matcherFor(a[1])(s)
			if err != nil {
				return nil, err
			}
			return m != nil, nil
		}),
		def("replace", "<s-(sf)(sf)n?:s>", 4, 4, fnReplace),
		def("split", "<s-(sf)n?:a<s>>", 3, 3, fnSplit),
		def("join", "<a<s>s?:s>", 2, 2, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			if x == nil {
				return Undefined, nil
			}
			sep, _ := str(a[1])
			parts := make([]string, len(x.items))
			total := 0
			for i, v := range x.items {
				parts[i], _ = str(v)
				total += len(parts[i]) + len(sep)
			}
			if err := c.ev.chargeString(total); err != nil {
				return nil, err
			}
			return strings.Join(parts, sep), nil
		}),
		def("formatNumber", "<n-so?:s>", 3, 3, fnFormatNumber),
		def("formatBase", "<n-n?:s>", 2, 2, fnFormatBase),
		def("formatInteger", "<n-s:s>", 2, 2, fnFormatInteger),
		def("parseInteger", "<s-s:n>", 2, 2, fnParseInteger),
		def("number", "<(nsb)-:n>", 1, 1, fnNumber),
		def("floor", "<n-:n>", 1, 1, numFn(math.Floor)),
		def("ceil", "<n-:n>", 1, 1, numFn(math.Ceil)),
		def("round", "<n-n?:n>", 2, 2, fnRound),
		def("abs", "<n-:n>", 1, 1, numFn(math.Abs)),
		def("sqrt", "<n-:n>", 1, 1, func(c *call, a []any) (any, *Error) {
			f, ok := num(a[0])
			if !ok {
				return Undefined, nil
			}
			if f < 0 {
				return nil, &Error{Code: "D3060", info: &errInfo{value: f}}
			}
			return math.Sqrt(f), nil
		}),
		def("power", "<n-n:n>", 2, 2, func(c *call, a []any) (any, *Error) {
			b, ok := num(a[0])
			if !ok {
				return Undefined, nil
			}
			e, _ := num(a[1])
			r := jsPow(b, e)
			if math.IsInf(r, 0) || math.IsNaN(r) {
				return nil, &Error{Code: "D3061", info: &errInfo{value: b, exp: e}}
			}
			return r, nil
		}),
		def("random", "<:n>", 0, 0, func(c *call, a []any) (any, *Error) {
			if c.ev.opts.Random == nil {
				return nil, &Error{Code: "D3151", Token: "random"}
			}
			return c.ev.opts.Random(), nil
		}),
		// A function passed as an argument reaches a jsonata-js built-in wrapped in a bare
		// JavaScript function, which $boolean treats as false.
		def("boolean", "<x-:b>", 1, 1, func(c *call, a []any) (any, *Error) {
			if isFunction(a[0]) {
				return false, nil
			}
			return toBoolean(a[0])
		}),
		def("not", "<x-:b>", 1, 1, func(c *call, a []any) (any, *Error) {
			if isUndef(a[0]) {
				return Undefined, nil
			}
			if isFunction(a[0]) {
				return true, nil
			}
			b, err := toBoolean(a[0])
			if err != nil {
				return nil, err
			}
			return b != true, nil
		}),
		def("map", "<af>", 2, 2, fnMap),
		def("zip", "<a+>", 0, 0, fnZip),
		def("filter", "<af>", 2, 2, fnFilter),
		def("single", "<af?>", 2, 2, fnSingle),
		def("reduce", "<afj?:j>", 3, 3, fnReduce),
		def("sift", "<o-f?:o>", 2, 2, fnSift),
		def("keys", "<x-:a<s>>", 1, 1, func(c *call, a []any) (any, *Error) { return fnKeys(a[0]), nil }),
		def("lookup", "<x-s:x>", 2, 2, func(c *call, a []any) (any, *Error) {
			k, _ := str(a[1])
			return lookupKey(a[0], k), nil
		}),
		def("append", "<xx:a>", 2, 2, func(c *call, a []any) (any, *Error) {
			r := fnAppend(a[0], a[1])
			if x, ok := r.(*array); ok {
				if err := c.ev.chargeItems(len(x.items)); err != nil {
					return nil, err
				}
			}
			return r, nil
		}),
		def("exists", "<x:b>", 1, 1, func(c *call, a []any) (any, *Error) { return !isUndef(a[0]), nil }),
		def("spread", "<x-:a<o>>", 1, 1, func(c *call, a []any) (any, *Error) { return fnSpread(a[0]), nil }),
		def("merge", "<a<o>:o>", 1, 1, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			if x == nil {
				return Undefined, nil
			}
			r := newObject()
			for _, v := range x.items {
				if o, ok := v.(*object); ok {
					for _, k := range o.keys {
						r.set(k, o.m[k])
					}
				}
			}
			return r, nil
		}),
		def("reverse", "<a:a>", 1, 1, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			if x == nil {
				return Undefined, nil
			}
			if len(x.items) <= 1 {
				return x, nil
			}
			out := make([]any, len(x.items))
			for i, v := range x.items {
				out[len(out)-1-i] = v
			}
			return newArray(out), nil
		}),
		def("each", "<o-f:a>", 2, 2, fnEach),
		def("error", "<s?:x>", 1, 1, func(c *call, a []any) (any, *Error) {
			msg, _ := str(a[0])
			if msg == "" {
				msg = "$error() function evaluated"
			}
			return nil, &Error{Code: "D3137", info: &errInfo{message: msg}}
		}),
		def("assert", "<bs?:x>", 2, 2, func(c *call, a []any) (any, *Error) {
			if b, _ := a[0].(bool); !b {
				msg, _ := str(a[1])
				if msg == "" {
					msg = "$assert() statement failed"
				}
				return nil, &Error{Code: "D3141", info: &errInfo{message: msg}}
			}
			return Undefined, nil
		}),
		def("type", "<x:s>", 1, 1, func(c *call, a []any) (any, *Error) {
			switch a[0].(type) {
			case undefinedType:
				return Undefined, nil
			case nil:
				return "null", nil
			case float64:
				return "number", nil
			case string:
				return "string", nil
			case bool:
				return "boolean", nil
			case *array:
				return "array", nil
			case *object:
				return "object", nil
			}
			return "function", nil
		}),
		def("sort", "<af?:a>", 2, 2, fnSort),
		def("shuffle", "<a:a>", 1, 1, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			if x == nil {
				return Undefined, nil
			}
			if len(x.items) <= 1 {
				return x, nil
			}
			if c.ev.opts.Random == nil {
				return nil, &Error{Code: "D3151", Token: "shuffle"}
			}
			// the inside-out Fisher-Yates shuffle, as jsonata-js does it
			out := make([]any, len(x.items))
			for i, v := range x.items {
				j := int(math.Floor(c.ev.opts.Random() * float64(i+1)))
				if j < 0 || j > i {
					j = i
				}
				if i != j {
					out[i] = out[j]
				}
				out[j] = v
			}
			return newArray(out), nil
		}),
		def("distinct", "<x:x>", 1, 1, func(c *call, a []any) (any, *Error) {
			x, ok := a[0].(*array)
			if !ok || len(x.items) <= 1 {
				return a[0], nil
			}
			out := &array{seq: x.seq}
			if err := c.ev.charge(len(x.items) * len(x.items) / 64); err != nil {
				return nil, err
			}
			for _, v := range x.items {
				dup := false
				for _, r := range out.items {
					if deepEqual(v, r) {
						dup = true
						break
					}
				}
				if !dup {
					out.items = append(out.items, v)
				}
			}
			return out, nil
		}),
		def("base64encode", "<s-:s>", 1, 1, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			return base64.StdEncoding.EncodeToString(latin1Bytes(s)), nil
		}),
		def("base64decode", "<s-:s>", 1, 1, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			return base64DecodeLenient(s), nil
		}),
		def("encodeUrlComponent", "<s-:s>", 1, 1, urlFn("encodeUrlComponent", func(s string) (string, bool) { return jsEncodeURI(s, uriUnreservedComponent) })),
		def("encodeUrl", "<s-:s>", 1, 1, urlFn("encodeUrl", func(s string) (string, bool) { return jsEncodeURI(s, uriUnreservedFull) })),
		def("decodeUrlComponent", "<s-:s>", 1, 1, urlFn("decodeUrlComponent", func(s string) (string, bool) { return jsDecodeURI(s, "") })),
		def("decodeUrl", "<s-:s>", 1, 1, urlFn("decodeUrl", func(s string) (string, bool) { return jsDecodeURI(s, ";/?:@&=+$,#") })),
		def("eval", "<sx?:x>", 2, 2, func(c *call, a []any) (any, *Error) {
			return nil, &Error{Code: "D3150", Token: "eval"}
		}),
		def("toMillis", "<s-s?:n>", 2, 2, fnToMillis),
		def("fromMillis", "<n-s?s?:s>", 3, 3, fnFromMillis),
		def("clone", "<(oa)-:o>", 1, 1, func(c *call, a []any) (any, *Error) {
			if isUndef(a[0]) {
				return Undefined, nil
			}
			return cloneValue(a[0]), nil
		}),
		def("now", "<s?s?:s>", 2, 2, fnNow),
		def("millis", "<:n>", 0, 0, func(c *call, a []any) (any, *Error) {
			return float64(c.ev.opts.Now.UnixMilli()), nil
		}),
	}
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

func numFn(f func(float64) float64) fnImpl {
	return func(c *call, a []any) (any, *Error) {
		x, ok := num(a[0])
		if !ok {
			return Undefined, nil
		}
		r := f(x)
		if r == 0 {
			r = math.Copysign(0, r)
		}
		return r, nil
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

func extreme(v any, sign float64) (any, *Error) {
	x := arr(v)
	if x == nil || len(x.items) == 0 {
		return Undefined, nil
	}
	best := x.items[0].(float64)
	for _, e := range x.items[1:] {
		f := e.(float64)
		if math.IsNaN(f) {
			return math.NaN(), nil
		}
		if (sign > 0 && f > best) || (sign < 0 && f < best) {
			best = f
		}
	}
	return best, nil
}

func jsPow(b, e float64) float64 {
	if math.IsNaN(e) {
		return math.NaN()
	}
	if (b == 1 || b == -1) && math.IsInf(e, 0) {
		return math.NaN()
	}
	return math.Pow(b, e)
}

// jsUpper is String.prototype.toUpperCase, including the special casing of ß.
func jsUpper(s string) string {
	s = strings.ToUpper(s)
	if strings.ContainsRune(s, 'ß') {
		s = strings.ReplaceAll(s, "ß", "SS")
	}
	return s
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
			repl = "" // jsonata-js concatenates the function's source text; not reproducible
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

func fnNumber(c *call, a []any) (any, *Error) {
	switch v := a[0].(type) {
	case undefinedType:
		return Undefined, nil
	case float64:
		return v, nil
	case bool:
		if v {
			return 1.0, nil
		}
		return 0.0, nil
	case string:
		if isDecimalNumber(v) {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil && !math.IsInf(f, 0) {
				return f, nil
			}
		}
		if f, ok := prefixedNumber(v); ok {
			return f, nil
		}
	}
	return nil, &Error{Code: "D3030", info: &errInfo{value: a[0], index: 1}}
}

// isDecimalNumber matches ^-?[0-9]+(\.[0-9]+)?([Ee][-+]?[0-9]+)?$.
func isDecimalNumber(s string) bool {
	i := 0
	if i < len(s) && s[i] == '-' {
		i++
	}
	d := i
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == d {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d = i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(s)
}

// prefixedNumber handles 0x, 0o and 0b strings as Number() does.
func prefixedNumber(s string) (float64, bool) {
	if len(s) < 3 || s[0] != '0' {
		return 0, false
	}
	base := 0
	switch s[1] {
	case 'x', 'X':
		base = 16
	case 'o', 'O':
		base = 8
	case 'b', 'B':
		base = 2
	default:
		return 0, false
	}
	n, err := strconv.ParseUint(s[2:], base, 64)
	if err != nil {
		return 0, false
	}
	return float64(n), true
}

func fnRound(c *call, a []any) (any, *Error) {
	x, ok := num(a[0])
	if !ok {
		return Undefined, nil
	}
	prec, _ := num(a[1])
	if prec != math.Trunc(prec) {
		return math.NaN(), nil
	}
	if prec != 0 {
		x = shiftDecimal(x, int(prec))
	}
	r := math.Floor(x + 0.5)
	if x+0.5 == r && math.Mod(math.Abs(r), 2) == 1 {
		r--
	} else if math.Abs(r-x) == 0.5 && math.Mod(math.Abs(r), 2) == 1 {
		r--
	}
	if prec != 0 && prec == math.Trunc(prec) {
		r = shiftDecimal(r, -int(prec))
	}
	if r == 0 {
		r = 0
	}
	return r, nil
}

// shiftDecimal multiplies by 10^n through the decimal text, as jsonata-js does to avoid binary
// rounding errors.
func shiftDecimal(x float64, n int) float64 {
	s := formatNumber(x)
	mant, exp, _ := strings.Cut(s, "e")
	e := 0
	if exp != "" {
		e, _ = strconv.Atoi(exp)
	}
	f, err := strconv.ParseFloat(mant+"e"+strconv.Itoa(e+n), 64)
	if err != nil && !math.IsInf(f, 0) {
		return math.NaN()
	}
	return f
}

func fnMap(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	res := newSeq()
	for i, v := range x.items {
		r, err := c.callFn(a[1], hofArgs(a[1], v, float64(i), x)...)
		if err != nil {
			return nil, err
		}
		if !isUndef(r) {
			res.items = append(res.items, r)
		}
	}
	return res, nil
}

func fnFilter(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	res := newSeq()
	for i, v := range x.items {
		r, err := c.callFn(a[1], hofArgs(a[1], v, float64(i), x)...)
		if err != nil {
			return nil, err
		}
		b, err := toBoolean(r)
		if err != nil {
			return nil, err
		}
		if b == true {
			res.items = append(res.items, v)
		}
	}
	return res, nil
}

func fnSingle(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	found := false
	var result any = Undefined
	for i, v := range x.items {
		pos := true
		if !isUndef(a[1]) {
			r, err := c.callFn(a[1], hofArgs(a[1], v, float64(i), x)...)
			if err != nil {
				return nil, err
			}
			b, err := toBoolean(r)
			if err != nil {
				return nil, err
			}
			pos = b == true
		}
		if pos {
			if found {
				return nil, &Error{Code: "D3138", info: &errInfo{index: i}}
			}
			result = v
			found = true
		}
	}
	if !found {
		return nil, &Error{Code: "D3139"}
	}
	return result, nil
}

func fnReduce(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	n := arity(a[1])
	if n < 2 {
		return nil, &Error{Code: "D3050", info: &errInfo{index: 1}}
	}
	var result any
	i := 0
	if isUndef(a[2]) && len(x.items) > 0 {
		result = x.items[0]
		i = 1
	} else {
		result = a[2]
	}
	for ; i < len(x.items); i++ {
		args := []any{result, x.items[i]}
		if n >= 3 {
			args = append(args, float64(i))
		}
		if n >= 4 {
			args = append(args, x)
		}
		r, err := c.callFn(a[1], args...)
		if err != nil {
			return nil, err
		}
		result = r
	}
	return result, nil
}

func fnSift(c *call, a []any) (any, *Error) {
	o, ok := a[0].(*object)
	if !ok {
		return Undefined, nil
	}
	res := newObject()
	for _, k := range o.keys {
		v := o.m[k]
		r, err := c.callFn(a[1], hofArgs(a[1], v, k, o)...)
		if err != nil {
			return nil, err
		}
		b, err := toBoolean(r)
		if err != nil {
			return nil, err
		}
		if b == true {
			res.set(k, v)
		}
	}
	if len(res.keys) == 0 {
		return Undefined, nil
	}
	return res, nil
}

func fnEach(c *call, a []any) (any, *Error) {
	o, ok := a[0].(*object)
	res := newSeq()
	if !ok {
		return res, nil
	}
	for _, k := range o.keys {
		r, err := c.callFn(a[1], hofArgs(a[1], o.m[k], k, o)...)
		if err != nil {
			return nil, err
		}
		if !isUndef(r) {
			res.items = append(res.items, r)
		}
	}
	return res, nil
}

func fnKeys(v any) any {
	res := newSeq()
	switch t := v.(type) {
	case *array:
		merged := newObject()
		for _, item := range t.items {
			ks := fnKeys(item)
			for _, k := range stepInput(ks) {
				merged.set(k.(string), true)
			}
			if s, ok := ks.(string); ok {
				merged.set(s, true)
			}
		}
		return fnKeys(merged)
	case *object:
		for _, k := range t.keys {
			res.items = append(res.items, k)
		}
	}
	return res
}

func fnSpread(v any) any {
	switch t := v.(type) {
	case *array:
		var res any = newSeq()
		for _, item := range t.items {
			res = fnAppend(res, fnSpread(item))
		}
		return res
	case *object:
		res := newSeq()
		for _, k := range t.keys {
			o := newObject()
			o.set(k, t.m[k])
			res.items = append(res.items, o)
		}
		return res
	}
	return v
}

func fnZip(c *call, a []any) (any, *Error) {
	res := newArray(nil)
	if len(a) == 0 {
		return res, nil
	}
	n := math.MaxInt
	for _, v := range a {
		x := arr(v)
		if x == nil {
			n = 0
			break
		}
		n = min(n, len(x.items))
	}
	for i := 0; i < n; i++ {
		t := make([]any, len(a))
		for j, v := range a {
			t[j] = arr(v).items[i]
		}
		res.items = append(res.items, newArray(t))
	}
	return res, nil
}

func fnSort(c *call, a []any) (any, *Error) {
	x := arr(a[0])
	if x == nil {
		return Undefined, nil
	}
	if len(x.items) <= 1 {
		return x, nil
	}
	var swap func(p, q any) (bool, *Error)
	if isUndef(a[1]) {
		if isArrayOfNumbers(x) {
			swap = func(p, q any) (bool, *Error) { return p.(float64) > q.(float64), nil }
		} else if isArrayOfStrings(x) {
			swap = func(p, q any) (bool, *Error) { return compareStrings(p.(string), q.(string)) > 0, nil }
		} else {
			return nil, &Error{Code: "D3070", info: &errInfo{index: 1}}
		}
	} else {
		swap = func(p, q any) (bool, *Error) {
			r, err := c.callFn(a[1], p, q)
			if err != nil {
				return false, err
			}
			return jsTruthy(r), nil
		}
	}
	out, err := mergeSort(append([]any(nil), x.items...), swap)
	if err != nil {
		return nil, err
	}
	return newArray(out), nil
}

// cloneValue is $clone: JSON.parse(JSON.stringify(v)).
func cloneValue(v any) any {
	switch t := v.(type) {
	case *array:
		out := make([]any, 0, len(t.items))
		for _, e := range t.items {
			if isFunction(e) || isUndef(e) {
				out = append(out, nil)
				continue
			}
			out = append(out, cloneValue(e))
		}
		return newArray(out)
	case *object:
		o := newObject()
		for _, k := range t.keys {
			e := t.m[k]
			if isFunction(e) || isUndef(e) {
				continue
			}
			o.set(k, cloneValue(e))
		}
		return o
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil
		}
	}
	return v
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
