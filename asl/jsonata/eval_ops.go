package jsonata

import (
	"math"
	"strings"
)

func (ev *evaluator) evalBinary(expr *node, input any, env *frame) (any, *Error) {
	lhs, err := ev.eval(expr.lhs, input, env)
	if err != nil {
		return nil, err
	}
	op := expr.value
	if op == "and" || op == "or" {
		lb, e := boolize(lhs)
		if e != nil {
			return nil, withPos(e, expr.pos, op)
		}
		if op == "and" && !lb {
			return false, nil
		}
		if op == "or" && lb {
			return true, nil
		}
		// jsonata-js evaluates the right side inside the operator's try block, so its errors
		// take the operator's position and token
		rhs, err := ev.eval(expr.rhs, input, env)
		if err != nil {
			return nil, withPos(err, expr.pos, op)
		}
		rb, e := boolize(rhs)
		if e != nil {
			return nil, withPos(e, expr.pos, op)
		}
		return rb, nil
	}
	rhs, err := ev.eval(expr.rhs, input, env)
	if err != nil {
		return nil, err
	}
	var res any
	var e *Error
	switch op {
	case "+", "-", "*", "/", "%":
		res, e = numericOp(lhs, rhs, op)
	case "=", "!=":
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		eq := deepEqual(lhs, rhs)
		if op == "=" {
			return eq, nil
		}
		return !eq, nil
	case "<", "<=", ">", ">=":
		res, e = compareOp(lhs, rhs, op)
	case "&":
		var ls, rs string
		if !isUndef(lhs) {
			ls, e = fnString(lhs, false)
		}
		if e == nil && !isUndef(rhs) {
			rs, e = fnString(rhs, false)
		}
		if e == nil {
			e = ev.chargeString(len(ls) + len(rs))
		}
		res = ls + rs
	case "..":
		res, e = ev.rangeOp(lhs, rhs)
	case "in":
		res = false
		if isUndef(lhs) || isUndef(rhs) {
			return false, nil
		}
		if a, ok := rhs.(*array); ok {
			for _, v := range a.items {
				if strictEqual(v, lhs) {
					return true, nil
				}
			}
		} else if strictEqual(rhs, lhs) {
			return true, nil
		}
	default:
		e = &Error{Code: "S0204"}
	}
	if e != nil {
		return nil, withPos(e, expr.pos, op)
	}
	return res, nil
}

// withPos sets the position and token of an error raised by an operator, as jsonata-js does.
func withPos(e *Error, pos int, tok string) *Error {
	e.Position = pos
	e.Token = tok
	return e
}

func boolize(v any) (bool, *Error) {
	b, err := toBoolean(v)
	if err != nil {
		return false, err
	}
	return b == true, nil
}

func numericOp(lhs, rhs any, op string) (any, *Error) {
	ln, err := isNumeric(lhs)
	if err != nil {
		return nil, err
	}
	if !isUndef(lhs) && !ln {
		return nil, &Error{Code: "T2001", info: &errInfo{value: lhs}}
	}
	rn, err := isNumeric(rhs)
	if err != nil {
		return nil, err
	}
	if !isUndef(rhs) && !rn {
		return nil, &Error{Code: "T2002", info: &errInfo{value: rhs}}
	}
	if isUndef(lhs) || isUndef(rhs) {
		return Undefined, nil
	}
	a, b := lhs.(float64), rhs.(float64)
	switch op {
	case "+":
		return a + b, nil
	case "-":
		return a - b, nil
	case "*":
		return a * b, nil
	case "/":
		return a / b, nil
	}
	return math.Mod(a, b), nil
}

func compareOp(lhs, rhs any, op string) (any, *Error) {
	comparable := func(v any) bool {
		switch v.(type) {
		case undefinedType, string, float64:
			return true
		}
		return false
	}
	if !comparable(lhs) || !comparable(rhs) {
		var v any = rhs
		switch lhs.(type) {
		case string, float64:
		default:
			v = lhs
		}
		return nil, &Error{Code: "T2010", info: &errInfo{value: v}}
	}
	if isUndef(lhs) || isUndef(rhs) {
		return Undefined, nil
	}
	var c int
	switch a := lhs.(type) {
	case string:
		b, ok := rhs.(string)
		if !ok {
			return nil, &Error{Code: "T2009", info: &errInfo{value: lhs, value2: rhs}}
		}
		c = compareStrings(a, b)
	case float64:
		b, ok := rhs.(float64)
		if !ok {
			return nil, &Error{Code: "T2009", info: &errInfo{value: lhs, value2: rhs}}
		}
		if math.IsNaN(a) || math.IsNaN(b) {
			return false, nil
		}
		switch {
		case a < b:
			c = -1
		case a > b:
			c = 1
		}
	}
	switch op {
	case "<":
		return c < 0, nil
	case "<=":
		return c <= 0, nil
	case ">":
		return c > 0, nil
	}
	return c >= 0, nil
}

func (ev *evaluator) rangeOp(lhs, rhs any) (any, *Error) {
	if !isUndef(lhs) && !isInteger(lhs) {
		return nil, &Error{Code: "T2003", info: &errInfo{value: lhs}}
	}
	if !isUndef(rhs) && !isInteger(rhs) {
		return nil, &Error{Code: "T2004", info: &errInfo{value: rhs}}
	}
	if isUndef(lhs) || isUndef(rhs) {
		return Undefined, nil
	}
	a, b := lhs.(float64), rhs.(float64)
	if a > b {
		return Undefined, nil
	}
	size := b - a + 1
	if size > 1e7 {
		return nil, &Error{Code: "D2014", info: &errInfo{value: size}}
	}
	if err := ev.charge(int(size)); err != nil {
		return nil, err
	}
	items := make([]any, 0, int(size))
	for v := a; v <= b; v++ {
		items = append(items, v)
	}
	return newSeq(items...), nil
}

func (ev *evaluator) evalUnary(expr *node, input any, env *frame) (any, *Error) {
	switch expr.value {
	case "-":
		v, err := ev.eval(expr.lhs, input, env)
		if err != nil {
			return nil, err
		}
		if isUndef(v) {
			return Undefined, nil
		}
		num, e := isNumeric(v)
		if e != nil {
			return nil, e
		}
		if !num {
			return nil, &Error{Code: "D1002", Position: expr.pos, Token: "-", info: &errInfo{value: v}}
		}
		return -v.(float64), nil
	case "[":
		var result any = newArray(nil)
		for _, item := range expr.expressions {
			v, err := ev.eval(item, input, env)
			if err != nil {
				return nil, err
			}
			if isUndef(v) {
				continue
			}
			if item.typ == nUnary && item.value == "[" {
				r := result.(*array)
				r.items = append(r.items, v)
			} else {
				result = fnAppend(result, v)
			}
		}
		r := result.(*array)
		if err := ev.chargeItems(len(r.items)); err != nil {
			return nil, err
		}
		if expr.consarray {
			r.cons = true
		}
		return r, nil
	case "{":
		return ev.evalGroup(&groupBy{pairs: expr.pairs, pos: expr.pos}, input, env)
	}
	return nil, &Error{Code: "S0206", Position: expr.pos}
}

type groupEntry struct {
	data      any
	tuples    []tuple
	exprIndex int
}

func (ev *evaluator) evalGroup(g *groupBy, input any, env *frame) (any, *Error) {
	groups := &object{keys: make([]string, 0, len(g.pairs)), vals: make([]any, 0, len(g.pairs))} // key -> *groupEntry, in JavaScript key order
	reduce := false
	var tuples []tuple
	var items []any
	if a, ok := input.(*array); ok && a.tupleStream {
		reduce = true
		tuples = a.tuples
	} else if a, ok := input.(*array); ok {
		items = a.items
	} else {
		items = []any{input}
	}
	n := len(items)
	if reduce {
		n = len(tuples)
		if n == 0 {
			return nil, &Error{Code: "U1010", Position: g.pos, info: &errInfo{
				message: "Grouping an empty tuple stream (a path with @, # or % that matched nothing); jsonata-js fails with a TypeError"}}
		}
	}
	if n == 0 {
		if reduce {
			tuples = []tuple{{names: []string{"@"}, vals: []any{Undefined}}}
		} else {
			items = []any{Undefined}
		}
		n = 1
	}
	for i := 0; i < n; i++ {
		var item any
		var t tuple
		ienv := env
		if reduce {
			t = tuples[i]
			item = t.context()
			ienv = frameFromTuple(env, t)
		} else {
			item = items[i]
		}
		for pi, pr := range g.pairs {
			key, err := ev.eval(pr.key, item, ienv)
			if err != nil {
				return nil, err
			}
			if isUndef(key) {
				continue
			}
			ks, ok := key.(string)
			if !ok {
				return nil, &Error{Code: "T1003", Position: g.pos, info: &errInfo{value: key}}
			}
			if ge, ok := groups.get(ks); ok {
				e := ge.(*groupEntry)
				if e.exprIndex != pi {
					return nil, &Error{Code: "D1009", Position: g.pos, info: &errInfo{value: ks}}
				}
				if reduce {
					e.tuples = append(e.tuples, t)
				} else {
					e.data = fnAppend(e.data, item)
				}
			} else {
				e := &groupEntry{data: item, exprIndex: pi}
				if reduce {
					e.tuples = []tuple{t}
				}
				groups.set(ks, e)
			}
		}
	}
	result := &object{keys: make([]string, 0, len(groups.keys)), vals: make([]any, 0, len(groups.keys))}
	for gi, k := range groups.keys {
		e := groups.vals[gi].(*groupEntry)
		context := e.data
		genv := env
		if reduce {
			t := reduceTuples(e.tuples)
			context = t.context()
			var names []string
			var vals []any
			for i, nm := range t.names {
				if nm != "@" {
					names = append(names, nm)
					vals = append(vals, t.vals[i])
				}
			}
			genv = frameFromTuple(env, tuple{names: names, vals: vals})
		}
		v, err := ev.eval(g.pairs[e.exprIndex].value, context, genv)
		if err != nil {
			return nil, err
		}
		if !isUndef(v) {
			result.set(k, v)
		}
	}
	return result, nil
}

func reduceTuples(ts []tuple) tuple {
	if len(ts) == 1 {
		return ts[0]
	}
	r := tuple{names: append([]string(nil), ts[0].names...), vals: append([]any(nil), ts[0].vals...)}
	for _, t := range ts[1:] {
		for i, nm := range t.names {
			cur, _ := r.get(nm)
			r = r.with(nm, fnAppend(cur, t.vals[i]))
		}
	}
	return r
}

// evalSort applies an order-by step to values or to a tuple stream, with jsonata-js's stable merge
// sort: undefined sort keys go last, mixed types are T2007, non-string/number keys T2008.
func (ev *evaluator) evalSort(expr *node, input *array, env *frame) (any, *Error) {
	isTuple := input.tupleStream
	cmp := func(a, b any) (bool, *Error) {
		comp := 0
		for _, term := range expr.terms {
			if comp != 0 {
				break
			}
			ctxA, envA := a, env
			ctxB, envB := b, env
			if isTuple {
				ta, tb := a.(tuple), b.(tuple)
				ctxA, envA = ta.context(), frameFromTuple(env, ta)
				ctxB, envB = tb.context(), frameFromTuple(env, tb)
			}
			aa, err := ev.eval(term.expr, ctxA, envA)
			if err != nil {
				return false, err
			}
			bb, err := ev.eval(term.expr, ctxB, envB)
			if err != nil {
				return false, err
			}
			if isUndef(aa) {
				if isUndef(bb) {
					comp = 0
				} else {
					comp = 1
				}
				continue
			}
			if isUndef(bb) {
				comp = -1
				continue
			}
			okA, okB := isStrOrNum(aa), isStrOrNum(bb)
			if !okA || !okB {
				return false, &Error{Code: "T2008", Position: expr.pos, info: &errInfo{value: aa, value2: bb}}
			}
			switch x := aa.(type) {
			case string:
				y, ok := bb.(string)
				if !ok {
					return false, &Error{Code: "T2007", Position: expr.pos, info: &errInfo{value: aa, value2: bb}}
				}
				comp = compareStrings(x, y)
			case float64:
				y, ok := bb.(float64)
				if !ok {
					return false, &Error{Code: "T2007", Position: expr.pos, info: &errInfo{value: aa, value2: bb}}
				}
				switch {
				case x == y:
					comp = 0
				case x < y:
					comp = -1
				default:
					comp = 1
				}
			}
			if term.descending {
				comp = -comp
			}
		}
		return comp == 1, nil
	}
	if isTuple {
		vals := make([]any, len(input.tuples))
		for i, t := range input.tuples {
			vals[i] = t
		}
		sorted, err := mergeSort(vals, cmp)
		if err != nil {
			return nil, err
		}
		out := &array{seq: true, tupleStream: true, tuples: make([]tuple, len(sorted))}
		for i, v := range sorted {
			out.tuples[i] = v.(tuple)
		}
		return out, nil
	}
	if len(input.items) <= 1 {
		return input, nil
	}
	sorted, err := mergeSort(input.items, cmp)
	if err != nil {
		return nil, err
	}
	return newArray(sorted), nil
}

func isStrOrNum(v any) bool {
	switch v.(type) {
	case string, float64:
		return true
	}
	return false
}

// mergeSort is a stable merge sort; swap(a, b) reports whether b must come before a.
func mergeSort(items []any, swap func(a, b any) (bool, *Error)) ([]any, *Error) {
	if len(items) <= 1 {
		return items, nil
	}
	mid := len(items) / 2
	left, err := mergeSort(items[:mid:mid], swap)
	if err != nil {
		return nil, err
	}
	right, err := mergeSort(items[mid:], swap)
	if err != nil {
		return nil, err
	}
	out := make([]any, 0, len(items))
	i, j := 0, 0
	for i < len(left) && j < len(right) {
		s, err := swap(left[i], right[j])
		if err != nil {
			return nil, err
		}
		if s {
			out = append(out, right[j])
			j++
		} else {
			out = append(out, left[i])
			i++
		}
	}
	out = append(out, left[i:]...)
	out = append(out, right[j:]...)
	return out, nil
}

// toBoolean is $boolean: undefined stays undefined.
func toBoolean(v any) (any, *Error) {
	switch t := v.(type) {
	case undefinedType:
		return Undefined, nil
	case *array:
		if len(t.items) == 1 {
			return toBoolean(t.items[0])
		}
		for _, e := range t.items {
			b, err := toBoolean(e)
			if err != nil {
				return nil, err
			}
			if b == true {
				return true, nil
			}
		}
		return false, nil
	case string:
		return t != "", nil
	case float64:
		num, err := isNumeric(t)
		if err != nil {
			return nil, err
		}
		return num && t != 0, nil
	case *object:
		return len(t.keys) > 0, nil
	case bool:
		return t, nil
	case *lambda, *builtin, *transformFn:
		// jsonata-js represents these as objects with properties, which are truthy
		return true, nil
	case *nativeFn:
		return t.object, nil
	}
	return false, nil
}

// jsTruthy is JavaScript truthiness (used where jsonata-js tests a value with if()).
func jsTruthy(v any) bool {
	switch t := v.(type) {
	case undefinedType, nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0 && !math.IsNaN(t)
	case string:
		return t != ""
	}
	return true
}

var _ = strings.TrimSpace
