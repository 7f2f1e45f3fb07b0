package jsonata

import (
	"encoding/base64"
	"math"
	"strings"
	"sync"
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
		def("lowercase", "<s-:s>", 1, 1, strFn(jsLower)),
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
					for i, k := range o.keys {
						r.set(k, o.vals[i])
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
