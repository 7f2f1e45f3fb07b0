package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/visibility"
)

// Statement names of queries/search.sql.
const (
	qDeleteRunSearchValues = "delete_run_search_values"
	qInsertSearchValues    = "insert_search_values"
	qInsertSearchAttribute = "insert_search_attribute"
	qGetSearchAttribute    = "get_search_attribute"
	qDeleteSearchAttribute = "delete_search_attribute"
	qListSearchAttributes  = "list_search_attributes"

	// Templates (see newSearchTemplates); prepared as written, run with a compiled query put in.
	qListExecutionsByQuery   = "list_executions_by_query"
	qCountExecutionsByQuery  = "count_executions_by_query"
	qCountExecutionsByStatus = "count_executions_by_status"
)

// Markers of the listing templates that compiled fragments replace.
const (
	whereMarker = "TRUE /*where*/"
	orderMarker = "/*order*/ e.start_time DESC, e.run_id DESC"
)

// searchTemplates are the statements of listings by query, before a compiled query is put in.
type searchTemplates struct {
	list, count, countByStatus string
}

// newSearchTemplates takes the templates from the loaded queries and checks their markers.
func newSearchTemplates(queries []namedQuery) (searchTemplates, error) {
	var t searchTemplates
	for _, q := range queries {
		switch q.name {
		case qListExecutionsByQuery:
			t.list = q.sql
		case qCountExecutionsByQuery:
			t.count = q.sql
		case qCountExecutionsByStatus:
			t.countByStatus = q.sql
		}
	}
	for name, q := range map[string]string{qListExecutionsByQuery: t.list, qCountExecutionsByQuery: t.count,
		qCountExecutionsByStatus: t.countByStatus} {
		if strings.Count(q, whereMarker) != 1 {
			return t, fmt.Errorf("query %s: want one %q", name, whereMarker)
		}
	}
	if strings.Count(t.list, orderMarker) != 1 {
		return t, fmt.Errorf("query list_executions_by_query: want one %q", orderMarker)
	}
	return t, nil
}

// queueSearch queues the replacement of a run's search values, when the transition carries them.
func queueSearch(i int, e *store.Execution, queue queueFunc) {
	if e.Search == nil {
		return
	}
	queue(i, "delete search values", execRead, qDeleteRunSearchValues, e.Namespace, e.RunID)
	var (
		names    []string
		seqs     []int32
		texts    []*string
		ints     []*int64
		doubles  []*float64
		bools    []*bool
		times    []*time.Time
		seq      int32
		addValue = func(name string, text *string, n *int64, d *float64, b *bool, t *time.Time) {
			seq++
			names, seqs = append(names, name), append(seqs, seq)
			texts, ints, doubles, bools, times = append(texts, text), append(ints, n), append(doubles, d),
				append(bools, b), append(times, t)
		}
	)
	for _, v := range e.Search {
		switch v.Type {
		case visibility.TypeText:
			for _, tok := range visibility.Tokens(v.Text) {
				addValue(v.Name, &tok, nil, nil, nil, nil)
			}
		case visibility.TypeKeyword, visibility.TypeKeywordList:
			addValue(v.Name, &v.Text, nil, nil, nil, nil)
		case visibility.TypeInt:
			addValue(v.Name, nil, &v.Int, nil, nil, nil)
		case visibility.TypeDouble:
			addValue(v.Name, nil, nil, &v.Double, nil, nil)
		case visibility.TypeBool:
			addValue(v.Name, nil, nil, nil, &v.Bool, nil)
		case visibility.TypeDatetime:
			addValue(v.Name, nil, nil, nil, nil, &v.Time)
		}
	}
	if len(names) > 0 {
		queue(i, "insert search values", execRead, qInsertSearchValues, e.Namespace, e.RunID,
			names, seqs, texts, ints, doubles, bools, times)
	}
}

// queryArgs are the leading parameters the by-query templates share: $1 namespace, $2 workflow
// ID, $3 workflow type, $4 statuses.
func queryArgs(f store.ExecutionFilter) []any {
	return []any{f.Namespace, f.WorkflowID, f.WorkflowType, statusesArg(f)}
}

// listByQuery is ListExecutions for a filter with a query.
func (s *Store) listByQuery(ctx context.Context, f store.ExecutionFilter) ([]store.Execution, error) {
	c, err := visibility.Compile(f.Query, visibility.PostgreSQL, 9)
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", f.Namespace, err)
	}
	var afterTime any = firstPage
	afterRun, offset := "", int64(0)
	switch {
	case c.CustomOrder:
		offset = int64(max(f.Offset, 0))
	case f.After != nil:
		afterTime, afterRun = f.After.StartTime, f.After.RunID
	}
	args := append(queryArgs(f), afterTime, afterRun, limitArg(f.PageSize), offset)
	q := strings.Replace(strings.Replace(s.tmpl.list, whereMarker, c.Where, 1), orderMarker, c.OrderBy, 1)
	rows, err := s.pool.Query(ctx, q, append(args, c.Args...)...)
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", f.Namespace, translate(err))
	}
	es, err := pgx.CollectRows(rows, scanListed)
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", f.Namespace, translate(err))
	}
	return es, nil
}

// scanListed scans a row of list_executions_by_query.
func scanListed(row pgx.CollectableRow) (store.Execution, error) {
	var e store.Execution
	var execTime, closeTime *time.Time
	err := row.Scan(&e.Namespace, &e.WorkflowID, &e.RunID, &e.Version, &e.WorkflowType,
		&e.TaskQueue, &e.Status, &e.StartTime, &execTime, &closeTime, &e.HistoryLength, &e.Memo,
		&e.SearchAttributes)
	e.StartTime, e.ExecutionTime, e.CloseTime = e.StartTime.UTC(), utc(execTime), utc(closeTime)
	return e, err
}

// countByQuery is CountExecutions for a filter with a query.
func (s *Store) countByQuery(ctx context.Context, f store.ExecutionFilter) (int64, error) {
	c, err := visibility.Compile(f.Query, visibility.PostgreSQL, 5)
	if err != nil {
		return 0, fmt.Errorf("count executions of %s: %w", f.Namespace, err)
	}
	var n int64
	q := strings.Replace(s.tmpl.count, whereMarker, c.Where, 1)
	if err := s.pool.QueryRow(ctx, q, append(queryArgs(f), c.Args...)...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count executions of %s: %w", f.Namespace, translate(err))
	}
	return n, nil
}

// CountExecutionsGroupBy counts the executions matching f per ExecutionStatus.
func (s *Store) CountExecutionsGroupBy(ctx context.Context, f store.ExecutionFilter, groupBy string) ([]store.GroupCount, error) {
	if groupBy != "ExecutionStatus" {
		return nil, fmt.Errorf("count executions of %s: cannot group by %q, only by ExecutionStatus", f.Namespace, groupBy)
	}
	c, err := visibility.Compile(f.Query, visibility.PostgreSQL, 5)
	if err != nil {
		return nil, fmt.Errorf("count executions of %s by status: %w", f.Namespace, err)
	}
	q := strings.Replace(s.tmpl.countByStatus, whereMarker, c.Where, 1)
	rows, err := s.pool.Query(ctx, q, append(queryArgs(f), c.Args...)...)
	if err != nil {
		return nil, fmt.Errorf("count executions of %s by status: %w", f.Namespace, translate(err))
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.GroupCount, error) {
		var g store.GroupCount
		err := row.Scan(&g.Status, &g.Count)
		return g, err
	})
	if err != nil {
		return nil, fmt.Errorf("count executions of %s by status: %w", f.Namespace, translate(err))
	}
	return out, nil
}

// AddSearchAttributes registers custom search attributes, all or none.
func (s *Store) AddSearchAttributes(ctx context.Context, namespace string, attrs map[string]visibility.Type) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for name, typ := range attrs {
			if _, err := tx.Exec(ctx, qInsertSearchAttribute, namespace, name, int32(typ)); err != nil {
				return translate(err)
			}
			var cur int32
			if err := tx.QueryRow(ctx, qGetSearchAttribute, namespace, name).Scan(&cur); err != nil {
				return translate(err)
			}
			if visibility.Type(cur) != typ {
				return fmt.Errorf("search attribute %s is registered with type %s: %w", name, visibility.Type(cur), store.ErrAlreadyExists)
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
	rows, err := s.pool.Query(ctx, qListSearchAttributes, namespace)
	if err != nil {
		return nil, fmt.Errorf("list search attributes of %s: %w", namespace, translate(err))
	}
	out := map[string]visibility.Type{}
	var name string
	var typ int32
	_, err = pgx.ForEachRow(rows, []any{&name, &typ}, func() error {
		out[name] = visibility.Type(typ)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list search attributes of %s: %w", namespace, translate(err))
	}
	return out, nil
}

// errNotRegistered fails a removal of a name that is not registered.
var errNotRegistered = errors.New("search attribute is not registered")

// RemoveSearchAttributes unregisters custom search attributes, all or none.
func (s *Store) RemoveSearchAttributes(ctx context.Context, namespace string, names []string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, name := range names {
			tag, err := tx.Exec(ctx, qDeleteSearchAttribute, namespace, name)
			if err != nil {
				return translate(err)
			}
			if tag.RowsAffected() == 0 {
				return fmt.Errorf("%w: %s: %w", errNotRegistered, name, store.ErrNotFound)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove search attributes of %s: %w", namespace, err)
	}
	return nil
}
