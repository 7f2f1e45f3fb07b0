package schedule

import (
	"context"
	"strings"

	"github.com/duro-dev/duro/internal/engine"
	"github.com/duro-dev/duro/internal/visibility"
)

// ListSchedules takes Temporal's list filter language. Schedules are records, not executions, so
// the filter is evaluated here, over what a schedule has: its custom search attributes,
// TemporalSchedulePaused and ScheduleId. Execution attributes (WorkflowId, ExecutionStatus, …)
// parse but a schedule has none of them, so a comparison on one is not true. The semantics are
// those of internal/visibility (SQL's NULL for an attribute a schedule does not have, KeywordList
// membership, Text token matching).

// listFilter is a parsed ListSchedules query.
type listFilter struct {
	where visibility.Expr
	types map[string]visibility.Type
}

// parseListQuery parses a ListSchedules query against the namespace's search attributes; an empty
// query is no filter.
func (s *Scheduler) parseListQuery(ctx context.Context, namespace, query string) (*listFilter, error) {
	if strings.TrimSpace(query) == "" {
		return nil, nil
	}
	reg, err := s.e.SearchAttributes(ctx, namespace)
	if err != nil {
		return nil, err
	}
	types := make(map[string]visibility.Type, len(reg)+1)
	for k, v := range reg {
		types[k] = v
	}
	types["ScheduleId"] = visibility.TypeKeyword
	q, err := visibility.Parse(query, types)
	if err != nil {
		return nil, &engine.Error{Code: engine.CodeInvalidArgument, Message: err.Error()}
	}
	if len(q.OrderBy) > 0 || len(q.GroupBy) > 0 {
		return nil, invalid("invalid query: ORDER BY and GROUP BY are not supported in ListSchedules")
	}
	return &listFilter{where: q.Where, types: types}, nil
}

// tri is a three-valued truth: a comparison on a missing attribute is unknown, as SQL's NULL.
type tri int8

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

func truth(b bool) tri {
	if b {
		return triTrue
	}
	return triFalse
}

// matches tells whether a schedule passes the filter.
func (f *listFilter) matches(st *state) bool {
	if f.where == nil {
		return true
	}
	return f.eval(f.where, f.values(st)) == triTrue
}

// values are a schedule's attribute values as the filter sees them.
func (f *listFilter) values(st *state) map[string][]visibility.Value {
	out := map[string][]visibility.Value{
		"ScheduleId":             {{Name: "ScheduleId", Type: visibility.TypeKeyword, Text: st.ID}},
		"TemporalSchedulePaused": {{Name: "TemporalSchedulePaused", Type: visibility.TypeBool, Bool: st.Schedule.GetState().GetPaused()}},
	}
	for name, p := range st.SearchAttributes.GetIndexedFields() {
		typ, ok := visibility.ParseType(string(p.GetMetadata()["type"]))
		if !ok {
			if typ, ok = f.types[name]; !ok {
				continue
			}
		}
		if vs := decodeValues(name, typ, p.GetData()); len(vs) > 0 {
			out[name] = vs
		}
	}
	return out
}

func (f *listFilter) eval(e visibility.Expr, vals map[string][]visibility.Value) tri {
	switch x := e.(type) {
	case *visibility.And:
		l, r := f.eval(x.Left, vals), f.eval(x.Right, vals)
		switch {
		case l == triFalse || r == triFalse:
			return triFalse
		case l == triTrue && r == triTrue:
			return triTrue
		}
		return triUnknown
	case *visibility.Or:
		l, r := f.eval(x.Left, vals), f.eval(x.Right, vals)
		switch {
		case l == triTrue || r == triTrue:
			return triTrue
		case l == triFalse && r == triFalse:
			return triFalse
		}
		return triUnknown
	case *visibility.Not:
		switch f.eval(x.X, vals) {
		case triTrue:
			return triFalse
		case triFalse:
			return triTrue
		}
		return triUnknown
	case *visibility.Compare:
		return compare(x, vals[x.Attr.Name])
	}
	return triUnknown
}

// compare evaluates one predicate on an attribute's values (several for a KeywordList).
func compare(c *visibility.Compare, vs []visibility.Value) tri {
	switch c.Op {
	case visibility.OpIsNull:
		return truth(len(vs) == 0)
	case visibility.OpIsNotNull:
		return truth(len(vs) > 0)
	}
	if len(vs) == 0 {
		return triUnknown
	}
	if c.Attr.Type == visibility.TypeKeywordList {
		contains := func(lits []visibility.Literal) bool {
			for _, v := range vs {
				for _, l := range lits {
					if v.Text == l.Text {
						return true
					}
				}
			}
			return false
		}
		switch c.Op {
		case visibility.OpEq, visibility.OpIn:
			return truth(contains(c.Values))
		case visibility.OpNe, visibility.OpNotIn:
			return truth(!contains(c.Values))
		}
		return triUnknown
	}
	v := vs[0]
	if c.Attr.Type == visibility.TypeText {
		has := map[string]bool{}
		for _, t := range visibility.Tokens(v.Text) {
			has[t] = true
		}
		all := true
		for _, t := range visibility.Tokens(c.Values[0].Text) {
			all = all && has[t]
		}
		if c.Op == visibility.OpNe {
			return truth(!all)
		}
		return truth(all)
	}
	cmp := func(l visibility.Literal) int { return order(c.Attr.Type, v, l) }
	switch c.Op {
	case visibility.OpEq:
		return truth(cmp(c.Values[0]) == 0)
	case visibility.OpNe:
		return truth(cmp(c.Values[0]) != 0)
	case visibility.OpLt:
		return truth(cmp(c.Values[0]) < 0)
	case visibility.OpLe:
		return truth(cmp(c.Values[0]) <= 0)
	case visibility.OpGt:
		return truth(cmp(c.Values[0]) > 0)
	case visibility.OpGe:
		return truth(cmp(c.Values[0]) >= 0)
	case visibility.OpIn, visibility.OpNotIn:
		in := false
		for _, l := range c.Values {
			in = in || cmp(l) == 0
		}
		return truth(in == (c.Op == visibility.OpIn))
	case visibility.OpBetween, visibility.OpNotBetween:
		between := cmp(c.Values[0]) >= 0 && cmp(c.Values[1]) <= 0
		return truth(between == (c.Op == visibility.OpBetween))
	case visibility.OpStartsWith:
		return truth(strings.HasPrefix(v.Text, c.Values[0].Text))
	case visibility.OpNotStartsWith:
		return truth(!strings.HasPrefix(v.Text, c.Values[0].Text))
	}
	return triUnknown
}

// order compares a value with a literal of the same attribute type (-1, 0, 1).
func order(typ visibility.Type, v visibility.Value, l visibility.Literal) int {
	switch typ {
	case visibility.TypeInt:
		return cmp3(v.Int < l.Int, v.Int > l.Int)
	case visibility.TypeDouble:
		return cmp3(v.Double < l.Double, v.Double > l.Double)
	case visibility.TypeBool:
		return cmp3(!v.Bool && l.Bool, v.Bool && !l.Bool)
	case visibility.TypeDatetime:
		return v.Time.Compare(l.Time)
	default:
		return strings.Compare(v.Text, l.Text)
	}
}

func cmp3(less, greater bool) int {
	switch {
	case less:
		return -1
	case greater:
		return 1
	}
	return 0
}
