package jsonata

// Numeric functions: $number, $round, $power, $max/$min.

import (
	"math"
	"strconv"
	"strings"
)

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
