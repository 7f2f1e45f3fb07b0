package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/migrate"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// TestMigrateConcurrentOpen opens one schema from several goroutines at once, as nodes starting
// together do: the advisory lock lets exactly one apply each migration (without it, the others'
// CREATE TABLEs would fail), and every Open succeeds.
func TestMigrateConcurrentOpen(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	const nodes = 6
	var wg sync.WaitGroup
	errs := make([]error, nodes)
	stores := make([]*Store, nodes)
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = Open(t.Context(), url)
		}()
	}
	wg.Wait()
	for i := range nodes {
		require.NoError(t, errs[i], "node %d", i)
		t.Cleanup(func() { stores[i].Close() })
	}

	ms, err := embeddedMigrations()
	require.NoError(t, err)
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	rows, err := conn.Query(t.Context(), "SELECT version FROM schema_version ORDER BY version")
	require.NoError(t, err)
	versions, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	require.NoError(t, err)
	want := make([]int32, len(ms))
	for i := range ms {
		want[i] = int32(i + 1)
	}
	require.Equal(t, want, versions, "each migration recorded exactly once")

	// Every node serves.
	for i, s := range stores {
		require.NoError(t, s.CreateNamespace(t.Context(), store.Namespace{Name: fmt.Sprintf("ns-%d", i), ID: "id", CreatedAt: t0}))
	}
}

// TestMigrate applies migrations with the exported verb, twice (the second is a no-op), and Open
// then finds nothing to do.
func TestMigrate(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	require.NoError(t, Migrate(t.Context(), url))
	require.NoError(t, Migrate(t.Context(), url))
	s, err := Open(t.Context(), url)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.GetNamespace(t.Context(), "none")
	require.ErrorIs(t, err, store.ErrNotFound)
}

// TestMigrateRefusesNewerSchema: a database migrated by a newer binary is never served by an
// older one, which could not know what its rows mean.
func TestMigrateRefusesNewerSchema(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	require.NoError(t, Migrate(t.Context(), url))
	conn, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer conn.Close(context.Background())
	_, err = conn.Exec(t.Context(), "INSERT INTO schema_version (version, name) VALUES (9999, 'future')")
	require.NoError(t, err)

	_, err = Open(t.Context(), url)
	require.ErrorIs(t, err, migrate.ErrNewerSchema)
}

// TestEmbeddedMigrations checks that the embedded set loads (names, numbering).
func TestEmbeddedMigrations(t *testing.T) {
	t.Parallel()
	ms, err := embeddedMigrations()
	require.NoError(t, err)
	require.Equal(t, 1, ms[0].Version)
	require.Equal(t, "init", ms[0].Name)
	_, err = migratorQueries()
	require.NoError(t, err)
}

// TestQueriesParse checks that every statement the driver names exists in queries/*.sql and that
// the files hold no statement the driver does not use.
func TestQueriesParse(t *testing.T) {
	t.Parallel()
	qs, err := loadQueries(queryFiles)
	require.NoError(t, err)
	have := make(map[string]bool)
	for _, q := range qs {
		have[q.name] = true
	}
	used := []string{
		qBegin, qCommit, qSavepoint, qReleaseSavepoint, qRollbackToSavepoint, qRollback,
		qInsertExecution, qUpdateExecution, qGetExecution, qDeleteExecution, qListExecutions, qCountExecutions,
		qListExecutionsOfWorkflow, qCountExecutionsOfWorkflow,
		qInsertCurrent, qUpdateCurrent, qGetCurrent,
		qInsertEvents, qReadEvents, qReadEventsReverse,
		qInsertTasks, qConsumeTasks, qDropRunTasksAndTimers, qListTasks, qCountTasks, qClaimTasks,
		qInsertTimers, qConsumeTimers, qListTimers,
		qInsertNamespace, qUpdateNamespace, qGetNamespace, qListNamespaces,
		qDeleteRunSearchValues, qInsertSearchValues, qInsertSearchAttribute, qGetSearchAttribute,
		qDeleteSearchAttribute, qListSearchAttributes, qListExecutionsByQuery, qCountExecutionsByQuery,
		qCountExecutionsByStatus,
		qInsertRecord, qUpdateRecord, qDeleteRecord, qGetRecord, qListRecords, qListDueRecords,
	}
	for _, name := range used {
		require.True(t, have[name], "query %q missing from queries/*.sql", name)
		delete(have, name)
	}
	require.Empty(t, have, "queries defined but never used")

	_, err = parseQueries("SELECT 1\n-- name: x\nSELECT 2\n")
	require.ErrorContains(t, err, "SQL before the first")
	_, err = parseQueries("-- name: x\n\n-- name: y\nSELECT 2\n")
	require.ErrorContains(t, err, `query "x" is empty`)
}

// TestIsUnavailable covers the errors a frontend must answer with Unavailable, and those it must
// not.
func TestIsUnavailable(t *testing.T) {
	t.Parallel()

	t.Run("ClosedPool", func(t *testing.T) {
		t.Parallel()
		s, err := Open(t.Context(), pgtest.Schema(t))
		require.NoError(t, err)
		require.NoError(t, s.Close())
		_, err = s.GetNamespace(t.Context(), "default")
		require.Error(t, err)
		require.True(t, IsUnavailable(err), "closed pool: %v", err)
		_, err = s.Apply(t.Context(), []*store.Transition{startTransition(execution("wf"))})
		require.True(t, IsUnavailable(err), "closed pool: %v", err)
	})

	t.Run("ConnectionRefused", func(t *testing.T) {
		t.Parallel()
		port := unusedPort(t)
		_, err := Open(t.Context(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable&connect_timeout=5", port))
		require.Error(t, err)
		require.True(t, IsUnavailable(err), "refused: %v", err)
		require.NoError(t, Migrate(t.Context(), pgtest.Schema(t)))
		err = Migrate(t.Context(), fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port))
		require.True(t, IsUnavailable(err), "refused: %v", err)
	})

	t.Run("UnknownDatabaseIsNot", func(t *testing.T) {
		t.Parallel()
		_, err := Open(t.Context(), "postgres://postgres@127.0.0.1:5432/duro_no_such_database?sslmode=disable")
		require.Error(t, err)
		require.False(t, IsUnavailable(err), "a missing database is a configuration error: %v", err)
	})

	cases := []struct {
		name string
		err  error
		want bool
	}{
		{"Nil", nil, false},
		{"NotFound", fmt.Errorf("get: %w", store.ErrNotFound), false},
		{"Conflict", fmt.Errorf("apply: %w", store.ErrConflict), false},
		{"Canceled", fmt.Errorf("apply: %w", context.Canceled), false},
		{"Deadline", fmt.Errorf("apply: %w", context.DeadlineExceeded), false},
		{"AdminShutdown", fmt.Errorf("apply: %w", &pgconn.PgError{Code: "57P01"}), true},
		{"CrashShutdown", &pgconn.PgError{Code: "57P02"}, true},
		{"CannotConnectNow", &pgconn.PgError{Code: "57P03"}, true},
		{"TooManyConnections", &pgconn.PgError{Code: "53300"}, true},
		{"ConnectionFailure", &pgconn.PgError{Code: "08006"}, true},
		{"UniqueViolation", &pgconn.PgError{Code: "23505"}, false},
		{"SyntaxError", &pgconn.PgError{Code: "42601"}, false},
		{"Refused", fmt.Errorf("dial: %w", syscall.ECONNREFUSED), true},
		{"Reset", &net.OpError{Op: "read", Err: syscall.ECONNRESET}, true},
		{"EOF", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"ConnClosed", fmt.Errorf("query: %w", pgconn.ErrConnClosed), true},
		{"Other", errors.New("boom"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, IsUnavailable(tc.err), "%v", tc.err)
		})
	}
}

// unusedPort returns a loopback port nothing listens on (it was just free).
func unusedPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

// TestTerminatedConnections kills the store's server connections (as a PostgreSQL restart does):
// the Apply that meets a dead connection fails as a whole, unavailable, with no ID written back;
// the next one reconnects and commits.
func TestTerminatedConnections(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	name := fmt.Sprintf("duro-terminate-%p", t)
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	cfg.MaxConns = 1
	// The pool pings a connection idle for over a second before handing it out, and would find
	// this one dead and replace it; the test is about the Apply that meets a dead connection.
	cfg.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
	s, err := openConfig(t.Context(), cfg)
	require.NoError(t, err)
	defer s.Close()

	first := startTransition(execution("wf-1"))
	mustCommit(t, s, first)

	admin, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer admin.Close(context.Background())
	var killed int
	require.NoError(t, admin.QueryRow(t.Context(),
		"SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = $1", name).Scan(&killed))
	require.Equal(t, 1, killed)

	second := startTransition(execution("wf-2"))
	errs, err := s.Apply(t.Context(), []*store.Transition{second})
	require.Error(t, err)
	require.Nil(t, errs)
	require.True(t, IsUnavailable(err), "dead connection: %v", err)
	require.Zero(t, second.NewTasks[0].ID, "no ID written back for a failed commit")
	_, err = s.GetExecution(t.Context(), "ns", "wf-2", second.Execution.RunID)
	require.ErrorIs(t, err, store.ErrNotFound)

	mustCommit(t, s, second)
	require.NotZero(t, second.NewTasks[0].ID)
}

// mustCommit applies ts and requires every transition to commit.
func mustCommit(t testing.TB, s *Store, ts ...*store.Transition) {
	t.Helper()
	errs, err := s.Apply(t.Context(), ts)
	require.NoError(t, err)
	for i, e := range errs {
		require.NoError(t, e, "transition %d", i)
	}
}

// TestApplyMixedGroup runs a group whose failures are spread through it: each failed transition
// costs a new pipeline that resumes after it; the others commit with their IDs, the failed ones
// keep ID 0 and leave no row.
func TestApplyMixedGroup(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	ctx := t.Context()
	existing := execution("wf-existing")
	mustCommit(t, s, startTransition(existing))

	ok1 := startTransition(execution("wf-1"))
	stale := bump(existing)
	stale.ExpectedVersion = 7
	stale.NewTasks = ok1.NewTasks[:0:0]
	stale.NewTimers = []*store.Timer{{FireAt: t0, Namespace: "ns", WorkflowID: existing.WorkflowID, RunID: existing.RunID}}
	ok2 := startTransition(execution("wf-2"))
	dup := startTransition(execution("wf-existing")) // current pointer exists
	ok3 := bump(existing)
	ok3.NewTimers = []*store.Timer{{FireAt: t0, Namespace: "ns", WorkflowID: existing.WorkflowID, RunID: existing.RunID, Kind: 1}}
	bad := startTransition(execution("wf-\x00nul")) // PostgreSQL text cannot hold NUL

	ts := []*store.Transition{ok1, stale, ok2, dup, bad, ok3}
	errs, err := s.Apply(ctx, ts)
	require.NoError(t, err)
	require.Len(t, errs, len(ts))
	require.NoError(t, errs[0])
	require.ErrorIs(t, errs[1], store.ErrConflict)
	require.NoError(t, errs[2])
	require.ErrorIs(t, errs[3], store.ErrAlreadyExists)
	require.ErrorContains(t, errs[4], "invalid data")
	require.NotErrorIs(t, errs[4], store.ErrConflict)
	require.NoError(t, errs[5])

	require.NotZero(t, ok1.NewTasks[0].ID)
	require.NotZero(t, ok2.NewTasks[0].ID)
	require.NotZero(t, ok3.NewTimers[0].ID)
	require.Zero(t, stale.NewTimers[0].ID)
	require.Zero(t, dup.NewTasks[0].ID)
	require.Zero(t, bad.NewTasks[0].ID)

	timers, err := s.ListTimers(ctx, t0, 0)
	require.NoError(t, err)
	require.Len(t, timers, 1, "only the committed transition's timer")
	require.Equal(t, ok3.NewTimers[0].ID, timers[0].ID)
	got, err := s.GetExecution(ctx, "ns", existing.WorkflowID, existing.RunID)
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version)
	_, err = s.GetExecution(ctx, "ns", dup.Execution.WorkflowID, dup.Execution.RunID)
	require.ErrorIs(t, err, store.ErrNotFound, "the failed start left no execution row")
}

// TestApplyRefusesIncompleteTransition: a transition without a full execution key fails alone,
// before anything is sent; the rest of the group commits.
func TestApplyRefusesIncompleteTransition(t *testing.T) {
	t.Parallel()
	s := openTest(t)
	good := startTransition(execution("wf-good"))
	bad := startTransition(execution("wf-bad"))
	bad.Execution.RunID = ""
	errs, err := s.Apply(t.Context(), []*store.Transition{bad, good, nil})
	require.NoError(t, err)
	require.ErrorContains(t, errs[0], "execution key incomplete")
	require.NoError(t, errs[1])
	require.ErrorContains(t, errs[2], "nil transition")
	require.NotZero(t, good.NewTasks[0].ID)
	require.Zero(t, bad.NewTasks[0].ID)

	errs, err = s.Apply(t.Context(), []*store.Transition{bad})
	require.NoError(t, err)
	require.Error(t, errs[0])

	// A fault in a linked transition fails the transition that carries it, and only that one.
	carrier := startTransition(execution("wf-carrier"))
	carrier.Linked = []*store.Transition{startTransition(execution("wf-linked")), nil}
	other := startTransition(execution("wf-other"))
	errs, err = s.Apply(t.Context(), []*store.Transition{carrier, other})
	require.NoError(t, err)
	require.ErrorContains(t, errs[0], "nil transition (in a linked transition)")
	require.NoError(t, errs[1])
	_, err = s.GetExecution(t.Context(), "ns", "wf-carrier", carrier.Execution.RunID)
	require.ErrorIs(t, err, store.ErrNotFound)
}
