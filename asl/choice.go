package asl

import (
	"fmt"
	"strings"

	"github.com/duro-dev/duro/asl/jsonpath"
	"github.com/duro-dev/duro/asl/jsonv"
)

// rule is one Choice rule: a boolean combination (And, Or, Not), a comparison of Variable with a
// value or another path, or (JSONata) a Condition expression.
type rule struct {
	and, or  []*rule
	not      *rule
	variable *ref
	op       string
	operand  any
	opRef    *ref
	cond     *tmpl
	next     string
	assign   *tmpl
	output   *tmpl
}

var comparisons = map[string]string{ // operator → the type of its literal operand
	"StringEquals": "string", "StringLessThan": "string", "StringGreaterThan": "string",
	"StringLessThanEquals": "string", "StringGreaterThanEquals": "string", "StringMatches": "string",
	"NumericEquals": "number", "NumericLessThan": "number", "NumericGreaterThan": "number",
	"NumericLessThanEquals": "number", "NumericGreaterThanEquals": "number",
	"BooleanEquals":   "boolean",
	"TimestampEquals": "timestamp", "TimestampLessThan": "timestamp", "TimestampGreaterThan": "timestamp",
	"TimestampLessThanEquals": "timestamp", "TimestampGreaterThanEquals": "timestamp",
	"IsNull": "boolean", "IsPresent": "boolean", "IsNumeric": "boolean", "IsString": "boolean",
	"IsBoolean": "boolean", "IsTimestamp": "boolean",
}

func isComparison(k string) bool {
	if _, ok := comparisons[k]; ok {
		return true
	}
	base, ok := strings.CutSuffix(k, "Path")
	if !ok || base == "StringMatches" || strings.HasPrefix(base, "Is") {
		return false
	}
	_, ok = comparisons[base]
	return ok
}

func (c *compiler) choice(st *state, o *jsonv.Object, loc string) {
	v, ok := o.Get("Choices")
	arr, isArr := v.([]any)
	if !ok || !isArr || len(arr) == 0 {
		c.errf(codeSchema, loc+"/Choices", "The field 'Choices' must be a non-empty ARRAY")
		return
	}
	for i, e := range arr {
		rloc := fmt.Sprintf("%s/Choices/%d", loc, i)
		if r := c.rule(st, e, rloc, true, 0); r != nil {
			st.choices = append(st.choices, r)
		}
	}
	st.deflt, _ = c.str(o, "Default", loc, false)
}

const maxRuleDepth = 50

func (c *compiler) rule(st *state, v any, loc string, top bool, depth int) *rule {
	o, ok := v.(*jsonv.Object)
	if !ok {
		c.errf(codeSchema, loc, "A choice rule must be an OBJECT")
		return nil
	}
	if depth > maxRuleDepth {
		c.errf(codeSchema, loc, "Choice rules are nested too deeply")
		return nil
	}
	r := &rule{}
	if top {
		r.next, _ = c.str(o, "Next", loc, true)
		if a, ok := o.Get("Assign"); ok {
			r.assign = c.assign(a, loc+"/Assign", st.ql)
		}
	}
	if st.ql == JSONata {
		allowed := set("Condition", "Comment")
		if top {
			allowed = set("Condition", "Next", "Assign", "Output", "Comment")
		}
		c.fields(o, loc, allowed, nil)
		cv, ok := o.Get("Condition")
		if !ok {
			c.errf(codeSchema, loc, "A JSONata choice rule must have a 'Condition'")
			return nil
		}
		if s, isStr := cv.(string); isStr && !isExprString(s) {
			c.errf(codeSchema, loc+"/Condition", "The value for the field 'Condition' must be a JSONata expression {%% ... %%} or a BOOLEAN")
		} else if _, isBool := cv.(bool); !isStr && !isBool {
			c.errf(codeSchema, loc+"/Condition", "The value for the field 'Condition' must be a JSONata expression {%% ... %%} or a BOOLEAN")
		}
		r.cond = c.compileJSONataTemplate(cv, loc+"/Condition")
		if out, ok := o.Get("Output"); ok {
			r.output = c.compileJSONataTemplate(out, loc+"/Output")
		}
		return r
	}
	var kinds []string
	for _, k := range o.Keys() {
		kloc := loc + "/" + escapeLoc(k)
		switch {
		case k == "Comment", k == "Variable":
		case top && (k == "Next" || k == "Assign"):
		case k == "And" || k == "Or":
			kinds = append(kinds, k)
			arr, ok := o.Get(k)
			list, isArr := arr.([]any)
			if !ok || !isArr || len(list) == 0 {
				c.errf(codeSchema, kloc, "The value for the field '%s' must be a non-empty ARRAY of choice rules", k)
				continue
			}
			for i, e := range list {
				sub := c.rule(st, e, fmt.Sprintf("%s/%d", kloc, i), false, depth+1)
				if sub == nil {
					continue
				}
				if k == "And" {
					r.and = append(r.and, sub)
				} else {
					r.or = append(r.or, sub)
				}
			}
		case k == "Not":
			kinds = append(kinds, k)
			nv, _ := o.Get(k)
			r.not = c.rule(st, nv, kloc, false, depth+1)
		case isComparison(k):
			kinds = append(kinds, k)
			r.op = k
			val, _ := o.Get(k)
			if strings.HasSuffix(k, "Path") {
				s, ok := val.(string)
				ref, err := parseRef(s)
				if !ok || err != nil {
					c.errf(codeSchema, kloc, "The value for the field '%s' must be a valid JSONPath", k)
					continue
				}
				r.opRef = ref
				continue
			}
			if msg := checkOperand(k, val); msg != "" {
				c.errf(codeSchema, kloc, "%s", msg)
			}
			r.operand = val
		default:
			c.errf(codeSchema, kloc, "The field '%s' is not supported by Step Functions in a choice rule", k)
		}
	}
	if len(kinds) != 1 {
		c.errf(codeSchema, loc, "A choice rule must have exactly one of And, Or, Not or a comparison operator, found %d", len(kinds))
		return nil
	}
	vv, hasVar := o.Get("Variable")
	switch {
	case r.op != "" && !hasVar:
		c.errf(codeSchema, loc, "A choice rule with '%s' must have a 'Variable'", r.op)
	case r.op == "" && hasVar:
		c.errf(codeSchema, loc+"/Variable", "The field 'Variable' is not allowed with '%s'", kinds[0])
	case hasVar:
		s, ok := vv.(string)
		ref, err := parseRef(s)
		if !ok || err != nil {
			c.errf(codeSchema, loc+"/Variable", "The value for the field 'Variable' must be a valid JSONPath")
		}
		r.variable = ref
	}
	return r
}

func checkOperand(op string, v any) string {
	switch comparisons[op] {
	case "string":
		if _, ok := v.(string); !ok {
			return fmt.Sprintf("The value for the field '%s' must be a STRING", op)
		}
	case "number":
		if _, ok := v.(jsonv.Number); !ok {
			return fmt.Sprintf("The value for the field '%s' must be a NUMBER", op)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			return fmt.Sprintf("The value for the field '%s' must be a BOOLEAN", op)
		}
	case "timestamp":
		s, ok := v.(string)
		if !ok {
			return fmt.Sprintf("The value for the field '%s' must be a STRING", op)
		}
		if _, ok := parseTime(s); !ok {
			return fmt.Sprintf("The value for the field '%s' must be a valid timestamp", op)
		}
	}
	return ""
}

// evalRule evaluates a JSONPath-mode rule against the state's effective input.
func (x *Execution) evalRule(th *thread, r *rule, input any) (bool, error) {
	switch {
	case r.and != nil:
		for _, s := range r.and {
			ok, err := x.evalRule(th, s, input)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case r.or != nil:
		for _, s := range r.or {
			ok, err := x.evalRule(th, s, input)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case r.not != nil:
		ok, err := x.evalRule(th, r.not, input)
		return !ok, err
	}
	val, err := x.resolve(th, r.variable, input)
	if r.op == "IsPresent" {
		want, _ := r.operand.(bool)
		return (err == nil) == want, nil
	}
	if err != nil {
		return false, stateErr(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.variable.src)
	}
	operand := r.operand
	op := r.op
	if r.opRef != nil {
		op = strings.TrimSuffix(op, "Path")
		operand, err = x.resolve(th, r.opRef, input)
		if err != nil {
			return false, stateErr(ErrRuntime, "Invalid path '%s': The choice state's condition path references an invalid value.", r.opRef.src)
		}
	}
	return compareChoice(op, val, operand), nil
}

func compareChoice(op string, val, operand any) bool {
	switch op {
	case "IsNull":
		return (val == nil) == operand.(bool)
	case "IsNumeric":
		_, ok := val.(jsonv.Number)
		return ok == operand.(bool)
	case "IsString":
		_, ok := val.(string)
		return ok == operand.(bool)
	case "IsBoolean":
		_, ok := val.(bool)
		return ok == operand.(bool)
	case "IsTimestamp":
		s, ok := val.(string)
		if ok {
			_, ok = parseTime(s)
		}
		return ok == operand.(bool)
	case "BooleanEquals":
		a, ok1 := val.(bool)
		b, ok2 := operand.(bool)
		return ok1 && ok2 && a == b
	case "StringMatches":
		a, ok1 := val.(string)
		p, ok2 := operand.(string)
		return ok1 && ok2 && wildcardMatch(p, a)
	}
	var cmp int
	switch {
	case strings.HasPrefix(op, "String"):
		a, ok1 := val.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		cmp = strings.Compare(a, b)
	case strings.HasPrefix(op, "Numeric"):
		a, ok1 := val.(jsonv.Number)
		b, ok2 := operand.(jsonv.Number)
		if !ok1 || !ok2 {
			return false
		}
		fa, fb := mustFloat(a), mustFloat(b)
		switch {
		case fa < fb:
			cmp = -1
		case fa > fb:
			cmp = 1
		}
	case strings.HasPrefix(op, "Timestamp"):
		a, ok1 := val.(string)
		b, ok2 := operand.(string)
		if !ok1 || !ok2 {
			return false
		}
		ta, ok1 := parseTime(a)
		tb, ok2 := parseTime(b)
		if !ok1 || !ok2 {
			return false
		}
		cmp = ta.Compare(tb)
	default:
		return false
	}
	switch {
	case strings.HasSuffix(op, "LessThanEquals"):
		return cmp <= 0
	case strings.HasSuffix(op, "GreaterThanEquals"):
		return cmp >= 0
	case strings.HasSuffix(op, "LessThan"):
		return cmp < 0
	case strings.HasSuffix(op, "GreaterThan"):
		return cmp > 0
	}
	return cmp == 0
}

// wildcardMatch implements StringMatches: `*` matches any run of characters, `\*` a literal star
// and `\\` a literal backslash.
func wildcardMatch(pattern, s string) bool {
	type tok struct {
		star bool
		r    rune
	}
	var toks []tok
	pr := []rune(pattern)
	for i := 0; i < len(pr); i++ {
		if pr[i] == '\\' && i+1 < len(pr) && (pr[i+1] == '*' || pr[i+1] == '\\') {
			toks = append(toks, tok{r: pr[i+1]})
			i++
			continue
		}
		toks = append(toks, tok{star: pr[i] == '*', r: pr[i]})
	}
	sr := []rune(s)
	// iterative glob matching with backtracking to the last star: linear in practice
	ti, si, starT, starS := 0, 0, -1, 0
	for si < len(sr) {
		switch {
		case ti < len(toks) && !toks[ti].star && toks[ti].r == sr[si]:
			ti++
			si++
		case ti < len(toks) && toks[ti].star:
			starT, starS = ti, si
			ti++
		case starT >= 0:
			ti = starT + 1
			starS++
			si = starS
		default:
			return false
		}
	}
	for ti < len(toks) && toks[ti].star {
		ti++
	}
	return ti == len(toks)
}

// resolve evaluates a path reference against the state data, the context object or a variable.
func (x *Execution) resolve(th *thread, r *ref, data any) (any, error) {
	var doc any
	switch r.kind {
	case refInput:
		doc = data
	case refContext:
		doc = x.contextObject(th)
	case refVar:
		v, ok := th.scope.lookup(r.name)
		if !ok {
			return nil, fmt.Errorf("variable $%s is not defined: %w", r.name, jsonpath.ErrNotFound)
		}
		doc = v
	}
	return r.path.Eval(doc)
}
