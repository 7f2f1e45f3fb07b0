-- name: insert_tasks
-- All of a transition's new task rows in one statement. Rows are inserted in ordinal order, so the
-- identity IDs ascend with the input order; the driver sorts the returned IDs to match them up.
INSERT INTO tasks (namespace, name, kind, workflow_id, run_id, scheduled_event_id, attempt,
                   created_at, visible_at, data)
SELECT t.namespace, t.name, t.kind, t.workflow_id, t.run_id, t.scheduled_event_id, t.attempt,
       t.created_at, t.visible_at, t.data
FROM unnest($1::text[], $2::text[], $3::integer[], $4::text[], $5::text[], $6::bigint[],
            $7::integer[], $8::timestamptz[], $9::timestamptz[], $10::bytea[])
     WITH ORDINALITY AS t (namespace, name, kind, workflow_id, run_id, scheduled_event_id, attempt,
                           created_at, visible_at, data, ord)
ORDER BY t.ord
RETURNING id

-- name: consume_tasks
-- Claims task rows: each must still exist ($2 = how many distinct IDs), else DU001. This is the fence
-- between nodes racing for the same task.
WITH deleted AS (
    DELETE FROM tasks WHERE id = ANY ($1::bigint[]) RETURNING 1
)
SELECT duro_require_rows((SELECT count(*) FROM deleted), $2, 'task rows already consumed')

-- name: drop_run_tasks_and_timers
-- A closing run's remaining rows (those that existed before this statement).
WITH deleted_tasks AS (
    DELETE FROM tasks WHERE namespace = $1 AND run_id = $3 AND workflow_id = $2
)
DELETE FROM timers WHERE namespace = $1 AND run_id = $3 AND workflow_id = $2

-- name: list_tasks
-- Oldest first within one queue; $5 IS NULL means no limit.
SELECT id, namespace, name, kind, workflow_id, run_id, scheduled_event_id, attempt, created_at,
       visible_at, data
FROM tasks
WHERE namespace = $1 AND name = $2 AND kind = $3 AND visible_at <= $4
ORDER BY id
LIMIT $5

-- name: count_tasks
SELECT count(*) FROM tasks WHERE namespace = $1 AND name = $2 AND kind = $3
