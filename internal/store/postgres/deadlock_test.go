package postgres

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/duro-dev/duro/internal/store"
	"github.com/duro-dev/duro/internal/store/postgres/pgtest"
)

// TestDeadlockFailsOnlyThatTransition builds a lock cycle between a group commit and another
// writer (as two nodes committing groups that touch the same executions in opposite orders can):
// PostgreSQL aborts the group's waiting statement with a deadlock error, which rolls back only
// that transition (ErrConflict, to be retried on fresh state) while the rest of the group commits.
func TestDeadlockFailsOnlyThatTransition(t *testing.T) {
	t.Parallel()
	url := pgtest.Schema(t)
	cfg, err := pgxpool.ParseConfig(url)
	require.NoError(t, err)
	name := fmt.Sprintf("duro-deadlock-%d", time.Now().UnixNano())
	cfg.ConnConfig.RuntimeParams["application_name"] = name
	// PostgreSQL checks for a cycle once, deadlock_timeout after a session starts waiting, and
	// aborts the session that finds it. The group waits first; its timeout leaves the other writer
	// ample time to close the cycle, and is far shorter than the other writer's own.
	cfg.ConnConfig.RuntimeParams["deadlock_timeout"] = "2s"
	s, err := openConfig(t.Context(), cfg)
	require.NoError(t, err)
	defer s.Close()

	x, y := execution("wf-x"), execution("wf-y")
	mustCommit(t, s, startTransition(x), startTransition(y))

	other, err := pgx.Connect(t.Context(), url)
	require.NoError(t, err)
	defer other.Close(context.Background())
	_, err = other.Exec(t.Context(), "SET deadlock_timeout = '60s'")
	require.NoError(t, err)
	tx, err := other.Begin(t.Context())
	require.NoError(t, err)
	defer tx.Rollback(context.Background())
	_, err = tx.Exec(t.Context(), "UPDATE executions SET state = 'other' WHERE workflow_id = 'wf-y'")
	require.NoError(t, err)

	type result struct {
		errs []error
		err  error
	}
	done := make(chan result, 1)
	go func() {
		errs, err := s.Apply(context.Background(), []*store.Transition{bump(x), bump(y)})
		done <- result{errs, err}
	}()
	// Wait until the group holds X and waits for Y, then ask for X.
	require.Eventually(t, func() bool {
		var waiting bool
		err := other.QueryRow(t.Context(), "SELECT EXISTS (SELECT 1 FROM pg_stat_activity "+
			"WHERE application_name = $1 AND wait_event_type = 'Lock')", name).Scan(&waiting)
		return err == nil && waiting
	}, 10*time.Second, 10*time.Millisecond)
	_, err = tx.Exec(t.Context(), "UPDATE executions SET state = 'other' WHERE workflow_id = 'wf-x'")
	require.NoError(t, err, "granted once the group commits")

	r := <-done
	require.NoError(t, r.err)
	require.NoError(t, r.errs[0])
	require.ErrorIs(t, r.errs[1], store.ErrConflict)
	require.ErrorContains(t, r.errs[1], "deadlock")
	require.NoError(t, tx.Rollback(t.Context()))

	got, err := s.GetExecution(t.Context(), "ns", "wf-x", x.RunID)
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version)
	got, err = s.GetExecution(t.Context(), "ns", "wf-y", y.RunID)
	require.NoError(t, err)
	require.Equal(t, int64(1), got.Version)
}
