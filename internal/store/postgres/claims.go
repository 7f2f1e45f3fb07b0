package postgres

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/duro-dev/duro/internal/store"
)

// qClaimTasks is the statement of queries/claims.sql.
const qClaimTasks = "claim_tasks"

// ClaimTasks holds up to limit visible rows of one queue until now+lease and returns them, oldest
// first. One statement, one round trip: the rows are picked with FOR UPDATE SKIP LOCKED, so
// concurrent claimers on any node split the backlog instead of reading the same rows and losing
// the DELETE race in Apply, and their new visible_at hides them from later claims until the hold
// ends (when a claimer that died lets them show again). The hold is not worth a WAL flush: the
// statement commits asynchronously (queries/claims.sql).
func (s *Store) ClaimTasks(ctx context.Context, q store.TaskQueueKey, now time.Time, lease time.Duration, limit int) ([]store.Task, error) {
	rows, err := s.pool.Query(ctx, qClaimTasks, q.Namespace, q.Name, int32(q.Kind), now, now.Add(lease), limitArg(limit))
	if err != nil {
		return nil, fmt.Errorf("claim tasks of %s/%s/%d: %w", q.Namespace, q.Name, q.Kind, translate(err))
	}
	ts, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (store.Task, error) {
		var t store.Task
		err := row.Scan(&t.ID, &t.Namespace, &t.Name, &t.Kind, &t.WorkflowID, &t.RunID,
			&t.ScheduledEventID, &t.Attempt, &t.CreatedAt, &t.VisibleAt, &t.Data)
		t.CreatedAt, t.VisibleAt = t.CreatedAt.UTC(), t.VisibleAt.UTC()
		return t, err
	})
	if err != nil {
		return nil, fmt.Errorf("claim tasks of %s/%s/%d: %w", q.Namespace, q.Name, q.Kind, translate(err))
	}
	// UPDATE … RETURNING follows no ORDER BY.
	slices.SortFunc(ts, func(a, b store.Task) int { return cmp.Compare(a.ID, b.ID) })
	return ts, nil
}
