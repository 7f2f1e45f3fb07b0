package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/duro-dev/duro/internal/store"
)

// Apply commits ts in one transaction, each transition in its own savepoint (see [store.Store]).
//
// Within a transition the writes run in this order: the execution row (so a stale version is
// ErrConflict before anything else can collide), the current pointer, the events, the consumed
// task and timer rows, DropRunTasksAndTimers (which therefore removes only rows that existed
// before the transition), and last the new task and timer rows. Linked transitions follow, in the
// same savepoint.
func (s *Store) Apply(ctx context.Context, ts []*store.Transition) ([]error, error) {
	results := make([]error, len(ts))
	if len(ts) == 0 {
		return results, nil
	}
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("apply: begin: %w", translate(ctx, err))
	}
	defer func() { _ = tx.Rollback() }() // a no-op once committed

	a := &applier{ctx: ctx, tx: tx, ws: &s.ws, stmts: map[*sql.Stmt]*sql.Stmt{}}
	ids := make([][]newIDs, len(ts))
	for i, tr := range ts {
		if err := a.exec(s.ws.savepoint); err != nil {
			return nil, fmt.Errorf("apply: transition %d: savepoint: %w", i, err)
		}
		ids[i], err = a.linkedTransitions(tr)
		if err != nil {
			if !failsTransition(err) {
				return nil, fmt.Errorf("apply: transition %d of run %s: %w", i, tr.Execution.RunID, err)
			}
			results[i] = fmt.Errorf("apply run %s: %w", tr.Execution.RunID, err)
			if err := a.exec(s.ws.rollbackToSavepoint); err != nil {
				return nil, fmt.Errorf("apply: transition %d: rollback to savepoint: %w", i, err)
			}
		}
		if err := a.exec(s.ws.releaseSavepoint); err != nil {
			return nil, fmt.Errorf("apply: transition %d: release savepoint: %w", i, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("apply: commit: %w", translate(ctx, err))
	}

	// Only now, with the commit durable, report the new rows' IDs of the transitions that made it.
	for i, tr := range ts {
		if results[i] != nil {
			continue
		}
		for k, t := range flatten(tr) {
			for j, task := range t.NewTasks {
				task.ID = ids[i][k].tasks[j]
			}
			for j, tm := range t.NewTimers {
				tm.ID = ids[i][k].timers[j]
			}
		}
	}
	return results, nil
}

// flatten lists a transition and its linked transitions in the order they are written.
func flatten(tr *store.Transition) []*store.Transition {
	out := []*store.Transition{tr}
	for _, l := range tr.Linked {
		out = append(out, flatten(l)...)
	}
	return out
}

// linkedTransitions writes tr and its linked transitions inside the current savepoint.
func (a *applier) linkedTransitions(tr *store.Transition) ([]newIDs, error) {
	all := flatten(tr)
	ids := make([]newIDs, len(all))
	for k, t := range all {
		var err error
		if ids[k], err = a.transition(t); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// newIDs holds the IDs of one transition's new rows until the commit is known to have succeeded.
type newIDs struct {
	tasks, timers []int64
}

// applier runs the statements of one Apply transaction.
type applier struct {
	ctx   context.Context
	tx    *sql.Tx
	ws    *writeStmts
	stmts map[*sql.Stmt]*sql.Stmt // prepared statements bound to tx
}

// stmt returns st bound to the transaction.
func (a *applier) stmt(st *sql.Stmt) *sql.Stmt {
	bound, ok := a.stmts[st]
	if !ok {
		bound = a.tx.StmtContext(a.ctx, st)
		a.stmts[st] = bound
	}
	return bound
}

func (a *applier) exec(st *sql.Stmt, args ...any) error {
	_, err := a.stmt(st).ExecContext(a.ctx, args...)
	return translate(a.ctx, err)
}

// execCount runs st and returns the number of rows it changed.
func (a *applier) execCount(st *sql.Stmt, args ...any) (int64, error) {
	res, err := a.stmt(st).ExecContext(a.ctx, args...)
	if err != nil {
		return 0, translate(a.ctx, err)
	}
	n, err := res.RowsAffected()
	return n, translate(a.ctx, err)
}

// insertID runs st and returns the new row's ID.
func (a *applier) insertID(st *sql.Stmt, args ...any) (int64, error) {
	res, err := a.stmt(st).ExecContext(a.ctx, args...)
	if err != nil {
		return 0, translate(a.ctx, err)
	}
	id, err := res.LastInsertId()
	return id, translate(a.ctx, err)
}

// transition writes one transition inside the current savepoint.
func (a *applier) transition(tr *store.Transition) (newIDs, error) {
	e := &tr.Execution
	if err := a.execution(tr.ExpectedVersion, e); err != nil {
		return newIDs{}, err
	}
	if err := a.searchValues(e); err != nil {
		return newIDs{}, err
	}
	if tr.Current != nil {
		if err := a.current(tr.Current); err != nil {
			return newIDs{}, err
		}
	}
	for _, ev := range tr.Events {
		err := a.exec(a.ws.insertEvent,
			sql.Named("namespace", e.Namespace),
			sql.Named("run_id", e.RunID),
			sql.Named("event_id", ev.EventID),
			sql.Named("data", blob(ev.Data)))
		if err != nil {
			return newIDs{}, fmt.Errorf("append event %d: %w", ev.EventID, err)
		}
	}
	for _, id := range tr.DeleteTasks {
		n, err := a.execCount(a.ws.deleteTask, sql.Named("id", id))
		if err != nil {
			return newIDs{}, fmt.Errorf("consume task %d: %w", id, err)
		}
		if n == 0 {
			return newIDs{}, fmt.Errorf("consume task %d: %w", id, store.ErrConsumed)
		}
	}
	for _, id := range tr.DeleteTimers {
		n, err := a.execCount(a.ws.deleteTimer, sql.Named("id", id))
		if err != nil {
			return newIDs{}, fmt.Errorf("consume timer %d: %w", id, err)
		}
		if n == 0 {
			return newIDs{}, fmt.Errorf("consume timer %d: %w", id, store.ErrConsumed)
		}
	}
	if tr.DropRunTasksAndTimers {
		run := []any{sql.Named("namespace", e.Namespace), sql.Named("run_id", e.RunID)}
		if err := a.exec(a.ws.deleteRunTasks, run...); err != nil {
			return newIDs{}, fmt.Errorf("drop run tasks: %w", err)
		}
		if err := a.exec(a.ws.deleteRunTimers, run...); err != nil {
			return newIDs{}, fmt.Errorf("drop run timers: %w", err)
		}
	}
	var ids newIDs
	for _, t := range tr.NewTasks {
		id, err := a.insertID(a.ws.insertTask,
			sql.Named("namespace", t.Namespace),
			sql.Named("queue", t.Name),
			sql.Named("kind", int64(t.Kind)),
			sql.Named("workflow_id", t.WorkflowID),
			sql.Named("run_id", t.RunID),
			sql.Named("scheduled_event_id", t.ScheduledEventID),
			sql.Named("attempt", int64(t.Attempt)),
			sql.Named("created_at", micros(t.CreatedAt)),
			sql.Named("visible_at", micros(t.VisibleAt)),
			sql.Named("data", blob(t.Data)))
		if err != nil {
			return newIDs{}, fmt.Errorf("insert task: %w", err)
		}
		ids.tasks = append(ids.tasks, id)
	}
	for _, t := range tr.NewTimers {
		id, err := a.insertID(a.ws.insertTimer,
			sql.Named("fire_at", micros(t.FireAt)),
			sql.Named("namespace", t.Namespace),
			sql.Named("workflow_id", t.WorkflowID),
			sql.Named("run_id", t.RunID),
			sql.Named("kind", int64(t.Kind)),
			sql.Named("event_id", t.EventID),
			sql.Named("attempt", int64(t.Attempt)),
			sql.Named("data", blob(t.Data)))
		if err != nil {
			return newIDs{}, fmt.Errorf("insert timer: %w", err)
		}
		ids.timers = append(ids.timers, id)
	}
	return ids, nil
}

// execution inserts (expected version 0) or fences and rewrites the execution row.
func (a *applier) execution(expected int64, e *store.Execution) error {
	args := []any{
		sql.Named("namespace", e.Namespace),
		sql.Named("run_id", e.RunID),
		sql.Named("workflow_id", e.WorkflowID),
		sql.Named("version", e.Version),
		sql.Named("workflow_type", e.WorkflowType),
		sql.Named("task_queue", e.TaskQueue),
		sql.Named("status", int64(e.Status)),
		sql.Named("start_time", micros(e.StartTime)),
		sql.Named("execution_time", micros(e.ExecutionTime)),
		sql.Named("close_time", micros(e.CloseTime)),
		sql.Named("history_length", e.HistoryLength),
		sql.Named("memo", blob(e.Memo)),
		sql.Named("search_attributes", blob(e.SearchAttributes)),
		sql.Named("state", blob(e.State)),
	}
	if expected == 0 {
		if err := a.exec(a.ws.insertExecution, args...); err != nil {
			return fmt.Errorf("create execution: %w", err)
		}
		return nil
	}
	n, err := a.execCount(a.ws.updateExecution, append(args, sql.Named("expected_version", expected))...)
	if err != nil {
		return fmt.Errorf("update execution: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("update execution: version is not %d: %w", expected, store.ErrConflict)
	}
	return nil
}

// current inserts (ExpectedRunID "") or fences and moves the current-run pointer.
func (a *applier) current(u *store.CurrentUpdate) error {
	c := &u.Current
	args := []any{
		sql.Named("namespace", c.Namespace),
		sql.Named("workflow_id", c.WorkflowID),
		sql.Named("run_id", c.RunID),
		sql.Named("status", int64(c.Status)),
		sql.Named("start_request_id", c.StartRequestID),
		sql.Named("start_time", micros(c.StartTime)),
	}
	if u.ExpectedRunID == "" {
		if err := a.exec(a.ws.insertCurrent, args...); err != nil {
			return fmt.Errorf("insert current run of %s: %w", c.WorkflowID, err)
		}
		return nil
	}
	n, err := a.execCount(a.ws.updateCurrent, append(args, sql.Named("expected_run_id", u.ExpectedRunID))...)
	if err != nil {
		return fmt.Errorf("move current run of %s: %w", c.WorkflowID, err)
	}
	if n == 0 {
		return fmt.Errorf("move current run of %s: it is not %s: %w", c.WorkflowID, u.ExpectedRunID, store.ErrConflict)
	}
	return nil
}

// micros encodes a time as integer Unix microseconds (UTC by definition).
func micros(t time.Time) int64 { return t.UnixMicro() }

// fromMicros decodes micros; the zero time.Time comes back as the zero time.Time.
func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// blob returns b, or an empty non-nil slice for nil: modernc binds a nil []byte as NULL, and blob
// columns are NOT NULL.
func blob(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}
