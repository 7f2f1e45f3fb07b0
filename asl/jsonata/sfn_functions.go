package jsonata

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"hash"
	"math"

	"github.com/duro-dev/duro/asl/jsonv"
)

// stepFunctionsFunctions are the functions AWS Step Functions adds to JSONata ("Transforming data
// with JSONata in Step Functions"), available when Options.StepFunctions is set:
//
//   - $partition(array, size): the array cut into chunks of size items (the last may be shorter).
//   - $range(start, end, step): the numbers from start to end inclusive, step apart (step may be
//     negative).
//   - $hash(value, algorithm): the hex digest of a string with MD5, SHA-1, SHA-256, SHA-384 or
//     SHA-512.
//   - $random([seed]): a number in [0, 1); with a seed, the same seed always gives the same number.
//   - $uuid(): a version 4 UUID, from Options.UUID.
//   - $parse(jsonString): the JSON value the string holds.
func stepFunctionsFunctions() []*builtin {
	return []*builtin{
		def("partition", "<an:a>", 2, 2, func(c *call, a []any) (any, *Error) {
			x := arr(a[0])
			size, _ := num(a[1])
			if x == nil {
				return Undefined, nil
			}
			if !(size >= 1) || size != math.Trunc(size) {
				return nil, &Error{Code: "D3170", Token: "partition", info: &errInfo{message: "The size argument of $partition must be a positive integer"}}
			}
			n := int(math.Min(size, float64(len(x.items)+1)))
			out := newArray(nil)
			for i := 0; i < len(x.items); i += n {
				j := min(i+n, len(x.items))
				out.items = append(out.items, newArray(append([]any(nil), x.items[i:j]...)))
			}
			return out, nil
		}),
		def("range", "<nnn?:a<n>>", 3, 3, func(c *call, a []any) (any, *Error) {
			start, ok1 := num(a[0])
			end, ok2 := num(a[1])
			if !ok1 || !ok2 {
				return Undefined, nil
			}
			step := 1.0
			if s, ok := num(a[2]); ok {
				step = s
			}
			if step == 0 || math.IsNaN(step) {
				return nil, &Error{Code: "D3171", Token: "range", info: &errInfo{message: "The step argument of $range must not be zero"}}
			}
			out := newArray(nil)
			count := (end - start) / step
			if count > 1e7 {
				return nil, &Error{Code: "D2014", info: &errInfo{value: count}}
			}
			for i := 0; ; i++ {
				v := start + float64(i)*step
				if (step > 0 && v > end) || (step < 0 && v < end) {
					break
				}
				if err := c.ev.charge(1); err != nil {
					return nil, err
				}
				out.items = append(out.items, v)
			}
			return out, nil
		}),
		def("hash", "<s-s:s>", 2, 2, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			alg, _ := str(a[1])
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
				return nil, &Error{Code: "D3160", Token: "hash", info: &errInfo{value: alg}}
			}
			h.Write([]byte(s))
			return hex.EncodeToString(h.Sum(nil)), nil
		}),
		def("random", "<n?:n>", 1, 1, func(c *call, a []any) (any, *Error) {
			if seed, ok := num(a[0]); ok {
				return seededRandom(seed), nil
			}
			if c.ev.opts.Random == nil {
				return nil, &Error{Code: "D3151", Token: "random"}
			}
			return c.ev.opts.Random(), nil
		}),
		def("uuid", "<:s>", 0, 0, func(c *call, a []any) (any, *Error) {
			if c.ev.opts.UUID == nil {
				return nil, &Error{Code: "D3151", Token: "uuid"}
			}
			return c.ev.opts.UUID(), nil
		}),
		def("parse", "<s-:j>", 1, 1, func(c *call, a []any) (any, *Error) {
			s, ok := str(a[0])
			if !ok {
				return Undefined, nil
			}
			v, err := jsonv.Parse([]byte(s))
			if err != nil {
				return nil, &Error{Code: "D3172", Token: "parse", info: &errInfo{message: "The argument of $parse is not valid JSON: " + err.Error()}}
			}
			cv, cerr := fromJSON(v)
			if cerr != nil {
				return nil, &Error{Code: "D3172", Token: "parse", info: &errInfo{message: cerr.Error()}}
			}
			return cv, nil
		}),
	}
}

// seededRandom maps a seed to a number in [0, 1) deterministically (SplitMix64 over the seed's
// bits). AWS does not document its generator, so only the property "same seed, same number" holds.
func seededRandom(seed float64) float64 {
	z := math.Float64bits(seed) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}
