package intrinsic

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"hash"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/duro-dev/duro/asl/jsonv"
)

type function func(name string, args []value, env Env) (any, error)

// Limits Step Functions documents for intrinsic functions.
const (
	maxArrayRange   = 1000
	maxBase64Input  = 10000
	maxHashInput    = 10000
	maxPartitionLen = 1 << 20
)

// functions is the table of every intrinsic; the parser rejects names not in it.
var functions = map[string]function{
	"States.Format":         fnFormat,
	"States.StringToJson":   fnStringToJSON,
	"States.JsonToString":   fnJSONToString,
	"States.Array":          fnArray,
	"States.ArrayPartition": fnArrayPartition,
	"States.ArrayContains":  fnArrayContains,
	"States.ArrayRange":     fnArrayRange,
	"States.ArrayGetItem":   fnArrayGetItem,
	"States.ArrayLength":    fnArrayLength,
	"States.ArrayUnique":    fnArrayUnique,
	"States.Base64Encode":   fnBase64Encode,
	"States.Base64Decode":   fnBase64Decode,
	"States.Hash":           fnHash,
	"States.JsonMerge":      fnJSONMerge,
	"States.MathRandom":     fnMathRandom,
	"States.MathAdd":        fnMathAdd,
	"States.StringSplit":    fnStringSplit,
	"States.UUID":           fnUUID,
}

func wantArgs(name string, args []value, n int) error {
	if len(args) != n {
		return failf(name, "expected %d argument(s), got %d", n, len(args))
	}
	return nil
}

func argString(name string, args []value, i int) (string, error) {
	s, ok := args[i].v.(string)
	if !ok {
		return "", failf(name, "argument %d must be a string, got %s", i+1, typeName(args[i].v))
	}
	return s, nil
}

func argArray(name string, args []value, i int) ([]any, error) {
	a, ok := args[i].v.([]any)
	if !ok {
		return nil, failf(name, "argument %d must be an array, got %s", i+1, typeName(args[i].v))
	}
	return a, nil
}

// argInt accepts a number with an integral value in the 32-bit range Step Functions uses.
func argInt(name string, args []value, i int) (int64, error) {
	n, ok := args[i].v.(jsonv.Number)
	if !ok {
		return 0, failf(name, "argument %d must be an integer, got %s", i+1, typeName(args[i].v))
	}
	v, ok := n.Int64()
	if !ok || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, failf(name, "argument %d must be an integer, got %s", i+1, string(n))
	}
	return v, nil
}

func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case jsonv.Number:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case *jsonv.Object:
		return "object"
	}
	return "unknown"
}

func fnFormat(name string, args []value, _ Env) (any, error) {
	if len(args) == 0 {
		return nil, failf(name, "expected a template string")
	}
	tmpl := args[0]
	text, ok := tmpl.v.(string)
	if !ok {
		return nil, failf(name, "argument 1 must be a string, got %s", typeName(tmpl.v))
	}
	if tmpl.hasRaw {
		text = tmpl.raw
	}
	var b strings.Builder
	next := 1
	for i := 0; i < len(text); i++ {
		c := text[i]
		switch {
		case c == '\\' && i+1 < len(text):
			b.WriteByte(text[i+1])
			i++
		case c == '{' && i+1 < len(text) && text[i+1] == '}':
			if next >= len(args) {
				return nil, failf(name, "the template has more {} placeholders than arguments")
			}
			switch v := args[next].v.(type) {
			case string:
				b.WriteString(v)
			case nil, bool, jsonv.Number:
				b.Write(jsonv.Marshal(v))
			default:
				return nil, failf(name, "argument %d must be a string, number, boolean or null, got %s", next+1, typeName(v))
			}
			next++
			i++
		default:
			b.WriteByte(c)
		}
	}
	if next != len(args) {
		return nil, failf(name, "the template has %d {} placeholders but %d arguments follow it", next-1, len(args)-1)
	}
	return b.String(), nil
}

func fnStringToJSON(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	s, err := argString(name, args, 0)
	if err != nil {
		return nil, err
	}
	v, perr := jsonv.Parse([]byte(s))
	if perr != nil {
		return nil, failf(name, "the argument is not valid JSON: %v", perr)
	}
	return v, nil
}

func fnJSONToString(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	return jsonv.String(args[0].v), nil
}

func fnArray(_ string, args []value, _ Env) (any, error) {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a.v
	}
	return out, nil
}

func fnArrayPartition(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	a, err := argArray(name, args, 0)
	if err != nil {
		return nil, err
	}
	n, err := argInt(name, args, 1)
	if err != nil {
		return nil, err
	}
	if n <= 0 || n > maxPartitionLen {
		return nil, failf(name, "the chunk size must be a positive integer, got %d", n)
	}
	out := []any{}
	for i := 0; i < len(a); i += int(n) {
		end := min(i+int(n), len(a))
		out = append(out, append([]any{}, a[i:end]...))
	}
	return out, nil
}

func fnArrayContains(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	a, err := argArray(name, args, 0)
	if err != nil {
		return nil, err
	}
	for _, e := range a {
		if jsonv.Equal(e, args[1].v) {
			return true, nil
		}
	}
	return false, nil
}

func fnArrayRange(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 3); err != nil {
		return nil, err
	}
	var n [3]int64
	for i := range n {
		v, err := argInt(name, args, i)
		if err != nil {
			return nil, err
		}
		n[i] = v
	}
	start, end, stepBy := n[0], n[1], n[2]
	if stepBy == 0 {
		return nil, failf(name, "the step must not be 0")
	}
	out := []any{}
	for v := start; (stepBy > 0 && v <= end) || (stepBy < 0 && v >= end); v += stepBy {
		if len(out) == maxArrayRange {
			return nil, failf(name, "the range has more than %d elements", maxArrayRange)
		}
		out = append(out, jsonv.NumberFromInt(v))
	}
	return out, nil
}

func fnArrayGetItem(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	a, err := argArray(name, args, 0)
	if err != nil {
		return nil, err
	}
	i, err := argInt(name, args, 1)
	if err != nil {
		return nil, err
	}
	if i < 0 || i >= int64(len(a)) {
		return nil, failf(name, "index %d is out of bounds of an array of %d", i, len(a))
	}
	return a[i], nil
}

func fnArrayLength(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	a, err := argArray(name, args, 0)
	if err != nil {
		return nil, err
	}
	return jsonv.NumberFromInt(int64(len(a))), nil
}

func fnArrayUnique(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	a, err := argArray(name, args, 0)
	if err != nil {
		return nil, err
	}
	out := []any{}
	seen := map[string]bool{}
	for _, e := range a {
		key := canonical(e)
		if !seen[key] {
			seen[key] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// canonical is a text equal for values jsonv.Equal considers equal (numbers by value, objects
// regardless of key order), so ArrayUnique stays linear.
func canonical(v any) string {
	switch t := v.(type) {
	case jsonv.Number:
		if f, err := t.Float64(); err == nil {
			return "n" + string(jsonv.NumberFromFloat(f))
		}
		return "n" + string(t)
	case []any:
		var b strings.Builder
		b.WriteString("[")
		for _, e := range t {
			b.WriteString(canonical(e))
			b.WriteString(",")
		}
		b.WriteString("]")
		return b.String()
	case *jsonv.Object:
		keys := append([]string(nil), t.Keys()...)
		sort.Strings(keys)
		var b strings.Builder
		b.WriteString("{")
		for _, k := range keys {
			e, _ := t.Get(k)
			b.WriteString(jsonv.String(k))
			b.WriteString(":")
			b.WriteString(canonical(e))
			b.WriteString(",")
		}
		b.WriteString("}")
		return b.String()
	}
	return jsonv.String(v)
}

func fnBase64Encode(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	s, err := argString(name, args, 0)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(s) > maxBase64Input {
		return nil, failf(name, "the input is longer than %d characters", maxBase64Input)
	}
	return base64.StdEncoding.EncodeToString([]byte(s)), nil
}

func fnBase64Decode(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 1); err != nil {
		return nil, err
	}
	s, err := argString(name, args, 0)
	if err != nil {
		return nil, err
	}
	if len(s) > maxBase64Input {
		return nil, failf(name, "the input is longer than %d characters", maxBase64Input)
	}
	b, derr := base64.StdEncoding.DecodeString(s)
	if derr != nil {
		return nil, failf(name, "the input is not valid base64: %v", derr)
	}
	if !utf8.Valid(b) {
		return nil, failf(name, "the decoded data is not valid UTF-8 text")
	}
	return string(b), nil
}

func fnHash(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	s, err := argString(name, args, 0)
	if err != nil {
		return nil, err
	}
	if utf8.RuneCountInString(s) > maxHashInput {
		return nil, failf(name, "the input is longer than %d characters", maxHashInput)
	}
	alg, err := argString(name, args, 1)
	if err != nil {
		return nil, err
	}
	var h hash.Hash
	switch alg {
	case "MD5":
		h = md5.New()
	case "SHA-1":
		h = sha1.New()
	case "SHA-256":
		h = sha256.New()
	case "SHA-384":
		h = sha512.New384()
	case "SHA-512":
		h = sha512.New()
	default:
		return nil, failf(name, "unsupported algorithm %q (MD5, SHA-1, SHA-256, SHA-384 or SHA-512)", alg)
	}
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil)), nil
}

func fnJSONMerge(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 3); err != nil {
		return nil, err
	}
	a, ok1 := args[0].v.(*jsonv.Object)
	b, ok2 := args[1].v.(*jsonv.Object)
	if !ok1 || !ok2 {
		return nil, failf(name, "the first two arguments must be objects")
	}
	deep, ok := args[2].v.(bool)
	if !ok {
		return nil, failf(name, "argument 3 must be a boolean")
	}
	if deep {
		return nil, failf(name, "only shallow merging is supported: argument 3 must be false")
	}
	out := jsonv.NewObject()
	for _, src := range []*jsonv.Object{a, b} {
		for _, k := range src.Keys() {
			v, _ := src.Get(k)
			out.Set(k, v)
		}
	}
	return out, nil
}

func fnMathRandom(name string, args []value, env Env) (any, error) {
	if len(args) != 2 && len(args) != 3 {
		return nil, failf(name, "expected 2 or 3 arguments, got %d", len(args))
	}
	start, err := argInt(name, args, 0)
	if err != nil {
		return nil, err
	}
	end, err := argInt(name, args, 1)
	if err != nil {
		return nil, err
	}
	if end <= start {
		return nil, failf(name, "the end (%d) must be greater than the start (%d)", end, start)
	}
	var r float64
	if len(args) == 3 {
		seed, err := argInt(name, args, 2)
		if err != nil {
			return nil, err
		}
		r = rand.New(rand.NewPCG(uint64(seed), 0x5eed)).Float64()
	} else {
		if env.Random == nil {
			return nil, failf(name, "no source of randomness")
		}
		r = env.Random()
	}
	v := start + int64(math.Floor(r*float64(end-start)))
	if v >= end {
		v = end - 1
	}
	return jsonv.NumberFromInt(v), nil
}

func fnMathAdd(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	a, err := argInt(name, args, 0)
	if err != nil {
		return nil, err
	}
	b, err := argInt(name, args, 1)
	if err != nil {
		return nil, err
	}
	return jsonv.NumberFromInt(a + b), nil
}

func fnStringSplit(name string, args []value, _ Env) (any, error) {
	if err := wantArgs(name, args, 2); err != nil {
		return nil, err
	}
	s, err := argString(name, args, 0)
	if err != nil {
		return nil, err
	}
	delims, err := argString(name, args, 1)
	if err != nil {
		return nil, err
	}
	out := []any{}
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(delims, r) }) {
		out = append(out, part)
	}
	return out, nil
}

func fnUUID(name string, args []value, env Env) (any, error) {
	if err := wantArgs(name, args, 0); err != nil {
		return nil, err
	}
	if env.UUID == nil {
		return nil, failf(name, "no UUID source")
	}
	return env.UUID(), nil
}
