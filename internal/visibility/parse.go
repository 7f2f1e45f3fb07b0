package visibility

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Query is a parsed and validated list filter.
type Query struct {
	// Where is the filter; nil matches every execution.
	Where Expr
	// OrderBy is the requested order; empty means the store's default (newest StartTime first).
	OrderBy []Order
	// GroupBy names the attributes a count is grouped by (only ExecutionStatus is supported).
	GroupBy []Attr
}

// Attr is a resolved attribute: its name as the query spelled it, its type, and its column if it
// is a column-backed system attribute.
type Attr struct {
	Name   string
	Type   Type
	Column Column
}

// Order is one ORDER BY term.
type Order struct {
	Attr Attr
	Desc bool
}

// Expr is a filter expression: [*And], [*Or], [*Not] or [*Compare].
type Expr interface{ isExpr() }

// And matches when both sides match.
type And struct{ Left, Right Expr }

// Or matches when either side matches.
type Or struct{ Left, Right Expr }

// Not negates X (with SQL's NULL semantics: see the package documentation).
type Not struct{ X Expr }

// Compare is one predicate on one attribute.
type Compare struct {
	Attr Attr
	Op   Op
	// Values holds the operands converted to the attribute's type: one for the comparisons and
	// STARTS_WITH, two for BETWEEN, one or more for IN, none for IS NULL.
	Values []Literal
}

func (*And) isExpr()     {}
func (*Or) isExpr()      {}
func (*Not) isExpr()     {}
func (*Compare) isExpr() {}

// Op is a predicate's operator.
type Op int

// The operators.
const (
	OpEq Op = iota + 1
	OpNe
	OpLt
	OpLe
	OpGt
	OpGe
	OpIn
	OpNotIn
	OpBetween
	OpNotBetween
	OpStartsWith
	OpNotStartsWith
	OpIsNull
	OpIsNotNull
)

var opNames = map[Op]string{
	OpEq: "=", OpNe: "!=", OpLt: "<", OpLe: "<=", OpGt: ">", OpGe: ">=", OpIn: "IN", OpNotIn: "NOT IN",
	OpBetween: "BETWEEN", OpNotBetween: "NOT BETWEEN", OpStartsWith: "STARTS_WITH",
	OpNotStartsWith: "NOT STARTS_WITH", OpIsNull: "IS NULL", OpIsNotNull: "IS NOT NULL",
}

// String returns the operator as a query writes it.
func (o Op) String() string { return opNames[o] }

// Literal is an operand converted to its attribute's type: Text for Keyword, KeywordList and Text,
// Int for Int, ExecutionDuration (nanoseconds) and ExecutionStatus (the status number), Double,
// Bool, Time for Datetime.
type Literal struct {
	Text   string
	Int    int64
	Double float64
	Bool   bool
	Time   time.Time
}

// maxDepth bounds the nesting of parentheses and NOTs, so a hostile query cannot exhaust the stack.
const maxDepth = 100

// maxValues bounds the operands of one IN list.
const maxValues = 1000

// Parse parses a list filter and validates it against the system attributes and custom, the
// namespace's registered custom attributes (name → type). An empty query matches everything.
// A refused query is an [*Error].
func Parse(query string, custom map[string]Type) (*Query, error) {
	toks, err := lex(query)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks, custom: custom}
	q := &Query{}
	if !p.peek().keyword("order") && !p.peek().keyword("group") && p.peek().kind != tokEOF {
		if q.Where, err = p.or(0); err != nil {
			return nil, err
		}
	}
	if p.peek().keyword("group") {
		p.next()
		if err := p.expectKeyword("by"); err != nil {
			return nil, err
		}
		for {
			a, err := p.attr()
			if err != nil {
				return nil, err
			}
			if a.Column != ColStatus {
				return nil, errorf("'GROUP BY' clause is only supported for ExecutionStatus")
			}
			q.GroupBy = append(q.GroupBy, a)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
		if len(q.GroupBy) > 1 {
			return nil, errorf("'GROUP BY' clause supports only a single field")
		}
	}
	if p.peek().keyword("order") {
		p.next()
		if err := p.expectKeyword("by"); err != nil {
			return nil, err
		}
		for {
			a, err := p.attr()
			if err != nil {
				return nil, err
			}
			if a.Type == TypeText || a.Type == TypeKeywordList {
				return nil, errorf("unable to sort by field of %s type, use field of type Keyword", a.Type)
			}
			o := Order{Attr: a}
			if p.peek().keyword("desc") {
				p.next()
				o.Desc = true
			} else if p.peek().keyword("asc") {
				p.next()
			}
			q.OrderBy = append(q.OrderBy, o)
			if p.peek().kind != tokComma {
				break
			}
			p.next()
		}
	}
	if t := p.peek(); t.kind != tokEOF {
		return nil, errorf("unexpected %s at position %d", describe(t), t.pos)
	}
	if len(q.GroupBy) > 0 && len(q.OrderBy) > 0 {
		return nil, errorf("'ORDER BY' clause is not supported with 'GROUP BY'")
	}
	return q, nil
}

// parser is a recursive-descent parser over the tokens of one query.
type parser struct {
	toks   []token
	i      int
	custom map[string]Type
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tokEOF {
		p.i++
	}
	return t
}

func (p *parser) expectKeyword(kw string) error {
	if t := p.next(); !t.keyword(kw) {
		return errorf("expected %s at position %d, found %s", strings.ToUpper(kw), t.pos, describe(t))
	}
	return nil
}

func describe(t token) string {
	switch t.kind {
	case tokEOF:
		return "end of query"
	case tokString:
		return "a string"
	case tokNumber:
		return "a number"
	case tokIdent:
		if t.quoted {
			return "a quoted name"
		}
		return strconvQuote(t.text)
	}
	return strconvQuote(t.text)
}

// strconvQuote quotes a short piece of the query for a message.
func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return strconv.Quote(s)
}

func (p *parser) or(depth int) (Expr, error) {
	left, err := p.and(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().keyword("or") {
		p.next()
		right, err := p.and(depth)
		if err != nil {
			return nil, err
		}
		left = &Or{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) and(depth int) (Expr, error) {
	left, err := p.not(depth)
	if err != nil {
		return nil, err
	}
	for p.peek().keyword("and") {
		p.next()
		right, err := p.not(depth)
		if err != nil {
			return nil, err
		}
		left = &And{Left: left, Right: right}
	}
	return left, nil
}

func (p *parser) not(depth int) (Expr, error) {
	if depth > maxDepth {
		return nil, errorf("query is nested more than %d levels deep", maxDepth)
	}
	if p.peek().keyword("not") {
		p.next()
		x, err := p.not(depth + 1)
		if err != nil {
			return nil, err
		}
		return &Not{X: x}, nil
	}
	return p.primary(depth)
}

func (p *parser) primary(depth int) (Expr, error) {
	if p.peek().kind == tokLParen {
		p.next()
		x, err := p.or(depth + 1)
		if err != nil {
			return nil, err
		}
		if t := p.next(); t.kind != tokRParen {
			return nil, errorf("expected ')' at position %d, found %s", t.pos, describe(t))
		}
		return x, nil
	}
	a, err := p.attr()
	if err != nil {
		return nil, err
	}
	return p.predicate(a)
}

// keywords may not be used as bare attribute names (quote them with backticks).
var keywords = map[string]bool{
	"and": true, "or": true, "not": true, "in": true, "between": true, "is": true, "null": true,
	"starts_with": true, "order": true, "group": true, "by": true, "asc": true, "desc": true,
	"true": true, "false": true, "like": true, "limit": true,
}

// attr reads an attribute name and resolves it.
func (p *parser) attr() (Attr, error) {
	t := p.next()
	if t.kind != tokIdent || (!t.quoted && keywords[strings.ToLower(t.text)]) {
		return Attr{}, errorf("expected a search attribute name at position %d, found %s", t.pos, describe(t))
	}
	return p.resolve(t.text)
}

// resolve finds a name among the system and custom attributes.
func (p *parser) resolve(name string) (Attr, error) {
	if sa, ok := System[name]; ok {
		return Attr{Name: name, Type: sa.Type, Column: sa.Column}, nil
	}
	if typ, ok := p.custom[name]; ok && typ.Valid() {
		return Attr{Name: name, Type: typ}, nil
	}
	return Attr{}, errorf("invalid search attribute: %s is not defined", strconvQuote(name))
}

// allowed lists the operators each kind of attribute takes.
func allowed(a Attr, op Op) bool {
	switch {
	case a.Column == ColStatus:
		return op == OpEq || op == OpNe || op == OpIn || op == OpNotIn
	case a.Type == TypeText:
		return op == OpEq || op == OpNe || op == OpIsNull || op == OpIsNotNull
	case a.Type == TypeKeywordList:
		return op == OpEq || op == OpNe || op == OpIn || op == OpNotIn || op == OpIsNull || op == OpIsNotNull
	case a.Type == TypeBool:
		return op == OpEq || op == OpNe || op == OpIsNull || op == OpIsNotNull
	case a.Type == TypeKeyword:
		return true
	default: // Int, Double, Datetime
		return op != OpStartsWith && op != OpNotStartsWith
	}
}

// predicate reads the operator and operands that follow an attribute name.
func (p *parser) predicate(a Attr) (Expr, error) {
	t := p.next()
	var op Op
	var lits []token
	switch {
	case t.kind == tokOp:
		op = map[string]Op{"=": OpEq, "!=": OpNe, "<": OpLt, "<=": OpLe, ">": OpGt, ">=": OpGe}[t.text]
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		lits = []token{v}
	case t.keyword("is"):
		op = OpIsNull
		if p.peek().keyword("not") {
			p.next()
			op = OpIsNotNull
		}
		if err := p.expectKeyword("null"); err != nil {
			return nil, err
		}
	case t.keyword("not") || t.keyword("in") || t.keyword("between") || t.keyword("starts_with"):
		negated := t.keyword("not")
		if negated {
			t = p.next()
		}
		switch {
		case t.keyword("in"):
			op = map[bool]Op{false: OpIn, true: OpNotIn}[negated]
			var err error
			if lits, err = p.list(); err != nil {
				return nil, err
			}
		case t.keyword("between"):
			op = map[bool]Op{false: OpBetween, true: OpNotBetween}[negated]
			lo, err := p.literal()
			if err != nil {
				return nil, err
			}
			if err := p.expectKeyword("and"); err != nil {
				return nil, err
			}
			hi, err := p.literal()
			if err != nil {
				return nil, err
			}
			lits = []token{lo, hi}
		case t.keyword("starts_with"):
			op = map[bool]Op{false: OpStartsWith, true: OpNotStartsWith}[negated]
			v, err := p.literal()
			if err != nil {
				return nil, err
			}
			lits = []token{v}
		default:
			return nil, errorf("expected IN, BETWEEN or STARTS_WITH after NOT at position %d, found %s", t.pos, describe(t))
		}
	case t.keyword("like"):
		return nil, errorf("operator 'like' not allowed: use STARTS_WITH")
	default:
		return nil, errorf("expected an operator after %s at position %d, found %s", a.Name, t.pos, describe(t))
	}
	if !allowed(a, op) {
		return nil, errorf("operator '%s' not allowed for %s of type %s", op, strconvQuote(a.Name), a.Type)
	}
	c := &Compare{Attr: a, Op: op}
	for _, lt := range lits {
		v, err := convert(a, op, lt)
		if err != nil {
			return nil, err
		}
		c.Values = append(c.Values, v)
	}
	return c, nil
}

// literal reads one operand.
func (p *parser) literal() (token, error) {
	t := p.next()
	switch {
	case t.kind == tokString, t.kind == tokNumber, t.keyword("true"), t.keyword("false"):
		return t, nil
	}
	return token{}, errorf("expected a value at position %d, found %s", t.pos, describe(t))
}

// list reads a parenthesised, comma-separated list of operands.
func (p *parser) list() ([]token, error) {
	if t := p.next(); t.kind != tokLParen {
		return nil, errorf("expected '(' after IN at position %d, found %s", t.pos, describe(t))
	}
	var out []token
	for {
		v, err := p.literal()
		if err != nil {
			return nil, err
		}
		if len(out) == maxValues {
			return nil, errorf("IN list has more than %d values", maxValues)
		}
		out = append(out, v)
		t := p.next()
		if t.kind == tokRParen {
			return out, nil
		}
		if t.kind != tokComma {
			return nil, errorf("expected ',' or ')' in IN list at position %d, found %s", t.pos, describe(t))
		}
	}
}

// convert turns an operand into a value of the attribute's type.
func convert(a Attr, op Op, t token) (Literal, error) {
	bad := func(want string) (Literal, error) {
		return Literal{}, errorf("invalid value %s for search attribute %s of type %s: expected %s",
			strconvQuote(t.text), a.Name, a.Type, want)
	}
	isBool := t.keyword("true") || t.keyword("false")
	switch {
	case a.Column == ColStatus:
		if t.kind != tokString {
			return bad("a status name such as 'Running'")
		}
		for name, n := range Statuses {
			if strings.EqualFold(t.text, name) || strings.EqualFold(strings.ReplaceAll(t.text, "_", ""), "WorkflowExecutionStatus"+name) {
				return Literal{Int: int64(n), Text: name}, nil
			}
		}
		return bad("a status name such as 'Running'")
	case a.Column == ColExecutionDuration:
		if t.kind == tokNumber {
			n, err := strconv.ParseInt(t.text, 10, 64)
			if err != nil {
				return bad("nanoseconds or a duration")
			}
			return Literal{Int: n}, nil
		}
		if t.kind == tokString {
			if d, ok := parseDuration(t.text); ok {
				return Literal{Int: int64(d)}, nil
			}
		}
		return bad("nanoseconds or a duration such as '1h30m' or '01:30:00'")
	}
	switch a.Type {
	case TypeKeyword, TypeKeywordList, TypeText:
		if t.kind != tokString {
			return bad("a string")
		}
		if a.Type == TypeText && op != OpIsNull && op != OpIsNotNull && len(Tokens(t.text)) == 0 {
			return bad("a text with at least one word")
		}
		return Literal{Text: t.text}, nil
	case TypeInt:
		if t.kind != tokNumber {
			return bad("an integer")
		}
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return bad("an integer")
		}
		return Literal{Int: n}, nil
	case TypeDouble:
		if t.kind != tokNumber {
			return bad("a number")
		}
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return bad("a number")
		}
		return Literal{Double: f}, nil
	case TypeBool:
		switch {
		case isBool:
			return Literal{Bool: t.keyword("true")}, nil
		case t.kind == tokString && (strings.EqualFold(t.text, "true") || strings.EqualFold(t.text, "false")):
			return Literal{Bool: strings.EqualFold(t.text, "true")}, nil
		}
		return bad("true or false")
	case TypeDatetime:
		if t.kind == tokNumber {
			n, err := strconv.ParseInt(t.text, 10, 64)
			if err != nil {
				return bad("an RFC 3339 datetime")
			}
			return Literal{Time: time.Unix(0, n).UTC()}, nil
		}
		if t.kind == tokString {
			if tm, err := time.Parse(time.RFC3339Nano, t.text); err == nil {
				return Literal{Time: tm.UTC()}, nil
			}
		}
		return bad("an RFC 3339 datetime such as '2026-01-02T15:04:05Z'")
	}
	return bad("a value")
}

// parseDuration reads a Go duration ("1h30m") or an "hh:mm:ss" clock duration.
func parseDuration(s string) (time.Duration, bool) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, true
	}
	parts := strings.Split(s, ":")
	if len(parts) != 3 {
		return 0, false
	}
	var n [3]int64
	for i, p := range parts {
		v, err := strconv.ParseInt(p, 10, 64)
		if err != nil || v < 0 || (i > 0 && v >= 60) || v > 1<<30 {
			return 0, false
		}
		n[i] = v
	}
	return time.Duration(n[0])*time.Hour + time.Duration(n[1])*time.Minute + time.Duration(n[2])*time.Second, true
}
