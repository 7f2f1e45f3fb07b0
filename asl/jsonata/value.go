package jsonata

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/duro-dev/duro/asl/jsonv"
)

// Inside the evaluator values are JavaScript-like: Undefined, nil (null), bool, float64, string,
// *array, *object and callables. Input is converted from jsonv once per evaluation and the result
// converted back, so number text and key order follow JavaScript exactly as jsonata-js sees them.

// undefinedType is the type of [Undefined].
type undefinedType struct{}

// Undefined is JSONata's "no value": the result of a path that matches nothing, distinct from JSON
// null (nil). Compare with ==: v == jsonata.Undefined. It never appears inside arrays or objects
// returned by [Expr.Eval].
var Undefined = undefinedType{}

// array is a JavaScript array with the flags jsonata-js sets on arrays: a sequence (the result of a
// path, collapsed to its single item or to undefined when returned), a constructed array (cons: not
// flattened into an enclosing path), keepSingleton (a[] keeps a one-item sequence an array) and
// outerWrapper (the wrapper jsonata-js puts around a top-level array input).
type array struct {
	items         []any
	seq           bool
	cons          bool
	keepSingleton bool
	outerWrapper  bool
	tuples        []tuple // a tuple stream (when tupleStream)
	tupleStream   bool
}

func newArray(items []any) *array { return &array{items: items} }

func newSeq(items ...any) *array { return &array{items: items, seq: true} }

// object is a JavaScript object: string keys in JavaScript property order (array-index keys first in
// ascending numeric order, then the others in insertion order). Small objects are searched
// linearly; an index map is built once an object grows past smallObject keys.
type object struct {
	keys  []string
	vals  []any
	index map[string]int
}

const smallObject = 8

func newObject() *object { return &object{} }

// isIndexKey reports whether k is a canonical array index ("0" .. "4294967294"), which JavaScript
// orders before all other keys.
func isIndexKey(k string) bool {
	if k == "" || len(k) > 10 || (len(k) > 1 && k[0] == '0') {
		return false
	}
	for i := 0; i < len(k); i++ {
		if k[i] < '0' || k[i] > '9' {
			return false
		}
	}
	n, err := strconv.ParseUint(k, 10, 64)
	return err == nil && n < 4294967295
}

func indexLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (o *object) find(k string) int {
	if o.index != nil {
		if i, ok := o.index[k]; ok {
			return i
		}
		return -1
	}
	for i, key := range o.keys {
		if key == k {
			return i
		}
	}
	return -1
}

func (o *object) reindex() {
	if len(o.keys) <= smallObject {
		o.index = nil
		return
	}
	o.index = make(map[string]int, len(o.keys))
	for i, k := range o.keys {
		o.index[k] = i
	}
}

func (o *object) get(k string) (any, bool) {
	if i := o.find(k); i >= 0 {
		return o.vals[i], true
	}
	return Undefined, false
}

// val is the value of key k, or Undefined.
func (o *object) val(k string) any {
	v, _ := o.get(k)
	return v
}

func (o *object) set(k string, v any) {
	if i := o.find(k); i >= 0 {
		o.vals[i] = v
		return
	}
	i := len(o.keys)
	if isIndexKey(k) {
		// an index key goes after the smaller index keys, before all other keys
		i = sort.Search(len(o.keys), func(i int) bool {
			return !isIndexKey(o.keys[i]) || !indexLess(o.keys[i], k)
		})
	}
	if i == len(o.keys) {
		o.keys = append(o.keys, k)
		o.vals = append(o.vals, v)
		if o.index != nil {
			o.index[k] = i
		} else if len(o.keys) > smallObject {
			o.reindex()
		}
		return
	}
	o.keys = append(o.keys, "")
	copy(o.keys[i+1:], o.keys[i:])
	o.keys[i] = k
	o.vals = append(o.vals, nil)
	copy(o.vals[i+1:], o.vals[i:])
	o.vals[i] = v
	o.reindex()
}

func (o *object) del(k string) {
	i := o.find(k)
	if i < 0 {
		return
	}
	o.keys = append(o.keys[:i:i], o.keys[i+1:]...)
	o.vals = append(o.vals[:i:i], o.vals[i+1:]...)
	o.reindex()
}

// tuple is one binding tuple of a tuple stream: "@" is the context value, the other names are the
// variables bound by @, # and the ancestry labels of %.
type tuple struct {
	names []string
	vals  []any
}

func (t tuple) get(name string) (any, bool) {
	for i, n := range t.names {
		if n == name {
			return t.vals[i], true
		}
	}
	return Undefined, false
}

func (t tuple) context() any {
	v, _ := t.get("@")
	return v
}

func (t tuple) with(name string, v any) tuple {
	for i, n := range t.names {
		if n == name {
			vals := append([]any(nil), t.vals...)
			vals[i] = v
			return tuple{names: t.names, vals: vals}
		}
	}
	names := make([]string, len(t.names), len(t.names)+1)
	copy(names, t.names)
	vals := make([]any, len(t.vals), len(t.vals)+1)
	copy(vals, t.vals)
	return tuple{names: append(names, name), vals: append(vals, v)}
}

// merge returns t with every binding of u added or replaced.
func (t tuple) merge(u tuple) tuple {
	r := t
	for i, n := range u.names {
		r = r.with(n, u.vals[i])
	}
	return r
}

func isArr(v any) bool {
	_, ok := v.(*array)
	return ok
}

func isUndef(v any) bool {
	_, ok := v.(undefinedType)
	return ok
}

func isInf(f float64) bool { return math.IsInf(f, 0) }

// isNumeric reports whether v is a number; an infinite one is a D1001 error, as in jsonata-js.
func isNumeric(v any) (bool, *Error) {
	f, ok := v.(float64)
	if !ok {
		return false, nil
	}
	if math.IsNaN(f) {
		return false, nil
	}
	if math.IsInf(f, 0) {
		return false, rtErr("D1001", f)
	}
	return true, nil
}

func isInteger(v any) bool {
	f, ok := v.(float64)
	return ok && !math.IsInf(f, 0) && f == math.Trunc(f)
}

// fromJSON converts a jsonv value to the evaluator's representation.
func fromJSON(v any) (any, error) {
	switch t := v.(type) {
	case nil, bool, string:
		return t, nil
	case undefinedType:
		return t, nil
	case jsonv.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return f, nil
			}
			return nil, &Error{Code: "D1001", Message: "invalid number in input: " + string(t)}
		}
		return f, nil
	case float64:
		return t, nil
	case int:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, err := fromJSON(e)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return newArray(out), nil
	case *jsonv.Object:
		o := &object{keys: make([]string, 0, t.Len()), vals: make([]any, 0, t.Len())}
		for _, k := range t.Keys() {
			e, _ := t.Get(k)
			c, err := fromJSON(e)
			if err != nil {
				return nil, err
			}
			o.set(k, c)
		}
		return o, nil
	case map[string]any:
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		o := newObject()
		for _, k := range keys {
			c, err := fromJSON(t[k])
			if err != nil {
				return nil, err
			}
			o.set(k, c)
		}
		return o, nil
	}
	if isFunction(v) {
		return v, nil
	}
	return nil, &Error{Code: "T0001", Message: "value is not a JSON value"}
}

// toJSON converts an evaluator value to jsonv. Functions become undefined (skipped in objects, null
// in arrays), as JSON.stringify treats them; a non-finite number is a D1001 error.
func toJSON(v any, budget *int) (any, *Error) {
	*budget--
	if *budget < 0 {
		return nil, &Error{Code: "U1003"}
	}
	switch t := v.(type) {
	case nil, bool, string, undefinedType:
		return t, nil
	case float64:
		if math.IsInf(t, 0) || math.IsNaN(t) {
			return nil, rtErr("D1001", t)
		}
		return jsonv.NumberFromFloat(t), nil
	case *array:
		out := make([]any, len(t.items))
		for i, e := range t.items {
			c, err := toJSON(e, budget)
			if err != nil {
				return nil, err
			}
			if isUndef(c) {
				c = nil
			}
			out[i] = c
		}
		return out, nil
	case *object:
		o := jsonv.NewObject()
		for i, k := range t.keys {
			c, err := toJSON(t.vals[i], budget)
			if err != nil {
				return nil, err
			}
			if isUndef(c) {
				continue
			}
			o.Set(k, c)
		}
		return o, nil
	}
	return Undefined, nil
}

// formatNumber prints a number as JavaScript's Number.prototype.toString does.
func formatNumber(f float64) string {
	if math.IsNaN(f) {
		return "NaN"
	}
	if math.IsInf(f, 1) {
		return "Infinity"
	}
	if math.IsInf(f, -1) {
		return "-Infinity"
	}
	return string(jsonv.NumberFromFloat(f))
}

// toPrecision15 is Number(x.toPrecision(15)), which $string and JSON output in jsonata-js apply to
// every number. JavaScript rounds a tie away from zero (on the exact binary value); Go's
// formatting rounds to even, so ties are detected on a longer expansion and rounded up.
func toPrecision15(f float64) float64 {
	if f == 0 || math.IsInf(f, 0) || math.IsNaN(f) {
		return f
	}
	s := strconv.FormatFloat(f, 'e', 40, 64)
	mant, exp, _ := strings.Cut(s, "e")
	neg := mant[0] == '-'
	if neg {
		mant = mant[1:]
	}
	digits := strings.Replace(mant, ".", "", 1)
	head := digits[:15]
	tail := digits[15:]
	roundUp := tail[0] >= '5'
	b := []byte(head)
	e, _ := strconv.Atoi(exp)
	if roundUp {
		i := len(b) - 1
		for i >= 0 {
			if b[i] == '9' {
				b[i] = '0'
				i--
				continue
			}
			b[i]++
			break
		}
		if i < 0 {
			b = append([]byte{'1'}, b[:len(b)-1]...)
			e++
		}
	}
	out := string(b[:1]) + "." + string(b[1:]) + "e" + strconv.Itoa(e)
	if neg {
		out = "-" + out
	}
	r, _ := strconv.ParseFloat(out, 64)
	return r
}

// utf16Len is the length of s in UTF-16 code units (JavaScript's string length).
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		if r >= 0x10000 {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// utf16Index converts a byte offset in s to a UTF-16 code unit offset.
func utf16Index(s string, byteOff int) int {
	return utf16Len(s[:byteOff])
}

// compareStrings compares as JavaScript does, by UTF-16 code units.
func compareStrings(a, b string) int {
	for a != "" && b != "" {
		ra, na := utf8.DecodeRuneInString(a)
		rb, nb := utf8.DecodeRuneInString(b)
		if ra != rb {
			ua, ub := utf16Units(ra), utf16Units(rb)
			for i := 0; i < len(ua) && i < len(ub); i++ {
				if ua[i] != ub[i] {
					if ua[i] < ub[i] {
						return -1
					}
					return 1
				}
			}
			if len(ua) < len(ub) {
				return -1
			}
			return 1
		}
		a, b = a[na:], b[nb:]
	}
	switch {
	case a == "" && b == "":
		return 0
	case a == "":
		return -1
	}
	return 1
}

func utf16Units(r rune) []uint16 {
	if r >= 0x10000 {
		r1, r2 := utf16.EncodeRune(r)
		return []uint16{uint16(r1), uint16(r2)}
	}
	return []uint16{uint16(r)}
}

// deepEqual is jsonata-js's isDeepEqual.
func deepEqual(a, b any) bool {
	switch x := a.(type) {
	case *array:
		y, ok := b.(*array)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		if len(x.items) != len(y.items) {
			return false
		}
		for i := range x.items {
			if !deepEqual(x.items[i], y.items[i]) {
				return false
			}
		}
		return true
	case *object:
		y, ok := b.(*object)
		if !ok {
			return false
		}
		if x == y {
			return true
		}
		if len(x.keys) != len(y.keys) {
			return false
		}
		for i, k := range x.keys {
			yv, ok := y.get(k)
			if !ok || !deepEqual(x.vals[i], yv) {
				return false
			}
		}
		return true
	case float64:
		y, ok := b.(float64)
		return ok && x == y
	case string:
		y, ok := b.(string)
		return ok && x == y
	case bool:
		y, ok := b.(bool)
		return ok && x == y
	case nil:
		return b == nil
	case undefinedType:
		return isUndef(b)
	}
	return sameRef(a, b)
}

// strictEqual is JavaScript's === on evaluator values.
func strictEqual(a, b any) bool {
	switch x := a.(type) {
	case *array:
		y, ok := b.(*array)
		return ok && x == y
	case *object:
		y, ok := b.(*object)
		return ok && x == y
	case float64, string, bool, nil, undefinedType:
		return deepEqual(a, b)
	}
	return sameRef(a, b)
}

func sameRef(a, b any) bool {
	defer func() { _ = recover() }()
	return a == b
}
