package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/duro-dev/duro/internal/store"
)

// GetExecution reads one run's record.
func (s *Store) GetExecution(ctx context.Context, namespace, workflowID, runID string) (*store.Execution, error) {
	row := s.rs.getExecution.QueryRowContext(ctx,
		sql.Named("namespace", namespace), sql.Named("workflow_id", workflowID), sql.Named("run_id", runID))
	var e store.Execution
	if err := scanExecution(row, &e, &e.State); err != nil {
		return nil, fmt.Errorf("get execution %s/%s/%s: %w", namespace, workflowID, runID, translate(ctx, err))
	}
	return &e, nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface {
	Scan(dest ...any) error
}

// scanExecution scans the columns of get_execution (state into *state) or, with state nil, of
// list_executions.
func scanExecution(sc scanner, e *store.Execution, state *[]byte) error {
	var status, start, exec, closed int64
	dest := []any{&e.Namespace, &e.RunID, &e.WorkflowID, &e.Version, &e.WorkflowType, &e.TaskQueue,
		&status, &start, &exec, &closed, &e.HistoryLength, &e.Memo, &e.SearchAttributes}
	if state != nil {
		dest = append(dest, state)
	}
	if err := sc.Scan(dest...); err != nil {
		return err
	}
	e.Status = int32(status)
	e.StartTime, e.ExecutionTime, e.CloseTime = fromMicros(start), fromMicros(exec), fromMicros(closed)
	return nil
}

// GetCurrent reads the current-run pointer of a workflow ID.
func (s *Store) GetCurrent(ctx context.Context, namespace, workflowID string) (*store.Current, error) {
	var c store.Current
	var status, start int64
	err := s.rs.getCurrent.QueryRowContext(ctx, sql.Named("namespace", namespace), sql.Named("workflow_id", workflowID)).
		Scan(&c.Namespace, &c.WorkflowID, &c.RunID, &status, &c.StartRequestID, &start)
	if err != nil {
		return nil, fmt.Errorf("get current run of %s/%s: %w", namespace, workflowID, translate(ctx, err))
	}
	c.Status, c.StartTime = int32(status), fromMicros(start)
	return &c, nil
}

// ReadEvents returns the run's events with fromID <= EventID < toID, in order.
func (s *Store) ReadEvents(ctx context.Context, namespace, runID string, fromID, toID int64, limit int) ([]store.Event, error) {
	if toID <= 0 {
		toID = math.MaxInt64
	}
	rows, err := s.rs.readEvents.QueryContext(ctx,
		sql.Named("namespace", namespace), sql.Named("run_id", runID),
		sql.Named("from_id", fromID), sql.Named("to_id", toID), sql.Named("limit", sqlLimit(limit)))
	evs, err := scanEvents(rows, err)
	if err != nil {
		return nil, fmt.Errorf("read events of %s/%s: %w", namespace, runID, translate(ctx, err))
	}
	return evs, nil
}

// ReadEventsReverse returns the run's events with EventID <= beforeOrAt, newest first.
func (s *Store) ReadEventsReverse(ctx context.Context, namespace, runID string, beforeOrAt int64, limit int) ([]store.Event, error) {
	if beforeOrAt <= 0 {
		beforeOrAt = math.MaxInt64
	}
	rows, err := s.rs.readEventsReverse.QueryContext(ctx,
		sql.Named("namespace", namespace), sql.Named("run_id", runID),
		sql.Named("before_or_at", beforeOrAt), sql.Named("limit", sqlLimit(limit)))
	evs, err := scanEvents(rows, err)
	if err != nil {
		return nil, fmt.Errorf("read events of %s/%s in reverse: %w", namespace, runID, translate(ctx, err))
	}
	return evs, nil
}

func scanEvents(rows *sql.Rows, err error) ([]store.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []store.Event
	for rows.Next() {
		var ev store.Event
		if err := rows.Scan(&ev.EventID, &ev.Data); err != nil {
			return nil, err
		}
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// ListTasks returns up to limit visible task rows of one queue, oldest first.
func (s *Store) ListTasks(ctx context.Context, q store.TaskQueueKey, now time.Time, limit int) ([]store.Task, error) {
	rows, err := s.rs.listTasks.QueryContext(ctx,
		sql.Named("namespace", q.Namespace), sql.Named("queue", q.Name), sql.Named("kind", int64(q.Kind)),
		sql.Named("now", micros(now)), sql.Named("limit", sqlLimit(limit)))
	tasks, err := scanTasks(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list tasks of %s/%s/%d: %w", q.Namespace, q.Name, q.Kind, translate(ctx, err))
	}
	return tasks, nil
}

func scanTasks(rows *sql.Rows, err error) ([]store.Task, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var tasks []store.Task
	for rows.Next() {
		var t store.Task
		var kind, attempt, created, visible int64
		if err := rows.Scan(&t.ID, &t.Namespace, &t.Name, &kind, &t.WorkflowID, &t.RunID,
			&t.ScheduledEventID, &attempt, &created, &visible, &t.Data); err != nil {
			return nil, err
		}
		t.Kind, t.Attempt = store.TaskKind(kind), int32(attempt)
		t.CreatedAt, t.VisibleAt = fromMicros(created), fromMicros(visible)
		tasks = append(tasks, t)
	}
	return tasks, rows.Err()
}

// CountTasks counts the rows of one queue, visible or not.
func (s *Store) CountTasks(ctx context.Context, q store.TaskQueueKey) (int64, error) {
	var n int64
	err := s.rs.countTasks.QueryRowContext(ctx,
		sql.Named("namespace", q.Namespace), sql.Named("queue", q.Name), sql.Named("kind", int64(q.Kind))).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count tasks of %s/%s/%d: %w", q.Namespace, q.Name, q.Kind, translate(ctx, err))
	}
	return n, nil
}

// ListTimers returns up to limit timer rows with FireAt <= until, earliest first.
func (s *Store) ListTimers(ctx context.Context, until time.Time, limit int) ([]store.Timer, error) {
	rows, err := s.rs.listTimers.QueryContext(ctx, sql.Named("until", micros(until)), sql.Named("limit", sqlLimit(limit)))
	timers, err := scanTimers(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list timers: %w", translate(ctx, err))
	}
	return timers, nil
}

func scanTimers(rows *sql.Rows, err error) ([]store.Timer, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var timers []store.Timer
	for rows.Next() {
		var t store.Timer
		var fireAt, kind, attempt int64
		if err := rows.Scan(&t.ID, &fireAt, &t.Namespace, &t.WorkflowID, &t.RunID, &kind, &t.EventID,
			&attempt, &t.Data); err != nil {
			return nil, err
		}
		t.FireAt, t.Kind, t.Attempt = fromMicros(fireAt), int32(kind), int32(attempt)
		timers = append(timers, t)
	}
	return timers, rows.Err()
}

// ListExecutions returns a namespace's executions newest first, filtered by f, with keyset paging.
func (s *Store) ListExecutions(ctx context.Context, f store.ExecutionFilter) ([]store.Execution, error) {
	if f.Query != nil {
		return s.listByQuery(ctx, f)
	}
	args, err := filterArgs(f)
	if err != nil {
		return nil, fmt.Errorf("list executions: %w", err)
	}
	afterTime, afterRun := int64(math.MaxInt64), "" // before every row
	if f.After != nil {
		afterTime, afterRun = micros(f.After.StartTime), f.After.RunID
	}
	args = append(args, sql.Named("after_start_time", afterTime), sql.Named("after_run_id", afterRun),
		sql.Named("limit", sqlLimit(f.PageSize)))
	st := s.rs.listExecutions
	if f.WorkflowID != "" {
		st = s.rs.listExecutionsOfWorkflow
	}
	rows, err := st.QueryContext(ctx, args...)
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

// CountExecutions counts the executions matching f.
func (s *Store) CountExecutions(ctx context.Context, f store.ExecutionFilter) (int64, error) {
	if f.Query != nil {
		return s.countByQuery(ctx, f)
	}
	args, err := filterArgs(f)
	if err != nil {
		return 0, fmt.Errorf("count executions: %w", err)
	}
	st := s.rs.countExecutions
	if f.WorkflowID != "" {
		st = s.rs.countExecutionsOfWorkflow
	}
	var n int64
	if err := st.QueryRowContext(ctx, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count executions: %w", translate(ctx, err))
	}
	return n, nil
}

// filterArgs binds the filter columns shared by the list and count queries. The namespace is
// always an equality: a listing is of one namespace, and the indexes lead with it.
func filterArgs(f store.ExecutionFilter) ([]any, error) {
	var statuses any // NULL: no filter
	if len(f.Statuses) > 0 {
		b, err := json.Marshal(f.Statuses)
		if err != nil {
			return nil, fmt.Errorf("encode statuses: %w", err)
		}
		statuses = string(b)
	}
	args := []any{
		sql.Named("namespace", f.Namespace),
		sql.Named("workflow_type", f.WorkflowType),
		sql.Named("statuses", statuses),
	}
	if f.WorkflowID != "" {
		args = append(args, sql.Named("workflow_id", f.WorkflowID))
	}
	return args, nil
}

// sqlLimit maps "limit <= 0 means no limit" to SQLite's LIMIT -1.
func sqlLimit(limit int) int64 {
	if limit <= 0 {
		return -1
	}
	return int64(limit)
}
