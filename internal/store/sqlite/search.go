package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/visibility"
)

// searchWriteStmts are the search attribute statements of the writer connection.
type searchWriteStmts struct {
	deleteRunValues, insertValue                   *sql.Stmt
	getAttribute, insertAttribute, deleteAttribute *sql.Stmt
}

func (w *searchWriteStmts) refs() []stmtRef {
	return []stmtRef{
		{"delete_run_search_values", &w.deleteRunValues},
		{"insert_search_value", &w.insertValue},
		{"get_search_attribute", &w.getAttribute},
		{"insert_search_attribute", &w.insertAttribute},
		{"delete_search_attribute", &w.deleteAttribute},
	}
}

// searchReadStmts are the search attribute statements of the read pool.
type searchReadStmts struct {
	listAttributes *sql.Stmt
}

func (r *searchReadStmts) refs() []stmtRef {
	return []stmtRef{{"list_search_attributes", &r.listAttributes}}
}

// Markers of the listing templates (queries/search.sql) that compiled fragments replace.
const (
	whereMarker = "1=1 /*where*/"
	orderMarker = "/*order*/ e.start_time DESC, e.run_id DESC"
)

// searchTemplates are the statements of listings by query, before a compiled query is put in.
type searchTemplates struct {
	list, count, countByStatus string
}

// newSearchTemplates takes the templates from the loaded queries and checks their markers.
func newSearchTemplates(queries map[string]string) (searchTemplates, error) {
	t := searchTemplates{
		list:          queries["list_executions_by_query"],
		count:         queries["count_executions_by_query"],
		countByStatus: queries["count_executions_by_status"],
	}
	for name, q := range map[string]string{"list_executions_by_query": t.list, "count_executions_by_query": t.count,
		"count_executions_by_status": t.countByStatus} {
		if strings.Count(q, whereMarker) != 1 {
			return t, fmt.Errorf("query %s: want one %q", name, whereMarker)
		}
	}
	if strings.Count(t.list, orderMarker) != 1 {
		return t, fmt.Errorf("query list_executions_by_query: want one %q", orderMarker)
	}
	return t, nil
}

// searchValues replaces the run's search values when the transition carries them.
func (a *applier) searchValues(e *store.Execution) error {
	if e.Search == nil {
		return nil
	}
	run := []any{sql.Named("namespace", e.Namespace), sql.Named("run_id", e.RunID)}
	if err := a.exec(a.ws.search.deleteRunValues, run...); err != nil {
		return fmt.Errorf("replace search values: %w", err)
	}
	seq := int64(0)
	insert := func(v visibility.Value, text, integer, double, boolean, tm any) error {
		seq++
		err := a.exec(a.ws.search.insertValue, append(run,
			sql.Named("name", v.Name), sql.Named("seq", seq), sql.Named("text_value", text),
			sql.Named("int_value", integer), sql.Named("double_value", double),
			sql.Named("bool_value", boolean), sql.Named("time_value", tm))...)
		if err != nil {
			return fmt.Errorf("insert search value %s: %w", v.Name, err)
		}
		return nil
	}
	for _, v := range e.Search {
		var err error
		switch v.Type {
		case visibility.TypeText:
			for _, tok := range visibility.Tokens(v.Text) {
				if err = insert(v, tok, nil, nil, nil, nil); err != nil {
					break
				}
			}
		case visibility.TypeKeyword, visibility.TypeKeywordList:
			err = insert(v, v.Text, nil, nil, nil, nil)
		case visibility.TypeInt:
			err = insert(v, nil, v.Int, nil, nil, nil)
		case visibility.TypeDouble:
			err = insert(v, nil, nil, v.Double, nil, nil)
		case visibility.TypeBool:
			b := int64(0)
			if v.Bool {
				b = 1
			}
			err = insert(v, nil, nil, nil, b, nil)
		case visibility.TypeDatetime:
			err = insert(v, nil, nil, nil, nil, micros(v.Time))
		default:
			err = fmt.Errorf("search value %s: unknown type %d: %w", v.Name, v.Type, errConstraint)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// queryArgs binds the leading parameters the by-query templates share: ?1 namespace, ?2 workflow
// ID, ?3 workflow type, ?4 statuses.
func queryArgs(f store.ExecutionFilter) ([]any, error) {
	args, err := filterArgs(f)
	if err != nil {
		return nil, err
	}
	var statuses any
	for _, a := range args {
		if n, ok := a.(sql.NamedArg); ok && n.Name == "statuses" {
			statuses = n.Value
		}
	}
	return []any{f.Namespace, f.WorkflowID, f.WorkflowType, statuses}, nil
}

// compile compiles f's query (nil: none) with placeholders numbered from first.
func compile(f store.ExecutionFilter, first int) (*visibility.SQL, error) {
	return visibility.Compile(f.Query, visibility.SQLite, first)
}

// listByQuery is ListExecutions for a filter with a query.
func (s *Store) listByQuery(ctx context.Context, f store.ExecutionFilter) ([]store.Execution, error) {
	args, err := queryArgs(f)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	c, err := compile(f, 9)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	afterTime, afterRun, offset := int64(math.MaxInt64), "", int64(0)
	switch {
	case c.CustomOrder:
		offset = int64(max(f.Offset, 0))
	case f.After != nil:
		afterTime, afterRun = micros(f.After.StartTime), f.After.RunID
	}
	args = append(args, afterTime, afterRun, sqlLimit(f.PageSize), offset)
	q := strings.Replace(strings.Replace(s.tmpl.list, whereMarker, c.Where, 1), orderMarker, c.OrderBy, 1)
	rows, err := s.r.QueryContext(ctx, q, append(args, c.Args...)...)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", translate(ctx, err))
	}
	defer rows.Close()
	var es []store.Execution
	for rows.Next() {
		var e store.Execution
		if err := scanExecution(rows, &e, nil); err != nil {
			return nil, fmt.Errorf("list executions: %w", translate(ctx, err))
		}
		es = append(es, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list executions: %w", translate(ctx, err))
	}
	return es, nil
}

// countByQuery is CountExecutions for a filter with a query.
func (s *Store) countByQuery(ctx context.Context, f store.ExecutionFilter) (int64, error) {
	args, err := queryArgs(f)
	if err != nil {
		return 0, fmt.Errorf("count executions: %w", err)
	}
	c, err := compile(f, 5)
	if err != nil {
		return 0, fmt.Errorf("count executions: %w", err)
	}
	var n int64
	q := strings.Replace(s.tmpl.count, whereMarker, c.Where, 1)
	if err := s.r.QueryRowContext(ctx, q, append(args, c.Args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count executions: %w", translate(ctx, err))
	}
	return n, nil
}

// CountExecutionsGroupBy counts the executions matching f per ExecutionStatus.
func (s *Store) CountExecutionsGroupBy(ctx context.Context, f store.ExecutionFilter, groupBy string) ([]store.GroupCount, error) {
	if groupBy != "ExecutionStatus" {
		return nil, fmt.Errorf("count executions: cannot group by %q, only by ExecutionStatus", groupBy)
	}
	args, err := queryArgs(f)
	if err != nil {
		return nil, fmt.Errorf("count executions by status: %w", err)
	}
	c, err := compile(f, 5)
	if err != nil {
		return nil, fmt.Errorf("count executions by status: %w", err)
	}
	q := strings.Replace(s.tmpl.countByStatus, whereMarker, c.Where, 1)
	rows, err := s.r.QueryContext(ctx, q, append(args, c.Args...)...)
	if err != nil {
		return nil, fmt.Errorf("count executions by status: %w", translate(ctx, err))
	}
	defer rows.Close()
	var out []store.GroupCount
	for rows.Next() {
		var g store.GroupCount
		var status int64
		if err := rows.Scan(&status, &g.Count); err != nil {
			return nil, fmt.Errorf("count executions by status: %w", translate(ctx, err))
		}
		g.Status = int32(status)
		out = append(out, g)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count executions by status: %w", translate(ctx, err))
	}
	return out, nil
}

// AddSearchAttributes registers custom search attributes, all or none.
func (s *Store) AddSearchAttributes(ctx context.Context, namespace string, attrs map[string]visibility.Type) error {
	err := s.write(ctx, func(a *applier) error {
		for name, typ := range attrs {
			var cur int64
			err := a.stmt(a.ws.search.getAttribute).QueryRowContext(ctx,
				sql.Named("namespace", namespace), sql.Named("name", name)).Scan(&cur)
			switch {
			case err == nil && visibility.Type(cur) == typ:
				continue
			case err == nil:
				return fmt.Errorf("search attribute %s is registered with type %s: %w", name, visibility.Type(cur), store.ErrAlreadyExists)
			case !errors.Is(err, sql.ErrNoRows):
				return translate(ctx, err)
			}
			if err := a.exec(a.ws.search.insertAttribute, sql.Named("namespace", namespace),
				sql.Named("name", name), sql.Named("type", int64(typ))); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add search attributes of %s: %w", namespace, err)
	}
	return nil
}

// ListSearchAttributes returns a namespace's custom search attributes.
func (s *Store) ListSearchAttributes(ctx context.Context, namespace string) (map[string]visibility.Type, error) {
	rows, err := s.rs.search.listAttributes.QueryContext(ctx, sql.Named("namespace", namespace))
	if err != nil {
		return nil, fmt.Errorf("list search attributes of %s: %w", namespace, translate(ctx, err))
	}
	defer rows.Close()
	out := map[string]visibility.Type{}
	for rows.Next() {
		var name string
		var typ int64
		if err := rows.Scan(&name, &typ); err != nil {
			return nil, fmt.Errorf("list search attributes of %s: %w", namespace, translate(ctx, err))
		}
		out[name] = visibility.Type(typ)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list search attributes of %s: %w", namespace, translate(ctx, err))
	}
	return out, nil
}

// RemoveSearchAttributes unregisters custom search attributes, all or none.
func (s *Store) RemoveSearchAttributes(ctx context.Context, namespace string, names []string) error {
	err := s.write(ctx, func(a *applier) error {
		for _, name := range names {
			n, err := a.execCount(a.ws.search.deleteAttribute, sql.Named("namespace", namespace), sql.Named("name", name))
			if err != nil {
				return err
			}
			if n == 0 {
				return fmt.Errorf("search attribute %s is not registered: %w", name, store.ErrNotFound)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove search attributes of %s: %w", namespace, err)
	}
	return nil
}
