-- Backlog claims (store.Store.ClaimTasks): pollers of every node read a queue's backlog through
-- this statement, so that two of them never go after the same row.

-- name: claim_tasks
-- The oldest visible rows of one queue that no concurrent claim or consuming transaction has
-- locked (SKIP LOCKED: a claimer never waits), held until $5 by moving their visible_at there.
-- The statement commits on its own, so the row locks last only as long as it does; the hold is
-- the new visible_at. Rows come back with the visible_at they had before. $6 IS NULL: no limit.
--
-- The commit does not wait for the WAL flush (synchronous_commit off for this transaction
-- only): a hold lost in a crash only lets the row show again, which is what its lease ending
-- would do anyway, and a poll no longer waits for the disk before it starts a task.
WITH async AS (
    SELECT set_config('synchronous_commit', 'off', true)
), claimed AS (
    SELECT id, visible_at
    FROM tasks
    WHERE namespace = $1 AND name = $2 AND kind = $3 AND visible_at <= $4
    ORDER BY id
    LIMIT $6
    FOR UPDATE SKIP LOCKED
)
UPDATE tasks t SET visible_at = $5
FROM claimed c, async
WHERE t.id = c.id
RETURNING t.id, t.namespace, t.name, t.kind, t.workflow_id, t.run_id, t.scheduled_event_id,
          t.attempt, t.created_at, c.visible_at, t.data
