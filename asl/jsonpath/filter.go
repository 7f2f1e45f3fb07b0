package jsonpath

import (
	"regexp"
	"strings"

	"github.com/duro-dev/duro/asl/jsonv"
)

// expr is a node of a filter expression. eval returns a jsonv value, or missing when a path inside
// the filter selects nothing.
type expr interface {
	eval(cur, root any) any
}

type missingT struct{}

// missing is what a filter path that selects nothing evaluates to.
var missing = missingT{}

func truthy(v any) bool {
	switch t := v.(type) {
	case bool:
		return t
	case missingT:
		return false
	}
	return true // an existing value (even null) passes an existence test, as in Jayway
}

type literal struct{ v any }

func (l literal) eval(any, any) any { return l.v }

type pathExpr struct {
	fromRoot bool
	segs     []segment
	definite bool
}

func (p pathExpr) eval(cur, root any) any {
	start := cur
	if p.fromRoot {
		start = root
	}
	path := Path{segs: p.segs, definite: p.definite}
	v, err := path.EvalRoot(start, root)
	if err != nil {
		return missing
	}
	return v
}

type notExpr struct{ e expr }

func (n notExpr) eval(cur, root any) any { return !truthy(n.e.eval(cur, root)) }

type logicExpr struct {
	and  bool
	l, r expr
}

func (e logicExpr) eval(cur, root any) any {
	l := truthy(e.l.eval(cur, root))
	if e.and {
		return l && truthy(e.r.eval(cur, root))
	}
	return l || truthy(e.r.eval(cur, root))
}

type cmpExpr struct {
	op   string
	l, r expr
	re   *regexp.Regexp
}

func (c cmpExpr) eval(cur, root any) any {
	l := c.l.eval(cur, root)
	if c.op == "empty" {
		want := truthy(c.r.eval(cur, root))
		return isEmpty(l) == want
	}
	if c.op == "=~" {
		s, ok := l.(string)
		return ok && c.re.MatchString(s)
	}
	r := c.r.eval(cur, root)
	if l == missing || r == missing {
		return c.op == "!=" && (l == missing) != (r == missing)
	}
	switch c.op {
	case "==":
		return jsonv.Equal(l, r)
	case "!=":
		return !jsonv.Equal(l, r)
	case "<", "<=", ">", ">=":
		n, ok := compare(l, r)
		if !ok {
			return false
		}
		switch c.op {
		case "<":
			return n < 0
		case "<=":
			return n <= 0
		case ">":
			return n > 0
		}
		return n >= 0
	case "in", "nin":
		a, ok := r.([]any)
		if !ok {
			return false
		}
		found := contains(a, l)
		return found == (c.op == "in")
	case "contains":
		switch t := l.(type) {
		case []any:
			return contains(t, r)
		case string:
			s, ok := r.(string)
			return ok && strings.Contains(t, s)
		}
		return false
	case "subsetof", "anyof", "noneof":
		la, ok1 := l.([]any)
		ra, ok2 := r.([]any)
		if !ok1 || !ok2 {
			return false
		}
		switch c.op {
		case "subsetof":
			for _, e := range la {
				if !contains(ra, e) {
					return false
				}
			}
			return true
		case "anyof":
			for _, e := range la {
				if contains(ra, e) {
					return true
				}
			}
			return false
		}
		for _, e := range la {
			if contains(ra, e) {
				return false
			}
		}
		return true
	case "size":
		n, ok := r.(jsonv.Number)
		if !ok {
			return false
		}
		want, ok := n.Int64()
		if !ok {
			return false
		}
		switch t := l.(type) {
		case []any:
			return int64(len(t)) == want
		case string:
			return int64(len([]rune(t))) == want
		}
		return false
	}
	return false
}

func isEmpty(v any) bool {
	switch t := v.(type) {
	case []any:
		return len(t) == 0
	case string:
		return t == ""
	case *jsonv.Object:
		return t.Len() == 0
	}
	return false
}

func contains(a []any, v any) bool {
	for _, e := range a {
		if jsonv.Equal(e, v) {
			return true
		}
	}
	return false
}

// compare orders two numbers or two strings.
func compare(l, r any) (int, bool) {
	switch a := l.(type) {
	case jsonv.Number:
		b, ok := r.(jsonv.Number)
		if !ok {
			return 0, false
		}
		fa, err1 := a.Float64()
		fb, err2 := b.Float64()
		if err1 != nil || err2 != nil {
			return 0, false
		}
		switch {
		case fa < fb:
			return -1, true
		case fa > fb:
			return 1, true
		}
		return 0, true
	case string:
		b, ok := r.(string)
		if !ok {
			return 0, false
		}
		return strings.Compare(a, b), true
	}
	return 0, false
}

func (ps *parser) parseOr() (expr, error) {
	ps.depth++
	defer func() { ps.depth-- }()
	if ps.depth > maxDepth {
		return nil, ps.errf("filter nested too deeply")
	}
	l, err := ps.parseAnd()
	if err != nil {
		return nil, err
	}
	for {
		ps.skipSpace()
		if !strings.HasPrefix(ps.src[ps.pos:], "||") {
			return l, nil
		}
		ps.pos += 2
		r, err := ps.parseAnd()
		if err != nil {
			return nil, err
		}
		l = logicExpr{l: l, r: r}
	}
}

func (ps *parser) parseAnd() (expr, error) {
	l, err := ps.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		ps.skipSpace()
		if !strings.HasPrefix(ps.src[ps.pos:], "&&") {
			return l, nil
		}
		ps.pos += 2
		r, err := ps.parseUnary()
		if err != nil {
			return nil, err
		}
		l = logicExpr{and: true, l: l, r: r}
	}
}

func (ps *parser) parseUnary() (expr, error) {
	ps.skipSpace()
	switch ps.peek() {
	case '!':
		if !strings.HasPrefix(ps.src[ps.pos:], "!=") {
			ps.pos++
			e, err := ps.parseUnary()
			if err != nil {
				return nil, err
			}
			return notExpr{e}, nil
		}
	case '(':
		ps.pos++
		e, err := ps.parseOr()
		if err != nil {
			return nil, err
		}
		ps.skipSpace()
		if ps.peek() != ')' {
			return nil, ps.errf("expected )")
		}
		ps.pos++
		return e, nil
	}
	return ps.parseComparison()
}

var cmpOps = []string{"==", "!=", "<=", ">=", "=~", "<", ">", " nin ", " in ", " subsetof ", " anyof ",
	" noneof ", " size ", " empty ", " contains "}

func (ps *parser) parseComparison() (expr, error) {
	l, err := ps.operand()
	if err != nil {
		return nil, err
	}
	rest := ps.src[ps.pos:]
	trimmed := strings.TrimLeft(rest, " \t")
	op := ""
	for _, o := range cmpOps {
		word := strings.TrimSpace(o)
		if o[0] == ' ' {
			// word operators need a space before them and a space (or end) after them
			if len(trimmed) < len(rest) && strings.HasPrefix(trimmed, word) &&
				(len(trimmed) == len(word) || trimmed[len(word)] == ' ' || trimmed[len(word)] == '\t') {
				op = word
				break
			}
			continue
		}
		if strings.HasPrefix(trimmed, o) {
			op = o
			break
		}
	}
	if op == "" {
		return l, nil // existence test
	}
	ps.pos += len(rest) - len(trimmed) + len(op)
	ps.skipSpace()
	if op == "=~" {
		re, err := ps.regex()
		if err != nil {
			return nil, err
		}
		return cmpExpr{op: op, l: l, re: re}, nil
	}
	r, err := ps.operand()
	if err != nil {
		return nil, err
	}
	return cmpExpr{op: op, l: l, r: r}, nil
}

func (ps *parser) regex() (*regexp.Regexp, error) {
	if ps.peek() != '/' {
		return nil, ps.errf("expected /regex/ after =~")
	}
	ps.pos++
	var b strings.Builder
	for {
		if ps.pos >= len(ps.src) {
			return nil, ps.errf("unterminated regex")
		}
		c := ps.src[ps.pos]
		if c == '\\' && ps.pos+1 < len(ps.src) {
			b.WriteByte(c)
			b.WriteByte(ps.src[ps.pos+1])
			ps.pos += 2
			continue
		}
		ps.pos++
		if c == '/' {
			break
		}
		b.WriteByte(c)
	}
	flags := ""
	for ps.pos < len(ps.src) && strings.IndexByte("imsx", ps.src[ps.pos]) >= 0 {
		if ps.src[ps.pos] != 'x' {
			flags += string(ps.src[ps.pos])
		}
		ps.pos++
	}
	src := "^(?:" + b.String() + ")$"
	if flags != "" {
		src = "(?" + flags + ")" + src
	}
	re, err := regexp.Compile(src)
	if err != nil {
		return nil, ps.errf("bad regex: %v", err)
	}
	return re, nil
}

func (ps *parser) operand() (expr, error) {
	ps.skipSpace()
	c := ps.peek()
	switch {
	case c == '@' || c == '$':
		ps.pos++
		segs, err := ps.parsePath(false)
		if err != nil {
			return nil, err
		}
		definite := true
		for i, s := range segs {
			if s.deep || s.kind == segIndexes || s.kind == segSlice || s.kind == segWildcard ||
				s.kind == segFilter || (s.kind == segNames && i != len(segs)-1) {
				definite = false
			}
		}
		return pathExpr{fromRoot: c == '$', segs: segs, definite: definite}, nil
	case c == '\'' || c == '"':
		s, err := ps.quoted()
		if err != nil {
			return nil, err
		}
		return literal{s}, nil
	case c == '[':
		ps.pos++
		var items []any
		for {
			ps.skipSpace()
			if ps.peek() == ']' {
				ps.pos++
				return literal{append([]any{}, items...)}, nil
			}
			if len(items) > 0 {
				if ps.peek() != ',' {
					return nil, ps.errf("expected , or ] in a list")
				}
				ps.pos++
			}
			e, err := ps.operand()
			if err != nil {
				return nil, err
			}
			lit, ok := e.(literal)
			if !ok {
				return nil, ps.errf("a list holds literals only")
			}
			items = append(items, lit.v)
		}
	case c == '{':
		// a JSON object literal: find its end by balancing braces outside strings
		end := ps.pos
		depth := 0
		inStr := false
		for end < len(ps.src) {
			ch := ps.src[end]
			switch {
			case inStr && ch == '\\':
				end++
			case ch == '"':
				inStr = !inStr
			case !inStr && ch == '{':
				depth++
			case !inStr && ch == '}':
				depth--
			}
			end++
			if depth == 0 {
				break
			}
		}
		v, err := jsonv.Parse([]byte(ps.src[ps.pos:end]))
		if err != nil {
			return nil, ps.errf("bad object literal")
		}
		ps.pos = end
		return literal{v}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		start := ps.pos
		ps.pos++
		for ps.pos < len(ps.src) && strings.IndexByte("0123456789.eE+-", ps.src[ps.pos]) >= 0 {
			ps.pos++
		}
		v, err := jsonv.Parse([]byte(ps.src[start:ps.pos]))
		if err != nil {
			return nil, ps.errf("bad number %q", ps.src[start:ps.pos])
		}
		return literal{v}, nil
	}
	for _, kw := range []struct {
		s string
		v any
	}{{"true", true}, {"false", false}, {"null", nil}} {
		if strings.HasPrefix(ps.src[ps.pos:], kw.s) {
			ps.pos += len(kw.s)
			return literal{kw.v}, nil
		}
	}
	return nil, ps.errf("expected a value in the filter")
}
