package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/duro-dev/duro/internal/store"
)

// Apply commits ts in one transaction, each transition in its own savepoint.
//
// The whole group goes to the server as one pipeline: BEGIN, then per transition SAVEPOINT, its
// guarded writes, RELEASE, and finally COMMIT. Guards raise an error instead of returning a count
// (duro_require_rows), so when one fails the server skips the rest of the pipeline; Apply records
// that transition's error, and sends a new pipeline that rolls back to its savepoint and carries on
// with the transitions after it. A commit with no failed transition is one round trip, whatever
// the number of transitions; each failed one adds one.
//
// A transition's own failures — a guard (ErrConflict), a unique violation (ErrAlreadyExists), a
// deadlock or serialization failure (ErrConflict), invalid data — roll back only that
// transition. Anything else (the connection, the server, a bug in a statement) aborts the whole
// commit and is returned as the second result.
func (s *Store) Apply(ctx context.Context, ts []*store.Transition) ([]error, error) {
	errs := make([]error, len(ts))
	valid := 0
	for i, t := range ts {
		if errs[i] = validate(i, t); errs[i] == nil {
			valid++
		}
	}
	if valid == 0 {
		return errs, nil
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("apply: acquire connection: %w", translate(err))
	}
	// Release destroys a connection left inside a transaction, so a failed commit never leaks
	// its transaction to the next user of the connection.
	defer conn.Release()

	a := &applier{conn: conn, ts: ts, errs: errs, ids: make([][]newIDs, len(ts))}
	if err := a.run(ctx); err != nil {
		rollback(ctx, conn)
		return nil, err
	}
	// Only now, with the commit durable, do the new rows' IDs reach the caller's structs.
	for i, t := range ts {
		if errs[i] != nil {
			continue
		}
		for k, lt := range flatten(t) {
			for j, task := range lt.NewTasks {
				task.ID = a.ids[i][k].tasks[j]
			}
			for j, timer := range lt.NewTimers {
				timer.ID = a.ids[i][k].timers[j]
			}
		}
	}
	return errs, nil
}

// flatten lists a transition and its linked transitions in the order they are written.
func flatten(t *store.Transition) []*store.Transition {
	out := []*store.Transition{t}
	for _, l := range t.Linked {
		out = append(out, flatten(l)...)
	}
	return out
}

// newIDs are the IDs of one transition's new rows, held until the commit.
type newIDs struct {
	tasks, timers []int64
}

// applier runs one Apply's pipelines on one connection.
type applier struct {
	conn *pgxpool.Conn
	ts   []*store.Transition
	errs []error
	ids  [][]newIDs // per transition, per flattened (linked) transition
}

// step is one queued statement of a pipeline: which transition it belongs to (-1: none) and how
// to read its result.
type step struct {
	transition int
	what       string
	read       func(pgx.BatchResults) error
}

// run sends pipelines until every transition has committed or failed on its own.
func (a *applier) run(ctx context.Context) error {
	first := 0   // the first transition not yet sent
	failed := -1 // the transition whose failure left the transaction aborted, if any
	for {
		b := &pgx.Batch{}
		var steps []step
		queue := func(transition int, what string, read func(pgx.BatchResults) error, name string, args ...any) {
			b.Queue(name, args...)
			steps = append(steps, step{transition: transition, what: what, read: read})
		}
		if failed < 0 {
			queue(-1, "begin", execRead, qBegin)
		} else {
			queue(-1, "roll back to savepoint", execRead, qRollbackToSavepoint)
			queue(-1, "release savepoint", execRead, qReleaseSavepoint)
		}
		for i := first; i < len(a.ts); i++ {
			if a.errs[i] == nil { // not refused by validate
				a.queueTransition(i, queue)
			}
		}
		queue(-1, "commit", commitRead, qCommit)

		i, err := a.send(ctx, b, steps)
		if err == nil {
			return nil
		}
		if i < 0 {
			return err
		}
		a.errs[i] = err
		failed, first = i, i+1
	}
}

// send runs one pipeline. It returns nil if everything in it succeeded (the commit included);
// otherwise the failed transition's index and error if the failure is that transition's own, or
// index -1 and the error that aborts the commit.
func (a *applier) send(ctx context.Context, b *pgx.Batch, steps []step) (int, error) {
	br := a.conn.SendBatch(ctx, b)
	for _, st := range steps {
		err := st.read(br)
		if err == nil {
			continue
		}
		_ = br.Close() // drains the skipped rest of the pipeline; err says what went wrong
		if st.transition >= 0 {
			if terr, own := transitionError(err); own {
				return st.transition, fmt.Errorf("apply transition %d: %s: %w", st.transition, st.what, terr)
			}
			return -1, fmt.Errorf("apply transition %d: %s: %w", st.transition, st.what, translate(err))
		}
		return -1, fmt.Errorf("apply: %s: %w", st.what, translate(err))
	}
	if err := br.Close(); err != nil {
		return -1, fmt.Errorf("apply: %w", translate(err))
	}
	return 0, nil
}

// transitionError says whether err is a transition's own failure (rolled back to its savepoint,
// the rest of the commit going on) and translates it.
func transitionError(err error) (error, bool) {
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return nil, false
	}
	switch {
	case pgErr.Code == codeRowsRequired, pgErr.Code == codeSerializationFailure,
		pgErr.Code == codeDeadlockDetected, pgErr.Code == codeUniqueViolation:
		return translate(err), true
	case pgErr.Code[:2] == "23", pgErr.Code[:2] == "22":
		// Another integrity violation or a data exception (a NUL byte in a text column, say): the
		// transition's input is at fault, not the database; report it without the pgx type.
		return fmt.Errorf("invalid data: %s (SQLSTATE %s)", pgErr.Message, pgErr.Code), true
	}
	return nil, false
}

// queueFunc is how queueTransition adds a statement to the pipeline being built.
type queueFunc = func(transition int, what string, read func(pgx.BatchResults) error, name string, args ...any)

// queueTransition queues transition i's statements, in the order that decides which error it
// reports: the version fence first, then the current-run pointer, the rows it consumes, the rows
// it drops, and only then what it inserts (so the rows it adds survive its own drop).
func (a *applier) queueTransition(i int, queue queueFunc) {
	queue(i, "savepoint", execRead, qSavepoint)
	all := flatten(a.ts[i])
	a.ids[i] = make([]newIDs, len(all))
	for k, t := range all {
		a.queueWrites(i, t, &a.ids[i][k], queue)
	}
	queue(i, "release savepoint", execRead, qReleaseSavepoint)
}

// queueWrites queues one (possibly linked) transition's writes into transition i's savepoint.
func (a *applier) queueWrites(i int, t *store.Transition, ids *newIDs, queue queueFunc) {
	e := &t.Execution

	cols := []any{e.Namespace, e.WorkflowID, e.RunID, e.Version, e.State, e.WorkflowType, e.TaskQueue,
		e.Status, e.StartTime, optionalTime(e.ExecutionTime), optionalTime(e.CloseTime),
		e.HistoryLength, e.Memo, e.SearchAttributes}
	if t.ExpectedVersion == 0 {
		queue(i, "insert execution", execRead, qInsertExecution, cols...)
	} else {
		queue(i, "update execution", execRead, qUpdateExecution, append(cols, t.ExpectedVersion)...)
	}
	queueSearch(i, e, queue)

	if cu := t.Current; cu != nil {
		c := &cu.Current
		args := []any{c.Namespace, c.WorkflowID, c.RunID, c.Status, c.StartRequestID, c.StartTime}
		if cu.ExpectedRunID == "" {
			queue(i, "insert current run", execRead, qInsertCurrent, args...)
		} else {
			queue(i, "move current run", execRead, qUpdateCurrent, append(args, cu.ExpectedRunID)...)
		}
	}

	if ids := distinct(t.DeleteTasks); len(ids) > 0 {
		queue(i, "consume tasks", execRead, qConsumeTasks, ids, int64(len(ids)))
	}
	if ids := distinct(t.DeleteTimers); len(ids) > 0 {
		queue(i, "consume timers", execRead, qConsumeTimers, ids, int64(len(ids)))
	}
	if t.DropRunTasksAndTimers {
		queue(i, "drop run tasks and timers", execRead, qDropRunTasksAndTimers, e.Namespace, e.WorkflowID, e.RunID)
	}

	if len(t.Events) > 0 {
		ids := make([]int64, len(t.Events))
		data := make([][]byte, len(t.Events))
		for j, ev := range t.Events {
			ids[j], data[j] = ev.EventID, ev.Data
		}
		queue(i, "append events", execRead, qInsertEvents, e.Namespace, e.RunID, ids, data)
	}
	if len(t.NewTasks) > 0 {
		queue(i, "insert tasks", a.readIDs(&ids.tasks, len(t.NewTasks)), qInsertTasks, taskColumns(t.NewTasks)...)
	}
	if len(t.NewTimers) > 0 {
		queue(i, "insert timers", a.readIDs(&ids.timers, len(t.NewTimers)), qInsertTimers, timerColumns(t.NewTimers)...)
	}
}

// validate refuses, before anything is sent, a transition the database would store wrongly: one
// bad transition fails alone, like a conflict, and never the group.
// Linked transitions are checked too: any fault in one fails the transition that carries it.
func validate(i int, t *store.Transition) error {
	if t == nil {
		return fmt.Errorf("apply transition %d: nil transition", i)
	}
	if e := &t.Execution; e.Namespace == "" || e.WorkflowID == "" || e.RunID == "" {
		return fmt.Errorf("apply transition %d: execution key incomplete (namespace %q, workflow %q, run %q)",
			i, e.Namespace, e.WorkflowID, e.RunID)
	}
	for _, l := range t.Linked {
		if err := validate(i, l); err != nil {
			return fmt.Errorf("%w (in a linked transition)", err)
		}
	}
	return nil
}

// taskColumns turns task rows into insert_tasks' column arrays.
func taskColumns(ts []*store.Task) []any {
	n := len(ts)
	var (
		namespaces, names, workflowIDs, runIDs = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		kinds, attempts                        = make([]int32, n), make([]int32, n)
		scheduled                              = make([]int64, n)
		created, visible                       = make([]any, n), make([]any, n)
		data                                   = make([][]byte, n)
	)
	for j, t := range ts {
		namespaces[j], names[j], kinds[j] = t.Namespace, t.Name, int32(t.Kind)
		workflowIDs[j], runIDs[j], scheduled[j], attempts[j] = t.WorkflowID, t.RunID, t.ScheduledEventID, t.Attempt
		created[j], visible[j], data[j] = t.CreatedAt, t.VisibleAt, t.Data
	}
	return []any{namespaces, names, kinds, workflowIDs, runIDs, scheduled, attempts, created, visible, data}
}

// timerColumns turns timer rows into insert_timers' column arrays.
func timerColumns(ts []*store.Timer) []any {
	n := len(ts)
	var (
		fireAt                          = make([]any, n)
		namespaces, workflowIDs, runIDs = make([]string, n), make([]string, n), make([]string, n)
		kinds, attempts                 = make([]int32, n), make([]int32, n)
		eventIDs                        = make([]int64, n)
		data                            = make([][]byte, n)
	)
	for j, t := range ts {
		fireAt[j], namespaces[j], workflowIDs[j], runIDs[j] = t.FireAt, t.Namespace, t.WorkflowID, t.RunID
		kinds[j], eventIDs[j], attempts[j], data[j] = t.Kind, t.EventID, t.Attempt, t.Data
	}
	return []any{fireAt, namespaces, workflowIDs, runIDs, kinds, eventIDs, attempts, data}
}

// readIDs reads the IDs an insert returned into *dst. The statement inserts in input order, so
// the IDs ascend with it; sorting them makes the match independent of RETURNING's row order.
func (a *applier) readIDs(dst *[]int64, want int) func(pgx.BatchResults) error {
	return func(br pgx.BatchResults) error {
		rows, err := br.Query()
		if err != nil {
			return err
		}
		ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
		if err != nil {
			return err
		}
		if len(ids) != want {
			return fmt.Errorf("inserted %d rows, want %d", len(ids), want)
		}
		slices.Sort(ids)
		*dst = ids
		return nil
	}
}

// execRead reads a statement's result, discarding it.
func execRead(br pgx.BatchResults) error {
	_, err := br.Exec()
	return err
}

// commitRead reads COMMIT's result. A COMMIT of an aborted transaction answers ROLLBACK without an
// error; a pipeline never gets there (the server skips what follows an error), but check anyway.
func commitRead(br pgx.BatchResults) error {
	tag, err := br.Exec()
	if err != nil {
		return err
	}
	if tag.String() != "COMMIT" {
		return fmt.Errorf("commit answered %q", tag.String())
	}
	return nil
}

// rollbackTimeout bounds the ROLLBACK after a failed Apply; a connection that cannot answer by
// then is destroyed on release instead.
const rollbackTimeout = 5 * time.Second

// rollback ends whatever transaction a failed Apply left open. If even that fails, Release
// destroys the connection (it is not idle), which ends the transaction server-side.
func rollback(ctx context.Context, conn *pgxpool.Conn) {
	if conn.Conn().PgConn().TxStatus() == 'I' || conn.Conn().IsClosed() {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), rollbackTimeout)
	defer cancel()
	_, _ = conn.Exec(ctx, qRollback)
}

// distinct returns ids without duplicates (a row consumed twice in one transition is one row).
func distinct(ids []int64) []int64 {
	if len(ids) < 2 {
		return ids
	}
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}
