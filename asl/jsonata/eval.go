package jsonata

import (
	"math"
	"unicode/utf16"
)

// frame is one scope of variable bindings.
type frame struct {
	names  []string
	vals   []any
	parent *frame
}

func newFrame(parent *frame) *frame { return &frame{parent: parent} }

func (f *frame) bind(name string, v any) {
	for i, n := range f.names {
		if n == name {
			f.vals[i] = v
			return
		}
	}
	f.names = append(f.names, name)
	f.vals = append(f.vals, v)
}

func (f *frame) lookup(name string) (any, bool) {
	for fr := f; fr != nil; fr = fr.parent {
		for i := len(fr.names) - 1; i >= 0; i-- {
			if fr.names[i] == name {
				return fr.vals[i], true
			}
		}
	}
	return Undefined, false
}

func frameFromTuple(env *frame, t tuple) *frame {
	f := &frame{parent: env, names: t.names, vals: t.vals}
	// the tuple's slices are shared; bind on this frame must not write into them
	f.names = append([]string(nil), t.names...)
	f.vals = append([]any(nil), t.vals...)
	return f
}

// evaluator holds the state of one evaluation.
type evaluator struct {
	opts     *Options
	depth    int
	maxDepth int
	steps    int
	maxSteps int
	builtins map[string]*builtin
}

func (ev *evaluator) lookup(env *frame, name string) (any, bool) {
	if v, ok := env.lookup(name); ok {
		return v, true
	}
	if b, ok := ev.builtins[name]; ok {
		return b, true
	}
	return Undefined, false
}

func (ev *evaluator) charge(n int) *Error {
	ev.steps += n
	if ev.maxSteps > 0 && ev.steps > ev.maxSteps {
		return &Error{Code: "U1002"}
	}
	return nil
}

// chargeString bounds the length of a string being built and charges for it.
func (ev *evaluator) chargeString(n int) *Error {
	if n > maxStringBytes {
		return &Error{Code: "U1003"}
	}
	return ev.charge(n / 64)
}

// chargeItems bounds the length of an array being built and charges for it.
func (ev *evaluator) chargeItems(n int) *Error {
	if n > maxArrayItems {
		return &Error{Code: "U1003"}
	}
	return ev.charge(n / 16)
}

func (ev *evaluator) eval(expr *node, input any, env *frame) (any, *Error) {
	ev.depth++
	defer func() { ev.depth-- }()
	if ev.depth > ev.maxDepth {
		return nil, &Error{Code: "U1001", Position: expr.pos}
	}
	if err := ev.charge(1); err != nil {
		return nil, err
	}
	var result any
	var err *Error
	switch expr.typ {
	case nPath:
		result, err = ev.evalPath(expr, input, env)
	case nBinary:
		result, err = ev.evalBinary(expr, input, env)
	case nUnary:
		result, err = ev.evalUnary(expr, input, env)
	case nName:
		result = lookupKey(input, expr.value)
	case nString:
		result = expr.value
	case nNumber:
		result = expr.num
	case nValue:
		result = expr.val
	case nWildcard:
		result = evalWildcard(input)
	case nDescendant:
		result = evalDescendants(input)
	case nParent:
		result, _ = env.lookup(expr.slot.label)
	case nCondition:
		var c any
		c, err = ev.eval(expr.condition, input, env)
		if err == nil {
			b, e := toBoolean(c)
			if e != nil {
				err = e
			} else if b == true {
				result, err = ev.eval(expr.then, input, env)
			} else if expr.els != nil {
				result, err = ev.eval(expr.els, input, env)
			} else {
				result = Undefined
			}
		}
	case nBlock:
		result = Undefined
		benv := newFrame(env)
		for _, e := range expr.expressions {
			result, err = ev.eval(e, input, benv)
			if err != nil {
				break
			}
		}
	case nBind:
		result, err = ev.eval(expr.rhs, input, env)
		if err == nil {
			env.bind(expr.lhs.value, result)
		}
	case nRegex:
		result = &regexFn{re: expr.re, source: expr.reSource, pos: expr.pos}
	case nFunction:
		result, err = ev.evalFunction(expr, input, env, nil)
	case nVariable:
		if expr.value == "" {
			if a, ok := input.(*array); ok && a.outerWrapper && len(a.items) > 0 {
				result = a.items[0]
			} else {
				result = input
			}
		} else {
			result, _ = ev.lookup(env, expr.value)
		}
	case nLambda:
		result = &lambda{input: input, env: env, params: expr.arguments, sig: expr.sig, body: expr.body, thunk: expr.thunk}
	case nPartial:
		result, err = ev.evalPartial(expr, input, env)
	case nApply:
		result, err = ev.evalApply(expr, input, env)
	case nTransform:
		result = &transformFn{node: expr, env: env}
	default:
		err = &Error{Code: "S0206", Position: expr.pos}
	}
	if err != nil {
		return nil, err
	}
	for _, st := range expr.predicate {
		result, err = ev.evalFilter(st.filter, result, env)
		if err != nil {
			return nil, err
		}
	}
	if expr.typ != nPath && expr.group != nil {
		result, err = ev.evalGroup(expr.group, result, env)
		if err != nil {
			return nil, err
		}
	}
	if a, ok := result.(*array); ok && a.seq && !a.tupleStream {
		if expr.keepArray {
			a.keepSingleton = true
		}
		switch len(a.items) {
		case 0:
			result = Undefined
		case 1:
			if !a.keepSingleton {
				result = a.items[0]
			}
		}
	}
	return result, nil
}

// lookupKey is jsonata-js's lookup: a field of an object, or of every object in an array.
func lookupKey(input any, key string) any {
	switch t := input.(type) {
	case *array:
		res := newSeq()
		for _, item := range t.items {
			v := lookupKey(item, key)
			if isUndef(v) {
				continue
			}
			if a, ok := v.(*array); ok {
				res.items = append(res.items, a.items...)
			} else {
				res.items = append(res.items, v)
			}
		}
		return res
	case *object:
		if v, ok := t.get(key); ok {
			return v
		}
	}
	return Undefined
}

func evalWildcard(input any) any {
	results := newSeq()
	var res any = results
	if a, ok := input.(*array); ok && a.outerWrapper && len(a.items) > 0 {
		input = a.items[0]
	}
	var vals []any
	switch t := input.(type) {
	case *object:
		for i := range t.keys {
			vals = append(vals, t.vals[i])
		}
	case *array:
		vals = t.items
	}
	{
		for _, v := range vals {
			if a, ok := v.(*array); ok {
				res = fnAppend(res, newArray(flatten(a, nil)))
			} else {
				ra := res.(*array)
				ra.items = append(ra.items, v)
			}
		}
	}
	return res
}

func flatten(v any, out []any) []any {
	if a, ok := v.(*array); ok {
		for _, e := range a.items {
			out = flatten(e, out)
		}
		return out
	}
	return append(out, v)
}

func evalDescendants(input any) any {
	if isUndef(input) {
		return Undefined
	}
	res := newSeq()
	recurseDescendants(input, res)
	if len(res.items) == 1 {
		return res.items[0]
	}
	return res
}

func recurseDescendants(v any, res *array) {
	switch t := v.(type) {
	case *array:
		for _, e := range t.items {
			recurseDescendants(e, res)
		}
	case *object:
		res.items = append(res.items, v)
		for i := range t.keys {
			recurseDescendants(t.vals[i], res)
		}
	default:
		res.items = append(res.items, v)
	}
}

// fnAppend is $append: it concatenates, making non-arrays single-item arrays; the result is a plain
// array.
func fnAppend(a, b any) any {
	if isUndef(a) {
		return b
	}
	if isUndef(b) {
		return a
	}
	var items []any
	if x, ok := a.(*array); ok {
		items = append(items, x.items...)
	} else {
		items = append(items, a)
	}
	if y, ok := b.(*array); ok {
		items = append(items, y.items...)
	} else {
		items = append(items, b)
	}
	return newArray(items)
}

// stepInput turns the value a path step iterates over into items, as a JavaScript for loop over
// value.length would: arrays by item, strings by UTF-16 unit, anything else not at all.
func stepInput(v any) []any {
	switch t := v.(type) {
	case *array:
		return t.items
	case string:
		units := utf16.Encode([]rune(t))
		out := make([]any, len(units))
		for i, u := range units {
			out[i] = string(utf16.Decode([]uint16{u}))
		}
		return out
	}
	return nil
}

func (ev *evaluator) evalPath(expr *node, input any, env *frame) (any, *Error) {
	var inputSeq any
	if a, ok := input.(*array); ok && expr.steps[0].typ != nVariable {
		inputSeq = a
	} else {
		inputSeq = newSeq(input)
	}
	var resultSeq any = Undefined
	isTuple := false
	var tuples []tuple
	haveTuples := false
	for i, step := range expr.steps {
		if step.tuple {
			isTuple = true
		}
		var err *Error
		if i == 0 && step.consarray {
			resultSeq, err = ev.eval(step, inputSeq, env)
		} else if isTuple {
			tuples, err = ev.evalTupleStep(step, stepInput(inputSeq), tuples, haveTuples, env)
			haveTuples = true
		} else {
			resultSeq, err = ev.evalStep(step, stepInput(inputSeq), env, i == len(expr.steps)-1)
		}
		if err != nil {
			return nil, err
		}
		if !isTuple {
			if isUndef(resultSeq) {
				break
			}
			if a, ok := resultSeq.(*array); ok && len(a.items) == 0 {
				break
			}
		}
		if !step.hasFocus {
			inputSeq = resultSeq
		}
	}
	if isTuple {
		if expr.tuple {
			resultSeq = &array{seq: true, tupleStream: true, tuples: tuples}
		} else {
			out := make([]any, len(tuples))
			for i, t := range tuples {
				out[i] = t.context()
			}
			resultSeq = newSeq(out...)
		}
	}
	if expr.keepSingletonArray {
		if a, ok := resultSeq.(*array); ok {
			if a.cons && !a.seq {
				a = newSeq(a)
				resultSeq = a
			}
			a.keepSingleton = true
		}
	}
	if expr.group != nil {
		var in any = resultSeq
		if isTuple {
			in = &array{seq: true, tupleStream: true, tuples: tuples}
		}
		return ev.evalGroup(expr.group, in, env)
	}
	return resultSeq, nil
}

func (ev *evaluator) evalStep(expr *node, input []any, env *frame, last bool) (any, *Error) {
	if expr.typ == nSort {
		res, err := ev.evalSort(expr, newSeq(input...), env)
		if err != nil {
			return nil, err
		}
		for _, st := range expr.stages {
			res, err = ev.evalFilter(st.filter, res, env)
			if err != nil {
				return nil, err
			}
		}
		return res, nil
	}
	results := make([]any, 0, len(input))
	for _, item := range input {
		res, err := ev.eval(expr, item, env)
		if err != nil {
			return nil, err
		}
		for _, st := range expr.stages {
			res, err = ev.evalFilter(st.filter, res, env)
			if err != nil {
				return nil, err
			}
		}
		if !isUndef(res) {
			results = append(results, res)
		}
	}
	if last && len(results) == 1 {
		if a, ok := results[0].(*array); ok && !a.seq {
			return a, nil
		}
	}
	out := newSeq()
	for _, r := range results {
		if a, ok := r.(*array); ok && !a.cons {
			out.items = append(out.items, a.items...)
		} else {
			out.items = append(out.items, r)
		}
	}
	return out, nil
}

func (ev *evaluator) evalTupleStep(expr *node, input []any, bindings []tuple, have bool, env *frame) ([]tuple, *Error) {
	if expr.typ == nSort {
		var result []tuple
		if have {
			sorted, err := ev.evalSort(expr, &array{seq: true, tupleStream: true, tuples: bindings}, env)
			if err != nil {
				return nil, err
			}
			result = sorted.(*array).tuples
		} else {
			sorted, err := ev.evalSort(expr, newSeq(input...), env)
			if err != nil {
				return nil, err
			}
			for i, v := range stepInput(sorted) {
				t := tuple{names: []string{"@"}, vals: []any{v}}
				if expr.hasIndex {
					t = t.with(expr.index, float64(i))
				}
				result = append(result, t)
			}
		}
		return ev.evalStages(expr.stages, result, env)
	}
	if !have {
		bindings = make([]tuple, len(input))
		for i, v := range input {
			bindings[i] = tuple{names: []string{"@"}, vals: []any{v}}
		}
	}
	var result []tuple
	for _, tb := range bindings {
		stepEnv := frameFromTuple(env, tb)
		res, err := ev.eval(expr, tb.context(), stepEnv)
		if err != nil {
			return nil, err
		}
		if isUndef(res) {
			continue
		}
		if a, ok := res.(*array); ok && a.tupleStream {
			for _, t := range a.tuples {
				result = append(result, tb.merge(t))
			}
			continue
		}
		var items []any
		if a, ok := res.(*array); ok {
			items = a.items
		} else {
			items = []any{res}
		}
		for bb, r := range items {
			t := tb
			if expr.hasFocus {
				t = t.with(expr.focus, r)
				t = t.with("@", tb.context())
			} else {
				t = t.with("@", r)
			}
			if expr.hasIndex {
				t = t.with(expr.index, float64(bb))
			}
			if expr.ancestor != nil {
				t = t.with(expr.ancestor.label, tb.context())
			}
			result = append(result, t)
		}
	}
	return ev.evalStages(expr.stages, result, env)
}

func (ev *evaluator) evalStages(stages []stage, input []tuple, env *frame) ([]tuple, *Error) {
	result := input
	for _, st := range stages {
		if st.filter != nil {
			r, err := ev.evalFilter(st.filter, &array{seq: true, tupleStream: true, tuples: result}, env)
			if err != nil {
				return nil, err
			}
			result = r.(*array).tuples
		} else {
			out := make([]tuple, len(result))
			for i, t := range result {
				out[i] = t.with(st.index, float64(i))
			}
			result = out
		}
	}
	return result, nil
}

func (ev *evaluator) evalFilter(pred *node, input any, env *frame) (any, *Error) {
	if a, ok := input.(*array); ok && a.tupleStream {
		out := &array{seq: true, tupleStream: true}
		n := len(a.tuples)
		if pred.typ == nNumber {
			idx := int(math.Floor(pred.num))
			if idx < 0 {
				idx += n
			}
			if idx >= 0 && idx < n {
				out.tuples = append(out.tuples, a.tuples[idx])
			}
			return out, nil
		}
		for i, t := range a.tuples {
			res, err := ev.eval(pred, t.context(), frameFromTuple(env, t))
			if err != nil {
				return nil, err
			}
			keep, err := predicateKeeps(res, i, n)
			if err != nil {
				return nil, err
			}
			for ; keep > 0; keep-- {
				out.tuples = append(out.tuples, t)
			}
		}
		return out, nil
	}
	var items []any
	if a, ok := input.(*array); ok {
		items = a.items
	} else {
		items = []any{input}
	}
	results := newSeq()
	if pred.typ == nNumber {
		idx := int(math.Floor(pred.num))
		if math.IsInf(pred.num, 0) || math.Abs(pred.num) > 1e15 {
			return results, nil
		}
		if idx < 0 {
			idx += len(items)
		}
		if idx >= 0 && idx < len(items) {
			item := items[idx]
			if isUndef(item) {
				return results, nil
			}
			if a, ok := item.(*array); ok {
				return a, nil
			}
			results.items = append(results.items, item)
		}
		return results, nil
	}
	for i, item := range items {
		res, err := ev.eval(pred, item, env)
		if err != nil {
			return nil, err
		}
		keep, err := predicateKeeps(res, i, len(items))
		if err != nil {
			return nil, err
		}
		for ; keep > 0; keep-- {
			results.items = append(results.items, item)
		}
	}
	return results, nil
}

// predicateKeeps says how many times the item at index is kept by a predicate that evaluated to
// res: numbers (or arrays of numbers) select by position (once per matching number), anything
// else by its boolean value.
func predicateKeeps(res any, index, n int) (int, *Error) {
	num, err := isNumeric(res)
	if err != nil {
		return 0, err
	}
	if num {
		res = newArray([]any{res})
	}
	if a, ok := res.(*array); ok && isArrayOfNumbers(a) {
		keep := 0
		for _, v := range a.items {
			f := v.(float64)
			if math.IsInf(f, 0) || math.IsNaN(f) || math.Abs(f) > 1e15 {
				continue
			}
			ii := int(math.Floor(f))
			if ii < 0 {
				ii += n
			}
			if ii == index {
				keep++
			}
		}
		return keep, nil
	}
	b, err := toBoolean(res)
	if err != nil {
		return 0, err
	}
	if b == true {
		return 1, nil
	}
	return 0, nil
}

func isArrayOfNumbers(a *array) bool {
	for _, v := range a.items {
		if _, ok := v.(float64); !ok {
			return false
		}
	}
	return true
}

func isArrayOfStrings(a *array) bool {
	for _, v := range a.items {
		if _, ok := v.(string); !ok {
			return false
		}
	}
	return true
}
