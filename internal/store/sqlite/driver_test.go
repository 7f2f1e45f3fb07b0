package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/migrate"
)

// testRun returns a transition creating a run of workflowID with events 1..3, a task and a timer.
func testRun(workflowID string) *store.Transition {
	e := store.Execution{
		Namespace: "default", WorkflowID: workflowID, RunID: "run-" + workflowID, Version: 1,
		State: []byte("state"), WorkflowType: "T", TaskQueue: "q", Status: 1,
		StartTime: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	return &store.Transition{
		Execution: e,
		Current:   &store.CurrentUpdate{Current: store.Current{Namespace: e.Namespace, WorkflowID: e.WorkflowID, RunID: e.RunID}},
		Events:    []store.Event{{EventID: 1, Data: []byte("a")}, {EventID: 2, Data: []byte("b")}, {EventID: 3, Data: []byte("c")}},
		NewTasks: []*store.Task{{
			TaskQueueKey: store.TaskQueueKey{Namespace: e.Namespace, Name: "q", Kind: store.TaskWorkflow},
			WorkflowID:   e.WorkflowID, RunID: e.RunID, ScheduledEventID: 2,
		}},
		NewTimers: []*store.Timer{{FireAt: e.StartTime, Namespace: e.Namespace, WorkflowID: e.WorkflowID, RunID: e.RunID}},
	}
}

func mustApply(t *testing.T, s *Store, ts ...*store.Transition) {
	t.Helper()
	errs, err := s.Apply(t.Context(), ts)
	require.NoError(t, err)
	for i, err := range errs {
		require.NoError(t, err, "transition %d", i)
	}
}

func TestReopenKeepsData(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "duro.db")
	s, err := Open(t.Context(), path)
	require.NoError(t, err)
	tr := testRun("wf")
	mustApply(t, s, tr)
	require.NoError(t, s.CreateNamespace(t.Context(), store.Namespace{ID: "1", Name: "default", Data: []byte("ns")}))
	require.NoError(t, s.Close())

	s, err = Open(t.Context(), path)
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	got, err := s.GetExecution(t.Context(), "default", "wf", tr.Execution.RunID)
	require.NoError(t, err)
	require.Equal(t, tr.Execution.State, got.State)
	evs, err := s.ReadEvents(t.Context(), "default", tr.Execution.RunID, 1, 0, 0)
	require.NoError(t, err)
	require.Len(t, evs, 3)
	tasks, err := s.ListTasks(t.Context(), tr.NewTasks[0].TaskQueueKey, time.Now(), 10)
	require.NoError(t, err)
	require.Len(t, tasks, 1)
	require.Equal(t, tr.NewTasks[0].ID, tasks[0].ID)
	timers, err := s.ListTimers(t.Context(), time.Now(), 10)
	require.NoError(t, err)
	require.Len(t, timers, 1)
	ns, err := s.GetNamespace(t.Context(), "default")
	require.NoError(t, err)
	require.Equal(t, []byte("ns"), ns.Data)

	// IDs keep increasing across a reopen, even after the newest rows were consumed.
	consume := &store.Transition{ExpectedVersion: 1, Execution: tr.Execution,
		DeleteTasks: []int64{tasks[0].ID}, DeleteTimers: []int64{timers[0].ID}}
	consume.Execution.Version = 2
	mustApply(t, s, consume)
	require.NoError(t, s.Close())
	s, err = Open(t.Context(), path)
	require.NoError(t, err)
	again := testRun("wf2")
	mustApply(t, s, again)
	require.Greater(t, again.NewTasks[0].ID, tr.NewTasks[0].ID)
	require.Greater(t, again.NewTimers[0].ID, tr.NewTimers[0].ID)
}

func TestMigrationsAreIdempotent(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "duro.db")
	migrations, err := migrate.Load(subFS(migrationFiles, "migrations"))
	require.NoError(t, err)

	for range 3 {
		s, err := Open(t.Context(), path)
		require.NoError(t, err)
		var n, max int
		require.NoError(t, s.r.QueryRowContext(t.Context(), "SELECT count(*), max(version) FROM schema_version").Scan(&n, &max))
		require.Equal(t, len(migrations), n)
		require.Equal(t, len(migrations), max)
		require.NoError(t, s.Close())
	}
}

// Stores opening one new file at once (as two processes might) migrate it exactly once.
func TestConcurrentOpenMigratesOnce(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "duro.db")
	const openers = 8
	stores := make([]*Store, openers)
	errs := make([]error, openers)
	var wg sync.WaitGroup
	for i := range openers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(t.Context(), path)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "opener %d", i)
	}
	var n int
	require.NoError(t, stores[0].r.QueryRowContext(t.Context(), "SELECT count(*) FROM schema_version").Scan(&n))
	migrations, err := migrate.Load(subFS(migrationFiles, "migrations"))
	require.NoError(t, err)
	require.Equal(t, len(migrations), n, "each migration applied once")
	// They all write to the same database.
	for i, s := range stores {
		mustApply(t, s, testRun(fmt.Sprintf("wf-%d", i)))
	}
	for _, s := range stores {
		n, err := s.CountExecutions(t.Context(), store.ExecutionFilter{Namespace: "default"})
		require.NoError(t, err)
		require.Equal(t, int64(openers), n)
		require.NoError(t, s.Close())
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "duro.db")
	s, err := Open(t.Context(), path)
	require.NoError(t, err)
	_, err = s.w.ExecContext(t.Context(), "INSERT INTO schema_version (version, name, applied_at) VALUES (999, 'future', 0)")
	require.NoError(t, err)
	require.NoError(t, s.Close())

	_, err = Open(t.Context(), path)
	require.ErrorIs(t, err, migrate.ErrNewerSchema)
}

func TestOpenRejectsBadPath(t *testing.T) {
	t.Parallel()
	for _, path := range []string{"", "a?b.db", "a#b.db"} {
		_, err := Open(t.Context(), path)
		require.Error(t, err, "path %q", path)
	}
}

func TestConnectionSettings(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "duro.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	ctx := t.Context()

	var mode string
	var sync, timeout int
	require.NoError(t, s.w.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode))
	require.Equal(t, "wal", strings.ToLower(mode))
	require.NoError(t, s.w.QueryRowContext(ctx, "PRAGMA synchronous").Scan(&sync))
	require.Equal(t, 2, sync, "synchronous=FULL")
	require.NoError(t, s.w.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout))
	require.Equal(t, int(busyTimeout.Milliseconds()), timeout)
	require.Equal(t, 1, s.w.Stats().MaxOpenConnections)
	var tempStore, cacheSize int
	require.NoError(t, s.w.QueryRowContext(ctx, "PRAGMA temp_store").Scan(&tempStore))
	require.Equal(t, 2, tempStore, "temp_store=MEMORY")
	require.NoError(t, s.w.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&cacheSize))
	require.Equal(t, -32768, cacheSize)

	// The read pool cannot write.
	_, err = s.r.ExecContext(ctx, "INSERT INTO namespaces (name, id, created_at, data) VALUES ('x', 'x', 0, x'')")
	require.Error(t, err)
	require.NoError(t, s.r.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&timeout))
	require.Equal(t, int(busyTimeout.Milliseconds()), timeout)
}

// While the writer connection is inside a transaction, reads still run (they use their own pool)
// and a second writer waits for the first instead of failing.
func TestReadsRunDuringWriteTransaction(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "duro.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	tr := testRun("wf")
	mustApply(t, s, tr)

	tx, err := s.w.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	_, err = tx.ExecContext(t.Context(), "UPDATE executions SET state = x'00'")
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	got, err := s.GetExecution(ctx, "default", "wf", tr.Execution.RunID)
	require.NoError(t, err)
	require.Equal(t, []byte("state"), got.State, "a read sees the last commit, not the open transaction")
	_, err = s.ReadEvents(ctx, "default", tr.Execution.RunID, 1, 0, 0)
	require.NoError(t, err)
	_, err = s.ListTasks(ctx, tr.NewTasks[0].TaskQueueKey, time.Now(), 10)
	require.NoError(t, err)
	_, err = s.ListExecutions(ctx, store.ExecutionFilter{Namespace: "default"})
	require.NoError(t, err)

	applied := make(chan error, 1)
	go func() {
		_, err := s.Apply(ctx, []*store.Transition{testRun("wf2")})
		applied <- err
	}()
	select {
	case err := <-applied:
		t.Fatalf("Apply finished while the writer was busy: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	require.NoError(t, tx.Rollback())
	require.NoError(t, <-applied)
}

// A database error that is no fence or constraint (here SQLITE_FULL) aborts the whole commit: the
// second result reports it, no transition of the batch is durable and no ID is filled in.
func TestDatabaseErrorAbortsWholeCommit(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "duro.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	ctx := t.Context()

	// SQLite clamps the limit to the current size: the file cannot grow at all.
	_, err = s.w.ExecContext(ctx, "PRAGMA max_page_count = 1")
	require.NoError(t, err)

	small := testRun("small")
	big := testRun("big")
	big.Execution.State = make([]byte, 1<<20)
	after := testRun("after")
	errs, err := s.Apply(ctx, []*store.Transition{small, big, after})
	require.Error(t, err)
	require.Nil(t, errs)
	require.NotErrorIs(t, err, store.ErrConflict)
	require.NotErrorIs(t, err, store.ErrAlreadyExists)
	for _, tr := range []*store.Transition{small, big, after} {
		require.Zero(t, tr.NewTasks[0].ID)
		require.Zero(t, tr.NewTimers[0].ID)
		_, err := s.GetExecution(ctx, "default", tr.Execution.WorkflowID, tr.Execution.RunID)
		require.ErrorIs(t, err, store.ErrNotFound)
	}

	// The writer is usable again once there is room.
	_, err = s.w.ExecContext(ctx, "PRAGMA max_page_count = 4294967294")
	require.NoError(t, err)
	mustApply(t, s, small, big, after)
}

// The hot queries search their indexes: no scan of a whole table or index, and no sort.
func TestQueryPlans(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "duro.db"))
	require.NoError(t, err)
	defer func() { require.NoError(t, s.Close()) }()
	queries, err := loadQueries(queryFiles)
	require.NoError(t, err)

	args := map[string]any{
		"namespace": "ns", "workflow_id": "wf", "run_id": "r", "queue": "q", "kind": int64(1),
		"now": int64(0), "until": int64(0), "limit": int64(10), "from_id": int64(1), "to_id": int64(5),
		"before_or_at": int64(5), "after_start_time": int64(0), "after_run_id": "r",
		"workflow_type": "", "statuses": nil, "id": int64(1), "name": "n",
	}
	for _, name := range []string{
		"get_execution", "get_current", "read_events", "read_events_reverse", "list_tasks", "count_tasks",
		"list_timers", "list_executions", "list_executions_of_workflow", "count_executions",
		"count_executions_of_workflow", "delete_run_tasks", "delete_run_timers", "delete_run_events",
		"delete_task", "delete_timer", "update_execution", "update_current",
	} {
		q := queries[name]
		var named []any
		for k, v := range args {
			if strings.Contains(q, ":"+k) {
				named = append(named, sql.Named(k, v))
			}
		}
		if strings.HasPrefix(name, "update_") {
			for _, k := range []string{"version", "task_queue", "status", "start_time", "execution_time",
				"close_time", "history_length", "memo", "search_attributes", "state", "expected_version",
				"start_request_id", "expected_run_id"} {
				if strings.Contains(q, ":"+k) {
					named = append(named, sql.Named(k, int64(0)))
				}
			}
		}
		rows, err := s.w.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, named...)
		require.NoError(t, err, name)
		var plan []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			require.NoError(t, rows.Scan(&id, &parent, &notused, &detail))
			plan = append(plan, detail)
		}
		require.NoError(t, rows.Err())
		require.NoError(t, rows.Close())
		for _, step := range plan {
			require.NotContains(t, step, "TEMP B-TREE", "%s sorts: %v", name, plan)
			if strings.HasPrefix(step, "SCAN ") {
				require.Contains(t, step, "json_each", "%s scans a table or a whole index: %v", name, plan)
			}
		}
		t.Logf("%s: %s", name, fmt.Sprint(plan))
	}
}
