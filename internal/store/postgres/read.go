package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/duro-dev/duro/internal/store"
)

// limitArg turns a store limit (<= 0: none) into a LIMIT parameter (NULL: none).
func limitArg(limit int) any {
	if limit <= 0 {
		return nil
	}
	return int64(limit)
}

// optionalTime is a nullable timestamptz parameter: the zero time is NULL.
func optionalTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

// utc returns a scanned nullable timestamptz as a UTC time (zero for NULL).
func utc(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// GetExecution reads one run's record.
func (s *Store) GetExecution(ctx context.Context, namespace, workflowID, runID string) (*store.Execution, error) {
	var e store.Execution
	var execTime, closeTime *time.Time
	err := s.pool.QueryRow(ctx, qGetExecution, namespace, workflowID, runID).Scan(
		&e.Namespace, &e.WorkflowID, &e.RunID, &e.Version, &e.State, &e.WorkflowType, &e.TaskQueue,
		&e.Status, &e.StartTime, &execTime, &closeTime, &e.HistoryLength, &e.Memo, &e.SearchAttributes)
	if err != nil {
		return nil, fmt.Errorf("get execution %s/%s/%s: %w", namespace, workflowID, runID, translate(err))
	}
	e.StartTime, e.ExecutionTime, e.CloseTime = e.StartTime.UTC(), utc(execTime), utc(closeTime)
	return &e, nil
}

// GetCurrent reads the current-run pointer of a workflow ID.
func (s *Store) GetCurrent(ctx context.Context, namespace, workflowID string) (*store.Current, error) {
	var c store.Current
	err := s.pool.QueryRow(ctx, qGetCurrent, namespace, workflowID).Scan(
		&c.Namespace, &c.WorkflowID, &c.RunID, &c.Status, &c.StartRequestID, &c.StartTime)
	if err != nil {
		return nil, fmt.Errorf("get current run of %s/%s: %w", namespace, workflowID, translate(err))
	}
	c.StartTime = c.StartTime.UTC()
	return &c, nil
}

// ReadEvents returns the run's events with fromID <= EventID < toID (toID <= 0: no bound), in order.
func (s *Store) ReadEvents(ctx context.Context, namespace, runID string, fromID, toID int64, limit int) ([]store.Event, error) {
	var to any
	if toID > 0 {
		to = toID
	}
	rows, err := s.pool.Query(ctx, qReadEvents, namespace, runID, fromID, to, limitArg(limit))
	evs, err := collectEvents(rows, err)
	if err != nil {
		return nil, fmt.Errorf("read events of %s/%s: %w", namespace, runID, err)
	}
	return evs, nil
}

// ReadEventsReverse returns the run's events with EventID <= beforeOrAt (<= 0: from the last),
// newest first.
func (s *Store) ReadEventsReverse(ctx context.Context, namespace, runID string, beforeOrAt int64, limit int) ([]store.Event, error) {
	var upTo any
	if beforeOrAt > 0 {
		upTo = beforeOrAt
	}
	rows, err := s.pool.Query(ctx, qReadEventsReverse, namespace, runID, upTo, limitArg(limit))
	evs, err := collectEvents(rows, err)
	if err != nil {
		return nil, fmt.Errorf("read events of %s/%s backwards: %w", namespace, runID, err)
	}
	return evs, nil
}

func collectEvents(rows pgx.Rows, err error) ([]store.Event, error) {
	if err != nil {
		return nil, translate(err)
	}
	evs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Event, error) {
		var e store.Event
		err := row.Scan(&e.EventID, &e.Data)
		return e, err
	})
	if err != nil {
		return nil, translate(err)
	}
	if evs == nil {
		evs = []store.Event{}
	}
	return evs, nil
}

// DeleteExecution removes a run with its history, tasks, timers and (if it points at the run) its
// current-run pointer, in one statement.
func (s *Store) DeleteExecution(ctx context.Context, namespace, workflowID, runID string) error {
	if _, err := s.pool.Exec(ctx, qDeleteExecution, namespace, workflowID, runID); err != nil {
		return fmt.Errorf("delete execution %s/%s/%s: %w", namespace, workflowID, runID, translate(err))
	}
	return nil
}

// ListTasks returns up to limit visible task rows of one queue, lowest ID first. It is a plain
// read: claims are fenced by Transition.DeleteTasks inside Apply.
func (s *Store) ListTasks(ctx context.Context, q store.TaskQueueKey, now time.Time, limit int) ([]store.Task, error) {
	rows, err := s.pool.Query(ctx, qListTasks, q.Namespace, q.Name, int32(q.Kind), now, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s/%s/%d: %w", q.Namespace, q.Name, q.Kind, translate(err))
	}
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Task, error) {
		var t store.Task
		err := row.Scan(&t.ID, &t.Namespace, &t.Name, &t.Kind, &t.WorkflowID, &t.RunID,
			&t.ScheduledEventID, &t.Attempt, &t.CreatedAt, &t.VisibleAt, &t.Data)
		t.CreatedAt, t.VisibleAt = t.CreatedAt.UTC(), t.VisibleAt.UTC()
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s/%s/%d: %w", q.Namespace, q.Name, q.Kind, translate(err))
	}
	return ts, nil
}

// CountTasks counts the rows of one queue.
func (s *Store) CountTasks(ctx context.Context, q store.TaskQueueKey) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, qCountTasks, q.Namespace, q.Name, int32(q.Kind)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count tasks of %s/%s/%d: %w", q.Namespace, q.Name, q.Kind, translate(err))
	}
	return n, nil
}

// ListTimers returns up to limit timer rows due at or before until, earliest first (ties by ID).
func (s *Store) ListTimers(ctx context.Context, until time.Time, limit int) ([]store.Timer, error) {
	rows, err := s.pool.Query(ctx, qListTimers, until, limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("list timers: %w", translate(err))
	}
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Timer, error) {
		var t store.Timer
		err := row.Scan(&t.ID, &t.FireAt, &t.Namespace, &t.WorkflowID, &t.RunID, &t.Kind,
			&t.EventID, &t.Attempt, &t.Data)
		t.FireAt = t.FireAt.UTC()
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("list timers: %w", translate(err))
	}
	return ts, nil
}

// statusesArg is the statuses filter as an array parameter (empty: no filter).
func statusesArg(f store.ExecutionFilter) []int32 {
	if f.Statuses == nil {
		return []int32{}
	}
	return f.Statuses
}

// firstPage is the keyset position before every row: start_time 'infinity'.
var firstPage = pgtype.Timestamptz{InfinityModifier: pgtype.Infinity, Valid: true}

// ListExecutions returns a namespace's executions (without State), newest first, keyset-paged.
func (s *Store) ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]store.Execution, error) {
	if f.Query != nil {
		return s.listByQuery(ctx, f)
	}
	var afterTime any = firstPage
	afterRun := ""
	if f.After != nil {
		afterTime, afterRun = f.After.StartTime, f.After.RunID
	}
	query := qListExecutions
	args := []any{f.Namespace, afterTime, afterRun, f.WorkflowType, statusesArg(f), limitArg(f.PageSize)}
	if f.WorkflowID != "" {
		query, args = qListExecutionsOfWorkflow, append(args, f.WorkflowID)
	}
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", f.Namespace, translate(err))
	}
	es, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Execution, error) {
		var e store.Execution
		var execTime, closeTime *time.Time
		err := row.Scan(&e.Namespace, &e.WorkflowID, &e.RunID, &e.Version, &e.WorkflowType,
			&e.TaskQueue, &e.Status, &e.StartTime, &execTime, &closeTime, &e.HistoryLength, &e.Memo,
			&e.SearchAttributes)
		e.StartTime, e.ExecutionTime, e.CloseTime = e.StartTime.UTC(), utc(execTime), utc(closeTime)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("list executions of %s: %w", f.Namespace, translate(err))
	}
	return es, nil
}

// CountExecutions counts the executions matching f.
func (s *Store) CountExecutions(ctx context.Context, f store.ExecutionFilter) (int64, error) {
	if f.Query != nil {
		return s.countByQuery(ctx, f)
	}
	query := qCountExecutions
	args := []any{f.Namespace, f.WorkflowType, statusesArg(f)}
	if f.WorkflowID != "" {
		query, args = qCountExecutionsOfWorkflow, append(args, f.WorkflowID)
	}
	var n int64
	if err := s.pool.QueryRow(ctx, query, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count executions of %s: %w", f.Namespace, translate(err))
	}
	return n, nil
}

// CreateNamespace inserts a namespace; ErrAlreadyExists if the name is taken.
func (s *Store) CreateNamespace(ctx context.Context, ns store.Namespace) error {
	if _, err := s.pool.Exec(ctx, qInsertNamespace, ns.Name, ns.ID, ns.Data, ns.CreatedAt); err != nil {
		return fmt.Errorf("create namespace %s: %w", ns.Name, translate(err))
	}
	return nil
}

// UpdateNamespace replaces the namespace's Data; ErrNotFound if there is no such name.
func (s *Store) UpdateNamespace(ctx context.Context, ns store.Namespace) error {
	tag, err := s.pool.Exec(ctx, qUpdateNamespace, ns.Name, ns.Data)
	if err != nil {
		return fmt.Errorf("update namespace %s: %w", ns.Name, translate(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("update namespace %s: %w", ns.Name, store.ErrNotFound)
	}
	return nil
}

// GetNamespace reads a namespace by name.
func (s *Store) GetNamespace(ctx context.Context, name string) (*store.Namespace, error) {
	var ns store.Namespace
	err := s.pool.QueryRow(ctx, qGetNamespace, name).Scan(&ns.ID, &ns.Name, &ns.Data, &ns.CreatedAt)
	if err != nil {
		return nil, fmt.Errorf("get namespace %s: %w", name, translate(err))
	}
	ns.CreatedAt = ns.CreatedAt.UTC()
	return &ns, nil
}

// ListNamespaces returns all namespaces ordered by name.
func (s *Store) ListNamespaces(ctx context.Context) ([]store.Namespace, error) {
	rows, err := s.pool.Query(ctx, qListNamespaces)
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", translate(err))
	}
	nss, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Namespace, error) {
		var ns store.Namespace
		err := row.Scan(&ns.ID, &ns.Name, &ns.Data, &ns.CreatedAt)
		ns.CreatedAt = ns.CreatedAt.UTC()
		return ns, err
	})
	if err != nil {
		return nil, fmt.Errorf("list namespaces: %w", translate(err))
	}
	return nss, nil
}
