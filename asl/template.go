package asl

import (
	"errors"
	"fmt"
	"strings"

	"github.com/duro-dev/duro/asl/intrinsic"
	"github.com/duro-dev/duro/asl/jsonpath"
	"github.com/duro-dev/duro/asl/jsonv"
)

// refKind says what a JSONPath reference reads: the state's data ($), the context object ($$) or
// a variable ($name).
type refKind int

const (
	refInput refKind = iota
	refContext
	refVar
)

// ref is a compiled path: `$...`, `$$...` or `$name...`.
type ref struct {
	src  string
	kind refKind
	name string
	path *jsonpath.Path
}

var errNotPath = errors.New("not a path")

// parseRef compiles a path that may start with $, $$ or a variable name.
func parseRef(s string) (*ref, error) {
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("%w: %q must start with $", errNotPath, s)
	}
	r := &ref{src: s}
	rest := s
	switch {
	case strings.HasPrefix(s, "$$"):
		r.kind = refContext
		rest = "$" + s[2:]
	case len(s) == 1 || s[1] == '.' || s[1] == '[':
		r.kind = refInput
	default:
		r.kind = refVar
		i := 1
		for i < len(s) && s[i] != '.' && s[i] != '[' {
			i++
		}
		r.name = s[1:i]
		if !validVarName(r.name) {
			return nil, fmt.Errorf("%w: %q is not a valid variable name", errNotPath, r.name)
		}
		rest = "$" + s[i:]
	}
	p, err := jsonpath.Parse(rest)
	if err != nil {
		return nil, err
	}
	r.path = p
	return r, nil
}

func validVarName(n string) bool {
	if n == "" || len(n) > 80 {
		return false
	}
	for i, c := range n {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c > 127:
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// tmplKind is the kind of a payload template node.
type tmplKind int

const (
	tmplLit tmplKind = iota
	tmplObj
	tmplArr
	tmplRef
	tmplCall
	tmplExpr
)

// tmpl is a compiled payload template: Parameters, ResultSelector, ItemSelector and Assign in
// JSONPath mode (`.$` keys), or Arguments, Output and Assign in JSONata mode (`{% %}` strings).
// A subtree with nothing to evaluate is a single literal, shared as is.
type tmpl struct {
	kind  tmplKind
	lit   any
	keys  []string
	vals  []*tmpl
	ref   *ref
	call  *intrinsic.Call
	expr  queryExpr
	src   string
	items []*tmpl
}

// compileJSONPathTemplate compiles a JSONPath-mode template; problems are reported through c.
func (c *compiler) compileJSONPathTemplate(v any, loc string) *tmpl {
	switch t := v.(type) {
	case *jsonv.Object:
		out := &tmpl{kind: tmplObj}
		dynamic := false
		for _, k := range t.Keys() {
			val, _ := t.Get(k)
			kloc := loc + "/" + escapeLoc(k)
			if strings.HasSuffix(k, ".$") {
				dynamic = true
				name := strings.TrimSuffix(k, ".$")
				s, ok := val.(string)
				if !ok {
					c.errf(codeSchema, kloc, "The value for the field '%s' must be a STRING that contains a JSONPath or an intrinsic function", k)
					continue
				}
				out.keys = append(out.keys, name)
				out.vals = append(out.vals, c.compileDynamicString(s, kloc, k))
				continue
			}
			if str, ok := val.(string); ok && (strings.HasPrefix(str, "$.") || strings.HasPrefix(str, "$$.") || intrinsic.Looks(str)) {
				c.warnf(codeNoDollar, kloc, "The value of the field '%s' looks like a JSONPath or an intrinsic function, but the field name does not end with '.$'", k)
			}
			sub := c.compileJSONPathTemplate(val, kloc)
			if sub.kind != tmplLit {
				dynamic = true
			}
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, sub)
		}
		if !dynamic {
			return &tmpl{kind: tmplLit, lit: v}
		}
		return out
	case []any:
		out := &tmpl{kind: tmplArr}
		dynamic := false
		for i, e := range t {
			sub := c.compileJSONPathTemplate(e, fmt.Sprintf("%s/%d", loc, i))
			if sub.kind != tmplLit {
				dynamic = true
			}
			out.items = append(out.items, sub)
		}
		if !dynamic {
			return &tmpl{kind: tmplLit, lit: v}
		}
		return out
	}
	return &tmpl{kind: tmplLit, lit: v}
}

// compileDynamicString compiles the value of a `.$` field: a path or an intrinsic function.
func (c *compiler) compileDynamicString(s, loc, field string) *tmpl {
	if intrinsic.Looks(s) {
		call, err := intrinsic.Parse(s)
		if err != nil {
			c.errf(codeSchema, loc, "The value for the field '%s' must be a valid intrinsic function: %v", field, err)
			return &tmpl{kind: tmplLit}
		}
		for _, p := range call.Paths() {
			if _, err := parseRef(p); err != nil {
				c.errf(codeSchema, loc, "The value for the field '%s' must be a valid intrinsic function: invalid path %q: %v", field, p, err)
			}
		}
		return &tmpl{kind: tmplCall, call: call, src: s}
	}
	r, err := parseRef(s)
	if err != nil {
		c.errf(codeSchema, loc, "The value for the field '%s' must be a valid JSONPath or a valid intrinsic function call", field)
		return &tmpl{kind: tmplLit}
	}
	return &tmpl{kind: tmplRef, ref: r, src: s}
}

// isExprString reports whether s is a JSONata expression string `{% ... %}`.
func isExprString(s string) bool {
	t := strings.TrimSpace(s)
	return strings.HasPrefix(t, "{%") && strings.HasSuffix(t, "%}") && len(t) >= 4
}

func exprBody(s string) string {
	t := strings.TrimSpace(s)
	return t[2 : len(t)-2]
}

// compileJSONataTemplate compiles a JSONata-mode value: `{% %}` strings anywhere inside objects and
// arrays are expressions.
func (c *compiler) compileJSONataTemplate(v any, loc string) *tmpl {
	switch t := v.(type) {
	case string:
		if isExprString(t) {
			e, err := compileQuery(exprBody(t))
			if err != nil {
				c.errf(codeSchema, loc, "The JSONata expression '%s' is not valid: %v", t, err)
				return &tmpl{kind: tmplLit}
			}
			return &tmpl{kind: tmplExpr, expr: e, src: t}
		}
		if strings.Contains(t, "{%") && strings.Contains(t, "%}") {
			c.errf(codeSchema, loc, "A JSONata expression must start with {%% and end with %%}, with nothing outside: %q", t)
		}
	case *jsonv.Object:
		out := &tmpl{kind: tmplObj}
		dynamic := false
		for _, k := range t.Keys() {
			val, _ := t.Get(k)
			sub := c.compileJSONataTemplate(val, loc+"/"+escapeLoc(k))
			if sub.kind != tmplLit {
				dynamic = true
			}
			out.keys = append(out.keys, k)
			out.vals = append(out.vals, sub)
		}
		if dynamic {
			return out
		}
	case []any:
		out := &tmpl{kind: tmplArr}
		dynamic := false
		for i, e := range t {
			sub := c.compileJSONataTemplate(e, fmt.Sprintf("%s/%d", loc, i))
			if sub.kind != tmplLit {
				dynamic = true
			}
			out.items = append(out.items, sub)
		}
		if dynamic {
			return out
		}
	}
	return &tmpl{kind: tmplLit, lit: v}
}

// escapeLoc escapes a key for a JSON-pointer-like location.
func escapeLoc(k string) string {
	return strings.ReplaceAll(strings.ReplaceAll(k, "~", "~0"), "/", "~1")
}
