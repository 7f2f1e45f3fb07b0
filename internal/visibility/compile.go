package visibility

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Dialect is the SQL dialect [Compile] writes.
type Dialect int

// The dialects of Duro's store drivers.
const (
	// SQLite numbers its placeholders ?1, ?2, …; times are integer Unix microseconds (the zero
	// time.Time, "unset", is stored as its own very negative value) and booleans are 0 or 1.
	SQLite Dialect = iota + 1
	// PostgreSQL numbers its placeholders $1, $2, …; times are timestamptz (NULL for unset)
	// and booleans are boolean.
	PostgreSQL
)

// SQL is a compiled query: fragments for the drivers' list and count statements, and the values
// of the placeholders they contain, numbered from the first parameter given to [Compile].
type SQL struct {
	// Where is a boolean condition over the executions row e ("1=1" without a filter).
	Where string
	// OrderBy is the ORDER BY list: the query's terms, then start_time and run_id descending
	// as tie-breakers (without ORDER BY in the query: just those two).
	OrderBy string
	// CustomOrder reports whether the query has an ORDER BY: such a listing pages by offset, the
	// default order by keyset.
	CustomOrder bool
	// Args are the placeholders' values, in order.
	Args []any
}

// zeroMicros is how the SQLite driver stores the zero time.Time (an unset ExecutionTime or
// CloseTime).
var zeroMicros = strconv.FormatInt(time.Time{}.UnixMicro(), 10)

// Compile writes q as SQL for dialect d, numbering placeholders from firstParam.
//
// The schema it writes against is the contract of both drivers' migrations:
//
//   - the executions row is aliased e, with columns namespace, run_id, workflow_id,
//     workflow_type, task_queue, status, start_time, execution_time, close_time and history_length;
//   - search attribute values are rows of search_values (aliased s inside EXISTS subqueries)
//     keyed by namespace, run_id and name, one row per value (a KeywordList has one per element,
//     a Text one per distinct token of [Tokens]), with the value in text_value (Keyword,
//     KeywordList, Text), int_value, double_value, bool_value or time_value.
func Compile(q *Query, d Dialect, firstParam int) (*SQL, error) {
	if d != SQLite && d != PostgreSQL {
		return nil, fmt.Errorf("compile query: unknown dialect %d", d)
	}
	if firstParam < 1 {
		firstParam = 1
	}
	c := &compiler{d: d, next: firstParam}
	out := &SQL{Where: "1=1"}
	if q != nil && q.Where != nil {
		out.Where = c.expr(q.Where, false)
	}
	var order []string
	if q != nil {
		for _, o := range q.OrderBy {
			dir := " ASC NULLS LAST"
			if o.Desc {
				dir = " DESC NULLS LAST"
			}
			order = append(order, c.sortKey(o.Attr)+dir)
		}
		out.CustomOrder = len(q.OrderBy) > 0
	}
	out.OrderBy = strings.Join(append(order, "e.start_time DESC", "e.run_id DESC"), ", ")
	out.Args = c.args
	return out, nil
}

// compiler accumulates placeholders while it writes one query.
type compiler struct {
	d    Dialect
	next int
	args []any
}

// param adds a placeholder for v and returns its text.
func (c *compiler) param(v any) string {
	c.args = append(c.args, v)
	n := c.next
	c.next++
	if c.d == PostgreSQL {
		return "$" + strconv.Itoa(n)
	}
	return "?" + strconv.Itoa(n)
}

// timeArg is a time in the dialect's storage form.
func (c *compiler) timeArg(t time.Time) any {
	if c.d == SQLite {
		return t.UnixMicro()
	}
	return t
}

func (c *compiler) boolArg(b bool) any {
	if c.d == SQLite {
		if b {
			return int64(1)
		}
		return int64(0)
	}
	return b
}

// expr writes e, negated if neg (negation is pushed down to the predicates so that each one can
// keep SQL's rule that a comparison with a missing value is not true).
func (c *compiler) expr(e Expr, neg bool) string {
	switch x := e.(type) {
	case *And:
		l, r := c.expr(x.Left, neg), c.expr(x.Right, neg)
		if neg {
			return "(" + l + " OR " + r + ")"
		}
		return "(" + l + " AND " + r + ")"
	case *Or:
		l, r := c.expr(x.Left, neg), c.expr(x.Right, neg)
		if neg {
			return "(" + l + " AND " + r + ")"
		}
		return "(" + l + " OR " + r + ")"
	case *Not:
		return c.expr(x.X, !neg)
	case *Compare:
		return c.compare(x, neg)
	}
	return "1=0" // unreachable: Parse builds only the types above
}

// positive maps an operator to its positive form and whether it is that form negated.
func positive(op Op) (Op, bool) {
	switch op {
	case OpNe:
		return OpEq, true
	case OpNotIn:
		return OpIn, true
	case OpNotBetween:
		return OpBetween, true
	case OpNotStartsWith:
		return OpStartsWith, true
	case OpIsNotNull:
		return OpIsNull, true
	}
	return op, false
}

// compare writes one predicate, negated if neg.
func (c *compiler) compare(x *Compare, neg bool) string {
	op, flip := positive(x.Op)
	neg = neg != flip
	a := x.Attr
	if a.Column != ColNone {
		return c.columnPredicate(a, op, x.Values, neg)
	}
	name := c.param(a.Name)
	sub := func(cond string) string {
		return "EXISTS (SELECT 1 FROM search_values s WHERE s.namespace = e.namespace AND s.run_id = e.run_id AND s.name = " +
			name + " AND " + cond + ")"
	}
	present := sub("1=1")
	if op == OpIsNull {
		if neg {
			return present
		}
		return "NOT " + present
	}
	switch a.Type {
	case TypeText:
		var parts []string
		for _, tok := range Tokens(x.Values[0].Text) {
			parts = append(parts, sub("s.text_value = "+c.param(tok)))
		}
		all := "(" + strings.Join(parts, " AND ") + ")"
		if neg {
			return "(" + present + " AND NOT " + all + ")"
		}
		return all
	case TypeKeywordList:
		match := sub(c.predicate("s.text_value", a, op, x.Values))
		if neg {
			return "(" + present + " AND NOT " + match + ")"
		}
		return match
	}
	// A single-valued attribute has at most one row: "has a value, and it does not match" is
	// "has a row that does not match".
	col := map[Type]string{TypeKeyword: "s.text_value", TypeInt: "s.int_value", TypeDouble: "s.double_value",
		TypeBool: "s.bool_value", TypeDatetime: "s.time_value"}[a.Type]
	pred := c.predicate(col, a, op, x.Values)
	if neg {
		return sub("NOT (" + pred + ")")
	}
	return sub(pred)
}

// columnPredicate writes a predicate on a column-backed system attribute.
func (c *compiler) columnPredicate(a Attr, op Op, vals []Literal, neg bool) string {
	col, present := c.column(a.Column)
	if op == OpIsNull {
		switch {
		case present == "" && neg:
			return "1=1"
		case present == "":
			return "1=0"
		case neg:
			return present
		}
		return "NOT (" + present + ")"
	}
	pred := c.predicate(col, a, op, vals)
	if neg {
		pred = "NOT (" + pred + ")"
	}
	if present != "" {
		return "(" + present + " AND " + pred + ")"
	}
	return "(" + pred + ")"
}

// column returns the expression of a column-backed attribute and, for the ones that may be unset,
// the condition that it is set.
func (c *compiler) column(col Column) (expr, present string) {
	setTime := func(name string) string {
		if c.d == SQLite {
			return name + " <> " + zeroMicros
		}
		return name + " IS NOT NULL"
	}
	switch col {
	case ColWorkflowID:
		return "e.workflow_id", ""
	case ColRunID:
		return "e.run_id", ""
	case ColWorkflowType:
		return "e.workflow_type", ""
	case ColTaskQueue:
		return "e.task_queue", ""
	case ColStatus:
		return "e.status", ""
	case ColStartTime:
		return "e.start_time", ""
	case ColHistoryLength:
		return "e.history_length", ""
	case ColExecutionTime:
		return "e.execution_time", setTime("e.execution_time")
	case ColCloseTime:
		return "e.close_time", setTime("e.close_time")
	case ColExecutionDuration:
		both := setTime("e.close_time") + " AND " + setTime("e.execution_time")
		if c.d == SQLite {
			return "((e.close_time - e.execution_time) * 1000)", both
		}
		return "(EXTRACT(EPOCH FROM (e.close_time - e.execution_time)) * 1000000000)::bigint", both
	}
	return "NULL", "1=0" // unreachable
}

// arg converts a literal to the placeholder value the attribute's storage compares with.
func (c *compiler) arg(a Attr, v Literal) any {
	switch {
	case a.Column == ColStatus, a.Column == ColExecutionDuration, a.Column == ColHistoryLength:
		return v.Int
	}
	switch a.Type {
	case TypeInt:
		return v.Int
	case TypeDouble:
		return v.Double
	case TypeBool:
		return c.boolArg(v.Bool)
	case TypeDatetime:
		return c.timeArg(v.Time)
	}
	return v.Text
}

// predicate writes "col op values" for a positive operator (not IS NULL).
func (c *compiler) predicate(col string, a Attr, op Op, vals []Literal) string {
	switch op {
	case OpIn:
		ps := make([]string, len(vals))
		for i, v := range vals {
			ps[i] = c.param(c.arg(a, v))
		}
		return col + " IN (" + strings.Join(ps, ", ") + ")"
	case OpBetween:
		return col + " BETWEEN " + c.param(c.arg(a, vals[0])) + " AND " + c.param(c.arg(a, vals[1]))
	case OpStartsWith:
		p := c.param(vals[0].Text)
		if c.d == PostgreSQL {
			return "starts_with(" + col + ", " + p + ")"
		}
		return "substr(" + col + ", 1, length(" + p + ")) = " + p
	}
	sym := map[Op]string{OpEq: " = ", OpLt: " < ", OpLe: " <= ", OpGt: " > ", OpGe: " >= "}[op]
	return col + sym + c.param(c.arg(a, vals[0]))
}

// sortKey writes the expression an ORDER BY term sorts on (NULL where the run has no value).
func (c *compiler) sortKey(a Attr) string {
	if a.Column != ColNone {
		col, present := c.column(a.Column)
		if present == "" {
			return col
		}
		return "CASE WHEN " + present + " THEN " + col + " END"
	}
	col := map[Type]string{TypeKeyword: "s.text_value", TypeInt: "s.int_value", TypeDouble: "s.double_value",
		TypeBool: "s.bool_value", TypeDatetime: "s.time_value"}[a.Type]
	return "(SELECT " + col + " FROM search_values s WHERE s.namespace = e.namespace AND s.run_id = e.run_id AND s.name = " +
		c.param(a.Name) + " LIMIT 1)"
}
