package asl

import (
	"errors"
	"fmt"
	"time"

	"github.com/duro-dev/duro/asl/intrinsic"
	"github.com/duro-dev/duro/asl/jsonpath"
	"github.com/duro-dev/duro/asl/jsonv"
)

// scope holds the variables of the top-level states, of one Parallel branch or of one Map
// iteration. Inner scopes read outer ones; assignments always land in the thread's own scope, so
// nothing assigned inside a branch or iteration leaks out.
type scope struct {
	parent *scope
	vars   map[string]any
}

func newScope(parent *scope) *scope { return &scope{parent: parent} }

func (s *scope) lookup(name string) (any, bool) {
	for sc := s; sc != nil; sc = sc.parent {
		if v, ok := sc.vars[name]; ok {
			return v, true
		}
	}
	return nil, false
}

func (s *scope) set(name string, v any) {
	if s.vars == nil {
		s.vars = map[string]any{}
	}
	s.vars[name] = v
}

// all returns every visible variable, inner scopes winning.
func (s *scope) all(into map[string]any) {
	if s == nil {
		return
	}
	s.parent.all(into)
	for k, v := range s.vars {
		into[k] = v
	}
}

const timeLayout = "2006-01-02T15:04:05.000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func (x *Execution) buildContext() {
	e := jsonv.NewObject()
	e.Set("Id", x.cfg.ExecutionArn)
	e.Set("Input", x.cfg.Input)
	e.Set("Name", x.cfg.Name)
	e.Set("RoleArn", x.cfg.RoleArn)
	e.Set("StartTime", formatTime(x.cfg.StartTime))
	e.Set("RedriveCount", jsonv.NumberFromInt(int64(x.cfg.RedriveCount)))
	x.execCtx = e
	s := jsonv.NewObject()
	s.Set("Id", x.cfg.StateMachineArn)
	s.Set("Name", x.cfg.StateMachineName)
	x.stmCtx = s
}

// ctxKey is what $$ depends on besides the execution: the thread's state entry, retry, token and
// Map item. contextObject rebuilds $$ only when it changes.
type ctxKey struct {
	cur     *state
	entered time.Time
	retry   int
	token   string
	item    *mapItem
}

// contextObject returns $$ for the thread's current state. The object is shared (values are
// immutable) and cached until the thread moves on.
func (x *Execution) contextObject(th *thread) *jsonv.Object {
	key := ctxKey{cur: th.cur, entered: th.entered, retry: th.retryCount, token: th.token, item: th.item}
	if th.ctx != nil && th.ctxKey == key {
		return th.ctx
	}
	th.ctx, th.ctxKey = x.buildContextObject(th), key
	return th.ctx
}

func (x *Execution) buildContextObject(th *thread) *jsonv.Object {
	o := jsonv.NewObject()
	o.Set("Execution", x.execCtx)
	st := jsonv.NewObject()
	st.Set("EnteredTime", formatTime(th.entered))
	if th.cur != nil {
		st.Set("Name", th.cur.name)
	}
	st.Set("RetryCount", jsonv.NumberFromInt(int64(th.retryCount)))
	o.Set("State", st)
	o.Set("StateMachine", x.stmCtx)
	if th.token != "" {
		t := jsonv.NewObject()
		t.Set("Token", th.token)
		o.Set("Task", t)
	}
	if th.item != nil {
		item := jsonv.NewObject()
		item.Set("Index", jsonv.NumberFromInt(int64(th.item.index)))
		item.Set("Value", th.item.value)
		if th.item.source != "" {
			item.Set("Source", th.item.source)
		}
		m := jsonv.NewObject()
		m.Set("Item", item)
		o.Set("Map", m)
	}
	return o
}

// statesVar builds JSONata's $states.
func (x *Execution) statesVar(th *thread, input, result, errorOutput any) *jsonv.Object {
	o := jsonv.NewObject()
	o.Set("input", input)
	if result != nil {
		o.Set("result", unwrapNil(result))
	}
	if errorOutput != nil {
		o.Set("errorOutput", errorOutput)
	}
	o.Set("context", x.contextObject(th))
	return o
}

// nilResult stands for a JSON null result, so statesVar can tell "no result" from "null".
type nilResultT struct{}

var nilResult any = nilResultT{}

func unwrapNil(v any) any {
	if v == nilResult {
		return nil
	}
	return v
}

func orNilResult(v any) any {
	if v == nil {
		return nilResult
	}
	return v
}

// evalJSONPath evaluates a JSONPath-mode template against data ($).
func (x *Execution) evalJSONPath(th *thread, t *tmpl, data any, field string) (any, error) {
	switch t.kind {
	case tmplLit:
		return t.lit, nil
	case tmplObj:
		out := jsonv.NewObject()
		for i, k := range t.keys {
			v, err := x.evalJSONPath(th, t.vals[i], data, k)
			if err != nil {
				return nil, err
			}
			out.Set(k, v)
		}
		return out, nil
	case tmplArr:
		out := make([]any, len(t.items))
		for i, it := range t.items {
			v, err := x.evalJSONPath(th, it, data, field)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	case tmplRef:
		v, err := x.resolve(th, t.ref, data)
		if err != nil {
			return nil, pathError(t.ref, field+".$", data, err)
		}
		return v, nil
	case tmplCall:
		v, err := t.call.Eval(intrinsic.Env{
			Resolve: func(p string) (any, error) {
				r, err := parseRef(p)
				if err != nil {
					return nil, err
				}
				v, err := x.resolve(th, r, data)
				if err != nil {
					return nil, pathError(r, field+".$", data, err)
				}
				return v, nil
			},
			Random: x.random,
			UUID:   x.uuid,
		})
		if err != nil {
			var se *StateError
			if errors.As(err, &se) {
				return nil, se
			}
			return nil, stateErr(ErrIntrinsicFailure, "Invalid arguments in the intrinsic function %s for the field '%s.$': %v", t.call.Name, field, err)
		}
		return v, nil
	}
	return nil, stateErr(ErrRuntime, "a JSONata expression in a JSONPath state")
}

func pathError(r *ref, field string, data any, err error) *StateError {
	var se *StateError
	if errors.As(err, &se) {
		return se
	}
	where := "input"
	var doc any = data
	switch r.kind {
	case refContext:
		where = "context object"
		doc = nil
	case refVar:
		where = "variables"
		doc = nil
	}
	if doc != nil {
		return stateErr(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the %s '%s'", r.src, field, where, abbreviate(doc))
	}
	return stateErr(ErrRuntime, "The JSONPath '%s' specified for the field '%s' could not be found in the %s", r.src, field, where)
}

func abbreviate(v any) string {
	s := jsonv.String(v)
	if len(s) > 2048 {
		return s[:2048] + "..."
	}
	return s
}

// evalJSONata evaluates a JSONata-mode template with $states and the visible variables.
func (x *Execution) evalJSONata(th *thread, t *tmpl, states *jsonv.Object, field string) (any, error) {
	switch t.kind {
	case tmplLit:
		return t.lit, nil
	case tmplObj:
		out := jsonv.NewObject()
		for i, k := range t.keys {
			v, err := x.evalJSONata(th, t.vals[i], states, k)
			if err != nil {
				return nil, err
			}
			if v == queryUndefined {
				continue
			}
			out.Set(k, v)
		}
		return out, nil
	case tmplArr:
		out := make([]any, 0, len(t.items))
		for _, it := range t.items {
			v, err := x.evalJSONata(th, it, states, field)
			if err != nil {
				return nil, err
			}
			if v == queryUndefined {
				continue
			}
			out = append(out, v)
		}
		return out, nil
	case tmplExpr:
		vars := map[string]any{}
		th.scope.all(vars)
		vars["states"] = states
		v, err := t.expr.eval(nil, vars, queryOptions{now: x.now, random: x.random, uuid: x.uuid})
		if err != nil {
			return nil, stateErr(ErrQueryEvaluationError, "An error occurred while evaluating the JSONata expression %s for the field '%s': %s", t.src, field, queryErrorMessage(err))
		}
		return v, nil
	}
	return nil, stateErr(ErrRuntime, "a JSONPath template in a JSONata state")
}

// evalValue evaluates a template in the state's query language. For JSONPath data is $; for
// JSONata states is $states. A top-level JSONata undefined becomes null.
func (x *Execution) evalValue(th *thread, t *tmpl, data any, states func() *jsonv.Object, field string) (any, error) {
	if th.cur.ql == JSONata {
		v, err := x.evalJSONata(th, t, states(), field)
		if v == queryUndefined {
			v = nil
		}
		return v, err
	}
	return x.evalJSONPath(th, t, data, field)
}

// applyPath applies InputPath or OutputPath.
func (x *Execution) applyPath(th *thread, p *optPath, data any, field string) (any, error) {
	if p == nil {
		return data, nil
	}
	if p.null {
		return jsonv.NewObject(), nil
	}
	v, err := x.resolve(th, p.ref, data)
	if err != nil {
		return nil, stateErr(ErrRuntime, "Invalid path '%s' : No results for path: %s in the %s of the state '%s': %s", p.ref.src, p.ref.src, field, th.cur.name, abbreviate(data))
	}
	return v, nil
}

// applyResultPath places result into the raw input as ResultPath says.
func (x *Execution) applyResultPath(th *thread, rp *resultPath, input, result any) (any, error) {
	switch {
	case rp == nil:
		return result, nil
	case rp.discard:
		return input, nil
	}
	out, err := rp.ref.path.Set(input, result)
	if err != nil {
		return nil, stateErr(ErrResultPathMatchFailure, "Unable to apply ResultPath '%s' to input '%s': %v", rp.ref.src, abbreviate(input), err)
	}
	return out, nil
}

// dynInt evaluates an integer field (TimeoutSeconds, MaxConcurrency, ...): its literal, path or
// expression form.
func (x *Execution) dynValue(th *thread, d dyn, data any, states func() *jsonv.Object) (any, error) {
	switch {
	case d.ref != nil:
		v, err := x.resolve(th, d.ref, data)
		if err != nil {
			return nil, stateErr(ErrRuntime, "Invalid path '%s' for the field '%s': no value in the input '%s'", d.ref.src, d.name, abbreviate(data))
		}
		return v, nil
	case d.expr != nil:
		return x.evalValue(th, d.expr, data, states, d.name)
	}
	return d.lit, nil
}

func (x *Execution) dynInt(th *thread, d dyn, data any, states func() *jsonv.Object, minVal int64) (int64, bool, error) {
	if !d.set {
		return 0, false, nil
	}
	v, err := x.dynValue(th, d, data, states)
	if err != nil {
		return 0, false, err
	}
	n, ok := intValue(v)
	if !ok || n < minVal {
		name := ErrRuntime
		if th.cur.ql == JSONata {
			name = ErrQueryEvaluationError
		}
		return 0, false, stateErr(name, "The value of the field '%s' must be an integer of at least %d, got %s", d.name, minVal, abbreviate(v))
	}
	return n, true, nil
}

// payloadSize returns the JSON size of v, stopping early once it exceeds limit.
func payloadSize(v any, limit int) int {
	n := 0
	var walk func(v any)
	walk = func(v any) {
		if n > limit {
			return
		}
		switch t := v.(type) {
		case nil:
			n += 4
		case bool:
			n += 5
			if t {
				n--
			}
		case jsonv.Number:
			n += len(t)
		case string:
			n += stringSize(t)
		case []any:
			n += 2 + max(len(t)-1, 0)
			for _, e := range t {
				walk(e)
			}
		case *jsonv.Object:
			n += 2 + max(t.Len()-1, 0)
			for _, k := range t.Keys() {
				e, _ := t.Get(k)
				n += stringSize(k) + 1
				walk(e)
			}
		default:
			n += len(fmt.Sprint(t))
		}
	}
	walk(v)
	return n
}

// stringSize is the length of s as JSON text, quotes and escapes included.
func stringSize(s string) int {
	n := 2
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f':
			n += 2
		case c < 0x20:
			n += 6
		default:
			n++
		}
	}
	return n
}

func checkSize(v any, what string, th *thread) *StateError {
	if payloadSize(v, MaxPayloadBytes) > MaxPayloadBytes {
		return stateErr(ErrDataLimitExceeded, "The state/task '%s' returned a result with a size exceeding the maximum number of bytes service limit (%s).", th.cur.name, what)
	}
	return nil
}

var errNotArray = errors.New("not an array")

func asArray(v any) ([]any, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s", errNotArray, jsonpath.TypeName(v))
	}
	return a, nil
}
