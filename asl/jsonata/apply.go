package jsonata

// lambda is a user function (function($x){...}), a partial application, or a tail-call thunk.
type lambda struct {
	input  any
	env    *frame
	params []*node
	sig    *signature
	body   *node
	thunk  bool
	native *builtin // a partially applied built-in: body is the built-in itself
}

// builtin is a library function.
type builtin struct {
	name    string
	sig     *signature
	arity   int // JavaScript Function.length: how many arguments $map and friends pass
	nparams int // declared parameters, for partial application
	fn      func(c *call, args []any) (any, *Error)
}

// call is the context a built-in runs in.
type call struct {
	ev    *evaluator
	input any
	env   *frame
}

// regexFn is a regular expression literal, a function that matches a string.
type regexFn struct {
	re     jsRegexp
	source string
	pos    int
}

// transformFn is a transform expression | pattern | update [, delete] |.
type transformFn struct {
	node *node
	env  *frame
}

// nativeFn is a function made by the evaluator (a matcher's next, a function chain).
type nativeFn struct {
	arity  int
	object bool // jsonata-js makes it a lambda object (truthy), not a bare JavaScript function
	fn     func(c *call, args []any) (any, *Error)
}

// placeholderType marks a '?' argument of a partial application.
type placeholderType struct{}

func isFunction(v any) bool {
	switch v.(type) {
	case *lambda, *builtin, *regexFn, *transformFn, *nativeFn:
		return true
	}
	return false
}

// arity is jsonata-js's getFunctionArity.
func arity(f any) int {
	switch t := f.(type) {
	case *lambda:
		return len(t.params)
	case *builtin:
		return t.arity
	case *regexFn:
		return 2
	case *transformFn:
		return 1
	case *nativeFn:
		return t.arity
	}
	return 0
}

func (ev *evaluator) evalFunction(expr *node, input any, env *frame, applyto []any) (any, *Error) {
	proc, err := ev.eval(expr.procedure, input, env)
	if err != nil {
		return nil, err
	}
	if isUndef(proc) && expr.procedure.typ == nPath {
		if _, ok := ev.lookup(env, expr.procedure.steps[0].value); ok {
			return nil, &Error{Code: "T1005", Position: expr.pos, Token: expr.procedure.steps[0].value}
		}
	}
	args := make([]any, 0, len(expr.arguments)+len(applyto))
	args = append(args, applyto...)
	for _, a := range expr.arguments {
		v, err := ev.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	name := expr.procedure.value
	if expr.procedure.typ == nPath {
		name = expr.procedure.steps[0].value
	}
	res, err := ev.apply(proc, args, input, env)
	if err != nil {
		// jsonata-js stamps the call's position on the function object, and an error escaping
		// the function takes it
		switch proc.(type) {
		case *lambda, *builtin, *transformFn:
			err.Position = expr.pos
		}
		if err.Position == 0 {
			err.Position = expr.pos
		}
		if err.Token == "" {
			err.Token = name
		}
		return nil, err
	}
	return res, nil
}

// apply calls proc and runs the trampoline for tail calls.
func (ev *evaluator) apply(proc any, args []any, input any, env *frame) (any, *Error) {
	res, err := ev.applyInner(proc, args, input, env)
	for err == nil {
		l, ok := res.(*lambda)
		if !ok || !l.thunk {
			break
		}
		if e := ev.charge(1); e != nil {
			return nil, e
		}
		call := l.body
		next, e := ev.eval(call.procedure, l.input, l.env)
		if e != nil {
			return nil, e
		}
		targs := make([]any, len(call.arguments))
		for i, a := range call.arguments {
			v, e := ev.eval(a, l.input, l.env)
			if e != nil {
				return nil, e
			}
			targs[i] = v
		}
		res, err = ev.applyInner(next, targs, input, env)
		if err != nil && err.Position == 0 {
			err.Position = call.pos
		}
	}
	return res, err
}

func (ev *evaluator) applyInner(proc any, args []any, input any, env *frame) (any, *Error) {
	ev.depth++
	defer func() { ev.depth-- }()
	if ev.depth > ev.maxDepth {
		return nil, &Error{Code: "U1001"}
	}
	switch p := proc.(type) {
	case *lambda:
		if p.sig != nil {
			v, err := p.sig.validate(args, input)
			if err != nil {
				return nil, err
			}
			args = v
		}
		return ev.applyProcedure(p, args)
	case *builtin:
		if p.sig != nil {
			v, err := p.sig.validate(args, input)
			if err != nil {
				if err.Token == "" {
					err.Token = p.name
				}
				return nil, err
			}
			args = v
		}
		return p.fn(&call{ev: ev, input: input, env: env}, args)
	case *regexFn:
		s, ok := argAt(args, 0).(string)
		if !ok {
			return Undefined, nil
		}
		m, err := regexMatcher(ev, p)(s)
		if err != nil || m == nil {
			return Undefined, err
		}
		return m.toObject(s), nil
	case *transformFn:
		v, err := transformSig.validate(args, input)
		if err != nil {
			return nil, err
		}
		return ev.transform(p, v[0])
	case *nativeFn:
		return p.fn(&call{ev: ev, input: input, env: env}, args)
	}
	return nil, &Error{Code: "T1006"}
}

var transformSig = mustSig("<(oa):o>")

func (ev *evaluator) applyProcedure(p *lambda, args []any) (any, *Error) {
	env := &frame{parent: p.env, names: make([]string, len(p.params), len(p.params)+1), vals: make([]any, len(p.params), len(p.params)+1)}
	for i, param := range p.params {
		env.names[i] = param.value
		env.vals[i] = argAt(args, i)
	}
	if p.native != nil {
		nargs := make([]any, p.native.nparams)
		for i := range nargs {
			nargs[i], _ = env.lookup(nativeParam(i))
		}
		// A partially applied built-in keeps its signature checks (jsonata-js drops them; the
		// built-ins here rely on validated arguments).
		if p.native.sig != nil {
			v, err := p.native.sig.validate(nargs, Undefined)
			if err != nil {
				return nil, err
			}
			nargs = v
		}
		return p.native.fn(&call{ev: ev, input: Undefined, env: env}, nargs)
	}
	return ev.eval(p.body, p.input, env)
}

func nativeParam(i int) string { return " arg" + itoa(i) }

func (ev *evaluator) evalPartial(expr *node, input any, env *frame) (any, *Error) {
	args := make([]any, len(expr.arguments))
	for i, a := range expr.arguments {
		if a.typ == nPlaceholder {
			args[i] = placeholderType{}
			continue
		}
		v, err := ev.eval(a, input, env)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	proc, err := ev.eval(expr.procedure, input, env)
	if err != nil {
		return nil, err
	}
	if isUndef(proc) && expr.procedure.typ == nPath {
		if _, ok := ev.lookup(env, expr.procedure.steps[0].value); ok {
			return nil, &Error{Code: "T1007", Position: expr.pos, Token: expr.procedure.steps[0].value}
		}
	}
	switch p := proc.(type) {
	case *lambda:
		return partialApply(p, args), nil
	case *builtin:
		params := make([]*node, p.nparams)
		for i := range params {
			params[i] = &node{typ: nVariable, value: nativeParam(i)}
		}
		return partialApply(&lambda{env: env, params: params, native: p}, args), nil
	}
	name := expr.procedure.value
	if expr.procedure.typ == nPath {
		name = expr.procedure.steps[0].value
	}
	return nil, &Error{Code: "T1008", Position: expr.pos, Token: name}
}

func partialApply(p *lambda, args []any) *lambda {
	env := newFrame(p.env)
	var unbound []*node
	for i, param := range p.params {
		a := argAt(args, i)
		if _, ok := a.(placeholderType); ok {
			unbound = append(unbound, param)
		} else {
			env.bind(param.value, a)
		}
	}
	return &lambda{input: p.input, env: env, params: unbound, body: p.body, native: p.native}
}

func (ev *evaluator) evalApply(expr *node, input any, env *frame) (any, *Error) {
	lhs, err := ev.eval(expr.lhs, input, env)
	if err != nil {
		return nil, err
	}
	if expr.rhs.typ == nFunction {
		return ev.evalFunction(expr.rhs, input, env, []any{lhs})
	}
	fn, err := ev.eval(expr.rhs, input, env)
	if err != nil {
		return nil, err
	}
	if !isFunction(fn) {
		return nil, &Error{Code: "T2006", Position: expr.pos, info: &errInfo{value: fn}}
	}
	if isFunction(lhs) {
		f, g := lhs, fn
		return &nativeFn{arity: 1, object: true, fn: func(c *call, args []any) (any, *Error) {
			v, err := c.ev.apply(f, []any{argAt(args, 0)}, nil, c.env)
			if err != nil {
				return nil, err
			}
			return c.ev.apply(g, []any{v}, nil, c.env)
		}}, nil
	}
	return ev.apply(fn, []any{lhs}, nil, env)
}

// callFn calls a function value from a built-in, as jsonata-js's argument closures do (with a null
// context).
func (c *call) callFn(f any, args ...any) (any, *Error) {
	return c.ev.apply(f, args, nil, c.env)
}

// hofArgs passes value, then index/key and the collection only if f takes them.
func hofArgs(f any, a, b, c any) []any {
	n := arity(f)
	args := []any{a}
	if n >= 2 {
		args = append(args, b)
	}
	if n >= 3 {
		args = append(args, c)
	}
	return args
}

func (ev *evaluator) transform(t *transformFn, obj any) (any, *Error) {
	expr := t.node
	if isUndef(obj) {
		return Undefined, nil
	}
	cl, _ := ev.lookup(t.env, "clone")
	if !isFunction(cl) {
		return nil, &Error{Code: "T2013", Position: expr.pos}
	}
	result, err := ev.apply(cl, []any{obj}, nil, t.env)
	if err != nil {
		return nil, err
	}
	matches, err := ev.eval(expr.pattern, result, t.env)
	if err != nil {
		return nil, err
	}
	if isUndef(matches) {
		return result, nil
	}
	var list []any
	if a, ok := matches.(*array); ok {
		list = a.items
	} else {
		list = []any{matches}
	}
	for _, m := range list {
		upd, err := ev.eval(expr.update, m, t.env)
		if err != nil {
			return nil, err
		}
		if !isUndef(upd) {
			uo, ok := upd.(*object)
			if !ok {
				return nil, &Error{Code: "T2011", Position: expr.update.pos, info: &errInfo{value: upd}}
			}
			if mo, ok := m.(*object); ok {
				for i, k := range uo.keys {
					mo.set(k, uo.vals[i])
				}
			} else if _, isArr := m.(*array); !isArr && len(uo.keys) > 0 {
				return nil, &Error{Code: "U1010", Position: expr.update.pos, info: &errInfo{
					message: "The transform expression cannot update " + describe(m) + ": only objects can be updated (jsonata-js fails with a TypeError)"}}
			}
		}
		if expr.delete != nil {
			del, err := ev.eval(expr.delete, m, t.env)
			if err != nil {
				return nil, err
			}
			if !isUndef(del) {
				da, ok := del.(*array)
				if !ok {
					da = newArray([]any{del})
				}
				if !isArrayOfStrings(da) {
					return nil, &Error{Code: "T2012", Position: expr.delete.pos, info: &errInfo{value: del}}
				}
				if mo, ok := m.(*object); ok {
					for _, k := range da.items {
						mo.del(k.(string))
					}
				}
			}
		}
	}
	return result, nil
}
